/* engine.c (xenstore domain, host tests): the xenstore tree, permissions, watches, quotas. */
#include "env.h"
#include "xen/errno.h"
#include "xen/xenstore.h"
#include "engine.h"

/*
 * Semantics follow Xen's C xenstored (docs/misc/xenstore.txt); where we
 * differ, docs/xenstore.md says so. Everything is iterative: a guest can
 * make the tree deep (paths of 3072 bytes) but never the C stack.
 */

#define DOMAIN_PREFIX "/local/domain/"
#define SCRATCH_PATH (XENSTORE_ABS_PATH_MAX + 1)
#define XS_PERMS_MAX 16   /* entries in any permission list, privileged or not */
#define TX_BUCKETS 64
#define MAX_DEPTH (XENSTORE_ABS_PATH_MAX / 2)   /* "/a/a/a...": the most ancestors a path has */

/* Who asks: a connection, or xenstored itself through xs_local_*. */
struct who {
    uint32_t domid;
    bool priv;
};

struct node {
    struct node *parent, *child, *sibling;  /* children in creation order */
    char *value;
    uint32_t vlen;
    unsigned nperms;
    struct xs_perm *perms;                  /* perms[0]: owner and everyone's access */
    uint64_t gen;                           /* bumped by any change, incl. the child list */
    char name[];                            /* one path component; "" for the root */
};

/* A node as a transaction sees it; the tree is untouched until commit. */
struct rec {
    struct rec *next;   /* all of the transaction's records */
    struct rec *hnext;  /* same hash bucket */
    uint32_t hash;      /* path_hash(path) */
    unsigned depth;     /* path_depth(path) */
    size_t plen;
    bool exists;
    bool modified;      /* written, created or removed by the transaction */
    bool fresh;         /* created by the transaction: the tree's children do not show through */
    uint64_t base_gen;  /* the tree's gen when first seen, 0 for absent */
    char *value;
    uint32_t vlen;
    unsigned nperms;
    struct xs_perm *perms;
    char path[];
};

struct tx {
    struct tx *next;
    struct xs_conn *conn;
    size_t bytes;       /* its records' memory, part of conn->conn_bytes */
    uint32_t id;
    unsigned nrecs;
    unsigned created;   /* nodes it adds, for the nodes quota */
    struct rec *buckets[TX_BUCKETS];   /* by path hash: finding a record costs O(path) */
    struct rec *recs;
};

struct watch {
    struct watch *next;
    size_t bytes;       /* its allocation, part of the connection's conn_bytes */
    bool relative;      /* events report paths relative to /local/domain/<domid> */
    char *token;        /* points into path's allocation */
    char path[];        /* absolute, or a special "@name" */
};

struct outmsg {
    struct outmsg *next;
    bool event;
    size_t len, off;
    uint8_t data[];
};

struct xs_conn {
    struct xs_conn *next;
    uint32_t domid;
    bool priv;
    bool broken;
    void *user;
    size_t in_used;                              /* header + payload bytes received */
    struct xsd_sockmsg hdr;
    uint8_t in[XENSTORE_PAYLOAD_MAX + 1];        /* + 1: always NUL-terminated */
    struct outmsg *out_head, *out_tail;
    size_t out_bytes;
    unsigned out_replies, out_events;
    struct watch *watches;
    unsigned nwatches;
    struct tx *txs;
    unsigned ntxs;
    size_t conn_bytes;                           /* its watches' and transactions' memory */
    uint32_t next_txid;
};

/* Nodes owned per domain, for the nodes_per_domain quota. */
struct acct {
    struct acct *next;
    uint32_t domid;
    unsigned nodes;
    size_t bytes;       /* node_bytes() of those nodes */
};

struct xs_engine {
    struct xs_limits limits;
    struct xs_hooks hooks;
    void *ctx;
    struct node *root;
    uint64_t gen;
    struct xs_conn *conns;
    struct acct *accts;
    /* Scratch buffers, so no path sits on the (small) guest stack. */
    char path[SCRATCH_PATH];                     /* the request's canonical path */
    char anc[SCRATCH_PATH];                      /* ancestor walks */
    char tmp[SCRATCH_PATH];                      /* a node's path built from the tree */
    uint8_t out[XENSTORE_PAYLOAD_MAX + 64];      /* a reply's payload */
    uint32_t anc_hash[MAX_DEPTH + 1];            /* tx_hides: each ancestor's hash and length */
    uint16_t anc_len[MAX_DEPTH + 1];
};

static const struct xs_perm root_perms = { 0, XS_ACCESS_NONE };

void xs_limits_default(struct xs_limits *l)
{
    l->nodes_per_domain = 1000;
    l->entry_size = 2048;
    l->watches_per_domain = 128;
    l->transactions_per_domain = 10;
    l->outstanding_per_domain = 20;
    l->perms_per_node = 5;
    l->nodes_per_transaction = 1024;
    l->events_per_conn = 64;
    l->memory_per_domain = 2u << 20;
}

/* ---- small helpers ---- */

static void *zalloc(size_t size)
{
    void *p = xs_alloc(size);

    if (p)
        memset(p, 0, size);
    return p;
}

static char *dup_bytes(const void *src, size_t len)
{
    char *p = xs_alloc(len + 1);

    if (p) {
        memcpy(p, src, len);
        p[len] = 0;
    }
    return p;
}

static size_t fmt_u64(char *buf, uint64_t v)
{
    char rev[24];
    size_t n = 0, i;

    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    buf[n] = 0;
    return n;
}

/* Decimal, no sign, no leading junk, at most max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static bool parse_domid(const char *s, uint32_t *domid)
{
    uint64_t v;

    if (!parse_u64(s, 0xffff, &v))
        return false;
    *domid = (uint32_t)v;
    return true;
}

/* Is `prefix` the path itself or one of its ancestors? */
static bool path_covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);

    if (strncmp(prefix, path, n) != 0)
        return false;
    if (path[n] == 0 || (n == 1 && prefix[0] == '/'))
        return true;   /* itself, or anything below the root */
    return path[n] == '/';
}

static unsigned path_depth(const char *path)
{
    unsigned d = 0;

    if (path[1] == 0)
        return 0;
    for (; *path; path++)
        d += *path == '/';
    return d;
}

/* Writes the parent of path into buf; false for the root. */
static bool parent_path(const char *path, char *buf)
{
    size_t n = strlen(path);

    if (n <= 1)
        return false;
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n > 1)
        n--;
    memmove(buf, path, n);   /* buf may be path */
    buf[n] = 0;
    return true;
}

static bool name_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' || ch == '_' || ch == '@';
}

/* Xen's is_valid_nodename: absolute, allowed characters, no "//", no trailing '/'. */
static bool abs_path_ok(const char *p)
{
    size_t n = strlen(p), i;

    if (n == 0 || n > XENSTORE_ABS_PATH_MAX || p[0] != '/')
        return false;
    if (n > 1 && p[n - 1] == '/')
        return false;
    for (i = 0; i < n; i++) {
        if (!name_char_ok(p[i]) || (p[i] == '/' && p[i + 1] == '/'))
            return false;
    }
    return true;
}

static size_t domain_prefix(uint32_t domid, char *buf)
{
    size_t n = sizeof(DOMAIN_PREFIX) - 1;

    memcpy(buf, DOMAIN_PREFIX, n);
    return n + fmt_u64(buf + n, domid);
}

