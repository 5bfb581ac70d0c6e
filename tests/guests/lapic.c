/* lapic.c (guest; built as lapic64): the virtual local APIC through the xAPIC page and the x2APIC MSRs: registers, self-IPIs, priorities, the APIC timer, #GP rules, NMIs. */
#include "evlib.h"
#include "x86.h"
#include "xen/errno.h"
#include "xen/vcpu.h"

/* The xAPIC register page (SDM vol. 3A 11.4.1, table 11-1). */
#define XAPIC_BASE     0xFEE00000UL
#define XAPIC_ID       0x020
#define XAPIC_VERSION  0x030
#define XAPIC_TPR      0x080
#define XAPIC_PPR      0x0A0
#define XAPIC_EOI      0x0B0
#define XAPIC_SVR      0x0F0
#define XAPIC_ISR0     0x100
#define XAPIC_LVT_TIMER 0x320
#define XAPIC_TIMER_INIT 0x380
#define XAPIC_TIMER_CUR  0x390
#define XAPIC_TIMER_DIV  0x3E0

#define CPUID1_ECX_X2APIC       (1U << 21)
#define CPUID1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID1_EDX_APIC         (1U << 9)

/* Vectors the checks use: the class (vector >> 4) decides priority. */
#define X86_EXC_NMI 2
#define V_XAPIC_TIMER 0x40
#define V_LOW         0x52
#define V_HIGH        0x61
#define V_TIMER       0x70
#define V_ERROR       0x5a
#define V_FIRST_TEST  0x40
#define V_LAST_TEST   0x7f
#define TIMER_DIV_1   0xB       /* divide configuration 1011b: divide by 1 (SDM figure 11-10) */
#define TIMER_DIV_16  0x3
#define TIMER_DIV_128 0xA
#define LATE_OK_NS    (500 * NS_PER_MS)

static volatile unsigned int got[X86_NR_VECTORS];
static volatile unsigned int order[16];
static volatile unsigned int nr_order;
static volatile uint64_t got_time[X86_NR_VECTORS];
static volatile bool isr_seen_in_handler;
static bool eoi_by_msr;

/* pvclock needs shared_info; without it the timer checks only count. */
static uint64_t now_ns(void)
{
    return shinfo ? pv_now() : 0;
}

static volatile uint32_t *xapic_reg(unsigned int reg)
{
    return (volatile uint32_t *)(XAPIC_BASE + reg);
}

static void vm_exit(void)
{
    struct cpuid_regs r;

    cpuid(0, 0, &r);
}

static void interrupt_window(void)
{
    __asm__ volatile("sti; nop; cli" : : : "memory");
}

static void on_test_vector(unsigned int vector)
{
    got[vector]++;
    got_time[vector] = now_ns();
    if (nr_order < ARRAY_SIZE(order))
        order[nr_order++] = vector;
    if (eoi_by_msr) {
        isr_seen_in_handler = x2apic_vector_bit(X2APIC_ISR0, vector);
        wrmsr(X2APIC_EOI, 0);
    } else {
        isr_seen_in_handler = (*xapic_reg(XAPIC_ISR0 + (vector / 32) * 0x10) >> (vector % 32)) & 1;
        *xapic_reg(XAPIC_EOI) = 0;
    }
}

/* Waits with interrupts on (hlt when a timer will come) until vector arrives; false on timeout. */
static bool await_vector(unsigned int vector, unsigned int start, uint64_t timeout_ns)
{
    uint64_t deadline = now_ns() + timeout_ns;
    bool ok;

    irq_enable();
    ok = wait_count_change(&got[vector], start, deadline);
    irq_disable();
    return ok;
}

/* ---------- power-up state and the xAPIC page ---------- */

