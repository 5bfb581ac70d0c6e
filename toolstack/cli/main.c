/* main.c (host tool): the `wisp` command: run, demo, help and version. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"
#include "bzimage.h"
#include "client.h"
#include "console_attach.h"
#include "create.h"
#include "emulator.h"
#include "exit_codes.h"
#include "media.h"
#include "monitor.h"
#include "options.h"
#include "proc.h"
#include "up.h"

#ifndef WISP_VERSION
#define WISP_VERSION "unknown"
#endif

/* The guest `wisp demo` boots, relative to the build directory. */
#define WISP_DEMO_GUEST  "tests/guests/demo.elf"
#define WISP_GUESTS_DIR  "tests/guests"

static void print_usage(FILE *out)
{
    fputs("usage: wisp run [OPTIONS] KERNEL\n"
          "           boot KERNEL (a PVH ELF or a Linux bzImage) on Wisp in an emulator\n"
          "       wisp run [OPTIONS] [KERNEL] -- COMMAND [ARG...]\n"
          "           run COMMAND in the Linux guest and exit with its status\n"
          "       wisp demo [--minimal] [OPTIONS]\n"
          "           a shell in the Linux guest (--minimal: the small PVH demo guest)\n"
          "       wisp up [--config FILE] [OPTIONS]\n"
          "           start Wisp in the background with its xenstore and service domains\n"
          "       wisp create FILE   a domain from an xl.cfg file; prints its id\n"
          "       wisp console NAME|ID   its console on the terminal; Ctrl-] leaves\n"
          "       wisp list | pause | unpause | destroy | shutdown | reboot NAME|ID\n"
          "       wisp info   the domains, and the memory free for more (MiB, 4 KiB frames)\n"
          "       wisp sched NAME|ID [--weight W] [--cap C]\n"
          "       wisp down   stop the Wisp that `wisp up` started (docs/toolstack.md)\n"
          "       wisp help [run|up|exit-codes]  this text, run's options, the exit statuses\n"
          "       wisp --version\n", out);
}

static void print_exit_codes(void)
{
    puts("wisp run exit statuses:");
#define PRINT_EXIT_CODE(code, name, desc) printf("  %3d  %s\n", code, desc);
    WISP_EXIT_CODES(PRINT_EXIT_CODE)
#undef PRINT_EXIT_CODE
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0) {
        print_run_usage();
        return 0;
    }
    if (strcmp(argv[1], "up") == 0) {
        char *up_help[] = { "up", "--help", NULL };

        return cmd_up(2, up_help);
    }
    if (strcmp(argv[1], "exit-codes") == 0) {
        print_exit_codes();
        return 0;
    }
    fprintf(stderr, "wisp: no help on '%s'; try `wisp help`\n", argv[1]);
    return WISP_EXIT_USAGE;
}

/*
 * QEMU: KVM or TCG (accel.c); the choice goes to stderr unless --accel tcg
 * asked for it. Returns 0, or WISP_EXIT_INFRA when --accel kvm cannot be had.
 */
static int decide_accel(struct run_options *opts)
{
    struct host_virt host;
    struct accel_decision decision;

    if (opts->emulator != EMULATOR_QEMU)
        return 0;
    host_virt_read(host_root(), &host);
    accel_decide(opts->accel, &host, &decision);
    if (decision.error) {
        fprintf(stderr, "wisp: %s\n", decision.why);
        return WISP_EXIT_INFRA;
    }
    if (opts->accel != ACCEL_TCG)
        fprintf(stderr, "wisp: accel %s\n", decision.why);
    opts->accel_kvm = decision.kvm;
    return 0;
}

/* The whole run once options are known; the emulator never outlives it. */
static int run_with_options(struct run_options *opts)
{
    char unpacked[PATH_MAX];
    struct boot_media media;
    struct emulator emu;
    int rc;

    resolve_hypervisor_path(opts);
    resolve_service_paths(opts);
    install_stop_handlers();
    rc = unpack_bzimage(opts, unpacked, sizeof(unpacked));
    if (rc)
        return rc;
    rc = check_inputs(opts);    /* before the defaults: it tells whether KERNEL is Linux */
    resolve_run_mode(opts);
    if (!rc)
        rc = decide_accel(opts);
    if (!rc)
        rc = media_create(opts, &media);
    if (!rc) {
        if (opts->verbose)
            fprintf(stderr, "wisp: boot media in %s%s\n", media.dir,
                    media.keep ? " (kept)" : "");
        rc = emulator_start(opts, &media, &emu);
        if (!rc)
            rc = monitor_run(&emu, opts);
        media_destroy(&media);
    }
    if (unpacked[0])
        unlink(unpacked);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    struct run_options opts;
    int rc = parse_run_options(argc, argv, &opts, true);

    if (rc)
        return rc == 1 ? 0 : rc;    /* 1: --help was printed */
    if (opts.command) {
        rc = apply_guest_defaults(&opts);
        if (rc)
            return rc;
    }
    return run_with_options(&opts);
}

