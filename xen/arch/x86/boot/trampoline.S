/*
 * trampoline.S (hypervisor, boot): where an application processor starts.
 *
 * A start-up IPI starts a CPU in real mode at CS:IP = (page >> 4):0, so the
 * 16-bit part is copied to a page below 1 MiB (smpboot.c) and must not depend
 * on where it runs. It loads a GDT of its own (boot_gdt in head.S has no
 * 32-bit code segment) and jumps to ap_entry32 in the image, which takes the
 * same road to long mode as the boot CPU did: the same page tables.
 */

#include "long_mode.h"

#define AP_CODE32 0x08
#define AP_DATA   0x10
#define AP_CODE64 0x18

    .section .text.boot, "ax"
    .code16
    .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl ap_gdt_ptr - ap_trampoline   /* 32-bit base: the GDT lies above 1 MiB */
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl $AP_CODE32, $ap_entry32
    .align 8
ap_gdt_ptr:
    .short ap_gdt_end - ap_gdt - 1
    .long ap_gdt
ap_trampoline_end:

    .code32
ap_entry32:
    mov $AP_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    enable_long_mode
    ljmp $AP_CODE64, $ap_entry64

    .code64
ap_entry64:
    mov $AP_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov ap_stack_top(%rip), %rsp    /* set by the boot CPU for this one CPU */
    xor %ebp, %ebp
    call ap_start                   /* never returns */
1:  cli
    hlt
    jmp 1b

    .section .rodata.boot, "a"
    .align 16
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: flat data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
ap_gdt_end:

    .section .note.GNU-stack, "", @progbits
