/* test_vlapic.c (host test): the virtual local APIC: reset, x2APIC MSRs and their #GP cases, APIC_BASE, priorities, IPIs, timer, xAPIC page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "vlapic.h"

/* x2APIC MSR indexes (SDM table 11-6). */
#define MSR_ID        0x802u
#define MSR_VERSION   0x803u
#define MSR_TPR       0x808u
#define MSR_PPR       0x80Au
#define MSR_EOI       0x80Bu
#define MSR_LDR       0x80Du
#define MSR_SVR       0x80Fu
#define MSR_ISR0      0x810u
#define MSR_TMR0      0x818u
#define MSR_IRR0      0x820u
#define MSR_ESR       0x828u
#define MSR_LVT_CMCI  0x82Fu
#define MSR_ICR       0x830u
#define MSR_LVT_TIMER 0x832u
#define MSR_LVT_THERM 0x833u
#define MSR_LVT_PERF  0x834u
#define MSR_LVT_LINT0 0x835u
#define MSR_LVT_LINT1 0x836u
#define MSR_LVT_ERROR 0x837u
#define MSR_TMICT     0x838u
#define MSR_TMCCT     0x839u
#define MSR_TDCR      0x83Eu
#define MSR_SELF_IPI  0x83Fu

/* xAPIC page word index of a register offset. */
#define W(off) ((off) / 4)

#define BASE_XAPIC  (0xFEE00000ull | VLAPIC_BASE_EN)
#define BASE_X2APIC (BASE_XAPIC | VLAPIC_BASE_EXTD)
#define BASE_OFF    0xFEE00000ull

#define SVR_ON      0x1FFu      /* software enabled, spurious vector 0xFF */
#define LVT_MASKED  0x10000u
#define PERIODIC    0x20000u

static struct vlapic_effects fx;

static void to_x2apic(struct vlapic *v)
{
    assert_int_equal(vlapic_set_base(v, BASE_X2APIC | (v->base & VLAPIC_BASE_BSP), &fx), 0);
}

/* An x2APIC-mode, software-enabled APIC. */
static void setup_x2(struct vlapic *v, uint32_t id)
{
    vlapic_init(v, id, id == 0);
    to_x2apic(v);
    assert_int_equal(vlapic_msr_write(v, MSR_SVR, SVR_ON, 0, &fx), 0);
}

static uint64_t rd(const struct vlapic *v, uint32_t msr, uint64_t now)
{
    uint64_t value = 0xBADBADBADull;

    assert_int_equal(vlapic_msr_read(v, msr, now, &value), 0);
    return value;
}

static void wr(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now)
{
    assert_int_equal(vlapic_msr_write(v, msr, value, now, &fx), 0);
}

static bool irr_has(const struct vlapic *v, unsigned vector)
{
    return rd(v, MSR_IRR0 + vector / 32, 0) & (1ull << (vector % 32));
}

static bool isr_has(const struct vlapic *v, unsigned vector)
{
    return rd(v, MSR_ISR0 + vector / 32, 0) & (1ull << (vector % 32));
}

/* Reads the ESR the way a guest does: write 0, then read. */
static uint64_t read_esr(struct vlapic *v)
{
    wr(v, MSR_ESR, 0, 0);
    return rd(v, MSR_ESR, 0);
}

/* ---- reset ---- */

static void test_reset_values(void **state)
{
    (void)state;
    struct vlapic bsp, ap;
    static const uint32_t lvts[] = { MSR_LVT_CMCI, MSR_LVT_TIMER, MSR_LVT_THERM, MSR_LVT_PERF,
                                     MSR_LVT_LINT0, MSR_LVT_LINT1, MSR_LVT_ERROR };

    memset(&bsp, 0xA5, sizeof(bsp));
    vlapic_init(&bsp, 0, true);
    vlapic_init(&ap, 3, false);
    assert_int_equal(vlapic_get_base(&bsp), 0xFEE00900ull);
    assert_int_equal(vlapic_get_base(&ap), 0xFEE00800ull);
    assert_int_equal(vlapic_mode(&bsp), VLAPIC_XAPIC);
    assert_int_equal(vlapic_pending_vector(&bsp), -1);

    to_x2apic(&ap);
    assert_int_equal(vlapic_mode(&ap), VLAPIC_X2APIC);
    assert_int_equal(rd(&ap, MSR_ID, 0), 3);
    assert_int_equal(rd(&ap, MSR_VERSION, 0), 0x50014);
    assert_int_equal(rd(&ap, MSR_TPR, 0), 0);
    assert_int_equal(rd(&ap, MSR_PPR, 0), 0);
    assert_int_equal(rd(&ap, MSR_SVR, 0), 0xFF);
    assert_int_equal(rd(&ap, MSR_ESR, 0), 0);
    assert_int_equal(rd(&ap, MSR_ICR, 0), 0);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(rd(&ap, MSR_ISR0 + i, 0), 0);
        assert_int_equal(rd(&ap, MSR_TMR0 + i, 0), 0);
        assert_int_equal(rd(&ap, MSR_IRR0 + i, 0), 0);
    }
    for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
        assert_int_equal(rd(&ap, lvts[i], 0), LVT_MASKED);
    assert_int_equal(rd(&ap, MSR_TMICT, 0), 0);
    assert_int_equal(rd(&ap, MSR_TMCCT, 12345), 0);
    assert_int_equal(rd(&ap, MSR_TDCR, 0), 0);
}

static void test_ldr_derived_from_id(void **state)
{
    (void)state;
    static const struct { uint32_t id, ldr; } cases[] = {
        { 0, 0x00000001 }, { 1, 0x00000002 }, { 15, 0x00008000 }, { 16, 0x00010001 },
        { 0x35, 0x00030020 }, { 0x12345, 0x12340020 }, { 0xFFFFFFFF, 0xFFFF8000 },
    };
    struct vlapic v;

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vlapic_init(&v, cases[i].id, false);
        to_x2apic(&v);
        assert_int_equal(rd(&v, MSR_LDR, 0), cases[i].ldr);
        assert_int_equal(rd(&v, MSR_ID, 0), cases[i].id);
    }
}

static void test_init_reset_keeps_id_and_base(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 7);
    wr(&v, MSR_TPR, 0x40, 0);
    wr(&v, MSR_LVT_TIMER, 0xEF, 0);
    wr(&v, MSR_TMICT, 1000, 0);
    vlapic_accept_irq(&v, 0x80);
    vlapic_reset_on_init(&v, &fx);
    assert_int_equal(fx.timer, VLAPIC_TIMER_CANCEL);
    assert_int_equal(vlapic_get_base(&v), BASE_X2APIC);
    assert_int_equal(rd(&v, MSR_ID, 0), 7);
    assert_int_equal(rd(&v, MSR_TPR, 0), 0);
    assert_int_equal(rd(&v, MSR_SVR, 0), 0xFF);
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), LVT_MASKED);
    assert_int_equal(rd(&v, MSR_TMICT, 0), 0);
    assert_int_equal(rd(&v, MSR_TMCCT, 10), 0);
    assert_false(irr_has(&v, 0x80));
}

