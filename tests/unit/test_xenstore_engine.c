/* test_xenstore_engine.c (host test): unit.xenstore_engine: every message and rule of the engine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xen/errno.h"
#include "xen/xenstore.h"
#include "../../toolstack/xenstored/engine.h"

/* ---- memory: malloc with a live count (leaks) and a failure switch (ENOMEM paths) ---- */

static long live_allocs;
static long fail_after = -1;   /* allocations left before they fail; -1: never */

void *xs_alloc(size_t size)
{
    void *p;

    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    p = malloc(size ? size : 1);
    if (p)
        live_allocs++;
    return p;
}

void xs_free(void *p)
{
    if (p) {
        live_allocs--;
        free(p);
    }
}

/* ---- hooks ---- */

static unsigned introduced[8];
static unsigned nintroduced;
static int hook_result;
static uint64_t last_gfn;
static uint32_t last_port;

static int hook_introduce(void *ctx, uint32_t domid, uint64_t gfn, uint32_t port)
{
    if (hook_result)
        return hook_result;
    last_gfn = gfn;
    last_port = port;
    introduced[nintroduced++ % 8] = domid;
    return 0;
}

static int hook_release(void *ctx, uint32_t domid)
{
    unsigned i;

    for (i = 0; i < nintroduced && i < 8; i++) {
        if (introduced[i] == domid) {
            introduced[i] = introduced[--nintroduced];
            return 0;
        }
    }
    return -XEN_ENOENT;
}

static bool hook_is_introduced(void *ctx, uint32_t domid)
{
    unsigned i;

    for (i = 0; i < nintroduced && i < 8; i++) {
        if (introduced[i] == domid)
            return true;
    }
    return false;
}

static const struct xs_hooks hooks = { hook_introduce, hook_release, hook_is_introduced };

/* ---- a fixture: the engine, dom0 (privileged) and two guests ---- */

/* One message taken off a connection's output. */
struct msg {
    struct xsd_sockmsg h;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

/* Watch events that arrived before a reply (Xen queues a write's events before its "OK"). */
static struct msg early[8];
static struct xs_conn *early_conn[8];
static unsigned nearly;

static struct xs_engine *e;
static struct xs_conn *dom0, *g1, *g2;

static int setup_with(const struct xs_limits *l)
{
    live_allocs = 0;
    fail_after = -1;
    nearly = 0;
    nintroduced = 0;
    hook_result = 0;
    e = xs_engine_new(l, &hooks, NULL);
    dom0 = xs_conn_new(e, 0, true, NULL);
    g1 = xs_conn_new(e, 1, false, NULL);
    g2 = xs_conn_new(e, 2, false, NULL);
    return e && dom0 && g1 && g2 ? 0 : -1;
}

static int setup(void **state)
{
    return setup_with(NULL);
}

static int teardown(void **state)
{
    xs_engine_free(e);
    e = NULL;
    /* Every allocation is returned. */
    return live_allocs == 0 ? 0 : -1;
}

/* A message to c, as bytes. */
static size_t feed(struct xs_conn *c, uint32_t type, uint32_t req, uint32_t tx, const void *p,
                   size_t len)
{
    uint8_t buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 16];
    struct xsd_sockmsg h = { type, req, tx, (uint32_t)len };

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    return xs_conn_feed(e, c, buf, sizeof(h) + len);
}


/* Takes the next message off c's output; false when none. */
static bool next_msg(struct xs_conn *c, struct msg *m)
{
    if (xs_conn_output_pending(c) < sizeof(m->h))
        return false;
    assert_int_equal(xs_conn_output(c, &m->h, sizeof(m->h)), sizeof(m->h));
    assert_true(m->h.len <= XENSTORE_PAYLOAD_MAX);
    assert_int_equal(xs_conn_output(c, m->body, m->h.len), m->h.len);
    m->body[m->h.len] = 0;
    return true;
}


/* Sends a request and returns its reply; events before it are kept for expect_event. */
static struct msg req(struct xs_conn *c, uint32_t type, uint32_t tx, const void *p, size_t len)
{
    static uint32_t req_id = 100;
    struct msg m;

    req_id++;
    assert_int_equal(feed(c, type, req_id, tx, p, len), sizeof(struct xsd_sockmsg) + len);
    for (;;) {
        assert_true(next_msg(c, &m));
        if (m.h.type != XS_WATCH_EVENT)
            break;
        assert_true(nearly < 8);
        early_conn[nearly] = c;
        early[nearly++] = m;
    }
    assert_int_equal(m.h.req_id, req_id);
    assert_int_equal(m.h.tx_id, tx);
    return m;
}

/* A payload written as a literal with its NULs spelled out. */
#define REQL(c, type, tx, lit) req(c, type, tx, lit, sizeof(lit) - 1)

/* One string argument with its NUL. */
static struct msg req1(struct xs_conn *c, uint32_t type, uint32_t tx, const char *a)
{
    return req(c, type, tx, a, strlen(a) + 1);
}

/* Two NUL-terminated strings. */
static struct msg req2(struct xs_conn *c, uint32_t type, uint32_t tx, const char *a,
                       const char *b)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t la = strlen(a) + 1, lb = strlen(b) + 1;

    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    return req(c, type, tx, buf, la + lb);
}

static struct msg do_write_tx(struct xs_conn *c, uint32_t tx, const char *path, const char *v)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t lp = strlen(path) + 1, lv = strlen(v);

    memcpy(buf, path, lp);
    memcpy(buf + lp, v, lv);
    return req(c, XS_WRITE, tx, buf, lp + lv);
}

static struct msg do_write(struct xs_conn *c, const char *path, const char *v)
{
    return do_write_tx(c, 0, path, v);
}

#define assert_ok(m)                                  \
    do {                                              \
        struct msg m_ = (m);                          \
        assert_int_not_equal(m_.h.type, XS_ERROR);    \
        assert_string_equal(m_.body, "OK");           \
    } while (0)

#define assert_err(m, name)                           \
    do {                                              \
        struct msg m_ = (m);                          \
        assert_int_equal(m_.h.type, XS_ERROR);        \
        assert_string_equal(m_.body, name);           \
    } while (0)

#define assert_value(m, v)                            \
    do {                                              \
        struct msg m_ = (m);                          \
        assert_int_equal(m_.h.type, XS_READ);         \
        assert_int_equal(m_.h.len, strlen(v));        \
        assert_memory_equal(m_.body, v, strlen(v));   \
    } while (0)

/* The oldest event for c: one that came before a reply, else the next on its output. */
static void next_event(struct xs_conn *c, struct msg *m)
{
    unsigned i;

    for (i = 0; i < nearly; i++) {
        if (early_conn[i] == c) {
            *m = early[i];
            memmove(&early[i], &early[i + 1], (nearly - i - 1) * sizeof(early[0]));
            memmove(&early_conn[i], &early_conn[i + 1], (nearly - i - 1) * sizeof(early_conn[0]));
            nearly--;
            return;
        }
    }
    assert_true(next_msg(c, m));
}

static void expect_event(struct xs_conn *c, const char *path, const char *token)
{
    struct msg m;

    next_event(c, &m);
    assert_int_equal(m.h.type, XS_WATCH_EVENT);
    assert_string_equal(m.body, path);
    assert_string_equal(m.body + strlen(path) + 1, token);
    assert_int_equal(m.h.len, strlen(path) + strlen(token) + 2);
}

static void expect_nothing(struct xs_conn *c)
{
    unsigned i;

    for (i = 0; i < nearly; i++)
        assert_ptr_not_equal(early_conn[i], c);
    assert_int_equal(xs_conn_output_pending(c), 0);
}

/* dom0 gives domain d its home /local/domain/d, owned by d (what xenstored does at introduce). */
static void make_home(uint32_t d)
{
    char path[64];
    struct xs_perm p = { d, XS_ACCESS_NONE };

    snprintf(path, sizeof(path), "/local/domain/%u", d);
    assert_int_equal(xs_local_mkdir(e, path), 0);
    assert_int_equal(xs_local_set_perms(e, path, &p, 1), 0);
}

static void assert_consistent(void)
{
    assert_ok(req1(dom0, XS_CONTROL, 0, "check"));
}

/* ---- basic messages ---- */

static void test_read_missing_is_enoent(void **s)
{
    assert_err(req1(dom0, XS_READ, 0, "/nope"), "ENOENT");
}

