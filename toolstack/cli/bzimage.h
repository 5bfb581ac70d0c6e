/* bzimage.h (host tool): finds the compressed vmlinux inside a Linux bzImage and unpacks it. */
#ifndef WISP_CLI_BZIMAGE_H
#define WISP_CLI_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "exit_codes.h"
#include "options.h"

/*
 * The x86 boot protocol's setup header (Linux Documentation/arch/x86/boot.rst,
 * "The Real-Mode Kernel Header"): offsets in the file.
 */
#define BZ_SETUP_SECTS_OFF      0x1f1   /* u8: setup sectors after the boot sector; 0 = 4 */
#define BZ_SETUP_SECTS_DEFAULT  4
#define BZ_HEADER_MAGIC_OFF     0x202   /* "HdrS" */
#define BZ_HEADER_MAGIC         "HdrS"
#define BZ_VERSION_OFF          0x206   /* u16: protocol version, major << 8 | minor */
#define BZ_PAYLOAD_OFFSET_OFF   0x248   /* u32 (2.08+): payload, from the protected-mode code */
#define BZ_PAYLOAD_LENGTH_OFF   0x24c   /* u32 (2.08+) */
#define BZ_HEADER_END           0x250   /* bytes needed to read the fields above */
#define BZ_MIN_VERSION          0x0208  /* the first with payload_offset/length */
#define BZ_SECTOR_SIZE          512

/* A decompressor we run as an external program. */
struct unpacker {
    const char *format;         /* as named in messages: "gzip", "xz", ... */
    const char *magic;
    size_t magic_len;
    const char *argv[5];        /* reads stdin, writes stdout */
    const char *package;        /* the Debian package with argv[0] */
    bool size_trailer;          /* Linux appends the 4-byte unpacked size: strip it */
};

struct bzimage_payload {
    unsigned version;
    uint64_t offset, length;    /* within the file */
    const struct unpacker *unpacker;
};

/* True if the file starts like a bzImage: the setup header's "HdrS" is there. */
bool is_bzimage(const uint8_t *file, size_t size);

/*
 * Locates the payload and recognises its compression. Returns 0, or -EINVAL
 * with a reason in why (truncated header, old protocol, payload outside the
 * file, unknown compression).
 */
int __must_check bzimage_find_payload(const uint8_t *file, size_t size,
                                      struct bzimage_payload *out, char *why,
                                      size_t why_size);

/*
 * If opts->kernel is a bzImage, unpacks its vmlinux into a new temporary file,
 * named in temp (the caller removes it), and points opts->kernel there;
 * opts->kernel_name keeps the original. Anything else is left alone. Returns
 * 0, WISP_EXIT_USAGE (a bad bzImage or a missing decompressor, said on
 * stderr), WISP_EXIT_INFRA or WISP_EXIT_INTERRUPTED.
 */
enum wisp_exit __must_check unpack_bzimage(struct run_options *opts, char *temp,
                                           size_t temp_size);

#endif
