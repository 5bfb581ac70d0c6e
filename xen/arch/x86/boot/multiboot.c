/* multiboot.c (hypervisor, pure): turns Multiboot1/Multiboot2 boot information into struct boot_info. */
/*
 * Everything the loader hands us is treated as untrusted input: every byte is
 * reached through the boot_phys_fn callback with an explicit length, every
 * size is checked before it is used, and strings must end within a bound.
 *
 * Limits, chosen so that nothing is silently lost that could matter:
 *  - more than BOOT_MAX_MODULES modules is an error (-E2BIG): dropping one
 *    could drop a guest kernel or the boot configuration;
 *  - more than BOOT_MAX_MEM_RANGES memory ranges are truncated (the first ones
 *    are kept): only ranges listed as RAM are ever used, so a dropped entry
 *    costs at most some usable RAM, never safety;
 *  - strings longer than their destination array are truncated.
 */
#include "bootinfo.h"
#include "errno.h"

/* Multiboot2 spec 3.6.1: fixed part {u32 total_size; u32 reserved}, then tags. */
#define MB2_FIXED_SIZE      8u
#define MB2_TAG_HDR_SIZE    8u          /* {u32 type; u32 size} */
#define MB2_TAG_ALIGN       8u          /* spec 3.6.1: tags start 8-byte aligned */
#define MB2_MAX_TOTAL_SIZE  (1u << 20)  /* our sanity bound; GRUB's are a few KiB */

/* Multiboot2 spec 3.6.2 ff: the tag types we read (others are skipped). */
#define MB2_TAG_END          0u
#define MB2_TAG_CMDLINE      1u
#define MB2_TAG_LOADER_NAME  2u
#define MB2_TAG_MODULE       3u
#define MB2_TAG_BASIC_MEM    4u
#define MB2_TAG_MMAP         6u
#define MB2_TAG_ACPI_OLD     14u        /* a copy of an ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW     15u        /* a copy of an ACPI 2.0+ RSDP */

/* Spec 3.6.4 module tag: header, u32 mod_start, u32 mod_end, string. */
#define MB2_MODULE_FIXED     16u
/* Spec 3.6.8 mmap tag: header, u32 entry_size, u32 entry_version, entries. */
#define MB2_MMAP_FIXED       16u
/* One mmap entry: {u64 base_addr; u64 length; u32 type; u32 reserved}. */
#define MB2_MMAP_ENTRY_MIN   24u

/* Multiboot 0.6.96 spec 3.3: flags bits saying which info fields are valid. */
#define MB1_FLAG_MEM         (1u << 0)  /* mem_lower, mem_upper */
#define MB1_FLAG_CMDLINE     (1u << 2)
#define MB1_FLAG_MODS        (1u << 3)
#define MB1_FLAG_MMAP        (1u << 6)
#define MB1_FLAG_LOADER_NAME (1u << 9)

/* Spec 3.3: byte offsets in the Multiboot1 info structure. */
#define MB1_OFF_FLAGS        0u
#define MB1_OFF_MEM_LOWER    4u
#define MB1_OFF_MEM_UPPER    8u
#define MB1_OFF_CMDLINE      16u
#define MB1_OFF_MODS_COUNT   20u
#define MB1_OFF_MODS_ADDR    24u
#define MB1_OFF_MMAP_LENGTH  44u
#define MB1_OFF_MMAP_ADDR    48u
#define MB1_OFF_LOADER_NAME  64u
#define MB1_INFO_READ_SIZE   68u        /* up to and including boot_loader_name */

/* Spec 3.3: module entry {mod_start, mod_end, string, reserved}. */
#define MB1_MODULE_SIZE      16u
/* Spec 3.3: mmap entry {u32 size; u64 base; u64 len; u32 type}; size excludes itself. */
#define MB1_MMAP_SIZE_FIELD  4u
#define MB1_MMAP_ENTRY_MIN   20u
#define MB1_MMAP_MAX_LENGTH  (64u * 1024)   /* sanity bound on mmap_length */
/* mem_upper counts from 1 MiB (spec 3.3). */
#define MB1_MEM_UPPER_BASE   0x100000ull

