/* domain.h (hypervisor): domains and vCPUs. */
#ifndef WISP_DOMAIN_H
#define WISP_DOMAIN_H

#include "env.h"
#include "console_line.h"
#include "console_route.h"
#include "evtchn.h"
#include "grant_table.h"
#include "guest_access.h"
#include "hvm.h"
#include "log_limit.h"
#include "p2m.h"
#include "regs.h"
#include "start_info.h"
#include "vcpu_context.h"
#include "vlapic.h"
#include "xen/hvm_params.h"
#include "xen/start_info.h"
#include "wisp/control.h"

#define MAX_DOMAINS 8
#define MAX_VCPUS_PER_DOMAIN 8
#define DOMAIN_MEMMAP_MAX PVH_MEMMAP_MAX
#define VCPU_INFO_SIZE 64           /* struct vcpu_info, both layouts */

/* Why a domain ended; numbered as Xen's SHUTDOWN_* reasons. */
enum shutdown_reason { SHUTDOWN_REASON_POWEROFF = 0, SHUTDOWN_REASON_REBOOT = 1,
                       SHUTDOWN_REASON_SUSPEND = 2, SHUTDOWN_REASON_CRASH = 3,
                       SHUTDOWN_REASON_WATCHDOG = 4, SHUTDOWN_REASON_SOFT_RESET = 5 };

enum vcpu_state {
    VCPU_DOWN,          /* not started (waits for INIT/STARTUP or VCPUOP_up), or stopped */
    VCPU_RUNNABLE,
    VCPU_BLOCKED,       /* waits, for what vcpu.wait says */
};

/* What a blocked vCPU waits for (sched.c decides when it is met). */
enum vcpu_wait {
    WAIT_INTERRUPT,     /* HLT with interrupts on: an interrupt it can take */
    WAIT_EVENT,         /* SCHEDOP_block: an event-channel upcall */
    WAIT_POLL,          /* SCHEDOP_poll: one of poll_ports pending, or the deadline */
};

#define POLL_PORTS_MAX 8

/* A guest area the hypervisor keeps writing (runstate, time info), pinned to
 * guest-physical pages when registered; it may straddle two pages. */
struct guest_area {
    uint64_t gpa[2];
    uint32_t first_len;     /* bytes in the first page */
    uint32_t len;           /* 0: not registered */
};

/* The vCPU's timers, as absolute system times in ns; 0 = not armed. */
struct vcpu_timers {
    uint64_t singleshot;        /* VCPUOP_set_singleshot_timer / set_timer_op: VIRQ_TIMER */
    uint64_t periodic_next;     /* VCPUOP_set_periodic_timer */
    uint64_t periodic_period;
    uint64_t lapic;             /* the virtual LAPIC's timer */
    uint64_t poll_timeout;      /* SCHEDOP_poll's timeout */
};

struct vcpu {
    unsigned id;
    struct domain *dom;
    enum vcpu_state state;
    struct cpu_regs regs;           /* valid between exits; vendor syncs rip/rsp/rflags */
    void *vendor;                   /* VMCB or VMCS bookkeeping, owned by svm/ or vmx/ */
    uint64_t xcr0;                  /* guest XCR0, loaded while it runs */
    uint64_t vcpu_info_gpa;         /* VCPUOP_register_vcpu_info target; 0 = shared_info slot */
    void *fpu_area;                 /* XSAVE/FXSAVE area, switched between vCPUs */

    /* Where it runs (sched.c, docs/smp.md), under hv_lock. Only its home pCPU runs it,
     * loads its state (VMCS, FPU, debug registers) and fires its timers; it changes
     * only there, while it does not run (migration). `loaded`: that pCPU may hold its
     * state, which vcpu_leave_cpu() hands back before it moves or is freed. */
    unsigned pcpu;
    bool loaded;
    uint64_t p2m_seen;              /* the domain's p2m_generation at its last TLB flush */
    uint64_t moved_at_ns;           /* its last migration: it stays a while */
    /* A start state set by another pCPU (STARTUP IPI, VCPUOP_initialise) that its
     * home loads before it next runs: a VMCS can be written only where it is loaded. */
    bool start_pending;
    const char *start_what;         /* for the crash message if the CPU refuses it */
    struct vcpu_context start;

    /* Interrupts (irq.c): the LAPIC, the per-vCPU upcall vector, NMIs. */
    struct vlapic lapic;
    uint8_t upcall_vector;          /* HVMOP_set_evtchn_upcall_vector; 0: none */
    bool nmi_pending;
    bool waiting_for_sipi;          /* after INIT: a STARTUP IPI starts it */
    /* Has a start state: vCPU 0 from the build, the others from a STARTUP IPI or
     * VCPUOP_initialise (which, as in Xen, works once). VCPUOP_up needs it. */
    bool initialised;

