/* grants.c (guest; built as grants64 and grants32): grant tables v1 between two domains, one verdict line per check.
 * "role=granter peer=N" shares pages with domain N; "role=mapper peer=N" maps and copies them.
 * Lifecycle roles: granter-dies / mapper-outlives or mapper-dies-late, mapper-dies / granter-survives;
 * xs-mapper (the xenstore domain) / store-owner: the store ring through grant entry 1;
 * map-flood (peer = itself): maps its own grants maps=N times, then crashes;
 * p2m-hog: sparse mappings of its own grant, which the hypervisor's p2m budget must stop. */
#include "evlib.h"
#include "xen/errno.h"
#include "xen/grant_table.h"
#include "xen/memory.h"
#include "xen/sched.h"

/*
 * Conventions both sides know: the granter's grant refs (past the reserved 8),
 * where frames and mappings go (above RAM; the first 4 GiB are identity-mapped,
 * so VA = guest-physical address), and the port: the mapper binds the first
 * port of the granter that is offered to it.
 */
#define REF_DATA    8       /* read-write, to the peer */
#define REF_RO      9       /* GTF_readonly, to the peer */
#define REF_OTHER   10      /* to another domain */
#define REF_REVOKED 11      /* was the peer's, revoked */
#define REF_COPY    12      /* read-write, copy target */
#define REF_PCD     13      /* read-write, asking for uncached mappings (PV only) */
#define REF_MANY    14      /* 14..17: read-only, to fill a mapper's maptrack */
#define NR_MANY     4
#define MAPTRACK_PER_FRAME 256  /* handles in one maptrack frame (Wisp: 16-byte entries) */
#define GT_GPA      0xE0000000UL    /* the grant table frame */
#define GT_MOVED    0xE0010000UL    /* ... after moving it */
#define MAP_GPA     0xE0100000UL    /* mappings, one page each */
#define BATCH       40              /* more than one pass of the hypervisor's batch */
#define MAX_PORT    64
#define WAIT_NS     (60ull * 1000 * NS_PER_MS)
#define GNT_CALL_FAILED 100         /* a status no GNTST_* has: the call itself failed */

static const char hello[] = "GRANTER-HELLO";
static const char reply[] = "MAPPER-REPLY";
static const char ack[] = "GRANTER-ACK";
static const char copied[] = "MAPPER-COPY";

static uint8_t data_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t ro_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t copy_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t local_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t ram_victim[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static const struct hvm_start_info *start_info;
static domid_t peer;
static unsigned max_frames;         /* max_grant_frames of this domain: cmdline max_frames=N (64) */
static uint32_t port;

static unsigned int cmdline_number(const char *key)
{
    char text[16];
    unsigned int n = 0;

    if (!cmdline_get(start_info, key, text, sizeof(text)))
        return 0;
    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (unsigned int)(*p - '0');
    return n;
}

static long gnt_op(unsigned long cmd, unsigned long arg, unsigned long count)
{
    return hypercall(__HYPERVISOR_grant_table_op, cmd, arg, count, 0, 0);
}

static int map_ref(domid_t dom, grant_ref_t ref, uint64_t gpa, uint32_t flags,
                   grant_handle_t *handle)
{
    struct gnttab_map_grant_ref op = { .host_addr = gpa, .flags = flags, .ref = ref, .dom = dom };

    if (gnt_op(GNTTABOP_map_grant_ref, HV_PTR(&op), 1))
        return GNT_CALL_FAILED;
    if (handle)
        *handle = op.handle;
    return op.status;
}

static int unmap_ref(uint64_t gpa, grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = gpa, .handle = handle };

    if (gnt_op(GNTTABOP_unmap_grant_ref, HV_PTR(&op), 1))
        return GNT_CALL_FAILED;
    return op.status;
}

static int copy(const struct gnttab_copy_ptr *src, const struct gnttab_copy_ptr *dst,
                uint16_t len, uint16_t flags)
{
    struct gnttab_copy op = { .source = *src, .dest = *dst, .len = len, .flags = flags };

    if (gnt_op(GNTTABOP_copy, HV_PTR(&op), 1))
        return GNT_CALL_FAILED;
    return op.status;
}

static bool expect(const char *name, int status, int want)
{
    return check(name, status == want, "status %d, want %d", status, want);
}

static struct gnttab_copy_ptr gref_at(grant_ref_t ref, uint16_t offset)
{
    return (struct gnttab_copy_ptr){ .u.ref = ref, .domid = peer, .offset = offset };
}

static struct gnttab_copy_ptr own_page_at(const void *page, uint16_t offset)
{
    return (struct gnttab_copy_ptr){ .u.gmfn = (uintptr_t)page / PAGE_SIZE, .domid = DOMID_SELF,
                                     .offset = offset };
}

