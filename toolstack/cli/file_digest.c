/* file_digest.c (host tool): a file's SHA-256, hashed once and then remembered in the run directory while the file stays as it was (hashing an 18 MB kernel takes 0.2 s, at every `wisp create`). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run_dir.h"
#include "file_digest.h"

#define MAX_ENTRIES 64
#define LINE_MAX_LEN 192

/* What names one content of one file: the key of a cache line. */
static void identity(const struct stat *st, char *out, size_t size)
{
    snprintf(out, size, "%llu %llu %lld %lld.%09ld %lld.%09ld", (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino, (long long)st->st_size,
             (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
             st->st_ctim.tv_nsec);
}

static bool cache_path(char *out, size_t size)
{
    char dir[PATH_MAX];

    return !run_dir_path(dir, sizeof(dir), false) && run_file(dir, RUN_DIGESTS, out, size);
}

/* The cache's lines ("IDENTITY DIGEST"), at most MAX_ENTRIES; how many. */
static unsigned read_cache(char lines[MAX_ENTRIES][LINE_MAX_LEN])
{
    char path[PATH_MAX], line[LINE_MAX_LEN];
    FILE *f = cache_path(path, sizeof(path)) ? fopen(path, "r") : NULL;
    unsigned n = 0;

    while (f && n < MAX_ENTRIES && fgets(line, sizeof(line), f))
        if (strchr(line, '\n'))
            memcpy(lines[n++], line, sizeof(line));
    if (f)
        fclose(f);
    return n;
}

static bool lookup(const char *id, char digest[SHA256_HEX_LEN + 1])
{
    static char lines[MAX_ENTRIES][LINE_MAX_LEN];
    unsigned n = read_cache(lines);
    size_t len = strlen(id);

    for (unsigned i = 0; i < n; i++)
        if (!strncmp(lines[i], id, len) && lines[i][len] == ' ' &&
            strlen(lines[i] + len + 1) == SHA256_HEX_LEN + 1) {
            memcpy(digest, lines[i] + len + 1, SHA256_HEX_LEN);
            digest[SHA256_HEX_LEN] = '\0';
            return true;
        }
    return false;
}

/* Adds id's digest, dropping the oldest lines past MAX_ENTRIES; written whole, then renamed. */
static void remember(const char *id, const char *digest)
{
    static char lines[MAX_ENTRIES][LINE_MAX_LEN];
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    unsigned n = read_cache(lines), first = n == MAX_ENTRIES ? 1 : 0;
    FILE *f;

    if (!cache_path(path, sizeof(path)))
        return;
    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    if (!(f = fopen(tmp, "w")))
        return;
    for (unsigned i = first; i < n; i++)
        fputs(lines[i], f);
    fprintf(f, "%s %s\n", id, digest);
    if (fclose(f) || rename(tmp, path))
        unlink(tmp);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The whole file into out->data; *stable when it did not change while being read. */
static int read_whole(const char *what, const char *path, size_t max, struct hashed_file *out,
                      struct stat *before, bool *stable)
{
    struct stat after;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;

    out->data = NULL;
    if (fd < 0 || fstat(fd, before)) {
        fprintf(stderr, "wisp: %s %s: %s\n", what, path, strerror(errno));
    } else if (!S_ISREG(before->st_mode)) {
        fprintf(stderr, "wisp: %s %s: not a regular file\n", what, path);
    } else if ((unsigned long long)before->st_size > max) {
        fprintf(stderr, "wisp: %s %s: %lld bytes, more than %zu MiB\n", what, path,
                (long long)before->st_size, max >> 20);
    } else if ((out->data = malloc(before->st_size ? (size_t)before->st_size : 1))) {
        ssize_t n = 1;

        while (got < (size_t)before->st_size &&
               (n = read(fd, (char *)out->data + got, (size_t)before->st_size - got)) > 0)
            got += (size_t)n;
        if (got == (size_t)before->st_size && n >= 0) {
            out->size = got;
            *stable = !fstat(fd, &after) && same_file(before, &after);
            close(fd);
            return 0;
        }
        fprintf(stderr, "wisp: %s %s: cannot read it\n", what, path);
    }
    free(out->data);
    out->data = NULL;
    if (fd >= 0)
        close(fd);
    return -1;
}

void *file_read_whole(const char *what, const char *path, size_t max, size_t *size)
{
    struct hashed_file f;
    struct stat st;
    bool stable;

    if (read_whole(what, path, max, &f, &st, &stable))
        return NULL;
    *size = f.size;
    return f.data;
}

/*
 * A file changed in the last RACY_S seconds is hashed but not remembered: file
 * times come from a coarse clock, so a second write within the same tick could
 * leave every field of the identity as it was (git's "racily clean" entries).
 */
#define RACY_S 2

static bool settled(const struct stat *st)
{
    time_t now = time(NULL);

    return st->st_mtim.tv_sec + RACY_S <= now && st->st_ctim.tv_sec + RACY_S <= now;
}

int file_read_hashed(const char *what, const char *path, size_t max, struct hashed_file *out)
{
    char id[LINE_MAX_LEN];
    struct stat st;
    bool stable = false;

    if (read_whole(what, path, max, out, &st, &stable))
        return -1;
    stable = stable && settled(&st);
    identity(&st, id, sizeof(id));
    if (stable && lookup(id, out->digest))
        return 0;
    sha256_hex(out->data, out->size, out->digest);
    if (stable)
        remember(id, out->digest);
    return 0;
}
