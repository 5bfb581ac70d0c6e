/* p2m.h (hypervisor, pure): the guest-physical -> host-physical map, one walker for NPT and EPT. */
#ifndef WISP_P2M_H
#define WISP_P2M_H

#include "env.h"

#define P2M_READ  1u
#define P2M_WRITE 2u
#define P2M_EXEC  4u
#define P2M_RWX   (P2M_READ | P2M_WRITE | P2M_EXEC)

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ull << PAGE_SHIFT)
#define PAGE_SIZE_2M (1ull << 21)
#define PAGE_SIZE_1G (1ull << 30)

/*
 * How one nested-paging format encodes its entries. Both NPT (AMD APM vol 2,
 * 15.25: ordinary long-mode entries) and EPT (Intel SDM vol 3, 29.3.2) are
 * 4-level radix trees of 512 x 8-byte entries with bit 7 marking a large leaf;
 * only the permission and memory-type bits differ.
 */
struct pt_format {
    const char *name;
    uint64_t (*table_entry)(uint64_t table_pa);              /* non-leaf entry */
    uint64_t (*leaf_entry)(uint64_t pa, unsigned perms, unsigned level); /* level 1=4K 2=2M 3=1G */
    bool (*present)(uint64_t entry);
    unsigned (*perms)(uint64_t entry);                       /* P2M_* of a leaf */
    bool max_1g;                                             /* 1 GiB leaves allowed */
};

extern const struct pt_format npt_format;
extern const struct pt_format ept_format;

/* Memory behind the tables, injected so unit tests can use a fake. */
struct pt_mem {
    void *(*map)(void *ctx, uint64_t pa);    /* pointer to the 4 KiB table at pa */
    uint64_t (*alloc)(void *ctx);            /* a zeroed 4 KiB table, 0 on exhaustion */
    void (*free)(void *ctx, uint64_t pa);
    void *ctx;
};

struct p2m {
    const struct pt_format *fmt;
    struct pt_mem mem;
    uint64_t root;          /* physical address of the top table (PML4) */
};

/* All return 0 or -ENOMEM / -EINVAL (unaligned or out-of-range addresses). */
int __must_check p2m_init(struct p2m *p2m, const struct pt_format *fmt, const struct pt_mem *mem);
/*
 * Maps [gpa, gpa+size) to [hpa, hpa+size), using the largest leaves that the
 * alignment of both addresses allows, splitting existing large leaves as needed.
 */
int __must_check p2m_map(struct p2m *p2m, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms);
int __must_check p2m_unmap(struct p2m *p2m, uint64_t gpa, uint64_t size);
/* 0 and the translation, or -ENOENT when gpa is not mapped. */
int p2m_lookup(const struct p2m *p2m, uint64_t gpa, uint64_t *hpa, unsigned *perms);
/* Frees every table, root included. */
void p2m_destroy(struct p2m *p2m);

#endif
