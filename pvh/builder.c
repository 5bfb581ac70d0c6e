/* builder.c (pure: guests and the service domain's agent): builds a PVH domain through Wisp's control commands (docs/toolstack.md). */
#include "builder.h"
#include "elf.h"
#include "start_info.h"
#include "wisp/control.h"
#include "xen/errno.h"

struct writer {
    const struct pvh_control *ctl;
    uint32_t domid;
    long error;                 /* the first domain_write error */
};

static int write_some(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct writer *w = ctx;

    while (len) {
        size_t n = len < WISP_WRITE_MAX ? len : WISP_WRITE_MAX;
        struct wisp_ctl_domain_write a = { .domid = w->domid, .gpa = gpa,
                                           .buffer = (uint64_t)(uintptr_t)src, .bytes = n };
        long rc = w->ctl->call(w->ctl->ctx, WISP_CTL_domain_write, &a);

        if (rc) {
            w->error = w->error ? w->error : rc;
            return -1;
        }
        gpa += n;
        src = (const uint8_t *)src + n;
        len -= n;
    }
    return 0;
}

/* Scrubbed RAM is zero already; written anyway, so the range is checked like any other. */
static int write_zeros(void *ctx, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[4096];

    while (len) {
        size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

        if (write_some(ctx, gpa, zeros, n))
            return -1;
        gpa += n;
        len -= n;
    }
    return 0;
}

static long create(const struct pvh_control *ctl, const struct pvh_build_request *r,
                   struct wisp_ctl_domain_create *a)
{
    *a = (struct wisp_ctl_domain_create){ .memory_mib = r->memory_mib, .vcpus = r->vcpus,
                                          .weight = r->weight, .cap = r->cap, .cpus = r->cpus };
    for (unsigned i = 0; r->name[i] && i < sizeof(a->name) - 1; i++)
        a->name[i] = r->name[i];
    return ctl->call(ctl->ctx, WISP_CTL_domain_create, a);
}

static long scrub(const struct pvh_control *ctl, uint32_t domid)
{
    struct wisp_ctl_domain d = { .domid = domid };
    long rc;

    while ((rc = ctl->call(ctl->ctx, WISP_CTL_domain_scrub, &d)) == 1)
        ;
    return rc;
}

/* The kernel and start info into the scrubbed domain, then its start; 0 or an error. */
static long load_and_start(struct writer *w, const struct wisp_ctl_domain_create *a,
                           const struct pvh_build_request *r, const char **why)
{
    static struct pvh_reserved_range reserved[WISP_CREATE_MAX_RESERVED];
    const struct pvh_writer pw = { w, write_some, write_zeros };
    struct pvh_image img;
    struct pvh_boot_layout layout;

    if (pvh_elf_parse(r->kernel, r->kernel_size, &img, why))
        return -XEN_ENOEXEC;
    if (pvh_elf_load(r->kernel, r->kernel_size, &img, &pw)) {
        *why = "loading the kernel";
        return w->error ? w->error : -XEN_ENOMEM;
    }
    for (unsigned i = 0; i < a->nr_reserved && i < WISP_CREATE_MAX_RESERVED; i++)
        reserved[i] = (struct pvh_reserved_range){ a->reserved[i].start, a->reserved[i].size,
                                                   a->reserved[i].type };
    struct pvh_boot_config boot = {
        .ram_size = a->ram_bytes, .image_lo = img.lo, .image_hi = img.hi,
        .initrd = r->initrd, .initrd_size = r->initrd ? r->initrd_size : 0,
        .cmdline = r->cmdline, .reserved = reserved, .nr_reserved = a->nr_reserved,
        .rsdp_paddr = a->rsdp_paddr };
    if (pvh_build_start_info(&boot, &pw, &layout, why))
        return w->error ? w->error : -XEN_ENOMEM;
    struct wisp_ctl_domain_start st = { .domid = a->domid, .entry = img.entry,
                                        .start_info = layout.start_info };
    *why = "domain_start";
    return w->ctl->call(w->ctl->ctx, WISP_CTL_domain_start, &st);
}

long pvh_build_domain(const struct pvh_control *ctl, const struct pvh_build_request *r,
                      const char **why)
{
    struct wisp_ctl_domain_create a;
    struct writer w = { .ctl = ctl };
    long rc;

    *why = "domain_create";
    if ((rc = create(ctl, r, &a)))
        return rc;
    w.domid = a.domid;
    *why = "domain_scrub";
    rc = scrub(ctl, a.domid);
    if (!rc)
        rc = load_and_start(&w, &a, r, why);
    if (rc) {
        struct wisp_ctl_domain d = { .domid = a.domid };

        (void)ctl->call(ctl->ctx, WISP_CTL_destroy, &d);
        return rc;
    }
    return a.domid;
}