/* build/tests/guests/demo.elf, else the first test guest by name. */
static bool find_demo_guest(char *path, size_t size)
{
    char dir[PATH_MAX - 512];
    struct dirent **names;
    int n;
    bool found = false;

    snprintf(path, size, "%s/%s", files_dir(), WISP_DEMO_GUEST);
    if (access(path, R_OK) == 0)
        return true;
    snprintf(dir, sizeof(dir), "%s/%s", files_dir(), WISP_GUESTS_DIR);
    n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);

        if (!found && len > 4 && strcmp(names[i]->d_name + len - 4, ".elf") == 0) {
            snprintf(path, size, "%s/%s", dir, names[i]->d_name);
            found = true;
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return found;
}

static void narrate(const char *text)
{
    fprintf(stderr, "==> %s\n", text);
}

static const char *backend_description(const struct run_options *opts)
{
    return opts->emulator == EMULATOR_BOCHS ? "Bochs (Intel VMX with EPT)"
                                            : "QEMU (TCG: AMD SVM with nested paging, NPT)";
}

static void describe_exit(int rc)
{
    fprintf(stderr, "==> Exit status %d: ", rc);
#define DESCRIBE_EXIT(code, name, desc) if (rc == code) fprintf(stderr, "%s.\n", desc);
    WISP_EXIT_CODES(DESCRIBE_EXIT)
#undef DESCRIBE_EXIT
}

/*
 * `run` arguments for `demo ARGS`: ARGS without "--minimal", after the demo's
 * own option (the Linux demo is interactive, the minimal one verbose), so
 * they go through `run`'s parser. out has room for argc + 2. Returns its argc.
 */
static int demo_run_argv(int argc, char **argv, char **out, bool *minimal)
{
    int n = 2;

    *minimal = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--minimal") == 0)
            *minimal = true;
        else
            out[n++] = argv[i];
    }
    out[0] = "wisp demo";
    out[1] = *minimal ? "--verbose" : "--interactive";
    out[n] = NULL;
    return n;
}

/*
 * The demo is one guest with its console on the terminal. The Linux demo may have
 * disks and a network (input still reaches the guest: the hypervisor skips the
 * xenstore and service domains); the minimal demo guest has no drivers for them.
 */
static bool demo_has_one_guest(const struct run_options *opts, bool minimal)
{
    if (opts->guests != 1)
        fputs("wisp: demo boots one guest; use `wisp run --guests N ... -- COMMAND`\n", stderr);
    else if (minimal && run_has_devices(opts))
        fputs("wisp: the minimal demo has no disk or network drivers; use the Linux demo\n",
              stderr);
    else
        return true;
    return false;
}

/* The small PVH demo guest (tests/guests/demo.elf), hypervisor lines shown: no Linux needed. */
static int demo_minimal(int argc, char **argv)
{
    static char guest[PATH_MAX];
    struct run_options opts;
    int rc;

    if (!find_demo_guest(guest, sizeof(guest))) {
        fprintf(stderr, "wisp: no demo guest in %s/%s (build with `ninja -C build`)\n",
                files_dir(), WISP_GUESTS_DIR);
        return WISP_EXIT_INFRA;
    }
    argv[argc++] = guest;
    argv[argc] = NULL;
    rc = parse_run_options(argc, argv, &opts, true);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (opts.command || opts.kernel != guest) {
        fputs("wisp: demo takes options only (see `wisp help run`)\n", stderr);
        return WISP_EXIT_USAGE;
    }
    if (!demo_has_one_guest(&opts, true))
        return WISP_EXIT_USAGE;
    narrate("Wisp is a small hypervisor that runs guests written for Xen's PVH ABI.");
    fprintf(stderr, "==> Booting Wisp under %s\n"
                    "==> with one guest: %s (%u MiB, %u vCPU).\n",
            backend_description(&opts), guest, opts.memory_mib, opts.vcpus);
    narrate("Lines starting with (wisp) come from the hypervisor (stderr); the guest's");
    narrate("console follows on stdout, as `wisp run` prints it.");
    rc = run_with_options(&opts);
    describe_exit(rc);
    return rc;
}

