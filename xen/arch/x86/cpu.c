/* cpu.c (hypervisor): this CPU's descriptor tables (GDT with TSS, IDT) and host trap reporting. */
#include "env.h"
#include "apic.h"
#include "cpu.h"
#include "machine.h"
#include "mce.h"
#include "percpu.h"
#include "printk.h"
#include "smpboot.h"
#include "uart.h"
#include "x86.h"

/* GDT selectors; 0x08 and 0x10 match the boot GDT in head.S. */
#define GDT_CODE64 0x08
#define GDT_DATA   0x10
#define GDT_TSS    0x18

/* Descriptor encodings (SDM vol 3, 3.4.5): flat 64-bit code, flat data. */
#define DESC_CODE64 0x00af9a000000ffffull
#define DESC_DATA   0x00cf92000000ffffull
#define TSS_TYPE_AVAILABLE_64 0x9ull
#define DESC_PRESENT (1ull << 47)
#define IDT_GATE_INTERRUPT_64 0x8e   /* present, DPL 0, 64-bit interrupt gate */

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 0x68, "TSS size (SDM vol 3, 8.7)");

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
};

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

/* Each CPU its own GDT and TSS: LTR marks a TSS descriptor busy (SDM vol 3, 8.2.2). */
struct cpu_tables {
    uint64_t gdt[5];
    struct tss64 tss;
} __attribute__((aligned(16)));

static struct cpu_tables cpu_tables[MAX_PCPUS];

/*
 * #DF runs on a stack of its own (IST 1): a fault that cannot push its frame on the
 * stack it interrupted (an overflow, a bad RSP) becomes a double fault, and one on
 * that same stack would reset the machine without a word. #DF never returns, so one
 * stack per CPU suffices.
 */
#define DF_IST           1
#define DF_STACK_SIZE    8192
static uint8_t df_stacks[MAX_PCPUS][DF_STACK_SIZE] __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));     /* shared, read-only after boot */
extern const uint64_t exception_stubs[32];

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static struct cpu_tables *my_tables(void)
{
    return &cpu_tables[this_cpu_id()];
}

static void gdt_install(void)
{
    uint64_t *gdt = my_tables()->gdt;
    struct tss64 *tss = &my_tables()->tss;
    uint64_t base = (uintptr_t)tss, limit = sizeof(*tss) - 1;

    gdt[GDT_CODE64 / 8] = DESC_CODE64;
    gdt[GDT_DATA / 8] = DESC_DATA;
    /* A 64-bit TSS descriptor takes two slots (SDM vol 3, 8.2.3). */
    gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                       (TSS_TYPE_AVAILABLE_64 << 40) | DESC_PRESENT |
                       ((limit >> 16) << 48) | ((base >> 24 & 0xff) << 56);
    gdt[GDT_TSS / 8 + 1] = base >> 32;
    tss->iomap_base = sizeof(*tss);     /* no I/O bitmap */
    tss->ist[DF_IST - 1] = (uintptr_t)(df_stacks[this_cpu_id()] + DF_STACK_SIZE);

    struct desc_ptr p = { sizeof(my_tables()->gdt) - 1, (uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ds\n\tmov %2, %%es\n\tmov %2, %%ss\n\t"
                     "ltr %w3"
                     :: "m"(p), "i"(GDT_CODE64), "r"(GDT_DATA), "r"(GDT_TSS) : "rax", "memory");
}

void idt_set_gate(uint8_t vector, uint64_t addr)
{
    idt[vector] = (struct idt_gate){
        .offset_low = addr & 0xffff, .selector = GDT_CODE64,
        .type_attr = IDT_GATE_INTERRUPT_64,
        .offset_mid = (addr >> 16) & 0xffff, .offset_high = addr >> 32,
    };
}

/* Exceptions are fatal; of the interrupt vectors only the host APIC's are used (apic.h). */
static void idt_install(void)
{
    if (this_cpu_id() == 0) {
        for (unsigned v = 0; v < 32; v++)
            idt_set_gate((uint8_t)v, exception_stubs[v]);
        idt[X86_EXC_DF].ist = DF_IST;
        idt_set_gate(HOST_TIMER_VECTOR, (uintptr_t)host_timer_entry);
        idt_set_gate(HOST_IPI_VECTOR, (uintptr_t)host_ipi_entry);
        idt_set_gate(HOST_SPURIOUS_VECTOR, (uintptr_t)host_spurious_entry);
    }
    struct desc_ptr p = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(p));
}

void cpu_tables_init(void)
{
    gdt_install();
    idt_install();
}

/* head.S: the identity map of the first 4 GiB (2 MiB pages) every CPU runs on. */
extern uint64_t boot_pml4[512], boot_pdpt[512], boot_pd[4 * 512];

#define PTE_PRESENT 1ull
#define PTE_RW      2ull

