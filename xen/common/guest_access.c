/* guest_access.c (hypervisor, pure): bounded copies between hypervisor buffers and guest physical or virtual memory. */
#include "env.h"
#include "errno.h"
#include "guest_access.h"

#define GUEST_PAGE_SIZE 4096ull     /* the granule of guest_mem.phys and of guest paging */
#define LIMIT_32BIT     (1ull << 32)

/* Bytes from addr to the end of its 4 KiB page, at most len. */
static size_t chunk_in_page(uint64_t addr, size_t len)
{
    uint64_t room = GUEST_PAGE_SIZE - (addr & (GUEST_PAGE_SIZE - 1));

    return len < room ? len : (size_t)room;
}

/* True when [addr, addr+len) wraps past 2^64 (an empty range never does). */
static bool range_wraps(uint64_t addr, size_t len)
{
    return len && (uint64_t)len - 1 > UINT64_MAX - addr;
}

/* Copies between buf and guest-physical memory one page at a time. */
static int __must_check copy_phys(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
    uint8_t *p = buf;

    if (range_wraps(gpa, len))
        return -EFAULT;
    while (len) {
        size_t n = chunk_in_page(gpa, len);
        void *host = m->phys(m->ctx, gpa, n, to_guest);

        if (!host)
            return -EFAULT;
        if (to_guest)
            memcpy(host, p, n);
        else
            memcpy(p, host, n);
        p += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int copy_from_guest_phys(const struct guest_mem *m, void *dst, uint64_t gpa, size_t len)
{
    return copy_phys(m, gpa, dst, len, false);
}

int copy_to_guest_phys(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
    /* copy_phys only reads from buf when to_guest is set. */
    return copy_phys(m, gpa, (void *)src, len, true);
}

/* The page-table reader that guest_walk uses: guest-physical reads through m. */
static int read_guest_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    return copy_from_guest_phys(ctx, buf, gpa, len);
}

static struct guest_phys_reader reader_for(const struct guest_mem *m)
{
    /* The reader only reads through m; the cast drops const for the void *ctx. */
    return (struct guest_phys_reader){ .read = read_guest_phys, .ctx = (void *)m };
}

/* Outside long mode linear addresses are 32 bits; refuse ranges that leave them. */
static bool range_fits_mode(const struct guest_paging *pg, uint64_t gva, size_t len)
{
    if (range_wraps(gva, len))
        return false;
    if (pg->mode == GUEST_PAGING_LONG4)
        return true;
    return gva <= LIMIT_32BIT && len <= LIMIT_32BIT - gva;
}

/*
 * Copies between buf and guest-virtual memory, translating each page on its
 * own: virtually contiguous pages may be anywhere physically. Huge lengths
 * simply fail at the first page that does not translate.
 */
static int __must_check copy_virt(const struct guest_mem *m, const struct guest_paging *pg,
                                  uint64_t gva, void *buf, size_t len, bool to_guest)
{
    struct guest_phys_reader rd = reader_for(m);
    uint8_t *p = buf;

    if (!range_fits_mode(pg, gva, len))
        return -EFAULT;
    while (len) {
        size_t n = chunk_in_page(gva, len);
        uint64_t gpa;
        int rc = guest_walk(pg, &rd, gva, to_guest, &gpa);

        if (rc)
            return rc;
        rc = copy_phys(m, gpa, p, n, to_guest);
        if (rc)
            return rc;
        p += n;
        gva += n;
        len -= n;
    }
    return 0;
}

int copy_from_guest(const struct guest_mem *m, const struct guest_paging *pg,
                    void *dst, uint64_t gva, size_t len)
{
    return copy_virt(m, pg, gva, dst, len, false);
}

int copy_to_guest(const struct guest_mem *m, const struct guest_paging *pg,
                  uint64_t gva, const void *src, size_t len)
{
    return copy_virt(m, pg, gva, (void *)src, len, true);
}

/*
 * Copies page by page into dst and looks for the NUL in our copy, never in
 * guest memory, so a guest changing the string meanwhile cannot make the
 * length and the bytes disagree.
 */
int copy_string_from_guest(const struct guest_mem *m, const struct guest_paging *pg,
                           char *dst, uint64_t gva, size_t max)
{
    size_t done = 0;

    if (!max)
        return -E2BIG;
    dst[0] = '\0';
    while (done < max) {
        size_t n = chunk_in_page(gva, max - done);
        int rc = copy_from_guest(m, pg, dst + done, gva, n);

        if (rc) {
            dst[done] = '\0';
            return rc;
        }
        size_t len = strnlen(dst + done, n);
        if (len < n)
            return 0;
        done += n;
        if (done < max && n > UINT64_MAX - gva) {
            dst[done] = '\0';  /* the string would run past the top of the address space */
            return -EFAULT;
        }
        gva += n;
    }
    dst[max - 1] = '\0';
    return -E2BIG;
}

int guest_translate(const struct guest_mem *m, const struct guest_paging *pg, uint64_t gva,
                    bool write, uint64_t *gpa)
{
    struct guest_phys_reader rd = reader_for(m);

    if (!range_fits_mode(pg, gva, 1))
        return -EFAULT;
    return guest_walk(pg, &rd, gva, write, gpa);
}
