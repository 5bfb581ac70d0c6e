/* blkif.h (hypervisor, guest): the PV block device ring protocol (requests and responses). */
#ifndef WISP_ABI_XEN_BLKIF_H
#define WISP_ABI_XEN_BLKIF_H

#include "ring.h"
#include "grant_table.h"

/*
 * The front end grants data pages and queues requests naming them; the back
 * end does the I/O and answers with the request's id. Sectors are always
 * 512 bytes, whatever the disk's sector size; a segment is part of one
 * granted page, first_sect..last_sect inclusive (0..7).
 *
 * uint64_t fields follow the guest's natural alignment, so 32-bit guests
 * use a smaller request (xenstore protocol "x86_32-abi"): a -m32 compile of
 * this header gives that layout.
 */
typedef uint16_t blkif_vdev_t;    /* device handle */
typedef uint64_t blkif_sector_t;  /* 512-byte sector number */

#define BLKIF_SECTOR_SIZE 512

#define BLKIF_OP_READ             0
#define BLKIF_OP_WRITE            1
#define BLKIF_OP_WRITE_BARRIER    2  /* "feature-barrier" */
#define BLKIF_OP_FLUSH_DISKCACHE  3  /* "feature-flush-cache"; may have no segments */
#define BLKIF_OP_RESERVED_1       4
#define BLKIF_OP_DISCARD          5  /* struct blkif_request_discard, "feature-discard" */
#define BLKIF_OP_INDIRECT         6  /* struct blkif_request_indirect, "feature-max-indirect-segments" */

#define BLKIF_MAX_SEGMENTS_PER_REQUEST        11
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST   8

struct blkif_request_segment {
    grant_ref_t gref;        /* granted data page */
    uint8_t     first_sect;  /* first 512-byte sector in the page */
    uint8_t     last_sect;   /* last one, inclusive */
};

/* Read/write (and barrier/flush). */
struct blkif_request {
    uint8_t        operation;      /* BLKIF_OP_* */
    uint8_t        nr_segments;    /* 1..BLKIF_MAX_SEGMENTS_PER_REQUEST */
    blkif_vdev_t   handle;
    uint64_t       id;             /* opaque, echoed in the response */
    blkif_sector_t sector_number;  /* first disk sector */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
typedef struct blkif_request blkif_request_t;

#define BLKIF_DISCARD_SECURE (1 << 0)  /* honoured only with "discard-secure" */

struct blkif_request_discard {
    uint8_t        operation;      /* BLKIF_OP_DISCARD */
    uint8_t        flag;           /* BLKIF_DISCARD_SECURE or 0 */
    blkif_vdev_t   handle;
    uint64_t       id;
    blkif_sector_t sector_number;
    uint64_t       nr_sectors;
};
typedef struct blkif_request_discard blkif_request_discard_t;

/* Segments live in granted pages of struct blkif_request_segment (512 per page). */
struct blkif_request_indirect {
    uint8_t        operation;      /* BLKIF_OP_INDIRECT */
    uint8_t        indirect_op;    /* BLKIF_OP_READ or BLKIF_OP_WRITE */
    uint16_t       nr_segments;
    uint64_t       id;
    blkif_sector_t sector_number;
    blkif_vdev_t   handle;
    grant_ref_t    indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
#ifdef __i386__
    uint64_t       pad;            /* keeps the i386 request at 64 bytes */
#endif
};
typedef struct blkif_request_indirect blkif_request_indirect_t;

struct blkif_response {
    uint64_t id;         /* from the request */
    uint8_t  operation;  /* from the request */
    int16_t  status;     /* BLKIF_RSP_* */
};
typedef struct blkif_response blkif_response_t;

#define BLKIF_RSP_EOPNOTSUPP  (-2)
#define BLKIF_RSP_ERROR       (-1)
#define BLKIF_RSP_OKAY          0

DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response);

/* xenstore "info" bits of a virtual disk. */
#define VDISK_CDROM      0x1
#define VDISK_REMOVABLE  0x2
#define VDISK_READONLY   0x4

ABI_SIZE(struct blkif_request_segment, 8);
ABI_OFFSET(struct blkif_request_segment, first_sect, 4);
ABI_OFFSET(struct blkif_request_segment, last_sect, 5);

#ifdef __x86_64__
ABI_SIZE(struct blkif_request, 112);
ABI_OFFSET(struct blkif_request, nr_segments, 1);
ABI_OFFSET(struct blkif_request, handle, 2);
ABI_OFFSET(struct blkif_request, id, 8);
ABI_OFFSET(struct blkif_request, sector_number, 16);
ABI_OFFSET(struct blkif_request, seg, 24);
ABI_SIZE(struct blkif_request_discard, 32);
ABI_OFFSET(struct blkif_request_discard, id, 8);
ABI_OFFSET(struct blkif_request_discard, sector_number, 16);
ABI_OFFSET(struct blkif_request_discard, nr_sectors, 24);
ABI_SIZE(struct blkif_request_indirect, 64);
ABI_OFFSET(struct blkif_request_indirect, id, 8);
ABI_OFFSET(struct blkif_request_indirect, sector_number, 16);
ABI_OFFSET(struct blkif_request_indirect, handle, 24);
ABI_OFFSET(struct blkif_request_indirect, indirect_grefs, 28);
ABI_SIZE(struct blkif_response, 16);
ABI_OFFSET(struct blkif_response, operation, 8);
ABI_OFFSET(struct blkif_response, status, 10);
ABI_SIZE(union blkif_sring_entry, 112);
#endif
#ifdef __i386__
ABI_SIZE(struct blkif_request, 108);
ABI_OFFSET(struct blkif_request, id, 4);
ABI_OFFSET(struct blkif_request, sector_number, 12);
ABI_OFFSET(struct blkif_request, seg, 20);
ABI_SIZE(struct blkif_request_discard, 28);
ABI_SIZE(struct blkif_request_indirect, 64);
ABI_OFFSET(struct blkif_request_indirect, indirect_grefs, 24);
ABI_SIZE(struct blkif_response, 12);
#endif

#endif
