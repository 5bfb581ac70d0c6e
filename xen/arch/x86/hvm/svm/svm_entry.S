/* svm_entry.S (hypervisor, SVM): enter a guest with VMRUN and come back at its next exit. */

#include "spec_asm.h"

/* Offsets into struct cpu_regs (regs.h). */
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8  56
#define R_R9  64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112

/* Stack slots while the guest runs. */
#define S_GUEST_VMCB 0
#define S_REGS       8
#define S_HOST_VMCB  16

    .text
    .code64
/*
 * void svm_vmrun(uint64_t vmcb_pa, struct cpu_regs *regs, uint64_t host_vmcb_pa)
 * RAX, RSP, RIP and RFLAGS travel in the VMCB; the other GPRs through regs.
 * VMSAVE/VMLOAD switch the state VMRUN leaves alone (FS, GS, TR, LDTR,
 * KernelGsBase, STAR family, SYSENTER MSRs): APM vol 2, 15.5.2.
 */
    .globl svm_vmrun
svm_vmrun:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdx
    push %rsi
    push %rdi

    clgi
    sti                             /* GIF=0 holds interrupts back in the host, but the IF
                                       saved by VMRUN lets them exit the guest (APM 15.21.1) */
    mov %rdx, %rax
    vmsave %rax                     /* host's hidden state */
    mov S_GUEST_VMCB(%rsp), %rax
    vmload %rax

    mov S_REGS(%rsp), %rax
    mov R_RBX(%rax), %rbx
    mov R_RCX(%rax), %rcx
    mov R_RDX(%rax), %rdx
    mov R_RSI(%rax), %rsi
    mov R_RDI(%rax), %rdi
    mov R_RBP(%rax), %rbp
    mov R_R8(%rax), %r8
    mov R_R9(%rax), %r9
    mov R_R10(%rax), %r10
    mov R_R11(%rax), %r11
    mov R_R12(%rax), %r12
    mov R_R13(%rax), %r13
    mov R_R14(%rax), %r14
    mov R_R15(%rax), %r15
    mov S_GUEST_VMCB(%rsp), %rax

    vmrun %rax

    /* Back from the guest: RAX and RSP are ours again, the rest are the guest's. */
    RSB_STUFF                       /* before the host's first RET (spec_asm.h) */
    vmsave %rax
    mov S_REGS(%rsp), %rax
    mov %rbx, R_RBX(%rax)
    mov %rcx, R_RCX(%rax)
    mov %rdx, R_RDX(%rax)
    mov %rsi, R_RSI(%rax)
    mov %rdi, R_RDI(%rax)
    mov %rbp, R_RBP(%rax)
    mov %r8, R_R8(%rax)
    mov %r9, R_R9(%rax)
    mov %r10, R_R10(%rax)
    mov %r11, R_R11(%rax)
    mov %r12, R_R12(%rax)
    mov %r13, R_R13(%rax)
    mov %r14, R_R14(%rax)
    mov %r15, R_R15(%rax)
    mov S_HOST_VMCB(%rsp), %rax
    vmload %rax
    cli                             /* the hypervisor runs with interrupts off */
    stgi

    add $24, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .note.GNU-stack, "", @progbits
