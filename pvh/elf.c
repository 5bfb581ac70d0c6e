/* elf.c (pure: hypervisor and host toolstack/tests): parse and load a PVH kernel ELF. */
#include "elf.h"
#include "errno.h"
#include "xen/elfnote.h"

/* Headers are copied out of the file as raw bytes: x86 hosts only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ELF layouts read in host order");

#define NOTE_OWNER_XEN      "Xen"   /* owner name incl. its NUL: namesz 4 */
#define NOTE_OWNER_XEN_SIZE 4

/* The file as checked so far: class and the header-table geometry. */
struct elf_file {
    const uint8_t *base;
    uint64_t size;
    bool is64;
    uint64_t phoff, shoff;
    unsigned phnum, phentsize, shnum, shentsize;
};

/* One program header, widened to 64 bits whatever the class. */
struct elf_phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz, align;
};

struct entry_search {
    bool found;         /* an entry of 0 is valid: "found" is separate */
    uint64_t entry;
    char guest_os[PVH_GUEST_OS_MAX];    /* XEN_ELFNOTE_GUEST_OS, "" if none */
};

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -ENOEXEC;
}

/* True if [off, off+len) lies inside the file, without overflow. */
static bool in_file(const struct elf_file *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

/* a rounded up to align (a power of two); false on overflow. */
static bool align_up(uint64_t a, uint64_t align, uint64_t *out)
{
    uint64_t sum;

    if (__builtin_add_overflow(a, align - 1, &sum))
        return false;
    *out = sum & ~(align - 1);
    return true;
}

static uint64_t read_le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;

    while (bytes--)
        v = (v << 8) | p[bytes];
    return v;
}

static int parse_ehdr(struct elf_file *f, const char **why)
{
    const uint8_t *id = f->base;
    unsigned type, machine, version, ehsize;

    if (f->size < ELF_NIDENT || memcmp(id, "\177ELF", 4) != 0)
        return fail(why, "not an ELF file (bad magic or truncated)");
    if (id[4] != ELF_CLASS32 && id[4] != ELF_CLASS64)
        return fail(why, "unknown ELF class");
    if (id[5] != ELF_DATA2LSB)
        return fail(why, "ELF file is not little-endian");
    if (id[6] != ELF_VERSION)
        return fail(why, "unknown ELF ident version");
    f->is64 = id[4] == ELF_CLASS64;

    if (f->is64) {
        struct elf64_ehdr h;

        if (f->size < sizeof(h))
            return fail(why, "truncated ELF64 header");
        memcpy(&h, f->base, sizeof(h));
        type = h.type; machine = h.machine; version = h.version; ehsize = h.ehsize;
        f->phoff = h.phoff; f->phnum = h.phnum; f->phentsize = h.phentsize;
        f->shoff = h.shoff; f->shnum = h.shnum; f->shentsize = h.shentsize;
        if (machine != ELF_EM_X86_64)
            return fail(why, "ELF64 file is not x86_64 (EM_X86_64)");
        if (ehsize != sizeof(h))
            return fail(why, "bad ELF64 e_ehsize");
    } else {
        struct elf32_ehdr h;

        if (f->size < sizeof(h))
            return fail(why, "truncated ELF32 header");
        memcpy(&h, f->base, sizeof(h));
        type = h.type; machine = h.machine; version = h.version; ehsize = h.ehsize;
        f->phoff = h.phoff; f->phnum = h.phnum; f->phentsize = h.phentsize;
        f->shoff = h.shoff; f->shnum = h.shnum; f->shentsize = h.shentsize;
        /*
         * EM_X86_64 in an ELF32 file is what `objcopy -O elf32-x86-64` makes
         * of a 64-bit image (XTF's hvm64 tests); Xen's loader boots it, since
         * a PVH kernel is entered in 32-bit mode whatever its class.
         */
        if (machine != ELF_EM_386 && machine != ELF_EM_X86_64)
            return fail(why, "ELF32 file is neither i386 (EM_386) nor x86_64 (EM_X86_64)");
        if (ehsize != sizeof(h))
            return fail(why, "bad ELF32 e_ehsize");
    }
    if (version != ELF_VERSION)
        return fail(why, "unknown ELF e_version");
    if (type != ELF_ET_EXEC && type != ELF_ET_DYN)
        return fail(why, "ELF file is not an executable (ET_EXEC/ET_DYN)");
    return 0;
}

static int check_phdr_table(const struct elf_file *f, const char **why)
{
    unsigned want = f->is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr);

    if (f->phnum == 0)
        return fail(why, "ELF file has no program headers");
    if (f->phnum == ELF_PN_XNUM)
        return fail(why, "too many program headers (extended numbering)");
    if (f->phentsize != want)
        return fail(why, "bad e_phentsize");
    /* phnum < 0xffff and phentsize <= 56: the product cannot overflow. */
    if (!in_file(f, f->phoff, (uint64_t)f->phnum * f->phentsize))
        return fail(why, "program header table outside the file");
    return 0;
}

