/* control.h (hypervisor, guest): Wisp's own control hypercall, for domains with the control or xenstore role. */
#ifndef WISP_ABI_WISP_CONTROL_H
#define WISP_ABI_WISP_CONTROL_H

#include "xen/xen.h"

/*
 * __HYPERVISOR_wisp_control(cmd, arg): arg is the guest-virtual address of
 * the struct named per command. Xen reserves hypercalls 48..55 for
 * architecture use; x86 Xen uses 48 and 49, so a Xen guest never issues 55.
 * Every command returns 0 or -XEN_E*: -XEN_EPERM when the caller lacks the
 * role the command needs, -XEN_EFAULT for an unreadable argument, -XEN_ESRCH
 * for a domain id that names no domain, -XEN_EINVAL for anything else bad,
 * -XEN_ENOSYS for an unknown command.
 *
 * Roles come from the boot configuration (docs/boot-config.md):
 *   WISP_ROLE_XENSTORE  domain_list
 *   WISP_ROLE_CONTROL   every command (device_list: control only)
 */
#define __HYPERVISOR_wisp_control 55

#define WISP_CONTROL_VERSION 1  /* WISP_CTL_version returns this */

#define WISP_CTL_version              0  /* arg unused; returns WISP_CONTROL_VERSION (any role) */
#define WISP_CTL_domain_list          1  /* struct wisp_ctl_domain_list */
#define WISP_CTL_pause                2  /* struct wisp_ctl_domain */
#define WISP_CTL_unpause              3  /* struct wisp_ctl_domain */
#define WISP_CTL_destroy              4  /* struct wisp_ctl_domain */
#define WISP_CTL_evtchn_alloc_unbound 5  /* struct wisp_ctl_evtchn_alloc_unbound */
#define WISP_CTL_device_list          6  /* struct wisp_ctl_device_list */
#define WISP_CTL_sched_get            7  /* struct wisp_ctl_sched */
#define WISP_CTL_sched_set            8  /* struct wisp_ctl_sched */
#define WISP_CTL_domain_stats         9  /* struct wisp_ctl_domain_stats */
#define WISP_CTL_domain_create       10  /* struct wisp_ctl_domain_create */
#define WISP_CTL_domain_scrub        11  /* struct wisp_ctl_domain */
#define WISP_CTL_domain_write        12  /* struct wisp_ctl_domain_write */
#define WISP_CTL_domain_start        13  /* struct wisp_ctl_domain_start */
#define WISP_CTL_host_read           14  /* struct wisp_ctl_host_io */
#define WISP_CTL_host_write          15  /* struct wisp_ctl_host_io */
#define WISP_CTL_console_input       16  /* struct wisp_ctl_console_input */

/* A domain's rights (bits of wisp_domain_info.roles). */
#define WISP_ROLE_XENSTORE  (1u << 0)  /* serves xenstore: maps store rings, gets VIRQ_DOM_EXC */
#define WISP_ROLE_CONTROL   (1u << 1)  /* uses this hypercall; privileged in xenstore */
#define WISP_ROLE_BACKEND   (1u << 2)  /* runs device backends (no extra hypervisor rights) */

/* wisp_domain_info.state */
#define WISP_DOMSTATE_RUNNING   0  /* may run (its vCPUs may be blocked) */
#define WISP_DOMSTATE_PAUSED    1  /* paused by WISP_CTL_pause or started paused */
#define WISP_DOMSTATE_SHUTDOWN  2  /* shut down; shutdown_reason says why (SHUTDOWN_*) */
#define WISP_DOMSTATE_DYING     3  /* being destroyed; memory waits for foreign mappings to go */
#define WISP_DOMSTATE_BUILDING  4  /* made by domain_create, not yet domain_start'ed */

struct wisp_domain_info {
    uint32_t domid;
    uint32_t state;             /* WISP_DOMSTATE_* */
    uint32_t shutdown_reason;   /* SHUTDOWN_*, valid in state SHUTDOWN */
    uint32_t roles;             /* WISP_ROLE_* */
    uint32_t nr_vcpus;
    uint32_t store_evtchn;      /* its HVM_PARAM_STORE_EVTCHN: unbound, remote = the xenstore domain */
    uint64_t store_gfn;         /* its HVM_PARAM_STORE_PFN (grant ref 1 also names it) */
    uint64_t tot_pages;         /* RAM pages populated now */
    uint64_t max_pages;         /* RAM pages at build */
    char     name[32];          /* NUL-terminated */
};
ABI_SIZE(struct wisp_domain_info, 80);
ABI_OFFSET(struct wisp_domain_info, store_gfn, 24);
ABI_OFFSET(struct wisp_domain_info, name, 48);

