/* preload.c (host tool): `wisp up --preload FILE`: the service domain's initramfs with files appended, named by their SHA-256 as the agent's file cache names them (docs/toolstack.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "create.h"
#include "exit_codes.h"
#include "file_digest.h"
#include "preload.h"
#include "sha256.h"

#define NEWC_MODE_DIR  0040755
#define NEWC_MODE_FILE 0100444

/* An archive being written: the stream and how far into the whole file it is. */
struct archive {
    FILE *f;
    uint64_t at;
};

static void put_bytes(struct archive *a, const void *data, size_t len)
{
    fwrite(data, 1, len, a->f);
    a->at += len;
}

/* Zeros up to the next multiple of four: where Linux's unpacker looks for a header. */
static void pad4(struct archive *a)
{
    static const char zeros[4];

    put_bytes(a, zeros, (4 - (a->at & 3)) & 3);
}

/* One newc entry (Linux's Documentation/driver-api/early-userspace/buffer-format.rst). */
static void put_entry(struct archive *a, const char *name, unsigned mode, unsigned nlink,
                      const void *data, size_t size)
{
    char header[160];          /* 110 used: the compiler cannot see the fields fit */
    static unsigned ino = 1;

    snprintf(header, sizeof(header),
             "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
             ino++, mode, 0u, 0u, nlink, 0u, size, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
    put_bytes(a, header, 110);
    put_bytes(a, name, strlen(name) + 1);
    pad4(a);
    put_bytes(a, data, size);
    pad4(a);
}

static int copy_base(struct archive *a, const char *base)
{
    char buf[1 << 16];
    size_t got;
    FILE *in = fopen(base, "rb");

    if (!in) {
        fprintf(stderr, "wisp: %s: %s (./wisp up builds it)\n", base, strerror(errno));
        return WISP_EXIT_INFRA;
    }
    while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
        put_bytes(a, buf, got);
    fclose(in);
    pad4(a);
    return 0;
}

/* Each file as preload/DIGEST; 0 or an exit status. */
static int put_files(struct archive *a, const char *const *files, unsigned n, uint64_t *total)
{
    put_entry(a, "preload", NEWC_MODE_DIR, 2, NULL, 0);
    for (unsigned i = 0; i < n; i++) {
        char name[16 + SHA256_HEX_LEN] = "preload/";
        struct hashed_file f;

        if (file_read_hashed("--preload", files[i], CREATE_FILE_MAX, &f))
            return WISP_EXIT_USAGE;
        *total += f.size;
        if (*total > PRELOAD_MAX_BYTES) {
            fprintf(stderr, "wisp: --preload: the files come to more than %u MiB\n",
                    PRELOAD_MAX_BYTES >> 20);
            free(f.data);
            return WISP_EXIT_USAGE;
        }
        strcat(name, f.digest);
        put_entry(a, name, NEWC_MODE_FILE, 1, f.data, f.size);
        free(f.data);
    }
    put_entry(a, "TRAILER!!!", 0, 1, NULL, 0);
    return 0;
}

int preload_write_initrd(const char *base, const char *const *files, unsigned n,
                         const char *out, unsigned *mib)
{
    struct archive a = { NULL, 0 };
    uint64_t total = 0;
    int fd, rc;

    if (n > PRELOAD_MAX_FILES) {
        fprintf(stderr, "wisp: --preload: at most %u files\n", PRELOAD_MAX_FILES);
        return WISP_EXIT_USAGE;
    }
    /* out may be a link to the build's own initramfs: never write through it. */
    if ((unlink(out) && errno != ENOENT) ||
        (fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
        !(a.f = fdopen(fd, "wb"))) {
        fprintf(stderr, "wisp: cannot write %s: %s\n", out, strerror(errno));
        return WISP_EXIT_INFRA;
    }
    rc = copy_base(&a, base);
    rc = rc ? rc : put_files(&a, files, n, &total);
    if (fclose(a.f) && !rc) {
        fprintf(stderr, "wisp: cannot write %s: %s\n", out, strerror(errno));
        rc = WISP_EXIT_INFRA;
    }
    if (rc)
        unlink(out);            /* no half-written initramfs for the next `wisp up` to find */
    *mib = (unsigned)((total + (1u << 20) - 1) >> 20);
    return rc;
}
