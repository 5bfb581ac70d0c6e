/* test_p2m.c (host test): the NPT/EPT p2m walker against a fake physical memory that records its history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "p2m.h"

/* ---- fake physical memory: FAKE_TABLES 4 KiB tables at FAKE_BASE ---- */

#define FAKE_TABLES 4096u
#define FAKE_BASE   0x100000000ull
#define ADDR_MASK   0x000ffffffffff000ull   /* bits 51:12 in both formats */
#define NEVER       (-1)

struct fake_mem {
    uint64_t (*tables)[512];
    bool used[FAKE_TABLES];
    unsigned free_stack[FAKE_TABLES];
    unsigned free_top;
    unsigned bump;
    unsigned allocs, frees;
    int fail_after;             /* allocations that still succeed; NEVER = unlimited */
};

static struct fake_mem fm;

static unsigned fake_index(uint64_t pa)
{
    assert_true(pa >= FAKE_BASE);
    assert_int_equal(pa & 0xfff, 0);
    uint64_t i = (pa - FAKE_BASE) >> 12;
    assert_true(i < FAKE_TABLES);
    return (unsigned)i;
}

static void *fake_map(void *ctx, uint64_t pa)
{
    struct fake_mem *m = ctx;
    unsigned i = fake_index(pa);

    assert_true(m->used[i]);    /* the walker must never touch a freed or foreign table */
    return m->tables[i];
}

static uint64_t fake_alloc(void *ctx)
{
    struct fake_mem *m = ctx;
    unsigned i;

    if (m->fail_after == 0)
        return 0;
    if (m->fail_after > 0)
        m->fail_after--;
    if (m->free_top)
        i = m->free_stack[--m->free_top];
    else if (m->bump < FAKE_TABLES)
        i = m->bump++;
    else
        return 0;
    /* The contract promises zeroed tables (freed ones were poisoned). */
    memset(m->tables[i], 0, 4096);
    m->used[i] = true;
    m->allocs++;
    return FAKE_BASE + ((uint64_t)i << 12);
}

static void fake_free(void *ctx, uint64_t pa)
{
    struct fake_mem *m = ctx;
    unsigned i = fake_index(pa);

    assert_true(m->used[i]);    /* double free or free of garbage */
    m->used[i] = false;
    memset(m->tables[i], 0xa5, 4096);   /* stale reads after free show up as garbage */
    m->free_stack[m->free_top++] = i;
    m->frees++;
}

static unsigned live_tables(void)
{
    return fm.allocs - fm.frees;
}

static const struct pt_mem fake_pt_mem = {
    .map = fake_map, .alloc = fake_alloc, .free = fake_free, .ctx = &fm,
};

static int setup(void **state)
{
    (void)state;
    memset(&fm, 0, sizeof(fm));
    fm.tables = calloc(FAKE_TABLES, 4096);
    fm.fail_after = NEVER;
    return fm.tables ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(fm.tables);
    return 0;
}

static const struct pt_format *fmt_of(void **state)
{
    return *state ? *state : &npt_format;
}

static void new_p2m(struct p2m *p, const struct pt_format *fmt)
{
    assert_int_equal(p2m_init(p, fmt, &fake_pt_mem), 0);
    assert_int_equal(live_tables(), 1);
}

static void destroy_no_leak(struct p2m *p)
{
    p2m_destroy(p);
    assert_int_equal(live_tables(), 0);
}

