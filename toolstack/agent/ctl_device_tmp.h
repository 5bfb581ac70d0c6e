/* ctl_device_tmp.h (service-domain tool, host tests): TEMPORARY copy of WISP_CTL_device_list from the issue-10 contract. */
#ifndef WISP_AGENT_CTL_DEVICE_TMP_H
#define WISP_AGENT_CTL_DEVICE_TMP_H

/*
 * TEMPORARY. The helper "hv" adds WISP_CTL_device_list to abi/wisp/control.h
 * on branch i10-hv. Until that is on main, the agent builds against this copy,
 * written from the contract's text (PREAMBLE10.md). When control.h has it,
 * delete this file and include "wisp/control.h" instead (one include in
 * devnodes.h); nothing else names this header.
 */
#include "wisp/control.h"

#ifndef WISP_CTL_device_list
#define WISP_CTL_device_list 6  /* struct wisp_ctl_device_list; control role only */

#define WISP_DEV_DISK 1
#define WISP_DEV_VIF  2

/* One disk or vif of the boot configuration. */
struct wisp_ctl_device {
    uint16_t frontend;          /* the guest's domid */
    uint16_t backend;           /* the service domain's domid */
    uint8_t  kind;              /* WISP_DEV_* */
    uint8_t  readonly;          /* disk: access=ro */
    uint16_t handle;            /* disk: ordinal in its domain; vif: handle */
    uint32_t devid;             /* vbd id (xvda 51712), or the vif handle */
    char     vdev[8];           /* "xvda", NUL-terminated; empty for a vif */
    uint8_t  mac[6];            /* vif */
    uint8_t  pad[2];
    uint64_t pmem_gpa;          /* disk: its region in the backend domain */
    uint64_t pmem_bytes;        /* padded to 2 MiB */
    uint64_t image_bytes;
    char     target[32];        /* the boot module's name */
};

/* IN max_entries, buffer; OUT nr_entries (the contract: "like domain_list's"). */
struct wisp_ctl_device_list {
    uint32_t max_entries;
    uint32_t nr_entries;
    uint64_t buffer;            /* guest-virtual address of max_entries struct wisp_ctl_device */
};
#endif

#endif