static long map_grant_frame(unsigned long idx, unsigned long gpa)
{
    struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                    .idx = idx, .gpfn = gpa / PAGE_SIZE };

    return hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a));
}

static bool same(const void *a, const char *s)
{
    return memcmp(a, s, strlen(s) + 1) == 0;
}

/* Waits for our port to go pending (then clears it), or for the peer to close it. */
static bool wait_port(bool for_close)
{
    uint64_t deadline = pv_now() + WAIT_NS;

    for (;;) {
        struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
        struct sched_poll poll = { .nr_ports = 1, .timeout = pv_now() + 20 * NS_PER_MS };

        if (!for_close && ev_pending(port)) {
            ev_clear_pending(port);
            return true;
        }
        if (for_close && ev_op(EVTCHNOP_status, HV_PTR(&st)) == 0 &&
            st.status == EVTCHNSTAT_unbound)
            return true;
        if (pv_now() > deadline)
            return false;
        set_xen_guest_handle(poll.ports, &port);
        (void)hv_sched_op(SCHEDOP_poll, HV_PTR(&poll));
    }
}

static void notify(void)
{
    (void)ev_send(port);
}

/* ---------- granter ---------- */

static volatile grant_entry_v1_t *table = (volatile grant_entry_v1_t *)GT_GPA;

static void grant(grant_ref_t ref, domid_t dom, const void *page, uint16_t flags)
{
    table[ref].domid = dom;
    table[ref].frame = (uint32_t)((uintptr_t)page / PAGE_SIZE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the entry before permit_access */
    table[ref].flags = flags;
}

static void granter_setup(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };

    if (!check("grant_frame_mapped", map_grant_frame(0, GT_GPA) == 0, "add_to_physmap failed"))
        guest_shutdown(SHUTDOWN_crash);
    check("grant_query_size_own",
          gnt_op(GNTTABOP_query_size, HV_PTR(&q), 1) == 0 && q.status == GNTST_okay &&
          q.nr_frames == 1 && q.max_nr_frames == max_frames,
          "status %d nr %u max %u", q.status, q.nr_frames, q.max_nr_frames);
    memcpy(data_page, hello, sizeof(hello));
    memcpy(ro_page, hello, sizeof(hello));
    grant(REF_DATA, peer, data_page, GTF_permit_access);
    grant(REF_RO, peer, ro_page, GTF_permit_access | GTF_readonly);
    grant(REF_OTHER, (domid_t)(peer + 1), data_page, GTF_permit_access);
    grant(REF_REVOKED, peer, data_page, GTF_permit_access);
    table[REF_REVOKED].flags = 0;
    grant(REF_COPY, peer, copy_page, GTF_permit_access);
    grant(REF_PCD, peer, data_page, GTF_permit_access | GTF_PCD);
    for (grant_ref_t r = REF_MANY; r < REF_MANY + NR_MANY; r++)
        grant(r, peer, ro_page, GTF_permit_access | GTF_readonly);
    if (ev_alloc_unbound(DOMID_SELF, peer, &port))
        guest_panic("cannot offer a port to d%u", peer);
    note("granter: port %u offered to d%u\n", port, peer);
}

static void run_granter(void)
{
    granter_setup();
    if (!check("grant_peer_mapped", wait_port(false), "no event from the mapper"))
        return;
    check("grant_flags_set_while_mapped",
          (table[REF_DATA].flags & (GTF_reading | GTF_writing)) == (GTF_reading | GTF_writing),
          "flags 0x%x", table[REF_DATA].flags);
    check("grant_exchange_data", same(data_page + 2048, reply), "mapper's reply not seen");
    memcpy(data_page + 1024, ack, sizeof(ack));
    notify();
    if (!check("grant_peer_done", wait_port(false), "no second event from the mapper"))
        return;
    check("grant_flags_cleared_after_unmap", table[REF_DATA].flags == GTF_permit_access,
          "flags 0x%x", table[REF_DATA].flags);
    check("grant_copy_gmfn_to_gref", same(copy_page + 100, copied), "not copied");
    check("grant_copy_gref_to_gref", same(copy_page + 200, hello), "not copied");
    check("grant_copy_flags_cleared",
          table[REF_COPY].flags == GTF_permit_access && table[REF_RO].flags ==
          (GTF_permit_access | GTF_readonly), "copy 0x%x ro 0x%x", table[REF_COPY].flags,
          table[REF_RO].flags);
    check("grant_refused_map_flags_cleared", table[REF_PCD].flags == (GTF_permit_access | GTF_PCD),
          "flags 0x%x", table[REF_PCD].flags);
    /* Moving the frame: the same entries at the new gfn (the old one is left empty). */
    check("grant_frame_moves", map_grant_frame(0, GT_MOVED) == 0 &&
          ((volatile grant_entry_v1_t *)GT_MOVED)[REF_DATA].domid == peer, "moved frame differs");
}

