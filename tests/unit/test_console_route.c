/* test_console_route.c (host test): xen/common/console_route.c, which console path the user sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "env.h"
#include "console_route.h"

/* ---- a fake sink: what the user saw, and the debug log lines ---- */

static char shown[8192];
static size_t shown_len;
static char logged[8192];
static size_t logged_len;

static void fake_show(void *ctx, const char *buf, size_t len)
{
    assert_true(shown_len + len < sizeof(shown));
    memcpy(shown + shown_len, buf, len);
    shown_len += len;
    shown[shown_len] = '\0';
}

static void fake_log(void *ctx, const char *line)
{
    int n = snprintf(logged + logged_len, sizeof(logged) - logged_len, "[%s]", line);

    assert_true(n > 0 && (size_t)n < sizeof(logged) - logged_len);
    logged_len += (size_t)n;
}

static struct console_sink sink = { NULL, fake_show, fake_log, true };
static struct console_route route;

static int setup(void **state)
{
    memset(&route, 0, sizeof(route));
    shown_len = logged_len = 0;
    shown[0] = logged[0] = '\0';
    sink.log_enabled = true;
    return 0;
}

/* One CONSOLEIO_write call, in 5-byte chunks as the hypercall copies them. */
static void io(const char *s)
{
    size_t len = strlen(s);

    console_route_io_begin(&route, len);
    for (size_t off = 0; off < len; off += 5)
        console_route_io(&route, &sink, s + off, len - off < 5 ? len - off : 5);
}

/* Ring bytes, drained one at a time as console_ring.c does. */
static void ring(const char *s)
{
    for (; *s; s++)
        console_route_ring(&route, &sink, s, 1);
}

static void io_only_is_shown(void **state)
{
    io("hello\n");
    io("world\n");
    assert_string_equal(shown, "hello\nworld\n");
    assert_string_equal(logged, "");
}

static void ring_only_is_shown(void **state)
{
    ring("linux\n");
    console_route_ring(&route, &sink, "hvc0\n", 5);
    assert_string_equal(shown, "linux\nhvc0\n");
}

static void xtf_style_each_line_once(void **state)
{
    io("early, io only\n");
    io("--- Xen Test Framework ---\n");
    ring("--- Xen Test Framework ---\n");
    io("PANIC: ");
    ring("PANIC: ");
    io("boom\n");
    ring("boom\n");
    assert_string_equal(shown, "early, io only\n--- Xen Test Framework ---\nPANIC: boom\n");
    assert_string_equal(logged, "[PANIC: boom]");
}

static void ring_first_then_io(void **state)
{
    ring("a\n");
    io("a\n");
    assert_string_equal(shown, "a\n");
    assert_string_equal(logged, "[a]");
}

static void different_ring_text_shows_swallowed_prefix(void **state)
{
    io("PANIC: foo\n");
    ring("PANIC: bar\n");
    assert_string_equal(shown, "PANIC: foo\nPANIC: bar\n");
}

static void echo_only_once(void **state)
{
    io("x\n");
    ring("x\n");
    ring("x\n");                    /* a second copy is a new line: shown */
    assert_string_equal(shown, "x\nx\n");
}

static void whole_buffer_with_echo_and_more(void **state)
{
    static const char both[] = "one\ntwo\n";

    io("one\n");
    console_route_ring(&route, &sink, both, sizeof(both) - 1);
    assert_string_equal(shown, "one\ntwo\n");
}

static void long_call_is_not_matched(void **state)
{
    char big[CONSOLE_ROUTE_ECHO_MAX + 2];

    memset(big, 'z', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\0';
    io(big);
    ring(big);
    assert_int_equal(shown_len, 2 * strlen(big));   /* shown twice: documented limit */

    setup(NULL);
    big[CONSOLE_ROUTE_ECHO_MAX - 1] = '\n';     /* exactly the limit: matched */
    big[CONSOLE_ROUTE_ECHO_MAX] = '\0';
    io(big);
    ring(big);
    assert_int_equal(shown_len, strlen(big));
}

static void count_smaller_than_bytes_is_safe(void **state)
{
    char big[CONSOLE_ROUTE_ECHO_MAX * 2];

    memset(big, 'q', sizeof(big));
    console_route_io_begin(&route, 4);          /* says 4, gives 512 */
    console_route_io(&route, &sink, big, sizeof(big));
    ring("qqqq");
    assert_int_equal(shown_len, sizeof(big) + 4);
}

static void log_is_sanitised_and_split(void **state)
{
    char line[CONSOLE_ROUTE_LOG_MAX + 10];

    ring("r");
    io("bell\a esc\033[2J (wisp) fake\r\n");
    assert_string_equal(logged, "[bell. esc.[2J (wisp) fake.]");

    logged_len = 0;
    logged[0] = '\0';
    memset(line, 'w', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    io(line);
    assert_int_equal(logged_len, CONSOLE_ROUTE_LOG_MAX + 2 + 8 + 2);
    assert_string_equal(shown, "r");

    sink.log_enabled = false;                   /* loglevel below debug: nothing */
    logged_len = 0;
    logged[0] = '\0';
    io("quiet\n");
    assert_string_equal(logged, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(io_only_is_shown, setup),
        cmocka_unit_test_setup(ring_only_is_shown, setup),
        cmocka_unit_test_setup(xtf_style_each_line_once, setup),
        cmocka_unit_test_setup(ring_first_then_io, setup),
        cmocka_unit_test_setup(different_ring_text_shows_swallowed_prefix, setup),
        cmocka_unit_test_setup(echo_only_once, setup),
        cmocka_unit_test_setup(whole_buffer_with_echo_and_more, setup),
        cmocka_unit_test_setup(long_call_is_not_matched, setup),
        cmocka_unit_test_setup(count_smaller_than_bytes_is_safe, setup),
        cmocka_unit_test_setup(log_is_sanitised_and_split, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
