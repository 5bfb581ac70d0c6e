/* vlapic.h (hypervisor, pure): a vCPU's virtual local APIC: registers, interrupt priority logic, timer, x2APIC MSRs and the xAPIC register page. */
#ifndef WISP_VLAPIC_H
#define WISP_VLAPIC_H

#include "env.h"

/*
 * What this module is (semantics from Intel SDM vol 3A, chapter 11 "APIC"):
 * the architectural state of one local APIC and the rules that change it. It
 * performs no I/O and reads no clock: every call that depends on time takes
 * now_ns, the caller's monotonic nanoseconds. What the caller must do as a
 * result of a call (send an IPI, arm or cancel the vCPU's APIC timer, act on
 * an EOI) comes back in a struct vlapic_effects.
 *
 * Interfaces offered to the guest:
 * - x2APIC (SDM 11.12): MSRs 0x800-0x8FF through vlapic_msr_read/write. This
 *   is the full interface, the only one that can send IPIs.
 * - xAPIC without an instruction decoder: the caller maps one 4 KiB host page
 *   per vCPU at guest-physical 0xFEE00000 while the vCPU is in xAPIC mode.
 *   vlapic_page_publish writes the registers into it, vlapic_page_collect
 *   absorbs what the guest wrote. That serves guests that read VERSION/SVR/ID
 *   and write SVR/TPR/LVT/timer/EOI. Not supported through the page: ICR
 *   (IPIs; SMP guests need x2APIC), two EOIs between one collect and the next
 *   count as one, rewriting the timer's initial count with the value it
 *   already holds does not restart the timer, and ESR's write-then-read only
 *   shows errors at the next publish.
 * - IA32_APIC_BASE (MSR 0x1B) through vlapic_get_base/vlapic_set_base.
 *
 * Not offered: TSC-deadline timer mode (CPUID.1:ECX[24] stays clear, so
 * MSR 0x6E0 is the caller's #GP; LVT timer mode 10b is a reserved value),
 * level-triggered interrupts (TMR reads 0), logical destinations for xAPIC
 * targets, lowest-priority arbitration (delivered as fixed), SMI (dropped),
 * relocating the APIC base.
 *
 * Timer clock: the timer counts at a fixed 1 GHz before its divider, so one
 * count lasts `divide` ns and a period is initial_count x divide ns. A
 * periodic timer re-arms no sooner than VLAPIC_PERIODIC_MIN_NS after it
 * fired (its first expiry is as programmed), as in Xen.
 *
 * Suggested use by the caller, per vCPU:
 *   VM exit:  if vlapic_mode() == VLAPIC_XAPIC: vlapic_page_collect(...)
 *             MSR 0x1B / 0x800-0x8FF exits -> vlapic_get_base/set_base,
 *             vlapic_msr_read/write; -EINVAL means inject #GP(0)
 *             APIC timer fires -> vlapic_timer_expired(...)
 *   act on every vlapic_effects filled in (IPI, timer, EOI)
 *   VM entry: v = vlapic_pending_vector(); if v >= 0 and the guest can take
 *             an interrupt: inject v, then vlapic_ack(v)
 *             if vlapic_mode() == VLAPIC_XAPIC: vlapic_page_publish(...)
 * Collect must not run between a state change made by another call
 * (vlapic_init, vlapic_reset_on_init, vlapic_set_base) and the next publish,
 * or it would take the stale page for guest writes.
 */

#define VLAPIC_DEFAULT_BASE      0xFEE00000u  /* SDM 11.4.1: power-up APIC base address */
#define VLAPIC_MSR_APIC_BASE     0x1Bu        /* IA32_APIC_BASE */
#define VLAPIC_MSR_X2APIC_FIRST  0x800u       /* SDM 11.12.1.2: x2APIC MSR range */
#define VLAPIC_MSR_X2APIC_LAST   0x8FFu

