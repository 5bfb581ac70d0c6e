/* fuzz_wire.c (host fuzzer): the control protocol's lines (toolstack/protocol/wire.c) as the broker and the agent get them from a peer. */
#include "fuzz.h"
#include "../../toolstack/protocol/wire.c"  /* one translation unit: see tests/fuzz/meson.build */

static unsigned lines_seen;

/* A parsed line's copy fits WIRE_LINE_MAX (the agent keeps requests so) and says the same. */
static void check_copy(const struct wire_msg *m)
{
    static char buf[WIRE_LINE_MAX];
    struct wire_msg c;

    FUZZ_CHECK(wire_copy(&c, buf, sizeof(buf), m) == 0);
    FUZZ_CHECK(c.nr == m->nr && !strcmp(c.kind, m->kind));
    for (unsigned i = 0; i < m->nr; i++)
        FUZZ_CHECK(!strcmp(c.f[i].key, m->f[i].key) && !strcmp(c.f[i].value, m->f[i].value));
}

/* Every line handed out fits the limit and parses, or is refused, without reading past it. */
static void on_line(void *ctx, char *line)
{
    struct wire_msg m;
    char *copy;
    size_t len;

    (void)ctx;
    lines_seen++;
    if (!line)
        return;
    len = strlen(line);
    FUZZ_CHECK(len < WIRE_LINE_MAX);
    copy = fuzz_heap_copy(line, len + 1);
    if (wire_parse(copy, &m) == 0) {
        FUZZ_CHECK(m.nr <= WIRE_MAX_FIELDS && m.kind[0]);
        for (unsigned i = 0; i < m.nr; i++) {
            uint64_t v;

            FUZZ_CHECK(wire_get(&m, m.f[i].key) == m.f[i].value);
            (void)wire_get_uint(&m, m.f[i].key, UINT64_MAX, &v);
        }
        check_copy(&m);
    }
    free(copy);
}

/* Bytes base64-encoded decode back to themselves; any text decodes within its bound or is refused. */
static void check_b64(const uint8_t *data, size_t size)
{
    size_t n = size > 600 ? 600 : size;
    char text[4 * 200 + 8];
    uint8_t back[600];
    char *z = fuzz_heap_string(data, n);

    FUZZ_CHECK(wire_b64_decode(z, back, sizeof(back)) <= (long)sizeof(back));
    free(z);
    n = size > 600 ? 600 : size;
    if (n > 600 / 3 * 3)
        n = 600 / 3 * 3;
    if (n / 3 * 4 + 4 < sizeof(text)) {
        wire_b64_encode(data, n, text);
        FUZZ_CHECK(wire_b64_decode(text, back, sizeof(back)) == (long)n && !memcmp(back, data, n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct wire_lines lines;
    struct fuzz_in in = { data, size, 0 };
    unsigned newlines = 0;

    memset(&lines, 0, sizeof(lines));
    lines_seen = 0;
    for (size_t i = 0; i < size; i++)
        newlines += data[i] == '\n';
    /* The stream cut into reads of the sizes the first bytes give: lines come out the same. */
    while (fuzz_left(&in)) {
        size_t chunk = 1 + fuzz_u8(&in) % 64;

        if (chunk > fuzz_left(&in))
            chunk = fuzz_left(&in);
        wire_feed(&lines, (const char *)in.data + in.pos, chunk, on_line, NULL);
        in.pos += chunk;
    }
    FUZZ_CHECK(lines_seen <= newlines);
    check_b64(data, size);
    return 0;
}
