/* svm.c (hypervisor, SVM): the AMD SVM + NPT backend: VMCB setup, VMRUN, exit decoding. */
#include "env.h"
#include "domain.h"
#include "errno.h"
#include "hvm.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "spec_ctrl.h"
#include "vcpu_context.h"
#include "vmcb.h"
#include "x86.h"

#define MSR_VM_CR        0xC0010114u
#define VM_CR_SVMDIS     (1ull << 4)    /* firmware disabled SVM */
#define MSR_VM_HSAVE_PA  0xC0010117u

#define CPUID_EXT1_ECX_SVM   (1u << 2)  /* 0x80000001 */
#define CPUID_SVM_EDX_NP     (1u << 0)  /* 0x8000000a: nested paging */
#define CPUID_SVM_EDX_NRIPS  (1u << 3)  /* 0x8000000a: next-RIP saved on exits */
#define CPUID_SVM_EDX_DECODE_ASSISTS (1u << 7)  /* 0x8000000a: MOV CRx exits name the GPR */

#define IOPM_SIZE  (3 * PAGE_SIZE)      /* one bit per port, APM 15.10.1 */
#define MSRPM_SIZE (2 * PAGE_SIZE)      /* two bits per MSR, APM 15.11 */

/* Fixed encodings used when the CPU does not report next-RIP (QEMU 7.2 TCG). */
#define LEN_CPUID 2
#define LEN_HLT 1
#define LEN_MSR 2
#define LEN_VMMCALL 3
#define LEN_XSETBV 3
#define LEN_PAUSE 2
#define LEN_INVD 2      /* 0F 08; WBINVD is 0F 09 */
/* PAUSEs a spin-wait may run before it exits (APM 15.14.4); a vCPU sharing its pCPU should
 * give way soon, since whoever it waits for cannot run meanwhile. */
#define PAUSE_FILTER_COUNT 64

#define GUEST_PAT_DEFAULT 0x0007040600070406ull   /* the power-on PAT (SDM vol 3, 12.12.4) */
#define DR6_DEFAULT 0xffff0ff0ull
#define DR7_DEFAULT 0x400ull

struct svm_vcpu {
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
};

static bool have_nrips, have_decode_assists;
static uint32_t nr_asids;

/*
 * A freed ASID (hvm_tag_alloc) may go to a new vCPU while a pCPU's TLB still
 * holds the old vCPU's translations under it: the new VMCB's first VMRUN
 * flushes its ASID (svm_vcpu_init), and so does its first entry on any pCPU it
 * moves to later (sched.c: migrate), so none of them reaches the new vCPU.
 */
static uint64_t iopm_pa, msrpm_pa;
static uint64_t host_vmcb_pa[MAX_PCPUS]; /* each CPU's VMSAVE area for its hidden host state */

void svm_vmrun(uint64_t vmcb_pa, struct cpu_regs *regs, uint64_t host_vmcb_pa);

static struct vmcb *vmcb_of(struct vcpu *v) { return ((struct svm_vcpu *)v->vendor)->vmcb; }

bool svm_available(const char **why)
{
    struct cpuid_regs r;

    cpuid_count(0x80000000, 0, &r);
    if (r.eax < 0x8000000a)
        return unsupported(why, "no extended CPUID leaf 0x8000000a");
    cpuid_count(0x80000001, 0, &r);
    if (!(r.ecx & CPUID_EXT1_ECX_SVM))
        return unsupported(why, "CPU has no SVM");
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
        return unsupported(why, "SVM is disabled by the firmware (VM_CR.SVMDIS)");
    cpuid_count(0x8000000a, 0, &r);
    if (!(r.edx & CPUID_SVM_EDX_NP))
        return unsupported(why, "SVM without nested paging (NPT)");
    have_nrips = r.edx & CPUID_SVM_EDX_NRIPS;
    have_decode_assists = r.edx & CPUID_SVM_EDX_DECODE_ASSISTS;
    nr_asids = r.ebx;
    return true;
}