/* A client's path made absolute into out (SCRATCH_PATH bytes). */
static int canonical_path(uint32_t domid, const char *in, char *out)
{
    size_t n = strlen(in), pre;

    if (in[0] == '@')
        return -XEN_EINVAL;   /* special names are only for WATCH and UNWATCH */
    if (in[0] == '/') {
        if (n > XENSTORE_ABS_PATH_MAX)
            return -XEN_EINVAL;
        memcpy(out, in, n + 1);
    } else {
        if (n > XENSTORE_REL_PATH_MAX)
            return -XEN_EINVAL;
        pre = domain_prefix(domid, out);
        if (pre + 1 + n > XENSTORE_ABS_PATH_MAX)
            return -XEN_EINVAL;
        out[pre] = '/';
        memcpy(out + pre + 1, in, n + 1);
    }
    return abs_path_ok(out) ? 0 : -XEN_EINVAL;
}

static unsigned access_for(struct who w, const struct xs_perm *perms, unsigned n)
{
    unsigned i;

    if (w.priv || perms[0].domid == w.domid)
        return XS_ACCESS_BOTH;
    for (i = 1; i < n; i++) {
        if (perms[i].domid == w.domid)
            return perms[i].access;
    }
    return perms[0].access;
}

/* ---- accounting ---- */

static struct acct *acct_get(struct xs_engine *e, uint32_t domid, bool create)
{
    struct acct *a;

    for (a = e->accts; a; a = a->next) {
        if (a->domid == domid)
            return a;
    }
    if (!create || !(a = zalloc(sizeof(*a))))
        return NULL;
    a->domid = domid;
    a->next = e->accts;
    e->accts = a;
    return a;
}

/* Gives domid an entry now, so that acct_node cannot fail later. */
static int acct_reserve(struct xs_engine *e, uint32_t domid)
{
    return acct_get(e, domid, true) ? 0 : -XEN_ENOMEM;
}

/* The nodes quota: may w create `more` nodes? */
static int quota_nodes(struct xs_engine *e, struct who w, unsigned more)
{
    struct acct *a = acct_get(e, w.domid, false);

    if (w.priv)
        return 0;
    return (a ? a->nodes : 0) + more > e->limits.nodes_per_domain ? -XEN_ENOSPC : 0;
}

/* The memory quota on nodes w owns: may they grow by `more` bytes? */
static int quota_bytes(struct xs_engine *e, struct who w, size_t more)
{
    struct acct *a = acct_get(e, w.domid, false);

    if (w.priv)
        return 0;
    return (a ? a->bytes : 0) + more > e->limits.memory_per_domain ? -XEN_ENOSPC : 0;
}

/* ---- output queue ---- */

static int queue_msg(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                     const void *a, size_t alen, const void *b, size_t blen, bool event)
{
    struct xsd_sockmsg h = { type, req_id, tx_id, (uint32_t)(alen + blen) };
    struct outmsg *m = xs_alloc(sizeof(*m) + sizeof(h) + alen + blen);

    if (!m)
        return -XEN_ENOMEM;
    m->next = NULL;
    m->event = event;
    m->len = sizeof(h) + alen + blen;
    m->off = 0;
    memcpy(m->data, &h, sizeof(h));
    if (alen)
        memcpy(m->data + sizeof(h), a, alen);
    if (blen)
        memcpy(m->data + sizeof(h) + alen, b, blen);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += m->len;
    if (event)
        c->out_events++;
    else
        c->out_replies++;
    return 0;
}

static void queue_event(struct xs_engine *e, struct xs_conn *c, const struct watch *w,
                        const char *path)
{
    char prefix[32];
    size_t pre, plen, tlen = strlen(w->token) + 1;

    if (w->relative) {
        pre = domain_prefix(c->domid, prefix);
        path += pre + 1;   /* the watch's path lies under the prefix, so this one does */
    }
    plen = strlen(path) + 1;
    /* A guest that never reads must not grow us; an event that cannot be framed is lost too. */
    if (c->out_events >= e->limits.events_per_conn || plen + tlen > XENSTORE_PAYLOAD_MAX)
        return;
    (void)queue_msg(c, XS_WATCH_EVENT, 0, 0, path, plen, w->token, tlen, true);
}

/*
 * Fires the watches on path or an ancestor (exact: on path only) for every
 * connection that may read the node (perms as they were at the change).
 */
static void fire(struct xs_engine *e, const char *path, const struct xs_perm *perms,
                 unsigned nperms, bool exact)
{
    struct xs_conn *c;
    struct watch *w;

    for (c = e->conns; c; c = c->next) {
        struct who who = { c->domid, c->priv };

        if (!(access_for(who, perms, nperms) & XS_ACCESS_READ))
            continue;
        for (w = c->watches; w; w = w->next) {
            if (exact ? strcmp(w->path, path) == 0 : path_covers(w->path, path))
                queue_event(e, c, w, path);
        }
    }
}

void xs_fire_special(struct xs_engine *e, const char *name)
{
    struct xs_conn *c;
    struct watch *w;

    /* Special watches report to privileged connections only (docs/xenstore.md). */
    for (c = e->conns; c; c = c->next) {
        if (!c->priv)
            continue;
        for (w = c->watches; w; w = w->next) {
            if (strcmp(w->path, name) == 0)
                queue_event(e, c, w, name);
        }
    }
}

/* ---- the tree ---- */

static struct node *node_alloc(const char *name, size_t nlen)
{
    struct node *n = zalloc(sizeof(*n) + nlen + 1);

    if (n)
        memcpy(n->name, name, nlen);
    return n;
}

static void node_free(struct node *n)
{
    if (n) {
        xs_free(n->value);
        xs_free(n->perms);
        xs_free(n);
    }
}

/* What a node costs its owner: the node, its name, value and permission list. */
static size_t node_bytes(const struct node *n)
{
    return sizeof(*n) + strlen(n->name) + 1 + n->vlen + 1 + n->nperms * sizeof(struct xs_perm);
}

/* Adds n to its owner's counts (sign 1) or takes it off (-1); acct_reserve made the entry. */
static void acct_node(struct xs_engine *e, const struct node *n, int sign)
{
    struct acct *a = acct_get(e, n->perms[0].domid, false);

    if (sign > 0) {
        a->nodes++;
        a->bytes += node_bytes(n);
    } else {
        a->nodes--;
        a->bytes -= node_bytes(n);
    }
}

/* The most a new node can cost beyond its name and value (for quota checks before creating). */
#define NODE_COST (sizeof(struct node) + 2 + XS_PERMS_MAX * sizeof(struct xs_perm))

static struct node *child_named(struct node *parent, const char *name, size_t nlen)
{
    struct node *c;

    for (c = parent->child; c; c = c->sibling) {
        if (strncmp(c->name, name, nlen) == 0 && c->name[nlen] == 0)
            return c;
    }
    return NULL;
}

static struct node *tree_lookup(struct xs_engine *e, const char *path)
{
    struct node *n = e->root;
    const char *p = path + 1;

    while (n && *p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        n = child_named(n, p, len);
        p += len + (end ? 1 : 0);
    }
    return n;
}

/* Writes n's absolute path into buf (SCRATCH_PATH bytes). */
static void node_path(const struct node *n, char *buf)
{
    const struct node *m;
    size_t len = 0, l;

    for (m = n; m->parent; m = m->parent)
        len += strlen(m->name) + 1;
    if (len == 0) {
        buf[0] = '/';
        buf[1] = 0;
        return;
    }
    buf[len] = 0;
    for (m = n; m->parent; m = m->parent) {
        l = strlen(m->name);
        len -= l;
        memcpy(buf + len, m->name, l);
        buf[--len] = '/';
    }
}

