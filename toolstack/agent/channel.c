/* channel.c (service-domain tool): the host channel (docs/host-channel.md) as wisp-agent sees it:
 * bytes through WISP_CTL_host_read/_write, woken by WISP_VIRQ_HOST_CHANNEL via /dev/xen/evtchn. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "ctl.h"
#include "wisp/control.h"

/* Linux's include/uapi/xen/evtchn.h: bind a VIRQ; read() gives fired ports, write() unmasks them. */
struct ioctl_evtchn_bind_virq {
    unsigned int virq;
};
#define IOCTL_EVTCHN_BIND_VIRQ _IOC(_IOC_NONE, 'E', 0, sizeof(struct ioctl_evtchn_bind_virq))

#define WRITE_WAIT_MS 10000
#define BUSY_SLEEP_NS 1000000L

int channel_open(struct channel *c, int privcmd, const char *evtchn_dev)
{
    struct ioctl_evtchn_bind_virq bind = { .virq = WISP_VIRQ_HOST_CHANNEL };
    static const char probe;
    long rc;

    c->privcmd = privcmd;
    c->evtchn = -1;
    /* Zero bytes: -EINVAL when the channel is there, -ENODEV when it is not; nothing moves. */
    rc = ctl_host_write(privcmd, &probe, 0);
    if (rc == -ENODEV)
        return -ENODEV;
    c->evtchn = open(evtchn_dev, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (c->evtchn < 0)
        return -errno;
    if (ioctl(c->evtchn, IOCTL_EVTCHN_BIND_VIRQ, &bind) < 0) {
        int err = -errno;

        close(c->evtchn);
        c->evtchn = -1;
        return err;
    }
    return 0;
}

void channel_ack(struct channel *c)
{
    uint32_t ports[16];
    ssize_t got = read(c->evtchn, ports, sizeof(ports));

    if (got > 0)
        (void)!write(c->evtchn, ports, (size_t)got);
}

long channel_read(struct channel *c, char *buf, size_t size)
{
    return ctl_host_read(c->privcmd, buf, size > WISP_HOST_IO_MAX ? WISP_HOST_IO_MAX
                                                                  : (uint32_t)size);
}

int channel_write(struct channel *c, const char *buf, size_t len)
{
    struct timespec nap = { 0, BUSY_SLEEP_NS };
    long waited_ms = 0;

    while (len) {
        long n = ctl_host_write(c->privcmd, buf, len > WISP_HOST_IO_MAX ? WISP_HOST_IO_MAX
                                                                        : (uint32_t)len);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            if (waited_ms++ >= WRITE_WAIT_MS)
                return -ETIMEDOUT;
            nanosleep(&nap, NULL);
            continue;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}
