/* ring.h (hypervisor, guest): layout of the shared request/response rings used by blkif, netif and friends. */
#ifndef WISP_ABI_XEN_RING_H
#define WISP_ABI_XEN_RING_H

#include <stdint.h>
#include "abi_check.h"

/*
 * A shared ring is one (or 2^n) granted pages: a 64-byte header, then an
 * array of slots, each a union of one request and one response. Indices
 * are free-running 32-bit counters; slot = index & (nr_ents - 1), so
 * nr_ents is the largest power of two that fits.
 *
 * Front end: writes requests, then publishes req_prod; reads responses up
 * to rsp_prod and sets rsp_event = "wake me when rsp_prod passes this".
 * Back end: the mirror image with req_event. After publishing a producer
 * index the writer notifies the peer only when the new batch crossed the
 * peer's event index (see xen_ring_should_notify). Barriers are the
 * caller's job: this header is layout and arithmetic only.
 *
 * The layout matches Xen's io/ring.h byte for byte (it is the wire format);
 * the helpers are ours. One visible difference: ring[] is a flexible array
 * here (Xen declares ring[1]), so sizeof(struct x_sring) is just the header.
 */
typedef unsigned int RING_IDX;

/* Bytes before ring[] in every shared ring page. */
#define XEN_SRING_HEADER_SIZE 64

/* The largest power of two <= n, for 1 <= n < 2^16 (a compile-time constant). */
#define XEN_RING_POW2_FLOOR(n)                                             \
    ((n) >= 32768 ? 32768 : (n) >= 16384 ? 16384 : (n) >= 8192 ? 8192 :    \
     (n) >= 4096 ? 4096 : (n) >= 2048 ? 2048 : (n) >= 1024 ? 1024 :        \
     (n) >= 512 ? 512 : (n) >= 256 ? 256 : (n) >= 128 ? 128 :              \
     (n) >= 64 ? 64 : (n) >= 32 ? 32 : (n) >= 16 ? 16 : (n) >= 8 ? 8 :     \
     (n) >= 4 ? 4 : (n) >= 2 ? 2 : 1)

/* Slots in a ring of `bytes` bytes whose union entry is `entry_size` bytes. */
#define XEN_RING_NR_ENTS(bytes, entry_size) \
    XEN_RING_POW2_FLOOR(((bytes) - XEN_SRING_HEADER_SIZE) / (entry_size))

/*
 * DEFINE_RING_TYPES(name, req_t, rsp_t) declares, as Xen's macro does:
 *   union name_sring_entry   one slot;
 *   struct name_sring        the shared page (header + slots);
 *   struct name_front_ring   the front end's private cursor;
 *   struct name_back_ring    the back end's private cursor;
 * and the matching _t typedefs.
 */
#define DEFINE_RING_TYPES(name, req_t, rsp_t)                              \
    union name##_sring_entry {                                             \
        req_t req;                                                         \
        rsp_t rsp;                                                         \
    };                                                                     \
    struct name##_sring {                                                  \
        RING_IDX req_prod;   /* written by the front end */                \
        RING_IDX req_event;  /* written by the back end */                 \
        RING_IDX rsp_prod;   /* written by the back end */                 \
        RING_IDX rsp_event;  /* written by the front end */                \
        union {                                                            \
            struct { uint8_t smartpoll_active; } netif;                    \
            struct { uint8_t msg; } tapif_user;                            \
            uint8_t pvt_pad[4];                                            \
        } pvt;               /* per-protocol flags, else zero */           \
        uint8_t pad[44];     /* zero */                                    \
        union name##_sring_entry ring[];                                   \
    };                                                                     \
    struct name##_front_ring {                                             \
        RING_IDX req_prod_pvt;  /* requests written, not yet published */ \
        RING_IDX rsp_cons;      /* responses consumed */                   \
        unsigned int nr_ents;                                              \
        struct name##_sring *sring;                                        \
    };                                                                     \
    struct name##_back_ring {                                              \
        RING_IDX rsp_prod_pvt;  /* responses written, not yet published */\
        RING_IDX req_cons;      /* requests consumed */                    \
        unsigned int nr_ents;                                              \
        struct name##_sring *sring;                                        \
    };                                                                     \
    typedef struct name##_sring name##_sring_t;                            \
    typedef struct name##_front_ring name##_front_ring_t;                  \
    typedef struct name##_back_ring name##_back_ring_t

/* Initial shared header: nothing produced, both sides want the first event. */
#define SHARED_RING_INIT(s) do {                                           \
    (s)->req_prod = 0;                                                     \
    (s)->rsp_prod = 0;                                                     \
    (s)->req_event = 1;                                                    \
    (s)->rsp_event = 1;                                                    \
    for (unsigned int i_ = 0; i_ < sizeof((s)->pvt.pvt_pad); i_++)         \
        (s)->pvt.pvt_pad[i_] = 0;                                          \
    for (unsigned int i_ = 0; i_ < sizeof((s)->pad); i_++)                 \
        (s)->pad[i_] = 0;                                                  \
} while (0)

/*
 * After moving a producer index from old_prod to new_prod, the peer needs an
 * event iff its event index lies in (old_prod, new_prod], computed modulo
 * 2^32 so wrap-around is harmless.
 */
static inline int xen_ring_should_notify(RING_IDX old_prod, RING_IDX new_prod,
                                         RING_IDX event)
{
    return (RING_IDX)(new_prod - event) < (RING_IDX)(new_prod - old_prod);
}

/*
 * Back end: requests it may safely consume. A front end that publishes more
 * than nr_ents beyond our responses is lying, so clamp to what can exist.
 */
static inline RING_IDX xen_ring_unconsumed_requests(RING_IDX req_prod, RING_IDX req_cons,
                                                    RING_IDX rsp_prod_pvt,
                                                    unsigned int nr_ents)
{
    RING_IDX published = req_prod - req_cons;
    RING_IDX room = nr_ents - (req_cons - rsp_prod_pvt);

    return published < room ? published : room;
}

/* The common header, checked once on a sample instantiation. */
DEFINE_RING_TYPES(xen_ring_layout_check, uint64_t, uint64_t);
ABI_OFFSET(struct xen_ring_layout_check_sring, req_prod, 0);
ABI_OFFSET(struct xen_ring_layout_check_sring, req_event, 4);
ABI_OFFSET(struct xen_ring_layout_check_sring, rsp_prod, 8);
ABI_OFFSET(struct xen_ring_layout_check_sring, rsp_event, 12);
ABI_OFFSET(struct xen_ring_layout_check_sring, pvt, 16);
ABI_OFFSET(struct xen_ring_layout_check_sring, pad, 20);
ABI_OFFSET(struct xen_ring_layout_check_sring, ring, XEN_SRING_HEADER_SIZE);
_Static_assert(XEN_RING_NR_ENTS(4096, 112) == 32, "ring slot count (blkif)");
_Static_assert(XEN_RING_NR_ENTS(4096, 12) == 256, "ring slot count (netif tx)");

#endif