static int copy_perms(struct xs_perm **dst, const struct xs_perm *src, unsigned n)
{
    struct xs_perm *p = xs_alloc(n * sizeof(*p));

    if (!p)
        return -XEN_ENOMEM;
    memcpy(p, src, n * sizeof(*p));
    *dst = p;
    return 0;
}

static int set_value(char **value, uint32_t *vlen, const void *src, size_t len)
{
    char *v = dup_bytes(src, len);

    if (!v)
        return -XEN_ENOMEM;
    xs_free(*value);
    *value = v;
    *vlen = (uint32_t)len;
    return 0;
}

static void touch(struct xs_engine *e, struct node *n)
{
    n->gen = ++e->gen;
}

/*
 * Adds the child `name` under parent with no value and the parent's perms
 * but the given owner (Xen's construct_node). The caller checked the quota.
 */
static struct node *tree_add_child(struct xs_engine *e, struct node *parent, const char *name,
                                   size_t nlen, uint32_t owner)
{
    struct node *n = node_alloc(name, nlen), **link;
    unsigned nperms = parent->nperms;

    if (!n || acct_reserve(e, owner) || copy_perms(&n->perms, parent->perms, nperms) ||
        !(n->value = dup_bytes("", 0))) {
        node_free(n);
        return NULL;
    }
    n->perms[0].domid = owner;
    n->nperms = nperms;
    acct_node(e, n, 1);
    n->parent = parent;
    for (link = &parent->child; *link; link = &(*link)->sibling)
        ;
    *link = n;
    touch(e, n);
    touch(e, parent);
    return n;
}

/* Missing components of path below its nearest existing ancestor. */
static unsigned missing_nodes(struct xs_engine *e, const char *path)
{
    struct node *n = e->root;
    const char *p = path + 1;
    unsigned missing = 0;

    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (n)
            n = child_named(n, p, len);
        missing += !n;
        p += len + (end ? 1 : 0);
    }
    return missing;
}

/* Creates path and its missing parents, each inheriting its parent's perms (Xen construct_node). */
static int tree_create(struct xs_engine *e, struct who w, const char *path, struct node **out)
{
    struct node *n = e->root, *c;
    const char *p = path + 1;
    int r = quota_nodes(e, w, missing_nodes(e, path));

    if (r)
        return r;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        c = child_named(n, p, len);
        /* Unprivileged domains own what they create; others inherit the owner too. */
        if (!c && !(c = tree_add_child(e, n, p, len, w.priv ? n->perms[0].domid : w.domid)))
            return -XEN_ENOMEM;
        n = c;
        p += len + (end ? 1 : 0);
    }
    *out = n;
    return 0;
}

/*
 * Unlinks and frees top's subtree. As Xen's RM: first the watches on top
 * and above fire (while its perms are still there), then each descendant,
 * leaves first, fires the watches set exactly on it.
 */
static void tree_remove(struct xs_engine *e, struct node *top)
{
    struct node *n = top, *p, **link;

    node_path(top, e->tmp);
    fire(e, e->tmp, top->perms, top->nperms, false);
    for (;;) {
        while (n->child)
            n = n->child;
        p = n->parent;
        if (n != top) {
            node_path(n, e->tmp);
            fire(e, e->tmp, n->perms, n->nperms, true);
        }
        for (link = &p->child; *link != n; link = &(*link)->sibling)
            ;
        *link = n->sibling;
        acct_node(e, n, -1);
        node_free(n);
        touch(e, p);
        if (n == top)
            return;
        n = p;
    }
}

/* ---- the view a request has: the tree, or a transaction over it ---- */

struct view {
    bool exists;
    const char *value;
    uint32_t vlen;
    const struct xs_perm *perms;
    unsigned nperms;
    uint64_t gen;
    struct node *node;   /* outside a transaction */
    struct rec *rec;     /* inside one */
};

/*
 * A transaction's records grow from `old` to `new` bytes (or shrink): the
 * connection's transactions share one memory quota, as its nodes have one.
 */
static int tx_charge(struct xs_engine *e, struct who w, struct tx *t, size_t old, size_t new)
{
    if (new > old) {
        if (!w.priv && t->conn->conn_bytes + (new - old) > e->limits.memory_per_domain)
            return -XEN_ENOSPC;
        t->bytes += new - old;
        t->conn->conn_bytes += new - old;
    } else {
        t->bytes -= old - new;
        t->conn->conn_bytes -= old - new;
    }
    return 0;
}

/* FNV-1a, one byte at a time, so the hashes of all of a path's prefixes come in one pass. */
#define HASH_BASIS 2166136261u

static uint32_t hash_step(uint32_t h, char c)
{
    return (h ^ (uint8_t)c) * 16777619u;
}

static uint32_t path_hash(const char *path, size_t len)
{
    uint32_t h = HASH_BASIS;
    size_t i;

    for (i = 0; i < len; i++)
        h = hash_step(h, path[i]);
    return h;
}

static struct rec *rec_lookup(struct tx *t, const char *path, size_t len, uint32_t hash)
{
    struct rec *r;

    for (r = t->buckets[hash % TX_BUCKETS]; r; r = r->hnext) {
        if (r->hash == hash && r->plen == len && memcmp(r->path, path, len) == 0)
            return r;
    }
    return NULL;
}

static struct rec *rec_find(struct tx *t, const char *path)
{
    size_t len = strlen(path);

    return rec_lookup(t, path, len, path_hash(path, len));
}

/*
 * Was an ancestor of path removed or recreated inside t, hiding the tree
 * below it? The nearest ancestor with a record decides: a record that
 * exists and is not fresh never lies below a hiding one (removal marks
 * every record below; anything looked up below one is born hidden).
 */
static bool tx_hides(struct xs_engine *e, struct tx *t, const char *path)
{
    uint32_t h = HASH_BASIS;
    unsigned n = 0;
    size_t i;

    for (i = 0; path[i]; i++) {
        /* The prefix path[0..i) is an ancestor: "/" at i == 1, then before each '/'. */
        if (i == 1 || (i > 1 && path[i] == '/')) {
            e->anc_hash[n] = h;
            e->anc_len[n++] = (uint16_t)i;
        }
        h = hash_step(h, path[i]);
    }
    while (n--) {
        struct rec *r = rec_lookup(t, path, e->anc_len[n], e->anc_hash[n]);

        if (r)
            return !r->exists || r->fresh;
    }
    return false;
}

/* The record for path in t, made from the tree's state on first use. */
static int rec_get(struct xs_engine *e, struct who w, struct tx *t, const char *path,
                   struct rec **out)
{
    struct rec *r = rec_find(t, path);
    struct node *n;
    size_t plen;
    int err;

    if (r) {
        *out = r;
        return 0;
    }
    if (!w.priv && t->nrecs >= e->limits.nodes_per_transaction)
        return -XEN_ENOSPC;
    plen = strlen(path);
    n = tree_lookup(e, path);
    err = tx_charge(e, w, t, 0, sizeof(*r) + plen + 1 + (n ? node_bytes(n) : 0));
    if (err)
        return err;
    r = zalloc(sizeof(*r) + plen + 1);
    if (!r)
        return -XEN_ENOMEM;   /* the charge stays until the transaction ends */
    memcpy(r->path, path, plen + 1);
    r->plen = plen;
    r->hash = path_hash(path, plen);
    r->depth = path_depth(path);
    r->base_gen = n ? n->gen : 0;
    if (n && !tx_hides(e, t, path)) {
        if (set_value(&r->value, &r->vlen, n->value, n->vlen) ||
            copy_perms(&r->perms, n->perms, n->nperms)) {
            xs_free(r->value);
            xs_free(r);
            return -XEN_ENOMEM;
        }
        r->nperms = n->nperms;
        r->exists = true;
    }
    r->next = t->recs;
    t->recs = r;
    r->hnext = t->buckets[r->hash % TX_BUCKETS];
    t->buckets[r->hash % TX_BUCKETS] = r;
    t->nrecs++;
    *out = r;
    return 0;
}

