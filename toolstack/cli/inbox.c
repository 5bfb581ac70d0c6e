/* inbox.c (host tool): the inbox: `wisp create` writes a file into a module of the service domain's own through the machine's shared RAM, and the agent takes it from there (docs/toolstack.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_dir.h"
#include "exit_codes.h"
#include "inbox.h"
#include "inbox_layout.h"

#define RAM_TEMPLATE "/dev/shm/wisp-ram-XXXXXX"
#define PAGE 4096u

struct inbox {
    int lock_fd;                /* inbox.img in the run directory, flock'ed */
    unsigned char *map;         /* the module in the machine's RAM: header, then data */
    size_t map_len;
};

static int say_infra(const char *what, const char *path)
{
    fprintf(stderr, "wisp: %s %s: %s\n", what, path, strerror(errno));
    return WISP_EXIT_INFRA;
}

/* The header: the magic, a nonce nobody else could have written, zeros to a page. */
static int write_inbox_image(const char *path)
{
    unsigned char nonce[16];
    char header[PAGE] = { 0 };
    int fd, n = snprintf(header, sizeof(header), INBOX_MAGIC);

    if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
        return say_infra("random bytes for", path);
    for (unsigned i = 0; i < sizeof(nonce); i++)
        n += snprintf(header + n, sizeof(header) - (size_t)n, "%02x", nonce[i]);
    header[n] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, header, sizeof(header)) != sizeof(header) ||
        ftruncate(fd, INBOX_HEADER_BYTES + INBOX_DATA_BYTES)) {   /* sparse: no disk space */
        if (fd >= 0)
            close(fd);
        return say_infra("cannot write", path);
    }
    close(fd);
    return 0;
}

int inbox_prepare(const char *dir)
{
    char image[PATH_MAX], link[PATH_MAX], ram[] = RAM_TEMPLATE;
    int fd;

    if (!run_file(dir, INBOX_MODULE, image, sizeof(image)) ||
        !run_file(dir, RUN_RAM, link, sizeof(link)))
        return WISP_EXIT_INFRA;
    inbox_remove_ram(dir);          /* a machine killed before it could remove its own */
    if (write_inbox_image(image))
        return WISP_EXIT_INFRA;
    if ((fd = mkstemp(ram)) < 0)
        return say_infra("cannot make the machine's RAM file", ram);
    close(fd);
    if (symlink(ram, link)) {
        unlink(ram);
        return say_infra("cannot link", link);
    }
    return 0;
}

void inbox_remove_ram(const char *dir)
{
    char link[PATH_MAX], ram[PATH_MAX];
    ssize_t n;

    if (!run_file(dir, RUN_RAM, link, sizeof(link)))
        return;
    n = readlink(link, ram, sizeof(ram) - 1);
    if (n > 0) {
        ram[n] = '\0';
        if (!strncmp(ram, RAM_TEMPLATE, strlen(RAM_TEMPLATE) - 6))   /* only a file we made */
            unlink(ram);
    }
    unlink(link);
}

/*
 * Where the boot loader put the module in the machine's RAM: the first page that
 * starts with its header (magic and nonce; modules are page-aligned). The
 * loader puts modules low, so the search is short. -1 if none does.
 */
static off_t find_module(int ram, const char *header, off_t ram_bytes)
{
    char probe[64];

    for (off_t at = 0; at + INBOX_HEADER_BYTES + INBOX_DATA_BYTES <= ram_bytes; at += PAGE)
        if (pread(ram, probe, sizeof(probe), at) == sizeof(probe) &&
            !memcmp(probe, header, sizeof(probe)))
            return at;
    return -1;
}

/* The inbox in the machine's RAM, found by inbox.img's header (lock_fd). */
static struct inbox *map_inbox(const char *dir, int lock_fd)
{
    char path[PATH_MAX], header[64];
    const char *why_not = NULL;
    const size_t bytes = INBOX_HEADER_BYTES + INBOX_DATA_BYTES;
    struct inbox *ib = NULL;
    struct stat st;
    off_t at = -1;
    int ram = -1;

    if (pread(lock_fd, header, sizeof(header), 0) != sizeof(header) ||
        memcmp(header, INBOX_MAGIC, strlen(INBOX_MAGIC)))
        why_not = "its image has no header";
    else if (!run_file(dir, RUN_RAM, path, sizeof(path)) ||
             (ram = open(path, O_RDWR | O_CLOEXEC)) < 0 || fstat(ram, &st))
        why_not = "the machine's RAM file is missing";
    else if ((at = find_module(ram, header, st.st_size)) < 0)
        why_not = "it is not in the machine's RAM";
    else if (!(ib = calloc(1, sizeof(*ib))) ||
             (ib->map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, ram, at)) ==
                 MAP_FAILED)
        why_not = "cannot map the machine's RAM";
    if (ram >= 0)
        close(ram);
    if (why_not) {
        if (ib && ib->map && ib->map != MAP_FAILED)
            munmap(ib->map, bytes);
        free(ib);
        fprintf(stderr, "wisp: the inbox cannot be used (%s); sending over the host channel\n",
                why_not);
        return NULL;
    }
    ib->lock_fd = lock_fd;
    ib->map_len = bytes;
    return ib;
}

struct inbox *inbox_open(void)
{
    char dir[PATH_MAX], image[PATH_MAX];
    struct inbox *ib;
    int fd;

    if (run_dir_path(dir, sizeof(dir), false) || !run_file(dir, INBOX_MODULE, image, sizeof(image)))
        return NULL;
    if ((fd = open(image, O_RDONLY | O_CLOEXEC)) < 0)
        return NULL;                /* Bochs: this Wisp has no inbox */
    if (flock(fd, LOCK_EX)) {
        close(fd);
        return NULL;
    }
    ib = map_inbox(dir, fd);
    if (!ib)
        close(fd);
    return ib;
}

void inbox_write(struct inbox *ib, const void *data, size_t n)
{
    memcpy(ib->map + INBOX_HEADER_BYTES, data, n);
}

void inbox_close(struct inbox *ib)
{
    if (!ib)
        return;
    munmap(ib->map, ib->map_len);
    close(ib->lock_fd);             /* and with it the lock */
    free(ib);
}
