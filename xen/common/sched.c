/* sched.c (hypervisor): one run loop per pCPU: round-robin over the runnable vCPUs of the
 * domains homed there, waking blocked ones, firing vCPU timers, and sleeping on the host
 * timer when nothing can run. */
#include "env.h"
#include "apic.h"
#include "bootconfig.h"
#include "console_ring.h"
#include "domain.h"
#include "domain_build.h"
#include "exit.h"
#include "fpu.h"
#include "hvm.h"
#include "irq.h"
#include "lapic.h"
#include "percpu.h"
#include "printk.h"
#include "sched.h"
#include "host_channel.h"
#include "smpboot.h"
#include "spinlock.h"
#include "time.h"
#include "vcpu_time.h"
#include "vtimer.h"
#include "x86.h"

#define SLICE_NS        10000000ull     /* round-robin quantum when others wait */
#define INPUT_POLL_NS   20000000ull     /* how often serial input is looked at */
/*
 * Each entry into a guest lasts at least this long before a timer takes the
 * vCPU out (vtimer_run_deadline), so timers that come due meanwhile fire up
 * to this late. However many timers guests arm, and however slow one pass of
 * this loop is (an exit costs ~27 us under QEMU TCG, ~0.7 ms of guest time
 * under Bochs), the running vCPU makes progress, and the scheduler cannot
 * spin on timers without entering a guest. The same 100 us as the vLAPIC's
 * periodic floor (vlapic.h).
 */
#define MIN_RUN_NS      100000ull

/*
 * Weights, as Xen's credit2 (docs/smp.md): each vCPU has credit, running burns
 * it at 256/weight ns per ns while another vCPU waits for the pCPU, the
 * runnable vCPU with the most goes next, and when that one has none left every
 * vCPU of the pCPU gets CREDIT_RESET_NS more (at most that much in all). Two
 * spinning domains of weights 256 and 512 thus run 1:2. Caps: a capped
 * domain's vCPUs together run at most cap% of each CAP_PERIOD_NS (Xen credit's
 * 30 ms), then wait for the next period even when the pCPU is idle.
 */
#define CREDIT_RESET_NS SLICE_NS
#define CAP_PERIOD_NS   30000000ull

/*
 * SMP, first phase (docs/smp.md): one lock for all hypervisor state. Each CPU
 * holds it from a VM exit to the next entry and through its scheduler passes,
 * and lets go only while it runs a guest or sleeps. Under it, everything the
 * single-CPU code assumed ("one vCPU in the hypervisor at a time") stays true.
 */
static spinlock_t hv_lock = SPINLOCK_INIT;

/* The irqoff_warn= option (setup.c): seconds of its own running time a vCPU may
 * spend with interrupts off before Wisp logs it (0: never). Set once at boot. */
uint64_t irqoff_warn_s = 10;

/*
 * Kicks the pCPUs that have something to do for d: its own (it reaps d once d
 * has ended), those homing a vCPU of d that is not down, and those running d
 * now (a shutdown has just set every vCPU down). A down vCPU needs no look
 * until something starts it, and that kicks it (vcpu_kick): a kick is an IPI,
 * and a woken CPU takes hv_lock.
 */
void sched_kick(const struct domain *d)
{
    uint64_t kicked = 1ull << d->pcpu;

    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i].state != VCPU_DOWN)
            kicked |= 1ull << d->vcpus[i].pcpu;
    for (unsigned cpu = 0; cpu < smp_cpus_online(); cpu++)
        if (kicked >> cpu & 1 ||
            __atomic_load_n(&percpu_of(cpu)->running, __ATOMIC_SEQ_CST) == d)
            smp_kick(cpu);
}

void vcpu_kick(const struct vcpu *v) { smp_kick(v->pcpu); }

/*
 * Each vCPU of d flushes its translations on its own pCPU before it next
 * enters the guest (p2m_seen lags); one in its guest on another pCPU now is
 * kicked out and waited for, so that once this returns no CPU can use a
 * translation d's p2m no longer has (an unmapped grant is gone everywhere),
 * and the tables the change let go of can be freed: no walk is left in them.
 * Waiting under hv_lock is safe: a CPU leaves guest mode before it takes a lock.
 */