/*
 * domain_list: IN first_domid, max_entries, buffer (guest-virtual address of
 * max_entries struct wisp_domain_info); OUT nr_entries: how many were written,
 * for the domains with id >= first_domid in increasing id order. Dying
 * domains are listed until they are gone. free_frames: OUT only (what comes
 * in is ignored, so a caller may reuse the struct): the 4 KiB frames the
 * hypervisor's allocator has free (xl info's free_memory).
 */
struct wisp_ctl_domain_list {
    uint32_t first_domid;
    uint32_t max_entries;
    uint64_t buffer;
    uint32_t nr_entries;
    uint32_t free_frames;
};
ABI_SIZE(struct wisp_ctl_domain_list, 24);

/*
 * pause, unpause, destroy: IN domid. A domain may not name itself
 * (-XEN_EINVAL). pause of a paused domain and unpause of a running one are
 * no-ops. destroy ends the domain at once: its peers' interdomain ports
 * become unbound, its grant mappings of other domains are undone, and its
 * memory returns to the allocator once no other domain maps it.
 */
struct wisp_ctl_domain {
    uint32_t domid;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_domain, 8);

/*
 * evtchn_alloc_unbound: as EVTCHNOP_alloc_unbound, but in domain dom: IN dom,
 * remote_dom; OUT port (in dom, offered to remote_dom).
 */
struct wisp_ctl_evtchn_alloc_unbound {
    uint32_t dom;
    uint32_t remote_dom;
    uint32_t port;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_evtchn_alloc_unbound, 16);

/* wisp_ctl_device.kind */
#define WISP_DEV_DISK 1
#define WISP_DEV_VIF  2

/*
 * A device of the boot configuration (docs/boot-config.md), as configured:
 * listed whether or not its domains still run. Strings are NUL-terminated.
 */
struct wisp_ctl_device {
    uint16_t frontend;          /* domid of the domain that has the device */
    uint16_t backend;           /* domid of the backend (service) domain */
    uint8_t  kind;              /* WISP_DEV_* */
    uint8_t  readonly;          /* disk: access=ro */
    uint16_t handle;            /* disk: ordinal among its domain's disks; vif: its handle */
    uint32_t devid;             /* disk: Xen's vbd id of vdev (xvda 51712); vif: its handle */
    char     vdev[8];           /* disk: "xvda".."xvdz" */
    uint8_t  mac[6];            /* vif */
    uint8_t  pad[6];
    uint64_t pmem_gpa;          /* disk: where the image starts in the backend (legacy pmem) */
    uint64_t pmem_bytes;        /* disk: the region's size, a multiple of 2 MiB (zero-padded) */
    uint64_t image_bytes;       /* disk: the image module's size */
    char     target[64];        /* disk: the image module's name */
};
ABI_SIZE(struct wisp_ctl_device, 120);
ABI_OFFSET(struct wisp_ctl_device, devid, 8);
ABI_OFFSET(struct wisp_ctl_device, vdev, 12);
ABI_OFFSET(struct wisp_ctl_device, mac, 20);
ABI_OFFSET(struct wisp_ctl_device, pmem_gpa, 32);
ABI_OFFSET(struct wisp_ctl_device, target, 56);

/*
 * device_list (control role): IN first (index of the first device wanted),
 * max_entries, buffer (guest-virtual address of max_entries struct
 * wisp_ctl_device); OUT nr_entries written, nr_devices configured. Devices
 * come in configuration order: domain by domain, disks before vifs.
 */
struct wisp_ctl_device_list {
    uint32_t first;
    uint32_t max_entries;
    uint64_t buffer;
    uint32_t nr_entries;
    uint32_t nr_devices;
};
ABI_SIZE(struct wisp_ctl_device_list, 24);

/*
 * sched_get, sched_set (control role): a domain's CPU share, as Xen credit2's
 * weight and cap (docs/smp.md). IN domid (DOMID_SELF: the caller); get: OUT
 * weight and cap; set: IN weight (1..WISP_SCHED_MAX_WEIGHT, relative to the
 * other domains on its pCPUs) and cap (percent of one pCPU its vCPUs may run
 * together, 0..WISP_SCHED_MAX_CAP, 0: none), in effect at once. A shut-down
 * or dying domain's share cannot be set (-XEN_EINVAL).
 */
#define WISP_SCHED_DEFAULT_WEIGHT 256
#define WISP_SCHED_MAX_WEIGHT     65535
#define WISP_SCHED_MAX_CAP        800     /* all of 8 vCPUs */
struct wisp_ctl_sched {
    uint32_t domid;
    uint32_t weight;
    uint32_t cap;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_sched, 16);