static void test_write_then_read(void **s)
{
    assert_ok(do_write(dom0, "/a", "hello"));
    assert_value(req1(dom0, XS_READ, 0, "/a"), "hello");
    /* An empty value and one with NULs inside are kept byte for byte. */
    assert_ok(REQL(dom0, XS_WRITE, 0, "/b\0x\0y"));
    {
        struct msg m = req1(dom0, XS_READ, 0, "/b");

        assert_int_equal(m.h.len, 3);
        assert_memory_equal(m.body, "x\0y", 3);
    }
    assert_ok(do_write(dom0, "/a", ""));
    assert_value(req1(dom0, XS_READ, 0, "/a"), "");
    assert_consistent();
}

static void test_write_creates_parents_with_inherited_perms(void **s)
{
    struct msg m;

    make_home(1);
    assert_ok(do_write(g1, "/local/domain/1/x/y/z", "v"));
    assert_value(req1(g1, XS_READ, 0, "/local/domain/1/x/y"), "");
    m = req1(dom0, XS_GET_PERMS, 0, "/local/domain/1/x");
    assert_int_equal(m.h.len, 3);
    assert_string_equal(m.body, "n1");
    assert_consistent();
}

static void test_guest_owns_what_it_creates(void **s)
{
    struct xs_perm p[2] = { { 0, XS_ACCESS_NONE }, { 1, XS_ACCESS_WRITE } };
    struct msg m;

    /* dom0's directory that domain 1 may write but not read. */
    assert_int_equal(xs_local_mkdir(e, "/shared"), 0);
    assert_int_equal(xs_local_set_perms(e, "/shared", p, 2), 0);
    assert_ok(do_write(g1, "/shared/mine", "1"));
    m = req1(dom0, XS_GET_PERMS, 0, "/shared/mine");
    /* Owner 1, the rest copied from the parent. */
    assert_int_equal(m.h.len, 6);
    assert_memory_equal(m.body, "n1\0w1\0", 6);
    assert_value(req1(g1, XS_READ, 0, "/shared/mine"), "1");
    assert_consistent();
}

static void test_mkdir(void **s)
{
    assert_ok(req1(dom0, XS_MKDIR, 0, "/d/e"));
    assert_value(req1(dom0, XS_READ, 0, "/d/e"), "");
    assert_ok(do_write(dom0, "/d/e", "keep"));
    /* MKDIR of an existing node changes nothing. */
    assert_ok(req1(dom0, XS_MKDIR, 0, "/d/e"));
    assert_value(req1(dom0, XS_READ, 0, "/d/e"), "keep");
}

static void test_rm(void **s)
{
    assert_ok(do_write(dom0, "/r/a/b", "1"));
    assert_ok(do_write(dom0, "/r/c", "2"));
    assert_ok(req1(dom0, XS_RM, 0, "/r"));
    assert_err(req1(dom0, XS_READ, 0, "/r/a/b"), "ENOENT");
    assert_err(req1(dom0, XS_READ, 0, "/r"), "ENOENT");
    /* Missing node, parent present: fine. Parent missing too: ENOENT. */
    assert_ok(req1(dom0, XS_RM, 0, "/gone"));
    assert_err(req1(dom0, XS_RM, 0, "/gone/deeper"), "ENOENT");
    assert_err(req1(dom0, XS_RM, 0, "/"), "EINVAL");
    assert_consistent();
}

static void test_directory(void **s)
{
    struct msg m;

    assert_ok(do_write(dom0, "/dir/one", "1"));
    assert_ok(do_write(dom0, "/dir/two", "2"));
    assert_ok(do_write(dom0, "/dir/two/deep", "3"));
    m = req1(dom0, XS_DIRECTORY, 0, "/dir");
    assert_int_equal(m.h.type, XS_DIRECTORY);
    assert_int_equal(m.h.len, 8);
    assert_memory_equal(m.body, "one\0two\0", 8);
    m = req1(dom0, XS_DIRECTORY, 0, "/dir/one");
    assert_int_equal(m.h.len, 0);
    assert_err(req1(dom0, XS_DIRECTORY, 0, "/nodir"), "ENOENT");
}

static void test_directory_too_long_is_e2big_and_part_pages(void **s)
{
    char path[64], name[40], expect_gen[24];
    size_t total = 0, off = 0, got = 0;
    unsigned i, parts = 0;
    struct msg m;

    for (i = 0; i < 200; i++) {
        snprintf(path, sizeof(path), "/big/child-with-a-long-name-%04u", i);
        assert_int_equal(xs_local_mkdir(e, path), 0);
        total += strlen(path) - 5 + 1;
    }
    assert_true(total > XENSTORE_PAYLOAD_MAX);
    assert_err(req1(dom0, XS_DIRECTORY, 0, "/big"), "E2BIG");
    expect_gen[0] = 0;
    for (;;) {
        char offs[24];
        size_t glen, body;

        snprintf(offs, sizeof(offs), "%zu", off);
        m = req2(dom0, XS_DIRECTORY_PART, 0, "/big", offs);
        assert_int_equal(m.h.type, XS_DIRECTORY_PART);
        glen = strlen(m.body) + 1;
        if (expect_gen[0])
            assert_string_equal(m.body, expect_gen);
        else
            strcpy(expect_gen, m.body);
        parts++;
        body = m.h.len - glen;
        /* Names back to back; a trailing empty name ends the list. */
        if (body > 0 && m.body[m.h.len - 1] == 0 && (body == 1 || m.body[m.h.len - 2] == 0)) {
            got += body - 1;
            if (got)
                snprintf(name, sizeof(name), "child-with-a-long-name-%04u", 199);
            break;
        }
        got += body;
        off += body;
        assert_true(parts < 10);
    }
    assert_int_equal(got, total);
    assert_true(parts >= 2);
    /* At or past the end: just the terminator (as Xen). */
    snprintf(path, sizeof(path), "%zu", total);
    m = req2(dom0, XS_DIRECTORY_PART, 0, "/big", path);
    assert_int_equal(m.h.len, strlen(m.body) + 2);
    snprintf(path, sizeof(path), "%zu", total + 100);
    m = req2(dom0, XS_DIRECTORY_PART, 0, "/big", path);
    assert_int_equal(m.h.len, strlen(m.body) + 2);
    assert_err(req2(dom0, XS_DIRECTORY_PART, 0, "/big", "x"), "EINVAL");
    /* The generation changes when the child list does. */
    assert_int_equal(xs_local_mkdir(e, "/big/new"), 0);
    m = req2(dom0, XS_DIRECTORY_PART, 0, "/big", "0");
    assert_string_not_equal(m.body, expect_gen);
}

static void test_get_domain_path(void **s)
{
    struct msg m = req1(g1, XS_GET_DOMAIN_PATH, 0, "7");

    assert_int_equal(m.h.type, XS_GET_DOMAIN_PATH);
    assert_string_equal(m.body, "/local/domain/7");
    assert_int_equal(m.h.len, strlen("/local/domain/7") + 1);
    assert_err(req1(g1, XS_GET_DOMAIN_PATH, 0, "x7"), "EINVAL");
    assert_err(req1(g1, XS_GET_DOMAIN_PATH, 0, "70000"), "EINVAL");
}

static void test_relative_paths(void **s)
{
    make_home(1);
    assert_ok(do_write(g1, "device/vif/0", "x"));
    assert_value(req1(dom0, XS_READ, 0, "/local/domain/1/device/vif/0"), "x");
    assert_value(req1(g1, XS_READ, 0, "device/vif/0"), "x");
}

static void test_path_validity(void **s)
{
    static char longp[XENSTORE_ABS_PATH_MAX + 8];

    assert_err(do_write(dom0, "/a/", "x"), "EINVAL");
    assert_err(do_write(dom0, "/a//b", "x"), "EINVAL");
    assert_err(do_write(dom0, "/a b", "x"), "EINVAL");
    assert_err(do_write(dom0, "/a.b", "x"), "EINVAL");
    assert_err(do_write(dom0, "", "x"), "EINVAL");
    assert_ok(do_write(dom0, "/Aa-_@9", "x"));
    /* "@name" is a special watch, not a node, and not relative either. */
    assert_err(do_write(dom0, "@releaseDomain", "x"), "EINVAL");
    assert_err(REQL(dom0, XS_SET_PERMS, 0, "@releaseDomain\0r0\0"), "EINVAL");
    longp[0] = '/';
    memset(longp + 1, 'a', XENSTORE_ABS_PATH_MAX);
    longp[XENSTORE_ABS_PATH_MAX] = 0;   /* exactly the maximum: accepted */
    assert_ok(req1(dom0, XS_MKDIR, 0, longp));
    longp[XENSTORE_ABS_PATH_MAX] = 'a';
    longp[XENSTORE_ABS_PATH_MAX + 1] = 0;
    assert_err(req1(dom0, XS_MKDIR, 0, longp), "EINVAL");
    /* Relative: at most XENSTORE_REL_PATH_MAX. */
    make_home(1);
    memset(longp, 'b', XENSTORE_REL_PATH_MAX + 1);
    longp[XENSTORE_REL_PATH_MAX + 1] = 0;
    assert_err(req1(g1, XS_MKDIR, 0, longp), "EINVAL");
    assert_consistent();
}

