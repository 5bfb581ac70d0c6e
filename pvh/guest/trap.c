/* trap.c (guest): the IDT, the exception dispatcher, and run_catching()/expect_fault(). */
#include "guest.h"
#include "x86.h"
#include "xen/sched.h"

#ifdef __x86_64__
struct trap_frame {
    unsigned long r15, r14, r13, r12, r11, r10, r9, r8;
    unsigned long bp, di, si, dx, cx, bx, ax;
    unsigned long vector, error_code;
    unsigned long ip, cs, flags, sp, ss;   /* pushed by the CPU */
};

/* 64-bit interrupt gate (SDM vol. 3A 6.14.1). */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
#define GATE_SELECTOR SEL_CODE64
#else
struct trap_frame {
    unsigned long di, si, bp, sp_unused, bx, dx, cx, ax;   /* pusha */
    unsigned long vector, error_code;
    unsigned long ip, cs, flags;   /* pushed by the CPU (no privilege change) */
};

/* 32-bit interrupt gate (SDM vol. 3A 6.11). */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr;
    uint16_t offset_high;
};
#define GATE_SELECTOR SEL_CODE32
#endif

/* Present, DPL 0, interrupt gate (type 0xE: IF cleared on entry). */
#define GATE_PRESENT_INTR 0x8e

struct __attribute__((packed)) idt_desc {
    uint16_t limit;
    unsigned long base;
};

/* traps.S */
extern const unsigned long trap_stub_table[X86_NR_EXCEPTIONS];
struct recovery {
    unsigned long regs[8];
};
long recovery_set(struct recovery *r) __attribute__((returns_twice));
__noreturn void recovery_jump(struct recovery *r, long value);
void trap_dispatch(struct trap_frame *f);

static struct idt_gate idt[X86_NR_EXCEPTIONS] __attribute__((aligned(16)));

/* The active recovery point of run_catching(), or NULL. */
static struct recovery *armed;
static struct fault_info *armed_info;

