/* cpu.h (hypervisor): this CPU's descriptor tables, as the VMX host-state area needs them. */
#ifndef WISP_CPU_H
#define WISP_CPU_H

#include "env.h"

struct host_selectors {
    uint16_t cs, ds, ss, tr;
    uint64_t gdt_base, idt_base, tr_base;
};

/* This CPU's GDT, TSS and the shared IDT; after percpu_init. */
void cpu_tables_init(void);
void cpu_caches_on(void);
/*
 * Boot CPU, once, before the others start: the hypervisor's own page tables become
 * read-only to itself (cpu.c). Every CPU then sets CR0.WP (cpu_write_protect_on), so
 * a stray write into them faults where it happens.
 */
void host_pt_protect(void);
void cpu_write_protect_on(void);
void cpu_host_selectors(struct host_selectors *s);

#endif
