/* file_digest.h (host tool): files read whole, with their SHA-256, which the run directory's digest cache remembers (docs/toolstack.md). */
#ifndef WISP_CLI_FILE_DIGEST_H
#define WISP_CLI_FILE_DIGEST_H

#include <stddef.h>

#include "sha256.h"

struct hashed_file {
    void *data;                     /* malloc'd; NULL: not read */
    size_t size;
    char digest[SHA256_HEX_LEN + 1];
};

/* path read whole (what: "config", "kernel", ...), at most max bytes, malloc'd; NULL after saying why. */
void *file_read_whole(const char *what, const char *path, size_t max, size_t *size);

/*
 * path read whole (at most max bytes) and its SHA-256, taken from the digest
 * cache when the file is the one hashed before: same device, inode, size, and
 * modification and change times to the nanosecond (the change time moves with
 * every write and cannot be set back). A file changed in the last two seconds
 * is always hashed (file times are coarse). 0, or -1 after saying why ("wisp:
 * WHAT PATH: ...").
 */
int file_read_hashed(const char *what, const char *path, size_t max, struct hashed_file *out);

#endif