/* IA32_APIC_BASE bits (SDM 11.4.4, figure 11-5; 11.12.1 for EXTD). */
#define VLAPIC_BASE_BSP          (1ull << 8)
#define VLAPIC_BASE_EXTD         (1ull << 10)  /* x2APIC mode */
#define VLAPIC_BASE_EN           (1ull << 11)  /* APIC globally enabled */
#define VLAPIC_BASE_ADDR_MASK    0x000FFFFFFFFFF000ull

#define VLAPIC_VERSION           0x00050014u   /* integrated APIC (0x14), max LVT entry 5 */
#define VLAPIC_PAGE_WORDS        1024u         /* the xAPIC page: 4 KiB of 32-bit slots */
#define VLAPIC_PAGE_EOI_SENTINEL 0xFFFFFFFFu   /* published in the EOI slot; any change = EOI */

/*
 * The shortest period of a periodic APIC timer: 100 us, Xen's bound
 * (create_periodic_time in xen/arch/x86/hvm/vpt.c: "Periodic timer must be
 * at least 0.1ms"). KVM has the same kind of floor, min_timer_period_us =
 * 200 by default (arch/x86/kvm/x86.c, applied by lapic.c's
 * limit_periodic_timer_frequency). Without one, initial count 1 at divide 1
 * asks for an interrupt every nanosecond, which no scheduler can serve.
 */
#define VLAPIC_PERIODIC_MIN_NS   100000u

enum vlapic_mode {
    VLAPIC_DISABLED,    /* EN = 0: no interrupts, x2APIC MSRs #GP, no page */
    VLAPIC_XAPIC,       /* EN = 1, EXTD = 0: the register page is mapped */
    VLAPIC_X2APIC,      /* EN = 1, EXTD = 1: MSRs 0x800-0x8FF */
};

/* Local vector table entries (SDM 11.5.1, figure 11-8); indexes of lvt[]. */
enum vlapic_lvt {
    VLAPIC_LVT_TIMER,
    VLAPIC_LVT_THERMAL,
    VLAPIC_LVT_PERF,
    VLAPIC_LVT_LINT0,
    VLAPIC_LVT_LINT1,
    VLAPIC_LVT_ERROR,
    VLAPIC_LVT_CMCI,
    VLAPIC_LVT_COUNT
};

enum vlapic_ipi_kind {
    VLAPIC_IPI_FIXED,       /* set IRR[vector] on the target: vlapic_accept_irq */
    VLAPIC_IPI_NMI,         /* inject an NMI into the target */
    VLAPIC_IPI_INIT,        /* vlapic_reset_on_init + vCPU to wait-for-SIPI */
    VLAPIC_IPI_STARTUP,     /* a waiting target starts at vector << 12, real mode */
};

enum vlapic_shorthand {     /* ICR bits 19:18 (SDM 11.6.1) */
    VLAPIC_DEST_FIELD,      /* the destination field chooses the targets */
    VLAPIC_DEST_SELF,
    VLAPIC_DEST_ALL,        /* all including self */
    VLAPIC_DEST_ALL_BUT_SELF,
};

/* One IPI as decoded from an ICR write; match targets with vlapic_ipi_targets. */
struct vlapic_ipi {
    enum vlapic_ipi_kind kind;
    uint8_t vector;             /* FIXED: the vector; STARTUP: the start page; else 0 */
    enum vlapic_shorthand shorthand;
    bool logical;               /* destination mode: false = physical (APIC ID) */
    uint32_t dest;              /* x2APIC destination, ICR bits 63:32 */
    uint32_t source_id;         /* the sender's APIC ID */
};

enum vlapic_timer_action {
    VLAPIC_TIMER_KEEP,          /* leave the caller's timer as it is */
    VLAPIC_TIMER_ARM,           /* (re)arm it to fire at timer_deadline_ns */
    VLAPIC_TIMER_CANCEL,        /* stop it */
};

