/* sha256.h (toolstack, pure): SHA-256 (FIPS 180-4), to name a file by its content (wisp create's kernel cache). */
#ifndef WISP_PROTOCOL_SHA256_H
#define WISP_PROTOCOL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

/* The digest of data[0, len) as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
