/* host.c (service-domain tool): what wisp-agent does in the service domain's Linux: pmem disks, the bridge, udhcpd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#define POLL_MS 50

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

    nanosleep(&ts, NULL);
}

/* Reads a small sysfs file into buf (NUL-terminated, newline dropped); false if unreadable. */
static bool read_text(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return false;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return true;
}

static bool read_u64(const char *path, uint64_t *v)
{
    char text[32], *end;

    if (!read_text(path, text, sizeof(text)))
        return false;
    errno = 0;
    *v = strtoull(text, &end, 0);
    return end != text && *end == '\0' && errno == 0;
}

/*
 * Linux 6.1 drivers/nvdimm: a legacy pmem range (e820 type 12) becomes a
 * region (regionN/resource: its start, "%#llx") holding one "io" namespace
 * (namespaceN.0/resource: the same start) whose block device is pmemN. The
 * block device's `device` link is the namespace; its parent is the region.
 */
static bool pmem_starts_at(const struct host_paths *p, const char *name, uint64_t gpa)
{
    static const char *const starts[] = { "device/resource", "device/../resource" };
    char path[256];
    uint64_t start;

    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        snprintf(path, sizeof(path), "%s/block/%s/%s", p->sysfs, name, starts[i]);
        if (read_u64(path, &start))
            return start == gpa;
    }
    return false;
}

static bool describe_pmem(const struct host_paths *p, const char *name, struct pmem_disk *out)
{
    char path[256], text[32];
    uint64_t sectors;

    snprintf(path, sizeof(path), "%s/block/%s/dev", p->sysfs, name);
    if (!read_text(path, text, sizeof(text)) ||
        sscanf(text, "%u:%u", &out->major, &out->minor) != 2)
        return false;
    snprintf(path, sizeof(path), "%s/block/%s/size", p->sysfs, name);
    out->bytes = read_u64(path, &sectors) ? sectors * 512 : 0;
    snprintf(out->name, sizeof(out->name), "%s", name);
    return true;
}

static bool scan_pmem(const struct host_paths *p, uint64_t gpa, struct pmem_disk *out)
{
    char path[256];
    DIR *dir;
    struct dirent *e;
    bool found = false;

    snprintf(path, sizeof(path), "%s/block", p->sysfs);
    dir = opendir(path);
    if (!dir)
        return false;
    while (!found && (e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, "pmem", 4) == 0 && strlen(e->d_name) < sizeof(out->name) &&
            pmem_starts_at(p, e->d_name, gpa))
            found = describe_pmem(p, e->d_name, out);
    }
    closedir(dir);
    return found;
}

int host_find_pmem(const struct host_paths *p, uint64_t gpa, int timeout_ms,
                   struct pmem_disk *out)
{
    for (int waited = 0;; waited += POLL_MS) {
        if (scan_pmem(p, gpa, out))
            return 0;
        if (waited >= timeout_ms)
            return -ENOENT;
        sleep_ms(POLL_MS);
    }
}

int host_wait_netdev(const struct host_paths *p, const char *ifname, int timeout_ms)
{
    char path[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/class/net/%s", p->sysfs, ifname);
    for (int waited = 0;; waited += POLL_MS) {
        if (stat(path, &st) == 0)
            return 0;
        if (waited >= timeout_ms)
            return -ENODEV;
        sleep_ms(POLL_MS);
    }
}

int host_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *at = data;
    int err = 0;

    if (fd < 0)
        return -errno;
    while (len) {
        ssize_t n = write(fd, at, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? -errno : -EIO;
            break;
        }
        at += n;
        len -= (size_t)n;
    }
    if (close(fd) < 0 && !err)
        err = -errno;
    return err;
}

extern char **environ;

/* The udhcpd started last, stopped before another starts (it holds the DHCP port). */
static pid_t udhcpd = -1;

static void stop_udhcpd(void)
{
    if (udhcpd <= 0)
        return;
    kill(udhcpd, SIGTERM);
    /* SIGCHLD is ignored: the kernel reaps it, and kill(0) fails once it has gone. */
    for (int waited = 0; kill(udhcpd, 0) == 0 && waited < 2000; waited += POLL_MS)
        sleep_ms(POLL_MS);
    udhcpd = -1;
}

int host_start_udhcpd(const struct host_paths *p, const char *conf, size_t len)
{
    char conf_path[256], leases[256];
    int err;

    stop_udhcpd();
    mkdir(p->run, 0755);   /* EEXIST is the usual answer */
    snprintf(conf_path, sizeof(conf_path), "%s/udhcpd.conf", p->run);
    snprintf(leases, sizeof(leases), "%s/udhcpd.leases", p->run);
    err = host_write_file(conf_path, conf, len);
    if (!err)
        err = host_write_file(leases, "", 0);   /* udhcpd reads it at start */
    if (err)
        return err;

    /*
     * posix_spawn, not fork: a fork marks this process's pages copy-on-write,
     * and the hypervisor, writing our hypercall buffers through our page
     * tables, would find them read-only (-EFAULT) until we wrote them ourselves.
     */
    char *args[] = { "udhcpd", "-f", conf_path, NULL };
    pid_t pid;

    err = posix_spawnp(&pid, "udhcpd", NULL, NULL, args, environ);
    if (err == ENOENT)
        err = posix_spawn(&pid, "/bin/busybox", NULL, NULL, args, environ);
    if (err)
        return -err;
    udhcpd = pid;
    return 0;
}
