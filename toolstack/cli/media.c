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
#include "inbox_layout.h"
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

/*
 * name: KERNEL as the user knows it (path may be the vmlinux unpacked from it).
 * *is_linux: the kernel's Xen guest-OS note says "linux".
 */
static enum wisp_exit check_pvh_kernel(const char *path, const char *name, bool *is_linux)
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
    *is_linux = strcmp(image.guest_os, "linux") == 0;
    return 0;
}

/* Files from the build directory: missing, they are a build problem. */
static enum wisp_exit check_build_file(const char *path, const char *what, const char *targets)
{
    if (access(path, R_OK) == 0)
        return 0;
    fprintf(stderr, "wisp: %s: %s\n"
            "wisp: %s is built by `ninja -C build %s` (./wisp does)\n", path,
            strerror(errno), what, targets);
    return WISP_EXIT_INFRA;
}

static enum wisp_exit check_default_guest_file(const char *path)
{
    return check_build_file(path, "the Linux guest",
                            GUEST_KERNEL_TARGET " " GUEST_INITRD_TARGET);
}

/*
 * The xenstore and service domains of a machine with devices: build products,
 * and their kernels must be PVH ELFs like any other.
 */
static enum wisp_exit check_service_files(const struct run_options *opts)
{
    static const char targets[] = XENSTORED_TARGET " " SERVICE_KERNEL_TARGET " "
                                  SERVICE_INITRD_TARGET;
    const char *files[] = { opts->xenstored, opts->service_kernel, opts->service_initrd };
    enum wisp_exit rc;
    bool is_linux;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if ((rc = check_build_file(files[i], "the service domain", targets)))
            return rc;
    if ((rc = check_pvh_kernel(opts->xenstored, opts->xenstored, &is_linux)))
        return rc;
    return check_pvh_kernel(opts->service_kernel, opts->service_kernel, &is_linux);
}

/*
 * A disk image: a readable, non-empty regular file; with the images before it
 * (*total bytes) it fits MAX_DISK_TOTAL_MIB (the machine keeps them in RAM, as
 * boot modules).
 */
static enum wisp_exit check_disk_image(const char *path, uint64_t *total)
{
    char why[160];
    off_t size;
    int fd, err = open_regular_file(path, &fd, &size);

    if (err)
        return file_error(path, open_error_text(err), WISP_EXIT_USAGE);
    close(fd);
    if (size == 0)
        return file_error(path, "empty file: a disk image needs at least one sector",
                          WISP_EXIT_USAGE);
    *total += (uint64_t)size;
    if (*total <= (uint64_t)MAX_DISK_TOTAL_MIB << 20)
        return 0;
    snprintf(why, sizeof(why), "too big: the disk images would take %llu MiB together, "
             "more than %u MiB", (unsigned long long)((*total + 0xfffff) >> 20),
             MAX_DISK_TOTAL_MIB);
    return file_error(path, why, WISP_EXIT_USAGE);
}

static enum wisp_exit check_disk_images(const struct run_options *opts)
{
    uint64_t total = 0;
    enum wisp_exit rc;

    for (unsigned i = 0; i < opts->nr_disks; i++)
        if ((rc = check_disk_image(opts->disks[i].path, &total)))
            return rc;
    return 0;
}

/* Bigger than any sensible configuration (8 domains, 2 KiB command lines each). */
#define MAX_CONFIG_BYTES (64 * 1024)

/* Each domain's cpus must name a CPU the emulated machine has (--cpus); else it cannot run. */
static enum wisp_exit check_config_cpus(const struct run_options *opts)
{
    uint64_t machine = opts->cpus >= 64 ? ~0ull : (1ull << opts->cpus) - 1;
    char why[160];

    for (unsigned i = 0; i < opts->config->nr_domains; i++) {
        const struct domain_config *dc = &opts->config->domains[i];

        if (dc->cpus & machine)
            continue;
        snprintf(why, sizeof(why), "domain '%s': its cpus name no CPU of the machine "
                 "(--cpus %u: pCPUs 0 to %u)", dc->name, opts->cpus, opts->cpus - 1);
        return file_error(opts->config_file, why, WISP_EXIT_USAGE);
    }
    return 0;
}

/* Reads and parses --config FILE into a boot_config that lives as long as the run. */
static enum wisp_exit load_config(struct run_options *opts)
{
    static struct boot_config config;
    static char text[MAX_CONFIG_BYTES + 1];
    char err[160];
    size_t len;
    FILE *f = fopen(opts->config_file, "r");

