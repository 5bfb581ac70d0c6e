/* acpi_cpus.h (hypervisor, pure): the CPUs the firmware lists in its ACPI MADT. */
#ifndef WISP_ACPI_CPUS_H
#define WISP_ACPI_CPUS_H

#include "bootinfo.h"

#define ACPI_CPUS_MAX 64

struct acpi_cpus {
    unsigned nr;                        /* enabled CPUs kept in apic_id[] */
    unsigned listed;                    /* enabled CPUs in the MADT (more than nr: dropped) */
    uint32_t apic_id[ACPI_CPUS_MAX];    /* in MADT order: the firmware lists the boot CPU first */
};

/*
 * Finds the RSDP (the loader's copy, rsdp_len bytes at rsdp, when it gave one;
 * else by the ACPI spec's search of the EBDA and the BIOS area), then the
 * XSDT or RSDT, then the MADT, and lists its enabled local APIC and x2APIC
 * entries. Firmware tables are input like any other: every read goes through
 * phys with a length, every checksum and length is checked. Returns 0, or a
 * negative errno-style code with *err naming what was missing or malformed.
 */
int __must_check acpi_find_cpus(boot_phys_fn phys, void *ctx, const uint8_t *rsdp,
                                uint32_t rsdp_len, struct acpi_cpus *out, const char **err);

#endif
