/* test_cpu_rules.c (host test): the XCR0, CR0, CR4 and EFER write rules and the MOV-to-CR pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "env.h"
#include "cpu_rules.h"

/* Expected values written out from the manuals (SDM vol 1, 13.1), not taken from the module. */
#define X87 0x1ull
#define SSE 0x2ull
#define YMM 0x4ull
#define BNDREGS 0x8ull
#define BNDCSR 0x10ull
#define OPMASK 0x20ull
#define ZMM_HI256 0x40ull
#define HI16_ZMM 0x80ull
#define PKRU 0x200ull
#define TILECFG (1ull << 17)
#define TILEDATA (1ull << 18)
/* An AVX-512 + MPX host (Skylake-X) and an SSE-only host (QEMU TCG). */
#define HOST_AVX512 (X87 | SSE | YMM | BNDREGS | BNDCSR | OPMASK | ZMM_HI256 | HI16_ZMM | PKRU)
#define HOST_SSE (X87 | SSE)
#define HOST_AMX (X87 | SSE | YMM | TILECFG | TILEDATA)

#define CR0_PE 0x1ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE 0x20ull
#define CR4_PGE 0x80ull
#define CR4_LA57 0x1000ull
#define CR4_VMXE 0x2000ull
#define CR4_PCIDE 0x20000ull
#define CR4_OSXSAVE 0x40000ull
#define CR4_CET 0x800000ull
#define EFER_SCE 0x1ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define EFER_NXE 0x800ull
#define EFER_SVME 0x1000ull
#define EFER_FFXSR 0x4000ull

static void test_xcr0_valid_values(void **state)
{
    (void)state;
    assert_true(xcr0_valid(0, X87, HOST_SSE));
    assert_true(xcr0_valid(0, X87 | SSE, HOST_SSE));
    assert_true(xcr0_valid(0, X87 | SSE | YMM, HOST_AVX512));
    assert_true(xcr0_valid(0, X87 | SSE | YMM | OPMASK | ZMM_HI256 | HI16_ZMM, HOST_AVX512));
    assert_true(xcr0_valid(0, X87 | BNDREGS | BNDCSR, HOST_AVX512));
    assert_true(xcr0_valid(0, HOST_AVX512, HOST_AVX512));
    assert_true(xcr0_valid(0, X87 | PKRU, HOST_AVX512));
    assert_true(xcr0_valid(0, HOST_AMX, HOST_AMX));
}

static void test_xcr0_refused(void **state)
{
    (void)state;
    /* Values that pass "x87, SSE for YMM, supported bits" but that the CPU refuses. */
    assert_false(xcr0_valid(0, X87 | SSE | OPMASK, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | SSE | OPMASK | ZMM_HI256 | HI16_ZMM, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | SSE | YMM | OPMASK, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | SSE | YMM | ZMM_HI256 | HI16_ZMM, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | SSE | YMM | HI16_ZMM, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | BNDREGS, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | BNDCSR, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | SSE | YMM | TILECFG, HOST_AMX));
    assert_false(xcr0_valid(0, X87 | SSE | YMM | TILEDATA, HOST_AMX));
    /* The rules XSETBV always had. */
    assert_false(xcr0_valid(0, 0, HOST_AVX512));
    assert_false(xcr0_valid(0, SSE, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | YMM, HOST_AVX512));
    assert_false(xcr0_valid(0, X87 | SSE | YMM, HOST_SSE));       /* not supported */
    assert_false(xcr0_valid(0, X87 | (1ull << 62), HOST_AVX512));
    /* Only XCR0 is writable. */
    assert_false(xcr0_valid(1, X87, HOST_AVX512));
    assert_false(xcr0_valid(0xffffffffu, X87, HOST_AVX512));
}

static const struct cr_state real_mode = { 0, 0, 0, 0 };
static const struct cr_state long_mode = {
    CR0_PE | CR0_PG | CR0_WP | CR0_NE, 0x1000, CR4_PAE | CR4_PGE, EFER_LME | EFER_LMA
};

