/*
 * par.c (guest; built as par64, run with --vcpus 2 and cmdline pcpus=N, N the
 * machine's CPUs): two vCPUs of one domain, homed on different pCPUs when
 * there are two. Both use the domain's one xAPIC page at once and must each
 * see their own registers in it, never the other's (so xAPIC-mode vCPUs take
 * turns); then both switch to x2APIC mode, spin at once and measure what they
 * ran: in parallel each runs almost all the time, on one pCPU they share it.
 * Without spread_vcpus both start on one pCPU and the balancer moves one: each
 * vCPU checks at the end that the state it set at its start (SSE, SYSCALL MSRs,
 * a debug register, TSC_AUX) came along.
 */
#include "evlib.h"
#include "x86.h"
#include "xen/hvm_params.h"
#include "xen/vcpu.h"

#define AP          1
#define NR_VCPUS    2
#define SPIN_NS     (500 * NS_PER_MS)
#define TIMEOUT_NS  (5000 * NS_PER_MS)
#define RFLAGS_FIXED 0x2u
#define XAPIC_BASE  0xFEE00000UL
#define XAPIC_ID    0x020       /* bits 31:24 (SDM vol 3, table 11-1) */
#define XAPIC_TPR   0x080
#define CALLBACK_VECTOR 0xf3
#define PINGS       200

enum phase { PHASE_NONE, PHASE_XAPIC, PHASE_X2APIC, PHASE_SPIN, PHASE_PONG, PHASE_STATE,
             PHASE_STOP };

void par_entry64(void);
void par_ap_main(void);

static uint8_t ap_stack[16384] __attribute__((aligned(16)));
static volatile enum phase phase;
static volatile unsigned int ap_done;
static volatile uint64_t ran_ns[NR_VCPUS], wall_ns[NR_VCPUS];
static volatile unsigned long xapic_rounds[NR_VCPUS], xapic_wrong[NR_VCPUS];
static const struct hvm_start_info *start_info;
static uint32_t to_ap, to_bsp;          /* event-channel IPI ports: vCPU 1's and vCPU 0's */

/* ---- state that lives in the pCPU's registers while a vCPU runs ---- */

#define MSR_LSTAR          0xC0000082
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_TSC_AUX        0xC0000103
#define CR4_OSFXSR         (1ul << 9)

struct reg_state {
    uint64_t xmm7, lstar, kernel_gs_base, dr0, tsc_aux;
};

static volatile bool state_kept[NR_VCPUS];

/* Values of vCPU me's own (canonical addresses; TSC_AUX has 32 bits). */
static struct reg_state state_of(unsigned int me)
{
    uint64_t tag = 0x5a00u + me;

    return (struct reg_state){ .xmm7 = 0x0123456789ab0000ull | tag,
                               .lstar = 0xffffffff81000000ull | tag << 4,
                               .kernel_gs_base = 0xffff888000000000ull | tag << 12,
                               .dr0 = 0x400000ull | tag << 4, .tsc_aux = 0x77000000u | tag };
}

/* xmm7 is no C variable's (-mgeneral-regs-only). */
static void state_set(unsigned int me)
{
    struct reg_state s = state_of(me);

    write_cr4(read_cr4() | CR4_OSFXSR);
    __asm__ volatile("movq %0, %%xmm7" : : "r"(s.xmm7));
    __asm__ volatile("mov %0, %%dr0" : : "r"(s.dr0));
    wrmsr(MSR_LSTAR, s.lstar);
    wrmsr(MSR_KERNEL_GS_BASE, s.kernel_gs_base);
    wrmsr(MSR_TSC_AUX, s.tsc_aux);
}

static void state_check(unsigned int me)
{
    struct reg_state want = state_of(me), got;

    __asm__ volatile("movq %%xmm7, %0" : "=r"(got.xmm7));
    __asm__ volatile("mov %%dr0, %0" : "=r"(got.dr0));
    got.lstar = rdmsr(MSR_LSTAR);
    got.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    got.tsc_aux = rdmsr(MSR_TSC_AUX);
    state_kept[me] = !memcmp(&want, &got, sizeof(want));
    if (!state_kept[me])
        note("vCPU %u: xmm7 %lx lstar %lx kgs %lx dr0 %lx tsc_aux %lx\n", me, got.xmm7, got.lstar,
             got.kernel_gs_base, got.dr0, got.tsc_aux);
}

static uint64_t running_ns(unsigned int vcpu)
{
    struct vcpu_runstate_info r;

    (void)hv_vcpu_op(VCPUOP_get_runstate_info, vcpu, HV_PTR(&r));
    return r.time[RUNSTATE_running] +
           (r.state == RUNSTATE_running ? pv_now() - r.state_entry_time : 0);
}

