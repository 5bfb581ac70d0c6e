/* up.c (host tool): `wisp up` starts Wisp in the background with its xenstore and service domains; `wisp down` stops it (docs/toolstack.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "client.h"
#include "exit_codes.h"
#include "inbox.h"
#include "media.h"
#include "options.h"
#include "preload.h"
#include "proc.h"
#include "up.h"

#define READY_WAIT_QEMU_S  300
#define READY_WAIT_BOCHS_S 1800
#define DOWN_WAIT_MS       15000
#define MAX_RUN_ARGS       28

struct up_options {
    const char *emulator, *cpus, *accel, *tcg_threads, *config, *hv_cmdline, *memory;
    const char *preload[PRELOAD_MAX_FILES + 1];
    unsigned wait_s, nr_preload;
};

static void print_up_usage(FILE *out)
{
    fputs("usage: wisp up [--emulator qemu|bochs] [--cpus N] [--accel auto|kvm|tcg]\n"
          "               [--tcg-threads single|multi] [--config FILE] [--memory MIB]\n"
          "               [--hv-cmdline STR] [--wait SEC] [--preload FILE]...\n"
          "  starts Wisp in the background with its xenstore and service domains, plus\n"
          "  the domains of FILE (a boot configuration, docs/boot-config.md; its\n"
          "  kernels are found next to it), and returns once the service domain's\n"
          "  agent answers (--wait: at most SEC seconds, default 300, Bochs 1800).\n"
          "  --memory: room for domains `wisp create` makes (MiB, default 512).\n"
          "  --preload: a kernel or ramdisk handed to the service domain at boot, so\n"
          "  `wisp create` need not send it over the host channel (at most 4 files,\n"
          "  64 MiB in all).\n"
          "  Then: wisp list | pause | unpause | destroy | shutdown | reboot | sched,\n"
          "  and wisp down. Sockets and logs live in $WISP_RUN_DIR (default\n"
          "  $XDG_RUNTIME_DIR/wisp, else /tmp/wisp-UID).\n", out);
}

static int parse_up(int argc, char **argv, struct up_options *o)
{
    static const struct option opts[] = {
        { "emulator", required_argument, NULL, 'e' }, { "cpus", required_argument, NULL, 'c' },
        { "accel", required_argument, NULL, 'a' },    { "config", required_argument, NULL, 'f' },
        { "hv-cmdline", required_argument, NULL, 'x' }, { "wait", required_argument, NULL, 'w' },
        { "memory", required_argument, NULL, 'm' },   { "preload", required_argument, NULL, 'p' },
        { "tcg-threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct up_options){ .emulator = "qemu", .cpus = "2", .memory = "512" };
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e': o->emulator = optarg; break;
        case 'c': o->cpus = optarg; break;
        case 'a': o->accel = optarg; break;
        case 't': o->tcg_threads = optarg; break;
        case 'f': o->config = optarg; break;
        case 'x': o->hv_cmdline = optarg; break;
        case 'm': o->memory = optarg; break;
        case 'p':
            if (o->nr_preload == PRELOAD_MAX_FILES) {
                fprintf(stderr, "wisp: --preload: at most %u files\n", PRELOAD_MAX_FILES);
                return WISP_EXIT_USAGE;
            }
            o->preload[o->nr_preload++] = optarg;
            break;
        case 'w': o->wait_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'h': print_up_usage(stdout); return 1;
        default: print_up_usage(stderr); return WISP_EXIT_USAGE;
        }
    }
    if (optind != argc || (strcmp(o->emulator, "qemu") && strcmp(o->emulator, "bochs"))) {
        print_up_usage(stderr);
        return WISP_EXIT_USAGE;
    }
    if (!o->wait_s)
        o->wait_s = strcmp(o->emulator, "bochs") ? READY_WAIT_QEMU_S : READY_WAIT_BOCHS_S;
    return 0;
}

/* dir/name -> target (absolute); an existing link is replaced. */
static int link_into(const char *dir, const char *name, const char *target)
{
    char path[PATH_MAX], *abs = realpath(target, NULL);
    int err = 0;

    if (!abs) {
        fprintf(stderr, "wisp: %s: %s%s\n", target, strerror(errno),
                errno == ENOENT ? " (./wisp up builds it)" : "");
        return WISP_EXIT_INFRA;
    }
    if (!run_file(dir, name, path, sizeof(path)) || (unlink(path), symlink(abs, path)))
        err = WISP_EXIT_INFRA;
    free(abs);
    if (err)
        fprintf(stderr, "wisp: cannot link %s into %s\n", name, dir);
    return err;
}

