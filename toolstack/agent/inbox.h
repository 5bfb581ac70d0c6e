/* inbox.h (service-domain tool): the host's inbox, a pmem disk of the service domain's own (docs/toolstack.md). */
#ifndef WISP_AGENT_INBOX_H
#define WISP_AGENT_INBOX_H

#include <stddef.h>

#include "host.h"
#include "wisp/control.h"

/* A disk of the service domain itself (frontend and backend are both us): the inbox, if named so. */
void inbox_offer(const struct wisp_ctl_device *d, const struct host_paths *paths, int wait_ms);

/* The first len bytes of the inbox's data into dst; 0, -ENODEV (no inbox), -EINVAL or -EIO. */
int inbox_read(void *dst, size_t len);

#endif
