/* xsclient.c (guest, xsclient64): xenstore conformance over a real store ring, one role per domain chosen by "act=<name>" (docs/test-guests.md). */
#include "check.h"
#include "xenev.h"
#include "xs_client.h"
#include "xen/sched.h"

#define NS_PER_MS 1000000ull
#define EVENT_WAIT_NS (20000 * NS_PER_MS)
#define PEER_WAIT_NS (120000 * NS_PER_MS)

static char buf[XENSTORE_PAYLOAD_MAX + 1];
static char path[XENSTORE_ABS_PATH_MAX], token[64];
static uint32_t my_domid;

static void sleep_ns(uint64_t ns)
{
    uint64_t end = xenev_now() + ns;

    while (xenev_now() < end)
        (void)hv_sched_op(SCHEDOP_yield, 0);
}

static uint32_t parse_u32(const char *s)
{
    uint32_t v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

static uint32_t cmdline_u32(const struct hvm_start_info *si, const char *key)
{
    char v[16];

    return cmdline_get(si, key, v, sizeof(v)) ? parse_u32(v) : 0;
}

/* "/local/domain/<domid>/<rest>" into out. */
static void domain_path(char *out, size_t max, uint32_t domid, const char *rest)
{
    char num[12];
    int i = (int)sizeof(num) - 1;
    size_t len = 0;

    num[i] = '\0';
    do {
        num[--i] = (char)('0' + domid % 10);
        domid /= 10;
    } while (domid);
    for (const char *parts[] = { "/local/domain/", &num[i], "/", rest }, **p = parts;
         p < parts + 4; p++)
        for (const char *s = *p; *s && len + 1 < max; s++)
            out[len++] = *s;
    out[len] = '\0';
}

/* Is name among the NUL-separated names of a DIRECTORY reply of len bytes? */
static bool has_child(const char *names, long len, const char *name)
{
    for (long off = 0; off < len; off += (long)strlen(names + off) + 1)
        if (strcmp(names + off, name) == 0)
            return true;
    return false;
}

/* The next watch event must be (want_path, want_token). */
static bool expect_event(const char *name, const char *want_path, const char *want_token)
{
    long rc = xs_wait_watch(path, sizeof(path), token, sizeof(token), EVENT_WAIT_NS);

    return check(name, rc == 0 && strcmp(path, want_path) == 0 && strcmp(token, want_token) == 0,
                 "rc %ld, event '%s' token '%s' (want '%s' '%s')", rc, rc ? "" : path,
                 rc ? "" : token, want_path, want_token);
}

/* ---- act=conformance: one well-behaved domain's own keys ---- */

static void check_base_tree(void)
{
    long n = xs_read(0, "domid", buf, sizeof(buf));
    long rc;

    my_domid = parse_u32(buf);
    check("xs_base_domid", n > 0 && my_domid > 0, "rc %ld value '%s'", n, n > 0 ? buf : "");
    n = xs_read(0, "memory/target", buf, sizeof(buf));
    check("xs_base_memory_target", n > 0 && parse_u32(buf) >= 1024, "rc %ld value '%s'", n,
          n > 0 ? buf : "");
    n = xs_read(0, "name", buf, sizeof(buf));
    check("xs_base_name", n > 0, "rc %ld", n);
    rc = xs_get_domain_path(my_domid, buf, sizeof(buf));
    domain_path(path, sizeof(path), my_domid, "");
    path[strlen(path) - 1] = '\0';      /* no trailing '/' */
    check("xs_get_domain_path", rc == 0 && strcmp(buf, path) == 0, "rc %ld '%s' (want '%s')",
          rc, rc ? "" : buf, path);
    /* The guest may write where libxl gives it rwperm, and not where it gives roperm. */
    rc = xs_write(0, "control/feature-poweroff", "1");
    check("xs_base_guest_writable", rc == 0, "control/feature-poweroff: rc %ld", rc);
    rc = xs_write(0, "name", "renamed");
    check("xs_base_name_read_only", rc == -XEN_EACCES, "rc %ld (want %d)", rc, -XEN_EACCES);
}

static void check_nodes(void)
{
    long rc, n;

    rc = xs_write(0, "data/key", "value");
    n = xs_read(0, "data/key", buf, sizeof(buf));
    check("xs_write_read", rc == 0 && n == 5 && strcmp(buf, "value") == 0,
          "write %ld, read %ld '%s'", rc, n, n > 0 ? buf : "");
    rc = xs_mkdir(0, "data/dir");
    n = xs_directory(0, "data", buf, sizeof(buf));
    check("xs_mkdir_directory", rc == 0 && n > 0 && has_child(buf, n, "key") &&
                                    has_child(buf, n, "dir"),
          "mkdir %ld, directory %ld", rc, n);
    rc = xs_rm(0, "data/dir");
    n = xs_read(0, "data/dir", buf, sizeof(buf));
    check("xs_rm", rc == 0 && n == -XEN_ENOENT, "rm %ld, read after %ld", rc, n);
    n = xs_read(0, "data/never-written", buf, sizeof(buf));
    check("xs_read_missing_enoent", n == -XEN_ENOENT, "rc %ld", n);
}

static void check_watches(void)
{
    long rc = xs_watch("data/w", "tok-w");

    check("xs_watch_registered", rc == 0, "rc %ld", rc);
    expect_event("xs_watch_fires_on_registration", "data/w", "tok-w");
    rc = xs_write(0, "data/w/child", "1");
    expect_event("xs_watch_fires_on_change_below", "data/w/child", "tok-w");
    rc = xs_unwatch("data/w", "tok-w");
    (void)xs_write(0, "data/w/child", "2");
    long wait = xs_wait_watch(path, sizeof(path), token, sizeof(token), 500 * NS_PER_MS);

    check("xs_unwatch_stops_events", rc == 0 && wait == -XEN_ETIMEDOUT, "unwatch %ld, wait %ld",
          rc, wait);
}

/*
 * One commit fires more watch-event bytes than the reply ring holds (10
 * events of about 190 bytes): xenstored must hand them out as we read, none
 * lost, none stuck waiting for a notify that never comes.
 */
#define BURST 10

static void check_event_burst(void)
{
    static char key[200];
    uint32_t tx = 0;
    long rc;
    unsigned got = 0;

    memset(key, 0, sizeof(key));
    memcpy(key, "data/b/", 7);
    memset(key + 7, 'k', 160);
    rc = xs_watch("data/b", "tok-b");
    rc = rc ? rc : xs_wait_watch(path, sizeof(path), token, sizeof(token), EVENT_WAIT_NS);
    rc = rc ? rc : xs_transaction_start(&tx);
    for (unsigned i = 0; !rc && i < BURST; i++) {
        key[167] = (char)('0' + i);
        rc = xs_write(tx, key, "v");
    }
    rc = rc ? rc : xs_transaction_end(tx, true);
    while (!rc && got < BURST + 1) {      /* data/b itself, created by the first write, too */
        if (xs_wait_watch(path, sizeof(path), token, sizeof(token), 2000 * NS_PER_MS))
            break;
        got += strcmp(token, "tok-b") == 0 && strncmp(path, "data/b", 6) == 0;
    }
    check("xs_watch_burst_over_a_ring", rc == 0 && got >= BURST && xs_dropped_events() == 0,
          "rc %ld, %u events (want %u or %u), %u dropped", rc, got, BURST, BURST + 1,
          xs_dropped_events());
    (void)xs_unwatch("data/b", "tok-b");
    (void)xs_rm(0, "data/b");
}

static void check_transactions(void)
{
    uint32_t t1 = 0, t2 = 0;
    long rc, end;

    (void)xs_write(0, "data/t", "0");
    rc = xs_transaction_start(&t1);
    if (!check("xs_transaction_start", rc == 0 && t1 != 0, "rc %ld id %u", rc, t1))
        return;
    (void)xs_read(t1, "data/t", buf, sizeof(buf));
    (void)xs_write(t1, "data/t", "from-t1");
    rc = xs_write(0, "data/t", "outside");     /* an intervening write */
    end = xs_transaction_end(t1, true);
    check("xs_transaction_conflict_eagain", rc == 0 && end == -XEN_EAGAIN,
          "outside write %ld, commit %ld (want %d)", rc, end, -XEN_EAGAIN);
    (void)xs_read(0, "data/t", buf, sizeof(buf));
    check("xs_transaction_conflict_discarded", strcmp(buf, "outside") == 0, "value '%s'", buf);

    rc = xs_transaction_start(&t2);
    (void)xs_read(t2, "data/t", buf, sizeof(buf));
    rc = rc ? rc : xs_write(t2, "data/t", "from-t2");
    long inside = xs_read(t2, "data/t", buf, sizeof(buf));
    bool sees_own = inside > 0 && strcmp(buf, "from-t2") == 0;
    long outside = xs_read(0, "data/t", buf, sizeof(buf));
    bool isolated = outside > 0 && strcmp(buf, "outside") == 0;

    end = xs_transaction_end(t2, true);
    (void)xs_read(0, "data/t", buf, sizeof(buf));
    check("xs_transaction_commits", rc == 0 && end == 0 && sees_own && isolated &&
                                        strcmp(buf, "from-t2") == 0,
          "write %ld, sees own %d, isolated %d, commit %ld, value '%s'", rc, sees_own, isolated,
          end, buf);
}

static void check_quota(void)
{
    static char big[3000];
    char key[32] = "data/q/";
    long rc = 0;
    unsigned made;

    memset(big, 'x', sizeof(big) - 1);
    rc = xs_write(0, "data/big", big);
    check("xs_quota_entry_size", rc == -XEN_ENOSPC, "3000-byte value: rc %ld (want %d)", rc,
          -XEN_ENOSPC);
    for (made = 0; made < 2000; made++) {
        size_t len = 7;

        for (unsigned v = made, d = 1000; d; d /= 10)
            key[len++] = (char)('0' + (v / d) % 10);
        key[len] = '\0';
        rc = xs_write(0, key, "");
        if (rc)
            break;
    }
    check("xs_quota_nodes", rc == -XEN_ENOSPC && made > 500 && made <= 1000,
          "stopped after %u nodes with rc %ld (want %d)", made, rc, -XEN_ENOSPC);
    rc = xs_rm(0, "data/q");
    long again = xs_write(0, "data/q/again", "1");

    check("xs_quota_freed_by_rm", rc == 0 && again == 0, "rm %ld, write after %ld", rc, again);
    (void)xs_rm(0, "data/q");
}

/* Another domain's keys are refused; a key it grants us becomes writable. */
static void check_peer(uint32_t peer)
{
    long rc, n;

    domain_path(path, sizeof(path), peer, "data");
    n = xs_read(0, path, buf, sizeof(buf));
    rc = xs_write(0, path, "intruder");
    check("xs_perm_other_domain_refused", n == -XEN_EACCES && rc == -XEN_EACCES,
          "read %ld, write %ld (want %d)", n, rc, -XEN_EACCES);

    /* data/shared: ours, writable by the peer, watched by us. */
    char peer_perm[12] = "b", owner[12] = "n";

    domain_path(path, sizeof(path), peer, "");       /* reuse the number formatting */
    memcpy(peer_perm + 1, path + 14, strlen(path + 14) - 1);
    domain_path(path, sizeof(path), my_domid, "");
    memcpy(owner + 1, path + 14, strlen(path + 14) - 1);
    const char *perms[2] = { owner, peer_perm };

    rc = xs_write(0, "data/shared", "mine");
    rc = rc ? rc : xs_watch("data/shared", "tok-shared");
    expect_event("xs_watch_shared_registration", "data/shared", "tok-shared");
    /*
     * Set and read back inside a transaction: once it commits the peer may
     * write, exit and be released, which drops its entry from every list.
     */
    uint32_t tx = 0;
    long end = -XEN_EAGAIN;

    for (int tries = 0; !rc && end == -XEN_EAGAIN && tries < 3; tries++) {
        rc = xs_transaction_start(&tx);
        rc = rc ? rc : xs_set_perms(tx, "data/shared", perms, 2);
        n = rc ? rc : xs_get_perms(tx, "data/shared", buf, sizeof(buf));
        end = rc ? rc : xs_transaction_end(tx, true);
    }
    check("xs_set_get_perms", rc == 0 && end == 0 && n > 0 && strcmp(buf, owner) == 0 &&
                                  strcmp(buf + strlen(buf) + 1, peer_perm) == 0,
          "set %ld, get %ld '%s', commit %ld", rc, n, n > 0 ? buf : "", end);
    /* Our SET_PERMS fires the watch too; the peer's write comes after, in its own time. */
    bool seen = false;

    for (int i = 0; i < 4 && !seen; i++) {
        rc = xs_wait_watch(path, sizeof(path), token, sizeof(token), PEER_WAIT_NS / 4);
        n = xs_read(0, "data/shared", buf, sizeof(buf));
        seen = rc == 0 && strcmp(path, "data/shared") == 0 && n > 0 &&
               strcmp(buf, "from-peer") == 0;
    }
    check("xs_watch_fires_on_peer_write", seen, "last wait %ld, value '%s'", rc,
          n > 0 ? buf : "");
}

static void act_conformance(const struct hvm_start_info *si)
{
    check_base_tree();
    check_nodes();
    check_watches();
    check_transactions();
    check_event_burst();
    check_peer(cmdline_u32(si, "peer"));
    check_quota();
}

/* ---- act=peer: waits for owner=N to grant data/shared, writes it, exits ---- */

static void act_peer(const struct hvm_start_info *si)
{
    uint32_t owner = cmdline_u32(si, "owner");
    uint64_t deadline;
    long rc;

    /* Refused until the owner grants us access; then the write lands and fires its watch. */
    domain_path(path, sizeof(path), owner, "data/shared");
    deadline = xenev_now() + PEER_WAIT_NS;
    while ((rc = xs_write(0, path, "from-peer")) == -XEN_EACCES || rc == -XEN_ENOENT) {
        if (xenev_now() > deadline)
            break;
        sleep_ns(20 * NS_PER_MS);
    }
    check("xs_peer_writes_after_grant", rc == 0, "rc %ld", rc);
}

/* ---- act=watcher (control role): @introduceDomain, @releaseDomain, privileged reads ---- */

static void act_watcher(const struct hvm_start_info *si)
{
    uint32_t exiter = cmdline_u32(si, "exiter");
    long rc, n;

    domain_path(path, sizeof(path), exiter, "name");
    n = xs_read(0, path, buf, sizeof(buf));
    check("xs_privileged_reads_other_domain", n > 0, "read %s: rc %ld", path, n);
    rc = xs_watch("@introduceDomain", "tok-intro");
    expect_event("xs_introduce_domain_watch_registration", "@introduceDomain", "tok-intro");
    rc = rc ? rc : xs_watch("@releaseDomain", "tok-release");
    expect_event("xs_release_domain_watch_registration", "@releaseDomain", "tok-release");
    /* Wait for @releaseDomain events until the exiter's directory is gone. */
    uint64_t deadline = xenev_now() + PEER_WAIT_NS;
    bool fired = false, gone = false;

    domain_path(path, sizeof(path), exiter, "");
    path[strlen(path) - 1] = '\0';
    while (!gone && xenev_now() < deadline) {
        char ev[64], tok[32];

        if (xs_wait_watch(ev, sizeof(ev), tok, sizeof(tok), 2000 * NS_PER_MS) == 0 &&
            strcmp(ev, "@releaseDomain") == 0)
            fired = true;
        gone = fired && xs_read(0, path, buf, sizeof(buf)) == -XEN_ENOENT;
    }
    check("xs_release_domain_fires_on_exit", rc == 0 && fired && gone,
          "fired %d, %s gone %d", fired, path, gone);

    /*
     * xenstored's mapping of the exiter's store ring kept it DYING; once
     * released (unmapped) the hypervisor frees it and lists it no more.
     */
    struct wisp_domain_info info;
    struct wisp_ctl_domain_list l;
    long lrc;

    deadline = xenev_now() + EVENT_WAIT_NS;
    do {
        l = (struct wisp_ctl_domain_list){ .first_domid = exiter, .max_entries = 1,
                                           .buffer = (uintptr_t)&info };
        lrc = hv_wisp_control(WISP_CTL_domain_list, HV_PTR(&l));
        if (lrc || !l.nr_entries || info.domid != exiter)
            break;
        sleep_ns(10 * NS_PER_MS);
    } while (xenev_now() < deadline);
    check("xs_released_domain_freed", lrc == 0 && (!l.nr_entries || info.domid != exiter),
          "list rc %ld; domain %u still listed in state %u", lrc, exiter,
          l.nr_entries ? info.state : 0);
}

/* ---- Hostile clients ---- */

/* A header claiming a payload over XENSTORE_PAYLOAD_MAX: the server reports a protocol error. */
static void act_garbage(const struct hvm_start_info *si)
{
    struct xenstore_domain_interface *r = xs_ring_page();
    struct xsd_sockmsg h = { .type = XS_READ, .req_id = 7, .len = 0xFFFFFFF0u };
    uint64_t deadline;

    check("xs_hostile_connected", xs_read(0, "domid", buf, sizeof(buf)) > 0, "no reply");
    /* A request in 3-byte pieces, each notified: partial headers and payloads wait. */
    xs_split_writes = 3;
    long split = xs_write(0, "data/split", "in pieces");
    long back = xs_read(0, "data/split", buf, sizeof(buf));

    xs_split_writes = 0;
    check("xs_hostile_partial_messages_served",
          split == 0 && back == 9 && strcmp(buf, "in pieces") == 0, "write %ld, read %ld", split,
          back);
    /* Wrong but well-framed messages get errors and leave the connection up. */
    long unknown = xs_request(0x4321, 0, "junk", 4, buf, sizeof(buf), NULL);
    long bad_tx = xs_read(12345, "domid", buf, sizeof(buf));
    long intro = xs_request(XS_INTRODUCE, 0, "9\0" "1\0" "2", 6, buf, sizeof(buf), NULL);

    check("xs_hostile_wrong_messages_refused",
          unknown == -XEN_ENOSYS && bad_tx == -XEN_ENOENT && intro == -XEN_EACCES,
          "unknown type %ld (want %d), bad tx %ld (want %d), unprivileged INTRODUCE %ld (want %d)",
          unknown, -XEN_ENOSYS, bad_tx, -XEN_ENOENT, intro, -XEN_EACCES);
    for (size_t i = 0; i < sizeof(h); i++)
        r->req[MASK_XENSTORE_IDX(r->req_prod + i)] = ((const char *)&h)[i];
    __atomic_store_n(&r->req_prod, r->req_prod + (uint32_t)sizeof(h), __ATOMIC_RELEASE);
    (void)evtchn_send(xs_store_port());
    deadline = xenev_now() + EVENT_WAIT_NS;
    while (__atomic_load_n(&r->error, __ATOMIC_ACQUIRE) == XENSTORE_ERROR_NONE &&
           xenev_now() < deadline)
        sleep_ns(10 * NS_PER_MS);
    check("xs_hostile_garbage_disconnected", r->error == XENSTORE_ERROR_PROTO, "error %u",
          r->error);
}

/* A producer index more than a ring ahead: the server breaks the ring, as Xen's does. */
static void act_bad_index(const struct hvm_start_info *si)
{
    struct xenstore_domain_interface *r = xs_ring_page();
    uint64_t deadline;

    check("xs_hostile_connected", xs_read(0, "domid", buf, sizeof(buf)) > 0, "no reply");
    __atomic_store_n(&r->req_prod, r->req_cons + 5000, __ATOMIC_RELEASE);
    (void)evtchn_send(xs_store_port());
    deadline = xenev_now() + EVENT_WAIT_NS;
    while (__atomic_load_n(&r->error, __ATOMIC_ACQUIRE) == XENSTORE_ERROR_NONE &&
           xenev_now() < deadline)
        sleep_ns(10 * NS_PER_MS);
    check("xs_hostile_bad_index_disconnected", r->error == XENSTORE_ERROR_RINGIDX, "error %u",
          r->error);
}

/*
 * Sends requests without ever reading a reply: the server must stop taking
 * them once the reply ring is full (nothing lost, nothing unbounded) while
 * other domains keep being served.
 */
static void act_no_read(const struct hvm_start_info *si)
{
    struct xenstore_domain_interface *r = xs_ring_page();
    static const char req[] = "data/flood\0x";
    struct xsd_sockmsg h = { .type = XS_WRITE, .len = sizeof(req) - 1 };
    unsigned sent = 0;

    check("xs_hostile_connected", xs_read(0, "domid", buf, sizeof(buf)) > 0, "no reply");
    for (int round = 0; round < 50; round++) {
        while (XENSTORE_RING_SIZE - (r->req_prod - r->req_cons) >= sizeof(h) + h.len) {
            uint32_t prod = r->req_prod;

            h.req_id = 1000 + sent++;
            for (size_t i = 0; i < sizeof(h); i++)
                r->req[MASK_XENSTORE_IDX(prod + i)] = ((const char *)&h)[i];
            for (size_t i = 0; i < h.len; i++)
                r->req[MASK_XENSTORE_IDX(prod + sizeof(h) + i)] = req[i];
            __atomic_store_n(&r->req_prod, prod + (uint32_t)(sizeof(h) + h.len),
                             __ATOMIC_RELEASE);
        }
        (void)evtchn_send(xs_store_port());
        sleep_ns(20 * NS_PER_MS);
    }
    uint32_t waiting = r->req_prod - r->req_cons, unread = r->rsp_prod - r->rsp_cons;

    check("xs_hostile_no_read_backpressure",
          unread <= XENSTORE_RING_SIZE && unread > XENSTORE_RING_SIZE - 64 && waiting > 0 &&
              r->error == XENSTORE_ERROR_NONE,
          "sent %u, %u request bytes waiting, %u reply bytes unread, error %u", sent, waiting,
          unread, r->error);
}

static const struct {
    const char *name;
    void (*fn)(const struct hvm_start_info *si);
} acts[] = {
    { "conformance", act_conformance },
    { "peer", act_peer },
    { "watcher", act_watcher },
    { "garbage", act_garbage },
    { "bad-index", act_bad_index },
    { "no-read", act_no_read },
};

int main(const struct hvm_start_info *si)
{
    char act[24] = "conformance";
    long rc;

    (void)cmdline_get(si, "act", act, sizeof(act));
    rc = xs_open();
    if (!check("xs_open", rc == 0, "rc %ld", rc))
        return (int)checks_done();
    for (unsigned i = 0; i < ARRAY_SIZE(acts); i++)
        if (strcmp(act, acts[i].name) == 0)
            acts[i].fn(si);
    return checks_done() ? 1 : 0;
}
