/* vmx.c (hypervisor): the Intel VMX + EPT backend of struct hvm_ops: VMCS setup, guest entry, exit decoding. */
#include "env.h"
#include "apic.h"
#include "cpu.h"
#include "domain.h"
#include "errno.h"
#include "exit.h"
#include "guest_access.h"
#include "hvm.h"
#include "mm.h"
#include "p2m.h"
#include "mce.h"
#include "percpu.h"
#include "printk.h"
#include "spec_ctrl.h"
#include "regs.h"
#include "vcpu_context.h"
#include "vtimer.h"
#include "x86.h"
#include "vmcs.h"

/* The entry stub's offsets (vmx_entry.S) must match struct cpu_regs. */
_Static_assert(offsetof(struct cpu_regs, rax) == 0, "REGS_RAX");
_Static_assert(offsetof(struct cpu_regs, rdi) == 40, "REGS_RDI");
_Static_assert(offsetof(struct cpu_regs, r8) == 56, "REGS_R8");
_Static_assert(offsetof(struct cpu_regs, r15) == 112, "REGS_R15");

#define CPUID_1_ECX_VMX (1u << 5)   /* SDM vol 2A, CPUID leaf 1, table 3-10 */

/* MSR bitmap layout (SDM vol 3, 25.6.9): four 1 KiB bitmaps, one bit per MSR. */
#define MSR_BITMAP_READ_LOW    0
#define MSR_BITMAP_READ_HIGH   1024
#define MSR_BITMAP_WRITE_LOW   2048
#define MSR_BITMAP_WRITE_HIGH  3072
#define MSR_RANGE_LOW_END      0x1fffu
#define MSR_RANGE_HIGH_START   0xC0000000u

/* Exceptions with an error code in protected mode (SDM vol 3, 6.15, table 6-1). */
#define EXC_WITH_ERROR_CODE ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | \
                             (1u << 13) | (1u << 14) | (1u << 17) | (1u << 21))
#define X86_EXC_DF  8


/* Controls we need (the backend is unavailable without them) and want (used if offered). */
#define PIN_REQUIRED   (PIN_EXTERNAL_INTR_EXITING | PIN_NMI_EXITING)
/*
 * Without virtual NMIs, guest IRET leaves NMI blocking alone while NMIs exit (26.3).
 * The preemption timer ends a guest run at the scheduler's deadline even where the
 * host timer's interrupt does not exit (vmx_arm_preemption).
 */
#define PIN_WANTED     (PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER)
/* Exit controls for the intercept list come from intercept_bits below. */
#define PROC_REQUIRED  (PROC_USE_TPR_SHADOW | PROC_ACTIVATE_SECONDARY)
/* Exits that must be off: no CR3 interception with EPT, never RDTSC (BRIEF.md). */
#define PROC_FORBIDDEN (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_RDTSC_EXITING | \
                        PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING)
#define PROC2_REQUIRED (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST)
#define PROC2_WANTED   (PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | \
                        PROC2_ENABLE_XSAVES)
/* DR7 and DEBUGCTL are switched through the VMCS (25.7.1, 25.8.1): a guest's DR7 must
 * survive the exit and never stay in force in the host. */
#define EXIT_REQUIRED  (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PAT | \
                        EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_DEBUG_CONTROLS)
#define ENTRY_REQUIRED (ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CONTROLS)
#define EPT_CAPS_REQUIRED (EPT_CAP_WALK_LENGTH_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_2M_PAGES | \
                           EPT_CAP_1G_PAGES | EPT_CAP_INVEPT)

/*
 * How VMX makes each entry of GUEST_INTERCEPTS (hvm.h) exit. `always`: the
 * instruction or event exits unconditionally in VMX non-root operation
 * (SDM vol 3, 26.1.2), or, for CR4, through the guest/host mask
 * (vmcs_write_controls).
 */
static const struct vmx_intercept {
    uint32_t pin, proc, proc2, exceptions;
    bool always;
} intercept_bits[NR_GUEST_INTERCEPTS] = {
    [GI_CPUID] = { .always = true },
    [GI_HLT] = { .proc = PROC_HLT_EXITING },
    [GI_MSR] = { .proc = PROC_USE_MSR_BITMAPS },            /* then the MSR bitmap */
    [GI_IO] = { .proc = PROC_UNCOND_IO_EXITING },
    [GI_XSETBV] = { .always = true },
    [GI_INVD] = { .always = true },
    [GI_WBINVD] = { .proc2 = PROC2_WBINVD_EXITING },
    [GI_RDPMC] = { .proc = PROC_RDPMC_EXITING },
    [GI_CR4_WRITE] = { .always = true },
    [GI_HYPERCALL] = { .always = true },
    [GI_EXC_UD] = { .exceptions = 1u << X86_EXC_UD },
    [GI_EXC_MC] = { .exceptions = 1u << X86_EXC_MC },   /* exit reason 0, vector 18 (SDM vol 3, 25.6.3) */
    /* VMX instructions always exit; MONITOR/MWAIT would watch or idle the physical CPU. */
    [GI_VIRT_INSNS] = { .proc = PROC_MWAIT_EXITING | PROC_MONITOR_EXITING },
    [GI_TASK_SWITCH] = { .always = true },
    [GI_SHUTDOWN] = { .always = true },
    [GI_HOST_EVENTS] = { .pin = PIN_EXTERNAL_INTR_EXITING | PIN_NMI_EXITING },
};

/* The controls the whole list needs; false (and the entry named) if one has no bits. */
static bool intercept_controls(struct vmx_intercept *need)
{
    *need = (struct vmx_intercept){ 0 };
    for (unsigned i = 0; i < NR_GUEST_INTERCEPTS; i++) {
        const struct vmx_intercept *b = &intercept_bits[i];

        if (!b->always && !(b->pin | b->proc | b->proc2 | b->exceptions)) {
            log_error("vmx: no intercept for \"%s\"", guest_intercept_names[i]);
            return false;
        }
        need->pin |= b->pin;
        need->proc |= b->proc;
        need->proc2 |= b->proc2;
        need->exceptions |= b->exceptions;
    }
    return true;
}

/* What this CPU offers, read once by vmx_probe(). */
struct vmx_caps {
    bool probed, usable;
    const char *why;
    uint32_t revision;
    uint32_t pin, proc, proc2, exit, entry;     /* the values we program */
    uint32_t exceptions;                        /* exception bitmap of the intercept list */
    bool pause_exiting;                         /* PROC_PAUSE_EXITING may be set */
    unsigned preemption_shift;                  /* the timer ticks on this TSC bit (A.6) */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t ept_vpid;
};

/* Per-pCPU state, touched only by its own CPU. */
struct vmx_pcpu {
    bool enabled;
    void *vmxon_region;
    uint64_t current_vmcs;          /* physical address of the loaded VMCS, 0 if none */
    struct vcpu *syscall_msr_owner; /* whose STAR/LSTAR/... are in the MSRs now */
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;
};

/*
 * Per-vCPU state (v->vendor), one page. The SYSCALL MSRs and KERNEL_GS_BASE
 * are not switched by VMX: the guest reads and writes them without exits,
 * and they are swapped lazily here when another vCPU takes this pCPU
 * (the hypervisor itself never executes SYSCALL or SWAPGS).
 */
