/* fuzz.c (guest, fuzz64): a seeded fuzzer of every hypercall, sub-op and guest-reachable exit, run beside a canary domain. */
#include "guest.h"
#include "x86.h"
#include "evlib.h"
#include "xen/console_io.h"
#include "xen/errno.h"
#include "xen/event_channel.h"
#include "xen/grant_table.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/memory.h"
#include "xen/sched.h"
#include "xen/vcpu.h"
#include "xen/version.h"
#include "wisp/control.h"

/*
 * Command line: seed=N (default 1) calls=N (default 10000) known=0|1|AREAS
 * (see below) trace=1 (a line per call) tracefrom=N (trace from call N on).
 * Output: "FUZZ seed=S calls=N known=K", "FUZZ progress calls=N" lines, then
 * "FUZZ done calls=N seed=S" and poweroff; "FUZZ FAIL ..." for a broken
 * promise the guest itself can check (a CPL 3 hypercall that did not give
 * -EPERM, a control hypercall without a role that did not give -EPERM).
 * The host's oracle (tests/integration/test_fuzz_guest.py) checks the rest:
 * the canary beside us keeps beating, the hypervisor never panics, free
 * frames do not drift.
 *
 * What the fuzzer never does, because it would end the domain or lose the
 * guest rather than test the hypervisor (docs/test-guests.md, fuzz64):
 * SCHEDOP_shutdown, SCHEDOP_remote_shutdown of itself, VCPUOP_down of vCPU 0,
 * HLT, INIT/STARTUP IPIs to itself, CR3 writes, clearing CR0.PG/PE or
 * CR4.PAE (except as known=1 illegal writes), EFER.LME, the hypercall-page
 * MSR, and hypervisor writes into its own code, stack, page tables, IDT,
 * GDT or TSS: every pointer it passes names the arena, the shared_info, the
 * console ring or the xAPIC page, the alias window, a hole, or garbage.
 *
 * known=1 adds generators for bugs other branches of issue 8 fix (see
 * KNOWN_* below and docs/test-guests.md), known=timers,exits only those
 * areas; CI runs known=0 until they are in.
 */

/* ---- The PRNG: splitmix64, so a seed replays the same run ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static bool chance(unsigned percent)
{
    return below(100) < percent;
}

/* Junk for a struct or buffer: one draw per byte, so a seed replays it. */
static void random_bytes(void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)p)[i] = (uint8_t)rnd();
}

/* 0, -1, 2^31, 2^32, 2^63 and their neighbours: where width and sign bugs live. */
static const uint64_t edges[] = {
    0, 1, 2, UINT64_MAX, UINT64_MAX - 1, 1ull << 31, (1ull << 31) - 1, 1ull << 32,
    (1ull << 32) - 1, (1ull << 32) + 1, 1ull << 63, (1ull << 63) - 1, 0xFFF, 0x1000, 0x7FFF,
    0xFFFF, 0x10000, 1ull << 40, DOMID_SELF, 0x7FF1, 0x7FF2, 0x7FF4,
};

/* A value: often an edge, often small, else any 64 bits. */
static uint64_t val(void)
{
    unsigned r = (unsigned)below(10);

    if (r < 4)
        return edges[below(ARRAY_SIZE(edges))];
    if (r < 7)
        return below(64);
    return rnd();
}

/* A command or index: mostly the valid range, sometimes anything. */
static uint64_t pick(uint64_t n)
{
    return chance(85) ? below(n) : val();
}

/* ---- Options ---- */

static uint64_t opt_seed = 1, opt_calls = 10000;
/*
 * known=1 (or all): generators for bugs that other branches of issue 8 fix;
 * known=timers,memory,exits,console turns on only those areas.
 */
enum known_area { KNOWN_AREA_TIMERS = 1, KNOWN_AREA_MEMORY = 2, KNOWN_AREA_EXITS = 4,
                  KNOWN_AREA_CONSOLE = 8 };
static unsigned known;      /* enum known_area bits */
static char known_word[48] = "0";

static bool known_area(enum known_area a)
{
    return known & a;
}

static unsigned parse_known(const char *s)
{
    static const struct { const char *name; unsigned bits; } areas[] = {
        { "1", ~0u }, { "all", ~0u }, { "timers", KNOWN_AREA_TIMERS },
        { "memory", KNOWN_AREA_MEMORY }, { "exits", KNOWN_AREA_EXITS },
        { "console", KNOWN_AREA_CONSOLE },
    };
    unsigned bits = 0;

    while (*s) {
        size_t len = 0;

        while (s[len] && s[len] != ',')
            len++;
        for (unsigned i = 0; i < ARRAY_SIZE(areas); i++)
            if (strlen(areas[i].name) == len && !strncmp(areas[i].name, s, len))
                bits |= areas[i].bits;
        s += len + (s[len] == ',');
    }
    return bits;
}
static bool trace;          /* trace=1: one line per call, to find the one that breaks things */
static uint64_t trace_from; /* trace=1 tracefrom=N: only from call N on */
static bool trace_from_set;

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;

    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

/* ---- Memory the hypervisor may write: the arena, and a few special pages ---- */

/*
 * One region: the arena, the pages shared_info may be moved to (the guest
 * never reads them), and a pad page, so that a hypervisor write running past
 * a buffer (up to 4 KiB: XENVER_capabilities writes 1 KiB) lands in pages
 * the guest does not use for itself.
 */
