/* control.h (hypervisor, guest): Wisp's own control hypercall, for domains with the control or xenstore role. */
#ifndef WISP_ABI_WISP_CONTROL_H
#define WISP_ABI_WISP_CONTROL_H

#include "xen/xen.h"

/*
 * __HYPERVISOR_wisp_control(cmd, arg): arg is the guest-virtual address of
 * the struct named per command. Xen reserves hypercalls 48..55 for
 * architecture use; x86 Xen uses 48 and 49, so a Xen guest never issues 55.
 * Every command returns 0 or -XEN_E*: -XEN_EPERM when the caller lacks the
 * role the command needs, -XEN_EFAULT for an unreadable argument, -XEN_ESRCH
 * for a domain id that names no domain, -XEN_EINVAL for anything else bad,
 * -XEN_ENOSYS for an unknown command.
 *
 * Roles come from the boot configuration (docs/boot-config.md):
 *   WISP_ROLE_XENSTORE  domain_list
 *   WISP_ROLE_CONTROL   every command (device_list: control only)
 */
#define __HYPERVISOR_wisp_control 55

#define WISP_CONTROL_VERSION 1  /* WISP_CTL_version returns this */

#define WISP_CTL_version              0  /* arg unused; returns WISP_CONTROL_VERSION (any role) */
#define WISP_CTL_domain_list          1  /* struct wisp_ctl_domain_list */
#define WISP_CTL_pause                2  /* struct wisp_ctl_domain */
#define WISP_CTL_unpause              3  /* struct wisp_ctl_domain */
#define WISP_CTL_destroy              4  /* struct wisp_ctl_domain */
#define WISP_CTL_evtchn_alloc_unbound 5  /* struct wisp_ctl_evtchn_alloc_unbound */
#define WISP_CTL_device_list          6  /* struct wisp_ctl_device_list */
#define WISP_CTL_sched_get            7  /* struct wisp_ctl_sched */
#define WISP_CTL_sched_set            8  /* struct wisp_ctl_sched */
#define WISP_CTL_domain_stats         9  /* struct wisp_ctl_domain_stats */

/* A domain's rights (bits of wisp_domain_info.roles). */
#define WISP_ROLE_XENSTORE  (1u << 0)  /* serves xenstore: maps store rings, gets VIRQ_DOM_EXC */
#define WISP_ROLE_CONTROL   (1u << 1)  /* uses this hypercall; privileged in xenstore */
#define WISP_ROLE_BACKEND   (1u << 2)  /* runs device backends (no extra hypervisor rights) */

/* wisp_domain_info.state */
#define WISP_DOMSTATE_RUNNING   0  /* may run (its vCPUs may be blocked) */
#define WISP_DOMSTATE_PAUSED    1  /* paused by WISP_CTL_pause or started paused */
#define WISP_DOMSTATE_SHUTDOWN  2  /* shut down; shutdown_reason says why (SHUTDOWN_*) */
#define WISP_DOMSTATE_DYING     3  /* being destroyed; memory waits for foreign mappings to go */

struct wisp_domain_info {
    uint32_t domid;
    uint32_t state;             /* WISP_DOMSTATE_* */
    uint32_t shutdown_reason;   /* SHUTDOWN_*, valid in state SHUTDOWN */
    uint32_t roles;             /* WISP_ROLE_* */
    uint32_t nr_vcpus;
    uint32_t store_evtchn;      /* its HVM_PARAM_STORE_EVTCHN: unbound, remote = the xenstore domain */
    uint64_t store_gfn;         /* its HVM_PARAM_STORE_PFN (grant ref 1 also names it) */
    uint64_t tot_pages;         /* RAM pages populated now */
    uint64_t max_pages;         /* RAM pages at build */
    char     name[32];          /* NUL-terminated */
};
ABI_SIZE(struct wisp_domain_info, 80);
ABI_OFFSET(struct wisp_domain_info, store_gfn, 24);
ABI_OFFSET(struct wisp_domain_info, name, 48);

