/* emulator.c (host tool): starts QEMU or Bochs on the boot media and gives access to COM1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulator.h"
#include "proc.h"

#define MAX_ARGS 40

const char *emulator_program(enum emulator_kind kind)
{
    const char *env = getenv(kind == EMULATOR_BOCHS ? "WISP_BOCHS" : "WISP_QEMU");

    if (env && env[0])
        return env;
    return kind == EMULATOR_BOCHS ? "bochs" : "qemu-system-x86_64";
}

static unsigned machine_memory_mib(const struct run_options *opts)
{
    return opts->memory_mib + HYPERVISOR_MEMORY_MIB;
}

/*
 * QEMU with TCG: `-cpu max` has AMD SVM with nested paging (NPT). COM1 is
 * QEMU's stdout; nothing else is attached (-nodefaults), and the monitor is off.
 */
static void qemu_argv(const struct run_options *opts, const struct boot_media *media,
                      char *args[MAX_ARGS], char *memory, size_t memory_size,
                      char *modules, size_t modules_size)
{
    int n = 0;

    snprintf(memory, memory_size, "%u", machine_memory_mib(opts));
    args[n++] = (char *)emulator_program(EMULATOR_QEMU);
    args[n++] = "-accel";
    args[n++] = "tcg";
    args[n++] = "-cpu";
    args[n++] = "max";
    args[n++] = "-m";
    args[n++] = memory;
    args[n++] = "-nodefaults";
    args[n++] = "-display";
    args[n++] = "none";
    args[n++] = "-monitor";
    args[n++] = "none";
    args[n++] = "-serial";
    args[n++] = "stdio";
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
        int len = snprintf(modules, modules_size, "%s/%s %s", media->dir, MODULE_KERNEL,
                           MODULE_KERNEL);

        if (media->has_initrd)
            len += snprintf(modules + len, modules_size - (size_t)len, ",%s/%s %s",
                            media->dir, MODULE_INITRD, MODULE_INITRD);
        snprintf(modules + len, modules_size - (size_t)len, ",%s/%s %s", media->dir,
                 MODULE_CONFIG, MODULE_CONFIG);
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
    char *args[MAX_ARGS], memory[16], modules[3 * PATH_MAX];
    struct spawn_request req = { .argv = args };
    int serial[2], log_fd, null_fd, err;

    qemu_argv(opts, media, args, memory, sizeof(memory), modules, sizeof(modules));
    media_path(media, "qemu.log", emu->log_path, sizeof(emu->log_path));
    if (pipe2(serial, O_CLOEXEC) < 0)
        return WISP_EXIT_INFRA;
    log_fd = open(emu->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    req.stdin_fd = null_fd;
    req.stdout_fd = serial[1];
    req.stderr_fd = log_fd >= 0 ? log_fd : 2;
    err = spawn_child(&req, &emu->pid, NULL);
    close(serial[1]);
    if (log_fd >= 0)
        close(log_fd);
    close(null_fd);
    if (err) {
        close(serial[0]);
        fprintf(stderr, "wisp: cannot run %s: %s%s\n", args[0], strerror(-err),
                err == -ENOENT ? " (install qemu-system-x86; ./wisp does)" : "");
        return WISP_EXIT_INFRA;
    }
    emu->serial_fd = serial[0];
    return 0;
}

/* Bochs reads its whole machine description from this file (Bochs user manual, 4.3). */
static int write_bochsrc(const struct run_options *opts, const struct boot_media *media,
                         const char *path)
{
    char serial[PATH_MAX], log[PATH_MAX];
    FILE *f;

    media_path(media, "serial.log", serial, sizeof(serial));
    media_path(media, "bochs.log", log, sizeof(log));
    f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f,
            "megs: %u\n"
            "cpu: model=" BOCHS_CPU_MODEL "\n"
            "romimage: file=/usr/share/bochs/BIOS-bochs-latest\n"
            "vgaromimage: file=/usr/share/vgabios/vgabios.bin\n"
            "ata0-master: type=cdrom, path=%s, status=inserted\n"
            "boot: cdrom\n"
            "com1: enabled=1, mode=file, dev=%s\n"
            "display_library: term\n"
            "log: %s\n"
            "clock: sync=none\n"
            "port_e9_hack: enabled=0\n"
            /* The shutdown port (0x8900) raises a panic: make that end Bochs. */
            "panic: action=fatal\n"
            "error: action=report\n",
            machine_memory_mib(opts), media->iso, serial, log);
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
 * Bochs' 'term' display needs a terminal, so it gets a pty of its own; the
 * debugger built into Debian's Bochs reads its first command ("c": continue)
 * from the -rc file. COM1 goes to serial.log, which we follow.
 */
static enum wisp_exit start_bochs(const struct run_options *opts,
                                  const struct boot_media *media, struct emulator *emu)
{
    char bochsrc[PATH_MAX], rcfile[PATH_MAX], serial[PATH_MAX], term_log[PATH_MAX];
    char *args[] = { (char *)emulator_program(EMULATOR_BOCHS), "-q", "-f", bochsrc,
                     "-rc", rcfile, NULL };
    struct spawn_request req = { .argv = args, .use_pty = true, .term = "xterm" };
    int err;

    media_path(media, "bochsrc", bochsrc, sizeof(bochsrc));
    media_path(media, "bochs.rc", rcfile, sizeof(rcfile));
    media_path(media, "serial.log", serial, sizeof(serial));
    media_path(media, "bochs-term.log", term_log, sizeof(term_log));
    media_path(media, "bochs.log", emu->log_path, sizeof(emu->log_path));
    err = write_bochsrc(opts, media, bochsrc);
    if (!err)
        err = write_bochsrc_rc(rcfile);
    if (err) {
        fprintf(stderr, "wisp: writing the Bochs configuration: %s\n", strerror(-err));
        return WISP_EXIT_INFRA;
    }
    /* Created (empty) before Bochs truncates it, so we can follow it from byte 0. */
    emu->serial_fd = open(serial, O_RDONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    emu->terminal_log_fd = open(term_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (emu->serial_fd < 0) {
        fprintf(stderr, "wisp: %s: %s\n", serial, strerror(errno));
        return WISP_EXIT_INFRA;
    }
    emu->serial_is_file = true;
    err = spawn_child(&req, &emu->pid, &emu->terminal_fd);
    if (err) {
        fprintf(stderr, "wisp: cannot run %s: %s%s\n", args[0], strerror(-err),
                err == -ENOENT ? " (install bochs, bochs-term, bochsbios and vgabios; "
                                 "./wisp does)" : "");
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
    emu->terminal_fd = -1;
    emu->terminal_log_fd = -1;
    rc = opts->emulator == EMULATOR_BOCHS ? start_bochs(opts, media, emu)
                                          : start_qemu(opts, media, emu);
    if (rc)
        emulator_stop(emu, 0);
    return rc;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int emulator_stop(struct emulator *emu, unsigned grace_ms)
{
    int status = 0;

    if (emu->pid > 0)
        status = end_process_group(emu->pid, grace_ms);
    emu->pid = 0;
    close_fd(&emu->serial_fd);
    close_fd(&emu->terminal_fd);
    close_fd(&emu->terminal_log_fd);
    return status;
}
