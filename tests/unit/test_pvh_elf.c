/* test_pvh_elf.c (host test): pvh/elf.c against ELF32/ELF64 images built in memory, good and hostile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "elf.h"
#include "xen/elfnote.h"

/* ---- an in-memory ELF builder ---- */

#define IMG_MAX     16384
#define DATA_START  0x800       /* ehdr + up to 35 ELF64 phdrs fit below */
#define MAX_PH      32
#define MAX_SH      8

struct ph { uint32_t type; uint64_t offset, paddr, filesz, memsz, align; };
struct sh { uint32_t type; uint64_t offset, size, align; };

/* Header fields, widened; tests may change them after b_layout(). */
struct eh {
    uint8_t cls, data, idver;
    uint16_t type, machine;
    uint32_t version;
    uint64_t phoff, shoff;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum;
};

struct builder {
    uint8_t buf[IMG_MAX];
    size_t size;
    bool is64;
    unsigned nph, nsh;
    struct ph ph[MAX_PH];
    struct sh sh[MAX_SH];
    struct eh eh;
};

static struct builder B;

static void b_init(bool is64)
{
    memset(&B, 0, sizeof(B));
    B.is64 = is64;
    B.size = DATA_START;
}

static uint64_t b_add(const void *data, size_t len, unsigned align)
{
    B.size = (B.size + align - 1) & ~(size_t)(align - 1);
    assert_true(B.size + len <= IMG_MAX);
    uint64_t off = B.size;
    memcpy(B.buf + off, data, len);
    B.size += len;
    return off;
}

static void b_phdr(uint32_t type, uint64_t offset, uint64_t paddr, uint64_t filesz,
                   uint64_t memsz, uint64_t align)
{
    assert_true(B.nph < MAX_PH);
    B.ph[B.nph++] = (struct ph){ type, offset, paddr, filesz, memsz, align };
}

static void b_shdr(uint32_t type, uint64_t offset, uint64_t size, uint64_t align)
{
    assert_true(B.nsh < MAX_SH);
    B.sh[B.nsh++] = (struct sh){ type, offset, size, align };
}

static void b_write_ehdr(void)
{
    const struct eh *e = &B.eh;
    uint8_t ident[ELF_NIDENT] = { 0x7f, 'E', 'L', 'F', e->cls, e->data, e->idver };

    if (B.is64) {
        struct elf64_ehdr h = { .type = e->type, .machine = e->machine,
            .version = e->version, .entry = 0xffffffff81000000ull, .phoff = e->phoff,
            .shoff = e->shoff, .ehsize = e->ehsize, .phentsize = e->phentsize,
            .phnum = e->phnum, .shentsize = e->shentsize, .shnum = e->shnum };
        memcpy(h.ident, ident, sizeof(ident));
        memcpy(B.buf, &h, sizeof(h));
    } else {
        struct elf32_ehdr h = { .type = e->type, .machine = e->machine,
            .version = e->version, .entry = 0xc1000000u, .phoff = (uint32_t)e->phoff,
            .shoff = (uint32_t)e->shoff, .ehsize = e->ehsize, .phentsize = e->phentsize,
            .phnum = e->phnum, .shentsize = e->shentsize, .shnum = e->shnum };
        memcpy(h.ident, ident, sizeof(ident));
        memcpy(B.buf, &h, sizeof(h));
    }
}

/* Write program headers at 64, section headers at the end, then the ELF header. */
static void b_layout(void)
{
    size_t phsz = B.is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr);
    size_t shsz = B.is64 ? sizeof(struct elf64_shdr) : sizeof(struct elf32_shdr);
    uint64_t shoff = 0;

    assert_true(64 + B.nph * phsz <= DATA_START);
    for (unsigned i = 0; i < B.nph; i++) {
        const struct ph *p = &B.ph[i];
        uint8_t *dst = B.buf + 64 + i * phsz;

        if (B.is64) {
            struct elf64_phdr h = { .type = p->type, .offset = p->offset,
                .vaddr = p->paddr + 0xffffffff80000000ull, .paddr = p->paddr,
                .filesz = p->filesz, .memsz = p->memsz, .align = p->align };
            memcpy(dst, &h, sizeof(h));
        } else {
            struct elf32_phdr h = { .type = p->type, .offset = (uint32_t)p->offset,
                .vaddr = (uint32_t)p->paddr + 0xc0000000u, .paddr = (uint32_t)p->paddr,
                .filesz = (uint32_t)p->filesz, .memsz = (uint32_t)p->memsz,
                .align = (uint32_t)p->align };
            memcpy(dst, &h, sizeof(h));
        }
    }
    if (B.nsh) {
        /* Section 0 is the null section, as linkers emit it. */
        uint8_t zero[64] = { 0 };
        shoff = b_add(zero, shsz, 8);
        for (unsigned i = 0; i < B.nsh; i++) {
            const struct sh *s = &B.sh[i];

            if (B.is64) {
                struct elf64_shdr h = { .type = s->type, .offset = s->offset,
                    .size = s->size, .addralign = s->align };
                b_add(&h, sizeof(h), 1);
            } else {
                struct elf32_shdr h = { .type = s->type, .offset = (uint32_t)s->offset,
                    .size = (uint32_t)s->size, .addralign = (uint32_t)s->align };
                b_add(&h, sizeof(h), 1);
            }
        }
    }
    B.eh = (struct eh){
        .cls = B.is64 ? ELF_CLASS64 : ELF_CLASS32, .data = ELF_DATA2LSB, .idver = 1,
        .type = ELF_ET_EXEC, .machine = B.is64 ? ELF_EM_X86_64 : ELF_EM_386,
        .version = 1, .phoff = 64, .shoff = shoff,
        .ehsize = B.is64 ? 64 : 52, .phentsize = (uint16_t)phsz, .phnum = (uint16_t)B.nph,
        .shentsize = B.nsh ? (uint16_t)shsz : 0, .shnum = B.nsh ? (uint16_t)(B.nsh + 1) : 0,
    };
    b_write_ehdr();
}

