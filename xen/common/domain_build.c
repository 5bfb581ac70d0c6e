/* domain_build.c (hypervisor): turns one boot-configuration entry into a running PVH domain. */
#include "env.h"
#include "acpi.h"
#include "console_ring.h"
#include "domain.h"
#include "domain_build.h"
#include "devices.h"
#include "elf.h"
#include "errno.h"
#include "grant_table.h"
#include "xen/grant_table.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "sched.h"
#include "smpboot.h"
#include "spec_ctrl.h"
#include "start_info.h"
#include "exit.h"
#include "fpu.h"
#include "lapic.h"
#include "vcpu_context.h"
#include "vcpu_time.h"
#include "x86.h"

/* Guest memory as the copy routines see it: one p2m lookup per page touched. */
static void *domain_phys(void *ctx, uint64_t gpa, size_t len, bool write)
{
    struct domain *d = ctx;
    uint64_t hpa;
    unsigned perms;

    if (p2m_lookup(&d->p2m, gpa, &hpa, &perms) || !(perms & (write ? P2M_WRITE : P2M_READ)))
        return NULL;
    if (hpa + len > HOST_MAPPED_LIMIT)
        return NULL;
    return phys_to_virt(hpa);
}

static int writer_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct domain *d = ctx;
    return copy_to_guest_phys(&d->mem, gpa, src, len);
}

static int writer_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[256];
    struct domain *d = ctx;

    while (len) {
        size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

        if (copy_to_guest_phys(&d->mem, gpa, zeros, n))
            return -EFAULT;
        gpa += n;
        len -= n;
    }
    return 0;
}

/*
 * p2m tables come from the frame allocator, and a guest chooses where grant
 * mappings go: at gfns far apart each costs new tables. A per-domain budget
 * (Xen: the domain's paging pool) stops one guest from taking the machine's
 * memory. The build needs a few dozen; one leaf table holds 512 mappings, so
 * this also fits every handle of its maptrack packed as guests pack them, and
 * one leaf table per 2 MiB of RAM lets a balloon driver split every large page,
 * and one per 2 MiB of legacy pmem maps disk images that are not 2 MiB-aligned.
 */
static uint32_t p2m_table_limit(const struct domain *d)
{
    return 512 + d->max_maptrack_frames + (uint32_t)((d->ram_bytes + d->pmem_bytes) / PAGE_SIZE_2M);
}

static uint64_t domain_pt_alloc(void *ctx)
{
    struct domain *d = ctx;
    uint64_t pa = d->p2m_tables < p2m_table_limit(d) ? host_pt_mem.alloc(host_pt_mem.ctx) : 0;

    d->p2m_tables += pa != 0;
    return pa;
}

/*
 * A table the p2m lets go of is not freed yet: another pCPU in d's guest may be
 * mid-walk through it. It waits on d->retired_tables (linked through its first
 * entry) until p2m_changed() has seen every such pCPU leave the guest.
 */
static void domain_pt_free(void *ctx, uint64_t pa)
{
    struct domain *d = ctx;

    *(uint64_t *)host_pt_mem.map(host_pt_mem.ctx, pa) = d->retired_tables;
    d->retired_tables = pa;
}

void domain_free_retired_tables(struct domain *d)
{
    while (d->retired_tables) {
        uint64_t pa = d->retired_tables;

        d->retired_tables = *(uint64_t *)host_pt_mem.map(host_pt_mem.ctx, pa);
        d->p2m_tables--;
        host_pt_mem.free(host_pt_mem.ctx, pa);
    }
}

/*
 * The guest's ACPI tables (pvh/acpi.c) fill the page [0x9F000, 0xA0000): the
 * EBDA page, which the RAM block backs and the p2m maps but the memmap does not
 * give as RAM (pvh/start_info.h), so no guest RAM is lost and nothing else is
 * placed there. The memmap lists it as ACPI. One page holds the tables for
 * PVH_ACPI_MAX_VCPUS.
 */