static void test_deep_tree_is_iterative(void **s)
{
    static char p[XENSTORE_ABS_PATH_MAX + 1];
    size_t n = 0;

    /* The deepest tree a path allows: 1536 levels; RM and engine_free must not recurse. */
    while (n + 2 <= XENSTORE_ABS_PATH_MAX) {
        p[n++] = '/';
        p[n++] = 'x';
    }
    p[n] = 0;
    assert_ok(do_write(dom0, p, "deep"));
    assert_value(req1(dom0, XS_READ, 0, p), "deep");
    assert_ok(req1(dom0, XS_RM, 0, "/x/x"));
    assert_ok(do_write(dom0, p, "again"));
    assert_consistent();
}

/* ---- permissions ---- */

static void test_perms_default_and_set(void **s)
{
    struct msg m;

    assert_ok(do_write(dom0, "/p", "v"));
    m = req1(dom0, XS_GET_PERMS, 0, "/p");
    assert_int_equal(m.h.type, XS_GET_PERMS);
    assert_int_equal(m.h.len, 3);
    assert_string_equal(m.body, "n0");
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/p\0b5\0r1\0w2\0"));
    m = req1(dom0, XS_GET_PERMS, 0, "/p");
    assert_int_equal(m.h.len, 9);
    assert_memory_equal(m.body, "b5\0r1\0w2\0", 9);
    assert_err(REQL(dom0, XS_SET_PERMS, 0, "/p\0x5\0"), "EINVAL");
    assert_err(REQL(dom0, XS_SET_PERMS, 0, "/p\0r\0"), "EINVAL");
    assert_err(REQL(dom0, XS_SET_PERMS, 0, "/p\0r99999\0"), "EINVAL");
    assert_err(REQL(dom0, XS_SET_PERMS, 0, "/p\0"), "EINVAL");
    assert_err(REQL(dom0, XS_SET_PERMS, 0, "/p\0r1"), "EINVAL");
    assert_consistent();
}

static void test_unprivileged_access_rules(void **s)
{
    /* /priv: dom0's, nobody else. /pub: everyone reads. /g2: domain 2 writes, others nothing. */
    assert_ok(do_write(dom0, "/priv/x", "secret"));
    assert_ok(do_write(dom0, "/pub", "hi"));
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/pub\0r0\0"));
    assert_ok(do_write(dom0, "/g2", ""));
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/g2\0n0\0w2\0"));

    assert_err(req1(g1, XS_READ, 0, "/priv/x"), "EACCES");
    assert_err(req1(g1, XS_DIRECTORY, 0, "/priv"), "EACCES");
    assert_err(req1(g1, XS_GET_PERMS, 0, "/priv"), "EACCES");
    assert_value(req1(g1, XS_READ, 0, "/pub"), "hi");
    assert_err(do_write(g1, "/pub", "no"), "EACCES");
    /* Absent under an unreadable parent: EACCES, so existence does not leak. */
    assert_err(req1(g1, XS_READ, 0, "/priv/absent"), "EACCES");
    /* Absent under a readable parent: ENOENT. */
    assert_err(req1(g1, XS_READ, 0, "/pub/absent"), "ENOENT");
    /* Creating needs write on the nearest existing ancestor. */
    assert_err(do_write(g1, "/pub/new", "x"), "EACCES");
    assert_err(do_write(g1, "/priv/new/deeper", "x"), "EACCES");
    assert_ok(do_write(g2, "/g2/new", "x"));
    assert_err(req1(g1, XS_RM, 0, "/pub"), "EACCES");
    /* Write-only: domain 2 may write /g2 but not read it. */
    assert_ok(do_write(g2, "/g2", "w"));
    assert_err(req1(g2, XS_READ, 0, "/g2"), "EACCES");
    assert_consistent();
}

static void test_owner_has_full_access_and_only_it_sets_perms(void **s)
{
    make_home(1);
    assert_ok(do_write(g1, "/local/domain/1/f", "x"));
    /* The owner sets "n1 r2": domain 2 reads, others not. */
    assert_ok(REQL(g1, XS_SET_PERMS, 0, "/local/domain/1/f\0n1\0r2\0"));
    assert_value(req1(g2, XS_READ, 0, "/local/domain/1/f"), "x");
    assert_err(do_write(g2, "/local/domain/1/f", "y"), "EACCES");
    /* Domain 2 cannot change perms (not owner), domain 1 cannot give the node away. */
    assert_err(REQL(g2, XS_SET_PERMS, 0, "/local/domain/1/f\0b2\0"), "EACCES");
    assert_err(REQL(g1, XS_SET_PERMS, 0, "/local/domain/1/f\0b2\0"), "EPERM");
    /* Even with "n1", the owner keeps full access. */
    assert_ok(REQL(g1, XS_SET_PERMS, 0, "/local/domain/1/f\0n1\0"));
    assert_value(req1(g1, XS_READ, 0, "/local/domain/1/f"), "x");
    /* dom0 may change the owner; the node counts move with it. */
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/local/domain/1/f\0n2\0"));
    assert_err(req1(g1, XS_READ, 0, "/local/domain/1/f"), "EACCES");
    assert_consistent();
}

static void test_perms_quota(void **s)
{
    make_home(1);
    assert_ok(do_write(g1, "/local/domain/1/q", "x"));
    assert_ok(REQL(g1, XS_SET_PERMS, 0, "/local/domain/1/q\0n1\0r2\0r3\0r4\0r5\0"));
    assert_err(REQL(g1, XS_SET_PERMS, 0, "/local/domain/1/q\0n1\0r2\0r3\0r4\0r5\0r6\0"),
               "ENOSPC");
    /* dom0 is exempt, up to the engine's hard 16. */
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/local/domain/1/q\0n1\0r2\0r3\0r4\0r5\0r6\0"));
}

/* ---- watches ---- */

static void test_watch_fires_on_registration(void **s)
{
    struct msg m = req2(dom0, XS_WATCH, 0, "/w", "tok");

    assert_ok(m);
    expect_event(dom0, "/w", "tok");
    expect_nothing(dom0);
}

static void test_watch_fires_on_path_and_below_only(void **s)
{
    assert_ok(req2(dom0, XS_WATCH, 0, "/w/a", "t"));
    expect_event(dom0, "/w/a", "t");
    assert_ok(do_write(dom0, "/w/a", "1"));
    expect_event(dom0, "/w/a", "t");
    assert_ok(do_write(dom0, "/w/a/b/c", "1"));
    expect_event(dom0, "/w/a/b/c", "t");
    assert_ok(do_write(dom0, "/w/ab", "1"));   /* a sibling with the same prefix */
    assert_ok(do_write(dom0, "/w", "1"));      /* a parent */
    expect_nothing(dom0);
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/w/a\0r0\0"));
    expect_event(dom0, "/w/a", "t");
    assert_ok(req1(dom0, XS_RM, 0, "/w/a/b"));
    expect_event(dom0, "/w/a/b", "t");
    expect_nothing(dom0);
}

static void test_watch_on_root_sees_everything(void **s)
{
    assert_ok(req2(dom0, XS_WATCH, 0, "/", "all"));
    expect_event(dom0, "/", "all");
    assert_ok(do_write(dom0, "/x/y", "1"));
    expect_event(dom0, "/x/y", "all");
}

static void test_watch_other_connection_and_relative(void **s)
{
    make_home(1);
    assert_ok(req2(g1, XS_WATCH, 0, "device", "rel"));
    expect_event(g1, "device", "rel");
    assert_ok(do_write(dom0, "/local/domain/1/device/vbd/768", "x"));
    expect_event(g1, "device/vbd/768", "rel");
    expect_nothing(dom0);
}