static void check_cpuid_and_base(void)
{
    struct cpuid_regs r;
    uint64_t base = rdmsr(MSR_APIC_BASE);

    cpuid(1, 0, &r);
    check("lapic_cpuid",
          (r.ecx & CPUID1_ECX_X2APIC) && (r.edx & CPUID1_EDX_APIC) &&
              !(r.ecx & CPUID1_ECX_TSC_DEADLINE) && (r.ebx >> 24) == 0,
          "CPUID.1 ecx %x edx %x ebx %x: want x2APIC and APIC, no TSC-deadline, APIC ID 0", r.ecx,
          r.edx, r.ebx);
    check("lapic_apic_base_reset", base == (XAPIC_BASE | APIC_BASE_EN | APIC_BASE_BSP),
          "IA32_APIC_BASE %llx, want fee00900", (unsigned long long)base);
}

static void check_xapic_page(void)
{
    uint32_t lvt;

    check("xapic_version", *xapic_reg(XAPIC_VERSION) == APIC_VERSION_VALUE, "VERSION %x",
          *xapic_reg(XAPIC_VERSION));
    check("xapic_id", *xapic_reg(XAPIC_ID) == 0, "ID %x, want 0 (vCPU 0 << 24)", *xapic_reg(XAPIC_ID));
    check("xapic_svr_reset", *xapic_reg(XAPIC_SVR) == 0xFF, "SVR %x, want ff", *xapic_reg(XAPIC_SVR));

    /* Software-disabled (SDM 11.4.7.2): the LVT mask cannot be cleared. */
    *xapic_reg(XAPIC_LVT_TIMER) = V_XAPIC_TIMER;
    vm_exit();
    lvt = *xapic_reg(XAPIC_LVT_TIMER);
    check("xapic_lvt_masked_while_disabled", lvt == (V_XAPIC_TIMER | APIC_LVT_MASKED),
          "LVT timer %x, want %x", lvt, V_XAPIC_TIMER | APIC_LVT_MASKED);

    *xapic_reg(XAPIC_SVR) = APIC_SVR_ENABLE | 0xFF;
    vm_exit();
    *xapic_reg(XAPIC_LVT_TIMER) = V_XAPIC_TIMER;
    vm_exit();
    lvt = *xapic_reg(XAPIC_LVT_TIMER);
    check("xapic_svr_enable", *xapic_reg(XAPIC_SVR) == 0x1FF && lvt == V_XAPIC_TIMER,
          "SVR %x, LVT timer %x (unmasking works only once enabled)", *xapic_reg(XAPIC_SVR), lvt);

    *xapic_reg(XAPIC_TPR) = 0x20;
    vm_exit();
    check("xapic_tpr", *xapic_reg(XAPIC_TPR) == 0x20 && *xapic_reg(XAPIC_PPR) == 0x20,
          "TPR %x PPR %x, want 20", *xapic_reg(XAPIC_TPR), *xapic_reg(XAPIC_PPR));
    *xapic_reg(XAPIC_TPR) = 0;
    vm_exit();
}

static void check_xapic_timer(void)
{
    unsigned int start = got[V_XAPIC_TIMER];
    uint64_t t0, fired;
    uint32_t cur;

    eoi_by_msr = false;
    *xapic_reg(XAPIC_TIMER_DIV) = TIMER_DIV_1;
    *xapic_reg(XAPIC_LVT_TIMER) = V_XAPIC_TIMER | APIC_LVT_MASKED;
    /* A long count, so a loaded host cannot let it run out before we look. */
    *xapic_reg(XAPIC_TIMER_INIT) = 1000000000;  /* 1 s at 1 GHz */
    vm_exit();
    cur = *xapic_reg(XAPIC_TIMER_CUR);
    *xapic_reg(XAPIC_TIMER_INIT) = 0;           /* 0 stops it */
    vm_exit();
    check("xapic_timer_current_count",
          cur > 0 && cur < 1000000000 && *xapic_reg(XAPIC_TIMER_CUR) == 0,
          "current count %u while running, %u once stopped", cur, *xapic_reg(XAPIC_TIMER_CUR));

    *xapic_reg(XAPIC_LVT_TIMER) = V_XAPIC_TIMER;
    t0 = now_ns();
    *xapic_reg(XAPIC_TIMER_INIT) = 2000000;     /* 2 ms */
    vm_exit();
    for (int k = 0; k < 100 && got[V_XAPIC_TIMER] == start; k++)
        irq_enable_and_halt();
    irq_disable();
    fired = got_time[V_XAPIC_TIMER];
    check("xapic_timer_fires",
          got[V_XAPIC_TIMER] == start + 1 && fired >= t0 + 2 * NS_PER_MS && fired < t0 + LATE_OK_NS,
          "interrupts %u, after %llu ns (want 2 ms)", got[V_XAPIC_TIMER] - start,
          (unsigned long long)(fired - t0));
    vm_exit();
    check("xapic_eoi", isr_seen_in_handler && !(*xapic_reg(XAPIC_ISR0 + 0x20) & 1),
          "ISR bit in the handler %d, after EOI %x", isr_seen_in_handler,
          *xapic_reg(XAPIC_ISR0 + 0x20));

    *xapic_reg(XAPIC_SVR) = 0xFF;
    vm_exit();
    check("xapic_svr_disable_masks", *xapic_reg(XAPIC_LVT_TIMER) & APIC_LVT_MASKED,
          "LVT timer %x after software disable", *xapic_reg(XAPIC_LVT_TIMER));
}