/* One note: header, name padded to align, descriptor padded to align. */
static size_t make_note(uint8_t *out, const char *name, uint32_t namesz, uint32_t type,
                        const void *desc, uint32_t descsz, unsigned align)
{
    struct elf_nhdr nh = { namesz, descsz, type };
    size_t pos = sizeof(nh);

    memcpy(out, &nh, sizeof(nh));
    memset(out + pos, 0, namesz + 8);
    memcpy(out + pos, name, strnlen(name, namesz));
    pos = (pos + namesz + align - 1) & ~(size_t)(align - 1);
    memset(out + pos, 0, descsz + 8);
    memcpy(out + pos, desc, descsz);
    return (pos + descsz + align - 1) & ~(size_t)(align - 1);
}

static size_t entry_note(uint8_t *out, uint64_t entry, uint32_t descsz)
{
    return make_note(out, "Xen", 4, XEN_ELFNOTE_PHYS32_ENTRY, &entry, descsz, 4);
}

/* A PT_LOAD of `filesz` pattern bytes (i * 7 + seed). */
static uint64_t add_load(uint64_t paddr, uint64_t filesz, uint64_t memsz, uint8_t seed)
{
    uint8_t data[4096];

    assert_true(filesz <= sizeof(data));
    for (size_t i = 0; i < filesz; i++)
        data[i] = (uint8_t)(i * 7 + seed);
    uint64_t off = b_add(data, filesz, 16);
    b_phdr(ELF_PT_LOAD, off, paddr, filesz, memsz, 0x1000);
    return off;
}

static void add_note_segment(uint64_t entry, uint32_t descsz)
{
    uint8_t n[64];
    size_t len = entry_note(n, entry, descsz);
    uint64_t off = b_add(n, len, 4);

    b_phdr(ELF_PT_NOTE, off, 0, len, len, 4);
}

/* The usual small kernel: text+bss at 1 MiB and one PT_NOTE with the entry. */
static void std_kernel(bool is64, uint64_t entry, uint32_t descsz)
{
    b_init(is64);
    add_load(0x100000, 0x100, 0x300, 1);
    add_note_segment(entry, descsz);
}

/* Parse the builder's file from an exact-size heap copy (so ASan sees overreads). */
static int parse_built(struct pvh_image *img, const char **why)
{
    uint8_t *copy = malloc(B.size);
    int rc;

    assert_non_null(copy);
    memcpy(copy, B.buf, B.size);
    *why = NULL;
    rc = pvh_elf_parse(copy, B.size, img, why);
    free(copy);
    return rc;
}

static void expect_reject(void)
{
    struct pvh_image img;
    const char *why;

    assert_int_equal(parse_built(&img, &why), -ENOEXEC);
    assert_non_null(why);
}

static void expect_reject_because(const char *reason)
{
    struct pvh_image img;
    const char *why;

    assert_int_equal(parse_built(&img, &why), -ENOEXEC);
    assert_non_null(why);
    assert_string_equal(why, reason);
}

static uint64_t expect_entry(void)
{
    struct pvh_image img;
    const char *why;
    int rc = parse_built(&img, &why);

    if (rc)
        fail_msg("parse failed: %s", why ? why : "(no reason)");
    return img.entry;
}

/* ---- good images ---- */

static void elf32_note_in_pt_note(void **state)
{
    struct pvh_image img;
    const char *why;

    std_kernel(false, 0x100040, 4);
    b_layout();
    assert_int_equal(parse_built(&img, &why), 0);
    assert_false(img.is64);
    assert_int_equal(img.entry, 0x100040);
    assert_int_equal(img.nr_segments, 1);
    assert_int_equal(img.seg[0].paddr, 0x100000);
    assert_int_equal(img.seg[0].filesz, 0x100);
    assert_int_equal(img.seg[0].memsz, 0x300);
    assert_int_equal(img.seg[0].offset, DATA_START);
    assert_int_equal(img.lo, 0x100000);
    assert_int_equal(img.hi, 0x100300);
}

