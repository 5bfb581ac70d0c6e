/* percpu.h (hypervisor): state that belongs to one physical CPU, reached through GS. */
#ifndef WISP_PERCPU_H
#define WISP_PERCPU_H

#include "env.h"

struct vcpu;

#define MAX_PCPUS 1         /* only the boot CPU runs guests so far */

struct percpu {
    struct percpu *self;        /* offset 0: what this_cpu() loads through GS */
    unsigned cpu_id;
    struct vcpu *fpu_owner;     /* whose FPU state is loaded in this CPU */
    struct vcpu *dr_owner;      /* whose DR0-DR3 and DR6 are in this CPU (hvm.c) */
};

/* Points GS at this CPU's area; before any vCPU exists (VMX copies GS base into the VMCS). */
void percpu_init(unsigned cpu_id);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;

    __asm__("mov %%gs:0, %0" : "=r"(p));
    return p;
}

#endif
