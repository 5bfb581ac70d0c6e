/* vlapic.c (hypervisor, pure): the virtual local APIC: register semantics, priorities, timer, x2APIC MSRs and the xAPIC page (Intel SDM vol 3A ch. 11). */
#include "env.h"
#include "errno.h"
#include "vlapic.h"

/* Register offsets in the xAPIC page (SDM table 11-1); x2APIC MSR = 0x800 + offset / 16. */
#define REG_ID            0x020u
#define REG_VERSION       0x030u
#define REG_TPR           0x080u
#define REG_PPR           0x0A0u
#define REG_EOI           0x0B0u
#define REG_LDR           0x0D0u
#define REG_DFR           0x0E0u    /* xAPIC only */
#define REG_SVR           0x0F0u
#define REG_ISR           0x100u    /* 8 registers, 0x100-0x170 */
#define REG_TMR           0x180u
#define REG_IRR           0x200u
#define REG_ESR           0x280u
#define REG_LVT_CMCI      0x2F0u
#define REG_ICR_LO        0x300u    /* x2APIC: the whole 64-bit ICR */
#define REG_ICR_HI        0x310u    /* xAPIC only */
#define REG_LVT_TIMER     0x320u    /* then thermal, perf, LINT0, LINT1, error */
#define REG_LVT_ERROR     0x370u
#define REG_TIMER_INITIAL 0x380u
#define REG_TIMER_CURRENT 0x390u
#define REG_TIMER_DIVIDE  0x3E0u
#define REG_SELF_IPI      0x3F0u    /* x2APIC only (SDM 11.12.11) */
#define REG_STRIDE        0x10u
#define BITMAP_REGS       8u        /* 256 bits in 32-bit registers */

/* SVR (SDM 11.9, figure 11-23). Bit 12 (EOI-broadcast suppression) is
 * reserved because VERSION bit 24 is clear. */
#define SVR_VECTOR        0x0FFu
#define SVR_ENABLE        (1u << 8)     /* APIC software enable */
#define SVR_FOCUS_OFF     (1u << 9)     /* focus processor checking; stored only */
#define SVR_RESET         0x0FFu        /* SDM 11.4.7.1 */

/* ESR bits (SDM 11.5.3, figure 11-9). */
#define ESR_SEND_ILLEGAL  (1u << 5)
#define ESR_RECV_ILLEGAL  (1u << 6)

/* LVT fields (SDM 11.5.1, figure 11-8). */
#define LVT_VECTOR        0x000FFu
#define LVT_DELIVERY_MODE 0x00700u
#define LVT_STATUS        (1u << 12)    /* read-only: delivery status */
#define LVT_POLARITY      (1u << 13)    /* LINT only */
#define LVT_REMOTE_IRR    (1u << 14)    /* read-only, LINT only */
#define LVT_TRIGGER       (1u << 15)    /* LINT only */
#define LVT_MASK          (1u << 16)
#define LVT_TIMER_MODE_SHIFT 17         /* 2 bits: 00 one-shot, 01 periodic, 10 TSC-deadline */
#define LVT_TIMER_PERIODIC (1u << 17)   /* bit 18 (TSC-deadline) is not offered */
#define LVT_READ_ONLY     (LVT_STATUS | LVT_REMOTE_IRR)

/* Divide configuration: bits 0, 1 and 3 (SDM 11.5.4, figure 11-10). */
#define DIVIDE_BITS       0xBu

/* ICR (SDM 11.6.1, figure 11-12; x2APIC layout SDM 11.12.9). */
#define ICR_VECTOR        0x000FFu
#define ICR_MODE_SHIFT    8
#define ICR_MODE_MASK     0x7u
#define ICR_DEST_LOGICAL  (1u << 11)
#define ICR_LEVEL_ASSERT  (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 0x3u
#define ICR_LOW_WRITABLE  (ICR_VECTOR | (ICR_MODE_MASK << ICR_MODE_SHIFT) | ICR_DEST_LOGICAL | \
                           ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL | \
                           (ICR_SHORTHAND_MASK << ICR_SHORTHAND_SHIFT))
