/* event_channel.h (hypervisor, guest): __HYPERVISOR_event_channel_op(cmd, arg) sub-ops and their argument structs. */
#ifndef WISP_ABI_XEN_EVENT_CHANNEL_H
#define WISP_ABI_XEN_EVENT_CHANNEL_H

#include "xen.h"

/*
 * An event channel is a numbered port in a domain; signalling it sets the
 * port's pending bit in shared_info and, unless masked, upcalls a vCPU.
 * Every op returns 0 or -XEN_E*. arg points to the struct named per op.
 */
#define EVTCHNOP_bind_interdomain   0  /* struct evtchn_bind_interdomain */
#define EVTCHNOP_bind_virq          1  /* struct evtchn_bind_virq */
#define EVTCHNOP_bind_pirq          2  /* struct evtchn_bind_pirq (no PVH use) */
#define EVTCHNOP_close              3  /* struct evtchn_close */
#define EVTCHNOP_send               4  /* struct evtchn_send */
#define EVTCHNOP_status             5  /* struct evtchn_status */
#define EVTCHNOP_alloc_unbound      6  /* struct evtchn_alloc_unbound */
#define EVTCHNOP_bind_ipi           7  /* struct evtchn_bind_ipi */
#define EVTCHNOP_bind_vcpu          8  /* struct evtchn_bind_vcpu */
#define EVTCHNOP_unmask             9  /* struct evtchn_unmask */
#define EVTCHNOP_reset             10  /* struct evtchn_reset */
#define EVTCHNOP_init_control      11  /* struct evtchn_init_control (FIFO ABI) */
#define EVTCHNOP_expand_array      12  /* struct evtchn_expand_array (FIFO ABI) */
#define EVTCHNOP_set_priority      13  /* struct evtchn_set_priority (FIFO ABI) */
#define EVTCHNOP_reset_cont        14  /* struct evtchn_reset: an EVTCHNOP_reset goes on */

typedef uint32_t evtchn_port_t;
DEFINE_XEN_GUEST_HANDLE(evtchn_port_t);

/* 2-level ABI: one pending bit per port in a word-of-words bitmap. */
#define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)

/* alloc_unbound: IN dom (DOMID_SELF), remote_dom; OUT port, waiting for remote_dom to bind. */
struct evtchn_alloc_unbound {
    domid_t dom;
    domid_t remote_dom;
    evtchn_port_t port;
};
typedef struct evtchn_alloc_unbound evtchn_alloc_unbound_t;

/* bind_interdomain: IN remote_dom, remote_port (an unbound port offered to us); OUT local_port. */
struct evtchn_bind_interdomain {
    domid_t remote_dom;
    evtchn_port_t remote_port;
    evtchn_port_t local_port;
};
typedef struct evtchn_bind_interdomain evtchn_bind_interdomain_t;

/* bind_virq: IN virq (VIRQ_*), vcpu; OUT port. */
struct evtchn_bind_virq {
    uint32_t virq;
    uint32_t vcpu;
    evtchn_port_t port;
};
typedef struct evtchn_bind_virq evtchn_bind_virq_t;

/* bind_pirq: IN pirq, flags; OUT port. Physical IRQs: not offered by Wisp. */
struct evtchn_bind_pirq {
    uint32_t pirq;
#define BIND_PIRQ__WILL_SHARE 1
    uint32_t flags;
    evtchn_port_t port;
};
typedef struct evtchn_bind_pirq evtchn_bind_pirq_t;

/* bind_ipi: IN vcpu to notify; OUT port. */
struct evtchn_bind_ipi {
    uint32_t vcpu;
    evtchn_port_t port;
};
typedef struct evtchn_bind_ipi evtchn_bind_ipi_t;

/* close: IN port; the remote end of an interdomain channel becomes unbound. */
struct evtchn_close {
    evtchn_port_t port;
};
typedef struct evtchn_close evtchn_close_t;

/* send: IN port; signals the other end (or self for IPI/loopback). */
struct evtchn_send {
    evtchn_port_t port;
};
typedef struct evtchn_send evtchn_send_t;

