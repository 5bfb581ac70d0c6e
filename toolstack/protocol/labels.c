/* labels.c (toolstack, pure): cuts `wisp run`'s labelled console stream ("[NAME] text") into each domain's text, for `wisp console`. */
#include <string.h>

#include "labels.h"

void label_split_init(struct label_splitter *s)
{
    memset(s, 0, sizeof(*s));
}

void label_split(struct label_splitter *s, const char *data, size_t len, label_text_fn on_text,
                 void *ctx)
{
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (!s->mid_line) {                 /* a line starts: labelled or not */
            s->mid_line = true;
            s->owner[0] = '\0';
            s->in_label = c == '[';
            s->label_len = 0;
            if (s->in_label) {
                start = i + 1;
                continue;
            }
        }
        if (s->in_label) {
            start = i + 1;
            if (c != ']' && s->label_len < sizeof(s->label) - 1) {
                s->label[s->label_len++] = c;
                continue;
            }
            s->label[s->label_len] = '\0';
            memcpy(s->owner, s->label, sizeof(s->owner));
            s->in_label = false;
            s->after_label = c == ']';
            if (c == ']')
                continue;
            start = i;                      /* a label cut for length: this byte is text */
        }
        if (s->after_label) {
            s->after_label = false;
            if (c == ' ') {
                start = i + 1;
                continue;
            }
        }
        if (c == '\n') {
            on_text(ctx, s->owner, data + start, i + 1 - start);
            start = i + 1;
            s->mid_line = false;
        }
    }
    if (s->mid_line && !s->in_label && start < len)
        on_text(ctx, s->owner, data + start, len - start);
}