#define ARENA_PAGES 8
#define SHINFO_HOMES 2
static uint8_t region[(ARENA_PAGES + SHINFO_HOMES + 1) * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
#define arena region
#define shinfo_home(i) (region + (ARENA_PAGES + (i)) * PAGE_SIZE)
/* known=1: pages inside the image's 2 MiB mappings that balloon ops may take away; never touched. */
#define VICTIM_PAGES 16
static uint8_t victim[VICTIM_PAGES * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/*
 * Low RAM below 640 KiB that nothing uses once we run (start_info was read at
 * entry): balloon and physmap generators take and give these frames. The
 * first 2 MiB are mapped with 4 KiB pages (the legacy hole), so this never
 * splits or merges a 2 MiB p2m mapping (that is KNOWN_P2M_SPLIT).
 */
#define LOW_VICTIM_FIRST 0x20
#define LOW_VICTIM_COUNT 0x40
/* Frames above any fuzz domain's RAM: order-0 and order-9 populate/decrease there. */
#define HIGH_GFN_ORDER0 0x10000ull      /* 256 MiB */
#define HIGH_GFN_ORDER9 0x40000ull      /* 1 GiB, 2 MiB aligned */
#define XAPIC_PAGE      0xFEE00000ul    /* SDM 11.4.1: default APIC base */

static uintptr_t shinfo_va;         /* where shared_info is now, 0 if not mapped */
static uintptr_t console_ring_va;   /* HVM_PARAM_CONSOLE_PFN's page */
static uint32_t console_port;

/* Alias slots 0..(ALIAS_BUF_SLOTS-1) show arena pages at other virtual addresses. */
#define ALIAS_BUF_SLOTS 16
#define SLOT_USER_CODE  500
#define SLOT_USER_STACK 501

/* A guest-physical frame number to hand the hypervisor. */
static uint64_t gfn_any(void)
{
    switch (below(10)) {
    case 0:  return (uintptr_t)arena / PAGE_SIZE + below(ARENA_PAGES);
    case 1:  return shinfo_va ? shinfo_va / PAGE_SIZE : 0;
    case 2:  /* KNOWN_CONSOLE_ESCAPES: garbage in the ring is printed to the user's terminal */
        return known_area(KNOWN_AREA_CONSOLE) ? console_ring_va / PAGE_SIZE : XAPIC_PAGE / PAGE_SIZE;
    case 3:  return XAPIC_PAGE / PAGE_SIZE;
    case 4:  return LOW_VICTIM_FIRST + below(LOW_VICTIM_COUNT);
    case 5:  return HIGH_GFN_ORDER0 + below(16);
    case 6:  return val();
    default: return (uintptr_t)arena / PAGE_SIZE + below(ARENA_PAGES);
    }
}

/*
 * A buffer of len bytes for the hypervisor to read or write; *fill is where
 * the guest writes the contents (NULL: not writable by us). Valid arena
 * places (page-crossing ones on purpose), aliases of the arena, the special
 * pages, holes, and addresses that are not addresses.
 */
static uint64_t buf_any(size_t len, void **fill)
{
    size_t off;

    *fill = NULL;
    if (len > PAGE_SIZE)
        len = PAGE_SIZE;
    switch (below(16)) {
    case 0:     /* ends exactly at a page boundary, or crosses it by a little */
        off = (below(ARENA_PAGES - 1) + 1) * PAGE_SIZE - len + below(8);
        *fill = arena + off;
        return (uintptr_t)arena + off;
    case 1: {   /* an alias of two arena pages, maybe in swapped order */
        unsigned slot = (unsigned)below(ALIAS_BUF_SLOTS - 1);
        unsigned p = (unsigned)below(ARENA_PAGES - 1);
        bool swap = chance(50);
        uint8_t *a = alias_map(slot, arena + (p + swap) * PAGE_SIZE);

        (void)alias_map(slot + 1, arena + (p + !swap) * PAGE_SIZE);
        off = PAGE_SIZE - len / 2;
        return (uintptr_t)a + off;      /* contents: whatever the arena holds */
    }
    case 2:  return shinfo_va ? shinfo_va + below(PAGE_SIZE) : 0;
    case 3:  /* KNOWN_CONSOLE_ESCAPES, as in gfn_any() */
        return known_area(KNOWN_AREA_CONSOLE) ? console_ring_va + below(PAGE_SIZE - len + 1)
                                              : XAPIC_PAGE + below(PAGE_SIZE);
    case 4:  return XAPIC_PAGE + below(PAGE_SIZE);
    case 5:  return alias_guard_va() - below(len + 1);             /* runs into the guard */
    case 6:  return (LOW_VICTIM_FIRST + below(LOW_VICTIM_COUNT)) * PAGE_SIZE; /* maybe a hole */
    case 7:  return HIGH_GFN_ORDER0 * PAGE_SIZE + below(16 * PAGE_SIZE);     /* not mapped by us */
    case 8:  return val();
    case 9:  return 0x0000800000000000ull - below(len + 1);         /* non-canonical end */
    default:
        off = below(ARENA_PAGES * PAGE_SIZE - len);
        *fill = arena + off;
        return (uintptr_t)arena + off;
    }
}

/*
 * The struct in any buffer buf_any gives, sometimes with one bit flipped:
 * only for ops whose every outcome is safe (no pointer or frame number
 * inside the struct), since a buffer we cannot write (an alias, a special
 * page) hands the hypervisor whatever it holds.
 */
static uint64_t put_struct(const void *s, size_t len)
{
    void *fill;
    uint64_t gva = buf_any(len, &fill);

    if (fill) {
        memcpy(fill, s, len);
        if (chance(15))
            ((uint8_t *)fill)[below(len)] ^= (uint8_t)(1u << below(8));
    }
    return gva;
}

/*
 * Exactly the struct (or a bad pointer): for ops where one flipped bit could
 * name our own frames (gfn lists, physmap, vcpu_info and runstate areas),
 * turn a refused shutdown reason into a real one, or a poll timeout into a
 * wait for ever.
 */
static uint64_t put_exact(const void *s, size_t len)
{
    size_t off;

    if (chance(10))     /* never a place whose contents we do not control */
        return chance(50) ? 0x0000800000000000ull - below(len + 1) : alias_guard_va() - below(len + 1);
    if (chance(30))     /* across a page boundary */
        off = (below(ARENA_PAGES - 1) + 1) * PAGE_SIZE - 1 - below(len);
    else
        off = below(ARENA_PAGES * PAGE_SIZE - len);
    memcpy(arena + off, s, len);
    return (uintptr_t)arena + off;
}

/* ---- Faults caught while poking the CPU ---- */

static uint64_t nr_faults;

static bool try(void (*fn)(void *), void *arg)
{
    struct fault_info fi;

    if (run_catching(fn, arg, &fi)) {
        nr_faults++;
        return false;
    }
    return true;
}

/* ---- Hypercalls from CPL 0 ---- */

static long call(unsigned long nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    enum hcall_path path = chance(80) ? hcall_default_path() : hcall_native_direct();

    return hypercall_via(path, nr, a1, a2, a3, a4, a5);
}

static domid_t domid_any(void)
{
    static const domid_t ids[] = { DOMID_SELF, DOMID_SELF, 0, 1, 2, 3, 0x7FEF, 0x7FF1, 0x7FF2,
                                   0x7FF4, 0xFFFF };

    return chance(90) ? ids[below(ARRAY_SIZE(ids))] : (domid_t)rnd();
}

static uint32_t port_any(void)
{
    if (chance(20))
        return console_port;
    return chance(80) ? (uint32_t)below(64) : (uint32_t)val();
}

static void gen_xen_version(void)
{
    void *fill;
    uint64_t cmd = pick(12);

    (void)call(__HYPERVISOR_xen_version, cmd, buf_any(chance(50) ? 1024 : 64, &fill), val(), 0, 0);
}

/* Printable bytes only, unless known=1 (console escape sequences: hostside branch). */
static void fill_console_text(uint8_t *p, size_t n)
{
    static const char text[] = "fuzz console_io write: abcdefghijklmnopqrstuvwxyz 0123456789\n";

    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
        if (known_area(KNOWN_AREA_CONSOLE) && chance(5))
            p[i] = chance(50) ? 0x1b : (uint8_t)rnd();     /* KNOWN_CONSOLE_ESCAPES */
    }
    if (n)
        p[n - 1] = '\n';   /* whole lines, so the FUZZ lines stay lines of their own */
}

/* Text for CONSOLEIO_write: its own pages, which no registered area (vcpu_info, runstate) can overlap. */
static uint8_t console_text[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void gen_console_io(void)
{
    if (chance(70)) {
        size_t n = (size_t)below(128);
        /* Often across the page boundary. */
        size_t off = chance(50) ? PAGE_SIZE - below(n + 1) : below(PAGE_SIZE);

        if (chance(85)) {
            fill_console_text(console_text + off, n);
            (void)call(__HYPERVISOR_console_io, CONSOLEIO_write, n, (uintptr_t)console_text + off, 0, 0);
        } else {
            /* A buffer we cannot vouch for prints nothing readable: give a count that faults first. */
            (void)call(__HYPERVISOR_console_io, CONSOLEIO_write, chance(50) ? val() : 64,
                       chance(50) ? 0x0000800000000000ull : alias_guard_va(), 0, 0);
        }
        return;
    }
    void *fill;
    uint64_t n = chance(70) ? below(256) : val();
    uint64_t cmd = chance(80) ? CONSOLEIO_read : val();

    if ((uint32_t)cmd == CONSOLEIO_write && !known_area(KNOWN_AREA_CONSOLE))
        cmd = CONSOLEIO_read;       /* a write of bytes we did not choose: KNOWN_CONSOLE_ESCAPES */
    (void)call(__HYPERVISOR_console_io, cmd, n,
               buf_any((size_t)(n < PAGE_SIZE ? n : PAGE_SIZE), &fill), 0, 0);
}

/* A list of gfns for a reservation, in a buffer; balloon generators own these frames. */
static uint64_t gfn_list(unsigned n, bool high_order9)
{
    static xen_pfn_t list[16];

    for (unsigned i = 0; i < n && i < ARRAY_SIZE(list); i++) {
        if (high_order9)
            list[i] = HIGH_GFN_ORDER9 + below(4) * 512;
        else if (known_area(KNOWN_AREA_MEMORY) && chance(30))
            list[i] = (uintptr_t)victim / PAGE_SIZE + below(VICTIM_PAGES);  /* KNOWN_P2M_SPLIT */
        else if (chance(60))
            list[i] = LOW_VICTIM_FIRST + below(LOW_VICTIM_COUNT);
        else if (chance(70))
            list[i] = HIGH_GFN_ORDER0 + below(16);
        else
            list[i] = chance(50) ? XAPIC_PAGE / PAGE_SIZE : val() | (1ull << 40);
    }
    return put_exact(list, sizeof(list[0]) * (n ? n : 1));
}

static void gen_reservation(uint64_t cmd)
{
    struct xen_memory_reservation r = { .domid = chance(85) ? DOMID_SELF : domid_any() };
    bool order9 = chance(15);
    unsigned n = (unsigned)below(8) + 1;

    r.extent_order = order9 ? 9 : (chance(90) ? 0 : (unsigned)val());
    r.mem_flags = chance(80) ? 0 : (unsigned)val();
    r.nr_extents = n;
    /* Any order but 0 works on the high, 2 MiB aligned frames, far from our own. */
    r.extent_start.p = (xen_pfn_t *)(uintptr_t)gfn_list(n, r.extent_order != 0);
    if (chance(10))     /* a list the hypervisor cannot read (not garbage we could not vouch for) */
        r.extent_start.p = (xen_pfn_t *)(uintptr_t)(chance(50) ? 0x0000800000000000ull : alias_guard_va());
    if (known_area(KNOWN_AREA_MEMORY) && chance(20))
        r.nr_extents = chance(50) ? (1ull << 40) : val();  /* KNOWN_HUGE_EXTENTS */
    (void)call(__HYPERVISOR_memory_op, cmd, put_exact(&r, sizeof(r)), 0, 0, 0);
}

/* XENMAPSPACE_shared_info only onto its homes (or nowhere real); others within the low victims. */
static void gen_add_to_physmap(void)
{
    struct xen_add_to_physmap a = { .domid = chance(85) ? DOMID_SELF : domid_any() };
    bool moving_shinfo = false;
    long rc;

    a.space = (unsigned)pick(6);
    a.size = (uint16_t)(chance(80) ? below(4) : val());
    switch (a.space) {
    case XENMAPSPACE_shared_info:
        a.idx = chance(90) ? 0 : val();
        if (chance(80)) {
            a.gpfn = (uintptr_t)shinfo_home(below(SHINFO_HOMES)) / PAGE_SIZE;
            moving_shinfo = a.idx == 0 && a.domid == DOMID_SELF;
        } else {
            a.gpfn = chance(50) ? val() | (1ull << 40) : HIGH_GFN_ORDER0 + below(16);
        }
        break;
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
        a.idx = LOW_VICTIM_FIRST + below(LOW_VICTIM_COUNT);
        a.gpfn = chance(70) ? LOW_VICTIM_FIRST + below(LOW_VICTIM_COUNT) : val() | (1ull << 40);
        if (a.size > 4)
            a.size = 4;
        if (a.space == XENMAPSPACE_gmfn_range && a.idx + a.size > LOW_VICTIM_FIRST + LOW_VICTIM_COUNT)
            a.idx = LOW_VICTIM_FIRST;
        break;
    default:
        a.idx = val();
        a.gpfn = chance(50) ? val() | (1ull << 40) : HIGH_GFN_ORDER0 + below(16);
        break;
    }
    rc = call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, put_exact(&a, sizeof(a)), 0, 0, 0);
    if (rc == 0 && moving_shinfo)
        shinfo_va = (uintptr_t)a.gpfn * PAGE_SIZE;
}

static void gen_memory_op(void)
{
    /* The bits above the command are the continuation's start extent (Xen's MEMOP_EXTENT_SHIFT). */
    uint64_t cmd = chance(90) ? below(30) : below(30) | val() << 6;
    void *fill;

    switch (cmd & 0x3F) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        gen_reservation(cmd);
        return;
    case XENMEM_add_to_physmap:
        gen_add_to_physmap();
        return;
    case XENMEM_memory_map: {
        struct xen_memory_map m = { .nr_entries = (unsigned)(chance(70) ? below(64) : val()) };

        m.buffer.p = (void *)(uintptr_t)buf_any(20 * (m.nr_entries < 64 ? m.nr_entries : 64), &fill);
        /* Exact: one flipped bit in buffer once pointed the map at our own stack (seed 2026). */
        (void)call(__HYPERVISOR_memory_op, cmd, put_exact(&m, sizeof(m)), 0, 0, 0);
        return;
    }
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn: {
        domid_t d = domid_any();

        (void)call(__HYPERVISOR_memory_op, cmd, put_struct(&d, sizeof(d)), 0, 0, 0);
        return;
    }
    default: {  /* exchange, remove_from_physmap, batch, the tools' ops: garbage of a plausible size */
        uint8_t junk[64];

        random_bytes(junk, sizeof(junk));
        (void)call(__HYPERVISOR_memory_op, cmd, chance(80) ? put_struct(junk, sizeof(junk)) : val(),
                   val(), 0, 0);
        return;
    }
    }
}

