/* mce.h (hypervisor): machine checks and NMIs that reach the hypervisor, from the host or out of a guest. */
#ifndef WISP_MCE_H
#define WISP_MCE_H

#include "env.h"

/* On each CPU: turns on CR4.MCE and every MCA bank, and reports errors left from before boot. */
void mce_init(void);
/*
 * A machine check happened (context: "in the hypervisor", "in d1 v0", ...):
 * logs the banks and decides (mce_policy.h). Returns only when the error was
 * corrected or there was none; otherwise the machine stops with a panic.
 */
void mce_handle(const char *context);

/*
 * Host NMIs: Wisp uses none (no watchdog, no profiling), so one that arrives
 * (a platform's NMI button, an IOCHK/SERR line, QEMU's `nmi`) is counted and
 * otherwise ignored; the count is reported in the log when the machine ends.
 * Safe in NMI context: one atomic increment.
 */
void host_nmi_note(void);
unsigned long host_nmi_count(void);

#endif