static void test_watch_needs_read_access(void **s)
{
    assert_ok(req2(g1, XS_WATCH, 0, "/secret", "t"));
    expect_event(g1, "/secret", "t");
    assert_ok(do_write(dom0, "/secret", "x"));   /* "n0": domain 1 cannot read it */
    expect_nothing(g1);
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/secret\0r0\0"));
    expect_event(g1, "/secret", "t");
}

static void test_rm_fires_watches_below(void **s)
{
    assert_ok(do_write(dom0, "/t/a/b", "1"));
    assert_ok(req2(dom0, XS_WATCH, 0, "/t/a/b", "deep"));
    expect_event(dom0, "/t/a/b", "deep");
    assert_ok(req2(dom0, XS_WATCH, 0, "/t", "top"));
    expect_event(dom0, "/t", "top");
    assert_ok(req1(dom0, XS_RM, 0, "/t/a"));
    /* The removal itself, then each descendant's own watches. */
    expect_event(dom0, "/t/a", "top");
    expect_event(dom0, "/t/a/b", "deep");
    expect_nothing(dom0);
}

static void test_unwatch_and_duplicates(void **s)
{
    assert_ok(req2(dom0, XS_WATCH, 0, "/u", "t"));
    expect_event(dom0, "/u", "t");
    assert_err(req2(dom0, XS_WATCH, 0, "/u", "t"), "EEXIST");
    assert_ok(req2(dom0, XS_WATCH, 0, "/u", "t2"));
    expect_event(dom0, "/u", "t2");
    assert_ok(req2(dom0, XS_UNWATCH, 0, "/u", "t"));
    assert_err(req2(dom0, XS_UNWATCH, 0, "/u", "t"), "ENOENT");
    assert_ok(do_write(dom0, "/u", "1"));
    expect_event(dom0, "/u", "t2");
    expect_nothing(dom0);
    assert_err(req1(dom0, XS_WATCH, 0, "/u"), "EINVAL");
    assert_err(req2(dom0, XS_WATCH, 0, "/u/", "t"), "EINVAL");
}

static void test_reset_watches(void **s)
{
    assert_ok(req2(dom0, XS_WATCH, 0, "/v", "t"));
    expect_event(dom0, "/v", "t");
    assert_ok(req1(dom0, XS_RESET_WATCHES, 0, ""));
    assert_ok(do_write(dom0, "/v", "1"));
    expect_nothing(dom0);
}

static void test_watch_quota(void **s)
{
    char tok[16];
    unsigned i;

    for (i = 0; i < 128; i++) {
        snprintf(tok, sizeof(tok), "t%u", i);
        assert_ok(req2(g1, XS_WATCH, 0, "/q", tok));
        expect_event(g1, "/q", tok);
    }
    assert_err(req2(g1, XS_WATCH, 0, "/q", "one-more"), "E2BIG");
}

static void test_watch_memory_quota(void **s)
{
    static char tok[2100];
    struct xs_limits l;
    unsigned i;
    struct msg m;

    xs_engine_free(e);
    xs_limits_default(&l);
    l.memory_per_domain = 16 * 1024;
    setup_with(&l);
    memset(tok, 't', sizeof(tok) - 1);
    /* Long tokens: the memory quota ends it long before 128 watches. */
    for (i = 0; i < 20; i++) {
        tok[0] = (char)('a' + i);
        m = req2(g1, XS_WATCH, 0, "/q", tok);
        if (m.h.type == XS_ERROR)
            break;
        expect_event(g1, "/q", tok);
    }
    assert_string_equal(m.body, "ENOSPC");
    assert_true(i >= 5 && i < 9);
    /* UNWATCH gives the memory back. */
    tok[0] = 'a';
    assert_ok(req2(g1, XS_UNWATCH, 0, "/q", tok));
    tok[0] = 'z';
    assert_ok(req2(g1, XS_WATCH, 0, "/q", tok));
    expect_event(g1, "/q", tok);
}

static void test_special_watches(void **s)
{
    assert_ok(req2(dom0, XS_WATCH, 0, "@releaseDomain", "rel"));
    expect_event(dom0, "@releaseDomain", "rel");
    assert_ok(req2(g1, XS_WATCH, 0, "@releaseDomain", "rel"));
    expect_event(g1, "@releaseDomain", "rel");
    xs_fire_special(e, "@releaseDomain");
    expect_event(dom0, "@releaseDomain", "rel");
    expect_nothing(g1);   /* special events go to privileged connections only */
    xs_fire_special(e, "@introduceDomain");
    expect_nothing(dom0);
}

static void test_conn_free_drops_watches(void **s)
{
    struct xs_conn *g3 = xs_conn_new(e, 3, false, (void *)0x1234);

    assert_ptr_equal(xs_conn_user(g3), (void *)0x1234);
    assert_int_equal(xs_conn_domid(g3), 3);
    assert_ok(req2(g3, XS_WATCH, 0, "/", "t"));
    assert_int_equal(feed(g3, XS_TRANSACTION_START, 1, 0, "", 1), 17);
    xs_conn_free(e, g3);
    assert_ok(do_write(dom0, "/after", "1"));
    expect_nothing(dom0);
}

/* ---- transactions ---- */

static uint32_t tx_start(struct xs_conn *c)
{
    struct msg m = req1(c, XS_TRANSACTION_START, 0, "");

    assert_int_equal(m.h.type, XS_TRANSACTION_START);
    return (uint32_t)strtoul(m.body, NULL, 10);
}

static void test_transaction_commit(void **s)
{
    uint32_t t = tx_start(dom0);
    struct msg m;

    assert_int_not_equal(t, 0);
    assert_ok(do_write_tx(dom0, t, "/tx/a", "1"));
    /* Inside: visible. Outside: not yet. */
    assert_value(req1(dom0, XS_READ, t, "/tx/a"), "1");
    assert_err(req1(dom0, XS_READ, 0, "/tx/a"), "ENOENT");
    m = req1(dom0, XS_DIRECTORY, t, "/tx");
    assert_int_equal(m.h.len, 2);
    assert_ok(req1(dom0, XS_TRANSACTION_END, t, "T"));
    assert_value(req1(dom0, XS_READ, 0, "/tx/a"), "1");
    /* The id is gone. */
    assert_err(req1(dom0, XS_READ, t, "/tx/a"), "ENOENT");
    assert_consistent();
}

static void test_transaction_abort(void **s)
{
    uint32_t t = tx_start(dom0);

    assert_ok(do_write_tx(dom0, t, "/ab", "1"));
    assert_ok(req1(dom0, XS_TRANSACTION_END, t, "F"));
    assert_err(req1(dom0, XS_READ, 0, "/ab"), "ENOENT");
}

static void test_transaction_conflict(void **s)
{
    uint32_t t1, t2;

    assert_ok(do_write(dom0, "/c", "0"));
    t1 = tx_start(dom0);
    t2 = tx_start(dom0);
    assert_int_not_equal(t1, t2);
    assert_value(req1(dom0, XS_READ, t1, "/c"), "0");
    assert_value(req1(dom0, XS_READ, t2, "/c"), "0");
    assert_ok(do_write_tx(dom0, t1, "/c", "1"));
    assert_ok(do_write_tx(dom0, t2, "/c", "2"));
    assert_ok(req1(dom0, XS_TRANSACTION_END, t1, "T"));
    assert_err(req1(dom0, XS_TRANSACTION_END, t2, "T"), "EAGAIN");
    assert_value(req1(dom0, XS_READ, 0, "/c"), "1");
    /* A read-only transaction conflicts too when what it read changed. */
    t1 = tx_start(dom0);
    assert_value(req1(dom0, XS_READ, t1, "/c"), "1");
    assert_ok(do_write(dom0, "/c", "3"));
    assert_err(req1(dom0, XS_TRANSACTION_END, t1, "T"), "EAGAIN");
    /* So does one that saw a node absent that now exists. */
    t1 = tx_start(dom0);
    assert_err(req1(dom0, XS_READ, t1, "/later"), "ENOENT");
    assert_ok(do_write(dom0, "/later", "x"));
    assert_err(req1(dom0, XS_TRANSACTION_END, t1, "T"), "EAGAIN");
    /* Unrelated changes do not conflict. */
    t1 = tx_start(dom0);
    assert_value(req1(dom0, XS_READ, t1, "/c"), "3");
    assert_ok(do_write(dom0, "/elsewhere", "x"));
    assert_ok(req1(dom0, XS_TRANSACTION_END, t1, "T"));
    assert_consistent();
}