static void test_cr0(void **state)
{
    struct cr_state pae_off = { CR0_PE, 0, 0, EFER_LME };
    struct cr_state pcid = long_mode;
    struct cr_state cet = long_mode;

    (void)state;
    pcid.cr4 |= CR4_PCIDE;
    cet.cr4 |= CR4_CET;
    assert_true(cr0_write_valid(&real_mode, CR0_PE));
    assert_true(cr0_write_valid(&real_mode, CR0_PE | CR0_PG));
    assert_true(cr0_write_valid(&real_mode, CR0_CD | CR0_NW));
    assert_true(cr0_write_valid(&long_mode, long_mode.cr0 | CR0_CD));
    assert_false(cr0_write_valid(&real_mode, CR0_PG));              /* PG without PE */
    assert_false(cr0_write_valid(&real_mode, CR0_NW));              /* NW without CD */
    assert_false(cr0_write_valid(&real_mode, CR0_PE | (1ull << 32)));
    assert_false(cr0_write_valid(&pae_off, CR0_PE | CR0_PG));       /* LME without PAE */
    assert_false(cr0_write_valid(&pcid, CR0_PE));                   /* paging off under PCIDE */
    assert_false(cr0_write_valid(&cet, long_mode.cr0 & ~CR0_WP));   /* WP off under CET */
    assert_true(cr0_write_valid(&long_mode, long_mode.cr0 & ~CR0_WP));
}

static void test_cr4(void **state)
{
    const uint64_t allowed = CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_OSXSAVE | CR4_CET;
    struct cr_state pcid_cr3 = long_mode;
    struct cr_state no_wp = long_mode;

    (void)state;
    pcid_cr3.cr3 = 0x1005;
    no_wp.cr0 &= ~CR0_WP;
    assert_true(cr4_write_valid(&real_mode, CR4_PAE | CR4_OSXSAVE, allowed));
    assert_true(cr4_write_valid(&long_mode, CR4_PAE | CR4_PCIDE, allowed));
    assert_true(cr4_write_valid(&long_mode, CR4_PAE | CR4_CET, allowed));
    /* Bits the vCPU's CPUID does not offer, whatever the host has. */
    assert_false(cr4_write_valid(&real_mode, CR4_LA57, allowed));
    assert_false(cr4_write_valid(&real_mode, CR4_VMXE, allowed));
    assert_false(cr4_write_valid(&real_mode, 1ull << 40, allowed));
    assert_true(cr4_write_valid(&real_mode, CR4_LA57, allowed | CR4_LA57));
    /* Long mode: PAE stays, LA57 cannot change, PCIDE needs CR3[11:0] = 0. */
    assert_false(cr4_write_valid(&long_mode, CR4_PGE, allowed));
    assert_false(cr4_write_valid(&long_mode, CR4_PAE | CR4_LA57, allowed | CR4_LA57));
    assert_false(cr4_write_valid(&pcid_cr3, CR4_PAE | CR4_PCIDE, allowed));
    assert_false(cr4_write_valid(&real_mode, CR4_PCIDE, allowed));   /* not in long mode */
    assert_false(cr4_write_valid(&no_wp, CR4_PAE | CR4_CET, allowed));
}

static void test_efer(void **state)
{
    const uint64_t intel = EFER_SCE | EFER_LME | EFER_NXE;
    const uint64_t amd = intel | EFER_FFXSR;

    (void)state;
    assert_true(efer_write_valid(&real_mode, EFER_LME | EFER_SCE, intel));
    assert_true(efer_write_valid(&long_mode, EFER_LME | EFER_LMA | EFER_NXE, intel));
    assert_true(efer_write_valid(&real_mode, EFER_FFXSR, amd));
    assert_false(efer_write_valid(&real_mode, EFER_FFXSR, intel));  /* fails VM entry on VMX */
    assert_false(efer_write_valid(&real_mode, EFER_SVME, amd));
    assert_false(efer_write_valid(&real_mode, 1ull << 1, amd));
    assert_false(efer_write_valid(&real_mode, 1ull << 63, amd));
    /* LME may not change while paging is on. */
    assert_false(efer_write_valid(&long_mode, EFER_LMA, intel));
}

static void expect_match(const uint8_t *b, size_t n, bool mode64, unsigned cr, unsigned gpr,
                         unsigned len)
{
    unsigned got_gpr = 99, got_len = 99;

    assert_true(mov_to_cr_match(b, n, mode64, cr, &got_gpr, &got_len));
    assert_int_equal(got_gpr, gpr);
    assert_int_equal(got_len, len);
}

