/* regs.h (hypervisor, pure): a vCPU's general-purpose registers as common code sees them. */
#ifndef WISP_REGS_H
#define WISP_REGS_H

#include "env.h"

/*
 * Vendor code fills rip/rsp/rflags (and rax on SVM) from the VMCB/VMCS after
 * each exit and writes them back before the next entry; the entry stubs save
 * and restore the rest. The field order is used by the entry stubs' offsets.
 */
struct cpu_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8;
    uint64_t r9, r10, r11, r12, r13, r14, r15;
    uint64_t rsp, rip, rflags;
};

#endif
