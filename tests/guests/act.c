/* act.c (guest, act64): does one thing chosen by "act=<name>" on the command line, for the hypervisor's exit and crash tests. */
#include "guest.h"
#include "evlib.h"
#include "x86.h"
#include "hostile.h"
#include "xen/console.h"
#include "xen/console_io.h"
#include "xen/event_channel.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/memory.h"
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

/*
 * Says each line typed into its console ring back ("ECHO <line>", through
 * CONSOLEIO_write, so the hypervisor's log carries it); "quit" powers off.
 * What `wisp console` is tested with.
 */
static void act_echo(void)
{
    volatile struct xencons_interface *ring =
        (volatile struct xencons_interface *)(hvm_param(HVM_PARAM_CONSOLE_PFN) << 12);
    char line[128];
    unsigned int n = 0;

    if (!ring)
        return;
    con_printf("ECHO ready\n");
    for (;;) {
        XENCONS_RING_IDX cons = ring->in_cons, prod = ring->in_prod;

        if (cons == prod) {
            (void)hv_sched_op(SCHEDOP_yield, 0);
            continue;
        }
        char c = ring->in[MASK_XENCONS_IDX(cons, ring->in)];

        ring->in_cons = cons + 1;
        if (c == '\r' || c == '\n') {
            line[n] = '\0';
            if (n == 4 && !memcmp(line, "quit", 4))
                guest_shutdown(SHUTDOWN_poweroff);
            if (n)
                con_printf("ECHO %s\n", line);
            n = 0;
        } else if (n < sizeof(line) - 1 && c >= ' ' && c < 0x7f) {
            line[n++] = c;
        }
    }
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

/*
 * Spins for SHARE_WALL_NS of system time, then reports how much of it this
 * vCPU ran ("SHARE running_ns=R wall_ns=W", from its runstate) and powers off:
 * the share of a pCPU it got beside other spinners (test_smp.py).
 */
#define SHARE_WALL_NS (2000ull * 1000 * 1000)

static uint64_t running_now(void)
{
    struct vcpu_runstate_info r;
    uint64_t now;

    (void)hv_vcpu_op(VCPUOP_get_runstate_info, 0, HV_PTR(&r));
    now = pv_now();
    return r.time[RUNSTATE_running] + (r.state == RUNSTATE_running ? now - r.state_entry_time : 0);
}

static void act_share(void)
{
    if (ev_map_shared_info()) {         /* pv_now reads the time in shared_info */
        con_printf("SHARE cannot map shared_info\n");
        guest_shutdown(SHUTDOWN_crash);
    }
    uint64_t ran = running_now(), start = pv_now(), end;

    while ((end = pv_now()) - start < SHARE_WALL_NS)
        __asm__ volatile("pause");
    ran = running_now() - ran;
    con_printf("SHARE running_ns=%llu wall_ns=%llu\n", (unsigned long long)ran,
               (unsigned long long)(end - start));
    guest_shutdown(SHUTDOWN_poweroff);
}

/* Where a PC has an IOAPIC and Wisp has only a read-only page of all ones. */
#define DEVICE_HOLE_IOAPIC 0xFEC00000UL

static void act_hole_write(void)
{
    *(volatile uint32_t *)DEVICE_HOLE_IOAPIC = 0;
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

/* Debug registers: two domains on one pCPU, one sets DR0-DR3, the other must never see them. */
#define DR_ROUNDS_DEFAULT 200
#define DR_MAGIC(i) (0x5a5a1000ul + (unsigned long)(i) * 0x1000ul)   /* DR7 stays off: no breakpoints */

#define READ_DR(n) ({ unsigned long v_; __asm__ volatile("mov %%db" #n ", %0" : "=r"(v_)); v_; })
#define WRITE_DR(n, x) __asm__ volatile("mov %0, %%db" #n :: "r"((unsigned long)(x)))

static void read_drs(unsigned long dr[4])
{
    dr[0] = READ_DR(0);
    dr[1] = READ_DR(1);
    dr[2] = READ_DR(2);
    dr[3] = READ_DR(3);
}

/* Sets DR0-DR3, then yields the pCPU again and again: its values must come back each time. */
static void act_dr_set(void)
{
    unsigned int rounds = cmdline_number("rounds", DR_ROUNDS_DEFAULT), lost = 0;
    unsigned long dr[4];

    WRITE_DR(0, DR_MAGIC(0));
    WRITE_DR(1, DR_MAGIC(1));
    WRITE_DR(2, DR_MAGIC(2));
    WRITE_DR(3, DR_MAGIC(3));
    for (unsigned int r = 0; r < rounds; r++) {
        (void)hv_sched_op(SCHEDOP_yield, 0);
        read_drs(dr);
        for (unsigned int i = 0; i < 4; i++)
            lost += dr[i] != DR_MAGIC(i);
    }
    if (lost)
        con_printf("DR lost %u\n", lost);
    else
        con_printf("DR kept\n");
    guest_shutdown(SHUTDOWN_poweroff);
}

/* Yields again and again and reads DR0-DR3: another domain's values must never show. */
static void act_dr_peek(void)
{
    unsigned int rounds = cmdline_number("rounds", DR_ROUNDS_DEFAULT), seen = 0;
    unsigned long dr[4], first = 0;

    for (unsigned int r = 0; r < rounds; r++) {
        (void)hv_sched_op(SCHEDOP_yield, 0);
        read_drs(dr);
        for (unsigned int i = 0; i < 4; i++) {
            if (dr[i] == DR_MAGIC(i) && !seen++)
                first = dr[i];
        }
    }
    if (seen)
        con_printf("DR leak %u (first 0x%lx)\n", seen, first);
    else
        con_printf("DR clean\n");
    guest_shutdown(SHUTDOWN_poweroff);
}

#define LATENCY_PERIOD_NS (10ull * 1000 * 1000)
#define LATENCY_DEFAULT_TICKS 100

/*
 * Like the canary, but measures: every 10 ms of guest time it sleeps until a
 * timer deadline and notes how late it woke. Beside a domain that floods the
 * console, the lateness shows how long the hypervisor kept the pCPU (the
 * serial line must not hold it for more than about a slice). Prints
 * "LATENCY max <us> us over <n> ticks"; with report=<us>, also each wake-up
 * later than that as "LATENCY late <us> us at <ms> ms" (system time, the
 * clock every domain reads), so a test can tell when the pCPU was held.
 */
static void act_latency(void)
{
    unsigned int ticks = cmdline_number("ticks", LATENCY_DEFAULT_TICKS);
    uint64_t report_ns = cmdline_number("report", 0) * 1000ull;
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
        if (report_ns && now > deadline + report_ns)
            con_printf("LATENCY late %llu us at %llu ms\n",
                       (unsigned long long)(now - deadline) / 1000,
                       (unsigned long long)(now / NS_PER_MS));
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

/* ---- ballooning: p2m churn and huge extent counts (docs/test-guests.md) ---- */

#define SIZE_2M (2UL << 20)
#define PAGES_2M 512UL
#define ORDER_2M 9
#define MAX_REGIONS 1024

#define CHURN_DEFAULT_ROUNDS 20     /* rounds=N on the command line */
static unsigned long region_gfn[MAX_REGIONS];
static xen_pfn_t extent_list[MAX_REGIONS];

static long reservation(int cmd, xen_pfn_t *list, unsigned long n, unsigned int order)
{
    struct xen_memory_reservation r = { .nr_extents = n, .extent_order = order,
                                        .domid = DOMID_SELF };

    set_xen_guest_handle(r.extent_start, list);
    return hv_memory_op(cmd, HV_PTR(&r));
}

static void balloon_fail(const char *what, long rc, unsigned long want)
{
    con_printf("BALLOON FAIL %s: rc %ld, want %lu\n", what, rc, want);
    guest_shutdown(SHUTDOWN_crash);
}

/* One call; anything but all `n` extents done ends the guest with a crash. */
static void reservation_all(const char *what, int cmd, xen_pfn_t *list, unsigned long n,
                            unsigned int order)
{
    long rc = reservation(cmd, list, n, order);

    if (rc != (long)n)
        balloon_fail(what, rc, n);
}

/* The 2 MiB regions of RAM above our image (and the boot data placed after it). */
static unsigned long find_regions(void)
{
    static struct e820entry map[32];
    struct xen_memory_map mm = { .nr_entries = 32 };
    unsigned long first = ((uintptr_t)_image_end + 2 * SIZE_2M - 1) & ~(SIZE_2M - 1), n = 0;

    set_xen_guest_handle(mm.buffer, map);
    if (hv_memory_op(XENMEM_memory_map, HV_PTR(&mm)))
        balloon_fail("memory_map", -1, 0);
    for (unsigned int i = 0; i < mm.nr_entries; i++) {
        unsigned long end = map[i].addr + map[i].size;

        if (map[i].type != XEN_HVM_MEMMAP_TYPE_RAM)
            continue;
        for (unsigned long a = first > map[i].addr ? first : (map[i].addr + SIZE_2M - 1) & ~(SIZE_2M - 1);
             a + SIZE_2M <= end && n < MAX_REGIONS; a += SIZE_2M)
            region_gfn[n++] = a / PAGE_SIZE;
    }
    return n;
}

/* Lists one gfn per region: page `page` of each region with (index % 2 == parity), or all (parity 2). */
static unsigned long list_regions(unsigned long nr, unsigned long page, unsigned int parity)
{
    unsigned long n = 0;

    for (unsigned long i = 0; i < nr; i++)
        if (parity == 2 || i % 2 == parity)
            extent_list[n++] = region_gfn[i] + page;
    return n;
}

/*
 * Splits every region's 2 MiB p2m leaf (one 4 KiB page out and back: the
 * hypervisor allocates a table per region) and merges them again (the whole
 * 2 MiB out and back: the table is freed), half the regions before the other
 * half so the freed tables leave a hole each. The hypervisor must end with
 * as many free frames as it started with.
 */
static void act_balloon_churn(void)
{
    unsigned long nr = find_regions(), n;
    unsigned long churn_rounds = cmdline_number("rounds", CHURN_DEFAULT_ROUNDS);

    con_printf("BALLOON churn: %lu regions of 2 MiB, %lu rounds\n", nr, churn_rounds);
    if (!nr)
        balloon_fail("no 2 MiB region above the image", 0, 1);
    for (unsigned long round = 0; round < churn_rounds; round++) {
        n = list_regions(nr, round % PAGES_2M, 2);
        reservation_all("split out", XENMEM_decrease_reservation, extent_list, n, 0);
        reservation_all("split in", XENMEM_populate_physmap, extent_list, n, 0);
        for (unsigned int half = 0; half < 2; half++) {
            n = list_regions(nr, 0, (half + round) % 2);
            reservation_all("merge out", XENMEM_decrease_reservation, extent_list, n, ORDER_2M);
            reservation_all("merge in", XENMEM_populate_physmap, extent_list, n, ORDER_2M);
        }
        if ((round + 1) % 10 == 0 || round + 1 == churn_rounds)
            con_printf("BALLOON round %lu\n", round + 1);
    }
    con_printf("BALLOON done\n");
    guest_shutdown(SHUTDOWN_poweroff);
}

#define FILL_BYTE 0x5a
#define REGION_WORDS (SIZE_2M / sizeof(uint64_t))

/* Region i of find_regions(), as the words the identity map shows it. */
static volatile uint64_t *region_words(unsigned long i)
{
    return (volatile uint64_t *)(region_gfn[i] * PAGE_SIZE);
}

/* Fills RAM above the image with FILL_BYTE and idles: what a new domain must not see. */
static void act_fill(void)
{
    unsigned long nr = find_regions();

    for (unsigned long i = 0; i < nr; i++)
        for (unsigned long w = 0; w < REGION_WORDS; w++)
            region_words(i)[w] = FILL_BYTE * 0x0101010101010101ull;
    con_printf("FILL done: %lu regions of 2 MiB\n", nr);
    for (;;)
        __asm__ volatile("sti; hlt");
}

/* Counts the non-zero bytes of RAM above the image: a domain's RAM starts zeroed. */
static void act_ram_zeroed(void)
{
    unsigned long nr = find_regions(), nonzero = 0;

    for (unsigned long i = 0; i < nr; i++)
        for (unsigned long w = 0; w < REGION_WORDS; w++)
            for (uint64_t v = region_words(i)[w]; v; v >>= 8)
                nonzero += (v & 0xff) != 0;
    con_printf("ZEROED %lu non-zero bytes in %lu regions of 2 MiB\n", nonzero, nr);
    guest_shutdown(SHUTDOWN_poweroff);
}

/*
 * An extent list of 2^40 entries (8 TiB) that costs five pages: PML4 slots
 * 16-31 all point to one PDPT, whose 512 entries point to one PD, whose 512
 * entries point to one PT, whose 512 entries point to one page of gfns.
 */
#define HUGE_LIST_VA    (16UL << 39)            /* PML4 slot 16: 8 TiB */
#define HUGE_LIST_SLOTS 16
#define HUGE_EXTENTS    (1UL << 40)
#define MEMOP_EXTENT_SHIFT 6                    /* Xen's memory.h */
#define MEMOP_MAX_EXTENTS (0xffffffffUL >> MEMOP_EXTENT_SHIFT)

static uint64_t huge_pdpt[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint64_t huge_pd[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint64_t huge_pt[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static xen_pfn_t huge_gfns[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t victim[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void map_huge_list(void)
{
    uint64_t *pml4;

    __asm__ volatile("mov %%cr3, %0" : "=r"(pml4));
    pml4 = (uint64_t *)((uintptr_t)pml4 & ~(PAGE_SIZE - 1));
    for (unsigned int i = 0; i < PT_ENTRIES; i++) {
        huge_gfns[i] = (uintptr_t)victim / PAGE_SIZE;
        huge_pt[i] = (uintptr_t)huge_gfns | PTE_RW | PTE_P;
        huge_pd[i] = (uintptr_t)huge_pt | PTE_RW | PTE_P;
        huge_pdpt[i] = (uintptr_t)huge_pd | PTE_RW | PTE_P;
    }
    for (unsigned int i = 0; i < HUGE_LIST_SLOTS; i++)
        pml4[HUGE_LIST_VA / (1UL << 39) + i] = (uintptr_t)huge_pdpt | PTE_RW | PTE_P;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

/* memory_op through the hypercall page, reporting what RDI held afterwards. */
static long memory_op_rdi(unsigned long *cmd, unsigned long arg)
{
    long rax = __HYPERVISOR_memory_op;
    const void *stub = hypercall_page + __HYPERVISOR_memory_op * XEN_HYPERCALL_STUB_SIZE;

    __asm__ volatile("call *%[t]"
                     : "+a"(rax), "+D"(*cmd), "+S"(arg)
                     : [t] "r"(stub)
                     : "rdx", "r10", "r8", "memory", "cc");
    return rax;
}

#define POOL_PAGES 1024UL
static uint8_t pool[POOL_PAGES * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static xen_pfn_t pool_gfns[POOL_PAGES];

/*
 * Hostile counts beside other domains: 2^40 extents (all naming one page,
 * which a vulnerable hypervisor balloons out again and again), then the
 * largest count Xen accepts, then 1024 real pages in one call, which a
 * hypervisor must split into passes (RDI comes back advanced). Forever.
 */
static void act_balloon_huge(void)
{
    xen_pfn_t *list = (xen_pfn_t *)HUGE_LIST_VA;
    struct xen_memory_reservation r = { .domid = DOMID_SELF };
    unsigned long round = 0;

    map_huge_list();
    set_xen_guest_handle(r.extent_start, list);
    for (unsigned long i = 0; i < POOL_PAGES; i++)
        pool_gfns[i] = (uintptr_t)(pool + i * PAGE_SIZE) / PAGE_SIZE;
    for (;;) {
        unsigned long cmd;
        long rc;

        r.nr_extents = HUGE_EXTENTS;
        rc = hv_memory_op(XENMEM_decrease_reservation, HV_PTR(&r));
        if (!round)
            con_printf("BALLOON huge: 2^40 extents: %ld done\n", rc);
        r.nr_extents = MEMOP_MAX_EXTENTS;
        rc = hv_memory_op(XENMEM_decrease_reservation, HV_PTR(&r));
        long back = hv_memory_op(XENMEM_populate_physmap, HV_PTR(&r));
        if (rc != 1 || back != 1)
            balloon_fail("the same gfn 2^26-1 times (out, in)", rc * 10 + back, 11);

        struct xen_memory_reservation p = { .nr_extents = POOL_PAGES, .domid = DOMID_SELF };
        set_xen_guest_handle(p.extent_start, pool_gfns);
        cmd = XENMEM_decrease_reservation;
        rc = memory_op_rdi(&cmd, HV_PTR(&p));
        if (rc != (long)POOL_PAGES || !(cmd >> MEMOP_EXTENT_SHIFT))
            balloon_fail("1024 pages in one call (continued)", rc, POOL_PAGES);
        cmd = XENMEM_populate_physmap;
        rc = memory_op_rdi(&cmd, HV_PTR(&p));
        if (rc != (long)POOL_PAGES)
            balloon_fail("1024 pages back", rc, POOL_PAGES);
        if (++round % 20 == 0 || round == 1)
            con_printf("BALLOON huge round %lu (continued at extent %lu)\n", round,
                       cmd >> MEMOP_EXTENT_SHIFT);
    }
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
    { "share", act_share },
    { "ud", act_ud },
    { "bigprint", act_bigprint },
    { "vcpu-down", act_vcpu_down },
    { "flood-io", act_flood_io },
    { "flood-ring", act_flood_ring },
    { "dual-console", act_dual_console },
    { "canary", act_canary },
    { "hole-write", act_hole_write },
    { "dr-set", act_dr_set },
    { "dr-peek", act_dr_peek },
    { "balloon-churn", act_balloon_churn },
    { "balloon-huge", act_balloon_huge },
    { "fill", act_fill },
    { "ram-zeroed", act_ram_zeroed },
    { "console-forge", act_console_forge },
    { "log-flood", act_log_flood },
    { "await-input", act_await_input },
    { "echo", act_echo },
    { "idle", act_idle },
    { "latency", act_latency },
    { "periodic-huge", act_periodic_huge },
    { "lapic-periodic-x2apic", act_lapic_periodic_x2apic },
    { "lapic-periodic-xapic", act_lapic_periodic_xapic },
    { "spin-cli", act_spin_cli },
    { "spin-sti", act_spin_sti },
    { "smp-spin", act_smp_spin },
    { "smp-spin-sti", act_smp_spin_sti },
};

int main(const struct hvm_start_info *si)
{
    char name[32];

    start_info = si;
    if (!cmdline_get(si, "act", name, sizeof(name))) {
        con_printf("ACT missing: put act=<name> on the command line, one of:");
        for (unsigned int i = 0; i < ARRAY_SIZE(acts); i++)
            con_printf(" %s", acts[i].name);
        con_printf("\n");
        return 1;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(acts); i++) {
        if (strcmp(acts[i].name, name))
            continue;
        con_printf("ACT %s\n", name);
        acts[i].run();
        /* Only npf and hole-write can come back (a hypervisor that did not stop us). */
        con_printf("ACT %s returned: the hypervisor did not stop the guest\n", name);
        return 1;
    }
    con_printf("ACT unknown %s\n", name);
    return 1;
}
