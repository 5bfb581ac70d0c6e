/* paging.c (guest): the alias window and the NULL page in the paged variants (64-bit and 32-bit PAE). */
#include "guest.h"
#include "x86.h"

#if defined(__x86_64__) || defined(GUEST_PAE)
#define HAVE_PAGING 1
/* entry64.S / entry32.S: the 4 KiB tables for the first 2 MiB and for the alias window. */
extern uint64_t pt_low[PT_ENTRIES], pt_alias[PT_ENTRIES];
#ifdef __x86_64__
#define ALIAS_BASE 0x100000000UL   /* PDPT entry 4: just above the 4 GiB identity map */
#else
#define ALIAS_BASE 0xC0000000UL    /* PD 3 entry 0, carved out of the identity map */
#endif
#else
#define HAVE_PAGING 0
#define ALIAS_BASE 0UL
#endif

bool paging_enabled(void)
{
    return HAVE_PAGING;
}

#if HAVE_PAGING
static void invlpg(uintptr_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
#endif

void *alias_map(unsigned int slot, const void *phys_page)
{
#if HAVE_PAGING
    uintptr_t va = ALIAS_BASE + slot * PAGE_SIZE;

    if (slot >= ALIAS_SLOTS)
        return NULL;
    pt_alias[slot] = ((uintptr_t)phys_page & ~(PAGE_SIZE - 1)) | PTE_RW | PTE_P;
    invlpg(va);
    return (void *)va;
#else
    (void)slot;
    (void)phys_page;
    return NULL;
#endif
}

uintptr_t alias_guard_va(void)
{
    return HAVE_PAGING ? ALIAS_BASE + ALIAS_SLOTS * PAGE_SIZE : 0;
}

void paging_unmap_null_page(void)
{
#if HAVE_PAGING
    pt_low[0] = 0;
    invlpg(0);
#endif
}