enum icr_mode {
    ICR_MODE_FIXED = 0, ICR_MODE_LOWEST = 1, ICR_MODE_SMI = 2, ICR_MODE_NMI = 4,
    ICR_MODE_INIT = 5, ICR_MODE_STARTUP = 6,    /* 3 and 7 are reserved */
};

#define FIRST_LEGAL_VECTOR 16u          /* 0-15 are illegal (SDM 11.5.2) */
#define X2APIC_BROADCAST   0xFFFFFFFFu  /* SDM 11.12.9 */
#define XAPIC_ID_SHIFT     24           /* xAPIC ID register bits 31:24 */
#define XAPIC_LDR_MASK     0xFF000000u  /* logical APIC ID, bits 31:24 */
#define XAPIC_DFR_FIXED    0x0FFFFFFFu  /* DFR bits 27:0 read as ones */
#define XAPIC_DFR_RESET    0xFFFFFFFFu

static const uint32_t lvt_reg[VLAPIC_LVT_COUNT] = {
    [VLAPIC_LVT_TIMER] = 0x320u, [VLAPIC_LVT_THERMAL] = 0x330u, [VLAPIC_LVT_PERF] = 0x340u,
    [VLAPIC_LVT_LINT0] = 0x350u, [VLAPIC_LVT_LINT1] = 0x360u, [VLAPIC_LVT_ERROR] = 0x370u,
    [VLAPIC_LVT_CMCI] = REG_LVT_CMCI,
};

/* Bits software may set in each LVT (figure 11-8); the rest but LVT_READ_ONLY is reserved. */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
    [VLAPIC_LVT_TIMER] = LVT_VECTOR | LVT_MASK | LVT_TIMER_PERIODIC,
    [VLAPIC_LVT_THERMAL] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASK,
    [VLAPIC_LVT_PERF] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASK,
    [VLAPIC_LVT_LINT0] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_POLARITY | LVT_TRIGGER | LVT_MASK,
    [VLAPIC_LVT_LINT1] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_POLARITY | LVT_TRIGGER | LVT_MASK,
    [VLAPIC_LVT_ERROR] = LVT_VECTOR | LVT_MASK,
    [VLAPIC_LVT_CMCI] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASK,
};

/* ---- small helpers ---- */

static void clear_effects(struct vlapic_effects *fx)
{
    memset(fx, 0, sizeof(*fx));
    fx->timer = VLAPIC_TIMER_KEEP;
}

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void bitmap_set(uint32_t *bits, uint8_t vector)
{
    bits[vector / 32] |= 1u << (vector % 32);
}

static void bitmap_clear(uint32_t *bits, uint8_t vector)
{
    bits[vector / 32] &= ~(1u << (vector % 32));
}

static bool bitmap_test(const uint32_t *bits, uint8_t vector)
{
    return bits[vector / 32] & (1u << (vector % 32));
}

/* The highest vector set, or -1. */
static int bitmap_highest(const uint32_t *bits)
{
    for (int word = BITMAP_REGS - 1; word >= 0; word--) {
        if (bits[word])
            return word * 32 + 31 - __builtin_clz(bits[word]);
    }
    return -1;
}

static int lvt_index(uint32_t reg)
{
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++) {
        if (lvt_reg[i] == reg)
            return i;
    }
    return -1;
}

/*
 * Takes a guest value for a register whose settable bits are `writable`.
 * Strict (x2APIC, SDM 11.12.1.2): a reserved bit is a #GP. Lenient (the
 * xAPIC page, where a store cannot fault): reserved bits are dropped.
 */
static bool accept_bits(uint32_t *value, uint32_t writable, bool strict)
{
    if ((*value & ~writable) && strict)
        return false;
    *value &= writable;
    return true;
}

/* ---- state queries ---- */