static int look(struct xs_engine *e, struct who w, struct tx *t, const char *path,
                struct view *v)
{
    memset(v, 0, sizeof(*v));
    if (t) {
        struct rec *r;
        int err = rec_get(e, w, t, path, &r);

        if (err)
            return err;
        v->rec = r;
        v->exists = r->exists;
        v->value = r->value;
        v->vlen = r->vlen;
        v->perms = r->perms;
        v->nperms = r->nperms;
        v->gen = r->base_gen;
        return 0;
    }
    v->node = tree_lookup(e, path);
    if (v->node) {
        v->exists = true;
        v->value = v->node->value;
        v->vlen = v->node->vlen;
        v->perms = v->node->perms;
        v->nperms = v->node->nperms;
        v->gen = v->node->gen;
    }
    return 0;
}

/*
 * Xen's get_node: the node when w has `need` on it; EACCES when it exists
 * without that access; ENOENT when missing and its nearest existing
 * ancestor grants `need`, else EACCES (so absence does not leak).
 */
static int access_node(struct xs_engine *e, struct who w, struct tx *t, const char *path,
                       unsigned need, struct view *v)
{
    struct view anc;
    int err = look(e, w, t, path, v);

    if (err)
        return err;
    if (v->exists)
        return (access_for(w, v->perms, v->nperms) & need) == need ? 0 : -XEN_EACCES;
    memcpy(e->anc, path, strlen(path) + 1);
    while (parent_path(e->anc, e->anc)) {
        err = look(e, w, t, e->anc, &anc);
        if (err)
            return err;
        if (anc.exists)
            return (access_for(w, anc.perms, anc.nperms) & need) == need ? -XEN_ENOENT
                                                                         : -XEN_EACCES;
    }
    return -XEN_ENOENT;
}

/* Creates path (and missing parents) inside t, inheriting perms as tree_create does. */
static int tx_create(struct xs_engine *e, struct who w, struct tx *t, const char *path)
{
    unsigned depth = path_depth(path), d;
    struct rec *parent = NULL, *r;
    int err;

    /* Parents first: each level's record, created when absent. */
    for (d = 0; d <= depth; d++) {
        size_t n = 0;
        unsigned seen = 0;

        /* The prefix of path with d components. */
        if (d == 0) {
            n = 1;
        } else {
            for (n = 1; path[n]; n++) {
                if (path[n] == '/' && ++seen == d)
                    break;
            }
        }
        memcpy(e->anc, path, n);
        e->anc[n] = 0;
        err = rec_get(e, w, t, e->anc, &r);
        if (err)
            return err;
        if (!r->exists) {
            const struct xs_perm *src = parent ? parent->perms : &root_perms;
            unsigned np = parent ? parent->nperms : 1;

            if ((err = quota_nodes(e, w, t->created + 1)) ||
                (err = tx_charge(e, w, t, 0, np * sizeof(struct xs_perm) + 1)))
                return err;
            t->created++;
            xs_free(r->perms);
            xs_free(r->value);
            r->perms = NULL;
            r->value = NULL;
            if ((err = copy_perms(&r->perms, src, np)) ||
                (err = set_value(&r->value, &r->vlen, "", 0)))
                return err;
            r->nperms = np;
            if (!w.priv)
                r->perms[0].domid = w.domid;
            r->exists = r->modified = r->fresh = true;
        }
        parent = r;
    }
    return 0;
}

static void tx_mark_removed(struct tx *t, const char *path)
{
    struct rec *r;

    for (r = t->recs; r; r = r->next) {
        if (path_covers(path, r->path)) {
            r->exists = false;
            r->fresh = false;
            r->modified = true;
        }
    }
}

/* ---- operations, shared by client messages and xs_local_* ---- */

static int op_write(struct xs_engine *e, struct who w, struct tx *t, const char *path,
                    const void *value, size_t vlen, bool mkdir)
{
    struct view v;
    int err;

    if (!w.priv && vlen > e->limits.entry_size)
        return -XEN_ENOSPC;
    err = access_node(e, w, t, path, XS_ACCESS_WRITE, &v);
    if (err == 0 && mkdir)
        return 0;
    if (err && err != -XEN_ENOENT)
        return err;
    if (t) {
        if (err && (err = tx_create(e, w, t, path)))
            return err;
        v.rec = rec_find(t, path);
        if (!mkdir && ((err = tx_charge(e, w, t, v.rec->vlen, vlen)) ||
                       (err = set_value(&v.rec->value, &v.rec->vlen, value, vlen))))
            return err;
        v.rec->modified = true;
        return 0;
    }
    if (err) {
        if ((err = quota_bytes(e, w, missing_nodes(e, path) * NODE_COST + strlen(path) + vlen)) ||
            (err = tree_create(e, w, path, &v.node)))
            return err;
    } else if (v.node->perms[0].domid == w.domid && vlen > v.node->vlen &&
               (err = quota_bytes(e, w, vlen - v.node->vlen))) {
        return err;
    }
    if (!mkdir) {
        acct_node(e, v.node, -1);
        err = set_value(&v.node->value, &v.node->vlen, value, vlen);
        acct_node(e, v.node, 1);
        if (err)
            return err;
    }
    touch(e, v.node);
    fire(e, path, v.node->perms, v.node->nperms, false);
    return 0;
}

static int op_rm(struct xs_engine *e, struct who w, struct tx *t, const char *path)
{
    struct view v, parent;
    int err = access_node(e, w, t, path, XS_ACCESS_WRITE, &v);

    if (err == -XEN_ENOENT) {
        /* Removing what is not there is fine when its parent is (Xen do_rm). */
        if (!parent_path(path, e->anc))
            return err;
        err = look(e, w, t, e->anc, &parent);
        return err ? err : parent.exists ? 0 : -XEN_ENOENT;
    }
    if (err)
        return err;
    if (path[1] == 0)
        return -XEN_EINVAL;
    if (t)
        tx_mark_removed(t, path);
    else
        tree_remove(e, v.node);
    return 0;
}

static int op_set_perms(struct xs_engine *e, struct who w, struct tx *t, const char *path,
                        const struct xs_perm *perms, unsigned n)
{
    struct view v;
    struct xs_perm **dst, *copy;
    unsigned *dstn;
    uint32_t old_owner;
    int err;

    if (n == 0)
        return -XEN_EINVAL;
    if (n > XS_PERMS_MAX || (!w.priv && n > e->limits.perms_per_node))
        return -XEN_ENOSPC;
    err = access_node(e, w, t, path, XS_ACCESS_WRITE, &v);
    if (err)
        return err;
    /* Only the owner (or a privileged caller) changes perms, and only it changes the owner. */
    old_owner = v.perms[0].domid;
    if (!w.priv && old_owner != w.domid)
        return -XEN_EACCES;
    if (!w.priv && perms[0].domid != old_owner)
        return -XEN_EPERM;
    if (t && (err = tx_charge(e, w, t, v.nperms * sizeof(*perms), n * sizeof(*perms))))
        return err;
    dst = t ? &v.rec->perms : &v.node->perms;
    dstn = t ? &v.rec->nperms : &v.node->nperms;
    /* Allocate everything first (the new owner's count too) so nothing fails half-way. */
    if (copy_perms(&copy, perms, n))
        return -XEN_ENOMEM;
    if (acct_reserve(e, perms[0].domid)) {
        xs_free(copy);
        return -XEN_ENOMEM;
    }
    if (!t)
        acct_node(e, v.node, -1);
    xs_free(*dst);
    *dst = copy;
    *dstn = n;
    if (t) {
        v.rec->modified = true;
        return 0;
    }
    acct_node(e, v.node, 1);
    touch(e, v.node);
    fire(e, path, perms, n, false);
    return 0;
}

