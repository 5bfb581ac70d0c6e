/* test_wire.c (host test): the control protocol's line format (toolstack/protocol/wire.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "wire.h"

static void every_byte_value_round_trips(void **state)
{
    char value[256], line[WIRE_LINE_MAX + 1];
    struct wire_out o;
    struct wire_msg m;

    for (int i = 1; i < 256; i++)
        value[i - 1] = (char)i;
    value[255] = '\0';
    wire_begin(&o, "req");
    wire_add(&o, "data", value);
    wire_addf(&o, "id", "%d", 42);
    assert_true(wire_end(&o) > 0);
    assert_non_null(memchr(o.buf, '\n', o.len));
    assert_null(memchr(o.buf, '\n', o.len - 1));       /* only the last byte ends the line */
    memcpy(line, o.buf, o.len - 1);
    line[o.len - 1] = '\0';
    assert_int_equal(wire_parse(line, &m), 0);
    assert_string_equal(m.kind, "req");
    assert_int_equal(m.nr, 2);
    assert_string_equal(wire_get(&m, "data"), value);
    assert_string_equal(wire_get(&m, "id"), "42");
    assert_null(wire_get(&m, "nope"));
}

static void malformed_lines_are_refused_whole(void **state)
{
    static const char *bad[] = {
        "", " req", "req ", "Req op=list", "req op", "req =x", "req op=a op=b", "req op=%4",
        "req op=%zz", "req op=a b", "req op=a=b", "req o-p=x", "req op=\x01", "req op=\xff",
        "req  op=list",
    };
    struct wire_msg m;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[64];

        strcpy(line, bad[i]);
        assert_int_equal(wire_parse(line, &m), -1);
    }
}

static void too_many_fields_are_refused(void **state)
{
    char line[1024] = "req";
    struct wire_msg m;

    for (int i = 0; i <= WIRE_MAX_FIELDS; i++)
        sprintf(line + strlen(line), " k%d=v", i);
    assert_int_equal(wire_parse(line, &m), -1);
}