void p2m_changed(struct domain *d)
{
    d->p2m_generation++;
    for (unsigned cpu = 0; cpu < smp_cpus_online(); cpu++)
        if (cpu != this_cpu_id() &&
            __atomic_load_n(&percpu_of(cpu)->in_guest, __ATOMIC_SEQ_CST) == d)
            smp_wait_out_of_guest(cpu, d);
    domain_free_retired_tables(d);
}

bool vcpu_set_start(struct vcpu *t, const struct vcpu_context *c, const char *what)
{
    if (t->pcpu == this_cpu_id()) {
        t->start_pending = false;
        return hvm->load_context(t, c);
    }
    t->start = *c;
    t->start_what = what;
    t->start_pending = true;
    return true;
}

/* On v's home, before it runs: the start state another pCPU gave it. */
static bool load_pending_start(struct vcpu *v)
{
    if (!v->start_pending)
        return true;
    v->start_pending = false;
    if (hvm->load_context(v, &v->start))
        return true;
    domain_crash(v, v->start_what);
    return false;
}

void vcpu_block(struct vcpu *v, unsigned wait)
{
    v->state = VCPU_BLOCKED;
    v->wait = (enum vcpu_wait)wait;
}

/*
 * Loops over every vCPU (v) homed on this CPU of every running, unpaused
 * domain (d). A paused
 * domain's timers do not fire and its vCPUs do not wake while it is paused;
 * their deadlines and pending events take effect at the first pass after
 * WISP_CTL_unpause.
 */
#define for_each_live_vcpu(d, v)                                              \
    for (struct domain *d = domain_next(NULL); d; d = domain_next(d))         \
        if (domain_schedulable(d))                                            \
            for (struct vcpu *v = d->vcpus; v < d->vcpus + d->nr_vcpus; v++)  \
                if (v->pcpu == this_cpu_id())

static uint64_t cap_budget_ns(const struct domain *d)
{
    return (uint64_t)d->cap * CAP_PERIOD_NS / 100;
}

/*
 * Moves d's cap accounting to the period now is in: each period that began
 * since pays off one budget of what it ran. A run that overshot its period
 * (a late timer) is paid for by the next; a period left partly unused (a late
 * wake-up) lends the next up to one budget more. So the long-run share stays
 * at the cap, and no period runs more than two budgets.
 */
static void cap_refresh(struct domain *d, uint64_t now)
{
    uint64_t start = now - now % CAP_PERIOD_NS, periods;
    int64_t budget = (int64_t)cap_budget_ns(d);

    if (d->cap_period_start == start)
        return;
    periods = (start - d->cap_period_start) / CAP_PERIOD_NS;
    d->cap_period_start = start;
    d->cap_used_ns -= (int64_t)periods * budget;   /* at most 8x the uptime in ns */
    if (d->cap_used_ns < -budget)
        d->cap_used_ns = -budget;
}

/* How long d may still run in this cap period: UINT64_MAX without a cap. */
static uint64_t cap_left_ns(struct domain *d, uint64_t now)
{
    int64_t budget = (int64_t)cap_budget_ns(d);

    if (!d->cap)
        return UINT64_MAX;
    cap_refresh(d, now);
    return d->cap_used_ns < budget ? (uint64_t)(budget - d->cap_used_ns) : 0;
}

void sched_set_share(struct domain *d, uint32_t weight, uint32_t cap)
{
    uint64_t now = now_ns();

    d->weight = weight;
    if (cap != d->cap) {            /* a new cap starts with a fresh period */
        d->cap = cap;
        d->cap_period_start = now - now % CAP_PERIOD_NS;
        d->cap_used_ns = 0;
    }
    sched_kick(d);                  /* runs under way end and look again */
}

/* Not blocked, its domain neither paused nor ended, its cap not used up, the xAPIC page free. */
static bool may_run(struct vcpu *v, uint64_t now)
{
    return v->state == VCPU_RUNNABLE && domain_schedulable(v->dom) && cap_left_ns(v->dom, now) &&
           lapic_page_may_enter(v);
}

/* v ran for ran ns; contended: another vCPU wanted the pCPU meanwhile. */
static void charge(struct vcpu *v, uint64_t ran, uint64_t now, bool contended)
{
    struct domain *d = v->dom;

    if (contended)
        v->credit -= (int64_t)(ran * BOOTCFG_DEFAULT_WEIGHT / d->weight);
    if (d->cap) {
        cap_refresh(d, now);
        d->cap_used_ns += (int64_t)ran;
    }
}

