/* errno.h (hypervisor, guest): error values returned by hypercalls, negated, as XEN_E*. */
#ifndef WISP_ABI_XEN_ERRNO_H
#define WISP_ABI_XEN_ERRNO_H

/*
 * A hypercall returns 0 (or a count) on success and -XEN_Exxx on failure.
 * The numbers are Linux's x86 errno values, which is why the hypervisor's
 * own xen/include/errno.h can use the same numbers without translation.
 * EINTR (4) and ERESTART (85) are internal to Xen and never reach a guest.
 */
#define XEN_EPERM          1   /* operation not permitted */
#define XEN_ENOENT         2   /* no such object */
#define XEN_ESRCH          3   /* no such domain or vCPU */
#define XEN_EIO            5   /* I/O error */
#define XEN_ENXIO          6   /* no such device or address */
#define XEN_E2BIG          7   /* argument list too long */
#define XEN_ENOEXEC        8   /* exec format error */
#define XEN_EBADF          9   /* bad file/port number */
#define XEN_ECHILD        10
#define XEN_EAGAIN        11   /* try again */
#define XEN_EWOULDBLOCK   XEN_EAGAIN
#define XEN_ENOMEM        12   /* out of memory */
#define XEN_EACCES        13   /* permission denied */
#define XEN_EFAULT        14   /* bad guest address */
#define XEN_EBUSY         16   /* resource busy */
#define XEN_EEXIST        17   /* already exists */
#define XEN_EXDEV         18   /* cross-device link */
#define XEN_ENODEV        19   /* no such device */
#define XEN_ENOTDIR       20
#define XEN_EISDIR        21
#define XEN_EINVAL        22   /* invalid argument */
#define XEN_ENFILE        23
#define XEN_EMFILE        24
#define XEN_ENOSPC        28   /* no space left (e.g. no free port) */
#define XEN_EROFS         30
#define XEN_EMLINK        31
#define XEN_EDOM          33
#define XEN_ERANGE        34   /* result out of range */
#define XEN_EDEADLK       35
#define XEN_EDEADLOCK     XEN_EDEADLK
#define XEN_ENAMETOOLONG  36
#define XEN_ENOLCK        37
#define XEN_ENOSYS        38   /* hypercall or sub-op not implemented */
#define XEN_ENOTEMPTY     39
#define XEN_ENODATA       61
#define XEN_ETIME         62
#define XEN_EBADMSG       74
#define XEN_EOVERFLOW     75
#define XEN_EILSEQ        84
#define XEN_ENOTSOCK      88
#define XEN_EMSGSIZE      90
#define XEN_EOPNOTSUPP    95   /* operation not supported */
#define XEN_EADDRINUSE    98
#define XEN_EADDRNOTAVAIL 99
#define XEN_ENOBUFS      105
#define XEN_EISCONN      106
#define XEN_ENOTCONN     107
#define XEN_ETIMEDOUT    110
#define XEN_ECONNREFUSED 111

#endif
