/* test_guest_walk.c (host test): guest page-table walks and guest copies over a fake guest-physical memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "guest_access.h"
#include "guest_walk.h"

/* ---- fake guest-physical memory ---- */

#define MEM_SIZE  0x1000000ull          /* 16 MiB */
#define ROM_PAGE  0x40000ull            /* readable, refuses writes */

static uint8_t *mem;
static uint8_t top_page[0x1000];        /* guest-physical 2^64 - 4 KiB, to catch wrapping */
static unsigned phys_calls;

static void *fake_phys(void *ctx, uint64_t gpa, size_t len, bool write)
{
    (void)ctx;
    phys_calls++;
    assert_true(len >= 1);
    assert_true((gpa & 0xfff) + len <= 0x1000);     /* callers must split at pages */
    if (gpa >= 0xfffffffffffff000ull)
        return top_page + (gpa & 0xfff);
    if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
        return NULL;
    if (write && (gpa & ~0xfffull) == ROM_PAGE)
        return NULL;
    return mem + gpa;
}

static const struct guest_mem gmem = { .phys = fake_phys, .ctx = NULL };

/* The walker's reader, checking entry reads are 4 or 8 aligned bytes. */
static int fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    assert_true(len == 4 || len == 8);
    assert_int_equal(gpa % len, 0);
    if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
        return -EFAULT;
    memcpy(buf, mem + gpa, len);
    return 0;
}

static const struct guest_phys_reader reader = { .read = fake_read, .ctx = NULL };

static void put64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }

/* Entry bits (SDM vol 3, 4.3-4.5). */
#define P   0x1ull
#define RW  0x2ull
#define US  0x4ull
#define PS  0x80ull

/*
 * 4-level tables: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000.
 *   gva 0x0 -> 0x21000 RW (so that wrapping past 2^64 would land somewhere)
 *   gva 0x1000 -> 0x10000 RW      gva 0x2000 -> 0x30000 RW (not contiguous)
 *   gva 0x3000 -> 0x20000 RO      gva 0x4000 not present
 *   gva 0x5000 -> ROM_PAGE RW     gva 0x6000 -> 0x11000, ignored bits 62:52 set
 *   gva 0x200000 -> 2M at 0x600000
 *   gva 0x400000 -> 2M with reserved bit 20 set
 *   gva 0x40000000 -> 1G at 0x80000000
 *   gva 0x80000000 -> PDPTE R/W=0 -> PD 0x6000 -> PT 0x7000 R/W=1 -> 0x50000
 *   gva 0xc0000000 -> 1G with reserved bit 13 set
 *   gva 0x8000000000 (PML4[1]) -> PS set in a PML4E
 *   gva 0xffffffffffe00000 -> PML4[511] PDPT 0x8000 [511] PD 0x9000 [511] 2M at 0xa00000
 */
#define LM_CR3 0x1000ull

static void build_long_mode(void)
{
    put64(0x1000, 0x2000 | P | RW | US);
    put64(0x1000 + 8 * 1, 0x2000 | P | RW | PS);
    put64(0x1000 + 8 * 511, 0x8000 | P | RW);
    put64(0x2000, 0x3000 | P | RW | US);
    put64(0x2000 + 8 * 1, 0x80000000 | P | RW | PS);
    put64(0x2000 + 8 * 2, 0x6000 | P | US);
    put64(0x2000 + 8 * 3, 0xc0000000 | (1ull << 13) | P | RW | PS);
    put64(0x3000, 0x4000 | P | RW);
    put64(0x3000 + 8 * 1, 0x600000 | P | RW | PS | (1ull << 63));
    put64(0x3000 + 8 * 2, 0x800000 | (1ull << 20) | P | RW | PS);
    put64(0x4000, 0x21000 | P | RW);
    put64(0x4000 + 8 * 1, 0x10000 | P | RW);
    put64(0x4000 + 8 * 2, 0x30000 | P | RW);
    put64(0x4000 + 8 * 3, 0x20000 | P);
    put64(0x4000 + 8 * 4, 0x99000 | RW);                 /* not present */
    put64(0x4000 + 8 * 5, ROM_PAGE | P | RW);
    put64(0x4000 + 8 * 6, 0x11000 | (0x7ffull << 52) | P | RW);
    put64(0x6000, 0x7000 | P | RW);
    put64(0x7000, 0x50000 | P | RW);
    put64(0x8000 + 8 * 511, 0x9000 | P | RW);
    put64(0x9000 + 8 * 511, 0xa00000 | P | RW | PS);
}