/*
 * domain_list: IN first_domid, max_entries, buffer (guest-virtual address of
 * max_entries struct wisp_domain_info); OUT nr_entries: how many were written,
 * for the domains with id >= first_domid in increasing id order. Dying
 * domains are listed until they are gone.
 */
struct wisp_ctl_domain_list {
    uint32_t first_domid;
    uint32_t max_entries;
    uint64_t buffer;
    uint32_t nr_entries;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_domain_list, 24);

/*
 * pause, unpause, destroy: IN domid. A domain may not name itself
 * (-XEN_EINVAL). pause of a paused domain and unpause of a running one are
 * no-ops. destroy ends the domain at once: its peers' interdomain ports
 * become unbound, its grant mappings of other domains are undone, and its
 * memory returns to the allocator once no other domain maps it.
 */
struct wisp_ctl_domain {
    uint32_t domid;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_domain, 8);

/*
 * evtchn_alloc_unbound: as EVTCHNOP_alloc_unbound, but in domain dom: IN dom,
 * remote_dom; OUT port (in dom, offered to remote_dom).
 */
struct wisp_ctl_evtchn_alloc_unbound {
    uint32_t dom;
    uint32_t remote_dom;
    uint32_t port;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_evtchn_alloc_unbound, 16);

/* wisp_ctl_device.kind */
#define WISP_DEV_DISK 1
#define WISP_DEV_VIF  2

/*
 * A device of the boot configuration (docs/boot-config.md), as configured:
 * listed whether or not its domains still run. Strings are NUL-terminated.
 */
struct wisp_ctl_device {
    uint16_t frontend;          /* domid of the domain that has the device */
    uint16_t backend;           /* domid of the backend (service) domain */
    uint8_t  kind;              /* WISP_DEV_* */
    uint8_t  readonly;          /* disk: access=ro */
    uint16_t handle;            /* disk: ordinal among its domain's disks; vif: its handle */
    uint32_t devid;             /* disk: Xen's vbd id of vdev (xvda 51712); vif: its handle */
    char     vdev[8];           /* disk: "xvda".."xvdz" */
    uint8_t  mac[6];            /* vif */
    uint8_t  pad[6];
    uint64_t pmem_gpa;          /* disk: where the image starts in the backend (legacy pmem) */
    uint64_t pmem_bytes;        /* disk: the region's size, a multiple of 2 MiB (zero-padded) */
    uint64_t image_bytes;       /* disk: the image module's size */
    char     target[64];        /* disk: the image module's name */
};
ABI_SIZE(struct wisp_ctl_device, 120);
ABI_OFFSET(struct wisp_ctl_device, devid, 8);
ABI_OFFSET(struct wisp_ctl_device, vdev, 12);
ABI_OFFSET(struct wisp_ctl_device, mac, 20);
ABI_OFFSET(struct wisp_ctl_device, pmem_gpa, 32);
ABI_OFFSET(struct wisp_ctl_device, target, 56);

/*
 * device_list (control role): IN first (index of the first device wanted),
 * max_entries, buffer (guest-virtual address of max_entries struct
 * wisp_ctl_device); OUT nr_entries written, nr_devices configured. Devices
 * come in configuration order: domain by domain, disks before vifs.
 */
struct wisp_ctl_device_list {
    uint32_t first;
    uint32_t max_entries;
    uint64_t buffer;
    uint32_t nr_entries;
    uint32_t nr_devices;
};
ABI_SIZE(struct wisp_ctl_device_list, 24);

/*
 * sched_get, sched_set (control role): a domain's CPU share, as Xen credit2's
 * weight and cap (docs/smp.md). IN domid (DOMID_SELF: the caller); get: OUT
 * weight and cap; set: IN weight (1..WISP_SCHED_MAX_WEIGHT, relative to the
 * other domains on its pCPUs) and cap (percent of one pCPU its vCPUs may run
 * together, 0..WISP_SCHED_MAX_CAP, 0: none), in effect at once. A shut-down
 * or dying domain's share cannot be set (-XEN_EINVAL).
 */
