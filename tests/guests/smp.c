/* smp.c (guest; built as smp64, run with --vcpus 2): starts vCPU 1 with INIT/STARTUP, then IPIs and event channels between the two. */
#include "evlib.h"
#include "xen/errno.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/sched.h"
#include "xen/vcpu.h"

#define CALLBACK_VECTOR 0xf3
#define V_WAKE          0x41    /* tells the AP to look at its job slot */
#define V_FIRST_TEST    0x60
#define V_LAST_TEST     0x6f
#define MAX_CPUS        2
#define AP_ID           1
#define TIMEOUT_NS      (2000 * NS_PER_MS)
/* Where the trampoline may go: below the EBDA/ACPI page, above the real-mode IVT and BDA. */
#define TRAMP_FIRST     0x8000UL
#define TRAMP_LAST      0x90000UL

/* smp_tramp.S */
extern char ap_tramp_start[], ap_tramp_end[], ap_tramp_probe[];
extern char ap_tramp_seen_ip[], ap_tramp_seen_cs[], ap_tramp_starts[];
void ap_main(void);

/* What the AP's ap_entry64 loads into RSP. */
uintptr_t ap_stack_top;
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static uintptr_t tramp;                 /* where the trampoline was copied */
static volatile unsigned int got_on[MAX_CPUS][X86_NR_VECTORS];
static volatile unsigned int upcalls_on[MAX_CPUS];
static volatile unsigned int ap_ready, ap_jobs_done;
static volatile uint64_t ap_apic_id, ap_apic_base;
static void (*volatile ap_job)(void);
static volatile bool ap_stop;
static const struct hvm_start_info *start_info;

static unsigned int this_cpu(void)
{
    unsigned int id = (unsigned int)rdmsr(X2APIC_ID);    /* both CPUs run in x2APIC mode */

    return id < MAX_CPUS ? id : 0;
}

static void on_test_vector(unsigned int vector)
{
    got_on[this_cpu()][vector]++;
    wrmsr(X2APIC_EOI, 0);
}

static void on_callback_vector(unsigned int vector)
{
    unsigned int cpu = this_cpu();

    (void)vector;
    upcalls_on[cpu]++;
    ev_upcall_scan(cpu);
}

static void interrupt_window(void)
{
    __asm__ volatile("sti; nop; cli" : : : "memory");
}

static uint16_t tramp_word(const char *field)
{
    return *(volatile uint16_t *)(tramp + (uintptr_t)(field - ap_tramp_start));
}

/* The BSP waits, giving the pCPU to the AP, until *p >= want or the timeout. */
static bool wait_for(volatile unsigned int *p, unsigned int want)
{
    return yield_until_count(p, want, TIMEOUT_NS);
}

static bool wait_word(const char *field, uint16_t want)
{
    uint64_t deadline = pv_now() + TIMEOUT_NS;

    while (tramp_word(field) < want) {
        if (pv_now() > deadline)
            return false;
        (void)hv_sched_op(SCHEDOP_yield, 0);
    }
    return true;
}


static void send_ipi(uint64_t icr)
{
    wrmsr(X2APIC_ICR, icr);
}

/* Runs job on the AP and waits for it to finish. */
static bool run_on_ap(void (*job)(void))
{
    unsigned int done = ap_jobs_done;

    ap_job = job;
    send_ipi(ICR_DEST(AP_ID) | ICR_FIXED | V_WAKE);
    return wait_for(&ap_jobs_done, done + 1);
}

/* ---------- the AP ---------- */

static void on_wake(unsigned int vector)
{
    (void)vector;
    wrmsr(X2APIC_EOI, 0);
}

void ap_main(void)
{
    irq_load_idt();
    x2apic_enable();
    ap_apic_id = rdmsr(X2APIC_ID);
    ap_apic_base = rdmsr(MSR_APIC_BASE);
    ap_ready++;
    for (;;) {
        void (*job)(void) = ap_job;

        if (job) {
            ap_job = NULL;
            job();
            ap_jobs_done++;
        }
        if (ap_stop) {
            ap_stop = false;
            for (;;)
                __asm__ volatile("cli; hlt");   /* a vCPU halted with interrupts off is down */
        }
        /*
         * Idle. The nop keeps the check of the job slot out of the STI
         * shadow that a hypervisor might leave over from the HLT exit;
         * the lapic64 and events guests test that case on their own.
         */
        __asm__ volatile("sti; hlt; nop; cli" : : : "memory");
    }
}