/* ---------- x2APIC ---------- */

static void check_x2apic_registers(void)
{
    uint64_t base;

    wrmsr(MSR_APIC_BASE, XAPIC_BASE | APIC_BASE_EN | APIC_BASE_EXTD);
    base = rdmsr(MSR_APIC_BASE);
    check("x2apic_enable", base == (XAPIC_BASE | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP),
          "IA32_APIC_BASE %llx, want fee00d00", (unsigned long long)base);
    check("x2apic_id_version_ldr",
          rdmsr(X2APIC_ID) == 0 && rdmsr(X2APIC_VERSION) == APIC_VERSION_VALUE &&
              rdmsr(X2APIC_LDR) == 1,
          "ID %llx VERSION %llx LDR %llx", (unsigned long long)rdmsr(X2APIC_ID),
          (unsigned long long)rdmsr(X2APIC_VERSION), (unsigned long long)rdmsr(X2APIC_LDR));
    wrmsr(X2APIC_SVR, APIC_SVR_ENABLE | 0xFF);
    check("x2apic_svr", rdmsr(X2APIC_SVR) == 0x1FF, "SVR %llx", (unsigned long long)rdmsr(X2APIC_SVR));
    wrmsr(X2APIC_TPR, 0x30);
    check("x2apic_tpr_ppr", rdmsr(X2APIC_TPR) == 0x30 && rdmsr(X2APIC_PPR) == 0x30,
          "TPR %llx PPR %llx", (unsigned long long)rdmsr(X2APIC_TPR),
          (unsigned long long)rdmsr(X2APIC_PPR));
    wrmsr(X2APIC_TPR, 0);
    eoi_by_msr = true;
}

