/* act.c (guest, act64): does one thing chosen by "act=<name>" on the command line, for the hypervisor's exit and crash tests. */
#include "guest.h"
#include "evlib.h"
#include "xen/console.h"
#include "xen/console_io.h"
#include "xen/event_channel.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/sched.h"
#include "xen/vcpu.h"

/* Guest-physical address far outside any test guest's RAM (and outside the image). */
#define FAR_OUTSIDE_RAM 0xF0000000UL
#define BIGPRINT_LINES 10000

static void act_shutdown(unsigned int reason)
{
    guest_shutdown(reason);
}

/* No IDT: the CPU cannot deliver the exception, nor the #DF after it: triple fault. */
static void act_triple(void)
{
    trap_load_empty_idt();
    __asm__ volatile("int3");
}

static void act_ud(void)
{
    trap_load_empty_idt();
    __asm__ volatile("ud2");
}

/* The first 4 GiB are identity-mapped, so this store reaches guest-physical 0xF0000000. */
static void act_npf(void)
{
    *(volatile uint32_t *)FAR_OUTSIDE_RAM = 0xdeadbeef;
}

/* HLT with interrupts off on the last running vCPU: the hypervisor treats it as poweroff. */
static void act_halt(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* VCPUOP_down on the only vCPU: as in Xen, the domain powers off. */
static void act_vcpu_down(void)
{
    (void)hv_vcpu_op(VCPUOP_down, 0, 0);
}

/* "<tag> 00001234 ...\n": a numbered line, so the host can tell that none was lost or torn. */
#define FLOOD_LINE_LEN 64

static void flood_line(char *out, const char *tag, unsigned long long n)
{
    static const char tail[] = " the quick brown fox jumps over the lazy dog";
    size_t len = 0;

    while (*tag)
        out[len++] = *tag++;
    out[len++] = ' ';
    for (int digit = 7; digit >= 0; digit--, n /= 10)
        out[len + (size_t)digit] = (char)('0' + n % 10);
    len += 8;
    for (size_t i = 0; len < FLOOD_LINE_LEN - 1; i++)
        out[len++] = tail[i % (sizeof(tail) - 1)];
    out[len] = '\n';
}

/* CONSOLEIO_write without pause, 16 KiB a call: each call is longer than one pass of the hypervisor. */
static void act_flood_io(void)
{
    static char buf[256 * FLOOD_LINE_LEN];
    unsigned long long n = 0;

    for (;;) {
        for (size_t i = 0; i < sizeof(buf); i += FLOOD_LINE_LEN)
            flood_line(buf + i, "io", n++);
        (void)hv_console_io(CONSOLEIO_write, sizeof(buf), HV_PTR(buf));
    }
}

static unsigned long hvm_param(uint32_t index)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };

    return hv_hvm_op(HVMOP_get_param, HV_PTR(&p)) ? 0 : (unsigned long)p.value;
}

/* The PV console ring as Linux's hvc_xen uses it: fill what is free, notify, again, forever. */
static void act_flood_ring(void)
{
    volatile struct xencons_interface *ring =
        (volatile struct xencons_interface *)(hvm_param(HVM_PARAM_CONSOLE_PFN) << 12);
    struct evtchn_send notify = { .port = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN) };
    char line[FLOOD_LINE_LEN];
    unsigned long long n = 0;

    if (!ring)
        return;
    for (;;) {
        XENCONS_RING_IDX prod = ring->out_prod;

        while (prod - ring->out_cons <= sizeof(ring->out) - FLOOD_LINE_LEN) {
            flood_line(line, "ring", n++);
            for (size_t i = 0; i < FLOOD_LINE_LEN; i++)
                ring->out[(prod + i) % sizeof(ring->out)] = line[i];
            prod += FLOOD_LINE_LEN;
        }
        __asm__ volatile("" ::: "memory");      /* data before the index (x86: stores in order) */
        ring->out_prod = prod;
        (void)hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, HV_PTR(&notify), 0, 0, 0);
    }
}

