/* hypercall.c (guest): issuing hypercalls through the hypercall page or with VMCALL/VMMCALL. */
#include "guest.h"
#include "xen/errno.h"

/* Filled by the hypervisor with one 32-byte stub per hypercall number. */
uint8_t hypercall_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static bool page_ready;

/* traps.S: "vmcall; ret" and "vmmcall; ret". */
extern char hcall_vmcall_stub[], hcall_vmmcall_stub[];

int hypercall_page_setup(void)
{
    uint32_t base = xen_cpuid_base();
    struct cpuid_regs r;

    if (!base)
        return -XEN_ENOSYS;
    /* Leaf base+2: EAX = number of hypercall pages, EBX = the MSR to write. */
    cpuid(base + 2, 0, &r);
    if (r.eax < 1)
        return -XEN_EINVAL;
    /* int3 everywhere: a stub the hypervisor did not fill traps visibly. */
    memset(hypercall_page, 0xcc, PAGE_SIZE);
    /* The MSR value is the page's physical address; bits 0-11 select which page (0). */
    wrmsr(r.ebx, (uintptr_t)hypercall_page);
    page_ready = true;
    return 0;
}

bool hypercall_page_ready(void)
{
    return page_ready;
}

enum hcall_path hcall_native_direct(void)
{
    return cpu_vendor() == CPU_VENDOR_INTEL ? HCALL_VIA_VMCALL : HCALL_VIA_VMMCALL;
}

enum hcall_path hcall_default_path(void)
{
    return page_ready ? HCALL_VIA_PAGE : hcall_native_direct();
}

static unsigned long hcall_target(enum hcall_path path, unsigned long nr)
{
    switch (path) {
    case HCALL_VIA_PAGE:
        return (uintptr_t)hypercall_page + nr * XEN_HYPERCALL_STUB_SIZE;
    case HCALL_VIA_VMCALL:
        return (uintptr_t)hcall_vmcall_stub;
    case HCALL_VIA_VMMCALL:
    default:
        return (uintptr_t)hcall_vmmcall_stub;
    }
}

/*
 * Register ABI (Xen public/arch-x86/xen-x86_{32,64}.h): 64-bit RAX = nr,
 * RDI RSI RDX R10 R8 = args; 32-bit EAX = nr, EBX ECX EDX ESI EDI. The result
 * comes back in (E)AX. Argument registers are in/out because a debug
 * hypervisor may scribble on the ones a hypercall does not use.
 */
long hypercall_via(enum hcall_path path, unsigned long nr, unsigned long a1, unsigned long a2,
                   unsigned long a3, unsigned long a4, unsigned long a5)
{
    unsigned long target;

    /* The page has 4096 / 32 stubs; past it there is no code to call. */
    if (path == HCALL_VIA_PAGE && (!page_ready || nr >= PAGE_SIZE / XEN_HYPERCALL_STUB_SIZE))
        return -XEN_ENOSYS;
    target = hcall_target(path, nr);
#ifdef __x86_64__
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;

    __asm__ volatile("call *%[t]"
                     : "+a"(nr), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     : [t] "m"(target)
                     : "memory", "cc");
#else
    __asm__ volatile("call *%[t]"
                     : "+a"(nr), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
                     : [t] "m"(target)
                     : "memory", "cc");
#endif
    return (long)nr;
}
