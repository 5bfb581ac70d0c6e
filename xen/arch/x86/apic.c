/* apic.c (hypervisor): the host local APIC: enable it and drive its timer, one shot at a time. */
#include "env.h"
#include "apic.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "time.h"
#include "x86.h"

#define MSR_APIC_BASE        0x1bu
#define APIC_BASE_EXTD       (1ull << 10)   /* x2APIC mode */
#define APIC_BASE_EN         (1ull << 11)
#define APIC_BASE_ADDR_MASK  0xffffff000ull
#define MSR_TSC_DEADLINE     0x6e0u

#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16), SDM vol 3, table 11-1. */
#define APIC_ID         0x020
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_LVT_TIMER  0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0
#define APIC_ICR        0x300      /* x2APIC: one 64-bit MSR, destination in bits 63:32 */
#define APIC_ICR_HI     0x310      /* xAPIC only: destination in bits 31:24 */
#define ICR_BUSY        (1u << 12) /* xAPIC delivery status: the IPI is not yet accepted */

#define SVR_ENABLE          (1u << 8)
#define LVT_MASKED          (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define TIMER_DIV_1         0xb

/* How every CPU drives its APIC: measured by the boot CPU before any other starts. */
static bool x2apic;
static bool tsc_deadline;
static volatile uint32_t *xapic_mmio;   /* the same address on every CPU: each sees its own */
static uint64_t apic_timer_hz;         /* one-shot mode only */

static uint32_t apic_read(unsigned reg)
{
    return x2apic ? (uint32_t)rdmsr(0x800 + reg / 16) : xapic_mmio[reg / 4];
}

static void apic_write(unsigned reg, uint32_t value)
{
    if (x2apic)
        wrmsr(0x800 + reg / 16, value);
    else
        xapic_mmio[reg / 4] = value;
}

/* The APIC timer's input clock, counted against the TSC over a few milliseconds. */
static uint64_t measure_apic_timer_hz(void)
{
    uint64_t tsc_window = time_tsc_khz() * 5;     /* 5 ms */
    uint64_t start;

    apic_write(APIC_TIMER_DIV, TIMER_DIV_1);
    apic_write(APIC_LVT_TIMER, LVT_MASKED | HOST_TIMER_VECTOR);
    apic_write(APIC_TIMER_INIT, 0xffffffffu);
    start = rdtsc();
    while (rdtsc() - start < tsc_window)
        cpu_relax();
    uint32_t elapsed = 0xffffffffu - apic_read(APIC_TIMER_CUR);
    apic_write(APIC_TIMER_INIT, 0);
    return (uint64_t)elapsed * 200;
}

void host_apic_init(void)
{
    struct cpuid_regs r;

    cpuid_count(1, 0, &r);
    x2apic = r.ecx & CPUID1_ECX_X2APIC;
    tsc_deadline = r.ecx & CPUID1_ECX_TSC_DEADLINE;
    if (!x2apic)
        xapic_mmio = phys_to_virt(rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK);
    host_apic_cpu_init();
    if (!tsc_deadline) {
        apic_timer_hz = measure_apic_timer_hz();
        apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR);     /* one-shot */
    }
    log_info("host timer: %s", host_timer_mode());
}

void host_apic_cpu_init(void)
{
    if (x2apic)
        wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
    apic_write(APIC_SVR, SVR_ENABLE | HOST_SPURIOUS_VECTOR);
    if (tsc_deadline) {
        apic_write(APIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | HOST_TIMER_VECTOR);
    } else {
        apic_write(APIC_TIMER_DIV, TIMER_DIV_1);        /* as measured: not the reset's 2 */
        apic_write(APIC_TIMER_INIT, 0);
        apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR);  /* one-shot, not counting */
    }
}

uint32_t host_apic_id(void)
{
    return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

bool host_apic_send(uint32_t apic_id, uint32_t icr)
{
    if (x2apic) {
        wrmsr(0x800 + APIC_ICR / 16, (uint64_t)apic_id << 32 | icr);
        return true;
    }
    if (apic_id > 0xff)
        return false;
    apic_write(APIC_ICR_HI, apic_id << 24);
    apic_write(APIC_ICR, icr);
    for (unsigned spins = 0; spins < 1000000; spins++)     /* accepted within microseconds */
        if (!(apic_read(APIC_ICR) & ICR_BUSY))
            return true;
    return false;
}

const char *host_timer_mode(void)
{
    if (tsc_deadline)
        return x2apic ? "x2APIC TSC-deadline" : "xAPIC TSC-deadline";
    return x2apic ? "x2APIC one-shot" : "xAPIC one-shot";
}

void host_timer_arm(uint64_t deadline_tsc)
{
    if (!deadline_tsc)
        deadline_tsc = 1;       /* 0 would disarm a TSC-deadline timer: fire at once instead */
    if (deadline_tsc == this_cpu()->armed_tsc)
        return;                 /* armed already: the scheduler asks again after most exits */
    this_cpu()->armed_tsc = deadline_tsc;
    if (tsc_deadline) {
        wrmsr(MSR_TSC_DEADLINE, deadline_tsc);
        return;
    }
    uint64_t now = rdtsc();
    uint64_t tsc_left = deadline_tsc > now ? deadline_tsc - now : 0;
    uint64_t count = tsc_left * (apic_timer_hz / 1000) / (time_tsc_khz() ? time_tsc_khz() : 1);

    apic_write(APIC_TIMER_INIT, count == 0 ? 1 : count > 0xffffffffu ? 0xffffffffu : (uint32_t)count);
}

uint64_t host_timer_deadline(void)
{
    return this_cpu()->armed_tsc;
}

void host_timer_cancel(void)
{
    this_cpu()->armed_tsc = 0;
    if (tsc_deadline)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        apic_write(APIC_TIMER_INIT, 0);
}

bool host_timer_take_fired(void)
{
    struct percpu *me = this_cpu();
    bool fired = __atomic_exchange_n(&me->timer_fired, false, __ATOMIC_RELAXED);

    if (fired)
        me->armed_tsc = 0;      /* a one-shot that fired is armed no more */
    return fired;
}

void host_timer_interrupt(void)
{
    __atomic_store_n(&this_cpu()->timer_fired, true, __ATOMIC_RELAXED);
    apic_write(APIC_EOI, 0);
}

/* The meaning of an IPI travels in the target's percpu fields; the interrupt only wakes it. */
void host_ipi_interrupt(void)
{
    apic_write(APIC_EOI, 0);
}