#define ACPI_TABLES_GPA  PVH_LOW_RAM_END
#define ACPI_TABLES_SIZE (PVH_LEGACY_HOLE - PVH_LOW_RAM_END)
_Static_assert(ACPI_TABLES_SIZE == PAGE_SIZE && ACPI_TABLES_GPA % PAGE_SIZE == 0 &&
               ACPI_TABLES_GPA + ACPI_TABLES_SIZE == LEGACY_HOLE_START,
               "ACPI tables: one page, right below the legacy hole");

/*
 * RAM is one host-contiguous block: large NPT/EPT pages wherever alignment allows. It
 * comes as the frames were (zeroing 1 GiB at once is no bounded work): the boot build
 * zeroes it whole, a run-time create through WISP_CTL_domain_scrub, a step a call.
 */
static int alloc_ram(struct domain *d, uint64_t bytes)
{
    const struct pt_mem budgeted = { host_pt_mem.map, domain_pt_alloc, domain_pt_free, d };

    uint64_t align = bytes >= PAGE_SIZE_1G ? PAGE_SIZE_1G : PAGE_SIZE_2M;

    d->ram_hpa = frames_take(bytes, align);
    if (!d->ram_hpa && align > PAGE_SIZE_2M)
        d->ram_hpa = frames_take(bytes, PAGE_SIZE_2M);
    if (!d->ram_hpa)
        return -ENOMEM;
    d->ram_bytes = bytes;
    if (p2m_init(&d->p2m, hvm->p2m_format, &budgeted))
        return -ENOMEM;
    /*
     * The legacy hole [0xA0000, 1 MiB) is never RAM (memmap) but reads as a
     * machine without option ROMs: zeros, read-only. Linux scans it for ROM
     * signatures and the RSDP (which build_acpi puts at 0xE0000); a write faults.
     * It and the ACPI page below it are what the scrub leaves out (builder_owns):
     * zeroed here, before the tables go in.
     */
    memset(phys_to_virt(d->ram_hpa + ACPI_TABLES_GPA), 0, LEGACY_HOLE_END - ACPI_TABLES_GPA);
    if (p2m_map(&d->p2m, 0, d->ram_hpa, LEGACY_HOLE_START, P2M_RWX) ||
        p2m_map(&d->p2m, LEGACY_HOLE_START, d->ram_hpa + LEGACY_HOLE_START,
                LEGACY_HOLE_END - LEGACY_HOLE_START, P2M_READ) ||
        p2m_map(&d->p2m, LEGACY_HOLE_END, d->ram_hpa + LEGACY_HOLE_END,
                bytes - LEGACY_HOLE_END, P2M_RWX))
        return -ENOMEM;
    d->mem = (struct guest_mem){ domain_phys, d };
    d->max_pages = (bytes - (LEGACY_HOLE_END - LEGACY_HOLE_START)) >> PAGE_SHIFT;
    d->tot_pages = d->max_pages;
    d->max_mapped_gfn = (bytes >> PAGE_SHIFT) - 1;
    return 0;
}

static const void *module_data(const struct boot_module *m) { return phys_to_virt(m->start); }
static size_t module_size(const struct boot_module *m) { return m->end - m->start; }

/* Every domain but the xenstore domain gets a store ring, when there is a xenstore domain. */
static bool gets_store_ring(const struct domain *d)
{
    return domain_xenstore_id() && domain_xenstore_id() != d->id;
}

/* Guest-physical ranges the memmap must not give as RAM; the store ring's, last, only with one. */
static const struct pvh_reserved_range reserved_ranges[] = {
    { ACPI_TABLES_GPA, ACPI_TABLES_SIZE, XEN_HVM_MEMMAP_TYPE_ACPI },
    { CONSOLE_RING_GPA, PAGE_SIZE, XEN_HVM_MEMMAP_TYPE_RESERVED },
    { STORE_RING_GPA, PAGE_SIZE, XEN_HVM_MEMMAP_TYPE_RESERVED },
};

/*
 * A copy of the RSDP for guests that scan the BIOS area instead of reading
 * rsdp_paddr (ACPI 6.5, 5.2.5.1), at the start of that area, in the
 * read-only legacy hole alloc_ram mapped.
 */
