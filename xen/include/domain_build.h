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
 * Frees every frame the domain holds and its slot. None of its vCPUs may be
 * running on a pCPU (the scheduler reaps ended domains between runs).
 */
void domain_destroy(struct domain *d);
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
