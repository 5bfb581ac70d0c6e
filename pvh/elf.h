/* elf.h (pure: hypervisor and host toolstack/tests): PVH kernel ELF parser and loader. */
#ifndef WISP_PVH_ELF_H
#define WISP_PVH_ELF_H

#include "env.h"

/*
 * What a PVH image is, for this loader:
 *  - ELF32 with e_machine EM_386 or EM_X86_64 (the latter is what
 *    `objcopy -O elf32-x86-64` makes of a 64-bit image, as XTF's hvm64 tests
 *    are shipped), or ELF64 with EM_X86_64; little-endian; e_type ET_EXEC or
 *    ET_DYN. (Xen's libelf, for a PVH guest, checks neither class against
 *    machine: it needs only the entry note. We take just these three.) ET_DYN is accepted but never relocated: like
 *    ET_EXEC it is loaded at its p_paddr values (the PVH entry is physical).
 *  - PT_LOAD segments are copied to guest-physical p_paddr; p_vaddr is ignored.
 *    Segments with p_memsz 0 are skipped. All loaded bytes lie below
 *    PVH_PADDR_LIMIT (4 GiB): the guest starts in 32-bit protected mode with
 *    paging off, so nothing above that is reachable from its entry code, and
 *    our start_info placement assumes the image sits below 4 GiB.
 *  - The entry point is the XEN_ELFNOTE_PHYS32_ENTRY note (owner "Xen",
 *    descriptor 4 or 8 bytes, value below 4 GiB; 0 is a valid entry). It is
 *    searched in every PT_NOTE segment first; only if none has it, in the
 *    SHT_NOTE sections. The first such note found wins. e_entry is ignored.
 *  - XEN_ELFNOTE_GUEST_OS, where the entry note was found, names the guest OS
 *    (Linux says "linux"); the host CLI uses it to pick Linux's defaults.
 *  - Section headers are read only for that fallback; a file whose PT_NOTE
 *    segments carry the entry is not rejected for odd section headers.
 *    Extended section numbering (e_shnum 0 with the count in section 0) is
 *    treated as "no sections".
 */

/*
 * ELF file layouts (System V gABI, chapters "ELF Header", "Program Header",
 * "Sections", "Note Section"); little-endian, so on x86 they can be copied
 * out of the file as-is. Our own names: freestanding code has no <elf.h>.
 */
#define ELF_NIDENT      16
#define ELF_CLASS32     1       /* e_ident[4] */
#define ELF_CLASS64     2
#define ELF_DATA2LSB    1       /* e_ident[5]: little-endian */
#define ELF_VERSION     1       /* e_ident[6] and e_version: EV_CURRENT */
#define ELF_ET_EXEC     2
#define ELF_ET_DYN      3
#define ELF_EM_386      3
#define ELF_EM_X86_64   62
#define ELF_PT_LOAD     1
#define ELF_PT_NOTE     4
#define ELF_PN_XNUM     0xffff  /* e_phnum escape for extended numbering */
#define ELF_SHT_NOTE    7

struct elf32_ehdr {
    uint8_t  ident[ELF_NIDENT];
    uint16_t type, machine;
    uint32_t version, entry, phoff, shoff, flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_ehdr {
    uint8_t  ident[ELF_NIDENT];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf32_shdr {
    uint32_t name, type, flags, addr, offset, size, link, info, addralign, entsize;
};

struct elf64_shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};

/* Note header, the same 3 x 32-bit words in ELF32 and ELF64 files. */
struct elf_nhdr {
    uint32_t namesz, descsz, type;
};

_Static_assert(sizeof(struct elf32_ehdr) == 52, "gABI ELF32 header size");
_Static_assert(sizeof(struct elf64_ehdr) == 64, "gABI ELF64 header size");
_Static_assert(sizeof(struct elf32_phdr) == 32, "gABI ELF32 phdr size");
_Static_assert(sizeof(struct elf64_phdr) == 56, "gABI ELF64 phdr size");
_Static_assert(sizeof(struct elf32_shdr) == 40, "gABI ELF32 shdr size");
_Static_assert(sizeof(struct elf64_shdr) == 64, "gABI ELF64 shdr size");
_Static_assert(sizeof(struct elf_nhdr) == 12, "gABI note header size");

#define PVH_MAX_SEGMENTS 16
#define PVH_PADDR_LIMIT  0x100000000ULL   /* 4 GiB: see above */

struct pvh_segment {
    uint64_t paddr;     /* guest-physical load address */
    uint64_t offset;    /* file offset of the first byte */
    uint64_t filesz;    /* bytes copied from the file */
    uint64_t memsz;     /* bytes occupied in guest memory (>= filesz, > 0) */
};

#define PVH_GUEST_OS_MAX 16

struct pvh_image {
    uint64_t entry;     /* 32-bit PVH entry, guest-physical */
    uint64_t lo, hi;    /* [lo, hi): span of all loaded segments */
    unsigned nr_segments;
    struct pvh_segment seg[PVH_MAX_SEGMENTS];
    bool is64;          /* ELFCLASS64 file */
    char guest_os[PVH_GUEST_OS_MAX];    /* XEN_ELFNOTE_GUEST_OS ("linux"), "" if none */
};

/*
 * Where loaded bytes go. Both callbacks return 0 or -errno; the first error
 * stops the load and is returned. gpa ranges never wrap.
 */
struct pvh_writer {
    void *ctx;
    int (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
    int (*zero)(void *ctx, uint64_t gpa, uint64_t len);
};

/*
 * Validate the ELF image file[0..size) and describe it in *img.
 * Returns 0, or -ENOEXEC (with *why set to a one-line reason, if why is not
 * NULL) for anything malformed, unsupported or hostile. Never reads outside
 * file[0..size).
 */
int __must_check pvh_elf_parse(const void *file, size_t size,
                               struct pvh_image *img, const char **why);

/*
 * Copy each segment's file bytes to its paddr and zero the rest of its memsz.
 * img must come from pvh_elf_parse() on the same file and size.
 */
int __must_check pvh_elf_load(const void *file, size_t size,
                              const struct pvh_image *img,
                              const struct pvh_writer *w);

#endif