enum vlapic_mode vlapic_mode(const struct vlapic *v)
{
    if (!(v->base & VLAPIC_BASE_EN))
        return VLAPIC_DISABLED;
    return (v->base & VLAPIC_BASE_EXTD) ? VLAPIC_X2APIC : VLAPIC_XAPIC;
}

static bool software_enabled(const struct vlapic *v)
{
    return v->svr & SVR_ENABLE;
}

static bool accepts_interrupts(const struct vlapic *v)
{
    return vlapic_mode(v) != VLAPIC_DISABLED && software_enabled(v);
}

/* x2APIC logical ID (SDM 11.12.10.2): cluster = ID[31:4], member bit = ID[3:0]. */
static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xF));
}

static uint32_t ldr_value(const struct vlapic *v)
{
    return vlapic_mode(v) == VLAPIC_X2APIC ? x2apic_ldr(v->id) : v->ldr;
}

/* SDM 11.8.3.1: the task priority, or the in-service class if that is higher. */
static uint32_t ppr_value(const struct vlapic *v)
{
    int isrv = bitmap_highest(v->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;

    return (v->tpr & 0xF0) >= isr_class ? v->tpr : isr_class;
}

/* ---- interrupts ---- */

static void raise_vector(struct vlapic *v, uint8_t vector)
{
    bitmap_set(v->irr, vector);
    bitmap_clear(v->tmr, vector);   /* edge-triggered only */
}

/* An error is detected (SDM 11.5.3): recorded, and signalled through the LVT error entry. */
static void signal_error(struct vlapic *v, uint32_t esr_bit)
{
    uint32_t lvt = v->lvt[VLAPIC_LVT_ERROR];

    v->esr_pending |= esr_bit;
    /* An illegal error vector is not reported again: that would loop. */
    if (!(lvt & LVT_MASK) && accepts_interrupts(v) && (lvt & LVT_VECTOR) >= FIRST_LEGAL_VECTOR)
        raise_vector(v, lvt & LVT_VECTOR);
}

void vlapic_accept_irq(struct vlapic *v, uint8_t vector)
{
    if (!accepts_interrupts(v))
        return;
    if (vector < FIRST_LEGAL_VECTOR) {
        signal_error(v, ESR_RECV_ILLEGAL);
        return;
    }
    raise_vector(v, vector);
}

int vlapic_pending_vector(const struct vlapic *v)
{
    int irrv;

    if (!accepts_interrupts(v))
        return -1;
    irrv = bitmap_highest(v->irr);
    if (irrv < 0 || ((uint32_t)irrv & 0xF0) <= (ppr_value(v) & 0xF0))
        return -1;
    return irrv;
}

void vlapic_ack(struct vlapic *v, uint8_t vector)
{
    if (!bitmap_test(v->irr, vector))
        return;
    bitmap_clear(v->irr, vector);
    bitmap_set(v->isr, vector);
}

/* SDM 11.8.5: EOI ends the highest-priority interrupt in service. */
static void end_of_interrupt(struct vlapic *v, struct vlapic_effects *fx)
{
    int vector = bitmap_highest(v->isr);

    if (vector < 0)
        return;
    bitmap_clear(v->isr, (uint8_t)vector);
    fx->eoi = true;
    fx->eoi_vector = (uint8_t)vector;
}

static void raise_lvt(struct vlapic *v, enum vlapic_lvt which)
{
    if (!(v->lvt[which] & LVT_MASK))
        vlapic_accept_irq(v, v->lvt[which] & LVT_VECTOR);
}

uint8_t vlapic_get_tpr(const struct vlapic *v)
{
    return (uint8_t)v->tpr;
}

void vlapic_set_tpr(struct vlapic *v, uint8_t tpr)
{
    v->tpr = tpr;
}

/* ---- timer (SDM 11.5.4) ---- */

/* Divide configuration bits 3,1,0: 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
static uint64_t timer_divisor(const struct vlapic *v)
{
    uint32_t code = (v->timer_divide_reg & 0x3) | ((v->timer_divide_reg >> 1) & 0x4);

    return 1ull << ((code + 1) & 0x7);
}

static bool timer_periodic(const struct vlapic *v)
{
    return v->lvt[VLAPIC_LVT_TIMER] & LVT_TIMER_PERIODIC;
}

/* One period in ns: the timer counts at 1 GHz / divisor. At most 2^39 ns. */
static uint64_t timer_period_ns(const struct vlapic *v)
{
    return (uint64_t)v->timer_initial * timer_divisor(v);
}

/* How long a periodic count takes to come round again: the period, but at least the floor. */
static uint64_t timer_reload_ns(const struct vlapic *v)
{
    uint64_t period = timer_period_ns(v);

    return period && period < VLAPIC_PERIODIC_MIN_NS ? VLAPIC_PERIODIC_MIN_NS : period;
}

static uint32_t timer_current_count(const struct vlapic *v, uint64_t now_ns)
{
    uint64_t div = timer_divisor(v), reload = timer_reload_ns(v), remaining, count;

    if (!v->timer_armed)
        return 0;
    if (now_ns < v->timer_deadline_ns)
        remaining = v->timer_deadline_ns - now_ns;
    else if (timer_periodic(v) && reload)
        remaining = reload - (now_ns - v->timer_deadline_ns) % reload;  /* reloaded */
    else
        return 0;
    count = (remaining + div - 1) / div;
    return count > v->timer_initial ? v->timer_initial : (uint32_t)count;
}

static void timer_set_initial(struct vlapic *v, uint32_t count, uint64_t now_ns,
                              struct vlapic_effects *fx)
{
    v->timer_initial = count;
    if (!count) {           /* writing 0 stops the timer */
        v->timer_armed = false;
        fx->timer = VLAPIC_TIMER_CANCEL;
        return;
    }
    v->timer_armed = true;
    v->timer_deadline_ns = add_saturating(now_ns, timer_period_ns(v));
    fx->timer = VLAPIC_TIMER_ARM;
    fx->timer_deadline_ns = v->timer_deadline_ns;
}

/* A running count goes on from where it is, at the new rate. */
static void timer_set_divide(struct vlapic *v, uint32_t reg, uint64_t now_ns,
                             struct vlapic_effects *fx)
{
    uint32_t count = timer_current_count(v, now_ns);

    v->timer_divide_reg = reg;
    if (!v->timer_armed || !count)
        return;
    v->timer_deadline_ns = add_saturating(now_ns, (uint64_t)count * timer_divisor(v));
    fx->timer = VLAPIC_TIMER_ARM;
    fx->timer_deadline_ns = v->timer_deadline_ns;
}

void vlapic_timer_expired(struct vlapic *v, uint64_t now_ns, struct vlapic_effects *fx)
{
    uint64_t period = timer_reload_ns(v), missed;

    clear_effects(fx);
    if (!v->timer_armed)
        return;
    if (now_ns < v->timer_deadline_ns) {
        fx->timer = VLAPIC_TIMER_ARM;
        fx->timer_deadline_ns = v->timer_deadline_ns;
        return;
    }
    raise_lvt(v, VLAPIC_LVT_TIMER);
    if (!timer_periodic(v) || !period) {
        v->timer_armed = false;
        return;
    }
    /* missed * period <= now - deadline: no wrap; the result is after now_ns. */
    missed = (now_ns - v->timer_deadline_ns) / period;
    v->timer_deadline_ns = add_saturating(add_saturating(v->timer_deadline_ns, missed * period),
                                          period);
    fx->timer = VLAPIC_TIMER_ARM;
    fx->timer_deadline_ns = v->timer_deadline_ns;
}

bool vlapic_timer_expiry_raises(const struct vlapic *v)
{
    uint32_t lvt = v->lvt[VLAPIC_LVT_TIMER];
    uint8_t vector = lvt & LVT_VECTOR;

    if ((lvt & LVT_MASK) || !accepts_interrupts(v))
        return false;
    /* An illegal vector raises an APIC error each time (vlapic_accept_irq). */
    return vector < FIRST_LEGAL_VECTOR || !bitmap_test(v->irr, vector);
}

/* ---- reset and mode ---- */

/* Power-up register values (SDM 11.4.7.1); ID and base are the caller's. */
static void reset_registers(struct vlapic *v)
{
    v->tpr = 0;
    v->svr = SVR_RESET;
    v->ldr = 0;
    v->dfr = XAPIC_DFR_RESET;
    v->esr = v->esr_pending = 0;
    memset(v->irr, 0, sizeof(v->irr));
    memset(v->isr, 0, sizeof(v->isr));
    memset(v->tmr, 0, sizeof(v->tmr));
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
        v->lvt[i] = LVT_MASK;
    v->icr = 0;
    v->timer_initial = 0;
    v->timer_divide_reg = 0;
    v->timer_armed = false;
    v->timer_deadline_ns = 0;
}

void vlapic_init(struct vlapic *v, uint32_t apic_id, bool bsp)
{
    memset(v, 0, sizeof(*v));
    v->id = apic_id;
    v->base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0);
    reset_registers(v);
}