struct vmx_vcpu {
    void *vmcs;
    uint64_t vmcs_pa;
    void *virtual_apic;             /* TPR shadow page: guest CR8 lands here */
    bool launched;
    uint16_t vpid;                  /* 0 = VPID not used */
    bool vpid_flush_pending;        /* drop this VPID's translations before the next entry */
    uint32_t proc_controls;         /* copy of VMCS_PROC_CONTROLS, saves a VMREAD per change */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    /*
     * The guest's CR2: the VMCS has no field for it (SDM vol 3, 25.4.1), so the
     * live register is whichever guest ran last. A #PF handler that an exit
     * interrupts before it reads CR2 would otherwise see another guest's address.
     */
    uint64_t cr2;
    uint32_t last_exit_reason;
    uint64_t last_exit_qual;
};

static struct vmx_caps caps;
static struct vmx_pcpu pcpus[MAX_PCPUS];
static uint8_t *msr_bitmap;         /* shared by every vCPU: the intercepts are the same */
static unsigned vmwrite_failures;

extern int vmx_enter(struct cpu_regs *regs, int launched);
extern char vmx_exit_stub[];
extern char vmx_intr_stubs[];
#define VMX_INTR_STUB_SIZE 8

static struct vmx_pcpu *this_pcpu(void) { return &pcpus[this_cpu_id()]; }
static struct vmx_vcpu *vmx_of(struct vcpu *v) { return v->vendor; }

/* ---- VMX instructions (SDM vol 3, ch. 31); CF or ZF set means VMfail ---- */

static int __must_check vmxon(uint64_t pa)
{
    bool fail;
    __asm__ volatile("vmxon %1" : "=@ccbe"(fail) : "m"(pa) : "memory");
    return fail ? -EIO : 0;
}

static int __must_check vmclear(uint64_t pa)
{
    bool fail;
    __asm__ volatile("vmclear %1" : "=@ccbe"(fail) : "m"(pa) : "memory");
    return fail ? -EIO : 0;
}

static int __must_check vmptrld(uint64_t pa)
{
    bool fail;
    __asm__ volatile("vmptrld %1" : "=@ccbe"(fail) : "m"(pa) : "memory");
    return fail ? -EIO : 0;
}

static uint64_t vmread(uint32_t field)
{
    uint64_t value = 0;
    __asm__ volatile("vmread %1, %0" : "+rm"(value) : "r"((uint64_t)field) : "cc");
    return value;
}

static void vmwrite(uint32_t field, uint64_t value)
{
    bool fail;
    __asm__ volatile("vmwrite %2, %1" : "=@ccbe"(fail) : "r"((uint64_t)field), "rm"(value)
                     : "memory");
    if (fail) {
        vmwrite_failures++;
        log_error("vmx: VMWRITE of field 0x%x failed (VM-instruction error %lu)", field,
                  vmread(VMCS_INSTRUCTION_ERROR));
    }
}

static int __must_check invept(unsigned type, uint64_t eptp)
{
    struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
    bool fail;
    __asm__ volatile("invept %1, %2" : "=@ccbe"(fail) : "m"(desc), "r"((uint64_t)type)
                     : "memory");
    return fail ? -EIO : 0;
}

static int __must_check invvpid(unsigned type, uint16_t vpid)
{
    struct { uint64_t vpid, linear; } desc = { vpid, 0 };   /* INVVPID descriptor (31.3) */
    bool fail;
    __asm__ volatile("invvpid %1, %2" : "=@ccbe"(fail) : "m"(desc), "r"((uint64_t)type)
                     : "memory");
    return fail ? -EIO : 0;
}

/* ---- capabilities ---- */

