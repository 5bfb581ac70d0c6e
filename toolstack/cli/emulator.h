/* emulator.h (host tool): starts QEMU or Bochs on the boot media and gives access to COM1. */
#ifndef WISP_CLI_EMULATOR_H
#define WISP_CLI_EMULATOR_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

#include "env.h"
#include "exit_codes.h"
#include "host_channel.h"
#include "media.h"
#include "options.h"

/*
 * Bochs CPU model: must have VMX with EPT and unrestricted guest. Bochs 2.7's
 * `bochs -help cpu` lists it; Ice Lake and Tiger Lake models both qualify.
 */
#define BOCHS_CPU_MODEL "tigerlake"

/*
 * Bochs' COM1 takes whatever arrives on its terminal into the 16-byte FIFO of
 * its 16550 and drops what overflows it (QEMU waits for room instead), and
 * Wisp looks at serial input every 20 ms (xen/common/sched.c, INPUT_POLL_NS).
 * So input goes to Bochs at half a FIFO per poll period: plenty for typing.
 */
#define BOCHS_INPUT_BURST   8
#define BOCHS_INPUT_GAP_MS  20

/* isa-debug-exit (QEMU hw/misc/debugexit.c): the guest writes v, QEMU exits (v << 1) | 1. */
#define QEMU_DEBUG_EXIT_PORT "0xf4"

struct emulator {
    enum emulator_kind kind;
    pid_t pid;                  /* leader of its own process group; 0: not running */
    int serial_fd;              /* COM1 output: a pipe (QEMU stdout), a file (Bochs) or,
                                 * interactive Bochs, the master of COM1's pty */
    bool serial_is_file;        /* a file never reports EOF: poll it */
    int serial_in_fd;           /* interactive: COM1 input (non-blocking); else -1 */
    unsigned input_burst;       /* bytes per input_gap_ms at most; 0: no pacing */
    unsigned input_gap_ms;
    int serial_pty_slave;       /* interactive Bochs: held open so the pty never hangs up */
    int terminal_fd;            /* Bochs: pty master of its text display; else -1 */
    int terminal_log_fd;        /* where that display's output is dumped */
    int screen_fd;              /* Bochs: the pty slave its curses screen is drawn on; else -1 */
    char terminal_line[256];    /* the display's unfinished line, to find the screen's name */
    size_t terminal_line_len;
    char log_path[PATH_MAX];    /* the emulator's own messages, shown on failure */
    struct host_channel host;   /* COM2 with --host-channel; its fds are -1 otherwise */
};

/* Emulator programs; WISP_QEMU and WISP_BOCHS override them (tests use fakes). */
const char *emulator_program(enum emulator_kind kind);

/*
 * Starts the emulator on the media. Returns 0, or WISP_EXIT_INFRA after
 * printing why.
 */
enum wisp_exit __must_check emulator_start(const struct run_options *opts,
                                           const struct boot_media *media,
                                           struct emulator *emu);

/*
 * Reads whatever Bochs' text display and curses screen have written, so
 * Bochs never blocks on a full pty; the display's text goes to its log.
 */
void emulator_drain_display(struct emulator *emu);

/* Adds the display's fds to FDS (room for two) for poll(); returns how many. */
int emulator_display_pollfds(const struct emulator *emu, struct pollfd *fds);

/* Ends the emulator's process group (after grace_ms) and closes its fds; returns its wait status. */
int emulator_stop(struct emulator *emu, unsigned grace_ms);

#endif