/* The granter dies while the peer maps its page: the page must outlive it. */
static void run_granter_dies(void)
{
    granter_setup();
    if (check("grant_peer_mapped", wait_port(false), "no event from the mapper"))
        note("granter: dying while mapped\n");
    checks_done();
    guest_shutdown(SHUTDOWN_poweroff);
}

/* The mapper dies holding a writable mapping: our entry must come back clean. */
static void run_granter_survives(void)
{
    granter_setup();
    if (!check("grant_peer_mapped", wait_port(false), "no event from the mapper"))
        return;
    check("grant_flags_set_while_mapped",
          (table[REF_DATA].flags & (GTF_reading | GTF_writing)) == (GTF_reading | GTF_writing),
          "flags 0x%x", table[REF_DATA].flags);
    notify();
    if (!check("grant_mapper_gone", wait_port(true), "the mapper's end never closed"))
        return;
    check("grant_flags_cleared_when_mapper_dies", table[REF_DATA].flags == GTF_permit_access,
          "flags 0x%x", table[REF_DATA].flags);
}

/* ---------- mapper ---------- */

static void bind_peer_port(void)
{
    uint64_t deadline = pv_now() + WAIT_NS;

    for (;;) {
        for (uint32_t p = 1; p < MAX_PORT; p++) {
            if (ev_bind_interdomain(peer, p, &port) == 0) {
                ev_clear_pending(port);     /* raised once by the bind, as in Xen */
                return;
            }
        }
        if (pv_now() > deadline)
            guest_panic("d%u offered no port", peer);
        (void)hv_sched_op(SCHEDOP_yield, 0);
    }
}

static long reservation(void)
{
    domid_t self = DOMID_SELF;

    return hv_memory_op(XENMEM_current_reservation, HV_PTR(&self));
}

static long populate(unsigned long gfn)
{
    xen_pfn_t list[1] = { gfn };
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };

    set_xen_guest_handle(r.extent_start, list);
    return hv_memory_op(XENMEM_populate_physmap, HV_PTR(&r));
}

static void mapper_hostile_maps(void)
{
    grant_handle_t h, h2;
    int st;

    expect("map_other_domains_grant", map_ref(peer, REF_OTHER, MAP_GPA + 0x10000, GNTMAP_host_map, NULL), GNTST_general_error);
    expect("map_revoked_grant", map_ref(peer, REF_REVOKED, MAP_GPA + 0x10000, GNTMAP_host_map, NULL), GNTST_general_error);
    expect("map_readonly_grant_writable", map_ref(peer, REF_RO, MAP_GPA + 0x10000, GNTMAP_host_map, NULL), GNTST_general_error);
    st = map_ref(peer, REF_RO, MAP_GPA + 0x10000, GNTMAP_host_map | GNTMAP_readonly, &h);
    check("map_readonly_grant_readonly", st == GNTST_okay &&
          same((void *)(MAP_GPA + 0x10000), hello) && unmap_ref(MAP_GPA + 0x10000, h) == GNTST_okay,
          "status %d", st);
    expect("map_cache_attribute_grant", map_ref(peer, REF_PCD, MAP_GPA + 0x10000, GNTMAP_host_map,
           NULL), GNTST_general_error);
    check("map_ref_beyond_table", map_ref(peer, 600, MAP_GPA + 0x10000, GNTMAP_host_map, NULL) ==
          GNTST_bad_gntref && map_ref(peer, 0xffffffffu, MAP_GPA + 0x10000, GNTMAP_host_map,
          NULL) == GNTST_bad_gntref, "not bad_gntref");
    check("map_bad_domain", map_ref(77, REF_DATA, MAP_GPA + 0x10000, GNTMAP_host_map, NULL) ==
          GNTST_bad_domain && map_ref(DOMID_SELF, REF_DATA, MAP_GPA + 0x10000, GNTMAP_host_map,
          NULL) == GNTST_bad_domain, "not bad_domain");
    check("map_without_host_map", map_ref(peer, REF_DATA, MAP_GPA + 0x10000, 0, NULL) ==
          GNTST_bad_gntref, "not bad_gntref");
    check("map_device_map_refused", map_ref(peer, REF_DATA, MAP_GPA + 0x10000,
          GNTMAP_host_map | GNTMAP_device_map, NULL) == GNTST_general_error, "not general_error");
    check("map_over_shared_info", map_ref(peer, REF_DATA, (unsigned long)shinfo,
          GNTMAP_host_map, NULL) == GNTST_general_error, "not general_error");
    check("map_beyond_guest_physical", map_ref(peer, REF_DATA, 1ULL << 52, GNTMAP_host_map,
          NULL) == GNTST_general_error, "not general_error");
    check("unmap_bad_handle", unmap_ref(MAP_GPA, 0xdead) == GNTST_bad_handle, "not bad_handle");

    st = map_ref(peer, REF_DATA, MAP_GPA + 0x11000, GNTMAP_host_map | GNTMAP_readonly, &h);
    check("map_same_gfn_twice", st == GNTST_okay &&
          map_ref(peer, REF_DATA, MAP_GPA + 0x11000, GNTMAP_host_map, &h2) == GNTST_general_error,
          "status %d", st);
    check("unmap_wrong_address", unmap_ref(MAP_GPA + 0x12000, h) == GNTST_general_error,
          "not general_error");
    check("unmap_twice", unmap_ref(MAP_GPA + 0x11000, h) == GNTST_okay &&
          unmap_ref(MAP_GPA + 0x11000, h) == GNTST_bad_handle, "second unmap not bad_handle");

    /* As in Xen, a mapping over a RAM page takes the page out; unmapped, the gfn is empty. */
    long before = reservation();
    unsigned long victim = (uintptr_t)ram_victim;

    st = map_ref(peer, REF_DATA, victim, GNTMAP_host_map | GNTMAP_readonly, &h);
    check("map_over_ram", st == GNTST_okay && same(ram_victim, hello) &&
          reservation() == before - 1 && unmap_ref(victim, h) == GNTST_okay &&
          reservation() == before - 1 && populate(victim / PAGE_SIZE) == 1 &&
          reservation() == before, "status %d, pages %ld -> %ld", st, before, reservation());
}