/* What a call asks the caller to do. Every function taking one clears it first. */
struct vlapic_effects {
    bool ipi_valid;             /* send fx.ipi */
    struct vlapic_ipi ipi;
    enum vlapic_timer_action timer;
    uint64_t timer_deadline_ns; /* with VLAPIC_TIMER_ARM; may already be past */
    bool eoi;                   /* the guest ended eoi_vector's service */
    uint8_t eoi_vector;
};

/*
 * The state of one local APIC. Embed one per vCPU; the fields are private to
 * vlapic.c (the functions below keep them consistent). Lifetime: the vCPU's;
 * not locked: only the owning vCPU's context may call in.
 */
struct vlapic {
    uint32_t id;                /* x2APIC ID = vCPU id; xAPIC ID is its low byte */
    uint64_t base;              /* IA32_APIC_BASE */
    uint32_t tpr, svr, ldr, dfr;/* ldr/dfr: xAPIC values; x2APIC LDR is derived */
    uint32_t esr;               /* visible ESR: errors latched by the last ESR write */
    uint32_t esr_pending;       /* errors seen since the last ESR write */
    uint32_t irr[8], isr[8], tmr[8];    /* 256 bits each, vector n = word n/32 bit n%32 */
    uint32_t lvt[VLAPIC_LVT_COUNT];
    uint64_t icr;               /* last ICR value written */
    uint32_t timer_initial, timer_divide_reg;
    bool timer_armed;           /* counting down to timer_deadline_ns */
    uint64_t timer_deadline_ns;
};

/* Power-up state (SDM 11.4.7.1): xAPIC mode at 0xFEE00000, BSP bit on the boot vCPU. */
void vlapic_init(struct vlapic *v, uint32_t apic_id, bool bsp);

/*
 * INIT (IPI or signal, SDM 11.4.7.3): registers back to power-up values, but
 * the APIC ID and IA32_APIC_BASE (so also the x2APIC mode) are kept.
 * fx->timer is VLAPIC_TIMER_CANCEL.
 */
void vlapic_reset_on_init(struct vlapic *v, struct vlapic_effects *fx);

enum vlapic_mode vlapic_mode(const struct vlapic *v);

/* IA32_APIC_BASE as RDMSR returns it. */
uint64_t vlapic_get_base(const struct vlapic *v);

/*
 * WRMSR IA32_APIC_BASE. Allowed mode changes (SDM 11.12.5):
 * disabled -> xAPIC, xAPIC -> x2APIC, xAPIC or x2APIC -> disabled, or no
 * change. -EINVAL (the caller injects #GP) for x2APIC -> xAPIC, disabled ->
 * x2APIC, EXTD without EN, reserved bits, or a base address other than
 * 0xFEE00000. The BSP bit written is ignored. Disabling resets the registers
 * as INIT does (fx->timer = CANCEL); the caller maps or unmaps the xAPIC page
 * when vlapic_mode() changes.
 */
int __must_check vlapic_set_base(struct vlapic *v, uint64_t value, struct vlapic_effects *fx);

/*
 * RDMSR of an x2APIC register (0x800-0x8FF). Returns 0 and *value, or
 * -EINVAL for #GP: not in x2APIC mode, a reserved index, or a write-only
 * register (EOI 0x80B, SELF_IPI 0x83F). Current count (0x839) is computed
 * from now_ns.
 */
int __must_check vlapic_msr_read(const struct vlapic *v, uint32_t msr, uint64_t now_ns,
                                 uint64_t *value);

/*
 * WRMSR of an x2APIC register. Returns 0, or -EINVAL for #GP: not in x2APIC
 * mode, a reserved index, a read-only register (ID, VERSION, PPR, LDR,
 * ISR/TMR/IRR, current count), a reserved bit set (bits 63:32 except in ICR),
 * a non-zero write to EOI or ESR, a reserved ICR delivery mode or timer mode.
 * Read-only bits inside LVTs (delivery status, remote IRR) are ignored.
 * Effects: ICR -> fx->ipi (unless the SDM says the message goes nowhere:
 * INIT level de-assert, SMI, a non-fixed self-IPI, or a fixed vector below 16,
 * which sets ESR "send illegal vector"); initial count and divide -> fx->timer;
 * EOI -> fx->eoi when a vector was in service. SELF_IPI sets IRR directly
 * (as vlapic_accept_irq).
 */