/* ---------- FPU state across vCPU switches ---------- */

#define CPUID1_ECX_XSAVE (1u << 26)
#define CR4_OSFXSR       (1ul << 9)
#define CR4_OSXSAVE      (1ul << 18)
#define XCR0_X87         0x1ull
#define XCR0_X87_SSE     0x3ull

static volatile uint64_t ap_xcr0_seen;

/* SSE state in use: XSAVE records it in XSTATE_BV when the AP is switched out. */
static void ap_widens_xcr0(void)
{
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXSAVE);
    xsetbv0(XCR0_X87_SSE);
    __asm__ volatile("pcmpeqb %%xmm1, %%xmm1" ::: "memory");   /* xmm1 is no C variable's: -mgeneral-regs-only */
}

static void ap_shrinks_xcr0(void)
{
    xsetbv0(XCR0_X87);
}

static void ap_reads_xcr0(void)
{
    ap_xcr0_seen = xgetbv0();
}

/*
 * Each job ends in HLT, so the BSP takes the pCPU and the AP's FPU state is
 * saved between jobs. XSAVE keeps the SSE bit of XSTATE_BV from the first
 * save after XCR0 drops SSE; restoring that as it stands is a #GP in the
 * hypervisor (a panic, seen with three guests side by side).
 */
static void check_xcr0_shrink(void)
{
    struct cpuid_regs r;

    cpuid(1, 0, &r);
    if (!(r.ecx & CPUID1_ECX_XSAVE)) {
        check_fail("smp_xcr0_shrink_across_switch", "CPUID offers no XSAVE");
        return;
    }
    bool ok = run_on_ap(ap_widens_xcr0) && run_on_ap(ap_shrinks_xcr0) &&
              run_on_ap(ap_reads_xcr0);

    check("smp_xcr0_shrink_across_switch", ok && ap_xcr0_seen == XCR0_X87,
          "jobs done %d, AP's XCR0 0x%llx", ok, (unsigned long long)ap_xcr0_seen);
}

/* ---------- CR2 across vCPU switches ---------- */

#define BSP_CR2 0x1111000ul
#define AP_CR2  0x2222000ul

static volatile uint64_t ap_cr2_seen;