/* MSRs the guest reads and writes without exits: all live in the VMCB (VMLOAD/VMSAVE). */
static const uint32_t passthrough_msrs[] = {
    MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
    MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
    MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* The MSRPM holds three 2 KiB blocks, one per MSR range (APM table 15-4). */
static void msrpm_allow(uint8_t *msrpm, uint32_t msr)
{
    static const struct { uint32_t base; uint32_t offset; } ranges[] = {
        { 0x00000000, 0x0000 }, { 0xC0000000, 0x0800 }, { 0xC0010000, 0x1000 },
    };

    for (unsigned i = 0; i < 3; i++) {
        if (msr - ranges[i].base < 0x2000) {
            uint32_t bit = (msr - ranges[i].base) * 2;  /* read bit, then write bit */

            msrpm[ranges[i].offset + bit / 8] &= ~(3u << (bit % 8));
            return;
        }
    }
}

/* How SVM makes each entry of GUEST_INTERCEPTS (hvm.h) exit: APM vol 2, 15.9-15.13, table B-1. */
static const struct svm_intercept {
    uint32_t cr, exceptions, misc1, misc2;
} intercept_bits[NR_GUEST_INTERCEPTS] = {
    [GI_CPUID] = { .misc1 = INTERCEPT_CPUID },
    [GI_HLT] = { .misc1 = INTERCEPT_HLT },
    [GI_MSR] = { .misc1 = INTERCEPT_MSR },          /* then the MSR permission map */
    [GI_IO] = { .misc1 = INTERCEPT_IOIO },          /* then the I/O permission map */
    [GI_XSETBV] = { .misc2 = INTERCEPT_XSETBV },
    [GI_INVD] = { .misc1 = INTERCEPT_INVD },
    [GI_WBINVD] = { .misc2 = INTERCEPT_WBINVD },
    [GI_RDPMC] = { .misc1 = INTERCEPT_RDPMC },
    [GI_CR4_WRITE] = { .cr = INTERCEPT_CR_WRITE(4) },   /* every write: no CR4 mask on SVM */
    [GI_HYPERCALL] = { .misc2 = INTERCEPT_VMMCALL },
    [GI_EXC_UD] = { .exceptions = 1u << X86_EXC_UD },
    /* An intercepted #MC exits and is not delivered by itself (APM vol 2, 15.12). */
    [GI_EXC_MC] = { .exceptions = 1u << X86_EXC_MC },
    [GI_VIRT_INSNS] = { .misc1 = INTERCEPT_INVLPGA,
                        .misc2 = INTERCEPT_VMRUN | INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
                                 INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
                                 INTERCEPT_MONITOR | INTERCEPT_MWAIT | INTERCEPT_MWAIT_ARMED },
    [GI_TASK_SWITCH] = { .misc1 = INTERCEPT_TASK_SWITCH },
    [GI_SHUTDOWN] = { .misc1 = INTERCEPT_SHUTDOWN },
    [GI_HOST_EVENTS] = { .misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI |
                                  INTERCEPT_INIT },
};

/* Every entry of the common list has SVM bits: a missing one is a build mistake. */
static bool intercepts_complete(void)
{
    for (unsigned i = 0; i < NR_GUEST_INTERCEPTS; i++) {
        const struct svm_intercept *b = &intercept_bits[i];

        if (!(b->cr | b->exceptions | b->misc1 | b->misc2)) {
            log_error("SVM: no intercept for \"%s\"", guest_intercept_names[i]);
            return false;
        }
    }
    return true;
}

static void set_intercepts(struct vmcb *vmcb)
{
    struct svm_intercept all = { 0 };

    for (unsigned i = 0; i < NR_GUEST_INTERCEPTS; i++) {
        all.cr |= intercept_bits[i].cr;
        all.exceptions |= intercept_bits[i].exceptions;
        all.misc1 |= intercept_bits[i].misc1;
        all.misc2 |= intercept_bits[i].misc2;
    }
    vmcb->intercept_cr = all.cr;
    vmcb->intercept_exceptions = all.exceptions;
    vmcb->intercept_misc1 = all.misc1;
    vmcb->intercept_misc2 = all.misc2;
    vmcb->iopm_base_pa = iopm_pa;
    vmcb->msrpm_base_pa = msrpm_pa;
    vmcb->vintr = VINTR_MASKING;
}

/* The intercept bitmaps every vCPU shares; made by the boot CPU, before any other starts. */
static int svm_bitmaps_init(void)
{
    if (iopm_pa)
        return 0;
    iopm_pa = frames_alloc(IOPM_SIZE, PAGE_SIZE);
    msrpm_pa = frames_alloc(MSRPM_SIZE, PAGE_SIZE);
    if (!iopm_pa || !msrpm_pa)
        return -ENOMEM;
    if (!intercepts_complete())
        return -EINVAL;
    /* Intercept every port and every MSR, then open the few that are safe. */
    memset(phys_to_virt(iopm_pa), 0xff, IOPM_SIZE);
    memset(phys_to_virt(msrpm_pa), 0xff, MSRPM_SIZE);
    for (unsigned i = 0; i < sizeof(passthrough_msrs) / sizeof(passthrough_msrs[0]); i++)
        msrpm_allow(phys_to_virt(msrpm_pa), passthrough_msrs[i]);
    return 0;
}

/* Each CPU its own host save area and VMSAVE area (APM vol 2, 15.30.4). */
static int svm_cpu_enable(void)
{
    uint64_t hsave = frames_alloc(PAGE_SIZE, PAGE_SIZE);
    uint64_t host_vmcb = frames_alloc(PAGE_SIZE, PAGE_SIZE);
    int rc = svm_bitmaps_init();

    if (rc)
        return rc;
    if (!hsave || !host_vmcb)
        return -ENOMEM;
    host_vmcb_pa[this_cpu_id()] = host_vmcb;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, hsave);
    if (this_cpu_id() == 0)
            log_info("SVM: %u ASIDs, next-RIP %s, decode assists %s", nr_asids,
                 have_nrips ? "reported" : "not reported", have_decode_assists ? "yes" : "no");
    return 0;
}

