/* entry64.S (guest, 64-bit PVH): entry note, GDT, identity page tables, switch to long mode, call rt_start. */
#include "xen/elfnote.h"
#include "x86.h"

/*
 * The PVH entry note (Xen docs/misc/pvh.pandoc): name "Xen", type
 * XEN_ELFNOTE_PHYS32_ENTRY. A 64-bit guest uses an 8-byte descriptor, as
 * Linux does; loaders must accept 4 or 8 bytes.
 */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                          /* namesz, "Xen\0" */
    .long 8                          /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad pvh_start
    .balign 4

/*
 * Entered in 32-bit protected mode, paging off, interrupts off, CS/DS/ES
 * flat, EBX = physical address of the hvm_start_info. The image lies below
 * 2 GiB, so 32-bit absolute addresses reach every symbol.
 */
    .section .text.entry, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    lgdt gdt_desc
    ljmp $SEL_CODE32, $1f
1:  LOAD_DATA_SELECTORS

    /* The loader zeroes bss too, but do not depend on it. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    movl $stack_top, %esp
    call build_long_mode_tables

    ENTER_LONG_MODE long_mode

/*
 * PML4[0] -> PDPT; PDPT[0..3] -> 4 PDs of 2 MiB pages identity-mapping the
 * first 4 GiB, except its first 2 MiB, which use 4 KiB pages (pt_low) so
 * page 0 can be unmapped later. PDPT[4] -> pt_alias_pd, whose entry 0 ->
 * pt_alias: the alias window at 4 GiB that paging.c fills.
 */
build_long_mode_tables:
    movl $pt_pd, %edi
    movl $(PTE_PS | PTE_RW | PTE_P), %eax
    movl $(4 * PT_ENTRIES), %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    movl $pt_pdpt, %edi
    movl $pt_pd, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl $4, %ecx
2:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 2b

    movl $pt_low, %edi
    movl $(PTE_RW | PTE_P), %eax
    movl $PT_ENTRIES, %ecx
3:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 3b
    movl $pt_low, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl %eax, pt_pd

    movl $pt_alias_pd, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl %eax, pt_pdpt + 4 * 8
    movl $pt_alias, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl %eax, pt_alias_pd

    movl $pt_pdpt, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl %eax, pt_pml4
    ret

    .code64
long_mode:
    LOAD_DATA_SELECTORS
    movq $stack_top, %rsp
    xorl %ebp, %ebp
    movl %ebx, %edi                  /* zero-extends: rt_start(si_paddr) */
    call rt_start
2:  cli
    hlt
    jmp 2b

    .data
    .balign 8
gdt:
    .quad 0                          /* null */
    .quad 0x00cf9a000000ffff         /* 0x08: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff         /* 0x10: data, base 0, limit 4 GiB */
    .quad 0x00af9a000000ffff         /* 0x18: 64-bit code (L=1) */
gdt_end:
    .balign 4
    .word 0
    .globl gdt_desc                  /* for secondary vCPUs (tests/guests) */
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
    .globl pt_pml4, pt_pdpt, pt_pd, pt_low, pt_alias_pd, pt_alias
pt_pml4:     .skip 4096
pt_pdpt:     .skip 4096
pt_pd:       .skip 4 * 4096
pt_low:      .skip 4096
pt_alias_pd: .skip 4096
pt_alias:    .skip 4096

    .bss
    .balign 16
stack:
    .skip 16384
stack_top:

    /* No executable stack wanted (GNU ld warns without this note). */
    .section .note.GNU-stack, "", @progbits