static uint64_t read_cr2(void)
{
    uint64_t v;

    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void write_cr2(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr2" :: "r"(v) : "memory");
}

static void ap_sets_cr2(void)
{
    write_cr2(AP_CR2);
}

static void ap_reads_cr2(void)
{
    ap_cr2_seen = read_cr2();
}

/*
 * CR2 is each vCPU's own, as on real CPUs: a #PF handler that is switched out
 * before it reads CR2 must still find its own fault address (VMX keeps no CR2
 * in the VMCS; three Linux guests under Bochs segfaulted at each other's
 * addresses). Each job ends in HLT, so the vCPUs take turns on the pCPU.
 */
static void check_cr2_kept(void)
{
    write_cr2(BSP_CR2);
    bool ok = run_on_ap(ap_sets_cr2);
    uint64_t bsp_seen = read_cr2();

    ok = ok && run_on_ap(ap_reads_cr2);
    check("smp_cr2_kept_across_switch", ok && bsp_seen == BSP_CR2 && ap_cr2_seen == AP_CR2,
          "jobs done %d, vCPU 0 CR2 0x%llx (want %lx), vCPU 1 CR2 0x%llx (want %lx)", ok,
          (unsigned long long)bsp_seen, BSP_CR2, (unsigned long long)ap_cr2_seen, AP_CR2);
}

/* ---------- the trampoline's page ---------- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static bool page_is_free_ram(uintptr_t page)
{
    const struct hvm_memmap_table_entry *map =
        (const struct hvm_memmap_table_entry *)(uintptr_t)start_info->memmap_paddr;
    bool ram = false;

    for (unsigned int i = 0; i < start_info->memmap_entries; i++)
        if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && page >= map[i].addr &&
            page + PAGE_SIZE <= map[i].addr + map[i].size)
            ram = true;
    return ram && !overlaps(page, PAGE_SIZE, (uintptr_t)start_info, sizeof(*start_info)) &&
           !overlaps(page, PAGE_SIZE, start_info->memmap_paddr,
                     start_info->memmap_entries * sizeof(*map)) &&
           !(start_info->cmdline_paddr && overlaps(page, PAGE_SIZE, start_info->cmdline_paddr, 4096));
}

static bool place_trampoline(void)
{
    size_t len = (size_t)(ap_tramp_end - ap_tramp_start);

    for (uintptr_t page = TRAMP_FIRST; page <= TRAMP_LAST; page += PAGE_SIZE) {
        if (page_is_free_ram(page)) {
            tramp = page;
            memcpy((void *)tramp, ap_tramp_start, len);
            ap_stack_top = (uintptr_t)ap_stack + sizeof(ap_stack);
            return true;
        }
    }
    return false;
}

static uint8_t startup_vector(void)
{
    return (uint8_t)(tramp >> 12);
}

/* INIT assert, INIT de-assert, STARTUP: the MP start-up sequence (SDM vol. 3A 9.4.4.1). */
static void init_sipi(uint32_t dest)
{
    send_ipi(ICR_DEST(dest) | ICR_INIT | ICR_ASSERT);
    send_ipi(ICR_DEST(dest) | ICR_INIT);
    send_ipi(ICR_DEST(dest) | ICR_STARTUP | startup_vector());
}

/* ---------- checks ---------- */

static bool check_start_ap(void)
{
    struct vcpu_runstate_info r;
    long up = hv_vcpu_op(VCPUOP_is_up, AP_ID, 0);
    long rs = hv_vcpu_op(VCPUOP_get_runstate_info, AP_ID, HV_PTR(&r));

    check("smp_ap_down_at_boot", up == 0 && rs == 0 && r.state == RUNSTATE_offline,
          "is_up %ld, runstate rc %ld state %d", up, rs, r.state);
    if (!check("smp_trampoline_placed", place_trampoline(), "no free RAM page below 0x90000"))
        return false;
    note("trampoline at %lx, STARTUP vector %x\n", (unsigned long)tramp, startup_vector());

    init_sipi(5);                           /* no such APIC */
    yield_for(10 * NS_PER_MS);
    check("smp_ipi_to_absent_apic",
          tramp_word(ap_tramp_starts) == 0 && hv_vcpu_op(VCPUOP_is_up, AP_ID, 0) == 0,
          "AP starts %u", tramp_word(ap_tramp_starts));

    init_sipi(AP_ID);
    bool started = wait_word(ap_tramp_starts, 1);

    if (!check("smp_sipi_starts_ap", started, "no sign of the AP within 2 s"))
        return false;
    check("smp_ap_real_mode_entry",
          tramp_word(ap_tramp_seen_cs) == (uint16_t)(tramp >> 4) &&
              tramp_word(ap_tramp_seen_ip) == (uint16_t)(ap_tramp_probe - ap_tramp_start),
          "CS %x IP %x, want %x %x", tramp_word(ap_tramp_seen_cs), tramp_word(ap_tramp_seen_ip),
          (unsigned int)(tramp >> 4), (unsigned int)(ap_tramp_probe - ap_tramp_start));
    if (!check("smp_ap_long_mode", wait_for(&ap_ready, 1), "the AP never reached ap_main"))
        return false;
    long is_up = hv_vcpu_op(VCPUOP_is_up, AP_ID, 0);

    check("smp_vcpu_is_up", is_up == 1, "is_up(1) = %ld", is_up);
    check("smp_ap_apic", ap_apic_id == AP_ID && ap_apic_base == (0xFEE00000ULL | APIC_BASE_EN | APIC_BASE_EXTD),
          "AP x2APIC ID %llx, IA32_APIC_BASE %llx (want 1, fee00c00: no BSP bit)",
          (unsigned long long)ap_apic_id, (unsigned long long)ap_apic_base);
    return true;
}

/* Sends icr from the BSP; each CPU must then have got vector `want` times more. */
static void check_ipi(const char *name, uint64_t icr, unsigned int vector, unsigned int want_bsp,
                      unsigned int want_ap)
{
    unsigned int b0 = got_on[0][vector], b1 = got_on[1][vector];

    send_ipi(icr | ICR_FIXED | vector);
    interrupt_window();
    bool ap_ok = want_ap ? wait_for(&got_on[1][vector], b1 + want_ap)
                         : (yield_for(5 * NS_PER_MS), true);

    check(name, ap_ok && got_on[0][vector] == b0 + want_bsp && got_on[1][vector] == b1 + want_ap,
          "vCPU 0 got it %u times (want %u), vCPU 1 %u (want %u)", got_on[0][vector] - b0, want_bsp,
          got_on[1][vector] - b1, want_ap);
}

static void ap_sends_ipi_to_bsp(void)
{
    send_ipi(ICR_DEST(0) | ICR_FIXED | 0x64);
}

static void check_ipis(void)
{
    check_ipi("smp_fixed_ipi", ICR_DEST(AP_ID), 0x61, 0, 1);
    check_ipi("smp_ipi_all_but_self", ICR_ALL_BUT_SELF, 0x62, 0, 1);
    check_ipi("smp_ipi_all", ICR_ALL, 0x63, 1, 1);
    /* x2APIC logical IDs (SDM 11.12.10.2): cluster 0, one bit per APIC ID. */
    check_ipi("smp_ipi_logical", ICR_LOGICAL | ICR_DEST(0x2), 0x65, 0, 1);
    check_ipi("smp_ipi_logical_both", ICR_LOGICAL | ICR_DEST(0x3), 0x66, 1, 1);

    unsigned int before = got_on[0][0x64];
    bool ran = run_on_ap(ap_sends_ipi_to_bsp);

    interrupt_window();
    check("smp_ipi_from_ap", ran && got_on[0][0x64] == before + 1,
          "job ran %d, vCPU 0 got it %u times", ran, got_on[0][0x64] - before);
}

static uint32_t ap_timer_port;
static volatile long ap_timer_rc;

static void ap_arms_timer(void)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = pv_now() + 3 * NS_PER_MS };

    ap_timer_rc = hv_vcpu_op(VCPUOP_set_singleshot_timer, AP_ID, HV_PTR(&t));
}