static int svm_vcpu_init(struct vcpu *v)
{
    struct svm_vcpu *s = page_alloc();
    uint64_t vmcb_pa = frames_alloc(PAGE_SIZE, PAGE_SIZE);
    uint32_t asid = s && vmcb_pa ? hvm_tag_alloc(nr_asids) : 0;

    if (!asid) {
        page_free(s);
        if (vmcb_pa)
            frames_free(vmcb_pa, PAGE_SIZE);
        return -ENOMEM;
    }
    s->vmcb_pa = vmcb_pa;
    s->vmcb = phys_to_virt(vmcb_pa);
    v->vendor = s;

    set_intercepts(s->vmcb);
    s->vmcb->guest_asid = asid;
    s->vmcb->tlb_control = TLB_CONTROL_FLUSH_ASID;
    s->vmcb->np_enable = NP_ENABLE;
    s->vmcb->n_cr3 = v->dom->p2m.root;
    if (v->dom->nr_vcpus > 1) {
        s->vmcb->intercept_misc1 |= INTERCEPT_PAUSE;
        s->vmcb->pause_filter_count = PAUSE_FILTER_COUNT;
    }
    return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = v->vendor;

    if (!s)
        return;
    hvm_tag_free(s->vmcb->guest_asid);
    frames_free(s->vmcb_pa, PAGE_SIZE);
    page_free(s);
    v->vendor = NULL;
}

static uint64_t next_rip(const struct vmcb *vmcb, unsigned fixed_len)
{
    return have_nrips && vmcb->next_rip ? vmcb->next_rip : vmcb->rip + fixed_len;
}

static void decode_ioio(const struct vmcb *vmcb, struct vm_exit *exit)
{
    uint64_t info = vmcb->exitinfo1;

    exit->reason = EXIT_IO;
    exit->io.port = (uint16_t)(info >> IOIO_PORT_SHIFT);
    exit->io.bytes = (info >> IOIO_SIZE_SHIFT) & 1 ? 1 : (info >> IOIO_SIZE_SHIFT) & 2 ? 2 : 4;
    exit->io.in = info & IOIO_IN;
    exit->io.string = info & IOIO_STRING;
    exit->io.rep = info & IOIO_REP;
    exit->next_rip = vmcb->exitinfo2;   /* IOIO always reports it (APM 15.10.2) */
}

static void decode_npf(const struct vmcb *vmcb, struct vm_exit *exit)
{
    uint64_t err = vmcb->exitinfo1;

    exit->reason = EXIT_NPF;
    exit->npf.gpa = vmcb->exitinfo2;
    exit->npf.access = err & NPF_WRITE ? P2M_WRITE : err & NPF_FETCH ? P2M_EXEC : P2M_READ;
    exit->npf.present = err & NPF_PRESENT;
}

/*
 * MOV to CR4 (the only CR write intercepted). With decode assists EXITINFO1
 * names the register; without them (QEMU) common code matches the fixed
 * encoding at RIP, which gives the length too when next-RIP is not saved.
 */