    /* Blocking and time (sched.c, vcpu_time.c). */
    enum vcpu_wait wait;
    unsigned nr_poll_ports;
    bool poll_timed_out;            /* SCHEDOP_poll's timeout (0 = none) has passed */
    uint32_t poll_ports[POLL_PORTS_MAX];
    struct vcpu_timers timers;
    struct guest_area runstate_area;
    struct guest_area time_area;
    unsigned runstate;              /* RUNSTATE_* */
    uint64_t runstate_entry_ns;
    uint64_t runstate_time[4];
    /* Credit (sched.c, hv_lock): ns of running it may still take before vCPUs with more
     * go first; running burns it at 256/weight of its domain, a reset tops all up. */
    int64_t credit;
    /* 1 + its running time at the first of the latest exits that all had RFLAGS.IF
     * clear; 0: IF was set at the last exit (sched.c: watch_interrupts_off). */
    uint64_t irqs_off_at;
    bool irqs_off_reported;         /* this stretch with IF clear was logged */
    bool irqs_were_on;              /* an exit had IF set: the watch is on */
    uint64_t tsc_aux;               /* what RDTSCP/RDPID return; loaded while it runs */
    /* DR0-DR3 and DR6 while another vCPU has the pCPU (hvm.c: debug_regs_switch_to);
     * DR7 lives in the VMCB/VMCS. */
    uint64_t dr[4], dr6;
};

/*
 * A domain's life (docs/control.md): built running (or paused), then shut
 * down (by itself, a crash or WISP_CTL_destroy), then dying from the next
 * scheduler pass (its grant mappings undone, a bounded batch a pass) until
 * no other domain maps its pages, then freed. One vCPU in the hypervisor at
 * a time guards running, paused and dying.
 */
struct domain {
    unsigned id;                    /* 1.. for guests */
    char name[32];
    bool running;                   /* false once shut down */
    bool paused;                    /* off the scheduler: vCPU state and timer deadlines kept */
    /* Made by WISP_CTL_domain_create (domain_build.c, under hv_lock): building until
     * domain_start (not running, never scheduled); RAM below scrub_next (skipping the
     * ACPI page and legacy hole) is zeroed. Such a domain never decides the machine's end. */
    bool building;
    bool made_at_run_time;
    uint64_t scrub_next;
    uint64_t rsdp_paddr;            /* where its ACPI RSDP is, for its builder */
    bool dying;                     /* shut down and reaped; freed by domain_maybe_free */
    enum shutdown_reason shutdown_reason;
    uint32_t roles;                 /* WISP_ROLE_*, from the boot configuration; immutable */
    uint32_t max_grant_frames;      /* from the boot configuration; immutable */
    uint32_t max_maptrack_frames;
    /* The pCPU that reaps and frees it (and runs vCPU 0 at first); fixed at build
     * (domain_build.c), one of `cpus`. Other CPUs reach it only through smp_kick. */
    unsigned pcpu;
    /* Its share of that pCPU (sched.c, docs/smp.md), under hv_lock: weight relative to
     * the other domains there, cap in percent of the pCPU per CAP_PERIOD_NS (0: none),
     * and what its vCPUs ran in the cap period that starts at cap_period_start. */
    uint32_t weight, cap;
    uint64_t cpus;                  /* bit per pCPU it may use (boot configuration `cpus`) */
    /* Bumped by p2m_changed() (hv_lock); a vCPU whose p2m_seen lags flushes its
     * translations on its pCPU before it enters the guest again. */
    uint64_t p2m_generation;
    uint64_t cap_period_start;
    int64_t cap_used_ns;            /* below 0: budget the last period left unused */

    /* Guest RAM: one host-contiguous block backing gpa [0, ram_bytes) less the
     * legacy hole. Immutable after construction. */
    uint64_t ram_hpa, ram_bytes;
    struct p2m p2m;
    uint32_t p2m_tables;            /* tables p2m holds now, within p2m_table_limit (domain_build.c) */
    uint64_t retired_tables;        /* of those, the ones p2m let go of: freed by the next
                                     * p2m_changed (hv_lock; a list through their first entry) */
    uint64_t pmem_bytes;            /* disk images mapped above RAM (backend domain, devices.c) */
    uint32_t pci_config_address;    /* the dword last written to port 0xCF8 (hvm.c on_io); only
                                     * this domain's vCPUs touch it, and a torn value hurts
                                     * no one else */
    struct guest_mem mem;           /* copy routines' view of this domain's memory */

