/* printk.h (hypervisor): the hypervisor log on the serial line, each line prefixed "(wisp) ". */
#ifndef WISP_PRINTK_H
#define WISP_PRINTK_H

#include "env.h"
#include <stdarg.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; set by the loglevel= option. */
extern enum log_level log_threshold;

void printk(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...) printk(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define log_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define log_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

struct log_limit;
/*
 * A log line that a guest's action causes (a refused MSR, a bad hypercall
 * argument): it prints only while the domain's bucket has tokens (log_limit.h),
 * and the next line that prints is preceded by "dN: M messages suppressed".
 * Every guest-reachable log call goes through gprintk, so no guest can make
 * the hypervisor spend its time on the serial line.
 */
void printk_limited(struct log_limit *limit, unsigned domid, enum log_level level,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define gprintk(d, level, ...) printk_limited(&(d)->log_limit, (d)->id, level, __VA_ARGS__)
/* Reports lines a domain's limit dropped that no later line reported (its end). */
void printk_limited_flush(struct log_limit *limit, unsigned domid);

/* Writes raw bytes to the serial line with no prefix (guest console lines). */
void serial_write(const char *s, size_t len);
/*
 * Held around each whole serial line, so lines from several CPUs never mix.
 * A CPU may take it again while it holds it: a fault or panic in the middle
 * of a line still gets its own lines out. Innermost lock: take no other under it.
 */
void console_lock(void);
void console_unlock(void);

/* Stops the machine: logs, reports "end: panic" and never returns. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
