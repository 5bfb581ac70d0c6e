/* lib.c (hypervisor): the few libc string functions the hypervisor and its pure modules use. */
#include "env.h"

/*
 * Eight bytes a step, then the tail: an emulator (QEMU TCG, Bochs) runs each rep
 * iteration on its own, and these copy kernels into domains and zero their RAM.
 */
void *memcpy(void *dst, const void *src, size_t n)
{
    void *ret = dst;
    size_t words = n / 8;

    __asm__ volatile("rep movsq\n\tmov %3, %%rcx\n\trep movsb"
                     : "+D"(dst), "+S"(src), "+c"(words) : "r"(n % 8) : "memory");
    return ret;
}

void *memset(void *dst, int c, size_t n)
{
    void *ret = dst;
    size_t blocks = n / 64;

    /* Whole 64-byte blocks by eight plain stores a loop: under QEMU TCG that is twice as fast
     * as rep stosq (a domain's scrub), and no slower on hardware. Then words, then bytes. */
    __asm__ volatile("test %1, %1\n\tjz 2f\n1:\tmov %%rax, (%0)\n\tmov %%rax, 8(%0)\n\tmov %%rax, 16(%0)\n\t"
                     "mov %%rax, 24(%0)\n\tmov %%rax, 32(%0)\n\tmov %%rax, 40(%0)\n\tmov %%rax, 48(%0)\n\t"
                     "mov %%rax, 56(%0)\n\tadd $64, %0\n\tdec %1\n\tjnz 1b\n2:\tmov %2, %%rcx\n\trep stosq\n\t"
                     "mov %3, %%rcx\n\trep stosb" : "+D"(dst), "+r"(blocks) : "r"(n % 64 / 8), "r"(n % 8),
                     "a"((unsigned char)c * 0x0101010101010101ull) : "rcx", "memory");
    return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
