/* elfnote.h (hypervisor, guest, host tool): ELF note types in the "Xen" namespace of a guest kernel. */
#ifndef WISP_ABI_XEN_ELFNOTE_H
#define WISP_ABI_XEN_ELFNOTE_H

/*
 * Kernels describe themselves to the domain builder with PT_NOTE entries
 * whose name is "Xen" (with NUL, namesz 4) and whose type is one of these.
 * A PVH loader needs only PHYS32_ENTRY; the rest are listed so a loader can
 * name what it skips. Descriptor formats are given per note.
 */
#define XEN_ELFNOTE_NAME "Xen"

#define XEN_ELFNOTE_INFO                 0  /* unused */
#define XEN_ELFNOTE_ENTRY                1  /* PV entry virtual address (word) */
#define XEN_ELFNOTE_HYPERCALL_PAGE       2  /* PV hypercall page address (word) */
#define XEN_ELFNOTE_VIRT_BASE            3  /* PV virtual base (word) */
#define XEN_ELFNOTE_PADDR_OFFSET         4  /* PV (word) */
#define XEN_ELFNOTE_XEN_VERSION          5  /* expected Xen version (string) */
#define XEN_ELFNOTE_GUEST_OS             6  /* e.g. "linux" (string) */
#define XEN_ELFNOTE_GUEST_VERSION        7  /* (string) */
#define XEN_ELFNOTE_LOADER               8  /* e.g. "generic" (string) */
#define XEN_ELFNOTE_PAE_MODE             9  /* "yes", "no", "bimodal" (string) */
#define XEN_ELFNOTE_FEATURES            10  /* '|'-separated feature names (string) */
#define XEN_ELFNOTE_BSD_SYMTAB          11  /* "yes": load the symbol table (string) */
#define XEN_ELFNOTE_HV_START_LOW        12  /* PV (word) */
#define XEN_ELFNOTE_L1_MFN_VALID        13  /* PV mask/value pair (words) */
#define XEN_ELFNOTE_SUSPEND_CANCEL      14  /* (u32) */
#define XEN_ELFNOTE_INIT_P2M            15  /* PV (word) */
#define XEN_ELFNOTE_MOD_START_PFN       16  /* PV (u32) */
#define XEN_ELFNOTE_SUPPORTED_FEATURES  17  /* XENFEAT_* bitmap (u32 array) */
#define XEN_ELFNOTE_PHYS32_ENTRY        18  /* PVH 32-bit physical entry (u32) */
#define XEN_ELFNOTE_MAX                 XEN_ELFNOTE_PHYS32_ENTRY

/* Notes written into crash dumps, never read from kernels. */
#define XEN_ELFNOTE_CRASH_INFO                  0x1000001
#define XEN_ELFNOTE_CRASH_REGS                  0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE               0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER             0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION        0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION     0x2000003

#endif
