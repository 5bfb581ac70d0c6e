/* guest_walk.c (hypervisor, pure): translates guest virtual addresses by reading the guest's own page tables. */
#include "env.h"
#include "errno.h"
#include "guest_walk.h"

/* Control-register bits that select the paging mode (SDM vol 3, 2.5 and 4.1.1). */
#define CR0_PG          (1ull << 31)    /* paging enabled */
#define CR4_PSE         (1ull << 4)     /* 4 MiB pages in 32-bit paging */
#define CR4_PAE         (1ull << 5)     /* PAE (or 4-level with LMA) paging */
#define EFER_LMA        (1ull << 10)    /* long mode active */

/* Entry bits common to all three formats (SDM vol 3, 4.3, 4.4.2, 4.5.4). */
#define PTE_PRESENT     (1ull << 0)     /* P */
#define PTE_WRITE       (1ull << 1)     /* R/W: 0 forbids writes through this entry */
#define PTE_LARGE       (1ull << 7)     /* PS: this PDE/PDPTE maps a page */

#define PAGE_SHIFT_4K   12
#define LIMIT_32BIT     (1ull << 32)    /* linear addresses outside long mode */

/* 32-bit paging (SDM vol 3, 4.3, tables 4-4 to 4-6): 4-byte entries, 10+10+12. */
#define PG32_CR3_MASK       0xfffff000ull   /* CR3 bits 31:12: page directory */
#define PG32_ADDR_MASK      0xfffff000ull   /* PDE/PTE bits 31:12: table or 4 KiB page */
#define PG32_4M_ADDR_MASK   0xffc00000ull   /* 4 MiB PDE bits 31:22: PA bits 31:22 */
#define PG32_4M_HI_SHIFT    13              /* 4 MiB PDE bits 20:13: PA bits 39:32 (PSE-36/40) */
#define PG32_4M_HI_MASK     0xffull
#define PG32_4M_RSVD        (1ull << 21)    /* 4 MiB PDE bit 21: reserved */

/* PAE paging (SDM vol 3, 4.4, tables 4-7 to 4-11): 4 PDPTEs, then 8-byte entries. */
#define PAE_CR3_MASK        0xffffffe0ull   /* CR3 bits 31:5: 32-byte aligned PDPT */
/*
 * Bits 63:52 and 2:1. Bits 8:5 are reserved too, but QEMU's TCG sets the
 * accessed bit (5) in PDPTEs, so ignoring 8:5 keeps walks working there.
 */
#define PAE_PDPTE_RSVD      0xfff0000000000006ull
#define PAE_ENTRY_RSVD      0x7ff0000000000000ull /* bits 62:52 (63 is XD) */

/* 4-level paging (SDM vol 3, 4.5, tables 4-15 to 4-20). */
#define LM_CR3_MASK         0x000ffffffffff000ull /* CR3 bits 51:12 (11:0 are PCID/flags) */
/*
 * Bits 51:12 hold the address (bits 51:M are reserved; we assume M = 52 since
 * we do not know the guest's MAXPHYADDR). Bits 62:52 are ignored by the CPU
 * (software use, or protection keys), so they are masked off, not rejected.
 */
#define LM_ADDR_MASK        0x000ffffffffff000ull
#define LM_LARGE_RSVD_LOW   0x1000ull       /* bit 12 is PAT; reserved bits start at 13 */

#define ENTRY_SIZE_32       4
#define ENTRY_SIZE_64       8

struct guest_paging guest_paging_from_regs(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    struct guest_paging pg = { .cr3 = cr3, .pse = (cr4 & CR4_PSE) != 0 };

    /*
     * CR4.LA57 (5-level paging) is not modelled: the hypervisor must keep it
     * clear (CPUID hides it and CR4 writes setting it are refused).
     */
    if (!(cr0 & CR0_PG))
        pg.mode = GUEST_PAGING_NONE;
    else if (efer & EFER_LMA)
        pg.mode = GUEST_PAGING_LONG4;
    else if (cr4 & CR4_PAE)
        pg.mode = GUEST_PAGING_PAE;
    else
        pg.mode = GUEST_PAGING_32;
    return pg;
}

static int __must_check read_entry(const struct guest_phys_reader *rd, uint64_t gpa, size_t size, uint64_t *entry)
{
    uint32_t e32;

    if (size == ENTRY_SIZE_32) {
        if (rd->read(rd->ctx, gpa, &e32, sizeof(e32)))
            return -EFAULT;
        *entry = e32;
        return 0;
    }
    return rd->read(rd->ctx, gpa, entry, sizeof(*entry)) ? -EFAULT : 0;
}

/* Present, and writable if a write is asked: the checks every level makes. */
static bool entry_allows(uint64_t entry, bool write)
{
    return (entry & PTE_PRESENT) && (!write || (entry & PTE_WRITE));
}

/* Bits [hi:lo] set. */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
    return ((~0ull) >> (63 - hi)) & ~((1ull << lo) - 1);
}