static void decode_cr_write(const struct vmcb *vmcb, unsigned cr, struct vm_exit *exit)
{
    exit->reason = EXIT_CR_WRITE;
    exit->cr.cr = (uint8_t)cr;
    exit->cr.gpr = CR_GPR_UNKNOWN;
    if (have_decode_assists && (vmcb->exitinfo1 & CR_EXITINFO_MOV))
        exit->cr.gpr = vmcb->exitinfo1 & CR_EXITINFO_GPR_MASK;
    exit->next_rip = have_nrips && vmcb->next_rip ? vmcb->next_rip : NEXT_RIP_UNKNOWN;
}

/* Exits with nothing to decode: their reason, and the length of the instruction behind them (0: none). */
static const struct {
    uint16_t code;
    uint8_t reason, len;
} plain_exits[] = {
    { VMEXIT_CPUID, EXIT_CPUID, LEN_CPUID }, { VMEXIT_HLT, EXIT_HLT, LEN_HLT },
    { VMEXIT_VMMCALL, EXIT_HYPERCALL, LEN_VMMCALL }, { VMEXIT_PAUSE, EXIT_PAUSE, LEN_PAUSE },
    { VMEXIT_INVD, EXIT_CACHE, LEN_INVD }, { VMEXIT_WBINVD, EXIT_CACHE, LEN_INVD },
    { VMEXIT_RDPMC, EXIT_RDPMC, 0 }, { VMEXIT_SHUTDOWN, EXIT_TRIPLE_FAULT, 0 },
    { VMEXIT_INTR, EXIT_INTR, 0 }, { VMEXIT_NMI, EXIT_INTR, 0 }, { VMEXIT_SMI, EXIT_INTR, 0 },
    { VMEXIT_INIT, EXIT_INTR, 0 }, { VMEXIT_VINTR, EXIT_INTR_WINDOW, 0 },
    { VMEXIT_IRET, EXIT_INTR_WINDOW, 0 },
    { VMEXIT_VMRUN, EXIT_VIRT_INSN, 0 }, { VMEXIT_VMLOAD, EXIT_VIRT_INSN, 0 },
    { VMEXIT_VMSAVE, EXIT_VIRT_INSN, 0 }, { VMEXIT_STGI, EXIT_VIRT_INSN, 0 },
    { VMEXIT_CLGI, EXIT_VIRT_INSN, 0 }, { VMEXIT_SKINIT, EXIT_VIRT_INSN, 0 },
    { VMEXIT_INVLPGA, EXIT_VIRT_INSN, 0 }, { VMEXIT_MONITOR, EXIT_VIRT_INSN, 0 },
    { VMEXIT_MWAIT, EXIT_VIRT_INSN, 0 }, { VMEXIT_MWAIT_ARMED, EXIT_VIRT_INSN, 0 },
};

static bool decode_plain(const struct vmcb *vmcb, uint64_t code, struct vm_exit *exit)
{
    for (unsigned i = 0; i < sizeof(plain_exits) / sizeof(plain_exits[0]); i++) {
        if (code != plain_exits[i].code)
            continue;
        exit->reason = (enum exit_reason)plain_exits[i].reason;
        if (plain_exits[i].len)
            exit->next_rip = next_rip(vmcb, plain_exits[i].len);
        return true;
    }
    return false;
}