/* Raw entry for gpa in the table at `level` (4 = PML4), walking independently of p2m.c. */
static uint64_t raw_entry(const struct p2m *p, uint64_t gpa, unsigned level)
{
    uint64_t table = p->root;

    for (unsigned l = 4;; l--) {
        uint64_t e = ((uint64_t *)fake_map(&fm, table))[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        table = e & ADDR_MASK;
    }
}

static void expect_translation(const struct p2m *p, uint64_t gpa, uint64_t hpa, unsigned perms)
{
    uint64_t got = 0;
    unsigned got_perms = 0;

    assert_int_equal(p2m_lookup(p, gpa, &got, &got_perms), 0);
    assert_int_equal(got, hpa);
    assert_int_equal(got_perms, perms);
}

static void expect_unmapped(const struct p2m *p, uint64_t gpa)
{
    uint64_t hpa;
    unsigned perms;

    assert_int_equal(p2m_lookup(p, gpa, &hpa, &perms), -ENOENT);
}

/* ---- tests ---- */

static void test_init_destroy_no_leak(void **state)
{
    struct p2m p;

    new_p2m(&p, fmt_of(state));
    expect_unmapped(&p, 0);
    destroy_no_leak(&p);
    assert_int_equal(p.root, 0);

    fm.fail_after = 0;
    assert_int_equal(p2m_init(&p, fmt_of(state), &fake_pt_mem), -ENOMEM);
}

static void test_large_page_selection(void **state)
{
    struct p2m p;
    const uint64_t G = PAGE_SIZE_1G, M2 = PAGE_SIZE_2M;

    new_p2m(&p, fmt_of(state));
    /* 1G + 2M + 4K, both sides 1G-aligned: one leaf of each size. */
    assert_int_equal(p2m_map(&p, G, 2 * G, G + M2 + PAGE_SIZE, P2M_RWX), 0);
    assert_int_equal(live_tables(), 4);     /* PML4, PDPT, PD, PT */
    assert_true(raw_entry(&p, G, 3) & (1ull << 7));
    assert_true(raw_entry(&p, 2 * G, 2) & (1ull << 7));
    assert_false(raw_entry(&p, 2 * G + M2, 2) & (1ull << 7));
    expect_translation(&p, G, 2 * G, P2M_RWX);
    expect_translation(&p, G + 0x12345678, 2 * G + 0x12345678, P2M_RWX);
    expect_translation(&p, 2 * G + 0x1fffff, 3 * G + 0x1fffff, P2M_RWX);
    expect_translation(&p, 2 * G + M2 + 0xabc, 3 * G + M2 + 0xabc, P2M_RWX);
    expect_unmapped(&p, 2 * G + M2 + PAGE_SIZE);
    expect_unmapped(&p, G - 1);

    /* hpa only 4K-aligned: 4K leaves even though gpa is 2M-aligned. */
    assert_int_equal(p2m_map(&p, 8 * G, 0x201000, M2, P2M_READ), 0);
    assert_false(raw_entry(&p, 8 * G, 2) & (1ull << 7));
    expect_translation(&p, 8 * G + 0x1ff123, 0x201000 + 0x1ff123, P2M_READ);

    /* hpa 2M-aligned but gpa not. */
    assert_int_equal(p2m_map(&p, 9 * G + PAGE_SIZE, 0x400000, M2, P2M_READ), 0);
    assert_false(raw_entry(&p, 9 * G + M2, 2) & (1ull << 7));
    expect_translation(&p, 9 * G + M2 + 0x10, 0x400000 + M2 - PAGE_SIZE + 0x10, P2M_READ);
    destroy_no_leak(&p);
}

static void test_no_1g_when_format_forbids(void **state)
{
    struct pt_format no1g = *fmt_of(state);
    struct p2m p;

    no1g.max_1g = false;
    new_p2m(&p, &no1g);
    assert_int_equal(p2m_map(&p, PAGE_SIZE_1G, 0, PAGE_SIZE_1G, P2M_RWX), 0);
    assert_int_equal(live_tables(), 3);     /* PML4, PDPT, one PD of 512 2M leaves */
    assert_false(raw_entry(&p, PAGE_SIZE_1G, 3) & (1ull << 7));
    assert_true(raw_entry(&p, PAGE_SIZE_1G + 511 * PAGE_SIZE_2M, 2) & (1ull << 7));
    expect_translation(&p, 2 * PAGE_SIZE_1G - 1, PAGE_SIZE_1G - 1, P2M_RWX);
    destroy_no_leak(&p);
}

static void test_split_on_partial_remap(void **state)
{
    struct p2m p;
    const uint64_t base = 0x40000000, size = 128ull << 20, page = 0x123000, new_hpa = 0x7777000;

    new_p2m(&p, fmt_of(state));
    assert_int_equal(p2m_map(&p, 0, base, size, P2M_RWX), 0);
    unsigned before = live_tables();
    assert_int_equal(p2m_map(&p, page, new_hpa, PAGE_SIZE, P2M_READ), 0);
    assert_int_equal(live_tables(), before + 1);    /* one page table for the split 2M leaf */

    for (uint64_t gpa = 0; gpa < PAGE_SIZE_2M; gpa += PAGE_SIZE) {
        if (gpa == page)
            expect_translation(&p, gpa + 0x80, new_hpa + 0x80, P2M_READ);
        else
            expect_translation(&p, gpa + 0x80, base + gpa + 0x80, P2M_RWX);
    }
    for (uint64_t gpa = PAGE_SIZE_2M; gpa < size; gpa += PAGE_SIZE_2M) {
        assert_true(raw_entry(&p, gpa, 2) & (1ull << 7));   /* other 2M leaves untouched */
        expect_translation(&p, gpa + 0x1ff000, base + gpa + 0x1ff000, P2M_RWX);
    }
    expect_unmapped(&p, size);

    /* Mapping the whole 2M again as one leaf frees the page table. */
    assert_int_equal(p2m_map(&p, 0, base, PAGE_SIZE_2M, P2M_RWX), 0);
    assert_int_equal(live_tables(), before);
    expect_translation(&p, page, base + page, P2M_RWX);
    destroy_no_leak(&p);
}

static void test_split_1g_leaf(void **state)
{
    struct p2m p;
    const uint64_t G = PAGE_SIZE_1G;

    new_p2m(&p, fmt_of(state));
    assert_int_equal(p2m_map(&p, 0, 4 * G, G, P2M_READ | P2M_EXEC), 0);
    assert_int_equal(p2m_map(&p, 3 * PAGE_SIZE_2M + PAGE_SIZE, 0x5000, PAGE_SIZE, P2M_RWX), 0);
    assert_int_equal(live_tables(), 4);     /* 1G -> PD of 2M leaves -> PT of 4K leaves */
    assert_true(raw_entry(&p, 0, 2) & (1ull << 7));
    expect_translation(&p, 0, 4 * G, P2M_READ | P2M_EXEC);
    expect_translation(&p, G - 1, 5 * G - 1, P2M_READ | P2M_EXEC);
    expect_translation(&p, 3 * PAGE_SIZE_2M, 4 * G + 3 * PAGE_SIZE_2M, P2M_READ | P2M_EXEC);
    expect_translation(&p, 3 * PAGE_SIZE_2M + PAGE_SIZE, 0x5000, P2M_RWX);
    expect_translation(&p, 3 * PAGE_SIZE_2M + 2 * PAGE_SIZE, 4 * G + 3 * PAGE_SIZE_2M + 2 * PAGE_SIZE,
                       P2M_READ | P2M_EXEC);

    /* A 1G leaf over the split region frees the whole subtree. */
    assert_int_equal(p2m_map(&p, 0, 7 * G, G, P2M_READ), 0);
    assert_int_equal(live_tables(), 2);
    expect_translation(&p, 3 * PAGE_SIZE_2M + PAGE_SIZE, 7 * G + 3 * PAGE_SIZE_2M + PAGE_SIZE, P2M_READ);
    destroy_no_leak(&p);
}

static void test_unmap(void **state)
{
    struct p2m p;

    new_p2m(&p, fmt_of(state));
    /* Unmapping what was never mapped allocates nothing. */
    assert_int_equal(p2m_unmap(&p, 0x40000000, PAGE_SIZE_1G), 0);
    assert_int_equal(fm.allocs, 1);

    assert_int_equal(p2m_map(&p, 0, 0x80000000, 2 * PAGE_SIZE_2M, P2M_RWX), 0);
    assert_int_equal(p2m_unmap(&p, PAGE_SIZE_2M + PAGE_SIZE, PAGE_SIZE), 0);   /* a hole */
    expect_unmapped(&p, PAGE_SIZE_2M + PAGE_SIZE);
    expect_unmapped(&p, PAGE_SIZE_2M + 2 * PAGE_SIZE - 1);
    expect_translation(&p, PAGE_SIZE_2M, 0x80000000 + PAGE_SIZE_2M, P2M_RWX);
    expect_translation(&p, PAGE_SIZE_2M + 2 * PAGE_SIZE, 0x80000000 + PAGE_SIZE_2M + 2 * PAGE_SIZE, P2M_RWX);
    assert_true(raw_entry(&p, 0, 2) & (1ull << 7));
    expect_translation(&p, 0x1fffff, 0x801fffff, P2M_RWX);

    /* Unmapping the rest frees every table but the root. */
    assert_int_equal(p2m_unmap(&p, 0, 2 * PAGE_SIZE_2M), 0);
    expect_unmapped(&p, 0);
    expect_unmapped(&p, PAGE_SIZE_2M + 2 * PAGE_SIZE);
    assert_int_equal(live_tables(), 1);

    /* The whole guest-physical space in one call. */
    assert_int_equal(p2m_map(&p, 0x123456000, 0x1000, PAGE_SIZE, P2M_READ), 0);
    assert_int_equal(p2m_unmap(&p, 0, 1ull << 48), 0);
    assert_int_equal(live_tables(), 1);
    expect_unmapped(&p, 0x123456000);
    destroy_no_leak(&p);
}

static void test_lookup_unmapped(void **state)
{
    struct p2m p;
    uint64_t hpa = 0x1234;
    unsigned perms = 99;

    new_p2m(&p, fmt_of(state));
    expect_unmapped(&p, 0);
    assert_int_equal(p2m_map(&p, 0x5000, 0x9000, PAGE_SIZE, P2M_READ), 0);
    expect_unmapped(&p, 0x4fff);
    expect_unmapped(&p, 0x6000);
    expect_unmapped(&p, 1ull << 48);
    expect_unmapped(&p, UINT64_MAX);
    expect_unmapped(&p, 0x5000 | (1ull << 47) | (1ull << 60));  /* no aliasing of high bits */
    assert_int_equal(p2m_lookup(&p, 0x6000, &hpa, &perms), -ENOENT);
    assert_int_equal(hpa, 0x1234);
    expect_translation(&p, 0x5fff, 0x9fff, P2M_READ);
    destroy_no_leak(&p);
}

static void test_invalid_arguments(void **state)
{
    struct p2m p;
    const uint64_t gpa_top = 1ull << 48, hpa_top = 1ull << 52;

    new_p2m(&p, fmt_of(state));
    assert_int_equal(p2m_map(&p, 0x800, 0, PAGE_SIZE, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, 0x800, PAGE_SIZE, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, 0, 0x800, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, gpa_top, 0, PAGE_SIZE, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, gpa_top - PAGE_SIZE, 0, 2 * PAGE_SIZE, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, hpa_top, PAGE_SIZE, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, hpa_top - PAGE_SIZE, 2 * PAGE_SIZE, P2M_RWX), -EINVAL);
    /* A size that wraps the 64-bit sum must not slip through. */
    assert_int_equal(p2m_map(&p, PAGE_SIZE, 0, UINT64_MAX & ~0xfffull, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, PAGE_SIZE, UINT64_MAX & ~0xfffull, P2M_RWX), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, 0, PAGE_SIZE, 0), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, 0, PAGE_SIZE, P2M_WRITE), -EINVAL);
    assert_int_equal(p2m_map(&p, 0, 0, PAGE_SIZE, P2M_RWX | 8), -EINVAL);
    assert_int_equal(p2m_unmap(&p, 0x800, PAGE_SIZE), -EINVAL);
    assert_int_equal(p2m_unmap(&p, 0, 0x800), -EINVAL);
    assert_int_equal(p2m_unmap(&p, gpa_top - PAGE_SIZE, 2 * PAGE_SIZE), -EINVAL);
    assert_int_equal(fm.allocs, 1);         /* nothing touched */

    /* The last page of each space is fine. */
    assert_int_equal(p2m_map(&p, gpa_top - PAGE_SIZE, hpa_top - PAGE_SIZE, PAGE_SIZE, P2M_READ), 0);
    expect_translation(&p, gpa_top - 1, hpa_top - 1, P2M_READ);
    assert_int_equal(p2m_map(&p, 0, 0, 0, P2M_READ), 0);       /* empty range: nothing to do */
    destroy_no_leak(&p);
}

