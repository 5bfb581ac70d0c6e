/*
 * smpboot.c (hypervisor): starts the machine's other CPUs (application
 * processors) and checks that their TSCs agree with the boot CPU's.
 *
 * The boot CPU starts them one at a time (SDM vol 3, 9.4.4.1: INIT, then two
 * start-up IPIs), each with its own stack, descriptor tables, per-CPU area and
 * SVM or VMX enabled. Each then waits until the boot CPU has built the
 * domains, and runs its own scheduler loop (sched.c).
 */
#include "env.h"
#include "apic.h"
#include "cpu.h"
#include "domain.h"
#include "fpu.h"
#include "hvm.h"
#include "mce.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "sched.h"
#include "smpboot.h"
#include "spec_ctrl.h"
#include "spinlock.h"
#include "time.h"
#include "x86.h"

#define AP_STACK_SIZE     0x8000    /* as the boot CPU's (head.S) */
#define AP_START_WAIT_US  1000000   /* a silent CPU is given up after 1 s */
#define TSC_CHECK_ROUNDS  2000      /* a count, not a time: Bochs runs two CPUs in turns */

extern const char ap_trampoline[], ap_trampoline_end[];

/*
 * The hand-over to the one CPU starting now: the boot CPU writes these before
 * it sends the start-up IPIs. The CPU claims its start (AP_STARTING ->
 * AP_CLAIMED) before it touches anything shared; a boot CPU that gave up first
 * made it AP_ABANDONED, and the late CPU then halts at once. Either way one
 * compare-and-swap decides, and a CPU given up on keeps its stack to itself:
 * no other CPU is started after it.
 */
uint64_t ap_stack_top;                  /* read by trampoline.S */
static unsigned ap_cpu_id;
static int ap_state;                    /* one of these, or a negative errno from set-up */
#define AP_UP        0
#define AP_STARTING  1
#define AP_CLAIMED   2
#define AP_ABANDONED 3
#define AP_SETUP_WAIT_US 10000000       /* a claimed CPU finishes its set-up in far less */
static unsigned tsc_arrived;            /* the two CPUs of a TSC check meet here first */
static bool ap_tsc_checked;

static uint8_t ap_stacks[MAX_PCPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static unsigned cpus_online = 1;        /* boot CPU only; written before any AP schedules */
static uint32_t online_apic_ids[MAX_PCPUS];
static bool domains_built;              /* set once by the boot CPU: the others may schedule */

/* The TSC check: both CPUs read the TSC in turns under tsc_lock; time never runs backwards. */
static spinlock_t tsc_lock = SPINLOCK_INIT;
static uint64_t tsc_last;               /* tsc_lock */
static uint64_t tsc_backwards;          /* tsc_lock: the largest step back seen */

static void tsc_check_rounds(void)
{
    /* Both start together, so their reads interleave (the rounds take only microseconds). */
    __atomic_add_fetch(&tsc_arrived, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&tsc_arrived, __ATOMIC_SEQ_CST) < 2)
        cpu_relax();
    for (unsigned i = 0; i < TSC_CHECK_ROUNDS; i++) {
        spin_lock(&tsc_lock);
        __asm__ volatile("lfence" ::: "memory");    /* no TSC read before the lock is held */
        uint64_t t = rdtsc();

        if (t < tsc_last && tsc_last - t > tsc_backwards)
            tsc_backwards = tsc_last - t;
        if (t > tsc_last)
            tsc_last = t;
        spin_unlock(&tsc_lock);
    }
}

static void wait_us(uint64_t us)
{
    uint64_t end = rdtsc() + time_tsc_khz() * us / 1000;

    while (rdtsc() < end)
        cpu_relax();
}