static void mapper_batch(void)
{
    struct gnttab_map_grant_ref maps[BATCH];
    struct gnttab_unmap_grant_ref unmaps[BATCH];
    long rc;
    unsigned ok = 0;

    for (unsigned i = 0; i < BATCH; i++)
        maps[i] = (struct gnttab_map_grant_ref){ .host_addr = MAP_GPA + 0x20000 + i * PAGE_SIZE,
            .flags = GNTMAP_host_map | GNTMAP_readonly, .ref = REF_DATA, .dom = peer,
            .status = 99 };
    rc = gnt_op(GNTTABOP_map_grant_ref, HV_PTR(maps), BATCH);
    for (unsigned i = 0; i < BATCH; i++) {
        ok += maps[i].status == GNTST_okay &&
              same((void *)(MAP_GPA + 0x20000 + i * PAGE_SIZE), hello);
        unmaps[i] = (struct gnttab_unmap_grant_ref){ .host_addr = maps[i].host_addr,
            .handle = maps[i].handle, .status = 99 };
    }
    check("grant_batch_map", rc == 0 && ok == BATCH, "rc %ld, %u of %u", rc, ok, BATCH);
    rc = gnt_op(GNTTABOP_unmap_grant_ref, HV_PTR(unmaps), BATCH);
    ok = 0;
    for (unsigned i = 0; i < BATCH; i++)
        ok += unmaps[i].status == GNTST_okay;
    check("grant_batch_unmap", rc == 0 && ok == BATCH, "rc %ld, %u of %u", rc, ok, BATCH);
}

/* With max_maptrack_frames 1 (cmdline maptrack=1): one frame of handles, then no_device_space. */
static void mapper_fill_maptrack(void)
{
    static grant_handle_t handles[MAPTRACK_PER_FRAME];
    const unsigned held = 1;        /* the data mapping stays until the end */
    unsigned mapped = 0, unmapped = 0;
    int st;

    int first_error = GNTST_okay;

    for (unsigned i = 0; i < MAPTRACK_PER_FRAME - held; i++) {
        st = map_ref(peer, REF_MANY + i / 64, MAP_GPA + 0x200000 + i * PAGE_SIZE,
                     GNTMAP_host_map | GNTMAP_readonly, &handles[i]);
        mapped += st == GNTST_okay;
        if (first_error == GNTST_okay)
            first_error = st;
    }
    st = map_ref(peer, REF_MANY, MAP_GPA + 0x1ff000, GNTMAP_host_map | GNTMAP_readonly, NULL);
    check("map_maptrack_full", mapped == MAPTRACK_PER_FRAME - held && st == GNTST_no_device_space,
          "%u mapped (first error %d), then status %d", mapped, first_error, st);
    for (unsigned i = 0; i < mapped; i++)
        unmapped += unmap_ref(MAP_GPA + 0x200000 + i * PAGE_SIZE, handles[i]) == GNTST_okay;
    check("unmap_maptrack_full", unmapped == mapped, "%u of %u", unmapped, mapped);
}