static void check_self_ipis(void)
{
    unsigned int before = got[V_LOW];
    bool in_irr, early;

    wrmsr(X2APIC_SELF_IPI, V_LOW);
    in_irr = x2apic_vector_bit(X2APIC_IRR0, V_LOW);
    vm_exit();
    early = got[V_LOW] != before;
    interrupt_window();
    check("x2apic_self_ipi_msr",
          in_irr && !early && got[V_LOW] == before + 1 && isr_seen_in_handler &&
              !x2apic_vector_bit(X2APIC_ISR0, V_LOW),
          "IRR %d, taken with IF=0 %d, delivered %u, ISR in handler %d, after EOI %d", in_irr,
          early, got[V_LOW] - before, isr_seen_in_handler, x2apic_vector_bit(X2APIC_ISR0, V_LOW));

    before = got[V_LOW];
    wrmsr(X2APIC_ICR, ICR_SELF | ICR_FIXED | V_LOW);
    interrupt_window();
    check("x2apic_self_ipi_icr", got[V_LOW] == before + 1, "delivered %u times", got[V_LOW] - before);

    /* Destination forms that include us, and ones that do not. */
    unsigned int b53 = got[0x53], b54 = got[0x54], b55 = got[0x55], b56 = got[0x56];

    wrmsr(X2APIC_ICR, ICR_DEST(0xFFFFFFFFU) | ICR_FIXED | 0x53);       /* broadcast */
    wrmsr(X2APIC_ICR, ICR_ALL | ICR_FIXED | 0x54);
    wrmsr(X2APIC_ICR, ICR_ALL_BUT_SELF | ICR_FIXED | 0x55);
    interrupt_window();
    check("x2apic_ipi_shorthands",
          got[0x53] == b53 + 1 && got[0x54] == b54 + 1 && got[0x55] == b55,
          "broadcast %u, all %u, all-but-self %u (want 1 1 0)", got[0x53] - b53, got[0x54] - b54,
          got[0x55] - b55);
    wrmsr(X2APIC_ICR, ICR_DEST(7) | ICR_FIXED | 0x56);
    wrmsr(X2APIC_ICR, ICR_DEST(0x1234) | ICR_FIXED | 0x56);
    wrmsr(X2APIC_ICR, ICR_DEST(7) | ICR_INIT | ICR_ASSERT);
    wrmsr(X2APIC_ICR, ICR_DEST(7) | ICR_STARTUP | 0x08);
    wrmsr(X2APIC_ICR, ICR_DEST(0x50002) | ICR_LOGICAL | ICR_FIXED | 0x56);   /* cluster 5 */
    interrupt_window();
    check("x2apic_ipi_absent_destination", got[0x56] == b56, "delivered %u times to us",
          got[0x56] - b56);
    unsigned int b57 = got[0x57];

    wrmsr(X2APIC_ICR, ICR_DEST(0x00001) | ICR_LOGICAL | ICR_FIXED | 0x57);   /* cluster 0, us */
    interrupt_window();
    check("x2apic_ipi_logical_self", got[0x57] == b57 + 1, "delivered %u times", got[0x57] - b57);
}

/* Since nr_order was last zeroed: V_HIGH, then V_LOW, and nothing else. */
static bool took_high_then_low(void)
{
    return nr_order == 2 && order[0] == V_HIGH && order[1] == V_LOW;
}

static void check_priorities(void)
{
    unsigned int low;

    nr_order = 0;
    wrmsr(X2APIC_SELF_IPI, V_LOW);
    wrmsr(X2APIC_SELF_IPI, V_HIGH);
    interrupt_window();
    interrupt_window();
    check("x2apic_priority_order", took_high_then_low(),
          "%u interrupts, first %x then %x (want 61 then 52)", nr_order, order[0], order[1]);

    /*
     * Both in one window: the second is taken as soon as the first one's handler
     * returns with IF set (SVM queues one interrupt at a time and exits at that IRET).
     */
    nr_order = 0;
    wrmsr(X2APIC_SELF_IPI, V_LOW);
    wrmsr(X2APIC_SELF_IPI, V_HIGH);
    interrupt_window();
    check("x2apic_two_pending_one_window", took_high_then_low(),
          "%u interrupts in one sti;nop;cli, first %x then %x (want 61 then 52)", nr_order,
          order[0], order[1]);
    interrupt_window();                 /* whatever the check left pending, before the TPR checks */

    low = got[V_LOW];
    wrmsr(X2APIC_TPR, 0x60);
    wrmsr(X2APIC_SELF_IPI, V_LOW);
    interrupt_window();
    bool held = got[V_LOW] == low;

    wrmsr(X2APIC_TPR, 0);
    interrupt_window();
    check("x2apic_tpr_holds", held && got[V_LOW] == low + 1,
          "held back by TPR 60: %d; delivered after TPR 0: %u", held, got[V_LOW] - low);

    /* The STI shadow covers the HLT only: the interrupt is taken before the next instruction. */
    unsigned int b = got[V_LOW];

    wrmsr(X2APIC_SELF_IPI, V_LOW);
    irq_enable_and_halt();
    irq_disable();
    check("x2apic_self_ipi_wakes_hlt", got[V_LOW] == b + 1,
          "a pending interrupt was not taken by sti;hlt before the cli after it");
}

