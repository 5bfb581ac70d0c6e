/* guest_walk.h (hypervisor, pure): translating guest virtual addresses by walking the guest's own page tables. */
#ifndef WISP_GUEST_WALK_H
#define WISP_GUEST_WALK_H

#include "env.h"

enum guest_paging_mode {
    GUEST_PAGING_NONE,      /* CR0.PG = 0: virtual = physical */
    GUEST_PAGING_32,        /* 2-level, 4 KiB and (CR4.PSE) 4 MiB pages */
    GUEST_PAGING_PAE,       /* 3-level, 4 KiB and 2 MiB pages */
    GUEST_PAGING_LONG4,     /* 4-level, 4 KiB, 2 MiB and 1 GiB pages */
};

struct guest_paging {
    enum guest_paging_mode mode;
    uint64_t cr3;
    bool pse;               /* CR4.PSE: 4 MiB pages in 32-bit mode */
};

/* Derives the mode from CR0, CR4 and EFER as the CPU would (SDM vol 3, 4.1.1). */
struct guest_paging guest_paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer);

/* Reads guest-physical memory; returns 0 or -EFAULT. */
struct guest_phys_reader {
    int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
    void *ctx;
};

/*
 * Translates gva to a guest-physical address. Fails with -EFAULT when an entry
 * is not present, reserved bits are set, or `write` is asked of a read-only page.
 */
int __must_check guest_walk(const struct guest_paging *pg, const struct guest_phys_reader *rd,
                            uint64_t gva, bool write, uint64_t *gpa);

#endif
