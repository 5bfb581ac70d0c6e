/* devices.h (hypervisor): the machine's disks and vifs, and the disks' legacy pmem regions in the backend domain. */
#ifndef WISP_DEVICES_H
#define WISP_DEVICES_H

#include "bootconfig.h"
#include "bootinfo.h"
#include "start_info.h"
#include "wisp/control.h"

/* Disks of up to BOOTCFG_MAX_DOMAINS - 2 guests (the xenstore and backend domains have none). */
#define DEVICES_MAX_PMEM ((BOOTCFG_MAX_DOMAINS - 2) * BOOTCFG_MAX_DISKS)
/* E820 type 12, Linux's E820_TYPE_PRAM ("persistent memory (legacy)"): one /dev/pmemN each,
 * never merged with a neighbour (arch/x86/kernel/e820.c e820_nomerge). */
#define MEMMAP_TYPE_PMEM_LEGACY 12

/*
 * Builds the device table from the configuration, before the first domain:
 * finds each disk's module (page-aligned, not empty) and places its region.
 * 0, or -ENOENT / -EINVAL after logging which disk is wrong.
 */
int __must_check devices_init(const struct boot_config *bc, const struct boot_info *bi);
/* Device i in configuration order, or NULL past the last. */
const struct wisp_ctl_device *device_at(uint32_t i);
uint32_t devices_count(void);

struct domain;
/* Backend d's pmem regions, for its memmap; returns how many (at most DEVICES_MAX_PMEM). */
unsigned devices_pmem_ranges(const struct domain *d, struct pvh_reserved_range *out);
/* Maps each image into backend d above its RAM, padded with zeroed frames (domain_build). */
int __must_check devices_map_pmem(struct domain *d);
/* Frees d's padding frames once its p2m is gone; image frames stay the modules'. */
void devices_free_pmem(const struct domain *d);

#endif
