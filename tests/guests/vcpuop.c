/* vcpuop.c (guest; built as vcpuop64, run with --vcpus 3): starts vCPUs by VCPUOP_initialise and VCPUOP_up, in 64-bit and 32-bit mode, and stops them with VCPUOP_down. */
#include "evlib.h"
#include "x86.h"
#include "xen/errno.h"
#include "xen/sched.h"
#include "xen/vcpu.h"

#define AP64        1       /* started in 64-bit mode */
#define AP32        2       /* started in 32-bit protected mode; enters long mode itself */
#define NR_CPUS     3
#define TIMEOUT_NS  (5000 * NS_PER_MS)  /* generous: spread over pCPUs, xAPIC-mode vCPUs take turns */
#define RFLAGS_FIXED 0x2u
#define RFLAGS_IF   0x200u
#define SEEN_REGS   8       /* ax, cx, dx, bx, sp, bp, si, di */
#define FAR_OUTSIDE_RAM 0x4000000000ULL     /* 256 GiB: no test guest has RAM there */

/* vcpuop_entry.S */
void vcpuop_entry64(void);
void vcpuop_entry32(void);
extern volatile uint64_t vcpuop_seen64[SEEN_REGS];
extern volatile uint32_t vcpuop_seen32[SEEN_REGS];
void vcpuop_ap_main(unsigned int cpu);

static uint8_t stacks[NR_CPUS][16384] __attribute__((aligned(16)));
static volatile unsigned int entered[NR_CPUS];
static volatile uint64_t ticks[NR_CPUS];
static volatile uint64_t seen_cr0[NR_CPUS], seen_cr3[NR_CPUS], seen_efer[NR_CPUS];
static volatile uint64_t seen_rflags[NR_CPUS];
static volatile bool go_down[NR_CPUS];
static volatile long down_rc[NR_CPUS];
static volatile unsigned int down_returns[NR_CPUS];


static uint64_t read_rflags(void)
{
    uint64_t f;

    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}

/* ---------- the started vCPUs: interrupts stay off, they only count and yield ---------- */

void vcpuop_ap_main(unsigned int cpu)
{
    seen_rflags[cpu] = read_rflags();
    seen_cr0[cpu] = read_cr0();
    seen_cr3[cpu] = read_cr3();
    seen_efer[cpu] = rdmsr(MSR_EFER);
    entered[cpu]++;
    for (;;) {
        ticks[cpu]++;
        if (go_down[cpu]) {
            go_down[cpu] = false;
            down_rc[cpu] = hv_vcpu_op(VCPUOP_down, cpu, 0);
            down_returns[cpu]++;
        }
        (void)hv_sched_op(SCHEDOP_yield, 0);
    }
}

/* ---------- the BSP's side ---------- */

static bool wait_for(volatile unsigned int *p, unsigned int want)
{
    return yield_until_count(p, want, TIMEOUT_NS);
}

/* Does vCPU cpu make progress in the next 20 ms? */
static bool is_ticking(unsigned int cpu)
{
    uint64_t before = ticks[cpu];

    yield_for(20 * NS_PER_MS);
    return ticks[cpu] != before;
}

static uint64_t reg_mark(unsigned int i)
{
    return 0x0101010101010101ULL * (i + 1);
}

static uintptr_t stack_top(unsigned int cpu)
{
    return (uintptr_t)stacks[cpu] + sizeof(stacks[cpu]);
}

/* Long mode on our own page tables, interrupts off, marked registers. */
static struct vcpu_hvm_context context64(void)
{
    struct vcpu_hvm_context c = { .mode = VCPU_HVM_MODE_64B };
    struct vcpu_hvm_x86_64 *r = &c.cpu_regs.x86_64;

    r->rax = reg_mark(0);
    r->rcx = reg_mark(1);
    r->rdx = reg_mark(2);
    r->rbx = reg_mark(3);
    r->rsp = stack_top(AP64);
    r->rbp = reg_mark(5);
    r->rsi = reg_mark(6);
    r->rdi = reg_mark(7);
    r->rip = (uintptr_t)vcpuop_entry64;
    r->rflags = RFLAGS_FIXED;
    r->cr0 = read_cr0();
    r->cr3 = read_cr3();
    r->cr4 = read_cr4();                /* as a guest would: the BSP's own features */
    r->efer = rdmsr(MSR_EFER);
    return c;
}

#define FLAT_LIMIT 0xffffffffu
#define AR_CODE32 0xc9bu                /* P, S, execute/read, D, G (hvm_vcpu.h's _ar packing) */
#define AR_DATA32 0xc93u
#define AR_TSS32_BUSY 0x8bu

/* Flat 32-bit protected mode, paging off. */
static struct vcpu_hvm_context context32(void)
{
    struct vcpu_hvm_context c = { .mode = VCPU_HVM_MODE_32B };
    struct vcpu_hvm_x86_32 *r = &c.cpu_regs.x86_32;

