/* mce_policy.c (hypervisor, pure): decides whether a machine check stops the machine. */
#include "mce_policy.h"

enum mce_verdict mce_decide(uint64_t mcg_status, const uint64_t *bank_status, unsigned nr_banks,
                            const char **why)
{
    bool any = false;

    if (nr_banks > MCE_MAX_BANKS)
        nr_banks = MCE_MAX_BANKS;
    for (unsigned i = 0; i < nr_banks; i++) {
        uint64_t s = bank_status[i];

        if (!(s & MCI_STATUS_VAL))
            continue;
        any = true;
        if (s & MCI_STATUS_PCC) {
            *why = "processor context corrupt";
            return MCE_FATAL;
        }
        if (s & MCI_STATUS_UC) {
            *why = "uncorrected hardware error";
            return MCE_FATAL;
        }
    }
    if ((mcg_status & MCG_STATUS_MCIP) && !(mcg_status & MCG_STATUS_RIPV)) {
        *why = "the interrupted code cannot be resumed (RIPV clear)";
        return MCE_FATAL;
    }
    *why = any ? "corrected errors only" : "no bank reports an error";
    return any ? MCE_CORRECTED : MCE_SPURIOUS;
}
