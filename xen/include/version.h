/* version.h (hypervisor): Wisp's own version, and the Xen interface version it presents. */
#ifndef WISP_VERSION_H
#define WISP_VERSION_H

#define WISP_VERSION_STRING "0.1.0"

/* Guests see Xen 4.17: Linux applies quirks to majors below 4 (xenbus strict mode). */
#define XEN_COMPAT_MAJOR 4
#define XEN_COMPAT_MINOR 17
#define XEN_COMPAT_EXTRAVERSION ".0-wisp"

#endif