/* ---- x2APIC MSR access ---- */

static void test_msr_read_write_registers(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 1);
    wr(&v, MSR_TPR, 0xA5, 0);
    assert_int_equal(rd(&v, MSR_TPR, 0), 0xA5);
    wr(&v, MSR_SVR, 0x3FF, 0);              /* vector, enable, focus-off */
    assert_int_equal(rd(&v, MSR_SVR, 0), 0x3FF);

    wr(&v, MSR_LVT_TIMER, 0x300EF, 0);      /* masked periodic */
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), 0x300EF);
    wr(&v, MSR_LVT_LINT0, 0x1A7FF, 0);      /* every writable LINT bit */
    assert_int_equal(rd(&v, MSR_LVT_LINT0, 0), 0x1A7FF);
    wr(&v, MSR_LVT_LINT1, 0x00400, 0);      /* NMI delivery, unmasked */
    assert_int_equal(rd(&v, MSR_LVT_LINT1, 0), 0x00400);
    wr(&v, MSR_LVT_THERM, 0x107FF, 0);
    assert_int_equal(rd(&v, MSR_LVT_THERM, 0), 0x107FF);
    wr(&v, MSR_LVT_PERF, 0x00400, 0);
    assert_int_equal(rd(&v, MSR_LVT_PERF, 0), 0x00400);
    wr(&v, MSR_LVT_ERROR, 0x000FE, 0);
    assert_int_equal(rd(&v, MSR_LVT_ERROR, 0), 0x000FE);
    wr(&v, MSR_LVT_CMCI, 0x000F0, 0);
    assert_int_equal(rd(&v, MSR_LVT_CMCI, 0), 0x000F0);

    /* Read-only LVT bits (delivery status, remote IRR) are ignored, not faulted. */
    wr(&v, MSR_LVT_LINT0, 0x150F0, 0);
    assert_int_equal(rd(&v, MSR_LVT_LINT0, 0), 0x100F0);

    wr(&v, MSR_TDCR, 0xB, 0);
    assert_int_equal(rd(&v, MSR_TDCR, 0), 0xB);
    wr(&v, MSR_TMICT, 0xFFFFFFFF, 0);
    assert_int_equal(rd(&v, MSR_TMICT, 0), 0xFFFFFFFF);

    wr(&v, MSR_ICR, 0x0000000500004050ull, 0);
    assert_int_equal(rd(&v, MSR_ICR, 0), 0x0000000500004050ull);
}

/* Exactly the registers of SDM table 11-6 are readable; nothing outside 0x800-0x8FF. */
static void test_msr_read_map(void **state)
{
    (void)state;
    struct vlapic v;
    uint64_t value;

    setup_x2(&v, 2);
    for (uint32_t msr = 0x700; msr <= 0x9FF; msr++) {
        bool readable = msr == 0x802 || msr == 0x803 || msr == 0x808 || msr == 0x80A ||
                        msr == 0x80D || msr == 0x80F || (msr >= 0x810 && msr <= 0x828) ||
                        msr == 0x82F || msr == 0x830 || (msr >= 0x832 && msr <= 0x839) ||
                        msr == 0x83E;
        int rc = vlapic_msr_read(&v, msr, 0, &value);

        if (readable)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(rc, -EINVAL);
    }
    /* Hostile indexes that would alias a register if truncated. */
    assert_int_equal(vlapic_msr_read(&v, 0x10000802u, 0, &value), -EINVAL);
    assert_int_equal(vlapic_msr_read(&v, 0xFFFFFFFFu, 0, &value), -EINVAL);
    assert_int_equal(vlapic_msr_write(&v, 0x10000808u, 0, 0, &fx), -EINVAL);
}

static void test_msr_gp_outside_x2apic_mode(void **state)
{
    (void)state;
    struct vlapic v;
    uint64_t value;

    vlapic_init(&v, 0, true);               /* xAPIC mode */
    for (uint32_t msr = 0x800; msr <= 0x8FF; msr++) {
        assert_int_equal(vlapic_msr_read(&v, msr, 0, &value), -EINVAL);
        assert_int_equal(vlapic_msr_write(&v, msr, 0, 0, &fx), -EINVAL);
    }
    assert_int_equal(vlapic_set_base(&v, BASE_OFF, &fx), 0);   /* disabled */
    assert_int_equal(vlapic_msr_read(&v, MSR_ID, 0, &value), -EINVAL);
    assert_int_equal(vlapic_msr_write(&v, MSR_TPR, 0, 0, &fx), -EINVAL);
}

static void test_msr_gp_read_only_and_write_only(void **state)
{
    (void)state;
    static const uint32_t read_only[] = { MSR_ID, MSR_VERSION, MSR_PPR, MSR_LDR, MSR_ISR0,
                                          MSR_ISR0 + 7, MSR_TMR0 + 3, MSR_IRR0, MSR_IRR0 + 7,
                                          MSR_TMCCT };
    struct vlapic v;
    uint64_t value;

    setup_x2(&v, 4);
    for (unsigned i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
        uint64_t before = rd(&v, read_only[i], 0);

        assert_int_equal(vlapic_msr_write(&v, read_only[i], 0x12, 0, &fx), -EINVAL);
        assert_int_equal(rd(&v, read_only[i], 0), before);
    }
    assert_int_equal(vlapic_msr_read(&v, MSR_EOI, 0, &value), -EINVAL);
    assert_int_equal(vlapic_msr_read(&v, MSR_SELF_IPI, 0, &value), -EINVAL);
}

static void test_msr_gp_reserved_bits(void **state)
{
    (void)state;
    static const struct { uint32_t msr; uint64_t value; } bad[] = {
        { MSR_TPR, 0x100 }, { MSR_TPR, 1ull << 32 },
        { MSR_SVR, 0x11FF },                    /* EOI-broadcast suppression: not offered */
        { MSR_SVR, 0x1FF | (1ull << 40) },
        { MSR_LVT_TIMER, 0x400EF },             /* TSC-deadline mode: not offered */
        { MSR_LVT_TIMER, 0x600EF },             /* mode 11b: reserved */
        { MSR_LVT_TIMER, 0x004EF },             /* no delivery mode in the timer LVT */
        { MSR_LVT_ERROR, 0x0A0FE },             /* no trigger or polarity in the error LVT */
        { MSR_LVT_LINT0, 0x200F0 },
        { MSR_LVT_PERF, 1ull << 63 },
        { MSR_TDCR, 0x4 }, { MSR_TDCR, 0xF0 },
        { MSR_SELF_IPI, 0x140 }, { MSR_SELF_IPI, 0x40 | (1ull << 32) },
        { MSR_EOI, 1 }, { MSR_EOI, 1ull << 32 },
        { MSR_ESR, 0x40 },
        { MSR_TMICT, 1ull << 32 },
        { MSR_ICR, 0x1040 },                    /* delivery status bit: reserved in x2APIC */
        { MSR_ICR, 0x2040 }, { MSR_ICR, 0x10040 }, { MSR_ICR, 0x100040 },
        { MSR_ICR, 0x80000040 },
        { MSR_ICR, 0x340 },                     /* delivery mode 011b */
        { MSR_ICR, 0x740 },                     /* delivery mode 111b */
    };
    struct vlapic v, before;

    setup_x2(&v, 5);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(&before, &v, sizeof(v));
        assert_int_equal(vlapic_msr_write(&v, bad[i].msr, bad[i].value, 0, &fx), -EINVAL);
        assert_memory_equal(&v, &before, sizeof(v));    /* a faulting write changes nothing */
        assert_false(fx.ipi_valid);
    }
}