/*
 * What XTF and Mini-OS do: every message through CONSOLEIO_write first, then
 * through the PV console ring, waiting until the ring is drained (XTF's
 * pv_console_write). The host must see each line once, in order.
 */
static void dual_write(volatile struct xencons_interface *ring, struct evtchn_send *notify,
                       const char *msg)
{
    size_t len = strlen(msg);
    XENCONS_RING_IDX prod = ring->out_prod;

    (void)hv_console_io(CONSOLEIO_write, len, HV_PTR(msg));
    for (size_t i = 0; i < len; i++)
        ring->out[(prod + i) % sizeof(ring->out)] = msg[i];
    __asm__ volatile("" ::: "memory");      /* data before the index (x86: stores in order) */
    ring->out_prod = prod + (XENCONS_RING_IDX)len;
    (void)hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, HV_PTR(notify), 0, 0, 0);
    while (ring->out_cons != ring->out_prod)
        (void)hv_sched_op(SCHEDOP_yield, 0);
}

static void act_dual_console(void)
{
    volatile struct xencons_interface *ring =
        (volatile struct xencons_interface *)(hvm_param(HVM_PARAM_CONSOLE_PFN) << 12);
    struct evtchn_send notify = { .port = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN) };
    static const char *const msgs[] = {
        "dual 1: --- Xen Test Framework ---\n",
        "dual 2: Environment: HVM 64bit (Long mode 4 levels)\n",
        "dual 3: ******************************\n",
        "dual 4: PANIC: ",                  /* XTF's panic(): prefix, message, newline */
        "something went wrong",
        "\n",
        "dual 5: ******************************\n",
    };

    if (!ring)
        return;
    for (unsigned int i = 0; i < ARRAY_SIZE(msgs); i++)
        dual_write(ring, &notify, msgs[i]);
    con_printf("dual 6: console_io only, after the ring\n");
    dual_write(ring, &notify, "dual 7: the end\n");
    guest_shutdown(SHUTDOWN_poweroff);
}

/* Writes s to the PV console ring, waiting for room; false when there is no ring. */
static bool ring_write(const char *s, size_t n)
{
    volatile struct xencons_interface *ring =
        (volatile struct xencons_interface *)(hvm_param(HVM_PARAM_CONSOLE_PFN) << 12);
    struct evtchn_send notify = { .port = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN) };

    if (!ring)
        return false;
    while (n) {
        XENCONS_RING_IDX prod = ring->out_prod;

        while (n && prod - ring->out_cons < sizeof(ring->out)) {
            ring->out[prod % sizeof(ring->out)] = *s++;
            prod++;
            n--;
        }
        __asm__ volatile("" ::: "memory");      /* data before the index (x86: stores in order) */
        ring->out_prod = prod;
        (void)hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, HV_PTR(&notify), 0, 0, 0);
    }
    return true;
}

/*
 * Text that would drive a terminal or pass for someone else's line if the
 * hypervisor printed it raw: escape sequences, BEL, BS, CRs that return to the
 * line start before a fake "(wisp) " or "(d9) " line, and a last partial line.
 * The host test (test_hostile_console.py) expects it neutralised on the serial
 * line and given back byte for byte on `wisp run`'s stdout.
 */
#define FORGE_TEXT(path)                                                                  \
    "FORGE " path " esc \x1b[2J\x1b[31mred\x1b[0m \x1b]0;title\x07 bs\x08\x08 tab\tend\n" \
    "FORGE " path " cr\r(wisp) end: poweroff\n"                                              \
    "\r(d9) FORGE " path " fake domain line\r\n"                                              \
    "FORGE " path " backslash \\x41 \\\\ high \xc3\xa9\n"

static void act_console_forge(void)
{
    static const char io[] = FORGE_TEXT("io");
    static const char ring[] = FORGE_TEXT("ring");
    static const char partial[] = "FORGE partial\r(wisp) end: crash";

    (void)hv_console_io(CONSOLEIO_write, sizeof(io) - 1, HV_PTR(io));
    if (!ring_write(ring, sizeof(ring) - 1))
        con_printf("FORGE no console ring\n");
    (void)ring_write(partial, sizeof(partial) - 1);
    guest_shutdown(SHUTDOWN_poweroff);
}

