/* long_mode.h (hypervisor, boot, assembler): the 32-bit road into long mode that the boot
 * CPU (head.S) and every other CPU (trampoline.S) take, with the same page tables. */
#ifndef WISP_BOOT_LONG_MODE_H
#define WISP_BOOT_LONG_MODE_H

#define CR0_PE   (1 << 0)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define EFER_MSR 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

/* PAE, CR3 = boot_pml4 (the identity map of the first 4 GiB), EFER.LME and NXE, paging on.
 * Clobbers eax, ecx, edx; a far jump to a 64-bit code segment must follow. */
.macro enable_long_mode
    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $EFER_MSR, %ecx
    rdmsr
    or $(EFER_LME | EFER_NXE), %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PG | CR0_PE), %eax
    mov %eax, %cr0
.endm

#endif
