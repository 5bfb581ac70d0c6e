/* bootconfig.h (hypervisor, pure): the text boot configuration naming boot-time domains. */
#ifndef WISP_BOOTCONFIG_H
#define WISP_BOOTCONFIG_H

#include "env.h"
#include "wisp/control.h"

#define BOOTCFG_MAX_DOMAINS   8
#define BOOTCFG_NAME_MAX      32
#define BOOTCFG_MODULE_MAX    64
#define BOOTCFG_CMDLINE_MAX   2048    /* Linux takes 2047 characters plus the NUL */
#define BOOTCFG_MAX_VCPUS     8
#define BOOTCFG_MIN_MEMORY_MIB 2
#define BOOTCFG_MAX_MEMORY_MIB (64 * 1024)
/* Grant table sizes, as Xen's xl.cfg max_grant_frames / max_maptrack_frames. */
#define BOOTCFG_DEFAULT_GRANT_FRAMES    64
#define BOOTCFG_MAX_GRANT_FRAMES        1024
#define BOOTCFG_DEFAULT_MAPTRACK_FRAMES 1024
#define BOOTCFG_MAX_MAPTRACK_FRAMES     4096
#define BOOTCFG_ROLES (WISP_ROLE_XENSTORE | WISP_ROLE_CONTROL | WISP_ROLE_BACKEND)
/* Devices (xl.cfg's disk and vif lists), served by the one backend domain. */
/* Scheduling (docs/smp.md): Xen credit2's weight range and default, cap in percent of one
 * pCPU (0: none; up to all of 8 vCPUs), cpus as a bit per pCPU. */
#define BOOTCFG_DEFAULT_WEIGHT WISP_SCHED_DEFAULT_WEIGHT
#define BOOTCFG_MAX_WEIGHT    WISP_SCHED_MAX_WEIGHT
#define BOOTCFG_MAX_CAP       WISP_SCHED_MAX_CAP
_Static_assert(BOOTCFG_MAX_CAP == BOOTCFG_MAX_VCPUS * 100, "a cap may cover every vCPU");
#define BOOTCFG_MAX_PCPU      63
#define BOOTCFG_ALL_PCPUS     (~0ull)

#define BOOTCFG_MAX_DISKS     8
#define BOOTCFG_MAX_VIFS      4
#define BOOTCFG_VDEV_MAX      8       /* "xvdz" and its NUL */

struct disk_config {
    char target[BOOTCFG_MODULE_MAX];    /* module holding the raw image */
    char vdev[BOOTCFG_VDEV_MAX];        /* xvda..xvdz */
    uint32_t devid;                     /* Xen's vbd id for vdev (xvda 51712) */
    bool readonly;                      /* access=ro */
};

struct vif_config {
    uint8_t mac[6];                     /* unicast; default 00:16:3e:00:DD:NN */
    uint16_t handle;                    /* 0, 1, ... in the domain's order */
};

struct domain_config {
    char name[BOOTCFG_NAME_MAX];
    char kernel[BOOTCFG_MODULE_MAX];    /* module name; required */
    char initrd[BOOTCFG_MODULE_MAX];    /* module name; "" = none */
    char cmdline[BOOTCFG_CMDLINE_MAX];  /* guest command line; "" = none */
    uint32_t memory_mib;                /* default 128 */
    uint32_t vcpus;                     /* default 1 */
    uint32_t roles;                     /* WISP_ROLE_* bits; default none */
    bool paused;                        /* starts paused (WISP_CTL_unpause runs it) */
    uint32_t max_grant_frames;          /* default 64, 1..1024 */
    uint32_t max_maptrack_frames;       /* default 1024, 0..4096 */
    uint32_t weight;                    /* relative CPU share; default 256, 1..65535 */
    uint32_t cap;                       /* percent of one pCPU at most; 0 = no cap */
    uint64_t cpus;                      /* bit per pCPU it may run on; default all */
    unsigned nr_disks, nr_vifs;         /* a guest with any: paused is set (the agent unpauses) */
    struct disk_config disks[BOOTCFG_MAX_DISKS];
    struct vif_config vifs[BOOTCFG_MAX_VIFS];
};

struct boot_config {
    unsigned nr_domains;
    struct domain_config domains[BOOTCFG_MAX_DOMAINS];
};

/*
 * Parses the configuration text (see docs/boot-config.md). On error returns a
 * negative errno-style value and writes "line N: what is wrong" into err.
 */
int __must_check bootconfig_parse(const char *text, size_t len, struct boot_config *out,
                                  char *err, size_t err_len);

/* A domain name: 1 to BOOTCFG_NAME_MAX - 1 of [A-Za-z0-9_.-] (also WISP_CTL_domain_create's). */
bool bootcfg_name_valid(const char *name, size_t len);

#endif