/* Spins SPIN_NS of system time; notes how much of it this vCPU ran. */
static void spin_and_measure(unsigned int me)
{
    uint64_t ran = running_ns(me), start = pv_now(), end;

    while ((end = pv_now()) - start < SPIN_NS)
        __asm__ volatile("pause");
    ran_ns[me] = running_ns(me) - ran;
    wall_ns[me] = end - start;
}

/*
 * For SPIN_NS: writes a TPR value of its own into the xAPIC page, exits
 * (CPUID: the page is collected, then published again) and reads its APIC ID
 * and that TPR back. Any other value is the other vCPU's register state.
 */
static void xapic_pound(unsigned int me)
{
    volatile uint32_t *id = (volatile uint32_t *)(XAPIC_BASE + XAPIC_ID);
    volatile uint32_t *tpr = (volatile uint32_t *)(XAPIC_BASE + XAPIC_TPR);
    uint64_t start = pv_now();
    struct cpuid_regs r;

    while (pv_now() - start < SPIN_NS) {
        uint32_t want = (me + 1) << 4 | (uint32_t)(xapic_rounds[me] & 0xf);

        *tpr = want;
        cpuid(0, 0, &r);
        if (*id >> 24 != me || (*tpr & 0xff) != want)
            xapic_wrong[me]++;
        xapic_rounds[me]++;
    }
    *tpr = 0;
}

static unsigned int this_vcpu(void)
{
    return rdmsr(X2APIC_ID) == AP ? AP : 0;      /* both run in x2APIC mode by now */
}

static void on_callback_vector(unsigned int vector)
{
    (void)vector;
    ev_upcall_scan(this_vcpu());
}

/* Sleeps with interrupts on (HLT) until *count moves past seen; false on timeout. */
static bool sleep_until_count(volatile unsigned int *count, unsigned int seen)
{
    uint64_t deadline = pv_now() + TIMEOUT_NS;

    while (*count == seen && pv_now() < deadline)
        irq_enable_and_halt();
    irq_disable();
    return *count != seen;
}

/* vCPU 1: answers each of PINGS events on its port with one to vCPU 0. */
static void pong(void)
{
    irq_load_idt();                     /* the one vCPU 0 set the callback vector in */
    for (unsigned int i = 0; i < PINGS; i++) {
        if (!sleep_until_count(&ev_count[to_ap], i))
            return;
        (void)ev_send(to_bsp);
    }
}

void par_ap_main(void)
{
    enum phase seen = PHASE_NONE;

    state_set(AP);
    for (;;) {
        enum phase now = phase;

        if (now == seen) {
            __asm__ volatile("pause");
            continue;
        }
        seen = now;
        if (now == PHASE_SPIN)
            spin_and_measure(AP);
        else if (now == PHASE_XAPIC)
            xapic_pound(AP);
        else if (now == PHASE_X2APIC)
            x2apic_enable();
        else if (now == PHASE_PONG)
            pong();
        else if (now == PHASE_STATE)
            state_check(AP);
        else if (now == PHASE_STOP)
            (void)hv_vcpu_op(VCPUOP_down, AP, 0);
        ap_done++;
    }
}

static bool start_ap(void)
{
    struct vcpu_hvm_context c = { .mode = VCPU_HVM_MODE_64B };
    struct vcpu_hvm_x86_64 *r = &c.cpu_regs.x86_64;

    r->rsp = (uintptr_t)ap_stack + sizeof(ap_stack);
    r->rip = (uintptr_t)par_entry64;
    r->rflags = RFLAGS_FIXED;
    r->cr0 = read_cr0();
    r->cr3 = read_cr3();
    r->cr4 = read_cr4();
    r->efer = rdmsr(MSR_EFER);
    return hv_vcpu_op(VCPUOP_initialise, AP, HV_PTR(&c)) == 0 && hv_vcpu_op(VCPUOP_up, AP, 0) == 0;
}

/* Runs `p` on both vCPUs at once; false if vCPU 1 did not finish in time. */
static bool both(enum phase p, void (*job)(unsigned int me))
{
    unsigned int done = ap_done;
    uint64_t deadline;

    phase = p;
    if (job)
        job(0);
    deadline = pv_now() + TIMEOUT_NS;
    while (ap_done == done && pv_now() < deadline)
        __asm__ volatile("pause");
    return ap_done != done;
}

static unsigned int cmdline_pcpus(void)
{
    char text[8] = "";

    if (!cmdline_get(start_info, "pcpus", text, sizeof(text)) || text[0] < '1' || text[0] > '9')
        return 1;
    return (unsigned int)(text[0] - '0');
}