/*
 * The first 2 MiB (the whole hypervisor image, its page tables included) through 4 KiB
 * pages, so the page-table pages can be read-only: a write into them from a bad host
 * address (a stale pointer, a wrong guest-physical translation) then faults at the
 * writing instruction, and fatal_trap names it, instead of unmapping the hypervisor's
 * stack or IDT and resetting the machine without a word at the next TLB flush.
 */
static uint64_t low_pt[512] __attribute__((aligned(4096)));

void host_pt_protect(void)
{
    uint64_t ro_lo = (uintptr_t)boot_pml4, ro_hi = (uintptr_t)(boot_pd + 4 * 512);

    _Static_assert(sizeof(low_pt) == 4096, "one page table");
    for (unsigned i = 0; i < 512; i++) {
        uint64_t pa = (uint64_t)i << 12;
        bool ro = (pa >= ro_lo && pa < ro_hi) || pa == (uintptr_t)low_pt;

        low_pt[i] = pa | PTE_PRESENT | (ro ? 0 : PTE_RW);
    }
    /* Same translations as the large page it replaces, so nothing moves under us. */
    boot_pd[0] = (uintptr_t)low_pt | PTE_PRESENT | PTE_RW;
    write_cr3(read_cr3());
}

void cpu_write_protect_on(void)
{
    write_cr0(read_cr0() | X86_CR0_WP);
}

/* Firmware may leave caches off (CR0.CD/NW), which guests would inherit under VMX. */
void cpu_caches_on(void)
{
    write_cr0(read_cr0() & ~(X86_CR0_CD | X86_CR0_NW));
    __asm__ volatile("wbinvd" ::: "memory");
}

void cpu_host_selectors(struct host_selectors *s)
{
    s->cs = GDT_CODE64;
    s->ds = s->ss = GDT_DATA;
    s->tr = GDT_TSS;
    s->gdt_base = (uintptr_t)my_tables()->gdt;
    s->idt_base = (uintptr_t)idt;
    s->tr_base = (uintptr_t)&my_tables()->tss;
}

static void fatal_trap(struct trap_frame *f) __attribute__((noreturn));

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection",
};

/*
 * A host NMI is counted and ignored (mce.h); a machine check goes to the
 * machine-check handler, which stops the machine unless the error was
 * corrected. Any other host exception means a hypervisor bug: dump everything
 * and stop. Returning resumes the interrupted code (entry.S).
 */
void trap_handler(struct trap_frame *f)
{
    if (f->vector == X86_EXC_NMI) {
        host_nmi_note();
        return;
    }
    if (f->vector == X86_EXC_MC) {
        mce_handle("in the hypervisor");
        return;
    }
    fatal_trap(f);
}

static void fatal_trap(struct trap_frame *f)
{
    const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector]
                                                                      : "reserved";
    uint64_t cr2 = read_cr2();

    log_error("host exception %lu (%s), error code 0x%lx", f->vector, name, f->error);
    log_error("rip %016lx cs %04lx rflags %016lx rsp %016lx ss %04lx cr2 %016lx",
              f->rip, f->cs, f->rflags, f->rsp, f->ss, cr2);
    log_error("rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx, f->rdx);
    log_error("rsi %016lx rdi %016lx rbp %016lx r8  %016lx", f->rsi, f->rdi, f->rbp, f->r8);
    log_error("r9  %016lx r10 %016lx r11 %016lx r12 %016lx", f->r9, f->r10, f->r11, f->r12);
    log_error("r13 %016lx r14 %016lx r15 %016lx", f->r13, f->r14, f->r15);
    panic("unexpected exception in the hypervisor");
}

void panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    __asm__ volatile("cli");
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_error("PANIC: %s", buf);
    smp_stop_others(false);
    machine_end(MACHINE_END_PANIC);
}

static const struct { const char *name; uint8_t code; } end_statuses[] = {
#define X(name, text, code) [MACHINE_END_##name] = { text, code },
    MACHINE_END_STATUSES(X)
#undef X
};

#define QEMU_DEBUG_EXIT_PORT 0xf4   /* -device isa-debug-exit,iobase=0xf4 */
#define BOCHS_SHUTDOWN_PORT  0x8900 /* Bochs ends when "Shutdown" is written here */

void machine_end(enum machine_end status)
{
    const char *name = end_statuses[status].name;
    unsigned long nmis = host_nmi_count();

    if (nmis)
        log_warn("%lu host NMIs were ignored", nmis);
    /* Always printed, whatever the log level: the host CLI waits for this line. */
    console_lock();
    serial_write("(wisp) end: ", 12);
    serial_write(name, strlen(name));
    serial_write("\n", 1);
    uart_flush();
    console_unlock();
    outl(QEMU_DEBUG_EXIT_PORT, end_statuses[status].code);
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    halt_forever();
}
