/* head.S (hypervisor, boot): multiboot v1/v2 headers, 32-bit entry, switch to long mode. */
#include "long_mode.h"

#define MB1_HEADER_MAGIC   0x1BADB002
#define MB1_FLAG_PAGE_ALIGN (1 << 0)    /* modules on 4 KiB boundaries */
#define MB1_FLAG_MEMINFO    (1 << 1)    /* we want a memory map */
#define MB1_FLAGS          (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO)

#define MB2_HEADER_MAGIC   0xE85250D6
#define MB2_ARCH_I386      0
#define MB2_TAG_END        0
#define MB2_TAG_MODULE_ALIGN 6

#define PTE_PRESENT_RW 0x3
#define PDE_LARGE      0x80
#define BOOT_STACK_SIZE 0x8000

#define COM1 0x3f8

    .section .multiboot, "a"
    /* Multiboot v1 (read by QEMU's -kernel loader): must lie in the first 8 KiB. */
    .align 4
mb1_header:
    .long MB1_HEADER_MAGIC
    .long MB1_FLAGS
    .long -(MB1_HEADER_MAGIC + MB1_FLAGS)

    /* Multiboot2 (read by GRUB): must lie in the first 32 KiB, 8-byte aligned. */
    .align 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    .align 8
    .short MB2_TAG_MODULE_ALIGN, 0
    .long 8
    .align 8
    .short MB2_TAG_END, 0
    .long 8
mb2_header_end:

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %edi                  /* loader magic: first C argument */
    mov %ebx, %esi                  /* boot information: second C argument */
    mov $boot_stack_top, %esp

    /* Long mode must exist before we try to enter it. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* Identity map of the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT[0..3] -> 4 PDs. */
    mov $boot_pml4, %edx
    xor %eax, %eax
    mov %edx, %ebx                  /* zero PML4 and PDPT (contiguous, 2 pages) */
    mov %edi, %ebp
    mov %ebx, %edi
    mov $(2 * 4096 / 4), %ecx
    rep stosl
    mov %ebp, %edi

    lea (boot_pdpt + PTE_PRESENT_RW), %eax
    mov %eax, boot_pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax                  /* PD number ecx is at boot_pd + ecx * 4096 */
    shl $12, %eax
    add $boot_pd, %eax
    or $PTE_PRESENT_RW, %eax
    mov %eax, boot_pdpt(, %ecx, 8)
    movl $0, boot_pdpt + 4(, %ecx, 8)
    inc %ecx
    cmp $4, %ecx
    jb 1b

    xor %ecx, %ecx                  /* 2048 large pages, entry i maps i * 2 MiB */
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_PRESENT_RW | PDE_LARGE), %eax
    mov %eax, boot_pd(, %ecx, 8)
    mov %ecx, %eax
    shr $11, %eax                   /* bits 32+ of i * 2 MiB */
    mov %eax, boot_pd + 4(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    enable_long_mode
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_entry

no_long_mode:
    mov $no_lm_msg, %esi
3:  lodsb
    test %al, %al
    jz 4f
    mov %al, %bl
5:  mov $(COM1 + 5), %dx            /* wait for the transmitter to be empty */
    in %dx, %al
    test $0x20, %al
    jz 5b
    mov %bl, %al
    mov $COM1, %dx
    out %al, %dx
    jmp 3b
4:  cli
    hlt
    jmp 4b

    .code64
long_mode_entry:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $boot_stack_top, %rsp
    xor %ebp, %ebp
    call start_wisp                 /* (magic, info): never returns */
6:  cli
    hlt
    jmp 6b

    .section .rodata.boot, "a"
no_lm_msg:
    .asciz "(wisp) end: panic: this CPU has no long mode\n"

    .align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff        /* 0x10: data, DPL 0 */
boot_gdt_end:
    .align 4
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .bss.boot, "aw", @nobits
    .align 4096
    .globl boot_pml4
boot_pml4:
    .skip 4096
    .globl boot_pdpt
boot_pdpt:
    .skip 4096
    .globl boot_pd
boot_pd:
    .skip 4 * 4096
    .align 16
    .globl boot_stack_top
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
