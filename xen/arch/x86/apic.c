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
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_LVT_TIMER  0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0

#define SVR_ENABLE          (1u << 8)
#define LVT_MASKED          (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define TIMER_DIV_1         0xb

static bool x2apic;
static bool tsc_deadline;
static volatile uint32_t *xapic_mmio;
static uint64_t apic_timer_hz;         /* one-shot mode only */
static volatile bool timer_fired;
static uint64_t armed_tsc;             /* the armed deadline, 0 if none */

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
    uint64_t base = rdmsr(MSR_APIC_BASE);

    cpuid_count(1, 0, &r);
    x2apic = r.ecx & CPUID1_ECX_X2APIC;
    tsc_deadline = r.ecx & CPUID1_ECX_TSC_DEADLINE;
    if (x2apic)
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    else
        xapic_mmio = phys_to_virt(base & APIC_BASE_ADDR_MASK);
    apic_write(APIC_SVR, SVR_ENABLE | HOST_SPURIOUS_VECTOR);
    if (tsc_deadline) {
        apic_write(APIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | HOST_TIMER_VECTOR);
    } else {
        apic_timer_hz = measure_apic_timer_hz();
        apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR);     /* one-shot */
    }
    log_info("host timer: %s", host_timer_mode());
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
    if (deadline_tsc == armed_tsc)
        return;                 /* armed already: the scheduler asks again after most exits */
    armed_tsc = deadline_tsc;
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
    return armed_tsc;
}

void host_timer_cancel(void)
{
    armed_tsc = 0;
    if (tsc_deadline)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        apic_write(APIC_TIMER_INIT, 0);
}

bool host_timer_take_fired(void)
{
    bool fired = timer_fired;

    timer_fired = false;
    if (fired)
        armed_tsc = 0;          /* a one-shot that fired is armed no more */
    return fired;
}

void host_timer_interrupt(void)
{
    timer_fired = true;
    apic_write(APIC_EOI, 0);
}