/* ---- IA32_APIC_BASE ---- */

static void test_base_transitions(void **state)
{
    (void)state;
    static const struct { uint64_t from, to; int rc; } cases[] = {
        { BASE_XAPIC, BASE_X2APIC, 0 },
        { BASE_XAPIC, BASE_OFF, 0 },
        { BASE_XAPIC, BASE_XAPIC, 0 },
        { BASE_X2APIC, BASE_OFF, 0 },
        { BASE_X2APIC, BASE_X2APIC, 0 },
        { BASE_X2APIC, BASE_XAPIC, -EINVAL },
        { BASE_OFF, BASE_XAPIC, 0 },
        { BASE_OFF, BASE_OFF, 0 },
        { BASE_OFF, BASE_X2APIC, -EINVAL },
        { BASE_XAPIC, BASE_OFF | VLAPIC_BASE_EXTD, -EINVAL },  /* EXTD without EN */
        { BASE_OFF, BASE_OFF | VLAPIC_BASE_EXTD, -EINVAL },
    };
    struct vlapic v;

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vlapic_init(&v, 1, false);
        /* Reach `from` by allowed steps. */
        if (cases[i].from == BASE_OFF)
            assert_int_equal(vlapic_set_base(&v, BASE_OFF, &fx), 0);
        if (cases[i].from == BASE_X2APIC)
            assert_int_equal(vlapic_set_base(&v, BASE_X2APIC, &fx), 0);
        assert_int_equal(vlapic_get_base(&v), cases[i].from);
        assert_int_equal(vlapic_set_base(&v, cases[i].to, &fx), cases[i].rc);
        assert_int_equal(vlapic_get_base(&v), cases[i].rc ? cases[i].from : cases[i].to);
    }
}

static void test_base_hostile_values(void **state)
{
    (void)state;
    static const uint64_t bad[] = {
        BASE_XAPIC | 0x1,                       /* bits 7:0 reserved */
        BASE_XAPIC | 0x200,                     /* bit 9 reserved */
        BASE_XAPIC | (1ull << 52),              /* beyond the address field */
        BASE_XAPIC | (1ull << 63),
        0xFEF00000ull | VLAPIC_BASE_EN,         /* relocation */
        0x00000000ull | VLAPIC_BASE_EN,
        0x1FEE00000ull | VLAPIC_BASE_EN,
        UINT64_MAX,
    };
    struct vlapic v;

    vlapic_init(&v, 0, true);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(vlapic_set_base(&v, bad[i], &fx), -EINVAL);
        assert_int_equal(vlapic_get_base(&v), BASE_XAPIC | VLAPIC_BASE_BSP);
    }
    /* The BSP bit is the hypervisor's: a write can neither set nor clear it. */
    assert_int_equal(vlapic_set_base(&v, BASE_XAPIC, &fx), 0);
    assert_int_equal(vlapic_get_base(&v), BASE_XAPIC | VLAPIC_BASE_BSP);
    vlapic_init(&v, 1, false);
    assert_int_equal(vlapic_set_base(&v, BASE_XAPIC | VLAPIC_BASE_BSP, &fx), 0);
    assert_int_equal(vlapic_get_base(&v), BASE_XAPIC);
}

static void test_base_disable_resets(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 9);
    wr(&v, MSR_TPR, 0x30, 0);
    wr(&v, MSR_LVT_TIMER, 0xEF, 0);
    wr(&v, MSR_TMICT, 500, 0);
    vlapic_accept_irq(&v, 0x90);
    assert_int_equal(vlapic_set_base(&v, BASE_OFF, &fx), 0);
    assert_int_equal(fx.timer, VLAPIC_TIMER_CANCEL);
    assert_int_equal(vlapic_mode(&v), VLAPIC_DISABLED);
    assert_int_equal(vlapic_pending_vector(&v), -1);

    /* A disabled APIC takes no interrupts and cannot be targeted. */
    struct vlapic_ipi ipi = { .kind = VLAPIC_IPI_INIT, .shorthand = VLAPIC_DEST_ALL };
    assert_false(vlapic_ipi_targets(&ipi, &v));
    vlapic_accept_irq(&v, 0x91);

    assert_int_equal(vlapic_set_base(&v, BASE_XAPIC, &fx), 0);
    assert_int_equal(vlapic_set_base(&v, BASE_X2APIC, &fx), 0);
    assert_int_equal(rd(&v, MSR_ID, 0), 9);
    assert_int_equal(rd(&v, MSR_TPR, 0), 0);
    assert_int_equal(rd(&v, MSR_TMICT, 0), 0);
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), LVT_MASKED);
    assert_false(irr_has(&v, 0x90));
    assert_false(irr_has(&v, 0x91));
}

/* ---- priorities ---- */

static void test_priority_tpr_ppr(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 0);
    vlapic_accept_irq(&v, 0x31);
    assert_int_equal(vlapic_pending_vector(&v), 0x31);
    wr(&v, MSR_TPR, 0x30, 0);               /* same class: blocked */
    assert_int_equal(vlapic_pending_vector(&v), -1);
    assert_int_equal(rd(&v, MSR_PPR, 0), 0x30);
    wr(&v, MSR_TPR, 0x2F, 0);
    assert_int_equal(vlapic_pending_vector(&v), 0x31);
    wr(&v, MSR_TPR, 0xFF, 0);
    assert_int_equal(vlapic_pending_vector(&v), -1);
    wr(&v, MSR_TPR, 0, 0);

    /* In service 0x51: PPR = 0x50; same-class 0x55 waits, 0x61 preempts. */
    vlapic_accept_irq(&v, 0x51);
    assert_int_equal(vlapic_pending_vector(&v), 0x51);
    vlapic_ack(&v, 0x51);
    assert_int_equal(rd(&v, MSR_PPR, 0), 0x50);
    vlapic_accept_irq(&v, 0x55);
    assert_int_equal(vlapic_pending_vector(&v), -1);
    vlapic_accept_irq(&v, 0x61);
    assert_int_equal(vlapic_pending_vector(&v), 0x61);

    /* TPR above the in-service class: PPR is TPR, all bits. */
    wr(&v, MSR_TPR, 0x7A, 0);
    assert_int_equal(rd(&v, MSR_PPR, 0), 0x7A);
    assert_int_equal(vlapic_pending_vector(&v), -1);
    /* TPR in the same class: PPR is TPR, low bits included. */
    wr(&v, MSR_TPR, 0x5A, 0);
    assert_int_equal(rd(&v, MSR_PPR, 0), 0x5A);
    /* TPR below it: PPR is the class with low bits clear. */
    wr(&v, MSR_TPR, 0x4F, 0);
    assert_int_equal(rd(&v, MSR_PPR, 0), 0x50);

    /* CR8 path. */
    vlapic_set_tpr(&v, 0x90);
    assert_int_equal(vlapic_get_tpr(&v), 0x90);
    assert_int_equal(rd(&v, MSR_TPR, 0), 0x90);
}