static void elf64_note_8_bytes(void **state)
{
    struct pvh_image img;
    const char *why;

    b_init(true);
    add_load(0x1000000, 0x200, 0x200, 2);
    add_load(0x1400000, 0x80, 0x5000, 3);
    add_note_segment(0x1000123, 8);
    b_layout();
    assert_int_equal(parse_built(&img, &why), 0);
    assert_true(img.is64);
    assert_int_equal(img.entry, 0x1000123);
    assert_int_equal(img.nr_segments, 2);
    assert_int_equal(img.lo, 0x1000000);
    assert_int_equal(img.hi, 0x1405000);
}

/*
 * `objcopy -O elf32-x86-64` (XTF's hvm64 images): ELFCLASS32 headers with
 * e_machine EM_X86_64, 32-bit program headers, an 8-byte entry note.
 */
static void elf32_x86_64_is_accepted(void **state)
{
    struct pvh_image img;
    const char *why;

    b_init(false);
    add_load(0x100000, 0x180, 0x2000, 5);
    add_note_segment(0x100020, 8);
    b_layout();
    B.eh.machine = ELF_EM_X86_64;
    b_write_ehdr();
    assert_int_equal(parse_built(&img, &why), 0);
    assert_false(img.is64);
    assert_int_equal(img.entry, 0x100020);
    assert_int_equal(img.nr_segments, 1);
    assert_int_equal(img.lo, 0x100000);
    assert_int_equal(img.hi, 0x102000);
}

static void et_dyn_is_accepted(void **state)
{
    std_kernel(true, 0x100000, 4);
    b_layout();
    B.eh.type = ELF_ET_DYN;
    b_write_ehdr();
    assert_int_equal(expect_entry(), 0x100000);
}

static void note_only_in_sections(void **state)
{
    uint8_t n[64];

    b_init(true);
    add_load(0x200000, 0x40, 0x40, 4);
    size_t len = entry_note(n, 0x200010, 4);
    uint64_t off = b_add(n, len, 4);
    b_shdr(ELF_SHT_NOTE, off, len, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0x200010);

    /* The same in an ELF32 file. */
    b_init(false);
    add_load(0x200000, 0x40, 0x40, 4);
    off = b_add(n, len, 4);
    b_shdr(1 /* SHT_PROGBITS */, DATA_START, 0x40, 16);
    b_shdr(ELF_SHT_NOTE, off, len, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0x200010);
}

static void note_in_second_pt_note(void **state)
{
    uint8_t n[128];
    size_t len;
    uint64_t off;

    b_init(true);
    add_load(0x1000000, 0x100, 0x100, 5);
    /* First PT_NOTE: a GNU build-id and a Xen note of another type. */
    uint8_t id[20] = { 1, 2, 3 };
    len = make_note(n, "GNU", 4, 3 /* NT_GNU_BUILD_ID */, id, sizeof(id), 4);
    len += make_note(n + len, "Xen", 4, XEN_ELFNOTE_GUEST_OS, "linux", 6, 4);
    off = b_add(n, len, 4);
    b_phdr(ELF_PT_NOTE, off, 0, len, len, 4);
    add_note_segment(0x1000080, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0x1000080);
}

static void pt_note_wins_over_sections(void **state)
{
    uint8_t n[64];

    std_kernel(true, 0x100010, 4);
    size_t len = entry_note(n, 0x100020, 4);
    uint64_t off = b_add(n, len, 4);
    b_shdr(ELF_SHT_NOTE, off, len, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0x100010);

    /* Section headers are not even read when a PT_NOTE has the entry. */
    B.eh.shoff = 0xfffffff0;
    b_write_ehdr();
    assert_int_equal(expect_entry(), 0x100010);
}

static void entry_zero_is_valid(void **state)
{
    std_kernel(false, 0, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0);

    std_kernel(true, 0, 8);
    b_layout();
    assert_int_equal(expect_entry(), 0);
}

static void padding_is_honoured(void **state)
{
    uint8_t n[128];
    size_t len;
    uint64_t off;

    /* namesz 6 and descsz 3 both need padding before the next note. */
    b_init(false);
    add_load(0x100000, 0x10, 0x10, 6);
    len = make_note(n, "Linux", 6, 0x100, "ab", 3, 4);
    len += entry_note(n + len, 0x100004, 4);
    off = b_add(n, len, 4);
    b_phdr(ELF_PT_NOTE, off, 0, len, len, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0x100004);

    /* An 8-aligned note segment (like .note.gnu.property) pads to 8. */
    uint64_t entry = 0x100008;
    b_init(true);
    add_load(0x100000, 0x10, 0x10, 6);
    len = make_note(n, "Linux", 6, 0x100, "abcd", 4, 8);
    assert_int_equal(len, 32);   /* 12 + 6 -> 24, + 4 -> 28 -> 32 */
    len += make_note(n + len, "Xen", 4, XEN_ELFNOTE_PHYS32_ENTRY, &entry, 8, 8);
    off = b_add(n, len, 8);
    b_phdr(ELF_PT_NOTE, off, 0, len, len, 8);
    b_layout();
    assert_int_equal(expect_entry(), 0x100008);
}

