/* bench_io.c (guest, bench_io64): timed loops of xenstore requests and grant operations, each beside a loop of no-op hypercalls, for ci/bench-xen-io.py. */
#include "guest.h"
#include "xenev.h"
#include "xs_client.h"
#include "xen/grant_table.h"
#include "xen/memory.h"
#include "xen/sched.h"
#include "xen/version.h"

/*
 * Two roles, chosen by "role=" on the command line:
 *   granter peer=D   grants one page of its own (ref GRANT_REF) to domain D, then waits
 *                    until D writes DONE_MAGIC into it (or WAIT_NS passes) and powers off
 *   bench peer=G n=N runs each loop N times and prints "BENCH <loop> <count> <ns>" per
 *                    loop (or "BENCH <loop> FAILED <why>"), then "BENCH DONE"; G is the
 *                    granter. Loops: xen_version and query_size (the no-op references),
 *                    xenstore (XS_READ "domid" with pvh/guest's client), map_unmap
 *                    (map GRANT_REF of G and unmap it), copy (GNTTABOP_copy of 4 KiB from
 *                    that grant into a page of ours).
 * Times come from pvclock (xenev_now), so they are the guest's nanoseconds.
 */

#define GRANT_REF 8                     /* refs 0..7 are reserved (grant_table.h) */
#define PATTERN_MAGIC 0x57495350474e5431ULL
#define DONE_MAGIC 0x57495350444f4e45ULL
#define WAIT_NS (120ULL * 1000 * 1000 * 1000)
/* Above any bench guest's RAM and inside the runtime's 4 GiB identity map: frames mapped
 * here are no RAM of ours, as Linux's unpopulated pages are not. */
#define GRANT_TABLE_GPA 0x40000000UL
#define MAP_GPA 0x40001000UL

static volatile uint64_t shared_page[PAGE_SIZE / 8] __attribute__((aligned(PAGE_SIZE)));
static uint8_t copy_target[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static long grant_op(unsigned int cmd, void *ops, unsigned int count)
{
    return hypercall(__HYPERVISOR_grant_table_op, cmd, HV_PTR(ops), count, 0, 0);
}

static unsigned long cmdline_number(const struct hvm_start_info *si, const char *key,
                                    unsigned long dflt)
{
    char buf[16];
    unsigned long v = 0;

    if (!cmdline_get(si, key, buf, sizeof(buf)) || !buf[0])
        return dflt;
    for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (unsigned long)(*p - '0');
    return v;
}

static void report(const char *loop, unsigned long count, uint64_t start_ns)
{
    con_printf("BENCH %s %lu %llu\n", loop, count, (unsigned long long)(xenev_now() - start_ns));
}

static void report_failure(const char *loop, const char *why, long rc)
{
    con_printf("BENCH %s FAILED %s (%ld)\n", loop, why, rc);
}

/* ---- granter ---- */

static int run_granter(domid_t peer)
{
    struct xen_add_to_physmap a = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0,
        .gpfn = GRANT_TABLE_GPA / PAGE_SIZE,
    };
    long rc = hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a));

    if (rc) {
        con_printf("granter: add_to_physmap(grant_table) failed (%ld)\n", rc);
        return 1;
    }
    volatile struct grant_entry_v1 *table = (volatile struct grant_entry_v1 *)GRANT_TABLE_GPA;
    shared_page[0] = 0;
    shared_page[1] = PATTERN_MAGIC;
    table[GRANT_REF].domid = peer;
    table[GRANT_REF].frame = (uint32_t)((uintptr_t)shared_page / PAGE_SIZE);
    __asm__ volatile("" : : : "memory");    /* flags last: the entry is complete first */
    table[GRANT_REF].flags = GTF_permit_access;
    con_printf("granter: ref %u granted to d%u\n", GRANT_REF, peer);

    uint64_t deadline = xenev_now() + WAIT_NS;
    while (shared_page[0] != DONE_MAGIC && xenev_now() < deadline)
        (void)hv_sched_op(SCHEDOP_yield, 0);
    table[GRANT_REF].flags = 0;
    con_printf("granter: %s\n", shared_page[0] == DONE_MAGIC ? "done" : "gave up waiting");
    return 0;
}

/* ---- bench: the reference loops ---- */

static void bench_xen_version(unsigned long n)
{
    uint64_t t = xenev_now();

    for (unsigned long i = 0; i < n; i++)
        (void)hv_xen_version(XENVER_version, 0);
    report("xen_version", n, t);
}

static void bench_query_size(unsigned long n)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = grant_op(GNTTABOP_query_size, &q, 1);

    if (rc || q.status != GNTST_okay) {
        report_failure("query_size", "query_size", rc ? rc : q.status);
        return;
    }
    uint64_t t = xenev_now();
    for (unsigned long i = 0; i < n; i++)
        (void)grant_op(GNTTABOP_query_size, &q, 1);
    report("query_size", n, t);
}

/* ---- bench: grants ---- */