static void mapper_copies(void)
{
    struct gnttab_copy_ptr s, d;
    int st;

    memset(local_page, 0, sizeof(local_page));
    s = gref_at(REF_DATA, 0), d = own_page_at(local_page, 8);
    st = copy(&s, &d, sizeof(hello), GNTCOPY_source_gref);
    check("copy_gref_to_gmfn", st == GNTST_okay && same(local_page + 8, hello), "status %d", st);
    memcpy(local_page + 512, copied, sizeof(copied));
    s = own_page_at(local_page, 512), d = gref_at(REF_COPY, 100);
    expect("copy_gmfn_to_gref", copy(&s, &d, sizeof(copied), GNTCOPY_dest_gref), GNTST_okay);
    s = gref_at(REF_DATA, 0), d = gref_at(REF_COPY, 200);
    expect("copy_gref_to_gref", copy(&s, &d, sizeof(hello), GNTCOPY_source_gref | GNTCOPY_dest_gref),
           GNTST_okay);
    s = gref_at(REF_DATA, 4000), d = own_page_at(local_page, 0);
    expect("copy_crossing_page", copy(&s, &d, 200, GNTCOPY_source_gref), GNTST_bad_copy_arg);
    s = (struct gnttab_copy_ptr){ .u.gmfn = (uintptr_t)data_page / PAGE_SIZE, .domid = peer };
    d = own_page_at(local_page, 0);
    expect("copy_other_domains_frame", copy(&s, &d, 8, 0), GNTST_permission_denied);
    s = own_page_at(local_page, 0), d = gref_at(REF_RO, 0);
    expect("copy_into_readonly_grant", copy(&s, &d, 8, GNTCOPY_dest_gref), GNTST_general_error);
    s = gref_at(REF_OTHER, 0), d = own_page_at(local_page, 0);
    expect("copy_other_domains_grant", copy(&s, &d, 8, GNTCOPY_source_gref), GNTST_general_error);
    s = own_page_at((void *)GT_GPA, 0), d = gref_at(REF_COPY, 0);
    expect("copy_from_non_ram", copy(&s, &d, 8, GNTCOPY_dest_gref), GNTST_bad_page);
}

static void mapper_table_ops(void)
{
    struct gnttab_query_size q = { .dom = peer };
    struct gnttab_setup_table setup = { .dom = DOMID_SELF, .nr_frames = max_frames + 1 };
    struct gnttab_set_version sv = { .version = 2 };
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    xen_pfn_t frames[2];
    long rc;

    check("query_size_other_domain", gnt_op(GNTTABOP_query_size, HV_PTR(&q), 1) == 0 &&
          q.status == GNTST_permission_denied, "status %d", q.status);
    check("query_size_count_not_one", gnt_op(GNTTABOP_query_size, HV_PTR(&q), 2) == -XEN_EINVAL,
          "not -EINVAL");
    check("setup_table_beyond_max", gnt_op(GNTTABOP_setup_table, HV_PTR(&setup), 1) == 0 &&
          setup.status == GNTST_general_error, "status %d", setup.status);
    setup.nr_frames = 2;
    set_xen_guest_handle(setup.frame_list, frames);
    check("setup_table_grows", gnt_op(GNTTABOP_setup_table, HV_PTR(&setup), 1) == 0 &&
          setup.status == GNTST_okay, "status %d", setup.status);
    check("add_to_physmap_grant_beyond_max", map_grant_frame(max_frames, GT_GPA) == -XEN_EINVAL &&
          map_grant_frame(XENMAPIDX_grant_table_status, GT_GPA) == -XEN_EINVAL, "not -EINVAL");
    q.dom = DOMID_SELF;
    check("add_to_physmap_grant_grows_to_max", map_grant_frame(max_frames - 1, GT_GPA) == 0 &&
          gnt_op(GNTTABOP_query_size, HV_PTR(&q), 1) == 0 && q.nr_frames == max_frames,
          "nr_frames %u", q.nr_frames);
    rc = gnt_op(GNTTABOP_set_version, HV_PTR(&sv), 1);
    check("set_version_2_enosys", rc == -XEN_ENOSYS && sv.version == 1, "rc %ld v %u", rc,
          sv.version);
    sv.version = 1;
    check("set_version_1", gnt_op(GNTTABOP_set_version, HV_PTR(&sv), 1) == 0, "refused");
    check("get_version", gnt_op(GNTTABOP_get_version, HV_PTR(&gv), 1) == 0 && gv.version == 1,
          "v %u", gv.version);
    check("grant_op_unknown", gnt_op(GNTTABOP_transfer, HV_PTR(&gv), 1) == -XEN_ENOSYS &&
          gnt_op(GNTTABOP_map_grant_ref | (1u << 12), HV_PTR(&gv), 1) == -XEN_EINVAL &&
          gnt_op(GNTTABOP_map_grant_ref, HV_PTR(&gv), 0x80000000u) == -XEN_EINVAL,
          "not -ENOSYS / -EINVAL");
}

