/* console_io.c (hypervisor): the console_io hypercall: a guest's early/raw console output. */
#include "env.h"
#include "console_route.h"
#include "domain.h"
#include "errno.h"
#include "hypercall.h"
#include "printk.h"
#include "time.h"
#include "xen/console_io.h"

/* One call writes at most this much; more is refused whole (documented in the ABI table). */
#define CONSOLE_IO_MAX_WRITE (64 * 1024)
#define CONSOLE_IO_CHUNK 128
/* What one pass writes at most before other vCPUs get a chance: the rest is a continuation.
 * A pass also ends after CONSOLE_PASS_NS of serial time (domain.h). */
#define CONSOLE_IO_BUDGET 2048

/* ---- routing: which path the user sees (console_route.h) ---- */

static void route_show(void *ctx, const char *buf, size_t len)
{
    domain_console_write(ctx, buf, len);
}

/*
 * The line is printable ASCII already (console_route.c). It is the guest's
 * console text, not a message about the guest, so it is not rate-limited
 * (gprintk) but bounded like shown text: by the pass deadline in io_pass.
 */
static void route_log(void *ctx, const char *line)
{
    const struct domain *d = ctx;

    log_debug("d%u console_io: %s", d->id, line);
}

static struct console_sink route_sink(struct domain *d)
{
    return (struct console_sink){ d, route_show, route_log, log_threshold >= LOG_DEBUG };
}

void domain_console_ring_output(struct domain *d, const char *buf, size_t len)
{
    const struct console_sink sink = route_sink(d);

    console_route_ring(&d->console_route, &sink, buf, len);
}

/*
 * Routes up to len bytes of one pass (domain.h, CONSOLE_PASS_NS): at least
 * one, then byte by byte until the deadline has passed at a line start.
 * Returns how many were taken; the call continues with the rest.
 */
static size_t io_pass(struct domain *d, const struct console_sink *sink, const char *buf,
                      size_t len, uint64_t deadline)
{
    for (size_t i = 0; i < len; i++) {
        if (i && domain_console_at_line_start(d) && now_ns() >= deadline)
            return i;
        console_route_io(&d->console_route, sink, buf + i, 1);
    }
    return len;
}

/*
 * One pass of a call; the rest continues as a new call. A continuation is the
 * same call for console_route: its echo (rule 3) spans the whole call.
 */
static long console_write(struct hcall_ctx *c, uint64_t count, uint64_t gva)
{
    const struct console_sink sink = route_sink(c->d);
    char chunk[CONSOLE_IO_CHUNK];
    size_t written = 0;
    uint64_t deadline = now_ns() + CONSOLE_PASS_NS;
    bool continuation = c->d->console_io_continues;

    c->d->console_io_continues = false;
    if (count > CONSOLE_IO_MAX_WRITE)
        return -E2BIG;
    if (!continuation)
        console_route_io_begin(&c->d->console_route, count);
    while (count) {
        if (written >= CONSOLE_IO_BUDGET ||
            (written && domain_console_at_line_start(c->d) && now_ns() >= deadline)) {
            hc_continue(c, 1, count);
            hc_continue(c, 2, gva);
            c->d->console_io_continues = true;
            return 0;
        }
        size_t n = count < sizeof(chunk) ? count : sizeof(chunk);

        if (hc_copy_from(c, chunk, gva, n))
            return -EFAULT;
        size_t taken = io_pass(c->d, &sink, chunk, n, deadline);

        gva += taken;
        count -= taken;
        written += taken;
    }
    return 0;
}

long do_console_io(struct hcall_ctx *c, const uint64_t *arg)
{
    switch (arg[0]) {
    case CONSOLEIO_write:
        return console_write(c, c->compat ? (uint32_t)arg[1] : arg[1], arg[2]);
    case CONSOLEIO_read:            /* the serial line is the host's; guests have hvc */
        return -EPERM;
    default:
        return -ENOSYS;
    }
}