/* Allowed-0 settings in bits 31:0 must be 1, allowed-1 in bits 63:32 may be 1 (A.3). */
static uint32_t ctl_adjust(uint32_t msr, uint32_t want)
{
    uint64_t cap = rdmsr(msr);
    return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

static bool ctl_allows_clear(uint32_t msr, uint32_t bits)
{
    return !((uint32_t)rdmsr(msr) & bits);
}

static bool ctl_allows_set(uint32_t msr, uint32_t bits)
{
    return ((uint32_t)(rdmsr(msr) >> 32) & bits) == bits;
}

/* Leaves VMXON permitted like firmware would; false when firmware locked it off. */
static bool feature_control_ok(const char **why)
{
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

    if (fc & FEATURE_CONTROL_LOCK) {
        if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
            return unsupported(why, "VMX is disabled by firmware (IA32_FEATURE_CONTROL "
                                    "locked without VMXON outside SMX)");
        return true;
    }
    wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    return true;
}

/* Computes the controls once; *why names the first missing piece. */
static bool controls_probe(const char **why)
{
    bool true_ctls = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
    uint32_t pin_msr = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
    uint32_t proc_msr = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
    uint32_t exit_msr = true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
    uint32_t entry_msr = true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;

    struct vmx_intercept need;

    if (!intercept_controls(&need))
        return unsupported(why, "the intercept list names an exit VMX has no control for");
    caps.pin = ctl_adjust(pin_msr, PIN_REQUIRED | PIN_WANTED | need.pin);
    caps.proc = ctl_adjust(proc_msr, PROC_REQUIRED | need.proc) & ~PROC_FORBIDDEN;
    caps.exit = ctl_adjust(exit_msr, EXIT_REQUIRED);
    caps.entry = ctl_adjust(entry_msr, ENTRY_REQUIRED);
    caps.exceptions = need.exceptions;
    if ((caps.pin & (PIN_REQUIRED | need.pin)) != (PIN_REQUIRED | need.pin))
        return unsupported(why, "VMX lacks external-interrupt or NMI exiting");
    if ((caps.proc & (PROC_REQUIRED | need.proc)) != (PROC_REQUIRED | need.proc))
        return unsupported(why, "VMX lacks HLT/I/O/RDPMC/MWAIT/MONITOR exiting, MSR bitmaps, "
                                "TPR shadow or secondary controls");
    if (!ctl_allows_clear(proc_msr, PROC_FORBIDDEN))
        return unsupported(why, "VMX cannot turn off CR3, CR8 or RDTSC exiting");
    if (caps.pin & PIN_PREEMPTION_TIMER)
        caps.preemption_shift = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPTION_SHIFT;
    /* Optional: spin-waiting vCPUs of SMP guests give way (vmcs_write_controls). */
    caps.pause_exiting = ctl_allows_set(proc_msr, PROC_PAUSE_EXITING);
    /* Off by default (caps.proc), switched per vCPU by vmx_interrupt_window(). */
    if (!ctl_allows_set(proc_msr, PROC_INTR_WINDOW_EXITING) ||
        !ctl_allows_clear(proc_msr, PROC_INTR_WINDOW_EXITING))
        return unsupported(why, "VMX cannot switch interrupt-window exiting");
    caps.proc2 = ctl_adjust(MSR_IA32_VMX_PROCBASED_CTLS2,
                            PROC2_REQUIRED | PROC2_WANTED | need.proc2);
    if ((caps.proc2 & need.proc2) != need.proc2)
        return unsupported(why, "VMX lacks WBINVD exiting");
    if (!(caps.proc2 & PROC2_ENABLE_EPT))
        return unsupported(why, "VMX has no EPT");
    if (!(caps.proc2 & PROC2_UNRESTRICTED_GUEST))
        return unsupported(why, "VMX has no unrestricted guest (the PVH entry runs with "
                                "paging off)");
    if ((caps.exit & EXIT_REQUIRED) != EXIT_REQUIRED ||
        (caps.entry & ENTRY_REQUIRED) != ENTRY_REQUIRED)
        return unsupported(why, "VMX cannot save/load EFER, PAT and debug controls or "
                                "acknowledge interrupts on exit");
    if (!((rdmsr(entry_msr) >> 32) & ENTRY_IA32E_MODE_GUEST))
        return unsupported(why, "VMX cannot run 64-bit guests (no IA-32e mode guest entry "
                                "control)");
    return true;
}

static bool ept_probe(const char **why)
{
    caps.ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    if (!(caps.ept_vpid & EPT_CAP_WALK_LENGTH_4))
        return unsupported(why, "EPT has no 4-level page walk");
    if (!(caps.ept_vpid & EPT_CAP_MEMTYPE_WB))
        return unsupported(why, "EPT paging structures cannot be write-back");
    /* ept_format (p2m.c) maps with 2 MiB and 1 GiB leaves. */
    if ((caps.ept_vpid & (EPT_CAP_2M_PAGES | EPT_CAP_1G_PAGES)) !=
        (EPT_CAP_2M_PAGES | EPT_CAP_1G_PAGES))
        return unsupported(why, "EPT lacks 2 MiB or 1 GiB pages");
    if (!(caps.ept_vpid & EPT_CAP_INVEPT) ||
        !(caps.ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
        return unsupported(why, "VMX has no INVEPT");
    return true;
}

static void vmx_probe(void)
{
    struct cpuid_regs r;

    if (caps.probed)
        return;
    caps.probed = true;
    cpuid_count(1, 0, &r);
    if (!(r.ecx & CPUID_1_ECX_VMX)) {
        caps.why = "CPUID.1:ECX.VMX is clear: no Intel VT-x";
        return;
    }
    if (!feature_control_ok(&caps.why) || !controls_probe(&caps.why) || !ept_probe(&caps.why))
        return;
    caps.revision = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_REVISION_MASK;
    caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    caps.usable = true;
}

bool vmx_available(const char **why)
{
    vmx_probe();
    if (!caps.usable)
        *why = caps.why;
    return caps.usable;
}

/* ---- per-pCPU enable ---- */

static void msr_bitmap_pass_through(uint8_t *bitmap, uint32_t msr)
{
    unsigned read_base, write_base;
    uint32_t index;

    if (msr <= MSR_RANGE_LOW_END) {
        read_base = MSR_BITMAP_READ_LOW;
        write_base = MSR_BITMAP_WRITE_LOW;
        index = msr;
    } else if (msr - MSR_RANGE_HIGH_START <= MSR_RANGE_LOW_END) {
        read_base = MSR_BITMAP_READ_HIGH;
        write_base = MSR_BITMAP_WRITE_HIGH;
        index = msr - MSR_RANGE_HIGH_START;
    } else {
        return;
    }
    bitmap[read_base + index / 8] &= ~(1u << (index % 8));
    bitmap[write_base + index / 8] &= ~(1u << (index % 8));
}

/* Every MSR exits to common code's allowlist except those VMX keeps per guest. */
static int __must_check msr_bitmap_init(void)
{
    static const uint32_t pass_through[] = {
        MSR_FS_BASE, MSR_GS_BASE,                   /* guest-state area */
        MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
        MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, /* swapped by us */
    };

    if (msr_bitmap)
        return 0;
    msr_bitmap = page_alloc();
    if (!msr_bitmap)
        return -ENOMEM;
    memset(msr_bitmap, 0xff, PAGE_SIZE);
    for (unsigned i = 0; i < sizeof(pass_through) / sizeof(pass_through[0]); i++)
        msr_bitmap_pass_through(msr_bitmap, pass_through[i]);
    return 0;
}

static int __must_check vmx_cpu_enable(void)
{
    struct vmx_pcpu *pc = this_pcpu();
    uint32_t *region;
    int rc;

    vmx_probe();
    if (!caps.usable)
        return -ENODEV;
    if (pc->enabled)
        return 0;
    rc = msr_bitmap_init();
    if (rc)
        return rc;
    /* VMXON needs CR0/CR4 within the fixed bits (SDM vol 3, 24.8, A.7, A.8). */
    write_cr0((read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1);
    write_cr4((read_cr4() | caps.cr4_fixed0 | X86_CR4_VMXE) & caps.cr4_fixed1);

    region = page_alloc();
    if (!region)
        return -ENOMEM;
    region[0] = caps.revision;      /* VMXON region starts with the revision id (24.11.5) */
    if (vmxon(virt_to_phys(region))) {
        log_error("vmx: VMXON failed");
        page_free(region);
        return -EIO;
    }
    pc->vmxon_region = region;
    /* A VM exit leaves the GDTR/IDTR limits at 0xffff (SDM vol 3, 28.5.2): keep the real ones. */
    __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(pc->gdtr), "=m"(pc->idtr));
    pc->enabled = true;
    if (this_cpu_id() == 0)
        log_info("vmx: on (controls pin %08x proc %08x proc2 %08x exit %08x entry %08x)",
             caps.pin, caps.proc, caps.proc2, caps.exit, caps.entry);
    return 0;
}

/* ---- VMCS ---- */

static int __must_check vmcs_make_current(struct vmx_vcpu *x)
{
    struct vmx_pcpu *pc = this_pcpu();

    if (pc->current_vmcs == x->vmcs_pa)
        return 0;
    if (vmptrld(x->vmcs_pa)) {
        log_error("vmx: VMPTRLD of the VMCS at 0x%lx failed", x->vmcs_pa);
        return -EIO;
    }
    pc->current_vmcs = x->vmcs_pa;
    return 0;
}

/* Loads v's VMCS for an accessor; a failure here is a hypervisor bug. */
static struct vmx_vcpu *vmcs_of(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);

    if (vmcs_make_current(x))
        panic("vmx: cannot load the VMCS of vCPU %u", v->id);
    return x;
}

static uint64_t eptp_of(const struct domain *d)
{
    return d->p2m.root | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
}

/* Bits of CR0 the guest may not own: the VMX-fixed ones, less PE/PG (unrestricted guest). */
static uint64_t cr0_host_owned(void)
{
    return (caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) | ~caps.cr0_fixed1;
}

static uint64_t cr0_must_be_set(void)
{
    return caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
}

static uint64_t cr4_host_owned(void)
{
    return caps.cr4_fixed0 | ~caps.cr4_fixed1 | X86_CR4_VMXE;
}

static void vmcs_write_controls(struct vmx_vcpu *x, struct vcpu *v)
{
    uint32_t proc2 = caps.proc2;

    if (!x->vpid)
        proc2 &= ~PROC2_ENABLE_VPID;
    vmwrite(VMCS_PIN_CONTROLS, caps.pin);
    x->proc_controls = caps.proc;
    if (caps.pause_exiting && v->dom->nr_vcpus > 1)
        x->proc_controls |= PROC_PAUSE_EXITING;
    vmwrite(VMCS_PROC_CONTROLS, x->proc_controls);
    vmwrite(VMCS_PROC_CONTROLS2, proc2);
    vmwrite(VMCS_EXIT_CONTROLS, caps.exit);
    vmwrite(VMCS_ENTRY_CONTROLS, caps.entry & ~ENTRY_IA32E_MODE_GUEST);
    if (x->vpid)
        vmwrite(VMCS_VPID, x->vpid);
    /* The intercept list's exceptions (#UD: VMMCALL; #MC: the host's). */
    vmwrite(VMCS_EXCEPTION_BITMAP, caps.exceptions);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmwrite(VMCS_MSR_BITMAP, virt_to_phys(msr_bitmap));
    vmwrite(VMCS_VIRTUAL_APIC_ADDR, virt_to_phys(x->virtual_apic));
    vmwrite(VMCS_TPR_THRESHOLD, 0);
    if (proc2 & PROC2_ENABLE_XSAVES)
        vmwrite(VMCS_XSS_EXIT_BITMAP, 0);           /* XSAVES never exits */
    vmwrite(VMCS_CR0_GUEST_HOST_MASK, cr0_host_owned());
    /* A CR4 write exits when it touches a bit VMX fixes or one the vCPU's CPUID lacks. */
    vmwrite(VMCS_CR4_GUEST_HOST_MASK, cr4_host_owned() | ~cpuid_cr4_valid(v));
    vmwrite(VMCS_EPT_POINTER, eptp_of(v->dom));
}

static void guest_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit,
                          uint32_t ar)
{
    /* Selector, limit, AR and base fields are at fixed distances (appendix B). */
    vmwrite(sel_field, sel);
    vmwrite(sel_field - VMCS_GUEST_ES_SEL + VMCS_GUEST_ES_LIMIT, limit);
    vmwrite(sel_field - VMCS_GUEST_ES_SEL + VMCS_GUEST_ES_AR, ar);
    vmwrite(sel_field - VMCS_GUEST_ES_SEL + VMCS_GUEST_ES_BASE, base);
}

/* Guest state that no start state sets (vcpu_context.h): written once, with the VMCS. */
static void vmcs_write_guest_constants(void)
{
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
    vmwrite(VMCS_LINK_POINTER, VMCS_LINK_POINTER_NONE);
}

/*
 * Host state: this pCPU's tables, control registers and MSRs. Written before
 * the first entry of each vCPU; HOST_RSP is written by vmx_enter itself.
 */
static void vmcs_write_host_state(void)
{
    struct host_selectors s;

    cpu_host_selectors(&s);
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_CS_SEL, s.cs);
    vmwrite(VMCS_HOST_SS_SEL, s.ss);
    vmwrite(VMCS_HOST_DS_SEL, s.ds);
    vmwrite(VMCS_HOST_ES_SEL, s.ds);
    vmwrite(VMCS_HOST_FS_SEL, 0);
    vmwrite(VMCS_HOST_GS_SEL, 0);
    vmwrite(VMCS_HOST_TR_SEL, s.tr);
    vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    vmwrite(VMCS_HOST_TR_BASE, s.tr_base);
    vmwrite(VMCS_HOST_GDTR_BASE, s.gdt_base);
    vmwrite(VMCS_HOST_IDTR_BASE, s.idt_base);
    vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
    vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
    vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
    vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
    vmwrite(VMCS_HOST_RIP, (uintptr_t)vmx_exit_stub);
}