void vlapic_reset_on_init(struct vlapic *v, struct vlapic_effects *fx)
{
    clear_effects(fx);
    reset_registers(v);
    fx->timer = VLAPIC_TIMER_CANCEL;
}

uint64_t vlapic_get_base(const struct vlapic *v)
{
    return v->base;
}

static enum vlapic_mode mode_of_base(uint64_t base)
{
    if (!(base & VLAPIC_BASE_EN))
        return VLAPIC_DISABLED;
    return (base & VLAPIC_BASE_EXTD) ? VLAPIC_X2APIC : VLAPIC_XAPIC;
}

int vlapic_set_base(struct vlapic *v, uint64_t value, struct vlapic_effects *fx)
{
    const uint64_t defined = VLAPIC_BASE_BSP | VLAPIC_BASE_EXTD | VLAPIC_BASE_EN |
                             VLAPIC_BASE_ADDR_MASK;
    enum vlapic_mode from = vlapic_mode(v), to = mode_of_base(value);

    clear_effects(fx);
    if (value & ~defined)
        return -EINVAL;
    if ((value & VLAPIC_BASE_ADDR_MASK) != VLAPIC_DEFAULT_BASE)
        return -EINVAL;     /* relocation is not offered */
    /* SDM 11.12.5: EXTD without EN is invalid; x2APIC is left only by disabling. */
    if ((value & VLAPIC_BASE_EXTD) && !(value & VLAPIC_BASE_EN))
        return -EINVAL;
    if ((from == VLAPIC_X2APIC && to == VLAPIC_XAPIC) ||
        (from == VLAPIC_DISABLED && to == VLAPIC_X2APIC))
        return -EINVAL;

    v->base = (value & ~VLAPIC_BASE_BSP) | (v->base & VLAPIC_BASE_BSP);
    if (to == VLAPIC_DISABLED && from != VLAPIC_DISABLED) {
        reset_registers(v);
        fx->timer = VLAPIC_TIMER_CANCEL;
    }
    return 0;
}