/* Share of the wall time each vCPU ran, in percent. */
static unsigned int percent(unsigned int v)
{
    return wall_ns[v] ? (unsigned int)(ran_ns[v] * 100 / wall_ns[v]) : 0;
}

static void check_parallel(unsigned int pcpus)
{
    bool ran = both(PHASE_SPIN, spin_and_measure);
    unsigned int p0 = percent(0), p1 = percent(AP);

    note("spinning together: vCPU 0 ran %u%%, vCPU 1 %u%% of %u ms\n", p0, p1,
         (unsigned int)(SPIN_NS / NS_PER_MS));
    if (pcpus >= 2)
        check("par_vcpus_run_at_once", ran && p0 >= 90 && p1 >= 90,
              "on %u pCPUs: vCPU 0 ran %u%%, vCPU 1 %u%% (want 90%% or more each)", pcpus, p0,
              p1);
    else
        /* Each PAUSE exit yields to the other here: under Bochs the switches cost much. */
        check("par_vcpus_run_at_once", ran && p0 + p1 <= 110 && p0 >= 10 && p1 >= 10,
              "on one pCPU: vCPU 0 ran %u%%, vCPU 1 %u%% (want shares of one)", p0, p1);
}

static void check_xapic_page(void)
{
    bool ran = both(PHASE_XAPIC, xapic_pound);

    check("par_xapic_page_one_vcpu_at_a_time",
          ran && xapic_rounds[0] && xapic_rounds[AP] && !xapic_wrong[0] && !xapic_wrong[AP],
          "rounds %lu and %lu, wrong register values %lu and %lu", xapic_rounds[0],
          xapic_rounds[AP], xapic_wrong[0], xapic_wrong[AP]);
}

/*
 * Event-channel round trips between the two vCPUs, each asleep in HLT when its
 * event comes: on two pCPUs this is the remote wake-up path (a kick IPI, the
 * exit from HLT or the guest, the upcall). Reports the mean and the worst.
 */
static void check_ping_pong(void)
{
    struct xen_hvm_param p = {
        .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
        .value = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | CALLBACK_VECTOR,
    };
    uint64_t total = 0, worst = 0;
    unsigned int done = ap_done, got = 0;
    long rc;

    irq_set_handler(CALLBACK_VECTOR, on_callback_vector);
    rc = hv_hvm_op(HVMOP_set_param, HV_PTR(&p));
    rc = rc ? rc : ev_bind_ipi(AP, &to_ap);
    rc = rc ? rc : ev_bind_ipi(0, &to_bsp);
    if (rc) {
        check_fail("par_event_round_trips", "set-up: rc %ld", rc);
        return;
    }
    phase = PHASE_PONG;
    for (; got < PINGS; got++) {
        uint64_t start = pv_now(), took;

        (void)ev_send(to_ap);
        if (!sleep_until_count(&ev_count[to_bsp], got))
            break;
        took = pv_now() - start;
        total += took;
        worst = took > worst ? took : worst;
    }
    while (ap_done == done)
        __asm__ volatile("pause");
    note("event round trip between vCPUs: mean %llu us, worst %llu us over %u\n",
         (unsigned long long)(got ? total / got / 1000 : 0), (unsigned long long)(worst / 1000),
         got);
    check("par_event_round_trips", got == PINGS, "%u of %u round trips came back", got, PINGS);
}

int main(const struct hvm_start_info *si)
{
    unsigned int pcpus;

    start_info = si;
    pcpus = cmdline_pcpus();
    note("par64: two vCPUs at once on %u pCPU%s\n", pcpus, pcpus == 1 ? "" : "s");
    if (!xen_cpuid_base())
        guest_panic("no Xen CPUID leaves: these checks need Wisp or Xen");
    if (hv_vcpu_op(VCPUOP_is_up, AP, 0) < 0)
        guest_panic("par64 needs 2 vCPUs (wisp run --vcpus 2)");
    if (ev_map_shared_info())
        guest_panic("no shared_info");          /* pv_now() reads vcpu_info's time */
    state_set(0);
    if (check("par_ap_started", start_ap(), "VCPUOP_initialise/up of vCPU 1 failed")) {
        check_xapic_page();
        (void)both(PHASE_X2APIC, NULL);
        x2apic_enable();
        check_parallel(pcpus);
        check_ping_pong();
        check("par_state_kept", both(PHASE_STATE, state_check) && state_kept[0] && state_kept[AP],
              "vCPU 0 %s, vCPU 1 %s", state_kept[0] ? "kept" : "lost", state_kept[AP] ? "kept" : "lost");
        (void)both(PHASE_STOP, NULL);
    }
    checks_done();
    return 0;
}
