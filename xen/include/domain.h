/* domain.h (hypervisor): domains and vCPUs. */
#ifndef WISP_DOMAIN_H
#define WISP_DOMAIN_H

#include "env.h"
#include "guest_access.h"
#include "hvm.h"
#include "p2m.h"
#include "regs.h"
#include "xen/hvm_params.h"
#include "xen/start_info.h"

#define MAX_DOMAINS 8
#define MAX_VCPUS_PER_DOMAIN 8
#define CONSOLE_LINE_MAX 256
#define DOMAIN_MEMMAP_MAX 40

/* Why a domain ended; numbered as Xen's SHUTDOWN_* reasons. */
enum shutdown_reason { SHUTDOWN_REASON_POWEROFF = 0, SHUTDOWN_REASON_REBOOT = 1,
                       SHUTDOWN_REASON_SUSPEND = 2, SHUTDOWN_REASON_CRASH = 3,
                       SHUTDOWN_REASON_WATCHDOG = 4, SHUTDOWN_REASON_SOFT_RESET = 5 };

enum vcpu_state {
    VCPU_DOWN,          /* never started, or VCPUOP_down */
    VCPU_RUNNABLE,
    VCPU_BLOCKED,       /* waits for an event */
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
};

struct domain {
    unsigned id;                    /* 1.. for guests */
    char name[32];
    bool running;                   /* false once shut down */
    enum shutdown_reason shutdown_reason;

    /* Guest RAM: one host-contiguous block backing gpa [0, ram_bytes) less the
     * legacy hole. Immutable after construction. */
    uint64_t ram_hpa, ram_bytes;
    struct p2m p2m;
    struct guest_mem mem;           /* copy routines' view of this domain's memory */

    void *shared_info;              /* hypervisor page, mapped where the guest asks */
    uint64_t shared_info_gfn;       /* ~0 when not mapped */

    uint64_t hvm_params[HVM_NR_PARAMS];     /* index >= HVM_NR_PARAMS: -EINVAL */

    /* The E820 map given at boot, also answered by XENMEM_memory_map. */
    unsigned memmap_entries;
    struct hvm_memmap_table_entry memmap[DOMAIN_MEMMAP_MAX];

    unsigned nr_vcpus;
    struct vcpu vcpus[MAX_VCPUS_PER_DOMAIN];

    uint64_t exit_counts[NR_EXIT_REASONS];

    /* Guest console output waiting for its newline. */
    unsigned console_len;
    char console_line[CONSOLE_LINE_MAX];
};

/* The guest-physical legacy hole [0xA0000, 0x100000): never RAM (PVH memmap). */
#define LEGACY_HOLE_START 0xA0000ull
#define LEGACY_HOLE_END   0x100000ull

/* A zeroed domain with the next free id, or NULL when the table is full. */
struct domain *domain_alloc(void);
void domain_release(struct domain *d);
struct domain *domain_by_id(unsigned id);
/* Iterates over existing domains. */
struct domain *domain_next(struct domain *prev);

/* Ends the domain (logged with its reason); when none is left, ends the machine. */
void domain_shutdown(struct domain *d, enum shutdown_reason reason);
/* Ends a misbehaving domain with a register dump of v. */
void domain_crash(struct vcpu *v, const char *why);

/* Appends guest console output, emitted a line at a time as "(dN) ...". */
void domain_console_write(struct domain *d, const char *buf, size_t len);

#endif
