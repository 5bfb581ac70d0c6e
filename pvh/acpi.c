/* acpi.c (pure: hypervisor and host tests): a PVH guest's static ACPI tables, built for one guest-physical address. */
#include "acpi.h"
#include "errno.h"

/*
 * Layouts from the ACPI 6.5 specification, chapter 5.2. All fields are
 * little-endian and unaligned, hence the packed structs; each is built on
 * the stack and copied into the buffer, so the buffer needs no alignment.
 */

#define OEM_ID          "WISP  "        /* 6 bytes, space-padded */
#define OEM_TABLE_ID    "WISPGUES"      /* 8 bytes */
#define OEM_REVISION    1u
#define CREATOR_ID      "WISP"          /* we are the "ASL compiler" of these tables */
#define CREATOR_REV     1u

/* 5.2.6: the header every table but the RSDP starts with. */
struct sdt_header {
    char signature[4];
    uint32_t length;            /* whole table, header included */
    uint8_t revision;
    uint8_t checksum;           /* all bytes of the table sum to 0 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct sdt_header) == 36, "ACPI 5.2.6");

/* 5.2.5.3: Root System Description Pointer, ACPI 2.0+ form. */
struct rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;           /* bytes 0..19 sum to 0 (the ACPI 1.0 part) */
    char oem_id[6];
    uint8_t revision;           /* 2: ACPI 2.0+, XSDT valid */
    uint32_t rsdt_address;
    uint32_t length;            /* 36 */
    uint64_t xsdt_address;
    uint8_t extended_checksum;  /* all 36 bytes sum to 0 */
    uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct rsdp) == PVH_ACPI_RSDP_SIZE, "ACPI 5.2.5.3");
#define RSDP_V1_SIZE    20      /* what the first checksum covers */
#define RSDP_REVISION   2

/* 5.2.3.2: Generic Address Structure. */
struct gas {
    uint8_t space_id, bit_width, bit_offset, access_size;
    uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct gas) == 12, "ACPI 5.2.3.2");

/* 5.2.9: Fixed ACPI Description Table, revision 6 (ACPI 6.0 and later). */
struct fadt {
    struct sdt_header h;
    uint32_t firmware_ctrl, dsdt;
    uint8_t reserved0, preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
    uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
    uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    struct gas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_version;
    uint64_t x_firmware_ctrl, x_dsdt;
    struct gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
    struct gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
    struct gas sleep_control_reg, sleep_status_reg;
    uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct fadt) == 276, "ACPI 5.2.9, FADT revision 6");
_Static_assert(__builtin_offsetof(struct fadt, iapc_boot_arch) == 109, "ACPI 5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, flags) == 112, "ACPI 5.2.9");
_Static_assert(__builtin_offsetof(struct fadt, x_dsdt) == 140, "ACPI 5.2.9");
#define FADT_REVISION           6
#define FADT_HW_REDUCED_ACPI    (1u << 20)  /* 5.2.9 Fixed Feature Flags: no fixed hardware, no SCI */
#define IAPC_BOOT_NO_VGA        (1u << 2)   /* 5.2.9 IA-PC Boot Architecture Flags: do not probe VGA */
#define IAPC_BOOT_NO_CMOS_RTC   (1u << 5)   /* ... no CMOS RTC at ports 0x70/0x71 */
/* Bit 1 (8042) stays clear: there is no keyboard controller at ports 0x60/0x64. */

/* 5.2.12: Multiple APIC Description Table, then its interrupt controller entries. */
struct madt {
    struct sdt_header h;
    uint32_t lapic_address;
    uint32_t flags;             /* bit 0 PCAT_COMPAT clear: no dual 8259s */
} __attribute__((packed));
_Static_assert(sizeof(struct madt) == 44, "ACPI 5.2.12");
/* Revision 5 (ACPI 6.3+) defines the Online Capable flag, which we leave clear. */
#define MADT_REVISION 5

/* 5.2.12.2: Processor Local APIC structure. */
struct madt_lapic {
    uint8_t type;               /* 0 */
    uint8_t length;             /* 8 */
    uint8_t acpi_processor_uid;
    uint8_t apic_id;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic) == 8, "ACPI 5.2.12.2");
#define MADT_TYPE_LOCAL_APIC    0
#define LAPIC_ENABLED           (1u << 0)   /* 5.2.12.2 Local APIC Flags: usable now */

/* Revisions of the other tables: RSDT/XSDT are 1; DSDT 2 means 64-bit AML integers (5.2.11.1). */
#define SDT_REVISION    1
#define DSDT_REVISION   2

#define XSDT_ENTRIES    2       /* FADT, MADT: the tables the RSDT/XSDT list */