static void check_events(void)
{
    struct xen_hvm_param p = {
        .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
        .value = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | CALLBACK_VECTOR,
    };
    uint32_t ipi, a, b;
    long rc;

    irq_set_handler(CALLBACK_VECTOR, on_callback_vector);
    rc = hv_hvm_op(HVMOP_set_param, HV_PTR(&p));
    rc = rc ? rc : ev_bind_ipi(AP_ID, &ipi);
    if (!check("smp_evtchn_ipi_to_ap_bound", rc == 0, "rc %ld", rc))
        return;
    unsigned int seen = ev_count[ipi], up0 = upcalls_on[0], up1 = upcalls_on[1];

    rc = ev_send(ipi);
    bool ok = wait_for(&ev_count[ipi], seen + 1);

    interrupt_window();
    check("smp_evtchn_ipi_to_ap", rc == 0 && ok && upcalls_on[1] == up1 + 1 && upcalls_on[0] == up0,
          "rc %ld; delivered %d; upcalls on vCPU 0 %u, vCPU 1 %u (want 0, 1)", rc, ok,
          upcalls_on[0] - up0, upcalls_on[1] - up1);

    rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &a);
    rc = rc ? rc : ev_bind_interdomain(DOMID_SELF, a, &b);
    rc = rc ? rc : ev_bind_vcpu(a, AP_ID);
    interrupt_window();                     /* the bind raised b once, on vCPU 0 */
    seen = ev_count[a];
    up0 = upcalls_on[0];
    up1 = upcalls_on[1];
    long rc2 = rc ? rc : ev_send(b);

    ok = wait_for(&ev_count[a], seen + 1);
    interrupt_window();
    check("smp_evtchn_bind_vcpu", rc2 == 0 && ok && upcalls_on[1] == up1 + 1 && upcalls_on[0] == up0,
          "rc %ld; delivered %d; upcalls on vCPU 0 %u, vCPU 1 %u (want 0, 1)", rc2, ok,
          upcalls_on[0] - up0, upcalls_on[1] - up1);

    rc = ev_bind_virq(VIRQ_TIMER, AP_ID, &ap_timer_port);
    seen = rc ? 0 : ev_count[ap_timer_port];
    up1 = upcalls_on[1];
    ok = rc == 0 && run_on_ap(ap_arms_timer) && wait_for(&ev_count[ap_timer_port], seen + 1);
    check("smp_ap_timer", ok && ap_timer_rc == 0 && upcalls_on[1] > up1,
          "bind rc %ld, timer rc %ld, VIRQ_TIMER of vCPU 1 delivered %d", rc, ap_timer_rc, ok);
}

