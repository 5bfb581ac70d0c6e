/* console_io.c (hypervisor): the console_io hypercall: a guest's early/raw console output. */
#include "env.h"
#include "console_route.h"
#include "domain.h"
#include "errno.h"
#include "hypercall.h"
#include "printk.h"
#include "xen/console_io.h"

/* One call writes at most this much; more is refused whole (documented in the ABI table). */
#define CONSOLE_IO_MAX_WRITE (64 * 1024)
#define CONSOLE_IO_CHUNK 128
/* What one pass writes before other vCPUs get a chance: the rest is a continuation. */
#define CONSOLE_IO_BUDGET 2048

/* ---- routing: which path the user sees (console_route.h) ---- */

static void route_show(void *ctx, const char *buf, size_t len)
{
    domain_console_write(ctx, buf, len);
}

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

static long console_write(struct hcall_ctx *c, uint64_t count, uint64_t gva)
{
    const struct console_sink sink = route_sink(c->d);
    char chunk[CONSOLE_IO_CHUNK];
    size_t written = 0;

    if (count > CONSOLE_IO_MAX_WRITE)
        return -E2BIG;
    console_route_io_begin(&c->d->console_route, count);
    while (count) {
        if (written == CONSOLE_IO_BUDGET) {
            hc_continue(c, 1, count);
            hc_continue(c, 2, gva);
            return 0;
        }
        size_t n = count < sizeof(chunk) ? count : sizeof(chunk);

        if (hc_copy_from(c, chunk, gva, n))
            return -EFAULT;
        console_route_io(&c->d->console_route, &sink, chunk, n);
        gva += n;
        count -= n;
        written += n;
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
