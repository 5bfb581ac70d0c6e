/* serve.h (service-domain tool): wisp-agent answers the host's requests (docs/control-protocol.md). */
#ifndef WISP_AGENT_SERVE_H
#define WISP_AGENT_SERVE_H

#include <stdint.h>

#include "channel.h"
#include "store.h"

/* "running", "paused", "shutdown", "dying", "building" or "unknown". */
const char *domain_state_name(uint32_t state);

/* Says hello to the host: the agent is there and which protocol it speaks. */
void serve_start(struct channel *chan, int privcmd, struct store *store);

/* The channel's fd was readable: answers every whole request that came in. */
void serve_pump(void);

/* Something may have changed (a domain ended): reports what did, as events. */
void serve_domains_changed(void);

#endif