static void decode_exit(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *exit)
{
    uint64_t code = vmcb->exitcode;

    *exit = (struct vm_exit){ .hw_reason = code, .hw_qual = vmcb->exitinfo1 };
    switch (code) {
    case VMEXIT_MSR:
        exit->reason = vmcb->exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        exit->msr.index = (uint32_t)v->regs.rcx;
        exit->msr.value = edx_eax_combine(v->regs.rdx, v->regs.rax);
        exit->next_rip = next_rip(vmcb, LEN_MSR);
        break;
    case VMEXIT_XSETBV:
        exit->reason = EXIT_XSETBV;
        exit->xsetbv.index = (uint32_t)v->regs.rcx;
        exit->xsetbv.value = edx_eax_combine(v->regs.rdx, v->regs.rax);
        exit->next_rip = next_rip(vmcb, LEN_XSETBV);
        break;
    case VMEXIT_CR0_WRITE + 4:
        decode_cr_write(vmcb, 4, exit);
        break;
    case VMEXIT_IOIO:
        decode_ioio(vmcb, exit);
        break;
    case VMEXIT_NPF:
        decode_npf(vmcb, exit);
        break;
    case VMEXIT_INVALID:
        exit->reason = EXIT_INVALID_STATE;
        break;
    default:
        if (decode_plain(vmcb, code, exit))
            break;
        if (code == VMEXIT_EXCEPTION_BASE + X86_EXC_MC) {
            exit->reason = EXIT_MACHINE_CHECK;
        } else if (code >= VMEXIT_EXCEPTION_BASE && code < VMEXIT_EXCEPTION_BASE + 32) {
            exit->reason = EXIT_EXCEPTION;
            exit->exception.vector = (uint8_t)(code - VMEXIT_EXCEPTION_BASE);
            exit->exception.has_error = exit->exception.vector == X86_EXC_GP ||
                                        exit->exception.vector == X86_EXC_PF;
            exit->exception.error = (uint32_t)vmcb->exitinfo1;
        } else {
            exit->reason = EXIT_UNEXPECTED;
        }
    }
}

/*
 * External interrupts go in as the guest's virtual interrupt (V_IRQ), which the
 * CPU itself takes once RFLAGS.IF and the interrupt shadow allow, not through
 * EVENTINJ. QEMU's SVM (7.2 to 10.0) leaves an EVENTINJ interrupt's vector behind
 * as a pending exception and delivers it again, whatever the guest's IF, when its
 * CPU thread is next kicked: Linux then took its event upcall inside code holding
 * a spinlock with interrupts off (docs/testing.md, quirks). One V_IRQ
 * is pending at most; the VINTR intercept tells the interrupt window's dummy apart.
 */
static bool irq_queued(const struct vmcb *vmcb)
{
    return (vmcb->vintr & VINTR_V_IRQ) && !(vmcb->intercept_misc1 & INTERCEPT_VINTR);
}

static void queue_irq(struct vmcb *vmcb, uint8_t vector)
{
    vmcb->vintr = (vmcb->vintr & ~VINTR_VECTOR_MASK) | VINTR_V_IRQ | VINTR_PRIO_MAX |
                  VINTR_IGN_TPR | (uint64_t)vector << VINTR_VECTOR_SHIFT;
    vmcb->intercept_misc1 &= ~(INTERCEPT_VINTR | INTERCEPT_IRET);
}

/*
 * An event cut short by this exit is delivered again on the next entry; an
 * interrupt as a V_IRQ again. QEMU reports a cut-short V_IRQ as an exception,
 * and no exception has a vector above 31.
 */
static void requeue_cut_short(struct vmcb *vmcb)
{
    uint64_t ev = vmcb->exitintinfo, type = ev & EVENTINJ_TYPE_MASK;
    bool interrupt = type == EVENTINJ_TYPE_INTR ||
                     (type == EVENTINJ_TYPE_EXCEPTION && (uint8_t)ev >= 32);

    if ((ev & EVENTINJ_VALID) && interrupt)
        queue_irq(vmcb, (uint8_t)ev);
    else if (ev & EVENTINJ_VALID)
        vmcb->eventinj = ev;
}

static void drop_stale_shadow(struct vcpu *v, struct vmcb *vmcb);

static void svm_run(struct vcpu *v, struct vm_exit *exit)
{
    struct svm_vcpu *s = v->vendor;
    struct vmcb *vmcb = s->vmcb;

    drop_stale_shadow(v, vmcb);
    vmcb->rax = v->regs.rax;
    vmcb->rsp = v->regs.rsp;
    vmcb->rip = v->regs.rip;
    vmcb->rflags = v->regs.rflags;

    spec_ctrl_enter_guest(v->dom);
    svm_vmrun(s->vmcb_pa, &v->regs, host_vmcb_pa[this_cpu_id()]);

    vmcb->tlb_control = 0;
    vmcb->eventinj = 0;
    v->regs.rax = vmcb->rax;
    v->regs.rsp = vmcb->rsp;
    v->regs.rip = vmcb->rip;
    v->regs.rflags = vmcb->rflags;
    requeue_cut_short(vmcb);
    decode_exit(v, vmcb, exit);
}

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    uint64_t ev = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | vector;

    if (has_error)
        ev |= EVENTINJ_ERR_VALID | ((uint64_t)error << 32);
    vmcb_of(v)->eventinj = ev;
}