static void test_transaction_two_guests(void **s)
{
    uint32_t t1, t2;

    assert_ok(do_write(dom0, "/shared", ""));
    assert_ok(REQL(dom0, XS_SET_PERMS, 0, "/shared\0b0\0"));
    t1 = tx_start(g1);
    t2 = tx_start(g2);
    assert_err(req1(g1, XS_READ, t1, "/shared/k"), "ENOENT");
    assert_err(req1(g2, XS_READ, t2, "/shared/k"), "ENOENT");
    assert_ok(do_write_tx(g1, t1, "/shared/k", "one"));
    assert_ok(do_write_tx(g2, t2, "/shared/k", "two"));
    assert_ok(req1(g2, XS_TRANSACTION_END, t2, "T"));
    assert_err(req1(g1, XS_TRANSACTION_END, t1, "T"), "EAGAIN");
    assert_value(req1(dom0, XS_READ, 0, "/shared/k"), "two");
    /* A transaction id is per connection. */
    t1 = tx_start(g1);
    assert_err(req1(g2, XS_READ, t1, "/shared/k"), "ENOENT");
    assert_consistent();
}

static void test_transaction_rm_and_recreate(void **s)
{
    uint32_t t;
    struct msg m;

    assert_ok(do_write(dom0, "/tr/old/x", "1"));
    assert_ok(do_write(dom0, "/tr/keep", "2"));
    t = tx_start(dom0);
    assert_ok(req1(dom0, XS_RM, t, "/tr/old"));
    assert_err(req1(dom0, XS_READ, t, "/tr/old/x"), "ENOENT");
    m = req1(dom0, XS_DIRECTORY, t, "/tr");
    assert_int_equal(m.h.len, 5);
    assert_memory_equal(m.body, "keep\0", 5);
    /* Recreated inside: its old children stay gone. */
    assert_ok(do_write_tx(dom0, t, "/tr/old/y", "3"));
    m = req1(dom0, XS_DIRECTORY, t, "/tr/old");
    assert_int_equal(m.h.len, 2);
    assert_memory_equal(m.body, "y\0", 2);
    assert_value(req1(dom0, XS_READ, 0, "/tr/old/x"), "1");
    assert_ok(req2(dom0, XS_WATCH, 0, "/tr", "w"));
    expect_event(dom0, "/tr", "w");
    assert_ok(req1(dom0, XS_TRANSACTION_END, t, "T"));
    /* Watches fire at commit. */
    assert_true(nearly > 0);
    nearly = 0;
    assert_err(req1(dom0, XS_READ, 0, "/tr/old/x"), "ENOENT");
    assert_value(req1(dom0, XS_READ, 0, "/tr/old/y"), "3");
    assert_value(req1(dom0, XS_READ, 0, "/tr/keep"), "2");
    assert_consistent();
}

static void test_transaction_set_perms_and_mkdir(void **s)
{
    uint32_t t = tx_start(dom0);
    struct msg m;

    assert_ok(req1(dom0, XS_MKDIR, t, "/tp"));
    assert_ok(REQL(dom0, XS_SET_PERMS, t, "/tp\0r0\0"));
    m = req1(dom0, XS_GET_PERMS, t, "/tp");
    assert_string_equal(m.body, "r0");
    m = req2(dom0, XS_DIRECTORY_PART, t, "/", "0");
    assert_int_equal(m.h.type, XS_DIRECTORY_PART);
    assert_ok(req1(dom0, XS_TRANSACTION_END, t, "T"));
    assert_value(req1(g1, XS_READ, 0, "/tp"), "");
    assert_consistent();
}

static void test_transaction_deep_paths_stay_cheap(void **s)
{
    static char p[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_limits l;
    size_t n;
    uint32_t t;

    /* A guest's deepest path in a transaction: records are found by hash, so each of the
     * ~1500 levels costs O(path) and this runs in milliseconds, not minutes. */
    xs_engine_free(e);
    xs_limits_default(&l);
    l.nodes_per_domain = 4000;
    l.nodes_per_transaction = 4000;
    l.memory_per_domain = 16u << 20;   /* the records' paths alone are ~2.3 MiB */
    setup_with(&l);
    make_home(1);
    n = (size_t)snprintf(p, sizeof(p), "/local/domain/1");
    while (n + 2 <= XENSTORE_ABS_PATH_MAX) {
        p[n++] = '/';
        p[n++] = 'd';
    }
    p[n] = 0;
    t = tx_start(g1);
    assert_ok(do_write_tx(g1, t, p, "deep"));
    assert_value(req1(g1, XS_READ, t, p), "deep");
    assert_ok(req1(g1, XS_RM, t, "/local/domain/1/d/d"));
    assert_err(req1(g1, XS_READ, t, p), "ENOENT");
    assert_ok(do_write_tx(g1, t, p, "again"));
    assert_ok(req1(g1, XS_TRANSACTION_END, t, "T"));
    assert_value(req1(g1, XS_READ, 0, p), "again");
    assert_consistent();
}

/* ---- a transaction against the same operations applied directly, on random trees ---- */

/* A request on any engine; watch events (none are registered here) would be skipped. */
static struct msg ereq(struct xs_engine *en, struct xs_conn *c, uint32_t type, uint32_t tx,
                       const void *p, size_t len)
{
    uint8_t buf[sizeof(struct xsd_sockmsg) + 256];
    struct xsd_sockmsg h = { type, 1, tx, (uint32_t)len };
    struct msg m;

    assert_true(len <= 256);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    assert_int_equal(xs_conn_feed(en, c, buf, sizeof(h) + len), sizeof(h) + len);
    do
        assert_true(next_msg(c, &m));
    while (m.h.type == XS_WATCH_EVENT);
    return m;
}

static uint32_t rng_state;

static unsigned rng(unsigned n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) % n;
}

/* One of 39 paths under /r: /r/x, /r/x/y, /r/x/y/z with x, y, z in {a, b, c}. */
static void random_path(char *p)
{
    unsigned depth = 1 + rng(3), i;

    strcpy(p, "/r");
    for (i = 0; i < depth; i++) {
        char comp[3] = { '/', (char)('a' + rng(3)), 0 };

        strcat(p, comp);
    }
}

/* A reply reduced to something comparable: error name, or the payload with names sorted. */
static void canonical_reply(const struct msg *m, char *out, size_t cap)
{
    const char *names[64];
    size_t n = 0, off = 0, i, j, used = 0;

    if (m->h.type == XS_ERROR) {
        snprintf(out, cap, "E:%.*s", (int)m->h.len, m->body);
        return;
    }
    if (m->h.type != XS_DIRECTORY) {
        snprintf(out, cap, "%u:%.*s", m->h.type, (int)m->h.len, m->body);
        return;
    }
    while (off < m->h.len && n < 64) {
        names[n++] = m->body + off;
        off += strlen(m->body + off) + 1;
    }
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];

            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    }
    used = (size_t)snprintf(out, cap, "D:");
    for (i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s,", names[i]);
}

/* Applies one random operation to both: engine `tx_e` inside transaction t, `direct` outside. */
static void random_op_both(struct xs_engine *tx_e, struct xs_conn *tc, uint32_t t,
                           struct xs_engine *direct, struct xs_conn *dc, uint32_t owner)
{
    static const uint32_t types[] = { XS_WRITE, XS_WRITE, XS_MKDIR, XS_RM, XS_READ,
                                      XS_DIRECTORY, XS_SET_PERMS, XS_GET_PERMS };
    uint32_t type = types[rng(8)];
    char payload[64], a[128], b[128];
    size_t len;
    struct msg ma, mb;

    random_path(payload);
    len = strlen(payload) + 1;
    if (type == XS_WRITE)
        len += (size_t)sprintf(payload + len, "v%u", rng(100));
    else if (type == XS_SET_PERMS) {
        len += (size_t)sprintf(payload + len, "%c%u", "nrwb"[rng(4)], owner) + 1;
        if (rng(2))
            len += (size_t)sprintf(payload + len, "%c2", "nrwb"[rng(4)]) + 1;
    }
    ma = ereq(tx_e, tc, type, t, payload, len);
    mb = ereq(direct, dc, type, 0, payload, len);
    canonical_reply(&ma, a, sizeof(a));
    canonical_reply(&mb, b, sizeof(b));
    assert_string_equal(a, b);
}

/* Every path's value and perms, and every directory, the same in both engines. */
static void assert_same_trees(struct xs_engine *x, struct xs_conn *xc, struct xs_engine *y,
                              struct xs_conn *yc)
{
    static const uint32_t types[] = { XS_READ, XS_DIRECTORY, XS_GET_PERMS };
    char p[16], a[128], b[128];
    unsigned i, j, k, d, t;

