/* errno.h for PVH guests (guest): the errors pure modules (pvh/) return, as Xen numbers them. */
#ifndef WISP_GUEST_ERRNO_H
#define WISP_GUEST_ERRNO_H

#include "xen/errno.h"

#define E2BIG   XEN_E2BIG
#define EINVAL  XEN_EINVAL
#define ENOEXEC XEN_ENOEXEC
#define ENOMEM  XEN_ENOMEM

#endif
