/* main.c (host tool): the `wisp` command: run, demo, help and version. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulator.h"
#include "exit_codes.h"
#include "media.h"
#include "monitor.h"
#include "options.h"
#include "proc.h"

#ifndef WISP_VERSION
#define WISP_VERSION "unknown"
#endif

/* The guest `wisp demo` boots, relative to the build directory. */
#define WISP_DEMO_GUEST  "tests/guests/demo.elf"
#define WISP_GUESTS_DIR  "tests/guests"

static void print_usage(FILE *out)
{
    fputs("usage: wisp run [OPTIONS] KERNEL   boot KERNEL (a PVH ELF) on Wisp in an emulator\n"
          "       wisp demo                   boot the demo guest, explaining each step\n"
          "       wisp help [run|exit-codes]  this text, run's options, the exit statuses\n"
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
    if (strcmp(argv[1], "exit-codes") == 0) {
        print_exit_codes();
        return 0;
    }
    fprintf(stderr, "wisp: no help on '%s'; try `wisp help`\n", argv[1]);
    return WISP_EXIT_USAGE;
}

/* The whole run once options are known; the emulator never outlives it. */
static enum wisp_exit run_with_options(struct run_options *opts)
{
    struct boot_media media;
    struct emulator emu;
    enum wisp_exit rc;

    resolve_hypervisor_path(opts);
    rc = check_inputs(opts);
    if (rc)
        return rc;
    install_stop_handlers();
    rc = media_create(opts, &media);
    if (rc)
        return rc;
    if (opts->verbose)
        fprintf(stderr, "wisp: boot media in %s%s\n", media.dir,
                media.keep ? " (kept)" : "");
    rc = emulator_start(opts, &media, &emu);
    if (!rc)
        rc = monitor_run(&emu, opts);
    media_destroy(&media);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    struct run_options opts;
    int rc = parse_run_options(argc, argv, &opts);

    if (rc)
        return rc == 1 ? 0 : rc;    /* 1: --help was printed */
    return run_with_options(&opts);
}

/* build/tests/guests/demo.elf, else the first test guest by name. */
static bool find_demo_guest(char *path, size_t size)
{
    char dir[PATH_MAX - 512];
    struct dirent **names;
    int n;
    bool found = false;

    snprintf(path, size, "%s/%s", build_dir(), WISP_DEMO_GUEST);
    if (access(path, R_OK) == 0)
        return true;
    snprintf(dir, sizeof(dir), "%s/%s", build_dir(), WISP_GUESTS_DIR);
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

static int cmd_demo(int argc, char **argv)
{
    static char guest[PATH_MAX];
    struct run_options opts;
    char *run_argv[] = { "run", "--verbose", guest, NULL };
    enum wisp_exit rc;

    (void)argv;
    if (argc > 1) {
        fputs("wisp: demo takes no arguments\n", stderr);
        return WISP_EXIT_USAGE;
    }
    if (!find_demo_guest(guest, sizeof(guest))) {
        fprintf(stderr, "wisp: no demo guest in %s/%s (build with `ninja -C build`)\n",
                build_dir(), WISP_GUESTS_DIR);
        return WISP_EXIT_INFRA;
    }
    rc = parse_run_options(3, run_argv, &opts);
    if (rc)
        return rc;
    narrate("Wisp is a small hypervisor that runs guests written for Xen's PVH ABI.");
    fprintf(stderr, "==> Booting Wisp under QEMU (TCG: AMD SVM with nested paging, NPT)\n"
                    "==> with one guest: %s (%u MiB, %u vCPU).\n",
            guest, opts.memory_mib, opts.vcpus);
    narrate("Lines starting with (wisp) come from the hypervisor (stderr); the guest's");
    narrate("console follows on stdout, as `wisp run` prints it.");
    rc = run_with_options(&opts);
    fprintf(stderr, "==> Exit status %d: ", rc);
#define DESCRIBE_EXIT(code, name, desc) if (rc == code) fprintf(stderr, "%s.\n", desc);
    WISP_EXIT_CODES(DESCRIBE_EXIT)
#undef DESCRIBE_EXIT
    return rc;
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