/*
 * Building a domain at run time (control role; docs/toolstack.md). The
 * caller is the builder: it loads the kernel, initrd, command line and
 * hvm_start_info into the new domain's RAM with domain_write, as Xen's
 * libxenguest does from dom0, and the hypervisor keeps only what the domain
 * needs to exist:
 *
 *   domain_create  a domain in state BUILDING: its RAM (not yet scrubbed),
 *                  its vCPUs (none started), event channels, grant table,
 *                  console and store rings and ACPI tables. OUT its id and
 *                  what the builder needs for the memory map it writes.
 *   domain_scrub   zeroes the next WISP_SCRUB_CHUNK of its RAM; returns 1
 *                  while more remains, 0 once all is zero. Bounded work per
 *                  call: the caller loops.
 *   domain_write   copies bytes from the caller into its RAM (scrubbed
 *                  domains only; at most WISP_WRITE_MAX a call).
 *   domain_start   vCPU 0 gets the PVH entry state (EBX = start_info); the
 *                  domain leaves BUILDING for PAUSED: unpause runs it.
 *
 * destroy ends a domain in any of these steps. Every step but create names
 * a BUILDING domain (-XEN_EINVAL otherwise).
 */
#define WISP_SCRUB_CHUNK   (8u << 20)
#define WISP_WRITE_MAX     (1u << 20)
#define WISP_CREATE_MAX_RESERVED 4

/* A guest-physical range the memory map must not give as RAM. */
struct wisp_ctl_range {
    uint64_t start;
    uint64_t size;
    uint32_t type;              /* XEN_HVM_MEMMAP_TYPE_* */
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_range, 24);

/*
 * domain_create: IN name (NUL-terminated, not empty, printable), memory_mib
 * (2..65536), vcpus (1..8), weight (0: default, else 1..65535), cap
 * (0..800), cpus (a bit per pCPU it may run on; 0: all). No roles: a domain
 * made at run time is an ordinary one. OUT domid (the lowest free), and for
 * the builder's memory map (pvh/start_info.h): ram_bytes (RAM is [0,
 * ram_bytes) less the legacy hole [0xA0000, 1 MiB)), rsdp_paddr, and the
 * nr_reserved ranges cut out of RAM or placed above it. Errors: -XEN_EINVAL
 * (a bad argument), -XEN_ENOSPC (no free domain slot), -XEN_ENOMEM (no room:
 * nothing is left behind).
 */
struct wisp_ctl_domain_create {
    char     name[32];
    uint32_t memory_mib;
    uint32_t vcpus;
    uint32_t weight;
    uint32_t cap;
    uint64_t cpus;
    uint32_t domid;
    uint32_t nr_reserved;
    uint64_t ram_bytes;
    uint64_t rsdp_paddr;
    struct wisp_ctl_range reserved[WISP_CREATE_MAX_RESERVED];
};
ABI_SIZE(struct wisp_ctl_domain_create, 176);
ABI_OFFSET(struct wisp_ctl_domain_create, domid, 56);
ABI_OFFSET(struct wisp_ctl_domain_create, reserved, 80);

/*
 * domain_write: IN domid, gpa, buffer (the caller's guest-virtual address),
 * bytes (at most WISP_WRITE_MAX); [gpa, gpa + bytes) must be RAM outside
 * the legacy hole. -XEN_EBUSY while the domain's RAM is not all scrubbed.
 */
struct wisp_ctl_domain_write {
    uint32_t domid;
    uint32_t pad;
    uint64_t gpa;
    uint64_t buffer;
    uint64_t bytes;
};
ABI_SIZE(struct wisp_ctl_domain_write, 32);

/*
 * domain_start: IN domid, entry (the PVH entry point, 32-bit flat protected
 * mode as XEN_ELFNOTE_PHYS32_ENTRY says) and start_info (where the builder
 * put hvm_start_info), both in RAM below 4 GiB. -XEN_EBUSY while not all
 * scrubbed.
 */
struct wisp_ctl_domain_start {
    uint32_t domid;
    uint32_t pad;
    uint64_t entry;
    uint64_t start_info;
};
ABI_SIZE(struct wisp_ctl_domain_start, 24);

/*
 * The host channel (docs/host-channel.md): with `host_channel` on the
 * hypervisor command line, the second serial port (COM2) is a byte stream
 * between the machine's host (the `wisp up` daemon) and the control domains.
 * host_read (control role): IN buffer, bytes (1..WISP_HOST_IO_MAX); copies
 * what has come in, at most bytes, and returns how many (0: nothing
 * waiting). host_write (control role): IN buffer, bytes; hands bytes to the
 * port until its transmitter is busy and returns how many it took (0: busy,
 * try again later). Both -XEN_ENODEV without the channel. Bytes arriving
 * while nothing waits raise WISP_VIRQ_HOST_CHANNEL (global: bind it on vCPU
 * 0) in every control domain that bound it. Bytes are neither framed nor
 * checked here: the protocol on top is docs/control-protocol.md.
 */
