/* lapic.h (hypervisor): the glue between vCPUs and their virtual LAPIC (hvm/lapic.c). */
#ifndef WISP_LAPIC_H
#define WISP_LAPIC_H

#include "env.h"
#include "vlapic.h"

struct vcpu;

#define XAPIC_PAGE_GPA VLAPIC_DEFAULT_BASE

void lapic_vcpu_init(struct vcpu *v);
/* Carries out what a vlapic call asked: IPIs to the domain's vCPUs, the APIC timer. */
void lapic_apply(struct vcpu *v, const struct vlapic_effects *fx);
bool lapic_msr_in_range(uint32_t index);
/* false: the guest gets #GP. */
bool lapic_msr_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool lapic_msr_write(struct vcpu *v, uint32_t index, uint64_t value);
void lapic_timer_fire(struct vcpu *v, uint64_t now);
/* Whether v's APIC timer, once due, is worth waking the pCPU for (vlapic_timer_expiry_raises). */
bool lapic_timer_wakes(const struct vcpu *v);
/* false: another vCPU of v's domain holds the xAPIC page; v gets it at that one's exit. */
bool lapic_page_may_enter(struct vcpu *v);
void lapic_page_before_entry(struct vcpu *v);
/* v leaves its pCPU's run for now: another vCPU may have the xAPIC page. */
void lapic_page_release(struct vcpu *v);
void lapic_page_after_exit(struct vcpu *v);

#endif