/* Every page of [gpa, gpa+size) translates to the new hpa or is unmapped, nothing else. */
static void expect_new_or_unmapped(const struct p2m *p, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t got;
        unsigned perms;
        int rc = p2m_lookup(p, gpa + off, &got, &perms);
        if (rc == 0) {
            assert_int_equal(got, hpa + off);
            assert_int_equal(perms, P2M_RWX);
        } else {
            assert_int_equal(rc, -ENOENT);
        }
    }
}

static void test_alloc_failure_mid_map(void **state)
{
    const uint64_t gpa = PAGE_SIZE_1G - PAGE_SIZE_2M - PAGE_SIZE, hpa = 0x12345000;
    const uint64_t size = 2 * PAGE_SIZE_2M + 2 * PAGE_SIZE;
    bool succeeded = false;

    for (int n = 0; n < 20 && !succeeded; n++) {
        struct p2m p;
        new_p2m(&p, fmt_of(state));
        assert_int_equal(p2m_map(&p, 5 * PAGE_SIZE_1G, 0, PAGE_SIZE_2M, P2M_READ), 0);
        fm.fail_after = n;
        int rc = p2m_map(&p, gpa, hpa, size, P2M_RWX);
        fm.fail_after = NEVER;
        if (rc == 0) {
            succeeded = true;
            assert_int_equal(n, 6);  /* 2 PDs and 4 PTs were needed; the PDPT existed */
            for (uint64_t off = 0; off < size; off += PAGE_SIZE)
                expect_translation(&p, gpa + off, hpa + off, P2M_RWX);
        } else {
            assert_int_equal(rc, -ENOMEM);
            expect_new_or_unmapped(&p, gpa, hpa, size);
        }
        expect_translation(&p, 5 * PAGE_SIZE_1G + 0x1234, 0x1234, P2M_READ);
        expect_unmapped(&p, gpa - PAGE_SIZE);
        expect_unmapped(&p, gpa + size);
        destroy_no_leak(&p);
    }
    assert_true(succeeded);
}

