/* log.h (service-domain tool): wisp-agent's console lines (log.c). */
#ifndef WISP_AGENT_LOG_H
#define WISP_AGENT_LOG_H

/* One "wisp-agent: ..." line on the console, written whole. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
