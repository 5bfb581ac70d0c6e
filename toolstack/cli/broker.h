/* broker.h (host tool): `wisp up`'s background process: the machine, the agent on its host channel, and the clients (docs/toolstack.md). */
#ifndef WISP_CLI_BROKER_H
#define WISP_CLI_BROKER_H

#include "run_dir.h"

/*
 * The broker, in the process `wisp up` forked (its own session): starts
 * `run_argv` (the machine, dying with us), connects to its host channel,
 * waits for the agent, then serves clients until `down` or the machine's end.
 * Never returns.
 */
void broker_main(const char *dir, char *const *run_argv) __attribute__((noreturn));

#endif
