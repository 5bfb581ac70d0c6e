/* channel.h (service-domain tool): the host channel (docs/host-channel.md) as wisp-agent sees it. */
#ifndef WISP_AGENT_CHANNEL_H
#define WISP_AGENT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

struct channel {
    int privcmd;
    int evtchn;                 /* /dev/xen/evtchn with WISP_VIRQ_HOST_CHANNEL bound; poll it */
};

/* 0, -ENODEV when the machine has no host channel, or another negative errno. */
int channel_open(struct channel *c, int privcmd, const char *evtchn_dev);

/* After poll said the fd is readable: takes the event and unmasks it again. */
void channel_ack(struct channel *c);

/* Bytes that came in (0: none), or a negative errno. */
long channel_read(struct channel *c, char *buf, size_t size);

/* All of len, waiting while the port is busy; 0, or a negative errno (-ETIMEDOUT after 10 s). */
int channel_write(struct channel *c, const char *buf, size_t len);

#endif
