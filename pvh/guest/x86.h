/* x86.h (guest, C and assembly): architectural bits and the runtime's segment selectors. */
#ifndef WISP_PVH_GUEST_X86_H
#define WISP_PVH_GUEST_X86_H

/* Control registers (Intel SDM vol. 3A 2.5). */
#define X86_CR0_PE  0x00000001   /* protection enable */
#define X86_CR0_WP  0x00010000   /* write protect in ring 0 */
#define X86_CR0_PG  0x80000000   /* paging */
#define X86_CR4_PAE 0x00000020   /* physical address extension */

/* EFER (SDM vol. 3A 2.2.1; AMD APM vol. 2 3.1.7). */
#define MSR_EFER       0xC0000080
#define EFER_LME_BIT   8         /* long mode enable */

/* Page-table entry bits (SDM vol. 3A 4.4 and 4.5). */
#define PTE_P    0x001   /* present */
#define PTE_RW   0x002   /* writable */
#define PTE_PS   0x080   /* 2 MiB page in a PD entry */
#define PDPTE_PAE_P 0x001 /* PAE PDPTEs allow only P, PWT, PCD (SDM 4.4.1) */

/* Selectors of the runtime's GDT (entry32.S, entry64.S). */
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

/* Offsets inside the 4 KiB page-table area; sizes are fixed by the entry code. */
#define PT_ENTRIES 512

#ifdef __ASSEMBLER__
/* DS, ES, SS, FS and GS := the runtime's flat data selector; in 32- or 64-bit code. Clobbers EAX. */
.macro LOAD_DATA_SELECTORS
    movl $SEL_DATA, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
.endm

/*
 * In 64-bit code with whatever GDT and selectors a start state gave (a
 * vcpu_hvm_context has segments without selectors): the runtime's GDT, CS by a
 * far return, then the data selectors. Clobbers RAX.
 */
.macro RELOAD_GDT64
    lgdt gdt_desc(%rip)
    pushq $SEL_CODE64
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:  LOAD_DATA_SELECTORS
.endm

/*
 * From flat 32-bit protected mode into long mode on the runtime's page tables
 * (SDM vol. 3A 9.8.5): PAE, CR3, EFER.LME, then CR0.PG; goes on at target in
 * 64-bit code. Used by the BSP's entry and by test guests' secondary vCPUs.
 * Clobbers EAX, ECX, EDX.
 */
.macro ENTER_LONG_MODE target
    movl %cr4, %eax
    orl $X86_CR4_PAE, %eax
    movl %eax, %cr4
    movl $pt_pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    btsl $EFER_LME_BIT, %eax
    wrmsr
    movl %cr0, %eax
    orl $(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE), %eax
    movl %eax, %cr0
    ljmp $SEL_CODE64, $\target
.endm
#endif

#endif
