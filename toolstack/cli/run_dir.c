/* run_dir.c (host tool): the run directory of `wisp up`, and the names of its files. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_dir.h"

bool run_file(const char *dir, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", dir, name);

    return n > 0 && (size_t)n < size;
}

int run_dir_path(char *out, size_t size, bool create)
{
    const char *given = getenv("WISP_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    int n;

    if (given && given[0])
        n = snprintf(out, size, "%s", given);
    else if (xdg && xdg[0])
        n = snprintf(out, size, "%s/wisp", xdg);
    else
        n = snprintf(out, size, "/tmp/wisp-%u", (unsigned)getuid());
    /* Room for the longest socket name inside it, in a sockaddr_un. */
    if (n <= 0 || (size_t)n >= size || n + 1 + strlen(RUN_CONTROL_SOCKET) >= 108)
        return -ENAMETOOLONG;
    if (create && mkdir(out, 0700) && errno != EEXIST)
        return -errno;
    if (lstat(out, &st))
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
        return -EACCES;         /* someone else's, or open to others: not trusted */
    return 0;
}