/* What each CPU sets up for itself; the boot CPU did the same in start_wisp. */
void ap_start(void) __attribute__((noreturn));
void ap_start(void)
{
    int claim = AP_STARTING, rc;

    if (!__atomic_compare_exchange_n(&ap_state, &claim, AP_CLAIMED, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        for (;;)
            __asm__ volatile("cli; hlt");       /* too late: the boot CPU went on without us */
    percpu_init(__atomic_load_n(&ap_cpu_id, __ATOMIC_ACQUIRE));
    cpu_tables_init();
    cpu_caches_on();
    cpu_write_protect_on();
    mce_init();
    spec_ctrl_cpu_init();
    fpu_host_init();
    rc = hvm->cpu_enable();
    host_apic_cpu_init();
    __atomic_store_n(&ap_state, rc ? rc : AP_UP, __ATOMIC_RELEASE);
    if (rc)
        for (;;)
            __asm__ volatile("cli; hlt");
    tsc_check_rounds();
    __atomic_store_n(&ap_tsc_checked, true, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&domains_built, __ATOMIC_ACQUIRE))
        cpu_relax();
    sched_run();
}

static bool ap_in_state(int state)
{
    return __atomic_load_n(&ap_state, __ATOMIC_SEQ_CST) == state;
}

static void wait_while_ap_in(int state, uint64_t us)
{
    for (uint64_t waited = 0; waited < us && ap_in_state(state); waited += 100)
        wait_us(100);
}

/*
 * Starts one CPU as number `cpu` on stack `slot` (each try its own: a CPU that
 * failed keeps its stack). 1 if it came up, 0 if it did not (logged), -1 if
 * it was given up on, so that no other may start after it.
 */
static int start_ap(unsigned cpu, unsigned slot, uint32_t apic_id, uint64_t page)
{
    uint8_t vector = (uint8_t)(page >> 12);
    int starting = AP_STARTING;

    ap_stack_top = (uintptr_t)ap_stacks[slot] + AP_STACK_SIZE;
    ap_state = AP_STARTING;
    tsc_arrived = 0;
    ap_tsc_checked = false;
    __atomic_store_n(&ap_cpu_id, cpu, __ATOMIC_SEQ_CST);

    if (!host_apic_send(apic_id, APIC_ICR_INIT)) {
        log_warn("CPU with APIC ID %u: its INIT was not accepted", apic_id);
        return 0;
    }
    wait_us(10000);
    /* The second start-up IPI is for CPUs that missed the first (SDM vol 3, 9.4.4.1). */
    for (unsigned sipi = 0; sipi < 2 && ap_in_state(AP_STARTING); sipi++) {
        if (!host_apic_send(apic_id, APIC_ICR_STARTUP(vector)))
            break;
        wait_while_ap_in(AP_STARTING, 200);
    }
    wait_while_ap_in(AP_STARTING, AP_START_WAIT_US);
    if (__atomic_compare_exchange_n(&ap_state, &starting, AP_ABANDONED, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        (void)host_apic_send(apic_id, APIC_ICR_INIT);   /* back to waiting, if it listens */
        log_warn("CPU with APIC ID %u did not start within 1 s: it and the CPUs after it are "
                 "left out", apic_id);
        return -1;
    }
    wait_while_ap_in(AP_CLAIMED, AP_SETUP_WAIT_US);
    if (ap_in_state(AP_CLAIMED))
        panic("CPU with APIC ID %u started but did not finish its set-up in 10 s", apic_id);
    if (!ap_in_state(AP_UP)) {
        log_warn("CPU with APIC ID %u cannot enable %s (error %d): left out", apic_id, hvm->name,
                 ap_state);
        return 0;                       /* it halted itself; its stack stays its own */
    }
    tsc_check_rounds();
    while (!__atomic_load_n(&ap_tsc_checked, __ATOMIC_ACQUIRE))
        cpu_relax();
    return 1;
}

static void log_online(unsigned listed)
{
    char ids[MAX_PCPUS * 11] = "";
    size_t len = 0;

    if (!listed)
        return;                         /* find_cpus said why */
    for (unsigned i = 0; i < cpus_online; i++)
        len += (size_t)snprintf(ids + len, sizeof(ids) - len, " %u", online_apic_ids[i]);
    log_info("CPUs: %u running of %u in the ACPI MADT (APIC IDs%s)", cpus_online, listed, ids);
    if (cpus_online < 2)
        return;
    if (tsc_backwards)
        log_warn("TSCs are not synchronised: one ran up to %lu cycles behind another",
                 tsc_backwards);
    else
        log_info("TSCs agree across %u CPUs", cpus_online);
}

void smp_boot(const struct boot_info *bi, const struct acpi_cpus *cpus, unsigned max)
{
    uint32_t self = host_apic_id();
    uint64_t page = boot_low_page(bi);

    online_apic_ids[0] = self;
    if (!max || max > MAX_PCPUS)
        max = MAX_PCPUS;
    if (cpus->nr > 1 && max > 1 && !page) {
        log_warn("CPUs: no free RAM page below 636 KiB to start the others from: boot CPU only");
        max = 1;
    }
    if (max > 1 && cpus->nr > 1)
        memcpy(phys_to_virt(page), ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    /* Stack slot 0 is the boot CPU's place; each try takes the next. */
    for (unsigned i = 0, slot = 1; i < cpus->nr && cpus_online < max && slot < MAX_PCPUS; i++) {
        if (cpus->apic_id[i] == self)
            continue;
        int started = start_ap(cpus_online, slot++, cpus->apic_id[i], page);

        if (started < 0)
            break;
        if (started)
            online_apic_ids[cpus_online++] = cpus->apic_id[i];
    }
    log_online(cpus->listed);
}

unsigned smp_cpus_online(void)
{
    return cpus_online;
}

uint32_t smp_apic_id(unsigned cpu)
{
    return online_apic_ids[cpu];
}

void smp_release_others(void)
{
    __atomic_store_n(&domains_built, true, __ATOMIC_RELEASE);
}

void smp_kick(unsigned cpu)
{
    struct percpu *p = percpu_of(cpu);

    if (!__atomic_exchange_n(&p->kicked, true, __ATOMIC_SEQ_CST) && cpu != this_cpu_id())
        (void)host_apic_send(online_apic_ids[cpu], APIC_ICR_FIXED(HOST_IPI_VECTOR));
}

#define LEAVE_GUEST_WAIT_US 5000000     /* an exit comes within the host timer's slice */

/*
 * Kicks `cpu` and waits until it is out of d's guest. The caller may hold
 * hv_lock: a CPU leaves guest mode, and says so, before it takes any lock.
 */
void smp_wait_out_of_guest(unsigned cpu, const struct domain *d)
{
    struct percpu *p = percpu_of(cpu);
    uint64_t waited = 0;

    if (cpu == this_cpu_id())
        return;                         /* this CPU is in the hypervisor */
    smp_kick(cpu);
    while (__atomic_load_n(&p->in_guest, __ATOMIC_SEQ_CST) == d) {
        if (waited++ >= LEAVE_GUEST_WAIT_US)
            panic("CPU %u did not leave d%u's guest in 5 s", cpu, d->id);
        wait_us(1);
    }
}

void smp_stop_others(bool wait)
{
    unsigned me = this_cpu_id();

    for (unsigned cpu = 0; cpu < cpus_online; cpu++) {
        if (cpu == me)
            continue;
        __atomic_store_n(&percpu_of(cpu)->stop, true, __ATOMIC_SEQ_CST);
        smp_kick(cpu);
    }
    for (unsigned cpu = 0; wait && cpu < cpus_online; cpu++) {
        struct domain *d = cpu == me ? NULL : __atomic_load_n(&percpu_of(cpu)->in_guest,
                                                              __ATOMIC_SEQ_CST);
        if (d)
            smp_wait_out_of_guest(cpu, d);
    }
}

void smp_park_if_stopped(void)
{
    struct percpu *me = this_cpu();

    if (!__atomic_load_n(&me->stop, __ATOMIC_SEQ_CST))
        return;
    __atomic_store_n(&me->in_guest, NULL, __ATOMIC_SEQ_CST);
    __atomic_store_n(&me->parked, true, __ATOMIC_SEQ_CST);
    for (;;)
        __asm__ volatile("cli; hlt");
}