static void vmx_free(struct vmx_vcpu *x)
{
    hvm_tag_free(x->vpid);
    if (x->vmcs)
        page_free(x->vmcs);
    if (x->virtual_apic)
        page_free(x->virtual_apic);
    page_free(x);
}

static bool vpid_flush_supported(void)
{
    return (caps.ept_vpid & VPID_CAP_INVVPID) &&
           (caps.ept_vpid & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
}

/* Drops the linear and combined translations tagged with x's VPID (SDM vol 3,
 * "Invalidating Cached Mappings"; VM entry alone keeps them when VPIDs are on). */
static void vpid_flush(struct vmx_vcpu *x)
{
    int rc;

    if (caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
        rc = invvpid(INVVPID_SINGLE_CONTEXT, x->vpid);
    else
        rc = invvpid(INVVPID_ALL_CONTEXT, 0);
    if (rc)
        panic("vmx: INVVPID failed for VPID %u", x->vpid);
}

static int __must_check vmx_vcpu_init(struct vcpu *v)
{
    struct vmx_vcpu *x;
    unsigned failures_before = vmwrite_failures;

    if (!this_pcpu()->enabled)
        return -ENODEV;
    x = page_alloc();
    if (!x)
        return -ENOMEM;
    x->vmcs = page_alloc();
    x->virtual_apic = page_alloc();
    if (!x->vmcs || !x->virtual_apic) {
        vmx_free(x);
        return -ENOMEM;
    }
    x->vmcs_pa = virt_to_phys(x->vmcs);
    *(uint32_t *)x->vmcs = caps.revision;   /* bit 31 clear: an ordinary VMCS (25.2) */
    /*
     * A reused VPID's old combined translations are tagged with the old EPTP too,
     * and a vCPU's first entry on each pCPU flushes its EPTP (vmx_run, migrate). A
     * restart (vmx_load_context) needs INVVPID, so no VPID without it.
     */
    if ((caps.proc2 & PROC2_ENABLE_VPID) && vpid_flush_supported())
        x->vpid = (uint16_t)hvm_tag_alloc(0x10000);
    if (vmclear(x->vmcs_pa) || vmcs_make_current(x)) {
        log_error("vmx: VMCLEAR/VMPTRLD of a new VMCS failed");
        vmx_free(x);
        return -EIO;
    }
    v->vendor = x;
    vmcs_write_controls(x, v);
    vmcs_write_guest_constants();
    if (vmwrite_failures != failures_before) {
        v->vendor = NULL;
        this_pcpu()->current_vmcs = 0;
        if (vmclear(x->vmcs_pa))
            log_error("vmx: VMCLEAR failed");
        vmx_free(x);
        return -EIO;
    }
    return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);
    struct vmx_pcpu *pc = this_pcpu();

    if (!x)
        return;
    if (pc->syscall_msr_owner == v)
        pc->syscall_msr_owner = NULL;
    if (vmclear(x->vmcs_pa))
        log_error("vmx: VMCLEAR of vCPU %u's VMCS failed", v->id);
    if (pc->current_vmcs == x->vmcs_pa)
        pc->current_vmcs = 0;
    vmx_free(x);
    v->vendor = NULL;
}

/* The guest's SYSCALL MSRs and KERNEL_GS_BASE live in this CPU's MSRs while v owns them. */
static void syscall_msrs_save(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);

    x->star = rdmsr(MSR_STAR);
    x->lstar = rdmsr(MSR_LSTAR);
    x->cstar = rdmsr(MSR_CSTAR);
    x->sfmask = rdmsr(MSR_SFMASK);
    x->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
}

/* The VMCS leaves this CPU, so another may load it (SDM vol 3, 25.1: VMCLEAR first). */
static void vmx_vcpu_unload(struct vcpu *v)
{
    struct vmx_vcpu *x = vmx_of(v);
    struct vmx_pcpu *pc = this_pcpu();

    if (pc->syscall_msr_owner == v) {
        syscall_msrs_save(v);           /* it moves to another CPU: they go with it */
        pc->syscall_msr_owner = NULL;
    }
    if (vmclear(x->vmcs_pa))
        log_error("vmx: VMCLEAR of vCPU %u's VMCS failed", v->id);
    if (pc->current_vmcs == x->vmcs_pa)
        pc->current_vmcs = 0;
    x->launched = false;                /* VMLAUNCH, with this CPU's host state, next */
}

