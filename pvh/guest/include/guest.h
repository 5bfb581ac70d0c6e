/* guest.h (guest): API of the freestanding PVH guest runtime (entry, hypercalls, console, traps, paging). */
#ifndef WISP_PVH_GUEST_H
#define WISP_PVH_GUEST_H

#include "env.h"
#include "xen/xen.h"
#include "xen/start_info.h"
#include "wisp/control.h"

#define PAGE_SIZE 4096UL
#define __noreturn __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The program's entry, called once the runtime has a stack, a GDT, an IDT,
 * paging in the variant's mode and (when the Xen leaves exist) a hypercall
 * page. si is the guest-physical address the loader put in EBX, which is also
 * its virtual address (every variant identity-maps low memory). Returning 0
 * powers off, anything else shuts down with SHUTDOWN_crash.
 */
int main(const struct hvm_start_info *si);

/* Linker-script symbols: the loaded image is [_image_start, _image_end). */
extern char _image_start[], _image_end[];

/* ---- CPU and the Xen CPUID leaves (cpu.c) ---- */

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};
void cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };
enum cpu_vendor cpu_vendor(void);

/* First leaf of the Xen range ("XenVMMXenVMM"), or 0 when there is none. */
uint32_t xen_cpuid_base(void);

/* ---- Hypercalls (hypercall.c) ---- */

/*
 * How a hypercall reaches the hypervisor: through the stub at 32 * nr in the
 * hypercall page the hypervisor filled, or directly with the vendor's
 * instruction (VMCALL on Intel VMX, VMMCALL on AMD SVM).
 */
enum hcall_path { HCALL_VIA_PAGE, HCALL_VIA_VMCALL, HCALL_VIA_VMMCALL };

extern uint8_t hypercall_page[PAGE_SIZE];

/* Writes the MSR from leaf base+2 so the hypervisor fills hypercall_page. */
int __must_check hypercall_page_setup(void);
bool hypercall_page_ready(void);
/* The direct path for this CPU's vendor. */
enum hcall_path hcall_native_direct(void);
/* Page when ready, else the native direct instruction. */
enum hcall_path hcall_default_path(void);

long hypercall_via(enum hcall_path path, unsigned long nr, unsigned long a1, unsigned long a2,
                   unsigned long a3, unsigned long a4, unsigned long a5);

static inline long hypercall(unsigned long nr, unsigned long a1, unsigned long a2,
                             unsigned long a3, unsigned long a4, unsigned long a5)
{
    return hypercall_via(hcall_default_path(), nr, a1, a2, a3, a4, a5);
}

/* Typed shorthands; pointer arguments are unsigned long so tests can pass hostile ones. */
#define HV_PTR(p) ((unsigned long)(uintptr_t)(p))
static inline long hv_xen_version(int cmd, unsigned long arg)
{
    return hypercall(__HYPERVISOR_xen_version, (unsigned long)cmd, arg, 0, 0, 0);
}
static inline long hv_console_io(int cmd, unsigned long count, unsigned long buf)
{
    return hypercall(__HYPERVISOR_console_io, (unsigned long)cmd, count, buf, 0, 0);
}
static inline long hv_sched_op(int cmd, unsigned long arg)
{
    return hypercall(__HYPERVISOR_sched_op, (unsigned long)cmd, arg, 0, 0, 0);
}
static inline long hv_memory_op(int cmd, unsigned long arg)
{
    return hypercall(__HYPERVISOR_memory_op, (unsigned long)cmd, arg, 0, 0, 0);
}
static inline long hv_hvm_op(int op, unsigned long arg)
{
    return hypercall(__HYPERVISOR_hvm_op, (unsigned long)op, arg, 0, 0, 0);
}
static inline long hv_vcpu_op(int cmd, unsigned long vcpu, unsigned long arg)
{
    return hypercall(__HYPERVISOR_vcpu_op, (unsigned long)cmd, vcpu, arg, 0, 0);
}
static inline long hv_event_channel_op(int cmd, unsigned long arg)
{
    return hypercall(__HYPERVISOR_event_channel_op, (unsigned long)cmd, arg, 0, 0, 0);
}
/* count: how many structs arg points to (per-op status is in each struct). */
static inline long hv_grant_table_op(int cmd, unsigned long arg, unsigned long count)
{
    return hypercall(__HYPERVISOR_grant_table_op, (unsigned long)cmd, arg, count, 0, 0);
}
/* Wisp's own control hypercall (abi/wisp/control.h). */
static inline long hv_wisp_control(int cmd, unsigned long arg)
{
    return hypercall(__HYPERVISOR_wisp_control, (unsigned long)cmd, arg, 0, 0, 0);
}

/* ---- Console (console.c) ---- */