/*
 * The STI/MOV SS shadow covers one instruction: once common code has moved
 * RIP past the exiting one (HLT after STI), it is over (APM vol 2, 15.21.5).
 */
static void drop_stale_shadow(struct vcpu *v, struct vmcb *vmcb)
{
    if (vmcb->rip != v->regs.rip)
        vmcb->interrupt_shadow &= ~INTERRUPT_SHADOW;
}

static bool svm_can_inject(struct vcpu *v, bool nmi)
{
    struct vmcb *vmcb = vmcb_of(v);

    if ((vmcb->eventinj & EVENTINJ_VALID) || (!nmi && irq_queued(vmcb)))
        return false;
    drop_stale_shadow(v, vmcb);
    return nmi || ((v->regs.rflags & X86_RFLAGS_IF) && !(vmcb->interrupt_shadow & INTERRUPT_SHADOW));
}

static void svm_inject_interrupt(struct vcpu *v, uint8_t vector)
{
    queue_irq(vmcb_of(v), vector);
}

static void svm_inject_nmi(struct vcpu *v)
{
    vmcb_of(v)->eventinj = EVENTINJ_VALID | EVENTINJ_TYPE_NMI | 2;
}

/*
 * A dummy virtual interrupt (V_IRQ) with the VINTR intercept exits once the guest
 * can take one. Behind a queued interrupt, which goes first, exit instead at the
 * IRET that ends its handler (before it runs), and open the window then.
 */
static void svm_interrupt_window(struct vcpu *v, bool enable)
{
    struct vmcb *vmcb = vmcb_of(v);

    if (irq_queued(vmcb)) {
        vmcb->intercept_misc1 &= ~INTERCEPT_IRET;
        vmcb->intercept_misc1 |= enable ? INTERCEPT_IRET : 0;
        return;
    }
    vmcb->vintr &= ~VINTR_V_IRQ;
    vmcb->intercept_misc1 &= ~(INTERCEPT_VINTR | INTERCEPT_IRET);
    if (enable) {
        queue_irq(vmcb, 0);                 /* a dummy, which the intercept turns into an exit */
        vmcb->intercept_misc1 |= INTERCEPT_VINTR;
    }
}

static void load_seg(struct vmcb_seg *s, const struct seg_reg *r)
{
    *s = (struct vmcb_seg){ .selector = r->sel, .attrib = r->attrib, .limit = r->limit,
                            .base = r->base };
}

static void load_table(struct vmcb_seg *s, const struct desc_table_reg *r)
{
    *s = (struct vmcb_seg){ .limit = r->limit, .base = r->base };
}

/* The VMCB takes segments in the context's own packing (APM vol 2, 15.5.1). */
static bool svm_load_context(struct vcpu *v, const struct vcpu_context *c)
{
    struct vmcb *vmcb = vmcb_of(v);

    load_seg(&vmcb->cs, &c->cs);
    load_seg(&vmcb->ds, &c->ds);
    load_seg(&vmcb->es, &c->es);
    load_seg(&vmcb->ss, &c->ss);
    load_seg(&vmcb->fs, &c->fs);
    load_seg(&vmcb->gs, &c->gs);
    load_seg(&vmcb->tr, &c->tr);
    load_seg(&vmcb->ldtr, &c->ldtr);
    load_table(&vmcb->gdtr, &c->gdtr);
    load_table(&vmcb->idtr, &c->idtr);
    vmcb->cpl = (uint8_t)((c->ss.attrib & SEG_DPL_MASK) >> SEG_DPL_SHIFT);
    vmcb->cr0 = c->cr0;
    vmcb->cr3 = c->cr3;
    vmcb->cr4 = c->cr4;
    vmcb->efer = c->efer | EFER_SVME;   /* required while in guest mode; hidden from reads */
    vmcb->dr6 = DR6_DEFAULT;
    vmcb->dr7 = DR7_DEFAULT;
    vmcb->g_pat = GUEST_PAT_DEFAULT;
    vmcb->eventinj = 0;
    vmcb->interrupt_shadow = 0;
    vmcb->vintr &= ~VINTR_V_IRQ;        /* no queued interrupt: the window below then clears */
    svm_interrupt_window(v, false);
    vmcb->tlb_control = TLB_CONTROL_FLUSH_ASID;
    v->regs = c->regs;
    vmcb->rip = v->regs.rip;
    vmcb->rsp = v->regs.rsp;
    vmcb->rflags = v->regs.rflags;
    return true;
}

