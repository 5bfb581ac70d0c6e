/* main.c (xenstore domain): xenstored as a small PVH domain: introduces every domain's store ring to the engine and serves the rings. */
#include "guest.h"
#include "heap.h"
#include "xenev.h"
#include "engine.h"
#include "ring.h"
#include "xen/grant_table.h"
#include "xen/hvm_params.h"

/*
 * Each client domain's store ring is mapped, through grant entry 1 (which
 * the hypervisor seeds for us), at a guest-physical page of ours above our
 * RAM: RING_WINDOW_GPA + domid pages. The window sits below the device hole
 * at 0xfec00000 for every domid below DOMID_FIRST_RESERVED, and inside the
 * 4 GiB the runtime identity-maps, so its virtual address is its physical one.
 */
#define RING_WINDOW_GPA 0xC0000000ull
#define MAX_CLIENTS 64
#define LIST_BATCH 16
/* Per wake-up, each ring gets at most this many read-feed-write rounds: no guest can hold us. */
#define SERVICE_ROUNDS 4
/* Passes in a row without sleeping while some ring has work left. */
#define MAX_BUSY_PASSES 64
#define HEAP_BYTES (6u << 20)
#define STACK_BYTES (256u << 10)

enum client_state {
    CLIENT_FREE,
    CLIENT_SERVED,        /* ring mapped, port bound, engine connection open */
    CLIENT_DISCONNECTED,  /* broke the protocol: nothing served until it dies */
};

/* One introduced domain. Owned by the single xenstored thread. */
struct client {
    enum client_state state;
    uint32_t domid;
    evtchn_port_t port;          /* our end of its store channel */
    grant_handle_t handle;       /* of the ring mapping */
    struct xs_ring ring;
    struct xs_conn *conn;
    /* Request bytes read from the ring that the engine has yet to take (backpressure). */
    uint8_t in[XENSTORE_RING_SIZE];
    size_t in_off, in_len;
    /* Output taken from the engine that the ring had no room for yet. */
    uint8_t out[XENSTORE_RING_SIZE];
    size_t out_off, out_len;
};

static struct client clients[MAX_CLIENTS];
static struct xs_engine *engine;
static uint32_t self_domid;
static evtchn_port_t dom_exc_port;
static struct heap heap;
static uint8_t heap_arena[HEAP_BYTES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t big_stack[STACK_BYTES] __attribute__((aligned(16)));
static struct wisp_domain_info listing[LIST_BATCH];

void *xs_alloc(size_t size)
{
    return heap_alloc(&heap, size);
}

void xs_free(void *ptr)
{
    heap_free(&heap, ptr);
}

static struct client *client_of(uint32_t domid)
{
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].state != CLIENT_FREE && clients[i].domid == domid)
            return &clients[i];
    return NULL;
}

static uint64_t ring_gpa(uint32_t domid)
{
    return RING_WINDOW_GPA + (uint64_t)domid * PAGE_SIZE;
}

/* ---- Strings (the runtime has no snprintf) ---- */

/* Appends s to the NUL-terminated buf of size bytes, truncating. */
static void append_str(char *buf, size_t size, const char *s)
{
    size_t len = strnlen(buf, size);

    while (*s && len + 1 < size)
        buf[len++] = *s++;
    if (len < size)
        buf[len] = '\0';
}

static void append_num(char *buf, size_t size, uint64_t v)
{
    char digits[24];
    int i = (int)sizeof(digits) - 1;

    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    append_str(buf, size, &digits[i]);
}

/* out = dir, or dir "/" key when key is not empty. */
static void join_path(char *out, size_t size, const char *dir, const char *key)
{
    out[0] = '\0';
    append_str(out, size, dir);
    if (key && *key) {
        append_str(out, size, "/");
        append_str(out, size, key);
    }
}

/* ---- The base tree (libxl__domain_make and libxl__build_post) ---- */

static int write_str(const char *dir, const char *key, const char *value)
{
    char path[96];

    join_path(path, sizeof(path), dir, key);
    return xs_local_write(engine, path, value, strlen(value));
}