    r->eax = (uint32_t)reg_mark(0);
    r->ecx = (uint32_t)reg_mark(1);
    r->edx = (uint32_t)reg_mark(2);
    r->ebx = (uint32_t)reg_mark(3);
    r->esp = (uint32_t)stack_top(AP32);
    r->ebp = (uint32_t)reg_mark(5);
    r->esi = (uint32_t)reg_mark(6);
    r->edi = (uint32_t)reg_mark(7);
    r->eip = (uint32_t)(uintptr_t)vcpuop_entry32;
    r->eflags = RFLAGS_FIXED;
    r->cr0 = X86_CR0_PE;
    r->cs_limit = r->ds_limit = r->ss_limit = r->es_limit = FLAT_LIMIT;
    r->cs_ar = AR_CODE32;
    r->ds_ar = r->ss_ar = r->es_ar = AR_DATA32;
    r->tr_limit = 0x67;
    r->tr_ar = AR_TSS32_BUSY;
    return c;
}

static long initialise(unsigned int cpu, const struct vcpu_hvm_context *c)
{
    return hv_vcpu_op(VCPUOP_initialise, cpu, HV_PTR(c));
}

static void check_refusals(void)
{
    struct vcpu_hvm_context c = context64();
    long rc;

    rc = hv_vcpu_op(VCPUOP_up, AP64, 0);
    check("vcpuop_up_needs_initialise", rc == -XEN_EINVAL, "up before initialise: rc %ld", rc);
    rc = initialise(0, &c);
    check("vcpuop_initialise_running_vcpu", rc == -XEN_EEXIST, "vCPU 0: rc %ld (want -EEXIST)", rc);
    rc = initialise(NR_CPUS, &c);
    check("vcpuop_initialise_absent_vcpu", rc == -XEN_ENOENT, "vCPU %u: rc %ld", NR_CPUS, rc);
    rc = hv_vcpu_op(VCPUOP_initialise, AP64, FAR_OUTSIDE_RAM);
    check("vcpuop_initialise_bad_pointer", rc == -XEN_EFAULT, "rc %ld", rc);

    struct { const char *what; struct vcpu_hvm_context c; } bad[] = {
        { "mode 5", context64() }, { "non-canonical RIP", context64() },
        { "CR3 outside RAM", context64() }, { "long mode without paging", context64() },
        { "CS a data segment", context32() }, { "ring-3 stack", context32() },
        { "EFLAGS.VM", context32() },
    };
    bad[0].c.mode = 5;
    bad[1].c.cpu_regs.x86_64.rip = 0x0000800000000000ULL;
    bad[2].c.cpu_regs.x86_64.cr3 = FAR_OUTSIDE_RAM;
    bad[3].c.cpu_regs.x86_64.cr0 &= ~(uint64_t)X86_CR0_PG;
    bad[4].c.cpu_regs.x86_32.cs_ar = AR_DATA32;
    bad[5].c.cpu_regs.x86_32.ss_ar = AR_DATA32 | (3u << 5);
    bad[6].c.cpu_regs.x86_32.eflags |= 1u << 17;
    const char *accepted = NULL;

    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = initialise(AP64, &bad[i].c);
        if (rc != -XEN_EINVAL && !accepted)
            accepted = bad[i].what;
    }
    rc = hv_vcpu_op(VCPUOP_up, AP64, 0);
    check("vcpuop_initialise_hostile", !accepted && rc == -XEN_EINVAL && entered[AP64] == 0,
          "accepted: %s; up afterwards rc %ld", accepted ? accepted : "none", rc);
}

static bool regs_seen_64(void)
{
    for (unsigned int i = 0; i < SEEN_REGS; i++)
        if (vcpuop_seen64[i] != (i == 4 ? stack_top(AP64) : reg_mark(i)))
            return false;
    return true;
}

static bool regs_seen_32(void)
{
    for (unsigned int i = 0; i < SEEN_REGS; i++)
        if (vcpuop_seen32[i] != (uint32_t)(i == 4 ? stack_top(AP32) : reg_mark(i)))
            return false;
    return true;
}

static void check_start_64(void)
{
    struct vcpu_hvm_context c = context64();
    long rc = initialise(AP64, &c);

    yield_for(5 * NS_PER_MS);
    check("vcpuop_initialise_64", rc == 0 && entered[AP64] == 0 &&
                                      hv_vcpu_op(VCPUOP_is_up, AP64, 0) == 0,
          "rc %ld; ran %u times before VCPUOP_up", rc, entered[AP64]);
    rc = initialise(AP64, &c);
    check("vcpuop_initialise_twice", rc == -XEN_EEXIST, "rc %ld (want -EEXIST)", rc);

    rc = hv_vcpu_op(VCPUOP_up, AP64, 0);
    bool ran = wait_for(&entered[AP64], 1);

    check("vcpuop_up_64", rc == 0 && ran && hv_vcpu_op(VCPUOP_is_up, AP64, 0) == 1,
          "rc %ld, ran %d", rc, ran);
    if (!ran)
        return;
    check("vcpuop_64_registers", regs_seen_64(), "rax %llx rsp %llx rdi %llx",
          (unsigned long long)vcpuop_seen64[0], (unsigned long long)vcpuop_seen64[4],
          (unsigned long long)vcpuop_seen64[7]);
    check("vcpuop_64_control_state",
          seen_cr0[AP64] == read_cr0() && seen_cr3[AP64] == read_cr3() &&
              seen_efer[AP64] == rdmsr(MSR_EFER) && !(seen_rflags[AP64] & RFLAGS_IF),
          "cr0 %llx cr3 %llx efer %llx rflags %llx",
          (unsigned long long)seen_cr0[AP64], (unsigned long long)seen_cr3[AP64],
          (unsigned long long)seen_efer[AP64], (unsigned long long)seen_rflags[AP64]);
    rc = hv_vcpu_op(VCPUOP_up, AP64, 0);
    yield_for(5 * NS_PER_MS);
    check("vcpuop_up_running_vcpu", rc == 0 && entered[AP64] == 1,
          "rc %ld, entered %u times (want 1)", rc, entered[AP64]);
}

