/* console.h (hypervisor, guest): the per-domain PV console ring page (struct xencons_interface). */
#ifndef WISP_ABI_XEN_CONSOLE_H
#define WISP_ABI_XEN_CONSOLE_H

#include <stdint.h>
#include "abi_check.h"

/*
 * The page named by HVM_PARAM_CONSOLE_PFN, signalled through
 * HVM_PARAM_CONSOLE_EVTCHN. Two byte rings with free-running indices: the
 * producer writes data, then (after a write barrier) advances *_prod; the
 * consumer reads and advances *_cons. Ring offset = index mod ring size,
 * which works because both sizes are powers of two. `out` carries guest
 * output, `in` carries keyboard input to the guest.
 */
typedef uint32_t XENCONS_RING_IDX;

/* Offset in `ring` (an array, not a pointer) for a free-running index. */
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

struct xencons_interface {
    char in[1024];               /* backend produces, guest consumes */
    char out[2048];              /* guest produces, backend consumes */
    XENCONS_RING_IDX in_cons;    /* guest writes */
    XENCONS_RING_IDX in_prod;    /* backend writes */
    XENCONS_RING_IDX out_cons;   /* backend writes */
    XENCONS_RING_IDX out_prod;   /* guest writes */
};

ABI_SIZE(struct xencons_interface, 3088);
ABI_OFFSET(struct xencons_interface, in, 0);
ABI_OFFSET(struct xencons_interface, out, 1024);
ABI_OFFSET(struct xencons_interface, in_cons, 3072);
ABI_OFFSET(struct xencons_interface, in_prod, 3076);
ABI_OFFSET(struct xencons_interface, out_cons, 3080);
ABI_OFFSET(struct xencons_interface, out_prod, 3084);

#endif
