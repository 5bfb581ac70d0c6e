/* inbox.c (service-domain tool): the host's inbox: a pmem disk of the service domain's own, into which `wisp create` writes a file through the machine's shared RAM; op `take` reads it out (docs/toolstack.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inbox.h"
#include "log.h"
#include "inbox_layout.h"

/* O_DIRECT reads whole, aligned blocks; the data area starts on one (the header is a page). */
#define DIRECT_ALIGN 4096u
_Static_assert(INBOX_HEADER_BYTES % DIRECT_ALIGN == 0, "the data area is aligned for O_DIRECT");

/* Set once at start (devices_read_boot), then read by `take` on the agent's one thread. */
static struct {
    bool listed;
    uint64_t gpa, bytes;
    const struct host_paths *paths;
    int wait_ms;
    char node[300];             /* a block node for it, made on first use */
} inbox;

void inbox_offer(const struct wisp_ctl_device *d, const struct host_paths *paths, int wait_ms)
{
    if (strcmp(d->target, INBOX_MODULE) || inbox.listed) {
        say("disk %s (%s) of the service domain itself: not the inbox, unused", d->vdev, d->target);
        return;
    }
    inbox.listed = true;
    inbox.gpa = d->pmem_gpa;
    inbox.bytes = d->image_bytes;
    inbox.paths = paths;
    inbox.wait_ms = wait_ms;
    say("inbox: %llu bytes at %#llx for files from the host",
        (unsigned long long)d->image_bytes, (unsigned long long)d->pmem_gpa);
}

/* A block node of our own for the inbox's pmem device (no devtmpfs needed); 0 or -errno. */
static int make_node(void)
{
    struct pmem_disk pmem;
    char path[sizeof(inbox.node)];

    if (inbox.node[0])
        return 0;
    if (host_find_pmem(inbox.paths, inbox.gpa, inbox.wait_ms, &pmem))
        return -ENODEV;
    snprintf(path, sizeof(path), "%s/wisp-inbox", inbox.paths->run);
    unlink(path);
    if (mknod(path, S_IFBLK | 0600, makedev(pmem.major, pmem.minor)))
        return -errno;
    memcpy(inbox.node, path, sizeof(path));
    say("inbox: %s (%s)", pmem.name, path);
    return 0;
}

/*
 * O_DIRECT: the host writes the pmem's memory behind the block layer's back, so
 * a cached page of an earlier file would be stale.
 */
int inbox_read(void *dst, size_t len)
{
    size_t aligned = (len + DIRECT_ALIGN - 1) & ~(size_t)(DIRECT_ALIGN - 1);
    void *buf = NULL;
    ssize_t got = -1;
    int fd, err;

    if (!inbox.listed)
        return -ENODEV;
    if (len > INBOX_DATA_BYTES || INBOX_HEADER_BYTES + aligned > inbox.bytes)
        return -EINVAL;
    if ((err = make_node()))
        return err;
    if ((fd = open(inbox.node, O_RDONLY | O_DIRECT | O_CLOEXEC)) < 0)
        return -errno;
    if (!posix_memalign(&buf, DIRECT_ALIGN, aligned ? aligned : DIRECT_ALIGN))
        got = aligned ? pread(fd, buf, aligned, INBOX_HEADER_BYTES) : 0;
    close(fd);
    if (got == (ssize_t)aligned)
        memcpy(dst, buf, len);
    free(buf);
    return got == (ssize_t)aligned ? 0 : -EIO;
}
