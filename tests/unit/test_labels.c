/* test_labels.c (host test): cutting the labelled console stream for `wisp console` (toolstack/protocol/labels.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "labels.h"

/* What each owner got, as "owner:text|" records. */
struct seen {
    char out[4096];
};

static void collect(void *ctx, const char *owner, const char *text, size_t len)
{
    struct seen *s = ctx;
    size_t n = strlen(s->out);

    snprintf(s->out + n, sizeof(s->out) - n, "%s:%.*s|", owner, (int)len, text);
}

static void feed(const char *stream, size_t piece, struct seen *seen)
{
    struct label_splitter sp;
    size_t len = strlen(stream);

    label_split_init(&sp);
    memset(seen, 0, sizeof(*seen));
    for (size_t i = 0; i < len; i += piece)
        label_split(&sp, stream + i, len - i < piece ? len - i : piece, collect, seen);
}

/* Joins the records of one owner, so reads of any size can be compared. */
static void text_of(const struct seen *seen, const char *owner, char *out, size_t size)
{
    char copy[4096], *rec, *save;

    out[0] = '\0';
    strcpy(copy, seen->out);
    for (rec = strtok_r(copy, "|", &save); rec; rec = strtok_r(NULL, "|", &save)) {
        char *colon = strchr(rec, ':');

        if (colon && (size_t)(colon - rec) == strlen(owner) && !strncmp(rec, owner, strlen(owner)))
            strncat(out, colon + 1, size - strlen(out) - 1);
    }
}

static void lines_go_to_their_owners_whatever_the_reads(void **state)
{
    static const char stream[] = "[web] hello\n[db] ready\nplain line\n[web] prompt$ ";

    for (size_t piece = 1; piece <= sizeof(stream); piece++) {
        struct seen seen;
        char web[256], db[256], none[256];

        feed(stream, piece, &seen);
        text_of(&seen, "web", web, sizeof(web));
        text_of(&seen, "db", db, sizeof(db));
        text_of(&seen, "", none, sizeof(none));
        assert_string_equal(web, "hello\nprompt$ ");
        assert_string_equal(db, "ready\n");
        assert_string_equal(none, "plain line\n");
    }
}

static void a_partial_line_comes_out_at_once(void **state)
{
    struct seen seen;

    feed("[sh] $ ", 64, &seen);
    assert_string_equal(seen.out, "sh:$ |");
}

static void an_overlong_label_is_cut_not_overrun(void **state)
{
    char stream[256], want[LABEL_MAX];
    struct seen seen;

    memset(stream, 0, sizeof(stream));
    stream[0] = '[';
    memset(stream + 1, 'n', 100);
    strcat(stream, "] x\n");
    feed(stream, 7, &seen);
    memset(want, 'n', LABEL_MAX - 1);
    want[LABEL_MAX - 1] = '\0';
    assert_non_null(strstr(seen.out, want));
    assert_int_equal(strncmp(seen.out, want, LABEL_MAX - 1), 0);
    assert_non_null(strstr(seen.out, "] x\n"));     /* the rest stays text, nothing lost */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_go_to_their_owners_whatever_the_reads),
        cmocka_unit_test(a_partial_line_comes_out_at_once),
        cmocka_unit_test(an_overlong_label_is_cut_not_overrun),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