/* Calls fn for each child name of the node at path as the view shows it. */
typedef void (*child_fn)(void *arg, const char *name, size_t len);

static void for_each_child(struct xs_engine *e, struct tx *t, const char *path,
                           const struct view *v, child_fn fn, void *arg)
{
    struct node *n = t && (v->rec->fresh || tx_hides(e, t, path)) ? NULL : tree_lookup(e, path);
    struct node *c;
    struct rec *r;
    size_t plen = strlen(path), base = plen == 1 ? 1 : plen + 1;

    for (c = n ? n->child : NULL; c; c = c->sibling) {
        if (t) {
            memcpy(e->tmp, path, plen);
            if (plen > 1)
                e->tmp[plen] = '/';
            memcpy(e->tmp + base, c->name, strlen(c->name) + 1);
            r = rec_find(t, e->tmp);
            if (r && !r->exists)
                continue;
        }
        fn(arg, c->name, strlen(c->name));
    }
    if (!t)
        return;
    /* Children the transaction created (newest first). */
    for (r = t->recs; r; r = r->next) {
        const char *name;

        if (!r->exists || strncmp(r->path, path, plen) != 0 || strlen(r->path) <= base ||
            (plen > 1 && r->path[plen] != '/'))
            continue;
        name = r->path + base;
        if (strchr(name, '/'))
            continue;
        if (n && child_named(n, name, strlen(name)))
            continue;   /* listed above */
        fn(arg, name, strlen(name));
    }
}

/* ---- requests ---- */

struct req {
    struct xs_engine *e;
    struct xs_conn *c;
    struct who w;
    struct tx *t;
    const struct xsd_sockmsg *hdr;
    const char *data;   /* NUL-terminated one past len */
    size_t len;
};

static int reply(struct req *q, const void *data, size_t len)
{
    return queue_msg(q->c, q->hdr->type, q->hdr->req_id, q->hdr->tx_id, data, len, NULL, 0,
                     false);
}

static int reply_ok(struct req *q)
{
    return reply(q, "OK", 3);
}

/* The payload as exactly n NUL-terminated strings. */
static bool split_args(const struct req *q, const char **argv, unsigned n)
{
    size_t off = 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        size_t l;

        if (off >= q->len)
            return false;
        l = strnlen(q->data + off, q->len - off);
        if (off + l >= q->len)
            return false;   /* no NUL */
        argv[i] = q->data + off;
        off += l + 1;
    }
    return off == q->len;
}

static int path_arg(struct req *q, const char **arg)
{
    if (!split_args(q, arg, 1))
        return -XEN_EINVAL;
    return canonical_path(q->c->domid, *arg, q->e->path);
}

static int do_read(struct req *q)
{
    const char *arg;
    struct view v;
    int err = path_arg(q, &arg);

    if (err || (err = access_node(q->e, q->w, q->t, q->e->path, XS_ACCESS_READ, &v)))
        return err;
    return reply(q, v.value, v.vlen);
}

static int do_write(struct req *q, bool mkdir)
{
    const char *arg = q->data;
    size_t plen = strnlen(q->data, q->len);
    int err;

    if (mkdir) {
        if ((err = path_arg(q, &arg)) ||
            (err = op_write(q->e, q->w, q->t, q->e->path, NULL, 0, true)))
            return err;
        return reply_ok(q);
    }
    if (plen >= q->len)
        return -XEN_EINVAL;
    if ((err = canonical_path(q->c->domid, arg, q->e->path)))
        return err;
    err = op_write(q->e, q->w, q->t, q->e->path, q->data + plen + 1, q->len - plen - 1, false);
    return err ? err : reply_ok(q);
}

static int do_rm(struct req *q)
{
    const char *arg;
    int err = path_arg(q, &arg);

    if (err || (err = op_rm(q->e, q->w, q->t, q->e->path)))
        return err;
    return reply_ok(q);
}

struct list_buf {
    uint8_t *buf;
    size_t used, cap, skip, total;
    bool overflow;
};

/* Appends the bytes of "name\0" that lie at or after skip in the whole list, if they fit. */
static void list_add(void *arg, const char *name, size_t len)
{
    struct list_buf *b = arg;
    size_t start = b->total, from;

    b->total += len + 1;
    if (b->total <= b->skip || b->overflow)
        return;
    from = start < b->skip ? b->skip - start : 0;
    if (b->used + len + 1 - from > b->cap) {
        b->overflow = true;
        return;
    }
    memcpy(b->buf + b->used, name + from, len - from);
    b->used += len - from;
    b->buf[b->used++] = 0;
}

static int do_directory(struct req *q)
{
    const char *arg;
    struct view v;
    struct list_buf b = { q->e->out, 0, XENSTORE_PAYLOAD_MAX, 0, 0, false };
    int err = path_arg(q, &arg);

    if (err || (err = access_node(q->e, q->w, q->t, q->e->path, XS_ACCESS_READ, &v)))
        return err;
    for_each_child(q->e, q->t, q->e->path, &v, list_add, &b);
    /* Too long for one reply: the client should use DIRECTORY_PART (Xen: E2BIG). */
    return b.overflow ? -XEN_E2BIG : reply(q, b.buf, b.used);
}

/* Payload "path\0offset\0" -> "generation\0" then names from offset; a final "\0" when done. */
static int do_directory_part(struct req *q)
{
    const char *argv[2];
    struct view v;
    uint64_t off;
    size_t glen;
    struct list_buf b;
    int err;

    if (!split_args(q, argv, 2) || !parse_u64(argv[1], 0xffffffffu, &off))
        return -XEN_EINVAL;
    if ((err = canonical_path(q->c->domid, argv[0], q->e->path)) ||
        (err = access_node(q->e, q->w, q->t, q->e->path, XS_ACCESS_READ, &v)))
        return err;
    glen = fmt_u64((char *)q->e->out, v.gen) + 1;
    b = (struct list_buf){ q->e->out + glen, 0, XENSTORE_PAYLOAD_MAX - glen - 1, (size_t)off, 0,
                           false };
    for_each_child(q->e, q->t, q->e->path, &v, list_add, &b);
    /* At or past the end (Xen too): just the terminating empty name. */
    if (!b.overflow)
        b.buf[b.used++] = 0;   /* the empty name: nothing follows */
    return reply(q, q->e->out, glen + b.used);
}

static int do_get_perms(struct req *q)
{
    const char *arg;
    struct view v;
    size_t used = 0;
    unsigned i;
    int err = path_arg(q, &arg);

    if (err || (err = access_node(q->e, q->w, q->t, q->e->path, XS_ACCESS_READ, &v)))
        return err;
    for (i = 0; i < v.nperms; i++) {
        static const char letters[] = { 'n', 'r', 'w', 'b' };
        char *p = (char *)q->e->out + used;

        p[0] = letters[v.perms[i].access & XS_ACCESS_BOTH];
        used += 1 + fmt_u64(p + 1, v.perms[i].domid) + 1;
    }
    return reply(q, q->e->out, used);
}

