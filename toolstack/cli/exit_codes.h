/* exit_codes.h (host tool): the wisp CLI's exit statuses, one X-macro list for enum and help. */
#ifndef WISP_CLI_EXIT_CODES_H
#define WISP_CLI_EXIT_CODES_H

/*
 * X(code, name, description). The only place these numbers live: the enum,
 * `wisp help exit-codes` and (by hand) docs/cli.md follow this list.
 * 120..125 sit below 126/127 (shell: not executable / not found) and 128+N
 * (killed by signal N), so a caller can tell them from a shell failure.
 * `wisp run -- COMMAND` exits with COMMAND's own status (0..255) instead of
 * POWEROFF when the guest powered off after reporting it.
 */
#define WISP_EXIT_CODES(X)                                                              \
    X(0,   POWEROFF,     "the guest powered off: success")                              \
    X(2,   USAGE,        "bad arguments or input (e.g. KERNEL is not a PVH ELF)")       \
    X(120, NO_STATUS,    "run -- COMMAND: the guest powered off without reporting "     \
                         "the command's exit status")                                   \
    X(121, GUEST_CRASH,  "the guest crashed")                                           \
    X(122, GUEST_REBOOT, "the guest asked to reboot")                                   \
    X(123, HV_PANIC,     "the hypervisor panicked, or the emulator stopped without "    \
                         "printing an end line")                                        \
    X(124, TIMEOUT,      "the timeout expired; the emulator was killed")                \
    X(125, INFRA,        "the emulator or a boot-media tool could not be run, or "      \
                         "another host-side failure")                                   \
    X(130, INTERRUPTED,  "interrupted (Ctrl-C, or Ctrl-] in an interactive session; "  \
                         "SIGTERM or SIGHUP); the emulator was killed")

enum wisp_exit {
#define WISP_EXIT_ENUM(code, name, desc) WISP_EXIT_##name = (code),
    WISP_EXIT_CODES(WISP_EXIT_ENUM)
#undef WISP_EXIT_ENUM
};

#endif
