/* guest_access.h (hypervisor, pure): the only way hypervisor code touches guest memory. */
#ifndef WISP_GUEST_ACCESS_H
#define WISP_GUEST_ACCESS_H

#include "guest_walk.h"

/* A domain's memory as the copy routines see it. */
struct guest_mem {
    /*
     * Host pointer to guest-physical [gpa, gpa+len), which never crosses a
     * 4 KiB page; NULL when unmapped, or read-only and `write` is asked.
     */
    void *(*phys)(void *ctx, uint64_t gpa, size_t len, bool write);
    void *ctx;
};

/* All return 0 or -EFAULT; on -EFAULT a partial copy may have happened. */
int __must_check copy_from_guest_phys(const struct guest_mem *m, void *dst, uint64_t gpa, size_t len);
int __must_check copy_to_guest_phys(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);
int __must_check copy_from_guest(const struct guest_mem *m, const struct guest_paging *pg,
                                 void *dst, uint64_t gva, size_t len);
int __must_check copy_to_guest(const struct guest_mem *m, const struct guest_paging *pg,
                               uint64_t gva, const void *src, size_t len);
/* The guest-physical address of gva, for areas the hypervisor writes later (runstate, time). */
int __must_check guest_translate(const struct guest_mem *m, const struct guest_paging *pg,
                                 uint64_t gva, bool write, uint64_t *gpa);
/* Copies a NUL-terminated string of at most max-1 bytes; -EFAULT or -E2BIG. */
int __must_check copy_string_from_guest(const struct guest_mem *m, const struct guest_paging *pg,
                                        char *dst, uint64_t gva, size_t max);

#endif