/* A timer period that cannot livelock the scheduler unless known=1 (timers branch). */
static uint64_t period_ns(void)
{
    if (known_area(KNOWN_AREA_TIMERS) && chance(30))
        return val();                                   /* KNOWN_HUGE_PERIOD: 2^64-1, 1, 0 ... */
    return 5000000ull + below(1000000000ull);           /* 5 ms .. 1 s (Bochs: see timer_values) */
}

static void gen_set_timer_op(void)
{
    (void)call(__HYPERVISOR_set_timer_op, val(), val(), 0, 0, 0);
}

/* An address the hypervisor keeps writing to (runstate, time area): arena or special pages only. */
static uint64_t area_any(size_t len)
{
    void *fill;
    uint64_t gva = buf_any(len, &fill);

    return gva;
}

static void gen_vcpu_op(void)
{
    uint64_t cmd = pick(15);
    uint64_t vcpu = chance(70) ? 0 : val();
    void *fill;

    if (trace)
        con_printf("FUZZ vcpu_op cmd %lx vcpu %lx\n", (unsigned long)cmd, (unsigned long)vcpu);

    if ((uint32_t)cmd == VCPUOP_down && (uint32_t)vcpu == 0)
        vcpu = 1 + below(40);           /* the last vCPU going down ends the domain */
    switch (cmd) {
    case VCPUOP_initialise: {
        uint8_t ctx[256];

        random_bytes(ctx, sizeof(ctx));
        (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, put_struct(ctx, sizeof(ctx)), 0, 0);
        return;
    }
    case VCPUOP_get_runstate_info:
        (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, buf_any(sizeof(struct vcpu_runstate_info), &fill),
                   0, 0);
        return;
    case VCPUOP_register_runstate_memory_area:
    case VCPUOP_register_vcpu_time_memory_area: {
        uint64_t a = area_any(48);

        if (trace)
            con_printf("FUZZ area %lx\n", (unsigned long)a);

        (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, put_exact(&a, sizeof(a)), 0, 0);
        return;
    }
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer t = { .period_ns = period_ns() };

        (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, put_exact(&t, sizeof(t)), 0, 0);
        return;
    }
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = val(), .flags = (uint32_t)val() };

        (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, put_exact(&t, sizeof(t)), 0, 0);
        return;
    }
    case VCPUOP_register_vcpu_info: {
        struct vcpu_register_vcpu_info r = {
            .mfn = gfn_any(), .offset = (uint32_t)(chance(70) ? below(PAGE_SIZE / 64) * 64 : val()),
        };

        (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, put_exact(&r, sizeof(r)), 0, 0);
        return;
    }
    default:
        break;
    }
    (void)call(__HYPERVISOR_vcpu_op, cmd, vcpu, val(), 0, 0);
}

/*
 * SCHEDOP_block returns at once when an interrupt is pending in the vLAPIC,
 * so the fuzzer makes one pending first (x2APIC self-IPI, APIC software
 * enabled, TPR 0, ISR emptied): a block that could sleep for good would
 * test nothing the canary does not.
 */
static bool try_wrmsr(uint32_t msr, uint64_t value);

static void apic_force_pending(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (!(base & APIC_BASE_EN))
        (void)try_wrmsr(MSR_APIC_BASE, 0xFEE00000ull | APIC_BASE_EN | (base & APIC_BASE_BSP));
    if (!(rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD))
        (void)try_wrmsr(MSR_APIC_BASE,
                        0xFEE00000ull | APIC_BASE_EN | APIC_BASE_EXTD | (base & APIC_BASE_BSP));
    (void)try_wrmsr(X2APIC_SVR, APIC_SVR_ENABLE | 0xFF);
    (void)try_wrmsr(X2APIC_TPR, 0);
    for (int i = 0; i < 8; i++)
        (void)try_wrmsr(X2APIC_EOI, 0);
    (void)try_wrmsr(X2APIC_SELF_IPI, 0xF0);
}

static void gen_sched_op(void)
{
    uint64_t cmd = pick(9);

    switch (cmd) {
    case SCHEDOP_yield:
        (void)call(__HYPERVISOR_sched_op, cmd, val(), 0, 0, 0);
        return;
    case SCHEDOP_block:
        apic_force_pending();
        (void)call(__HYPERVISOR_sched_op, cmd, 0, 0, 0, 0);
        return;
    case SCHEDOP_poll: {
        uint32_t ports[8];
        struct sched_poll p;
        void *fill;

        for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
            ports[i] = port_any();
        p.ports.p = (evtchn_port_t *)(uintptr_t)(chance(80) ? put_struct(ports, sizeof(ports))
                                                            : buf_any(32, &fill));
        p.nr_ports = (unsigned)(chance(80) ? below(9) : val());
        p.timeout = 1 + below(1000);    /* long past: returns at once (0 would wait for a port) */
        (void)call(__HYPERVISOR_sched_op, cmd, put_exact(&p, sizeof(p)), 0, 0, 0);
        return;
    }
    case SCHEDOP_shutdown:          /* ends the domain: only with reasons that must be refused */
    case SCHEDOP_shutdown_code: {
        /* Two non-zero bytes: never one of the accepted reasons (0-4). */
        struct sched_shutdown s = { .reason = (unsigned)((1 + below(255)) | (1 + below(255)) << 8) };

        if (cmd == SCHEDOP_shutdown_code && chance(50))
            s.reason = SHUTDOWN_poweroff;
        (void)call(__HYPERVISOR_sched_op, cmd,
                   chance(80) ? put_exact(&s, sizeof(s)) : 0x0000800000000000ull, 0, 0, 0);
        return;
    }
    case SCHEDOP_remote_shutdown: { /* never names us */
        struct sched_remote_shutdown s = { .domain_id = (domid_t)(0x7FF1 + below(8)), .reason = 0 };

        (void)call(__HYPERVISOR_sched_op, cmd, put_exact(&s, sizeof(s)), 0, 0, 0);
        return;
    }
    default:
        if ((uint32_t)cmd == SCHEDOP_shutdown || (uint32_t)cmd == SCHEDOP_remote_shutdown ||
            (uint32_t)cmd == SCHEDOP_block || (uint32_t)cmd == SCHEDOP_poll)
            return;     /* a raw value that truncates to one of them: its case covers it */
        (void)call(__HYPERVISOR_sched_op, cmd, val(), 0, 0, 0);
    }
}