static int write_num(const char *dir, const char *key, uint64_t value)
{
    char num[24] = "";

    append_num(num, sizeof(num), value);
    return write_str(dir, key, num);
}

/* roperm {n0, r<domid>}: dom0 owns, the guest may read. rwperm {n<domid>}: the guest owns. */
static int set_perms(const char *dir, const char *key, uint32_t domid, bool guest_owns)
{
    struct xs_perm ro[2] = { { 0, XS_ACCESS_NONE }, { domid, XS_ACCESS_READ } };
    struct xs_perm rw[1] = { { domid, XS_ACCESS_NONE } };
    char path[96];

    join_path(path, sizeof(path), dir, key);
    return guest_owns ? xs_local_set_perms(engine, path, rw, 1)
                      : xs_local_set_perms(engine, path, ro, 2);
}

static int make_dir(const char *dir, const char *key, uint32_t domid, bool guest_owns)
{
    char path[96];
    int rc;

    join_path(path, sizeof(path), dir, key);
    rc = xs_local_mkdir(engine, path);
    return rc ? rc : set_perms(dir, key, domid, guest_owns);
}

static int write_base_tree(const struct wisp_domain_info *d)
{
    static const char *const read_only_dirs[] = { "cpu", "memory", "device", "control" };
    static const char *const guest_dirs[] = {
        "control/shutdown", "control/feature-poweroff", "control/feature-reboot",
        "control/feature-suspend", "control/sysrq", "data", "drivers", "feature", "attr",
        "error",
    };
    char dir[32] = "/local/domain/";
    int rc;

    append_num(dir, sizeof(dir), d->domid);
    rc = make_dir(dir, "", d->domid, false);
    for (unsigned i = 0; !rc && i < ARRAY_SIZE(read_only_dirs); i++)
        rc = make_dir(dir, read_only_dirs[i], d->domid, false);
    for (unsigned i = 0; !rc && i < ARRAY_SIZE(guest_dirs); i++)
        rc = make_dir(dir, guest_dirs[i], d->domid, true);
    if (!rc)
        rc = write_str(dir, "name", d->name);
    if (!rc)
        rc = write_num(dir, "domid", d->domid);
    if (!rc)
        rc = write_num(dir, "memory/static-max", d->max_pages * (PAGE_SIZE / 1024));
    if (!rc)
        rc = write_num(dir, "memory/target", d->tot_pages * (PAGE_SIZE / 1024));
    if (!rc)
        rc = write_num(dir, "store/port", d->store_evtchn);
    if (!rc)
        rc = write_num(dir, "store/ring-ref", d->store_gfn);
    for (uint32_t v = 0; !rc && v < d->nr_vcpus && v < 64; v++) {
        char key[24] = "cpu/";

        append_num(key, sizeof(key), v);
        append_str(key, sizeof(key), "/availability");
        rc = write_str(dir, key, "online");
    }
    /* store/ was made by the writes above with the parent's (read-only) perms. */
    return rc;
}

/* ---- Introduce and release ---- */

static long map_ring(uint32_t domid, grant_handle_t *handle)
{
    struct gnttab_map_grant_ref m = {
        .host_addr = ring_gpa(domid),
        .flags = GNTMAP_host_map,
        .ref = GNTTAB_RESERVED_XENSTORE,
        .dom = (domid_t)domid,
    };
    long rc = hv_grant_table_op(GNTTABOP_map_grant_ref, HV_PTR(&m), 1);

    if (rc == 0 && m.status != GNTST_okay)
        rc = m.status;
    *handle = m.handle;
    return rc;
}

static void unmap_ring(struct client *c)
{
    struct gnttab_unmap_grant_ref u = { .host_addr = ring_gpa(c->domid), .handle = c->handle };
    long rc = hv_grant_table_op(GNTTABOP_unmap_grant_ref, HV_PTR(&u), 1);

    if (rc || u.status != GNTST_okay)
        con_printf("xenstored: domain %u: unmap failed: rc %ld status %d\n", c->domid, rc,
                   u.status);
}