/* ---- register writes shared by x2APIC MSRs and the xAPIC page ---- */

static void write_svr(struct vlapic *v, uint32_t value)
{
    v->svr = value;
    if (software_enabled(v))
        return;
    /* SDM 11.4.7.2: software-disabled means every LVT entry is masked. */
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
        v->lvt[i] |= LVT_MASK;
}

static int write_lvt(struct vlapic *v, int which, uint32_t value, bool strict)
{
    value &= ~LVT_READ_ONLY;
    if (!accept_bits(&value, lvt_writable[which], strict))
        return -EINVAL;
    if (!software_enabled(v))
        value |= LVT_MASK;  /* the mask cannot be cleared while software-disabled */
    v->lvt[which] = value;
    return 0;
}

/* ESR is write-then-read: a write latches the errors seen since the last one. */
static void write_esr(struct vlapic *v)
{
    v->esr = v->esr_pending;
    v->esr_pending = 0;
}

static int write_register(struct vlapic *v, uint32_t reg, uint32_t value, bool strict,
                          uint64_t now_ns, struct vlapic_effects *fx)
{
    int lvt = lvt_index(reg);

    if (lvt >= 0)
        return write_lvt(v, lvt, value, strict);

    switch (reg) {
    case REG_TPR:
        if (!accept_bits(&value, 0xFF, strict))
            return -EINVAL;
        v->tpr = value;
        return 0;
    case REG_EOI:
        if (value && strict)
            return -EINVAL;     /* SDM 11.12.1.2: x2APIC EOI takes only 0 */
        end_of_interrupt(v, fx);
        return 0;
    case REG_SVR:
        if (!accept_bits(&value, SVR_VECTOR | SVR_ENABLE | SVR_FOCUS_OFF, strict))
            return -EINVAL;
        write_svr(v, value);
        return 0;
    case REG_ESR:
        if (value && strict)
            return -EINVAL;     /* SDM 11.12.1.2: x2APIC ESR takes only 0 */
        write_esr(v);
        return 0;
    case REG_TIMER_INITIAL:
        timer_set_initial(v, value, now_ns, fx);
        return 0;
    case REG_TIMER_DIVIDE:
        if (!accept_bits(&value, DIVIDE_BITS, strict))
            return -EINVAL;
        timer_set_divide(v, value, now_ns, fx);
        return 0;
    default:
        return -EINVAL;         /* read-only or reserved */
    }
}

