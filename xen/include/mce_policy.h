/* mce_policy.h (hypervisor, pure): what a machine check means for Wisp, from the MCA registers. */
#ifndef WISP_MCE_POLICY_H
#define WISP_MCE_POLICY_H

#include "env.h"

/* IA32_MCG_STATUS (SDM vol 3B, 16.3.1.2; AMD APM vol 2, 9.3.1.2). */
#define MCG_STATUS_RIPV  (1ull << 0)    /* the interrupted program can be restarted at RIP */
#define MCG_STATUS_EIPV  (1ull << 1)    /* RIP points at the instruction that caused the error */
#define MCG_STATUS_MCIP  (1ull << 2)    /* a machine check is in progress */
/* IA32_MCi_STATUS (SDM vol 3B, 16.3.2.2; AMD APM vol 2, 9.3.2.2). */
#define MCI_STATUS_VAL   (1ull << 63)   /* the bank holds an error */
#define MCI_STATUS_OVER  (1ull << 62)   /* ... and lost an earlier one */
#define MCI_STATUS_UC    (1ull << 61)   /* not corrected */
#define MCI_STATUS_EN    (1ull << 60)   /* signalled as #MC */
#define MCI_STATUS_PCC   (1ull << 57)   /* the processor context may be corrupt */

#define MCE_MAX_BANKS 32

enum mce_verdict {
    MCE_SPURIOUS,       /* no bank holds an error and the program can go on: log, continue */
    MCE_CORRECTED,      /* only corrected errors: log, clear the banks, continue */
    MCE_FATAL,          /* stop the machine */
};

/*
 * Decides. Wisp does not recover uncorrected errors the way Xen can (offline
 * the page, crash only the domain that owned it): the failing address may be
 * the hypervisor's or any domain's, and guessing wrong lets corrupt data
 * spread. So every uncorrected error, a corrupt processor context, or a
 * machine check that cannot return to where it struck (RIPV clear) is fatal,
 * as Xen's own handler is for the errors it cannot recover. *why says which.
 */
enum mce_verdict mce_decide(uint64_t mcg_status, const uint64_t *bank_status, unsigned nr_banks,
                            const char **why);

#endif