static void test_accept_ack_eoi_nested(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 0);
    vlapic_accept_irq(&v, 0x40);
    assert_int_equal(vlapic_pending_vector(&v), 0x40);
    vlapic_ack(&v, 0x40);
    assert_false(irr_has(&v, 0x40));
    assert_true(isr_has(&v, 0x40));
    assert_int_equal(vlapic_pending_vector(&v), -1);

    vlapic_accept_irq(&v, 0x80);            /* preempts the handler of 0x40 */
    assert_int_equal(vlapic_pending_vector(&v), 0x80);
    vlapic_ack(&v, 0x80);
    vlapic_accept_irq(&v, 0x41);            /* class 4 waits behind both */
    assert_int_equal(vlapic_pending_vector(&v), -1);

    wr(&v, MSR_EOI, 0, 0);                  /* ends 0x80, the highest in service */
    assert_true(fx.eoi);
    assert_int_equal(fx.eoi_vector, 0x80);
    assert_false(isr_has(&v, 0x80));
    assert_true(isr_has(&v, 0x40));
    assert_int_equal(vlapic_pending_vector(&v), -1);    /* 0x41 still same class as 0x40 */

    wr(&v, MSR_EOI, 0, 0);
    assert_true(fx.eoi);
    assert_int_equal(fx.eoi_vector, 0x40);
    assert_int_equal(vlapic_pending_vector(&v), 0x41);

    wr(&v, MSR_EOI, 0, 0);                  /* nothing in service */
    assert_false(fx.eoi);

    /* Acking a vector that is not requested changes nothing. */
    vlapic_ack(&v, 0x99);
    assert_false(isr_has(&v, 0x99));
    /* Same vector twice while requested: one IRR bit. */
    vlapic_accept_irq(&v, 0x41);
    vlapic_ack(&v, 0x41);
    assert_int_equal(vlapic_pending_vector(&v), -1);
    assert_false(irr_has(&v, 0x41));
}

static void test_highest_and_lowest_vectors(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 0);
    vlapic_accept_irq(&v, 0xFF);
    vlapic_accept_irq(&v, 0x10);
    assert_true(irr_has(&v, 0xFF));
    assert_true(irr_has(&v, 0x10));
    assert_int_equal(vlapic_pending_vector(&v), 0xFF);
    vlapic_ack(&v, 0xFF);
    assert_int_equal(vlapic_pending_vector(&v), -1);
    wr(&v, MSR_EOI, 0, 0);
    assert_int_equal(fx.eoi_vector, 0xFF);
    assert_int_equal(vlapic_pending_vector(&v), 0x10);
}

static void test_illegal_vectors_and_esr(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 0);
    for (unsigned vec = 0; vec < 16; vec++)
        vlapic_accept_irq(&v, (uint8_t)vec);
    assert_int_equal(rd(&v, MSR_IRR0, 0), 0);
    assert_int_equal(vlapic_pending_vector(&v), -1);

    /* Write-then-read: errors show only after an ESR write, which also clears them. */
    assert_int_equal(rd(&v, MSR_ESR, 0), 0);
    assert_int_equal(read_esr(&v), 0x40);   /* received illegal vector */
    assert_int_equal(rd(&v, MSR_ESR, 0), 0x40);
    assert_int_equal(read_esr(&v), 0);

    /* Self-IPI with an illegal vector is received illegal, too. */
    wr(&v, MSR_SELF_IPI, 0x0F, 0);
    assert_int_equal(rd(&v, MSR_IRR0, 0), 0);
    assert_int_equal(read_esr(&v), 0x40);

    /* An ICR fixed IPI with an illegal vector is not sent: send illegal vector. */
    wr(&v, MSR_ICR, (3ull << 32) | 0x0E, 0);
    assert_false(fx.ipi_valid);
    assert_int_equal(read_esr(&v), 0x20);

    /* With the error LVT unmasked, an error raises its vector. */
    wr(&v, MSR_LVT_ERROR, 0xFE, 0);
    vlapic_accept_irq(&v, 3);
    assert_true(irr_has(&v, 0xFE));
    assert_int_equal(vlapic_pending_vector(&v), 0xFE);

    /* An illegal error vector is not reported in a loop. */
    setup_x2(&v, 0);
    wr(&v, MSR_LVT_ERROR, 0x05, 0);
    vlapic_accept_irq(&v, 1);
    assert_int_equal(rd(&v, MSR_IRR0, 0), 0);
    assert_int_equal(read_esr(&v), 0x40);
}

static void test_software_disabled(void **state)
{
    (void)state;
    struct vlapic v;
    struct vlapic_ipi nmi = { .kind = VLAPIC_IPI_NMI, .shorthand = VLAPIC_DEST_ALL };

    setup_x2(&v, 0);
    wr(&v, MSR_LVT_TIMER, 0xEF, 0);
    wr(&v, MSR_LVT_LINT1, 0x400, 0);
    vlapic_accept_irq(&v, 0x50);

    wr(&v, MSR_SVR, 0xFF, 0);               /* bit 8 clear */
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), 0xEF | LVT_MASKED);
    assert_int_equal(rd(&v, MSR_LVT_LINT1, 0), 0x400 | LVT_MASKED);
    assert_int_equal(vlapic_pending_vector(&v), -1);    /* IRR held, not delivered */
    assert_true(irr_has(&v, 0x50));
    vlapic_accept_irq(&v, 0x60);                        /* fixed interrupts are dropped */
    assert_false(irr_has(&v, 0x60));
    wr(&v, MSR_LVT_TIMER, 0xEF, 0);                     /* cannot unmask */
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), 0xEF | LVT_MASKED);
    assert_true(vlapic_ipi_targets(&nmi, &v));          /* NMI/INIT/SIPI still arrive */

    /* The timer still counts but raises nothing. */
    wr(&v, MSR_TMICT, 10, 0);
    vlapic_timer_expired(&v, 20, &fx);
    assert_false(irr_has(&v, 0xEF));

    wr(&v, MSR_SVR, SVR_ON, 0);
    assert_int_equal(vlapic_pending_vector(&v), 0x50);
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), 0xEF | LVT_MASKED);  /* stays masked */
    wr(&v, MSR_LVT_TIMER, 0xEF, 0);
    assert_int_equal(rd(&v, MSR_LVT_TIMER, 0), 0xEF);
}

