/* options.h (host tool): what `wisp run` was asked to do, and the parser that fills it in. */
#ifndef WISP_CLI_OPTIONS_H
#define WISP_CLI_OPTIONS_H

#include <stdbool.h>

#include "accel.h"

struct boot_config;     /* xen/include/bootconfig.h */

enum emulator_kind { EMULATOR_QEMU, EMULATOR_BOCHS };
enum boot_method { BOOT_DIRECT, BOOT_GRUB };
enum interactive_choice { INTERACTIVE_AUTO, INTERACTIVE_ON, INTERACTIVE_OFF };

/* Defaults; docs/cli.md repeats them. */
#define DEFAULT_MEMORY_MIB      128
#define DEFAULT_VCPUS           1
#define DEFAULT_CPUS            1
#define DEFAULT_TIMEOUT_QEMU_S  60
#define DEFAULT_TIMEOUT_BOCHS_S 300
/* -- COMMAND, a bzImage or the default Linux guest: Linux boots slowly under emulation. */
#define DEFAULT_TIMEOUT_LINUX_S       300
#define DEFAULT_TIMEOUT_LINUX_BOCHS_S 1200
/* Prepended to a Linux guest's --cmdline: its PV console is hvc0. Other guests get
 * exactly --cmdline: a unikernel may parse its whole command line. */
#define GUEST_CMDLINE_PREFIX    "console=hvc0"
/* Limits of the boot configuration (xen/include/bootconfig.h: BOOTCFG_*), repeated
 * here because the CLI is built without the hypervisor's include directory. */
#define MIN_MEMORY_MIB          2
#define MAX_MEMORY_MIB          (64 * 1024)
#define MAX_VCPUS               8
/* The emulated machine's CPUs (xen/include/percpu.h: MAX_PCPUS will match). */
#define MAX_CPUS                8
/* Linux's x86 COMMAND_LINE_SIZE (2048) less its NUL. */
#define MAX_CMDLINE_LEN         2047

/* The Linux guest `run -- COMMAND` and `demo` boot by default, in the build directory. */
#define GUEST_KERNEL_TARGET     "guest-kernels/vmlinux"
#define GUEST_INITRD_TARGET     "guest-kernels/initramfs.cpio.gz"
/* The xenstore and service domains a machine with devices boots too (docs/cli.md). */
#define XENSTORED_TARGET        "toolstack/xenstored/xenstored.elf"
#define SERVICE_KERNEL_TARGET   "guest-kernels/service/vmlinux"
#define SERVICE_INITRD_TARGET   "guest-kernels/service-initramfs.cpio.gz"

/*
 * --disk and --guests. 8 disks per domain is the boot configuration's limit; 6
 * guests leave room for the xenstore and service domains among its 8 domains.
 * The images are boot modules, held in the emulated machine's RAM below 4 GiB
 * (where the loaders put modules) beside the kernels: all of them together may
 * take at most MAX_DISK_TOTAL_MIB.
 */
#define MAX_DISKS               8
#define MAX_GUESTS              6
#define MAX_DISK_TOTAL_MIB      1024
/* Domains in front of the guests when a device is asked for: xenstore (d1), service (d2). */
#define SERVICE_DOMAINS         2
#define XENSTORE_MEMORY_MIB     16
#define SERVICE_MEMORY_MIB      256
/* " wisp.guest=I/N", appended to each guest's command line with --guests N > 1. */
#define GUEST_WORD_MAX          sizeof(" wisp.guest=6/6")

/*
 * The emulated machine holds Wisp, every boot module (the loader puts them in RAM)
 * and every guest's RAM (aligned to 2 MiB, so up to 2 MiB more each): Wisp and its
 * tables get this on top of the modules and guests (media.c: machine_memory_mib).
 */
#define HYPERVISOR_MEMORY_MIB   64
#define GUEST_ALIGN_SLACK_MIB   2
/* Wisp pads each disk's region in the service domain to 2 MiB with frames of its own. */
#define DISK_PAD_MIB            2

struct disk_option {
    const char *path;           /* IMAGE as given */
    bool readonly;              /* IMAGE,ro */
};

/* A Unix socket path's room (sockaddr_un.sun_path), its NUL included. */
#define HOST_CHANNEL_PATH_MAX 108

