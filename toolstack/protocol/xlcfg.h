/* xlcfg.h (toolstack, pure): the xl.cfg keys `wisp create` understands (docs/toolstack.md). */
#ifndef WISP_PROTOCOL_XLCFG_H
#define WISP_PROTOCOL_XLCFG_H

#include <stddef.h>
#include <stdint.h>

#define XLCFG_NAME_MAX    32        /* as the control hypercall's name, its NUL included */
#define XLCFG_PATH_MAX    256
#define XLCFG_CMDLINE_MAX 1024

#define XLCFG_MAX_DISKS   4
#define XLCFG_MAX_VIFS    4

/* A disk: a raw image file on the host, seen by the guest as vdev. */
struct xl_disk {
    char target[XLCFG_PATH_MAX];
    char vdev[8];                           /* "xvda" .. "xvdz" */
    int readonly;
};

/* A network interface on the service domain's bridge. */
struct xl_vif {
    char mac[18];                           /* "XX:XX:XX:XX:XX:XX"; "": 00:16:3e:00:DOMID:HANDLE */
};

/* What happens when the guest powers off, reboots or crashes (xl's on_*). */
enum xl_action { XL_DESTROY, XL_PRESERVE, XL_RESTART };

struct xl_config {
    char name[XLCFG_NAME_MAX];
    char kernel[XLCFG_PATH_MAX];
    char ramdisk[XLCFG_PATH_MAX];           /* "": none */
    char cmdline[XLCFG_CMDLINE_MAX];        /* cmdline, then extra, space-separated */
    unsigned memory_mib, vcpus;
    unsigned weight, cap;                   /* 0: the hypervisor's default / no cap */
    uint32_t cpus;                          /* pCPU bitmap; 0: any */
    enum xl_action on_poweroff, on_reboot, on_crash;
    struct xl_disk disks[XLCFG_MAX_DISKS];
    struct xl_vif vifs[XLCFG_MAX_VIFS];
    unsigned nr_disks, nr_vifs;
};

/*
 * Parses an xl.cfg file's text: `key = value` lines, values as "strings",
 * 'strings', numbers or [ lists ], `#` comments. Only the keys above (plus
 * type = "pvh", extra, maxmem equal to memory; disk and vif as lists of xl's
 * disk and vif specs); anything else is an error, as is a missing name or kernel. 0, or -1 with a one-line reason ("line 3:
 * unknown key 'foo'") in err.
 */
int xlcfg_parse(const char *text, struct xl_config *out, char *err, size_t err_size);

#endif
