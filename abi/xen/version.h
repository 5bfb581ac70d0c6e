/* version.h (hypervisor, guest): __HYPERVISOR_xen_version(cmd, arg) sub-ops. */
#ifndef WISP_ABI_XEN_VERSION_H
#define WISP_ABI_XEN_VERSION_H

#include "xen.h"
#include "features.h"

/* version: arg NULL; returns (major << 16) | minor. */
#define XENVER_version              0

/* extraversion: OUT xen_extraversion_t, NUL-terminated (e.g. ".0-wisp"). */
#define XENVER_extraversion         1
typedef char xen_extraversion_t[16];
#define XEN_EXTRAVERSION_LEN (sizeof(xen_extraversion_t))

/* compile_info: OUT struct xen_compile_info, all strings NUL-terminated. */
#define XENVER_compile_info         2
struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};
typedef struct xen_compile_info xen_compile_info_t;

/* capabilities: OUT space-separated guest types, e.g. "hvm-3.0-x86_64". */
#define XENVER_capabilities         3
typedef char xen_capabilities_info_t[1024];
#define XEN_CAPABILITIES_INFO_LEN (sizeof(xen_capabilities_info_t))

/* changeset: OUT source revision string. */
#define XENVER_changeset            4
typedef char xen_changeset_info_t[64];
#define XEN_CHANGESET_INFO_LEN (sizeof(xen_changeset_info_t))

/* platform_parameters: OUT virt_start (PV hypervisor hole; 0 for PVH). */
#define XENVER_platform_parameters  5
struct xen_platform_parameters {
    xen_ulong_t virt_start;
};
typedef struct xen_platform_parameters xen_platform_parameters_t;

/* get_features: IN submap_idx; OUT submap = XENFEAT_* bits 32*idx..32*idx+31. */
#define XENVER_get_features         6
struct xen_feature_info {
    unsigned int submap_idx;
    uint32_t     submap;
};
typedef struct xen_feature_info xen_feature_info_t;

/* pagesize: arg NULL; returns the page size (4096). */
#define XENVER_pagesize             7

/* guest_handle: OUT xen_domain_handle_t (the domain's 16-byte UUID). */
#define XENVER_guest_handle         8
typedef uint8_t xen_domain_handle_t[16];

/* commandline: OUT the hypervisor command line (privileged). */
#define XENVER_commandline          9
typedef char xen_commandline_t[1024];

/* build_id: IN len = room in buf; OUT buf; returns bytes written (privileged). */
#define XENVER_build_id            10
struct xen_build_id {
    uint32_t      len;
    unsigned char buf[];
};
typedef struct xen_build_id xen_build_id_t;

ABI_SIZE(xen_extraversion_t, 16);
ABI_SIZE(struct xen_compile_info, 144);
ABI_OFFSET(struct xen_compile_info, compile_by, 64);
ABI_OFFSET(struct xen_compile_info, compile_domain, 80);
ABI_OFFSET(struct xen_compile_info, compile_date, 112);
ABI_SIZE(xen_capabilities_info_t, 1024);
ABI_SIZE(xen_changeset_info_t, 64);
ABI_SIZE(struct xen_feature_info, 8);
ABI_OFFSET(struct xen_feature_info, submap, 4);
ABI_SIZE(struct xen_build_id, 4);
#ifdef __x86_64__
ABI_SIZE(struct xen_platform_parameters, 8);
#endif
#ifdef __i386__
ABI_SIZE(struct xen_platform_parameters, 4);
#endif

#endif