static void gen_evtchn_op(void)
{
    uint64_t cmd = pick(15);
    union {
        struct evtchn_alloc_unbound alloc;
        struct evtchn_bind_interdomain inter;
        struct evtchn_bind_virq virq;
        struct evtchn_bind_ipi ipi;
        struct evtchn_close close;
        struct evtchn_send send;
        struct evtchn_status status;
        struct evtchn_bind_vcpu vcpu;
        struct evtchn_unmask unmask;
        struct evtchn_reset reset;
        struct evtchn_init_control init;
        struct evtchn_expand_array expand;
        struct evtchn_set_priority prio;
        uint8_t raw[32];
    } u;

    random_bytes(u.raw, sizeof(u.raw));
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        u.alloc.dom = domid_any();
        u.alloc.remote_dom = domid_any();
        break;
    case EVTCHNOP_bind_interdomain:
        u.inter.remote_dom = domid_any();
        u.inter.remote_port = port_any();
        break;
    case EVTCHNOP_bind_virq:
        u.virq.virq = (uint32_t)(chance(80) ? below(NR_VIRQS + 2) : val());
        u.virq.vcpu = (uint32_t)(chance(80) ? 0 : val());
        break;
    case EVTCHNOP_bind_ipi:
        u.ipi.vcpu = (uint32_t)(chance(80) ? 0 : val());
        break;
    case EVTCHNOP_close:
    case EVTCHNOP_send:
    case EVTCHNOP_unmask:
        u.send.port = port_any();
        break;
    case EVTCHNOP_status:
        u.status.dom = domid_any();
        u.status.port = port_any();
        break;
    case EVTCHNOP_bind_vcpu:
        u.vcpu.port = port_any();
        u.vcpu.vcpu = (uint32_t)(chance(80) ? below(2) : val());
        break;
    case EVTCHNOP_reset:
        u.reset.dom = domid_any();
        break;
    case EVTCHNOP_init_control:     /* FIFO: the hypervisor then writes heads and LINKs there */
        u.init.control_gfn = gfn_any();
        u.init.offset = (uint32_t)(chance(80) ? below(PAGE_SIZE / 8) * 8 : val());
        u.init.vcpu = (uint32_t)(chance(80) ? below(2) : val());
        break;
    case EVTCHNOP_expand_array:
        u.expand.array_gfn = gfn_any();
        break;
    case EVTCHNOP_set_priority:
        u.prio.port = port_any();
        u.prio.priority = (uint32_t)(chance(80) ? below(EVTCHN_FIFO_MAX_QUEUES + 1) : val());
        break;
    default:
        break;
    }
    (void)call(__HYPERVISOR_event_channel_op, cmd, chance(90) ? put_struct(&u, sizeof(u)) : val(),
               0, 0, 0);
}

static void gen_hvm_op(void)
{
    uint64_t cmd = pick(26);

    switch (cmd) {
    case HVMOP_set_param:
    case HVMOP_get_param: {
        struct xen_hvm_param p = {
            .domid = chance(85) ? DOMID_SELF : domid_any(),
            .index = (uint32_t)(chance(85) ? below(HVM_PARAM_MCA_CAP + 4) : val()),
            .value = val(),
        };

        (void)call(__HYPERVISOR_hvm_op, cmd, put_struct(&p, sizeof(p)), 0, 0, 0);
        return;
    }
    case HVMOP_set_evtchn_upcall_vector: {
        struct xen_hvm_evtchn_upcall_vector v = {
            .vcpu = (uint32_t)(chance(80) ? 0 : val()), .vector = (uint8_t)rnd(),
        };

        (void)call(__HYPERVISOR_hvm_op, cmd, put_struct(&v, sizeof(v)), 0, 0, 0);
        return;
    }
    default: {
        uint8_t junk[32];

        random_bytes(junk, sizeof(junk));
        (void)call(__HYPERVISOR_hvm_op, cmd, chance(80) ? put_struct(junk, sizeof(junk)) : val(), 0, 0, 0);
    }
    }
}

/*
 * Grant ops on junk. As in Xen, each element of map, unmap and copy gets its status (map: the
 * whole element) written back, and setup_table writes frame_list: so the array lies whole in the
 * arena (a larger count only with an unreadable array), and frame_list points into the arena.
 */
static void gen_grant_table_op(void)
{
    uint8_t junk[4 * sizeof(struct gnttab_copy)];
    unsigned long cmd = pick(14), count = below(5);
    uint64_t uop;

    random_bytes(junk, sizeof(junk));
    if (cmd == GNTTABOP_setup_table) {
        struct gnttab_setup_table *st = (struct gnttab_setup_table *)junk;

        st->nr_frames = chance(50) ? below(70) : st->nr_frames;
        set_xen_guest_handle(st->frame_list, (xen_pfn_t *)(arena + below(ARENA_PAGES * PAGE_SIZE - 70 * 8)));
    }
    uop = put_exact(junk, sizeof(junk));
    if (chance(10)) {
        count = val();
        uop = chance(50) ? 0x0000800000000000ull : alias_guard_va();
    }
    (void)call(__HYPERVISOR_grant_table_op, cmd, uop, count, 0, 0);
}

/*
 * Wisp's control hypercall. fuzz64 has no role, so the promise is checkable here:
 * every known command, version included, gives -EPERM before it reads its argument,
 * and a number past the last gives -ENOSYS (docs/control.md).
 */
static uint64_t control_bad;
#define LAST_CONTROL_COMMAND WISP_CTL_console_input

static long control_expected(uint64_t cmd)
{
    return cmd <= LAST_CONTROL_COMMAND ? -XEN_EPERM : -XEN_ENOSYS;
}

static void gen_wisp_control(void)
{
    uint8_t junk[64];
    uint64_t cmd = chance(90) ? below(LAST_CONTROL_COMMAND + 3) : val();
    long rc;

    random_bytes(junk, sizeof(junk));
    rc = call(__HYPERVISOR_wisp_control, cmd, chance(80) ? put_struct(junk, sizeof(junk)) : val(),
              val(), 0, 0);
    if (rc != control_expected(cmd) && !control_bad++)
        con_printf("FUZZ FAIL wisp_control cmd=%lx gave %ld, want %ld\n", (unsigned long)cmd, rc,
                   control_expected(cmd));
}

/*
 * builder=1 (the fuzz domain then needs roles control): the run-time build commands,
 * on domains of its own. Arguments are random or flipped, and a domain may be started
 * at a random entry and run garbage: it may crash itself, never the hypervisor or the
 * canary. Only destroy and unpause are exact, and name only its own domains, so the
 * canary is never touched. Each command must answer one of the errors it documents.
 */
#define MAX_BUILT 2
static bool opt_builder;
static uint32_t built[MAX_BUILT];       /* ids it created and has not destroyed; 0: none */
static uint64_t builder_bad;

static bool answer_allowed(uint64_t cmd, long rc)
{
    switch (cmd) {
    case WISP_CTL_domain_create:
        return rc == 0 || rc == -XEN_EINVAL || rc == -XEN_EEXIST || rc == -XEN_ENOSPC ||
               rc == -XEN_ENOMEM || rc == -XEN_EFAULT;
    case WISP_CTL_domain_scrub:
        return rc == 0 || rc == 1 || rc == -XEN_EINVAL || rc == -XEN_ESRCH || rc == -XEN_EFAULT;
    default:    /* write, start */
        return rc == 0 || rc == -XEN_EBUSY || rc == -XEN_EINVAL || rc == -XEN_ESRCH ||
               rc == -XEN_EFAULT;
    }
}

