/* loop.c (service-domain tool): a run-time disk's image file on a loop device, as Xen's block script does with losetup. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

#define LOOP_MAJOR 7

int host_loop_attach(const char *image, bool readonly, struct pmem_disk *out, int *loop_fd)
{
    struct loop_config config = { .info.lo_flags = LO_FLAGS_AUTOCLEAR };
    char path[32];
    struct stat st;
    int ctl, n, file, loop, err = 0;

    if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0)
        return -errno;
    n = ioctl(ctl, LOOP_CTL_GET_FREE);
    err = n < 0 ? -errno : 0;
    close(ctl);
    if (err)
        return err;
    snprintf(path, sizeof(path), "/dev/loop%d", n);
    if ((file = open(image, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(file, &st) || (loop = open(path, O_RDWR | O_CLOEXEC)) < 0) {
        err = -errno;
        close(file);
        return err;
    }
    config.fd = (uint32_t)file;
    if (readonly)
        config.info.lo_flags |= LO_FLAGS_READ_ONLY;
    if (ioctl(loop, LOOP_CONFIGURE, &config)) {
        err = -errno;
        close(loop);
    }
    close(file);                /* the loop device holds the file now */
    if (err)
        return err;
    snprintf(out->name, sizeof(out->name), "loop%d", n);
    out->major = LOOP_MAJOR;
    out->minor = (unsigned int)n;      /* max_part 0: one minor a device */
    out->bytes = (uint64_t)st.st_size;
    *loop_fd = loop;
    return 0;
}