/* ---- x2APIC MSRs (SDM 11.12.1.2, table 11-6) ---- */

static bool x2apic_msr_reg(const struct vlapic *v, uint32_t msr, uint32_t *reg)
{
    if (vlapic_mode(v) != VLAPIC_X2APIC || msr < VLAPIC_MSR_X2APIC_FIRST ||
        msr > VLAPIC_MSR_X2APIC_LAST)
        return false;
    *reg = (msr - VLAPIC_MSR_X2APIC_FIRST) * REG_STRIDE;
    return true;
}

/* One of 8 consecutive bitmap registers starting at `first`, or -1. */
static int bitmap_reg_index(uint32_t reg, uint32_t first)
{
    if (reg < first || reg >= first + BITMAP_REGS * REG_STRIDE)
        return -1;
    return (int)((reg - first) / REG_STRIDE);
}

int vlapic_msr_read(const struct vlapic *v, uint32_t msr, uint64_t now_ns, uint64_t *value)
{
    uint32_t reg;
    int idx;

    if (!x2apic_msr_reg(v, msr, &reg))
        return -EINVAL;
    if ((idx = lvt_index(reg)) >= 0) {
        *value = v->lvt[idx];
        return 0;
    }
    if ((idx = bitmap_reg_index(reg, REG_ISR)) >= 0) {
        *value = v->isr[idx];
        return 0;
    }
    if ((idx = bitmap_reg_index(reg, REG_TMR)) >= 0) {
        *value = v->tmr[idx];
        return 0;
    }
    if ((idx = bitmap_reg_index(reg, REG_IRR)) >= 0) {
        *value = v->irr[idx];
        return 0;
    }
    switch (reg) {
    case REG_ID:            *value = v->id; return 0;
    case REG_VERSION:       *value = VLAPIC_VERSION; return 0;
    case REG_TPR:           *value = v->tpr; return 0;
    case REG_PPR:           *value = ppr_value(v); return 0;
    case REG_LDR:           *value = ldr_value(v); return 0;
    case REG_SVR:           *value = v->svr; return 0;
    case REG_ESR:           *value = v->esr; return 0;
    case REG_ICR_LO:        *value = v->icr; return 0;
    case REG_TIMER_INITIAL: *value = v->timer_initial; return 0;
    case REG_TIMER_CURRENT: *value = timer_current_count(v, now_ns); return 0;
    case REG_TIMER_DIVIDE:  *value = v->timer_divide_reg; return 0;
    default:                return -EINVAL;    /* EOI, SELF_IPI, reserved */
    }
}

