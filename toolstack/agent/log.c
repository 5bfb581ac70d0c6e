/* log.c (service-domain tool): wisp-agent's console lines. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

/* One line per write: the console is shared, and a write is what stays together. */
void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n = snprintf(line, sizeof(line), "wisp-agent: ");

    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(STDOUT_FILENO, line, (size_t)n);
}