static void first_entry_note_wins(void **state)
{
    uint8_t n[64];
    size_t len;

    /* Two entry notes in one PT_NOTE. */
    b_init(true);
    add_load(0x100000, 0x10, 0x10, 6);
    len = entry_note(n, 0x100004, 4);
    len += entry_note(n + len, 0x100008, 8);
    uint64_t off = b_add(n, len, 4);
    b_phdr(ELF_PT_NOTE, off, 0, len, len, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0x100004);

    /* One in each of two PT_NOTEs; an entry of 0 first still counts as found. */
    b_init(false);
    add_load(0x100000, 0x10, 0x10, 6);
    add_note_segment(0, 4);
    add_note_segment(0x10000c, 4);
    b_layout();
    assert_int_equal(expect_entry(), 0);
}

/* XEN_ELFNOTE_GUEST_OS beside the entry: kept (cut to fit), and absent means "". */
static void records_guest_os_note(void **state)
{
    static const char *const names[] = { "linux", "a-guest-os-name-longer-than-16" };
    struct pvh_image img;
    const char *why;
    uint8_t n[128];

    for (unsigned i = 0; i < 2; i++) {
        size_t len = make_note(n, "Xen", 4, XEN_ELFNOTE_GUEST_OS, names[i],
                               (uint32_t)strlen(names[i]) + 1, 4);

        b_init(true);
        add_load(0x100000, 0x10, 0x10, 3);
        len += entry_note(n + len, 0x100000, 4);
        b_phdr(ELF_PT_NOTE, b_add(n, len, 4), 0, len, len, 4);
        b_layout();
        assert_int_equal(parse_built(&img, &why), 0);
        assert_int_equal(strlen(img.guest_os), i == 0 ? 5 : PVH_GUEST_OS_MAX - 1);
        assert_memory_equal(img.guest_os, names[i], strlen(img.guest_os));
    }
    std_kernel(true, 0x100000, 4);
    b_layout();
    assert_int_equal(parse_built(&img, &why), 0);
    assert_string_equal(img.guest_os, "");
}

static void last_note_padding_may_be_cut(void **state)
{
    uint8_t n[64];
    size_t len;

    b_init(false);
    add_load(0x100000, 0x10, 0x10, 6);
    len = entry_note(n, 0x100000, 4);
    len += make_note(n + len, "Xen", 4, XEN_ELFNOTE_GUEST_OS, "lin", 3, 4);
    uint64_t off = b_add(n, len, 4);
    b_phdr(ELF_PT_NOTE, off, 0, len - 1, len - 1, 4);   /* last byte of padding cut */
    b_layout();
    assert_int_equal(expect_entry(), 0x100000);
}

static void zero_size_segment_skipped(void **state)
{
    struct pvh_image img;
    const char *why;

    std_kernel(true, 0x100000, 4);
    /* memsz 0: skipped even though its offset is nonsense and paddr overlaps. */
    b_phdr(ELF_PT_LOAD, 0xffffffffffff0000ull, 0x100000, 0, 0, 0x1000);
    b_layout();
    assert_int_equal(parse_built(&img, &why), 0);
    assert_int_equal(img.nr_segments, 1);
    assert_int_equal(img.hi, 0x100300);
}

static void other_program_headers_ignored(void **state)
{
    std_kernel(true, 0x100000, 4);
    b_phdr(0x6474e551 /* PT_GNU_STACK */, 0, 0, 0, 0, 16);
    b_phdr(7 /* PT_TLS */, 0xfffffffffff00000ull, 0, 0x100, 0x100, 16);
    b_layout();
    assert_int_equal(expect_entry(), 0x100000);
}

/* ---- loading into a fake guest memory ---- */

#define MEM_BASE 0x100000u
#define MEM_SIZE 0x10000u

struct fake_guest {
    uint8_t mem[MEM_SIZE];
    unsigned writes, zeros;
    int fail_with;
};

static struct fake_guest G;

static int fake_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct fake_guest *g = ctx;

    if (g->fail_with)
        return g->fail_with;
    assert_true(gpa >= MEM_BASE && gpa - MEM_BASE <= MEM_SIZE && len <= MEM_SIZE - (gpa - MEM_BASE));
    memcpy(g->mem + (gpa - MEM_BASE), src, len);
    g->writes++;
    return 0;
}

