/* fpu.h (hypervisor): x87/SSE/AVX state of vCPUs, switched when another vCPU runs. */
#ifndef WISP_FPU_H
#define WISP_FPU_H

struct vcpu;

/* Host setup: CR0/CR4 bits and XCR0 so that guests and XSAVE can use the FPU. */
void fpu_host_init(void);
int __must_check fpu_init(struct vcpu *v);
void fpu_free(struct vcpu *v);
/* Makes v's FPU state and XCR0 the ones in the CPU (no-op when they already are). */
void fpu_switch_to(struct vcpu *v);
/* Saves v's state if this CPU holds it, so that another CPU can load it. */
void fpu_release(struct vcpu *v);

#endif