static void check_errors(void)
{
    uint64_t esr_send, esr_recv, esr_clear;
    unsigned int before = got[V_ERROR];

    wrmsr(X2APIC_ESR, 0);
    wrmsr(X2APIC_ICR, ICR_SELF | ICR_FIXED | 0x05);     /* vectors 0-15 are illegal (SDM 11.5.2) */
    wrmsr(X2APIC_ESR, 0);
    esr_send = rdmsr(X2APIC_ESR);
    wrmsr(X2APIC_SELF_IPI, 0x05);
    wrmsr(X2APIC_ESR, 0);
    esr_recv = rdmsr(X2APIC_ESR);
    wrmsr(X2APIC_ESR, 0);
    esr_clear = rdmsr(X2APIC_ESR);
    check("x2apic_esr", esr_send == 0x20 && esr_recv == 0x40 && esr_clear == 0,
          "send illegal vector: ESR %llx (want 20), receive: %llx (want 40), then %llx",
          (unsigned long long)esr_send, (unsigned long long)esr_recv,
          (unsigned long long)esr_clear);

    wrmsr(X2APIC_LVT_ERROR, V_ERROR);
    wrmsr(X2APIC_SELF_IPI, 0x05);
    interrupt_window();
    check("x2apic_lvt_error", got[V_ERROR] == before + 1, "error interrupts %u, want 1",
          got[V_ERROR] - before);
    wrmsr(X2APIC_LVT_ERROR, APIC_LVT_MASKED);
    wrmsr(X2APIC_ESR, 0);
}

static void check_x2apic_timer(void)
{
    unsigned int start = got[V_TIMER];
    uint64_t t0, fired;
    uint32_t cur;
    bool ok;

    wrmsr(X2APIC_LVT_TIMER, V_TIMER);
    wrmsr(X2APIC_TIMER_DIV, TIMER_DIV_16);
    wrmsr(X2APIC_TIMER_INIT, 100000000);                /* 1.6 s: only to read the count */
    cur = (uint32_t)rdmsr(X2APIC_TIMER_CUR);
    t0 = now_ns();
    wrmsr(X2APIC_TIMER_INIT, 125000);                   /* 125000 x 16 ns = 2 ms */
    ok = await_vector(V_TIMER, start, LATE_OK_NS);
    fired = got_time[V_TIMER];
    check("x2apic_timer_oneshot",
          ok && got[V_TIMER] == start + 1 && cur > 0 && cur < 100000000 &&
              fired >= t0 + 2 * NS_PER_MS && fired < t0 + LATE_OK_NS && rdmsr(X2APIC_TIMER_CUR) == 0,
          "%u interrupts, after %llu ns (want 2 ms), current count %u then %llu",
          got[V_TIMER] - start, (unsigned long long)(fired - t0), cur,
          (unsigned long long)rdmsr(X2APIC_TIMER_CUR));

    start = got[V_TIMER];
    wrmsr(X2APIC_TIMER_DIV, TIMER_DIV_128);
    t0 = now_ns();
    wrmsr(X2APIC_TIMER_INIT, 15625);                    /* 15625 x 128 ns = 2 ms */
    ok = await_vector(V_TIMER, start, LATE_OK_NS);
    fired = got_time[V_TIMER];
    check("x2apic_timer_divide", ok && fired >= t0 + 2 * NS_PER_MS,
          "divide by 128: fired %d after %llu ns (want 2 ms)", ok, (unsigned long long)(fired - t0));

    start = got[V_TIMER];
    wrmsr(X2APIC_LVT_TIMER, V_TIMER | APIC_LVT_PERIODIC);
    wrmsr(X2APIC_TIMER_DIV, TIMER_DIV_1);
    t0 = now_ns();
    wrmsr(X2APIC_TIMER_INIT, 5000000);                  /* 5 ms period */
    ok = true;
    for (int k = 0; k < 5 && ok; k++)
        ok = await_vector(V_TIMER, got[V_TIMER], LATE_OK_NS);
    fired = got_time[V_TIMER];
    wrmsr(X2APIC_TIMER_INIT, 0);                        /* 0 stops it */
    interrupt_window();
    unsigned int stopped = got[V_TIMER];

    irq_enable();
    spin_until(now_ns() + 20 * NS_PER_MS);
    irq_disable();
    check("x2apic_timer_periodic",
          ok && got[V_TIMER] - start >= 5 && fired >= t0 + 25 * NS_PER_MS && got[V_TIMER] == stopped,
          "%u interrupts, 5th after %llu ns (want >= 25 ms), %u after the stop",
          got[V_TIMER] - start, (unsigned long long)(fired - t0), got[V_TIMER] - stopped);

    start = got[V_TIMER];
    wrmsr(X2APIC_LVT_TIMER, V_TIMER | APIC_LVT_MASKED);
    wrmsr(X2APIC_TIMER_INIT, 1000000);
    irq_enable();
    spin_until(now_ns() + 5 * NS_PER_MS);
    irq_disable();
    check("x2apic_timer_masked", got[V_TIMER] == start && rdmsr(X2APIC_TIMER_CUR) == 0,
          "%u interrupts from a masked timer, count %llu", got[V_TIMER] - start,
          (unsigned long long)rdmsr(X2APIC_TIMER_CUR));
    wrmsr(X2APIC_TIMER_INIT, 0);
}