    if (!f)
        return file_error(opts->config_file, strerror(errno), WISP_EXIT_USAGE);
    len = fread(text, 1, sizeof(text), f);
    fclose(f);
    if (len > MAX_CONFIG_BYTES)
        return file_error(opts->config_file, "larger than 64 KiB: not a boot configuration",
                          WISP_EXIT_USAGE);
    if (bootconfig_parse(text, len, &config, err, sizeof(err)) < 0)
        return file_error(opts->config_file, err, WISP_EXIT_USAGE);
    opts->config = &config;
    return check_config_cpus(opts);
}

/* FILE's directory/name: where --config finds the modules it names. */
static bool config_module_path(const struct run_options *opts, const char *name,
                               char *out, size_t size)
{
    const char *slash = strrchr(opts->config_file, '/');
    int dir_len = slash ? (int)(slash - opts->config_file) : 1;
    int len = snprintf(out, size, "%.*s/%s", dir_len, slash ? opts->config_file : ".", name);

    return len > 0 && (size_t)len < size;
}

/* The disk images a configuration's disk lines name (target=), as for --disk. */
static enum wisp_exit check_config_disks(const struct run_options *opts)
{
    char path[PATH_MAX];
    uint64_t total = 0;
    enum wisp_exit rc;

    for (unsigned i = 0; i < opts->config->nr_domains; i++) {
        const struct domain_config *dc = &opts->config->domains[i];

        for (unsigned j = 0; j < dc->nr_disks; j++) {
            /* A target has no ',': the parser splits disk terms there. */
            if (!config_module_path(opts, dc->disks[j].target, path, sizeof(path)))
                return file_error(dc->disks[j].target, "path too long", WISP_EXIT_USAGE);
            if ((rc = check_disk_image(path, &total)))
                return rc;
        }
    }
    return 0;
}

/* Every domain's kernel is a PVH ELF, its initrd is readable, its disks are images. */
static enum wisp_exit check_config_modules(const struct run_options *opts)
{
    char path[PATH_MAX];
    enum wisp_exit rc;
    bool is_linux;

    for (unsigned i = 0; i < opts->config->nr_domains; i++) {
        const struct domain_config *dc = &opts->config->domains[i];
        const char *bad = strchr(dc->kernel, ',') ? dc->kernel :
                          strchr(dc->initrd, ',') ? dc->initrd : NULL;

        /* QEMU's -initrd splits its argument at commas (the parser already refuses '/'). */
        if (bad) {
            fprintf(stderr, "wisp: %s: domain %s: '%s' must be a plain file name without "
                    "','\n", opts->config_file, dc->name, bad);
            return WISP_EXIT_USAGE;
        }
        if (!config_module_path(opts, dc->kernel, path, sizeof(path)))
            return file_error(dc->kernel, "path too long", WISP_EXIT_USAGE);
        if ((rc = check_pvh_kernel(path, path, &is_linux)))
            return rc;
        if (!dc->initrd[0])
            continue;
        if (!config_module_path(opts, dc->initrd, path, sizeof(path)))
            return file_error(dc->initrd, "path too long", WISP_EXIT_USAGE);
        if ((rc = check_readable(path, WISP_EXIT_USAGE)))
            return rc;
    }
    return check_config_disks(opts);
}

static enum wisp_exit check_guest_inputs(struct run_options *opts)
{
    enum wisp_exit rc;
    bool is_linux = false;

    if (opts->config_file)
        return (rc = load_config(opts)) ? rc : check_config_modules(opts);
    if (opts->kernel_default && (rc = check_default_guest_file(opts->kernel)))
        return rc;
    if (opts->initrd_default && (rc = check_default_guest_file(opts->initrd)))
        return rc;
    rc = check_pvh_kernel(opts->kernel, opts->kernel_name ? opts->kernel_name : opts->kernel,
                          &is_linux);
    if (rc)
        return rc;
    opts->linux_guest |= is_linux;
    return opts->initrd ? check_readable(opts->initrd, WISP_EXIT_USAGE) : 0;
}

enum wisp_exit check_inputs(struct run_options *opts)
{
    enum wisp_exit rc = check_guest_inputs(opts);

