/* percpu.c (hypervisor): the per-physical-CPU areas. */
#include "env.h"
#include "percpu.h"
#include "x86.h"

static struct percpu percpu_areas[MAX_PCPUS];

void percpu_init(unsigned cpu_id)
{
    struct percpu *p = &percpu_areas[cpu_id];

    p->self = p;
    p->cpu_id = cpu_id;
    wrmsr(MSR_GS_BASE, (uintptr_t)p);
}

struct percpu *percpu_of(unsigned cpu_id)
{
    return &percpu_areas[cpu_id];
}