    void *shared_info;              /* hypervisor page, mapped where the guest asks */
    uint64_t shared_info_gfn;       /* ~0 when not mapped */
    bool shared_info_hid_ram;       /* it covers a populated RAM page (put back when it moves) */

    /* Pages as XENMEM_current/maximum_reservation and maximum_gpfn count them
     * (memory_op.c keeps them; one vCPU in the hypervisor at a time). */
    uint64_t tot_pages;             /* RAM gfns mapped to their frame now */
    uint64_t max_pages;             /* RAM gfns at build: the most tot_pages can be */
    uint64_t max_mapped_gfn;        /* the highest gfn ever mapped, as Xen's max_mapped_pfn */

    uint64_t hvm_params[HVM_NR_PARAMS];     /* index >= HVM_NR_PARAMS: -EINVAL */

    struct evtchn_table evtchn;

    struct gnttab grant;            /* grant_table.h; sized by max_grant_frames, max_maptrack_frames */

    /* The E820 map given at boot, also answered by XENMEM_memory_map. */
    unsigned memmap_entries;
    struct hvm_memmap_table_entry memmap[DOMAIN_MEMMAP_MAX];

    unsigned nr_vcpus;
    struct vcpu vcpus[MAX_VCPUS_PER_DOMAIN];

    uint64_t exit_counts[NR_EXIT_REASONS];
    uint64_t migrations;            /* its vCPUs' moves between pCPUs (sched.c), under hv_lock */
    /* Event counts for WISP_CTL_domain_stats, under hv_lock: successful EVTCHNOP_sends, and
     * its ports made pending (domain_evtchn_kick: once per port until the guest clears it). */
    uint64_t events_sent;
    uint64_t events_received;

    /* Guest console output waiting for its newline (console_line.h). */
    struct console_line console;
    /* Log lines this domain causes (printk.h: gprintk). */
    struct log_limit log_limit;

    /* Which console path the user sees (console_io.c, console_route.h). */
    struct console_route console_route;
    bool console_io_continues;      /* the next console_io call is a continuation (console_io.c) */

    /* The PV console ring the hypervisor serves (console_ring.c). */
    void *console_ring;             /* host view of the ring page; NULL: none */
    unsigned console_port;
    bool console_fresh;             /* output arrived since the last poll */

    void *xapic_page;               /* mapped at 0xFEE00000 for xAPIC-mode guests (lapic.c) */
    /* The one vCPU that may be in its guest in xAPIC mode (NULL: none), and a bit per vCPU
     * waiting for its turn (lapic.c; hv_lock). */
    struct vcpu *xapic_holder;
    uint32_t xapic_waiters;
    uint64_t xapic_turn_start;      /* when the holder got the page */

    /* The xenstore ring page at STORE_RING_GPA (domain_build.c); NULL: none. */
    void *store_ring;
};

/* The store ring's gfn, beside the console ring's (docs/control.md). */
#define STORE_RING_GPA 0xfeffe000ull

_Static_assert(MAX_VCPUS_PER_DOMAIN <= EVTCHN_MAX_VCPUS, "evtchn virq map");

/* The guest-physical legacy hole [0xA0000, 0x100000): never RAM (PVH memmap). */
#define LEGACY_HOLE_START 0xA0000ull
#define LEGACY_HOLE_END   0x100000ull

/* A zeroed domain with id (1..MAX_DOMAINS), or NULL when that slot is taken or out of range. */
struct domain *domain_alloc(unsigned id);
void domain_release(struct domain *d);
struct domain *domain_by_id(unsigned id);
/* Iterates over existing domains. */
struct domain *domain_next(struct domain *prev);

/* The one check of a domain's rights: true if d has every WISP_ROLE_* bit in role. */
static inline bool domain_has_role(const struct domain *d, unsigned role)
{
    return role && (d->roles & role) == role;
}
/* WISP_DOMSTATE_* of d. */
unsigned domain_state(const struct domain *d);
/* Whether d's vCPUs may be scheduled (not shut down, not paused). */
static inline bool domain_schedulable(const struct domain *d)
{
    return d->running && !d->paused;
}
/*
 * Takes d off the scheduler or puts it back (sched.c skips paused domains).
 * As in Xen, a paused vCPU that could run counts as RUNSTATE_offline (steal
 * time to the guest); a blocked one stays blocked. With one pCPU none of d's
 * vCPUs is on a pCPU here; with SMP, pausing must also wait for that.
 */
void domain_set_paused(struct domain *d, bool paused);
/* The xenstore domain's id (0: none), set from the boot configuration before any build. */
void domain_set_xenstore_id(unsigned id);
unsigned domain_xenstore_id(void);