/* The hypercall's error when it failed as a whole, else the op's GNTST_* status. */
static long map_peer_grant(domid_t peer, grant_handle_t *handle)
{
    struct gnttab_map_grant_ref m = {
        .host_addr = MAP_GPA, .flags = GNTMAP_host_map, .ref = GRANT_REF, .dom = peer,
    };
    long rc = grant_op(GNTTABOP_map_grant_ref, &m, 1);

    *handle = m.handle;
    return rc ? rc : m.status;
}

static long unmap_grant(grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref u = { .host_addr = MAP_GPA, .handle = handle };
    long rc = grant_op(GNTTABOP_unmap_grant_ref, &u, 1);

    return rc ? rc : u.status;
}

/*
 * The granter may still be booting: retry while its grant is not there yet (a bad ref
 * or no permission), not when the hypercall itself fails. Returns the last failure.
 */
static long wait_for_grant(domid_t peer)
{
    uint64_t deadline = xenev_now() + WAIT_NS;
    grant_handle_t h;

    for (;;) {
        long st = map_peer_grant(peer, &h);
        if (st == GNTST_okay) {
            bool ok = ((volatile uint64_t *)MAP_GPA)[1] == PATTERN_MAGIC;
            st = unmap_grant(h);
            return st ? st : ok ? 0 : GNTST_bad_page;
        }
        if ((st != GNTST_bad_gntref && st != GNTST_permission_denied) || xenev_now() > deadline)
            return st;
        (void)hv_sched_op(SCHEDOP_yield, 0);
    }
}

static void bench_map_unmap(domid_t peer, unsigned long n)
{
    uint64_t t = xenev_now();

    for (unsigned long i = 0; i < n; i++) {
        grant_handle_t h;
        long st = map_peer_grant(peer, &h);
        if (st != GNTST_okay) {
            report_failure("map_unmap", "map", st);
            return;
        }
        st = unmap_grant(h);
        if (st != GNTST_okay) {
            report_failure("map_unmap", "unmap", st);
            return;
        }
    }
    report("map_unmap", n, t);
}

static void bench_copy(domid_t peer, unsigned long n)
{
    struct gnttab_copy c = {
        .source = { .u.ref = GRANT_REF, .domid = peer },
        .dest = { .u.gmfn = (uintptr_t)copy_target / PAGE_SIZE, .domid = DOMID_SELF },
        .len = PAGE_SIZE, .flags = GNTCOPY_source_gref,
    };
    uint64_t t = xenev_now();

    for (unsigned long i = 0; i < n; i++) {
        long rc = grant_op(GNTTABOP_copy, &c, 1);
        if (rc || c.status != GNTST_okay) {
            report_failure("copy", "copy", rc ? rc : c.status);
            return;
        }
    }
    report("copy", n, t);
    if (((volatile uint64_t *)copy_target)[1] != PATTERN_MAGIC)
        report_failure("copy_content", "the copied page does not hold the pattern", 0);
}

/* Tells the granter to stop, through a mapping of its page. */
static void release_granter(domid_t peer)
{
    grant_handle_t h;

    if (map_peer_grant(peer, &h) != GNTST_okay)
        return;
    ((volatile uint64_t *)MAP_GPA)[0] = DONE_MAGIC;
    (void)unmap_grant(h);
}

/* ---- bench: xenstore through the runtime's client (pvh/guest/xs_client.c) ---- */

static void bench_xenstore(unsigned long n)
{
    static char value[64];
    long rc = xs_open();

    /* The first request also waits for the xenstore domain to take us on. */
    if (rc >= 0)
        rc = xs_read(0, "domid", value, sizeof(value));
    if (rc < 0) {
        report_failure("xenstore", "reading domid", rc);
        return;
    }
    con_printf("# xenstore: domid reads \"%s\"\n", value);
    uint64_t t = xenev_now();
    for (unsigned long i = 0; i < n; i++) {
        rc = xs_read(0, "domid", value, sizeof(value));
        if (rc < 0) {
            report_failure("xenstore", "a read failed", rc);
            return;
        }
    }
    report("xenstore", n, t);
}

static int run_bench(domid_t peer, unsigned long n)
{
    bench_xen_version(n);
    bench_xenstore(n);
    bench_query_size(n);
    long st = wait_for_grant(peer);
    if (st) {
        report_failure("map_unmap", "the granter's page did not map", st);
        report_failure("copy", "the granter's page did not map", st);
    } else {
        bench_map_unmap(peer, n);
        bench_copy(peer, n);
        release_granter(peer);
    }
    con_printf("BENCH DONE\n");
    return 0;
}

int main(const struct hvm_start_info *si)
{
    char role[16];
    long rc = xenev_init();

    if (rc)
        guest_panic("shared_info: %ld", rc);
    if (!cmdline_get(si, "role", role, sizeof(role)))
        guest_panic("bench_io: role=granter|bench missing");
    domid_t peer = (domid_t)cmdline_number(si, "peer", 0);
    if (strcmp(role, "granter") == 0)
        return run_granter(peer);
    if (strcmp(role, "bench") == 0)
        return run_bench(peer, cmdline_number(si, "n", 1000));
    guest_panic("bench_io: unknown role %s", role);
}