static uint32_t some_built(void)
{
    uint32_t id = built[below(MAX_BUILT)];

    return id && chance(90) ? id : (uint32_t)below(12);
}

static void destroy_built(unsigned i)
{
    struct wisp_ctl_domain d = { .domid = built[i] };

    if (built[i])
        (void)call(__HYPERVISOR_wisp_control, WISP_CTL_destroy, (uint64_t)(uintptr_t)&d, 0, 0, 0);
    built[i] = 0;
}

static void gen_build_control(void)
{
    static const uint64_t cmds[] = { WISP_CTL_domain_create, WISP_CTL_domain_scrub,
                                     WISP_CTL_domain_write, WISP_CTL_domain_write,
                                     WISP_CTL_domain_start };
    uint64_t cmd = cmds[below(ARRAY_SIZE(cmds))];
    unsigned slot = (unsigned)below(MAX_BUILT);
    long rc;

    if (chance(5)) {            /* make room, or run what was started */
        struct wisp_ctl_domain d = { .domid = built[slot] };

        if (chance(50))
            destroy_built(slot);
        else if (built[slot])
            (void)call(__HYPERVISOR_wisp_control, WISP_CTL_unpause, (uint64_t)(uintptr_t)&d, 0,
                       0, 0);
        return;
    }
    if (cmd == WISP_CTL_domain_create) {
        struct wisp_ctl_domain_create a = { .memory_mib = chance(90) ? 2 + below(6) : (uint32_t)val(),
                                            .vcpus = chance(90) ? 1 + below(2) : (uint32_t)val(),
                                            .weight = chance(90) ? 0 : (uint32_t)val(),
                                            .cpus = chance(90) ? 0 : val() };
        for (unsigned i = 0; i < 4 + below(4); i++)
            a.name[i] = chance(95) ? (char)('a' + below(26)) : (char)val();
        if (built[slot])
            destroy_built(slot);
        rc = call(__HYPERVISOR_wisp_control, cmd, (uint64_t)(uintptr_t)&a, 0, 0, 0);
        if (rc == 0)
            built[slot] = a.domid;
    } else if (cmd == WISP_CTL_domain_scrub) {
        struct wisp_ctl_domain d = { .domid = some_built() };

        do
            rc = call(__HYPERVISOR_wisp_control, cmd, put_struct(&d, sizeof(d)), 0, 0, 0);
        while (rc == 1 && chance(90));
    } else if (cmd == WISP_CTL_domain_write) {
        uint8_t junk[64];
        uint64_t len = chance(80) ? below(2 * PAGE_SIZE) : chance(50) ? val() : WISP_WRITE_MAX;
        struct wisp_ctl_domain_write w = { .domid = some_built(),
                                           .gpa = chance(80) ? below(8u << 20) : val(),
                                           .bytes = len };
        void *fill;

        random_bytes(junk, sizeof(junk));
        w.buffer = buf_any(len < ARENA_PAGES * PAGE_SIZE ? (size_t)len : sizeof(junk), &fill);
        rc = call(__HYPERVISOR_wisp_control, cmd, put_struct(&w, sizeof(w)), 0, 0, 0);
    } else {
        struct wisp_ctl_domain_start st = { .domid = some_built(),
                                            .entry = chance(80) ? below(8u << 20) : val(),
                                            .start_info = chance(80) ? below(8u << 20) : val() };

        rc = call(__HYPERVISOR_wisp_control, cmd, put_struct(&st, sizeof(st)), 0, 0, 0);
    }
    if (!answer_allowed(cmd, rc) && !builder_bad++)
        con_printf("FUZZ FAIL build cmd=%lu gave %ld\n", (unsigned long)cmd, rc);
}

/* Any number at all: unknown ones, and 64-bit numbers whose low half is a known one. */
static void gen_any_hypercall(void)
{
    uint64_t nr = chance(50) ? below(64) : val();

    switch ((uint32_t)nr) {
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_vcpu_op:
    case __HYPERVISOR_memory_op:
    case __HYPERVISOR_console_io:
        /* Raw garbage could shut us down, free our frames or print our memory: only as "unknown". */
        nr = (uint32_t)nr | 1ull << 32;
        break;
    }
    (void)hypercall_via(hcall_native_direct(), nr, val(), val(), val(), val(), val());
}

/* ---- Hypercalls from CPL 3: every one must give -EPERM ---- */

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iopb;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "SDM vol 3A 8.7: 64-bit TSS");

#define SEL_USER_DATA   (0x20 | 3)
#define SEL_USER_CODE64 (0x28 | 3)
#define SEL_TSS         0x30
#define PTE_US          0x004   /* SDM 4.5: user-mode access at this level */
#define RFLAGS_RESERVED 0x2     /* bit 1 is always 1 */

