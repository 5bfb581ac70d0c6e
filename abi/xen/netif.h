/* netif.h (hypervisor, guest): the PV network device rings (tx and rx requests and responses). */
#ifndef WISP_ABI_XEN_NETIF_H
#define WISP_ABI_XEN_NETIF_H

#include "ring.h"
#include "grant_table.h"

/*
 * Two rings per queue. tx: the front end grants a page holding (part of) a
 * packet and queues a netif_tx_request; a packet spans several slots chained
 * by NETTXF_more_data, the first slot's size being the whole packet length.
 * rx: the front end posts empty granted pages; the back end fills one and
 * answers with a netif_rx_response whose status is the byte count (>= 0)
 * or NETIF_RSP_* (< 0). An extra_info slot follows a request or response
 * that has the *_extra_info flag.
 */

/* A back end must accept packets spread over at least this many tx slots. */
#define XEN_NETIF_NR_SLOTS_MIN 18
#define XEN_NETIF_MAX_TX_SIZE  0xFFFF

/* netif_tx_request.flags */
#define _NETTXF_csum_blank      0
#define NETTXF_csum_blank       (1U << _NETTXF_csum_blank)      /* checksum to be filled in */
#define _NETTXF_data_validated  1
#define NETTXF_data_validated   (1U << _NETTXF_data_validated)  /* checksum already verified */
#define _NETTXF_more_data       2
#define NETTXF_more_data        (1U << _NETTXF_more_data)       /* packet continues in next slot */
#define _NETTXF_extra_info      3
#define NETTXF_extra_info       (1U << _NETTXF_extra_info)      /* a netif_extra_info slot follows */

struct netif_tx_request {
    grant_ref_t gref;    /* page holding the data */
    uint16_t    offset;  /* of the data in that page */
    uint16_t    flags;   /* NETTXF_* */
    uint16_t    id;      /* echoed in the response */
    uint16_t    size;    /* bytes in this slot (whole packet in the first) */
};
typedef struct netif_tx_request netif_tx_request_t;

/* netif_extra_info.type */
#define XEN_NETIF_EXTRA_TYPE_NONE       0  /* never valid */
#define XEN_NETIF_EXTRA_TYPE_GSO        1  /* u.gso */
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD  2  /* u.mcast */
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL  3  /* u.mcast */
#define XEN_NETIF_EXTRA_TYPE_HASH       4  /* u.hash */
#define XEN_NETIF_EXTRA_TYPE_MAX        5
/* netif_extra_info.flags */
#define _XEN_NETIF_EXTRA_FLAG_MORE  0
#define XEN_NETIF_EXTRA_FLAG_MORE   (1U << _XEN_NETIF_EXTRA_FLAG_MORE)  /* another extra follows */
/* netif_extra_info.u.gso.type */
#define XEN_NETIF_GSO_TYPE_NONE   0
#define XEN_NETIF_GSO_TYPE_TCPV4  1
#define XEN_NETIF_GSO_TYPE_TCPV6  2

/* Occupies one slot (request or response) on either ring. */
struct netif_extra_info {
    uint8_t type;   /* XEN_NETIF_EXTRA_TYPE_* */
    uint8_t flags;  /* XEN_NETIF_EXTRA_FLAG_* */
    union {
        struct {
            uint16_t size;      /* maximum segment size */
            uint8_t  type;      /* XEN_NETIF_GSO_TYPE_* */
            uint8_t  pad;
            uint16_t features;  /* zero */
        } gso;
        struct {
            uint8_t addr[6];    /* multicast MAC */
        } mcast;
        struct {
            uint8_t type;       /* which header fields were hashed */
            uint8_t algorithm;
            uint8_t value[4];
        } hash;
        uint16_t pad[3];
    } u;
};
typedef struct netif_extra_info netif_extra_info_t;

struct netif_tx_response {
    uint16_t id;      /* from the request */
    int16_t  status;  /* NETIF_RSP_* */
};
typedef struct netif_tx_response netif_tx_response_t;

struct netif_rx_request {
    uint16_t    id;    /* echoed in the response */
    uint16_t    pad;
    grant_ref_t gref;  /* empty page for the back end to fill */
};
typedef struct netif_rx_request netif_rx_request_t;

/* netif_rx_response.flags */
#define _NETRXF_data_validated  0
#define NETRXF_data_validated   (1U << _NETRXF_data_validated)
#define _NETRXF_csum_blank      1
#define NETRXF_csum_blank       (1U << _NETRXF_csum_blank)
#define _NETRXF_more_data       2
#define NETRXF_more_data        (1U << _NETRXF_more_data)
#define _NETRXF_extra_info      3
#define NETRXF_extra_info       (1U << _NETRXF_extra_info)
#define _NETRXF_gso_prefix      4
#define NETRXF_gso_prefix       (1U << _NETRXF_gso_prefix)

struct netif_rx_response {
    uint16_t id;      /* from the request */
    uint16_t offset;  /* of the data in the page */
    uint16_t flags;   /* NETRXF_* */
    int16_t  status;  /* bytes received, or NETIF_RSP_* if negative */
};
typedef struct netif_rx_response netif_rx_response_t;

DEFINE_RING_TYPES(netif_tx, struct netif_tx_request, struct netif_tx_response);
DEFINE_RING_TYPES(netif_rx, struct netif_rx_request, struct netif_rx_response);

#define NETIF_RSP_DROPPED  (-2)
#define NETIF_RSP_ERROR    (-1)
#define NETIF_RSP_OKAY       0
#define NETIF_RSP_NULL       1  /* tx: padding response for an extra_info slot */

/* Only fixed-width fields: the same for every ABI. */
ABI_SIZE(struct netif_tx_request, 12);
ABI_OFFSET(struct netif_tx_request, offset, 4);
ABI_OFFSET(struct netif_tx_request, flags, 6);
ABI_OFFSET(struct netif_tx_request, id, 8);
ABI_OFFSET(struct netif_tx_request, size, 10);
ABI_SIZE(struct netif_extra_info, 8);
ABI_OFFSET(struct netif_extra_info, flags, 1);
ABI_OFFSET(struct netif_extra_info, u, 2);
ABI_OFFSET(struct netif_extra_info, u.gso.type, 4);
ABI_OFFSET(struct netif_extra_info, u.gso.features, 6);
ABI_SIZE(struct netif_tx_response, 4);
ABI_OFFSET(struct netif_tx_response, status, 2);
ABI_SIZE(struct netif_rx_request, 8);
ABI_OFFSET(struct netif_rx_request, gref, 4);
ABI_SIZE(struct netif_rx_response, 8);
ABI_OFFSET(struct netif_rx_response, offset, 2);
ABI_OFFSET(struct netif_rx_response, flags, 4);
ABI_OFFSET(struct netif_rx_response, status, 6);
ABI_SIZE(union netif_tx_sring_entry, 12);
ABI_SIZE(union netif_rx_sring_entry, 8);

#endif