/* ---------- what must #GP ---------- */

struct msr_access {
    bool write;
    uint32_t msr;
    uint64_t value;
};

static void do_access(void *arg)
{
    const struct msr_access *a = arg;

    if (a->write)
        wrmsr(a->msr, a->value);
    else
        (void)rdmsr(a->msr);
}

static const struct msr_access must_gp[] = {
    { false, 0x804, 0 },                    /* reserved */
    { false, X2APIC_EOI, 0 },               /* write-only */
    { false, X2APIC_SELF_IPI, 0 },          /* write-only */
    { false, 0x80E, 0 },                    /* DFR: xAPIC only */
    { false, 0x831, 0 },                    /* ICR high half: xAPIC only */
    { false, 0x8FF, 0 },                    /* past the last register */
    { true, X2APIC_ID, 1 },                 /* read-only ... */
    { true, X2APIC_VERSION, 0 },
    { true, X2APIC_LDR, 0 },
    { true, X2APIC_PPR, 0 },
    { true, X2APIC_TIMER_CUR, 0 },
    { true, X2APIC_ISR0, 0 },
    { true, X2APIC_TPR, 0x100 },            /* reserved bits ... */
    { true, X2APIC_EOI, 1 },                /* EOI and ESR take only 0 */
    { true, X2APIC_ESR, 1 },
    { true, X2APIC_SELF_IPI, 0x100 },
    { true, X2APIC_SVR, 0x11FF },           /* EOI-broadcast suppression is not offered */
    { true, X2APIC_LVT_TIMER, (1U << 18) | V_TIMER },  /* TSC-deadline mode: not offered */
    { true, X2APIC_TIMER_INIT, 1ULL << 32 },
    { true, X2APIC_ICR, 0x300 | V_LOW },    /* reserved delivery mode 011b */
    { false, MSR_TSC_DEADLINE, 0 },         /* no TSC-deadline timer */
    { true, MSR_TSC_DEADLINE, 1 },
    { true, MSR_APIC_BASE, XAPIC_BASE | APIC_BASE_EN },           /* x2APIC -> xAPIC */
    { true, MSR_APIC_BASE, 0xFED00000UL | APIC_BASE_EN | APIC_BASE_EXTD },   /* relocation */
    { true, MSR_APIC_BASE, XAPIC_BASE | APIC_BASE_EXTD },         /* EXTD without EN */
};

