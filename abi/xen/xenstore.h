/* xenstore.h (hypervisor, guest, host tool): the xenstore wire protocol and its shared ring page. */
#ifndef WISP_ABI_XEN_XENSTORE_H
#define WISP_ABI_XEN_XENSTORE_H

#include <stdint.h>
#include "abi_check.h"
#include "errno.h"

/*
 * Each message is a struct xsd_sockmsg header followed by `len` payload
 * bytes: NUL-separated strings, e.g. XS_WRITE is "path\0value" (the value
 * unterminated). A reply echoes type and req_id; on failure it is an
 * XS_ERROR whose payload is the errno name ("ENOENT\0"). XS_WATCH_EVENT
 * messages arrive unsolicited with payload "path\0token\0".
 */
enum xsd_sockmsg_type {
    XS_CONTROL              = 0,   /* "debug" commands */
    XS_DIRECTORY            = 1,   /* path -> child names */
    XS_READ                 = 2,   /* path -> value */
    XS_GET_PERMS            = 3,   /* path -> permission strings */
    XS_WATCH                = 4,   /* path, token */
    XS_UNWATCH              = 5,   /* path, token */
    XS_TRANSACTION_START    = 6,   /* "" -> transaction id as decimal */
    XS_TRANSACTION_END      = 7,   /* "T" commit / "F" abort; EAGAIN on conflict */
    XS_INTRODUCE            = 8,   /* privileged */
    XS_RELEASE              = 9,   /* privileged */
    XS_GET_DOMAIN_PATH      = 10,  /* domid -> "/local/domain/<domid>" */
    XS_WRITE                = 11,  /* path, value */
    XS_MKDIR                = 12,  /* path */
    XS_RM                   = 13,  /* path (recursive) */
    XS_SET_PERMS            = 14,  /* path, permission strings */
    XS_WATCH_EVENT          = 15,  /* server -> client */
    XS_ERROR                = 16,  /* server -> client: errno name */
    XS_IS_DOMAIN_INTRODUCED = 17,  /* privileged */
    XS_RESUME               = 18,  /* privileged */
    XS_SET_TARGET           = 19,  /* privileged */
    /* 20 was XS_RESTRICT, retired */
    XS_RESET_WATCHES        = 21,  /* drop all of the caller's watches */
    XS_DIRECTORY_PART       = 22,  /* path, offset -> generation, names */
    XS_TYPE_COUNT,                 /* one past the last valid type */
    XS_INVALID              = 0xffff
};
#define XS_DEBUG XS_CONTROL

/* Permission strings are a letter then a domid, e.g. "n0", "r5". */
#define XS_PERM_NONE_CHAR   'n'
#define XS_PERM_READ_CHAR   'r'
#define XS_PERM_WRITE_CHAR  'w'
#define XS_PERM_BOTH_CHAR   'b'

/* Payload of watch events: which string is which. */
enum xs_watch_type {
    XS_WATCH_PATH = 0,
    XS_WATCH_TOKEN
};

struct xsd_sockmsg {
    uint32_t type;    /* enum xsd_sockmsg_type */
    uint32_t req_id;  /* chosen by the client, echoed in the reply */
    uint32_t tx_id;   /* transaction, 0 for none */
    uint32_t len;     /* payload bytes that follow, <= XENSTORE_PAYLOAD_MAX */
};

/*
 * The errno names a server may send in XS_ERROR and their numbers,
 * X(name, value), so server and client share one list.
 */
#define XSD_ERROR_LIST(X)          \
    X(EINVAL,    XEN_EINVAL)       \
    X(EACCES,    XEN_EACCES)       \
    X(EEXIST,    XEN_EEXIST)       \
    X(EISDIR,    XEN_EISDIR)       \
    X(ENOENT,    XEN_ENOENT)       \
    X(ENOMEM,    XEN_ENOMEM)       \
    X(ENOSPC,    XEN_ENOSPC)       \
    X(EIO,       XEN_EIO)          \
    X(ENOTEMPTY, XEN_ENOTEMPTY)    \
    X(ENOSYS,    XEN_ENOSYS)       \
    X(EROFS,     XEN_EROFS)        \
    X(EBUSY,     XEN_EBUSY)        \
    X(EAGAIN,    XEN_EAGAIN)       \
    X(EISCONN,   XEN_EISCONN)      \
    X(E2BIG,     XEN_E2BIG)        \
    X(EPERM,     XEN_EPERM)

/* Limits from Xen docs/misc/xenstore.txt. */
#define XENSTORE_PAYLOAD_MAX   4096
#define XENSTORE_ABS_PATH_MAX  3072
#define XENSTORE_REL_PATH_MAX  2048

/*
 * The ring page (HVM_PARAM_STORE_PFN, event channel HVM_PARAM_STORE_EVTCHN):
 * two byte rings with free-running indices, used like the console's.
 */
#define XENSTORE_RING_SIZE 1024
typedef uint32_t XENSTORE_RING_IDX;
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

struct xenstore_domain_interface {
    char req[XENSTORE_RING_SIZE];  /* guest -> server */
    char rsp[XENSTORE_RING_SIZE];  /* server -> guest (replies and watch events) */
    XENSTORE_RING_IDX req_cons;    /* server writes */
    XENSTORE_RING_IDX req_prod;    /* guest writes */
    XENSTORE_RING_IDX rsp_cons;    /* guest writes */
    XENSTORE_RING_IDX rsp_prod;    /* server writes */
    uint32_t server_features;      /* XENSTORE_SERVER_FEATURE_* */
    uint32_t connection;           /* XENSTORE_CONNECTED / XENSTORE_RECONNECT */
    uint32_t error;                /* XENSTORE_ERROR_* */
};

#define XENSTORE_SERVER_FEATURE_RECONNECTION 1  /* `connection` is honoured */
#define XENSTORE_SERVER_FEATURE_ERROR        2  /* `error` is reported */

#define XENSTORE_CONNECTED 0  /* normal operation */
#define XENSTORE_RECONNECT 1  /* guest asks the server to reset the ring */

#define XENSTORE_ERROR_NONE    0
#define XENSTORE_ERROR_COMM    1  /* communication problem */
#define XENSTORE_ERROR_RINGIDX 2  /* indices out of range */
#define XENSTORE_ERROR_PROTO   3  /* protocol violation, e.g. payload too long */

ABI_SIZE(struct xsd_sockmsg, 16);
ABI_OFFSET(struct xsd_sockmsg, req_id, 4);
ABI_OFFSET(struct xsd_sockmsg, tx_id, 8);
ABI_OFFSET(struct xsd_sockmsg, len, 12);
ABI_SIZE(struct xenstore_domain_interface, 2076);
ABI_OFFSET(struct xenstore_domain_interface, rsp, 1024);
ABI_OFFSET(struct xenstore_domain_interface, req_cons, 2048);
ABI_OFFSET(struct xenstore_domain_interface, req_prod, 2052);
ABI_OFFSET(struct xenstore_domain_interface, rsp_cons, 2056);
ABI_OFFSET(struct xenstore_domain_interface, rsp_prod, 2060);
ABI_OFFSET(struct xenstore_domain_interface, server_features, 2064);
ABI_OFFSET(struct xenstore_domain_interface, connection, 2068);
ABI_OFFSET(struct xenstore_domain_interface, error, 2072);

#endif
