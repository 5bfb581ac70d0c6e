/* bootinfo.h (hypervisor, pure): what the boot loader told us, loader-neutral. */
#ifndef WISP_BOOTINFO_H
#define WISP_BOOTINFO_H

#include "env.h"

#define BOOT_MAX_MEM_RANGES 64
#define BOOT_MAX_MODULES    16
#define BOOT_CMDLINE_MAX    1024
#define BOOT_RSDP_MAX       36          /* an ACPI 2.0+ RSDP */

/* E820-style types, as both multiboot versions report them. */
enum boot_mem_type { BOOT_MEM_RAM = 1, BOOT_MEM_RESERVED = 2, BOOT_MEM_ACPI = 3,
                     BOOT_MEM_NVS = 4, BOOT_MEM_BAD = 5 };

struct boot_mem_range {
    uint64_t base, size;
    uint32_t type;          /* enum boot_mem_type; unknown values kept as given */
};

struct boot_module {
    uint64_t start, end;    /* physical, [start, end) */
    char cmdline[256];      /* as the loader gave it, truncated, NUL-terminated */
    char name[64];          /* basename of the cmdline's first word */
};

struct boot_info {
    char loader[64];                    /* "" when the loader gave no name */
    char cmdline[BOOT_CMDLINE_MAX];     /* hypervisor command line */
    unsigned nr_mem;
    struct boot_mem_range mem[BOOT_MAX_MEM_RANGES];
    unsigned nr_modules;
    struct boot_module modules[BOOT_MAX_MODULES];
    uint32_t rsdp_len;                  /* 0: the loader gave no copy of the ACPI RSDP */
    uint8_t rsdp[BOOT_RSDP_MAX];        /* multiboot2 tag 15 (ACPI 2.0+) or else 14 (1.0) */
};

/*
 * Physical memory as the parser may see it: returns a pointer to [addr, addr+len)
 * or NULL when that range is not readable. Multiboot1 info points around memory;
 * this keeps the parser host-testable and bounds-checked.
 */
typedef const void *(*boot_phys_fn)(uint64_t addr, uint64_t len, void *ctx);

#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Both return 0, or a negative errno-style code with *err set to a message. */
int __must_check mb1_parse(uint32_t info_addr, boot_phys_fn phys, void *ctx,
                           struct boot_info *out, const char **err);
int __must_check mb2_parse(uint32_t info_addr, boot_phys_fn phys, void *ctx,
                           struct boot_info *out, const char **err);

/* The module whose name equals `name`, or NULL. */
const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name);

/*
 * Where application processors start: the highest 4 KiB page in
 * [BOOT_LOW_PAGE_MIN, BOOT_LOW_PAGE_END) that lies in RAM and touches no other
 * kind of range and no module. 0 if there is none. (A start-up IPI names a
 * page below 1 MiB; the EBDA and the BIOS area above 0x9f000 are not RAM.)
 */
#define BOOT_LOW_PAGE_MIN 0x1000u
#define BOOT_LOW_PAGE_END 0x9f000u
uint64_t boot_low_page(const struct boot_info *bi);

#endif