static void check_start_32(void)
{
    struct vcpu_hvm_context c = context32();
    long rc = initialise(AP32, &c);

    rc = rc ? rc : hv_vcpu_op(VCPUOP_up, AP32, 0);
    bool ran = wait_for(&entered[AP32], 1);

    check("vcpuop_up_32", rc == 0 && ran, "rc %ld, reached long mode and C %d", rc, ran);
    check("vcpuop_32_registers", ran && regs_seen_32(), "eax %x esp %x edi %x",
          vcpuop_seen32[0], vcpuop_seen32[4], vcpuop_seen32[7]);
}

static void check_down_up(void)
{
    struct vcpu_runstate_info r;
    long rc = hv_vcpu_op(VCPUOP_down, AP64, 0);
    bool stopped = !is_ticking(AP64);
    long rs = hv_vcpu_op(VCPUOP_get_runstate_info, AP64, HV_PTR(&r));

    check("vcpuop_down_other", rc == 0 && stopped && hv_vcpu_op(VCPUOP_is_up, AP64, 0) == 0 &&
                                   rs == 0 && r.state == RUNSTATE_offline,
          "rc %ld, stopped %d, runstate %d", rc, stopped, r.state);
    rc = hv_vcpu_op(VCPUOP_down, AP64, 0);
    check("vcpuop_down_twice", rc == 0, "rc %ld", rc);
    check("vcpuop_others_run_on", is_ticking(AP32), "vCPU %u stopped too", AP32);

    rc = hv_vcpu_op(VCPUOP_up, AP64, 0);
    check("vcpuop_up_resumes", rc == 0 && is_ticking(AP64) && entered[AP64] == 1,
          "rc %ld, entered %u times (want 1: resumed, not restarted)", rc, entered[AP64]);

    unsigned int returns = down_returns[AP32];

    go_down[AP32] = true;
    bool went_down = false;
    uint64_t deadline = pv_now() + TIMEOUT_NS;

    while (!went_down && pv_now() < deadline) {
        yield_for(NS_PER_MS);
        went_down = hv_vcpu_op(VCPUOP_is_up, AP32, 0) == 0;
    }
    check("vcpuop_down_self", went_down && down_returns[AP32] == returns && !is_ticking(AP32),
          "down %d, returned %u times", went_down, down_returns[AP32] - returns);
    rc = hv_vcpu_op(VCPUOP_up, AP32, 0);
    bool back = wait_for(&down_returns[AP32], returns + 1);

    check("vcpuop_down_self_returns_on_up", rc == 0 && back && down_rc[AP32] == 0,
          "up rc %ld, returned %d with rc %ld", rc, back, down_rc[AP32]);
}

/* INIT resets a vCPU: its state is gone, so it may be initialised anew (as in Xen). */
static void check_init_resets(void)
{
    struct vcpu_hvm_context c = context64();

    wrmsr(X2APIC_ICR, ICR_DEST(AP64) | ICR_INIT | ICR_ASSERT);
    long up = hv_vcpu_op(VCPUOP_is_up, AP64, 0);
    long rc_up = hv_vcpu_op(VCPUOP_up, AP64, 0);
    long rc_init = initialise(AP64, &c);

    check("vcpuop_init_ipi_resets", up == 0 && rc_up == -XEN_EINVAL && rc_init == 0,
          "is_up %ld, up rc %ld (want -EINVAL), initialise rc %ld (want 0)", up, rc_up, rc_init);
}

int main(const struct hvm_start_info *si)
{
    (void)si;
    note("vcpuop64: VCPUOP_initialise, up and down on three vCPUs\n");
    if (!xen_cpuid_base())
        guest_panic("no Xen CPUID leaves: these checks need Wisp or Xen");
    if (hv_vcpu_op(VCPUOP_is_up, AP32, 0) < 0)
        guest_panic("vcpuop64 needs 3 vCPUs (wisp run --vcpus 3)");
    if (ev_map_shared_info())
        guest_panic("no shared_info");          /* pv_now() reads vcpu_info's time */
    x2apic_enable();
    check_refusals();
    check_start_64();
    check_start_32();
    check_down_up();
    check_init_resets();
    checks_done();
    return 0;
}