static void test_alloc_failure_on_split(void **state)
{
    struct p2m p;

    new_p2m(&p, fmt_of(state));
    assert_int_equal(p2m_map(&p, PAGE_SIZE_2M, 0x40000000, PAGE_SIZE_2M, P2M_RWX), 0);
    unsigned before = live_tables();
    fm.fail_after = 0;
    assert_int_equal(p2m_map(&p, PAGE_SIZE_2M + PAGE_SIZE, 0x1000, PAGE_SIZE, P2M_READ), -ENOMEM);
    assert_int_equal(p2m_unmap(&p, PAGE_SIZE_2M + PAGE_SIZE, PAGE_SIZE), -ENOMEM);
    fm.fail_after = NEVER;
    assert_int_equal(live_tables(), before);
    assert_true(raw_entry(&p, PAGE_SIZE_2M, 2) & (1ull << 7));
    for (uint64_t off = 0; off < PAGE_SIZE_2M; off += PAGE_SIZE)
        expect_translation(&p, PAGE_SIZE_2M + off, 0x40000000 + off, P2M_RWX);
    destroy_no_leak(&p);
}

/* NPT (AMD APM vol 2, 15.25.5): P=0 RW=1 US=2 PS=7 NX=63; tables P|RW|US. */
static void test_npt_entry_bits(void **state)
{
    struct p2m p;
    (void)state;

    new_p2m(&p, &npt_format);
    assert_int_equal(p2m_map(&p, 0x1000, 0x5000, PAGE_SIZE, P2M_READ | P2M_WRITE), 0);
    assert_int_equal(raw_entry(&p, 0x1000, 1), 0x8000000000005007ull);
    for (unsigned l = 4; l >= 2; l--)
        assert_int_equal(raw_entry(&p, 0x1000, l) & ~ADDR_MASK, 0x7);
    assert_int_equal(p2m_map(&p, 0x2000, 0xabcdef000ull, PAGE_SIZE, P2M_READ), 0);
    assert_int_equal(raw_entry(&p, 0x2000, 1), 0x8000000abcdef005ull);
    assert_int_equal(p2m_map(&p, 0x3000, 0x6000, PAGE_SIZE, P2M_RWX), 0);
    assert_int_equal(raw_entry(&p, 0x3000, 1), 0x6007ull);
    assert_int_equal(p2m_map(&p, 0x400000, 0x600000, PAGE_SIZE_2M, P2M_READ | P2M_EXEC), 0);
    assert_int_equal(raw_entry(&p, 0x400000, 2), 0x600085ull);
    assert_int_equal(p2m_map(&p, PAGE_SIZE_1G, 3 * PAGE_SIZE_1G, PAGE_SIZE_1G, P2M_RWX), 0);
    assert_int_equal(raw_entry(&p, PAGE_SIZE_1G, 3), 0xc0000087ull);
    expect_translation(&p, 0x1000, 0x5000, P2M_READ | P2M_WRITE);
    expect_translation(&p, 0x2000, 0xabcdef000ull, P2M_READ);
    expect_translation(&p, 0x400000, 0x600000, P2M_READ | P2M_EXEC);
    destroy_no_leak(&p);
}

