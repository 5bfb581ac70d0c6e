/* hostile.c (guest, act64): the timer and spinning actions a hostile guest runs beside a canary domain: huge and tiny timer periods, spins without exits, three spinning vCPUs. */
#include "hostile.h"

#include "evlib.h"
#include "x86.h"
#include "xen/errno.h"
#include "xen/sched.h"
#include "xen/vcpu.h"

#define NS_PER_US       1000ULL
#define WATCH_NS        (100 * NS_PER_MS)  /* how long a timer that must not fire is watched */
#define RATE_WINDOW_NS  (100 * NS_PER_MS)  /* how long a timer's rate is measured */
#define LATE_OK_NS      (1000 * NS_PER_MS)
#define PERIODIC_MIN_NS NS_PER_MS          /* Xen's VCPUOP_set_periodic_timer floor */
#define PERIODIC_MAX_NS 0x3fffffffffffffffULL  /* Xen's STIME_DELTA_MAX, 2^62 - 1 */
#define FAR_TIMEOUT_NS  (100 * NS_PER_MS)  /* what set_timer_op makes of a wrapped timeout */
#define LAPIC_MIN_NS    (100 * NS_PER_US)  /* the vLAPIC's periodic floor (Xen's vpt.c) */

#define V_LAPIC_TIMER   0x40
#define TIMER_DIV_1     0xB                /* divide configuration 1011b (SDM figure 11-10) */
/* The xAPIC register page and its offsets (SDM vol 3A, 11.4.1 and table 11-1). */
#define XAPIC_BASE      0xFEE00000UL
#define XAPIC_EOI       0x0B0
#define XAPIC_SVR       0x0F0
#define XAPIC_LVT_TIMER 0x320
#define XAPIC_TIMER_INIT 0x380
#define XAPIC_TIMER_DIV 0x3E0

/* ---- Xen timers: VCPUOP periodic and singleshot, set_timer_op ---- */

static long set_periodic(uint64_t period_ns)
{
    struct vcpu_set_periodic_timer t = { .period_ns = period_ns };

    return hv_vcpu_op(VCPUOP_set_periodic_timer, 0, HV_PTR(&t));
}

static long set_singleshot(uint64_t deadline_ns)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline_ns };

    return hv_vcpu_op(VCPUOP_set_singleshot_timer, 0, HV_PTR(&t));
}

static long set_timer_op(uint64_t deadline_ns)
{
    return hypercall(__HYPERVISOR_set_timer_op, (unsigned long)deadline_ns, 0, 0, 0, 0);
}

/*
 * Watches `port` for `ns` of guest time, giving the pCPU away in between
 * (no upcall is set up: the pending bit in shared_info is the event).
 * Returns how many times it was seen pending; *first gets the time of the first.
 */
static unsigned int count_events(uint32_t port, uint64_t ns, uint64_t *first)
{
    uint64_t end = pv_now() + ns;
    unsigned int n = 0;

    *first = 0;
    while (pv_now() < end) {
        if (ev_pending(port)) {
            ev_clear_pending(port);
            if (!n++)
                *first = pv_now();
        }
        (void)hv_sched_op(SCHEDOP_yield, 0);
    }
    return n;
}

#define MAX_GAPS 128

/* The 1 ms period's rate is measured over this much of the vCPU's own running time. */
#define OWN_RUN_WINDOW_NS (30 * NS_PER_MS)

/* This vCPU's runstate, which the hypervisor rewrites whenever the vCPU starts or stops running. */
static volatile struct vcpu_runstate_info runstate;

static void register_runstate(void)
{
    uint64_t addr = HV_PTR(&runstate);

    if (hv_vcpu_op(VCPUOP_register_runstate_memory_area, 0, HV_PTR(&addr)))
        guest_panic("cannot register the runstate area");
}

/* This vCPU's clock, its running time so far and the run it is in (a run's entry time). */
struct own_time {
    uint64_t now, ran, run;
};

