/* test_hypercall_abi.c (host test): hypercall number, argument and result registers in 64- and 32-bit guests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "hypercall_abi.h"

/* Every register holds a distinct value with a non-zero upper half. */
static struct cpu_regs garbage_regs(void)
{
    struct cpu_regs r = {
        .rax = 0xdead0000000000a1ull, .rbx = 0xdead0000000000b2ull,
        .rcx = 0xdead0000000000c3ull, .rdx = 0xdead0000000000d4ull,
        .rsi = 0xdead0000000000e5ull, .rdi = 0xdead0000000000f6ull,
        .rbp = 0xdead000000000017ull, .r8 = 0xdead000000000028ull,
        .r9 = 0xdead000000000039ull, .r10 = 0xdead00000000004aull,
        .r11 = 0xdead00000000005bull, .r12 = 0xdead00000000006cull,
        .r13 = 0xdead00000000007dull, .r14 = 0xdead00000000008eull,
        .r15 = 0xdead00000000009full, .rsp = 0xdead0000000000aaull,
        .rip = 0xdead0000000000bbull, .rflags = 0x2,
    };
    return r;
}

static void test_decode_64(void **state)
{
    (void)state;
    struct cpu_regs r = garbage_regs();
    struct hcall h;

    memset(&h, 0x55, sizeof(h));
    hcall_decode(&r, true, &h);
    assert_int_equal(h.nr, r.rax);
    assert_int_equal(h.arg[0], r.rdi);
    assert_int_equal(h.arg[1], r.rsi);
    assert_int_equal(h.arg[2], r.rdx);
    assert_int_equal(h.arg[3], r.r10);
    assert_int_equal(h.arg[4], r.r8);

    /* Full 64-bit values pass unchanged, including an all-ones number. */
    r.rax = UINT64_MAX;
    r.rdi = 0xffff800000001000ull;
    hcall_decode(&r, true, &h);
    assert_int_equal(h.nr, UINT64_MAX);
    assert_int_equal(h.arg[0], 0xffff800000001000ull);
}

static void test_decode_32_truncates(void **state)
{
    (void)state;
    struct cpu_regs r = garbage_regs();
    struct hcall h;

    memset(&h, 0x55, sizeof(h));
    hcall_decode(&r, false, &h);
    assert_int_equal(h.nr, 0xa1);
    assert_int_equal(h.arg[0], 0xb2);   /* EBX */
    assert_int_equal(h.arg[1], 0xc3);   /* ECX */
    assert_int_equal(h.arg[2], 0xd4);   /* EDX */
    assert_int_equal(h.arg[3], 0xe5);   /* ESI */
    assert_int_equal(h.arg[4], 0xf6);   /* EDI */

    /* Low halves all ones stay 0xffffffff, never sign-extended. */
    r.rax = 0x12345678ffffffffull;
    r.rbx = 0xffffffffffffffffull;
    r.rdi = 0x0000000180000000ull;
    hcall_decode(&r, false, &h);
    assert_int_equal(h.nr, 0xffffffffull);
    assert_int_equal(h.arg[0], 0xffffffffull);
    assert_int_equal(h.arg[4], 0x80000000ull);
}

static void test_decode_leaves_regs_alone(void **state)
{
    (void)state;
    struct cpu_regs r = garbage_regs(), copy = garbage_regs();
    struct hcall h;

    hcall_decode(&r, false, &h);
    hcall_decode(&r, true, &h);
    assert_memory_equal(&r, &copy, sizeof(r));
}

static void test_result_64(void **state)
{
    (void)state;
    struct cpu_regs r = garbage_regs(), want = garbage_regs();

    hcall_set_result(&r, true, -EFAULT);
    assert_int_equal(r.rax, (uint64_t)-14);
    hcall_set_result(&r, true, 0);
    assert_int_equal(r.rax, 0);
    hcall_set_result(&r, true, INT64_MIN);
    assert_int_equal(r.rax, 0x8000000000000000ull);
    hcall_set_result(&r, true, 0x123456789ll);
    assert_int_equal(r.rax, 0x123456789ull);

    want.rax = r.rax;
    assert_memory_equal(&r, &want, sizeof(r));          /* only RAX changes */
}

static void test_result_32(void **state)
{
    (void)state;
    struct cpu_regs r = garbage_regs(), want = garbage_regs();

    hcall_set_result(&r, false, -EFAULT);
    assert_int_equal(r.rax, 0xfffffff2ull);            /* EAX = -14, upper half zero */
    hcall_set_result(&r, false, -ENOSYS);
    assert_int_equal(r.rax, 0xffffffdaull);
    hcall_set_result(&r, false, 7);
    assert_int_equal(r.rax, 7);
    hcall_set_result(&r, false, 0x1ffffffffll);
    assert_int_equal(r.rax, 0xffffffffull);

    want.rax = r.rax;
    assert_memory_equal(&r, &want, sizeof(r));
}

/* A continuation's argument lands where the next decode reads it; nothing else changes. */
static void test_set_arg_round_trip(void **state)
{
    for (int mode = 0; mode < 2; mode++) {
        bool long_mode = mode;

        for (unsigned i = 0; i < HCALL_NR_ARGS; i++) {
            struct cpu_regs r = garbage_regs(), before = r;
            struct hcall h;

            hcall_set_arg(&r, long_mode, i, 0xabcdef0123456789ull);
            hcall_decode(&r, long_mode, &h);
            assert_int_equal(h.arg[i], long_mode ? 0xabcdef0123456789ull : 0x23456789u);
            hcall_decode(&before, long_mode, &h);
            struct hcall old = h;

            hcall_decode(&r, long_mode, &h);
            for (unsigned j = 0; j < HCALL_NR_ARGS; j++)
                if (j != i)
                    assert_int_equal(h.arg[j], old.arg[j]);
            assert_int_equal(h.nr, old.nr);
            assert_int_equal(r.rip, before.rip);
        }
    }
}

static void test_set_arg_32_zero_extends(void **state)
{
    struct cpu_regs r = garbage_regs();

    hcall_set_arg(&r, false, 0, 0xffffffff00000010ull);
    assert_int_equal(r.rbx, 0x10);          /* the whole register: no stale upper half */
    hcall_set_arg(&r, true, HCALL_NR_ARGS, 1);  /* out of range: ignored */
    struct cpu_regs g = garbage_regs();
    g.rbx = 0x10;
    assert_memory_equal(&r, &g, sizeof(r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_64),
        cmocka_unit_test(test_decode_32_truncates),
        cmocka_unit_test(test_decode_leaves_regs_alone),
        cmocka_unit_test(test_result_64),
        cmocka_unit_test(test_result_32),
        cmocka_unit_test(test_set_arg_round_trip),
        cmocka_unit_test(test_set_arg_32_zero_extends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