/*
 * PAE: CR3 0xa020 -> PDPT at 0xa020 (32-byte aligned, not page aligned).
 *   PDPTE[0] -> PD 0xb000 with the accessed bit, which QEMU's TCG sets;
 *   PDPTE[1] has reserved bit 1; PDPTE[2] absent;
 *   PDPTE[3] -> PD 0xb000 with reserved bit 52.
 *   PD[0] -> PT 0xc000: [1] -> 0x12000 RW, [2] -> 0x13000 RO
 *   PD[1] -> 2M at 0x800000 RW; PD[2] 2M with reserved bit 52; PD[3] 2M with XD (allowed)
 */
#define PAE_CR3 0xa020ull

static void build_pae(void)
{
    put64(0xa020, 0xb000 | P | (1ull << 5));
    put64(0xa028, 0xb000 | P | RW);
    put64(0xa038, 0xb000 | (1ull << 52) | P);
    put64(0xb000, 0xc000 | P | RW);
    put64(0xb000 + 8 * 1, 0x800000 | P | RW | PS);
    put64(0xb000 + 8 * 2, 0x800000 | (1ull << 52) | P | RW | PS);
    put64(0xb000 + 8 * 3, 0x800000 | (1ull << 63) | P | RW | PS);
    put64(0xc000 + 8 * 1, 0x12000 | P | RW);
    put64(0xc000 + 8 * 2, 0x13000 | P);
}

/*
 * 32-bit: CR3 0xd000 (PD).
 *   PDE[0] -> PT 0xe000: [1] -> 0x14000 RW, [2] -> 0x15000 RO
 *   PDE[1]: 4M page, PA 31:22 = 0x00c00000, PDE bits 20:13 = 0x12 -> PA 39:32.
 *           Without CR4.PSE it is a table pointer 0xc24000, whose [0] -> 0x16000.
 *   PDE[2]: 4M page with reserved bit 21.  PDE[3]: 4M page, R/W=0.
 *   PDE[1023] -> PT 0x18000: [1023] -> 0x17000 RW (the last page below 4G)
 */
#define PG32_CR3 0xd000ull

static void build_32(void)
{
    put32(0xd000, 0xe000 | P | RW);
    put32(0xd000 + 4 * 1, 0x00c00000 | (0x12 << 13) | P | RW | PS);
    put32(0xd000 + 4 * 2, 0x01000000 | (1u << 21) | P | RW | PS);
    put32(0xd000 + 4 * 3, 0x01400000 | P | PS);
    put32(0xd000 + 4 * 1023, 0x18000 | P | RW);
    put32(0xe000 + 4 * 1, 0x14000 | P | RW);
    put32(0xe000 + 4 * 2, 0x15000 | P);
    put32(0xc24000, 0x16000 | P | RW);
    put32(0x18000 + 4 * 1023, 0x17000 | P | RW);
}

static int setup(void **state)
{
    (void)state;
    mem = calloc(1, MEM_SIZE);
    if (!mem)
        return -1;
    for (uint64_t i = 0x10000; i < 0x60000; i++)
        mem[i] = (uint8_t)(i * 7 + (i >> 12));      /* data pages: a recognisable pattern */
    build_long_mode();
    build_pae();
    build_32();
    phys_calls = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(mem);
    return 0;
}