static bool parse_perm(const char *s, struct xs_perm *p)
{
    switch (s[0]) {
    case XS_PERM_NONE_CHAR:  p->access = XS_ACCESS_NONE; break;
    case XS_PERM_READ_CHAR:  p->access = XS_ACCESS_READ; break;
    case XS_PERM_WRITE_CHAR: p->access = XS_ACCESS_WRITE; break;
    case XS_PERM_BOTH_CHAR:  p->access = XS_ACCESS_BOTH; break;
    default: return false;
    }
    return parse_domid(s + 1, &p->domid);
}

/* Payload "path\0" then one "<letter><domid>\0" per entry. */
static int do_set_perms(struct req *q)
{
    struct xs_perm perms[XS_PERMS_MAX];
    const char *arg = q->data;
    size_t off = strnlen(q->data, q->len) + 1;
    unsigned n = 0;
    int err;

    if (off > q->len)
        return -XEN_EINVAL;
    while (off < q->len) {
        size_t l = strnlen(q->data + off, q->len - off);

        if (off + l >= q->len || !parse_perm(q->data + off, &perms[n % XS_PERMS_MAX]))
            return -XEN_EINVAL;
        n++;
        off += l + 1;
    }
    /* Entries past the array were parsed for validity only; op_set_perms rejects the count. */
    if ((err = canonical_path(q->c->domid, arg, q->e->path)) ||
        (err = op_set_perms(q->e, q->w, q->t, q->e->path, perms, n)))
        return err;
    return reply_ok(q);
}

static bool watch_path(struct req *q, const char *arg, const char **abs, bool *relative)
{
    if (arg[0] == '@') {
        *abs = arg;
        *relative = false;
        return strlen(arg) <= XENSTORE_REL_PATH_MAX;
    }
    *abs = q->e->path;
    *relative = arg[0] != '/';
    return canonical_path(q->c->domid, arg, q->e->path) == 0;
}

static struct watch **watch_find(struct xs_conn *c, const char *path, const char *token)
{
    struct watch **link;

    for (link = &c->watches; *link; link = &(*link)->next) {
        if (strcmp((*link)->path, path) == 0 && strcmp((*link)->token, token) == 0)
            return link;
    }
    return NULL;
}

static int do_watch(struct req *q)
{
    const char *argv[2], *abs;
    struct watch *w;
    size_t plen, tlen;
    bool relative;
    int err;

    if (!split_args(q, argv, 2) || !watch_path(q, argv[0], &abs, &relative))
        return -XEN_EINVAL;
    if (watch_find(q->c, abs, argv[1]))
        return -XEN_EEXIST;
    if (!q->w.priv && q->c->nwatches >= q->e->limits.watches_per_domain)
        return -XEN_E2BIG;
    plen = strlen(abs);
    tlen = strlen(argv[1]);
    /* Watches share the connection's memory quota with its transactions. */
    if (!q->w.priv &&
        q->c->conn_bytes + sizeof(*w) + plen + tlen + 2 > q->e->limits.memory_per_domain)
        return -XEN_ENOSPC;
    w = xs_alloc(sizeof(*w) + plen + 1 + tlen + 1);
    if (!w)
        return -XEN_ENOMEM;
    w->bytes = sizeof(*w) + plen + tlen + 2;
    q->c->conn_bytes += w->bytes;
    memcpy(w->path, abs, plen + 1);
    w->token = w->path + plen + 1;
    memcpy(w->token, argv[1], tlen + 1);
    w->relative = relative;
    w->next = q->c->watches;
    q->c->watches = w;
    q->c->nwatches++;
    if ((err = reply_ok(q)))
        return err;
    /* A new watch fires once at once, with the path as the client gave it. */
    if (q->c->out_events < q->e->limits.events_per_conn)
        (void)queue_msg(q->c, XS_WATCH_EVENT, 0, 0, argv[0], strlen(argv[0]) + 1, argv[1],
                        tlen + 1, true);
    return 0;
}

static int do_unwatch(struct req *q)
{
    const char *argv[2], *abs;
    struct watch **link, *w;
    bool relative;

    if (!split_args(q, argv, 2) || !watch_path(q, argv[0], &abs, &relative))
        return -XEN_EINVAL;
    link = watch_find(q->c, abs, argv[1]);
    if (!link)
        return -XEN_ENOENT;
    w = *link;
    *link = w->next;
    q->c->conn_bytes -= w->bytes;
    xs_free(w);
    q->c->nwatches--;
    return reply_ok(q);
}

static void drop_watches(struct xs_conn *c)
{
    while (c->watches) {
        struct watch *w = c->watches;

        c->watches = w->next;
        c->conn_bytes -= w->bytes;
        xs_free(w);
    }
    c->nwatches = 0;
}

static void tx_free(struct tx *t)
{
    while (t->recs) {
        struct rec *r = t->recs;

        t->recs = r->next;
        xs_free(r->value);
        xs_free(r->perms);
        xs_free(r);
    }
    t->conn->conn_bytes -= t->bytes;
    xs_free(t);
}

static void drop_txs(struct xs_conn *c)
{
    while (c->txs) {
        struct tx *t = c->txs;

        c->txs = t->next;
        tx_free(t);
    }
    c->ntxs = 0;
}

static int do_reset_watches(struct req *q)
{
    drop_watches(q->c);
    drop_txs(q->c);
    return reply_ok(q);
}

static struct tx *tx_lookup(struct xs_conn *c, uint32_t id)
{
    struct tx *t;

    for (t = c->txs; t; t = t->next) {
        if (t->id == id)
            return t;
    }
    return NULL;
}

static int do_transaction_start(struct req *q)
{
    struct tx *t;
    char buf[12];

    if (q->hdr->tx_id)
        return -XEN_EBUSY;
    if (!q->w.priv && q->c->ntxs >= q->e->limits.transactions_per_domain)
        return -XEN_ENOSPC;
    t = zalloc(sizeof(*t));
    if (!t)
        return -XEN_ENOMEM;
    do {
        t->id = ++q->c->next_txid;
    } while (t->id == 0 || tx_lookup(q->c, t->id));
    t->conn = q->c;
    t->next = q->c->txs;
    q->c->txs = t;
    q->c->ntxs++;
    return reply(q, buf, fmt_u64(buf, t->id) + 1);
}

/* Did anything t saw change since? Every record's node must be as it was. */
static bool tx_conflicts(struct xs_engine *e, struct tx *t)
{
    struct rec *r;

    for (r = t->recs; r; r = r->next) {
        struct node *n = tree_lookup(e, r->path);

        if ((n ? n->gen : 0) != r->base_gen)
            return true;
    }
    return false;
}

static int tx_commit(struct xs_engine *e, struct who w, struct tx *t)
{
    unsigned created = 0, depth, maxdepth = 0;
    struct rec *r;
    int err;

    if (tx_conflicts(e, t))
        return -XEN_EAGAIN;
    for (r = t->recs; r; r = r->next) {
        if (r->modified && r->exists && r->fresh)
            created++;
        depth = r->depth;
        maxdepth = depth > maxdepth ? depth : maxdepth;
    }
    if ((err = quota_nodes(e, w, created)))
        return err;
    for (r = t->recs; r; r = r->next) {
        if (r->modified && r->exists && acct_reserve(e, r->perms[0].domid))
            return -XEN_ENOMEM;   /* so the counts below cannot fail half-way */
    }
    /* Removals first (a recreated node starts from nothing), then writes, parents first. */
    for (r = t->recs; r; r = r->next) {
        struct node *n;

        if (r->modified && (!r->exists || r->fresh) && r->path[1] && (n = tree_lookup(e, r->path)))
            tree_remove(e, n);
    }
    for (depth = 0; depth <= maxdepth; depth++) {
        for (r = t->recs; r; r = r->next) {
            struct node *n;

            if (!r->modified || !r->exists || r->depth != depth)
                continue;
            n = tree_lookup(e, r->path);
            if (!n && (err = tree_create(e, (struct who){ 0, true }, r->path, &n)))
                return err;
            acct_node(e, n, -1);
            xs_free(n->perms);
            xs_free(n->value);
            n->perms = r->perms;
            n->nperms = r->nperms;
            n->value = r->value;
            n->vlen = r->vlen;
            r->perms = NULL;
            r->value = NULL;
            acct_node(e, n, 1);
            touch(e, n);
            fire(e, r->path, n->perms, n->nperms, false);
        }
    }
    return 0;
}