/* Decodes an ICR write into the IPI the caller sends, if any (SDM 11.6.1, 11.12.9). */
static int write_icr(struct vlapic *v, uint64_t value, struct vlapic_effects *fx)
{
    uint32_t low = (uint32_t)value;
    uint32_t mode = (low >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
    struct vlapic_ipi ipi = {
        .vector = low & ICR_VECTOR,
        .shorthand = (enum vlapic_shorthand)((low >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK),
        .logical = low & ICR_DEST_LOGICAL,
        .dest = (uint32_t)(value >> 32),
        .source_id = v->id,
    };

    if (low & ~ICR_LOW_WRITABLE)
        return -EINVAL;
    switch (mode) {
    case ICR_MODE_FIXED:
    case ICR_MODE_LOWEST:       /* no arbitration: every target gets it */
        if (ipi.vector < FIRST_LEGAL_VECTOR) {
            v->icr = value;
            signal_error(v, ESR_SEND_ILLEGAL);
            return 0;
        }
        ipi.kind = VLAPIC_IPI_FIXED;
        break;
    case ICR_MODE_NMI:
        ipi.kind = VLAPIC_IPI_NMI;
        ipi.vector = 0;
        break;
    case ICR_MODE_INIT:
        ipi.kind = VLAPIC_IPI_INIT;
        ipi.vector = 0;
        break;
    case ICR_MODE_STARTUP:
        ipi.kind = VLAPIC_IPI_STARTUP;
        break;
    case ICR_MODE_SMI:
        v->icr = value;
        return 0;               /* no SMM in guests */
    default:
        return -EINVAL;         /* reserved delivery modes 011b and 111b */
    }
    v->icr = value;
    /* INIT level de-assert only resynchronises arbitration IDs: no message. */
    if (ipi.kind == VLAPIC_IPI_INIT && !(low & ICR_LEVEL_ASSERT))
        return 0;
    /* The self shorthand is valid with fixed delivery only (SDM 11.6.1, valid ICR combinations). */
    if (ipi.shorthand == VLAPIC_DEST_SELF && ipi.kind != VLAPIC_IPI_FIXED)
        return 0;
    fx->ipi_valid = true;
    fx->ipi = ipi;
    return 0;
}

int vlapic_msr_write(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now_ns,
                     struct vlapic_effects *fx)
{
    uint32_t reg;

    clear_effects(fx);
    if (!x2apic_msr_reg(v, msr, &reg))
        return -EINVAL;
    if (reg == REG_ICR_LO)
        return write_icr(v, value, fx);
    if (value >> 32)
        return -EINVAL;         /* 32-bit registers: bits 63:32 are reserved */
    if (reg == REG_SELF_IPI) {
        if (value & ~(uint64_t)ICR_VECTOR)
            return -EINVAL;
        vlapic_accept_irq(v, (uint8_t)value);
        return 0;
    }
    return write_register(v, reg, (uint32_t)value, true, now_ns, fx);
}

bool vlapic_ipi_targets(const struct vlapic_ipi *ipi, const struct vlapic *target)
{
    uint32_t ldr;

    if (vlapic_mode(target) == VLAPIC_DISABLED)
        return false;
    switch (ipi->shorthand) {
    case VLAPIC_DEST_SELF:          return target->id == ipi->source_id;
    case VLAPIC_DEST_ALL:           return true;
    case VLAPIC_DEST_ALL_BUT_SELF:  return target->id != ipi->source_id;
    case VLAPIC_DEST_FIELD:         break;
    }
    if (ipi->dest == X2APIC_BROADCAST)
        return true;
    if (!ipi->logical)
        return target->id == ipi->dest;
    if (vlapic_mode(target) != VLAPIC_X2APIC)
        return false;
    ldr = x2apic_ldr(target->id);
    return (ipi->dest >> 16) == (ldr >> 16) && (ipi->dest & ldr & 0xFFFF);
}

/* ---- the xAPIC page ---- */

static void page_put(uint32_t *page, uint32_t reg, uint32_t value)
{
    page[reg / sizeof(uint32_t)] = value;
}

static uint32_t page_get(const uint32_t *page, uint32_t reg)
{
    return page[reg / sizeof(uint32_t)];
}

void vlapic_page_publish(const struct vlapic *v, uint32_t *page, uint64_t now_ns)
{
    memset(page, 0, VLAPIC_PAGE_WORDS * sizeof(uint32_t));
    page_put(page, REG_ID, (v->id & 0xFF) << XAPIC_ID_SHIFT);
    page_put(page, REG_VERSION, VLAPIC_VERSION);
    page_put(page, REG_TPR, v->tpr);
    page_put(page, REG_PPR, ppr_value(v));
    page_put(page, REG_EOI, VLAPIC_PAGE_EOI_SENTINEL);
    page_put(page, REG_LDR, v->ldr);
    page_put(page, REG_DFR, v->dfr);
    page_put(page, REG_SVR, v->svr);
    for (uint32_t i = 0; i < BITMAP_REGS; i++) {
        page_put(page, REG_ISR + i * REG_STRIDE, v->isr[i]);
        page_put(page, REG_TMR + i * REG_STRIDE, v->tmr[i]);
        page_put(page, REG_IRR + i * REG_STRIDE, v->irr[i]);
    }
    page_put(page, REG_ESR, v->esr);
    page_put(page, REG_ICR_LO, (uint32_t)v->icr);
    page_put(page, REG_ICR_HI, (uint32_t)(v->icr >> 32));
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
        page_put(page, lvt_reg[i], v->lvt[i]);
    page_put(page, REG_TIMER_INITIAL, v->timer_initial);
    page_put(page, REG_TIMER_CURRENT, timer_current_count(v, now_ns));
    page_put(page, REG_TIMER_DIVIDE, v->timer_divide_reg);
}

/* Lenient writes cannot fail; the result is ignored on purpose. */
static void page_write(struct vlapic *v, uint32_t reg, uint32_t value, uint64_t now_ns,
                       struct vlapic_effects *fx)
{
    int rc = write_register(v, reg, value, false, now_ns, fx);

    (void)rc;
}

void vlapic_page_collect(struct vlapic *v, uint32_t *page, uint64_t now_ns,
                         struct vlapic_effects *fx)
{
    uint32_t value;

    clear_effects(fx);
    if (vlapic_mode(v) != VLAPIC_XAPIC)
        return;
    /* SVR first: disabling it masks the LVTs written below. */
    if ((value = page_get(page, REG_SVR)) != v->svr)
        page_write(v, REG_SVR, value, now_ns, fx);
    if ((value = page_get(page, REG_TPR)) != v->tpr)
        page_write(v, REG_TPR, value, now_ns, fx);
    v->ldr = page_get(page, REG_LDR) & XAPIC_LDR_MASK;
    v->dfr = page_get(page, REG_DFR) | XAPIC_DFR_FIXED;
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++) {
        if ((value = page_get(page, lvt_reg[i])) != v->lvt[i])
            page_write(v, lvt_reg[i], value, now_ns, fx);
    }
    /* Divide before the initial count, the order in which guests program them. */
    if ((value = page_get(page, REG_TIMER_DIVIDE) & DIVIDE_BITS) != v->timer_divide_reg)
        page_write(v, REG_TIMER_DIVIDE, value, now_ns, fx);
    if ((value = page_get(page, REG_TIMER_INITIAL)) != v->timer_initial)
        page_write(v, REG_TIMER_INITIAL, value, now_ns, fx);
    if (page_get(page, REG_ESR) != v->esr)
        write_esr(v);
    if (page_get(page, REG_EOI) != VLAPIC_PAGE_EOI_SENTINEL) {
        end_of_interrupt(v, fx);
        page_put(page, REG_EOI, VLAPIC_PAGE_EOI_SENTINEL);
    }
}