static struct client *free_slot(void)
{
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].state == CLIENT_FREE)
            return &clients[i];
    return NULL;
}

static void introduce(const struct wisp_domain_info *listed)
{
    struct client *c = free_slot();
    struct wisp_domain_info copy = *listed, *d = &copy;
    long rc;

    d->name[sizeof(d->name) - 1] = '\0';     /* the base tree's name is a C string */

    if (!c) {
        con_printf("xenstored: domain %u: no client slot left\n", d->domid);
        return;
    }
    memset(c, 0, sizeof(*c));
    c->domid = d->domid;
    rc = map_ring(d->domid, &c->handle);
    if (rc) {
        con_printf("xenstored: domain %u: cannot map its store ring: %ld\n", d->domid, rc);
        return;
    }
    rc = evtchn_bind_interdomain((domid_t)d->domid, d->store_evtchn, &c->port);
    if (rc) {
        con_printf("xenstored: domain %u: cannot bind store port %u: %ld\n", d->domid,
                   d->store_evtchn, rc);
        unmap_ring(c);
        return;
    }
    c->conn = xs_conn_new(engine, d->domid, d->roles & WISP_ROLE_CONTROL, c);
    rc = c->conn ? write_base_tree(d) : -XEN_ENOMEM;
    if (rc) {
        char dir[32] = "/local/domain/";

        con_printf("xenstored: domain %u: cannot set up its connection: %ld\n", d->domid, rc);
        append_num(dir, sizeof(dir), d->domid);
        (void)xs_local_rm(engine, dir);
        if (c->conn)
            xs_conn_free(engine, c->conn);
        (void)evtchn_close(c->port);
        unmap_ring(c);
        return;
    }
    xs_ring_attach(&c->ring, (struct xenstore_domain_interface *)(uintptr_t)ring_gpa(d->domid));
    c->state = CLIENT_SERVED;
    xs_fire_special(engine, "@introduceDomain");
    con_printf("xenstored: introduced domain %u (%s)%s, port %u\n", d->domid, d->name,
               d->roles & WISP_ROLE_CONTROL ? " privileged" : "", c->port);
    (void)evtchn_send(c->port);     /* anything it queued before we were there */
}

/* Stops serving c's ring: its connection goes, its nodes stay until it dies. */
static void disconnect(struct client *c)
{
    if (c->state != CLIENT_SERVED)
        return;
    xs_conn_free(engine, c->conn);
    c->conn = NULL;
    (void)evtchn_close(c->port);
    unmap_ring(c);
    c->state = CLIENT_DISCONNECTED;
}

static void release(struct client *c, const char *why)
{
    char dir[32] = "/local/domain/";

    disconnect(c);
    append_num(dir, sizeof(dir), c->domid);
    (void)xs_local_rm(engine, dir);
    xs_domain_gone(engine, c->domid);
    c->state = CLIENT_FREE;
    xs_fire_special(engine, "@releaseDomain");
    con_printf("xenstored: released domain %u (%s)\n", c->domid, why);
}

static bool is_live(const struct wisp_domain_info *d)
{
    return d->state == WISP_DOMSTATE_RUNNING || d->state == WISP_DOMSTATE_PAUSED;
}

/*
 * Calls fn for every listed domain; false when the hypercall fails. The
 * hypervisor returns at most a few entries per call whatever max_entries
 * says, so this asks again after the last id seen until a call lists none.
 */
static bool for_each_domain(void (*fn)(const struct wisp_domain_info *d, void *arg), void *arg)
{
    uint32_t next = 0;

    while (next < DOMID_FIRST_RESERVED) {
        struct wisp_ctl_domain_list l = {
            .first_domid = next, .max_entries = LIST_BATCH, .buffer = (uintptr_t)listing,
        };
        long rc = hv_wisp_control(WISP_CTL_domain_list, HV_PTR(&l));

        if (rc) {
            con_printf("xenstored: domain_list failed: %ld\n", rc);
            return false;
        }
        if (!l.nr_entries || l.nr_entries > LIST_BATCH || listing[l.nr_entries - 1].domid < next)
            return true;
        for (uint32_t i = 0; i < l.nr_entries; i++)
            fn(&listing[i], arg);
        next = listing[l.nr_entries - 1].domid + 1;
    }
    return true;
}

