/* smp_tramp.S (guest, smp64): the secondary vCPU's way from its STARTUP IPI (real mode) to ap_main in long mode. */
#include "x86.h"

/*
 * The real-mode part, copied by the BSP below 1 MiB at a page P; the
 * STARTUP vector is P >> 12, so the AP starts with CS = P >> 4, IP = 0
 * (SDM vol. 3A 9.4.4.1). It records where it started (CS and the IP of a
 * probe label), counts its starts, then enters protected mode with our own
 * GDT and jumps to ap_entry32 in the image. Everything it addresses is an
 * offset from its own start, through DS = CS.
 */
#define OFF(sym) ((sym) - ap_tramp_start)

    .text
    .code16
    .globl ap_tramp_start, ap_tramp_end, ap_tramp_probe
    .globl ap_tramp_seen_ip, ap_tramp_seen_cs, ap_tramp_starts
ap_tramp_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $OFF(ap_tramp_stack_top), %sp
    call ap_tramp_probe
ap_tramp_probe:
    popw %bx                            /* the IP this label runs at */
    movw %bx, OFF(ap_tramp_seen_ip)
    movw %cs, OFF(ap_tramp_seen_cs)
    lock incw OFF(ap_tramp_starts)
    lgdtl OFF(ap_tramp_gdtr)
    movl %cr0, %eax
    orl $X86_CR0_PE, %eax
    movl %eax, %cr0
    ljmpl *OFF(ap_tramp_far32)

    .balign 4
ap_tramp_far32:
    .long ap_entry32
    .word SEL_CODE32
ap_tramp_gdtr:
    .word ap_gdt_end - ap_gdt - 1
    .long ap_gdt
ap_tramp_seen_ip:
    .word 0
ap_tramp_seen_cs:
    .word 0
ap_tramp_starts:
    .word 0
    .balign 16
    .skip 64
ap_tramp_stack_top:
ap_tramp_end:

/* In the image from here on: flat segments, absolute addresses. */
    .code32
ap_entry32:
    LOAD_DATA_SELECTORS
    ENTER_LONG_MODE ap_entry64          /* on the BSP's page tables */

    .code64
ap_entry64:
    LOAD_DATA_SELECTORS
    movq ap_stack_top, %rsp
    xorl %ebp, %ebp
    call ap_main
1:  cli
    hlt
    jmp 1b

    .data
    .balign 8
/* The runtime's selectors (x86.h): null, 32-bit code, data, 64-bit code. */
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
    .quad 0x00af9a000000ffff
ap_gdt_end:

    .section .note.GNU-stack, "", @progbits