#define LOG_FLOOD_ROUNDS 10000
#define UNKNOWN_MSR 0x12345678u         /* no CPU has it: rdmsr is refused (#GP) */
#define XEN_HYPERCALL_PAGE_MSR 0x40000000u

static void read_unknown_msr(void *arg)
{
    (void)rdmsr(UNKNOWN_MSR);
}

/* The hypercall page's MSR with a frame outside RAM: refused with a log line each time. */
static void hypercall_page_outside_ram(void *arg)
{
    wrmsr(XEN_HYPERCALL_PAGE_MSR, FAR_OUTSIDE_RAM);
}

/* Every round makes the hypervisor want to log two lines (one at info, one at debug level). */
static void act_log_flood(void)
{
    unsigned int refused = 0;

    for (unsigned int i = 0; i < LOG_FLOOD_ROUNDS; i++) {
        refused += expect_fault(X86_EXC_GP, read_unknown_msr, NULL);
        refused += expect_fault(X86_EXC_GP, hypercall_page_outside_ram, NULL);
    }
    con_printf("LOGFLOOD done %u of %u refused\n", refused, 2 * LOG_FLOOD_ROUNDS);
    guest_shutdown(SHUTDOWN_poweroff);
}

#define X86_CR4_MCE (1UL << 6)      /* machine checks raise #MC (SDM vol 3A, 2.5) */

/*
 * Runs without exits, with CR4.MCE set as an OS would, until a byte arrives on
 * the console ring, then powers off. Meanwhile the host test makes the emulator
 * raise NMIs and machine checks (test_host_events.py): none may reach this guest.
 */
static void act_await_input(void)
{
    volatile struct xencons_interface *ring =
        (volatile struct xencons_interface *)(hvm_param(HVM_PARAM_CONSOLE_PFN) << 12);
    unsigned long cr4;

    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | X86_CR4_MCE));
    if (!ring)
        return;
    con_printf("AWAIT ready\n");
    while (ring->in_cons == ring->in_prod)
        __asm__ volatile("pause");
    con_printf("AWAIT input\n");
    guest_shutdown(SHUTDOWN_poweroff);
}

/* Sleeps for good with interrupts on and none coming: the hypervisor idles in host context. */
static void act_idle(void)
{
    unsigned long cr4;

    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | X86_CR4_MCE));
    con_printf("IDLE ready\n");
    for (;;)
        __asm__ volatile("sti; hlt");
}

static void act_spin(void)
{
    for (;;)
        __asm__ volatile("pause");
}

#define CANARY_PERIOD_NS (100ull * 1000 * 1000)
#define CANARY_DEFAULT_BEATS 20

static const struct hvm_start_info *start_info;

static unsigned int cmdline_number(const char *key, unsigned int fallback)
{
    char text[16];
    unsigned int n = 0;

    if (!cmdline_get(start_info, key, text, sizeof(text)) || !text[0])
        return fallback;
    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (unsigned int)(*p - '0');
    return n;
}

/*
 * A domain that must keep living beside a hostile one: every 100 ms of guest time
 * (a set_timer_op deadline, slept through with SCHEDOP_poll on the VIRQ_TIMER port,
 * so the hypervisor's timers and wakeups must work) it prints "CANARY beat N".
 */
static void act_canary(void)
{
    unsigned int beats = cmdline_number("beats", CANARY_DEFAULT_BEATS);
    uint32_t port;

    if (ev_map_shared_info() || ev_bind_virq(VIRQ_TIMER, 0, &port)) {
        con_printf("CANARY cannot set up its timer\n");
        guest_shutdown(SHUTDOWN_crash);
    }
    for (unsigned int n = 1; n <= beats; n++) {
        struct sched_poll poll = { .nr_ports = 1, .timeout = 0 };

        set_xen_guest_handle(poll.ports, &port);
        (void)hypercall(__HYPERVISOR_set_timer_op, pv_now() + CANARY_PERIOD_NS, 0, 0, 0, 0);
        (void)hv_sched_op(SCHEDOP_poll, HV_PTR(&poll));
        ev_clear_pending(port);
        con_printf("CANARY beat %u\n", n);
    }
    con_printf("CANARY done\n");
    guest_shutdown(SHUTDOWN_poweroff);
}