static void numbers(void **state)
{
    char line[] = "req a=7 b=18446744073709551615 c=18446744073709551616 d=-1 e= f=12x g=0100";
    struct wire_msg m;
    uint64_t n = 99;

    assert_int_equal(wire_parse(line, &m), 0);
    assert_int_equal(wire_get_uint(&m, "a", 10, &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(wire_get_uint(&m, "a", 6, &n), -2);
    assert_int_equal(wire_get_uint(&m, "b", UINT64_MAX, &n), 0);
    assert_true(n == UINT64_MAX);
    assert_int_equal(wire_get_uint(&m, "c", UINT64_MAX, &n), -2);
    assert_int_equal(wire_get_uint(&m, "d", 10, &n), -2);
    assert_int_equal(wire_get_uint(&m, "e", 10, &n), -2);
    assert_int_equal(wire_get_uint(&m, "f", 100, &n), -2);
    assert_int_equal(wire_get_uint(&m, "g", 1000, &n), 0);
    assert_int_equal(n, 100);
    assert_int_equal(wire_get_uint(&m, "missing", 10, &n), -1);
}

static void an_overlong_message_is_not_cut(void **state)
{
    char big[WIRE_LINE_MAX];
    struct wire_out o;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    wire_begin(&o, "reply");
    wire_add(&o, "data", big);
    assert_int_equal(wire_end(&o), -1);
    memset(big, 'x', WIRE_LINE_MAX - 12);               /* "reply" " data=" + 4084 + "\n" */
    big[WIRE_LINE_MAX - 12] = '\0';
    wire_begin(&o, "reply");
    wire_add(&o, "data", big);
    assert_int_equal(wire_end(&o), WIRE_LINE_MAX);
}

struct seen {
    int lines, dropped;
    char last[WIRE_LINE_MAX];
};

static void a_copy_keeps_every_field_and_needs_its_room(void **state)
{
    char line[] = "req id=7 op=create cmdline=a%20b%25c", buf[64], small[20];
    struct wire_msg m, copy;

    (void)state;
    assert_int_equal(wire_parse(line, &m), 0);
    /* "req" 4, "id" "7" 5, "op" "create" 10: the cmdline field does not fit in 20 */
    assert_int_equal(wire_copy(&copy, small, sizeof(small), &m), -1);
    assert_int_equal(copy.nr, 0);
    assert_int_equal(wire_copy(&copy, buf, sizeof(buf), &m), 0);
    memset(line, 'x', sizeof(line) - 1);        /* the copy owns its strings */
    assert_string_equal(copy.kind, "req");
    assert_int_equal(copy.nr, 3);
    assert_string_equal(wire_get(&copy, "id"), "7");
    assert_string_equal(wire_get(&copy, "op"), "create");
    assert_string_equal(wire_get(&copy, "cmdline"), "a b%c");
}

static void on_line(void *ctx, char *line)
{
    struct seen *s = ctx;

    if (!line) {
        s->dropped++;
        return;
    }
    s->lines++;
    strcpy(s->last, line);
}

static void lines_are_cut_across_feeds(void **state)
{
    static struct wire_lines l;
    struct seen s = { 0 };

    wire_feed(&l, "req op=li", 9, on_line, &s);
    assert_int_equal(s.lines, 0);
    wire_feed(&l, "st\nreq op=pause domid=3\nreq", 27, on_line, &s);
    assert_int_equal(s.lines, 2);
    assert_string_equal(s.last, "req op=pause domid=3");
    wire_feed(&l, "\n", 1, on_line, &s);
    assert_int_equal(s.lines, 3);
    assert_string_equal(s.last, "req");
}

static void an_overlong_line_is_dropped_and_the_next_one_kept(void **state)
{
    static struct wire_lines l;
    static char junk[3 * WIRE_LINE_MAX];
    struct seen s = { 0 };

    memset(junk, 'j', sizeof(junk));
    wire_feed(&l, junk, sizeof(junk), on_line, &s);
    wire_feed(&l, "\nhello v=1\n", 11, on_line, &s);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(s.lines, 1);
    assert_string_equal(s.last, "hello v=1");

    /* The longest line that fits: WIRE_LINE_MAX - 1 bytes and its newline. */
    memset(junk, 'k', WIRE_LINE_MAX - 1);
    junk[WIRE_LINE_MAX - 1] = '\n';
    wire_feed(&l, junk, WIRE_LINE_MAX, on_line, &s);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(s.lines, 2);
    assert_int_equal(strlen(s.last), WIRE_LINE_MAX - 1);
}

static void base64_round_trips_every_length(void **state)
{
    unsigned char data[64], back[64];
    char text[128];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 250);
    for (size_t len = 0; len <= sizeof(data); len++) {
        size_t n = wire_b64_encode(data, len, text);

        assert_int_equal(n, (len * 4 + 2) / 3);
        assert_null(strpbrk(text, "%= +/"));            /* travels without escapes */
        assert_int_equal(wire_b64_decode(text, back, sizeof(back)), (long)len);
        assert_memory_equal(back, data, len);
    }
    assert_int_equal(wire_b64_decode("abcde", back, sizeof(back)), -1);   /* 5 chars: no */
    assert_int_equal(wire_b64_decode("ab=c", back, sizeof(back)), -1);
    assert_int_equal(wire_b64_decode("ab+c", back, sizeof(back)), -1);
    assert_int_equal(wire_b64_decode("abcdabcd", back, 5), -1);          /* 6 bytes > 5 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_byte_value_round_trips),
        cmocka_unit_test(malformed_lines_are_refused_whole),
        cmocka_unit_test(too_many_fields_are_refused),
        cmocka_unit_test(numbers),
        cmocka_unit_test(an_overlong_message_is_not_cut),
        cmocka_unit_test(a_copy_keeps_every_field_and_needs_its_room),
        cmocka_unit_test(lines_are_cut_across_feeds),
        cmocka_unit_test(an_overlong_line_is_dropped_and_the_next_one_kept),
        cmocka_unit_test(base64_round_trips_every_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