    for (d = 0; d < 4; d++) {
        for (i = 0; i < 3; i++) {
            for (j = 0; j < 3; j++) {
                for (k = 0; k < 3; k++) {
                    char full[16] = "/r";
                    char comp[3] = { '/', 0, 0 };
                    unsigned idx[3] = { i, j, k }, n;

                    for (n = 0; n < d; n++) {
                        comp[1] = (char)('a' + idx[n]);
                        strcat(full, comp);
                    }
                    strcpy(p, full);
                    for (t = 0; t < 3; t++) {
                        struct msg ma = ereq(x, xc, types[t], 0, p, strlen(p) + 1);
                        struct msg mb = ereq(y, yc, types[t], 0, p, strlen(p) + 1);

                        canonical_reply(&ma, a, sizeof(a));
                        canonical_reply(&mb, b, sizeof(b));
                        assert_string_equal(a, b);
                    }
                }
            }
        }
    }
}

/*
 * Seeds 1..150 as dom0, 151..300 as domain 1 owning /r (its writes then meet permissions
 * it sets itself). Afterwards dom0 and domain 2 must see the same in both engines.
 */
static void test_transaction_matches_direct_application(void **s)
{
    unsigned seed, i;

    for (seed = 1; seed <= 300; seed++) {
        uint32_t me = seed > 150;
        struct xs_perm home = { me, XS_ACCESS_NONE };
        struct xs_engine *x = xs_engine_new(NULL, NULL, NULL);
        struct xs_engine *y = xs_engine_new(NULL, NULL, NULL);
        struct xs_conn *xc = xs_conn_new(x, me, !me, NULL);
        struct xs_conn *yc = xs_conn_new(y, me, !me, NULL);
        struct xs_conn *xp = xs_conn_new(x, 0, true, NULL);
        struct xs_conn *yp = xs_conn_new(y, 0, true, NULL);
        struct xs_conn *xo = xs_conn_new(x, 2, false, NULL);
        struct xs_conn *yo = xs_conn_new(y, 2, false, NULL);
        struct msg m;
        uint32_t t;

        assert_int_equal(xs_local_mkdir(x, "/r"), 0);
        assert_int_equal(xs_local_mkdir(y, "/r"), 0);
        assert_int_equal(xs_local_set_perms(x, "/r", &home, 1), 0);
        assert_int_equal(xs_local_set_perms(y, "/r", &home, 1), 0);
        rng_state = seed;
        /* The same random starting tree in both, then a transaction in x only. */
        for (i = 0; i < 15; i++)
            random_op_both(x, xc, 0, y, yc, me);
        m = ereq(x, xc, XS_TRANSACTION_START, 0, "", 1);
        t = (uint32_t)strtoul(m.body, NULL, 10);
        for (i = 0; i < 30; i++)
            random_op_both(x, xc, t, y, yc, me);
        m = ereq(x, xc, XS_TRANSACTION_END, t, "T", 2);
        assert_string_equal(m.body, "OK");
        assert_same_trees(x, xp, y, yp);
        assert_same_trees(x, xo, y, yo);
        m = ereq(x, xp, XS_CONTROL, 0, "check", 6);
        assert_string_equal(m.body, "OK");
        xs_engine_free(x);
        xs_engine_free(y);
    }
}

static void test_transaction_errors(void **s)
{
    uint32_t t;

    assert_err(req1(dom0, XS_TRANSACTION_END, 0, "T"), "ENOENT");
    assert_err(req1(dom0, XS_TRANSACTION_END, 999, "T"), "ENOENT");
    assert_err(req1(dom0, XS_READ, 999, "/"), "ENOENT");
    t = tx_start(dom0);
    assert_err(req1(dom0, XS_TRANSACTION_START, t, ""), "EBUSY");
    assert_err(req1(dom0, XS_TRANSACTION_END, t, "X"), "EINVAL");
    assert_ok(req1(dom0, XS_TRANSACTION_END, t, "F"));
}

static void test_transaction_quota(void **s)
{
    unsigned i;

    for (i = 0; i < 10; i++)
        tx_start(g1);
    assert_err(req1(g1, XS_TRANSACTION_START, 0, ""), "ENOSPC");
    /* RESET_WATCHES drops them (Xen does so too). */
    assert_ok(req1(g1, XS_RESET_WATCHES, 0, ""));
    tx_start(g1);
}

static void test_transaction_node_quota_at_commit(void **s)
{
    struct xs_limits l;
    uint32_t t1, t2;

    xs_engine_free(e);
    xs_limits_default(&l);
    l.nodes_per_domain = 6;
    setup_with(&l);
    make_home(1);   /* owned by 1: one node */
    assert_ok(req1(g1, XS_MKDIR, 0, "A"));
    assert_ok(req1(g1, XS_MKDIR, 0, "B"));
    t1 = tx_start(g1);
    t2 = tx_start(g1);
    /* Disjoint subtrees, so no conflict; each fits alone (3 + 2), both do not. */
    assert_ok(do_write_tx(g1, t1, "A/x", "1"));
    assert_ok(do_write_tx(g1, t1, "A/y", "1"));
    assert_ok(do_write_tx(g1, t2, "B/x", "1"));
    assert_ok(do_write_tx(g1, t2, "B/y", "1"));
    assert_ok(req1(g1, XS_TRANSACTION_END, t1, "T"));
    assert_err(req1(g1, XS_TRANSACTION_END, t2, "T"), "ENOSPC");
    assert_err(req1(g1, XS_READ, 0, "B/x"), "ENOENT");
    /* Inside one transaction the count adds up too. */
    t2 = tx_start(g1);
    assert_ok(do_write_tx(g1, t2, "C", "x"));
    assert_err(do_write_tx(g1, t2, "D", "x"), "ENOSPC");
    assert_consistent();
}

/* ---- quotas ---- */

static void test_node_quota(void **s)
{
    struct xs_limits l;
    char p[48];
    unsigned i;

    xs_engine_free(e);
    xs_limits_default(&l);
    l.nodes_per_domain = 5;
    setup_with(&l);
    make_home(1);
    for (i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "n%u", i);
        assert_ok(do_write(g1, p, "x"));
    }
    assert_err(do_write(g1, "n9", "x"), "ENOSPC");
    /* Several missing parents count as several nodes. */
    assert_ok(req1(g1, XS_RM, 0, "n0"));
    assert_err(do_write(g1, "p/q", "x"), "ENOSPC");
    assert_ok(do_write(g1, "p", "x"));
    /* dom0 is exempt, even writing in the guest's home (owned by dom0 then). */
    assert_ok(do_write(dom0, "/local/domain/1/from-dom0/x", "x"));
    assert_consistent();
}

static void test_entry_size_quota(void **s)
{
    static char buf[XENSTORE_PAYLOAD_MAX];
    size_t lp = strlen("/local/domain/1/e") + 1;

    make_home(1);
    memcpy(buf, "/local/domain/1/e", lp);
    memset(buf + lp, 'v', 2049);
    assert_ok(req(g1, XS_WRITE, 0, buf, lp + 2048));
    assert_err(req(g1, XS_WRITE, 0, buf, lp + 2049), "ENOSPC");
    assert_ok(req(dom0, XS_WRITE, 0, buf, lp + 2049));
}

