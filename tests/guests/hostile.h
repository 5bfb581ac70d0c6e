/* hostile.h (guest, act64): actions of a hostile guest against timers and the scheduler (hostile.c). */
#ifndef WISP_TESTS_GUESTS_HOSTILE_H
#define WISP_TESTS_GUESTS_HOSTILE_H

/* Each prints CHECK lines where it can measure something, then stays hostile until the machine ends. */
void act_periodic_huge(void);
void act_lapic_periodic_x2apic(void);
void act_lapic_periodic_xapic(void);
void act_spin_cli(void);
void act_spin_sti(void);
void act_smp_spin(void);        /* needs 3 vCPUs; interrupts off */
void act_smp_spin_sti(void);    /* ... interrupts on */

#endif