/* Drops this pCPU's cached translations of d's p2m (28.3.3.1). */
static void vmx_flush_p2m(struct domain *d)
{
    uint64_t eptp = eptp_of(d);
    int rc;

    if (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
        rc = invept(INVEPT_SINGLE_CONTEXT, eptp);
    else
        rc = invept(INVEPT_ALL_CONTEXT, 0);
    if (rc)
        panic("vmx: INVEPT failed for EPTP 0x%lx", eptp);
}

static void vmx_flush_tlb(struct vcpu *v)
{
    vmx_flush_p2m(v->dom);
}

/* ---- running ---- */

/* Puts v's SYSCALL MSRs and KERNEL_GS_BASE in place, saving the previous owner's. */
static void syscall_msrs_switch(struct vcpu *v)
{
    struct vmx_pcpu *pc = this_pcpu();
    struct vcpu *prev = pc->syscall_msr_owner;
    struct vmx_vcpu *x = vmx_of(v);

    if (prev == v)
        return;
    if (prev)
        syscall_msrs_save(prev);
    wrmsr(MSR_STAR, x->star);
    wrmsr(MSR_LSTAR, x->lstar);
    wrmsr(MSR_CSTAR, x->cstar);
    wrmsr(MSR_SFMASK, x->sfmask);
    wrmsr(MSR_KERNEL_GS_BASE, x->kernel_gs_base);
    pc->syscall_msr_owner = v;
}

static void host_tables_reload(void)
{
    struct vmx_pcpu *pc = this_pcpu();
    __asm__ volatile("lgdt %0\n\tlidt %1" :: "m"(pc->gdtr), "m"(pc->idtr) : "memory");
}

/*
 * The exit acknowledged a host interrupt (EXIT_ACK_INTR_ON_EXIT): raise it
 * again through the host IDT. Vectors below 32 are exceptions there (a PIC
 * left at the BIOS' base would alias them), so those are only reported.
 */
static void host_interrupt_dispatch(uint8_t vector)
{
    struct vmx_pcpu *pc = this_pcpu();
    static bool warned;

    if (vector >= 32 && (unsigned)vector * 16 + 15 <= pc->idtr.limit) {
        ((void (*)(void))(vmx_intr_stubs + vector * VMX_INTR_STUB_SIZE))();
        return;
    }
    if (!warned) {
        warned = true;
        log_warn("vmx: host interrupt vector %u has no handler; dropped", vector);
    }
}

/* An event being delivered when the exit happened goes in again at the next entry (28.2.4). */
static void idt_vectoring_reinject(void)
{
    uint32_t info = vmread(VMCS_IDT_VECTORING_INFO);
    uint32_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

    if (!(info & INTR_INFO_VALID))
        return;
    if (info & INTR_INFO_ERROR_VALID)
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
    if (type == INTR_TYPE_SW_INTERRUPT || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
        type == INTR_TYPE_SW_EXCEPTION)
        vmwrite(VMCS_ENTRY_INSTR_LEN, vmread(VMCS_EXIT_INSTR_LEN));
    /*
     * An NMI whose delivery exited left virtual-NMI blocking set (28.1),
     * and entry refuses to inject an NMI under it (27.3.1.5); the NMI was
     * not delivered, so the guest is not blocked yet.
     */
    if (type == INTR_TYPE_NMI)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~INTERRUPTIBILITY_NMI);
    vmwrite(VMCS_ENTRY_INTR_INFO, info & ~INTR_INFO_NMI_UNBLOCKED);
}

/*
 * A fault or EPT violation in the guest's IRET exited after IRET had
 * cleared virtual-NMI blocking; IRET runs again, so the blocking goes back
 * (28.2.3; the bit is in the exit interruption info or EPT qualification).
 */
static void iret_nmi_blocking_restore(uint32_t basic, uint64_t qual)
{
    uint32_t info;
    bool unblocked;

    if (!(caps.pin & PIN_VIRTUAL_NMIS) || (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
        return;
    if (basic == VMX_EXIT_EXCEPTION_NMI) {
        info = vmread(VMCS_EXIT_INTR_INFO);
        /* Bit 12 is undefined for a double fault. */
        unblocked = (info & INTR_INFO_VALID) && (info & INTR_INFO_NMI_UNBLOCKED) &&
                    (info & INTR_INFO_VECTOR_MASK) != X86_EXC_DF;
    } else if (basic == VMX_EXIT_EPT_VIOLATION) {
        unblocked = qual & EPT_QUAL_NMI_UNBLOCKED;
    } else {
        return;
    }
    if (unblocked)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
}

static unsigned ept_access(uint64_t qual)
{
    return ((qual & EPT_QUAL_READ) ? P2M_READ : 0) | ((qual & EPT_QUAL_WRITE) ? P2M_WRITE : 0) |
           ((qual & EPT_QUAL_FETCH) ? P2M_EXEC : 0);
}

static void decode_exception(struct vm_exit *exit)
{
    uint32_t info = vmread(VMCS_EXIT_INTR_INFO);
    uint32_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

    if (type == INTR_TYPE_NMI) {
        /* The host's NMI, consumed by the exit (SDM vol 3, 27.2.2; mce.h: counted, ignored).
         * NMI blocking ends at the next entry (guest interruptibility is loaded). */
        host_nmi_note();
        exit->reason = EXIT_INTR;
        return;
    }
    if ((info & INTR_INFO_VECTOR_MASK) == X86_EXC_MC) {
        exit->reason = EXIT_MACHINE_CHECK;  /* the host's to handle, never the guest's */
        return;
    }
    exit->reason = EXIT_EXCEPTION;
    exit->exception.vector = info & INTR_INFO_VECTOR_MASK;
    exit->exception.has_error = info & INTR_INFO_ERROR_VALID;
    if (exit->exception.has_error)
        exit->exception.error = vmread(VMCS_EXIT_INTR_ERROR);
}

static void decode_io(struct vm_exit *exit, uint64_t qual)
{
    exit->reason = EXIT_IO;
    exit->io.port = qual >> IO_QUAL_PORT_SHIFT;
    exit->io.bytes = (qual & IO_QUAL_SIZE_MASK) + 1;
    exit->io.in = qual & IO_QUAL_IN;
    exit->io.string = qual & IO_QUAL_STRING;
    exit->io.rep = qual & IO_QUAL_REP;
}

/* Exits with nothing to decode: their reason, and whether an instruction caused them. */
static const struct {
    uint16_t basic;
    uint8_t reason;
    bool insn;
} plain_exits[] = {
    { VMX_EXIT_INIT_SIGNAL, EXIT_INTR, false },         /* as SVM's INIT intercept */
    { VMX_EXIT_PREEMPTION_TIMER, EXIT_INTR, false },    /* the host timer's deadline: its
                                                           interrupt is pending */
    { VMX_EXIT_INTR_WINDOW, EXIT_INTR_WINDOW, false },  /* before any guest instruction ran
                                                           (26.7.5) */
    { VMX_EXIT_TRIPLE_FAULT, EXIT_TRIPLE_FAULT, false },
    { VMX_EXIT_CPUID, EXIT_CPUID, true }, { VMX_EXIT_HLT, EXIT_HLT, true },
    { VMX_EXIT_INVD, EXIT_CACHE, true }, { VMX_EXIT_WBINVD, EXIT_CACHE, true },
    { VMX_EXIT_RDPMC, EXIT_RDPMC, true }, { VMX_EXIT_PAUSE, EXIT_PAUSE, true },
    { VMX_EXIT_VMCALL, EXIT_HYPERCALL, true },
    /* VMX instructions, and MONITOR/MWAIT as on SVM: common code answers #UD. */
    { VMX_EXIT_MWAIT, EXIT_VIRT_INSN, true }, { VMX_EXIT_MONITOR, EXIT_VIRT_INSN, true },
    { VMX_EXIT_VMCLEAR, EXIT_VIRT_INSN, true }, { VMX_EXIT_VMLAUNCH, EXIT_VIRT_INSN, true },
    { VMX_EXIT_VMPTRLD, EXIT_VIRT_INSN, true }, { VMX_EXIT_VMPTRST, EXIT_VIRT_INSN, true },
    { VMX_EXIT_VMREAD, EXIT_VIRT_INSN, true }, { VMX_EXIT_VMRESUME, EXIT_VIRT_INSN, true },
    { VMX_EXIT_VMWRITE, EXIT_VIRT_INSN, true }, { VMX_EXIT_VMXOFF, EXIT_VIRT_INSN, true },
    { VMX_EXIT_VMXON, EXIT_VIRT_INSN, true }, { VMX_EXIT_INVEPT, EXIT_VIRT_INSN, true },
    { VMX_EXIT_INVVPID, EXIT_VIRT_INSN, true }, { VMX_EXIT_VMFUNC, EXIT_VIRT_INSN, true },
};

/* Sets exit->reason and its facts; returns true when the exit was caused by an instruction. */
static bool decode_basic(struct vcpu *v, uint32_t basic, uint64_t qual, struct vm_exit *exit)
{
    switch (basic) {
    case VMX_EXIT_EXCEPTION_NMI:
        decode_exception(exit);
        return false;
    case VMX_EXIT_EXTERNAL_INTR:
        exit->reason = EXIT_INTR;
        host_interrupt_dispatch(vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_VECTOR_MASK);
        return false;
    case VMX_EXIT_RDMSR:
        exit->reason = EXIT_MSR_READ;
        exit->msr.index = v->regs.rcx;
        return true;
    case VMX_EXIT_WRMSR:
        exit->reason = EXIT_MSR_WRITE;
        exit->msr.index = v->regs.rcx;
        exit->msr.value = edx_eax_combine(v->regs.rdx, v->regs.rax);
        return true;
    case VMX_EXIT_XSETBV:
        exit->reason = EXIT_XSETBV;
        exit->xsetbv.index = v->regs.rcx;
        exit->xsetbv.value = edx_eax_combine(v->regs.rdx, v->regs.rax);
        return true;
    case VMX_EXIT_IO:
        decode_io(exit, qual);
        return true;
    case VMX_EXIT_CR_ACCESS:
        if (((qual >> CR_QUAL_ACCESS_SHIFT) & CR_QUAL_ACCESS_MASK) != CR_ACCESS_MOV_TO_CR) {
            exit->reason = EXIT_UNEXPECTED;
            return true;
        }
        exit->reason = EXIT_CR_WRITE;
        exit->cr.cr = qual & CR_QUAL_CR_MASK;
        exit->cr.gpr = (qual >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK;
        return true;
    case VMX_EXIT_EPT_VIOLATION:
        exit->reason = EXIT_NPF;
        exit->npf.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDR);
        exit->npf.access = ept_access(qual);
        exit->npf.present = qual & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE);
        return false;
    case VMX_EXIT_EPT_MISCONFIG:
        exit->reason = EXIT_UNEXPECTED;
        exit->npf.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDR);
        return false;
    default:
        for (unsigned i = 0; i < sizeof(plain_exits) / sizeof(plain_exits[0]); i++) {
            if (plain_exits[i].basic == basic) {
                exit->reason = (enum exit_reason)plain_exits[i].reason;
                return plain_exits[i].insn;
            }
        }
        exit->reason = EXIT_UNEXPECTED;
        return false;
    }
}

