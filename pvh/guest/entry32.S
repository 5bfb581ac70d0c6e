/* entry32.S (guest, 32-bit PVH): entry note, GDT, stack, optional PAE identity paging, call rt_start. */
#include "xen/elfnote.h"
#include "x86.h"

/*
 * The PVH entry note (Xen docs/misc/pvh.pandoc): name "Xen", type
 * XEN_ELFNOTE_PHYS32_ENTRY, descriptor = the 32-bit physical entry address.
 * A 32-bit guest uses a 4-byte descriptor.
 */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                          /* namesz, "Xen\0" */
    .long 4                          /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start
    .balign 4

/*
 * Entered in 32-bit protected mode, paging off, interrupts off, CS/DS/ES
 * flat, SS and the GDT unspecified, EBX = physical address of the
 * hvm_start_info (docs/misc/pvh.pandoc). EBX is kept until rt_start.
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
    xorl %ebp, %ebp

#ifdef GUEST_PAE
    call build_pae_tables
    movl $pt_pdpt, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $X86_CR4_PAE, %eax
    movl %eax, %cr4
    movl %cr0, %eax
    orl $(X86_CR0_PG | X86_CR0_WP), %eax
    movl %eax, %cr0
    jmp 2f                           /* serialise after enabling paging */
2:
#endif

    pushl %ebx
    call rt_start
3:  cli
    hlt
    jmp 3b

#ifdef GUEST_PAE
/*
 * Identity map of the first 4 GiB: the PDPT's 4 entries point at 4 PDs of
 * 2 MiB pages. The first 2 MiB use 4 KiB pages (pt_low) so page 0 can be
 * unmapped later; the 2 MiB at 0xC0000000 is replaced by pt_alias, which
 * paging.c fills (all not-present at first).
 */
build_pae_tables:
    /* PD entries: 2048 x (i << 21 | PS | RW | P), high dword 0. */
    movl $pt_pd, %edi
    movl $(PTE_PS | PTE_RW | PTE_P), %eax
    movl $(4 * PT_ENTRIES), %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    /* PDPT: the 4 PDs. */
    movl $pt_pdpt, %edi
    movl $pt_pd, %eax
    orl $PDPTE_PAE_P, %eax
    movl $4, %ecx
2:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 2b

    /* pt_low: 512 x 4 KiB identity pages, linked from PD 0 entry 0. */
    movl $pt_low, %edi
    movl $(PTE_RW | PTE_P), %eax
    movl $PT_ENTRIES, %ecx
3:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 3b
    movl $pt_low, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl %eax, pt_pd

    /* pt_alias at 0xC0000000 = PD 3, entry 0. */
    movl $pt_alias, %eax
    orl $(PTE_RW | PTE_P), %eax
    movl %eax, pt_pd + 3 * 4096
    ret

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
    .globl pt_pdpt, pt_pd, pt_low, pt_alias
pt_pdpt:  .skip 4096
pt_pd:    .skip 4 * 4096
pt_low:   .skip 4096
pt_alias: .skip 4096
#endif

    .data
    .balign 8
gdt:
    .quad 0                          /* null */
    .quad 0x00cf9a000000ffff         /* 0x08: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff         /* 0x10: data, base 0, limit 4 GiB */
gdt_end:
    .balign 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .bss
    .balign 16
stack:
    .skip 16384
stack_top:

    /* No executable stack wanted (GNU ld warns without this note). */
    .section .note.GNU-stack, "", @progbits