static void svm_get_ctrl_regs(struct vcpu *v, struct vcpu_ctrl_regs *out)
{
    const struct vmcb *vmcb = vmcb_of(v);

    out->cr0 = vmcb->cr0;
    out->cr3 = vmcb->cr3;
    out->cr4 = vmcb->cr4;
    out->efer = vmcb->efer & ~EFER_SVME;
    out->cpl = vmcb->cpl;
    out->cs_base = vmcb->cs.base;
    if ((vmcb->efer & EFER_LMA) && (vmcb->cs.attrib & SEG_L))
        out->mode_bits = 64;
    else
        out->mode_bits = vmcb->cs.attrib & SEG_DB ? 32 : 16;
}

static uint64_t svm_get_efer(struct vcpu *v) { return vmcb_of(v)->efer & ~EFER_SVME; }
static void svm_set_efer(struct vcpu *v, uint64_t efer) { vmcb_of(v)->efer = efer | EFER_SVME; }
static uint64_t svm_get_pat(struct vcpu *v) { return vmcb_of(v)->g_pat; }
static void svm_set_pat(struct vcpu *v, uint64_t pat) { vmcb_of(v)->g_pat = pat; }

/*
 * Applies a checked MOV to CR4. The CPU would flush the guest's TLB for
 * changes of PGE, PAE, PSE, PCIDE or SMEP (APM vol 2, 5.5.2); a flush of the
 * guest's ASID covers all of them. CR0 writes do not exit on SVM.
 */
static bool svm_write_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
    struct vmcb *vmcb = vmcb_of(v);

    if (cr != 4)
        return false;
    vmcb->cr4 = value;
    vmcb->tlb_control = TLB_CONTROL_FLUSH_ASID;
    return true;
}

static void svm_flush_tlb(struct vcpu *v)
{
    vmcb_of(v)->tlb_control = TLB_CONTROL_FLUSH_ASID;
}

static void dump_seg(const char *name, const struct vmcb_seg *s)
{
    log_error("  %-4s sel %04x attr %04x limit %08x base %016lx", name, s->selector, s->attrib,
              s->limit, s->base);
}

static void svm_dump(struct vcpu *v)
{
    const struct vmcb *vmcb = vmcb_of(v);

    log_error("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx", vmcb->cr0, vmcb->cr2, vmcb->cr3,
              vmcb->cr4);
    log_error("  efer %016lx cpl %u exitcode 0x%lx exitinfo1 0x%lx exitinfo2 0x%lx",
              vmcb->efer, vmcb->cpl, vmcb->exitcode, vmcb->exitinfo1, vmcb->exitinfo2);
    log_error("  exitintinfo 0x%lx eventinj 0x%lx", vmcb->exitintinfo, vmcb->eventinj);
    dump_seg("cs", &vmcb->cs);
    dump_seg("ss", &vmcb->ss);
    dump_seg("ds", &vmcb->ds);
    dump_seg("tr", &vmcb->tr);
    dump_seg("gdtr", &vmcb->gdtr);
    dump_seg("idtr", &vmcb->idtr);
}

const struct hvm_ops svm_ops = {
    .name = "AMD SVM + NPT",
    .p2m_format = &npt_format,
    .hypercall_insn = { 0x0f, 0x01, 0xd9 },         /* VMMCALL */
    .other_hypercall_insn = { 0x0f, 0x01, 0xc1 },   /* VMCALL */
    .cpu_enable = svm_cpu_enable,
    .vcpu_init = svm_vcpu_init,
    .vcpu_destroy = svm_vcpu_destroy,
    .run = svm_run,
    .inject_exception = svm_inject_exception,
    .can_inject = svm_can_inject,
    .inject_interrupt = svm_inject_interrupt,
    .inject_nmi = svm_inject_nmi,
    .interrupt_window = svm_interrupt_window,
    .load_context = svm_load_context,
    .get_ctrl_regs = svm_get_ctrl_regs,
    .get_efer = svm_get_efer,
    .set_efer = svm_set_efer,
    .get_pat = svm_get_pat,
    .set_pat = svm_set_pat,
    .write_cr = svm_write_cr,
    .flush_tlb = svm_flush_tlb,
    .dump = svm_dump,
};
