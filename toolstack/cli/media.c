/* media.c (host tool): checks the inputs and builds Wisp's boot media in a work directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "media.h"
#include "proc.h"

static enum wisp_exit file_error(const char *path, const char *why, enum wisp_exit code)
{
    fprintf(stderr, "wisp: %s: %s\n", path, why);
    return code;
}

/* A regular file we can open for reading: 0, or -errno (-EISDIR etc.). */
static int open_regular_file(const char *path, int *fd_out, off_t *size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;

        close(fd);
        return err;
    }
    *fd_out = fd;
    *size = st.st_size;
    return 0;
}

static const char *open_error_text(int err)
{
    return err == -EINVAL ? "not a regular file" : strerror(-err);
}

static enum wisp_exit check_readable(const char *path, enum wisp_exit code)
{
    off_t size;
    int fd, err = open_regular_file(path, &fd, &size);

    if (err)
        return file_error(path, open_error_text(err), code);
    close(fd);
    return 0;
}

/* name: KERNEL as the user knows it (path may be the vmlinux unpacked from it). */
static enum wisp_exit check_pvh_kernel(const char *path, const char *name)
{
    struct pvh_image image;
    const char *why = "not a PVH ELF";
    char text[256];
    off_t size;
    void *file;
    int fd, err = open_regular_file(path, &fd, &size);

    if (err)
        return file_error(name, open_error_text(err), WISP_EXIT_USAGE);
    if (size == 0) {
        close(fd);
        return file_error(name, "empty file, not a PVH ELF", WISP_EXIT_USAGE);
    }
    file = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED)
        return file_error(name, strerror(errno), WISP_EXIT_USAGE);
    err = pvh_elf_parse(file, (size_t)size, &image, &why);
    munmap(file, (size_t)size);
    if (err && strcmp(path, name) != 0) {
        snprintf(text, sizeof(text), "the vmlinux unpacked from this bzImage: %s (a kernel "
                 "built without CONFIG_XEN_PVH?)", why ? why : "not a PVH ELF");
        return file_error(name, text, WISP_EXIT_USAGE);
    }
    if (err)
        return file_error(name, why ? why : "not a PVH ELF", WISP_EXIT_USAGE);
    return 0;
}

/* The default Linux guest is a build product: missing, it is a build problem. */
static enum wisp_exit check_default_guest_file(const char *path)
{
    if (access(path, R_OK) == 0)
        return 0;
    fprintf(stderr, "wisp: %s: %s\n"
            "wisp: the Linux guest is built by `ninja -C build " GUEST_KERNEL_TARGET " "
            GUEST_INITRD_TARGET "` (./wisp does)\n", path, strerror(errno));
    return WISP_EXIT_INFRA;
}

enum wisp_exit check_inputs(const struct run_options *opts)
{
    enum wisp_exit rc;

    if (opts->kernel_default && (rc = check_default_guest_file(opts->kernel)))
        return rc;
    if (opts->initrd_default && (rc = check_default_guest_file(opts->initrd)))
        return rc;
    rc = check_pvh_kernel(opts->kernel, opts->kernel_name ? opts->kernel_name : opts->kernel);
    if (rc)
        return rc;
    if (opts->initrd) {
        rc = check_readable(opts->initrd, WISP_EXIT_USAGE);
        if (rc)
            return rc;
    }
    rc = check_readable(opts->hypervisor,
                        opts->hypervisor_given ? WISP_EXIT_USAGE : WISP_EXIT_INFRA);
    if (rc && !opts->hypervisor_given)
        fputs("wisp: the hypervisor image is built by `ninja -C build` (or run ./wisp)\n",
              stderr);
    return rc;
}

bool media_path(const struct boot_media *media, const char *name, char *out, size_t size)
{
    int len = snprintf(out, size, "%s/%s", media->dir, name);

    return len > 0 && (size_t)len < size;
}

static int write_text_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int err = 0;

    if (!f)
        return -errno;
    if (fputs(text, f) < 0)
        err = -EIO;
    if (fclose(f) != 0 && !err)
        err = -errno;
    return err;
}

