/* emulator.c (host tool): starts QEMU or Bochs on the boot media and gives access to COM1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "emulator.h"
#include "proc.h"

#define MAX_ARGS 40

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

const char *emulator_program(enum emulator_kind kind)
{
    const char *env = getenv(kind == EMULATOR_BOCHS ? "WISP_BOCHS" : "WISP_QEMU");

    if (env && env[0])
        return env;
    return kind == EMULATOR_BOCHS ? "bochs" : "qemu-system-x86_64";
}

/*
 * QEMU with TCG: `-cpu max` has AMD SVM with nested paging (NPT). With KVM
 * (opts->accel_kvm, main.c decides): `-cpu host` passes on the host's own SVM
 * or VMX, which KVM offers its guests when its module's nested=1. With
 * --tcg-threads single every emulated CPU shares one host thread, out of reach
 * of QEMU's multi-threaded TCG race (docs/cli.md). COM1 is
 * QEMU's stdio (its stdout, and its stdin in an interactive session); nothing
 * else is attached (-nodefaults), and the monitor is off. Without -nographic
 * the stdio chardev is not multiplexed, so no byte is QEMU's escape key (C-a),
 * and stdin is a pipe, so no terminal driver edits the bytes on the way.
 */
static void qemu_argv(const struct run_options *opts, const struct boot_media *media,
                      const char *com2, char *args[MAX_ARGS], char *memory, size_t memory_size,
                      char *cpus, size_t cpus_size, char *ram_backend, size_t ram_backend_size,
                      char *modules, size_t modules_size)
{
    int n = 0;

    snprintf(memory, memory_size, "%u", media->machine_mib);
    snprintf(cpus, cpus_size, "%u", opts->cpus);
    args[n++] = (char *)emulator_program(EMULATOR_QEMU);
    args[n++] = "-accel";
    args[n++] = opts->accel_kvm ? "kvm" : opts->tcg_single ? "tcg,thread=single" : "tcg";
    args[n++] = "-cpu";
    args[n++] = opts->accel_kvm ? "host" : "max";
    args[n++] = "-m";
    args[n++] = memory;
    if (opts->ram_file) {               /* the host sees the RAM: `wisp up`'s inbox */
        snprintf(ram_backend, ram_backend_size,
                 "memory-backend-file,id=wisp-ram,size=%uM,mem-path=%s,share=on",
                 media->machine_mib, opts->ram_file);
        args[n++] = "-object";
        args[n++] = ram_backend;
        args[n++] = "-machine";
        args[n++] = "memory-backend=wisp-ram";
    }
    args[n++] = "-smp";
    args[n++] = cpus;
    args[n++] = "-nodefaults";
    args[n++] = "-display";
    args[n++] = "none";
    args[n++] = "-monitor";
    args[n++] = "none";
    args[n++] = "-serial";
    args[n++] = "stdio";
    if (com2) {                         /* a host tty device: the host channel's pty */
        args[n++] = "-serial";
        args[n++] = (char *)com2;
    }
    args[n++] = "-no-reboot";
    args[n++] = "-device";
    args[n++] = "isa-debug-exit,iobase=" QEMU_DEBUG_EXIT_PORT ",iosize=0x04";
    if (opts->boot == BOOT_GRUB) {
        args[n++] = "-cdrom";
        args[n++] = (char *)media->iso;
        args[n++] = "-boot";
        args[n++] = "d";
    } else {
        /* QEMU's multiboot v1 loader; module string "<path> <name>", comma-separated. */
        size_t len = 0;

        for (unsigned i = 0; i < media->nr_modules && len < modules_size; i++)
            len += (size_t)snprintf(modules + len, modules_size - len, "%s/%s %s,", media->dir,
                                    media->modules[i].name, media->modules[i].name);
        if (len < modules_size)
            snprintf(modules + len, modules_size - len, "%s/%s %s", media->dir, MODULE_CONFIG,
                     MODULE_CONFIG);
        args[n++] = "-kernel";
        args[n++] = (char *)opts->hypervisor;
        args[n++] = "-append";
        args[n++] = (char *)media->hv_options;
        args[n++] = "-initrd";
        args[n++] = modules;
    }
    args[n] = NULL;
}