int __must_check vlapic_msr_write(struct vlapic *v, uint32_t msr, uint64_t value,
                                  uint64_t now_ns, struct vlapic_effects *fx);

/*
 * Whether `target` receives `ipi`: shorthand against the sender's ID, else
 * physical (ID, or 0xFFFFFFFF for all) or x2APIC logical (cluster in bits
 * 31:16, member bitmap in 15:0; SDM 11.12.10.2). A hardware-disabled APIC
 * receives nothing.
 */
bool vlapic_ipi_targets(const struct vlapic_ipi *ipi, const struct vlapic *target);

/*
 * A fixed interrupt arrives (IPI, LVT source, or an external vector the
 * caller routes through the APIC): sets IRR[vector]. Dropped when the APIC is
 * disabled or software-disabled (SDM 11.4.7.2); vectors 0-15 set ESR
 * "received illegal vector" (SDM 11.5.3) and are dropped.
 */
void vlapic_accept_irq(struct vlapic *v, uint8_t vector);

/*
 * The vector to inject next: the highest IRR vector whose priority class
 * (bits 7:4) is above PPR's (SDM 11.8.3), or -1 if none or the APIC is
 * hardware- or software-disabled.
 */
int vlapic_pending_vector(const struct vlapic *v);

/* The caller injected `vector`: moves it from IRR to ISR. No-op if it is not in IRR. */
void vlapic_ack(struct vlapic *v, uint8_t vector);

/* TPR for a CR8 access (CR8 = TPR bits 7:4; SDM 11.8.6). */
uint8_t vlapic_get_tpr(const struct vlapic *v);
void vlapic_set_tpr(struct vlapic *v, uint8_t tpr);

/*
 * The caller's APIC timer fired. If the count has run out: raises the LVT
 * timer vector (unless masked) and, in periodic mode, fx->timer = ARM at the
 * next period, at least VLAPIC_PERIODIC_MIN_NS long and always after now_ns
 * (missed periods are coalesced into one interrupt). If the call
 * comes early, fx re-arms the same deadline; if the timer was stopped, nothing.
 */
void vlapic_timer_expired(struct vlapic *v, uint64_t now_ns, struct vlapic_effects *fx);

/*
 * Whether the timer's expiry would raise anything new: false when the APIC
 * takes no interrupts, the timer LVT is masked, or its vector is already
 * waiting in IRR. Such an expiry only re-arms the timer; the caller may let
 * it wait for its next look instead of waking up for it.
 */
bool vlapic_timer_expiry_raises(const struct vlapic *v);

/*
 * Writes every xAPIC register at its offset (SDM table 11-1, 16-byte stride)
 * into `page` (VLAPIC_PAGE_WORDS words) and zeroes the rest: ID (bits 31:24),
 * VERSION, TPR, PPR, LDR, DFR, SVR, ISR/TMR/IRR, ESR, ICR, LVTs, initial and
 * current count (as of now_ns), divide, and the EOI sentinel.
 */
void vlapic_page_publish(const struct vlapic *v, uint32_t *page, uint64_t now_ns);

/*
 * Takes the guest's writes from `page` as register writes, in this order:
 * SVR, TPR, LDR, DFR, LVTs, divide, initial count (if changed), ESR (if
 * changed), EOI (if the slot no longer holds the sentinel, which is then
 * restored). Reserved bits are dropped, not faulted. Does nothing outside
 * xAPIC mode. fx as for vlapic_msr_write.
 */
void vlapic_page_collect(struct vlapic *v, uint32_t *page, uint64_t now_ns,
                         struct vlapic_effects *fx);

#endif