/* Payload "T\0" commits, "F\0" aborts. */
static int do_transaction_end(struct req *q)
{
    const char *arg;
    struct tx **link;
    struct tx *t;
    int err = 0;

    if (!q->t)
        return -XEN_ENOENT;
    if (!split_args(q, &arg, 1) || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
        return -XEN_EINVAL;
    for (link = &q->c->txs; *link != q->t; link = &(*link)->next)
        ;
    t = *link;
    *link = t->next;
    q->c->ntxs--;
    if (arg[0] == 'T')
        err = tx_commit(q->e, q->w, t);
    tx_free(t);
    return err ? err : reply_ok(q);
}

static int do_get_domain_path(struct req *q)
{
    const char *arg;
    uint32_t domid;
    char buf[32];

    if (!split_args(q, &arg, 1) || !parse_domid(arg, &domid))
        return -XEN_EINVAL;
    return reply(q, buf, domain_prefix(domid, buf) + 1);
}

static int do_introduce(struct req *q)
{
    const char *argv[3];
    uint32_t domid;
    uint64_t gfn, port;
    int err;

    if (!split_args(q, argv, 3) || !parse_domid(argv[0], &domid) ||
        !parse_u64(argv[1], ~0ull, &gfn) || !parse_u64(argv[2], 0xffffffffu, &port))
        return -XEN_EINVAL;
    if (!q->e->hooks.introduce)
        return -XEN_ENOSYS;
    if ((err = q->e->hooks.introduce(q->e->ctx, domid, gfn, (uint32_t)port)))
        return err;
    xs_fire_special(q->e, "@introduceDomain");
    return reply_ok(q);
}

static int do_release(struct req *q)
{
    const char *arg;
    uint32_t domid;
    int err;

    if (!split_args(q, &arg, 1) || !parse_domid(arg, &domid) || domid == q->c->domid)
        return -XEN_EINVAL;
    if (!q->e->hooks.release)
        return -XEN_ENOSYS;
    if ((err = q->e->hooks.release(q->e->ctx, domid)))
        return err;
    xs_fire_special(q->e, "@releaseDomain");
    return reply_ok(q);
}

static int do_is_domain_introduced(struct req *q)
{
    const char *arg;
    uint32_t domid;

    if (!split_args(q, &arg, 1) || !parse_domid(arg, &domid))
        return -XEN_EINVAL;
    if (!q->e->hooks.is_introduced)
        return -XEN_ENOSYS;
    return reply(q, q->e->hooks.is_introduced(q->e->ctx, domid) ? "T" : "F", 2);
}

static bool engine_consistent(struct xs_engine *e);

/* XS_CONTROL: only "check" (verify the tree's bookkeeping); the rest of Xen's set is ENOSYS. */
static int do_control(struct req *q)
{
    const char *arg;

    if (!split_args(q, &arg, 1))
        return -XEN_EINVAL;
    if (strcmp(arg, "check") != 0)
        return -XEN_ENOSYS;
    return engine_consistent(q->e) ? reply_ok(q) : -XEN_EIO;
}

static int do_write_msg(struct req *q)
{
    return do_write(q, false);
}

static int do_mkdir(struct req *q)
{
    return do_write(q, true);
}

/* RESUME and SET_TARGET: no suspended domains or device models here (docs/xenstore.md). */
static int do_unsupported(struct req *q)
{
    (void)q;
    return -XEN_ENOSYS;
}

#define MSG_PRIV 1u   /* privileged connections only (Xen: XS_FLAG_PRIV) */
#define MSG_NOTX 2u   /* the header's tx_id is ignored (Xen: XS_FLAG_NOTID) */

static const struct {
    int (*handle)(struct req *q);
    unsigned flags;
} messages[XS_TYPE_COUNT] = {
    [XS_CONTROL]              = { do_control, MSG_PRIV },
    [XS_DIRECTORY]            = { do_directory, 0 },
    [XS_READ]                 = { do_read, 0 },
    [XS_GET_PERMS]            = { do_get_perms, 0 },
    [XS_WATCH]                = { do_watch, MSG_NOTX },
    [XS_UNWATCH]              = { do_unwatch, MSG_NOTX },
    [XS_TRANSACTION_START]    = { do_transaction_start, 0 },
    [XS_TRANSACTION_END]      = { do_transaction_end, 0 },
    [XS_INTRODUCE]            = { do_introduce, MSG_PRIV },
    [XS_RELEASE]              = { do_release, MSG_PRIV },
    [XS_GET_DOMAIN_PATH]      = { do_get_domain_path, 0 },
    [XS_WRITE]                = { do_write_msg, 0 },
    [XS_MKDIR]                = { do_mkdir, 0 },
    [XS_RM]                   = { do_rm, 0 },
    [XS_SET_PERMS]            = { do_set_perms, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, MSG_PRIV },
    [XS_RESUME]               = { do_unsupported, MSG_PRIV },
    [XS_SET_TARGET]           = { do_unsupported, MSG_PRIV },
    [XS_RESET_WATCHES]        = { do_reset_watches, 0 },
    [XS_DIRECTORY_PART]       = { do_directory_part, 0 },
};

/* Xen's process_message: unknown type, then privilege, then the transaction, then the handler. */
static int dispatch(struct req *q)
{
    uint32_t type = q->hdr->type;

    if (type >= XS_TYPE_COUNT || !messages[type].handle)
        return -XEN_ENOSYS;   /* also WATCH_EVENT and ERROR, which only the server sends */
    if ((messages[type].flags & MSG_PRIV) && !q->w.priv)
        return -XEN_EACCES;
    if (!(messages[type].flags & MSG_NOTX) && q->hdr->tx_id) {
        q->t = tx_lookup(q->c, q->hdr->tx_id);
        if (!q->t)
            return -XEN_ENOENT;
    }
    return messages[type].handle(q);
}

static const char *error_name(int err)
{
#define XS_ERR_CASE(name, value) case value: return #name;
    switch (-err) {
    XSD_ERROR_LIST(XS_ERR_CASE)
    default: return "EINVAL";   /* as Xen does for an errno it cannot name */
    }
#undef XS_ERR_CASE
}

static void handle_message(struct xs_engine *e, struct xs_conn *c)
{
    struct req q = { e, c, { c->domid, c->priv }, NULL, &c->hdr, (const char *)c->in,
                     c->hdr.len };
    int err;

    c->in[c->hdr.len] = 0;
    err = dispatch(&q);
    if (err) {
        const char *name = error_name(err);

        if (queue_msg(c, XS_ERROR, c->hdr.req_id, c->hdr.tx_id, name, strlen(name) + 1, NULL,
                      0, false))
            c->broken = true;   /* a client left without its reply would hang: say so */
    }
}

size_t xs_conn_feed(struct xs_engine *e, struct xs_conn *c, const void *bytes, size_t n)
{
    const uint8_t *src = bytes;
    size_t used = 0;

    while (used < n && !c->broken) {
        size_t want, take;

        /* Backpressure: start no new message while the client leaves replies unread. */
        if (c->in_used == 0 && c->out_replies >= e->limits.outstanding_per_domain)
            return used;
        if (c->in_used < sizeof(c->hdr)) {
            take = sizeof(c->hdr) - c->in_used;
            take = take < n - used ? take : n - used;
            memcpy((uint8_t *)&c->hdr + c->in_used, src + used, take);
            c->in_used += take;
            used += take;
            if (c->in_used < sizeof(c->hdr))
                break;
            if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
                c->broken = true;
                break;
            }
        }
        want = sizeof(c->hdr) + c->hdr.len - c->in_used;
        take = want < n - used ? want : n - used;
        memcpy(c->in + (c->in_used - sizeof(c->hdr)), src + used, take);
        c->in_used += take;
        used += take;
        if (take < want)
            break;
        c->in_used = 0;
        handle_message(e, c);
    }
    return c->broken ? n : used;
}

