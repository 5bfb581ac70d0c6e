/* options.h (host tool): what `wisp run` was asked to do, and the parser that fills it in. */
#ifndef WISP_CLI_OPTIONS_H
#define WISP_CLI_OPTIONS_H

#include <stdbool.h>

enum emulator_kind { EMULATOR_QEMU, EMULATOR_BOCHS };
enum boot_method { BOOT_DIRECT, BOOT_GRUB };

/* Defaults; docs/cli.md repeats them. */
#define DEFAULT_MEMORY_MIB      128
#define DEFAULT_VCPUS           1
#define DEFAULT_TIMEOUT_QEMU_S  60
#define DEFAULT_TIMEOUT_BOCHS_S 300
/* Prepended to --cmdline: our guests' and Linux's PV console is hvc0. */
#define GUEST_CMDLINE_PREFIX    "console=hvc0"
/* Limits of the boot configuration (xen/include/bootconfig.h: BOOTCFG_*), repeated
 * here because the CLI is built without the hypervisor's include directory. */
#define MIN_MEMORY_MIB          2
#define MAX_MEMORY_MIB          (64 * 1024)
#define MAX_VCPUS               8
#define MAX_CMDLINE_LEN         1023

/* The emulated machine gets the guest's memory plus this, for Wisp itself. */
#define HYPERVISOR_MEMORY_MIB   64

struct run_options {
    enum emulator_kind emulator;
    enum boot_method boot;
    unsigned memory_mib;
    unsigned vcpus;
    unsigned timeout_s;         /* 0: no timeout */
    bool verbose;
    const char *kernel;
    const char *initrd;         /* NULL: none */
    const char *cmdline;        /* NULL: only GUEST_CMDLINE_PREFIX */
    const char *hv_cmdline;     /* extra hypervisor options; NULL: none */
    const char *hypervisor;     /* NULL until resolve_hypervisor_path() */
    bool hypervisor_given;      /* by --hypervisor or WISP_HYPERVISOR */
    const char *keep_dir;       /* NULL: temp dir, removed afterwards */
};

/*
 * Parses `wisp run` arguments (argv[0] is "run"). Returns 0, or
 * WISP_EXIT_USAGE after printing a one-line reason to stderr.
 */
int parse_run_options(int argc, char **argv, struct run_options *opts);

/* Fills opts->hypervisor from WISP_HYPERVISOR or next to the executable. */
void resolve_hypervisor_path(struct run_options *opts);

/* The directory the wisp executable was built into sits in: build/. */
const char *build_dir(void);

const char *emulator_name(enum emulator_kind kind);

void print_run_usage(void);

#endif