/* GDT: the runtime's four entries, user data and 64-bit code (DPL 3), the TSS (16 bytes). */
static uint64_t gdt[8] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t user_code[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t user_stack[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uintptr_t user_code_va, user_stack_va;

extern uint64_t pt_pml4[PT_ENTRIES], pt_pdpt[PT_ENTRIES], pt_alias_pd[PT_ENTRIES],
    pt_alias[PT_ENTRIES];

struct ucall {
    uint64_t nr, a1, a2, a3, a4, a5, rsp, rip;
};

/* Loads the arguments as the hypercall ABI wants and IRETQs to CPL 3 (SDM vol 3A 6.14.3). */
void user_enter(const struct ucall *u) __attribute__((noreturn));
__asm__(".text\n"
        ".globl user_enter\n"
        "user_enter:\n"
        "    movq 0(%rdi), %rax\n"
        "    movq 16(%rdi), %rsi\n"
        "    movq 24(%rdi), %rdx\n"
        "    movq 32(%rdi), %r10\n"
        "    movq 40(%rdi), %r8\n"
        "    pushq $0x23\n"             /* SEL_USER_DATA */
        "    pushq 48(%rdi)\n"
        "    pushq $0x2\n"              /* RFLAGS: IF clear */
        "    pushq $0x2b\n"             /* SEL_USER_CODE64 */
        "    pushq 56(%rdi)\n"
        "    movq 8(%rdi), %rdi\n"
        "    iretq\n");

static void user_call_fn(void *arg)
{
    user_enter(arg);
}

static void load_kernel_data_selectors(void)
{
    __asm__ volatile("movl %0, %%ds; movl %0, %%es; movl %0, %%ss" : : "r"(SEL_DATA) : "memory");
}

static void ring3_init(void)
{
    uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = { sizeof(gdt) - 1, (uintptr_t)gdt };
    /* VMCALL or VMMCALL; mov %rax,(%rsp); ud2 (the #UD brings us back to CPL 0). */
    static const uint8_t vmcall[] = { 0x0f, 0x01, 0xc1 }, vmmcall[] = { 0x0f, 0x01, 0xd9 };
    static const uint8_t tail[] = { 0x48, 0x89, 0x04, 0x24, 0x0f, 0x0b };

    gdt[0] = 0;
    gdt[1] = 0x00cf9a000000ffffull;     /* 0x08: 32-bit code (as entry64.S) */
    gdt[2] = 0x00cf92000000ffffull;     /* 0x10: data */
    gdt[3] = 0x00af9a000000ffffull;     /* 0x18: 64-bit code */
    gdt[4] = 0x00cff2000000ffffull;     /* 0x20: data, DPL 3 */
    gdt[5] = 0x00affa000000ffffull;     /* 0x28: 64-bit code, DPL 3 */
    /* 0x30: available 64-bit TSS, present (SDM vol 3A 8.2.3, type 9) */
    gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
             (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[7] = base >> 32;
    memset(&tss, 0, sizeof(tss));
    tss.rsp[0] = (uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iopb = sizeof(tss);             /* no I/O bitmap: every port #GPs at CPL 3 */
    __asm__ volatile("lgdt %0" : : "m"(d));
    load_kernel_data_selectors();
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

    memset(user_code, 0xCC, sizeof(user_code));
    memcpy(user_code, cpu_vendor() == CPU_VENDOR_INTEL ? vmcall : vmmcall, 3);
    memcpy(user_code + 3, tail, sizeof(tail));
    /* Only the alias window's path and these two slots become user pages. */
    user_code_va = (uintptr_t)alias_map(SLOT_USER_CODE, user_code);
    user_stack_va = (uintptr_t)alias_map(SLOT_USER_STACK, user_stack);
    pt_pml4[0] |= PTE_US;
    pt_pdpt[4] |= PTE_US;
    pt_alias_pd[0] |= PTE_US;
    pt_alias[SLOT_USER_CODE] |= PTE_US;
    pt_alias[SLOT_USER_STACK] |= PTE_US;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

static uint64_t cpl3_calls, cpl3_bad;

static void gen_cpl3(void)
{
    struct ucall u = {
        .nr = chance(70) ? below(64) : val(), .a1 = val(), .a2 = val(), .a3 = val(), .a4 = val(),
        .a5 = val(), .rsp = user_stack_va + PAGE_SIZE - 64, .rip = user_code_va,
    };
    uint64_t *result = (uint64_t *)(user_stack + PAGE_SIZE - 64);
    struct fault_info fi;

    *result = 0x5A5A5A5A5A5A5A5Aull;
    (void)run_catching(user_call_fn, &u, &fi);
    load_kernel_data_selectors();
    cpl3_calls++;
    if (fi.vector != X86_EXC_UD || fi.ip != user_code_va + 7 || *result != (uint64_t)-XEN_EPERM) {
        cpl3_bad++;
        con_printf("FUZZ FAIL cpl3 nr=%lx: vector %d ip %lx result %lx (want #UD at %lx, -EPERM)\n",
                   (unsigned long)u.nr, fi.vector, fi.ip, (unsigned long)*result,
                   (unsigned long)(user_code_va + 7));
    }
}

/* ---- Exits: MSRs, XSETBV, control registers, I/O, CPUID, the APIC ---- */

struct msr_op {
    uint32_t index;
    uint64_t value;
};

static void do_rdmsr(void *arg)
{
    struct msr_op *m = arg;

    m->value = rdmsr(m->index);
}

static void do_wrmsr(void *arg)
{
    struct msr_op *m = arg;

    wrmsr(m->index, m->value);
}

static bool try_wrmsr(uint32_t msr, uint64_t value)
{
    struct msr_op m = { msr, value };

    return try(do_wrmsr, &m);
}

static uint32_t hypercall_msr;

static uint32_t msr_any(void)
{
    static const uint32_t interesting[] = {
        0x0, 0x10, 0x1B, 0x3A, 0x48, 0x49, 0x8B, 0xFE, 0x174, 0x175, 0x176, 0x179, 0x17A,
        0x1A0, 0x1D9, 0x277, 0x2FF, 0x6E0, 0x800, 0x802, 0x808, 0x80B, 0x80F, 0x828, 0x832,
        0x838, 0x839, 0x83E, 0x83F, 0x8FF, 0x900, 0xC0000080, 0xC0000081, 0xC0000082,
        0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101, 0xC0000102, 0xC0000103, 0xC0010000,
        0xC0010114, 0xC0010117, 0x40000000, 0x40000001, 0x40000100, 0x40000200, 0x4B564D00,
        0xFFFFFFFF, 0x80000000, 0x7FFFFFFF,
    };

    return chance(70) ? interesting[below(ARRAY_SIZE(interesting))] : (uint32_t)rnd();
}

/* MSRs whose write loses the guest, or that other generators own. */
static bool msr_write_allowed(uint32_t msr)
{
    if (msr == hypercall_msr || msr == MSR_APIC_BASE || msr == MSR_EFER)
        return false;
    if (msr == X2APIC_ICR || msr == X2APIC_LVT_TIMER || msr == X2APIC_TIMER_INIT ||
        msr == X2APIC_TIMER_DIV)
        return false;   /* gen_x2apic writes these under its own rules */
    return true;
}

static void gen_msr(void)
{
    struct msr_op old = { .index = msr_any() }, m = old;

    bool readable = try(do_rdmsr, &old);
    if (chance(50) || !msr_write_allowed(m.index))
        return;
    m.value = chance(50) ? val() : old.value ^ (1ull << below(64));
    if (try(do_wrmsr, &m) && readable)
        (void)try(do_wrmsr, &old);      /* put it back */
}

/* EFER: SCE and NXE are the guest's; FFXSR and friends are KNOWN_EFER (exits branch). */
#define EFER_SCE   (1ull << 0)
#define EFER_NXE   (1ull << 11)
#define EFER_SVME  (1ull << 12)
#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE   (1ull << 15)

static void gen_efer(void)
{
    static const uint64_t safe[] = { EFER_SCE, EFER_NXE, EFER_SVME };
    static const uint64_t risky[] = { EFER_LMSLE, EFER_FFXSR, EFER_TCE, 1ull << 2, 1ull << 20,
                                      1ull << 63 };
    struct msr_op old = { .index = MSR_EFER }, m;

    if (!try(do_rdmsr, &old))
        return;
    m = old;
    if (known_area(KNOWN_AREA_EXITS) && chance(50))
        m.value ^= risky[below(ARRAY_SIZE(risky))];        /* KNOWN_EFER */
    else
        m.value ^= safe[below(ARRAY_SIZE(safe))];
    if (try(do_wrmsr, &m))
        (void)try(do_wrmsr, &old);
}

static bool have_xsave;
static uint64_t xcr0_supported;

struct xcr {
    uint32_t index;
    uint64_t value;
};

static void do_xsetbv(void *arg)
{
    struct xcr *x = arg;

    __asm__ volatile("xsetbv" : : "c"(x->index), "a"((uint32_t)x->value),
                     "d"((uint32_t)(x->value >> 32)) : "memory");
}

/* XCR0 components (SDM vol 1, 13.3): the groups that must be set together. */
#define XCR0_X87    (1ull << 0)
#define XCR0_SSE    (1ull << 1)
#define XCR0_YMM    (1ull << 2)
#define XCR0_BND    (3ull << 3)
#define XCR0_AVX512 (7ull << 5)

/* A value the CPU accepts (SDM vol 1, 13.3), or one every CPU refuses (bit 0 clear). */
static uint64_t xcr0_ungated(void)
{
    uint64_t v = XCR0_X87;

    if (chance(10))
        return below(4) << 1;                              /* x87 clear: #GP everywhere */
    if (chance(80))
        v |= XCR0_SSE;
    if ((v & XCR0_SSE) && chance(50))
        v |= XCR0_YMM;
    if ((v & XCR0_YMM) && chance(50))
        v |= XCR0_AVX512;
    if (chance(30))
        v |= XCR0_BND;
    return v & (xcr0_supported | XCR0_X87);
}

static void gen_xsetbv(void)
{
    struct xcr old = { 0, 0 }, x;

    if (!have_xsave)
        return;
    old.value = xgetbv0();
    x.index = chance(90) ? 0 : (uint32_t)val();
    /* KNOWN_XCR0: any value (exits branch) */
    x.value = known_area(KNOWN_AREA_EXITS) && chance(50) ? val() : xcr0_ungated();
    if (try(do_xsetbv, &x))
        (void)try(do_xsetbv, &old);
}

struct creg {
    unsigned n;
    uint64_t value;
};

static void do_write_cr(void *arg)
{
    struct creg *c = arg;

    switch (c->n) {
    case 0: __asm__ volatile("mov %0, %%cr0" : : "r"(c->value) : "memory"); break;
    case 4: __asm__ volatile("mov %0, %%cr4" : : "r"(c->value) : "memory"); break;
    case 8: __asm__ volatile("mov %0, %%cr8" : : "r"(c->value) : "memory"); break;
    }
}

static uint64_t read_cr(unsigned n)
{
    uint64_t v = 0;

    switch (n) {
    case 0: __asm__ volatile("mov %%cr0, %0" : "=r"(v)); break;
    case 4: __asm__ volatile("mov %%cr4, %0" : "=r"(v)); break;
    case 8: __asm__ volatile("mov %%cr8, %0" : "=r"(v)); break;
    }
    return v;
}

/*
 * CR0: MP EM TS NE WP AM NW CD may be toggled by a guest (NW without CD must
 * #GP). CR4: bits a guest may own. Illegal bits (PG/PE off, PAE off, LA57,
 * VMXE, reserved) are KNOWN_CR (the exits branch makes both backends #GP).
 */
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_ILLEGAL_ALL    7
#define CR0_ILLEGAL_ON_AMD 5        /* all but the last two entries, PE and PG */

/*
 * How many of cr0_illegal's bits to draw from. PE and PG (bits 0 and 31) come last and
 * are left out on AMD: Wisp does not intercept CR0 on SVM, so the CPU itself must #GP a
 * write that clears PG, or PE with PG on (SDM and APM: MOV to CR0), and QEMU 7.2's TCG
 * does neither. Clearing PG takes the fuzz domain out of long mode; clearing PE lives
 * until the restoring write unless an exit falls between the two, and then VMRUN
 * refuses the state (VMEXIT_INVALID) and the domain crashes (docs/testing.md, quirks).
 */
static size_t cr0_illegal_count(void)
{
    return cpu_vendor() == CPU_VENDOR_AMD ? CR0_ILLEGAL_ON_AMD : CR0_ILLEGAL_ALL;
}

static void gen_cr(void)
{
    static const uint8_t cr0_bits[] = { 1, 2, 3, 5, 16, 18, 29, 30 };
    static const uint8_t cr4_bits[] = { 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 18, 20, 21, 22 };
    static const uint8_t cr0_illegal[CR0_ILLEGAL_ALL] = { 32, 40, 63, 6, 15, 0, 31 };
    static const uint8_t cr4_illegal[] = { 5, 12, 13, 14, 19, 23, 24, 31, 32, 63 };
    struct creg c, old;
    /*
     * CR8 only on Intel: QEMU 7.2's TCG aborts (tcg_handle_interrupt:
     * qemu_mutex_iothread_locked) when a nested SVM guest writes CR8 while a
     * virtual interrupt is pending (docs/testing.md, emulator quirks).
     */
    unsigned which = (unsigned)below(cpu_vendor() == CPU_VENDOR_INTEL ? 3 : 2);

    c.n = which == 0 ? 0 : which == 1 ? 4 : 8;
    old.n = c.n;
    old.value = read_cr(c.n);
    c.value = old.value;
    if (c.n == 8)
        c.value = chance(80) ? below(16) : val();
    else if (known_area(KNOWN_AREA_EXITS) && chance(30))     /* KNOWN_CR */
        c.value ^= 1ull << (c.n == 0 ? cr0_illegal[below(cr0_illegal_count())]
                                     : cr4_illegal[below(ARRAY_SIZE(cr4_illegal))]);
    else
        c.value ^= 1ull << (c.n == 0 ? cr0_bits[below(ARRAY_SIZE(cr0_bits))]
                                     : cr4_bits[below(ARRAY_SIZE(cr4_bits))]);
    /*
     * NW without CD: a CPU raises #GP, QEMU's TCG takes it, and VMRUN refuses the
     * state if an exit comes before the restoring write, as with PE above. On AMD
     * (CR0 not intercepted) NW goes on only with CD.
     */
    if (c.n == 0 && cpu_vendor() == CPU_VENDOR_AMD && (c.value & CR0_NW) && !(c.value & CR0_CD))
        c.value &= ~CR0_NW;
    if (trace)
        con_printf("FUZZ cr%u %lx -> %lx\n", c.n, (unsigned long)old.value, (unsigned long)c.value);
    if (try(do_write_cr, &c))
        (void)try(do_write_cr, &old);
}

struct io_op {
    uint16_t port;
    unsigned size, kind;
    uint32_t value;
};

static void do_io(void *arg)
{
    struct io_op *o = arg;
    uint32_t v = o->value;
    uint64_t count = 1 + (o->value & 7);
    uint8_t *p = arena;

    switch (o->kind * 3 + (o->size == 1 ? 0 : o->size == 2 ? 1 : 2)) {
    case 0: __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(o->port)); break;
    case 1: __asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(o->port)); break;
    case 2: __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(o->port)); break;
    case 3: __asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(o->port)); break;
    case 4: __asm__ volatile("outw %w0, %w1" : : "a"(v), "Nd"(o->port)); break;
    case 5: __asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(o->port)); break;
    case 6: __asm__ volatile("rep insb" : "+D"(p), "+c"(count) : "d"(o->port) : "memory"); break;
    case 7: __asm__ volatile("rep insw" : "+D"(p), "+c"(count) : "d"(o->port) : "memory"); break;
    case 8: __asm__ volatile("rep insl" : "+D"(p), "+c"(count) : "d"(o->port) : "memory"); break;
    case 9: __asm__ volatile("rep outsb" : "+S"(p), "+c"(count) : "d"(o->port) : "memory"); break;
    case 10: __asm__ volatile("rep outsw" : "+S"(p), "+c"(count) : "d"(o->port) : "memory"); break;
    default: __asm__ volatile("rep outsl" : "+S"(p), "+c"(count) : "d"(o->port) : "memory"); break;
    }
    o->value = v;
}

