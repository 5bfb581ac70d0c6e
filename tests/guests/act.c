/* act.c (guest, act64): does one thing chosen by "act=<name>" on the command line, for the hypervisor's exit and crash tests. */
#include "guest.h"
#include "evlib.h"
#include "hostile.h"
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
    { "canary", act_canary },
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
        con_printf("ACT missing: put act=<poweroff|reboot|crash|triple|npf|halt|spin|ud|bigprint|vcpu-down|"
                   "flood-io|flood-ring|canary|periodic-huge|lapic-periodic-x2apic|"
                   "lapic-periodic-xapic|spin-cli|spin-sti|smp-spin|smp-spin-sti>"
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
