/* cpuid.h (hypervisor, guest): the hypervisor CPUID leaves at 0x40000000 that identify a Xen-compatible host. */
#ifndef WISP_ABI_XEN_CPUID_H
#define WISP_ABI_XEN_CPUID_H

/*
 * Leaves base+0 .. base+XEN_CPUID_MAX_NUM_LEAVES-1, base normally 0x40000000
 * (guests also probe base + 0x100 steps, so a Viridian block may come first):
 *   +0 EAX = last leaf, EBX:ECX:EDX = "XenVMMXenVMM"
 *   +1 EAX = version, major << 16 | minor
 *   +2 EAX = hypercall pages (1), EBX = MSR that installs the hypercall page
 *   +3 time: sub-leaf 0 = TSC mode and frequency, 1 = TSC scaling (mul,
 *      shift), 2 = host TSC frequency in kHz
 *   +4 HVM features: EAX = XEN_HVM_CPUID_* flags, EBX = vCPU id, ECX = domid
 *   +5 PV features: EAX = XEN_CPUID_FEAT1_* flags, EBX = address width
 */
#define XEN_CPUID_FIRST_LEAF  0x40000000
#define XEN_CPUID_LEAF(i)     (XEN_CPUID_FIRST_LEAF + (i))

/* "XenVMMXenVMM" as three little-endian words. */
#define XEN_CPUID_SIGNATURE_EBX  0x566e6558  /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX  0x65584d4d  /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX  0x4d4d566e  /* "nVMM" */

/* Leaf 5 EAX. */
#define _XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD 0
#define XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD  (1u << 0)
/* Leaf 5 EBX: bits 0-7 = guest-physical address width. */
#define XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK       (0xffu << 0)

/* Leaf 4 EAX. */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT  (1u << 0)  /* APIC page accesses are virtualised */
#define XEN_HVM_CPUID_X2APIC_VIRT       (1u << 1)  /* x2APIC MSR accesses are virtualised */
#define XEN_HVM_CPUID_IOMMU_MAPPINGS    (1u << 2)  /* memory ops also update the IOMMU */
#define XEN_HVM_CPUID_VCPU_ID_PRESENT   (1u << 3)  /* EBX holds the vCPU id */
#define XEN_HVM_CPUID_DOMID_PRESENT     (1u << 4)  /* ECX holds the domain id */
#define XEN_HVM_CPUID_EXT_DEST_ID       (1u << 5)  /* MSI extended destination ID */
#define XEN_HVM_CPUID_UPCALL_VECTOR     (1u << 6)  /* HVMOP_set_evtchn_upcall_vector works */

#define XEN_CPUID_MAX_NUM_LEAVES 5

#endif
