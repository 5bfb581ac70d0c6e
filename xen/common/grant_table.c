/* grant_table.c (hypervisor, pure): grant table v1 bookkeeping: frames, pins and the
 * guest-shared flag transitions, and the maptrack table of handles. Host-tested (unit.grant_table). */
#include "env.h"
#include "errno.h"
#include "grant_table.h"
#include "mm.h"

/* Shared entry flags and domid as one 32-bit word, so both are checked and changed together. */
#define COMBO(flags, domid) ((uint32_t)(flags) | ((uint32_t)(domid) << 16))
#define COMBO_FLAGS(c) ((uint16_t)(c))
#define COMBO_DOMID(c) ((domid_t)((c) >> 16))
#define PIN_RETRIES 4           /* Xen gives up on an entry the guest keeps changing */

static void *alloc_array(size_t bytes)
{
    uint64_t pa = frames_alloc((bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), PAGE_SIZE);

    return pa ? phys_to_virt(pa) : NULL;
}

static void free_array(void *p, size_t bytes)
{
    if (p)
        frames_free(virt_to_phys(p), (bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
}

int gnttab_init(struct gnttab *gt, unsigned max_frames, unsigned max_maptrack_frames,
                gnttab_resolve_fn resolve, void *ctx)
{
    memset(gt, 0, sizeof(*gt));
    if (max_frames < 1 || max_frames > GNTTAB_MAX_FRAMES ||
        max_maptrack_frames > GNTTAB_MAX_MAPTRACK_FRAMES)
        return -EINVAL;
    *gt = (struct gnttab){ .max_frames = max_frames,
                           .max_maptrack_frames = max_maptrack_frames,
                           .free_head = GNTTAB_NO_HANDLE, .resolve = resolve, .ctx = ctx };
    gt->frames = alloc_array(max_frames * sizeof(*gt->frames));
    if (max_maptrack_frames)
        gt->maptrack = alloc_array(max_maptrack_frames * sizeof(*gt->maptrack));
    if (!gt->frames || (max_maptrack_frames && !gt->maptrack) || gnttab_grow(gt, 1)) {
        gnttab_fini(gt);
        return -ENOMEM;
    }
    return 0;
}

void gnttab_fini(struct gnttab *gt)
{
    for (unsigned i = 0; gt->frames && i < gt->nr_frames; i++) {
        page_free(gt->frames[i].shared);
        page_free(gt->frames[i].active);
    }
    for (unsigned i = 0; i < gt->nr_maptrack_frames; i++)
        page_free(gt->maptrack[i]);
    free_array(gt->frames, gt->max_frames * sizeof(*gt->frames));
    free_array(gt->maptrack, gt->max_maptrack_frames * sizeof(*gt->maptrack));
    memset(gt, 0, sizeof(*gt));
}

int gnttab_grow(struct gnttab *gt, unsigned nr)
{
    if (nr > gt->max_frames)
        return -EINVAL;
    while (gt->nr_frames < nr) {
        struct gnttab_frame *f = &gt->frames[gt->nr_frames];

        _Static_assert(GNTTAB_ENTRIES_PER_FRAME * sizeof(struct gnttab_active) == PAGE_SIZE,
                       "one active page per frame");
        f->shared = page_alloc();
        f->active = page_alloc();
        if (!f->shared || !f->active) {
            page_free(f->shared);
            page_free(f->active);
            *f = (struct gnttab_frame){ 0 };
            return -ENOMEM;
        }
        f->gfn = GNTTAB_NO_GFN;
        gt->nr_frames++;
    }
    return 0;
}

int gnttab_frame_at(const struct gnttab *gt, uint64_t gfn)
{
    for (unsigned i = 0; i < gt->nr_frames; i++)
        if (gt->frames[i].gfn == gfn)
            return (int)i;
    return -1;
}

grant_entry_v1_t *gnttab_shared_entry(struct gnttab *gt, grant_ref_t ref)
{
    if (ref >= gnttab_nr_entries(gt))
        return NULL;
    return &gt->frames[ref / GNTTAB_ENTRIES_PER_FRAME].shared[ref % GNTTAB_ENTRIES_PER_FRAME];
}

struct gnttab_active *gnttab_active_entry(struct gnttab *gt, grant_ref_t ref)
{
    if (ref >= gnttab_nr_entries(gt))
        return NULL;
    return &gt->frames[ref / GNTTAB_ENTRIES_PER_FRAME].active[ref % GNTTAB_ENTRIES_PER_FRAME];
}

int gnttab_seed(struct gnttab *gt, grant_ref_t ref, domid_t grantee, uint64_t gfn)
{
    grant_entry_v1_t *e;

    if (gfn > UINT32_MAX || ref / GNTTAB_ENTRIES_PER_FRAME >= gt->max_frames ||
        gnttab_grow(gt, ref / GNTTAB_ENTRIES_PER_FRAME + 1))
        return -EINVAL;
    e = gnttab_shared_entry(gt, ref);
    e->domid = grantee;
    e->frame = (uint32_t)gfn;
    __atomic_store_n(&e->flags, (uint16_t)GTF_permit_access, __ATOMIC_SEQ_CST);  /* last */
    return 0;
}

/* The entry's first 4 bytes (flags, domid) as one atomic word. */
static uint32_t *combo_word(grant_entry_v1_t *e)
{
    _Static_assert(offsetof(grant_entry_v1_t, flags) == 0 && offsetof(grant_entry_v1_t, domid) == 2,
                   "flags and domid share one word");
    return (uint32_t *)(void *)e;
}

static void clear_flags(grant_entry_v1_t *e, uint16_t bits)
{
    __atomic_fetch_and(&e->flags, (uint16_t)~bits, __ATOMIC_SEQ_CST);
}

/*
 * Sets GTF_reading (and GTF_writing) if the entry, read once, permits it:
 * on the first pin it must be permit_access for `by`; a writable pin needs
 * GTF_readonly clear. cmpxchg, so a guest changing the entry meanwhile is
 * either seen or makes us retry (at most PIN_RETRIES times).
 */
static int16_t set_pin_flags(grant_entry_v1_t *e, bool first_pin, domid_t by, bool readonly)
{
    uint32_t *word = combo_word(e);
    uint32_t old = __atomic_load_n(word, __ATOMIC_SEQ_CST);

    for (unsigned tries = 0; tries <= PIN_RETRIES; tries++) {
        uint16_t flags = COMBO_FLAGS(old);
        uint16_t want = flags | GTF_reading | (readonly ? 0 : GTF_writing);

        if (first_pin && ((flags & GTF_type_mask) != GTF_permit_access || COMBO_DOMID(old) != by))
            return GNTST_general_error;
        if (!readonly && (flags & GTF_readonly))
            return GNTST_general_error;
        if (__atomic_compare_exchange_n(word, &old, COMBO(want, COMBO_DOMID(old)), false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return GNTST_okay;
    }
    return GNTST_general_error;     /* the guest keeps changing it */
}

int16_t gnttab_pin(struct gnttab *gt, grant_ref_t ref, domid_t by, bool readonly, uint64_t *pfn)
{
    grant_entry_v1_t *e = gnttab_shared_entry(gt, ref);
    struct gnttab_active *a = gnttab_active_entry(gt, ref);
    bool pinned, needs_flags;
    int16_t rc;

    if (!e)
        return GNTST_bad_gntref;
    pinned = a->readers || a->writers;
    if (pinned && (a->domid != by || a->readers >= GNTTAB_PIN_MAX || a->writers >= GNTTAB_PIN_MAX))
        return GNTST_general_error;
    needs_flags = !pinned || (!readonly && !a->writers);
    if (needs_flags && (rc = set_pin_flags(e, !pinned, by, readonly)) != GNTST_okay)
        return rc;
    if (!pinned) {
        /* The frame as the granter named it when the first pin was taken, read once. */
        uint32_t gfn = __atomic_load_n(&e->frame, __ATOMIC_SEQ_CST);

        if ((rc = gt->resolve(gt->ctx, gfn, pfn)) != GNTST_okay) {
            clear_flags(e, GTF_reading | (readonly ? 0 : GTF_writing));
            return rc;
        }
        a->domid = by;
        a->pfn = (uint32_t)*pfn;
    }
    *pfn = a->pfn;
    if (readonly)
        a->readers++;
    else
        a->writers++;
    return GNTST_okay;
}

void gnttab_unpin(struct gnttab *gt, grant_ref_t ref, bool readonly)
{
    grant_entry_v1_t *e = gnttab_shared_entry(gt, ref);
    struct gnttab_active *a = gnttab_active_entry(gt, ref);
    uint16_t clear = 0;

    if (!e || !(readonly ? a->readers : a->writers))
        return;         /* callers only drop pins they hold */
    if (readonly)
        a->readers--;
    else if (!--a->writers)
        clear |= GTF_writing;
    if (!a->readers && !a->writers)
        clear |= GTF_reading;
    if (clear)
        clear_flags(e, clear);
}

static struct gnttab_maptrack *maptrack_slot(struct gnttab *gt, grant_handle_t h)
{
    if (h >= gt->nr_maptrack_frames * GNTTAB_MAPTRACK_PER_FRAME)
        return NULL;
    return &gt->maptrack[h / GNTTAB_MAPTRACK_PER_FRAME][h % GNTTAB_MAPTRACK_PER_FRAME];
}

/* One more maptrack frame, its handles pushed on the free list (lowest first). */
static int __must_check maptrack_grow(struct gnttab *gt)
{
    struct gnttab_maptrack *page;
    uint32_t base = gt->nr_maptrack_frames * GNTTAB_MAPTRACK_PER_FRAME;

    if (gt->nr_maptrack_frames >= gt->max_maptrack_frames)
        return -ENOSPC;
    if (!(page = page_alloc()))
        return -ENOMEM;
    for (uint32_t i = GNTTAB_MAPTRACK_PER_FRAME; i-- > 0;) {
        page[i].ref = gt->free_head;
        gt->free_head = base + i;
    }
    gt->maptrack[gt->nr_maptrack_frames++] = page;
    return 0;
}

struct gnttab_maptrack *gnttab_maptrack_get(struct gnttab *gt, grant_handle_t *handle)
{
    struct gnttab_maptrack *m;

    if (gt->free_head == GNTTAB_NO_HANDLE && maptrack_grow(gt))
        return NULL;
    *handle = gt->free_head;
    m = maptrack_slot(gt, *handle);
    gt->free_head = m->ref;
    m->ref = 0;
    gt->nr_maps++;
    return m;
}

struct gnttab_maptrack *gnttab_maptrack_entry(struct gnttab *gt, grant_handle_t handle)
{
    struct gnttab_maptrack *m = maptrack_slot(gt, handle);

    return m && m->flags ? m : NULL;
}

void gnttab_maptrack_put(struct gnttab *gt, grant_handle_t handle)
{
    struct gnttab_maptrack *m = maptrack_slot(gt, handle);

    if (!m)
        return;
    *m = (struct gnttab_maptrack){ .ref = gt->free_head };
    gt->free_head = handle;
    gt->nr_maps--;
}

struct gnttab_maptrack *gnttab_maptrack_next(struct gnttab *gt, grant_handle_t *handle,
                                             grant_handle_t limit)
{
    struct gnttab_maptrack *m;

    for (; *handle < limit && (m = maptrack_slot(gt, *handle)); (*handle)++)
        if (m->flags)
            return m;
    return NULL;
}

grant_handle_t gnttab_release_window(struct gnttab *gt, uint32_t max, grant_handle_t *end)
{
    grant_handle_t from = gt->release_from;
    uint32_t slots = gt->nr_maptrack_frames * GNTTAB_MAPTRACK_PER_FRAME;

    *end = max < slots - from ? from + max : slots;
    gt->release_from = *end;
    return from;
}