static bool mapper_map_data(grant_handle_t *h)
{
    int st;

    bind_peer_port();
    note("mapper: bound d%u's port as %u\n", peer, port);
    st = map_ref(peer, REF_DATA, MAP_GPA, GNTMAP_host_map, h);
    if (!check("map_grant_rw", st == GNTST_okay, "status %d", st))
        return false;
    check("map_reads_granter_data", same((void *)MAP_GPA, hello), "not the granter's data");
    memcpy((void *)(MAP_GPA + 2048), reply, sizeof(reply));
    notify();
    return true;
}

static void run_mapper(void)
{
    grant_handle_t h;

    if (!mapper_map_data(&h))
        return;
    check("map_sees_granter_write", wait_port(false) && same((void *)(MAP_GPA + 1024), ack),
          "no ack");
    mapper_hostile_maps();
    mapper_batch();
    mapper_copies();
    mapper_table_ops();
    if (cmdline_number("maptrack") == 1)
        mapper_fill_maptrack();
    expect("unmap_grant", unmap_ref(MAP_GPA, h), GNTST_okay);
    notify();
}

static void run_mapper_outlives(void)
{
    grant_handle_t h;

    if (!mapper_map_data(&h))
        return;
    if (!check("granter_gone", wait_port(true), "the granter's end never closed"))
        return;
    /* Allocations after its death must not take its page: grow our table to the max. */
    check("grow_after_granter_death", map_grant_frame(max_frames - 1, GT_GPA) == 0, "refused");
    check("granter_page_kept_while_mapped", same((void *)MAP_GPA, hello) &&
          same((void *)(MAP_GPA + 2048), reply), "the page changed");
    note("mapper: unmapping the dead granter's page\n");
    expect("unmap_dead_granters_grant", unmap_ref(MAP_GPA, h), GNTST_okay);
    for (unsigned i = 0; i < 10; i++)     /* the scheduler frees the granter now */
        (void)hv_sched_op(SCHEDOP_yield, 0);
}

static void run_mapper_dies(void)
{
    grant_handle_t h;

    if (mapper_map_data(&h) && wait_port(false))
        note("mapper: dying while mapped\n");
    checks_done();
    guest_shutdown(SHUTDOWN_crash);
}

/* ---------- the store ring: entry 1, seeded by the builder for the xenstore domain ---------- */

#define STORE_GPA 0xfeffe000UL      /* Wisp's store ring page (docs/control.md) */
static const char store_magic[] = "XENSTORED-WAS-HERE";

/* The xenstore domain maps the peer's store ring through grant entry 1 and writes to it. */
static void run_xs_mapper(void)
{
    uint64_t deadline = pv_now() + WAIT_NS;
    grant_handle_t h;
    int st;

    while ((st = map_ref(peer, GNTTAB_RESERVED_XENSTORE, MAP_GPA, GNTMAP_host_map, &h)) !=
           GNTST_okay && pv_now() < deadline)
        (void)hv_sched_op(SCHEDOP_yield, 0);
    if (!expect("xs_map_store_ring", st, GNTST_okay))
        return;
    check("xs_store_ring_zeroed", ((volatile uint32_t *)MAP_GPA)[0] == 0, "not zero");
    memcpy((void *)MAP_GPA, store_magic, sizeof(store_magic));
    expect("xs_unmap_store_ring", unmap_ref(MAP_GPA, h), GNTST_okay);
}

/* The guest side: the entry as the builder seeded it, and the xenstore domain's write. */
static void run_store_owner(void)
{
    uint64_t deadline = pv_now() + WAIT_NS;
    volatile grant_entry_v1_t *e;

    if (!check("grant_frame_mapped", map_grant_frame(0, GT_GPA) == 0, "add_to_physmap failed"))
        return;
    e = &table[GNTTAB_RESERVED_XENSTORE];
    check("store_grant_seeded", e->domid == peer && e->frame == STORE_GPA / PAGE_SIZE &&
          (e->flags & GTF_type_mask) == GTF_permit_access, "flags 0x%x domid %u frame 0x%x",
          e->flags, e->domid, e->frame);
    while ((!same((void *)STORE_GPA, store_magic) || (e->flags & GTF_reading)) &&
           pv_now() < deadline)
        (void)hv_sched_op(SCHEDOP_yield, 0);
    check("store_ring_written_by_xenstored", same((void *)STORE_GPA, store_magic), "not written");
    check("store_grant_released", e->flags == GTF_permit_access, "flags 0x%x", e->flags);
    /* The xenstore domain ends with us: give it time to print its verdicts. */
    for (deadline = pv_now() + 500 * NS_PER_MS; pv_now() < deadline;)
        (void)hv_sched_op(SCHEDOP_yield, 0);
}