static const struct guest_paging lm = { .mode = GUEST_PAGING_LONG4, .cr3 = LM_CR3 };
static const struct guest_paging pae = { .mode = GUEST_PAGING_PAE, .cr3 = PAE_CR3 };
static const struct guest_paging pg32 = { .mode = GUEST_PAGING_32, .cr3 = PG32_CR3, .pse = true };
static const struct guest_paging pg32_nopse = { .mode = GUEST_PAGING_32, .cr3 = PG32_CR3, .pse = false };
static const struct guest_paging flat = { .mode = GUEST_PAGING_NONE };

static void expect_walk(const struct guest_paging *pg, uint64_t gva, bool write, uint64_t want)
{
    uint64_t gpa = 0;

    assert_int_equal(guest_walk(pg, &reader, gva, write, &gpa), 0);
    assert_int_equal(gpa, want);
}

static void expect_fault(const struct guest_paging *pg, uint64_t gva, bool write)
{
    uint64_t gpa = 0;

    assert_int_equal(guest_walk(pg, &reader, gva, write, &gpa), -EFAULT);
}

/* ---- mode selection ---- */

#define CR0_PE   0x1ull
#define CR0_PG   0x80000000ull
#define CR4_PSE  0x10ull
#define CR4_PAE  0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

static void test_paging_from_regs(void **state)
{
    (void)state;
    struct guest_paging pg;

    pg = guest_paging_from_regs(CR0_PE, 0x1234000, CR4_PAE, EFER_LMA);
    assert_int_equal(pg.mode, GUEST_PAGING_NONE);
    pg = guest_paging_from_regs(CR0_PE | CR0_PG, 0xd000, 0, 0);
    assert_int_equal(pg.mode, GUEST_PAGING_32);
    assert_false(pg.pse);
    assert_int_equal(pg.cr3, 0xd000);
    pg = guest_paging_from_regs(CR0_PE | CR0_PG, 0xd000, CR4_PSE, EFER_LME);
    assert_int_equal(pg.mode, GUEST_PAGING_32);
    assert_true(pg.pse);
    pg = guest_paging_from_regs(CR0_PE | CR0_PG, 0xa020, CR4_PAE | CR4_PSE, EFER_LME);
    assert_int_equal(pg.mode, GUEST_PAGING_PAE);      /* LME without LMA: not yet long mode */
    pg = guest_paging_from_regs(CR0_PE | CR0_PG, 0x1000, CR4_PAE, EFER_LME | EFER_LMA);
    assert_int_equal(pg.mode, GUEST_PAGING_LONG4);
    assert_int_equal(pg.cr3, 0x1000);
    /* Garbage in unrelated bits changes nothing. */
    pg = guest_paging_from_regs(~CR0_PG, 0, ~(CR4_PAE | CR4_PSE), ~EFER_LMA);
    assert_int_equal(pg.mode, GUEST_PAGING_NONE);
    pg = guest_paging_from_regs(CR0_PG, 0, ~(CR4_PAE | CR4_PSE), ~EFER_LMA);
    assert_int_equal(pg.mode, GUEST_PAGING_32);
    assert_false(pg.pse);
}

/* ---- walks ---- */

static void test_walk_long_mode(void **state)
{
    (void)state;
    expect_walk(&lm, 0x1234, false, 0x10234);
    expect_walk(&lm, 0x1234, true, 0x10234);
    expect_walk(&lm, 0x2fff, true, 0x30fff);
    expect_walk(&lm, 0x3008, false, 0x20008);
    expect_walk(&lm, 0x6010, true, 0x11010);                /* bits 62:52 ignored, not address */
    expect_walk(&lm, 0x3fffff, true, 0x7fffff);             /* 2M page, XD does not matter */
    expect_walk(&lm, 0x7fedcba9, false, 0xbfedcba9);        /* 1G page */
    expect_walk(&lm, 0xffffffffffe01234ull, true, 0xa01234);
    expect_walk(&lm, 0x80000123, false, 0x50123);
}

