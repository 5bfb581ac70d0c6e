/* apic.h (hypervisor): the host's own local APIC: the one-shot timer the scheduler runs on. */
#ifndef WISP_APIC_H
#define WISP_APIC_H

#include "env.h"

#define HOST_TIMER_VECTOR    0xf0
#define HOST_IPI_VECTOR      0xf1   /* wakes a CPU or takes it out of a guest */
#define HOST_SPURIOUS_VECTOR 0xff

/* On the boot CPU: finds how to drive the APICs, enables its own, measures its timer. */
void host_apic_init(void);
/* On every other CPU, after host_apic_init: its APIC in the same mode, the timer unarmed. */
void host_apic_cpu_init(void);
/* This CPU's APIC ID (the full 32 bits in x2APIC mode). */
uint32_t host_apic_id(void);

/* Interrupt command words (SDM vol 3, 11.6.1): INIT, a start-up IPI at page `vector`,
 * and a fixed interrupt at `vector`. */
#define APIC_ICR_INIT          0x4500u
#define APIC_ICR_FIXED(vector) (0x4000u | (vector))
#define APIC_ICR_STARTUP(page) (0x4600u | (page))
/* Sends an IPI; false if the APIC did not accept it, or the ID does not fit xAPIC's 8 bits. */
bool host_apic_send(uint32_t apic_id, uint32_t icr);
/* Arms the one-shot timer to fire at TSC value `deadline` (past deadlines fire at once);
 * the deadline already armed costs nothing. */
void host_timer_arm(uint64_t deadline_tsc);
void host_timer_cancel(void);
/* The TSC deadline armed now, 0 if cancelled or fired (VMX mirrors it in the preemption timer). */
uint64_t host_timer_deadline(void);
/* True once since the last call if the timer fired; the timer is then no longer armed. */
bool host_timer_take_fired(void);
/* How the timer is driven, for the boot log. */
const char *host_timer_mode(void);

/* Lets a pending host interrupt in (a VM exit for one leaves it pending on SVM). */
static inline void host_irq_window(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }
/* Sleeps until any host interrupt (the timer); returns with interrupts off again. */
static inline void host_wait_for_interrupt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }

/* Entry stubs (entry.S) and the C side of the timer interrupt. */
void host_timer_entry(void);
void host_spurious_entry(void);
void host_timer_interrupt(void);
void host_ipi_entry(void);
void host_ipi_interrupt(void);
void idt_set_gate(uint8_t vector, uint64_t addr);

#endif
