/* env.h for the hypervisor: what pure modules (pvh/, parsers, p2m) may use. */
#ifndef WISP_ENV_H
#define WISP_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __must_check __attribute__((warn_unused_result))

/* v rounded up or down to a multiple of a, a power of two. */
static inline uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static inline uint64_t round_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

/* Implemented in xen/common/lib.c. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
