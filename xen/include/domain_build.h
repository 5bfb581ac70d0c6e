/* domain_build.h (hypervisor): constructing the boot-time domains the boot configuration names. */
#ifndef WISP_DOMAIN_BUILD_H
#define WISP_DOMAIN_BUILD_H

#include "bootconfig.h"
#include "bootinfo.h"

/* The spread_vcpus option (setup.c, docs/smp.md): a domain's vCPUs start on
 * different pCPUs; off, they all share the domain's. Set once at boot. */
extern bool spread_vcpus;

/* Builds domain domid (its position in the boot configuration, from 1). 0, or a negative
 * errno after logging why; nothing is left allocated on failure. */
int __must_check domain_build(unsigned domid, const struct domain_config *cfg,
                              const struct boot_info *bi);

struct domain;

/*
 * Run-time builds (WISP_CTL_domain_create and the steps after it; control.c checks the
 * arguments and the caller, these do the work, under hv_lock).
 *
 * domain_create: a new domain in the lowest free slot, BUILDING: RAM (not scrubbed
 * but for its ACPI page and legacy hole), ACPI tables, memory map, vCPUs (none
 * started), platform. BY names the caller for the log. 0 and *out, or -ENOSPC,
 * -EINVAL or -ENOMEM with nothing left behind.
 */
int __must_check domain_create(const struct domain_config *cfg, const char *by,
                               struct domain **out);
/* Zeroes the next WISP_SCRUB_CHUNK of a building domain's RAM; true while more remains. */
bool domain_scrub_step(struct domain *d);
/* Host pointer to [gpa, gpa + bytes) of a building domain's RAM that its builder may
 * write (RAM outside the ACPI page and the legacy hole), or NULL. */
void *domain_build_window(struct domain *d, uint64_t gpa, uint64_t bytes);
/* The ranges d's memory map cuts out of RAM or adds (ACPI page, console and store
 * rings), at most MAX into OUT; how many. */
struct pvh_reserved_range;
unsigned domain_reserved_ranges(const struct domain *d, struct pvh_reserved_range *out,
                                unsigned max);
/* vCPU 0 gets the PVH entry state; d leaves BUILDING for PAUSED. 0 or -EINVAL. */
int __must_check domain_start(struct domain *d, uint64_t entry, uint64_t start_info);

/*
 * Frees every frame the domain holds and its slot. None of its vCPUs may be
 * running on a pCPU (the scheduler reaps ended domains between runs).
 */
void domain_destroy(struct domain *d);
/* Frees the p2m tables d let go of since the last call; only once no pCPU can be
 * walking them (p2m_changed, domain_destroy). */
void domain_free_retired_tables(struct domain *d);
/*
 * The device hole [0xFEC00000, 0xFEE00000) outside the domain's RAM: each page maps
 * one shared read-only page of all ones (where a PC has its IOAPIC and HPET).
 * device_hole_map_page puts that page back, e.g. when shared_info moves off it.
 */
bool device_hole_covers(const struct domain *d, uint64_t gpa);
int __must_check device_hole_map_page(struct domain *d, uint64_t gpa);
/* The device hole's page is what gpa maps now. */
bool device_hole_page_at(const struct domain *d, uint64_t gpa);

/* 4 KiB frames free just before the first domain was built (0 before that). */
uint64_t domain_boot_free_frames(void);

#endif