struct wisp_ctl_host_io {
    uint64_t buffer;            /* guest-virtual address */
    uint32_t bytes;
    uint32_t pad;
};
ABI_SIZE(struct wisp_ctl_host_io, 16);

#define WISP_HOST_IO_MAX        4096

/*
 * console_input (control role): IN domid (another running domain with a
 * console ring), buffer, bytes (1..WISP_CONSOLE_INPUT_MAX); puts as many of
 * the bytes as its console ring's input has room for and returns how many (0:
 * full, try again). What `wisp console` types; the output travels on COM1.
 */
struct wisp_ctl_console_input {
    uint32_t domid;
    uint32_t bytes;
    uint64_t buffer;            /* guest-virtual address */
};
ABI_SIZE(struct wisp_ctl_console_input, 16);

#define WISP_CONSOLE_INPUT_MAX  1024
#define WISP_VIRQ_HOST_CHANNEL  17      /* VIRQ_ARCH_1, unused by Xen on x86 */

/*
 * Exit reasons as domain_stats counts them (docs/control.md names each); new
 * reasons only ever come at the end.
 */
#define WISP_EXIT_CPUID          0
#define WISP_EXIT_MSR_READ       1
#define WISP_EXIT_MSR_WRITE      2
#define WISP_EXIT_HLT            3
#define WISP_EXIT_HYPERCALL      4
#define WISP_EXIT_NPF            5
#define WISP_EXIT_IO             6
#define WISP_EXIT_XSETBV         7
#define WISP_EXIT_CACHE          8
#define WISP_EXIT_RDPMC          9
#define WISP_EXIT_CR_WRITE      10
#define WISP_EXIT_EXCEPTION     11
#define WISP_EXIT_TRIPLE_FAULT  12
#define WISP_EXIT_INTR          13
#define WISP_EXIT_MACHINE_CHECK 14
#define WISP_EXIT_INTR_WINDOW   15
#define WISP_EXIT_PAUSE         16
#define WISP_EXIT_VIRT_INSN     17
#define WISP_EXIT_INVALID_STATE 18
#define WISP_EXIT_UNEXPECTED    19
#define WISP_STATS_EXITS        32      /* room in wisp_ctl_domain_stats.exits */

/* One vCPU's times in ns since its domain was built (Xen's runstate times). */
struct wisp_vcpu_stats {
    uint64_t running_ns;        /* RUNSTATE_running, the run under way included */
    uint64_t runnable_ns;       /* waiting for a pCPU */
    uint64_t blocked_ns;        /* waiting for an event or timer */
    uint64_t offline_ns;        /* down, or paused while it could run */
    uint32_t pcpu;              /* the pCPU it is on */
    uint32_t runstate;          /* RUNSTATE_*: what it does now */
};
ABI_SIZE(struct wisp_vcpu_stats, 40);

/*
 * domain_stats (control role): IN domid (DOMID_SELF: the caller), max_vcpus
 * and vcpus (guest-virtual address of max_vcpus struct wisp_vcpu_stats, or 0
 * with max_vcpus 0); OUT the rest. nr_vcpus is the domain's count; at most
 * min(max_vcpus, nr_vcpus) entries are written. nr_exit_reasons says how many
 * of exits[] this hypervisor counts (WISP_EXIT_*); the rest are 0.
 * events_sent counts its successful EVTCHNOP_send calls (a send to an unbound
 * port is dropped but counted, as it succeeds); events_received counts the
 * times one of its ports became pending, whoever raised it (a peer, itself, a
 * virq), masked or not: a port already pending is not counted again. A dying
 * domain answers too, until it is gone.
 */
struct wisp_ctl_domain_stats {
    uint32_t domid;
    uint32_t max_vcpus;
    uint64_t vcpus;
    uint32_t nr_vcpus;
    uint32_t state;             /* WISP_DOMSTATE_* */
    uint64_t tot_pages;         /* RAM pages populated now */
    uint64_t max_pages;         /* RAM pages at build */
    uint64_t events_sent;
    uint64_t events_received;
    uint64_t vcpu_moves;        /* its vCPUs' moves between pCPUs */
    uint32_t nr_exit_reasons;
    uint32_t pad;
    uint64_t exits[WISP_STATS_EXITS];
};
ABI_SIZE(struct wisp_ctl_domain_stats, 328);
ABI_OFFSET(struct wisp_ctl_domain_stats, exits, 72);

#endif
