/* fuzz_hypercall_abi.c (host fuzzer): hypercall decoding, continuation arguments and results on arbitrary registers. */
#include "fuzz.h"
#include "../../xen/arch/x86/hvm/hypercall_abi.c"   /* one translation unit: see tests/fuzz/meson.build */

/* Xen's registers for each argument (public/arch-x86/xen-x86_64.h, xen-x86_32.h). */
static uint64_t *arg_reg(struct cpu_regs *r, bool long_mode, unsigned i)
{
    uint64_t *lm[HCALL_NR_ARGS] = { &r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8 };
    uint64_t *pm[HCALL_NR_ARGS] = { &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi };

    return (long_mode ? lm : pm)[i];
}

static uint64_t expect_width(bool long_mode, uint64_t v)
{
    return long_mode ? v : (uint32_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size, 0 };
    struct cpu_regs regs, before;
    struct hcall h;
    bool long_mode = fuzz_u8(&in) & 1;
    unsigned index = fuzz_u8(&in);
    uint64_t value = fuzz_edge64(&in);
    int64_t ret = (int64_t)fuzz_edge64(&in);

    fuzz_bytes(&in, &regs, sizeof(regs));
    before = regs;

    /* Decoding reads the right registers, truncated outside long mode, and writes nothing. */
    hcall_decode(&regs, long_mode, &h);
    FUZZ_CHECK(memcmp(&regs, &before, sizeof(regs)) == 0);
    FUZZ_CHECK(h.nr == expect_width(long_mode, regs.rax));
    for (unsigned i = 0; i < HCALL_NR_ARGS; i++)
        FUZZ_CHECK(h.arg[i] == expect_width(long_mode, *arg_reg(&regs, long_mode, i)));

    /* A continuation argument changes its register only; out-of-range indexes nothing. */
    hcall_set_arg(&regs, long_mode, index, value);
    if (index < HCALL_NR_ARGS) {
        FUZZ_CHECK(*arg_reg(&regs, long_mode, index) == expect_width(long_mode, value));
        *arg_reg(&regs, long_mode, index) = *arg_reg(&before, long_mode, index);
    }
    FUZZ_CHECK(memcmp(&regs, &before, sizeof(regs)) == 0);

    /* The result goes to RAX only, zero-extended from 32 bits outside long mode. */
    hcall_set_result(&regs, long_mode, ret);
    FUZZ_CHECK(regs.rax == expect_width(long_mode, (uint64_t)ret));
    regs.rax = before.rax;
    FUZZ_CHECK(memcmp(&regs, &before, sizeof(regs)) == 0);
    return 0;
}
