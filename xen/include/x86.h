/* x86.h (hypervisor): small wrappers for privileged x86 instructions and architectural constants. */
#ifndef WISP_X86_H
#define WISP_X86_H

#include "env.h"

/* Control register bits (SDM vol 3, 2.5). */
#define X86_CR0_PE  (1ull << 0)
#define X86_CR0_MP  (1ull << 1)
#define X86_CR0_EM  (1ull << 2)
#define X86_CR0_TS  (1ull << 3)
#define X86_CR0_ET  (1ull << 4)
#define X86_CR0_NE  (1ull << 5)
#define X86_CR0_WP  (1ull << 16)
#define X86_CR0_AM  (1ull << 18)
#define X86_CR0_NW  (1ull << 29)
#define X86_CR0_CD  (1ull << 30)
#define X86_CR0_PG  (1ull << 31)
#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PVI (1ull << 1)
#define X86_CR4_TSD (1ull << 2)
#define X86_CR4_DE  (1ull << 3)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_MCE (1ull << 6)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_PCE (1ull << 8)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_LA57 (1ull << 12)   /* 5-level paging */
#define X86_CR4_VMXE (1ull << 13)
#define X86_CR4_SMXE (1ull << 14)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_CR4_PKE  (1ull << 22)   /* user protection keys */
#define X86_CR4_CET  (1ull << 23)   /* control-flow enforcement */
#define X86_CR4_PKS  (1ull << 24)   /* supervisor protection keys */

/* Architectural MSRs used by more than one file (SDM vol 4, table 2-2). */
#define MSR_IA32_FEATURE_CONTROL 0x03Au     /* lock + VMXON enables, SDM vol 3 23.7 */
#define FEATURE_CONTROL_LOCK  (1ull << 0)   /* writes fault until reset once set */
#define MSR_IA32_SYSENTER_CS  0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_PAT          0x277u
#define MSR_STAR              0xC0000081u   /* SYSCALL target and segments */
#define MSR_LSTAR             0xC0000082u   /* 64-bit SYSCALL entry */
#define MSR_CSTAR             0xC0000083u   /* compatibility-mode SYSCALL entry (AMD) */
#define MSR_SFMASK            0xC0000084u   /* RFLAGS mask on SYSCALL */
#define MSR_FS_BASE           0xC0000100u
#define MSR_GS_BASE           0xC0000101u
#define MSR_KERNEL_GS_BASE    0xC0000102u   /* swapped in by SWAPGS */

/* EFER (AMD APM vol 2, 3.1.7). */
#define MSR_EFER       0xC0000080u
#define EFER_SCE       (1ull << 0)
#define EFER_LME       (1ull << 8)
#define EFER_LMA       (1ull << 10)
#define EFER_NXE       (1ull << 11)
#define EFER_SVME      (1ull << 12)
#define EFER_FFXSR     (1ull << 14)
#define EFER_AIBRSE    (1ull << 21)   /* automatic IBRS (AMD APM vol 2, 3.1.7) */

/* RFLAGS. */
#define X86_RFLAGS_FIXED (1ull << 1)  /* bit 1 always reads 1 */
#define X86_RFLAGS_IF    (1ull << 9)
#define X86_RFLAGS_VM    (1ull << 17)   /* virtual-8086 mode */
/* Bits 3, 5, 15 and 22-63 are reserved and must be 0 (SDM vol 1, 3.4.3). */
#define X86_RFLAGS_RESERVED ((1ull << 3) | (1ull << 5) | (1ull << 15) | ~0x3fffffull)

/* Exception vectors. */
#define X86_EXC_NMI 2
#define X86_EXC_UD 6
#define X86_EXC_DF 8
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_MC 18

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static inline void cpuid_count(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    __asm__ volatile("cpuid" : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
                     : "a"(leaf), "c"(subleaf));
}

/* The one place EDX:EAX pairs are split and combined. */
static inline uint64_t edx_eax_combine(uint64_t rdx, uint64_t rax)
{
    return ((rdx & 0xffffffffull) << 32) | (rax & 0xffffffffull);
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return edx_eax_combine(hi, lo);
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr2(uint64_t v) { __asm__ volatile("mov %0, %%cr2" :: "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return edx_eax_combine(hi, lo);
}

static inline void xsetbv(uint32_t index, uint64_t value)
{
    __asm__ volatile("xsetbv" :: "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif
