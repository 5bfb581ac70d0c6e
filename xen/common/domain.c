/* domain.c (hypervisor): the domain table, shutdown and crash, and guest console output. */
#include "env.h"
#include "console_ring.h"
#include "domain.h"
#include "domain_build.h"
#include "exit.h"
#include "grant_table.h"
#include "irq.h"
#include "machine.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "sched.h"
#include "smpboot.h"
#include "vcpu_time.h"
#include "xen/vcpu.h"
#include "xen/xen.h"

static struct domain domains[MAX_DOMAINS];
static bool domain_slot_used[MAX_DOMAINS];

static const char *const shutdown_names[] = {
    [SHUTDOWN_REASON_POWEROFF] = "poweroff", [SHUTDOWN_REASON_REBOOT] = "reboot",
    [SHUTDOWN_REASON_SUSPEND] = "suspend", [SHUTDOWN_REASON_CRASH] = "crash",
    [SHUTDOWN_REASON_WATCHDOG] = "watchdog", [SHUTDOWN_REASON_SOFT_RESET] = "soft reset",
};

/* Ids are fixed by the boot configuration's order, so a failed build shifts none. */
struct domain *domain_alloc(unsigned id)
{
    if (id == 0 || id > MAX_DOMAINS || domain_slot_used[id - 1])
        return NULL;
    domain_slot_used[id - 1] = true;
    memset(&domains[id - 1], 0, sizeof(domains[id - 1]));
    domains[id - 1].id = id;
    return &domains[id - 1];
}

void domain_release(struct domain *d)
{
    domain_slot_used[d->id - 1] = false;
    d->dying = false;       /* a late domain_maybe_free of a freed domain does nothing */
}

struct domain *domain_by_id(unsigned id)
{
    if (id == 0 || id > MAX_DOMAINS || !domain_slot_used[id - 1])
        return NULL;
    return &domains[id - 1];
}

struct domain *domain_next(struct domain *prev)
{
    for (unsigned i = prev ? prev->id : 0; i < MAX_DOMAINS; i++)
        if (domain_slot_used[i])
            return &domains[i];
    return NULL;
}

static unsigned xenstore_id;    /* set once before the first build */

void domain_set_xenstore_id(unsigned id) { xenstore_id = id; }
unsigned domain_xenstore_id(void) { return xenstore_id; }

unsigned domain_state(const struct domain *d)
{
    if (d->dying)
        return WISP_DOMSTATE_DYING;
    if (d->building)
        return WISP_DOMSTATE_BUILDING;
    if (!d->running)
        return WISP_DOMSTATE_SHUTDOWN;
    return d->paused ? WISP_DOMSTATE_PAUSED : WISP_DOMSTATE_RUNNING;
}

/*
 * How the machine ends: the worst outcome among the domains without a role
 * wins (among the role domains when the configuration has only those).
 * Latched at each shutdown, since an ended domain is torn down (and its slot
 * freed) before the machine ends.
 */
static enum machine_end end_status[2] = { MACHINE_END_POWEROFF, MACHINE_END_POWEROFF };
static bool ordinary_ended;     /* a domain without a role has ended */

static void note_end_status(const struct domain *d, enum shutdown_reason reason)
{
    enum machine_end *status = &end_status[d->roles ? 1 : 0];

    if (d->made_at_run_time)
        return;                 /* a tool stack's domain: its end is its own */
    if (reason == SHUTDOWN_REASON_CRASH || reason == SHUTDOWN_REASON_WATCHDOG)
        *status = MACHINE_END_CRASH;
    else if (reason == SHUTDOWN_REASON_REBOOT && *status == MACHINE_END_POWEROFF)
        *status = MACHINE_END_REBOOT;
}

/*
 * Pausing returns with no vCPU of d in its guest, as Xen's domain_pause. A vCPU
 * running on another CPU right now changes its runstate itself when it leaves.
 */
void domain_set_paused(struct domain *d, bool paused)
{
    d->paused = paused;
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i].state == VCPU_RUNNABLE && d->vcpus[i].runstate != RUNSTATE_running)
            vcpu_runstate_enter(&d->vcpus[i], paused ? RUNSTATE_offline : RUNSTATE_runnable);
    sched_kick(d);
    if (paused)
        sched_wait_descheduled(d);      /* last: the lock may be let go */
}

/*
 * Once every boot-time domain without a role has ended; with only role domains at
 * boot, once every domain has (those made at run time too, building ones included).
 */
static bool machine_done(void)
{
    bool any_running = false;

    for (struct domain *d = domain_next(NULL); d; d = domain_next(d)) {
        if (d->running && !d->roles && !d->made_at_run_time)
            return false;
        any_running |= d->running || d->building;
    }
    return ordinary_ended || !any_running;
}

void domain_raise_virq(unsigned roles, unsigned virq, const struct domain *except)
{
    for (struct domain *o = domain_next(NULL); o; o = domain_next(o)) {
        if (o != except && o->running && (o->roles & roles)) {
            int rc = evtchn_send_virq(&o->evtchn, 0, virq);

            (void)rc;   /* -ENOENT: o has not bound it */
        }
    }
}

/* VIRQ_DOM_EXC to the xenstore and control domains: re-read the domain list. */
void domain_notify_change(const struct domain *about)
{
    domain_raise_virq(WISP_ROLE_XENSTORE | WISP_ROLE_CONTROL, VIRQ_DOM_EXC, about);
}

/* A vCPU of d homed on another pCPU that may still hold its state (VMCS, FPU), or NULL. */
static const struct vcpu *held_elsewhere(const struct domain *d)
{
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i].loaded && d->vcpus[i].pcpu != this_cpu_id())
            return &d->vcpus[i];
    return NULL;
}

/*
 * d's ports and own mappings go first (the reaper's batches), then it waits for its mappers.
 * Only d's own pCPU frees it, once every other pCPU has handed back what it held of d's
 * vCPUs (domain_reap there); another pCPU asks those to look.
 */
void domain_maybe_free(struct domain *d)
{
    const struct vcpu *held;

    if (!d->dying || !evtchn_all_closed(&d->evtchn) || d->grant.nr_maps ||
        gnttab_foreign_mapped(d))
        return;
    if (d->pcpu != this_cpu_id()) {
        smp_kick(d->pcpu);
        return;
    }
    if ((held = held_elsewhere(d))) {
        smp_kick(held->pcpu);
        return;
    }
    domain_destroy(d);
    domain_notify_change(NULL);
}

/*
 * Mappings a scheduler pass undoes, over all dying domains: a guest can hold
 * 262,144 (max_maptrack_frames 1024 x 256), and all at once held the pCPU for
 * 6.5 s under QEMU (25 us each; under Bochs about 1.3 ms of guest time each,
 * so 16 keep a pass under 30 ms there). The release goes on over the passes,
 * as Xen's preemptible relinquish does.
 */
#define RELEASE_PER_PASS 16

/*
 * Shut-down domains homed on this pCPU start dying; one batch a pass for the lowest dying id
 * that still has ports open (EVTCHN_CLOSE_BATCH: a domain may bind 2^17,
 * and 16,384 at once held the pCPU 455 ms under Bochs) or, once they are
 * all closed, holds mappings; ports first, so peers see theirs unbound
 * soonest. A dying domain with neither is freed when nobody maps its pages
 * (teardown in a pass of its own, after the last batch). By id, not by a
 * saved next pointer: a teardown can free another dying domain (the last
 * mapper of its pages), whose slot must then not be visited.
 */
/* d has ended: this pCPU hands back the state of d's vCPUs homed here, for d's own to free. */
static void release_vcpus_here(struct domain *d)
{
    bool released = false;

    if (d->pcpu == this_cpu_id())
        return;                         /* it frees them itself */
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = &d->vcpus[i];

        if (v->pcpu == this_cpu_id() && v->loaded) {
            vcpu_leave_cpu(v);
            released = true;
        }
    }
    if (released)
        smp_kick(d->pcpu);
}

bool domain_reap(void)
{
    bool more = false;

    for (unsigned id = 1; id <= MAX_DOMAINS; id++) {
        struct domain *d = domain_by_id(id);

        if (!d || d->running || d->building)
            continue;
        release_vcpus_here(d);
        /* As in Xen, one made at run time stays shut down until its tool stack destroys it
         * (xl's on_poweroff = "preserve"); boot-time domains go at once. */
        if (d->pcpu != this_cpu_id() || (d->made_at_run_time && !d->dying))
            continue;
        d->dying = true;
        if (evtchn_all_closed(&d->evtchn) && !d->grant.nr_maps) {
            domain_maybe_free(d);
        } else if (!more) {
            if (!evtchn_all_closed(&d->evtchn))
                (void)evtchn_close_some(&d->evtchn, EVTCHN_CLOSE_BATCH);
            else
                (void)gnttab_release_mappings(d, RELEASE_PER_PASS);
            more = true;        /* the next pass frees d, or goes on with the release */
        }
    }
    return more;
}

/*
 * The machine is done (from inside an exit, which never resumes): the role
 * domains stop with the rest, every mapping is undone, every domain is torn
 * down, then the line the tests compare, "free frames: boot N, end M"
 * (4 KiB frames; N == M when nothing leaked).
 */
static void __attribute__((noreturn)) end_machine(void)
{
    struct domain *d;

    smp_stop_others(true);  /* no guest runs on another CPU while its domain is torn down */
    for (d = domain_next(NULL); d; d = domain_next(d))
        (void)gnttab_release_mappings(d, UINT32_MAX);
    while ((d = domain_next(NULL)))
        domain_destroy(d);
    log_info("free frames: boot %lu, end %lu", domain_boot_free_frames(),
             frames_free_bytes() >> PAGE_SHIFT);
    machine_end(end_status[ordinary_ended ? 0 : 1]);
}

static void log_exit_counts(const struct domain *d)
{
    uint64_t total = 0;

    for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
        total += d->exit_counts[r];
    log_info("d%u: %lu VM exits", d->id, total);
    if (d->migrations)
        log_info("d%u: %lu vCPU moves between pCPUs", d->id, d->migrations);
    for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
        if (d->exit_counts[r])
            log_info("d%u:   %-28s %lu", d->id, exit_reason_names[r], d->exit_counts[r]);
}

/*
 * No vCPU of d enters its guest again (one on another CPU may still be finishing
 * an exit: domain_kill waits for it). Its first EVTCHN_CLOSE_BATCH ports close now (a
 * peer's port becomes unbound: most domains have fewer, so their peers see
 * the close at once); the reaper closes the rest a batch a pass.
 */
static void domain_stop(struct domain *d)
{
    console_ring_flush(d);              /* output written just before the end */
    domain_console_flush_partial(d);    /* a last unterminated line */
    d->running = false;
    ordinary_ended |= !d->roles && !d->made_at_run_time;
    (void)evtchn_close_some(&d->evtchn, EVTCHN_CLOSE_BATCH);
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        d->vcpus[i].state = VCPU_DOWN;
    printk_limited_flush(&d->log_limit, d->id);
}

void domain_shutdown(struct domain *d, enum shutdown_reason reason)
{
    if (!d->running)
        return;
    domain_stop(d);
    d->shutdown_reason = reason;
    note_end_status(d, reason);
    log_info("d%u (%s): shutdown: %s", d->id, d->name,
             reason < sizeof(shutdown_names) / sizeof(shutdown_names[0]) ? shutdown_names[reason]
                                                                          : "unknown");
    log_exit_counts(d);
    domain_notify_change(d);
    sched_kick(d);                      /* its vCPUs on other pCPUs stop at once */
    if (machine_done())
        end_machine();
    /* Otherwise the scheduler reaps d once its vCPUs are off the pCPU. */
}

/* Xen's destroy has no shutdown reason: d's end does not change the machine's status. */
void domain_kill(struct domain *d)
{
    if (d->building) {
        d->building = false;    /* never ran: nothing to stop */
        log_info("d%u (%s): destroyed while building", d->id, d->name);
        domain_notify_change(d);
    } else if (d->running) {
        domain_stop(d);
        log_info("d%u (%s): destroyed", d->id, d->name);
        log_exit_counts(d);
        domain_notify_change(d);
    }
    d->dying = true;        /* the reaper undoes its mappings */
    domain_maybe_free(d);
    if (machine_done())
        end_machine();
    sched_wait_descheduled(d);  /* last: the lock may be let go, and d freed meanwhile */
}

void vcpu_stop(struct vcpu *v, const char *why)
{
    struct domain *d = v->dom;

    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        if (&d->vcpus[i] != v && d->vcpus[i].state != VCPU_DOWN) {
            v->state = VCPU_DOWN;
            if (v->runstate != RUNSTATE_running)    /* the running one: when its run ends */
                vcpu_runstate_enter(v, RUNSTATE_offline);
            return;
        }
    }
    log_info("d%u: vCPU %u %s, the last one running: powering off", d->id, v->id, why);
    domain_shutdown(d, SHUTDOWN_REASON_POWEROFF);
}

void vcpu_dump_regs(const struct vcpu *v)
{
    const struct cpu_regs *r = &v->regs;

    log_error("d%u v%u: rip %016lx rsp %016lx rflags %016lx", v->dom->id, v->id, r->rip, r->rsp,
              r->rflags);
    log_error("  rax %016lx rbx %016lx rcx %016lx rdx %016lx", r->rax, r->rbx, r->rcx, r->rdx);
    log_error("  rsi %016lx rdi %016lx rbp %016lx r8  %016lx", r->rsi, r->rdi, r->rbp, r->r8);
    log_error("  r9  %016lx r10 %016lx r11 %016lx r12 %016lx", r->r9, r->r10, r->r11, r->r12);
    log_error("  r13 %016lx r14 %016lx r15 %016lx", r->r13, r->r14, r->r15);
}

void domain_crash(struct vcpu *v, const char *why)
{
    struct domain *d = v->dom;

    if (!d->running)
        return;
    log_error("d%u (%s) crashed: %s", d->id, d->name, why);
    vcpu_dump_regs(v);
    hvm->dump(v);
    domain_shutdown(d, SHUTDOWN_REASON_CRASH);
}

/*
 * One serial line of guest text: "(dN) " when the guest ended the line, "(dN+) "
 * when not yet. Each byte goes out in its escaped form (console_escape), so no
 * guest byte reaches the host's terminal as a control character.
 */
static void console_flush(struct domain *d, bool line_ended)
{
    char prefix[16];
    int n = snprintf(prefix, sizeof(prefix), line_ended ? "(d%u) " : "(d%u+) ", d->id);

    console_lock();
    serial_write(prefix, (size_t)n);
    for (unsigned i = 0; i < d->console.len; i++) {
        char e[CONSOLE_ESCAPED_MAX];

        serial_write(e, console_escape(d->console.buf[i], e));
    }
    serial_write("\n", 1);
    console_unlock();
    console_line_clear(&d->console);
}

void domain_console_flush_partial(struct domain *d)
{
    console_line_release_cr(&d->console);
    if (d->console.len)
        console_flush(d, false);
}

/*
 * The one place guest console bytes (PV ring, CONSOLEIO_write, port 0xE9)
 * become serial output: only inside "(dN) " / "(dN+) " lines, one serial line
 * per piece, control bytes escaped. A guest can therefore neither forge a
 * hypervisor or other domain's line nor drive the terminal that shows the
 * log (Xen likewise passes only printable characters of a domU's console_io).
 * The only other way guest text reaches the serial line, console_io's debug
 * log lines once a domain uses its ring, is printable ASCII (console_route.c)
 * and bounded by the same pass deadline (console_io.c). One byte emits at most one piece (console_line.h: under 9.3 ms of serial time).
 */
static void console_put(struct domain *d, char c)
{
    enum console_put r = console_line_put(&d->console, c);

    d->console_fresh = true;    /* a partial line waits for one quiet poll (console_ring.c) */
    if (r != CONSOLE_PUT_MORE)
        console_flush(d, r == CONSOLE_PUT_LINE_ENDED);
}

bool domain_console_at_line_start(const struct domain *d)
{
    return !d->console.len && !d->console.cr_held;
}

void domain_console_write(struct domain *d, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        console_put(d, buf[i]);
}

void *domain_ram_ptr(struct domain *d, uint64_t gpa, size_t len)
{
    if (gpa + len < gpa || gpa + len > d->ram_bytes ||
        (gpa & ~(PAGE_SIZE - 1)) != ((gpa + len - 1) & ~(PAGE_SIZE - 1)))
        return NULL;
    if (gpa + len > LEGACY_HOLE_START && gpa < LEGACY_HOLE_END)
        return NULL;
    return phys_to_virt(d->ram_hpa + gpa);
}

uint8_t *vcpu_info_of(struct vcpu *v)
{
    if (v->vcpu_info_gpa)
        return domain_ram_ptr(v->dom, v->vcpu_info_gpa, VCPU_INFO_SIZE);
    if (v->id < XEN_LEGACY_MAX_VCPUS)
        return (uint8_t *)v->dom->shared_info + v->id * VCPU_INFO_SIZE;
    return NULL;
}

/* evtchn hooks: vcpu_info lookup and "this port went pending". */
uint8_t *domain_evtchn_vcpu_info(void *ctx, unsigned vcpu)
{
    struct domain *d = ctx;

    return vcpu < d->nr_vcpus ? vcpu_info_of(&d->vcpus[vcpu]) : NULL;
}

void domain_evtchn_kick(void *ctx, unsigned vcpu, unsigned port)
{
    struct domain *d = ctx;

    (void)port;
    d->events_received++;
    if (vcpu < d->nr_vcpus) {
        vcpu_event_kick(&d->vcpus[vcpu]);
        vcpu_kick(&d->vcpus[vcpu]);
    }
    /* A vCPU in SCHEDOP_poll may wait for this port whoever it is bound to. */
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i].state == VCPU_BLOCKED && d->vcpus[i].wait == WAIT_POLL)
            vcpu_kick(&d->vcpus[i]);
}
