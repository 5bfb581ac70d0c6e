/* irq.h (hypervisor): interrupt delivery to vCPUs (hvm/irq.c). */
#ifndef WISP_IRQ_H
#define WISP_IRQ_H

#include "env.h"

struct vcpu;

/* Is the vCPU's evtchn_upcall_pending set? */
bool vcpu_upcall_pending(struct vcpu *v);
/* An event channel notifying v went pending: route it to v's upcall vector if it has one. */
void vcpu_event_kick(struct vcpu *v);
/* Would v take an interrupt (or NMI) if it could? Wakes HLT. */
bool vcpu_interrupt_pending(struct vcpu *v);
/* Right before entry: inject what is due, or ask for an interrupt-window exit. */
void vcpu_deliver_interrupts(struct vcpu *v);

#endif
