/* builder.h (pure: guests and the service domain's agent): builds a PVH domain through Wisp's control commands (docs/toolstack.md). */
#ifndef WISP_PVH_BUILDER_H
#define WISP_PVH_BUILDER_H

#include "env.h"

/* The caller's way to issue HYPERVISOR_wisp_control(cmd, arg): 0/positive or -XEN_E*. */
struct pvh_control {
    void *ctx;
    long (*call)(void *ctx, unsigned cmd, void *arg);
};

struct pvh_build_request {
    const char *name;
    uint32_t memory_mib, vcpus, weight, cap;    /* weight 0: the default; cap 0: none */
    uint64_t cpus;                              /* pCPU bitmap; 0: any */
    const void *kernel;                         /* a PVH ELF */
    size_t kernel_size;
    const void *initrd;                         /* NULL: none */
    size_t initrd_size;
    const char *cmdline;                        /* NULL: empty */
};

/*
 * As libxenguest does from dom0: domain_create, domain_scrub until done, the
 * ELF loaded (pvh_elf_load) and the start info laid out
 * (pvh_build_start_info) through domain_write, then domain_start. Returns the
 * new, paused domain's id, or a negative Xen errno (-XEN_ENOEXEC for a kernel
 * that is no PVH ELF) with *why saying what failed; a domain made before the
 * failure is destroyed again.
 */
long pvh_build_domain(const struct pvh_control *ctl, const struct pvh_build_request *r,
                      const char **why);

#endif