static void find_self(const struct wisp_domain_info *d, void *arg)
{
    if (d->roles & WISP_ROLE_XENSTORE)
        self_domid = d->domid;
}

static void mark_seen(const struct wisp_domain_info *d, void *arg)
{
    bool *seen = arg;
    struct client *c = client_of(d->domid);

    if (c && is_live(d))
        seen[c - clients] = true;
}

static void introduce_new(const struct wisp_domain_info *d, void *arg)
{
    if (d->domid != self_domid && is_live(d) && d->store_gfn && !client_of(d->domid))
        introduce(d);
}

/* VIRQ_DOM_EXC or start: release domains that are gone or going, introduce new ones. */
static void rescan_domains(void)
{
    bool seen[MAX_CLIENTS] = { false };

    if (!for_each_domain(mark_seen, seen))
        return;
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].state != CLIENT_FREE && !seen[i])
            release(&clients[i], "gone or shut down");
    (void)for_each_domain(introduce_new, NULL);
}

/* ---- Serving a ring ---- */

/*
 * Ring <- staged output <- engine output, at most three ring writes. Sets
 * *moved when bytes went into the ring. Ends on a write, so output stays
 * staged only when the guest's reply ring is full (c is stuck until it reads).
 */
static int flush_output(struct client *c, bool *moved)
{
    for (int i = 0;; i++) {
        if (c->out_len) {
            int n = xs_ring_write(&c->ring, c->out + c->out_off, c->out_len);

            if (n < 0)
                return n;
            c->out_off += (size_t)n;
            c->out_len -= (size_t)n;
            *moved |= n > 0;
            if (c->out_len)
                return 0;               /* the guest has not read enough: keep the rest */
        }
        if (i == 2)
            return 0;                   /* more may be queued: service() says so */
        c->out_off = 0;
        c->out_len = xs_conn_output(c->conn, c->out, sizeof(c->out));
        if (!c->out_len)
            return 0;
    }
}

/*
 * Engine <- staged input <- ring, only while c's output is not stuck: a
 * guest that never reads its replies stops being read (the engine also
 * refuses input past its outstanding-reply quota).
 */
static int feed_input(struct client *c, bool *moved)
{
    if (c->out_len || xs_conn_output_pending(c->conn))
        return 0;
    if (!c->in_len) {
        int n = xs_ring_read(&c->ring, c->in, sizeof(c->in));

        if (n < 0)
            return n;
        c->in_off = 0;
        c->in_len = (size_t)n;
        *moved |= n > 0;
    }
    if (c->in_len) {
        size_t used = xs_conn_feed(engine, c->conn, c->in + c->in_off, c->in_len);

        c->in_off += used;
        c->in_len -= used;
    }
    return 0;
}

/*
 * Serves c for at most SERVICE_ROUNDS rounds. Returns true when c has work
 * left that can progress without the guest (requests not yet fed, or output
 * not yet taken, while its reply ring has room), so the loop comes back
 * before sleeping.
 */
static bool service(struct client *c)
{
    bool notify = false;
    int rc = 0;

    if (c->state != CLIENT_SERVED)
        return false;
    for (int round = 0; round < SERVICE_ROUNDS && !rc; round++) {
        bool moved = false;

        rc = flush_output(c, &moved);
        if (!rc)
            rc = feed_input(c, &moved);
        if (!rc)
            rc = flush_output(c, &moved);
        notify |= moved;
        if (!moved)
            break;
    }
    if (!rc && xs_conn_broken(c->conn)) {
        __atomic_store_n(&c->ring.page->error, XENSTORE_ERROR_PROTO, __ATOMIC_RELEASE);
        rc = -XEN_EINVAL;
    }
    if (notify || rc)
        (void)evtchn_send(c->port);
    if (rc) {
        con_printf("xenstored: domain %u: %s, disconnected\n", c->domid,
                   rc == -XEN_EIO ? "impossible ring indices" : "malformed message");
        disconnect(c);
        return false;
    }
    return !c->out_len && (c->in_len || xs_ring_pending(&c->ring) ||
                           xs_conn_output_pending(c->conn));
}