static void write_legacy_rsdp(struct domain *d, const struct pvh_acpi_layout *l)
{
    _Static_assert(PVH_ACPI_LEGACY_LO >= LEGACY_HOLE_START &&
                   PVH_ACPI_LEGACY_LO + PAGE_SIZE <= LEGACY_HOLE_END, "legacy RSDP page");
    pvh_acpi_write_rsdp(l, phys_to_virt(d->ram_hpa + PVH_ACPI_LEGACY_LO));
}

static int build_acpi(struct domain *d, unsigned nr_vcpus, uint64_t *rsdp)
{
    const struct pvh_acpi_config acfg = { .nr_vcpus = nr_vcpus };
    void *tables = domain_phys(d, ACPI_TABLES_GPA, ACPI_TABLES_SIZE, true);
    struct pvh_acpi_layout l;
    const char *why = "guest page not mapped";

    if (!tables || pvh_build_acpi(&acfg, tables, ACPI_TABLES_SIZE, ACPI_TABLES_GPA, &l, &why)) {
        log_error("d%u (%s): cannot build the ACPI tables: %s", d->id, d->name, why);
        return -ENOMEM;
    }
    write_legacy_rsdp(d, &l);
    *rsdp = l.rsdp;
    return 0;
}

/* The store ring's range, last, only with a store ring. */
static unsigned nr_reserved_ranges(const struct domain *d)
{
    return sizeof(reserved_ranges) / sizeof(reserved_ranges[0]) - (gets_store_ring(d) ? 0 : 1);
}

unsigned domain_reserved_ranges(const struct domain *d, struct pvh_reserved_range *out,
                                unsigned max)
{
    unsigned n = nr_reserved_ranges(d) < max ? nr_reserved_ranges(d) : max;

    memcpy(out, reserved_ranges, n * sizeof(*out));
    return n;
}

/* What every domain's memory map is made of: RAM, the reserved pages, the RSDP, its disks. */
static void platform_boot_config(struct domain *d, uint64_t rsdp, struct pvh_boot_config *boot)
{
    static struct pvh_reserved_range pmem[DEVICES_MAX_PMEM];   /* under hv_lock */

    *boot = (struct pvh_boot_config){
        .ram_size = d->ram_bytes,
        .reserved = reserved_ranges,
        .nr_reserved = nr_reserved_ranges(d),
        .rsdp_paddr = rsdp,
        .high = pmem, .nr_high = devices_pmem_ranges(d, pmem),
    };
}

static int load_kernel(struct domain *d, const struct domain_config *cfg,
                       const struct boot_info *bi, uint64_t *entry, uint64_t *start_info)
{
    const struct boot_module *kernel = boot_find_module(bi, cfg->kernel);
    const struct boot_module *initrd = NULL;
    const struct pvh_writer w = { d, writer_write, writer_zero };
    struct pvh_image img;
    struct pvh_boot_layout layout;
    struct pvh_boot_config boot;
    const char *why = "";
    uint64_t rsdp;

    if (!kernel) {
        log_error("d%u (%s): no module named '%s' for the kernel", d->id, d->name, cfg->kernel);
        return -ENOENT;
    }
    if (cfg->initrd[0] && !(initrd = boot_find_module(bi, cfg->initrd))) {
        log_error("d%u (%s): no module named '%s' for the initrd", d->id, d->name, cfg->initrd);
        return -ENOENT;
    }
    if (pvh_elf_parse(module_data(kernel), module_size(kernel), &img, &why)) {
        log_error("d%u (%s): kernel '%s': %s", d->id, d->name, cfg->kernel, why);
        return -ENOEXEC;
    }
    if (img.hi > d->ram_bytes) {
        log_error("d%u (%s): kernel '%s' needs RAM up to 0x%lx but the domain has %lu MiB",
                  d->id, d->name, cfg->kernel, img.hi, d->ram_bytes >> 20);
        return -ENOMEM;
    }
    if (pvh_elf_load(module_data(kernel), module_size(kernel), &img, &w)) {
        log_error("d%u (%s): kernel '%s' does not fit in guest RAM", d->id, d->name, cfg->kernel);
        return -ENOMEM;
    }
    if (build_acpi(d, cfg->vcpus, &rsdp))
        return -ENOMEM;
    platform_boot_config(d, rsdp, &boot);
    boot.image_lo = img.lo;
    boot.image_hi = img.hi;
    boot.initrd = initrd ? module_data(initrd) : NULL;
    boot.initrd_size = initrd ? module_size(initrd) : 0;
    boot.cmdline = cfg->cmdline;
    if (pvh_build_memmap(&boot, d->memmap, DOMAIN_MEMMAP_MAX, &d->memmap_entries, &why) ||
        pvh_build_start_info(&boot, &w, &layout, &why)) {
        log_error("d%u (%s): cannot place the boot information: %s", d->id, d->name, why);
        return -ENOMEM;
    }
    *entry = img.entry;
    *start_info = layout.start_info;
    return 0;
}