/* EPT (SDM vol 3, 29.3.2): R=0 W=1 X=2, memtype 5:3 = 6 (WB), IPAT=6 clear, large=7; tables RWX. */
static void test_ept_entry_bits(void **state)
{
    struct p2m p;
    (void)state;

    new_p2m(&p, &ept_format);
    assert_int_equal(p2m_map(&p, 0x1000, 0x5000, PAGE_SIZE, P2M_RWX), 0);
    assert_int_equal(raw_entry(&p, 0x1000, 1), 0x5037ull);
    for (unsigned l = 4; l >= 2; l--)
        assert_int_equal(raw_entry(&p, 0x1000, l) & ~ADDR_MASK, 0x7);
    assert_int_equal(p2m_map(&p, 0x2000, 0xabcdef000ull, PAGE_SIZE, P2M_READ), 0);
    assert_int_equal(raw_entry(&p, 0x2000, 1), 0xabcdef031ull);
    assert_int_equal(p2m_map(&p, 0x400000, 0x600000, PAGE_SIZE_2M, P2M_READ | P2M_WRITE), 0);
    assert_int_equal(raw_entry(&p, 0x400000, 2), 0x6000b3ull);
    assert_int_equal(p2m_map(&p, PAGE_SIZE_1G, 3 * PAGE_SIZE_1G, PAGE_SIZE_1G, P2M_READ | P2M_EXEC), 0);
    assert_int_equal(raw_entry(&p, PAGE_SIZE_1G, 3), 0xc00000b5ull);
    expect_translation(&p, 0x2000, 0xabcdef000ull, P2M_READ);
    expect_translation(&p, 0x5ff000, 0x7ff000, P2M_READ | P2M_WRITE);
    expect_translation(&p, PAGE_SIZE_1G + 5, 3 * PAGE_SIZE_1G + 5, P2M_READ | P2M_EXEC);
    destroy_no_leak(&p);
}

