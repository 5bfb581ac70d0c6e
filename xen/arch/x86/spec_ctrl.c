/* spec_ctrl.c (hypervisor): applies the speculation mitigations spec_policy.c chooses: at boot, and before each VM entry. */
#include "env.h"
#include "percpu.h"
#include "printk.h"
#include "spec_ctrl.h"
#include "spec_policy.h"
#include "x86.h"

#define MSR_IA32_SPEC_CTRL        0x48u     /* SDM vol 4, table 2-2 */
#define SPEC_CTRL_IBRS            (1ull << 0)
#define MSR_IA32_PRED_CMD         0x49u
#define PRED_CMD_IBPB             (1ull << 0)
#define MSR_IA32_ARCH_CAPABILITIES 0x10Au
#define MSR_IA32_FLUSH_CMD        0x10Bu
#define FLUSH_CMD_L1D             (1ull << 0)

/* CPUID leaf 0's vendor string, EBX EDX ECX (SDM vol 2A, CPUID; AMD APM vol 3, E.3.1). */
#define VENDOR_INTEL_EBX 0x756e6547u    /* "Genu" */
#define VENDOR_AMD_EBX   0x68747541u    /* "Auth" */

static struct spec_mitigations active;  /* written once at boot */
uint8_t spec_verw_on_entry;
/* The domain whose vCPU each pCPU entered last. Only the boot pCPU runs guests and reaps
 * domains today (percpu.h), so no lock; with more, forget_domain needs one. */
static const struct domain *last_entered[MAX_PCPUS];

static enum spec_vendor host_vendor(uint32_t *max_leaf)
{
    struct cpuid_regs r;

    cpuid_count(0, 0, &r);
    *max_leaf = r.eax;
    if (r.ebx == VENDOR_INTEL_EBX)
        return SPEC_VENDOR_INTEL;
    if (r.ebx == VENDOR_AMD_EBX)
        return SPEC_VENDOR_AMD;
    return SPEC_VENDOR_OTHER;
}

static void read_cpu(struct spec_cpu *c)
{
    struct cpuid_regs r;
    uint32_t max_leaf;

    *c = (struct spec_cpu){ .vendor = host_vendor(&max_leaf) };
    if (max_leaf >= 7) {
        cpuid_count(7, 0, &r);
        c->cpuid7_ebx = r.ebx;
        c->cpuid7_edx = r.edx;
    }
    cpuid_count(0x80000000, 0, &r);
    uint32_t max_ext = r.eax;

    if (max_ext >= 0x80000008) {
        cpuid_count(0x80000008, 0, &r);
        c->ext8_ebx = r.ebx;
    }
    if (max_ext >= 0x80000021) {
        cpuid_count(0x80000021, 0, &r);
        c->ext21_eax = r.eax;
    }
    if (c->cpuid7_edx & CPUID7_EDX_ARCH_CAPS)
        c->arch_caps = rdmsr(MSR_IA32_ARCH_CAPABILITIES);
}

static void log_active(void)
{
    log_info("speculation: IBPB on domain switch %s, RSB stuffing on exit %s, VERW on entry %s, "
             "L1D flush on entry %s, %s",
             active.ibpb_on_domain_switch ? "on" : "off", active.rsb_stuff_on_exit ? "on" : "off",
             active.verw_on_entry ? "on" : "off", active.l1d_flush_on_entry ? "on" : "off",
             active.eibrs ? "enhanced IBRS on" : active.auto_ibrs ? "automatic IBRS on"
                                                                  : "no always-on IBRS");
    if (active.ibpb_missing)
        log_warn("speculation: no IBPB (microcode?): guests can steer each other's branch predictions");
    if (active.verw_missing)
        log_warn("speculation: MDS/TAA/RFDS affected but VERW does not clear buffers (no MD_CLEAR)");
    if (active.l1d_flush_missing)
        log_warn("speculation: L1TF affected but no L1D_FLUSH: guests may read host L1D data");
}

void spec_ctrl_init(void)
{
    struct spec_cpu cpu;

    read_cpu(&cpu);
    spec_decide(&cpu, &active);
    spec_verw_on_entry = active.verw_on_entry;
    spec_ctrl_cpu_init();
    log_active();
}

void spec_ctrl_cpu_init(void)
{
    /* Set once and left on: the hypervisor's own indirect branches are then not steered by
     * predictions a guest trained (SDM vol 3 / Intel "Enhanced IBRS"; AMD "Automatic IBRS"). */
    if (active.eibrs)
        wrmsr(MSR_IA32_SPEC_CTRL, rdmsr(MSR_IA32_SPEC_CTRL) | SPEC_CTRL_IBRS);
    if (active.auto_ibrs)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_AIBRSE);
}

void spec_ctrl_forget_domain(const struct domain *d)
{
    for (unsigned cpu = 0; cpu < MAX_PCPUS; cpu++)
        if (last_entered[cpu] == d)
            last_entered[cpu] = NULL;
}

void spec_ctrl_enter_guest(const struct domain *d)
{
    unsigned cpu = this_cpu()->cpu_id;

    if (last_entered[cpu] != d) {
        last_entered[cpu] = d;
        if (active.ibpb_on_domain_switch)
            wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
    }
    if (active.l1d_flush_on_entry)
        wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
}