/*
 * A domain built at run time gets its tables and memory map now; its builder
 * (WISP_CTL_domain_write) loads the kernel and writes the start info into the
 * same map, which it learns from the create's answer.
 */
static int build_platform_tables(struct domain *d, unsigned nr_vcpus)
{
    struct pvh_boot_config boot;
    const char *why = "";

    if (build_acpi(d, nr_vcpus, &d->rsdp_paddr))
        return -ENOMEM;
    platform_boot_config(d, d->rsdp_paddr, &boot);
    if (pvh_build_memmap(&boot, d->memmap, DOMAIN_MEMMAP_MAX, &d->memmap_entries, &why)) {
        log_error("d%u (%s): no memory map: %s", d->id, d->name, why);
        return -ENOMEM;
    }
    return 0;
}

/*
 * vCPU 0 starts at the PVH entry (with start_vcpu0; else domain_start gives it
 * later); the others wait for INIT/STARTUP, as APs do.
 */
static int init_vcpus(struct domain *d, unsigned nr, uint64_t entry, uint64_t start_info,
                      bool start_vcpu0)
{
    struct vcpu_context pvh_entry;

    vcpu_context_pvh_entry(&pvh_entry, entry, start_info);
    d->nr_vcpus = nr;
    for (unsigned i = 0; i < nr; i++) {
        struct vcpu *v = &d->vcpus[i];
        bool starts = i == 0 && start_vcpu0;

        v->id = i;
        v->dom = d;
        v->state = starts ? VCPU_RUNNABLE : VCPU_DOWN;
        v->initialised = starts;
        v->waiting_for_sipi = i != 0;
        v->runstate = starts ? RUNSTATE_runnable : RUNSTATE_offline;
        lapic_vcpu_init(v);
        v->dr6 = DR6_RESET;
        if (fpu_init(v) || hvm->vcpu_init(v))
            return -ENOMEM;
        if (!hvm->load_context(v, &pvh_entry))
            return -EIO;
    }
    return 0;
}

/*
 * Where a PC has its IOAPIC (0xFEC00000), HPET (0xFED00000), TPM (0xFED40000)
 * and chipset registers, Wisp has no device. Reads there see all ones, as a
 * Xen guest sees for MMIO no device claims: every page of the range maps one
 * shared host page of 0xFF, read-only, so nothing is decoded. A write or an
 * instruction fetch is a nested page fault and crashes the domain. The range
 * ends where the xAPIC page begins.
 */
#define DEVICE_HOLE_START 0xfec00000ull
#define DEVICE_HOLE_END   XAPIC_PAGE_GPA
_Static_assert(DEVICE_HOLE_END == 0xfee00000ull, "device hole ends at the xAPIC page");

/*
 * Filled with 0xFF before the first domain is built (so the free-frame count taken
 * then already excludes it); read-only to guests; never freed.
 */
static uint64_t all_ones_page;

static int all_ones_page_init(void)
{
    void *page;

    if (all_ones_page)
        return 0;
    if (!(page = page_alloc()))
        return -ENOMEM;
    memset(page, 0xff, PAGE_SIZE);
    all_ones_page = virt_to_phys(page);
    return 0;
}

