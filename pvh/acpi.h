/* acpi.h (pure: hypervisor and host tests): build a PVH guest's static ACPI tables (RSDP, XSDT, RSDT, FADT, MADT, DSDT). */
#ifndef WISP_PVH_ACPI_H
#define WISP_PVH_ACPI_H

#include "env.h"

/*
 * The tables a Linux PVH domU needs to find its vCPUs: RSDP -> XSDT (and RSDT)
 * -> MADT with one enabled Processor Local APIC entry per vCPU, plus a
 * hardware-reduced FADT pointing at an empty DSDT. No IOAPIC: Linux then runs
 * the LAPIC in virtual-wire mode and takes every device interrupt from event
 * channels. The tables are position-dependent (they hold guest-physical
 * pointers to each other), so they are built for one guest-physical address.
 */

/* Type-0 MADT entries hold 8-bit UIDs and APIC IDs; APIC ID 0xFF is the xAPIC broadcast. */
#define PVH_ACPI_MAX_VCPUS      255u
/* Architectural xAPIC MMIO base (Intel SDM vol 3, 11.4.1; AMD APM vol 2, 16.3.1). */
#define PVH_ACPI_LAPIC_DEFAULT  0xFEE00000u

/* ACPI 2.0+ RSDP length (ACPI 6.5, 5.2.5.3), also the size of the legacy copy. */
#define PVH_ACPI_RSDP_SIZE      36u
/* ACPI 6.5, 5.2.5.1: a scanning OS looks on 16-byte boundaries in [0xE0000, 0xFFFFF]. */
#define PVH_ACPI_LEGACY_LO      0xE0000ull
#define PVH_ACPI_LEGACY_HI      0x100000ull
#define PVH_ACPI_LEGACY_ALIGN   16u
/* The buffer's guest-physical address must be aligned to this (tables start on 16). */
#define PVH_ACPI_ALIGN          16u

struct pvh_acpi_config {
    unsigned nr_vcpus;          /* 1..PVH_ACPI_MAX_VCPUS; vCPU i gets UID i and APIC ID i */
    uint32_t lapic_addr;        /* 0: PVH_ACPI_LAPIC_DEFAULT */
};

/* Where each table went, guest-physical; all inside [buf_gpa, buf_gpa + size). */
struct pvh_acpi_layout {
    uint64_t rsdp;              /* for hvm_start_info.rsdp_paddr */
    uint64_t xsdt;
    uint64_t rsdt;              /* 0 when the tables lie above 4 GiB (RSDT pointers are 32-bit) */
    uint64_t fadt, madt, dsdt;
    size_t size;                /* bytes used at the start of buf */
};

/* Bytes pvh_build_acpi() needs for nr_vcpus, or 0 if nr_vcpus is out of range. */
size_t pvh_acpi_size(unsigned nr_vcpus);

/*
 * Write the tables into buf, a host buffer that the guest will see at buf_gpa
 * (PVH_ACPI_ALIGN-aligned), and describe them in *out. Returns 0, -EINVAL
 * (bad config, address or argument) or -ENOMEM (buf_size too small); on
 * error nothing is written to buf and *why says why.
 */
int __must_check pvh_build_acpi(const struct pvh_acpi_config *cfg, void *buf, size_t buf_size,
                                uint64_t buf_gpa, struct pvh_acpi_layout *out, const char **why);

/*
 * Write the PVH_ACPI_RSDP_SIZE bytes of the RSDP for the tables in *l into
 * dst: the same bytes pvh_build_acpi() put at l->rsdp. The RSDP holds no
 * pointer to itself, so a copy is valid anywhere, e.g. in the legacy area.
 */
void pvh_acpi_write_rsdp(const struct pvh_acpi_layout *l, void *dst);

/* Whether a scanning OS finds an RSDP at gpa (see PVH_ACPI_LEGACY_*). */
bool pvh_acpi_legacy_rsdp_ok(uint64_t gpa);

#endif
