/* smpboot.h (hypervisor): starting the machine's other CPUs. */
#ifndef WISP_SMPBOOT_H
#define WISP_SMPBOOT_H

#include "acpi_cpus.h"
#include "bootinfo.h"

struct domain;

/*
 * On the boot CPU, after its own set-up (SVM or VMX, time, APIC) and before
 * any domain is built: starts each CPU in `cpus` but itself, up to `max` CPUs
 * in all (0: as many as Wisp supports), and checks that their TSCs agree.
 */
void smp_boot(const struct boot_info *bi, const struct acpi_cpus *cpus, unsigned max);
/* How many CPUs run, the boot CPU included; they are numbered 0 to this - 1. */
unsigned smp_cpus_online(void);
uint32_t smp_apic_id(unsigned cpu);

/* On the boot CPU once the domains are built: the others start scheduling. */
void smp_release_others(void);

/*
 * Tells `cpu` to look at its vCPUs again at once: an IPI takes it out of a guest
 * or out of its sleep (none to this CPU, or when one is already on its way).
 */
void smp_kick(unsigned cpu);
/* Kicks `cpu` and returns once it is out of d's guest (the caller may hold hv_lock). */
void smp_wait_out_of_guest(unsigned cpu, const struct domain *d);
/* The machine is ending: every other CPU parks; with `wait`, none runs a guest after this
 * returns (panic does not wait: the CPU that would have to answer may be the broken one). */
void smp_stop_others(bool wait);
/* Parks this CPU for good if smp_stop_others asked it to. */
void smp_park_if_stopped(void);

#endif