bool device_hole_covers(const struct domain *d, uint64_t gpa)
{
    /* A domain with that much RAM has RAM there. */
    return gpa >= DEVICE_HOLE_START && gpa < DEVICE_HOLE_END && gpa >= d->ram_bytes;
}

int device_hole_map_page(struct domain *d, uint64_t gpa)
{
    if (!all_ones_page)
        return -ENOMEM;
    return p2m_map(&d->p2m, gpa & ~(PAGE_SIZE - 1), all_ones_page, PAGE_SIZE, P2M_READ);
}

bool device_hole_page_at(const struct domain *d, uint64_t gpa)
{
    uint64_t hpa;
    unsigned perms;

    return device_hole_covers(d, gpa) && all_ones_page &&
           p2m_lookup(&d->p2m, gpa & ~(PAGE_SIZE - 1), &hpa, &perms) == 0 && hpa == all_ones_page;
}

static int map_device_hole(struct domain *d)
{
    for (uint64_t gpa = DEVICE_HOLE_START; gpa < DEVICE_HOLE_END; gpa += PAGE_SIZE)
        if (device_hole_covers(d, gpa) && device_hole_map_page(d, gpa))
            return -ENOMEM;
    return 0;
}
/* Pages the build maps outside RAM (XENMEM_maximum_gpfn counts them, as Xen counts its special
 * pages); the store ring's page lies below the console ring's, so it never raises the maximum. */
static const uint64_t special_gfns[] = { CONSOLE_RING_GPA >> PAGE_SHIFT, XAPIC_PAGE_GPA >> PAGE_SHIFT };
_Static_assert(STORE_RING_GPA < CONSOLE_RING_GPA, "store ring below the console ring");

/*
 * The xenstore ring as Xen's builders set it up: a zeroed page, its gfn in
 * HVM_PARAM_STORE_PFN, an unbound port offered to the xenstore domain in
 * HVM_PARAM_STORE_EVTCHN, and grant entry 1 letting the xenstore domain map it.
 */
static int store_ring_setup(struct domain *d)
{
    domid_t xs = (domid_t)domain_xenstore_id();
    int port;

    if (!gets_store_ring(d))
        return 0;
    d->store_ring = page_alloc();       /* freed by domain_destroy, also on failure */
    if (!d->store_ring)
        return -ENOMEM;
    memset(d->store_ring, 0, PAGE_SIZE);
    if (p2m_map(&d->p2m, STORE_RING_GPA, virt_to_phys(d->store_ring), PAGE_SIZE,
                P2M_READ | P2M_WRITE))
        return -ENOMEM;
    port = evtchn_alloc_unbound(&d->evtchn, xs);
    if (port < 0)
        return port;
    d->hvm_params[HVM_PARAM_STORE_PFN] = STORE_RING_GPA >> PAGE_SHIFT;
    d->hvm_params[HVM_PARAM_STORE_EVTCHN] = (unsigned)port;
    return gnttab_seed_entry(d, GNTTAB_RESERVED_XENSTORE, xs, STORE_RING_GPA >> PAGE_SHIFT);
}

/* Event channels, the console, the xAPIC page and the clock: what a PVH guest finds at boot. */
static int init_platform(struct domain *d)
{
    int rc = evtchn_table_init(&d->evtchn, (domid_t)d->id, d->nr_vcpus, d->shared_info,
                               domain_evtchn_vcpu_info, domain_evtchn_kick, d);

    if (rc)
        return rc;
    rc = gnttab_domain_init(d);
    if (rc)
        return rc;
    rc = console_ring_setup(d);
    if (!rc)
        rc = store_ring_setup(d);
    if (rc)
        return rc;
    d->xapic_page = page_alloc();
    if (!d->xapic_page ||
        p2m_map(&d->p2m, XAPIC_PAGE_GPA, virt_to_phys(d->xapic_page), PAGE_SIZE,
                P2M_READ | P2M_WRITE))
        return -ENOMEM;
    rc = map_device_hole(d);
    if (rc)
        return rc;
    for (unsigned i = 0; i < sizeof(special_gfns) / sizeof(special_gfns[0]); i++)
        if (special_gfns[i] > d->max_mapped_gfn)
            d->max_mapped_gfn = special_gfns[i];
    domain_publish_wallclock(d);
    for (unsigned i = 0; i < d->nr_vcpus; i++)
        vcpu_publish_time(&d->vcpus[i]);
    return 0;
}

