/* features.h (hypervisor, guest): XENFEAT_* bit numbers reported by XENVER_get_features. */
#ifndef WISP_ABI_XEN_FEATURES_H
#define WISP_ABI_XEN_FEATURES_H

/* Bit n lives in submap n / 32, bit n % 32. */
#define XENFEAT_writable_page_tables        0  /* PV */
#define XENFEAT_writable_descriptor_tables  1  /* PV */
#define XENFEAT_auto_translated_physmap     2  /* guest sees GFNs, not MFNs: always for PVH */
#define XENFEAT_supervisor_mode_kernel      3  /* PV */
#define XENFEAT_pae_pgdir_above_4gb         4  /* PV */
#define XENFEAT_mmu_pt_update_preserve_ad   5  /* PV */
#define XENFEAT_highmem_assist              6  /* PV */
#define XENFEAT_gnttab_map_avail_bits       7  /* PV */
#define XENFEAT_hvm_callback_vector         8  /* HVM_PARAM_CALLBACK_IRQ may name a vector */
#define XENFEAT_hvm_safe_pvclock            9  /* pvclock is safe to use in HVM/PVH */
#define XENFEAT_hvm_pirqs                  10  /* physical IRQs as event channels */
#define XENFEAT_dom0                       11  /* the guest is the control domain */
/* 12 was grant_map_identity, withdrawn */
#define XENFEAT_memory_op_vnode_supported  13  /* XENMEMF_vnode honoured */
#define XENFEAT_ARM_SMCCC_supported        14  /* Arm */
#define XENFEAT_linux_rsdp_unrestricted    15  /* RSDP may lie anywhere */
#define XENFEAT_not_direct_mapped          16  /* Arm */
#define XENFEAT_direct_mapped              17  /* Arm */

#define XENFEAT_NR_SUBMAPS 1

#endif