static uint32_t guest_blocking(struct vcpu *v);

/*
 * The guest must leave the CPU at the deadline the scheduler armed in the
 * host timer. External-interrupt exiting should suffice, but Bochs 2.7
 * recomputes which interrupts it may take only when RFLAGS.IF changes, and
 * does that at VM entry before it is in guest mode: a guest entered and
 * kept with IF = 0 never sees the host timer and would spin on the pCPU for
 * good. The VMX-preemption timer (SDM vol 3, 26.5.1) counts down in the
 * guest whatever its IF, so it ends the run at the same deadline.
 */
static void vmx_arm_preemption(void)
{
    uint64_t deadline = host_timer_deadline();

    if (!(caps.pin & PIN_PREEMPTION_TIMER))
        return;
    vmwrite(VMCS_PREEMPTION_TIMER_VALUE,
            deadline ? vtimer_preemption_ticks(deadline, rdtsc(), caps.preemption_shift)
                     : UINT32_MAX);
}

static void vmx_run(struct vcpu *v, struct vm_exit *exit)
{
    struct vmx_vcpu *x = vmcs_of(v);
    uint32_t raw;
    uint64_t qual;
    int failed;

    memset(exit, 0, sizeof(*exit));
    syscall_msrs_switch(v);
    (void)guest_blocking(v);
    vmwrite(VMCS_GUEST_RIP, v->regs.rip);
    vmwrite(VMCS_GUEST_RSP, v->regs.rsp);
    vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags | X86_RFLAGS_FIXED);
    if (!x->launched) {
        vmcs_write_host_state();
        /* A p2m root at a recycled address may have stale translations. */
        vmx_flush_p2m(v->dom);
    }
    if (x->vpid_flush_pending) {
        x->vpid_flush_pending = false;
        vpid_flush(x);
    }
    vmx_arm_preemption();

    spec_ctrl_enter_guest(v->dom);
    write_cr2(x->cr2);          /* the hypervisor takes no page faults: CR2 stays put until entry */
    failed = vmx_enter(&v->regs, x->launched);

    x->cr2 = read_cr2();
    if (failed) {
        host_tables_reload();
        exit->reason = EXIT_INVALID_STATE;
        exit->hw_reason = VMX_EXIT_ENTRY_INSN_FAILED;
        exit->hw_qual = vmread(VMCS_INSTRUCTION_ERROR);
        exit->next_rip = v->regs.rip;
        x->last_exit_reason = VMX_EXIT_ENTRY_INSN_FAILED;
        x->last_exit_qual = exit->hw_qual;
        return;
    }
    host_tables_reload();

    raw = vmread(VMCS_EXIT_REASON);
    qual = vmread(VMCS_EXIT_QUALIFICATION);
    x->last_exit_reason = raw;
    x->last_exit_qual = qual;
    v->regs.rip = vmread(VMCS_GUEST_RIP);
    v->regs.rsp = vmread(VMCS_GUEST_RSP);
    v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
    exit->hw_reason = raw;
    exit->hw_qual = qual;
    exit->next_rip = v->regs.rip;

    if (raw & EXIT_REASON_ENTRY_FAILURE) {
        /* Invalid guest state, MSR loading or machine check during entry (27.8). */
        exit->reason = (raw & EXIT_REASON_BASIC_MASK) == VMX_EXIT_MCE_DURING_ENTRY
                           ? EXIT_MACHINE_CHECK : EXIT_INVALID_STATE;
        return;
    }
    x->launched = true;
    if (decode_basic(v, raw & EXIT_REASON_BASIC_MASK, qual, exit))
        exit->next_rip = v->regs.rip + vmread(VMCS_EXIT_INSTR_LEN);
    iret_nmi_blocking_restore(raw & EXIT_REASON_BASIC_MASK, qual);
    idt_vectoring_reinject();
}

/* ---- state accessors for common code ---- */