/* ---- IPIs ---- */

static void test_icr_decode(void **state)
{
    (void)state;
    static const struct {
        uint32_t low;
        bool sent;
        enum vlapic_ipi_kind kind;
        uint8_t vector;
    } cases[] = {
        { 0x00004041, true,  VLAPIC_IPI_FIXED,   0x41 },
        { 0x00000041, true,  VLAPIC_IPI_FIXED,   0x41 },   /* level bit is don't-care */
        { 0x00004142, true,  VLAPIC_IPI_FIXED,   0x42 },   /* lowest priority -> fixed */
        { 0x00004402, true,  VLAPIC_IPI_NMI,     0 },
        { 0x0000C500, true,  VLAPIC_IPI_INIT,    0 },      /* INIT assert, level */
        { 0x00004500, true,  VLAPIC_IPI_INIT,    0 },      /* INIT assert, edge */
        { 0x00008500, false, 0, 0 },                       /* INIT level de-assert */
        { 0x00000500, false, 0, 0 },
        { 0x0000469A, true,  VLAPIC_IPI_STARTUP, 0x9A },
        { 0x00000600, true,  VLAPIC_IPI_STARTUP, 0x00 },
        { 0x00004200, false, 0, 0 },                       /* SMI */
    };
    struct vlapic v;

    setup_x2(&v, 0x21);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wr(&v, MSR_ICR, (0x12345678ull << 32) | cases[i].low, 0);
        assert_int_equal(fx.ipi_valid, cases[i].sent);
        assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);
        if (!cases[i].sent)
            continue;
        assert_int_equal(fx.ipi.kind, cases[i].kind);
        assert_int_equal(fx.ipi.vector, cases[i].vector);
        assert_int_equal(fx.ipi.shorthand, VLAPIC_DEST_FIELD);
        assert_false(fx.ipi.logical);
        assert_int_equal(fx.ipi.dest, 0x12345678);
        assert_int_equal(fx.ipi.source_id, 0x21);
    }

    /* Destination mode and the full 32-bit destination. */
    wr(&v, MSR_ICR, (0xFFFFFFFFull << 32) | 0x4830, 0);
    assert_true(fx.ipi_valid);
    assert_true(fx.ipi.logical);
    assert_int_equal(fx.ipi.dest, 0xFFFFFFFF);
}

static void test_icr_shorthands(void **state)
{
    (void)state;
    static const struct {
        uint32_t low;
        bool sent;
        enum vlapic_shorthand sh;
    } cases[] = {
        { 0x00044050, true,  VLAPIC_DEST_SELF },
        { 0x00084050, true,  VLAPIC_DEST_ALL },
        { 0x000C4050, true,  VLAPIC_DEST_ALL_BUT_SELF },
        { 0x000C4400, true,  VLAPIC_DEST_ALL_BUT_SELF },   /* NMI to others */
        { 0x000CC500, true,  VLAPIC_DEST_ALL_BUT_SELF },   /* INIT to others */
        { 0x000C4620, true,  VLAPIC_DEST_ALL_BUT_SELF },   /* SIPI to others */
        { 0x00084400, true,  VLAPIC_DEST_ALL },
        { 0x00044400, false, 0 },                          /* self NMI: invalid */
        { 0x0004C500, false, 0 },                          /* self INIT: invalid */
        { 0x00044620, false, 0 },                          /* self SIPI: invalid */
    };
    struct vlapic v;

    setup_x2(&v, 3);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wr(&v, MSR_ICR, (7ull << 32) | cases[i].low, 0);
        assert_int_equal(fx.ipi_valid, cases[i].sent);
        if (cases[i].sent)
            assert_int_equal(fx.ipi.shorthand, cases[i].sh);
    }
}

static void test_ipi_targets(void **state)
{
    (void)state;
    struct vlapic t[40], xapic;
    struct vlapic_ipi ipi = { .kind = VLAPIC_IPI_FIXED, .vector = 0x40, .source_id = 5 };

    for (uint32_t i = 0; i < 40; i++)
        setup_x2(&t[i], i);
    vlapic_init(&xapic, 6, false);

    ipi.shorthand = VLAPIC_DEST_SELF;
    assert_true(vlapic_ipi_targets(&ipi, &t[5]));
    assert_false(vlapic_ipi_targets(&ipi, &t[6]));
    ipi.shorthand = VLAPIC_DEST_ALL;
    assert_true(vlapic_ipi_targets(&ipi, &t[5]));
    assert_true(vlapic_ipi_targets(&ipi, &t[39]));
    ipi.shorthand = VLAPIC_DEST_ALL_BUT_SELF;
    assert_false(vlapic_ipi_targets(&ipi, &t[5]));
    assert_true(vlapic_ipi_targets(&ipi, &t[0]));

    ipi.shorthand = VLAPIC_DEST_FIELD;
    ipi.dest = 17;                              /* physical */
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(vlapic_ipi_targets(&ipi, &t[i]), i == 17);
    ipi.dest = 17 + (1ull << 8);                /* no truncation to 8 bits */
    assert_false(vlapic_ipi_targets(&ipi, &t[17]));
    ipi.dest = 6;
    assert_true(vlapic_ipi_targets(&ipi, &xapic));
    ipi.dest = 0xFFFFFFFF;                      /* broadcast */
    assert_true(vlapic_ipi_targets(&ipi, &t[33]));

    /* Logical: cluster 1 (IDs 16-31), members 0 and 3 -> IDs 16 and 19. */
    ipi.logical = true;
    ipi.dest = 0x00010009;
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(vlapic_ipi_targets(&ipi, &t[i]), i == 16 || i == 19);
    ipi.dest = 0x00020000;                      /* empty member set */
    for (uint32_t i = 0; i < 40; i++)
        assert_false(vlapic_ipi_targets(&ipi, &t[i]));
    ipi.dest = 0x00000040;
    assert_false(vlapic_ipi_targets(&ipi, &xapic));    /* xAPIC logical: not offered */
    ipi.dest = 0xFFFFFFFF;
    assert_true(vlapic_ipi_targets(&ipi, &t[38]));
}

static void test_self_ipi(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 2);
    wr(&v, MSR_SELF_IPI, 0x55, 0);
    assert_false(fx.ipi_valid);
    assert_true(irr_has(&v, 0x55));
    assert_int_equal(vlapic_pending_vector(&v), 0x55);
    wr(&v, MSR_SELF_IPI, 0xFF, 0);
    assert_int_equal(vlapic_pending_vector(&v), 0xFF);
}