/* The Linux guest with its shell on the console, interactively. */
static int demo_linux(int argc, char **argv)
{
    struct run_options opts;
    int rc = parse_run_options(argc, argv, &opts, false);

    if (rc)
        return rc == 1 ? 0 : rc;
    if (opts.kernel || opts.command) {
        fputs("wisp: demo takes options only; to run a command use "
              "`wisp run -- COMMAND`\n", stderr);
        return WISP_EXIT_USAGE;
    }
    if (!demo_has_one_guest(&opts, false))
        return WISP_EXIT_USAGE;
    rc = apply_guest_defaults(&opts);
    if (rc)
        return rc;
    narrate("Wisp is a small hypervisor that runs guests written for Xen's PVH ABI.");
    fprintf(stderr, "==> Booting Wisp under %s\n"
                    "==> with a Linux guest: %s\n"
                    "==>   and its initramfs %s (%u MiB, %u vCPU).\n",
            backend_description(&opts), opts.kernel, opts.initrd, opts.memory_mib,
            opts.vcpus);
    narrate("Its console (hvc0) is yours: a shell prompt appears once Linux is up.");
    narrate("`poweroff` in the guest ends the demo; Ctrl-] ends it at once.");
    rc = run_with_options(&opts);
    if (rc == WISP_EXIT_INFRA && access(opts.kernel, R_OK) != 0)
        narrate("Without a Linux guest, `wisp demo --minimal` boots the small PVH demo guest.");
    describe_exit(rc);
    return rc;
}

static int cmd_demo(int argc, char **argv)
{
    char **run_argv = calloc((size_t)argc + 4, sizeof(*run_argv));
    bool minimal;
    int n, rc;

    if (!run_argv)
        return WISP_EXIT_INFRA;
    n = demo_run_argv(argc, argv, run_argv, &minimal);
    rc = minimal ? demo_minimal(n, run_argv) : demo_linux(n, run_argv);
    free(run_argv);
    return rc;
}

/* run's parser, with its --help text and messages kept off stdout and stderr. */
static int parse_quietly(int argc, char **argv, struct run_options *opts, bool need_kernel)
{
    int saved_out = dup(1), saved_err = dup(2), null = open("/dev/null", O_WRONLY), rc;

    fflush(stdout);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    rc = parse_run_options(argc, argv, opts, need_kernel);
    fflush(stdout);
    if (saved_out >= 0 && saved_err >= 0) {
        dup2(saved_out, 1);
        dup2(saved_err, 2);
    }
    if (saved_out >= 0)
        close(saved_out);
    if (saved_err >= 0)
        close(saved_err);
    return rc;
}

/*
 * `wisp guest-targets run|demo ARGS...` (for ./wisp): prints the build
 * targets of the default Linux guest (and with --disk or --net, of the xenstore
 * and service domains) that those arguments would use, one per line; nothing
 * if none, or if the arguments are wrong (the real command will say so).
 */
static int cmd_guest_targets(int argc, char **argv)
{
    char **run_argv = calloc((size_t)argc + 4, sizeof(*run_argv));
    struct run_options opts;
    bool minimal = false, wants_linux = false, wants_service = false;
    int n;

    if (!run_argv)
        return 0;
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        run_argv[0] = "run";
        for (n = 2; n < argc; n++)
            run_argv[n - 1] = argv[n];
        if (parse_quietly(argc - 1, run_argv, &opts, true) == 0) {
            wants_linux = opts.command != NULL;
            wants_service = run_has_devices(&opts);
        }
    } else if (argc >= 2 && strcmp(argv[1], "up") == 0) {
        wants_service = true;
    } else if (argc >= 2 && strcmp(argv[1], "demo") == 0) {
        n = demo_run_argv(argc - 1, argv + 1, run_argv, &minimal);
        wants_linux = !minimal && parse_quietly(n, run_argv, &opts, false) == 0 &&
                      !opts.kernel && !opts.command;
    }
    if (wants_linux && !opts.kernel)
        puts(GUEST_KERNEL_TARGET);
    if (wants_linux && !opts.initrd)
        puts(GUEST_INITRD_TARGET);
    if (wants_service)
        printf("%s\n%s\n%s\n", XENSTORED_TARGET, SERVICE_KERNEL_TARGET, SERVICE_INITRD_TARGET);
    free(run_argv);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        print_usage(stderr);
        return WISP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "run") == 0) {
        argv[1] = "wisp run";    /* getopt_long names the program in its messages */
        return cmd_run(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(argv[1], "up") == 0)
        return cmd_up(argc - 1, argv + 1);
    if (strcmp(argv[1], "console") == 0)
        return cmd_console(argc - 1, argv + 1);
    if (strcmp(argv[1], "create") == 0)
        return cmd_create(argc - 1, argv + 1);
    if (strcmp(argv[1], "down") == 0)
        return cmd_down(argc - 1, argv + 1);
    if (client_knows(argv[1]))
        return client_command(argv[1], argc - 1, argv + 1);
    if (strcmp(argv[1], "guest-targets") == 0)
        return cmd_guest_targets(argc - 1, argv + 1);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("wisp %s\n", WISP_VERSION);
        return 0;
    }
    fprintf(stderr, "wisp: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return WISP_EXIT_USAGE;
}