/*
 * Reads the clock and the runstate area as one: the hypervisor rewrites the
 * area whenever this vCPU stops or starts running, so a descheduling between
 * the two reads shows as a changed entry time, and they are read again. (Read
 * apart, the clock from before a descheduling and the area from after it give
 * a running time that went backwards.)
 */
static struct own_time own_time(void)
{
    for (;;) {
        uint64_t run = runstate.state_entry_time, ran = runstate.time[RUNSTATE_running];
        uint64_t now = pv_now();

        __asm__ volatile("" ::: "memory");
        if (runstate.state_entry_time == run)
            return (struct own_time){ .now = now, .ran = ran + (now - run), .run = run };
    }
}

/*
 * Counts `port`'s events for `ns` of this vCPU's own running time (at most 10
 * times that in guest time) without giving the pCPU away, so no event is
 * coalesced with the next while it runs. *median gets the median gap between
 * events inside one run of this vCPU (a run starts when the runstate area's
 * entry time changes), leaving out each run's first event (it may have come
 * due while other vCPUs had the pCPU): that is the period however often and
 * however long they take the pCPU meanwhile, where a gap spanning their turn
 * would measure the turn.
 */
static unsigned int count_events_spinning(uint32_t port, uint64_t ns, uint64_t *median)
{
    static uint64_t gaps[MAX_GAPS];
    struct own_time t = own_time();
    uint64_t give_up = t.now + 10 * ns, ran0 = t.ran, run = t.run, last = 0;
    unsigned int n = 0, nr_gaps = 0, in_run = 0;

    while ((t = own_time()).now < give_up && t.ran - ran0 < ns) {
        if (t.run != run) {
            run = t.run;        /* descheduled since the last look: a new run starts */
            in_run = 0;
        }
        if (!ev_pending(port))
            continue;
        ev_clear_pending(port);
        n++;
        if (in_run++ >= 2 && nr_gaps < MAX_GAPS) {
            /* Insertion sort: the list stays ordered. */
            unsigned int i = nr_gaps++;

            for (; i && gaps[i - 1] > t.now - last; i--)
                gaps[i] = gaps[i - 1];
            gaps[i] = t.now - last;
        }
        last = t.now;
    }
    *median = nr_gaps ? gaps[nr_gaps / 2] : 0;
    return n;
}

/*
 * The reference for the periodic rate, measured on this machine in this run:
 * the median time from a singleshot timer's deadline to its event, over runs
 * in which this vCPU kept its pCPU. Under an emulator one timer exit can cost
 * milliseconds of guest time (Bochs with two CPUs), and a periodic timer can be
 * no faster than that.
 */
static uint64_t singleshot_latency_ns(uint32_t port)
{
    uint64_t lat[9];
    unsigned int n = 0;

    for (unsigned int tries = 0; tries < 50 && n < 9; tries++) {
        uint64_t run = runstate.state_entry_time, due = pv_now() + PERIODIC_MIN_NS;
        uint64_t give_up = due + 100 * NS_PER_MS, now;

        ev_clear_pending(port);
        if (set_singleshot(due))
            return UINT64_MAX;
        while (!ev_pending(port) && (now = pv_now()) < give_up)
            ;
        now = pv_now();
        if (!ev_pending(port) || runstate.state_entry_time != run)
            continue;           /* lost the pCPU meanwhile: that measures the others' turn */
        unsigned int i = n++;   /* insertion sort, as in count_events_spinning */

        for (; i && lat[i - 1] > now - due; i--)
            lat[i] = lat[i - 1];
        lat[i] = now - due;
    }
    ev_clear_pending(port);
    return n ? lat[n / 2] : UINT64_MAX;
}

/* Blocks this vCPU for good: a poll on a port nobody signals, with the largest timeout. */
static __noreturn void block_forever(void)
{
    uint32_t port = 0;
    struct sched_poll poll = { .nr_ports = 1, .timeout = UINT64_MAX };

    (void)ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &port);
    set_xen_guest_handle(poll.ports, &port);
    for (;;)
        (void)hv_sched_op(SCHEDOP_poll, HV_PTR(&poll));
}