    if (!rc)
        rc = check_disk_images(opts);
    if (!rc && run_has_devices(opts))
        rc = check_service_files(opts);
    if (rc)
        return rc;
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

/*
 * Guest `index` (1..guests): KERNEL and --initrd, its command line (for
 * -- COMMAND with several guests, ending in wisp.guest=I/N for /init), and
 * its devices: every disk goes to guest1, every guest gets a vif with --net.
 */
static void write_guest_domain(FILE *f, const struct run_options *opts, unsigned index)
{
    /* Linux guests get their console first; any other guest gets exactly --cmdline. */
    const char *prefix = opts->linux_guest ? GUEST_CMDLINE_PREFIX : "";
    const char *sep = opts->linux_guest && opts->cmdline ? " " : "";
    const char *rest = opts->cmdline ? opts->cmdline : "";
    char word[32] = "";     /* GUEST_WORD_MAX at most */

    if (opts->command && opts->guests > 1)
        snprintf(word, sizeof(word), " wisp.guest=%u/%u", index, opts->guests);
    if (opts->guests == 1 && !run_has_devices(opts))
        fputs("domain " DOMAIN_NAME "\n", f);
    else
        fprintf(f, "domain " DOMAIN_NAME "%u\n", index);
    fputs("  kernel " MODULE_KERNEL "\n", f);
    if (opts->initrd)
        fputs("  initrd " MODULE_INITRD "\n", f);
    if (prefix[0] || rest[0])
        fprintf(f, "  cmdline %s%s%s%s\n", prefix, sep, rest, word);
    fprintf(f, "  memory %u\n  vcpus %u\n", opts->memory_mib, opts->vcpus);
    for (unsigned i = 0; index == 1 && i < opts->nr_disks; i++)
        fprintf(f, "  disk format=raw, vdev=xvd%c, access=%s, target=" MODULE_DISK_FORMAT "\n",
                'a' + i, opts->disks[i].readonly ? "ro" : "rw", i);
    if (opts->net)  /* Xen's default MAC for vif 0 of this domain: 00:16:3e:00:DOMID:00 */
        fprintf(f, "  vif mac=00:16:3e:00:%02x:00\n", first_guest_domid(opts) + index - 1);
}

void media_write_service_domains(FILE *f, unsigned extra_mib, bool inbox)
{
    fprintf(f, "domain xenstore\n"
               "  kernel " MODULE_XENSTORED "\n"
               "  roles xenstore\n"
               "  memory %u\n"
               "domain service\n"
               "  kernel " MODULE_SERVICE_KERNEL "\n"
               "  initrd " MODULE_SERVICE_INITRD "\n"
               "  roles control,backend\n"
               "  memory %u\n"
               "  cmdline console=hvc0 xen_privcmd.unrestricted=1 pci=conf1 quiet\n",
            XENSTORE_MEMORY_MIB, SERVICE_MEMORY_MIB + extra_mib);
    if (inbox)      /* a disk of its own: its pmem, served to no one (docs/boot-config.md) */
        fprintf(f, "  disk target=" INBOX_MODULE ",vdev=xvda\n");
}

/* The boot configuration module of a run without --config; format in docs/boot-config.md. */
static int write_config(const struct run_options *opts, const char *path)
{
    FILE *f = fopen(path, "w");
    int err = 0;

    if (!f)
        return -errno;
    if (run_has_devices(opts))  /* in front of the guests: d1 and d2 */
        media_write_service_domains(f, 0, false);
    for (unsigned i = 1; i <= opts->guests; i++)
        write_guest_domain(f, opts, i);
    if (ferror(f))
        err = -EIO;
    if (fclose(f) != 0 && !err)
        err = -errno;
    return err;
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

    /* Same file system: no copy needed. A symlink is followed: the ISO needs the file. */
    if (linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW) == 0)
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
 * Wisp takes from their first word (docs/boot-config.md). --nounzip: GRUB
 * would otherwise inflate a gzip module (an initramfs, or a disk image that
 * happens to be one), and only its first member; modules reach Wisp as the
 * files are, as with QEMU's loader.
 */
static int write_grub_cfg(const struct boot_media *media)
{
    char text[4096 + MEDIA_MAX_MODULES * 2 * BOOTCFG_MODULE_MAX], path[PATH_MAX];
    size_t len;

    len = (size_t)snprintf(text, sizeof(text),
                           "set timeout=0\n"
                           "set default=0\n"
                           "menuentry \"wisp\" {\n"
                           "  multiboot2 /boot/wisp.elf %s\n", media->hv_options);
    for (unsigned i = 0; i < media->nr_modules && len < sizeof(text); i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "  module2 --nounzip /boot/%s %s\n",
                                media->modules[i].name, media->modules[i].name);
    if (len < sizeof(text))
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "  module2 --nounzip /boot/" MODULE_CONFIG " " MODULE_CONFIG "\n}\n");
    if (len >= sizeof(text))
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
    for (unsigned i = 0; !err && i < media->nr_modules; i++)
        err = copy_into_iso(media, media->modules[i].path, media->modules[i].name);
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
    static const char *const names[] = { MODULE_CONFIG, ISO_NAME, "serial.log" };
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (media_path(media, names[i], path, sizeof(path)))
            unlink(path);
    for (unsigned i = 0; i < media->nr_modules; i++)
        if (media_path(media, media->modules[i].name, path, sizeof(path)))
            unlink(path);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

static bool add_module(struct boot_media *media, const char *name, const char *path)
{
    struct media_module *m;

    for (unsigned i = 0; i < media->nr_modules; i++)
        if (strcmp(media->modules[i].name, name) == 0)
            return true;        /* two domains may share a kernel or an initrd */
    if (media->nr_modules == MEDIA_MAX_MODULES || strlen(name) >= sizeof(m->name) ||
        strlen(path) >= sizeof(m->path))
        return false;
    m = &media->modules[media->nr_modules++];
    strcpy(m->name, name);
    strcpy(m->path, path);
    return true;
}

/* The modules besides the configuration: KERNEL and --initrd, or those --config names. */
static int collect_modules(const struct run_options *opts, struct boot_media *media)
{
    char path[PATH_MAX];

    if (!opts->config_file) {
        if (!add_module(media, MODULE_KERNEL, opts->kernel) ||
            (opts->initrd && !add_module(media, MODULE_INITRD, opts->initrd)))
            return -ENAMETOOLONG;
        if (run_has_devices(opts) &&
            (!add_module(media, MODULE_XENSTORED, opts->xenstored) ||
             !add_module(media, MODULE_SERVICE_KERNEL, opts->service_kernel) ||
             !add_module(media, MODULE_SERVICE_INITRD, opts->service_initrd)))
            return -ENAMETOOLONG;
        for (unsigned i = 0; i < opts->nr_disks; i++) {
            char name[BOOTCFG_MODULE_MAX];

            snprintf(name, sizeof(name), MODULE_DISK_FORMAT, i);
            if (!add_module(media, name, opts->disks[i].path))
                return -ENAMETOOLONG;
        }
        return 0;
    }
    for (unsigned i = 0; i < opts->config->nr_domains; i++) {
        const struct domain_config *dc = &opts->config->domains[i];

        if (!config_module_path(opts, dc->kernel, path, sizeof(path)) ||
            !add_module(media, dc->kernel, path))
            return -ENAMETOOLONG;
        if (dc->initrd[0] && (!config_module_path(opts, dc->initrd, path, sizeof(path)) ||
                              !add_module(media, dc->initrd, path)))
            return -ENAMETOOLONG;
        for (unsigned j = 0; j < dc->nr_disks; j++)     /* disk images are modules too */
            if (!config_module_path(opts, dc->disks[j].target, path, sizeof(path)) ||
                !add_module(media, dc->disks[j].target, path))
                return -ENAMETOOLONG;
    }
    return 0;
}

static unsigned file_mib(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (unsigned)(((uint64_t)st.st_size + (1u << 20) - 1) >> 20) : 0;
}

/*
 * Everything the emulated machine must hold at once: the boot modules (the loader
 * places them in RAM and Wisp reads them from there), each guest's RAM and its
 * alignment slack, and Wisp itself. Debian's generic vmlinux alone is 63 MiB.
 */
static unsigned machine_memory_mib(const struct run_options *opts,
                                   const struct boot_media *media)
{
    unsigned mib = HYPERVISOR_MEMORY_MIB + opts->extra_mib;

    for (unsigned i = 0; i < media->nr_modules; i++)
        mib += file_mib(media->modules[i].path);
    if (opts->config_file) {
        for (unsigned i = 0; i < opts->config->nr_domains; i++)
            mib += opts->config->domains[i].memory_mib + GUEST_ALIGN_SLACK_MIB +
                   opts->config->domains[i].nr_disks * DISK_PAD_MIB;
        return mib;
    }
    mib += opts->guests * (opts->memory_mib + GUEST_ALIGN_SLACK_MIB);
    if (run_has_devices(opts))
        mib += XENSTORE_MEMORY_MIB + SERVICE_MEMORY_MIB + 2 * GUEST_ALIGN_SLACK_MIB +
               opts->nr_disks * DISK_PAD_MIB;
    return mib;
}

/* The configuration module: the one --config names, or one written for KERNEL. */
static int place_config(const struct run_options *opts, const struct boot_media *media)
{
    char path[PATH_MAX];

    media_path(media, MODULE_CONFIG, path, sizeof(path));
    return opts->config_file ? copy_file(opts->config_file, path) : write_config(opts, path);
}

enum wisp_exit media_create(const struct run_options *opts, struct boot_media *media)
{
    enum wisp_exit rc;
    int err;

    memset(media, 0, sizeof(*media));
    snprintf(media->hv_options, sizeof(media->hv_options), "config=" MODULE_CONFIG "%s%s%s",
             opts->host_channel ? " host_channel" : "", opts->hv_cmdline ? " " : "",
             opts->hv_cmdline ? opts->hv_cmdline : "");
    if (collect_modules(opts, media)) {
        fputs("wisp: too many boot modules, or a path too long\n", stderr);
        return WISP_EXIT_USAGE;
    }
    media->machine_mib = machine_memory_mib(opts, media);
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
    err = place_config(opts, media);
    for (unsigned i = 0; !err && i < media->nr_modules; i++)
        err = link_module(media, media->modules[i].name, media->modules[i].path);
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