static void test_memory_quota(void **s)
{
    static char buf[XENSTORE_PAYLOAD_MAX];
    struct xs_limits l;
    unsigned i, written = 0;
    uint32_t t;
    struct msg m;

    xs_engine_free(e);
    xs_limits_default(&l);
    l.memory_per_domain = 16 * 1024;
    setup_with(&l);
    make_home(1);
    /* 2 KiB values: the byte quota stops the guest long before 1000 nodes. */
    for (i = 0; i < 20; i++) {
        size_t lp = (size_t)snprintf(buf, sizeof(buf), "v%u", i) + 1;

        memset(buf + lp, 'x', 2048);
        m = req(g1, XS_WRITE, 0, buf, lp + 2048);
        if (m.h.type == XS_ERROR) {
            assert_string_equal(m.body, "ENOSPC");
            break;
        }
        written++;
    }
    assert_true(written >= 5 && written < 8);
    /* Growing an existing value is charged too; shrinking frees. */
    memcpy(buf, "v0", 3);
    assert_ok(req(g1, XS_WRITE, 0, buf, 3 + 1));
    memset(buf + 3, 'y', 2048);
    assert_ok(req(g1, XS_WRITE, 0, buf, 3 + 2048));
    /* Transactions have their own budget of the same size. */
    t = tx_start(g1);
    for (i = 0; i < 20; i++) {
        size_t lp = (size_t)snprintf(buf, sizeof(buf), "t%u", i) + 1;

        memset(buf + lp, 'x', 2048);
        m = req(g1, XS_WRITE, t, buf, lp + 2048);
        if (m.h.type == XS_ERROR)
            break;
    }
    assert_int_equal(m.h.type, XS_ERROR);
    assert_string_equal(m.body, "ENOSPC");
    assert_true(i >= 4 && i < 8);
    assert_ok(req1(g1, XS_TRANSACTION_END, t, "F"));
    /* Freed with the transaction: a new one gets the whole budget. */
    t = tx_start(g1);
    assert_ok(do_write_tx(g1, t, "t0", "x"));
    assert_ok(req1(g1, XS_TRANSACTION_END, t, "F"));
    /* dom0 is exempt. */
    memset(buf, 0, 32);
    for (i = 0; i < 20; i++) {
        size_t lp = (size_t)snprintf(buf, sizeof(buf), "/local/domain/1/d%u", i) + 1;

        memset(buf + lp, 'x', 2048);
        assert_ok(req(dom0, XS_WRITE, 0, buf, lp + 2048));
    }
    assert_consistent();
}

static void test_outstanding_backpressure(void **s)
{
    uint8_t stream[40 * 20];
    size_t one = sizeof(struct xsd_sockmsg) + 3, used, i;
    struct msg m;

    /* 40 READs of "/x" in one buffer, never reading replies. */
    for (i = 0; i < 40; i++) {
        struct xsd_sockmsg h = { XS_READ, (uint32_t)i, 0, 3 };

        memcpy(stream + i * one, &h, sizeof(h));
        memcpy(stream + i * one + sizeof(h), "/x", 3);
    }
    used = xs_conn_feed(e, g1, stream, 40 * one);
    assert_int_equal(used, 20 * one);
    /* Still stuck until something is read. */
    assert_int_equal(xs_conn_feed(e, g1, stream + used, 40 * one - used), 0);
    assert_true(next_msg(g1, &m));
    assert_int_equal(m.h.req_id, 0);
    assert_int_equal(xs_conn_feed(e, g1, stream + used, 40 * one - used), one);
    while (next_msg(g1, &m))
        ;
    assert_int_equal(xs_conn_feed(e, g1, stream + used + one, 40 * one - used - one),
                     19 * one);
}

static void test_client_that_never_reads_is_bounded(void **s)
{
    struct xs_perm readable = { 0, XS_ACCESS_READ };
    size_t i, n = 0;
    struct msg m;

    assert_int_equal(xs_local_set_perms(e, "/", &readable, 1), 0);
    assert_ok(req2(g1, XS_WATCH, 0, "/", "t"));
    expect_event(g1, "/", "t");
    for (i = 0; i < 1000; i++) {
        char p[32];

        snprintf(p, sizeof(p), "/spam%zu", i % 10);
        assert_int_equal(xs_local_write(e, p, "x", 1), 0);
    }
    /* At most events_per_conn (64) are kept; the rest are dropped. */
    assert_true(xs_conn_output_pending(g1) <= 64 * (16 + 16));
    while (next_msg(g1, &m)) {
        assert_int_equal(m.h.type, XS_WATCH_EVENT);
        n++;
    }
    assert_int_equal(n, 64);
    /* Once drained, events flow again. */
    assert_int_equal(xs_local_write(e, "/spam0", "y", 1), 0);
    expect_event(g1, "/spam0", "t");
}

/* ---- framing ---- */

static void test_split_across_feeds(void **s)
{
    uint8_t buf[64];
    struct xsd_sockmsg h = { XS_WRITE, 77, 0, 6 };
    size_t i, n = sizeof(h) + 6;
    struct msg m;

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), "/s\0abc", 6);
    /* One byte at a time: nothing until the last byte. */
    for (i = 0; i < n; i++) {
        assert_int_equal(xs_conn_feed(e, dom0, buf + i, 1), 1);
        if (i + 1 < n)
            expect_nothing(dom0);
    }
    assert_true(next_msg(dom0, &m));
    assert_int_equal(m.h.req_id, 77);
    assert_string_equal(m.body, "OK");
    /* Two messages in one feed, the second cut in its header. */
    memcpy(buf + n, buf, n);
    assert_int_equal(xs_conn_feed(e, dom0, buf, n + 5), n + 5);
    assert_true(next_msg(dom0, &m));
    expect_nothing(dom0);
    assert_int_equal(xs_conn_feed(e, dom0, buf + n + 5, n - 5), n - 5);
    assert_true(next_msg(dom0, &m));
    assert_string_equal(m.body, "OK");
}

static void test_oversized_length_breaks_connection(void **s)
{
    struct xsd_sockmsg h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
    uint8_t junk[100] = { 0 };

    assert_false(xs_conn_broken(g1));
    assert_int_equal(xs_conn_feed(e, g1, &h, sizeof(h)), sizeof(h));
    assert_true(xs_conn_broken(g1));
    /* Everything after is swallowed, nothing answered. */
    assert_int_equal(xs_conn_feed(e, g1, junk, sizeof(junk)), sizeof(junk));
    expect_nothing(g1);
    /* Other connections carry on. */
    assert_value(req1(dom0, XS_READ, 0, "/"), "");
}

static void test_exact_max_payload_is_fine(void **s)
{
    static char buf[XENSTORE_PAYLOAD_MAX];

    memcpy(buf, "/m", 3);
    memset(buf + 3, 'z', XENSTORE_PAYLOAD_MAX - 3);
    assert_ok(req(dom0, XS_WRITE, 0, buf, XENSTORE_PAYLOAD_MAX));
    assert_false(xs_conn_broken(dom0));
}

static void test_missing_nuls_and_bad_args(void **s)
{
    assert_err(REQL(dom0, XS_READ, 0, "/a"), "EINVAL");
    assert_err(REQL(dom0, XS_READ, 0, "/a\0/b\0"), "EINVAL");
    assert_err(REQL(dom0, XS_READ, 0, ""), "EINVAL");
    assert_err(REQL(dom0, XS_WRITE, 0, "/a"), "EINVAL");
    assert_err(REQL(dom0, XS_WATCH, 0, "/a\0tok"), "EINVAL");
    assert_err(REQL(dom0, XS_DIRECTORY_PART, 0, "/\0"), "EINVAL");
    assert_err(REQL(dom0, XS_GET_DOMAIN_PATH, 0, ""), "EINVAL");
}

static void test_unknown_and_server_types(void **s)
{
    /* As Xen: a type it has no handler for is ENOSYS. */
    assert_err(req1(dom0, XS_WATCH_EVENT, 0, "/"), "ENOSYS");
    assert_err(req1(dom0, XS_ERROR, 0, "/"), "ENOSYS");
    assert_err(req1(dom0, 20, 0, "/"), "ENOSYS");
    assert_err(req1(dom0, 0x1234567, 0, "/"), "ENOSYS");
    /* Privilege is checked before the transaction id; WATCH ignores the id. */
    assert_err(req1(g1, XS_RESUME, 77, "1"), "EACCES");
    assert_err(req1(g1, XS_GET_DOMAIN_PATH, 77, "1"), "ENOENT");
    assert_ok(req2(g1, XS_WATCH, 77, "/z", "t"));
    expect_event(g1, "/z", "t");
    assert_err(req1(dom0, XS_SET_TARGET, 0, "1"), "ENOSYS");
    assert_err(req1(g1, XS_SET_TARGET, 0, "1"), "EACCES");
    assert_err(req1(g1, XS_RESUME, 0, "1"), "EACCES");
}

/* ---- privileged messages ---- */