static int fake_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    struct fake_guest *g = ctx;

    assert_true(gpa >= MEM_BASE && gpa - MEM_BASE <= MEM_SIZE && len <= MEM_SIZE - (gpa - MEM_BASE));
    memset(g->mem + (gpa - MEM_BASE), 0, len);
    g->zeros++;
    return 0;
}

static const struct pvh_writer fake_writer = { &G, fake_write, fake_zero };

static void load_copies_and_zeroes_bss(void **state)
{
    struct pvh_image img;
    const char *why;

    b_init(false);
    uint64_t off1 = add_load(0x100000, 0x100, 0x300, 9);     /* 0x200 bytes of bss */
    uint64_t off2 = add_load(0x102000, 0x40, 0x40, 11);      /* no bss */
    add_load(0x104000, 0, 0x20, 0);                          /* bss only */
    add_note_segment(0x100000, 4);
    b_layout();
    assert_int_equal(parse_built(&img, &why), 0);
    assert_int_equal(img.nr_segments, 3);

    memset(&G, 0xaa, sizeof(G.mem));
    G.writes = G.zeros = 0;
    G.fail_with = 0;
    assert_int_equal(pvh_elf_load(B.buf, B.size, &img, &fake_writer), 0);
    assert_int_equal(G.writes, 2);
    assert_int_equal(G.zeros, 2);

    assert_memory_equal(G.mem, B.buf + off1, 0x100);
    for (unsigned i = 0x100; i < 0x300; i++)
        assert_int_equal(G.mem[i], 0);
    assert_int_equal(G.mem[0x300], 0xaa);                   /* past memsz: untouched */
    assert_memory_equal(G.mem + 0x2000, B.buf + off2, 0x40);
    assert_int_equal(G.mem[0x2040], 0xaa);
    for (unsigned i = 0x4000; i < 0x4020; i++)
        assert_int_equal(G.mem[i], 0);
    assert_int_equal(G.mem[0x4020], 0xaa);
}

static void load_reports_writer_error_and_bad_image(void **state)
{
    struct pvh_image img;
    const char *why;

    std_kernel(true, 0x100000, 4);
    b_layout();
    assert_int_equal(parse_built(&img, &why), 0);

    G.fail_with = -EFAULT;
    assert_int_equal(pvh_elf_load(B.buf, B.size, &img, &fake_writer), -EFAULT);
    G.fail_with = 0;

    /* A forged descriptor must not make the loader read past the file. */
    img.seg[0].offset = B.size - 4;
    assert_int_equal(pvh_elf_load(B.buf, B.size, &img, &fake_writer), -EINVAL);
    img.seg[0].offset = UINT64_MAX;
    assert_int_equal(pvh_elf_load(B.buf, B.size, &img, &fake_writer), -EINVAL);
    img.nr_segments = PVH_MAX_SEGMENTS + 1;
    assert_int_equal(pvh_elf_load(B.buf, B.size, &img, &fake_writer), -EINVAL);
}

/* ---- hostile headers ---- */

static void rejects_truncated_or_foreign_headers(void **state)
{
    struct pvh_image img;
    const char *why = NULL;
    static const uint8_t junk[8] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0 };

    assert_int_equal(pvh_elf_parse(junk, 0, &img, &why), -ENOEXEC);
    assert_int_equal(pvh_elf_parse(junk, sizeof(junk), &img, &why), -ENOEXEC);

    for (int is64 = 0; is64 < 2; is64++) {
        std_kernel(is64, 0x100000, 4);
        b_layout();
        size_t full = B.size;
        B.size = is64 ? 63 : 51;
        expect_reject();
        B.size = full;

        B.buf[0] = 0x7e;                 /* magic */
        expect_reject();
        B.buf[0] = 0x7f;
        B.eh.cls = 3;      b_write_ehdr(); expect_reject();
        B.eh.cls = is64 ? ELF_CLASS64 : ELF_CLASS32;
        B.eh.data = 2;     b_write_ehdr(); expect_reject();    /* big-endian */
        B.eh.data = ELF_DATA2LSB;
        B.eh.idver = 0;    b_write_ehdr(); expect_reject();
        B.eh.idver = 1;
        B.eh.version = 2;  b_write_ehdr(); expect_reject();
        B.eh.version = 1;
        B.eh.type = 1;     b_write_ehdr(); expect_reject();    /* ET_REL */
        B.eh.type = 4;     b_write_ehdr(); expect_reject();    /* ET_CORE */
        B.eh.type = ELF_ET_EXEC;
        if (is64) {                      /* ELF64 i386: no such thing */
            B.eh.machine = ELF_EM_386;
            b_write_ehdr(); expect_reject();
        }
        B.eh.machine = 40; b_write_ehdr(); expect_reject();    /* EM_ARM */
        B.eh.machine = 0;  b_write_ehdr(); expect_reject();    /* EM_NONE */
        B.eh.machine = 6;  b_write_ehdr(); expect_reject();    /* EM_486 (old) */
        B.eh.machine = is64 ? ELF_EM_X86_64 : ELF_EM_386;
        B.eh.ehsize = 12;  b_write_ehdr(); expect_reject();
        B.eh.ehsize = is64 ? 64 : 52;
        b_write_ehdr();
        expect_entry();                  /* and restored it parses again */
    }
}