/*
 * Output goes to CONSOLEIO_write, one hypercall per line. Without the Xen
 * leaves (e.g. booted by QEMU's own PVH loader for debugging) it goes to
 * port 0xE9 instead, which QEMU shows with -debugcon stdio.
 */
void con_write(const char *s, size_t n);
void con_flush(void);
void con_vprintf(const char *fmt, va_list ap);
/* %s %c %d %u %x %p, with l/ll and z size prefixes and a 0-padded width. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- Shutdown (start.c) ---- */

/* SCHEDOP_shutdown with a SHUTDOWN_* reason; never returns. */
__noreturn void guest_shutdown(unsigned int reason);
/* Prints "PANIC: ..." and shuts down with SHUTDOWN_crash. */
__noreturn void guest_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Value of "key=value" among the space-separated words of the start_info cmdline. */
bool cmdline_get(const struct hvm_start_info *si, const char *key, char *out, size_t outlen);

/* ---- Exceptions (trap.c) ---- */

#define X86_EXC_DE  0   /* divide error */
#define X86_EXC_BP  3   /* breakpoint (int3) */
#define X86_EXC_UD  6   /* invalid opcode */
#define X86_EXC_DF  8   /* double fault */
#define X86_EXC_GP 13   /* general protection */
#define X86_EXC_PF 14   /* page fault */
#define X86_NR_EXCEPTIONS 32

struct fault_info {
    int vector;               /* -1: the function returned without a fault */
    unsigned long error_code;
    unsigned long ip;
    unsigned long cr2;        /* for #PF */
};

/*
 * Runs fn(arg) with a recovery point set: if it raises an exception, the
 * handler records it in *out and execution resumes here instead of at the
 * faulting instruction. Returns true when a fault happened.
 */
bool run_catching(void (*fn)(void *), void *arg, struct fault_info *out);
/* True when fn(arg) raised exactly `vector`. */
bool expect_fault(int vector, void (*fn)(void *), void *arg);

void trap_init(void);
/* Loads an empty IDT: the next exception becomes a triple fault. */
void trap_load_empty_idt(void);

/* ---- Interrupts (trap.c) ---- */

#define X86_RFLAGS_IF 0x200ul    /* maskable interrupts enabled (SDM vol. 1 3.4.3) */

#define X86_NR_VECTORS 256

/* Runs on the interrupted stack with interrupts off (interrupt gate); EOI is the handler's job. */
typedef void (*irq_handler_fn)(unsigned int vector);

/*
 * Routes interrupt vector 32..255 to fn (NULL: back to "unexpected"). The
 * first call loads a 256-entry IDT that keeps the exception gates; until
 * then only exceptions have gates. An interrupt without a handler prints
 * "UNEXPECTED INTERRUPT" and shuts down with SHUTDOWN_crash.
 */
void irq_set_handler(unsigned int vector, irq_handler_fn fn);
/* Loads that 256-entry IDT on the calling CPU (secondary CPUs share it). */
void irq_load_idt(void);

static inline void irq_enable(void)
{
    __asm__ volatile("sti" : : : "memory");
}
static inline void irq_disable(void)
{
    __asm__ volatile("cli" : : : "memory");
}
/*
 * "sti; hlt": the one-instruction STI shadow means an interrupt already
 * pending is taken in the HLT, not before it, so the wake-up is never lost.
 * Returns with interrupts on, after one interrupt (or a spurious wake-up).
 */
static inline void irq_enable_and_halt(void)
{
    __asm__ volatile("sti; hlt" : : : "memory");
}
static inline bool irq_enabled(void)
{
    unsigned long flags;

    __asm__ volatile("pushf; pop %0" : "=r"(flags) : : "memory");
    return flags & X86_RFLAGS_IF;
}
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" : : : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* ---- Paging (paging.c): only in the paged variants ---- */

bool paging_enabled(void);
/*
 * The alias window: virtual pages whose physical page is chosen at run time,
 * so a buffer's virtual address differs from its physical one. The page after
 * the last slot is never mapped, so ALIAS_SLOTS-1's end is a hard boundary.
 */
#define ALIAS_SLOTS 511
/* Maps slot -> the page holding phys_page; returns its virtual address, or NULL without paging. */
void *alias_map(unsigned int slot, const void *phys_page);
/* The first byte past the last slot: never mapped, any access is a #PF. */
uintptr_t alias_guard_va(void);
/* Makes virtual page 0 not-present so NULL pointers fault (paged variants only). */
void paging_unmap_null_page(void);

/* ---- Port I/O and MSRs ---- */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;

    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline unsigned long read_cr0(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline unsigned long read_cr3(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline unsigned long read_cr4(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr4(unsigned long v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}
static inline uint64_t xgetbv0(void)
{
    uint32_t lo, hi;

    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
static inline void xsetbv0(uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#endif
