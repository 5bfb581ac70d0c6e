/* evtchn.h (hypervisor, pure): a domain's event channels, the 2-level and FIFO ABIs, and how ports are raised. */
#ifndef WISP_EVTCHN_H
#define WISP_EVTCHN_H

#include "env.h"
#include "xen/event_channel.h"

/*
 * Port numbers a domain may use, whatever the ABI: the 2-level ABI addresses
 * 4096 ports (64-bit guests) or 1024 (32-bit layout), FIFO 2^17, all of
 * which Wisp gives (Xen's EVTCHN_FIFO_NR_CHANNELS). Port state is 24 bytes a
 * port, in page-sized buckets of 128 allocated as ports are bound. The first
 * 128 buckets (16384 ports) hang off the table; the rest off two directory
 * pages of 512 bucket pointers, allocated only when a port >= 16384 is bound.
 */
#define EVTCHN_MAX_PORTS EVTCHN_FIFO_NR_CHANNELS
#define EVTCHN_PORTS_PER_BUCKET 128     /* 128 * 24 bytes: one page */
#define EVTCHN_MAX_BUCKETS (EVTCHN_MAX_PORTS / EVTCHN_PORTS_PER_BUCKET)
#define EVTCHN_TABLE_BUCKETS 128        /* buckets the table points to itself */
#define EVTCHN_BUCKETS_PER_DIR 512      /* bucket pointers in a directory page */
#define EVTCHN_MAX_DIRS ((EVTCHN_MAX_BUCKETS - EVTCHN_TABLE_BUCKETS + EVTCHN_BUCKETS_PER_DIR - 1) / \
                         EVTCHN_BUCKETS_PER_DIR)
/* Event array pages (1024 words each) expand_array may add: enough for EVTCHN_MAX_PORTS
 * (Xen's EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES). */
#define EVTCHN_FIFO_WORDS_PER_PAGE 1024
#define EVTCHN_FIFO_MAX_PAGES (EVTCHN_MAX_PORTS / EVTCHN_FIFO_WORDS_PER_PAGE)
/* vCPUs the virq map covers; struct domain must not have more (see domain.h). */
#define EVTCHN_MAX_VCPUS 32


enum evtchn_state {
    EVTCHN_FREE,            /* closed; port 0 stays here forever (Xen reserves it) */
    EVTCHN_UNBOUND,         /* offered to remote_domid, waiting for its bind_interdomain */
    EVTCHN_INTERDOMAIN,     /* connected to peer_port of peer (may be this table: loopback) */
    EVTCHN_VIRQ,            /* raised by the hypervisor for virq */
    EVTCHN_IPI,             /* sent by this domain to its own notify vCPU */
    EVTCHN_XEN,             /* other end is a hypervisor backend: send calls on_send */
};

struct evtchn_table;

struct evtchn_port {
    uint8_t state;          /* enum evtchn_state */
    uint8_t notify_vcpu;    /* vCPU whose vcpu_info (2-level) or queue (FIFO) gets it, and the kick */
    uint8_t priority;       /* FIFO queue for its next link (set_priority) */
    /* FIFO: the queue it was last linked on (Xen's fifo_lastq), kept when the port is
     * freed, so a queue whose tail it still is gets forgotten before it links again. */
    uint8_t last_vcpu, last_priority;
    bool fifo_pending;      /* raised while its event array page was missing */
    union {
        domid_t remote_domid;                   /* UNBOUND */
        struct {
            struct evtchn_table *peer;
            uint32_t peer_port;
        } interdomain;                          /* INTERDOMAIN */
        uint16_t virq;                          /* VIRQ */
        struct {
            void (*on_send)(void *ctx, unsigned port);
            void *ctx;
        } xen;                                  /* XEN */
    } u;
};

/* FIFO state of one vCPU. */
struct evtchn_fifo_vcpu {
    struct evtchn_fifo_control_block *control;  /* in guest RAM; NULL: no init_control yet */
    uint32_t tail[EVTCHN_FIFO_MAX_QUEUES];      /* last port linked on each queue; 0: none */
};

/* A domain's FIFO state: one page from evtchn_page_alloc, present while the ABI is FIFO. */
struct evtchn_fifo {
    unsigned nr_pages;                          /* event array pages added so far */
    uint32_t *array[EVTCHN_FIFO_MAX_PAGES];     /* guest RAM pages of event words */
    struct evtchn_fifo_vcpu vcpu[EVTCHN_MAX_VCPUS];
};

