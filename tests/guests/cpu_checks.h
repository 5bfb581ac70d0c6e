/* cpu_checks.h (guest): the CPU-interface checks of checks32, checks32pae and checks64. */
#ifndef WISP_TESTS_GUESTS_CPU_CHECKS_H
#define WISP_TESTS_GUESTS_CPU_CHECKS_H

/* XSETBV, CR4, EFER, MSRs, INVD/WBINVD/RDPMC and the MMIO hole: one CHECK line each. */
void check_cpu_interface(void);

#endif