static int __must_check walk_32(const struct guest_paging *pg, const struct guest_phys_reader *rd,
                                uint64_t gva, bool write, uint64_t *gpa)
{
    uint64_t pde, pte;
    uint64_t pde_gpa = (pg->cr3 & PG32_CR3_MASK) + ((gva >> 22) & 0x3ff) * ENTRY_SIZE_32;

    if (read_entry(rd, pde_gpa, ENTRY_SIZE_32, &pde) || !entry_allows(pde, write))
        return -EFAULT;

    if (pg->pse && (pde & PTE_LARGE)) {
        if (pde & PG32_4M_RSVD)
            return -EFAULT;
        uint64_t hi = (pde >> PG32_4M_HI_SHIFT) & PG32_4M_HI_MASK;
        *gpa = (hi << 32) | (pde & PG32_4M_ADDR_MASK) | (gva & 0x3fffff);
        return 0;
    }

    uint64_t pte_gpa = (pde & PG32_ADDR_MASK) + ((gva >> 12) & 0x3ff) * ENTRY_SIZE_32;
    if (read_entry(rd, pte_gpa, ENTRY_SIZE_32, &pte) || !entry_allows(pte, write))
        return -EFAULT;
    *gpa = (pte & PG32_ADDR_MASK) | (gva & 0xfff);
    return 0;
}

/*
 * Walks the 64-bit-entry levels shared by PAE (levels 2..1) and 4-level
 * paging (levels 4..1), starting from the table at table_gpa. Level 3 and 2
 * entries with PS map 1 GiB / 2 MiB pages; 1 GiB only exists in 4-level
 * paging, where `top` is 4.
 */
static int __must_check walk_64(const struct guest_phys_reader *rd, uint64_t table_gpa, unsigned top,
                                uint64_t rsvd, uint64_t gva, bool write, uint64_t *gpa)
{
    for (unsigned level = top; level >= 1; level--) {
        unsigned shift = PAGE_SHIFT_4K + 9 * (level - 1);
        uint64_t entry;

        if (read_entry(rd, table_gpa + ((gva >> shift) & 0x1ff) * ENTRY_SIZE_64, ENTRY_SIZE_64, &entry))
            return -EFAULT;
        if (!entry_allows(entry, write) || (entry & rsvd))
            return -EFAULT;

        bool large = (level == 2 || level == 3) && (entry & PTE_LARGE);
        if (level == 4 && (entry & PTE_LARGE))
            return -EFAULT;     /* PS is reserved in a PML4E */
        if (large) {
            /* Bits shift-1:13 are reserved; bit 12 is the large page's PAT bit. */
            if (entry & bit_range(shift - 1, 13))
                return -EFAULT;
            *gpa = (entry & LM_ADDR_MASK & ~((1ull << shift) - 1)) | (gva & ((1ull << shift) - 1));
            return 0;
        }
        if (level == 1) {
            *gpa = (entry & LM_ADDR_MASK) | (gva & 0xfff);
            return 0;
        }
        table_gpa = entry & LM_ADDR_MASK;
    }
    return -EFAULT;     /* not reached */
}

static int __must_check walk_pae(const struct guest_paging *pg, const struct guest_phys_reader *rd,
                                 uint64_t gva, bool write, uint64_t *gpa)
{
    uint64_t pdpte;
    uint64_t pdpte_gpa = (pg->cr3 & PAE_CR3_MASK) + ((gva >> 30) & 3) * ENTRY_SIZE_64;

    /*
     * The CPU loads the 4 PDPTEs when CR3 is written (SDM 4.4.1); reading them
     * now differs only for a guest that edits its PDPT without reloading CR3.
     * PDPTEs have no R/W bit.
     */
    if (read_entry(rd, pdpte_gpa, ENTRY_SIZE_64, &pdpte))
        return -EFAULT;
    if (!(pdpte & PTE_PRESENT) || (pdpte & PAE_PDPTE_RSVD))
        return -EFAULT;
    return walk_64(rd, pdpte & LM_ADDR_MASK, 2, PAE_ENTRY_RSVD, gva, write, gpa);
}

/* Bits 63:47 all equal (SDM vol 3, 3.3.7.1). */
static bool is_canonical(uint64_t gva)
{
    uint64_t top = gva >> 47;

    return top == 0 || top == 0x1ffff;
}

int guest_walk(const struct guest_paging *pg, const struct guest_phys_reader *rd,
               uint64_t gva, bool write, uint64_t *gpa)
{
    switch (pg->mode) {
    case GUEST_PAGING_NONE:
        if (gva >= LIMIT_32BIT)
            return -EFAULT;
        *gpa = gva;
        return 0;
    case GUEST_PAGING_32:
        return gva >= LIMIT_32BIT ? -EFAULT : walk_32(pg, rd, gva, write, gpa);
    case GUEST_PAGING_PAE:
        return gva >= LIMIT_32BIT ? -EFAULT : walk_pae(pg, rd, gva, write, gpa);
    case GUEST_PAGING_LONG4:
        if (!is_canonical(gva))
            return -EFAULT;
        return walk_64(rd, pg->cr3 & LM_CR3_MASK, 4, 0, gva, write, gpa);
    }
    return -EFAULT;
}
