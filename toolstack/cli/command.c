/* command.c (host tool): turns `wisp run -- COMMAND...` into the guest's wisp.cmd= option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

static void put(char *out, size_t size, size_t at, char c)
{
    if (at < size)
        out[at] = c;
}

static void terminate(char *out, size_t size, size_t len)
{
    if (size > 0)
        out[len < size ? len : size - 1] = '\0';
}

size_t shell_quote_join(char *const *words, int count, char *out, size_t size)
{
    static const char quoted_quote[] = "'\\''";     /* close, escaped ', reopen */
    size_t len = 0;

    for (int i = 0; i < count; i++) {
        if (i > 0)
            put(out, size, len++, ' ');
        put(out, size, len++, '\'');
        for (const char *p = words[i]; *p; p++) {
            if (*p != '\'') {
                put(out, size, len++, *p);
                continue;
            }
            for (const char *q = quoted_quote; *q; q++)
                put(out, size, len++, *q);
        }
        put(out, size, len++, '\'');
    }
    terminate(out, size, len);
    return len;
}

size_t base64_encode(const void *in, size_t len, char *out, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *bytes = in;
    size_t at = 0;

    for (size_t i = 0; i < len; i += 3) {
        /* Three bytes (zero-padded) make four 6-bit digits; '=' marks the padding. */
        unsigned long group = (unsigned long)bytes[i] << 16;
        size_t have = len - i < 3 ? len - i : 3;

        if (have > 1)
            group |= (unsigned long)bytes[i + 1] << 8;
        if (have > 2)
            group |= bytes[i + 2];
        put(out, size, at++, alphabet[(group >> 18) & 63]);
        put(out, size, at++, alphabet[(group >> 12) & 63]);
        put(out, size, at++, have > 1 ? alphabet[(group >> 6) & 63] : '=');
        put(out, size, at++, have > 2 ? alphabet[group & 63] : '=');
    }
    terminate(out, size, at);
    return at;
}

char *command_cmdline(char *const *words, int count, const char *extra)
{
    size_t quoted_len = shell_quote_join(words, count, NULL, 0);
    size_t encoded_len = (quoted_len + 2) / 3 * 4;
    size_t total = strlen(COMMAND_CMDLINE_HEAD) + encoded_len +
                   (extra ? 1 + strlen(extra) : 0) + 1;
    char *quoted = malloc(quoted_len + 1), *line = malloc(total);
    size_t at;

    if (!quoted || !line) {
        free(quoted);
        free(line);
        return NULL;
    }
    shell_quote_join(words, count, quoted, quoted_len + 1);
    at = (size_t)snprintf(line, total, "%s", COMMAND_CMDLINE_HEAD);
    at += base64_encode(quoted, quoted_len, line + at, total - at);
    if (extra)
        snprintf(line + at, total - at, " %s", extra);
    free(quoted);
    return line;
}