/* Program header i; the table was checked by check_phdr_table(). */
static void read_phdr(const struct elf_file *f, unsigned i, struct elf_phdr *out)
{
    const uint8_t *p = f->base + f->phoff + (uint64_t)i * f->phentsize;

    if (f->is64) {
        struct elf64_phdr h;

        memcpy(&h, p, sizeof(h));
        *out = (struct elf_phdr){ h.type, h.offset, h.paddr, h.filesz, h.memsz, h.align };
    } else {
        struct elf32_phdr h;

        memcpy(&h, p, sizeof(h));
        *out = (struct elf_phdr){ h.type, h.offset, h.paddr, h.filesz, h.memsz, h.align };
    }
}

static bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    return a < b + b_len && b < a + a_len;
}

static int add_load_segment(const struct elf_file *f, const struct elf_phdr *ph,
                            struct pvh_image *img, const char **why)
{
    uint64_t end;

    if (ph->filesz > ph->memsz)
        return fail(why, "PT_LOAD p_filesz larger than p_memsz");
    if (ph->memsz == 0)
        return 0;       /* occupies nothing: skipped */
    if (!in_file(f, ph->offset, ph->filesz))
        return fail(why, "PT_LOAD file range outside the file");
    if (__builtin_add_overflow(ph->paddr, ph->memsz, &end))
        return fail(why, "PT_LOAD p_paddr + p_memsz wraps");
    if (end > PVH_PADDR_LIMIT)
        return fail(why, "PT_LOAD segment reaches above 4 GiB");
    if (img->nr_segments == PVH_MAX_SEGMENTS)
        return fail(why, "too many PT_LOAD segments");
    /* Both ranges are below 4 GiB here, so the sums in the check cannot wrap. */
    for (unsigned i = 0; i < img->nr_segments; i++)
        if (ranges_overlap(ph->paddr, ph->memsz, img->seg[i].paddr, img->seg[i].memsz))
            return fail(why, "PT_LOAD segments overlap");

    img->seg[img->nr_segments++] = (struct pvh_segment){
        .paddr = ph->paddr, .offset = ph->offset, .filesz = ph->filesz, .memsz = ph->memsz,
    };
    if (img->nr_segments == 1 || ph->paddr < img->lo)
        img->lo = ph->paddr;
    if (img->nr_segments == 1 || end > img->hi)
        img->hi = end;
    return 0;
}

static int record_entry_note(const uint8_t *desc, uint32_t descsz,
                             struct entry_search *es, const char **why)
{
    uint64_t entry;

    if (descsz != 4 && descsz != 8)
        return fail(why, "XEN_ELFNOTE_PHYS32_ENTRY descriptor is not 4 or 8 bytes");
    entry = read_le(desc, descsz);
    if (entry >= PVH_PADDR_LIMIT)
        return fail(why, "PVH entry point above 4 GiB (it runs in 32-bit mode)");
    if (!es->found) {
        es->found = true;
        es->entry = entry;
    }
    return 0;
}

/* A string note, NUL-terminated or not; what does not fit is cut (it only names the OS). */
static void record_guest_os(const uint8_t *desc, uint32_t descsz, struct entry_search *es)
{
    size_t len = descsz < PVH_GUEST_OS_MAX - 1 ? descsz : PVH_GUEST_OS_MAX - 1;

    if (es->guest_os[0])
        return;
    memcpy(es->guest_os, desc, len);
    es->guest_os[len] = '\0';
}

/*
 * Walk every note in the file range [off, off+len) (already checked to be in
 * the file). Each note is a 12-byte header, the owner name padded to `align`,
 * then the descriptor padded to `align` (gABI "Note Section"; align is 4, or
 * 8 for notes in 8-aligned segments/sections such as GNU property notes).
 * The final descriptor's padding may be cut off by the end of the area.
 */
static int scan_notes(const struct elf_file *f, uint64_t off, uint64_t len,
                      uint64_t align, struct entry_search *es, const char **why)
{
    const uint8_t *area = f->base + off;
    uint64_t pos = 0;

    while (pos < len) {
        struct elf_nhdr nh;
        uint64_t name_end, desc_off, desc_end, next;
        int rc;

        if (len - pos < sizeof(nh))
            return fail(why, "truncated note header");
        memcpy(&nh, area + pos, sizeof(nh));
        name_end = pos + sizeof(nh) + nh.namesz;   /* <= len + 12 + 2^32: no wrap */
        if (name_end > len)
            return fail(why, "note name runs past the note area");
        if (!align_up(name_end, align, &desc_off) || desc_off > len ||
            nh.descsz > len - desc_off)
            return fail(why, "note descriptor runs past the note area");
        desc_end = desc_off + nh.descsz;

        bool xen_owned = nh.namesz == NOTE_OWNER_XEN_SIZE &&
                         memcmp(area + pos + sizeof(nh), NOTE_OWNER_XEN,
                                NOTE_OWNER_XEN_SIZE) == 0;

        if (xen_owned && nh.type == XEN_ELFNOTE_PHYS32_ENTRY) {
            rc = record_entry_note(area + desc_off, nh.descsz, es, why);
            if (rc)
                return rc;
        }
        if (xen_owned && nh.type == XEN_ELFNOTE_GUEST_OS)
            record_guest_os(area + desc_off, nh.descsz, es);
        if (!align_up(desc_end, align, &next) || next > len)
            next = len;
        pos = next;
    }
    return 0;
}

