/* test_console_line.c (host test): guest console bytes become lines whose serial form cannot drive a terminal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "console_line.h"

/* Feeds s to a line the way domain.c does; the serial lines it would print, "(d1) "/"(d1+) " framed. */
static void feed(const char *s, size_t n, char *out, size_t size)
{
    struct console_line l = { 0 };
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        enum console_put r = console_line_put(&l, s[i]);

        if (r == CONSOLE_PUT_MORE)
            continue;
        o += (size_t)snprintf(out + o, size - o, r == CONSOLE_PUT_LINE_ENDED ? "(d1) " : "(d1+) ");
        for (unsigned k = 0; k < l.len; k++) {
            char e[CONSOLE_ESCAPED_MAX];
            size_t m = console_escape(l.buf[k], e);

            memcpy(out + o, e, m);
            o += m;
        }
        out[o++] = '\n';
        console_line_clear(&l);
    }
    console_line_release_cr(&l);
    if (l.len) {
        o += (size_t)snprintf(out + o, size - o, "(d1+) ");
        for (unsigned k = 0; k < l.len; k++) {
            char e[CONSOLE_ESCAPED_MAX];
            size_t m = console_escape(l.buf[k], e);

            memcpy(out + o, e, m);
            o += m;
        }
        out[o++] = '\n';
    }
    out[o] = '\0';
}

#define FEED(lit, out) feed(lit, sizeof(lit) - 1, out, sizeof(out))

static void test_printable_text_is_unchanged(void **state)
{
    char out[256];

    FEED("hello, world\t(tab)\n", out);
    assert_string_equal(out, "(d1) hello, world\t(tab)\n");
}

static void test_escape_sequences_are_shown_not_sent(void **state)
{
    char out[256];

    FEED("\x1b[2J\x1b]0;title\x07red\x1b[31m\n", out);
    assert_string_equal(out, "(d1) \\x1b[2J\\x1b]0;title\\x07red\\x1b[31m\n");
    assert_null(strchr(out, '\x1b'));
}

static void test_cr_cannot_forge_a_hypervisor_line(void **state)
{
    char out[256];

    FEED("ok\r(wisp) end: poweroff\n", out);
    assert_string_equal(out, "(d1) ok\\x0d(wisp) end: poweroff\n");
    FEED("\r(d9) fake\r\n", out);
    assert_string_equal(out, "(d1) \\x0d(d9) fake\n");
}

static void test_crlf_is_one_line_end(void **state)
{
    char out[256];

    FEED("a\r\nb\r\r\n", out);
    assert_string_equal(out, "(d1) a\n(d1) b\\x0d\n");
}

static void test_backslash_is_doubled_so_the_form_is_reversible(void **state)
{
    char out[256];

    FEED("C:\\x41\n", out);
    assert_string_equal(out, "(d1) C:\\\\x41\n");
}

static void test_nul_dropped_high_bytes_and_del_escaped(void **state)
{
    char out[256];

    FEED("a\0b\x7f\x9b\xc3\xa9\n", out);
    assert_string_equal(out, "(d1) ab\\x7f\\x9b\\xc3\\xa9\n");
}

/* Pieces: as many bytes as keep the serial form within CONSOLE_PIECE_MAX. */
#define PLAIN_PIECE (CONSOLE_PIECE_MAX - 2 * CONSOLE_ESCAPED_MAX + 1)

static void test_long_line_goes_out_in_whole_pieces(void **state)
{
    char in[PLAIN_PIECE + 11], out[4 * sizeof(in)];

    memset(in, 'x', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\n';
    feed(in, sizeof(in), out, sizeof(out));
    assert_int_equal(strlen(out), 6 + PLAIN_PIECE + 1 + 5 + 10 + 1);
    assert_memory_equal(out, "(d1+) xxx", 9);
    assert_memory_equal(out + 6 + PLAIN_PIECE + 1, "(d1) xxxxxxxxxx\n", 16);
}

/* Every piece's serial form fits CONSOLE_PIECE_MAX, however many bytes need escaping. */
static void test_pieces_are_bounded_in_serial_bytes(void **state)
{
    char in[1000], out[8 * sizeof(in)];
    char *line, *save;

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (char)(i % 7 == 0 ? '\x1b' : i % 5 == 0 ? '\r' : 'a' + i % 26);
    feed(in, sizeof(in), out, sizeof(out));
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *text = strchr(line, ' ') + 1;

        assert_true(strlen(text) <= CONSOLE_PIECE_MAX);
    }
}

/* A held CR plus the next byte at a full buffer: nothing lost, nothing overflows. */
static void test_cr_at_the_buffer_edge(void **state)
{
    struct console_line l = { 0 };

    for (unsigned i = 0; i < PLAIN_PIECE - 1; i++)
        assert_int_equal(console_line_put(&l, 'y'), CONSOLE_PUT_MORE);
    assert_int_equal(console_line_put(&l, '\r'), CONSOLE_PUT_MORE);
    assert_int_equal(console_line_put(&l, '\x1b'), CONSOLE_PUT_LINE_FULL);
    assert_int_equal(l.len, PLAIN_PIECE + 1);
    assert_true(l.len <= sizeof(l.buf));
    assert_int_equal(l.serial_len, PLAIN_PIECE - 1 + 2 * CONSOLE_ESCAPED_MAX);
    assert_true(l.serial_len <= CONSOLE_PIECE_MAX);
    assert_int_equal(l.buf[PLAIN_PIECE - 1], '\r');
    assert_int_equal(l.buf[PLAIN_PIECE], '\x1b');
}

static void test_every_byte_escapes_to_safe_text(void **state)
{
    for (unsigned b = 0; b < 256; b++) {
        char e[CONSOLE_ESCAPED_MAX];
        size_t n = console_escape((char)b, e);

        assert_true(n >= 1 && n <= CONSOLE_ESCAPED_MAX);
        for (size_t i = 0; i < n; i++)
            assert_true((e[i] >= 0x20 && e[i] <= 0x7e) || e[i] == '\t');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable_text_is_unchanged),
        cmocka_unit_test(test_escape_sequences_are_shown_not_sent),
        cmocka_unit_test(test_cr_cannot_forge_a_hypervisor_line),
        cmocka_unit_test(test_crlf_is_one_line_end),
        cmocka_unit_test(test_backslash_is_doubled_so_the_form_is_reversible),
        cmocka_unit_test(test_nul_dropped_high_bytes_and_del_escaped),
        cmocka_unit_test(test_long_line_goes_out_in_whole_pieces),
        cmocka_unit_test(test_pieces_are_bounded_in_serial_bytes),
        cmocka_unit_test(test_cr_at_the_buffer_edge),
        cmocka_unit_test(test_every_byte_escapes_to_safe_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