/* A Multiboot1 string must end within this many bytes (our bound). */
#define MB1_STRING_MAX       4096u

static uint32_t read_u32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));   /* entries may be unaligned (MB1 mmap is packed) */
    return v;
}

static uint64_t read_u64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static int fail(const char **err, const char *msg, int rc)
{
    if (err)
        *err = msg;
    return rc;
}

/* Copies a string of src_len bytes into dst[dst_size], truncating; always terminates. */
static void copy_truncated(char *dst, size_t dst_size, const char *src, size_t src_len)
{
    size_t n = src_len < dst_size - 1 ? src_len : dst_size - 1;

    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Module name: basename of the first whitespace-separated word. GRUB's module2
 * and QEMU's -initrd "file args" both put the module's path first.
 */
static void module_name_from(char *name, size_t name_size, const char *s, size_t len)
{
    size_t i = 0, word_start, word_end, base;

    while (i < len && is_blank(s[i]))
        i++;
    word_start = i;
    while (i < len && !is_blank(s[i]))
        i++;
    word_end = i;

    base = word_start;
    for (i = word_start; i < word_end; i++)
        if (s[i] == '/')
            base = i + 1;
    copy_truncated(name, name_size, s + base, word_end - base);
}

static void module_set_string(struct boot_module *mod, const char *s, size_t len)
{
    copy_truncated(mod->cmdline, sizeof(mod->cmdline), s, len);
    module_name_from(mod->name, sizeof(mod->name), s, len);
}

static int add_module(struct boot_info *out, uint64_t start, uint64_t end,
                      const char *s, size_t len, const char **err)
{
    struct boot_module *mod;

    if (end < start)
        return fail(err, "module ends before it starts", -EINVAL);
    if (out->nr_modules >= BOOT_MAX_MODULES)
        return fail(err, "too many modules", -E2BIG);
    mod = &out->modules[out->nr_modules++];
    mod->start = start;
    mod->end = end;
    module_set_string(mod, s, len);
    return 0;
}

static int add_mem_range(struct boot_info *out, uint64_t base, uint64_t size, uint32_t type,
                         const char **err)
{
    struct boot_mem_range *r;

    if (base + size < base)
        return fail(err, "memory range wraps around the address space", -EINVAL);
    if (out->nr_mem >= BOOT_MAX_MEM_RANGES)
        return 0;       /* truncate: see the file comment */
    r = &out->mem[out->nr_mem++];
    r->base = base;
    r->size = size;
    r->type = type;
    return 0;
}

/* Length of a NUL-terminated string inside [s, s+max), or -EINVAL when it has no NUL. */
static int bounded_strlen(const char *s, size_t max, size_t *len)
{
    size_t n = strnlen(s, max);

    if (n == max)
        return -EINVAL;
    *len = n;
    return 0;
}

/* ---- Multiboot2 ---- */

static int mb2_string_tag(const uint8_t *tag, uint32_t size, char *dst, size_t dst_size,
                          const char **err)
{
    const char *s = (const char *)tag + MB2_TAG_HDR_SIZE;
    size_t len;

    if (size <= MB2_TAG_HDR_SIZE || bounded_strlen(s, size - MB2_TAG_HDR_SIZE, &len))
        return fail(err, "mb2: string tag not NUL-terminated", -EINVAL);
    copy_truncated(dst, dst_size, s, len);
    return 0;
}

static int mb2_module_tag(const uint8_t *tag, uint32_t size, struct boot_info *out,
                          const char **err)
{
    const char *s = (const char *)tag + MB2_MODULE_FIXED;
    size_t len;

    if (size <= MB2_MODULE_FIXED || bounded_strlen(s, size - MB2_MODULE_FIXED, &len))
        return fail(err, "mb2: module tag too small or string not NUL-terminated", -EINVAL);
    return add_module(out, read_u32(tag + 8), read_u32(tag + 12), s, len, err);
}

static int mb2_mmap_tag(const uint8_t *tag, uint32_t size, struct boot_info *out,
                        const char **err)
{
    uint32_t entry_size, off;
    int rc;

    if (size < MB2_MMAP_FIXED)
        return fail(err, "mb2: mmap tag too small", -EINVAL);
    entry_size = read_u32(tag + 8);
    if (entry_size < MB2_MMAP_ENTRY_MIN)
        return fail(err, "mb2: mmap entry_size too small", -EINVAL);

    /* entry_version is not checked: later versions may only append fields. */
    /* A trailing partial entry (never written by real loaders) is ignored. */
    for (off = MB2_MMAP_FIXED; size - off >= entry_size; off += entry_size) {
        const uint8_t *e = tag + off;

        rc = add_mem_range(out, read_u64(e), read_u64(e + 8), read_u32(e + 16), err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Keeps the loader's RSDP copy; the 2.0+ one wins. acpi_cpus.c checks what it holds. */
static void mb2_rsdp_tag(const uint8_t *tag, uint32_t type, uint32_t size, struct boot_info *out)
{
    uint32_t len = size - MB2_TAG_HDR_SIZE;

    if (type == MB2_TAG_ACPI_OLD && out->rsdp_len == BOOT_RSDP_MAX)
        return;
    out->rsdp_len = len < BOOT_RSDP_MAX ? len : BOOT_RSDP_MAX;
    memcpy(out->rsdp, tag + MB2_TAG_HDR_SIZE, out->rsdp_len);
}

static int mb2_tag(const uint8_t *tag, uint32_t type, uint32_t size, struct boot_info *out,
                   const char **err)
{
    switch (type) {
    case MB2_TAG_CMDLINE:
        return mb2_string_tag(tag, size, out->cmdline, sizeof(out->cmdline), err);
    case MB2_TAG_LOADER_NAME:
        return mb2_string_tag(tag, size, out->loader, sizeof(out->loader), err);
    case MB2_TAG_MODULE:
        return mb2_module_tag(tag, size, out, err);
    case MB2_TAG_MMAP:
        return mb2_mmap_tag(tag, size, out, err);
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        mb2_rsdp_tag(tag, type, size, out);
        return 0;
    case MB2_TAG_BASIC_MEM:     /* the mmap tag is authoritative */
    default:                    /* unknown tags are skipped, as the spec asks */
        return 0;
    }
}

static int mb2_walk_tags(const uint8_t *info, uint32_t total, struct boot_info *out,
                         const char **err)
{
    uint32_t off = MB2_FIXED_SIZE;

    for (;;) {
        uint32_t type, size;
        int rc;

        if (total - off < MB2_TAG_HDR_SIZE)
            return fail(err, "mb2: no end tag before total_size", -EINVAL);
        type = read_u32(info + off);
        size = read_u32(info + off + 4);
        if (size < MB2_TAG_HDR_SIZE)
            return fail(err, "mb2: tag size smaller than its header", -EINVAL);
        if (size > total - off)
            return fail(err, "mb2: tag runs past total_size", -EINVAL);
        if (type == MB2_TAG_END) {
            if (size != MB2_TAG_HDR_SIZE)
                return fail(err, "mb2: end tag size is not 8", -EINVAL);
            return 0;
        }
        rc = mb2_tag(info + off, type, size, out, err);
        if (rc)
            return rc;
        /* size <= total <= 1 MiB, so this cannot overflow; it may step past total. */
        off += (size + MB2_TAG_ALIGN - 1) & ~(MB2_TAG_ALIGN - 1);
        if (off >= total)
            return fail(err, "mb2: no end tag before total_size", -EINVAL);
    }
}

int mb2_parse(uint32_t info_addr, boot_phys_fn phys, void *ctx, struct boot_info *out,
              const char **err)
{
    const uint8_t *info;
    uint32_t total;

    memset(out, 0, sizeof(*out));
    if (err)
        *err = NULL;
    if (info_addr % MB2_TAG_ALIGN)
        return fail(err, "mb2: info not 8-byte aligned", -EINVAL);
    info = phys(info_addr, MB2_FIXED_SIZE, ctx);
    if (!info)
        return fail(err, "mb2: info header not readable", -EFAULT);
    total = read_u32(info);
    if (total < MB2_FIXED_SIZE + MB2_TAG_HDR_SIZE || total > MB2_MAX_TOTAL_SIZE)
        return fail(err, "mb2: total_size out of range", -EINVAL);
    info = phys(info_addr, total, ctx);
    if (!info)
        return fail(err, "mb2: info not readable up to total_size", -EFAULT);
    return mb2_walk_tags(info, total, out, err);
}

/* ---- Multiboot1 ---- */

/*
 * Maps the NUL-terminated string at addr (at most MB1_STRING_MAX bytes with its
 * NUL). The length is found one byte at a time because the string may end right
 * before an unreadable page.
 */
static int mb1_map_string(uint32_t addr, boot_phys_fn phys, void *ctx,
                          const char **s, size_t *len, const char **err)
{
    size_t n;

    for (n = 0; n < MB1_STRING_MAX; n++) {
        const char *c = phys((uint64_t)addr + n, 1, ctx);

        if (!c)
            return fail(err, "mb1: string not readable", -EFAULT);
        if (*c == '\0')
            break;
    }
    if (n == MB1_STRING_MAX)
        return fail(err, "mb1: string not NUL-terminated within bound", -EINVAL);
    *s = phys(addr, n + 1, ctx);
    if (!*s)
        return fail(err, "mb1: string not readable", -EFAULT);
    *len = n;
    return 0;
}

static int mb1_string(uint32_t addr, boot_phys_fn phys, void *ctx, char *dst, size_t dst_size,
                      const char **err)
{
    const char *s;
    size_t len;
    int rc = mb1_map_string(addr, phys, ctx, &s, &len, err);

    if (rc)
        return rc;
    copy_truncated(dst, dst_size, s, len);
    return 0;
}

static int mb1_modules(const uint8_t *info, boot_phys_fn phys, void *ctx,
                       struct boot_info *out, const char **err)
{
    uint32_t count = read_u32(info + MB1_OFF_MODS_COUNT);
    const uint8_t *mods;
    uint32_t i;

    if (count == 0)
        return 0;
    if (count > BOOT_MAX_MODULES)
        return fail(err, "too many modules", -E2BIG);
    mods = phys(read_u32(info + MB1_OFF_MODS_ADDR), (uint64_t)count * MB1_MODULE_SIZE, ctx);
    if (!mods)
        return fail(err, "mb1: module list not readable", -EFAULT);

    for (i = 0; i < count; i++) {
        const uint8_t *m = mods + i * MB1_MODULE_SIZE;
        uint32_t str_addr = read_u32(m + 8);
        const char *s = "";
        size_t len = 0;
        int rc;

        /* A zero string pointer means "no string" (seen from minimal loaders). */
        if (str_addr) {
            rc = mb1_map_string(str_addr, phys, ctx, &s, &len, err);
            if (rc)
                return rc;
        }
        rc = add_module(out, read_u32(m), read_u32(m + 4), s, len, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int mb1_mmap(const uint8_t *info, boot_phys_fn phys, void *ctx, struct boot_info *out,
                    const char **err)
{
    uint32_t length = read_u32(info + MB1_OFF_MMAP_LENGTH);
    const uint8_t *map;
    uint32_t off = 0;

    if (length > MB1_MMAP_MAX_LENGTH)
        return fail(err, "mb1: mmap_length too large", -EINVAL);
    if (length == 0)
        return 0;
    map = phys(read_u32(info + MB1_OFF_MMAP_ADDR), length, ctx);
    if (!map)
        return fail(err, "mb1: memory map not readable", -EFAULT);

    while (off < length) {
        uint32_t size;
        int rc;

        if (length - off < MB1_MMAP_SIZE_FIELD)
            return fail(err, "mb1: truncated mmap entry", -EINVAL);
        size = read_u32(map + off);
        if (size < MB1_MMAP_ENTRY_MIN)
            return fail(err, "mb1: mmap entry size too small", -EINVAL);
        if (size > length - off - MB1_MMAP_SIZE_FIELD)
            return fail(err, "mb1: mmap entry runs past mmap_length", -EINVAL);
        rc = add_mem_range(out, read_u64(map + off + 4), read_u64(map + off + 12),
                           read_u32(map + off + 20), err);
        if (rc)
            return rc;
        off += MB1_MMAP_SIZE_FIELD + size;
    }
    return 0;
}

/* Without a memory map, mem_lower/mem_upper (KiB) describe two RAM ranges (spec 3.3). */
static int mb1_basic_mem(const uint8_t *info, struct boot_info *out, const char **err)
{
    uint64_t lower = (uint64_t)read_u32(info + MB1_OFF_MEM_LOWER) * 1024;
    uint64_t upper = (uint64_t)read_u32(info + MB1_OFF_MEM_UPPER) * 1024;
    int rc;

    rc = add_mem_range(out, 0, lower, BOOT_MEM_RAM, err);
    if (rc)
        return rc;
    return add_mem_range(out, MB1_MEM_UPPER_BASE, upper, BOOT_MEM_RAM, err);
}

int mb1_parse(uint32_t info_addr, boot_phys_fn phys, void *ctx, struct boot_info *out,
              const char **err)
{
    const uint8_t *info;
    uint32_t flags;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (err)
        *err = NULL;
    info = phys(info_addr, MB1_INFO_READ_SIZE, ctx);
    if (!info)
        return fail(err, "mb1: info structure not readable", -EFAULT);
    flags = read_u32(info + MB1_OFF_FLAGS);

    if (flags & MB1_FLAG_CMDLINE)
        rc = mb1_string(read_u32(info + MB1_OFF_CMDLINE), phys, ctx,
                        out->cmdline, sizeof(out->cmdline), err);
    if (!rc && (flags & MB1_FLAG_LOADER_NAME))
        rc = mb1_string(read_u32(info + MB1_OFF_LOADER_NAME), phys, ctx,
                        out->loader, sizeof(out->loader), err);
    if (!rc && (flags & MB1_FLAG_MODS))
        rc = mb1_modules(info, phys, ctx, out, err);
    if (!rc && (flags & MB1_FLAG_MMAP))
        rc = mb1_mmap(info, phys, ctx, out, err);
    /* The full map wins; mem_lower/mem_upper are the fallback when it is absent or empty. */
    if (!rc && out->nr_mem == 0 && (flags & MB1_FLAG_MEM))
        rc = mb1_basic_mem(info, out, err);
    return rc;
}

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name)
{
    unsigned i;

    if (!name || !name[0])
        return NULL;
    for (i = 0; i < bi->nr_modules && i < BOOT_MAX_MODULES; i++)
        if (strcmp(bi->modules[i].name, name) == 0)
            return &bi->modules[i];
    return NULL;
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a < b_end && b < a_end;
}

static bool low_page_usable(const struct boot_info *bi, uint64_t page)
{
    uint64_t end = page + 0x1000;
    bool in_ram = false;

    for (unsigned i = 0; i < bi->nr_mem && i < BOOT_MAX_MEM_RANGES; i++) {
        const struct boot_mem_range *r = &bi->mem[i];
        uint64_t r_end = r->base + r->size < r->base ? UINT64_MAX : r->base + r->size;

        if (r->type != BOOT_MEM_RAM && overlaps(page, end, r->base, r_end))
            return false;
        if (r->type == BOOT_MEM_RAM && r->base <= page && end <= r_end)
            in_ram = true;
    }
    for (unsigned i = 0; i < bi->nr_modules && i < BOOT_MAX_MODULES; i++)
        if (overlaps(page, end, bi->modules[i].start, bi->modules[i].end))
            return false;
    return in_ram;
}

uint64_t boot_low_page(const struct boot_info *bi)
{
    for (uint64_t page = BOOT_LOW_PAGE_END - 0x1000; page >= BOOT_LOW_PAGE_MIN; page -= 0x1000)
        if (low_page_usable(bi, page))
            return page;
    return 0;
}
