/* labels.h (toolstack, pure): cuts `wisp run`'s labelled console stream ("[NAME] text") into each domain's text, for `wisp console`. */
#ifndef WISP_PROTOCOL_LABELS_H
#define WISP_PROTOCOL_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#define LABEL_MAX 40    /* a label's room, its NUL included; a longer one is cut */

/* Where in the stream the last byte left off (the stream may be read in any pieces). */
struct label_splitter {
    bool mid_line, in_label, after_label;
    char label[LABEL_MAX];          /* being read */
    char owner[LABEL_MAX];          /* whose line this is; "" for an unlabelled one */
    size_t label_len;
};

/* Text of one owner's line, a whole line (with its newline) or the part read so far. */
typedef void (*label_text_fn)(void *ctx, const char *owner, const char *text, size_t len);

/* Starts at a line's beginning. */
void label_split_init(struct label_splitter *s);

/* Feeds len bytes; on_text gets each owner's text in order, at the latest by the end of the piece. */
void label_split(struct label_splitter *s, const char *data, size_t len, label_text_fn on_text,
                 void *ctx);

#endif