static uint32_t timer_port(void)
{
    uint32_t port = 0;

    if (ev_map_shared_info())
        guest_panic("no shared_info: the timer checks need pvclock");
    if (ev_bind_virq(VIRQ_TIMER, 0, &port))
        guest_panic("cannot bind VIRQ_TIMER");
    ev_clear_pending(port);
    return port;
}

void act_periodic_huge(void)
{
    uint32_t port = timer_port();
    uint64_t first, t0;

    register_runstate();
    unsigned int n;
    long rc;

    /* UINT64_MAX wraps now + period into the past: Xen refuses anything above 2^62 - 1. */
    rc = set_periodic(UINT64_MAX);
    check("periodic_uint64_max_refused", rc == -XEN_EINVAL, "rc %ld", rc);
    rc = set_periodic(PERIODIC_MAX_NS + 1);
    check("periodic_2e62_refused", rc == -XEN_EINVAL, "rc %ld", rc);
    rc = set_periodic(PERIODIC_MIN_NS - 1);
    check("periodic_below_1ms_refused", rc == -XEN_EINVAL, "rc %ld", rc);

    /* The largest period is taken and never fires early. */
    rc = set_periodic(PERIODIC_MAX_NS);
    n = count_events(port, WATCH_NS, &first);
    check("periodic_max_never_fires", rc == 0 && n == 0, "rc %ld, fired %u times", rc, n);
    (void)hv_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);

    rc = set_singleshot(UINT64_MAX);
    n = count_events(port, WATCH_NS, &first);
    check("singleshot_max_never_fires", rc == 0 && n == 0, "rc %ld, fired %u times", rc, n);
    (void)hv_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0);

    /* set_timer_op: a timeout that wrapped negative fires in 100 ms, as on Xen. */
    t0 = pv_now();
    rc = set_timer_op(UINT64_MAX);
    n = count_events(port, LATE_OK_NS, &first);
    check("set_timer_op_huge_fires_in_100ms",
          rc == 0 && n == 1 && first >= t0 + FAR_TIMEOUT_NS && first < t0 + LATE_OK_NS,
          "rc %ld, fired %u times, first after %llu ns", rc, n, (unsigned long long)(first - t0));

    /*
     * The smallest period fires at its rate: never more than one event per
     * period of guest time, and about one a period (the median gap) while this
     * vCPU holds the pCPU: within twice the period plus this machine's own
     * timer latency, measured first with singleshot timers.
     */
    uint64_t median, latency = singleshot_latency_ns(port);

    t0 = pv_now();
    rc = set_periodic(PERIODIC_MIN_NS);
    n = count_events_spinning(port, OWN_RUN_WINDOW_NS, &median);
    uint64_t took = pv_now() - t0;
    (void)hv_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);
    note("periodic 1 ms: %u events in %llu us, median gap %llu us, timer latency %llu us\n", n,
         (unsigned long long)(took / NS_PER_US), (unsigned long long)(median / NS_PER_US),
         (unsigned long long)(latency / NS_PER_US));
    check("periodic_1ms_rate",
          rc == 0 && latency != UINT64_MAX && n >= 3 && n <= took / PERIODIC_MIN_NS + 1 &&
              median >= PERIODIC_MIN_NS / 2 && median <= 2 * (PERIODIC_MIN_NS + latency),
          "rc %ld, %u events in %llu ns, median gap %llu ns, singleshot latency %llu ns", rc, n,
          (unsigned long long)took, (unsigned long long)median, (unsigned long long)latency);
    checks_done();

    /* Leave the worst timers armed that the ABI still takes, and go quiet. */
    (void)set_periodic(UINT64_MAX);
    (void)set_periodic(PERIODIC_MIN_NS);
    (void)set_timer_op(UINT64_MAX);
    block_forever();
}

/* ---- the virtual LAPIC timer: periodic, divide 1, initial count 1 ---- */