/* ---- timer ---- */

static void test_timer_one_shot(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 0);
    wr(&v, MSR_LVT_TIMER, 0xEF, 0);         /* one-shot, unmasked */
    wr(&v, MSR_TDCR, 0x0, 0);               /* divide by 2 */
    wr(&v, MSR_TMICT, 1000, 5000);
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, 7000);
    assert_int_equal(rd(&v, MSR_TMCCT, 5000), 1000);
    assert_int_equal(rd(&v, MSR_TMCCT, 6000), 500);
    assert_int_equal(rd(&v, MSR_TMCCT, 6999), 1);
    assert_int_equal(rd(&v, MSR_TMCCT, 7000), 0);
    assert_int_equal(rd(&v, MSR_TMCCT, 1000000), 0);

    vlapic_timer_expired(&v, 6000, &fx);    /* the caller's timer came early */
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, 7000);
    assert_false(irr_has(&v, 0xEF));

    vlapic_timer_expired(&v, 7003, &fx);
    assert_true(irr_has(&v, 0xEF));
    assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);
    assert_int_equal(rd(&v, MSR_TMCCT, 7003), 0);
    assert_int_equal(rd(&v, MSR_TMICT, 0), 1000);

    /* A stale expiry after the count ended raises nothing more. */
    vlapic_ack(&v, 0xEF);
    vlapic_timer_expired(&v, 9000, &fx);
    assert_false(irr_has(&v, 0xEF));
    assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);

    /* Writing 0 stops a running count. */
    wr(&v, MSR_TMICT, 50, 10000);
    wr(&v, MSR_TMICT, 0, 10010);
    assert_int_equal(fx.timer, VLAPIC_TIMER_CANCEL);
    assert_int_equal(rd(&v, MSR_TMCCT, 10020), 0);
    vlapic_timer_expired(&v, 20000, &fx);
    assert_int_equal(rd(&v, MSR_IRR0 + 7, 0), 0);
}

static void test_timer_divide(void **state)
{
    (void)state;
    static const struct { uint32_t reg; uint64_t div; } cases[] = {
        { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
    };
    struct vlapic v;

    setup_x2(&v, 0);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wr(&v, MSR_TDCR, cases[i].reg, 0);
        wr(&v, MSR_TMICT, 100, 1000);
        assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
        assert_int_equal(fx.timer_deadline_ns, 1000 + 100 * cases[i].div);
        assert_int_equal(rd(&v, MSR_TMCCT, 1000 + 40 * cases[i].div), 60);
    }

    /* Changing the divider mid-count: the count goes on at the new rate. */
    wr(&v, MSR_TDCR, 0x0, 0);                   /* /2 */
    wr(&v, MSR_TMICT, 1000, 0);                 /* deadline 2000 */
    wr(&v, MSR_TDCR, 0xB, 1000);                /* 500 left, now /1 */
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, 1500);
    assert_int_equal(rd(&v, MSR_TMCCT, 1200), 300);

    /* The largest period (2^32-1 counts x 128) and a clock near its end saturate. */
    wr(&v, MSR_TDCR, 0xA, 0);
    wr(&v, MSR_TMICT, 0xFFFFFFFF, 0);
    assert_int_equal(fx.timer_deadline_ns, 0xFFFFFFFFull * 128);
    wr(&v, MSR_TMICT, 0xFFFFFFFF, UINT64_MAX - 5);
    assert_int_equal(fx.timer_deadline_ns, UINT64_MAX);
}

static void test_timer_periodic(void **state)
{
    (void)state;
    struct vlapic v;

    setup_x2(&v, 0);
    wr(&v, MSR_LVT_TIMER, PERIODIC | 0xEC, 0);
    wr(&v, MSR_TDCR, 0xB, 0);
    wr(&v, MSR_TMICT, 100000, 0);               /* 100 us: the shortest period kept as is */
    assert_int_equal(fx.timer_deadline_ns, 100000);

    vlapic_timer_expired(&v, 100000, &fx);
    assert_true(irr_has(&v, 0xEC));
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, 200000);
    assert_int_equal(rd(&v, MSR_TMCCT, 150000), 50000);
    vlapic_ack(&v, 0xEC);

    /* Late: the count has reloaded; missed periods coalesce into one interrupt. */
    assert_int_equal(rd(&v, MSR_TMCCT, 230000), 70000);
    vlapic_timer_expired(&v, 450000, &fx);
    assert_true(irr_has(&v, 0xEC));
    assert_int_equal(fx.timer_deadline_ns, 500000);
    vlapic_ack(&v, 0xEC);

    /* Masked: keeps counting and re-arming, raises nothing. */
    wr(&v, MSR_LVT_TIMER, PERIODIC | LVT_MASKED | 0xEC, 460000);
    vlapic_timer_expired(&v, 500000, &fx);
    assert_false(irr_has(&v, 0xEC));
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, 600000);

    /* Back to one-shot: the next expiry is the last. */
    wr(&v, MSR_LVT_TIMER, 0xEC, 510000);
    vlapic_timer_expired(&v, 600000, &fx);
    assert_true(irr_has(&v, 0xEC));
    assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);
    assert_int_equal(rd(&v, MSR_TMCCT, 650000), 0);
}

/*
 * Initial count 1 at divide 1 in periodic mode (1 ns): the first expiry is as
 * programmed, every later one at least VLAPIC_PERIODIC_MIN_NS on, and never
 * at or before the time it was re-armed.
 */
static void test_timer_periodic_floor(void **state)
{
    (void)state;
    static const uint32_t tiny[] = { 1, 2, 99999 };
    struct vlapic v;

    for (unsigned i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
        uint64_t now = 1000;

        setup_x2(&v, 0);
        wr(&v, MSR_LVT_TIMER, PERIODIC | 0xEC, 0);
        wr(&v, MSR_TDCR, 0xB, 0);
        wr(&v, MSR_TMICT, tiny[i], now);
        assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
        assert_int_equal(fx.timer_deadline_ns, now + tiny[i]);
        assert_int_equal(rd(&v, MSR_TMICT, now), tiny[i]);     /* the register keeps its value */
        for (int k = 0; k < 50; k++) {
            uint64_t due = fx.timer_deadline_ns;

            now = due + (uint64_t)k * 7919;                    /* on time, then later and later */
            vlapic_timer_expired(&v, now, &fx);
            assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
            assert_true(fx.timer_deadline_ns > now);
            assert_true(fx.timer_deadline_ns - due >= VLAPIC_PERIODIC_MIN_NS);
            assert_true(rd(&v, MSR_TMCCT, now) <= tiny[i]);
            vlapic_ack(&v, 0xEC);
        }
    }

    /* The same through the xAPIC page. */
    static uint32_t page[VLAPIC_PAGE_WORDS];

    vlapic_init(&v, 0, true);
    vlapic_page_publish(&v, page, 0);
    page[W(0x0F0)] = SVR_ON;
    page[W(0x320)] = PERIODIC | 0xEF;
    page[W(0x3E0)] = 0xB;
    page[W(0x380)] = 1;
    vlapic_page_collect(&v, page, 5000, &fx);
    assert_int_equal(fx.timer_deadline_ns, 5001);
    vlapic_timer_expired(&v, 5001, &fx);
    assert_int_equal(fx.timer_deadline_ns, 5001 + VLAPIC_PERIODIC_MIN_NS);

    /* A clock near the end of time saturates instead of wrapping into the past. */
    setup_x2(&v, 0);
    wr(&v, MSR_LVT_TIMER, PERIODIC | 0xEC, 0);
    wr(&v, MSR_TDCR, 0xB, 0);
    wr(&v, MSR_TMICT, 1, UINT64_MAX - 10);
    vlapic_timer_expired(&v, UINT64_MAX - 9, &fx);
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, UINT64_MAX);
}

