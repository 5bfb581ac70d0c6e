/* hypercall_abi.h (hypervisor, pure): where a hypercall's number, arguments and result live. */
#ifndef WISP_HYPERCALL_ABI_H
#define WISP_HYPERCALL_ABI_H

#include "regs.h"

#define HCALL_NR_ARGS 5
#define HCALL_INSN_LEN 3        /* VMCALL and VMMCALL alike */

struct hcall {
    uint64_t nr;
    uint64_t arg[HCALL_NR_ARGS];
};

/*
 * 64-bit guests: RAX = number, RDI RSI RDX R10 R8 = arguments.
 * 32-bit guests (not in 64-bit mode): EAX, then EBX ECX EDX ESI EDI, all
 * truncated to 32 bits so stale upper halves cannot leak in.
 */
void hcall_decode(const struct cpu_regs *regs, bool long_mode, struct hcall *out);
/* Sets argument index for a continuation: the guest re-executes the call with it. */
void hcall_set_arg(struct cpu_regs *regs, bool long_mode, unsigned index, uint64_t value);
/* Writes the result to RAX (truncated to 32 bits, zero-extended, in 32-bit mode). */
void hcall_set_result(struct cpu_regs *regs, bool long_mode, int64_t ret);

#endif
