/* monitor.h (host tool): follows Wisp's serial output until it ends, times out or is stopped. */
#ifndef WISP_CLI_MONITOR_H
#define WISP_CLI_MONITOR_H

#include "emulator.h"
#include "env.h"
#include "exit_codes.h"
#include "options.h"

/* How long the emulator may take to exit by itself after the end line. */
#define END_GRACE_MS 1000

/*
 * Streams guest console lines to stdout (prefix removed), hypervisor and other
 * lines to stderr with opts->verbose, and returns the run's exit status. The
 * emulator is always stopped (its whole process group) before this returns.
 */
enum wisp_exit __must_check monitor_run(struct emulator *emu, const struct run_options *opts);

#endif
