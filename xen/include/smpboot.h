/* smpboot.h (hypervisor): starting the machine's other CPUs. */
#ifndef WISP_SMPBOOT_H
#define WISP_SMPBOOT_H

#include "acpi_cpus.h"
#include "bootinfo.h"

/*
 * On the boot CPU, after its own set-up (SVM or VMX, time, APIC) and before
 * any domain is built: starts each CPU in `cpus` but itself, up to `max` CPUs
 * in all (0: as many as Wisp supports), and checks that their TSCs agree.
 */
void smp_boot(const struct boot_info *bi, const struct acpi_cpus *cpus, unsigned max);
/* How many CPUs run, the boot CPU included. */
unsigned smp_cpus_online(void);

#endif