static volatile unsigned int lapic_ticks;
static bool lapic_x2;

static volatile uint32_t *xapic_reg(unsigned int reg)
{
    return (volatile uint32_t *)(XAPIC_BASE + reg);
}

static void vm_exit(void)
{
    struct cpuid_regs r;

    cpuid(0, 0, &r);
}

static void on_lapic_tick(unsigned int vector)
{
    (void)vector;
    lapic_ticks++;
    if (lapic_x2)
        wrmsr(X2APIC_EOI, 0);
    else
        *xapic_reg(XAPIC_EOI) = 0;
}

/* Counts timer interrupts for `ns` of guest time, halting in between. */
static unsigned int count_ticks(uint64_t ns, uint64_t *took)
{
    uint64_t t0 = pv_now();
    unsigned int start = lapic_ticks;

    irq_enable();
    while (pv_now() < t0 + ns)
        irq_enable_and_halt();
    irq_disable();
    *took = pv_now() - t0;
    return lapic_ticks - start;
}

static void lapic_periodic(bool x2)
{
    uint64_t took;
    uint32_t initial;
    unsigned int n;

    if (ev_map_shared_info())
        guest_panic("no shared_info: the timer checks need pvclock");
    lapic_x2 = x2;
    irq_set_handler(V_LAPIC_TIMER, on_lapic_tick);
    if (x2) {
        x2apic_enable();
        wrmsr(X2APIC_LVT_TIMER, V_LAPIC_TIMER | APIC_LVT_PERIODIC);
        wrmsr(X2APIC_TIMER_DIV, TIMER_DIV_1);
        wrmsr(X2APIC_TIMER_INIT, 1);
        initial = (uint32_t)rdmsr(X2APIC_TIMER_INIT);
    } else {
        /* The page's writes reach the hypervisor at the next exit. */
        *xapic_reg(XAPIC_SVR) = APIC_SVR_ENABLE | 0xFF;
        vm_exit();
        *xapic_reg(XAPIC_LVT_TIMER) = V_LAPIC_TIMER | APIC_LVT_PERIODIC;
        *xapic_reg(XAPIC_TIMER_DIV) = TIMER_DIV_1;
        *xapic_reg(XAPIC_TIMER_INIT) = 1;
        vm_exit();
        initial = *xapic_reg(XAPIC_TIMER_INIT);
    }
    n = count_ticks(RATE_WINDOW_NS, &took);
    note("lapic periodic, initial count 1: %u interrupts in %llu ns\n", n, (unsigned long long)took);
    check("lapic_periodic_initial_kept", initial == 1, "initial count reads %u", initial);
    /* Clamped to 100 us: it fires, but never more than once per 100 us (+1 already pending). */
    check("lapic_periodic_clamped_rate", n >= 10 && n <= took / LAPIC_MIN_NS + 2,
          "%u interrupts in %llu ns", n, (unsigned long long)took);
    checks_done();

    /* The timer stays armed: take its interrupts for good. */
    for (;;)
        irq_enable_and_halt();
}

void act_lapic_periodic_x2apic(void) { lapic_periodic(true); }
void act_lapic_periodic_xapic(void) { lapic_periodic(false); }

/* ---- spinning without a single exit ---- */

/* It first yields once with interrupts on (no vector is ever sent), as a kernel that
 * had enabled them before it deadlocked: Wisp's irqoff_warn watch starts there. It
 * then spins in an interrupt handler (entered by INT, so IF is off) as on a held lock
 * whose address is in RDI; Wisp's report shows the word and the interrupt frame. */
#define SPIN_CLI_LOCK_WORD 0x5350494e4c4f434bull   /* "SPINLOCK" */
#define SPIN_CLI_VECTOR    0x40

static void spin_on_lock(unsigned int vector)
{
    static volatile uint64_t lock[4] = { SPIN_CLI_LOCK_WORD };

    (void)vector;
    __asm__ volatile("cli; 1: jmp 1b" : : "D"(lock) : "memory");
}

