/* vcpuop_entry.S (guest, vcpuop64): where vCPUs started by VCPUOP_initialise begin, in 64-bit and in 32-bit mode. */
#include "x86.h"

/*
 * A vcpu_hvm_context gives segments without selectors (they are 0), so
 * each entry first records the general registers it was started with,
 * then loads the runtime's GDT (entry64.S's gdt_desc) and real selectors
 * before it calls vcpuop_ap_main(vcpu id) on the stack it was given.
 */
    .text
    .code64
    .globl vcpuop_entry64
vcpuop_entry64:
    movq %rax, vcpuop_seen64 + 0(%rip)
    movq %rcx, vcpuop_seen64 + 8(%rip)
    movq %rdx, vcpuop_seen64 + 16(%rip)
    movq %rbx, vcpuop_seen64 + 24(%rip)
    movq %rsp, vcpuop_seen64 + 32(%rip)
    movq %rbp, vcpuop_seen64 + 40(%rip)
    movq %rsi, vcpuop_seen64 + 48(%rip)
    movq %rdi, vcpuop_seen64 + 56(%rip)
    RELOAD_GDT64
    movl $1, %edi
    call vcpuop_ap_main
2:  cli
    hlt
    jmp 2b

/* 32-bit flat protected mode, paging off: into long mode on the BSP's page tables. */
    .code32
    .globl vcpuop_entry32
vcpuop_entry32:
    movl %eax, vcpuop_seen32 + 0
    movl %ecx, vcpuop_seen32 + 4
    movl %edx, vcpuop_seen32 + 8
    movl %ebx, vcpuop_seen32 + 12
    movl %esp, vcpuop_seen32 + 16
    movl %ebp, vcpuop_seen32 + 20
    movl %esi, vcpuop_seen32 + 24
    movl %edi, vcpuop_seen32 + 28
    lgdtl gdt_desc                      /* 6 bytes: limit and the low half of the base */
    ljmp $SEL_CODE32, $1f
1:  LOAD_DATA_SELECTORS
    ENTER_LONG_MODE vcpuop_long_mode32
    .code64
vcpuop_long_mode32:
    LOAD_DATA_SELECTORS
    movl $2, %edi
    call vcpuop_ap_main
3:  cli
    hlt
    jmp 3b

    .data
    .balign 8
    .globl vcpuop_seen64, vcpuop_seen32
vcpuop_seen64:                          /* rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi */
    .skip 64
vcpuop_seen32:                          /* eax, ecx, edx, ebx, esp, ebp, esi, edi */
    .skip 32

    .section .note.GNU-stack, "", @progbits
