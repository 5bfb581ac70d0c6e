/* evtchn.h (hypervisor, pure): a domain's event channels, 2-level ABI, and how they are raised. */
#ifndef WISP_EVTCHN_H
#define WISP_EVTCHN_H

#include "env.h"
#include "xen/event_channel.h"

/*
 * Ports per domain. 1024 is what a 32-bit guest's 2-level bitmap holds
 * (32 words of 32 bits), so the limit is the same for both layouts; a 64-bit
 * guest could address 4096, and asks about ports past 1024 only in scans,
 * which get -EINVAL as Xen gives for ports past its limit.
 */
#define EVTCHN_MAX_PORTS 1024
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
    uint8_t notify_vcpu;    /* vCPU whose vcpu_info gets the selector bit and the kick */
    union {
        domid_t remote_domid;                   /* UNBOUND */
        struct {
            struct evtchn_table *peer;
            uint16_t peer_port;
        } interdomain;                          /* INTERDOMAIN */
        uint16_t virq;                          /* VIRQ */
        struct {
            void (*on_send)(void *ctx, unsigned port);
            void *ctx;
        } xen;                                  /* XEN */
    } u;
};

/* Returns the vCPU's current 64-byte vcpu_info (it moves with
 * VCPUOP_register_vcpu_info), or NULL when it has none. */
typedef uint8_t *(*evtchn_vcpu_info_fn)(void *ctx, unsigned vcpu);
/* port, which notifies vcpu, went pending (masked or not): wake vcpu if it waits
 * in HLT, and any vCPU whose SCHEDOP_poll names port. */
typedef void (*evtchn_kick_fn)(void *ctx, unsigned vcpu, unsigned port);

/*
 * One domain's event channels, embedded in struct domain. The caller
 * serialises every call on one table (and on both tables of an interdomain
 * pair); only the bitmap and vcpu_info words, which the guest writes
 * concurrently, are updated with atomic operations.
 */
struct evtchn_table {
    domid_t domid;
    unsigned nr_vcpus;
    bool compat;                    /* 32-bit shared_info layout (latched like Xen's has_32bit_shinfo) */
    void *shared_info;              /* the 4 KiB page holding evtchn_pending/evtchn_mask */
    evtchn_vcpu_info_fn vcpu_info;
    evtchn_kick_fn kick;
    void *ctx;                      /* passed to vcpu_info and kick */
    uint16_t virq_port[EVTCHN_MAX_VCPUS][NR_VIRQS];  /* 0 = unbound; global virqs use row 0 */
    struct evtchn_port ports[EVTCHN_MAX_PORTS];
};

/* Empties t and sets its owner and hooks; -EINVAL for 0 or > EVTCHN_MAX_VCPUS vCPUs or a NULL hook. */
int __must_check evtchn_table_init(struct evtchn_table *t, domid_t domid, unsigned nr_vcpus,
                                   void *shared_info, evtchn_vcpu_info_fn vcpu_info,
                                   evtchn_kick_fn kick, void *ctx);
/* Chooses the shared_info layout; call where Xen latches it (CALLBACK_IRQ set, shared_info mapped). */
void evtchn_set_compat(struct evtchn_table *t, bool compat);
/* Ports the current layout allows: port numbers >= this are -EINVAL everywhere. */
unsigned evtchn_port_limit(const struct evtchn_table *t);

/*
 * The guest's EVTCHNOP_* operations. Each returns the new port (> 0) or 0,
 * or a negative errno: -EINVAL for a bad port, virq or wrong state, -ENOENT
 * for a vCPU the domain lacks, -EEXIST for a virq bound twice, -ENOSPC when
 * no port is free. Domain ids are resolved by the caller.
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
/* EVTCHNOP_reset: closes every port except those of hypervisor backends. */
void evtchn_reset(struct evtchn_table *t);

/* Domain teardown: closes every port, backends' too, so no peer keeps a pointer to t. */
void evtchn_close_all(struct evtchn_table *t);

/*
 * Hypervisor side. evtchn_set_pending is the 2-level raise: set the port's
 * pending bit; if it was clear and the port is unmasked, set the word's bit
 * in the notify vCPU's evtchn_pending_sel, and if that was clear set
 * evtchn_upcall_pending. kick runs whenever the pending bit went 0 -> 1.
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
