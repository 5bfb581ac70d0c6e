/* serial.h (host tool): splits Wisp's serial output into lines and classifies them. */
#ifndef WISP_CLI_SERIAL_H
#define WISP_CLI_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The serial protocol (docs/cli.md): hypervisor lines start with "(wisp) " and
 * end in "\n" (possibly "\r\n"); the last one is "(wisp) end: <status>".
 * A guest's console output comes in pieces "(d<ID>) TEXT\n" (TEXT, then a
 * newline, in the guest's stream) or "(d<ID>+) TEXT\n" (TEXT without a newline
 * yet: a partial line, such as a shell prompt). TEXT is any bytes but "\n".
 */
#define SERIAL_HV_PREFIX  "(wisp) "
#define SERIAL_END_PREFIX "(wisp) end: "
/* Longer lines are handed over in cuts of this size (see serial_line_fn). */
#define SERIAL_LINE_MAX   4096

enum line_kind {
    LINE_HYPERVISOR,    /* "(wisp) ..." */
    LINE_GUEST,         /* "(dN) ..." or "(dN+) ..." */
    LINE_OTHER,         /* firmware, boot loader or emulator noise */
};

/* The end statuses, in the order of their exit codes. */
#define END_STATUSES(X)   \
    X(POWEROFF, "poweroff") \
    X(REBOOT,   "reboot")   \
    X(CRASH,    "crash")    \
    X(PANIC,    "panic")

enum end_status {
    END_NONE = 0,
#define END_STATUS_ENUM(name, text) END_##name,
    END_STATUSES(END_STATUS_ENUM)
#undef END_STATUS_ENUM
};

struct serial_line {
    enum line_kind kind;
    unsigned domid;         /* LINE_GUEST only */
    bool partial;           /* LINE_GUEST "(dN+) ": no newline after text */
    const char *text;       /* after the prefix (LINE_OTHER: the whole line) */
    size_t len;
    enum end_status end;    /* LINE_HYPERVISOR "end:" lines only */
};

/*
 * Classifies one line (no "\n"). Trailing "\r"s are dropped from hypervisor
 * and other lines; a guest's text is kept exactly (it is the guest's own bytes).
 */
void serial_classify(const char *line, size_t len, struct serial_line *out);

const char *end_status_name(enum end_status status);

/*
 * One piece of a serial line: the whole line, or (for lines longer than
 * SERIAL_LINE_MAX) one of its cuts. first: the piece starts the line (and so
 * holds its prefix); complete: the piece ends the line (a "\n" followed).
 */
typedef void (*serial_line_fn)(void *ctx, const char *line, size_t len, bool first,
                               bool complete);

struct serial_splitter {
    char buf[SERIAL_LINE_MAX];
    size_t len;
    bool continuing;        /* buf continues a line already cut */
    serial_line_fn on_line;
    void *ctx;
};

void serial_splitter_init(struct serial_splitter *s, serial_line_fn on_line, void *ctx);
/* Feeds raw bytes; calls on_line for every complete line and every cut of a long one. */
void serial_feed(struct serial_splitter *s, const char *data, size_t len);
/* At end of stream: hands over a last line that had no "\n" (complete = false). */
void serial_flush(struct serial_splitter *s);

#endif