/*
 * Ends the domain (logged with its reason) and raises VIRQ_DOM_EXC in the
 * xenstore and control domains. The machine ends when no domain without a
 * role is left (docs/control.md): every domain is torn down, "free frames:
 * boot N, end M" is logged.
 */
void domain_shutdown(struct domain *d, enum shutdown_reason reason);
/* WISP_CTL_destroy: ends d at once (not the caller's domain) and starts it dying. */
void domain_kill(struct domain *d);
/* VIRQ_DOM_EXC to the running xenstore and control domains but ABOUT: the domain list changed. */
void domain_notify_change(const struct domain *about);

/* virq to every running domain with any of roles that bound it, but except. */
void domain_raise_virq(unsigned roles, unsigned virq, const struct domain *except);
/*
 * Starts every shut-down domain dying and undoes one bounded batch of the
 * dying domains' grant mappings; called by the scheduler each pass, when no
 * vCPU is on the pCPU. True when the next pass has work (a batch, or the
 * teardown after the last one): the scheduler then does not idle.
 */
bool domain_reap(void);
/*
 * Frees a dying domain once no other domain maps its pages (the grant code
 * calls it when the last foreign mapping of a dying domain goes); otherwise
 * does nothing. d's vCPUs must be off every pCPU (a dying domain's are).
 */
void domain_maybe_free(struct domain *d);
/* Takes v offline; if it was the last vCPU that could run, the domain powers
 * off, as Xen does for VCPUOP_down. why is logged then. */
void vcpu_stop(struct vcpu *v, const char *why);
/* Ends a misbehaving domain with a register dump of v. */
void domain_crash(struct vcpu *v, const char *why);
/* Logs v's general-purpose registers (error level). */
void vcpu_dump_regs(const struct vcpu *v);

/* Appends guest console output, emitted a line at a time as "(dN) ...". */
void domain_console_write(struct domain *d, const char *buf, size_t len);
/*
 * Serial output is synchronous (uart.c), so a guest's output is taken in
 * passes that end at the first line start after CONSOLE_PASS_NS: at most one
 * more piece (console_line.h: under 9.3 ms at 115200 baud), so a pass stays
 * within a scheduling slice, and lines are not cut where a pass ends.
 */
#define CONSOLE_PASS_NS 500000ull
/* True when d's console has no unfinished line (where a pass may end). */
bool domain_console_at_line_start(const struct domain *d);
/* Output the guest put in its PV console ring: shown, unless it repeats what its last
 * CONSOLEIO_write just showed (console_route.h); console_io.c. */
void domain_console_ring_output(struct domain *d, const char *buf, size_t len);
/* Emits a pending partial line now, as "(dN+) ..." (the guest paused mid-line). */
void domain_console_flush_partial(struct domain *d);

/* The vCPU's current 64-byte vcpu_info (registered area or shared_info slot), or NULL. */
uint8_t *vcpu_info_of(struct vcpu *v);
/* Hooks for the domain's event-channel table (evtchn.h). */
uint8_t *domain_evtchn_vcpu_info(void *ctx, unsigned vcpu);
void domain_evtchn_kick(void *ctx, unsigned vcpu, unsigned port);
/*
 * What one gfn of d holds (memory_op.c): nothing, its own RAM page, the
 * device hole's all-ones page, or anything else (shared_info, console ring,
 * xAPIC page, legacy hole, grant frames and grant mappings, legacy pmem: none of
 * which a grant map, grant frame or balloon op may take or free).
 */
#define GFN_LIMIT (1ull << 36)      /* 48-bit guest-physical addresses */
enum gfn_use { GFN_EMPTY, GFN_RAM, GFN_DEVICE_HOLE, GFN_OTHER };
enum gfn_use gfn_use(const struct domain *d, uint64_t gfn);
/* gfn maps host address hpa now. */
bool gfn_maps(const struct domain *d, uint64_t gfn, uint64_t hpa);
/* Maps hpa at gfn if it is empty, RAM (taken out, as if ballooned out) or the device
 * hole; -EBUSY for anything else or beyond GFN_LIMIT, -ENOMEM. The caller flushes. */
int __must_check gfn_take(struct domain *d, uint64_t gfn, uint64_t hpa, unsigned perms);
/* Leaves gfn as it is with nothing mapped: empty, or the device hole's page. */
int __must_check gfn_vacate(struct domain *d, uint64_t gfn);

/* Host pointer to guest-physical [gpa, gpa+len) in guest RAM (not crossing a page), or NULL. */
void *domain_ram_ptr(struct domain *d, uint64_t gpa, size_t len);

#endif