/* Free frames before the first domain was built: what tearing every domain down must give back. */
static uint64_t boot_free_frames;

uint64_t domain_boot_free_frames(void)
{
    return boot_free_frames;
}

/*
 * Frees everything the build allocated, in any state the build reached, so
 * also after a failed build. The domain's vCPUs must not be on a pCPU (or
 * never again, when the machine is ending).
 */
void domain_destroy(struct domain *d)
{
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        if (d->vcpus[i].vendor)
            hvm->vcpu_destroy(&d->vcpus[i]);
        fpu_free(&d->vcpus[i]);
        debug_regs_forget(&d->vcpus[i]);
    }
    (void)gnttab_release_mappings(d, UINT32_MAX);   /* a failed build; otherwise done */
    if (d->p2m.root)
        p2m_destroy(&d->p2m);
    domain_free_retired_tables(d);      /* no vCPU of d is in its guest any more */
    devices_free_pmem(d);
    gnttab_domain_destroy(d);
    console_ring_teardown(d);
    page_free(d->store_ring);
    evtchn_table_destroy(&d->evtchn);
    spec_ctrl_forget_domain(d);         /* its slot may hold another domain next */
    page_free(d->xapic_page);
    if (d->ram_hpa)
        frames_free(d->ram_hpa, d->ram_bytes);
    page_free(d->shared_info);
    log_debug("d%u (%s): torn down; %lu frames free", d->id, d->name,
              frames_free_bytes() >> PAGE_SHIFT);
    domain_release(d);
}

/*
 * d's pCPU: of those its `cpus` allows, the one with the fewest domains so far
 * (the lowest on a tie), so unpinned domains take the CPUs in turn. Its vCPUs
 * start there and on the next allowed pCPUs in turn (docs/smp.md).
 */
static int place_domain(struct domain *d, const struct domain_config *cfg)
{
    unsigned online = smp_cpus_online(), best = online, load[MAX_PCPUS] = { 0 };

    for (struct domain *o = domain_next(NULL); o; o = domain_next(o))
        if (o != d && o->pcpu < online)
            load[o->pcpu]++;
    for (unsigned c = 0; c < online; c++)
        if ((cfg->cpus >> c & 1) && (best == online || load[c] < load[best]))
            best = c;
    if (best == online) {
        log_error("d%u (%s): its cpus name no pCPU of this machine (pCPUs 0 to %u here)", d->id,
                  d->name, online - 1);
        return -EINVAL;
    }
    d->pcpu = best;
    d->cpus = cfg->cpus;
    d->weight = cfg->weight;
    d->cap = cfg->cap;
    return 0;
}

/* The next pCPU after `cpu` (wrapping) that d may use; `cpu` itself if no other. */
static unsigned next_allowed_cpu(const struct domain *d, unsigned cpu)
{
    unsigned online = smp_cpus_online();

    for (unsigned step = 1; step <= online; step++) {
        unsigned c = (cpu + step) % online;

        if (d->cpus >> c & 1)
            return c;
    }
    return cpu;
}

bool spread_vcpus;

/*
 * All on d's pCPU, or with spread_vcpus vCPU i on the i-th allowed pCPU from
 * d's. Built here, run there: hand their state over.
 */
static void place_vcpus(struct domain *d)
{
    unsigned cpu = d->pcpu;

    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = &d->vcpus[i];

        v->pcpu = cpu;
        v->loaded = true;               /* vcpu_init and load_context ran here */
        if (cpu != this_cpu_id())
            vcpu_leave_cpu(v);
        if (spread_vcpus)
            cpu = next_allowed_cpu(d, cpu);
    }
}