static void ap_stops(void)
{
    ap_stop = true;
}

static void check_restart(void)
{
    uint16_t starts = tramp_word(ap_tramp_starts);
    uint64_t deadline;

    (void)run_on_ap(ap_stops);
    deadline = pv_now() + TIMEOUT_NS;
    while (hv_vcpu_op(VCPUOP_is_up, AP_ID, 0) != 0 && pv_now() < deadline)
        (void)hv_sched_op(SCHEDOP_yield, 0);
    check("smp_ap_cli_hlt_goes_down", hv_vcpu_op(VCPUOP_is_up, AP_ID, 0) == 0,
          "vCPU 1 still up after cli;hlt");

    send_ipi(ICR_DEST(AP_ID) | ICR_STARTUP | startup_vector());
    yield_for(20 * NS_PER_MS);
    check("smp_sipi_needs_init", tramp_word(ap_tramp_starts) == starts,
          "a STARTUP without INIT restarted the AP");

    init_sipi(AP_ID);
    bool ok = wait_word(ap_tramp_starts, (uint16_t)(starts + 1)) && wait_for(&ap_ready, 2);

    check("smp_ap_restart", ok && hv_vcpu_op(VCPUOP_is_up, AP_ID, 0) == 1,
          "starts %u (want %u), ready %u", tramp_word(ap_tramp_starts), starts + 1, ap_ready);
    check_ipi("smp_fixed_ipi_after_restart", ICR_DEST(AP_ID), 0x67, 0, 1);

    /* INIT to the BSP is ignored: we go on running. */
    send_ipi(ICR_DEST(0) | ICR_INIT | ICR_ASSERT);
    yield_for(NS_PER_MS);
    check_pass("smp_init_to_bsp_ignored");
}

int main(const struct hvm_start_info *si)
{
    long rc;

    start_info = si;
    note("smp64: INIT/STARTUP, IPIs and events between two vCPUs\n");
    if (!xen_cpuid_base())
        guest_panic("no Xen CPUID leaves: these checks need Wisp or Xen");
    if (hv_vcpu_op(VCPUOP_is_up, AP_ID, 0) < 0)
        guest_panic("smp64 needs 2 vCPUs (wisp run --vcpus 2)");
    rc = ev_map_shared_info();
    if (rc)
        guest_panic("shared_info: rc %ld", rc);
    for (unsigned int v = V_FIRST_TEST; v <= V_LAST_TEST; v++)
        irq_set_handler(v, on_test_vector);
    irq_set_handler(V_WAKE, on_wake);
    x2apic_enable();
    if (check_start_ap()) {
        check_ipis();
        check_events();
        check_xcr0_shrink();
        check_cr2_kept();
        check_restart();
    }
    checks_done();
    return 0;           /* the verdict lines carry the result */
}