/* The granter dies first, then we die still mapping its page: both must be freed once. */
static void run_mapper_dies_late(void)
{
    grant_handle_t h;

    if (mapper_map_data(&h) && check("granter_gone", wait_port(true), "the granter's end never closed"))
        note("mapper: dying while mapping a dead granter's page\n");
    checks_done();
    guest_shutdown(SHUTDOWN_crash);
}

/* ---------- map-flood: as many mappings as the maptrack table holds, then a crash ---------- */

#define FLOOD_GPA       0x100000000ULL  /* above 4 GiB: gfns nothing else uses */
#define FLOOD_PINS      127             /* read-only pins one entry takes (Xen's limit) */
#define FLOOD_BATCH     512             /* map ops per call (the hypervisor continues every 32) */
#define FLOOD_DEFAULT   (1024u * MAPTRACK_PER_FRAME)    /* default max_maptrack_frames, full */

/*
 * A hostile domain (peer = its own id) grants itself entries and maps each
 * one FLOOD_PINS times read-only, every mapping at its own gfn (2^stride
 * bytes apart; default 12, adjacent pages), until maps=N are made or the
 * hypervisor refuses, then crashes: its death must undo all of them without
 * holding the pCPU (the canary beside it measures how long).
 */
static void run_map_flood(void)
{
    static struct gnttab_map_grant_ref ops[FLOOD_BATCH];
    unsigned want = cmdline_number("maps") ? cmdline_number("maps") : FLOOD_DEFAULT;
    unsigned entries = (want + FLOOD_PINS - 1) / FLOOD_PINS, mapped = 0;
    unsigned shift = cmdline_number("stride") ? cmdline_number("stride") : 12;  /* log2 bytes */
    int last = GNTST_okay;
    uint64_t start;

    for (unsigned f = 0; f * 512 < REF_DATA + entries; f++)
        if (map_grant_frame(f, GT_GPA + f * PAGE_SIZE))
            guest_panic("cannot map grant frame %u", f);
    for (unsigned e = 0; e < entries; e++)
        grant(REF_DATA + e, peer, ro_page, GTF_permit_access | GTF_readonly);
    start = pv_now();
    while (mapped < want && last == GNTST_okay) {
        unsigned n = want - mapped < FLOOD_BATCH ? want - mapped : FLOOD_BATCH;

        for (unsigned i = 0; i < n; i++)
            ops[i] = (struct gnttab_map_grant_ref){
                .host_addr = FLOOD_GPA + ((uint64_t)(mapped + i) << shift),
                .flags = GNTMAP_host_map | GNTMAP_readonly,
                .ref = REF_DATA + (mapped + i) / FLOOD_PINS, .dom = peer };
        if (gnt_op(GNTTABOP_map_grant_ref, HV_PTR(ops), n))
            guest_panic("map_grant_ref call failed");
        for (unsigned i = 0; i < n && last == GNTST_okay; i++)
            if ((last = ops[i].status) == GNTST_okay)
                mapped++;
    }
    /* ns / 2^10 / 977 ~ ms, in 32-bit arithmetic (grants32 has no 64-bit division) */
    con_printf("FLOOD mapped %u of %u in %u ms (last status %d); crashing at %u ms\n", mapped,
               want, (uint32_t)((pv_now() - start) >> 10) / 977, last,
               (uint32_t)(pv_now() >> 10) / 977);
    guest_shutdown(SHUTDOWN_crash);
}

/*
 * p2m-hog (peer = itself): maps one self-granted page at gfns 1 GiB apart, each costing
 * the hypervisor new p2m tables. Its p2m must hit a per-domain limit long before the
 * machine's memory: refused before HOG_LIMIT_MAPS, and given back by the unmaps.
 */
#define HOG_MAPS       2048     /* 16 MiB of tables when nothing stops it */
#define HOG_LIMIT_MAPS 1024     /* the refusal must come before this many */
#define HOG_REF        20       /* refs HOG_REF.. : ro_page, granted to ourselves */
#define HOG_PINS       100      /* maps per ref (a ref takes up to 127 read-only pins) */
#define HOG_GPA(i)     ((8ull + (i)) << 30)