/* The files FILE's domains name (kernel, initrd, disk target=), linked from FILE's directory. */
static int link_config_modules(const char *dir, const char *config, const char *text)
{
    char *copy = strdup(config), *base = copy ? dirname(copy) : NULL;
    const char *p = text;
    int rc = 0;

    while (base && !rc && *p) {
        char word[256] = "", target[PATH_MAX];
        const char *t = strstr(p, "target=");

        if (sscanf(p, " kernel %255s", word) == 1 || sscanf(p, " initrd %255s", word) == 1 ||
            (t && t < strchr(p, '\n') && sscanf(t, "target=%255[^ ,'\"\n]", word) == 1)) {
            if (strchr(word, '/') || !strcmp(word, RUN_CONFIG)) {
                fprintf(stderr, "wisp: %s: module '%s': give a plain file name next to it\n",
                        config, word);
                rc = WISP_EXIT_USAGE;
            } else if (snprintf(target, sizeof(target), "%s/%s", base, word) >= (int)sizeof(target)) {
                rc = WISP_EXIT_USAGE;
            } else {
                rc = link_into(dir, word, target);
            }
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : "";
    }
    free(copy);
    return rc;
}

/* The service domain's initramfs: the build's, or with --preload a copy with the files added. */
static int service_initrd(const char *dir, const char *built, const struct up_options *o,
                          unsigned *preload_mib)
{
    char path[PATH_MAX];

    if (!o->nr_preload)
        return link_into(dir, MODULE_SERVICE_INITRD, built);
    if (!run_file(dir, MODULE_SERVICE_INITRD, path, sizeof(path)))
        return WISP_EXIT_INFRA;
    return preload_write_initrd(built, o->preload, o->nr_preload, path, preload_mib);
}

/* QEMU can back the machine's RAM by a shared file, so `wisp create` hands files over through
 * it (the inbox); Bochs cannot, and sends them over COM2. */
static bool uses_inbox(const struct up_options *o)
{
    return !strcmp(o->emulator, "qemu");
}

static int write_up_config(const char *dir, const struct up_options *o)
{
    char path[PATH_MAX], target[PATH_MAX], *extra = NULL;
    size_t extra_len = 0;
    unsigned preload_mib = 0;
    FILE *f;
    int rc = 0;

    if (o->config) {
        FILE *in = fopen(o->config, "r");

        if (!in || getdelim(&extra, &extra_len, '\0', in) < 0) {
            fprintf(stderr, "wisp: --config %s: %s\n", o->config, strerror(errno));
            if (in)
                fclose(in);
            return WISP_EXIT_USAGE;
        }
        fclose(in);
    }
    snprintf(target, sizeof(target), "%s/%s", files_dir(), XENSTORED_TARGET);
    rc = link_into(dir, MODULE_XENSTORED, target);
    snprintf(target, sizeof(target), "%s/%s", files_dir(), SERVICE_KERNEL_TARGET);
    rc = rc ? rc : link_into(dir, MODULE_SERVICE_KERNEL, target);
    snprintf(target, sizeof(target), "%s/%s", files_dir(), SERVICE_INITRD_TARGET);
    rc = rc ? rc : service_initrd(dir, target, o, &preload_mib);
    if (!rc && extra)
        rc = link_config_modules(dir, o->config, extra);
    if (!rc && (!run_file(dir, RUN_CONFIG, path, sizeof(path)) || !(f = fopen(path, "w")))) {
        fprintf(stderr, "wisp: cannot write %s/%s\n", dir, RUN_CONFIG);
        rc = WISP_EXIT_INFRA;
    } else if (!rc) {
        media_write_service_domains(f, preload_mib, uses_inbox(o));   /* d1 and d2 */
        if (extra)
            fputs(extra, f);
        if (fclose(f))
            rc = WISP_EXIT_INFRA;
    }
    free(extra);
    /* Last: it makes a file in /dev/shm, which nothing must be left to fail after. */
    return !rc && uses_inbox(o) ? inbox_prepare(dir) : rc;
}

/* The machine: `wisp run` on the configuration, its COM2 relayed to the channel socket. */
static void run_argv(const char *dir, const struct up_options *o, char **argv, char *cfg,
                     char *chan, char *ram, char *self)
{
    int n = 0;

    run_file(dir, RUN_CONFIG, cfg, PATH_MAX);
    run_file(dir, RUN_CHANNEL_SOCKET, chan, PATH_MAX);
    argv[n++] = self;
    argv[n++] = "run";
    argv[n++] = "--emulator";
    argv[n++] = (char *)o->emulator;
    argv[n++] = "--cpus";
    argv[n++] = (char *)o->cpus;
    argv[n++] = "--config";
    argv[n++] = cfg;
    argv[n++] = "--host-channel";
    argv[n++] = chan;
    argv[n++] = "--timeout";
    argv[n++] = "0";
    argv[n++] = "--no-interactive";
    argv[n++] = "--extra-memory";
    argv[n++] = (char *)o->memory;
    if (uses_inbox(o)) {
        run_file(dir, RUN_RAM, ram, PATH_MAX);
        argv[n++] = "--ram-file";
        argv[n++] = ram;
    }
    if (o->accel) {
        argv[n++] = "--accel";
        argv[n++] = (char *)o->accel;
    }
    if (o->tcg_threads) {               /* `wisp run` checks the value */
        argv[n++] = "--tcg-threads";
        argv[n++] = (char *)o->tcg_threads;
    }
    if (o->hv_cmdline) {
        argv[n++] = "--hv-cmdline";
        argv[n++] = (char *)o->hv_cmdline;
    }
    argv[n] = NULL;
}

static bool is_up(void)
{
    int fd;

    if (client_connect_quietly(&fd))
        return false;
    close(fd);
    return true;
}

static void show_logs(const char *dir)
{
    static const char *const logs[] = { RUN_BROKER_LOG, RUN_WISP_LOG, RUN_CONSOLE_LOG };
    char path[PATH_MAX];

    for (unsigned i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        if (!run_file(dir, logs[i], path, sizeof(path)) || access(path, R_OK))
            continue;
        fprintf(stderr, "wisp: the end of %s:\n", path);
        show_log_tail(path, 15);
    }
}

/* The broker's own process: its own session, its output in broker.log. */
static void __attribute__((noreturn)) become_broker(const char *dir, char **argv)
{
    char log[PATH_MAX];
    int null = open("/dev/null", O_RDWR), out;

    setsid();
    out = run_file(dir, RUN_BROKER_LOG, log, sizeof(log))
              ? open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    if (null >= 0)
        dup2(null, 0);
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
    broker_main(dir, argv);
}

int cmd_up(int argc, char **argv)
{
    static char dir[PATH_MAX], cfg[PATH_MAX], chan[PATH_MAX], ram[PATH_MAX], self[PATH_MAX],
        ready[PATH_MAX];
    char *args[MAX_RUN_ARGS];
    struct up_options o;
    long long deadline;
    pid_t broker;
    int rc = parse_up(argc, argv, &o), err;

    if (rc)
        return rc == 1 ? 0 : rc;
    if ((err = run_dir_path(dir, sizeof(dir), true))) {
        fprintf(stderr, "wisp: run directory %s: %s\n", dir,
                err == -EACCES ? "not ours alone (it must be mode 0700 and owned by us)"
                               : strerror(-err));
        return WISP_EXIT_INFRA;
    }
    if (is_up()) {
        fprintf(stderr, "wisp: Wisp is already up (run directory %s); `wisp down` stops it\n",
                dir);
        return WISP_EXIT_INFRA;
    }
    if ((rc = write_up_config(dir, &o)))
        return rc;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        inbox_remove_ram(dir);
        return WISP_EXIT_INFRA;
    }
    self[n] = '\0';
    run_argv(dir, &o, args, cfg, chan, ram, self);
    run_file(dir, RUN_READY, ready, sizeof(ready));
    unlink(ready);
    fflush(NULL);
    broker = fork();
    if (broker < 0) {
        inbox_remove_ram(dir);
        return WISP_EXIT_INFRA;
    }
    if (broker == 0)
        become_broker(dir, args);
    fprintf(stderr, "wisp: starting Wisp on %s; waiting for the service domain's agent...\n",
            o.emulator);
    deadline = monotonic_ms() + o.wait_s * 1000LL;
    while (access(ready, F_OK)) {
        if (waitpid(broker, NULL, WNOHANG) == broker) {
            fprintf(stderr, "wisp: Wisp did not come up\n");
            show_logs(dir);
            return WISP_EXIT_INFRA;
        }
        if (monotonic_ms() > deadline) {
            kill(broker, SIGTERM);
            waitpid(broker, NULL, 0);
            fprintf(stderr, "wisp: Wisp did not come up within %u s\n", o.wait_s);
            show_logs(dir);
            return WISP_EXIT_TIMEOUT;
        }
        usleep(200000);
    }
    printf("wisp: up (run directory %s): `wisp list` shows the domains, `wisp down` stops it\n",
           dir);
    return 0;
}

int cmd_down(int argc, char **argv)
{
    char buf[WIRE_LINE_MAX], dir[PATH_MAX], sock[PATH_MAX];
    struct wire_out req;
    struct wire_msg reply;
    long long deadline = monotonic_ms() + DOWN_WAIT_MS;
    int rc;

    (void)argv;
    if (argc != 1) {
        fputs("usage: wisp down\n", stderr);
        return WISP_EXIT_USAGE;
    }
    wire_begin(&req, "req");
    wire_add(&req, "id", "1");
    wire_add(&req, "op", "down");
    if ((rc = client_request(&req, NULL, NULL, &reply, buf, sizeof(buf))))
        return rc;
    /* The broker ends the machine, then removes its socket. */
    if (!run_dir_path(dir, sizeof(dir), false) &&
        run_file(dir, RUN_CONTROL_SOCKET, sock, sizeof(sock)))
        while (!access(sock, F_OK) && monotonic_ms() < deadline)
            usleep(100000);
    printf("wisp: down\n");
    return 0;
}