/* status: IN dom, port; OUT status (EVTCHNSTAT_*), vcpu, and u per status. */
struct evtchn_status {
    domid_t dom;
    evtchn_port_t port;
#define EVTCHNSTAT_closed       0
#define EVTCHNSTAT_unbound      1
#define EVTCHNSTAT_interdomain  2
#define EVTCHNSTAT_pirq         3
#define EVTCHNSTAT_virq         4
#define EVTCHNSTAT_ipi          5
    uint32_t status;
    uint32_t vcpu;
    union {
        struct {
            domid_t dom;
        } unbound;
        struct {
            domid_t dom;
            evtchn_port_t port;
        } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;
};
typedef struct evtchn_status evtchn_status_t;

/* bind_vcpu: IN port, vcpu that should receive its upcalls. */
struct evtchn_bind_vcpu {
    evtchn_port_t port;
    uint32_t vcpu;
};
typedef struct evtchn_bind_vcpu evtchn_bind_vcpu_t;

/* unmask: IN port; clears the mask bit and re-raises the upcall if pending. */
struct evtchn_unmask {
    evtchn_port_t port;
};
typedef struct evtchn_unmask evtchn_unmask_t;

/* reset: IN dom (DOMID_SELF); closes every port of the domain and returns it to the 2-level ABI. */
struct evtchn_reset {
    domid_t dom;
};
typedef struct evtchn_reset evtchn_reset_t;

/* init_control: IN control_gfn, offset, vcpu; OUT link_bits. Switches the domain to the FIFO ABI. */
struct evtchn_init_control {
    uint64_t control_gfn;
    uint32_t offset;
    uint32_t vcpu;
    uint8_t link_bits;
    uint8_t _pad[7];
};
typedef struct evtchn_init_control evtchn_init_control_t;

/* expand_array: IN array_gfn, the next page of event words. FIFO ABI. */
struct evtchn_expand_array {
    uint64_t array_gfn;
};
typedef struct evtchn_expand_array evtchn_expand_array_t;

/* set_priority: IN port, priority (0 highest .. 15) for its next events. FIFO ABI. */
struct evtchn_set_priority {
    evtchn_port_t port;
    uint32_t priority;
};
typedef struct evtchn_set_priority evtchn_set_priority_t;

/*
 * FIFO ABI. Each port has a 32-bit event word in guest pages the guest adds
 * with expand_array (1024 words a page, port p at page p / 1024). A pending,
 * unmasked event is linked onto one of 16 queues of its notify vCPU: the
 * hypervisor links it after the queue's tail (the tail word's LINK field) or,
 * when the queue is empty, writes it to head[priority] of that vCPU's control
 * block and sets the priority's bit in ready. The guest unlinks from the head.
 */
#define EVTCHN_FIFO_PRIORITY_MAX     0   /* highest */
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7   /* of a newly bound port */
#define EVTCHN_FIFO_PRIORITY_MIN     15  /* lowest */
#define EVTCHN_FIFO_MAX_QUEUES (EVTCHN_FIFO_PRIORITY_MIN + 1)

typedef uint32_t event_word_t;

/* Bit numbers in an event word. */
#define EVTCHN_FIFO_PENDING 31
#define EVTCHN_FIFO_MASKED  30
#define EVTCHN_FIFO_LINKED  29  /* on a queue; LINK names the next port (0: last) */
#define EVTCHN_FIFO_BUSY    28  /* the hypervisor is changing LINK: the guest must not unmask */

#define EVTCHN_FIFO_LINK_BITS 17
#define EVTCHN_FIFO_LINK_MASK ((1 << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1 << EVTCHN_FIFO_LINK_BITS)

/* Per vCPU, at control_gfn + offset (init_control); 8-byte aligned, within one page. */
struct evtchn_fifo_control_block {
    uint32_t ready;                             /* bit n: queue n may be non-empty */
    uint32_t _rsvd;
    uint32_t head[EVTCHN_FIFO_MAX_QUEUES];      /* first port of each queue; 0: empty */
};
typedef struct evtchn_fifo_control_block evtchn_fifo_control_block_t;

/* The pre-3.2 calling convention (__HYPERVISOR_event_channel_op_compat). */
struct evtchn_op {
    uint32_t cmd;
    union {
        evtchn_alloc_unbound_t    alloc_unbound;
        evtchn_bind_interdomain_t bind_interdomain;
        evtchn_bind_virq_t        bind_virq;
        evtchn_bind_pirq_t        bind_pirq;
        evtchn_bind_ipi_t         bind_ipi;
        evtchn_close_t            close;
        evtchn_send_t             send;
        evtchn_status_t           status;
        evtchn_bind_vcpu_t        bind_vcpu;
        evtchn_unmask_t           unmask;
    } u;
};
typedef struct evtchn_op evtchn_op_t;
DEFINE_XEN_GUEST_HANDLE(evtchn_op_t);

/* Only fixed-width fields: the layout is the same for every ABI. */
ABI_SIZE(struct evtchn_alloc_unbound, 8);
ABI_OFFSET(struct evtchn_alloc_unbound, dom, 0);
ABI_OFFSET(struct evtchn_alloc_unbound, remote_dom, 2);
ABI_OFFSET(struct evtchn_alloc_unbound, port, 4);
ABI_SIZE(struct evtchn_bind_interdomain, 12);
ABI_OFFSET(struct evtchn_bind_interdomain, remote_dom, 0);
ABI_OFFSET(struct evtchn_bind_interdomain, remote_port, 4);
ABI_OFFSET(struct evtchn_bind_interdomain, local_port, 8);
ABI_SIZE(struct evtchn_bind_virq, 12);
ABI_OFFSET(struct evtchn_bind_virq, virq, 0);
ABI_OFFSET(struct evtchn_bind_virq, vcpu, 4);
ABI_OFFSET(struct evtchn_bind_virq, port, 8);
ABI_SIZE(struct evtchn_bind_pirq, 12);
ABI_OFFSET(struct evtchn_bind_pirq, flags, 4);
ABI_OFFSET(struct evtchn_bind_pirq, port, 8);
ABI_SIZE(struct evtchn_bind_ipi, 8);
ABI_OFFSET(struct evtchn_bind_ipi, port, 4);
ABI_SIZE(struct evtchn_close, 4);
ABI_SIZE(struct evtchn_send, 4);
ABI_SIZE(struct evtchn_status, 24);
ABI_OFFSET(struct evtchn_status, dom, 0);
ABI_OFFSET(struct evtchn_status, port, 4);
ABI_OFFSET(struct evtchn_status, status, 8);
ABI_OFFSET(struct evtchn_status, vcpu, 12);
ABI_OFFSET(struct evtchn_status, u, 16);
ABI_OFFSET(struct evtchn_status, u.interdomain.port, 20);
ABI_SIZE(struct evtchn_bind_vcpu, 8);
ABI_OFFSET(struct evtchn_bind_vcpu, vcpu, 4);
ABI_SIZE(struct evtchn_unmask, 4);
ABI_SIZE(struct evtchn_reset, 2);
ABI_OFFSET(struct evtchn_init_control, offset, 8);
ABI_OFFSET(struct evtchn_init_control, vcpu, 12);
ABI_OFFSET(struct evtchn_init_control, link_bits, 16);
ABI_SIZE(struct evtchn_expand_array, 8);
ABI_SIZE(struct evtchn_set_priority, 8);
ABI_SIZE(struct evtchn_fifo_control_block, 72);
ABI_OFFSET(struct evtchn_fifo_control_block, head, 8);
ABI_OFFSET(struct evtchn_op, u, 4);
ABI_SIZE(struct evtchn_op, 28);

#ifdef __x86_64__
ABI_SIZE(struct evtchn_init_control, 24);
#endif
#ifdef __i386__
ABI_SIZE(struct evtchn_init_control, 24);
#endif

#endif