static bool poll_satisfied(const struct vcpu *v)
{
    for (unsigned i = 0; i < v->nr_poll_ports; i++)
        if (evtchn_is_pending(&v->dom->evtchn, v->poll_ports[i]))
            return true;
    return false;
}

static bool wait_is_over(struct vcpu *v)
{
    switch (v->wait) {
    case WAIT_INTERRUPT:
        return vcpu_interrupt_pending(v);
    case WAIT_EVENT:
        return vcpu_upcall_pending(v) || vcpu_interrupt_pending(v);
    case WAIT_POLL:
        return poll_satisfied(v) || v->poll_timed_out;
    }
    return true;
}

static void fire_timers(struct vcpu *v, uint64_t now)
{
    struct vcpu_timers *t = &v->timers;

    if (t->singleshot && t->singleshot <= now) {
        t->singleshot = 0;
        vcpu_timer_virq(v);
    }
    if (t->periodic_next && t->periodic_next <= now) {
        /* Missed periods are coalesced into one event; the next is after now. */
        t->periodic_next = vtimer_periodic_next(t->periodic_next, t->periodic_period, now);
        vcpu_timer_virq(v);
    }
    if (t->lapic && t->lapic <= now)
        lapic_timer_fire(v, now);
    if (t->poll_timeout && t->poll_timeout <= now) {
        t->poll_timeout = 0;
        v->poll_timed_out = true;
    }
}

/* Fires due timers and wakes every blocked vCPU whose wait is over. */
static void update_vcpus(void)
{
    uint64_t now = now_ns();

    for_each_live_vcpu(d, v) {
        fire_timers(v, now);
        if (v->state == VCPU_BLOCKED && wait_is_over(v)) {
            v->state = VCPU_RUNNABLE;
            v->timers.poll_timeout = 0;
            v->nr_poll_ports = 0;
        }
    }
}

/* Serial input (and the host channel, faster while it is busy) is looked at on the boot CPU. */
static uint64_t input_poll_ns(uint64_t now)
{
    return this_cpu_id() == 0 ? host_channel_poll_period(now, INPUT_POLL_NS) : INPUT_POLL_NS;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    if (!a)
        return b;
    return b && b < a ? b : a;
}

/*
 * The next vCPU timer deadline worth waking for, 0 if none. An APIC timer
 * whose expiry would raise nothing new (its vector still waits in IRR, or it
 * is masked) is left out: it fires with the others at the next pass, so a
 * guest's fast APIC timer costs other vCPUs at most one exit until that
 * guest runs and takes the interrupt.
 */
static uint64_t next_timer(void)
{
    uint64_t next = 0, now = now_ns();

    for_each_live_vcpu(d, v) {
        const struct vcpu_timers *t = &v->timers;

        if (v->state == VCPU_RUNNABLE && !cap_left_ns(d, now))
            next = earliest(next, d->cap_period_start + CAP_PERIOD_NS);   /* capped out */

        next = earliest(next, t->singleshot);
        next = earliest(next, t->periodic_next);
        if (lapic_timer_wakes(v))
            next = earliest(next, t->lapic);
        next = earliest(next, t->poll_timeout);
    }
    return next;
}

/* Every vCPU here gets CREDIT_RESET_NS more, up to that much. */
static void reset_credits(void)
{
    for_each_live_vcpu(d, v) {
        v->credit += CREDIT_RESET_NS;
        if (v->credit > (int64_t)CREDIT_RESET_NS)
            v->credit = CREDIT_RESET_NS;
    }
}

/*
 * The vCPU that may run with the most credit; among equals, the first after
 * `prev` in (domain, vCPU) order, wrapping around (round-robin). A prev that
 * yielded comes only if no other may run. NULL if none.
 */
static struct vcpu *pick_next(struct vcpu *prev, bool prev_yielded)
{
    struct vcpu *after = NULL, *upto = NULL;  /* the best past prev, and up to it */
    bool passed = prev == NULL;
    uint64_t now = now_ns();

    for_each_live_vcpu(d, v) {
        if (may_run(v, now) && !(prev_yielded && v == prev)) {
            struct vcpu **best = passed && v != prev ? &after : &upto;

            if (!*best || v->credit > (*best)->credit)
                *best = v;
        }
        passed |= v == prev;
    }
    if (!after || (upto && upto->credit > after->credit))
        after = upto;
    if (!after && prev_yielded && may_run(prev, now))
        after = prev;
    if (after && after->credit <= 0)
        reset_credits();
    return after;
}

static bool others_runnable(const struct vcpu *self)
{
    uint64_t now = now_ns();

    for_each_live_vcpu(d, v)
        if (v != self && may_run(v, now))
            return true;
    return false;
}

static void arm_host_timer(uint64_t deadline)
{
    if (deadline)
        host_timer_arm(ns_to_tsc(deadline));
    else
        host_timer_cancel();
}

/*
 * Returns once no vCPU of d runs on another CPU: neither in its guest nor in
 * an exit not yet handled, as Xen's domain_pause. That CPU needs hv_lock to
 * finish the exit, so the lock is let go meanwhile: the caller must touch
 * nothing after this that another CPU may have changed. While it waits, this
 * CPU counts as running nothing, so two CPUs pausing each other's domains
 * both go on.
 */
static bool runs_elsewhere(const struct domain *d)
{
    for (unsigned cpu = 0; cpu < smp_cpus_online(); cpu++)
        if (cpu != this_cpu_id() &&
            __atomic_load_n(&percpu_of(cpu)->running, __ATOMIC_SEQ_CST) == d)
            return true;
    return false;
}

void sched_wait_descheduled(struct domain *d)
{
    struct percpu *me = this_cpu();
    struct domain *mine;

    sched_kick(d);
    if (!runs_elsewhere(d))
        return;                         /* and cannot start to while we hold the lock */
    mine = me->running;
    __atomic_store_n(&me->running, NULL, __ATOMIC_SEQ_CST);
    spin_unlock(&hv_lock);
    while (runs_elsewhere(d))
        cpu_relax();
    spin_lock(&hv_lock);
    __atomic_store_n(&me->running, mine, __ATOMIC_SEQ_CST);
}

/* Runs v in its guest with the lock let go; the lock is held again on return. */
static void enter_guest(struct vcpu *v, struct vm_exit *exit)
{
    struct percpu *me = this_cpu();

    __atomic_store_n(&me->in_guest, v->dom, __ATOMIC_SEQ_CST);
    spin_unlock(&hv_lock);
    smp_park_if_stopped();
    hvm->run(v, exit);
    /* Out of the guest before taking any lock: a CPU holding hv_lock may wait for it. */
    __atomic_store_n(&me->in_guest, NULL, __ATOMIC_SEQ_CST);
    smp_park_if_stopped();
    spin_lock(&hv_lock);
}

/* v's running time so far, counting the run under way. */
static uint64_t running_ns(const struct vcpu *v, uint64_t now)
{
    uint64_t t = v->runstate_time[RUNSTATE_running];

    return v->runstate == RUNSTATE_running ? t + (now - v->runstate_entry_ns) : t;
}

/*
 * A vCPU whose every exit for irqoff_warn_s seconds of its own running time had
 * interrupts off takes no timer or event interrupt: it polls, or it is stuck
 * (Linux would call it a hard lockup; a spinlock deadlock on one vCPU looks like
 * this). Say so once a stretch, with its registers and stack, so a hung guest
 * leaves a trace. The watch starts at its first exit with interrupts on: before
 * that, a kernel boots with them off (Linux initialises every page's struct
 * page so, which takes seconds under Bochs) and a polling guest never has them.
 * Sampling at exits can miss a short stretch with interrupts on, never a long
 * one with them off; time blocked or waiting for the pCPU does not count.
 */
static void watch_interrupts_off(struct vcpu *v)
{
    if (v->regs.rflags & X86_RFLAGS_IF) {
        v->irqs_were_on = true;
        v->irqs_off_at = 0;
        v->irqs_off_reported = false;
        return;
    }
    if (!v->irqs_were_on)
        return;
    uint64_t ran = running_ns(v, now_ns());   /* read the clock only on this rarer path */
    if (!v->irqs_off_at)
        v->irqs_off_at = ran + 1;
    if (v->irqs_off_reported || !irqoff_warn_s ||
        ran + 1 - v->irqs_off_at < irqoff_warn_s * NS_PER_SEC)
        return;
    v->irqs_off_reported = true;
    log_warn("d%u (%s) v%u: interrupts off for %lu s of its running time (polling, or stuck)",
             v->dom->id, v->dom->name, v->id, irqoff_warn_s);
    vcpu_dump_regs(v);
    hvm_log_stack(v);
}

/*
 * Runs v until it blocks, yields, a timer is due, its slice ends or its
 * domain ends; each call enters the guest at least once, for at least
 * MIN_RUN_NS unless the guest exits by itself. Returns true if v may go on
 * with the rest of its slice.
 */
static bool run_vcpu(struct vcpu *v, uint64_t slice_end)
{
    struct vm_exit exit;
    bool keep = true, entered = false;
    struct percpu *me = this_cpu();
    bool *kicked = &me->kicked;
    uint64_t started = now_ns(), cap_left = cap_left_ns(v->dom, started);
    uint64_t cap_end = cap_left == UINT64_MAX ? UINT64_MAX : started + cap_left;

    if (!load_pending_start(v))
        return false;
    v->loaded = true;
    fpu_switch_to(v);
    msr_switch_to(v);
    if (v->runstate != RUNSTATE_running)       /* else it never stopped (stop_running) */
        vcpu_runstate_enter(v, RUNSTATE_running);
    __atomic_store_n(kicked, false, __ATOMIC_SEQ_CST);
    __atomic_store_n(&me->running, v->dom, __ATOMIC_SEQ_CST);
    while (v->state == VCPU_RUNNABLE && domain_schedulable(v->dom)) {
        uint64_t now = now_ns();
        uint64_t deadline = earliest(earliest(next_timer(), slice_end), now + input_poll_ns(now));

        if (deadline > cap_end)
            deadline = cap_end;

        if (deadline <= now && entered)
            break;
        if (v->p2m_seen != v->dom->p2m_generation) {
            v->p2m_seen = v->dom->p2m_generation;
            hvm->flush_tlb(v);
        }
        if (!lapic_page_may_enter(v))
            break;              /* another vCPU of its domain has the xAPIC page */
        vcpu_deliver_interrupts(v);
        lapic_page_before_entry(v);
        /* Last before the entry: the minimum run counts from here, not from the pass. */
        arm_host_timer(vtimer_run_deadline(deadline, now_ns(), MIN_RUN_NS));
        enter_guest(v, &exit);
        entered = true;
        lapic_page_after_exit(v);
        watch_interrupts_off(v);
        enum exit_action action = handle_exit(v, &exit);

        if (host_timer_take_fired())
            break;
        if (action != EXIT_ACTION_RESUME) {
            keep = false;       /* blocked, yielded or ended */
            break;
        }
        if (__atomic_load_n(kicked, __ATOMIC_SEQ_CST))
            break;
    }
    __atomic_store_n(&me->running, NULL, __ATOMIC_SEQ_CST);
    lapic_page_release(v);
    uint64_t now = now_ns();
    charge(v, now - started, now, others_runnable(v));
    bool may_go_on = v->state == VCPU_RUNNABLE && domain_schedulable(v->dom);

    /*
     * One that may go on stays running until another is picked (stop_running):
     * as in Xen, a yield with nobody else to run leaves the runstate alone.
     * Paused by another CPU while it ran: offline from now, as domain_set_paused
     * would have.
     */
    if (!may_go_on || v->dom->paused)
        vcpu_runstate_enter(v, v->state == VCPU_BLOCKED ? RUNSTATE_blocked : RUNSTATE_offline);
    return keep && may_go_on;
}

/*
 * prev's run ended and `next` comes instead (NULL: nothing, the pCPU idles): a
 * prev still running by its runstate waits from now. Called before hv_lock
 * is let go, so no other CPU sees it running while it is not.
 */
static void stop_running(struct vcpu *prev, const struct vcpu *next)
{
    if (prev && prev != next && prev->runstate == RUNSTATE_running)
        vcpu_runstate_enter(prev, RUNSTATE_runnable);
}

/*
 * Load balancing. Only a vCPU's home may hand back its state, so the busy pCPU
 * pushes: in a pass where it has two or more runnable vCPUs more than another
 * pCPU the vCPU's domain allows, it moves one (not the one it runs next) there.
 * Two more, not one, so that a vCPU never moves back and forth between equals;
 * and one that moved stays MIGRATE_HOLD_NS.
 */
#define MIGRATE_HOLD_NS SLICE_NS

/* Runnable vCPUs (running ones too) homed on each online pCPU. */
static void count_runnable(unsigned load[MAX_PCPUS], unsigned online)
{
    for (struct domain *d = domain_next(NULL); d; d = domain_next(d))
        if (domain_schedulable(d))
            for (struct vcpu *v = d->vcpus; v < d->vcpus + d->nr_vcpus; v++)
                if (v->state == VCPU_RUNNABLE && v->pcpu < online)
                    load[v->pcpu]++;
}

/* The pCPU d allows with the fewest runnable vCPUs, if it has two fewer than `from`; else from. */
static unsigned lighter_cpu(const struct domain *d, const unsigned *load, unsigned online,
                            unsigned from)
{
    unsigned best = from;

    for (unsigned c = 0; c < online; c++)
        if ((d->cpus >> c & 1) && load[c] + 2 <= load[best])
            best = c;
    return best;
}

/*
 * v, homed here and not running, moves to pCPU `to`: its state leaves this
 * CPU, and its first entry there flushes what that CPU may still cache of its
 * guest's translations from an earlier stay (its ASID or VPID is its own).
 */
static void migrate(struct vcpu *v, unsigned to, uint64_t now)
{
    if (v->loaded)
        vcpu_leave_cpu(v);
    v->pcpu = to;
    v->moved_at_ns = now;
    v->p2m_seen = v->dom->p2m_generation - 1;
    v->dom->migrations++;
    smp_kick(to);               /* it runs it, and fires its timers, from now */
}

static void balance(const struct vcpu *next)
{
    unsigned me = this_cpu_id(), online = smp_cpus_online(), load[MAX_PCPUS] = { 0 };
    uint64_t now = now_ns();

    if (online < 2)
        return;
    count_runnable(load, online);
    if (load[me] < 2)
        return;
    for_each_live_vcpu(d, v) {
        if (v == next || v->state != VCPU_RUNNABLE || now - v->moved_at_ns < MIGRATE_HOLD_NS)
            continue;
        unsigned to = lighter_cpu(d, load, online, me);

        if (to != me) {
            migrate(v, to, now);
            return;             /* one a pass: the loads changed */
        }
    }
}

/*
 * Nothing can run: sleep until the next timer or a kick (the boot CPU also
 * looks at serial input now and then). A kick that comes after the check
 * still wakes the HLT: its IPI waits, interrupts off, for the STI before it.
 */
static void idle(bool boot_cpu)
{
    uint64_t now = boot_cpu ? now_ns() : 0;
    uint64_t deadline = earliest(next_timer(), boot_cpu ? now + input_poll_ns(now) : 0);

    arm_host_timer(deadline);
    spin_unlock(&hv_lock);
    if (!__atomic_exchange_n(&this_cpu()->kicked, false, __ATOMIC_SEQ_CST))
        host_wait_for_interrupt();
    smp_park_if_stopped();
    spin_lock(&hv_lock);
    (void)host_timer_take_fired();      /* whatever woke us, the next pass looks again */
}

/*
 * Round-robin with a time slice: a vCPU interrupted by a timer or a kick goes
 * on until its slice is used up (when others wait) or it blocks or yields.
 */
void sched_run(void)
{
    struct vcpu *v = NULL;
    uint64_t slice_end = 0;
    bool keep = false, boot_cpu = this_cpu_id() == 0;

    spin_lock(&hv_lock);
    if (boot_cpu)
        smp_release_others();
    for (;;) {
        bool reaping = domain_reap();   /* no vCPU is on this pCPU here */
        update_vcpus();
        if (boot_cpu) {
            console_ring_poll_input();
            host_channel_poll();
        }
        uint64_t now = now_ns();

        if (!(keep && may_run(v, now) && (!slice_end || now < slice_end))) {
            struct vcpu *prev = v;

            v = pick_next(prev, !keep && prev && prev->state == VCPU_RUNNABLE);   /* it yielded */
            stop_running(prev, v);
            balance(v);
            slice_end = 0;
        }
        if (!v) {
            if (!reaping)       /* else the next pass goes on with the release at once */
                idle(boot_cpu);
            continue;
        }
        /* A slice only matters when someone else waits for the pCPU. */
        if (!slice_end && others_runnable(v))
            slice_end = now + SLICE_NS;
        else if (slice_end && !others_runnable(v))
            slice_end = 0;
        keep = run_vcpu(v, slice_end);
    }
}
