/* fuzz_vlapic.c (host fuzzer): the virtual local APIC's register file, page, IPIs and timer driven by operations from the input. */
#include "fuzz.h"
#include "../../xen/arch/x86/hvm/vlapic.c"  /* one translation unit: see tests/fuzz/meson.build */

/*
 * One APIC under test and one bystander (an IPI target). Each 12-byte record
 * is one operation: x2APIC MSR read or write, APIC_BASE write, an arriving
 * interrupt, an injection, the timer firing, a guest write to the xAPIC page,
 * TPR, INIT. Time only moves forward, by the record's delta.
 */
#define REC 12
#ifndef VLAPIC_PERIODIC_MIN_NS
#define VLAPIC_PERIODIC_MIN_NS 100000u  /* for running this harness on a vlapic.c older than the floor */
#endif
#define MSR_TMCCT 0x839u        /* SDM table 11-6: current count */
#define MSR_TMICT 0x838u        /* initial count */

static struct vlapic v, other;
static uint32_t page[VLAPIC_PAGE_WORDS];
static uint64_t now;

static uint64_t take_base(uint8_t sel, uint64_t raw)
{
    switch (sel % 5) {
    case 0:  return VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN;
    case 1:  return VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD;
    case 2:  return 0;
    case 3:  return VLAPIC_DEFAULT_BASE | (raw & 0xFFF);
    default: return raw;
    }
}

static void check_effects(const struct vlapic_effects *fx)
{
    FUZZ_CHECK(fx->timer <= VLAPIC_TIMER_CANCEL);
    if (fx->eoi)
        FUZZ_CHECK(fx->eoi_vector >= 16);
    if (fx->ipi_valid) {
        FUZZ_CHECK(fx->ipi.kind <= VLAPIC_IPI_STARTUP && fx->ipi.shorthand <= VLAPIC_DEST_ALL_BUT_SELF);
        if (fx->ipi.kind == VLAPIC_IPI_FIXED)
            FUZZ_CHECK(fx->ipi.vector >= 16);
        (void)vlapic_ipi_targets(&fx->ipi, &other);
        (void)vlapic_ipi_targets(&fx->ipi, &v);
    }
}

static void check_state(void)
{
    enum vlapic_mode mode = vlapic_mode(&v);
    int vec = vlapic_pending_vector(&v);
    uint64_t count;

    FUZZ_CHECK(vec == -1 || (vec >= 16 && vec <= 255));
    FUZZ_CHECK((v.irr[0] & 0xFFFF) == 0 && (v.isr[0] & 0xFFFF) == 0);   /* vectors 0-15 never arrive */
    FUZZ_CHECK(mode <= VLAPIC_X2APIC);
    FUZZ_CHECK((vlapic_get_base(&v) & VLAPIC_BASE_ADDR_MASK) == VLAPIC_DEFAULT_BASE);
    if (mode == VLAPIC_X2APIC && vlapic_msr_read(&v, MSR_TMCCT, now, &count) == 0) {
        uint64_t initial = 0;

        FUZZ_CHECK(vlapic_msr_read(&v, MSR_TMICT, now, &initial) == 0);
        FUZZ_CHECK(count <= initial);
    }
}

static void do_op(const uint8_t *r)
{
    struct vlapic_effects fx;
    uint64_t value, got;
    uint32_t msr = VLAPIC_MSR_X2APIC_FIRST + r[1];
    uint16_t delta;
    int rc, vec;

    memcpy(&value, r + 2, 8);
    memcpy(&delta, r + 10, 2);
    now += (uint64_t)delta << (r[0] >> 5);      /* steps from 1 ns to about 6 ms */
    memset(&fx, 0, sizeof(fx));
    switch (r[0] % 10) {
    case 0:
        rc = vlapic_msr_write(&v, msr, value, now, &fx);
        FUZZ_CHECK(rc == 0 || rc == -EINVAL);
        break;
    case 1:
        rc = vlapic_msr_read(&v, msr, now, &got);
        FUZZ_CHECK(rc == 0 || rc == -EINVAL);
        break;
    case 2:
        rc = vlapic_set_base(&v, take_base(r[1], value), &fx);
        FUZZ_CHECK(rc == 0 || rc == -EINVAL);
        break;
    case 3:
        vlapic_accept_irq(&v, r[1]);
        break;
    case 4:
        vec = vlapic_pending_vector(&v);
        if (vec >= 0) {
            vlapic_ack(&v, (uint8_t)vec);
            FUZZ_CHECK(v.isr[vec / 32] & (1u << (vec % 32)));
        }
        break;
    case 5: {
        bool was_due = v.timer_armed && now >= v.timer_deadline_ns;
        uint64_t due = v.timer_deadline_ns;

        vlapic_timer_expired(&v, now, &fx);
        /* Never re-armed in the past, and a period is never shorter than the floor (vlapic.h). */
        FUZZ_CHECK(fx.timer != VLAPIC_TIMER_ARM || fx.timer_deadline_ns > now);
        if (was_due && fx.timer == VLAPIC_TIMER_ARM)
            FUZZ_CHECK(fx.timer_deadline_ns - due >= VLAPIC_PERIODIC_MIN_NS);
        break;
    }
    case 6:     /* the guest stores into the xAPIC page between two exits */
        vlapic_page_publish(&v, page, now);
        page[((unsigned)r[1] << 2 | (r[2] & 3)) % VLAPIC_PAGE_WORDS] = (uint32_t)value;
        vlapic_page_collect(&v, page, now, &fx);
        break;
    case 7:
        vlapic_set_tpr(&v, r[1]);
        FUZZ_CHECK(vlapic_get_tpr(&v) == r[1]);
        break;
    case 8:
        vlapic_reset_on_init(&v, &fx);
        FUZZ_CHECK(fx.timer == VLAPIC_TIMER_CANCEL);
        break;
    case 9:
        vlapic_accept_irq(&other, r[1]);
        break;
    }
    check_effects(&fx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vlapic_effects fx;

    vlapic_init(&v, 0, true);
    vlapic_init(&other, 1, false);
    (void)vlapic_set_base(&other, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD, &fx);
    memset(page, 0, sizeof(page));
    now = 1000;
    for (size_t i = 0; i + REC <= size; i += REC) {
        do_op(data + i);
        check_state();
    }
    return 0;
}
