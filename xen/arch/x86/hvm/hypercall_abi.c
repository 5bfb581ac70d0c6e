/* hypercall_abi.c (hypervisor, pure): reads a hypercall's number and arguments from, and writes its result to, guest registers. */
#include "env.h"
#include "hypercall_abi.h"

/*
 * The register convention is Xen's (public/arch-x86/xen-x86_64.h and
 * xen-x86_32.h). Outside 64-bit mode the guest only controls the low halves:
 * the upper halves may hold anything left from an earlier 64-bit phase, so
 * each value is truncated (SDM vol 1, 3.4.1.1: 32-bit operands).
 */
static const size_t args64[HCALL_NR_ARGS] = {
    offsetof(struct cpu_regs, rdi), offsetof(struct cpu_regs, rsi), offsetof(struct cpu_regs, rdx),
    offsetof(struct cpu_regs, r10), offsetof(struct cpu_regs, r8),
};
static const size_t args32[HCALL_NR_ARGS] = {
    offsetof(struct cpu_regs, rbx), offsetof(struct cpu_regs, rcx), offsetof(struct cpu_regs, rdx),
    offsetof(struct cpu_regs, rsi), offsetof(struct cpu_regs, rdi),
};

/* The one truncation rule: outside 64-bit mode only the low half counts. */
static uint64_t width(bool long_mode, uint64_t value)
{
    return long_mode ? value : (uint32_t)value;
}

static size_t arg_offset(bool long_mode, unsigned index)
{
    return (long_mode ? args64 : args32)[index];
}

void hcall_decode(const struct cpu_regs *regs, bool long_mode, struct hcall *out)
{
    out->nr = width(long_mode, regs->rax);
    for (unsigned i = 0; i < HCALL_NR_ARGS; i++)
        out->arg[i] = width(long_mode,
                            *(const uint64_t *)((const char *)regs + arg_offset(long_mode, i)));
}

void hcall_set_arg(struct cpu_regs *regs, bool long_mode, unsigned index, uint64_t value)
{
    if (index < HCALL_NR_ARGS)
        *(uint64_t *)((char *)regs + arg_offset(long_mode, index)) = width(long_mode, value);
}

/* A 32-bit guest sees EAX; -EFAULT becomes 0xfffffff2, as on Xen. */
void hcall_set_result(struct cpu_regs *regs, bool long_mode, int64_t ret)
{
    regs->rax = width(long_mode, (uint64_t)ret);
}