/* An expiry that would raise nothing new need not wake anyone (the scheduler skips it). */
static void test_timer_expiry_raises(void **state)
{
    (void)state;
    struct vlapic v;

    vlapic_init(&v, 0, true);
    assert_false(vlapic_timer_expiry_raises(&v));           /* reset: LVT masked, SVR off */
    to_x2apic(&v);
    wr(&v, MSR_SVR, SVR_ON, 0);
    wr(&v, MSR_LVT_TIMER, PERIODIC | 0xEC, 0);
    wr(&v, MSR_TDCR, 0xB, 0);
    wr(&v, MSR_TMICT, 1, 0);
    assert_true(vlapic_timer_expiry_raises(&v));
    vlapic_timer_expired(&v, 1, &fx);                       /* IRR[0xEC] now set */
    assert_true(irr_has(&v, 0xEC));
    assert_false(vlapic_timer_expiry_raises(&v));
    vlapic_timer_expired(&v, fx.timer_deadline_ns, &fx);    /* coalesced: nothing new */
    assert_false(vlapic_timer_expiry_raises(&v));
    vlapic_ack(&v, 0xEC);                                   /* injected: IRR clear again */
    assert_true(vlapic_timer_expiry_raises(&v));
    wr(&v, MSR_LVT_TIMER, PERIODIC | LVT_MASKED | 0xEC, 0);
    assert_false(vlapic_timer_expiry_raises(&v));
    wr(&v, MSR_LVT_TIMER, PERIODIC | 0xEC, 0);
    wr(&v, MSR_SVR, 0xFF, 0);                               /* software-disabled */
    assert_false(vlapic_timer_expiry_raises(&v));
}

/* ---- xAPIC page ---- */

static void test_page_publish(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_WORDS];
    struct vlapic v;

    vlapic_init(&v, 0x1C, false);
    memset(page, 0xAA, sizeof(page));
    vlapic_page_publish(&v, page, 0);
    assert_int_equal(page[W(0x020)], 0x1C000000);
    assert_int_equal(page[W(0x030)], 0x50014);
    assert_int_equal(page[W(0x080)], 0);
    assert_int_equal(page[W(0x0B0)], VLAPIC_PAGE_EOI_SENTINEL);
    assert_int_equal(page[W(0x0E0)], 0xFFFFFFFF);
    assert_int_equal(page[W(0x0F0)], 0xFF);
    for (uint32_t off = 0x320; off <= 0x370; off += 0x10)
        assert_int_equal(page[W(off)], LVT_MASKED);
    assert_int_equal(page[W(0x2F0)], LVT_MASKED);
    /* Everything that is not a register reads 0. */
    assert_int_equal(page[W(0x000)], 0);
    assert_int_equal(page[W(0x024)], 0);
    assert_int_equal(page[W(0x040)], 0);
    assert_int_equal(page[W(0x3F0)], 0);
    assert_int_equal(page[VLAPIC_PAGE_WORDS - 1], 0);

    /* ISR/IRR bits at their register and bit; PPR and the running count. */
    v.svr = SVR_ON;
    vlapic_accept_irq(&v, 0x61);
    vlapic_ack(&v, 0x61);
    vlapic_accept_irq(&v, 0x41);
    v.lvt[VLAPIC_LVT_TIMER] = 0xEF;
    v.timer_divide_reg = 0xB;
    v.timer_initial = 100;
    v.timer_armed = true;
    v.timer_deadline_ns = 100;
    vlapic_page_publish(&v, page, 30);
    assert_int_equal(page[W(0x100 + 3 * 0x10)], 1u << 1);  /* ISR 0x61 */
    assert_int_equal(page[W(0x200 + 2 * 0x10)], 1u << 1);  /* IRR 0x41 */
    assert_int_equal(page[W(0x0A0)], 0x60);
    assert_int_equal(page[W(0x320)], 0xEF);
    assert_int_equal(page[W(0x380)], 100);
    assert_int_equal(page[W(0x390)], 70);
    assert_int_equal(page[W(0x3E0)], 0xB);

    /* The xAPIC ID is the low byte of a wide ID. */
    vlapic_init(&v, 0x1FF, false);
    vlapic_page_publish(&v, page, 0);
    assert_int_equal(page[W(0x020)], 0xFF000000);
}

static void test_page_collect_round_trip(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_WORDS];
    struct vlapic v, before;

    vlapic_init(&v, 0, true);
    vlapic_page_publish(&v, page, 0);

    /* Nothing written: nothing changes. */
    memcpy(&before, &v, sizeof(v));
    vlapic_page_collect(&v, page, 10, &fx);
    assert_memory_equal(&v, &before, sizeof(v));
    assert_false(fx.eoi);
    assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);

    /* The unikernel sequence: enable, program a periodic timer. */
    page[W(0x0F0)] = SVR_ON;
    page[W(0x080)] = 0x10;
    page[W(0x320)] = PERIODIC | 0xEF;
    page[W(0x3E0)] = 0xB;
    page[W(0x380)] = 1000;
    page[W(0x0D0)] = 0x01000000;
    page[W(0x0E0)] = 0x0FFFFFFF;                /* cluster model */
    vlapic_page_collect(&v, page, 100, &fx);
    assert_int_equal(fx.timer, VLAPIC_TIMER_ARM);
    assert_int_equal(fx.timer_deadline_ns, 1100);
    assert_false(fx.eoi);
    vlapic_page_publish(&v, page, 100);
    assert_int_equal(page[W(0x0F0)], SVR_ON);
    assert_int_equal(page[W(0x080)], 0x10);
    assert_int_equal(page[W(0x320)], PERIODIC | 0xEF);
    assert_int_equal(page[W(0x3E0)], 0xB);
    assert_int_equal(page[W(0x380)], 1000);
    assert_int_equal(page[W(0x390)], 1000);
    assert_int_equal(page[W(0x0D0)], 0x01000000);
    assert_int_equal(page[W(0x0E0)], 0x0FFFFFFF);

    /* Collecting the same page again re-arms nothing. */
    vlapic_page_collect(&v, page, 500, &fx);
    assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);

    /* Timer interrupt, injected, then EOI written through the page. */
    vlapic_timer_expired(&v, 1100, &fx);
    assert_int_equal(vlapic_pending_vector(&v), 0xEF);
    vlapic_ack(&v, 0xEF);
    vlapic_page_publish(&v, page, 1100);
    assert_int_equal(page[W(0x100 + 7 * 0x10)], 1u << 15);
    page[W(0x0B0)] = 0;
    vlapic_page_collect(&v, page, 1150, &fx);
    assert_true(fx.eoi);
    assert_int_equal(fx.eoi_vector, 0xEF);
    assert_int_equal(page[W(0x0B0)], VLAPIC_PAGE_EOI_SENTINEL);
    vlapic_page_collect(&v, page, 1160, &fx);  /* the sentinel is back: no second EOI */
    assert_false(fx.eoi);

    /* Writing 0 to the initial count stops the timer. */
    page[W(0x380)] = 0;
    vlapic_page_collect(&v, page, 1200, &fx);
    assert_int_equal(fx.timer, VLAPIC_TIMER_CANCEL);
}

