/* mce.c (hypervisor): machine-check setup and handling, and the host NMI count (mce_policy.c decides). */
#include "env.h"
#include "mce.h"
#include "mce_policy.h"
#include "percpu.h"
#include "printk.h"
#include "x86.h"

/* Machine-check MSRs (SDM vol 3B, 16.3; AMD APM vol 2, 9.3). */
#define MSR_IA32_MCG_CAP     0x179u
#define MCG_CAP_COUNT_MASK   0xffull     /* number of banks */
#define MCG_CAP_CTL_P        (1ull << 8) /* IA32_MCG_CTL exists */
#define MSR_IA32_MCG_STATUS  0x17Au
#define MSR_IA32_MCG_CTL     0x17Bu
#define MSR_IA32_MC0_CTL     0x400u      /* bank i: CTL, STATUS, ADDR, MISC at 0x400 + 4i + 0..3 */
#define MCI_CTL(i)           (MSR_IA32_MC0_CTL + 4 * (i))
#define MCI_STATUS(i)        (MSR_IA32_MC0_CTL + 4 * (i) + 1)
#define MCI_ADDR(i)          (MSR_IA32_MC0_CTL + 4 * (i) + 2)
#define MCI_MISC(i)          (MSR_IA32_MC0_CTL + 4 * (i) + 3)
#define MCI_STATUS_MISCV     (1ull << 59)
#define MCI_STATUS_ADDRV     (1ull << 58)
/* CPUID.1:EDX (SDM vol 2A, CPUID). */
#define CPUID1_EDX_MCE       (1u << 7)
#define CPUID1_EDX_MCA       (1u << 14)

static bool have_mca;
static unsigned nr_banks;               /* written once at boot */
static unsigned long nmi_count;         /* atomic: NMIs arrive anywhere */

/* Every CPU enables its own banks; the boot CPU's count is the one kept and logged. */
void mce_init(void)
{
    struct cpuid_regs r;
    bool boot_cpu = this_cpu_id() == 0;

    cpuid_count(1, 0, &r);
    if (!(r.edx & CPUID1_EDX_MCE))
        return;
    /* Without CR4.MCE a machine check shuts the processor down instead (SDM vol 3B, 16.1). */
    write_cr4(read_cr4() | X86_CR4_MCE);
    if (!(r.edx & CPUID1_EDX_MCA))
        return;
    uint64_t cap = rdmsr(MSR_IA32_MCG_CAP);
    unsigned banks = (unsigned)(cap & MCG_CAP_COUNT_MASK);

    if (banks > MCE_MAX_BANKS)
        banks = MCE_MAX_BANKS;
    if (boot_cpu) {
        have_mca = true;
        nr_banks = banks;
    }
    if (cap & MCG_CAP_CTL_P)
        wrmsr(MSR_IA32_MCG_CTL, ~0ull);
    for (unsigned i = 0; i < banks; i++) {
        uint64_t status = rdmsr(MCI_STATUS(i));

        if (status & MCI_STATUS_VAL)
            log_warn("CPU %u: machine check bank %u holds an error from before boot: status %016lx",
                     this_cpu_id(), i, status);
        wrmsr(MCI_CTL(i), ~0ull);       /* report every error class (SDM vol 3B, 16.3.2.1) */
        wrmsr(MCI_STATUS(i), 0);
    }
    if (boot_cpu)
        log_info("machine checks: %u banks, handled by the hypervisor", nr_banks);
}

static void log_bank(unsigned i, uint64_t status)
{
    uint64_t addr = status & MCI_STATUS_ADDRV ? rdmsr(MCI_ADDR(i)) : 0;
    uint64_t misc = status & MCI_STATUS_MISCV ? rdmsr(MCI_MISC(i)) : 0;

    log_error("machine check bank %u: status %016lx addr %016lx misc %016lx", i, status, addr,
              misc);
}

void mce_handle(const char *context)
{
    uint64_t status[MCE_MAX_BANKS];
    const char *why;

    if (!have_mca)
        panic("machine check %s on a CPU without MCA registers", context);
    uint64_t mcg = rdmsr(MSR_IA32_MCG_STATUS);

    log_error("machine check %s: MCG_STATUS %016lx", context, mcg);
    for (unsigned i = 0; i < nr_banks; i++) {
        status[i] = rdmsr(MCI_STATUS(i));
        if (status[i] & MCI_STATUS_VAL)
            log_bank(i, status[i]);
    }
    if (mce_decide(mcg, status, nr_banks, &why) == MCE_FATAL)
        panic("machine check %s: %s", context, why);
    for (unsigned i = 0; i < nr_banks; i++)
        if (status[i] & MCI_STATUS_VAL)
            wrmsr(MCI_STATUS(i), 0);
    /* MCIP still set would make the next machine check a shutdown (SDM vol 3B, 16.3.1.2). */
    wrmsr(MSR_IA32_MCG_STATUS, 0);
    log_warn("machine check %s: %s; continuing", context, why);
}

void host_nmi_note(void)
{
    __atomic_fetch_add(&nmi_count, 1, __ATOMIC_RELAXED);
}

unsigned long host_nmi_count(void)
{
    return __atomic_load_n(&nmi_count, __ATOMIC_RELAXED);
}