struct run_options {
    enum emulator_kind emulator;
    enum accel_choice accel;    /* --accel: how QEMU runs Wisp (docs/cli.md) */
    bool accel_kvm;             /* decided (main.c): QEMU with -accel kvm -cpu host */
    bool tcg_single;            /* --tcg-threads single: every emulated CPU on one host
                                 * thread (docs/cli.md: QEMU's multi-threaded TCG race) */
    enum boot_method boot;
    unsigned memory_mib;
    unsigned vcpus;
    unsigned cpus;              /* the emulated machine's CPUs (--cpus) */
    unsigned timeout_s;         /* 0: no timeout */
    bool verbose;
    const char *kernel;
    const char *initrd;         /* NULL: none */
    const char *cmdline;        /* NULL: only GUEST_CMDLINE_PREFIX */
    const char *hv_cmdline;     /* extra hypervisor options; NULL: none */
    const char *hypervisor;     /* NULL until resolve_hypervisor_path() */
    bool hypervisor_given;      /* by --hypervisor or WISP_HYPERVISOR */
    const char *keep_dir;       /* NULL: temp dir, removed afterwards */
    const char *host_channel;   /* --host-channel: COM2 relayed to this Unix socket; NULL: none */
    const char *ram_file;       /* --ram-file: QEMU's RAM backed by this file, shared; NULL: none */
    unsigned extra_mib;         /* --extra-memory: machine memory beyond the domains' (run-time domains) */

    enum interactive_choice interactive_choice;    /* --interactive / --no-interactive */
    bool interactive;           /* forward stdin to the guest console (resolved) */
    bool timeout_given;         /* --timeout: no default applies */
    char *const *command;       /* -- COMMAND...: its words; NULL: none */
    int command_count;
    bool kernel_default;        /* KERNEL is <build>/GUEST_KERNEL_TARGET */
    bool initrd_default;        /* the initrd is <build>/GUEST_INITRD_TARGET */
    const char *kernel_name;    /* KERNEL as given, for messages (kernel may be a temp file) */
    bool linux_guest;           /* Linux: console=hvc0 first and the Linux default timeout */
    const char *config_file;    /* --config: a whole boot configuration instead of KERNEL */
    const struct boot_config *config;  /* its domains, once check_inputs() has read it */

    struct disk_option disks[MAX_DISKS];   /* --disk, in order: xvda, xvdb, ... (guest1) */
    unsigned nr_disks;
    bool net;                   /* --net: a vif for every guest */
    unsigned guests;            /* --guests N: guest1..guestN run the same thing */
    /* Set when a device is asked for: the xenstore and service domains' files. */
    const char *xenstored;
    const char *service_kernel;
    const char *service_initrd;
};

/* The machine boots the xenstore and service domains: some device was asked for. */
static inline bool run_has_devices(const struct run_options *opts)
{
    return opts->nr_disks > 0 || opts->net;
}

/* The domain id of guest 1: after xenstore and service when they boot. */
static inline unsigned first_guest_domid(const struct run_options *opts)
{
    return run_has_devices(opts) ? SERVICE_DOMAINS + 1 : 1;
}

/*
 * Parses `wisp run` arguments (argv[0] is "run"): options and KERNEL in any
 * order, then optionally `-- COMMAND...` (KERNEL may then be left out). With need_kernel
 * false (demo) KERNEL may be left out too. Returns 0, 1 after --help, or
 * WISP_EXIT_USAGE after printing a one-line reason to stderr.
 */
int parse_run_options(int argc, char **argv, struct run_options *opts, bool need_kernel);

/*
 * For -- COMMAND and the Linux demo: fills in the default Linux guest
 * (GUEST_*_TARGET) where KERNEL or the initrd were left out, and the guest
 * command line ("quiet loglevel=3 wisp.cmd=..." or "quiet loglevel=3", then --cmdline). Returns 0,
 * WISP_EXIT_USAGE (command line too long) or WISP_EXIT_INFRA.
 */
int apply_guest_defaults(struct run_options *opts);

/* Decides interactive mode and the default timeout, once the kernel is known. */
void resolve_run_mode(struct run_options *opts);

/* Fills opts->hypervisor from WISP_HYPERVISOR or next to the executable. */
void resolve_hypervisor_path(struct run_options *opts);

/* Fills in the xenstore and service domains' files (files_dir()) when devices are asked for. */
void resolve_service_paths(struct run_options *opts);

/*
 * Where wisp's own files are (the hypervisor image, guest kernels, demo guest), under the
 * names they have in the build tree: <prefix>/lib/wisp for an installed wisp
 * (<prefix>/bin/wisp), else the build directory the executable sits in (build/toolstack/wisp).
 */
const char *files_dir(void);

const char *emulator_name(enum emulator_kind kind);

void print_run_usage(void);

#endif
