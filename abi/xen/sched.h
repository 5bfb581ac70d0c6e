/* sched.h (hypervisor, guest): __HYPERVISOR_sched_op(cmd, arg) sub-ops. */
#ifndef WISP_ABI_XEN_SCHED_H
#define WISP_ABI_XEN_SCHED_H

#include "xen.h"
#include "event_channel.h"

#define SCHEDOP_yield            0  /* arg NULL: give up the pCPU, stay runnable */
#define SCHEDOP_block            1  /* arg NULL: sleep until an event is pending */
#define SCHEDOP_shutdown         2  /* IN struct sched_shutdown; does not return unless suspend */
#define SCHEDOP_poll             3  /* IN struct sched_poll: block until a listed port is pending */
#define SCHEDOP_remote_shutdown  4  /* IN struct sched_remote_shutdown (privileged) */
#define SCHEDOP_shutdown_code    5  /* IN struct sched_shutdown: reason to report at later exit */
#define SCHEDOP_watchdog         6  /* IN/OUT struct sched_watchdog */
#define SCHEDOP_pin_override     7  /* IN struct sched_pin_override (privileged) */

/* sched_shutdown.reason */
#define SHUTDOWN_poweroff    0  /* clean exit */
#define SHUTDOWN_reboot      1  /* exit and restart */
#define SHUTDOWN_suspend     2  /* save state and exit */
#define SHUTDOWN_crash       3  /* guest crashed */
#define SHUTDOWN_watchdog    4  /* watchdog expired */
#define SHUTDOWN_soft_reset  5  /* reset state, keep memory (kexec) */
#define SHUTDOWN_MAX         5

struct sched_shutdown {
    unsigned int reason;  /* IN: SHUTDOWN_* */
};
typedef struct sched_shutdown sched_shutdown_t;
DEFINE_XEN_GUEST_HANDLE(sched_shutdown_t);

struct sched_poll {
    XEN_GUEST_HANDLE(evtchn_port_t) ports;  /* IN: ports to wait on */
    unsigned int nr_ports;                  /* IN */
    uint64_t timeout;                       /* IN: absolute system time (ns), 0 = none */
};
typedef struct sched_poll sched_poll_t;
DEFINE_XEN_GUEST_HANDLE(sched_poll_t);

struct sched_remote_shutdown {
    domid_t domain_id;    /* IN: target domain */
    unsigned int reason;  /* IN: SHUTDOWN_* */
};
typedef struct sched_remote_shutdown sched_remote_shutdown_t;
DEFINE_XEN_GUEST_HANDLE(sched_remote_shutdown_t);

struct sched_watchdog {
    uint32_t id;       /* IN: 0 allocates; IN/OUT watchdog id */
    uint32_t timeout;  /* IN: seconds; 0 destroys the watchdog */
};
typedef struct sched_watchdog sched_watchdog_t;
DEFINE_XEN_GUEST_HANDLE(sched_watchdog_t);

struct sched_pin_override {
    int32_t pcpu;      /* IN: pCPU to pin to, or -1 to undo */
};
typedef struct sched_pin_override sched_pin_override_t;
DEFINE_XEN_GUEST_HANDLE(sched_pin_override_t);

ABI_SIZE(struct sched_shutdown, 4);
ABI_SIZE(struct sched_remote_shutdown, 8);
ABI_OFFSET(struct sched_remote_shutdown, reason, 4);
ABI_SIZE(struct sched_watchdog, 8);
ABI_OFFSET(struct sched_watchdog, timeout, 4);
ABI_SIZE(struct sched_pin_override, 4);
#ifdef __x86_64__
ABI_SIZE(struct sched_poll, 24);
ABI_OFFSET(struct sched_poll, ports, 0);
ABI_OFFSET(struct sched_poll, nr_ports, 8);
ABI_OFFSET(struct sched_poll, timeout, 16);
#endif
#ifdef __i386__
ABI_SIZE(struct sched_poll, 16);
ABI_OFFSET(struct sched_poll, nr_ports, 4);
ABI_OFFSET(struct sched_poll, timeout, 8);
#endif

#endif