static void test_introduce_release(void **s)
{
    struct msg m;

    assert_ok(req2(dom0, XS_WATCH, 0, "@introduceDomain", "in"));
    expect_event(dom0, "@introduceDomain", "in");
    assert_ok(req2(dom0, XS_WATCH, 0, "@releaseDomain", "out"));
    expect_event(dom0, "@releaseDomain", "out");

    assert_ok(REQL(dom0, XS_INTRODUCE, 0, "5\0" "1044478\0" "3\0"));
    expect_event(dom0, "@introduceDomain", "in");
    assert_int_equal(last_gfn, 1044478);
    assert_int_equal(last_port, 3);
    m = req1(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "5");
    assert_int_equal(m.h.type, XS_IS_DOMAIN_INTRODUCED);
    assert_string_equal(m.body, "T");
    m = req1(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "6");
    assert_string_equal(m.body, "F");

    assert_ok(req1(dom0, XS_RELEASE, 0, "5"));
    expect_event(dom0, "@releaseDomain", "out");
    assert_err(req1(dom0, XS_RELEASE, 0, "5"), "ENOENT");   /* the hook's error */
    expect_nothing(dom0);
    assert_err(req1(dom0, XS_RELEASE, 0, "0"), "EINVAL");   /* its own domain */

    hook_result = -XEN_EEXIST;
    assert_err(REQL(dom0, XS_INTRODUCE, 0, "5\0" "1\0" "3\0"), "EEXIST");
    expect_nothing(dom0);
    assert_err(REQL(dom0, XS_INTRODUCE, 0, "5\0" "1\0"), "EINVAL");
    assert_err(REQL(dom0, XS_INTRODUCE, 0, "5\0" "-1\0" "3\0"), "EINVAL");
}

static void test_privileged_only(void **s)
{
    assert_err(REQL(g1, XS_INTRODUCE, 0, "5\0" "1\0" "3\0"), "EACCES");
    assert_err(req1(g1, XS_RELEASE, 0, "5"), "EACCES");
    assert_err(req1(g1, XS_IS_DOMAIN_INTRODUCED, 0, "5"), "EACCES");
    assert_err(req1(g1, XS_CONTROL, 0, "check"), "EACCES");
    assert_err(req1(dom0, XS_CONTROL, 0, "log"), "ENOSYS");
}

static void test_no_hooks_is_enosys(void **s)
{
    struct xs_engine *e2 = xs_engine_new(NULL, NULL, NULL);
    struct xs_conn *c = xs_conn_new(e2, 0, true, NULL);
    struct xsd_sockmsg h = { XS_RELEASE, 9, 0, 2 };
    struct msg m;
    uint8_t buf[18];

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), "5", 2);
    assert_int_equal(xs_conn_feed(e2, c, buf, sizeof(buf)), sizeof(buf));
    assert_true(next_msg(c, &m));
    assert_int_equal(m.h.type, XS_ERROR);
    assert_string_equal(m.body, "ENOSYS");
    xs_engine_free(e2);
}

/* ---- xenstored's own API ---- */

static void test_local_api(void **s)
{
    struct xs_perm p[2] = { { 3, XS_ACCESS_NONE }, { 0, XS_ACCESS_READ } };
    char buf[16];
    size_t len;

    assert_ok(req2(dom0, XS_WATCH, 0, "/local/domain/3", "home"));
    expect_event(dom0, "/local/domain/3", "home");
    assert_int_equal(xs_local_mkdir(e, "/local/domain/3"), 0);
    expect_event(dom0, "/local/domain/3", "home");
    assert_int_equal(xs_local_set_perms(e, "/local/domain/3", p, 2), 0);
    expect_event(dom0, "/local/domain/3", "home");
    assert_int_equal(xs_local_write(e, "/local/domain/3/name", "guest", 5), 0);
    expect_event(dom0, "/local/domain/3/name", "home");
    assert_int_equal(xs_local_read(e, "/local/domain/3/name", buf, 3, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "gue", 3);
    assert_int_equal(xs_local_read(e, "/local/domain/3/none", buf, 3, &len), -XEN_ENOENT);
    assert_int_equal(xs_local_write(e, "relative", "x", 1), -XEN_EINVAL);
    assert_int_equal(xs_local_write(e, "/bad/", "x", 1), -XEN_EINVAL);
    assert_int_equal(xs_local_set_perms(e, "/local/domain/3", p, 0), -XEN_EINVAL);
    /* RM fires the removed node's watchers, not a watch on the top for each child. */
    assert_int_equal(xs_local_rm(e, "/local/domain/3"), 0);
    expect_event(dom0, "/local/domain/3", "home");
    expect_nothing(dom0);
    assert_int_equal(xs_local_rm(e, "/local/domain/3"), 0);
    assert_int_equal(xs_local_rm(e, "/no/such"), -XEN_ENOENT);
    assert_consistent();
}

static void test_domain_gone(void **s)
{
    struct xs_perm p[2] = { { 0, XS_ACCESS_NONE }, { 1, XS_ACCESS_BOTH } };
    struct msg m;

    assert_int_equal(xs_local_mkdir(e, "/backend"), 0);
    assert_int_equal(xs_local_set_perms(e, "/backend", p, 2), 0);
    assert_ok(do_write(g1, "/backend/left", "x"));
    xs_domain_gone(e, 1);
    m = req1(dom0, XS_GET_PERMS, 0, "/backend/left");
    /* Owner 0 now; the entry for domain 1 is gone from both nodes. */
    assert_int_equal(m.h.len, 3);
    assert_string_equal(m.body, "n0");
    m = req1(dom0, XS_GET_PERMS, 0, "/backend");
    assert_int_equal(m.h.len, 3);
    /* A new domain 1 has no access. */
    assert_err(req1(g1, XS_READ, 0, "/backend/left"), "EACCES");
    assert_consistent();
}

/* ---- out of memory ---- */

static void test_out_of_memory_answers_enomem(void **s)
{
    unsigned i, ok = 0;

    make_home(1);
    /* Fail the n-th allocation of a write for every n: each answer is OK or ENOMEM, or the
     * connection is broken (no memory even for the error); the tree stays consistent. */
    for (i = 0; i < 12; i++) {
        struct xs_conn *c = xs_conn_new(e, 1, false, NULL);
        struct msg m;
        size_t lp = strlen("/local/domain/1/a/b/c") + 1;
        uint8_t buf[64];
        struct xsd_sockmsg h = { XS_WRITE, 1, 0, (uint32_t)(lp + 1) };

        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), "/local/domain/1/a/b/c\0v", lp + 1);
        fail_after = i;
        xs_conn_feed(e, c, buf, sizeof(h) + lp + 1);
        fail_after = -1;
        if (next_msg(c, &m)) {
            if (m.h.type == XS_ERROR)
                assert_string_equal(m.body, "ENOMEM");
            else
                ok++;
        } else {
            assert_true(xs_conn_broken(c));
        }
        assert_consistent();
        assert_int_equal(xs_local_rm(e, "/local/domain/1/a"), 0);
        xs_conn_free(e, c);
    }
    assert_true(ok > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_read_missing_is_enoent),
        T(test_write_then_read),
        T(test_write_creates_parents_with_inherited_perms),
        T(test_guest_owns_what_it_creates),
        T(test_mkdir),
        T(test_rm),
        T(test_directory),
        T(test_directory_too_long_is_e2big_and_part_pages),
        T(test_get_domain_path),
        T(test_relative_paths),
        T(test_path_validity),
        T(test_deep_tree_is_iterative),
        T(test_perms_default_and_set),
        T(test_unprivileged_access_rules),
        T(test_owner_has_full_access_and_only_it_sets_perms),
        T(test_perms_quota),
        T(test_watch_fires_on_registration),
        T(test_watch_fires_on_path_and_below_only),
        T(test_watch_on_root_sees_everything),
        T(test_watch_other_connection_and_relative),
        T(test_watch_needs_read_access),
        T(test_rm_fires_watches_below),
        T(test_unwatch_and_duplicates),
        T(test_reset_watches),
        T(test_watch_quota),
        T(test_watch_memory_quota),
        T(test_special_watches),
        T(test_conn_free_drops_watches),
        T(test_transaction_commit),
        T(test_transaction_abort),
        T(test_transaction_conflict),
        T(test_transaction_two_guests),
        T(test_transaction_rm_and_recreate),
        T(test_transaction_set_perms_and_mkdir),
        T(test_transaction_deep_paths_stay_cheap),
        T(test_transaction_matches_direct_application),
        T(test_transaction_errors),
        T(test_transaction_quota),
        T(test_transaction_node_quota_at_commit),
        T(test_node_quota),
        T(test_entry_size_quota),
        T(test_memory_quota),
        T(test_outstanding_backpressure),
        T(test_client_that_never_reads_is_bounded),
        T(test_split_across_feeds),
        T(test_oversized_length_breaks_connection),
        T(test_exact_max_payload_is_fine),
        T(test_missing_nuls_and_bad_args),
        T(test_unknown_and_server_types),
        T(test_introduce_release),
        T(test_privileged_only),
        T(test_no_hooks_is_enosys),
        T(test_local_api),
        T(test_domain_gone),
        T(test_out_of_memory_answers_enomem),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
