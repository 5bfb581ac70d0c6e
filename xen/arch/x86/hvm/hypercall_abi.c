/* hypercall_abi.c (hypervisor, pure): reads a hypercall's number and arguments from, and writes its result to, guest registers. */
#include "env.h"
#include "hypercall_abi.h"

/*
 * The register convention is Xen's (public/arch-x86/xen-x86_64.h and
 * xen-x86_32.h). Outside 64-bit mode the guest only controls the low halves:
 * the upper halves may hold anything left from an earlier 64-bit phase, so
 * each value is truncated (SDM vol 1, 3.4.1.1: 32-bit operands).
 */
void hcall_decode(const struct cpu_regs *regs, bool long_mode, struct hcall *out)
{
    if (long_mode) {
        out->nr = regs->rax;
        out->arg[0] = regs->rdi;
        out->arg[1] = regs->rsi;
        out->arg[2] = regs->rdx;
        out->arg[3] = regs->r10;
        out->arg[4] = regs->r8;
        return;
    }
    out->nr = (uint32_t)regs->rax;
    out->arg[0] = (uint32_t)regs->rbx;
    out->arg[1] = (uint32_t)regs->rcx;
    out->arg[2] = (uint32_t)regs->rdx;
    out->arg[3] = (uint32_t)regs->rsi;
    out->arg[4] = (uint32_t)regs->rdi;
}

/* A 32-bit guest sees EAX; -EFAULT becomes 0xfffffff2, as on Xen. */
void hcall_set_result(struct cpu_regs *regs, bool long_mode, int64_t ret)
{
    regs->rax = long_mode ? (uint64_t)ret : (uint32_t)ret;
}
