/* start_info.h (pure: hypervisor and host toolstack/tests): build a PVH guest's hvm_start_info v1. */
#ifndef WISP_PVH_START_INFO_H
#define WISP_PVH_START_INFO_H

#include "env.h"
#include "elf.h"                /* struct pvh_writer */
#include "xen/start_info.h"

/*
 * Guest-physical RAM model: RAM is [0, ram_size) except the legacy hole
 * [0xA0000, 0x100000). The memory map given to the guest is, in order:
 *   RAM       [0, 0x9F000)        Linux needs RAM below 1 MiB (real-mode trampoline)
 *   reserved  [0x9F000, 0x100000) EBDA (what Linux assumes with a zero BDA) + legacy hole
 *   RAM       [1 MiB, ram_size)
 * with every extra reserved range cut out of RAM and listed with its own type.
 * Extra ranges may also lie beyond RAM (e.g. ring pages high in the 4 GiB
 * space); they then just add an entry.
 */
#define PVH_LOW_RAM_END     0x9F000ULL
#define PVH_LEGACY_HOLE     0xA0000ULL
#define PVH_HIGH_RAM_START  0x100000ULL

#define PVH_CMDLINE_MAX     2047    /* bytes before the NUL: Linux COMMAND_LINE_SIZE - 1 */
#define PVH_MAX_RESERVED    16      /* extra reserved ranges accepted */
#define PVH_MAX_HIGH        48      /* ranges appended above everything (legacy pmem) */
/* Each reserved range adds at most two boundaries, so two entries; each high range one. */
#define PVH_MEMMAP_MAX      (3 + 2 * PVH_MAX_RESERVED + PVH_MAX_HIGH)
/* Linux copies the map into boot_params.e820_table[128] unchecked and adds one entry. */
_Static_assert(PVH_MEMMAP_MAX <= 127, "Linux 6.1 PVH memmap limit");

struct pvh_reserved_range {
    uint64_t start, size;   /* size > 0 */
    uint32_t type;          /* XEN_HVM_MEMMAP_TYPE_* except RAM; 0 means RESERVED */
};

struct pvh_boot_config {
    uint64_t ram_size;              /* page-aligned, > 1 MiB */
    uint64_t image_lo, image_hi;    /* loaded kernel span [lo, hi) (struct pvh_image) */
    const void *initrd;             /* optional host copy of the initrd ... */
    size_t initrd_size;             /* ... and its size; 0: no initrd, no module */
    const char *cmdline;            /* NULL: empty */
    const struct pvh_reserved_range *reserved;   /* optional, non-overlapping */
    unsigned nr_reserved;
    /* Optional: ranges above RAM and every reserved range, ascending, each listed as its
     * own entry with its type (never merged: one legacy pmem region is one device). */
    const struct pvh_reserved_range *high;
    unsigned nr_high;
    uint64_t rsdp_paddr;            /* ACPI RSDP, 0 if none */
    uint32_t flags;                 /* SIF_*; 0 for an ordinary guest */
};

/* Where everything went (guest-physical); 0 means "not present". */
struct pvh_boot_layout {
    uint64_t start_info;    /* what the vCPU gets in EBX */
    uint64_t modlist;
    uint64_t memmap;
    uint32_t memmap_entries;
    uint64_t cmdline;
    uint64_t initrd;
};

/*
 * Fill map[0..max) with the guest memory map described above, sorted and
 * non-overlapping, adjacent entries of one type merged; *nr gets the count.
 * Also usable for XENMEM_memory_map. Returns 0, -EINVAL or -ENOMEM (*why set).
 */
int __must_check pvh_build_memmap(const struct pvh_boot_config *cfg,
                                  struct hvm_memmap_table_entry *map, unsigned max,
                                  unsigned *nr, const char **why);

/*
 * Place and write the initrd, cmdline, memmap, modlist and hvm_start_info into
 * guest memory through w, and report the addresses in *out. Returns 0,
 * -EINVAL (bad config), -E2BIG (cmdline longer than PVH_CMDLINE_MAX),
 * -ENOMEM (does not fit in guest RAM), or a writer's error; *why is set for
 * every error this function detects itself.
 */
int __must_check pvh_build_start_info(const struct pvh_boot_config *cfg,
                                      const struct pvh_writer *w,
                                      struct pvh_boot_layout *out, const char **why);

#endif