/* Offsets from the start of the buffer, each table on a 16-byte boundary. */
struct offsets {
    size_t rsdp, xsdt, rsdt, fadt, dsdt, madt, end;
};

static int fail(const char **why, int err, const char *reason)
{
    if (why)
        *why = reason;
    return err;
}

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static size_t madt_size(unsigned nr_vcpus)
{
    return sizeof(struct madt) + (size_t)nr_vcpus * sizeof(struct madt_lapic);
}

static struct offsets compute_offsets(unsigned nr_vcpus)
{
    struct offsets o;

    o.rsdp = 0;
    o.xsdt = align16(o.rsdp + sizeof(struct rsdp));
    o.rsdt = align16(o.xsdt + sizeof(struct sdt_header) + XSDT_ENTRIES * sizeof(uint64_t));
    o.fadt = align16(o.rsdt + sizeof(struct sdt_header) + XSDT_ENTRIES * sizeof(uint32_t));
    o.dsdt = align16(o.fadt + sizeof(struct fadt));
    o.madt = align16(o.dsdt + sizeof(struct sdt_header));
    o.end = o.madt + madt_size(nr_vcpus);
    return o;
}

size_t pvh_acpi_size(unsigned nr_vcpus)
{
    if (nr_vcpus == 0 || nr_vcpus > PVH_ACPI_MAX_VCPUS)
        return 0;
    return compute_offsets(nr_vcpus).end;
}

static uint8_t sum_bytes(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    while (len--)
        s += *p++;
    return s;
}

/* Fill the checksum byte at checksum_off so that bytes [0, len) sum to 0. */
static void seal(uint8_t *table, size_t len, size_t checksum_off)
{
    table[checksum_off] = 0;
    table[checksum_off] = (uint8_t)-sum_bytes(table, len);
}

static struct sdt_header header(const char sig[4], size_t length, uint8_t revision)
{
    struct sdt_header h = {
        .length = (uint32_t)length, .revision = revision,
        .oem_revision = OEM_REVISION, .creator_revision = CREATOR_REV,
    };

    memcpy(h.signature, sig, sizeof(h.signature));
    memcpy(h.oem_id, OEM_ID, sizeof(h.oem_id));
    memcpy(h.oem_table_id, OEM_TABLE_ID, sizeof(h.oem_table_id));
    memcpy(h.creator_id, CREATOR_ID, sizeof(h.creator_id));
    return h;
}

/* Copy a header into place at the start of table t (sealed by the caller). */
static void put_header(uint8_t *t, const char sig[4], size_t length, uint8_t revision)
{
    struct sdt_header h = header(sig, length, revision);

    memcpy(t, &h, sizeof(h));
}

void pvh_acpi_write_rsdp(const struct pvh_acpi_layout *l, void *dst)
{
    struct rsdp r = {
        .signature = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' },
        .revision = RSDP_REVISION,
        .rsdt_address = (uint32_t)l->rsdt,
        .length = PVH_ACPI_RSDP_SIZE,
        .xsdt_address = l->xsdt,
    };
    uint8_t *p = dst;

    memcpy(r.oem_id, OEM_ID, sizeof(r.oem_id));
    memcpy(p, &r, sizeof(r));
    seal(p, RSDP_V1_SIZE, __builtin_offsetof(struct rsdp, checksum));
    seal(p, sizeof(r), __builtin_offsetof(struct rsdp, extended_checksum));
}

bool pvh_acpi_legacy_rsdp_ok(uint64_t gpa)
{
    return gpa >= PVH_ACPI_LEGACY_LO && gpa <= PVH_ACPI_LEGACY_HI - PVH_ACPI_RSDP_SIZE &&
           gpa % PVH_ACPI_LEGACY_ALIGN == 0;
}

/* XSDT with 64-bit entries, RSDT (when it can point at the tables) with 32-bit ones. */
static void write_root_tables(uint8_t *buf, const struct offsets *o, const struct pvh_acpi_layout *l)
{
    const uint64_t entries[XSDT_ENTRIES] = { l->fadt, l->madt };
    size_t xsdt_len = sizeof(struct sdt_header) + sizeof(entries);
    size_t rsdt_len = sizeof(struct sdt_header) + XSDT_ENTRIES * sizeof(uint32_t);

    put_header(buf + o->xsdt, "XSDT", xsdt_len, SDT_REVISION);
    memcpy(buf + o->xsdt + sizeof(struct sdt_header), entries, sizeof(entries));
    seal(buf + o->xsdt, xsdt_len, __builtin_offsetof(struct sdt_header, checksum));

    if (!l->rsdt)
        return;
    put_header(buf + o->rsdt, "RSDT", rsdt_len, SDT_REVISION);
    for (unsigned i = 0; i < XSDT_ENTRIES; i++) {
        uint32_t e = (uint32_t)entries[i];

        memcpy(buf + o->rsdt + sizeof(struct sdt_header) + i * sizeof(e), &e, sizeof(e));
    }
    seal(buf + o->rsdt, rsdt_len, __builtin_offsetof(struct sdt_header, checksum));
}