/* ---- Privileged messages (XS_INTRODUCE, XS_RELEASE, XS_IS_DOMAIN_INTRODUCED) ---- */

/* Wisp introduces every domain itself; INTRODUCE only confirms one it already serves. */
static int hook_introduce(void *ctx, uint32_t domid, uint64_t gfn, uint32_t port)
{
    rescan_domains();
    return client_of(domid) ? 0 : -XEN_ESRCH;
}

static int hook_release(void *ctx, uint32_t domid)
{
    struct client *c = client_of(domid);

    if (!c)
        return -XEN_ENOENT;
    release(c, "XS_RELEASE");
    return 0;
}

static bool hook_is_introduced(void *ctx, uint32_t domid)
{
    return client_of(domid) != NULL;
}

static const struct xs_hooks hooks = {
    .introduce = hook_introduce,
    .release = hook_release,
    .is_introduced = hook_is_introduced,
};

/* ---- Start and the loop ---- */

/*
 * The engine's defaults let one unprivileged domain hold about 4.4 MiB (2 MiB
 * of nodes, 2 MiB of watches and transaction copies, its queued output), so
 * two hostile domains could empty the heap and leave everyone ENOMEM. These
 * keep every domain a boot configuration can hold (8, one of them us) at
 * once under HEAP_BYTES: 256 KiB + 256 KiB + 20 replies and 16 events of at
 * most 4112 bytes, about 0.66 MiB each.
 */
#define CLIENT_MEMORY (256u << 10)
#define CLIENT_EVENTS 16

static struct xs_limits limits_storage;

static const struct xs_limits *limits_make(void)
{
    xs_limits_default(&limits_storage);
    limits_storage.memory_per_domain = CLIENT_MEMORY;
    limits_storage.events_per_conn = CLIENT_EVENTS;
    return &limits_storage;
}

static __noreturn void serve(void)
{
    long rc;

    rc = xenev_init();
    if (rc)
        guest_panic("xenstored: shared_info: %ld", rc);
    heap_init(&heap, heap_arena, sizeof(heap_arena));
    engine = xs_engine_new(limits_make(), &hooks, NULL);
    if (!engine)
        guest_panic("xenstored: no memory for the engine");
    rc = evtchn_bind_virq(VIRQ_DOM_EXC, &dom_exc_port);
    if (rc)
        guest_panic("xenstored: bind VIRQ_DOM_EXC: %ld", rc);
    if (!for_each_domain(find_self, NULL))
        guest_panic("xenstored: cannot list domains");
    con_printf("xenstored: domain %u serving, VIRQ_DOM_EXC on port %u\n", self_domid,
               dom_exc_port);
    rescan_domains();
    for (unsigned busy_passes = 0;;) {
        bool more = false;

        /* Twice: watch events one client's request queued for another go out too. */
        for (int pass = 0; pass < 2; pass++)
            for (unsigned i = 0; i < MAX_CLIENTS; i++)
                more |= service(&clients[i]);
        /* Sleep unless a ring has work left; even then, now and again (no spinning for ever). */
        if (!more || ++busy_passes >= MAX_BUSY_PASSES) {
            busy_passes = 0;
            evtchn_wait_any();
        }
        if (evtchn_take(dom_exc_port))
            rescan_domains();
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
            if (clients[i].state == CLIENT_SERVED)
                (void)evtchn_take(clients[i].port);
    }
}

int main(const struct hvm_start_info *si)
{
    /* The engine recurses over paths; the runtime's boot stack is 16 KiB. */
    uintptr_t top = (uintptr_t)(big_stack + sizeof(big_stack)) - 8;   /* as after a call */

    __asm__ volatile("mov %0, %%rsp; jmp *%1" : : "r"(top), "r"(serve) : "memory");
    __builtin_unreachable();
}
