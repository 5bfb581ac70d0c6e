/* bzimage.c (host tool): finds the compressed vmlinux inside a Linux bzImage and unpacks it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bzimage.h"
#include "proc.h"

/*
 * Magic numbers of the formats Linux can compress its payload with (the
 * formats' own specifications), and the tools that undo them. Linux appends
 * the unpacked size to every format but gzip (arch/x86/boot/compressed/
 * Makefile, "_with_size"), which the tools would take for trailing garbage.
 */
static const struct unpacker unpackers[] = {
    { "gzip",  "\x1f\x8b", 2, { "gzip", "-dc", NULL }, "gzip", false },
    { "xz",    "\xfd" "7zXZ\0", 6, { "xz", "-dc", NULL }, "xz-utils", true },
    { "zstd",  "\x28\xb5\x2f\xfd", 4, { "zstd", "-dc", NULL }, "zstd", true },
    { "lz4",   "\x02\x21\x4c\x18", 4, { "lz4", "-dc", NULL }, "lz4", true },
    { "bzip2", "BZh", 3, { "bzip2", "-dc", NULL }, "bzip2", true },
    { "lzma",  "\x5d\x00\x00", 3, { "xz", "--format=lzma", "-dc", NULL }, "xz-utils", true },
};

/* ELF identification (System V gABI, "ELF Identification"). */
#define ELF_MAGIC       "\x7f" "ELF"
#define ELF_CLASS_OFF   4
#define ELF_CLASS_64    2

/* Shown from a failing decompressor's stderr. */
#define TOOL_MESSAGE_MAX 1024

static uint32_t read_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t read_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

bool is_bzimage(const uint8_t *file, size_t size)
{
    return size >= BZ_HEADER_MAGIC_OFF + 4 &&
           memcmp(file + BZ_HEADER_MAGIC_OFF, BZ_HEADER_MAGIC, 4) == 0;
}

static const struct unpacker *find_unpacker(const uint8_t *data, uint64_t len)
{
    for (size_t i = 0; i < sizeof(unpackers) / sizeof(unpackers[0]); i++)
        if (len >= unpackers[i].magic_len &&
            memcmp(data, unpackers[i].magic, unpackers[i].magic_len) == 0)
            return &unpackers[i];
    return NULL;
}

int bzimage_find_payload(const uint8_t *file, size_t size, struct bzimage_payload *out,
                         char *why, size_t why_size)
{
    unsigned setup_sects;
    uint64_t protected_mode_start;

    memset(out, 0, sizeof(*out));
    if (!is_bzimage(file, size) || size < BZ_VERSION_OFF + 2) {
        snprintf(why, why_size, "not a bzImage (no \"HdrS\" setup header)");
        return -EINVAL;
    }
    out->version = read_le16(file + BZ_VERSION_OFF);
    if (out->version < BZ_MIN_VERSION) {
        snprintf(why, why_size, "bzImage boot protocol %u.%02u is older than 2.08, which "
                 "first says where the payload is", out->version >> 8, out->version & 0xff);
        return -EINVAL;
    }
    if (size < BZ_HEADER_END) {
        snprintf(why, why_size, "truncated bzImage: the setup header is cut short");
        return -EINVAL;
    }
    setup_sects = file[BZ_SETUP_SECTS_OFF] ? file[BZ_SETUP_SECTS_OFF] : BZ_SETUP_SECTS_DEFAULT;
    protected_mode_start = (uint64_t)(setup_sects + 1) * BZ_SECTOR_SIZE;
    out->offset = protected_mode_start + read_le32(file + BZ_PAYLOAD_OFFSET_OFF);
    out->length = read_le32(file + BZ_PAYLOAD_LENGTH_OFF);
    if (out->length == 0 || out->offset > size || out->length > size - out->offset) {
        snprintf(why, why_size, "truncated or corrupt bzImage: its payload (%llu bytes at "
                 "offset %llu) does not lie within the file (%zu bytes)",
                 (unsigned long long)out->length, (unsigned long long)out->offset, size);
        return -EINVAL;
    }
    out->unpacker = find_unpacker(file + out->offset, out->length);
    if (!out->unpacker) {
        const uint8_t *p = file + out->offset;

        snprintf(why, why_size, "the bzImage's payload has an unknown compression "
                 "(first bytes %02x %02x %02x %02x)", p[0],
                 out->length > 1 ? p[1] : 0, out->length > 2 ? p[2] : 0,
                 out->length > 3 ? p[3] : 0);
        return -EINVAL;
    }
    if (out->unpacker->size_trailer && out->length <= 4) {
        snprintf(why, why_size, "truncated bzImage: its %s payload is empty",
                 out->unpacker->format);
        return -EINVAL;
    }
    return 0;
}

static enum wisp_exit kernel_error(const struct run_options *opts, const char *why,
                                   enum wisp_exit code)
{
    fprintf(stderr, "wisp: %s: %s\n", opts->kernel_name, why);
    return code;
}

/* Feeds data to the tool's stdin; stops early (without error) if the tool stops reading. */
static int feed_tool(int fd, const uint8_t *data, uint64_t len)
{
    while (len > 0) {
        ssize_t put = write(fd, data, len > (1 << 20) ? (1 << 20) : (size_t)len);

        if (put < 0 && errno == EINTR && !stop_signal)
            continue;
        if (put < 0)
            return errno == EPIPE ? 0 : -errno;
        data += put;
        len -= (uint64_t)put;
    }
    return 0;
}

