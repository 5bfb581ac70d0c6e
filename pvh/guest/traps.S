/* traps.S (guest, 32- and 64-bit): exception entry stubs and the recovery point (setjmp/longjmp). */
#include "x86.h"

/*
 * One stub per exception vector 0..31. Vectors that push an error code
 * (SDM vol. 3A 6.15: 8, 10-14, 17, 21, 29, 30) leave it; the others push 0
 * so every frame has the same shape: error code, then vector, then the GPRs.
 * trap_stub_table lists the stubs for trap.c to build the IDT.
 */
    .text
    .altmacro
.macro trap_stub v
    .balign 16
trap_stub_\v:
    .if !(\v == 8 || (\v >= 10 && \v <= 14) || \v == 17 || \v == 21 || \v == 29 || \v == 30)
    push $0
    .endif
    push $\v
    jmp trap_common
.endm

.macro stub_entry v
#ifdef __x86_64__
    .quad trap_stub_\v
#else
    .long trap_stub_\v
#endif
.endm

    .set vec, 0
    .rept 32
    trap_stub %vec
    .set vec, vec + 1
    .endr

    .section .rodata
    .balign 8
    .globl trap_stub_table
trap_stub_table:
    .set vec, 0
    .rept 32
    stub_entry %vec
    .set vec, vec + 1
    .endr

/*
 * Interrupt vectors 32..255: the same frame (no error code, so 0), the same
 * trap_common; trap_dispatch passes them to the handlers set with
 * irq_set_handler. trap.c puts them in the IDT only when a program asks.
 */
    .text
.macro irq_stub v
    .balign 16
irq_stub_\v:
    push $0
    push $\v
    jmp trap_common
.endm

.macro irq_entry v
#ifdef __x86_64__
    .quad irq_stub_\v
#else
    .long irq_stub_\v
#endif
.endm

    .set vec, 32
    .rept 224
    irq_stub %vec
    .set vec, vec + 1
    .endr

    .section .rodata
    .balign 8
    .globl irq_stub_table
irq_stub_table:
    .set vec, 32
    .rept 224
    irq_entry %vec
    .set vec, vec + 1
    .endr

    .text
#ifdef __x86_64__
/* struct trap_frame (trap.c): r15 ... rax, vector, error, then the CPU's rip, cs, rflags, rsp, ss. */
trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    movq %rsp, %rdi
    call trap_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    addq $16, %rsp                   /* vector, error code */
    iretq

/* long recovery_set(struct recovery *r): 0 now, the value given to recovery_jump later. */
    .globl recovery_set
recovery_set:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rax               /* caller's rsp after our return */
    movq %rax, 48(%rdi)
    movq (%rsp), %rax                /* return address */
    movq %rax, 56(%rdi)
    xorl %eax, %eax
    ret

/* void recovery_jump(struct recovery *r, long value): resumes at recovery_set's return. */
    .globl recovery_jump
recovery_jump:
    movq 0(%rdi), %rbx
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    movq 48(%rdi), %rsp
    movq %rsi, %rax
    jmp *56(%rdi)

#else
/* struct trap_frame (trap.c): pusha order, vector, error, then the CPU's eip, cs, eflags. */
trap_common:
    pusha
    cld
    movl %esp, %eax
    pushl %eax
    call trap_dispatch
    addl $4, %esp
    popa
    addl $8, %esp                    /* vector, error code */
    iret

    .globl recovery_set
recovery_set:
    movl 4(%esp), %edx               /* struct recovery * */
    movl %ebx, 0(%edx)
    movl %esi, 4(%edx)
    movl %edi, 8(%edx)
    movl %ebp, 12(%edx)
    leal 4(%esp), %eax               /* caller's esp after our return */
    movl %eax, 16(%edx)
    movl (%esp), %eax                /* return address */
    movl %eax, 20(%edx)
    xorl %eax, %eax
    ret

    .globl recovery_jump
recovery_jump:
    movl 4(%esp), %edx               /* struct recovery * */
    movl 8(%esp), %eax               /* value */
    movl 0(%edx), %ebx
    movl 4(%edx), %esi
    movl 8(%edx), %edi
    movl 12(%edx), %ebp
    movl 16(%edx), %esp
    jmp *20(%edx)
#endif

/* Hypercall instructions for the direct path: hypercall.c calls these like page stubs. */
    .globl hcall_vmcall_stub, hcall_vmmcall_stub
hcall_vmcall_stub:
    vmcall                           /* 0f 01 c1, Intel VMX */
    ret
hcall_vmmcall_stub:
    vmmcall                          /* 0f 01 d9, AMD SVM */
    ret

    /* No executable stack wanted (GNU ld warns without this note). */
    .section .note.GNU-stack, "", @progbits
