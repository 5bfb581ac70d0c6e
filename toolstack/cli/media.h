/* media.h (host tool): checks the inputs and builds Wisp's boot media in a work directory. */
#ifndef WISP_CLI_MEDIA_H
#define WISP_CLI_MEDIA_H

#include <stdio.h>
#include <limits.h>
#include <stdbool.h>

#include "env.h"
#include "bootconfig.h"
#include "exit_codes.h"
#include "options.h"

/* Module names as the boot configuration sees them (docs/boot-config.md). */
#define MODULE_KERNEL "guest.elf"
#define MODULE_INITRD "initrd.img"
#define MODULE_CONFIG "wisp.cfg"
#define ISO_NAME      "wisp.iso"
#define DOMAIN_NAME   "guest"
/* With devices (docs/cli.md): the xenstore and service domains, and each --disk. */
#define MODULE_XENSTORED      "xenstored.elf"
#define MODULE_SERVICE_KERNEL "service-vmlinux"
#define MODULE_SERVICE_INITRD "service-initramfs.cpio.gz"
#define MODULE_DISK_FORMAT    "disk%u.img"
#define MEDIA_DIR_MAX (PATH_MAX - 256)

/* Every kernel and initrd of every domain, and the disk images; the configuration comes on top. */
#define MEDIA_MAX_MODULES (2 * BOOTCFG_MAX_DOMAINS + MAX_DISKS)

/* A boot module: linked into the work directory as `name`, which the configuration uses. */
struct media_module {
    char name[BOOTCFG_MODULE_MAX];
    char path[PATH_MAX];        /* the file itself */
};

struct boot_media {
    /* Work directory; "" before media_create(). Short enough for dir/name to fit PATH_MAX. */
    char dir[MEDIA_DIR_MAX];
    bool keep;                  /* --keep: leave dir in place */
    struct media_module modules[MEDIA_MAX_MODULES];    /* all but the configuration */
    unsigned nr_modules;
    unsigned machine_mib;       /* the emulated machine's RAM: see machine_memory_mib() */
    char hv_options[1024];      /* hypervisor command line, without the image path */
    char iso[PATH_MAX];         /* BOOT_GRUB only */
};

/*
 * Checks KERNEL (a readable PVH ELF; for a bzImage, the vmlinux unpacked from
 * it), the initrd and the hypervisor image, or with --config the configuration
 * and every module it names. Prints `wisp: FILE: why` and returns
 * WISP_EXIT_USAGE (or WISP_EXIT_INFRA for a missing default hypervisor image or
 * default Linux guest: that is a build problem). A KERNEL whose Xen guest-OS
 * note says "linux" makes opts->linux_guest true.
 */
enum wisp_exit __must_check check_inputs(struct run_options *opts);

/*
 * Creates the work directory with the config module, links to the kernel and
 * initrd, and for BOOT_GRUB the ISO. On failure prints why, cleans up and
 * returns WISP_EXIT_INFRA (WISP_EXIT_USAGE for an unusable --keep DIR).
 */
enum wisp_exit __must_check media_create(const struct run_options *opts,
                                         struct boot_media *media);

/* Removes the work directory unless it is kept. */
void media_destroy(struct boot_media *media);

/* dir/name into out; false if it does not fit. */
bool media_path(const struct boot_media *media, const char *name, char *out, size_t size);

/*
 * The xenstore domain (d1) and the service domain (d2) as a boot configuration's
 * first domains; the service domain gets extra_mib more than its usual memory
 * (room for files preloaded into its initramfs) and, with inbox, the inbox
 * module as a disk of its own (`wisp up` under QEMU).
 */
void media_write_service_domains(FILE *f, unsigned extra_mib, bool inbox);

#endif