static void rejects_bad_program_header_table(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        std_kernel(is64, 0x100000, 4);
        b_layout();
        struct eh good = B.eh;

        B.eh.phoff = B.size;               b_write_ehdr(); expect_reject();
        B.eh.phoff = B.size - 8;           b_write_ehdr(); expect_reject();
        B.eh.phoff = is64 ? 0xfffffffffffffff0ull : 0xfffffff0u;
        b_write_ehdr(); expect_reject();
        B.eh = good;
        B.eh.phnum = 0;                    b_write_ehdr(); expect_reject();
        B.eh.phnum = ELF_PN_XNUM;          b_write_ehdr(); expect_reject();
        B.eh.phnum = 300;                  b_write_ehdr(); expect_reject();  /* past EOF */
        B.eh = good;
        B.eh.phentsize = good.phentsize - 4; b_write_ehdr(); expect_reject();
        B.eh.phentsize = good.phentsize + 8; b_write_ehdr(); expect_reject();
        B.eh.phentsize = 0;                b_write_ehdr(); expect_reject();
        B.eh = good;
        b_write_ehdr();
        expect_entry();
    }
}

static void rejects_bad_load_segments(void **state)
{
    /* File range outside the file, or wrapping. */
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, 0x3000, 0x200000, 0x100000, 0x100000, 0x1000);
    b_layout();
    expect_reject_because("PT_LOAD file range outside the file");

    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, 0xfffffffffffffff0ull, 0x200000, 0x20, 0x20, 0x1000);
    b_layout();
    expect_reject_because("PT_LOAD file range outside the file");

    std_kernel(false, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0x200000, 0xffffffffu, 0xffffffffu, 0x1000);
    b_layout();
    expect_reject();

    /* filesz > memsz. */
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0x200000, 0x20, 0x10, 0x1000);
    b_layout();
    expect_reject_because("PT_LOAD p_filesz larger than p_memsz");

    /* paddr + memsz wraps 64 bits. */
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0xfffffffffffff000ull, 0x10, 0x2000, 0x1000);
    b_layout();
    expect_reject_because("PT_LOAD p_paddr + p_memsz wraps");

    /* Above 4 GiB: straddling, wholly above, huge bss. */
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0xfffff000u, 0x10, 0x2000, 0x1000);
    b_layout();
    expect_reject_because("PT_LOAD segment reaches above 4 GiB");
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0x100000000ull, 0x10, 0x10, 0x1000);
    b_layout();
    expect_reject_because("PT_LOAD segment reaches above 4 GiB");
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0x200000, 0x10, 0x7fffffffffffffffull, 0x1000);
    b_layout();
    expect_reject();

    /* A segment ending exactly at 4 GiB is fine. */
    std_kernel(true, 0x100000, 4);
    b_phdr(ELF_PT_LOAD, DATA_START, 0xfffff000u, 0x10, 0x1000, 0x1000);
    b_layout();
    expect_entry();
}

static void rejects_overlapping_loads(void **state)
{
    std_kernel(false, 0x100000, 4);
    add_load(0x1002ff, 0x10, 0x10, 1);    /* last byte of the first one's bss */
    b_layout();
    expect_reject_because("PT_LOAD segments overlap");

    std_kernel(true, 0x100000, 4);
    add_load(0x0ff000, 0x10, 0x2000, 1);  /* covers the first one entirely */
    b_layout();
    expect_reject_because("PT_LOAD segments overlap");

    std_kernel(true, 0x100000, 4);
    add_load(0x100300, 0x10, 0x10, 1);    /* adjacent, not overlapping */
    b_layout();
    expect_entry();
}

static void rejects_too_many_or_no_loads(void **state)
{
    b_init(true);
    for (unsigned i = 0; i < PVH_MAX_SEGMENTS; i++)
        add_load(0x100000 + i * 0x1000, 0x10, 0x10, (uint8_t)i);
    add_note_segment(0x100000, 4);
    b_layout();
    expect_entry();

    b_init(true);
    for (unsigned i = 0; i < PVH_MAX_SEGMENTS + 1; i++)
        add_load(0x100000 + i * 0x1000, 0x10, 0x10, (uint8_t)i);
    add_note_segment(0x100000, 4);
    b_layout();
    expect_reject_because("too many PT_LOAD segments");

    b_init(true);
    add_note_segment(0x100000, 4);
    b_layout();
    expect_reject_because("no loadable (PT_LOAD) segment");
}