#define WISP_SCHED_DEFAULT_WEIGHT 256
#define WISP_SCHED_MAX_WEIGHT     65535
#define WISP_SCHED_MAX_CAP        800     /* all of 8 vCPUs */
struct wisp_ctl_sched {
    uint32_t domid;
    uint32_t weight;
    uint32_t cap;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_sched, 16);

/*
 * Exit reasons as domain_stats counts them (docs/control.md names each); new
 * reasons only ever come at the end.
 */
#define WISP_EXIT_CPUID          0
#define WISP_EXIT_MSR_READ       1
#define WISP_EXIT_MSR_WRITE      2
#define WISP_EXIT_HLT            3
#define WISP_EXIT_HYPERCALL      4
#define WISP_EXIT_NPF            5
#define WISP_EXIT_IO             6
#define WISP_EXIT_XSETBV         7
#define WISP_EXIT_CACHE          8
#define WISP_EXIT_RDPMC          9
#define WISP_EXIT_CR_WRITE      10
#define WISP_EXIT_EXCEPTION     11
#define WISP_EXIT_TRIPLE_FAULT  12
#define WISP_EXIT_INTR          13
#define WISP_EXIT_MACHINE_CHECK 14
#define WISP_EXIT_INTR_WINDOW   15
#define WISP_EXIT_PAUSE         16
#define WISP_EXIT_VIRT_INSN     17
#define WISP_EXIT_INVALID_STATE 18
#define WISP_EXIT_UNEXPECTED    19
#define WISP_STATS_EXITS        32      /* room in wisp_ctl_domain_stats.exits */

/* One vCPU's times in ns since its domain was built (Xen's runstate times). */
struct wisp_vcpu_stats {
    uint64_t running_ns;        /* RUNSTATE_running, the run under way included */
    uint64_t runnable_ns;       /* waiting for a pCPU */
    uint64_t blocked_ns;        /* waiting for an event or timer */
    uint64_t offline_ns;        /* down, or paused while it could run */
    uint32_t pcpu;              /* the pCPU it is on */
    uint32_t runstate;          /* RUNSTATE_*: what it does now */
};
ABI_SIZE(struct wisp_vcpu_stats, 40);

/*
 * domain_stats (control role): IN domid (DOMID_SELF: the caller), max_vcpus
 * and vcpus (guest-virtual address of max_vcpus struct wisp_vcpu_stats, or 0
 * with max_vcpus 0); OUT the rest. nr_vcpus is the domain's count; at most
 * min(max_vcpus, nr_vcpus) entries are written. nr_exit_reasons says how many
 * of exits[] this hypervisor counts (WISP_EXIT_*); the rest are 0.
 * events_sent counts its successful EVTCHNOP_send calls (a send to an unbound
 * port is dropped but counted, as it succeeds); events_received counts the
 * times one of its ports became pending, whoever raised it (a peer, itself, a
 * virq), masked or not: a port already pending is not counted again. A dying
 * domain answers too, until it is gone.
 */
struct wisp_ctl_domain_stats {
    uint32_t domid;
    uint32_t max_vcpus;
    uint64_t vcpus;
    uint32_t nr_vcpus;
    uint32_t state;             /* WISP_DOMSTATE_* */
    uint64_t tot_pages;         /* RAM pages populated now */
    uint64_t max_pages;         /* RAM pages at build */
    uint64_t events_sent;
    uint64_t events_received;
    uint64_t vcpu_moves;        /* its vCPUs' moves between pCPUs */
    uint32_t nr_exit_reasons;
    uint32_t pad;
    uint64_t exits[WISP_STATS_EXITS];
};
ABI_SIZE(struct wisp_ctl_domain_stats, 328);
ABI_OFFSET(struct wisp_ctl_domain_stats, exits, 72);

#endif