static void gen_io(void)
{
    static const uint16_t ports[] = { 0x20, 0x21, 0x40, 0x43, 0x60, 0x64, 0x70, 0x71, 0x80,
                                      0xA0, 0xCF8, 0xCFC, 0xE9, 0xF4, 0x3F8, 0x3FD, 0x402,
                                      0x501, 0x604, 0x8900, 0xB000, 0xFFFF };
    struct io_op o = {
        .port = chance(60) ? ports[below(ARRAY_SIZE(ports))] : (uint16_t)rnd(),
        .size = 1u << below(3), .kind = (unsigned)below(4), .value = (uint32_t)rnd(),
    };

    (void)try(do_io, &o);
}

static void gen_cpuid(void)
{
    struct cpuid_regs r;
    uint32_t leaf = (uint32_t)(chance(50) ? below(0x20) : chance(50) ? 0x40000000 + below(0x200)
                               : chance(50) ? 0x80000000 + below(0x20) : rnd());

    cpuid(leaf, (uint32_t)(chance(70) ? below(4) : rnd()), &r);
}

/*
 * A timer setup that cannot livelock: one-shot, or periodic with at least 5 ms per period.
 * (200 us periods starved this domain under Bochs, whose emulated exits are slow: an
 * expiry per period it could never take with interrupts off. Other domains kept running.)
 */
static void timer_values(uint32_t *lvt, uint32_t *count, uint32_t *divide)
{
    *lvt = (uint32_t)(0x20 + below(0xE0)) | (chance(30) ? APIC_LVT_MASKED : 0);
    *divide = (uint32_t)below(16);
    *count = (uint32_t)(chance(20) ? val() : below(2000000));
    if (chance(40))
        *lvt |= APIC_LVT_PERIODIC;
    if (known_area(KNOWN_AREA_TIMERS) && chance(30)) {  /* KNOWN_LAPIC_PERIODIC: count 1, divide 1 */
        *lvt = 0x40 | APIC_LVT_PERIODIC;
        *count = 1;
        *divide = 0xB;
    } else if ((*lvt & APIC_LVT_PERIODIC) && *count < 5000000) {
        *count = 5000000;   /* at 1 GHz / divide >= 1: 5 ms (docs/test-guests.md: Bochs) */
    }
}

/* The xAPIC page: any register, any value; the timer and ICR under timer_values' rules. */
static void gen_xapic_page(void)
{
    volatile uint32_t *page = (volatile uint32_t *)XAPIC_PAGE;
    uint64_t base = rdmsr(MSR_APIC_BASE);
    unsigned reg = (unsigned)below(0x40);   /* 16-byte registers (SDM table 11-1) */

    if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) != APIC_BASE_EN)
        return;     /* the page is only there in xAPIC mode */
    if (chance(40)) {
        (void)page[reg * 4];
        return;
    }
    if (reg == 0x32 || reg == 0x38 || reg == 0x3E) {
        uint32_t lvt, count, divide;

        timer_values(&lvt, &count, &divide);
        page[0x3E * 4] = divide;
        page[0x32 * 4] = lvt;
        page[0x38 * 4] = count;
    } else {
        page[reg * 4] = (uint32_t)val();
    }
}

static void gen_x2apic(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (!(base & APIC_BASE_EXTD)) {
        if (chance(70))
            return;
        apic_force_pending();           /* into x2APIC mode */
        return;
    }
    switch (below(4)) {
    case 0: {   /* timer */
        uint32_t lvt, count, divide;

        timer_values(&lvt, &count, &divide);
        (void)try_wrmsr(X2APIC_TIMER_DIV, divide);
        (void)try_wrmsr(X2APIC_LVT_TIMER, lvt);
        (void)try_wrmsr(X2APIC_TIMER_INIT, count);
        return;
    }
    case 1: {   /* ICR: fixed, lowest priority or NMI anywhere; INIT/STARTUP never to ourselves */
        uint64_t icr = rnd() & 0xFFFFFFFF000CCFFFull;
        uint32_t mode = (uint32_t)(icr >> 8) & 7;

        if (mode == 5 || mode == 6 || mode == 3 || mode == 7)
            icr = (icr & ~(3ull << 18)) | ICR_ALL_BUT_SELF;
        struct msr_op m = { X2APIC_ICR, icr };
        (void)try(do_wrmsr, &m);
        return;
    }
    case 2: {   /* leave x2APIC: disable, later re-enable in xAPIC mode */
        struct msr_op m = { MSR_APIC_BASE, chance(50) ? base & ~(APIC_BASE_EN | APIC_BASE_EXTD) : val() };

        (void)try(do_wrmsr, &m);
        if (chance(70)) {
            struct msr_op on = { MSR_APIC_BASE, 0xFEE00000ull | APIC_BASE_EN | (base & APIC_BASE_BSP) };
            (void)try(do_wrmsr, &on);
        }
        return;
    }
    default: {
        struct msr_op m = { 0x800 + (uint32_t)below(0x100), val() };

        if (msr_write_allowed(m.index))
            (void)try(chance(50) ? do_rdmsr : do_wrmsr, &m);
    }
    }
}