void act_spin_cli(void)
{
    __asm__ volatile("sti" : : : "memory");
    (void)hv_sched_op(SCHEDOP_yield, 0);
    irq_set_handler(SPIN_CLI_VECTOR, spin_on_lock);
    __asm__ volatile("int %0" : : "i"(SPIN_CLI_VECTOR) : "memory");
}

void act_spin_sti(void)
{
    __asm__ volatile("sti; 1: jmp 1b" : : : "memory");
}

/*
 * Three vCPUs that spin with interrupts off (or on, with no vector ever
 * sent) and never exit: vCPUs 1 and 2 count in a loop; vCPU 0 counts the
 * rounds in which both moved. None of them gives the pCPU away, so every
 * round is the scheduler's preemption. XTF's xsa-472-3 spins like this.
 */
#define SPIN_VCPUS     3
#define SPIN_ROUNDS    5
#define RFLAGS_FIXED   0x2u
#define RFLAGS_IF      0x200u

/* hostile_spin_ap(counter in RDI): add 1 to *counter, forever. */
void hostile_spin_ap(void);
__asm__(".text\n"
        ".globl hostile_spin_ap\n"
        "hostile_spin_ap:\n"
        "1:  addq $1, (%rdi)\n"
        "    jmp 1b\n");

static volatile uint64_t spin_count[SPIN_VCPUS];

static long start_spinner(unsigned int cpu, bool irqs_on)
{
    struct vcpu_hvm_context c = { .mode = VCPU_HVM_MODE_64B };
    struct vcpu_hvm_x86_64 *r = &c.cpu_regs.x86_64;
    long rc;

    r->rip = (uintptr_t)hostile_spin_ap;
    r->rdi = (uintptr_t)&spin_count[cpu];
    r->rflags = RFLAGS_FIXED | (irqs_on ? RFLAGS_IF : 0);
    r->cr0 = read_cr0();
    r->cr3 = read_cr3();
    r->cr4 = read_cr4();
    r->efer = rdmsr(MSR_EFER);
    rc = hv_vcpu_op(VCPUOP_initialise, cpu, HV_PTR(&c));
    return rc ? rc : hv_vcpu_op(VCPUOP_up, cpu, 0);
}

static void smp_spin(bool irqs_on)
{
    uint64_t seen[SPIN_VCPUS], t0, deadline;
    unsigned int rounds = 0;
    long rc1, rc2;

    if (ev_map_shared_info())
        guest_panic("no shared_info: the spin check needs pvclock");
    rc1 = start_spinner(1, irqs_on);
    rc2 = start_spinner(2, irqs_on);
    if (!check("smp_spin_started", rc1 == 0 && rc2 == 0, "vCPU 1 rc %ld, vCPU 2 rc %ld", rc1, rc2))
        guest_shutdown(SHUTDOWN_crash);
    if (irqs_on)
        irq_enable();       /* no vector is ever sent: nothing arrives */
    else
        irq_disable();
    t0 = pv_now();
    deadline = t0 + 20 * LATE_OK_NS;
    for (unsigned int i = 0; i < SPIN_VCPUS; i++)
        seen[i] = spin_count[i];
    /* No hypercall, no exit: only the end of this vCPU's slice lets the others run. */
    while (rounds < SPIN_ROUNDS && pv_now() < deadline) {
        spin_count[0]++;
        if (spin_count[1] != seen[1] && spin_count[2] != seen[2]) {
            rounds++;
            seen[1] = spin_count[1];
            seen[2] = spin_count[2];
        }
    }
    check("smp_spin_progress", rounds == SPIN_ROUNDS,
          "%u rounds in %llu ns in which both other spinners moved (want %u)", rounds,
          (unsigned long long)(pv_now() - t0), SPIN_ROUNDS);
    checks_done();
    for (;;)
        spin_count[0]++;
}

void act_smp_spin(void) { smp_spin(false); }
void act_smp_spin_sti(void) { smp_spin(true); }
