/* start_info.h (hypervisor, guest, host tool): the PVH boot handoff block, hvm_start_info. */
#ifndef WISP_ABI_XEN_START_INFO_H
#define WISP_ABI_XEN_START_INFO_H

/*
 * A PVH guest is entered at its XEN_ELFNOTE_PHYS32_ENTRY in 32-bit protected
 * mode, paging off, with EBX holding the guest-physical address of a
 * struct hvm_start_info (Xen docs/misc/pvh.pandoc). Every address in it is
 * guest-physical; every field is fixed-width so 32- and 64-bit guests agree.
 */

#include <stdint.h>
#include "abi_check.h"

/* "xEn3" with the top bit of the 'E' set, read as a little-endian uint32. */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578

/* Version 1 added memmap_paddr/memmap_entries; version 0 ends at rsdp_paddr. */

/* hvm_start_info.flags bits (shared with the PV start_info). */
#define SIF_PRIVILEGED      (1 << 0)  /* domain may use privileged operations */
#define SIF_INITDOMAIN      (1 << 1)  /* the initial control domain */
#define SIF_MULTIBOOT_MOD   (1 << 2)  /* PV only: module is a multiboot module */
#define SIF_MOD_START_PFN   (1 << 3)  /* PV only: mod_start is a PFN */
#define SIF_VIRT_P2M_4TOOLS (1 << 4)  /* PV only */
#define SIF_PM_MASK         (0xFF << 8)

/* hvm_memmap_table_entry.type: the E820 types (ACPI 6.x table 15-374). */
#define XEN_HVM_MEMMAP_TYPE_RAM       1
#define XEN_HVM_MEMMAP_TYPE_RESERVED  2
#define XEN_HVM_MEMMAP_TYPE_ACPI      3
#define XEN_HVM_MEMMAP_TYPE_NVS       4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE  5
#define XEN_HVM_MEMMAP_TYPE_DISABLED  6
#define XEN_HVM_MEMMAP_TYPE_PMEM      7

struct hvm_start_info {
    uint32_t magic;           /* XEN_HVM_START_MAGIC_VALUE */
    uint32_t version;         /* 0 or 1, see above */
    uint32_t flags;           /* SIF_* */
    uint32_t nr_modules;      /* entries at modlist_paddr */
    uint64_t modlist_paddr;   /* array of struct hvm_modlist_entry */
    uint64_t cmdline_paddr;   /* NUL-terminated kernel command line, or 0 */
    uint64_t rsdp_paddr;      /* ACPI RSDP, or 0 when there is no ACPI */
    /* version >= 1 */
    uint64_t memmap_paddr;    /* array of struct hvm_memmap_table_entry */
    uint32_t memmap_entries;  /* 0: no map given, ask XENMEM_memory_map */
    uint32_t reserved;        /* zero */
};

struct hvm_modlist_entry {
    uint64_t paddr;           /* module image */
    uint64_t size;            /* in bytes */
    uint64_t cmdline_paddr;   /* NUL-terminated module command line, or 0 */
    uint64_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;            /* start of the range */
    uint64_t size;            /* length in bytes */
    uint32_t type;            /* XEN_HVM_MEMMAP_TYPE_* */
    uint32_t reserved;        /* zero */
};

/* Only fixed-width fields: the layout is the same for every ABI. */
ABI_SIZE(struct hvm_start_info, 56);
ABI_OFFSET(struct hvm_start_info, magic, 0);
ABI_OFFSET(struct hvm_start_info, version, 4);
ABI_OFFSET(struct hvm_start_info, flags, 8);
ABI_OFFSET(struct hvm_start_info, nr_modules, 12);
ABI_OFFSET(struct hvm_start_info, modlist_paddr, 16);
ABI_OFFSET(struct hvm_start_info, cmdline_paddr, 24);
ABI_OFFSET(struct hvm_start_info, rsdp_paddr, 32);
ABI_OFFSET(struct hvm_start_info, memmap_paddr, 40);
ABI_OFFSET(struct hvm_start_info, memmap_entries, 48);
ABI_OFFSET(struct hvm_start_info, reserved, 52);

ABI_SIZE(struct hvm_modlist_entry, 32);
ABI_OFFSET(struct hvm_modlist_entry, paddr, 0);
ABI_OFFSET(struct hvm_modlist_entry, size, 8);
ABI_OFFSET(struct hvm_modlist_entry, cmdline_paddr, 16);
ABI_OFFSET(struct hvm_modlist_entry, reserved, 24);

ABI_SIZE(struct hvm_memmap_table_entry, 24);
ABI_OFFSET(struct hvm_memmap_table_entry, addr, 0);
ABI_OFFSET(struct hvm_memmap_table_entry, size, 8);
ABI_OFFSET(struct hvm_memmap_table_entry, type, 16);
ABI_OFFSET(struct hvm_memmap_table_entry, reserved, 20);

#endif
