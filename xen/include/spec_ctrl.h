/* spec_ctrl.h (hypervisor): the speculative-execution mitigations in force (spec_policy.h decides which). */
#ifndef WISP_SPEC_CTRL_H
#define WISP_SPEC_CTRL_H

#include "env.h"

struct domain;

/* Reads what the CPU reports, decides, turns on the once-at-boot controls and logs the result. */
void spec_ctrl_init(void);
/* The same choice applied to another CPU, after spec_ctrl_init on the boot CPU. */
void spec_ctrl_cpu_init(void);
/*
 * Called by the vendor backend with interrupts off, right before it enters a
 * vCPU of d: IBPB when this pCPU last ran another domain's vCPU, and the L1D
 * flush where the CPU needs it. VERW and RSB stuffing live in the entry code.
 */
void spec_ctrl_enter_guest(const struct domain *d);

/* d is being destroyed: a new domain in its slot must count as another domain. */
void spec_ctrl_forget_domain(const struct domain *d);

/* Read by vmx_entry.S: nonzero when VERW runs right before VMLAUNCH/VMRESUME. */
extern uint8_t spec_verw_on_entry;

#endif