static void test_mov_to_cr_pattern(void **state)
{
    static const uint8_t rax_cr4[] = { 0x0f, 0x22, 0xe0 };          /* mov %rax, %cr4 */
    static const uint8_t rdi_cr4[] = { 0x0f, 0x22, 0xe7 };
    static const uint8_t r9_cr4[] = { 0x41, 0x0f, 0x22, 0xe1 };     /* mov %r9, %cr4 */
    static const uint8_t mod0[] = { 0x0f, 0x22, 0x23 };             /* mod ignored: ebx */
    static const uint8_t prefixed[] = { 0x66, 0x3e, 0x0f, 0x22, 0xe2 };
    static const uint8_t cr0[] = { 0x0f, 0x22, 0xc0 };
    static const uint8_t rex_r[] = { 0x44, 0x0f, 0x22, 0xe0 };      /* CR12 */
    static const uint8_t lock[] = { 0xf0, 0x0f, 0x22, 0xc0 };       /* AMD's CR8 alias */
    static const uint8_t read_cr4[] = { 0x0f, 0x20, 0xe0 };         /* mov %cr4, %rax */
    static const uint8_t five_prefixes[] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x0f, 0x22, 0xe0 };
    unsigned gpr, len;

    (void)state;
    expect_match(rax_cr4, sizeof(rax_cr4), true, 4, 0, 3);
    expect_match(rdi_cr4, sizeof(rdi_cr4), false, 4, 7, 3);
    expect_match(r9_cr4, sizeof(r9_cr4), true, 4, 9, 4);
    expect_match(mod0, sizeof(mod0), true, 4, 3, 3);
    expect_match(prefixed, sizeof(prefixed), false, 4, 2, 5);
    expect_match(cr0, sizeof(cr0), true, 0, 0, 3);
    assert_false(mov_to_cr_match(cr0, sizeof(cr0), true, 4, &gpr, &len));
    /* 0x41 is INC %ecx outside 64-bit mode: no REX there. */
    assert_false(mov_to_cr_match(r9_cr4, sizeof(r9_cr4), false, 4, &gpr, &len));
    assert_false(mov_to_cr_match(rex_r, sizeof(rex_r), true, 4, &gpr, &len));
    assert_false(mov_to_cr_match(lock, sizeof(lock), false, 0, &gpr, &len));
    assert_false(mov_to_cr_match(read_cr4, sizeof(read_cr4), true, 4, &gpr, &len));
    assert_false(mov_to_cr_match(five_prefixes, sizeof(five_prefixes), true, 4, &gpr, &len));
    /* Short buffers never read past their end. */
    assert_false(mov_to_cr_match(rax_cr4, 2, true, 4, &gpr, &len));
    assert_false(mov_to_cr_match(r9_cr4, 3, true, 4, &gpr, &len));
    assert_false(mov_to_cr_match(rax_cr4, 0, true, 4, &gpr, &len));
}

/* Every buffer of up to 8 pseudo-random bytes: a match never claims more bytes than given. */
static void test_mov_to_cr_pattern_random(void **state)
{
    uint32_t seed = 12345;
    uint8_t buf[MOV_TO_CR_MAX_LEN];

    (void)state;
    for (unsigned round = 0; round < 200000; round++) {
        size_t n = round % (sizeof(buf) + 1);
        unsigned gpr = 0, len = 0;

        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Bias towards the interesting bytes so matches happen. */
            static const uint8_t pick[] = { 0x0f, 0x22, 0x66, 0x41, 0x4c, 0xe0, 0xc4, 0xf3 };
            buf[i] = (seed >> 16) & 1 ? pick[(seed >> 8) % sizeof(pick)] : (uint8_t)(seed >> 24);
        }
        for (unsigned cr = 0; cr < 16; cr += 4) {
            if (mov_to_cr_match(buf, n, round & 1, cr, &gpr, &len)) {
                assert_true(len >= 3 && len <= n);
                assert_true(gpr < 16);
                assert_int_equal(buf[len - 3], 0x0f);
                assert_int_equal(buf[len - 2], 0x22);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xcr0_valid_values),
        cmocka_unit_test(test_xcr0_refused),
        cmocka_unit_test(test_cr0),
        cmocka_unit_test(test_cr4),
        cmocka_unit_test(test_efer),
        cmocka_unit_test(test_mov_to_cr_pattern),
        cmocka_unit_test(test_mov_to_cr_pattern_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