static void check_gp(void)
{
    for (unsigned int k = 0; k < ARRAY_SIZE(must_gp); k++) {
        struct fault_info f;
        const struct msr_access *a = &must_gp[k];

        if (!run_catching(do_access, (void *)a, &f) || f.vector != X86_EXC_GP) {
            check_fail("x2apic_gp", "%s %x value %llx: vector %d, want #GP",
                       a->write ? "wrmsr" : "rdmsr", a->msr, (unsigned long long)a->value,
                       f.vector);
            return;
        }
    }
    check("x2apic_gp", rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD, "x2APIC mode was lost");
}

/* Disabling the APIC resets it; it comes back in xAPIC mode, then x2APIC again. */
static void check_disable(void)
{
    struct msr_access id = { false, X2APIC_ID, 0 };
    bool gp;

    wrmsr(X2APIC_TPR, 0x40);
    wrmsr(MSR_APIC_BASE, XAPIC_BASE);
    gp = expect_fault(X86_EXC_GP, do_access, &id);
    wrmsr(MSR_APIC_BASE, XAPIC_BASE | APIC_BASE_EN);
    vm_exit();
    check("lapic_disable_resets",
          gp && *xapic_reg(XAPIC_SVR) == 0xFF && *xapic_reg(XAPIC_TPR) == 0 &&
              rdmsr(MSR_APIC_BASE) == (XAPIC_BASE | APIC_BASE_EN | APIC_BASE_BSP),
          "x2APIC MSRs #GP when disabled %d; after re-enable SVR %x TPR %x base %llx", gp,
          *xapic_reg(XAPIC_SVR), *xapic_reg(XAPIC_TPR), (unsigned long long)rdmsr(MSR_APIC_BASE));
    x2apic_enable();
}

/* ---------- NMIs ---------- */

/* IRET ends NMI blocking (SDM vol. 3A 6.7.1); the recovery point skipped the handler's IRET. */
static void nmi_unblock(void)
{
    __asm__ volatile("movq %%rsp, %%rax\n\t"
                     "pushq %[ss]\n\t"
                     "pushq %%rax\n\t"
                     "pushfq\n\t"
                     "pushq %[cs]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "iretq\n"
                     "1:"
                     : : [ss] "i"(SEL_DATA), [cs] "i"(SEL_CODE64) : "rax", "memory");
}

static void nmi_by_icr(void *arg)
{
    (void)arg;
    wrmsr(X2APIC_ICR, ICR_DEST(0) | ICR_NMI | ICR_ASSERT);
    for (int k = 0; k < 10; k++)
        vm_exit();
}

static void nmi_by_vcpu_op(void *arg)
{
    long *rc = arg;

    *rc = hv_vcpu_op(VCPUOP_send_nmi, 0, 0);
    for (int k = 0; k < 10; k++)
        vm_exit();
}

static void check_nmis(void)
{
    struct fault_info f;
    long rc = -1;

    run_catching(nmi_by_icr, NULL, &f);
    nmi_unblock();
    check("x2apic_nmi_ipi", f.vector == X86_EXC_NMI, "vector %d, want 2 (NMI)", f.vector);
    run_catching(nmi_by_vcpu_op, &rc, &f);
    nmi_unblock();
    check("vcpu_send_nmi", f.vector == X86_EXC_NMI, "rc %ld, vector %d, want 2 (NMI)", rc, f.vector);
}

int main(const struct hvm_start_info *si)
{
    (void)si;
    note("lapic64: the virtual local APIC\n");
    if (!xen_cpuid_base())
        guest_panic("no Xen CPUID leaves: these checks need Wisp or Xen");
    if (ev_map_shared_info())
        note("no shared_info: timer checks cannot measure time\n");
    for (unsigned int v = V_FIRST_TEST; v <= V_LAST_TEST; v++)
        irq_set_handler(v, on_test_vector);
    check_cpuid_and_base();
    check_xapic_page();
    check_xapic_timer();
    check_x2apic_registers();
    check_self_ipis();
    check_priorities();
    check_errors();
    check_x2apic_timer();
    check_gp();
    check_disable();
    check_nmis();
    checks_done();
    return 0;           /* the verdict lines carry the result */
}
