/* hvm_params.h (hypervisor, guest): HVM_PARAM_* indices for HVMOP_set_param / HVMOP_get_param. */
#ifndef WISP_ABI_XEN_HVM_PARAMS_H
#define WISP_ABI_XEN_HVM_PARAMS_H

#include "hvm_op.h"

/*
 * How event upcalls are delivered. The top byte of the value selects the
 * type; the rest is its argument:
 *   GSI:      bits 0-55 = the GSI to assert;
 *   PCI_INTX: bits 0-15 = domain, 16-23 bus, 24-28 device, 29-30 INTx pin;
 *   VECTOR:   bits 0-7  = the IDT vector injected on every vCPU (the PVH way).
 * Value 0 disables upcalls.
 */
#define HVM_PARAM_CALLBACK_IRQ              0
#define HVM_PARAM_CALLBACK_IRQ_TYPE_MASK    0xFF00000000000000ULL
#define HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT   56   /* Wisp's name for the mask's position */
#define HVM_PARAM_CALLBACK_TYPE_GSI         0
#define HVM_PARAM_CALLBACK_TYPE_PCI_INTX    1
#define HVM_PARAM_CALLBACK_TYPE_VECTOR      2

#define HVM_PARAM_STORE_PFN                 1   /* xenstore ring page (GFN) */
#define HVM_PARAM_STORE_EVTCHN              2   /* xenstore event channel port */
#define HVM_PARAM_PAE_ENABLED               4   /* tools */
#define HVM_PARAM_IOREQ_PFN                 5   /* device model, unused by Wisp */
#define HVM_PARAM_BUFIOREQ_PFN              6   /* device model, unused by Wisp */
#define HVM_PARAM_VIRIDIAN                  9   /* Hyper-V enlightenments */
#define HVM_PARAM_TIMER_MODE               10
#define HVM_PARAM_HPET_ENABLED             11
#define HVM_PARAM_IDENT_PT                 12
#define HVM_PARAM_DM_DOMAIN                13   /* tools */
#define HVM_PARAM_ACPI_S_STATE             14
#define HVM_PARAM_VM86_TSS                 15
#define HVM_PARAM_VPT_ALIGN                16
#define HVM_PARAM_CONSOLE_PFN              17   /* console ring page (GFN) */
#define HVM_PARAM_CONSOLE_EVTCHN           18   /* console event channel port */
#define HVM_PARAM_ACPI_IOPORTS_LOCATION    19
#define HVM_PARAM_MEMORY_EVENT_CR0         20   /* tools */
#define HVM_PARAM_MEMORY_EVENT_CR3         21   /* tools */
#define HVM_PARAM_MEMORY_EVENT_CR4         22   /* tools */
#define HVM_PARAM_MEMORY_EVENT_INT3        23   /* tools */
#define HVM_PARAM_NESTEDHVM                24   /* tools */
#define HVM_PARAM_MEMORY_EVENT_SINGLE_STEP 25   /* tools */
#define HVM_PARAM_BUFIOREQ_EVTCHN          26   /* tools */
#define HVM_PARAM_PAGING_RING_PFN          27
#define HVM_PARAM_MONITOR_RING_PFN         28
#define HVM_PARAM_SHARING_RING_PFN         29
#define HVM_PARAM_MEMORY_EVENT_MSR         30   /* tools */
#define HVM_PARAM_TRIPLE_FAULT_REASON      31
#define HVM_PARAM_IOREQ_SERVER_PFN         32
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES    33
#define HVM_PARAM_VM_GENERATION_ID_ADDR    34
#define HVM_PARAM_ALTP2M                   35
#define HVM_PARAM_X87_FIP_WIDTH            36
#define HVM_PARAM_VM86_TSS_SIZED           37
#define HVM_PARAM_MCA_CAP                  38
#define HVM_NR_PARAMS                      39

#endif