static void test_remap_changes_leaf_in_place(void **state)
{
    struct p2m p;

    new_p2m(&p, fmt_of(state));
    assert_int_equal(p2m_map(&p, 0x7000, 0x1000, PAGE_SIZE, P2M_RWX), 0);
    unsigned before = live_tables();
    assert_int_equal(p2m_map(&p, 0x7000, 0x2000, PAGE_SIZE, P2M_READ), 0);
    assert_int_equal(live_tables(), before);
    expect_translation(&p, 0x7000, 0x2000, P2M_READ);
    destroy_no_leak(&p);
}

/*
 * What memory_op does for a ballooning guest, many times over: one 4 KiB
 * page out and back (its 2 MiB leaf splits: one table), then the whole 2 MiB
 * out and back (the table is freed, one leaf again). Over 1 GiB, so the
 * region sits under a split 1 GiB leaf too. No table may pile up.
 */
static void test_balloon_split_merge_churn(void **state)
{
    struct p2m p;
    const uint64_t base = 0x80000000, size = 2ull << 30;

    new_p2m(&p, fmt_of(state));
    assert_int_equal(p2m_map(&p, 0, base, size, P2M_RWX), 0);
    unsigned before = live_tables();
    for (unsigned round = 0; round < 200; round++) {
        uint64_t region = (uint64_t)(round * 7 % 1024) * PAGE_SIZE_2M;
        uint64_t page = region + (uint64_t)(round % 512) * PAGE_SIZE;

        assert_int_equal(p2m_unmap(&p, page, PAGE_SIZE), 0);
        expect_unmapped(&p, page);
        assert_int_equal(p2m_map(&p, page, base + page, PAGE_SIZE, P2M_RWX), 0);
        assert_int_equal(p2m_unmap(&p, region, PAGE_SIZE_2M), 0);
        expect_unmapped(&p, page);
        assert_int_equal(p2m_map(&p, region, base + region, PAGE_SIZE_2M, P2M_RWX), 0);
        assert_true(raw_entry(&p, region, 2) & (1ull << 7));    /* one 2M leaf again */
        expect_translation(&p, page + 0x10, base + page + 0x10, P2M_RWX);
        /* At most one 1G leaf per GiB stays split (a level-2 table each). */
        assert_true(live_tables() <= before + 2);
    }
    destroy_no_leak(&p);
}

#define BOTH(t) cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&npt_format), \
                cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&ept_format)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_init_destroy_no_leak),
        BOTH(test_large_page_selection),
        BOTH(test_no_1g_when_format_forbids),
        BOTH(test_split_on_partial_remap),
        BOTH(test_split_1g_leaf),
        BOTH(test_unmap),
        BOTH(test_lookup_unmapped),
        BOTH(test_invalid_arguments),
        BOTH(test_alloc_failure_mid_map),
        BOTH(test_alloc_failure_on_split),
        BOTH(test_remap_changes_leaf_in_place),
        BOTH(test_balloon_split_merge_churn),
        cmocka_unit_test_setup_teardown(test_npt_entry_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ept_entry_bits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