static void test_walk_long_mode_refusals(void **state)
{
    (void)state;
    expect_fault(&lm, 0x3000, true);                        /* read-only 4K page */
    expect_fault(&lm, 0x80000000, true);                    /* R/W=0 in the PDPTE only */
    expect_fault(&lm, 0x4000, false);                       /* not present */
    expect_fault(&lm, 0x7000, false);                       /* PTE 7 empty */
    expect_fault(&lm, 0x600000, false);                     /* PD[3] empty */
    expect_fault(&lm, 0x400000, false);                     /* 2M with reserved bit 20 */
    expect_fault(&lm, 0xc0000000, false);                   /* 1G with reserved bit 13 */
    expect_fault(&lm, 0x8000001000ull, false);              /* PS in a PML4E (else -> 0x10000) */
    expect_fault(&lm, 0x0000800000000000ull, false);        /* not canonical */
    expect_fault(&lm, 0xfff0000000001000ull, false);
    expect_fault(&lm, 0xffff800000000000ull, false);        /* canonical, PML4[256] empty */

    struct guest_paging far = lm;
    far.cr3 = MEM_SIZE;                                     /* reader fails */
    expect_fault(&far, 0x1000, false);
    /* CR3 low bits (PCID) and bits above 51 are not part of the table address. */
    far.cr3 = LM_CR3 | 0xfff | (1ull << 63);
    expect_walk(&far, 0x1234, false, 0x10234);
}

static void test_walk_pae(void **state)
{
    (void)state;
    expect_walk(&pae, 0x1abc, true, 0x12abc);
    expect_walk(&pae, 0x2abc, false, 0x13abc);
    expect_fault(&pae, 0x2abc, true);                       /* read-only */
    expect_walk(&pae, 0x3fffff, true, 0x9fffff);            /* 2M page */
    expect_walk(&pae, 0x600010, false, 0x800010);           /* XD is not a data-access fault */
    expect_fault(&pae, 0x400000, false);                    /* PDE bit 52 reserved in PAE */
    expect_fault(&pae, 0x3000, false);                      /* PTE not present */
    expect_fault(&pae, 0x40001000, false);                  /* PDPTE reserved bit 1 */
    expect_fault(&pae, 0x80001000, false);                  /* PDPTE not present */
    expect_fault(&pae, 0xc0001000, false);                  /* PDPTE reserved bit 52 */
    expect_fault(&pae, 0x100001000ull, false);              /* beyond 32 bits */

    struct guest_paging hi = pae;
    hi.cr3 = PAE_CR3 | 0x1f | 0xabc00000000ull;              /* only CR3 bits 31:5 count */
    expect_walk(&hi, 0x1abc, true, 0x12abc);
}

static void test_walk_32(void **state)
{
    (void)state;
    expect_walk(&pg32, 0x1abc, true, 0x14abc);
    expect_walk(&pg32, 0x2abc, false, 0x15abc);
    expect_fault(&pg32, 0x2abc, true);
    expect_fault(&pg32, 0x3000, false);
    expect_walk(&pg32, 0x401234, true, 0x1200c01234ull);    /* 4M PSE page, PA bits 39:32 */
    expect_walk(&pg32, 0x7fffff, false, 0x1200ffffffull);
    expect_fault(&pg32, 0x800000, false);                   /* reserved bit 21 */
    expect_walk(&pg32, 0xc00010, false, 0x1400010);
    expect_fault(&pg32, 0xc00010, true);                    /* read-only 4M page */
    expect_fault(&pg32, 0x1000000, false);                  /* PDE[4] empty */
    expect_walk(&pg32, 0xffffffffull, true, 0x17fff);
    expect_fault(&pg32, 0x100000000ull, false);

    /* Without CR4.PSE the same PDE is a table pointer (SDM 4.3). */
    expect_walk(&pg32_nopse, 0x400123, false, 0x16123);
    expect_walk(&pg32_nopse, 0x1abc, false, 0x14abc);
}