/* The boot configuration module; format in docs/boot-config.md. */
static int write_config(const struct run_options *opts, const char *path)
{
    char text[MAX_CMDLINE_LEN + 256];
    int len;

    len = snprintf(text, sizeof(text),
                   "domain " DOMAIN_NAME "\n"
                   "  kernel " MODULE_KERNEL "\n"
                   "%s"
                   "  cmdline " GUEST_CMDLINE_PREFIX "%s%s\n"
                   "  memory %u\n"
                   "  vcpus %u\n",
                   opts->initrd ? "  initrd " MODULE_INITRD "\n" : "",
                   opts->cmdline ? " " : "", opts->cmdline ? opts->cmdline : "",
                   opts->memory_mib, opts->vcpus);
    if (len < 0 || (size_t)len >= sizeof(text))
        return -E2BIG;
    return write_text_file(path, text);
}

/* Points dir/name at target (made absolute), so the emulator needs no copy. */
static int link_module(const struct boot_media *media, const char *name, const char *target)
{
    char path[PATH_MAX], *abs = realpath(target, NULL);
    int err = 0;

    if (!abs)
        return -errno;
    if (!media_path(media, name, path, sizeof(path)))
        err = -ENAMETOOLONG;
    else if (symlink(abs, path) < 0)
        err = -errno;
    free(abs);
    return err;
}

static int copy_file(const char *from, const char *to)
{
    char buf[1 << 16];
    int in, out, err = 0;
    ssize_t got;

    if (link(from, to) == 0)    /* same file system: no copy needed */
        return 0;
    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        err = -errno;
        close(in);
        return err;
    }
    while ((got = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)got) != got) {
            err = -EIO;
            break;
        }
    if (got < 0)
        err = -errno;
    close(in);
    if (close(out) < 0 && !err)
        err = -errno;
    return err;
}

