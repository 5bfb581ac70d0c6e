/* vmx_entry.S (hypervisor): enters a VMX guest with its GPRs and comes back on VM exit. */

#include "spec_asm.h"

/* struct cpu_regs offsets (regs.h); vmx.c asserts them with offsetof. */
#define REGS_RAX 0
#define REGS_RBX 8
#define REGS_RCX 16
#define REGS_RDX 24
#define REGS_RSI 32
#define REGS_RDI 40
#define REGS_RBP 48
#define REGS_R8  56
#define REGS_R9  64
#define REGS_R10 72
#define REGS_R11 80
#define REGS_R12 88
#define REGS_R13 96
#define REGS_R14 104
#define REGS_R15 112

#define VMCS_HOST_RSP 0x6C14    /* SDM vol 3, appendix B.4.4 */

    .text
    .code64

/*
 * int vmx_enter(struct cpu_regs *regs, int launched)
 * Returns 0 after a VM exit (guest GPRs stored in *regs, RSP/RIP/RFLAGS
 * stay in the VMCS), 1 when VMLAUNCH/VMRESUME itself failed (VMfailInvalid
 * or VMfailValid: the caller reads the VM-instruction error field).
 * The host RSP field is written here, immediately before entry, so the
 * exit lands on exactly this frame: [rsp] = regs, [rsp + 8] = launched, then
 * the callee-saved registers.
 */
    .globl vmx_enter
    .type vmx_enter, @function
vmx_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rsi                       /* launched: compared from memory after VERW */
    push %rdi                       /* regs, found again at the exit */

    mov $VMCS_HOST_RSP, %eax
    vmwrite %rsp, %rax
    jbe .Lentry_failed              /* CF or ZF: VMfail (SDM vol 3, 31.2) */

    mov REGS_RAX(%rdi), %rax
    mov REGS_RBX(%rdi), %rbx
    mov REGS_RCX(%rdi), %rcx
    mov REGS_RDX(%rdi), %rdx
    mov REGS_RSI(%rdi), %rsi
    mov REGS_RBP(%rdi), %rbp
    mov REGS_R8(%rdi), %r8
    mov REGS_R9(%rdi), %r9
    mov REGS_R10(%rdi), %r10
    mov REGS_R11(%rdi), %r11
    mov REGS_R12(%rdi), %r12
    mov REGS_R13(%rdi), %r13
    mov REGS_R14(%rdi), %r14
    mov REGS_R15(%rdi), %r15
    mov REGS_RDI(%rdi), %rdi
    /*
     * MDS/TAA/RFDS: VERW with a memory operand overwrites the CPU's buffers on
     * MD_CLEAR parts; last thing before entry, so no host data follows it in
     * (Intel "Microarchitectural Data Sampling", VMM mitigations). It writes
     * ZF, so the launched test comes after it.
     */
    cmpb $0, spec_verw_on_entry(%rip)
    je 2f
    verw verw_selector(%rip)
2:  cmpl $0, 8(%rsp)
    jne 1f
    vmlaunch
    jmp .Lentry_failed
1:  vmresume
.Lentry_failed:                     /* falls through only on VMfail */
    pop %rdi
    pop %rsi
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    mov $1, %eax
    ret
    .size vmx_enter, . - vmx_enter

/* Host RIP: every VM exit arrives here with RSP = the host RSP field. */
    .globl vmx_exit_stub
    .type vmx_exit_stub, @function
vmx_exit_stub:
    RSB_STUFF                       /* before the host's first RET (spec_asm.h) */
    push %rdi                       /* guest RDI; regs is now at 8(%rsp) */
    mov 8(%rsp), %rdi
    mov %rax, REGS_RAX(%rdi)
    mov %rbx, REGS_RBX(%rdi)
    mov %rcx, REGS_RCX(%rdi)
    mov %rdx, REGS_RDX(%rdi)
    mov %rsi, REGS_RSI(%rdi)
    mov %rbp, REGS_RBP(%rdi)
    mov %r8, REGS_R8(%rdi)
    mov %r9, REGS_R9(%rdi)
    mov %r10, REGS_R10(%rdi)
    mov %r11, REGS_R11(%rdi)
    mov %r12, REGS_R12(%rdi)
    mov %r13, REGS_R13(%rdi)
    mov %r14, REGS_R14(%rdi)
    mov %r15, REGS_R15(%rdi)
    pop %rax
    mov %rax, REGS_RDI(%rdi)
    pop %rdi                        /* drop regs */
    pop %rdi                        /* ... and launched */
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    xor %eax, %eax
    ret
    .size vmx_exit_stub, . - vmx_exit_stub

/*
 * Host interrupt dispatch after "acknowledge interrupt on exit": the vector
 * was taken from the interrupt controller by the exit, so it is raised
 * again here with INT n into the host IDT. Stub n is at vmx_intr_stubs + 8n.
 */
    .globl vmx_intr_stubs
    .balign 8
vmx_intr_stubs:
    .set vec, 0
    .rept 256
    .balign 8
    .byte 0xcd, vec                 /* INT imm8 */
    ret
    .set vec, vec + 1
    .endr

/* Any selector serves VERW's buffer clearing; the host data segment (cpu.c's GDT_DATA). */
    .section .rodata
    .balign 2
verw_selector:
    .word 0x10

    .section .note.GNU-stack, "", @progbits