/* Where buckets and the FIFO state come from: one zeroed 4 KiB page, or NULL. The
 * hypervisor provides them from its page allocator (event_channel_op.c), host tests with malloc. */
void *evtchn_page_alloc(void);
void evtchn_page_free(void *page);

/* Returns the vCPU's current 64-byte vcpu_info (it moves with
 * VCPUOP_register_vcpu_info), or NULL when it has none. */
typedef uint8_t *(*evtchn_vcpu_info_fn)(void *ctx, unsigned vcpu);
/* port, which notifies vcpu, went pending (masked or not): wake vcpu if it waits
 * in HLT, and any vCPU whose SCHEDOP_poll names port. */
typedef void (*evtchn_kick_fn)(void *ctx, unsigned vcpu, unsigned port);

/*
 * One domain's event channels, embedded in struct domain. The caller
 * serialises every call on one table (and on both tables of an interdomain
 * pair): the domain's event lock (today: one vCPU in the hypervisor at a
 * time). Only the words the guest writes concurrently (2-level bitmaps,
 * vcpu_info, FIFO event words and control blocks) use atomic operations.
 */
struct evtchn_table {
    domid_t domid;
    unsigned nr_vcpus;
    bool compat;                    /* 32-bit shared_info layout (latched like Xen's has_32bit_shinfo) */
    void *shared_info;              /* the 4 KiB page holding evtchn_pending/evtchn_mask */
    evtchn_vcpu_info_fn vcpu_info;
    evtchn_kick_fn kick;
    void *ctx;                      /* passed to vcpu_info and kick */
    unsigned first_free;            /* no port below it is free: where allocation looks first */
    uint32_t virq_port[EVTCHN_MAX_VCPUS][NR_VIRQS];  /* 0 = unbound; global virqs use row 0 */
    struct evtchn_port *buckets[EVTCHN_TABLE_BUCKETS]; /* NULL: those ports were never bound */
    struct evtchn_port **dirs[EVTCHN_MAX_DIRS];       /* the buckets after those; NULL: none yet */
    struct evtchn_fifo *fifo;       /* NULL: the 2-level ABI */
    unsigned reset_next;            /* an EVTCHNOP_reset under way goes on here; 0: none */
    unsigned close_next;            /* evtchn_close_some goes on here (0: not begun) */
};

/* Empties t and sets its owner and hooks; -EINVAL for 0 or > EVTCHN_MAX_VCPUS vCPUs or a NULL hook. */
int __must_check evtchn_table_init(struct evtchn_table *t, domid_t domid, unsigned nr_vcpus,
                                   void *shared_info, evtchn_vcpu_info_fn vcpu_info,
                                   evtchn_kick_fn kick, void *ctx);
/* Chooses the shared_info layout; call where Xen latches it (CALLBACK_IRQ set, shared_info mapped). */
void evtchn_set_compat(struct evtchn_table *t, bool compat);
/* Ports the current ABI allows (2-level: 4096, or 1024 in the 32-bit layout; FIFO:
 * EVTCHN_MAX_PORTS): port numbers >= this are -EINVAL everywhere, and so are ports
 * of a bucket never allocated (no port that high was ever bound; Xen's port_is_valid). */
unsigned evtchn_port_limit(const struct evtchn_table *t);
/* Frees t's memory after closing every port (domain teardown; t may be all zeroes). */
void evtchn_table_destroy(struct evtchn_table *t);

/*
 * The guest's EVTCHNOP_* operations. Each returns the new port (> 0) or 0,
 * or a negative errno: -EINVAL for a bad port (see evtchn_port_limit), virq or wrong state, -ENOENT
 * for a vCPU the domain lacks, -EEXIST for a virq bound twice, -ENOSPC when
 * no port is free, -ENOMEM when no page is left for more port state.
 * Domain ids are resolved by the caller.
 */
int __must_check evtchn_alloc_unbound(struct evtchn_table *t, domid_t remote_dom);
/* remote may be t itself (loopback). The new local port is raised once, as
 * in Xen, since notifications sent to the unbound end were dropped. */
int __must_check evtchn_bind_interdomain(struct evtchn_table *t, struct evtchn_table *remote,
                                         unsigned remote_port);
int __must_check evtchn_bind_virq(struct evtchn_table *t, unsigned virq, unsigned vcpu);
int __must_check evtchn_bind_ipi(struct evtchn_table *t, unsigned vcpu);
/* An interdomain peer becomes unbound, offered to this domain again; ports of
 * hypervisor backends cannot be closed by the guest (-EINVAL). */