/* ", pCPU 1", or with vCPUs on several: ", pCPU 1 (vCPUs on 1,0,1)". */
static void describe_placement(const struct domain *d, char *out, size_t size)
{
    int n = snprintf(out, size, ", pCPU %u", d->pcpu);
    bool spread = false;

    for (unsigned i = 0; i < d->nr_vcpus; i++)
        spread |= d->vcpus[i].pcpu != d->pcpu;
    for (unsigned i = 0; spread && i < d->nr_vcpus && n > 0 && (size_t)n < size; i++)
        n += snprintf(out + n, size - (size_t)n, "%s%u%s", i ? "," : " (vCPUs on ",
                      d->vcpus[i].pcpu, i + 1 == d->nr_vcpus ? ")" : "");
}

/*
 * What every build does first: d's name, pCPU, share, roles, grant limits, RAM,
 * disks and shared_info page. 0, or a negative errno after logging why.
 */
static int build_shell(struct domain *d, const struct domain_config *cfg)
{
    int rc;

    memcpy(d->name, cfg->name, sizeof(d->name) - 1);
    rc = place_domain(d, cfg);
    if (rc)
        return rc;
    d->roles = cfg->roles;
    d->max_grant_frames = cfg->max_grant_frames;
    d->max_maptrack_frames = cfg->max_maptrack_frames;
    d->shared_info_gfn = ~0ull;
    rc = alloc_ram(d, (uint64_t)cfg->memory_mib << 20);
    if (rc) {
        log_error("d%u (%s): cannot allocate %u MiB of guest memory", d->id, d->name,
                  cfg->memory_mib);
        return rc;
    }
    rc = devices_map_pmem(d);
    if (rc) {
        log_error("d%u (%s): cannot map its disks' images", d->id, d->name);
        return rc;
    }
    d->shared_info = page_alloc();
    return d->shared_info ? 0 : -ENOMEM;
}

/* What every build does last: vCPUs, platform, placement. */
static int build_vcpus_and_platform(struct domain *d, unsigned nr_vcpus, uint64_t entry,
                                    uint64_t start_info, bool start_vcpu0)
{
    int rc = init_vcpus(d, nr_vcpus, entry, start_info, start_vcpu0);

    if (rc) {
        log_error("d%u (%s): cannot create its vCPUs", d->id, d->name);
        return rc;
    }
    rc = init_platform(d);
    if (rc) {
        log_error("d%u (%s): cannot set up event channels, console and clock", d->id, d->name);
        return rc;
    }
    place_vcpus(d);
    return 0;
}

/* ", weight W, cap C%" and ", pCPU N (...)" for the domain's log line. */
static void describe_share_and_place(const struct domain *d, char *share, size_t share_size,
                                     char *where, size_t where_size)
{
    share[0] = where[0] = '\0';
    if (d->weight != BOOTCFG_DEFAULT_WEIGHT || d->cap)
        snprintf(share, share_size, ", weight %u, cap %u%%", d->weight, d->cap);
    if (smp_cpus_online() > 1)
        describe_placement(d, where, where_size);
}

int domain_build(unsigned domid, const struct domain_config *cfg, const struct boot_info *bi)
{
    struct domain *d = domain_alloc(domid);
    uint64_t entry, start_info;
    char share[48], where[64];
    int rc;

    if (!boot_free_frames) {
        if (all_ones_page_init())
            return -ENOMEM;
        boot_free_frames = frames_free_bytes() >> PAGE_SHIFT;
    }
    if (!d) {
        log_error("domain '%s': no domain slot %u (at most %u domains)", cfg->name, domid,
                  MAX_DOMAINS);
        return -ENOSPC;
    }
    rc = build_shell(d, cfg);
    while (!rc && domain_scrub_step(d))
        ;                               /* at boot, all at once: no hypercall waits on it */
    if (!rc)
        rc = load_kernel(d, cfg, bi, &entry, &start_info);
    if (!rc)
        rc = build_vcpus_and_platform(d, cfg->vcpus, entry, start_info, true);
    if (rc) {
        domain_destroy(d);
        return rc;
    }
    d->running = true;
    if (cfg->paused)
        domain_set_paused(d, true);
    describe_share_and_place(d, share, sizeof(share), where, sizeof(where));
    log_info("d%u (%s): %u MiB, %u vCPU%s, kernel %s, entry 0x%lx, start_info 0x%lx%s%s%s",
             d->id, d->name, cfg->memory_mib, cfg->vcpus, cfg->vcpus == 1 ? "" : "s",
             cfg->kernel, entry, start_info, d->paused ? ", paused" : "", share, where);
    return 0;
}

