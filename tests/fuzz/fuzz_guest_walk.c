/* fuzz_guest_walk.c (host fuzzer): guest page-table walks and guest copies over a fake guest memory made of the input. */
#include "fuzz.h"
#include "../../xen/arch/x86/hvm/guest_walk.c"  /* one translation unit: see tests/fuzz/meson.build */
#include "../../xen/common/guest_access.c"

/*
 * Guest-physical memory: MEM_SIZE bytes repeated through the low 2^40 (so
 * random table entries land on real tables), nothing above. Pages whose
 * folded index is ROM_PAGE refuse writes.
 */
#define MEM_SIZE    0x10000ull
#define MEM_TOP     (1ull << 40)
#define ROM_PAGE    3ull
#define NR_WALKS    8

static uint8_t mem[MEM_SIZE];
static unsigned phys_calls;

static void *fake_phys(void *ctx, uint64_t gpa, size_t len, bool write)
{
    (void)ctx;
    phys_calls++;
    FUZZ_CHECK(len >= 1 && (gpa & 0xfff) + len <= 0x1000);     /* split at pages */
    if (gpa >= MEM_TOP)
        return NULL;
    if (write && ((gpa % MEM_SIZE) >> 12) == ROM_PAGE)
        return NULL;
    return mem + gpa % MEM_SIZE;
}

static const struct guest_mem gmem = { .phys = fake_phys };

/* The walker's own reads: aligned 4 or 8 byte entries, counted. */
static int fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    unsigned *reads = ctx;

    FUZZ_CHECK(len == 4 || len == 8);
    FUZZ_CHECK(gpa % len == 0);
    (*reads)++;
    if (gpa >= MEM_TOP)
        return -EFAULT;
    memcpy(buf, mem + gpa % MEM_SIZE, len);
    return 0;
}

static void walk_one(const struct guest_paging *pg, uint64_t gva, bool write)
{
    unsigned reads = 0;
    struct guest_phys_reader rd = { .read = fake_read, .ctx = &reads };
    uint64_t gpa = 0, gpa2 = 0;
    int rc = guest_walk(pg, &rd, gva, write, &gpa);
    uint8_t byte;

    FUZZ_CHECK(reads <= 4);                 /* one entry per level at most */
    FUZZ_CHECK(rc == 0 || rc == -EFAULT);
    if (rc)
        return;
    FUZZ_CHECK((gpa & 0xfff) == (gva & 0xfff));
    if (pg->mode == GUEST_PAGING_NONE)
        FUZZ_CHECK(gpa == gva);
    /* guest_access agrees with the walker, and copies the byte the walk names. */
    rc = guest_translate(&gmem, pg, gva, write, &gpa2);
    FUZZ_CHECK(rc == -EFAULT || (rc == 0 && gpa2 == gpa));
    if (gpa < MEM_TOP && copy_from_guest(&gmem, pg, &byte, gva, 1) == 0)
        FUZZ_CHECK(byte == mem[gpa % MEM_SIZE]);
}

/* Copies and strings across page boundaries; only errors are -EFAULT and -E2BIG. */
static void copy_some(const struct guest_paging *pg, uint64_t gva, size_t len)
{
    static uint8_t buf[3 * 0x1000];
    char str[64];
    int rc;

    len %= sizeof(buf) + 1;
    rc = copy_from_guest(&gmem, pg, buf, gva, len);
    FUZZ_CHECK(rc == 0 || rc == -EFAULT);
    rc = copy_to_guest(&gmem, pg, gva, buf, len);
    FUZZ_CHECK(rc == 0 || rc == -EFAULT);
    rc = copy_string_from_guest(&gmem, pg, str, gva, sizeof(str));
    FUZZ_CHECK(rc == 0 || rc == -EFAULT || rc == -E2BIG);
    if (rc == 0)
        FUZZ_CHECK(memchr(str, '\0', sizeof(str)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size, 0 };
    uint8_t flags = fuzz_u8(&in);
    uint64_t cr0 = fuzz_edge64(&in), cr3 = fuzz_edge64(&in);
    uint64_t cr4 = fuzz_edge64(&in), efer = fuzz_edge64(&in);
    /* Mostly a CR3 inside the memory, sometimes whatever the input says. */
    struct guest_paging pg = guest_paging_from_regs(cr0, flags & 0x80 ? cr3 : cr3 % MEM_SIZE,
                                                    cr4, efer);
    uint64_t gva[NR_WALKS];

    for (unsigned i = 0; i < NR_WALKS; i++)
        gva[i] = fuzz_edge64(&in);
    memset(mem, 0, sizeof(mem));
    fuzz_bytes(&in, mem, fuzz_left(&in) < MEM_SIZE ? fuzz_left(&in) : MEM_SIZE);
    for (unsigned i = 0; i < NR_WALKS; i++)
        walk_one(&pg, gva[i], (flags >> (i % 7)) & 1);
    copy_some(&pg, gva[0], (size_t)gva[1]);
    phys_calls = 0;
    return 0;
}
