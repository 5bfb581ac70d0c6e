/* host_channel.c (hypervisor): COM2 as a byte stream between the host and the control domains (docs/host-channel.md). */
#include "env.h"
#include "domain.h"
#include "errno.h"
#include "evtchn.h"
#include "host_channel.h"
#include "hypercall.h"
#include "printk.h"
#include "time.h"
#include "uart.h"
#include "wisp/control.h"

/* What came in and no control domain has read yet; the rest waits in the UART's FIFO. */
#define IN_BYTES 4096u
/*
 * The UART holds 16 bytes: while bytes flow, the boot CPU looks every
 * BUSY_POLL_NS instead of every INPUT_POLL_NS, until the channel has been quiet
 * for BUSY_FOR_NS. (Spinning on the UART instead gains nothing under QEMU: it
 * holds the lock QEMU's I/O thread needs to refill the FIFO.)
 */
#define BUSY_POLL_NS 1000000ull
#define BUSY_FOR_NS  200000000ull

bool host_channel_wanted;

/* All of it is guarded by hv_lock: the boot CPU polls, any CPU's hypercall reads or writes. */
static struct {
    bool open;
    uint64_t active_ns;                 /* when bytes last moved either way */
    uint32_t head, tail;                /* bytes in[tail..head) modulo IN_BYTES wait */
    uint8_t in[IN_BYTES];
    uint8_t out[WISP_HOST_IO_MAX];      /* a write's bytes, read from the guest once */
} chan;

void host_channel_init(void)
{
    if (!host_channel_wanted)
        return;
    chan.open = uart_open(COM2_BASE);
    if (chan.open)
        log_info("host channel: COM2 (port 0x%x)", COM2_BASE);
    else
        log_warn("host channel: no serial port answers at COM2 (port 0x%x); the channel is off",
                 COM2_BASE);
}

void host_channel_poll(void)
{
    uint32_t before = chan.head;
    int c;

    while (chan.open && chan.head - chan.tail < IN_BYTES && (c = uart_read(COM2_BASE)) >= 0)
        chan.in[chan.head++ % IN_BYTES] = (uint8_t)c;
    if (chan.head == before)
        return;
    chan.active_ns = now_ns();
    domain_raise_virq(WISP_ROLE_CONTROL, WISP_VIRQ_HOST_CHANNEL, NULL);
}

uint64_t host_channel_poll_period(uint64_t now, uint64_t quiet_period_ns)
{
    bool busy = chan.open && chan.active_ns && now - chan.active_ns < BUSY_FOR_NS;

    return busy && BUSY_POLL_NS < quiet_period_ns ? BUSY_POLL_NS : quiet_period_ns;
}

static long read_args(struct hcall_ctx *c, uint64_t gva, struct wisp_ctl_host_io *a)
{
    if (!chan.open)
        return -ENODEV;
    if (hc_copy_from(c, a, gva, sizeof(*a)))
        return -EFAULT;
    if (a->pad || !a->bytes || a->bytes > WISP_HOST_IO_MAX)
        return -EINVAL;
    return 0;
}

/* Copied out in at most two pieces (the buffer wraps); nothing is taken unless all of it lands. */
long host_channel_read(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_host_io a;
    uint32_t n, first;
    long rc = read_args(c, gva, &a);

    if (rc)
        return rc;
    n = chan.head - chan.tail;
    if (n > a.bytes)
        n = a.bytes;
    first = IN_BYTES - chan.tail % IN_BYTES;
    if (first > n)
        first = n;
    if (hc_copy_to(c, a.buffer, chan.in + chan.tail % IN_BYTES, first) ||
        hc_copy_to(c, a.buffer + first, chan.in, n - first))
        return -EFAULT;
    chan.tail += n;
    return n;
}

long host_channel_write(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_host_io a;
    uint32_t n = 0;
    long rc = read_args(c, gva, &a);

    if (rc)
        return rc;
    if (hc_copy_from(c, chan.out, a.buffer, a.bytes))
        return -EFAULT;
    while (n < a.bytes && uart_try_write(COM2_BASE, chan.out[n]))
        n++;
    if (n)
        chan.active_ns = now_ns();
    return n;
}