static int make_subdir(const struct boot_media *media, const char *name)
{
    char path[PATH_MAX];

    if (!media_path(media, name, path, sizeof(path)))
        return -ENAMETOOLONG;
    return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int copy_into_iso(const struct boot_media *media, const char *from, const char *name)
{
    char rel[64], to[PATH_MAX];

    snprintf(rel, sizeof(rel), "iso/boot/%s", name);
    if (!media_path(media, rel, to, sizeof(to)))
        return -ENAMETOOLONG;
    return copy_file(from, to);
}

/*
 * GRUB's multiboot2 loader; module strings are the module names, which
 * Wisp takes from their first word (docs/boot-config.md).
 */
static int write_grub_cfg(const struct boot_media *media)
{
    char text[2048], path[PATH_MAX];
    int len;

    len = snprintf(text, sizeof(text),
                   "set timeout=0\n"
                   "set default=0\n"
                   "menuentry \"wisp\" {\n"
                   "  multiboot2 /boot/wisp.elf %s\n"
                   "  module2 /boot/" MODULE_KERNEL " " MODULE_KERNEL "\n"
                   "%s"
                   "  module2 /boot/" MODULE_CONFIG " " MODULE_CONFIG "\n"
                   "}\n",
                   media->hv_options,
                   media->has_initrd
                       ? "  module2 /boot/" MODULE_INITRD " " MODULE_INITRD "\n" : "");
    if (len < 0 || (size_t)len >= sizeof(text))
        return -E2BIG;
    if (!media_path(media, "iso/boot/grub/grub.cfg", path, sizeof(path)))
        return -ENAMETOOLONG;
    return write_text_file(path, text);
}

static enum wisp_exit build_iso(const struct run_options *opts, struct boot_media *media)
{
    char cfg[PATH_MAX], isodir[PATH_MAX], log[PATH_MAX];
    const char *step = "populating the ISO tree";
    int err;

    media_path(media, MODULE_CONFIG, cfg, sizeof(cfg));
    err = make_subdir(media, "iso");
    if (!err) err = make_subdir(media, "iso/boot");
    if (!err) err = make_subdir(media, "iso/boot/grub");
    if (!err) err = copy_into_iso(media, opts->hypervisor, "wisp.elf");
    if (!err) err = copy_into_iso(media, opts->kernel, MODULE_KERNEL);
    if (!err && opts->initrd) err = copy_into_iso(media, opts->initrd, MODULE_INITRD);
    if (!err) err = copy_into_iso(media, cfg, MODULE_CONFIG);
    if (!err) err = write_grub_cfg(media);
    if (!err) {
        char *argv[] = { "grub-mkrescue", "-o", media->iso, isodir, NULL };

        step = "running grub-mkrescue";
        media_path(media, "iso", isodir, sizeof(isodir));
        media_path(media, "grub-mkrescue.log", log, sizeof(log));
        err = run_tool(argv, log);
        if (err > 0) {
            fprintf(stderr, "wisp: grub-mkrescue failed (exit status %d)\n", err);
            show_log_tail(log, 10);
            return WISP_EXIT_INFRA;
        }
    }
    if (err == -EINTR)
        return WISP_EXIT_INTERRUPTED;
    if (err) {
        fprintf(stderr, "wisp: building the GRUB ISO: %s: %s%s\n", step, strerror(-err),
                err == -ENOENT && strcmp(step, "running grub-mkrescue") == 0
                    ? " (install grub-pc-bin, grub-common, xorriso and mtools; ./wisp does)"
                    : "");
        return WISP_EXIT_INFRA;
    }
    return 0;
}

static enum wisp_exit make_work_dir(const struct run_options *opts, struct boot_media *media)
{
    if (opts->keep_dir) {
        if (strchr(opts->keep_dir, ',')) {
            fprintf(stderr, "wisp: --keep %s: QEMU cannot take a path with a comma\n",
                    opts->keep_dir);
            return WISP_EXIT_USAGE;
        }
        if (mkdir(opts->keep_dir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "wisp: --keep %s: %s\n", opts->keep_dir, strerror(errno));
            return WISP_EXIT_USAGE;
        }
        char *abs = realpath(opts->keep_dir, NULL);

        if (!abs || strlen(abs) >= sizeof(media->dir)) {
            fprintf(stderr, "wisp: --keep %s: %s\n", opts->keep_dir,
                    abs ? "path too long" : strerror(errno));
            free(abs);
            return WISP_EXIT_USAGE;
        }
        strcpy(media->dir, abs);
        free(abs);
        media->keep = true;
        return 0;
    }
    const char *tmp = getenv("TMPDIR");

    int len = snprintf(media->dir, sizeof(media->dir), "%s/wisp.XXXXXX",
                       tmp && tmp[0] ? tmp : "/tmp");

    if (len < 0 || (size_t)len >= sizeof(media->dir) || !mkdtemp(media->dir)) {
        fprintf(stderr, "wisp: cannot create a work directory in %s: %s\n",
                tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
        media->dir[0] = '\0';
        return WISP_EXIT_INFRA;
    }
    return 0;
}

/* With --keep, files from an earlier run would make symlink() fail: clear them. */
static void remove_stale(const struct boot_media *media)
{
    static const char *const names[] = {
        MODULE_KERNEL, MODULE_INITRD, MODULE_CONFIG, ISO_NAME, "serial.log",
    };
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (media_path(media, names[i], path, sizeof(path)))
            unlink(path);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

enum wisp_exit media_create(const struct run_options *opts, struct boot_media *media)
{
    char path[PATH_MAX];
    enum wisp_exit rc;
    int err;

    memset(media, 0, sizeof(*media));
    media->has_initrd = opts->initrd != NULL;
    snprintf(media->hv_options, sizeof(media->hv_options), "config=" MODULE_CONFIG "%s%s",
             opts->hv_cmdline ? " " : "", opts->hv_cmdline ? opts->hv_cmdline : "");
    rc = make_work_dir(opts, media);
    if (rc)
        return rc;
    if (media->keep) {
        remove_stale(media);
        char iso_tree[PATH_MAX];

        if (media_path(media, "iso", iso_tree, sizeof(iso_tree)))
            nftw(iso_tree, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    /* QEMU's -initrd splits its argument at commas; module strings at spaces. */
    if (strpbrk(media->dir, ", \t")) {
        fprintf(stderr, "wisp: work directory %s has a comma or blank, which QEMU's "
                "-initrd cannot take; set TMPDIR\n", media->dir);
        media_destroy(media);
        return WISP_EXIT_INFRA;
    }
    if (!media_path(media, ISO_NAME, media->iso, sizeof(media->iso))) {
        err = -ENAMETOOLONG;
        goto fail;
    }
    media_path(media, MODULE_CONFIG, path, sizeof(path));
    err = write_config(opts, path);
    if (!err)
        err = link_module(media, MODULE_KERNEL, opts->kernel);
    if (!err && opts->initrd)
        err = link_module(media, MODULE_INITRD, opts->initrd);
    if (err)
        goto fail;
    if (opts->boot == BOOT_GRUB) {
        rc = build_iso(opts, media);
        if (rc) {
            media_destroy(media);
            return rc;
        }
    }
    return 0;
fail:
    fprintf(stderr, "wisp: preparing boot media in %s: %s\n", media->dir, strerror(-err));
    media_destroy(media);
    return WISP_EXIT_INFRA;
}

void media_destroy(struct boot_media *media)
{
    if (!media->dir[0] || media->keep)
        return;
    nftw(media->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    media->dir[0] = '\0';
}