/* KNOWN_INSN: INVD (not intercepted on SVM today), debug registers, RDPMC (exits branch). */
static void do_invd(void *arg) { (void)arg; __asm__ volatile("invd" ::: "memory"); }
static void do_rdpmc(void *arg)
{
    uint32_t lo, hi;

    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"((uint32_t)(uintptr_t)arg));
}
static void do_dr(void *arg)
{
    uint64_t v = (uintptr_t)arg;

    __asm__ volatile("mov %0, %%dr0; mov %0, %%dr1; mov %0, %%dr2; mov %0, %%dr3" : : "r"(v));
    __asm__ volatile("mov %%dr0, %0" : "=r"(v));
    __asm__ volatile("xor %0, %0; mov %0, %%dr0; mov %0, %%dr1; mov %0, %%dr2; mov %0, %%dr3" : "+r"(v));
}

static void gen_known_insn(void)
{
    switch (below(3)) {
    case 0: (void)try(do_invd, NULL); break;
    case 1: (void)try(do_rdpmc, (void *)(uintptr_t)below(8)); break;
    default: (void)try(do_dr, (void *)(uintptr_t)val()); break;
    }
}

/* ---- NMIs: VCPUOP_send_nmi and NMI IPIs arrive any time; their handler only returns ---- */

void nmi_return(void);
__asm__(".text\n.globl nmi_return\nnmi_return:\n    iretq\n");

static uint64_t nr_nmi_gates;

static void nmi_init(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d;
    uint8_t *gate;
    uint64_t h = (uintptr_t)nmi_return;

    __asm__ volatile("sidt %0" : "=m"(d));
    gate = (uint8_t *)(uintptr_t)d.base + 2 * 16;      /* vector 2, 16-byte gates */
    gate[0] = (uint8_t)h;
    gate[1] = (uint8_t)(h >> 8);
    gate[6] = (uint8_t)(h >> 16);
    gate[7] = (uint8_t)(h >> 24);
    memcpy(gate + 8, (uint32_t[]){ (uint32_t)(h >> 32) }, 4);
    nr_nmi_gates++;
}

/* ---- The run ---- */

static unsigned long hvm_param(uint32_t index)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };

    return hv_hvm_op(HVMOP_get_param, HV_PTR(&p)) ? 0 : (unsigned long)p.value;
}

static void fuzz_init(void)
{
    struct cpuid_regs r;
    struct xen_add_to_physmap a = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
        .gpfn = (uintptr_t)shinfo_home(0) / PAGE_SIZE,
    };

    if (hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a)) == 0)
        shinfo_va = (uintptr_t)shinfo_home(0);
    console_ring_va = hvm_param(HVM_PARAM_CONSOLE_PFN) * PAGE_SIZE;
    console_port = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN);
    cpuid(xen_cpuid_base() + 2, 0, &r);
    hypercall_msr = r.ebx;
    cpuid(1, 0, &r);
    have_xsave = r.ecx & (1u << 26);            /* CPUID.1:ECX.XSAVE */
    if (have_xsave) {
        struct creg c = { 4, read_cr(4) | (1ull << 18) };  /* CR4.OSXSAVE */

        cpuid(0xD, 0, &r);
        xcr0_supported = ((uint64_t)r.edx << 32) | r.eax;
        have_xsave = try(do_write_cr, &c);
    }
    nmi_init();
    ring3_init();
}

typedef void (*gen_fn)(void);

static const struct {
    const char *name;
    gen_fn fn;
    unsigned weight;
    unsigned known_only;    /* 0, or the enum known_area that turns it on */
} gens[] = {
    { "xen_version", gen_xen_version, 4, 0 },
    { "console_io", gen_console_io, 3, 0 },
    { "memory_op", gen_memory_op, 10, 0 },
    { "set_timer_op", gen_set_timer_op, 2, 0 },
    { "vcpu_op", gen_vcpu_op, 8, 0 },
    { "sched_op", gen_sched_op, 4, 0 },
    { "event_channel_op", gen_evtchn_op, 10, 0 },
    { "hvm_op", gen_hvm_op, 5, 0 },
    { "grant_table_op", gen_grant_table_op, 2, 0 },
    { "wisp_control", gen_wisp_control, 2, 0 },
    { "build_control", gen_build_control, 3, 0 },
    { "any_hypercall", gen_any_hypercall, 4, 0 },
    { "cpl3", gen_cpl3, 5, 0 },
    { "msr", gen_msr, 8, 0 },
    { "efer", gen_efer, 1, 0 },
    { "xsetbv", gen_xsetbv, 2, 0 },
    { "cr", gen_cr, 3, 0 },
    { "io", gen_io, 4, 0 },
    { "cpuid", gen_cpuid, 2, 0 },
    { "xapic_page", gen_xapic_page, 4, 0 },
    { "x2apic", gen_x2apic, 4, 0 },
    { "known_insn", gen_known_insn, 2, KNOWN_AREA_EXITS },
};

/* builder=1 swaps the no-role promise (wisp_control) for the build commands. */
static bool gen_enabled(unsigned i)
{
    if (gens[i].fn == gen_wisp_control)
        return !opt_builder;
    if (gens[i].fn == gen_build_control)
        return opt_builder;
    return !gens[i].known_only || known_area(gens[i].known_only);
}

static unsigned gen_pick(void)
{
    unsigned total = 0, r;

    for (unsigned i = 0; i < ARRAY_SIZE(gens); i++)
        if (gen_enabled(i))
            total += gens[i].weight;
    r = (unsigned)below(total);
    for (unsigned i = 0; i < ARRAY_SIZE(gens); i++) {
        if (!gen_enabled(i))
            continue;
        if (r < gens[i].weight)
            return i;
        r -= gens[i].weight;
    }
    return 0;
}

int main(const struct hvm_start_info *si)
{
    char word[24];
    uint64_t step;

    if (cmdline_get(si, "seed", word, sizeof(word)))
        opt_seed = parse_u64(word);
    if (cmdline_get(si, "calls", word, sizeof(word)))
        opt_calls = parse_u64(word);
    if (cmdline_get(si, "known", known_word, sizeof(known_word)))
        known = parse_known(known_word);
    if (cmdline_get(si, "tracefrom", word, sizeof(word)))
        trace_from = parse_u64(word);
    if (cmdline_get(si, "trace", word, sizeof(word)))
        trace_from_set = word[0] == '1';
    if (cmdline_get(si, "builder", word, sizeof(word)))
        opt_builder = word[0] == '1';
    rng = opt_seed;
    con_printf("FUZZ seed=%lu calls=%lu known=%s\n", (unsigned long)opt_seed,
               (unsigned long)opt_calls, known_word);
    fuzz_init();
    if (trace)
        con_printf("FUZZ init done\n");
    step = opt_calls >= 10 ? opt_calls / 10 : 1;
    for (uint64_t n = 1; n <= opt_calls; n++) {
        unsigned g = gen_pick();

        trace = trace_from_set && n >= trace_from;
        if (trace)
            con_printf("FUZZ call %lu %s\n", (unsigned long)n, gens[g].name);
        gens[g].fn();
        if (n % step == 0)
            con_printf("FUZZ progress calls=%lu faults=%lu cpl3=%lu\n", (unsigned long)n,
                       (unsigned long)nr_faults, (unsigned long)cpl3_calls);
    }
    for (unsigned i = 0; i < MAX_BUILT; i++)
        destroy_built(i);       /* every frame back before the end */
    if (builder_bad) {
        con_printf("FUZZ FAIL %lu build commands gave an undocumented answer (seed=%lu)\n",
                   (unsigned long)builder_bad, (unsigned long)opt_seed);
        return 1;
    }
    if (control_bad) {
        con_printf("FUZZ FAIL %lu wisp_control calls without a role broke the promise (seed=%lu)\n",
                   (unsigned long)control_bad, (unsigned long)opt_seed);
        return 1;
    }
    if (cpl3_bad) {
        con_printf("FUZZ FAIL %lu of %lu CPL 3 hypercalls did not give -EPERM (seed=%lu)\n",
                   (unsigned long)cpl3_bad, (unsigned long)cpl3_calls, (unsigned long)opt_seed);
        return 1;
    }
    con_printf("FUZZ done calls=%lu seed=%lu\n", (unsigned long)opt_calls, (unsigned long)opt_seed);
    return 0;
}
