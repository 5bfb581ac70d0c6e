/* machine.h (hypervisor): ending the whole machine with a status the host CLI understands. */
#ifndef WISP_MACHINE_H
#define WISP_MACHINE_H

/*
 * The last line Wisp prints is "(wisp) end: <name>"; QEMU's isa-debug-exit
 * device then turns <code> into its exit status ((code << 1) | 1).
 */
#define MACHINE_END_STATUSES(X)     \
    X(POWEROFF, "poweroff", 0x10)   \
    X(REBOOT,   "reboot",   0x11)   \
    X(CRASH,    "crash",    0x12)   \
    X(PANIC,    "panic",    0x13)

enum machine_end {
#define X(name, text, code) MACHINE_END_##name,
    MACHINE_END_STATUSES(X)
#undef X
};

void machine_end(enum machine_end status) __attribute__((noreturn));

#endif
