/* hvm.c (hypervisor): binding the vendor backend and the common handling of every VM exit. */
#include "env.h"
#include "apic.h"
#include "cpu_rules.h"
#include "domain.h"
#include "exit.h"
#include "fpu.h"
#include "irq.h"
#include "mce.h"
#include "percpu.h"
#include "sched.h"
#include "guest_access.h"
#include "printk.h"
#include "x86.h"

const struct hvm_ops *hvm;

const char *const exit_reason_names[NR_EXIT_REASONS] = {
#define X(name, text) [EXIT_##name] = text,
    EXIT_REASONS(X)
#undef X
};

const char *const guest_intercept_names[NR_GUEST_INTERCEPTS] = {
#define X(name, text) [GI_##name] = text,
    GUEST_INTERCEPTS(X)
#undef X
};

/*
 * Tags in use, a bit each (0 is the host's): SVM's ASIDs or VMX's VPIDs, one per vCPU,
 * the same on every pCPU; under hv_lock. A machine has one backend, so one map.
 */
#define MAX_TAGS 65536
static uint64_t tags_used[MAX_TAGS / 64];

uint32_t hvm_tag_alloc(uint32_t limit)
{
    for (uint32_t t = 1; t < limit && t < MAX_TAGS; t++) {
        if (!(tags_used[t / 64] >> (t % 64) & 1)) {
            tags_used[t / 64] |= 1ull << (t % 64);
            return t;
        }
    }
    return 0;
}

void hvm_tag_free(uint32_t t)
{
    if (t && t < MAX_TAGS)
        tags_used[t / 64] &= ~(1ull << (t % 64));
}

bool hvm_select(void)
{
    static const struct {
        bool (*available)(const char **why);
        const struct hvm_ops *ops;
    } backends[] = { { svm_available, &svm_ops }, { vmx_available, &vmx_ops } };

    for (unsigned i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        const char *why = "not supported";

        if (backends[i].available(&why)) {
            hvm = backends[i].ops;
            return true;
        }
        log_info("%s: %s", backends[i].ops->name, why);
    }
    return false;
}

uint64_t *regs_gpr(struct cpu_regs *regs, unsigned index)
{
    /* Hardware register numbering (SDM vol 2, table 2-2) to our field order. */
    switch (index & 15) {
    case 0: return &regs->rax;
    case 1: return &regs->rcx;
    case 2: return &regs->rdx;
    case 3: return &regs->rbx;
    case 4: return &regs->rsp;
    case 5: return &regs->rbp;
    case 6: return &regs->rsi;
    case 7: return &regs->rdi;
    case 8: return &regs->r8;
    case 9: return &regs->r9;
    case 10: return &regs->r10;
    case 11: return &regs->r11;
    case 12: return &regs->r12;
    case 13: return &regs->r13;
    case 14: return &regs->r14;
    default: return &regs->r15;
    }
}

#define READ_DR(n) ({ uint64_t v_; __asm__ volatile("mov %%db" #n ", %0" : "=r"(v_)); v_; })
#define WRITE_DR(n, x) __asm__ volatile("mov %0, %%db" #n :: "r"((uint64_t)(x)))

/*
 * Neither the VMCB nor the VMCS holds DR0-DR3 (nor DR6 on VMX): what a guest
 * writes stays in the CPU, where the next guest could read it. Each vCPU has
 * its own copy, switched when another vCPU takes the pCPU; the hypervisor
 * never uses them itself, so the guest's values may stay loaded meanwhile.
 */
void debug_regs_switch_to(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *prev = cpu->dr_owner;

    if (prev == v)
        return;
    if (prev) {
        prev->dr[0] = READ_DR(0);
        prev->dr[1] = READ_DR(1);
        prev->dr[2] = READ_DR(2);
        prev->dr[3] = READ_DR(3);
        prev->dr6 = READ_DR(6);
    }
    WRITE_DR(0, v->dr[0]);
    WRITE_DR(1, v->dr[1]);
    WRITE_DR(2, v->dr[2]);
    WRITE_DR(3, v->dr[3]);
    WRITE_DR(6, v->dr6);
    cpu->dr_owner = v;
}

