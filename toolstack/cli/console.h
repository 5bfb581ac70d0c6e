/* console.h (host tool): a guest's console stream as `wisp` shows it: CR LF folded, exit marker taken out. */
#ifndef WISP_CLI_CONSOLE_H
#define WISP_CLI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * `wisp run -- COMMAND`: the guest's /init runs COMMAND, then prints
 * "\n<<wisp-exit N>>\n" and powers off (docs/cli.md). The marker line is
 * MARKER_OPEN, 1 to 3 decimal digits (0..255), MARKER_CLOSE.
 */
#define MARKER_OPEN      "<<wisp-exit "
#define MARKER_CLOSE     ">>"
#define MARKER_MAX_LEN   (sizeof(MARKER_OPEN) - 1 + 3 + sizeof(MARKER_CLOSE) - 1)
/*
 * Output after a marker is held back until we know whether another marker
 * follows (only the last one counts). Past this much, the marker is taken to
 * be the command's own text: the real one is followed by the guest's
 * power-off messages only.
 */
#define MARKER_TAIL_MAX  (64 * 1024)
/*
 * Looking ahead for a marker holds back a line's "\n" (and the start of a line
 * that reads like a marker) until the next bytes show what follows. /init
 * writes "\n<<wisp-exit N>>\n" at once, so when nothing follows for this long,
 * the caller releases them (console_release_held), and output stays live.
 */
#define CONSOLE_HOLD_MS  100
/* Bytes are staged and handed to write() in runs, not one by one. */
#define CONSOLE_STAGE_SIZE 512

typedef void (*console_write_fn)(void *ctx, const char *data, size_t len);

struct console_stream {
    console_write_fn write;
    void *ctx;
    bool find_marker;           /* look for <<wisp-exit N>> lines */
    bool cr_held;               /* a "\r" that may be the first half of "\r\n" */
    char esc[4];                /* an escape of the serial form not complete yet ("\\", "\x41") */
    size_t esc_len;

    /* Marker search; the stream's bytes are in this order: */
    bool newline_held;          /* a "\n" not written yet: a marker line may follow */
    bool in_head;               /* at the start of a line that may still be a marker */
    char head[MARKER_MAX_LEN];  /* that line's bytes so far */
    size_t head_len;
    bool marker_held;           /* a complete marker line not written yet */
    bool marker_had_newline;    /* ... and the "\n" before it */
    int marker_status;          /* ... its N */
    char marker_text[MARKER_MAX_LEN];   /* ... and its text */
    size_t marker_len;
    char *tail;                 /* output since that marker (malloc'd) */
    size_t tail_len;

    char stage[CONSOLE_STAGE_SIZE];
    size_t stage_len;
};

/* Sets up a stream that writes to write(ctx, ...); find_marker for `run -- COMMAND`. */
void console_init(struct console_stream *c, bool find_marker, console_write_fn write,
                  void *ctx);

/*
 * Feeds the guest's bytes in their serial form ("\n" for the newline the
 * serial framing carries): Wisp escapes a guest's control bytes ("\x1b") and
 * doubles its backslashes (docs/cli.md, "Serial output"), and the stream gets
 * the guest's own bytes back. Any other backslash passes as it is.
 */
void console_feed(struct console_stream *c, const char *data, size_t len);

/* True while bytes are held back for a look ahead (see CONSOLE_HOLD_MS). */
bool console_holding(const struct console_stream *c);

/*
 * Writes out what is held for a look ahead: nothing followed soon enough. A
 * marker line that starts later is still recognised; a line start that looked
 * like one is then ordinary text.
 */
void console_release_held(struct console_stream *c);

/*
 * At the end of the stream: writes out whatever was held back, except the last
 * marker line and the "\n" before it. Returns that marker's N, or -1 if there
 * was none; *tail (malloc'd, caller frees, may be NULL) and *tail_len get what
 * the guest printed after it, which is not written.
 */
int console_finish(struct console_stream *c, char **tail, size_t *tail_len);

/*
 * If text[0..len) is a whole marker line, returns its N; -1 if not. Sets
 * *prefix when the bytes could still grow into one.
 */
int console_match_marker(const char *text, size_t len, bool *prefix);

#endif