static grant_handle_t hog_handles[HOG_MAPS];

/* One page of ours in or out (XENMEM_decrease_reservation / populate_physmap): extents done. */
static long reservation_op(int cmd, const void *page)
{
    xen_pfn_t gfn = (uintptr_t)page / PAGE_SIZE;
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };

    set_xen_guest_handle(r.extent_start, &gfn);
    return hv_memory_op(cmd, HV_PTR(&r));
}

/*
 * Our own page mapped by grant at its own gfn is a grant mapping, not RAM:
 * it cannot be ballooned out under the handle, and the reservation comes back
 * whole once the handle is unmapped and the page populated again.
 */
static void self_map_at_own_gfn(void)
{
    domid_t self = DOMID_SELF;
    long before = hv_memory_op(XENMEM_current_reservation, HV_PTR(&self)), out, in;
    grant_handle_t h;
    int st;

    grant(HOG_REF - 1, peer, ram_victim, GTF_permit_access);
    st = map_ref(peer, HOG_REF - 1, (uintptr_t)ram_victim, GNTMAP_host_map, &h);
    if (!expect("self_map_at_own_gfn", st, GNTST_okay))
        return;
    out = reservation_op(XENMEM_decrease_reservation, ram_victim);
    check("self_map_at_own_gfn_not_ram", out == 0, "decrease_reservation did %ld extents", out);
    st = unmap_ref((uintptr_t)ram_victim, h);
    in = reservation_op(XENMEM_populate_physmap, ram_victim);
    check("self_map_reservation_back", st == GNTST_okay && in == 1 &&
          hv_memory_op(XENMEM_current_reservation, HV_PTR(&self)) == before,
          "unmap %d, populate %ld, reservation %ld (was %ld)", st, in,
          hv_memory_op(XENMEM_current_reservation, HV_PTR(&self)), before);
}

static void run_p2m_hog(void)
{
    unsigned mapped = 0, unmapped = 0;
    int st = GNTST_okay;

    if (!check("grant_frame_mapped", map_grant_frame(0, GT_GPA) == 0, "add_to_physmap failed"))
        return;
    for (unsigned r = 0; r < HOG_MAPS / HOG_PINS + 1; r++)
        grant(HOG_REF + r, peer, ro_page, GTF_permit_access | GTF_readonly);
    while (mapped < HOG_MAPS &&
           (st = map_ref(peer, HOG_REF + mapped / HOG_PINS, HOG_GPA(mapped),
                         GNTMAP_host_map | GNTMAP_readonly, &hog_handles[mapped])) == GNTST_okay)
        mapped++;
    check("p2m_hog_refused", mapped < HOG_LIMIT_MAPS && st == GNTST_general_error,
          "%u sparse mappings made, last status %d", mapped, st);
    while (unmapped < mapped && unmap_ref(HOG_GPA(unmapped), hog_handles[unmapped]) == GNTST_okay)
        unmapped++;
    check("p2m_hog_unmapped", unmapped == mapped, "%u of %u unmapped", unmapped, mapped);
    st = map_ref(peer, HOG_REF, HOG_GPA(0), GNTMAP_host_map | GNTMAP_readonly, &hog_handles[0]);
    check("p2m_hog_tables_given_back", st == GNTST_okay &&
          unmap_ref(HOG_GPA(0), hog_handles[0]) == GNTST_okay, "status %d", st);
    self_map_at_own_gfn();
}

static const struct { const char *name; void (*run)(void); } roles[] = {
    { "granter", run_granter }, { "mapper", run_mapper },
    { "granter-dies", run_granter_dies }, { "mapper-outlives", run_mapper_outlives },
    { "granter-survives", run_granter_survives }, { "mapper-dies", run_mapper_dies },
    { "mapper-dies-late", run_mapper_dies_late },
    { "xs-mapper", run_xs_mapper }, { "store-owner", run_store_owner },
    { "map-flood", run_map_flood },
    { "p2m-hog", run_p2m_hog },
};

int main(const struct hvm_start_info *si)
{
    char role[24];

    start_info = si;
    peer = (domid_t)cmdline_number("peer");
    max_frames = cmdline_number("max_frames") ? cmdline_number("max_frames") : 64;
    if (!cmdline_get(si, "role", role, sizeof(role)) || !peer || ev_map_shared_info())
        guest_panic("usage: role=<granter|mapper|...> peer=<domid>");
    for (unsigned i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(roles[i].name, role))
            continue;
        roles[i].run();
        return checks_done() ? 1 : 0;
    }
    guest_panic("unknown role %s", role);
}
