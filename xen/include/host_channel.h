/* host_channel.h (hypervisor): COM2 as a byte stream between the host and the control domains (docs/host-channel.md). */
#ifndef WISP_HOST_CHANNEL_H
#define WISP_HOST_CHANNEL_H

#include "env.h"

struct hcall_ctx;

/* The host_channel command-line option (setup.c). */
extern bool host_channel_wanted;

/* At boot, after the options: opens COM2 when the option asks for it. */
void host_channel_init(void);

/* Boot CPU, hv_lock held, each scheduler pass: moves what came in on COM2 into the buffer. */
void host_channel_poll(void);

/* How often the boot CPU should poll: quiet_period_ns, or more often while bytes flow. */
uint64_t host_channel_poll_period(uint64_t now, uint64_t quiet_period_ns);

/* WISP_CTL_host_read and WISP_CTL_host_write (control.c has checked the role). */
long host_channel_read(struct hcall_ctx *c, uint64_t gva);
long host_channel_write(struct hcall_ctx *c, uint64_t gva);

#endif