/* Hardware-reduced (5.2.9, 4.1): no PM timer, no SCI, no fixed registers; only the DSDT pointer. */
static void write_fadt(uint8_t *t, const struct pvh_acpi_layout *l)
{
    struct fadt f = {
        .h = header("FACP", sizeof(struct fadt), FADT_REVISION),
        .iapc_boot_arch = IAPC_BOOT_NO_VGA | IAPC_BOOT_NO_CMOS_RTC,
        .flags = FADT_HW_REDUCED_ACPI,
        .x_dsdt = l->dsdt,      /* the 32-bit DSDT field stays 0: X_DSDT takes precedence */
    };

    memcpy(t, &f, sizeof(f));
    seal(t, sizeof(f), __builtin_offsetof(struct sdt_header, checksum));
}

/* An empty definition block: a valid DSDT with no AML. */
static void write_dsdt(uint8_t *t)
{
    put_header(t, "DSDT", sizeof(struct sdt_header), DSDT_REVISION);
    seal(t, sizeof(struct sdt_header), __builtin_offsetof(struct sdt_header, checksum));
}

/* One enabled LAPIC per vCPU, UID = APIC ID = vCPU id (what CPUID and the LAPIC report). */
static void write_madt(uint8_t *t, const struct pvh_acpi_config *cfg)
{
    struct madt m = {
        .h = header("APIC", madt_size(cfg->nr_vcpus), MADT_REVISION),
        .lapic_address = cfg->lapic_addr ? cfg->lapic_addr : PVH_ACPI_LAPIC_DEFAULT,
        .flags = 0,
    };
    uint8_t *p = t + sizeof(m);

    memcpy(t, &m, sizeof(m));
    for (unsigned i = 0; i < cfg->nr_vcpus; i++, p += sizeof(struct madt_lapic)) {
        struct madt_lapic e = {
            .type = MADT_TYPE_LOCAL_APIC, .length = sizeof(e),
            .acpi_processor_uid = (uint8_t)i, .apic_id = (uint8_t)i,
            .flags = LAPIC_ENABLED,
        };

        memcpy(p, &e, sizeof(e));
    }
    seal(t, madt_size(cfg->nr_vcpus), __builtin_offsetof(struct sdt_header, checksum));
}

static int check_args(const struct pvh_acpi_config *cfg, const void *buf, size_t buf_size,
                      uint64_t buf_gpa, const struct pvh_acpi_layout *out, const char **why)
{
    size_t need;

    if (!cfg || !buf || !out)
        return fail(why, -EINVAL, "missing argument");
    need = pvh_acpi_size(cfg->nr_vcpus);
    if (!need)
        return fail(why, -EINVAL, "number of vCPUs must be 1..255 for the MADT");
    if (buf_gpa % PVH_ACPI_ALIGN)
        return fail(why, -EINVAL, "ACPI table address not 16-byte aligned");
    if (buf_gpa > (1ull << 52) - need)
        return fail(why, -EINVAL, "ACPI tables would end above 2^52");
    if (buf_size < need)
        return fail(why, -ENOMEM, "buffer too small for the ACPI tables");
    return 0;
}

int pvh_build_acpi(const struct pvh_acpi_config *cfg, void *buf, size_t buf_size,
                   uint64_t buf_gpa, struct pvh_acpi_layout *out, const char **why)
{
    struct pvh_acpi_layout l;
    struct offsets o;
    uint8_t *b = buf;
    int rc;

    rc = check_args(cfg, buf, buf_size, buf_gpa, out, why);
    if (rc)
        return rc;

    o = compute_offsets(cfg->nr_vcpus);
    l = (struct pvh_acpi_layout){
        .rsdp = buf_gpa + o.rsdp, .xsdt = buf_gpa + o.xsdt,
        .fadt = buf_gpa + o.fadt, .madt = buf_gpa + o.madt, .dsdt = buf_gpa + o.dsdt,
        .size = o.end,
    };
    /* RSDT entries are 32-bit: only when every table lies below 4 GiB. */
    if (buf_gpa + o.end <= (1ull << 32))
        l.rsdt = buf_gpa + o.rsdt;

    memset(b, 0, o.end);        /* padding between tables reads as zero */
    pvh_acpi_write_rsdp(&l, b + o.rsdp);
    write_root_tables(b, &o, &l);
    write_fadt(b + o.fadt, &l);
    write_dsdt(b + o.dsdt);
    write_madt(b + o.madt, cfg);
    *out = l;
    return 0;
}