size_t xs_conn_output_pending(const struct xs_conn *c)
{
    return c->out_bytes;
}

size_t xs_conn_output(struct xs_conn *c, void *buf, size_t max)
{
    uint8_t *dst = buf;
    size_t done = 0;

    while (c->out_head && done < max) {
        struct outmsg *m = c->out_head;
        size_t take = m->len - m->off;

        take = take < max - done ? take : max - done;
        memcpy(dst + done, m->data + m->off, take);
        m->off += take;
        done += take;
        c->out_bytes -= take;
        if (m->off < m->len)
            break;
        c->out_head = m->next;
        if (!c->out_head)
            c->out_tail = NULL;
        if (m->event)
            c->out_events--;
        else
            c->out_replies--;
        xs_free(m);
    }
    return done;
}

bool xs_conn_broken(const struct xs_conn *c)
{
    return c->broken;
}

void *xs_conn_user(const struct xs_conn *c)
{
    return c->user;
}

uint32_t xs_conn_domid(const struct xs_conn *c)
{
    return c->domid;
}

struct xs_conn *xs_conn_new(struct xs_engine *e, uint32_t domid, bool privileged, void *user)
{
    struct xs_conn *c = zalloc(sizeof(*c));

    if (!c)
        return NULL;
    c->domid = domid;
    c->priv = privileged;
    c->user = user;
    c->next = e->conns;
    e->conns = c;
    return c;
}

void xs_conn_free(struct xs_engine *e, struct xs_conn *c)
{
    struct xs_conn **link;

    for (link = &e->conns; *link; link = &(*link)->next) {
        if (*link == c) {
            *link = c->next;
            break;
        }
    }
    drop_watches(c);
    drop_txs(c);
    while (c->out_head) {
        struct outmsg *m = c->out_head;

        c->out_head = m->next;
        xs_free(m);
    }
    xs_free(c);
}

struct xs_engine *xs_engine_new(const struct xs_limits *limits, const struct xs_hooks *hooks,
                                void *ctx)
{
    struct xs_engine *e = zalloc(sizeof(*e));

    if (!e)
        return NULL;
    if (limits)
        e->limits = *limits;
    else
        xs_limits_default(&e->limits);
    if (hooks)
        e->hooks = *hooks;
    e->ctx = ctx;
    e->root = node_alloc("", 0);
    if (!e->root || copy_perms(&e->root->perms, &root_perms, 1) ||
        !(e->root->value = dup_bytes("", 0)) || acct_reserve(e, 0)) {
        xs_engine_free(e);
        return NULL;
    }
    e->root->nperms = 1;
    acct_node(e, e->root, 1);
    touch(e, e->root);
    return e;
}

void xs_engine_free(struct xs_engine *e)
{
    struct node *n = e->root;

    while (e->conns)
        xs_conn_free(e, e->conns);
    /* Iteratively, leaves first. */
    while (n) {
        struct node *p;

        while (n->child)
            n = n->child;
        p = n->parent;
        if (p)
            p->child = n->sibling;
        node_free(n);
        n = p;
    }
    while (e->accts) {
        struct acct *a = e->accts;

        e->accts = a->next;
        xs_free(a);
    }
    xs_free(e);
}

/* ---- xenstored's own access ---- */

static const struct who self = { 0, true };

static int local_path(struct xs_engine *e, const char *path)
{
    if (strnlen(path, SCRATCH_PATH) >= SCRATCH_PATH || !abs_path_ok(path))
        return -XEN_EINVAL;
    memcpy(e->path, path, strlen(path) + 1);
    return 0;
}

int xs_local_write(struct xs_engine *e, const char *path, const void *value, size_t len)
{
    int err = local_path(e, path);

    return err ? err : op_write(e, self, NULL, e->path, value, len, false);
}

int xs_local_mkdir(struct xs_engine *e, const char *path)
{
    int err = local_path(e, path);

    return err ? err : op_write(e, self, NULL, e->path, NULL, 0, true);
}

int xs_local_rm(struct xs_engine *e, const char *path)
{
    int err = local_path(e, path);

    return err ? err : op_rm(e, self, NULL, e->path);
}

int xs_local_set_perms(struct xs_engine *e, const char *path, const struct xs_perm *perms,
                       unsigned count)
{
    int err = local_path(e, path);
    unsigned i;

    for (i = 0; i < count; i++) {
        if (perms[i].access > XS_ACCESS_BOTH)
            return -XEN_EINVAL;
    }
    return err ? err : op_set_perms(e, self, NULL, e->path, perms, count);
}

int xs_local_read(struct xs_engine *e, const char *path, void *buf, size_t max, size_t *len)
{
    struct node *n;
    int err = local_path(e, path);

    if (err)
        return err;
    n = tree_lookup(e, e->path);
    if (!n)
        return -XEN_ENOENT;
    if (max)
        memcpy(buf, n->value, n->vlen < max ? n->vlen : max);
    *len = n->vlen;
    return 0;
}

/* Visits every node once, parents before children, without recursion. */
static struct node *next_node(struct node *n)
{
    if (n->child)
        return n->child;
    while (n && !n->sibling)
        n = n->parent;
    return n ? n->sibling : NULL;
}

void xs_domain_gone(struct xs_engine *e, uint32_t domid)
{
    struct node *n;

    for (n = e->root; n; n = next_node(n)) {
        unsigned i, kept = 1;
        bool changed = false;

        acct_node(e, n, -1);
        if (n->perms[0].domid == domid) {
            changed = true;
            n->perms[0].domid = 0;
        }
        for (i = 1; i < n->nperms; i++) {
            if (n->perms[i].domid != domid)
                n->perms[kept++] = n->perms[i];
        }
        changed |= kept != n->nperms;
        n->nperms = kept;
        acct_node(e, n, 1);
        if (changed)
            touch(e, n);   /* transactions that saw the old perms must retry */
    }
}

/* The per-domain node counts match the tree, and every node has an owner. */
static bool engine_consistent(struct xs_engine *e)
{
    struct acct *a;
    struct node *n;

    for (a = e->accts; a; a = a->next) {
        unsigned count = 0;
        size_t bytes = 0;

        for (n = e->root; n; n = next_node(n)) {
            if (n->nperms == 0 || !n->perms || !n->value)
                return false;
            if (n->perms[0].domid == a->domid) {
                count++;
                bytes += node_bytes(n);
            }
        }
        if (count != a->nodes || bytes != a->bytes)
            return false;
    }
    for (n = e->root; n; n = next_node(n)) {
        if (!acct_get(e, n->perms[0].domid, false))
            return false;
    }
    return true;
}