/* ---- hostile notes ---- */

static void rejects_missing_entry_note(void **state)
{
    uint8_t n[64];
    size_t len;

    b_init(true);
    add_load(0x100000, 0x10, 0x10, 1);
    b_layout();
    expect_reject_because("no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");

    /* Right type, wrong owner (namesz 3 without NUL, "Xem", "Xen" in a longer name). */
    const char *names[] = { "Xen", "Xem", "Xenx" };
    const uint32_t sizes[] = { 3, 4, 5 };
    for (unsigned i = 0; i < 3; i++) {
        uint32_t entry = 0x100000;
        b_init(true);
        add_load(0x100000, 0x10, 0x10, 1);
        len = make_note(n, names[i], sizes[i], XEN_ELFNOTE_PHYS32_ENTRY, &entry, 4, 4);
        uint64_t off = b_add(n, len, 4);
        b_phdr(ELF_PT_NOTE, off, 0, len, len, 4);
        b_layout();
        expect_reject_because("no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");
    }
}

static void rejects_bad_entry_descriptor(void **state)
{
    std_kernel(true, 0x100000, 2);
    b_layout();
    expect_reject_because("XEN_ELFNOTE_PHYS32_ENTRY descriptor is not 4 or 8 bytes");

    std_kernel(true, 0x100000, 0);
    b_layout();
    expect_reject();

    std_kernel(true, 0x100000000ull, 8);
    b_layout();
    expect_reject_because("PVH entry point above 4 GiB (it runs in 32-bit mode)");

    std_kernel(true, 0xffffffffull, 8);
    b_layout();
    assert_int_equal(expect_entry(), 0xffffffffull);
}

/* Replace the first note header of the entry PT_NOTE (the last phdr) in place. */
static void patch_note(uint32_t namesz, uint32_t descsz)
{
    struct elf_nhdr nh;
    uint64_t off = B.ph[B.nph - 1].offset;

    memcpy(&nh, B.buf + off, sizeof(nh));
    nh.namesz = namesz;
    nh.descsz = descsz;
    memcpy(B.buf + off, &nh, sizeof(nh));
}

static void rejects_notes_leaving_their_area(void **state)
{
    static const char name_past[] = "note name runs past the note area";
    static const char desc_past[] = "note descriptor runs past the note area";
    static const struct { uint32_t namesz, descsz; const char *why; } bad[] = {
        { 0xffffffffu, 4, name_past }, { 0xfffffff0u, 4, name_past },
        { 0x100, 4, name_past }, { 13, 4, name_past },
        { 9, 4, desc_past },    /* name fits, its padding pushes the descriptor out */
        { 4, 0xffffffffu, desc_past }, { 4, 0xfffffffcu, desc_past },
        { 4, 0x100, desc_past }, { 4, 12, desc_past },
    };

    for (int is64 = 0; is64 < 2; is64++) {
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            std_kernel(is64, 0x100000, 8);   /* note area is 24 bytes */
            /* Bytes after the area that a sloppy parser would happily read. */
            uint64_t e = 0x100000;
            uint8_t n[64];
            size_t len = entry_note(n, e, 4);
            b_add(n, len, 4);
            b_layout();
            patch_note(bad[i].namesz, bad[i].descsz);
            expect_reject_because(bad[i].why);
        }
    }

    /* A note area too short for a note header. */
    std_kernel(true, 0x100000, 4);
    B.ph[B.nph - 1].filesz = 8;
    b_layout();
    expect_reject_because("truncated note header");

    /* A note area that itself leaves the file. */
    std_kernel(true, 0x100000, 4);
    B.ph[B.nph - 1].filesz = 0x10000;
    b_layout();
    expect_reject_because("PT_NOTE segment outside the file");
    std_kernel(true, 0x100000, 4);
    B.ph[B.nph - 1].offset = 0xfffffffffffffff8ull;
    b_layout();
    expect_reject_because("PT_NOTE segment outside the file");
}

static void rejects_bad_section_headers(void **state)
{
    uint8_t n[64];

    for (int is64 = 0; is64 < 2; is64++) {
        b_init(is64);
        add_load(0x200000, 0x40, 0x40, 4);
        size_t len = entry_note(n, 0x200010, 4);
        uint64_t off = b_add(n, len, 4);
        b_shdr(ELF_SHT_NOTE, off, len, 4);
        b_layout();
        struct eh good = B.eh;
        expect_entry();

        B.eh.shoff = B.size;              b_write_ehdr(); expect_reject();
        B.eh.shoff = is64 ? 0xffffffffffffffc0ull : 0xffffffc0u;
        b_write_ehdr(); expect_reject();
        B.eh = good; B.eh.shnum = 200;    b_write_ehdr(); expect_reject();
        B.eh = good; B.eh.shentsize = 32; b_write_ehdr(); expect_reject();
        B.eh = good; B.eh.shentsize = 0;  b_write_ehdr(); expect_reject();

        /* The SHT_NOTE section's own range outside the file. */
        B.eh = good;
        b_write_ehdr();
        B.sh[0].size = 0x10000;
        B.size = off + len;               /* drop the old table, lay it out again */
        b_layout();
        expect_reject_because("SHT_NOTE section outside the file");
        B.sh[0].size = len;
        B.sh[0].offset = 0xfffffff8u;
        B.size = off + len;
        b_layout();
        expect_reject_because("SHT_NOTE section outside the file");

        /* No section headers at all: no note. */
        B.eh.shnum = 0;                   b_write_ehdr();
        expect_reject_because("no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");
    }
}

