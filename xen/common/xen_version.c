/* xen_version.c (hypervisor): the xen_version hypercall: who we claim to be and what we offer. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "version.h"
#include "xen/features.h"
#include "xen/version.h"

/* Feature submap 0 for a PVH guest (see docs/abi-coverage.md for what each one means). */
#define PVH_FEATURES ((1u << XENFEAT_auto_translated_physmap) | \
                      (1u << XENFEAT_hvm_callback_vector) |     \
                      (1u << XENFEAT_hvm_safe_pvclock))

static long copy_string_out(struct hcall_ctx *c, uint64_t gva, const char *s, size_t field)
{
    char buf[1024] = { 0 };

    memcpy(buf, s, strnlen(s, field - 1));
    return hc_copy_to(c, gva, buf, field) ? -EFAULT : 0;
}

static long get_features(struct hcall_ctx *c, uint64_t gva)
{
    struct xen_feature_info fi;

    if (hc_copy_from(c, &fi, gva, sizeof(fi)))
        return -EFAULT;
    if (fi.submap_idx >= XENFEAT_NR_SUBMAPS)
        return -EINVAL;
    fi.submap = PVH_FEATURES;
    return hc_copy_to(c, gva, &fi, sizeof(fi)) ? -EFAULT : 0;
}

static long compile_info(struct hcall_ctx *c, uint64_t gva)
{
    struct xen_compile_info ci = { 0 };

    memcpy(ci.compiler, "gcc", 3);
    memcpy(ci.compile_by, "wisp", 4);
    memcpy(ci.compile_date, __DATE__, sizeof(__DATE__) - 1);
    return hc_copy_to(c, gva, &ci, sizeof(ci)) ? -EFAULT : 0;
}

long do_xen_version(struct hcall_ctx *c, const uint64_t *arg)
{
    uint64_t gva = arg[1];

    switch (arg[0]) {
    case XENVER_version:
        return (XEN_COMPAT_MAJOR << 16) | XEN_COMPAT_MINOR;
    case XENVER_extraversion:
        return copy_string_out(c, gva, XEN_COMPAT_EXTRAVERSION, XEN_EXTRAVERSION_LEN);
    case XENVER_compile_info:
        return compile_info(c, gva);
    case XENVER_capabilities:
        return copy_string_out(c, gva, "hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p",
                               XEN_CAPABILITIES_INFO_LEN);
    case XENVER_changeset:
        return copy_string_out(c, gva, "wisp-" WISP_VERSION_STRING, XEN_CHANGESET_INFO_LEN);
    case XENVER_get_features:
        return get_features(c, gva);
    case XENVER_pagesize:
        return PAGE_SIZE;
    case XENVER_commandline:        /* the hypervisor's command line is not a guest's business */
        return -EPERM;
    default:
        return -ENOSYS;
    }
}