static void test_page_collect_hostile(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_WORDS];
    struct vlapic v;

    vlapic_init(&v, 1, false);
    vlapic_page_publish(&v, page, 0);
    /* Reserved bits everywhere are dropped, not kept or faulted. */
    page[W(0x0F0)] = 0xFFFFFFFF;
    page[W(0x080)] = 0xFFFFFF20;
    page[W(0x320)] = 0xFFFFFFFF;
    page[W(0x370)] = 0xFFFFFFFF;
    page[W(0x3E0)] = 0xFFFFFFF4;
    page[W(0x0D0)] = 0x12345678;
    page[W(0x0E0)] = 0x00000000;
    /* Read-only registers written by the guest do not change state. */
    page[W(0x020)] = 0x55000000;
    page[W(0x030)] = 0;
    page[W(0x200)] = 0xFFFFFFFF;
    page[W(0x100)] = 0xFFFFFFFF;
    page[W(0x300)] = 0x000C4500;                /* ICR via the page: not supported */
    vlapic_page_collect(&v, page, 0, &fx);
    assert_false(fx.ipi_valid);
    assert_int_equal(v.svr, 0x3FF);
    assert_int_equal(v.tpr, 0x20);
    assert_int_equal(v.lvt[VLAPIC_LVT_TIMER], PERIODIC | LVT_MASKED | 0xFF);
    assert_int_equal(v.lvt[VLAPIC_LVT_ERROR], LVT_MASKED | 0xFF);
    assert_int_equal(v.timer_divide_reg, 0x0);
    assert_int_equal(v.ldr, 0x12000000);
    assert_int_equal(v.dfr, 0x0FFFFFFF);
    assert_int_equal(v.id, 1);
    assert_int_equal(v.irr[0], 0);
    assert_int_equal(v.isr[0], 0);
    assert_int_equal(v.icr, 0);
    assert_int_equal(vlapic_pending_vector(&v), -1);

    /* A republish repairs what the guest scribbled on. */
    vlapic_page_publish(&v, page, 0);
    assert_int_equal(page[W(0x020)], 0x01000000);
    assert_int_equal(page[W(0x030)], 0x50014);
    assert_int_equal(page[W(0x200)], 0);

    /* Software disable through the page masks the LVTs written with it. */
    page[W(0x0F0)] = 0xFF;
    page[W(0x350)] = 0x700;
    vlapic_page_collect(&v, page, 0, &fx);
    assert_int_equal(v.lvt[VLAPIC_LVT_LINT0], 0x700 | LVT_MASKED);
    vlapic_page_publish(&v, page, 0);
    assert_int_equal(page[W(0x350)], 0x700 | LVT_MASKED);

    /* ESR: a write through the page latches the errors seen so far. */
    page[W(0x0F0)] = SVR_ON;
    vlapic_page_collect(&v, page, 0, &fx);
    vlapic_accept_irq(&v, 2);
    vlapic_page_publish(&v, page, 0);
    assert_int_equal(page[W(0x280)], 0);
    page[W(0x280)] = 0x1234;                    /* any value counts as a write */
    vlapic_page_collect(&v, page, 0, &fx);
    vlapic_page_publish(&v, page, 0);
    assert_int_equal(page[W(0x280)], 0x40);
}

static void test_page_ignored_outside_xapic(void **state)
{
    (void)state;
    static uint32_t page[VLAPIC_PAGE_WORDS];
    struct vlapic v, before;

    setup_x2(&v, 0);
    vlapic_accept_irq(&v, 0x70);
    vlapic_ack(&v, 0x70);
    vlapic_page_publish(&v, page, 0);
    page[W(0x0B0)] = 0;
    page[W(0x0F0)] = 0;
    page[W(0x380)] = 77;
    memcpy(&before, &v, sizeof(v));
    vlapic_page_collect(&v, page, 0, &fx);
    assert_memory_equal(&v, &before, sizeof(v));
    assert_false(fx.eoi);
    assert_int_equal(fx.timer, VLAPIC_TIMER_KEEP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values),
        cmocka_unit_test(test_ldr_derived_from_id),
        cmocka_unit_test(test_init_reset_keeps_id_and_base),
        cmocka_unit_test(test_msr_read_write_registers),
        cmocka_unit_test(test_msr_read_map),
        cmocka_unit_test(test_msr_gp_outside_x2apic_mode),
        cmocka_unit_test(test_msr_gp_read_only_and_write_only),
        cmocka_unit_test(test_msr_gp_reserved_bits),
        cmocka_unit_test(test_base_transitions),
        cmocka_unit_test(test_base_hostile_values),
        cmocka_unit_test(test_base_disable_resets),
        cmocka_unit_test(test_priority_tpr_ppr),
        cmocka_unit_test(test_accept_ack_eoi_nested),
        cmocka_unit_test(test_highest_and_lowest_vectors),
        cmocka_unit_test(test_illegal_vectors_and_esr),
        cmocka_unit_test(test_software_disabled),
        cmocka_unit_test(test_icr_decode),
        cmocka_unit_test(test_icr_shorthands),
        cmocka_unit_test(test_ipi_targets),
        cmocka_unit_test(test_self_ipi),
        cmocka_unit_test(test_timer_one_shot),
        cmocka_unit_test(test_timer_divide),
        cmocka_unit_test(test_timer_periodic),
        cmocka_unit_test(test_timer_periodic_floor),
        cmocka_unit_test(test_timer_expiry_raises),
        cmocka_unit_test(test_page_publish),
        cmocka_unit_test(test_page_collect_round_trip),
        cmocka_unit_test(test_page_collect_hostile),
        cmocka_unit_test(test_page_ignored_outside_xapic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
