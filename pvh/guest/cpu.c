/* cpu.c (guest): CPUID helpers: vendor and the Xen hypervisor leaves. */
#include "guest.h"

void cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
    __asm__ volatile("cpuid"
                     : "=a"(out->eax), "=b"(out->ebx), "=c"(out->ecx), "=d"(out->edx)
                     : "a"(leaf), "c"(subleaf));
}

/* Compares three CPUID registers, in the order given, with a 12-character signature. */
static bool signature_is(uint32_t b, uint32_t c, uint32_t d, const char *sig)
{
    uint32_t words[3] = { b, c, d };

    return memcmp(words, sig, 12) == 0;
}

static enum cpu_vendor read_vendor(void)
{
    struct cpuid_regs r;

    cpuid(0, 0, &r);
    /* Leaf 0 spells the vendor in EBX, EDX, ECX order. */
    if (signature_is(r.ebx, r.edx, r.ecx, "GenuineIntel"))
        return CPU_VENDOR_INTEL;
    if (signature_is(r.ebx, r.edx, r.ecx, "AuthenticAMD") ||
        signature_is(r.ebx, r.edx, r.ecx, "HygonGenuine"))
        return CPU_VENDOR_AMD;
    return CPU_VENDOR_OTHER;
}

enum cpu_vendor cpu_vendor(void)
{
    static int vendor = -1;

    if (vendor < 0)
        vendor = read_vendor();
    return (enum cpu_vendor)vendor;
}

/*
 * Hypervisor leaves start at 0x40000000; Xen may sit at any multiple of
 * 0x100 up to 0x4000ff00 (another hypervisor's leaves come first when Xen
 * offers Viridian). A valid range has at least leaves base..base+2.
 */
static uint32_t find_xen_base(void)
{
    struct cpuid_regs r;

    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        cpuid(base, 0, &r);
        if (signature_is(r.ebx, r.ecx, r.edx, "XenVMMXenVMM") && r.eax >= base + 2)
            return base;
    }
    return 0;
}

/* Cached: each CPUID is a VM exit, and the console asks on every line. */
uint32_t xen_cpuid_base(void)
{
    static bool scanned;
    static uint32_t base;

    if (!scanned) {
        base = find_xen_base();
        scanned = true;
    }
    return base;
}
