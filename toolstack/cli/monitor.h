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
 * Streams the guests' consoles to stdout (reassembled from the serial
 * framing), hypervisor and other lines to stderr with opts->verbose, forwards
 * stdin to COM1 in an interactive session, and returns the run's exit status:
 * an enum wisp_exit, or for `run -- COMMAND` the command's own status (0..255).
 * The emulator is always stopped (its whole process group) and the terminal
 * restored before this returns.
 */
int __must_check monitor_run(struct emulator *emu, const struct run_options *opts);

#endif
