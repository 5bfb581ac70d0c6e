/* console_io.c (hypervisor): the console_io hypercall: a guest's early/raw console output. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "time.h"
#include "xen/console_io.h"

/* One call writes at most this much; more is refused whole (documented in the ABI table). */
#define CONSOLE_IO_MAX_WRITE (64 * 1024)
#define CONSOLE_IO_CHUNK 128
/* What one pass writes at most before other vCPUs get a chance: the rest is a continuation.
 * A pass also ends after CONSOLE_PASS_NS of serial time (domain.h). */
#define CONSOLE_IO_BUDGET 2048

static long console_write(struct hcall_ctx *c, uint64_t count, uint64_t gva)
{
    char chunk[CONSOLE_IO_CHUNK];
    size_t written = 0;
    uint64_t deadline = now_ns() + CONSOLE_PASS_NS;

    if (count > CONSOLE_IO_MAX_WRITE)
        return -E2BIG;
    while (count) {
        if (written >= CONSOLE_IO_BUDGET || (written && now_ns() >= deadline)) {
            hc_continue(c, 1, count);
            hc_continue(c, 2, gva);
            return 0;
        }
        size_t n = count < sizeof(chunk) ? count : sizeof(chunk);

        if (hc_copy_from(c, chunk, gva, n))
            return -EFAULT;
        size_t taken = domain_console_write_until(c->d, chunk, n, deadline);

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
