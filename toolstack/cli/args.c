/* args.c (host tool): parses and validates `wisp run` options. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "command.h"
#include "exit_codes.h"
#include "options.h"

/* Short enough that files_dir()/<a file name> fits PATH_MAX. */
#define FILES_DIR_MAX (PATH_MAX - 512)
/* Where `ninja -C build install` puts the files below, relative to the prefix. */
#define INSTALLED_FILES "/lib/wisp"
#define MAX_TIMEOUT_S (24u * 60 * 60)

static int usage_error(const char *fmt, const char *arg)
{
    fputs("wisp: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see `wisp help run`)\n", stderr);
    return WISP_EXIT_USAGE;
}

/* Accepts plain decimal digits only: no sign, no spaces, no suffix. */
static int parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long value;

    if (text[0] < '0' || text[0] > '9')
        return -EINVAL;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno || *end != '\0' || value < min || value > max)
        return -EINVAL;
    *out = (unsigned)value;
    return 0;
}

/* The boot config is line-based: a guest command line must stay on one line. */
static bool is_printable_line(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/*
 * Hypervisor options land in grub.cfg and QEMU's -append unquoted, so allow
 * only characters that neither GRUB's script parser nor a shell treats specially.
 */
static bool is_safe_hv_cmdline(const char *text)
{
    return strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789 =,._:/+-") == strlen(text);
}

static void set_defaults(struct run_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->emulator = EMULATOR_QEMU;
    opts->boot = BOOT_DIRECT;
    opts->memory_mib = DEFAULT_MEMORY_MIB;
    opts->vcpus = DEFAULT_VCPUS;
    opts->cpus = DEFAULT_CPUS;
    opts->guests = 1;
}

enum { OPT_HV_CMDLINE = 256, OPT_INTERACTIVE, OPT_NO_INTERACTIVE, OPT_CONFIG, OPT_DISK,
       OPT_NET, OPT_GUESTS, OPT_CPUS, OPT_ACCEL, OPT_HOST_CHANNEL, OPT_EXTRA_MEMORY,
       OPT_RAM_FILE, OPT_TCG_THREADS };

/* Options given explicitly, for the checks that depend on them. */
struct given { bool boot, memory, vcpus, guests, accel, tcg_threads; };

static const struct option run_long_options[] = {
    { "emulator",   required_argument, NULL, 'e' },
    { "accel",      required_argument, NULL, OPT_ACCEL },
    { "tcg-threads", required_argument, NULL, OPT_TCG_THREADS },
    { "boot",       required_argument, NULL, 'b' },
    { "memory",     required_argument, NULL, 'm' },
    { "vcpus",      required_argument, NULL, 'c' },
    { "initrd",     required_argument, NULL, 'i' },
    { "cmdline",    required_argument, NULL, 'a' },
    { "hv-cmdline", required_argument, NULL, OPT_HV_CMDLINE },
    { "config",     required_argument, NULL, OPT_CONFIG },
    { "disk",       required_argument, NULL, OPT_DISK },
    { "net",        no_argument,       NULL, OPT_NET },
    { "guests",     required_argument, NULL, OPT_GUESTS },
    { "cpus",       required_argument, NULL, OPT_CPUS },
    { "host-channel", required_argument, NULL, OPT_HOST_CHANNEL },
    { "extra-memory", required_argument, NULL, OPT_EXTRA_MEMORY },
    { "ram-file",   required_argument, NULL, OPT_RAM_FILE },
    { "timeout",    required_argument, NULL, 't' },
    { "verbose",    no_argument,       NULL, 'v' },
    { "hypervisor", required_argument, NULL, 'H' },
    { "keep",       required_argument, NULL, 'k' },
    { "interactive",    no_argument,   NULL, OPT_INTERACTIVE },
    { "no-interactive", no_argument,   NULL, OPT_NO_INTERACTIVE },
    { "help",       no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* --disk IMAGE[,ro]: the next of xvda, xvdb, ... The image itself is checked later. */
static int add_disk(const char *arg, struct run_options *opts)
{
    static char paths[MAX_DISKS][PATH_MAX];
    const char *comma = strrchr(arg, ',');
    size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
    struct disk_option *disk = &opts->disks[opts->nr_disks];

    if (opts->nr_disks == MAX_DISKS)
        return usage_error("at most 8 --disk options (xvda to xvdh); '%s' is one more", arg);
    if (comma && strcmp(comma, ",ro") != 0 && strcmp(comma, ",rw") != 0)
        return usage_error("--disk takes IMAGE or IMAGE,ro: unknown suffix in '%s'", arg);
    if (len == 0 || len >= PATH_MAX)
        return usage_error("--disk needs an IMAGE file, not '%s'", arg);
    memcpy(paths[opts->nr_disks], arg, len);
    paths[opts->nr_disks][len] = '\0';
    disk->path = paths[opts->nr_disks];
    disk->readonly = comma && strcmp(comma, ",ro") == 0;
    opts->nr_disks++;
    return 0;
}

/* Returns 0, 1 to stop with success (--help), or WISP_EXIT_USAGE. */
static int apply_option(int opt, const char *arg, struct run_options *opts,
                        struct given *given)
{
    switch (opt) {
    case 'e':
        if (strcmp(arg, "qemu") == 0)
            opts->emulator = EMULATOR_QEMU;
        else if (strcmp(arg, "bochs") == 0)
            opts->emulator = EMULATOR_BOCHS;
        else
            return usage_error("--emulator must be qemu or bochs, not '%s'", arg);
        return 0;
    case OPT_ACCEL:
        if (!accel_parse(arg, &opts->accel))
            return usage_error("--accel must be auto, kvm or tcg, not '%s'", arg);
        given->accel = true;
        return 0;
    case OPT_TCG_THREADS:
        if (strcmp(arg, "single") != 0 && strcmp(arg, "multi") != 0)
            return usage_error("--tcg-threads must be single or multi, not '%s'", arg);
        opts->tcg_single = strcmp(arg, "single") == 0;
        given->tcg_threads = true;
        return 0;
    case 'b':
        if (strcmp(arg, "direct") == 0)
            opts->boot = BOOT_DIRECT;
        else if (strcmp(arg, "grub") == 0)
            opts->boot = BOOT_GRUB;
        else
            return usage_error("--boot must be direct or grub, not '%s'", arg);
        given->boot = true;
        return 0;
    case 'm':
        if (parse_unsigned(arg, MIN_MEMORY_MIB, MAX_MEMORY_MIB,
                           &opts->memory_mib))
            return usage_error("--memory takes MiB from 2 to 65536, not '%s'", arg);
        given->memory = true;
        return 0;
    case 'c':
        if (parse_unsigned(arg, 1, MAX_VCPUS, &opts->vcpus))
            return usage_error("--vcpus takes 1 to 8, not '%s'", arg);
        given->vcpus = true;
        return 0;
    case 't':
        if (parse_unsigned(arg, 0, MAX_TIMEOUT_S, &opts->timeout_s))
            return usage_error("--timeout takes seconds from 0 (none) to 86400, not '%s'",
                               arg);
        opts->timeout_given = true;
        return 0;
    case 'i':
        opts->initrd = arg;
        return 0;
    case 'a':
        if (!is_printable_line(arg))
            return usage_error("--cmdline must be one line of printable characters%s", "");
        if (strlen(GUEST_CMDLINE_PREFIX) + 1 + strlen(arg) > MAX_CMDLINE_LEN)
            return usage_error("--cmdline is too long (%s)", "1000 characters at most");
        opts->cmdline = arg;
        return 0;
    case OPT_HV_CMDLINE:
        if (!is_safe_hv_cmdline(arg))
            return usage_error("--hv-cmdline allows only letters, digits, spaces and "
                               "=,._:/+- (got '%s')", arg);
        opts->hv_cmdline = arg;
        return 0;
    case OPT_CONFIG:
        opts->config_file = arg;
        return 0;
    case OPT_EXTRA_MEMORY:
        if (parse_unsigned(arg, 0, MAX_MEMORY_MIB, &opts->extra_mib))
            return usage_error("--extra-memory takes MiB from 0 to 65536, not '%s'", arg);
        return 0;
    case OPT_HOST_CHANNEL:
        if (!arg[0] || strlen(arg) >= HOST_CHANNEL_PATH_MAX)
            return usage_error("--host-channel takes a socket path of 1 to 107 bytes, not '%s'",
                               arg);
        opts->host_channel = arg;
        return 0;
    case OPT_RAM_FILE:
        if (!arg[0] || strpbrk(arg, ","))
            return usage_error("--ram-file takes a path without commas, not '%s'", arg);
        opts->ram_file = arg;
        return 0;
    case OPT_DISK:
        return add_disk(arg, opts);
    case OPT_NET:
        opts->net = true;
        return 0;
    case OPT_GUESTS:
        if (parse_unsigned(arg, 1, MAX_GUESTS, &opts->guests))
            return usage_error("--guests takes 1 to 6, not '%s'", arg);
        given->guests = true;
        return 0;
    case OPT_CPUS:
        if (parse_unsigned(arg, 1, MAX_CPUS, &opts->cpus))
            return usage_error("--cpus takes 1 to 8, not '%s'", arg);
        return 0;
    case 'v':
        opts->verbose = true;
        return 0;
    case 'H':
        opts->hypervisor = arg;
        opts->hypervisor_given = true;
        return 0;
    case 'k':
        opts->keep_dir = arg;
        return 0;
    case OPT_INTERACTIVE:
        opts->interactive_choice = INTERACTIVE_ON;
        return 0;
    case OPT_NO_INTERACTIVE:
        opts->interactive_choice = INTERACTIVE_OFF;
        return 0;
    case 'h':
        print_run_usage();
        return 1;
    default:    /* getopt_long already said what was wrong */
        fputs("wisp: see `wisp help run`\n", stderr);
        return WISP_EXIT_USAGE;
    }
}

/* --config names every domain's kernel, initrd, command line, memory and vCPUs itself. */
static int check_config_mode(const struct run_options *opts, const struct given *given)
{
    if (opts->kernel || opts->command)
        return usage_error("--config boots the domains its file names: drop %s",
                           opts->kernel ? "KERNEL" : "-- COMMAND");
    if (opts->initrd || opts->cmdline || given->memory || given->vcpus)
        return usage_error("--config gives each domain's initrd, cmdline, memory and vcpus "
                           "in the file: drop --%s", opts->initrd ? "initrd" :
                           opts->cmdline ? "cmdline" : given->memory ? "memory" : "vcpus");
    if (opts->nr_disks || opts->net)
        return usage_error("--config: put disk and vif lines in the file (docs/boot-config.md) "
                           "instead of --%s", opts->nr_disks ? "disk" : "net");
    if (given->guests)
        return usage_error("--config: name each guest's domain in the file instead of "
                           "--guests%s", "");
    return 0;
}

int parse_run_options(int argc, char **argv, struct run_options *opts, bool need_kernel)
{
    struct given given = { 0 };
    int opt, rc, before;

    set_defaults(opts);
    optind = 0;     /* glibc: full re-initialisation */
    opterr = 1;
    /*
     * Options may come before and after KERNEL; "--" ends them, and the rest is
     * COMMAND, untouched. getopt ("+": no reordering) stops at each operand.
     */
    for (;;) {
        before = optind ? optind : 1;
        opt = getopt_long(argc, argv, "+hv", run_long_options, NULL);
        if (opt != -1) {
            rc = apply_option(opt, optarg, opts, &given);
            if (rc)
                return rc;
            continue;
        }
        if (optind == before + 1 && strcmp(argv[before], "--") == 0) {
            opts->command = argv + optind;      /* getopt stepped over our "--" */
            opts->command_count = argc - optind;
            break;
        }
        if (optind >= argc)
            break;
        if (opts->kernel)
            return usage_error("run takes one KERNEL; unexpected '%s'", argv[optind]);
        opts->kernel = argv[optind++];
    }
    if (opts->command && opts->command_count == 0)
        return usage_error("-- must be followed by a COMMAND to run in the guest%s", "");
    if (opts->config_file && (rc = check_config_mode(opts, &given)))
        return rc;
    if (!opts->kernel && !opts->command && !opts->config_file && need_kernel)
        return usage_error("run needs a KERNEL (a PVH ELF or a bzImage), -- COMMAND "
                           "or --config FILE%s", "");
    opts->kernel_name = opts->kernel;
    opts->linux_guest = opts->command != NULL;

    if (opts->emulator == EMULATOR_BOCHS && opts->ram_file)
        return usage_error("--ram-file is QEMU's: bochs cannot share its RAM%s", "");
    if (opts->emulator == EMULATOR_BOCHS && given.accel && opts->accel != ACCEL_AUTO)
        return usage_error("--accel is QEMU's: bochs always emulates VMX itself%s", "");
    if (given.tcg_threads && (opts->emulator == EMULATOR_BOCHS || opts->accel == ACCEL_KVM))
        return usage_error("--tcg-threads is for QEMU with TCG: not with %s",
                           opts->emulator == EMULATOR_BOCHS ? "bochs" : "--accel kvm");
    if (opts->emulator == EMULATOR_BOCHS && given.boot && opts->boot == BOOT_DIRECT)
        return usage_error("bochs has no direct kernel loader: use --boot grub%s", "");
    if (opts->emulator == EMULATOR_BOCHS)
        opts->boot = BOOT_GRUB;
    return 0;
}

static const char *build_path(const char *target, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", files_dir(), target);
    return out;
}

int apply_guest_defaults(struct run_options *opts)
{
    static char kernel[PATH_MAX], initrd[PATH_MAX], cmdline[MAX_CMDLINE_LEN + 1];
    size_t total;
    char *line;

    if (!opts->kernel) {
        opts->kernel = opts->kernel_name = build_path(GUEST_KERNEL_TARGET, kernel,
                                                      sizeof(kernel));
        opts->kernel_default = true;
        opts->linux_guest = true;
    }
    if (!opts->initrd) {
        opts->initrd = build_path(GUEST_INITRD_TARGET, initrd, sizeof(initrd));
        opts->initrd_default = true;
    }
    if (opts->command) {
        line = command_cmdline(opts->command, opts->command_count, opts->cmdline);
    } else {
        /*
         * demo: no command, the guest's shell. Its kernel shows only critical
         * messages, as with -- COMMAND: a new user should meet a prompt, not
         * PCI's harmless KERN_ERR about a bus a PVH guest does not have.
         */
        line = malloc(strlen(DEMO_CMDLINE_HEAD " ") +
                      (opts->cmdline ? strlen(opts->cmdline) : 0) + 1);
        if (line)
            sprintf(line, DEMO_CMDLINE_HEAD "%s%s", opts->cmdline ? " " : "",
                    opts->cmdline ? opts->cmdline : "");
    }
    if (!line) {
        fputs("wisp: out of memory\n", stderr);
        return WISP_EXIT_INFRA;
    }
    total = strlen(GUEST_CMDLINE_PREFIX) + 1 + strlen(line) +
            (opts->command && opts->guests > 1 ? GUEST_WORD_MAX - 1 : 0);
    if (total > MAX_CMDLINE_LEN) {
        fprintf(stderr, "wisp: the guest command line would be %zu bytes, more than %d: "
                "shorten the COMMAND or --cmdline\n", total, MAX_CMDLINE_LEN);
        free(line);
        return WISP_EXIT_USAGE;
    }
    strcpy(cmdline, line);
    free(line);
    opts->cmdline = cmdline;
    return 0;
}

void resolve_run_mode(struct run_options *opts)
{
    opts->interactive = opts->interactive_choice == INTERACTIVE_ON ||
                        (opts->interactive_choice == INTERACTIVE_AUTO && isatty(0));
    if (opts->timeout_given)
        return;
    if (opts->interactive)
        opts->timeout_s = 0;    /* someone is there to end it (Ctrl-]) */
    else if (opts->linux_guest || run_has_devices(opts))   /* the service domain is Linux */
        opts->timeout_s = opts->emulator == EMULATOR_BOCHS ? DEFAULT_TIMEOUT_LINUX_BOCHS_S
                                                           : DEFAULT_TIMEOUT_LINUX_S;
    else
        opts->timeout_s = opts->emulator == EMULATOR_BOCHS ? DEFAULT_TIMEOUT_BOCHS_S
                                                           : DEFAULT_TIMEOUT_QEMU_S;
}

const char *files_dir(void)
{
    static char dir[FILES_DIR_MAX];
    char exe[FILES_DIR_MAX - sizeof(INSTALLED_FILES)], *top;
    struct stat st;
    ssize_t len;

    if (dir[0])
        return dir;
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) {
        strcpy(dir, ".");
        return dir;
    }
    exe[len] = '\0';
    /* <build>/toolstack/wisp or <prefix>/bin/wisp: either way, two levels up */
    top = dirname(dirname(exe));
    snprintf(dir, sizeof(dir), "%s" INSTALLED_FILES, top);
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        snprintf(dir, sizeof(dir), "%s", top);
    return dir;
}

void resolve_hypervisor_path(struct run_options *opts)
{
    static char path[PATH_MAX];
    const char *env = getenv("WISP_HYPERVISOR");

    if (opts->hypervisor)
        return;
    if (env && env[0]) {
        opts->hypervisor = env;
        opts->hypervisor_given = true;
        return;
    }
    snprintf(path, sizeof(path), "%s/xen/wisp.elf", files_dir());
    opts->hypervisor = path;
}

void resolve_service_paths(struct run_options *opts)
{
    static char xenstored[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX];

    if (!run_has_devices(opts))
        return;
    opts->xenstored = build_path(XENSTORED_TARGET, xenstored, sizeof(xenstored));
    opts->service_kernel = build_path(SERVICE_KERNEL_TARGET, kernel, sizeof(kernel));
    opts->service_initrd = build_path(SERVICE_INITRD_TARGET, initrd, sizeof(initrd));
}

const char *emulator_name(enum emulator_kind kind)
{
    return kind == EMULATOR_BOCHS ? "bochs" : "qemu";
}

void print_run_usage(void)
{
    printf(
"usage: wisp run [OPTIONS] KERNEL\n"
"       wisp run [OPTIONS] [KERNEL] -- COMMAND [ARG...]\n"
"       wisp run [OPTIONS] --config FILE\n"
"\n"
"Boots Wisp in an emulator with KERNEL (a PVH ELF, or a Linux bzImage whose vmlinux\n"
"is unpacked) as its one guest, streams the guest's console to stdout and exits with\n"
"the guest's result (`wisp help exit-codes`). With -- COMMAND, the Linux guest (by\n"
"default <build>/" GUEST_KERNEL_TARGET " and\n"
"<build>/" GUEST_INITRD_TARGET ") runs COMMAND and wisp exits with its status.\n"
"\n"
"  --emulator qemu|bochs  emulator to run Wisp in (default qemu: TCG, AMD SVM + NPT;\n"
"                         bochs: Intel VMX + EPT)\n"
"  --accel auto|kvm|tcg   qemu: run Wisp on the host's own SVM or VMX through KVM\n"
"                         (needs /dev/kvm and the kvm_amd or kvm_intel module's\n"
"                         nested=1) or emulate them with TCG; auto (default) takes\n"
"                         KVM when the host has it and says which on stderr\n"
"  --tcg-threads single|multi\n"
"                         qemu with TCG: one host thread per emulated CPU (multi,\n"
"                         default) or one for all (single: slower with --cpus 2\n"
"                         or more, but immune to a QEMU race that can crash Wisp\n"
"                         under SMP load: docs/cli.md)\n"
"  --boot direct|grub     qemu: its own multiboot loader (default) or a GRUB ISO;\n"
"                         bochs always boots a GRUB ISO\n"
"  --memory MIB           guest memory, 2..65536 (default %u); the machine also gets\n"
"                         room for the boot modules and %u MiB for Wisp\n"
"  --vcpus N              guest vCPUs, 1..%u (default %u)\n"
"  --initrd FILE          a module handed to the guest as its initrd\n"
"                         (with -- COMMAND: default the build's initramfs)\n"
"  --cmdline STR          guest command line; a Linux guest's comes after \"%s\"\n"
"                         (and after \"quiet wisp.cmd=...\" with -- COMMAND)\n"
"  --config FILE          boot the domains a boot configuration names (docs/\n"
"                         boot-config.md) instead of KERNEL; their kernels and\n"
"                         initrds are files in FILE's directory; each guest line\n"
"                         on stdout starts with \"[NAME] \"\n"
"  --disk IMAGE[,ro]      give guest1 the raw disk image IMAGE as xvda, the next\n"
"                         --disk as xvdb, ... (at most %u, all together %u MiB);\n"
"                         ,ro makes it read-only. Writes to a disk live in the\n"
"                         machine's memory and are gone when it stops: IMAGE\n"
"                         itself never changes (persistent disks come later, with\n"
"                         device passthrough)\n"
"  --net                  give every guest a network card, eth0, on one bridge in\n"
"                         the service domain; DHCP gives guestI 10.77.0.(I+2)/16,\n"
"                         the service domain is 10.77.255.254; --disk and --net\n"
"                         also boot a xenstore domain and a service domain\n"
"                         (Linux: the backends); --verbose shows their consoles\n"
"  --guests N             boot N guests, guest1..guestN (1..%u, default 1), each\n"
"                         running KERNEL or COMMAND, with WISP_GUEST=I and\n"
"                         WISP_GUESTS=N in COMMAND's environment; each line on\n"
"                         stdout starts with \"[guestI] \"; wisp exits with the\n"
"                         first non-zero status in guest order, else 0\n"
"  --cpus N               CPUs of the emulated machine, 1..%u (default %u); Wisp\n"
"                         uses them all: domains take them in turn\n"
"  --hv-cmdline STR       extra hypervisor options, e.g. loglevel=debug\n"
"  --extra-memory MIB     give the machine MIB more than its domains need, for\n"
"                         domains made while it runs (default 0)\n"
"  --host-channel PATH    the machine's second serial port (COM2) becomes the host\n"
"                         channel to its control domains (docs/host-channel.md),\n"
"                         relayed to one client at a time on the Unix socket PATH\n"
"                         (created mode 0600)\n"
"  --ram-file PATH        qemu: the machine's RAM is the file PATH, shared, so the\n"
"                         host can write into it (wisp up's inbox, docs/toolstack.md)\n"
"  --timeout SEC          kill the emulator after SEC seconds, 0 = never (default\n"
"                         %u for qemu, %u for bochs; Linux guests %u and %u;\n"
"                         none when interactive)\n"
"  --interactive          forward stdin to the guest's console (default: when\n"
"                         stdin is a terminal, which is then put in raw mode;\n"
"                         Ctrl-] ends the session)\n"
"  --no-interactive       never read stdin\n"
"  -v, --verbose          also print the hypervisor's own lines, to stderr\n"
"  --hypervisor PATH      Wisp image (default $WISP_HYPERVISOR, else\n"
"                         <build>/xen/wisp.elf next to this program)\n"
"  --keep DIR             build the boot media in DIR and keep it\n",
        DEFAULT_MEMORY_MIB, HYPERVISOR_MEMORY_MIB, MAX_VCPUS, DEFAULT_VCPUS,
        GUEST_CMDLINE_PREFIX, MAX_DISKS, MAX_DISK_TOTAL_MIB, MAX_GUESTS, MAX_CPUS, DEFAULT_CPUS,
        DEFAULT_TIMEOUT_QEMU_S, DEFAULT_TIMEOUT_BOCHS_S,
        DEFAULT_TIMEOUT_LINUX_S, DEFAULT_TIMEOUT_LINUX_BOCHS_S);
}
