/* acpi_cpus.c (hypervisor, pure): the CPUs the firmware lists in its ACPI MADT. */
#include "acpi_cpus.h"
#include "errno.h"

/* ACPI 6.5, 5.2.5.3: the RSDP. The first 20 bytes are ACPI 1.0's, checksummed alone. */
#define RSDP_SIGNATURE      "RSD PTR "
#define RSDP_V1_LEN         20u
#define RSDP_V2_LEN         36u
#define RSDP_OFF_REVISION   15u
#define RSDP_OFF_RSDT       16u
#define RSDP_OFF_LENGTH     20u
#define RSDP_OFF_XSDT       24u

/* 5.2.6: every other table starts with this 36-byte header. */
#define SDT_HEADER_LEN      36u
#define SDT_OFF_LENGTH      4u
#define SDT_MAX_LEN         (64u * 1024)    /* our bound; real RSDTs and MADTs are small */

/* 5.2.12: the MADT ("APIC"): header, local APIC address, flags, then entries {type, length}. */
#define MADT_ENTRIES        44u
#define MADT_LOCAL_APIC     0u              /* 5.2.12.2: len 8, APIC ID at 3, flags at 4 */
#define MADT_LOCAL_X2APIC   9u              /* 5.2.12.12: len 16, x2APIC ID at 4, flags at 8 */
#define MADT_CPU_ENABLED    1u

/* 5.2.5.1: where a BIOS may put the RSDP, on 16-byte boundaries. */
#define BDA_EBDA_SEGMENT    0x40eu
#define EBDA_SEARCH_LEN     1024u
#define BIOS_AREA_START     0xe0000u
#define BIOS_AREA_END       0x100000u

static int fail(const char **err, const char *why, int rc)
{
    *err = why;
    return rc;
}

static uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static bool sums_to_zero(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;

    for (uint32_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

/* A valid RSDP at p (len readable bytes)? An ACPI 2.0+ one also passes its extended checksum. */
static bool rsdp_valid(const uint8_t *p, uint32_t len)
{
    if (len < RSDP_V1_LEN || memcmp(p, RSDP_SIGNATURE, 8) || !sums_to_zero(p, RSDP_V1_LEN))
        return false;
    return p[RSDP_OFF_REVISION] < 2 ||
           (len >= RSDP_V2_LEN && get_u32(p + RSDP_OFF_LENGTH) >= RSDP_V2_LEN &&
            sums_to_zero(p, RSDP_V2_LEN));
}

static const uint8_t *scan_for_rsdp(boot_phys_fn phys, void *ctx, uint64_t from, uint64_t to)
{
    for (uint64_t a = from & ~15ull; a + RSDP_V1_LEN <= to; a += 16) {
        const uint8_t *p = phys(a, RSDP_V1_LEN, ctx);

        if (!p || memcmp(p, RSDP_SIGNATURE, 8))
            continue;
        uint32_t len = p[RSDP_OFF_REVISION] < 2 ? RSDP_V1_LEN : RSDP_V2_LEN;

        p = a + len <= to ? phys(a, len, ctx) : NULL;
        if (p && rsdp_valid(p, len))
            return p;
    }
    return NULL;
}

static const uint8_t *find_rsdp(boot_phys_fn phys, void *ctx)
{
    const uint8_t *bda = phys(BDA_EBDA_SEGMENT, 2, ctx);
    const uint8_t *p = NULL;

    if (bda) {
        uint64_t ebda = (uint64_t)(bda[0] | bda[1] << 8) << 4;

        if (ebda)
            p = scan_for_rsdp(phys, ctx, ebda, ebda + EBDA_SEARCH_LEN);
    }
    return p ? p : scan_for_rsdp(phys, ctx, BIOS_AREA_START, BIOS_AREA_END);
}

/* The whole table at addr, its length and checksum checked; NULL if absent or malformed. */
static const uint8_t *map_table(boot_phys_fn phys, void *ctx, uint64_t addr, uint32_t *len)
{
    const uint8_t *h = addr ? phys(addr, SDT_HEADER_LEN, ctx) : NULL;

    if (!h)
        return NULL;
    *len = get_u32(h + SDT_OFF_LENGTH);
    if (*len < SDT_HEADER_LEN || *len > SDT_MAX_LEN)
        return NULL;
    h = phys(addr, *len, ctx);
    return h && sums_to_zero(h, *len) ? h : NULL;
}

/* The MADT among the root table's entries (XSDT: 8 bytes each, RSDT: 4). */
static const uint8_t *find_madt(boot_phys_fn phys, void *ctx, const uint8_t *root,
                                uint32_t root_len, unsigned entry_size, uint32_t *len)
{
    for (uint32_t off = SDT_HEADER_LEN; off + entry_size <= root_len; off += entry_size) {
        uint64_t addr = entry_size == 8 ? get_u64(root + off) : get_u32(root + off);
        const uint8_t *t = map_table(phys, ctx, addr, len);

        if (t && !memcmp(t, "APIC", 4) && *len >= MADT_ENTRIES)
            return t;
    }
    return NULL;
}

static void add_cpu(struct acpi_cpus *out, uint32_t apic_id, uint32_t flags)
{
    if (!(flags & MADT_CPU_ENABLED))
        return;                         /* absent, or only online-capable (hotplug) */
    for (unsigned i = 0; i < out->nr; i++)
        if (out->apic_id[i] == apic_id)
            return;                     /* listed twice (both entry kinds): one CPU */
    out->listed++;
    if (out->nr < ACPI_CPUS_MAX)
        out->apic_id[out->nr++] = apic_id;
}

static int read_madt(const uint8_t *madt, uint32_t len, struct acpi_cpus *out, const char **err)
{
    for (uint32_t off = MADT_ENTRIES; off + 2 <= len;) {
        const uint8_t *e = madt + off;
        uint8_t type = e[0], elen = e[1];

        if (elen < 2 || off + elen > len)
            return fail(err, "ACPI MADT: an entry runs past the table", -EINVAL);
        if (type == MADT_LOCAL_APIC && elen >= 8)
            add_cpu(out, e[3], get_u32(e + 4));
        else if (type == MADT_LOCAL_X2APIC && elen >= 16)
            add_cpu(out, get_u32(e + 4), get_u32(e + 8));
        off += elen;
    }
    return out->nr ? 0 : fail(err, "ACPI MADT: no enabled CPU", -ENOENT);
}

int acpi_find_cpus(boot_phys_fn phys, void *ctx, const uint8_t *rsdp, uint32_t rsdp_len,
                   struct acpi_cpus *out, const char **err)
{
    const uint8_t *root = NULL, *madt = NULL;
    uint32_t root_len = 0, madt_len = 0;

    memset(out, 0, sizeof(*out));
    if (!rsdp_len || !rsdp_valid(rsdp, rsdp_len)) {
        rsdp = find_rsdp(phys, ctx);
        if (!rsdp)
            return fail(err, "no ACPI RSDP from the loader or in the BIOS areas", -ENOENT);
    }
    if (rsdp[RSDP_OFF_REVISION] >= 2) {
        root = map_table(phys, ctx, get_u64(rsdp + RSDP_OFF_XSDT), &root_len);
        if (root && !memcmp(root, "XSDT", 4))
            madt = find_madt(phys, ctx, root, root_len, 8, &madt_len);
    }
    if (!madt) {
        root = map_table(phys, ctx, get_u32(rsdp + RSDP_OFF_RSDT), &root_len);
        if (root && !memcmp(root, "RSDT", 4))
            madt = find_madt(phys, ctx, root, root_len, 4, &madt_len);
    }
    if (!madt)
        return fail(err, "no valid ACPI MADT", -ENOENT);
    return read_madt(madt, madt_len, out, err);
}