static void test_walk_none(void **state)
{
    (void)state;
    expect_walk(&flat, 0x12345, true, 0x12345);
    expect_walk(&flat, 0xffffffffull, true, 0xffffffffull);
    expect_fault(&flat, 0x100000000ull, false);
}

/* ---- copies ---- */

static void test_copy_phys(void **state)
{
    (void)state;
    uint8_t buf[0x2100], want[0x2100];

    memcpy(want, mem + 0x10f80, sizeof(want));
    assert_int_equal(copy_from_guest_phys(&gmem, buf, 0x10f80, sizeof(buf)), 0);
    assert_memory_equal(buf, want, sizeof(buf));
    assert_int_equal(phys_calls, 4);                        /* 0x80 + 0x1000 + 0x1000 + 0x80 */

    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(copy_to_guest_phys(&gmem, 0x20ff0, buf, 0x20), 0);
    assert_memory_equal(mem + 0x20ff0, buf, 0x20);

    assert_int_equal(copy_from_guest_phys(&gmem, buf, MEM_SIZE - 0x10, 0x20), -EFAULT);
    assert_int_equal(copy_from_guest_phys(&gmem, buf, UINT64_MAX - 0xf, 0x10), 0);
    assert_int_equal(copy_from_guest_phys(&gmem, buf, UINT64_MAX - 0xf, 0x20), -EFAULT);  /* wraps to 0 */
    assert_int_equal(copy_to_guest_phys(&gmem, ROM_PAGE + 0x10, buf, 4), -EFAULT);
    assert_int_equal(copy_from_guest_phys(&gmem, buf, ROM_PAGE + 0x10, 4), 0);
    assert_int_equal(copy_from_guest_phys(&gmem, buf, UINT64_MAX, 0), 0);
}

static void test_copy_across_noncontiguous_pages(void **state)
{
    (void)state;
    uint8_t buf[32], want[32], out[32];

    memcpy(want, mem + 0x10ff0, 16);
    memcpy(want + 16, mem + 0x30000, 16);
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x1ff0, 32), 0);
    assert_memory_equal(buf, want, 32);

    uint8_t next_page_before = mem[0x11000];
    for (unsigned i = 0; i < 32; i++)
        out[i] = (uint8_t)(0xc0 + i);
    assert_int_equal(copy_to_guest(&gmem, &lm, 0x1ff0, out, 32), 0);
    assert_memory_equal(mem + 0x10ff0, out, 16);
    assert_memory_equal(mem + 0x30000, out + 16, 16);
    assert_int_equal(mem[0x11000], next_page_before);       /* physically adjacent page untouched */

    /* The same through PAE and 32-bit tables. */
    assert_int_equal(copy_to_guest(&gmem, &pae, 0x1ff8, out, 8), 0);
    assert_memory_equal(mem + 0x12ff8, out, 8);
    assert_int_equal(copy_from_guest(&gmem, &pg32, buf, 0x1ffc, 8), 0);
    assert_memory_equal(buf, mem + 0x14ffc, 4);
    assert_memory_equal(buf + 4, mem + 0x15000, 4);
}

