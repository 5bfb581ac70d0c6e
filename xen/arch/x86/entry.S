/* entry.S (hypervisor): host exception entry stubs (fatal but for NMI and a survivable #MC) and the host APIC's interrupt entries. */

    .text
    .code64

/* Vectors for which the CPU pushes an error code (SDM vol 3, table 6-1). */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

.macro exception_stub vector
    .align 16
exception_\vector:
    .if !HAS_ERROR(\vector)
    pushq $0
    .endif
    pushq $\vector
    jmp exception_common
.endm

.altmacro
.macro all_stubs
    .set v, 0
    .rept 32
    exception_stub %v
    .set v, v + 1
    .endr
.endm
all_stubs

exception_common:
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
    mov %rsp, %rdi
    mov %rsp, %rbx                  /* callee-saved: the frame, for the way back */
    and $-16, %rsp
    call trap_handler               /* returns only for an NMI or a survived #MC */
    mov %rbx, %rsp
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
    add $16, %rsp                   /* vector and error code */
    iretq

.macro stub_address vector
    .quad exception_\vector
.endm

/*
 * Host interrupts: only taken where the hypervisor opens an interrupt window
 * (idle, or right after a VM exit). Each saves what the C ABI may clobber and
 * calls its handler.
 */
.macro host_interrupt name, handler
    .globl \name
    .align 16
\name:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbp
    mov %rsp, %rbp
    and $-16, %rsp
    call \handler
    mov %rbp, %rsp
    pop %rbp
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    iretq
.endm

    .text
    host_interrupt host_timer_entry, host_timer_interrupt
    host_interrupt host_ipi_entry, host_ipi_interrupt

/* Spurious APIC interrupts need no EOI (SDM vol 3, 11.9). */
    .globl host_spurious_entry
    .align 16
host_spurious_entry:
    iretq

    .section .rodata
    .globl exception_stubs
exception_stubs:
    .set v, 0
    .rept 32
    stub_address %v
    .set v, v + 1
    .endr

    .section .note.GNU-stack, "", @progbits