static const char *const exception_names[X86_NR_EXCEPTIONS] = {
    [0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR",
    [6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS",
    [13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
    [20] = "#VE", [21] = "#CP", [29] = "#VC", [30] = "#SX",
};

static void set_gate(struct idt_gate *g, unsigned long handler)
{
    memset(g, 0, sizeof(*g));
    g->offset_low = (uint16_t)handler;
    g->selector = GATE_SELECTOR;
    g->type_attr = GATE_PRESENT_INTR;
#ifdef __x86_64__
    g->offset_mid = (uint16_t)(handler >> 16);
    g->offset_high = (uint32_t)(handler >> 32);
#else
    g->offset_high = (uint16_t)(handler >> 16);
#endif
}

static void load_idt(const void *base, uint16_t limit)
{
    struct idt_desc d = { .limit = limit, .base = (unsigned long)base };

    __asm__ volatile("lidt %0" : : "m"(d));
}

void trap_init(void)
{
    for (unsigned int v = 0; v < X86_NR_EXCEPTIONS; v++)
        set_gate(&idt[v], trap_stub_table[v]);
    load_idt(idt, sizeof(idt) - 1);
}

void trap_load_empty_idt(void)
{
    load_idt(NULL, 0);
}

static unsigned long read_cr2(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static const char *exception_name(unsigned long vector)
{
    if (vector < X86_NR_EXCEPTIONS && exception_names[vector])
        return exception_names[vector];
    return "exception";
}

/* The interrupted stack: 64-bit frames carry it; 32-bit ones end where it begins. */
static const unsigned long *interrupted_stack(const struct trap_frame *f)
{
#ifdef __x86_64__
    return (const unsigned long *)f->sp;
#else
    return (const unsigned long *)(&f->flags + 1);
#endif
}

/* Return addresses along the frame-pointer chain (we build with -fno-omit-frame-pointer). */
static void print_callers(unsigned long bp)
{
    con_printf("  callers:");
    for (int depth = 0; depth < 6; depth++) {
        const unsigned long *frame = (const unsigned long *)bp;

        /* Our stacks live in the image's bss; stop at anything else. */
        if (bp < (uintptr_t)_image_start || bp >= (uintptr_t)_image_end || (bp & (sizeof(long) - 1)))
            break;
        con_printf(" %lx", frame[1]);
        bp = frame[0];
    }
    con_printf("\n");
}

static void dump_frame(const struct trap_frame *f)
{
    const unsigned long *sp = interrupted_stack(f);

    con_printf("  ip %lx cs %lx flags %lx error %lx cr2 %lx\n", f->ip, f->cs, f->flags,
               f->error_code, read_cr2());
    con_printf("  stack %p: %lx %lx %lx %lx\n", (const void *)sp, sp[0], sp[1], sp[2], sp[3]);
    con_printf("  ax %lx bx %lx cx %lx dx %lx si %lx di %lx bp %lx\n", f->ax, f->bx, f->cx,
               f->dx, f->si, f->di, f->bp);
    print_callers(f->bp);
}

/* ---- Interrupts: vectors 32..255, once a program asks for them ---- */

/* The full IDT: the exception gates plus one gate per interrupt vector (traps.S stubs). */
extern const unsigned long irq_stub_table[X86_NR_VECTORS - X86_NR_EXCEPTIONS];
static struct idt_gate idt_full[X86_NR_VECTORS] __attribute__((aligned(16)));
static irq_handler_fn irq_handlers[X86_NR_VECTORS];
static bool idt_full_ready;

static void build_full_idt(void)
{
    for (unsigned int v = 0; v < X86_NR_EXCEPTIONS; v++)
        idt_full[v] = idt[v];
    for (unsigned int v = X86_NR_EXCEPTIONS; v < X86_NR_VECTORS; v++)
        set_gate(&idt_full[v], irq_stub_table[v - X86_NR_EXCEPTIONS]);
    idt_full_ready = true;
}

void irq_set_handler(unsigned int vector, irq_handler_fn fn)
{
    if (vector < X86_NR_EXCEPTIONS || vector >= X86_NR_VECTORS)
        guest_panic("irq_set_handler: vector %u is not an interrupt vector", vector);
    if (!idt_full_ready)
        build_full_idt();
    irq_handlers[vector] = fn;
    irq_load_idt();
}

void irq_load_idt(void)
{
    if (!idt_full_ready)
        build_full_idt();
    load_idt(idt_full, sizeof(idt_full) - 1);
}

/* An interrupt nobody asked for is a bug in the program or the hypervisor: stop loudly. */
static void irq_dispatch(struct trap_frame *f)
{
    irq_handler_fn fn = irq_handlers[f->vector];

    /*
     * A maskable interrupt whose frame says IF was clear reached code that had
     * interrupts off: no CPU does that, so the hypervisor injected it wrongly.
     */
    if (!(f->flags & X86_RFLAGS_IF)) {
        con_flush();
        con_printf("\nINTERRUPT WITH INTERRUPTS OFF vector %lu\n", f->vector);
        dump_frame(f);
        guest_shutdown(SHUTDOWN_crash);
    }
    if (fn) {
        fn((unsigned int)f->vector);
        return;
    }
    con_flush();
    con_printf("\nUNEXPECTED INTERRUPT vector %lu\n", f->vector);
    dump_frame(f);
    guest_shutdown(SHUTDOWN_crash);
}

void trap_dispatch(struct trap_frame *f)
{
    struct recovery *r = armed;

    if (f->vector >= X86_NR_EXCEPTIONS) {
        irq_dispatch(f);
        return;
    }

    if (r) {
        armed = NULL;
        armed_info->vector = (int)f->vector;
        armed_info->error_code = f->error_code;
        armed_info->ip = f->ip;
        armed_info->cr2 = f->vector == X86_EXC_PF ? read_cr2() : 0;
        recovery_jump(r, 1);
    }
    con_flush();
    con_printf("\nUNEXPECTED EXCEPTION %lu (%s)\n", f->vector, exception_name(f->vector));
    dump_frame(f);
    guest_shutdown(SHUTDOWN_crash);
}

bool run_catching(void (*fn)(void *), void *arg, struct fault_info *out)
{
    struct recovery r;

    out->vector = -1;
    out->error_code = out->ip = out->cr2 = 0;
    armed_info = out;
    if (recovery_set(&r) != 0)
        return true;   /* back from trap_dispatch: *out is filled */
    armed = &r;
    fn(arg);
    armed = NULL;
    return false;
}

bool expect_fault(int vector, void (*fn)(void *), void *arg)
{
    struct fault_info info;

    return run_catching(fn, arg, &info) && info.vector == vector;
}
