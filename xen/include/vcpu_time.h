/* vcpu_time.h (hypervisor): what guests read about time: pvclock, wallclock, runstate (vcpu_time.c). */
#ifndef WISP_VCPU_TIME_H
#define WISP_VCPU_TIME_H

#include "env.h"
#include "xen/vcpu.h"

struct vcpu;
struct domain;
struct hcall_ctx;

/* Writes the vCPU's vcpu_time_info (in vcpu_info and any registered time area). */
void vcpu_publish_time(struct vcpu *v);
/* Writes the boot wall clock into shared_info (layout per the domain's compat latch). */
void domain_publish_wallclock(struct domain *d);
/* Raises VIRQ_TIMER on v (its singleshot or periodic timer expired). */
void vcpu_timer_virq(struct vcpu *v);
/* Accounts the time spent in the old runstate and enters `state` (RUNSTATE_*). */
void vcpu_runstate_enter(struct vcpu *v, unsigned state);
/* The runstate as VCPUOP_get_runstate_info gives it. */
void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out);
/* ... laid out for a 64-bit or 32-bit (compat) guest into buf (RUNSTATE_SIZE_64 bytes); returns the size. */
#define RUNSTATE_SIZE_64     48
#define RUNSTATE_SIZE_COMPAT 44
size_t vcpu_runstate_pack(struct vcpu *v, bool compat, uint8_t *buf);

/* VCPUOP_register_{runstate,vcpu_time}_memory_area: pin gva (0 = unregister). */
long vcpu_register_runstate_area(struct hcall_ctx *c, struct vcpu *v, uint64_t gva);
long vcpu_register_time_area(struct hcall_ctx *c, struct vcpu *v, uint64_t gva);

#endif
