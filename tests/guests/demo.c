/* demo.c (guest, demo64): shown by `./wisp demo`; says what it is and what the hypervisor offered it, then powers off. */
#include "guest.h"
#include "xen/console_io.h"
#include "xen/features.h"
#include "xen/memory.h"
#include "xen/version.h"

static const char *const memmap_type_names[] = {
    [XEN_HVM_MEMMAP_TYPE_RAM] = "RAM",
    [XEN_HVM_MEMMAP_TYPE_RESERVED] = "reserved",
    [XEN_HVM_MEMMAP_TYPE_ACPI] = "ACPI tables",
    [XEN_HVM_MEMMAP_TYPE_NVS] = "ACPI NVS",
    [XEN_HVM_MEMMAP_TYPE_UNUSABLE] = "unusable",
    [XEN_HVM_MEMMAP_TYPE_DISABLED] = "disabled",
    [XEN_HVM_MEMMAP_TYPE_PMEM] = "persistent memory",
};

static const char *const feature_names[] = {
    [XENFEAT_auto_translated_physmap] = "auto_translated_physmap",
    [XENFEAT_hvm_callback_vector] = "hvm_callback_vector",
    [XENFEAT_hvm_safe_pvclock] = "hvm_safe_pvclock",
    [XENFEAT_hvm_pirqs] = "hvm_pirqs",
    [XENFEAT_dom0] = "dom0",
    [XENFEAT_memory_op_vnode_supported] = "memory_op_vnode_supported",
    [XENFEAT_linux_rsdp_unrestricted] = "linux_rsdp_unrestricted",
};

static void show_version(void)
{
    xen_extraversion_t extra = "";
    long ver = hv_xen_version(XENVER_version, 0);

    if (hv_xen_version(XENVER_extraversion, HV_PTR(extra)) < 0)
        extra[0] = '\0';
    extra[sizeof(extra) - 1] = '\0';
    con_printf("  It says it is Xen %ld.%ld%s (xen_version hypercall).\n", ver >> 16, ver & 0xffff,
               extra);
}

static void show_features(void)
{
    struct xen_feature_info fi = { .submap_idx = 0 };

    if (hv_xen_version(XENVER_get_features, HV_PTR(&fi)) < 0) {
        con_printf("  It did not tell its features.\n");
        return;
    }
    con_printf("  Features it offers (XENVER_get_features, submap 0 = %x):\n", fi.submap);
    for (unsigned int bit = 0; bit < 32; bit++) {
        const char *name = bit < ARRAY_SIZE(feature_names) ? feature_names[bit] : NULL;

        if (fi.submap & (1u << bit))
            con_printf("    - %s\n", name ? name : "(bit without a name here)");
    }
}

static void show_memory(const struct hvm_start_info *si)
{
    const struct hvm_memmap_table_entry *m =
        (const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
    uint64_t ram = 0;

    con_printf("  Memory map from the start info (%u entries):\n", si->memmap_entries);
    for (unsigned int i = 0; i < si->memmap_entries && i < 64; i++) {
        const char *t = m[i].type < ARRAY_SIZE(memmap_type_names) ? memmap_type_names[m[i].type]
                                                                  : NULL;

        con_printf("    %012llx-%012llx %s\n", (unsigned long long)m[i].addr,
                   (unsigned long long)(m[i].addr + m[i].size), t ? t : "other");
        if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
            ram += m[i].size;
    }
    con_printf("  That is %llu MiB of RAM.\n", (unsigned long long)(ram >> 20));
}

int main(const struct hvm_start_info *si)
{
    const char *cmdline = si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : "";

    con_printf("\nHello from a tiny PVH guest running on Wisp!\n\n");
    con_printf("This program is 64-bit code that the hypervisor loaded at %p and entered\n",
               _image_start);
    con_printf("through its PVH entry note, like a Linux kernel built for Xen PVH.\n");
    con_printf("Everything it learns comes from the start info page and from hypercalls:\n\n");
    if (!xen_cpuid_base()) {
        con_printf("  No Xen CPUID leaves here: this is not Wisp (or Xen). Nothing to ask.\n");
    } else {
        show_version();
        show_features();
    }
    show_memory(si);
    con_printf("  Command line: \"%s\"\n\n", cmdline);
    con_printf("That is all. Asking the hypervisor to power off (SCHEDOP_shutdown). Bye!\n");
    return 0;
}