#define LATENCY_PERIOD_NS (10ull * 1000 * 1000)
#define LATENCY_DEFAULT_TICKS 100

/*
 * Like the canary, but measures: every 10 ms of guest time it sleeps until a
 * timer deadline and notes how late it woke. Beside a domain that floods the
 * console, the lateness shows how long the hypervisor kept the pCPU (the
 * serial line must not hold it for more than about a slice). Prints
 * "LATENCY max <us> us over <n> ticks".
 */
static void act_latency(void)
{
    unsigned int ticks = cmdline_number("ticks", LATENCY_DEFAULT_TICKS);
    unsigned long long worst = 0;
    uint32_t port;

    if (ev_map_shared_info() || ev_bind_virq(VIRQ_TIMER, 0, &port)) {
        con_printf("LATENCY cannot set up its timer\n");
        guest_shutdown(SHUTDOWN_crash);
    }
    for (unsigned int n = 1; n <= ticks; n++) {
        struct sched_poll poll = { .nr_ports = 1, .timeout = 0 };
        uint64_t deadline = pv_now() + LATENCY_PERIOD_NS;

        set_xen_guest_handle(poll.ports, &port);
        (void)hypercall(__HYPERVISOR_set_timer_op, deadline, 0, 0, 0, 0);
        (void)hv_sched_op(SCHEDOP_poll, HV_PTR(&poll));
        ev_clear_pending(port);
        uint64_t now = pv_now();

        if (now > deadline && now - deadline > worst)
            worst = now - deadline;
    }
    con_printf("LATENCY max %llu us over %u ticks\n", worst / 1000, ticks);
    guest_shutdown(SHUTDOWN_poweroff);
}

static void act_bigprint(void)
{
    for (unsigned int i = 1; i <= BIGPRINT_LINES; i++)
        con_printf("bigprint line %05u of %u: the quick brown fox jumps over the lazy dog\n", i,
                   BIGPRINT_LINES);
    guest_shutdown(SHUTDOWN_poweroff);
}

struct act {
    const char *name;
    void (*run)(void);
};

static void act_poweroff(void) { act_shutdown(SHUTDOWN_poweroff); }
static void act_reboot(void) { act_shutdown(SHUTDOWN_reboot); }
static void act_crash(void) { act_shutdown(SHUTDOWN_crash); }

static const struct act acts[] = {
    { "poweroff", act_poweroff },
    { "reboot", act_reboot },
    { "crash", act_crash },
    { "triple", act_triple },
    { "npf", act_npf },
    { "halt", act_halt },
    { "spin", act_spin },
    { "ud", act_ud },
    { "bigprint", act_bigprint },
    { "vcpu-down", act_vcpu_down },
    { "flood-io", act_flood_io },
    { "flood-ring", act_flood_ring },
    { "dual-console", act_dual_console },
    { "canary", act_canary },
    { "console-forge", act_console_forge },
    { "log-flood", act_log_flood },
    { "await-input", act_await_input },
    { "idle", act_idle },
    { "latency", act_latency },
};

int main(const struct hvm_start_info *si)
{
    char name[32];

    start_info = si;
    if (!cmdline_get(si, "act", name, sizeof(name))) {
        con_printf("ACT missing: put act=<poweroff|reboot|crash|triple|npf|halt|spin|ud|bigprint|vcpu-down|"
                   "flood-io|flood-ring|dual-console|canary|console-forge|log-flood|await-input|idle|latency>"
                   " on the command line\n");
        return 1;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(acts); i++) {
        if (strcmp(acts[i].name, name))
            continue;
        con_printf("ACT %s\n", name);
        acts[i].run();
        /* Only npf can come back (a hypervisor that did not stop us). */
        con_printf("ACT %s returned: the hypervisor did not stop the guest\n", name);
        return 1;
    }
    con_printf("ACT unknown %s\n", name);
    return 1;
}