int __must_check evtchn_close(struct evtchn_table *t, unsigned port);
int __must_check evtchn_send(struct evtchn_table *t, unsigned port);
int __must_check evtchn_status(const struct evtchn_table *t, unsigned port,
                               struct evtchn_status *out);
int __must_check evtchn_bind_vcpu(struct evtchn_table *t, unsigned port, unsigned vcpu);
int __must_check evtchn_unmask(struct evtchn_table *t, unsigned port);
/*
 * EVTCHNOP_reset (resuming: EVTCHNOP_reset_cont): closes every port except
 * those of hypervisor backends, visiting at most max allocated ports a call,
 * then goes back to 2-level. 0: done; 1: call again with resuming; -EBUSY
 * (as Xen): a reset is under way and this is not its continuation, or none
 * is and this is one.
 */
int __must_check evtchn_reset(struct evtchn_table *t, bool resuming, uint32_t max);
/*
 * Allocated ports one reset call or one reaper pass visits: under Bochs a
 * close takes about 28 us of guest time, so a batch holds the pCPU ~7 ms
 * (all 16,384 of a reset at once held it 455 ms).
 */
#define EVTCHN_CLOSE_BATCH 256

/*
 * FIFO ABI. init_control: control block of vcpu at page + offset, where page
 * is the host view of the guest's control_gfn (NULL: not its RAM). The first
 * one switches the domain to FIFO; ports already bound keep their pending
 * state, raised again once their event array page is added. -ENOENT: no such
 * vCPU; -EINVAL: offset not 8-aligned or the block crosses the page, no
 * page, or the vCPU has a control block; -ENOMEM. Nothing changes on error.
 */
int __must_check evtchn_fifo_init_control(struct evtchn_table *t, unsigned vcpu, uint32_t offset,
                                          void *page);
/* expand_array: the next 1024 event words. -EOPNOTSUPP before init_control,
 * -ENOSPC past EVTCHN_FIFO_MAX_PAGES, -EINVAL for no page. */
int __must_check evtchn_fifo_expand_array(struct evtchn_table *t, void *page);
/* set_priority: -EINVAL for a bad port or priority > 15, -ENOSYS in the 2-level ABI. */
int __must_check evtchn_set_priority(struct evtchn_table *t, unsigned port, unsigned priority);

/*
 * Domain death: closes every port, backends' too, so no peer keeps a pointer
 * to t (their ports become unbound). evtchn_close_some visits at most max
 * allocated ports from where the last call stopped; true when all are closed
 * (then evtchn_all_closed). The owner must no longer bind ports. close_all:
 * all at once (machine end, a failed build).
 */
bool evtchn_close_some(struct evtchn_table *t, uint32_t max);
bool evtchn_all_closed(const struct evtchn_table *t);
void evtchn_close_all(struct evtchn_table *t);

/*
 * Hypervisor side. evtchn_set_pending raises a port in the table's ABI.
 * 2-level: set the port's pending bit; if it was clear and the port is
 * unmasked, set the word's bit in the notify vCPU's evtchn_pending_sel, and
 * if that was clear set evtchn_upcall_pending. FIFO: set PENDING; if the
 * port is not MASKED and not yet LINKED, link it at the tail of its queue on
 * the notify vCPU, set the queue's ready bit and evtchn_upcall_pending.
 * kick runs whenever the pending bit went 0 -> 1 or a queue became ready.
 */
int __must_check evtchn_set_pending(struct evtchn_table *t, unsigned port);
/* Raises virq for vcpu (global virqs: wherever their port is bound). -ENOENT when not bound. */
int __must_check evtchn_send_virq(struct evtchn_table *t, unsigned vcpu, unsigned virq);
bool evtchn_is_pending(const struct evtchn_table *t, unsigned port);
bool evtchn_is_masked(const struct evtchn_table *t, unsigned port);
/* A port whose other end is the hypervisor (console backend); guest sends call on_send. */
int __must_check evtchn_alloc_xen_port(struct evtchn_table *t, unsigned vcpu,
                                       void (*on_send)(void *ctx, unsigned port), void *ctx);
/* The vCPU a port notifies, or -EINVAL for a port out of range. */
int evtchn_notify_vcpu(const struct evtchn_table *t, unsigned port);

#endif