static uint64_t note_align(uint64_t align)
{
    return align == 8 ? 8 : 4;
}

static int search_note_segments(const struct elf_file *f, struct entry_search *es,
                                const char **why)
{
    for (unsigned i = 0; i < f->phnum; i++) {
        struct elf_phdr ph;
        int rc;

        read_phdr(f, i, &ph);
        if (ph.type != ELF_PT_NOTE)
            continue;
        if (!in_file(f, ph.offset, ph.filesz))
            return fail(why, "PT_NOTE segment outside the file");
        rc = scan_notes(f, ph.offset, ph.filesz, note_align(ph.align), es, why);
        if (rc)
            return rc;
    }
    return 0;
}

static int search_note_sections(const struct elf_file *f, struct entry_search *es,
                                const char **why)
{
    unsigned want = f->is64 ? sizeof(struct elf64_shdr) : sizeof(struct elf32_shdr);

    if (f->shnum == 0 || f->shoff == 0)
        return 0;
    if (f->shentsize != want)
        return fail(why, "bad e_shentsize");
    if (!in_file(f, f->shoff, (uint64_t)f->shnum * f->shentsize))
        return fail(why, "section header table outside the file");

    for (unsigned i = 0; i < f->shnum; i++) {
        const uint8_t *p = f->base + f->shoff + (uint64_t)i * f->shentsize;
        uint64_t type, offset, size, align;
        int rc;

        if (f->is64) {
            struct elf64_shdr sh;

            memcpy(&sh, p, sizeof(sh));
            type = sh.type; offset = sh.offset; size = sh.size; align = sh.addralign;
        } else {
            struct elf32_shdr sh;

            memcpy(&sh, p, sizeof(sh));
            type = sh.type; offset = sh.offset; size = sh.size; align = sh.addralign;
        }
        if (type != ELF_SHT_NOTE)
            continue;
        if (!in_file(f, offset, size))
            return fail(why, "SHT_NOTE section outside the file");
        rc = scan_notes(f, offset, size, note_align(align), es, why);
        if (rc)
            return rc;
    }
    return 0;
}

int pvh_elf_parse(const void *file, size_t size, struct pvh_image *img, const char **why)
{
    struct elf_file f = { .base = file, .size = size };
    struct entry_search es = { .found = false };
    int rc;

    memset(img, 0, sizeof(*img));
    if (!file)
        return fail(why, "no kernel image");

    rc = parse_ehdr(&f, why);
    if (!rc)
        rc = check_phdr_table(&f, why);
    if (rc)
        return rc;

    for (unsigned i = 0; i < f.phnum; i++) {
        struct elf_phdr ph;

        read_phdr(&f, i, &ph);
        if (ph.type == ELF_PT_LOAD) {
            rc = add_load_segment(&f, &ph, img, why);
            if (rc)
                return rc;
        }
    }
    if (img->nr_segments == 0)
        return fail(why, "no loadable (PT_LOAD) segment");

    rc = search_note_segments(&f, &es, why);
    if (!rc && !es.found)
        rc = search_note_sections(&f, &es, why);
    if (rc)
        return rc;
    if (!es.found)
        return fail(why, "no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");

    img->entry = es.entry;
    img->is64 = f.is64;
    memcpy(img->guest_os, es.guest_os, sizeof(img->guest_os));
    return 0;
}

int pvh_elf_load(const void *file, size_t size, const struct pvh_image *img,
                 const struct pvh_writer *w)
{
    const uint8_t *base = file;

    if (!file || !img || !w || !w->write || !w->zero || img->nr_segments > PVH_MAX_SEGMENTS)
        return -EINVAL;

    for (unsigned i = 0; i < img->nr_segments; i++) {
        const struct pvh_segment *s = &img->seg[i];
        int rc;

        /* Re-checked so a stale or forged img cannot read past the file. */
        if (s->offset > size || s->filesz > size - s->offset || s->filesz > s->memsz)
            return -EINVAL;
        if (s->filesz) {
            rc = w->write(w->ctx, s->paddr, base + s->offset, (size_t)s->filesz);
            if (rc)
                return rc;
        }
        if (s->memsz > s->filesz) {
            rc = w->zero(w->ctx, s->paddr + s->filesz, s->memsz - s->filesz);
            if (rc)
                return rc;
        }
    }
    return 0;
}