static void show_tool_messages(int log_fd)
{
    char text[TOOL_MESSAGE_MAX + 1];
    ssize_t got = pread(log_fd, text, TOOL_MESSAGE_MAX, 0);

    if (got <= 0)
        return;
    text[got] = '\0';
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "  %s\n", line);
}

/* Runs the unpacker on the payload, its output into out_fd. */
static enum wisp_exit run_unpacker(const struct run_options *opts,
                                   const struct bzimage_payload *payload,
                                   const uint8_t *file, int out_fd)
{
    const struct unpacker *u = payload->unpacker;
    uint64_t len = payload->length - (u->size_trailer ? 4 : 0);
    struct spawn_request req = { .argv = (char *const *)u->argv, .stdout_fd = out_fd };
    int in[2], log_fd, err, status;
    char why[256];
    pid_t pid;

    log_fd = memfd_create("wisp-unpack-messages", MFD_CLOEXEC);
    if (log_fd < 0 || pipe2(in, O_CLOEXEC) < 0) {
        if (log_fd >= 0)
            close(log_fd);
        fprintf(stderr, "wisp: unpacking %s: %s\n", opts->kernel_name, strerror(errno));
        return WISP_EXIT_INFRA;
    }
    req.stdin_fd = in[0];
    req.stderr_fd = log_fd;
    err = spawn_child(&req, &pid, NULL);
    close(in[0]);
    if (err) {
        close(in[1]);
        close(log_fd);
        if (err != -ENOENT)
            snprintf(why, sizeof(why), "cannot run %s to unpack its payload: %s",
                     u->argv[0], strerror(-err));
        else
            snprintf(why, sizeof(why), "its payload is %s-compressed, and `%s` is not "
                     "installed (Debian package %s)", u->format, u->argv[0], u->package);
        return kernel_error(opts, why, WISP_EXIT_USAGE);
    }
    err = feed_tool(in[1], file + payload->offset, len);
    close(in[1]);
    status = wait_tool(pid);
    if (status == -EINTR || stop_signal) {
        close(log_fd);
        return WISP_EXIT_INTERRUPTED;
    }
    if (err || status != 0) {
        if (err)
            snprintf(why, sizeof(why), "unpacking its %s payload failed: feeding %s: %s",
                     u->format, u->argv[0], strerror(-err));
        else
            snprintf(why, sizeof(why), "unpacking its %s payload failed (%s: exit status "
                     "%d)", u->format, u->argv[0], status);
        kernel_error(opts, why, WISP_EXIT_USAGE);
        show_tool_messages(log_fd);
        close(log_fd);
        return WISP_EXIT_USAGE;
    }
    close(log_fd);
    return 0;
}

static bool is_elf64(int fd)
{
    uint8_t ident[ELF_CLASS_OFF + 1];

    return pread(fd, ident, sizeof(ident), 0) == (ssize_t)sizeof(ident) &&
           memcmp(ident, ELF_MAGIC, 4) == 0 && ident[ELF_CLASS_OFF] == ELF_CLASS_64;
}

static int make_temp_file(char *path, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(path, size, "%s/wisp-vmlinux.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");

    if (len < 0 || (size_t)len >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkostemp(path, O_CLOEXEC);
}

static enum wisp_exit unpack_mapped(struct run_options *opts, const uint8_t *file,
                                    size_t size, char *temp, size_t temp_size)
{
    struct bzimage_payload payload;
    enum wisp_exit rc;
    char why[256];
    int out_fd;

    if (bzimage_find_payload(file, size, &payload, why, sizeof(why)))
        return kernel_error(opts, why, WISP_EXIT_USAGE);
    out_fd = make_temp_file(temp, temp_size);
    if (out_fd < 0) {
        fprintf(stderr, "wisp: cannot create a temporary file for the vmlinux in %s: %s\n",
                opts->kernel_name, strerror(errno));
        temp[0] = '\0';
        return WISP_EXIT_INFRA;
    }
    rc = run_unpacker(opts, &payload, file, out_fd);
    if (!rc && !is_elf64(out_fd)) {
        snprintf(why, sizeof(why), "its %s payload did not unpack to an ELF64 vmlinux",
                 payload.unpacker->format);
        rc = kernel_error(opts, why, WISP_EXIT_USAGE);
    }
    close(out_fd);
    if (rc) {
        unlink(temp);
        temp[0] = '\0';
        return rc;
    }
    opts->kernel = temp;
    opts->linux_guest = true;
    return 0;
}

enum wisp_exit unpack_bzimage(struct run_options *opts, char *temp, size_t temp_size)
{
    struct stat st;
    enum wisp_exit rc;
    void *file;
    int fd;

    temp[0] = '\0';
    /* Unreadable or not a regular file: check_inputs() says so. */
    fd = open(opts->kernel, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return 0;
    }
    file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED)
        return 0;
    rc = 0;
    /* A plain ELF is used as it is, whatever its bytes at the header offsets. */
    if (memcmp(file, ELF_MAGIC, st.st_size < 4 ? (size_t)st.st_size : 4) != 0 &&
        is_bzimage(file, (size_t)st.st_size))
        rc = unpack_mapped(opts, file, (size_t)st.st_size, temp, temp_size);
    munmap(file, (size_t)st.st_size);
    return rc;
}