/* ---- Domains built at run time (WISP_CTL_domain_create, docs/toolstack.md) ---- */

int domain_create(const struct domain_config *cfg, const char *by, struct domain **out)
{
    struct domain *d = NULL;
    char share[48], where[64];
    int rc;

    for (unsigned id = 1; id <= MAX_DOMAINS && !d; id++)
        d = domain_alloc(id);
    if (!d)
        return -ENOSPC;
    rc = build_shell(d, cfg);
    if (!rc)
        rc = build_platform_tables(d, cfg->vcpus);
    if (!rc)
        rc = build_vcpus_and_platform(d, cfg->vcpus, 0, 0, false);
    if (rc) {
        domain_destroy(d);
        return rc == -EINVAL ? -EINVAL : rc == -ENOSPC ? -ENOSPC : -ENOMEM;
    }
    d->building = true;
    d->made_at_run_time = true;
    describe_share_and_place(d, share, sizeof(share), where, sizeof(where));
    log_info("d%u (%s): created by %s: %u MiB, %u vCPU%s%s%s", d->id, d->name, by,
             cfg->memory_mib, cfg->vcpus, cfg->vcpus == 1 ? "" : "s", share, where);
    *out = d;
    return 0;
}

/*
 * The RAM a builder may write and the scrub covers: all of it but the ACPI page and
 * the legacy hole, which the create wrote (and zeroed) itself.
 */
static bool builder_owns(uint64_t gpa)
{
    return gpa < ACPI_TABLES_GPA || gpa >= LEGACY_HOLE_END;
}

bool domain_scrub_step(struct domain *d)
{
    uint64_t left = WISP_SCRUB_CHUNK;

    while (left && d->scrub_next < d->ram_bytes) {
        uint64_t end = d->scrub_next < ACPI_TABLES_GPA ? ACPI_TABLES_GPA : d->ram_bytes;
        uint64_t n = end - d->scrub_next < left ? end - d->scrub_next : left;

        memset(phys_to_virt(d->ram_hpa + d->scrub_next), 0, n);
        d->scrub_next += n;
        left -= n;
        if (d->scrub_next == ACPI_TABLES_GPA)
            d->scrub_next = LEGACY_HOLE_END;
    }
    return d->scrub_next < d->ram_bytes;
}

void *domain_build_window(struct domain *d, uint64_t gpa, uint64_t bytes)
{
    uint64_t end = gpa + bytes;

    if (end < gpa || end > d->ram_bytes || !builder_owns(gpa) ||
        (gpa < ACPI_TABLES_GPA && end > ACPI_TABLES_GPA) ||
        d->ram_hpa + end > HOST_MAPPED_LIMIT)
        return NULL;
    return phys_to_virt(d->ram_hpa + gpa);
}

int domain_start(struct domain *d, uint64_t entry, uint64_t start_info)
{
    struct vcpu_context pvh_entry;
    struct vcpu *v0 = &d->vcpus[0];

    vcpu_context_pvh_entry(&pvh_entry, entry, start_info);
    if (!vcpu_set_start(v0, &pvh_entry, "this CPU cannot hold the PVH entry state"))
        return -EINVAL;
    v0->initialised = true;
    v0->state = VCPU_RUNNABLE;
    d->building = false;
    d->running = true;
    domain_set_paused(d, true);         /* the builder unpauses it, as xl does */
    domain_notify_change(d);            /* xenstored introduces it */
    log_info("d%u (%s): started: entry 0x%lx, start_info 0x%lx, paused", d->id, d->name, entry,
             start_info);
    return 0;
}