static void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    uint32_t type = vector == X86_EXC_NMI ? INTR_TYPE_NMI : INTR_TYPE_HW_EXCEPTION;
    uint32_t info = vector | (type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;

    vmcs_of(v);
    /* Entry checks (27.2.1.3): an error code only for these vectors, and only in protected mode. */
    if (has_error && vector < 32 && (EXC_WITH_ERROR_CODE & (1u << vector)) &&
        (vmread(VMCS_GUEST_CR0) & X86_CR0_PE)) {
        info |= INTR_INFO_ERROR_VALID;
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

/*
 * The entry interruption field is valid when inject_exception queued an
 * event or vmx_run re-injected one from IDT-vectoring info; every exit
 * clears its valid bit (25.8.3). The blocking rules are the VM-entry
 * checks on event injection (27.3.1.5): an external interrupt needs
 * RFLAGS.IF and no STI or MOV SS blocking; an NMI no MOV SS blocking and,
 * with virtual NMIs, no blocking by NMI (the guest is in its NMI handler
 * until IRET; without virtual NMIs the bit is still the guest's NMI
 * blocking, so a second NMI waits too). STI blocking also holds an NMI
 * back: it may inhibit NMIs on some processors (SDM vol 2B, STI).
 */
/*
 * STI and MOV SS block interrupts for one instruction only: once common code
 * has moved RIP past the exiting instruction (HLT after STI), the blocking is
 * over (SDM vol 3, 25.3 / 26.3.1.5).
 */
static uint32_t guest_blocking(struct vcpu *v)
{
    uint32_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY);

    if ((blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
        vmread(VMCS_GUEST_RIP) != v->regs.rip) {
        blocking &= ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocking);
    }
    return blocking;
}

static bool vmx_can_inject(struct vcpu *v, bool nmi)
{
    uint32_t blocking;

    vmcs_of(v);
    if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
        return false;
    blocking = guest_blocking(v);
    if (nmi)
        return !(blocking &
                 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI));
    /* v->regs.rflags is what vmx_run read at the exit and writes at the next entry. */
    return (v->regs.rflags & X86_RFLAGS_IF) &&
           !(blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

static void vmx_inject_interrupt(struct vcpu *v, uint8_t vector)
{
    vmcs_of(v);
    vmwrite(VMCS_ENTRY_INTR_INFO,
            vector | (INTR_TYPE_EXTERNAL << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID);
}

static void vmx_inject_nmi(struct vcpu *v)
{
    vmcs_of(v);
    vmwrite(VMCS_ENTRY_INTR_INFO,
            X86_EXC_NMI | (INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID);
}

/* Interrupt-window exiting (26.7.5): exit as soon as IF=1 and no STI/MOV SS blocking. */
static void vmx_interrupt_window(struct vcpu *v, bool enable)
{
    struct vmx_vcpu *x = vmcs_of(v);
    uint32_t proc = enable ? x->proc_controls | PROC_INTR_WINDOW_EXITING
                           : x->proc_controls & ~PROC_INTR_WINDOW_EXITING;

    if (proc == x->proc_controls)
        return;
    x->proc_controls = proc;
    vmwrite(VMCS_PROC_CONTROLS, proc);
}

/* What the guest sees: its own bits from the register, host-owned ones from the shadow. */
static uint64_t guest_visible(uint32_t reg_field, uint32_t shadow_field, uint32_t mask_field)
{
    uint64_t mask = vmread(mask_field);
    return (vmread(reg_field) & ~mask) | (vmread(shadow_field) & mask);
}

static void vmx_get_ctrl_regs(struct vcpu *v, struct vcpu_ctrl_regs *out)
{
    uint32_t cs_ar, ss_ar;

    vmcs_of(v);
    cs_ar = vmread(VMCS_GUEST_CS_AR);
    ss_ar = vmread(VMCS_GUEST_SS_AR);
    out->cr0 = guest_visible(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, VMCS_CR0_GUEST_HOST_MASK);
    out->cr4 = guest_visible(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, VMCS_CR4_GUEST_HOST_MASK);
    out->cr3 = vmread(VMCS_GUEST_CR3);
    out->efer = vmread(VMCS_GUEST_EFER);
    out->cpl = (ss_ar & AR_DPL_MASK) >> AR_DPL_SHIFT;   /* SS.DPL is the CPL (SDM vol 3, 5.5) */
    out->cs_base = vmread(VMCS_GUEST_CS_BASE);
    if ((out->efer & EFER_LMA) && (cs_ar & AR_L_64BIT))
        out->mode_bits = 64;
    else if (cs_ar & AR_DB_32BIT)
        out->mode_bits = 32;
    else
        out->mode_bits = 16;
}

static uint64_t vmx_get_efer(struct vcpu *v)
{
    vmcs_of(v);
    return vmread(VMCS_GUEST_EFER);
}

/* Keeps EFER.LMA = LME && CR0.PG and the IA-32e-mode-guest entry control equal to it. */
static void efer_store(uint64_t efer, uint64_t cr0)
{
    bool lma = (efer & EFER_LME) && (cr0 & X86_CR0_PG);
    uint64_t entry = vmread(VMCS_ENTRY_CONTROLS);

    efer = lma ? efer | EFER_LMA : efer & ~EFER_LMA;
    vmwrite(VMCS_GUEST_EFER, efer);
    vmwrite(VMCS_ENTRY_CONTROLS, lma ? entry | ENTRY_IA32E_MODE_GUEST
                                     : entry & ~ENTRY_IA32E_MODE_GUEST);
}

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
    vmcs_of(v);
    efer_store(efer, vmread(VMCS_GUEST_CR0));
}

static uint64_t vmx_get_pat(struct vcpu *v)
{
    vmcs_of(v);
    return vmread(VMCS_GUEST_PAT);
}

static void vmx_set_pat(struct vcpu *v, uint64_t pat)
{
    vmcs_of(v);
    vmwrite(VMCS_GUEST_PAT, pat);
}

/*
 * PAE paging with EPT takes its PDPTEs from the VMCS (27.3.2.4). The CPU
 * loads them itself when the guest enables paging without an exit; when we
 * apply the CR0 write, we must.
 */
static bool pae_pdptes_load(struct vcpu *v, uint64_t cr3)
{
    uint64_t pdpte[4];

    if (copy_from_guest_phys(&v->dom->mem, pdpte, cr3 & ~0x1full, sizeof(pdpte)))
        return false;
    for (unsigned i = 0; i < 4; i++)
        vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
    return true;
}

/*
 * Applies a MOV to CR0 that common code found architecturally valid
 * (cpu_rules.c): VMX-fixed bits stay set underneath the read shadow, and
 * turning on PAE paging loads the PDPTEs.
 */
static bool cr0_write(struct vcpu *v, uint64_t value)
{
    uint64_t old = vmread(VMCS_GUEST_CR0);
    uint64_t cr4 = vmread(VMCS_GUEST_CR4);
    uint64_t efer = vmread(VMCS_GUEST_EFER);
    uint64_t real = value | cr0_must_be_set();

    if (real & ~caps.cr0_fixed1)
        return false;
    if ((value & X86_CR0_PG) && !(old & X86_CR0_PG) && !(efer & EFER_LME) &&
        (cr4 & X86_CR4_PAE) && !pae_pdptes_load(v, vmread(VMCS_GUEST_CR3)))
        return false;
    vmwrite(VMCS_GUEST_CR0, real);
    vmwrite(VMCS_CR0_READ_SHADOW, value);
    efer_store(efer, real);
    return true;
}

/* Applies a checked MOV to CR4: what VMX fixes underneath, the guest's value in the shadow. */
static bool cr4_write(struct vcpu *v, uint64_t value)
{
    if (value & (X86_CR4_VMXE | ~caps.cr4_fixed1))
        return false;
    vmwrite(VMCS_GUEST_CR4, value | caps.cr4_fixed0);
    vmwrite(VMCS_CR4_READ_SHADOW, value);
    return true;
}

/* Applies a MOV to CR0/CR4 that exited on a host-owned bit and passed common code's checks. */
static bool vmx_write_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
    vmcs_of(v);
    switch (cr) {
    case 0:
        return cr0_write(v, value);
    case 4:
        return cr4_write(v, value);
    default:
        return false;       /* CR3 and CR8 do not exit (EPT, TPR shadow) */
    }
}

/* Context attributes with AVL/L/D/G moved to bits 12-15, null as unusable (SDM vol 3, 25.4.1). */
static uint32_t vmx_ar(uint16_t attrib)
{
    if (!attrib)
        return AR_UNUSABLE;
    return (attrib & 0xffu) | ((uint32_t)(attrib & 0xf00u) << 4);
}

static void load_segment(uint32_t sel_field, const struct seg_reg *s)
{
    guest_segment(sel_field, s->sel, s->base, s->limit, vmx_ar(s->attrib));
}

/*
 * Loads a start state. Unrestricted guest lets the VMCS hold PE = PG = 0; CR0
 * and CR4 get the bits VMX fixes, their read shadows what the guest set.
 */
static bool vmx_load_context(struct vcpu *v, const struct vcpu_context *c)
{
    struct vmx_vcpu *x = vmcs_of(v);
    uint64_t real_cr0 = c->cr0 | cr0_must_be_set();

    if ((real_cr0 & ~caps.cr0_fixed1) || (c->cr4 & (X86_CR4_VMXE | ~caps.cr4_fixed1)))
        return false;
    if ((c->cr0 & X86_CR0_PG) && (c->cr4 & X86_CR4_PAE) && !(c->efer & EFER_LMA) &&
        !pae_pdptes_load(v, c->cr3))
        return false;
    load_segment(VMCS_GUEST_CS_SEL, &c->cs);
    load_segment(VMCS_GUEST_DS_SEL, &c->ds);
    load_segment(VMCS_GUEST_ES_SEL, &c->es);
    load_segment(VMCS_GUEST_SS_SEL, &c->ss);
    load_segment(VMCS_GUEST_FS_SEL, &c->fs);
    load_segment(VMCS_GUEST_GS_SEL, &c->gs);
    load_segment(VMCS_GUEST_TR_SEL, &c->tr);
    load_segment(VMCS_GUEST_LDTR_SEL, &c->ldtr);
    vmwrite(VMCS_GUEST_GDTR_BASE, c->gdtr.base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, c->gdtr.limit);
    vmwrite(VMCS_GUEST_IDTR_BASE, c->idtr.base);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, c->idtr.limit);

    vmwrite(VMCS_GUEST_CR0, real_cr0);
    vmwrite(VMCS_CR0_READ_SHADOW, c->cr0);
    vmwrite(VMCS_GUEST_CR4, c->cr4 | caps.cr4_fixed0);
    vmwrite(VMCS_CR4_READ_SHADOW, c->cr4);
    vmwrite(VMCS_GUEST_CR3, c->cr3);
    efer_store(c->efer, real_cr0);
    vmwrite(VMCS_GUEST_PAT, VMX_PAT_RESET);
    vmwrite(VMCS_GUEST_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_DR7, VMX_DR7_RESET);

    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    vmx_interrupt_window(v, false);

    v->regs = c->regs;
    vmwrite(VMCS_GUEST_RIP, v->regs.rip);
    vmwrite(VMCS_GUEST_RSP, v->regs.rsp);
    vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
    /* Linear translations cached under this VPID belong to the old paging. */
    if (x->vpid)
        x->vpid_flush_pending = true;
    return true;
}

static void dump_segment(const char *name, uint32_t sel_field)
{
    log_error("  %-4s %04lx base %016lx limit %08lx ar %05lx", name, vmread(sel_field),
              vmread(sel_field - VMCS_GUEST_ES_SEL + VMCS_GUEST_ES_BASE),
              vmread(sel_field - VMCS_GUEST_ES_SEL + VMCS_GUEST_ES_LIMIT),
              vmread(sel_field - VMCS_GUEST_ES_SEL + VMCS_GUEST_ES_AR));
}

static void vmx_dump(struct vcpu *v)
{
    static const struct { const char *name; uint32_t field; } segs[] = {
        { "cs", VMCS_GUEST_CS_SEL }, { "ss", VMCS_GUEST_SS_SEL }, { "ds", VMCS_GUEST_DS_SEL },
        { "es", VMCS_GUEST_ES_SEL }, { "fs", VMCS_GUEST_FS_SEL }, { "gs", VMCS_GUEST_GS_SEL },
        { "tr", VMCS_GUEST_TR_SEL }, { "ldtr", VMCS_GUEST_LDTR_SEL },
    };
    struct vmx_vcpu *x = vmx_of(v);

    if (!x || vmcs_make_current(x)) {
        log_error("vmx: vCPU %u has no loadable VMCS", v->id);
        return;
    }
    log_error("vmx: exit reason 0x%x qualification 0x%lx, VM-instruction error %lu",
              x->last_exit_reason, x->last_exit_qual, vmread(VMCS_INSTRUCTION_ERROR));
    log_error("  rip %016lx rsp %016lx rflags %08lx", vmread(VMCS_GUEST_RIP),
              vmread(VMCS_GUEST_RSP), vmread(VMCS_GUEST_RFLAGS));
    for (unsigned i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
        dump_segment(segs[i].name, segs[i].field);
    log_error("  gdtr %016lx/%04lx idtr %016lx/%04lx", vmread(VMCS_GUEST_GDTR_BASE),
              vmread(VMCS_GUEST_GDTR_LIMIT), vmread(VMCS_GUEST_IDTR_BASE),
              vmread(VMCS_GUEST_IDTR_LIMIT));
    log_error("  cr0 %016lx (shadow %08lx) cr3 %016lx cr4 %016lx (shadow %08lx)",
              vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_READ_SHADOW), vmread(VMCS_GUEST_CR3),
              vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_READ_SHADOW));
    log_error("  efer %016lx pat %016lx entry controls %08lx", vmread(VMCS_GUEST_EFER),
              vmread(VMCS_GUEST_PAT), vmread(VMCS_ENTRY_CONTROLS));
    log_error("  interruptibility %08lx activity %lu pending entry event %08lx "
              "idt-vectoring %08lx exit interruption %08lx",
              vmread(VMCS_GUEST_INTERRUPTIBILITY), vmread(VMCS_GUEST_ACTIVITY_STATE),
              vmread(VMCS_ENTRY_INTR_INFO), vmread(VMCS_IDT_VECTORING_INFO),
              vmread(VMCS_EXIT_INTR_INFO));
    log_error("  guest-physical address %016lx", vmread(VMCS_GUEST_PHYSICAL_ADDR));
}

const struct hvm_ops vmx_ops = {
    .name = "Intel VMX + EPT",
    .p2m_format = &ept_format,
    .hypercall_insn = { 0x0f, 0x01, 0xc1 },         /* VMCALL (SDM vol 2B) */
    .other_hypercall_insn = { 0x0f, 0x01, 0xd9 },   /* VMMCALL (AMD APM vol 3) */
    .cpu_enable = vmx_cpu_enable,
    .vcpu_init = vmx_vcpu_init,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_unload = vmx_vcpu_unload,
    .run = vmx_run,
    .inject_exception = vmx_inject_exception,
    .can_inject = vmx_can_inject,
    .inject_interrupt = vmx_inject_interrupt,
    .inject_nmi = vmx_inject_nmi,
    .interrupt_window = vmx_interrupt_window,
    .load_context = vmx_load_context,
    .get_ctrl_regs = vmx_get_ctrl_regs,
    .get_efer = vmx_get_efer,
    .set_efer = vmx_set_efer,
    .get_pat = vmx_get_pat,
    .set_pat = vmx_set_pat,
    .write_cr = vmx_write_cr,
    .flush_tlb = vmx_flush_tlb,
    .dump = vmx_dump,
};