static enum wisp_exit start_qemu(const struct run_options *opts,
                                 const struct boot_media *media, struct emulator *emu)
{
    char *args[MAX_ARGS], memory[16], cpus[16], modules[(MEDIA_MAX_MODULES + 1) * PATH_MAX],
        ram_backend[PATH_MAX + 96];
    struct spawn_request req = { .argv = args };
    int serial[2], input[2] = { -1, -1 }, log_fd, err;

    qemu_argv(opts, media, emu->host.master >= 0 ? emu->host.slave_path : NULL, args, memory,
              sizeof(memory), cpus, sizeof(cpus), ram_backend, sizeof(ram_backend), modules,
              sizeof(modules));
    media_path(media, "qemu.log", emu->log_path, sizeof(emu->log_path));
    if (pipe2(serial, O_CLOEXEC) < 0)
        return WISP_EXIT_INFRA;
    if (opts->interactive ? pipe2(input, O_CLOEXEC) < 0
                          : (input[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        close(serial[0]);
        close(serial[1]);
        return WISP_EXIT_INFRA;
    }
    log_fd = open(emu->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    req.stdin_fd = input[0];
    req.stdout_fd = serial[1];
    req.stderr_fd = log_fd >= 0 ? log_fd : 2;
    err = spawn_child(&req, &emu->pid, NULL);
    close(serial[1]);
    if (log_fd >= 0)
        close(log_fd);
    close(input[0]);
    emu->serial_in_fd = input[1];
    if (emu->serial_in_fd >= 0)
        fcntl(emu->serial_in_fd, F_SETFL, fcntl(emu->serial_in_fd, F_GETFL) | O_NONBLOCK);
    if (err) {
        close(serial[0]);
        fprintf(stderr, "wisp: cannot run %s: %s%s\n", args[0], strerror(-err),
                err == -ENOENT ? " (install qemu-system-x86; ./wisp does)" : "");
        return WISP_EXIT_INFRA;
    }
    emu->serial_fd = serial[0];
    return 0;
}

/*
 * Bochs reads its whole machine description from this file (Bochs user manual, 4.3).
 * COM1 is the file serial.log, or in an interactive session the terminal
 * (mode=term) com1_tty: a pty whose master we hold, read and write.
 */
static int write_bochsrc(const struct boot_media *media, unsigned cpus, const char *path,
                         const char *com1_tty, const char *com2_tty)
{
    char serial[PATH_MAX], log[PATH_MAX], count[32] = "";
    FILE *f;

    media_path(media, "serial.log", serial, sizeof(serial));
    media_path(media, "bochs.log", log, sizeof(log));
    /* One CPU: the machine description the Bochs tests were tuned on, with no count. */
    if (cpus > 1)
        snprintf(count, sizeof(count), ", count=%u", cpus);
    f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f,
            "megs: %u\n"
            "cpu: model=" BOCHS_CPU_MODEL "%s\n"
            "romimage: file=/usr/share/bochs/BIOS-bochs-latest\n"
            "vgaromimage: file=/usr/share/vgabios/vgabios.bin\n"
            "ata0-master: type=cdrom, path=%s, status=inserted\n"
            "boot: cdrom\n"
            "com1: enabled=1, mode=%s, dev=%s\n"
            "display_library: term\n"
            "log: %s\n"
            "clock: sync=none\n"
            "port_e9_hack: enabled=0\n"
            /* The shutdown port (0x8900) raises a panic: make that end Bochs. */
            "panic: action=fatal\n"
            "error: action=report\n",
            media->machine_mib, count, media->iso, com1_tty ? "term" : "file",
            com1_tty ? com1_tty : serial, log);
    if (com2_tty)
        fprintf(f, "com2: enabled=1, mode=term, dev=%s\n", com2_tty);
    return fclose(f) == 0 ? 0 : -errno;
}

/* Commands for Bochs' built-in debugger: continue at once. */
static int write_bochsrc_rc(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fputs("c\n", f);
    return fclose(f) == 0 ? 0 : -errno;
}

/*
 * COM1 of an interactive Bochs: a pty in raw mode (so no line discipline
 * echoes or edits the guest's bytes); Bochs opens the slave by name, we keep
 * the master. We also keep the slave open, so the master never reads EOF.
 */
static int open_com1_pty(struct emulator *emu, char *name, size_t size)
{
    struct termios raw;
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;

    if (master < 0)
        return -errno;
    if (grantpt(master) || unlockpt(master) || ptsname_r(master, name, size) ||
        (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
        int err = -errno;

        close(master);
        return err;
    }
    if (tcgetattr(slave, &raw) == 0) {
        cfmakeraw(&raw);
        tcsetattr(slave, TCSANOW, &raw);
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    emu->serial_fd = master;
    emu->serial_in_fd = dup(master);
    emu->serial_pty_slave = slave;
    emu->input_burst = BOCHS_INPUT_BURST;
    emu->input_gap_ms = BOCHS_INPUT_GAP_MS;
    if (emu->serial_in_fd < 0)
        return -errno;
    fcntl(emu->serial_in_fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

/*
 * Bochs' 'term' display needs a terminal, so it gets a pty of its own; the
 * debugger built into Debian's Bochs reads its first command ("c": continue)
 * from the -rc file. COM1 goes to serial.log, which we follow, or in an
 * interactive session to a second pty.
 */
static enum wisp_exit start_bochs(const struct run_options *opts,
                                  const struct boot_media *media, struct emulator *emu)
{
    char bochsrc[PATH_MAX], rcfile[PATH_MAX], serial[PATH_MAX], term_log[PATH_MAX];
    char com1_tty[128];
    char *args[] = { (char *)emulator_program(EMULATOR_BOCHS), "-q", "-f", bochsrc,
                     "-rc", rcfile, NULL };
    struct spawn_request req = { .argv = args, .use_pty = true, .term = "xterm" };
    int err;

    media_path(media, "bochsrc", bochsrc, sizeof(bochsrc));
    media_path(media, "bochs.rc", rcfile, sizeof(rcfile));
    media_path(media, "serial.log", serial, sizeof(serial));
    media_path(media, "bochs-term.log", term_log, sizeof(term_log));
    media_path(media, "bochs.log", emu->log_path, sizeof(emu->log_path));
    if (opts->interactive) {
        err = open_com1_pty(emu, com1_tty, sizeof(com1_tty));
        if (err) {
            fprintf(stderr, "wisp: a pty for Bochs' COM1: %s\n", strerror(-err));
            return WISP_EXIT_INFRA;
        }
    }
    err = write_bochsrc(media, opts->cpus, bochsrc, opts->interactive ? com1_tty : NULL,
                        emu->host.master >= 0 ? emu->host.slave_path : NULL);
    if (!err)
        err = write_bochsrc_rc(rcfile);
    if (err) {
        fprintf(stderr, "wisp: writing the Bochs configuration: %s\n", strerror(-err));
        return WISP_EXIT_INFRA;
    }
    emu->terminal_log_fd = open(term_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!opts->interactive) {
        /* Created (empty) before Bochs truncates it, so we can follow it from byte 0. */
        emu->serial_fd = open(serial, O_RDONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (emu->serial_fd < 0) {
            fprintf(stderr, "wisp: %s: %s\n", serial, strerror(errno));
            return WISP_EXIT_INFRA;
        }
        emu->serial_is_file = true;
    }
    err = spawn_child(&req, &emu->pid, &emu->terminal_fd);
    if (err) {
        fprintf(stderr, "wisp: cannot run %s: %s%s\n", args[0], strerror(-err),
                err == -ENOENT ? " (install bochs, bochs-term, bochsbios and vgabios; "
                                 "./wisp does)" : "");
        return WISP_EXIT_INFRA;
    }
    return 0;
}

/*
 * Debian's Bochs is built with its debugger, and then its curses 'term'
 * display does not draw on its own terminal (the debugger's) but on a pty it
 * opens, naming the slave on that terminal: `Bochs connected to screen
 * "/dev/pts/N"`. It writes the screen into the master, and with nobody on the
 * slave those bytes pile up in the slave's input queue until, at 4 KiB, Bochs
 * blocks in write() and the whole machine stops (about ten minutes into a busy
 * run). So we open the slave as soon as it is named and read it dry.
 */
#define BOCHS_SCREEN_PREFIX "Bochs connected to screen \""

/* The pty named by LINE, if it is Bochs' `Bochs connected to screen "PATH"`, into PATH. */
static bool bochs_screen_line(const char *line, size_t len, char *path, size_t path_size)
{
    size_t prefix = strlen(BOCHS_SCREEN_PREFIX), name;
    const char *end;

    if (len < prefix || memcmp(line, BOCHS_SCREEN_PREFIX, prefix) != 0)
        return false;
    end = memchr(line + prefix, '"', len - prefix);
    if (!end)
        return false;
    name = (size_t)(end - (line + prefix));
    if (name == 0 || name >= path_size)
        return false;
    memcpy(path, line + prefix, name);
    path[name] = '\0';
    return true;
}

static void open_screen(struct emulator *emu, const char *path)
{
    struct termios raw;
    int fd;

    if (emu->screen_fd >= 0)
        return;
    fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "wisp: Bochs' screen %s: %s (Bochs may stall)\n", path, strerror(errno));
        return;
    }
    /* Raw, so a read returns what is there without waiting for a newline. */
    if (tcgetattr(fd, &raw) == 0) {
        cfmakeraw(&raw);
        tcsetattr(fd, TCSANOW, &raw);
    }
    emu->screen_fd = fd;
}

/* Follows the display's lines (a carriage return or newline ends one) for the screen's name. */
static void scan_display(struct emulator *emu, const char *buf, size_t len)
{
    char path[PATH_MAX];

    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n' && buf[i] != '\r') {
            if (emu->terminal_line_len < sizeof(emu->terminal_line))
                emu->terminal_line[emu->terminal_line_len++] = buf[i];
            continue;
        }
        if (bochs_screen_line(emu->terminal_line, emu->terminal_line_len, path, sizeof(path)))
            open_screen(emu, path);
        emu->terminal_line_len = 0;
    }
}

/* Reads FD until it has nothing more; false once it is gone (EIO or EOF: no writer left). */
static bool read_dry(int fd, void (*use)(struct emulator *, const char *, size_t),
                     struct emulator *emu)
{
    char buf[4096];
    ssize_t got;

    for (;;) {
        got = read(fd, buf, sizeof(buf));
        if (got > 0) {
            if (use)
                use(emu, buf, (size_t)got);
            continue;
        }
        return got < 0 && (errno == EAGAIN || errno == EINTR);
    }
}

static void log_display(struct emulator *emu, const char *buf, size_t len)
{
    if (emu->terminal_log_fd >= 0 && write(emu->terminal_log_fd, buf, len) < 0)
        close_fd(&emu->terminal_log_fd);
    scan_display(emu, buf, len);
}

void emulator_drain_display(struct emulator *emu)
{
    if (emu->terminal_fd >= 0 && !read_dry(emu->terminal_fd, log_display, emu))
        close_fd(&emu->terminal_fd);
    if (emu->screen_fd >= 0 && !read_dry(emu->screen_fd, NULL, emu))
        close_fd(&emu->screen_fd);
}

int emulator_display_pollfds(const struct emulator *emu, struct pollfd *fds)
{
    int n = 0;

    if (emu->terminal_fd >= 0)
        fds[n++] = (struct pollfd){ .fd = emu->terminal_fd, .events = POLLIN };
    if (emu->screen_fd >= 0)
        fds[n++] = (struct pollfd){ .fd = emu->screen_fd, .events = POLLIN };
    return n;
}

/* --host-channel: COM2's pty (paced into Bochs, as COM1's input is) and the socket it is relayed to. */
static enum wisp_exit open_host_channel(const struct run_options *opts, struct emulator *emu)
{
    bool bochs = opts->emulator == EMULATOR_BOCHS;
    int err;

    if (!opts->host_channel)
        return 0;
    err = host_channel_open_pty(&emu->host, bochs ? BOCHS_INPUT_BURST : 0,
                                bochs ? BOCHS_INPUT_GAP_MS : 0);
    if (err) {
        fprintf(stderr, "wisp: a pty for the host channel: %s\n", strerror(-err));
        return WISP_EXIT_INFRA;
    }
    err = host_channel_listen(&emu->host, opts->host_channel);
    if (err) {
        fprintf(stderr, "wisp: --host-channel %s: %s\n", opts->host_channel,
                err == -EEXIST ? "a file that is not a socket is there" : strerror(-err));
        return WISP_EXIT_INFRA;
    }
    return 0;
}

enum wisp_exit emulator_start(const struct run_options *opts, const struct boot_media *media,
                              struct emulator *emu)
{
    enum wisp_exit rc;

    memset(emu, 0, sizeof(*emu));
    emu->kind = opts->emulator;
    emu->serial_fd = -1;
    emu->serial_in_fd = -1;
    emu->serial_pty_slave = -1;
    emu->terminal_fd = -1;
    emu->terminal_log_fd = -1;
    emu->screen_fd = -1;
    host_channel_init(&emu->host);
    rc = open_host_channel(opts, emu);
    if (!rc)
        rc = opts->emulator == EMULATOR_BOCHS ? start_bochs(opts, media, emu)
                                              : start_qemu(opts, media, emu);
    if (rc)
        emulator_stop(emu, 0);
    return rc;
}

int emulator_stop(struct emulator *emu, unsigned grace_ms)
{
    int status = 0;

    if (emu->pid > 0)
        status = end_process_group(emu->pid, grace_ms);
    emu->pid = 0;
    close_fd(&emu->serial_fd);
    close_fd(&emu->serial_in_fd);
    close_fd(&emu->serial_pty_slave);
    close_fd(&emu->terminal_fd);
    close_fd(&emu->terminal_log_fd);
    close_fd(&emu->screen_fd);
    host_channel_close(&emu->host);
    return status;
}