static void test_copy_refusals(void **state)
{
    (void)state;
    uint8_t buf[0x2000], before[16];

    memcpy(before, mem + 0x20000, 16);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(copy_to_guest(&gmem, &lm, 0x3000, buf, 16), -EFAULT);   /* RO in the PTE */
    assert_memory_equal(mem + 0x20000, before, 16);
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x3000, 16), 0);
    assert_int_equal(copy_to_guest(&gmem, &lm, 0x5000, buf, 16), -EFAULT);   /* RO in the p2m */
    assert_int_equal(copy_to_guest(&gmem, &lm, 0x80000000, buf, 16), -EFAULT);
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x3ff0, 32), -EFAULT); /* into unmapped */
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x4000, 1), -EFAULT);
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x4000, 0), 0);

    /* Huge length: fails at the first unmapped page, after copying what it could. */
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x3000, 1ull << 40), -EFAULT);
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x3000, SIZE_MAX), -EFAULT);
    /* gva + len wrapping 2^64, though the top page is mapped. */
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0xfffffffffffff000ull, 0x1000), 0);
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0xfffffffffffff000ull, 0x2000), -EFAULT);
    /* Crossing from canonical low half into the hole. */
    assert_int_equal(copy_from_guest(&gmem, &lm, buf, 0x00007ffffffffff0ull, 32), -EFAULT);

    /* 32-bit modes: a range may not cross 4 GiB, though the last page is mapped. */
    assert_int_equal(copy_from_guest(&gmem, &pg32, buf, 0xfffff800ull, 0x800), 0);
    assert_int_equal(copy_from_guest(&gmem, &pg32, buf, 0xfffff800ull, 0x801), -EFAULT);
    uint8_t last[0x800];
    memcpy(last, mem + 0x17800, sizeof(last));
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(copy_to_guest(&gmem, &pg32, 0xfffff800ull, buf, 0x1000), -EFAULT);
    assert_memory_equal(mem + 0x17800, last, sizeof(last));     /* refused before copying */
    assert_int_equal(copy_from_guest(&gmem, &pae, buf, 0xfffffff0ull, 0x20), -EFAULT);
    assert_int_equal(copy_from_guest(&gmem, &flat, buf, 0xfffffff0ull, 0x20), -EFAULT);
    assert_int_equal(copy_from_guest(&gmem, &flat, buf, 0x10000, 0x20), 0);
    assert_memory_equal(buf, mem + 0x10000, 0x20);
}

static void put_bytes(uint64_t gpa, const char *s, size_t n)
{
    memcpy(mem + gpa, s, n);
}

static void test_copy_string(void **state)
{
    (void)state;
    char dst[64];

    /* "hello, world" split over gva 0x1ffa (-> 0x10ffa) and 0x2000 (-> 0x30000). */
    put_bytes(0x10ffa, "hello,", 6);
    put_bytes(0x30000, " world", 7);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0x1ffa, sizeof(dst)), 0);
    assert_string_equal(dst, "hello, world");
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0x1ffa, 13), 0);   /* exact fit */
    assert_string_equal(dst, "hello, world");
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0x1ffa, 12), -E2BIG);
    assert_int_equal(dst[11], '\0');
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0x1ffa, 4), -E2BIG);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0x1ffa, 0), -E2BIG);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0x2006, 8), 0);
    assert_string_equal(dst, "");

    /* No NUL before the unmapped page. */
    char big[0x200];
    memset(mem + 0x20f00, 'x', 0x100);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, big, 0x3f00, sizeof(big)), -EFAULT);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, big, 0x3f00, 0x100), -E2BIG);
    assert_int_equal(big[0xff], '\0');
    /* The NUL in the last page before the hole is enough. */
    mem[0x20ff0] = '\0';
    assert_int_equal(copy_string_from_guest(&gmem, &lm, big, 0x3f00, 0x200), 0);
    assert_int_equal(strlen(big), 0xf0);

    /* A string at the very top must not wrap to gva 0 (which is mapped). */
    memset(mem + 0x21000, 'w', 0x100);
    memset(mem + 0xbffff0, 'y', 0x10);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0xfffffffffffffff0ull, sizeof(dst)), -EFAULT);
    assert_int_equal(copy_string_from_guest(&gmem, &lm, dst, 0xfffffffffffffff0ull, 0x10), -E2BIG);
    /* Nor cross 4 GiB in 32-bit paging. */
    memset(mem + 0x17ff0, 'z', 0x10);
    assert_int_equal(copy_string_from_guest(&gmem, &pg32, dst, 0xfffffff0ull, sizeof(dst)), -EFAULT);
    mem[0x17fff] = '\0';
    assert_int_equal(copy_string_from_guest(&gmem, &pg32, dst, 0xfffffff0ull, sizeof(dst)), 0);
    assert_int_equal(strlen(dst), 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paging_from_regs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_long_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_long_mode_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_pae, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_phys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_across_noncontiguous_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_string, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