void debug_regs_forget(struct vcpu *v)
{
    if (this_cpu()->dr_owner == v)
        this_cpu()->dr_owner = NULL;
}

/* Hands back what this pCPU holds of v's state, so that another pCPU may run or free it. */
void vcpu_leave_cpu(struct vcpu *v)
{
    if (this_cpu()->dr_owner == v) {
        v->dr[0] = READ_DR(0);
        v->dr[1] = READ_DR(1);
        v->dr[2] = READ_DR(2);
        v->dr[3] = READ_DR(3);
        v->dr6 = READ_DR(6);
        this_cpu()->dr_owner = NULL;
    }
    fpu_release(v);
    if (hvm->vcpu_unload)
        hvm->vcpu_unload(v);
    v->loaded = false;
}

void inject_gp(struct vcpu *v)
{
    hvm->inject_exception(v, X86_EXC_GP, true, 0);
}

static void advance(struct vcpu *v, const struct vm_exit *exit)
{
    v->regs.rip = exit->next_rip;
}

static enum exit_action on_cpuid(struct vcpu *v, const struct vm_exit *exit)
{
    struct cpuid_regs r;

    cpuid_policy(v, (uint32_t)v->regs.rax, (uint32_t)v->regs.rcx, &r);
    v->regs.rax = r.eax;
    v->regs.rbx = r.ebx;
    v->regs.rcx = r.ecx;
    v->regs.rdx = r.edx;
    advance(v, exit);
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_msr_read(struct vcpu *v, const struct vm_exit *exit)
{
    uint64_t value;

    if (!msr_read(v, exit->msr.index, &value)) {
        inject_gp(v);
        return EXIT_ACTION_RESUME;
    }
    v->regs.rax = (uint32_t)value;
    v->regs.rdx = value >> 32;
    advance(v, exit);
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_msr_write(struct vcpu *v, const struct vm_exit *exit)
{
    if (!msr_write(v, exit->msr.index, exit->msr.value)) {
        inject_gp(v);
        return EXIT_ACTION_RESUME;
    }
    advance(v, exit);
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_hlt(struct vcpu *v, const struct vm_exit *exit)
{
    advance(v, exit);
    /* HLT with interrupts off can never wake up: on the last vCPU it is a poweroff. */
    if (!(v->regs.rflags & X86_RFLAGS_IF)) {
        vcpu_stop(v, "halted with interrupts off");
        return EXIT_ACTION_RESCHEDULE;
    }
    /* Idle is native "sti; hlt": sleep until an interrupt can be taken. */
    if (vcpu_interrupt_pending(v))
        return EXIT_ACTION_RESUME;
    vcpu_block(v, WAIT_INTERRUPT);
    return EXIT_ACTION_RESCHEDULE;
}

static enum exit_action on_hypercall(struct vcpu *v, const struct vm_exit *exit)
{
    advance(v, exit);
    return hypercall_dispatch(v);
}

#define DEBUG_PORT_E9 0xe9   /* Bochs/QEMU "debugcon" convention: a byte written here is printed */
#define PIT_FIRST_PORT 0x40
#define PIT_LAST_PORT  0x43

#define PCI_CONFIG_ADDRESS_PORT 0xcf8

/*
 * No device emulation: every port is empty, as on a machine with nothing
 * plugged in. Writes vanish; reads return all ones (so Linux finds no PIC),
 * except the PIT's, which read 0: Linux's quick PIT calibration gives up at
 * once on 0 but spins for 100,000 reads on 0xff. Port 0xE9 prints a byte.
 * Port 0xCF8, as a dword, keeps what was written: Linux then finds PCI
 * configuration mechanism 1 with an empty bus (0xCFC reads all ones), and
 * only with PCI does it reserve the legacy-pmem ranges the service domain's
 * disks are (e820__reserve_resources_late, from pcibios_resource_survey).
 * String forms would need the instruction decoded: they fault.
 */
static enum exit_action on_io(struct vcpu *v, const struct vm_exit *exit)
{
    uint16_t port = exit->io.port;
    bool config_address = port == PCI_CONFIG_ADDRESS_PORT && exit->io.bytes == 4;

    if (exit->io.string) {
        inject_gp(v);
        return EXIT_ACTION_RESUME;
    }
    if (!exit->io.in) {
        if (port == DEBUG_PORT_E9 && exit->io.bytes == 1) {
            char c = (char)v->regs.rax;

            domain_console_write(v->dom, &c, 1);
        } else if (config_address) {
            v->dom->pci_config_address = (uint32_t)v->regs.rax;
        }
    } else {
        uint64_t mask = exit->io.bytes == 4 ? 0xffffffffull : exit->io.bytes == 2 ? 0xffff : 0xff;
        uint64_t value = port >= PIT_FIRST_PORT && port <= PIT_LAST_PORT ? 0 :
                         config_address ? v->dom->pci_config_address : mask;

        /* A 32-bit IN zero-extends into RAX; narrower ones keep the upper bits. */
        v->regs.rax = exit->io.bytes == 4 ? value : (v->regs.rax & ~mask) | value;
    }
    advance(v, exit);
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_xsetbv(struct vcpu *v, const struct vm_exit *exit)
{
    struct cpuid_regs xstate;

    /* The components this vCPU's CPUID offers (SDM vol 1, 13.2), which the host supports. */
    cpuid_policy(v, 0xd, 0, &xstate);
    if (!xcr0_valid(exit->xsetbv.index, exit->xsetbv.value,
                    edx_eax_combine(xstate.edx, xstate.eax))) {
        inject_gp(v);
        return EXIT_ACTION_RESUME;
    }
    v->xcr0 = exit->xsetbv.value;
    xsetbv(0, v->xcr0);
    advance(v, exit);
    return EXIT_ACTION_RESUME;
}

/*
 * INVD would drop dirty cache lines, including the hypervisor's and other
 * guests'; WBINVD is a long uninterruptible flush that no device of ours
 * needs (nothing does DMA into guest memory behind the caches). Both are
 * no-ops, as Xen makes them for a domain without passed-through devices.
 */
static enum exit_action on_cache(struct vcpu *v, const struct vm_exit *exit)
{
    advance(v, exit);
    return EXIT_ACTION_RESUME;
}

/* CPUID offers no performance counters (leaf 0xA is empty): every counter index is invalid. */
static enum exit_action on_rdpmc(struct vcpu *v, const struct vm_exit *exit)
{
    inject_gp(v);
    return EXIT_ACTION_RESUME;
}

/*
 * 64-bit kernels link their code in the top 2 GiB of the address space (Linux's
 * and most unikernels' -mcmodel=kernel), so words there on the stack are most
 * likely return addresses: a backtrace for `nm -n vmlinux` to read.
 */
#define KERNEL_TEXT_BASE    0xffffffff80000000ull
#define KERNEL_HALF         0xffff800000000000ull
#define STACK_WORDS_READ    256
#define STACK_WORDS_SHOWN   12

/*
 * A vCPU spinning on a lock has the lock's address in its first argument
 * register (queued_spin_lock_slowpath(lock, val)): the lock word, and its
 * neighbours, say who holds it or what overwrote it.
 */
static void log_words_at_rdi(struct vcpu *v, const struct guest_paging *pg)
{
    uint64_t w[4];

    if (copy_from_guest(&v->dom->mem, pg, w, v->regs.rdi, sizeof(w)) == 0)
        log_error("  [rdi]: %016lx %016lx %016lx %016lx", w[0], w[1], w[2], w[3]);
}

/*
 * Interrupt frames say what an interrupt stopped: its RIP and whether that
 * code had interrupts on. A ring-0 frame in 64-bit mode is RIP, CS, RFLAGS,
 * RSP, SS (SDM vol 3, 6.14.2). A kernel that takes interrupts on a stack of
 * their own (Linux's IRQ stack) keeps the interrupted stack pointer there, and
 * the frame lies a little above that: so every word of this stack that points
 * elsewhere is tried as such a pointer, and the frames found there are shown.
 */
#define STACK_SCAN_BYTES    16384ull
#define SAVED_SP_SCAN_BYTES 512ull
#define FRAMES_SHOWN        4

static bool canonical(uint64_t a)
{
    return (int64_t)a >> 47 == 0 || (int64_t)a >> 47 == -1;
}

static bool is_interrupt_frame(const uint64_t *w)
{
    return w[0] && canonical(w[0]) && w[1] && w[1] < 0x100 && !(w[1] & 3) &&
           (w[2] & X86_RFLAGS_FIXED) && !(w[2] & X86_RFLAGS_RESERVED) && w[3] &&
           canonical(w[3]) && w[4] < 0x10000;
}

/* Logs the interrupt frames in [from, from + bytes); returns how many. */
static unsigned log_frames_in(struct vcpu *v, const struct guest_paging *pg, uint64_t from,
                              uint64_t bytes, unsigned room)
{
    uint64_t w[5];
    unsigned shown = 0;

    for (uint64_t off = 0; off + sizeof(w) <= bytes && shown < room; off += 8) {
        if (copy_from_guest(&v->dom->mem, pg, w, from + off, sizeof(w)))
            break;
        if (is_interrupt_frame(w)) {
            log_error("  interrupt frame at %016lx: rip %016lx rflags %016lx (IF %s) rsp %016lx",
                      from + off, w[0], w[2], w[2] & X86_RFLAGS_IF ? "on" : "OFF", w[3]);
            shown++;
        }
    }
    return shown;
}

static void log_interrupt_frames(struct vcpu *v, const struct guest_paging *pg)
{
    uint64_t rsp = v->regs.rsp, end = rsp + STACK_SCAN_BYTES, w;
    unsigned shown = log_frames_in(v, pg, rsp, STACK_SCAN_BYTES, FRAMES_SHOWN);

    for (uint64_t at = rsp; at < end && shown < FRAMES_SHOWN; at += 8) {
        if (copy_from_guest(&v->dom->mem, pg, &w, at, sizeof(w)))
            break;
        if (w & 7 || !canonical(w) || w < KERNEL_HALF || (w >= rsp && w < end))
            continue;
        unsigned found = log_frames_in(v, pg, w, SAVED_SP_SCAN_BYTES, FRAMES_SHOWN - shown);

        if (found)
            log_error("  (above the stack pointer saved at %016lx)", at);
        shown += found;
    }
}

void hvm_log_stack(struct vcpu *v)
{
    struct vcpu_ctrl_regs cr;
    unsigned shown = 0;

    hvm->get_ctrl_regs(v, &cr);
    if (cr.mode_bits != 64)
        return;
    struct guest_paging pg = guest_paging_from_regs(cr.cr0, cr.cr3, cr.cr4, cr.efer);
    for (unsigned i = 0; i < STACK_WORDS_READ && shown < STACK_WORDS_SHOWN; i++) {
        uint64_t word;

        if (copy_from_guest(&v->dom->mem, &pg, &word, v->regs.rsp + i * 8, sizeof(word)))
            break;
        if (word >= KERNEL_TEXT_BASE) {
            log_error("  stack+0x%x: %016lx", i * 8, word);
            shown++;
        }
    }
    log_words_at_rdi(v, &pg);
    log_interrupt_frames(v, &pg);
}

/* Reads the bytes at the guest's CS:RIP, through its own page tables. */
static bool insn_bytes_at_rip(struct vcpu *v, uint8_t *buf, size_t len)
{
    struct vcpu_ctrl_regs cr;

    hvm->get_ctrl_regs(v, &cr);
    struct guest_paging pg = guest_paging_from_regs(cr.cr0, cr.cr3, cr.cr4, cr.efer);
    /* CS:RIP as a linear address; real mode (an AP's trampoline) has a CS base. */
    uint64_t rip = cr.mode_bits == 64 ? v->regs.rip : (uint32_t)(cr.cs_base + v->regs.rip);

    return copy_from_guest(&v->dom->mem, &pg, buf, rip, len) == 0;
}

/*
 * Without decode assists (QEMU's SVM) a CR write exit does not say which
 * register holds the value or how long the instruction is: the fixed
 * MOV-to-CR encoding at RIP does (cpu_rules.c), the way the #UD path
 * recognises the other vendor's hypercall. Fetched one byte at a time so an
 * instruction ending just before an unmapped page still matches.
 */
static bool cr_write_operand(struct vcpu *v, const struct vm_exit *exit, bool mode64,
                             unsigned *gpr, uint64_t *next_rip)
{
    uint8_t insn[MOV_TO_CR_MAX_LEN];
    unsigned len;

    *gpr = exit->cr.gpr;
    *next_rip = exit->next_rip;
    if (exit->cr.gpr != CR_GPR_UNKNOWN && exit->next_rip != NEXT_RIP_UNKNOWN)
        return true;
    for (size_t n = 1; n <= sizeof(insn); n++) {
        if (!insn_bytes_at_rip(v, insn, n))
            return false;
        if (mov_to_cr_match(insn, n, mode64, exit->cr.cr, gpr, &len)) {
            *next_rip = v->regs.rip + len;
            return true;
        }
    }
    return false;
}

/* The CR4 bits a guest may set are those its CPUID offers; CR0 follows the architecture. */
static bool cr_write_allowed(struct vcpu *v, unsigned cr, uint64_t value,
                             const struct vcpu_ctrl_regs *now)
{
    const struct cr_state s = { now->cr0, now->cr3, now->cr4, now->efer };

    switch (cr) {
    case 0:
        return cr0_write_valid(&s, value);
    case 4:
        return cr4_write_valid(&s, value, cpuid_cr4_valid(v));
    default:
        return false;
    }
}

static enum exit_action on_cr_write(struct vcpu *v, const struct vm_exit *exit)
{
    struct vcpu_ctrl_regs now;
    uint64_t value, next_rip;
    unsigned gpr;

    hvm->get_ctrl_regs(v, &now);
    if (!cr_write_operand(v, exit, now.mode_bits == 64, &gpr, &next_rip)) {
        log_warn("d%u v%u: MOV to CR%u at 0x%lx in an encoding Wisp does not match", v->dom->id,
                 v->id, exit->cr.cr, v->regs.rip);
        return EXIT_ACTION_CRASH;
    }
    value = *regs_gpr(&v->regs, gpr);
    if (now.mode_bits != 64)
        value = (uint32_t)value;        /* outside 64-bit mode the operand is 32 bits */
    if (!cr_write_allowed(v, exit->cr.cr, value, &now) || !hvm->write_cr(v, exit->cr.cr, value)) {
        inject_gp(v);
        return EXIT_ACTION_RESUME;
    }
    v->regs.rip = next_rip;
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_exception(struct vcpu *v, const struct vm_exit *exit)
{
    uint8_t insn[3];

    /*
     * #UD is intercepted for one reason: a guest built for the other vendor
     * issues VMCALL on AMD or VMMCALL on Intel. Three fixed bytes identify it;
     * nothing is decoded.
     */
    if (exit->exception.vector == X86_EXC_UD && insn_bytes_at_rip(v, insn, sizeof(insn)) &&
        !memcmp(insn, hvm->other_hypercall_insn, sizeof(insn))) {
        v->regs.rip += sizeof(insn);
        return hypercall_dispatch(v);
    }
    hvm->inject_exception(v, exit->exception.vector, exit->exception.has_error,
                          exit->exception.error);
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_virt_insn(struct vcpu *v, const struct vm_exit *exit)
{
    /* Nested virtualization is not offered: the instructions do not exist for guests. */
    hvm->inject_exception(v, X86_EXC_UD, false, 0);
    return EXIT_ACTION_RESUME;
}

static enum exit_action on_intr(struct vcpu *v, const struct vm_exit *exit)
{
    host_irq_window();      /* SVM leaves the host interrupt pending: take it now */
    return EXIT_ACTION_RESUME;
}

/*
 * A machine check struck while the guest ran. It is never reflected into the
 * guest: the hypervisor reads the banks and decides (mce.c), as Xen and KVM
 * call their host handler; mce_handle returns only if the error was corrected.
 */
static enum exit_action on_machine_check(struct vcpu *v, const struct vm_exit *exit)
{
    char where[32];

    snprintf(where, sizeof(where), "in d%u v%u", v->dom->id, v->id);
    mce_handle(where);
    return EXIT_ACTION_RESUME;
}

/* A spin-wait (PAUSE) on a vCPU that shares the pCPU: let the others run, one of them holds the lock. */
static enum exit_action on_pause(struct vcpu *v, const struct vm_exit *exit)
{
    advance(v, exit);
    return EXIT_ACTION_RESCHEDULE;
}

static enum exit_action on_intr_window(struct vcpu *v, const struct vm_exit *exit)
{
    return EXIT_ACTION_RESUME;      /* the interrupt goes in on the next entry */
}

static enum exit_action on_fatal(struct vcpu *v, const struct vm_exit *exit)
{
    return EXIT_ACTION_CRASH;
}

static enum exit_action (*const exit_handlers[NR_EXIT_REASONS])(struct vcpu *, const struct vm_exit *) = {
    [EXIT_CPUID] = on_cpuid,
    [EXIT_MSR_READ] = on_msr_read,
    [EXIT_MSR_WRITE] = on_msr_write,
    [EXIT_HLT] = on_hlt,
    [EXIT_HYPERCALL] = on_hypercall,
    [EXIT_NPF] = on_fatal,
    [EXIT_IO] = on_io,
    [EXIT_XSETBV] = on_xsetbv,
    [EXIT_CACHE] = on_cache,
    [EXIT_RDPMC] = on_rdpmc,
    [EXIT_CR_WRITE] = on_cr_write,
    [EXIT_EXCEPTION] = on_exception,
    [EXIT_TRIPLE_FAULT] = on_fatal,
    [EXIT_INTR] = on_intr,
    [EXIT_MACHINE_CHECK] = on_machine_check,
    [EXIT_INTR_WINDOW] = on_intr_window,
    [EXIT_PAUSE] = on_pause,
    [EXIT_VIRT_INSN] = on_virt_insn,
    [EXIT_INVALID_STATE] = on_fatal,
    [EXIT_UNEXPECTED] = on_fatal,
};

static void describe_fatal_exit(const struct vcpu *v, const struct vm_exit *exit, char *buf, size_t n)
{
    if (exit->reason == EXIT_NPF)
        snprintf(buf, n, "nested page fault at guest-physical 0x%lx (%s%s%s)", exit->npf.gpa,
                 exit->npf.access & P2M_READ ? "r" : "", exit->npf.access & P2M_WRITE ? "w" : "",
                 exit->npf.access & P2M_EXEC ? "x" : "");
    else
        snprintf(buf, n, "%s (hardware exit 0x%lx, qualification 0x%lx)",
                 exit_reason_names[exit->reason], exit->hw_reason, exit->hw_qual);
}

enum exit_action handle_exit(struct vcpu *v, const struct vm_exit *exit)
{
    enum exit_reason reason = exit->reason < NR_EXIT_REASONS ? exit->reason : EXIT_UNEXPECTED;
    enum exit_action action;

    v->dom->exit_counts[reason]++;
    action = exit_handlers[reason](v, exit);
    if (action == EXIT_ACTION_CRASH && v->dom->running) {
        char why[160];

        describe_fatal_exit(v, exit, why, sizeof(why));
        domain_crash(v, why);
    }
    return action;
}