/* ---- robustness: every truncation and many random corruptions ---- */

static void survives_truncation_and_corruption(void **state)
{
    struct pvh_image img;
    const char *why;
    uint8_t n[64];

    b_init(true);
    add_load(0x100000, 0x100, 0x300, 1);
    add_load(0x200000, 0x80, 0x80, 2);
    add_note_segment(0x100000, 8);
    size_t len = entry_note(n, 0x100004, 4);
    uint64_t off = b_add(n, len, 4);
    b_shdr(ELF_SHT_NOTE, off, len, 4);
    b_layout();
    expect_entry();
    size_t full = B.size;

    for (size_t cut = 0; cut < full; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, B.buf, cut);
        int rc = pvh_elf_parse(copy, cut, &img, &why);
        free(copy);
        /* Only the tail (sections, the unused note) may go without harm. */
        if (rc == 0)
            assert_true(cut >= off);
        else
            assert_int_equal(rc, -ENOEXEC);
    }

    /* Random byte corruption: parse must never crash or read out of bounds,
     * and whatever it accepts must describe ranges inside the file. */
    uint8_t orig[IMG_MAX];
    memcpy(orig, B.buf, full);
    srand(12345);
    for (unsigned iter = 0; iter < 20000; iter++) {
        uint8_t *copy = malloc(full);
        memcpy(copy, orig, full);
        unsigned flips = 1 + rand() % 4;
        for (unsigned k = 0; k < flips; k++) {
            /* Mostly in the headers, where it matters. */
            size_t at = (rand() % 4) ? (size_t)rand() % (64 + 3 * 56) : (size_t)rand() % full;
            copy[at] = (uint8_t)rand();
        }
        int rc = pvh_elf_parse(copy, full, &img, &why);
        if (rc == 0) {
            assert_true(img.nr_segments >= 1 && img.nr_segments <= PVH_MAX_SEGMENTS);
            assert_true(img.entry < PVH_PADDR_LIMIT);
            for (unsigned i = 0; i < img.nr_segments; i++) {
                const struct pvh_segment *s = &img.seg[i];
                assert_true(s->offset + s->filesz <= full && s->offset <= full);
                assert_true(s->filesz <= s->memsz && s->memsz > 0);
                assert_true(s->paddr + s->memsz <= PVH_PADDR_LIMIT);
                assert_true(s->paddr >= img.lo && s->paddr + s->memsz <= img.hi);
            }
        } else {
            assert_int_equal(rc, -ENOEXEC);
            assert_non_null(why);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elf32_note_in_pt_note),
        cmocka_unit_test(elf64_note_8_bytes),
        cmocka_unit_test(elf32_x86_64_is_accepted),
        cmocka_unit_test(et_dyn_is_accepted),
        cmocka_unit_test(note_only_in_sections),
        cmocka_unit_test(note_in_second_pt_note),
        cmocka_unit_test(pt_note_wins_over_sections),
        cmocka_unit_test(entry_zero_is_valid),
        cmocka_unit_test(padding_is_honoured),
        cmocka_unit_test(first_entry_note_wins),
        cmocka_unit_test(last_note_padding_may_be_cut),
        cmocka_unit_test(zero_size_segment_skipped),
        cmocka_unit_test(other_program_headers_ignored),
        cmocka_unit_test(load_copies_and_zeroes_bss),
        cmocka_unit_test(load_reports_writer_error_and_bad_image),
        cmocka_unit_test(rejects_truncated_or_foreign_headers),
        cmocka_unit_test(rejects_bad_program_header_table),
        cmocka_unit_test(rejects_bad_load_segments),
        cmocka_unit_test(rejects_overlapping_loads),
        cmocka_unit_test(rejects_too_many_or_no_loads),
        cmocka_unit_test(rejects_missing_entry_note),
        cmocka_unit_test(rejects_bad_entry_descriptor),
        cmocka_unit_test(rejects_notes_leaving_their_area),
        cmocka_unit_test(rejects_bad_section_headers),
        cmocka_unit_test(survives_truncation_and_corruption),
        cmocka_unit_test(records_guest_os_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
