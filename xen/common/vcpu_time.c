/* vcpu_time.c (hypervisor): pvclock, wall clock and runstate as guests read them (Xen's xen.h, vcpu.h). */
#include "env.h"
#include "domain.h"
#include "errno.h"
#include "hypercall.h"
#include "time.h"
#include "vcpu_time.h"
#include "xen/xen.h"

#define VCPU_INFO_TIME_OFFSET 32        /* vcpu_info.time, same in both layouts */
#define WC_OFFSET_64      0xc00         /* shared_info.wc_version, 64-bit layout */
#define WC_OFFSET_COMPAT  0x900         /* ... and after the 32-bit layout's smaller bitmaps */

/*
 * System time is one linear function of the TSC for the whole life of the
 * machine (time.h), and the guest TSC is the host's, so every vCPU gets the
 * same constant parameters: tsc_timestamp = the TSC at system time 0.
 */
static struct vcpu_time_info time_info(void)
{
    struct time_scale s = time_scale();

    return (struct vcpu_time_info){
        .tsc_timestamp = time_tsc_base(),
        .system_time = 0,
        .tsc_to_system_mul = s.mul,
        .tsc_shift = s.shift,
        .flags = XEN_PVCLOCK_TSC_STABLE_BIT,
    };
}

/* The version protocol: odd while the fields change (Xen's xen.h, vcpu_time_info). */
static void write_versioned(struct vcpu_time_info *dst, const struct vcpu_time_info *src)
{
    uint32_t version = __atomic_load_n(&dst->version, __ATOMIC_RELAXED);

    __atomic_store_n(&dst->version, (version | 1) + 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    dst->tsc_timestamp = src->tsc_timestamp;
    dst->system_time = src->system_time;
    dst->tsc_to_system_mul = src->tsc_to_system_mul;
    dst->tsc_shift = src->tsc_shift;
    dst->flags = src->flags;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&dst->version, (version | 1) + 1, __ATOMIC_RELAXED);
}

static int guest_area_write(struct domain *d, const struct guest_area *a, const void *src)
{
    const uint8_t *p = src;

    if (copy_to_guest_phys(&d->mem, a->gpa[0], p, a->first_len))
        return -EFAULT;
    if (a->len > a->first_len &&
        copy_to_guest_phys(&d->mem, a->gpa[1], p + a->first_len, a->len - a->first_len))
        return -EFAULT;
    return 0;
}

void vcpu_publish_time(struct vcpu *v)
{
    uint8_t *info = vcpu_info_of(v);
    struct vcpu_time_info t = time_info();

    if (info)
        write_versioned((struct vcpu_time_info *)(info + VCPU_INFO_TIME_OFFSET), &t);
    if (v->time_area.len) {
        t.version = 2;
        (void)guest_area_write(v->dom, &v->time_area, &t);
    }
}

void domain_publish_wallclock(struct domain *d)
{
    uint8_t *wc = (uint8_t *)d->shared_info + (d->evtchn.compat ? WC_OFFSET_COMPAT : WC_OFFSET_64);
    uint32_t *version = (uint32_t *)wc;
    uint64_t sec;
    uint32_t nsec;

    time_boot_wallclock(&sec, &nsec);
    __atomic_store_n(version, (*version | 1) + 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ((uint32_t *)wc)[1] = (uint32_t)sec;
    ((uint32_t *)wc)[2] = nsec;
    if (!d->evtchn.compat)
        ((uint32_t *)wc)[3] = (uint32_t)(sec >> 32);       /* wc_sec_hi */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(version, (*version | 1) + 1, __ATOMIC_RELAXED);
}

void vcpu_timer_virq(struct vcpu *v)
{
    /* A timer nobody bound to VIRQ_TIMER has no one to tell: -ENOENT is fine. */
    int rc = evtchn_send_virq(&v->dom->evtchn, v->id, VIRQ_TIMER);

    (void)rc;
}

void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out)
{
    *out = (struct vcpu_runstate_info){ .state = (int)v->runstate,
                                        .state_entry_time = v->runstate_entry_ns };
    for (unsigned i = 0; i < 4; i++)
        out->time[i] = v->runstate_time[i];
}

size_t vcpu_runstate_pack(struct vcpu *v, bool compat, uint8_t *buf)
{
    struct vcpu_runstate_info r;

    vcpu_runstate_get(v, &r);
    if (!compat) {
        memcpy(buf, &r, RUNSTATE_SIZE_64);
        return RUNSTATE_SIZE_64;
    }
    /* i386 aligns uint64_t to 4: no padding after state. */
    memcpy(buf, &r.state, 4);
    memcpy(buf + 4, &r.state_entry_time, 8);
    memcpy(buf + 12, r.time, sizeof(r.time));
    return RUNSTATE_SIZE_COMPAT;
}

static void write_runstate_area(struct vcpu *v)
{
    uint8_t buf[RUNSTATE_SIZE_64];

    /* The layout is the registering caller's: a 32-bit caller pinned the shorter one. */
    vcpu_runstate_pack(v, v->runstate_area.len == RUNSTATE_SIZE_COMPAT, buf);
    (void)guest_area_write(v->dom, &v->runstate_area, buf);
}

void vcpu_runstate_enter(struct vcpu *v, unsigned state)
{
    uint64_t now = now_ns();

    if (v->runstate < 4)
        v->runstate_time[v->runstate] += now - v->runstate_entry_ns;
    v->runstate = state;
    v->runstate_entry_ns = now;
    if (v->runstate_area.len)
        write_runstate_area(v);
}

/* Pins [gva, gva+len) to guest-physical pages now, as the caller's page tables map it. */
static long pin_area(struct hcall_ctx *c, uint64_t gva, uint32_t len, struct guest_area *out)
{
    uint32_t first = (uint32_t)(PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
    struct guest_area a = { .len = len, .first_len = first < len ? first : len };

    if (guest_translate(&c->d->mem, &c->pg, gva, true, &a.gpa[0]))
        return -EFAULT;
    if (a.first_len < len && guest_translate(&c->d->mem, &c->pg, gva + a.first_len, true, &a.gpa[1]))
        return -EFAULT;
    *out = a;
    return 0;
}

static long register_area(struct hcall_ctx *c, uint64_t gva, uint32_t len, struct guest_area *area)
{
    uint64_t addr;

    if (hc_copy_from(c, &addr, gva, c->compat ? 4 : 8))
        return -EFAULT;
    if (c->compat)
        addr = (uint32_t)addr;
    if (!addr) {
        *area = (struct guest_area){ 0 };
        return 0;
    }
    return pin_area(c, addr, len, area);
}

long vcpu_register_runstate_area(struct hcall_ctx *c, struct vcpu *v, uint64_t gva)
{
    long rc = register_area(c, gva, c->compat ? RUNSTATE_SIZE_COMPAT : RUNSTATE_SIZE_64,
                            &v->runstate_area);

    if (!rc && v->runstate_area.len)
        write_runstate_area(v);
    return rc;
}

long vcpu_register_time_area(struct hcall_ctx *c, struct vcpu *v, uint64_t gva)
{
    long rc = register_area(c, gva, sizeof(struct vcpu_time_info), &v->time_area);

    if (!rc)
        vcpu_publish_time(v);
    return rc;
}
