/* test_multiboot.c (host test): Multiboot1/2 parsers against a fake physical memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootinfo.h"
#include "errno.h"

/* ---- fake physical memory: [FAKE_BASE, FAKE_BASE + readable) is readable ---- */

#define FAKE_BASE   0x100000u
#define FAKE_SIZE   (256u * 1024)

static _Alignas(8) uint8_t fake_mem[FAKE_SIZE];
static size_t fake_readable;

/*
 * Every mapping is handed out as a fresh heap copy of exactly [addr, addr+len),
 * so AddressSanitizer/valgrind catch any read past what the parser asked for.
 */
static void **fake_maps;
static size_t fake_nr_maps, fake_cap_maps;

static const void *fake_phys(uint64_t addr, uint64_t len, void *ctx)
{
    void *copy;

    (void)ctx;
    if (addr < FAKE_BASE || addr - FAKE_BASE > fake_readable ||
        len > fake_readable - (addr - FAKE_BASE))
        return NULL;
    if (fake_nr_maps == fake_cap_maps) {
        fake_cap_maps = fake_cap_maps ? 2 * fake_cap_maps : 64;
        fake_maps = realloc(fake_maps, fake_cap_maps * sizeof(*fake_maps));
        assert_non_null(fake_maps);
    }
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, fake_mem + (addr - FAKE_BASE), len);
    fake_maps[fake_nr_maps++] = copy;
    return copy;
}

static int reset_mem(void **state)
{
    (void)state;
    memset(fake_mem, 0xAA, sizeof(fake_mem));   /* garbage, not zeros: strings must not end by luck */
    fake_readable = FAKE_SIZE;
    return 0;
}

static int free_maps(void **state)
{
    (void)state;
    while (fake_nr_maps)
        free(fake_maps[--fake_nr_maps]);
    return 0;
}

static void put32(uint32_t addr, uint32_t v) { memcpy(fake_mem + (addr - FAKE_BASE), &v, 4); }
static void put64(uint32_t addr, uint64_t v) { memcpy(fake_mem + (addr - FAKE_BASE), &v, 8); }
static void put_bytes(uint32_t addr, const void *p, size_t n) { memcpy(fake_mem + (addr - FAKE_BASE), p, n); }
static void put_str(uint32_t addr, const char *s) { put_bytes(addr, s, strlen(s) + 1); }

/* ---- Multiboot2 builder ---- */

#define MB2_AT 0x100000u

static uint32_t mb2_pos;

static void mb2_begin(void) { mb2_pos = MB2_AT + 8; }

/* Tag header at the current position; returns the tag address. Advances 8-aligned. */
static uint32_t mb2_tag(uint32_t type, uint32_t size)
{
    uint32_t at = mb2_pos;

    put32(at, type);
    put32(at + 4, size);
    mb2_pos += (size + 7) & ~7u;
    return at;
}

static void mb2_string_tag(uint32_t type, const char *s)
{
    uint32_t at = mb2_tag(type, 8 + (uint32_t)strlen(s) + 1);

    put_str(at + 8, s);
}

static void mb2_module(uint32_t start, uint32_t end, const char *s)
{
    uint32_t at = mb2_tag(3, 16 + (uint32_t)strlen(s) + 1);

    put32(at + 8, start);
    put32(at + 12, end);
    put_str(at + 16, s);
}

struct mm { uint64_t base, len; uint32_t type; };

static void mb2_mmap(uint32_t entry_size, const struct mm *e, unsigned n)
{
    uint32_t at = mb2_tag(6, 16 + entry_size * n);
    unsigned i;

    put32(at + 8, entry_size);
    put32(at + 12, 0);
    for (i = 0; i < n; i++) {
        uint32_t p = at + 16 + i * entry_size;

        put64(p, e[i].base);
        put64(p + 8, e[i].len);
        put32(p + 16, e[i].type);
        put32(p + 20, 0);
    }
}

/* End tag, then total_size; returns the total. */
static uint32_t mb2_finish(void)
{
    uint32_t total;

    mb2_tag(0, 8);
    total = mb2_pos - MB2_AT;
    put32(MB2_AT, total);
    put32(MB2_AT + 4, 0);
    return total;
}

static struct boot_info bi;
static const char *err;

static int parse2(void) { return mb2_parse(MB2_AT, fake_phys, NULL, &bi, &err); }

static void expect_mb2_error(int rc)
{
    err = NULL;
    assert_int_equal(parse2(), rc);
    assert_non_null(err);
}

/* ---- Multiboot2: good input ---- */

static void test_mb2_full(void **state)
{
    static const struct mm map[] = {
        { 0, 0x9fc00, 1 }, { 0xf0000, 0x10000, 2 }, { 0x100000, 0x7ff00000, 1 },
        { 0xfee00000, 0x1000, 99 },     /* unknown type: kept as given */
    };
    uint32_t at;

    mb2_begin();
    mb2_string_tag(1, "console=com1 config=my.cfg");
    mb2_string_tag(2, "GRUB 2.06");
    at = mb2_tag(4, 16);                /* basic meminfo: ignored */
    put32(at + 8, 639);
    put32(at + 12, 1000);
    at = mb2_tag(21, 13);               /* unknown tag with an odd size: skipped, padded */
    put_bytes(at + 8, "\x01\x02\x03\x04\x05", 5);
    mb2_module(0x200000, 0x280000, "/boot/guest.elf guest.elf");
    mb2_mmap(24, map, 4);
    mb2_module(0x300000, 0x300100, "/boot/wisp.cfg");
    mb2_finish();

    err = "stale";
    assert_int_equal(parse2(), 0);
    assert_null(err);
    assert_string_equal(bi.cmdline, "console=com1 config=my.cfg");
    assert_string_equal(bi.loader, "GRUB 2.06");
    assert_int_equal(bi.nr_modules, 2);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x280000);
    assert_string_equal(bi.modules[0].cmdline, "/boot/guest.elf guest.elf");
    assert_string_equal(bi.modules[0].name, "guest.elf");
    assert_string_equal(bi.modules[1].name, "wisp.cfg");
    assert_int_equal(bi.nr_mem, 4);
    assert_int_equal(bi.mem[0].base, 0);
    assert_int_equal(bi.mem[0].size, 0x9fc00);
    assert_int_equal(bi.mem[0].type, BOOT_MEM_RAM);
    assert_int_equal(bi.mem[1].type, BOOT_MEM_RESERVED);
    assert_int_equal(bi.mem[2].base, 0x100000);
    assert_int_equal(bi.mem[2].size, 0x7ff00000);
    assert_int_equal(bi.mem[3].type, 99);
}

static void test_mb2_minimal_and_reset(void **state)
{
    memset(&bi, 0x5A, sizeof(bi));      /* stale output must not survive */
    mb2_begin();
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_string_equal(bi.loader, "");
    assert_string_equal(bi.cmdline, "");
    assert_int_equal(bi.nr_modules, 0);
    assert_int_equal(bi.nr_mem, 0);
    assert_int_equal(bi.rsdp_len, 0);
}

/* Tags 14 and 15 carry copies of the ACPI RSDP: the 2.0+ one (15) wins whatever the order. */
static void test_mb2_rsdp_copies(void **state)
{
    uint8_t v1[20], v2[36];

    memset(v1, 1, sizeof(v1));
    memset(v2, 2, sizeof(v2));
    for (int order = 0; order < 2; order++) {
        mb2_begin();
        if (order == 0)
            put_bytes(mb2_tag(14, 8 + sizeof(v1)) + 8, v1, sizeof(v1));
        put_bytes(mb2_tag(15, 8 + sizeof(v2)) + 8, v2, sizeof(v2));
        if (order == 1)
            put_bytes(mb2_tag(14, 8 + sizeof(v1)) + 8, v1, sizeof(v1));
        mb2_finish();
        assert_int_equal(parse2(), 0);
        assert_int_equal(bi.rsdp_len, 36);
        assert_memory_equal(bi.rsdp, v2, 36);
    }
    mb2_begin();
    put_bytes(mb2_tag(14, 8 + sizeof(v1)) + 8, v1, sizeof(v1));
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.rsdp_len, 20);
    assert_memory_equal(bi.rsdp, v1, 20);
    mb2_begin();
    mb2_tag(15, 8 + 100);                /* longer than any RSDP: the first 36 bytes */
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.rsdp_len, 36);
}

static void test_mb2_module_names(void **state)
{
    char long_word[200], long_cmd[400];

    memset(long_word, 'n', sizeof(long_word) - 1);
    long_word[sizeof(long_word) - 1] = '\0';
    memset(long_cmd, 'c', sizeof(long_cmd) - 1);
    long_cmd[sizeof(long_cmd) - 1] = '\0';

    mb2_begin();
    mb2_module(1, 2, "  \t/a/b/initrd.img  args here");
    mb2_module(1, 2, "plain");
    mb2_module(1, 2, "");
    mb2_module(1, 2, "/boot/dir/ x");
    mb2_module(1, 2, long_word);
    mb2_module(1, 2, long_cmd);
    mb2_module(5, 5, "empty.bin");      /* zero-length module is fine */
    mb2_finish();

    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_modules, 7);
    assert_string_equal(bi.modules[0].name, "initrd.img");
    assert_string_equal(bi.modules[0].cmdline, "  \t/a/b/initrd.img  args here");
    assert_string_equal(bi.modules[1].name, "plain");
    assert_string_equal(bi.modules[2].name, "");
    assert_string_equal(bi.modules[2].cmdline, "");
    assert_string_equal(bi.modules[3].name, "");
    assert_int_equal(strlen(bi.modules[4].name), sizeof(bi.modules[4].name) - 1);
    assert_memory_equal(bi.modules[4].name, long_word, sizeof(bi.modules[4].name) - 1);
    assert_int_equal(strlen(bi.modules[5].cmdline), sizeof(bi.modules[5].cmdline) - 1);
    assert_int_equal(bi.modules[6].start, 5);
    assert_int_equal(bi.modules[6].end, 5);
}

static void test_mb2_long_cmdline_truncated(void **state)
{
    static char big[3000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mb2_begin();
    mb2_string_tag(1, big);
    mb2_string_tag(2, big);
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_int_equal(strlen(bi.loader), sizeof(bi.loader) - 1);
}

static void test_mb2_mmap_bigger_entries(void **state)
{
    static const struct mm map[] = { { 0x1000, 0x2000, 1 }, { 0x5000, 0x1000, 3 } };

    mb2_begin();
    mb2_mmap(40, map, 2);               /* future entry versions may be longer */
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_mem, 2);
    assert_int_equal(bi.mem[1].base, 0x5000);
    assert_int_equal(bi.mem[1].type, BOOT_MEM_ACPI);
}

static void test_mb2_too_many_ranges_truncated(void **state)
{
    static struct mm map[BOOT_MAX_MEM_RANGES + 6];
    unsigned i;

    for (i = 0; i < BOOT_MAX_MEM_RANGES + 6; i++)
        map[i] = (struct mm){ (uint64_t)i << 20, 1 << 20, 1 };
    mb2_begin();
    mb2_mmap(24, map, BOOT_MAX_MEM_RANGES + 6);
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_mem, BOOT_MAX_MEM_RANGES);
    assert_int_equal(bi.mem[BOOT_MAX_MEM_RANGES - 1].base,
                     (uint64_t)(BOOT_MAX_MEM_RANGES - 1) << 20);
}

static void test_mb2_module_limit(void **state)
{
    unsigned i;

    mb2_begin();
    for (i = 0; i < BOOT_MAX_MODULES; i++)
        mb2_module(i, i + 1, "m");
    mb2_finish();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_modules, BOOT_MAX_MODULES);

    mb2_begin();
    for (i = 0; i < BOOT_MAX_MODULES + 1; i++)
        mb2_module(i, i + 1, "m");
    mb2_finish();
    expect_mb2_error(-E2BIG);
}

/* ---- Multiboot2: malformed input ---- */

static void test_mb2_bad_header(void **state)
{
    mb2_begin();
    mb2_finish();

    err = NULL;
    assert_int_equal(mb2_parse(MB2_AT + 4, fake_phys, NULL, &bi, &err), -EINVAL); /* misaligned */
    assert_non_null(err);
    assert_int_equal(mb2_parse(0x1000, fake_phys, NULL, &bi, &err), -EFAULT);     /* unreadable */

    put32(MB2_AT, 15);                  /* smaller than header + end tag */
    expect_mb2_error(-EINVAL);
    put32(MB2_AT, 0);
    expect_mb2_error(-EINVAL);
    put32(MB2_AT, (1u << 20) + 8);      /* insane total_size */
    expect_mb2_error(-EINVAL);
    put32(MB2_AT, 0xFFFFFFFFu);
    expect_mb2_error(-EINVAL);
}

static void test_mb2_truncated(void **state)
{
    uint32_t total;

    mb2_begin();
    mb2_string_tag(1, "hello");
    total = mb2_finish();
    fake_readable = total - 1;          /* info cut short by an unreadable page */
    expect_mb2_error(-EFAULT);
    fake_readable = total;
    assert_int_equal(parse2(), 0);
}

static void test_mb2_zero_size_tag(void **state)
{
    mb2_begin();
    mb2_tag(1, 0);
    mb2_pos = MB2_AT + 16;
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_tag(21, 7);                     /* smaller than its own header */
    mb2_pos = MB2_AT + 16;
    mb2_finish();
    expect_mb2_error(-EINVAL);
}

static void test_mb2_tag_past_end(void **state)
{
    uint32_t at;

    mb2_begin();
    at = mb2_tag(21, 16);
    mb2_finish();
    put32(at + 4, 4096);                /* claims more than total_size holds */
    expect_mb2_error(-EINVAL);

    put32(at + 4, 0xFFFFFFF8u);         /* would wrap a 32-bit offset */
    expect_mb2_error(-EINVAL);
}

static void test_mb2_missing_end_tag(void **state)
{
    mb2_begin();
    mb2_string_tag(1, "abc");
    put32(MB2_AT, mb2_pos - MB2_AT);    /* total_size ends right after the cmdline tag */
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_string_tag(1, "abc");           /* 12 bytes, padded to 16: leaves 4, not a header */
    put32(MB2_AT, mb2_pos - MB2_AT + 4);
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_tag(0, 16);                     /* end tag must be exactly 8 bytes */
    put32(MB2_AT, mb2_pos - MB2_AT);
    expect_mb2_error(-EINVAL);
}

static void test_mb2_unterminated_strings(void **state)
{
    uint32_t at;

    mb2_begin();
    at = mb2_tag(1, 8 + 4);
    put_bytes(at + 8, "abcd", 4);       /* no NUL inside the tag; NUL right after */
    put32(at + 12, 0);
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    at = mb2_tag(2, 8);                 /* loader name tag with no room for a string */
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    at = mb2_tag(3, 16 + 3);
    put32(at + 8, 0);
    put32(at + 12, 1);
    put_bytes(at + 16, "abc", 3);
    mb2_finish();
    expect_mb2_error(-EINVAL);
}

static void test_mb2_bad_module(void **state)
{
    uint32_t at;

    mb2_begin();
    mb2_module(0x2000, 0x1000, "x");    /* ends before it starts */
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    at = mb2_tag(3, 16);                /* no string at all */
    put32(at + 8, 0);
    put32(at + 12, 0);
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_tag(3, 12);                     /* not even mod_end */
    mb2_finish();
    expect_mb2_error(-EINVAL);
}

static void test_mb2_bad_mmap(void **state)
{
    static const struct mm map[] = { { 0x1000, 0x2000, 1 } };
    static const struct mm wraps[] = { { 0xFFFFFFFFFFFFF000ull, 0x2000, 1 } };

    mb2_begin();
    mb2_mmap(16, map, 1);               /* entry_size too small for an entry */
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_mmap(0, map, 0);
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_tag(6, 12);                     /* no entry_version */
    mb2_finish();
    expect_mb2_error(-EINVAL);

    mb2_begin();
    mb2_mmap(24, wraps, 1);
    mb2_finish();
    expect_mb2_error(-EINVAL);
}

static void test_mb2_mmap_partial_entry_ignored(void **state)
{
    static const struct mm map[] = { { 0x1000, 0x2000, 1 }, { 0x9000, 0x1000, 1 } };
    uint32_t at;

    mb2_begin();
    at = mb2_pos;
    mb2_mmap(24, map, 2);
    mb2_finish();
    put32(at + 4, 16 + 24 + 20);        /* second entry cut short */
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_mem, 1);
}

/* ---- Multiboot1 ---- */

#define MB1_AT       0x101000u
#define MB1_STRINGS  0x102000u
#define MB1_MODS     0x103000u
#define MB1_MMAP     0x104000u

static uint32_t mb1_str_pos;

static uint32_t mb1_string(const char *s)
{
    uint32_t at = mb1_str_pos;

    put_str(at, s);
    mb1_str_pos += (uint32_t)strlen(s) + 1;
    return at;
}

static void mb1_begin(uint32_t flags)
{
    memset(fake_mem + (MB1_AT - FAKE_BASE), 0, 120);
    put32(MB1_AT, flags);
    mb1_str_pos = MB1_STRINGS;
}

static void mb1_set(uint32_t off, uint32_t v) { put32(MB1_AT + off, v); }

static void mb1_mods(const char *const *names, unsigned n)
{
    unsigned i;

    mb1_set(20, n);
    mb1_set(24, MB1_MODS);
    for (i = 0; i < n; i++) {
        uint32_t m = MB1_MODS + i * 16;

        put32(m, 0x400000 + i * 0x1000);
        put32(m + 4, 0x400000 + i * 0x1000 + 0x800);
        put32(m + 8, names[i] ? mb1_string(names[i]) : 0);
        put32(m + 12, 0);
    }
}

/* Packed entries {u32 size; u64 base; u64 len; u32 type}; returns mmap_length. */
static uint32_t mb1_mmap(const struct mm *e, unsigned n, uint32_t size_field)
{
    uint32_t at = MB1_MMAP;
    unsigned i;

    for (i = 0; i < n; i++) {
        put32(at, size_field);
        put64(at + 4, e[i].base);
        put64(at + 12, e[i].len);
        put32(at + 20, e[i].type);
        at += 4 + size_field;
    }
    mb1_set(44, at - MB1_MMAP);
    mb1_set(48, MB1_MMAP);
    return at - MB1_MMAP;
}

static int parse1(void) { return mb1_parse(MB1_AT, fake_phys, NULL, &bi, &err); }

static void expect_mb1_error(int rc)
{
    err = NULL;
    assert_int_equal(parse1(), rc);
    assert_non_null(err);
}

#define MB1_ALL ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))

static void test_mb1_full(void **state)
{
    static const char *const names[] = { "/boot/guest.elf guest.elf", "wisp.cfg" };
    static const struct mm map[] = { { 0, 0x9fc00, 1 }, { 0x100000, 0x3ff00000, 1 },
                                     { 0xfffc0000, 0x40000, 2 } };

    mb1_begin(MB1_ALL);
    mb1_set(4, 639);
    mb1_set(8, 1000);
    mb1_set(16, mb1_string("loglvl=all"));
    mb1_set(64, mb1_string("qemu"));
    mb1_mods(names, 2);
    mb1_mmap(map, 3, 20);

    err = "stale";
    assert_int_equal(parse1(), 0);
    assert_null(err);
    assert_string_equal(bi.cmdline, "loglvl=all");
    assert_string_equal(bi.loader, "qemu");
    assert_int_equal(bi.nr_modules, 2);
    assert_int_equal(bi.modules[0].start, 0x400000);
    assert_int_equal(bi.modules[0].end, 0x400800);
    assert_string_equal(bi.modules[0].name, "guest.elf");
    assert_string_equal(bi.modules[1].name, "wisp.cfg");
    assert_string_equal(bi.modules[1].cmdline, "wisp.cfg");
    assert_int_equal(bi.nr_mem, 3);                 /* mmap wins over mem_lower/upper */
    assert_int_equal(bi.mem[1].base, 0x100000);
    assert_int_equal(bi.mem[1].size, 0x3ff00000);
    assert_int_equal(bi.mem[2].type, BOOT_MEM_RESERVED);
}

static void test_mb1_flags_absent(void **state)
{
    static const char *const names[] = { "x" };

    mb1_begin(0);
    /* Fields point at garbage: without their flags they must not be read. */
    mb1_set(16, 0xdead0000);
    mb1_set(64, 0xdead0000);
    mb1_mods(names, 1);
    mb1_set(24, 0xdead0000);
    mb1_set(44, 0xFFFFFFFF);
    assert_int_equal(parse1(), 0);
    assert_string_equal(bi.cmdline, "");
    assert_string_equal(bi.loader, "");
    assert_int_equal(bi.nr_modules, 0);
    assert_int_equal(bi.nr_mem, 0);
}

static void test_mb1_basic_mem_fallback(void **state)
{
    mb1_begin(1u << 0);
    mb1_set(4, 640);
    mb1_set(8, 2048);
    assert_int_equal(parse1(), 0);
    assert_int_equal(bi.nr_mem, 2);
    assert_int_equal(bi.mem[0].base, 0);
    assert_int_equal(bi.mem[0].size, 640 * 1024);
    assert_int_equal(bi.mem[1].base, 0x100000);
    assert_int_equal(bi.mem[1].size, 2048 * 1024);
    assert_int_equal(bi.mem[1].type, BOOT_MEM_RAM);

    /* An empty map falls back too. */
    mb1_begin((1u << 0) | (1u << 6));
    mb1_set(8, 4096);
    mb1_set(44, 0);
    mb1_set(48, 0xdead0000);
    assert_int_equal(parse1(), 0);
    assert_int_equal(bi.nr_mem, 2);
    assert_int_equal(bi.mem[1].size, 4096 * 1024);
}

static void test_mb1_mmap_entry_sizes(void **state)
{
    static const struct mm map[] = { { 0x1000, 0x1000, 1 }, { 0x8000, 0x2000, 4 } };
    uint32_t len;

    mb1_begin(1u << 6);
    mb1_mmap(map, 2, 24);               /* bigger entries: stride follows `size` */
    assert_int_equal(parse1(), 0);
    assert_int_equal(bi.nr_mem, 2);
    assert_int_equal(bi.mem[1].base, 0x8000);
    assert_int_equal(bi.mem[1].type, BOOT_MEM_NVS);

    mb1_begin(1u << 6);
    mb1_mmap(map, 2, 16);               /* too small to hold an entry */
    expect_mb1_error(-EINVAL);

    mb1_begin(1u << 6);
    len = mb1_mmap(map, 2, 20);
    mb1_set(44, len - 1);               /* last entry runs past mmap_length */
    expect_mb1_error(-EINVAL);

    mb1_begin(1u << 6);
    len = mb1_mmap(map, 1, 20);
    mb1_set(44, len + 2);               /* trailing bytes too short for a size field */
    expect_mb1_error(-EINVAL);

    mb1_begin(1u << 6);
    mb1_mmap(map, 1, 20);
    put32(MB1_MMAP, 0xFFFFFFF0u);       /* huge size must not wrap the offset */
    expect_mb1_error(-EINVAL);

    mb1_begin(1u << 6);
    mb1_mmap(map, 1, 20);
    mb1_set(44, 0x100000);              /* insane mmap_length */
    expect_mb1_error(-EINVAL);

    mb1_begin(1u << 6);
    mb1_mmap(map, 1, 20);
    mb1_set(48, 0xdead0000);            /* map not readable */
    expect_mb1_error(-EFAULT);
}

static void test_mb1_strings(void **state)
{
    mb1_begin(1u << 2);
    mb1_set(16, 0x10);                  /* unreadable */
    expect_mb1_error(-EFAULT);

    /* No NUL within the bound. */
    mb1_begin(1u << 2);
    memset(fake_mem + (MB1_STRINGS - FAKE_BASE), 'a', 8192);
    mb1_set(16, MB1_STRINGS);
    expect_mb1_error(-EINVAL);

    /* Runs into unreadable memory before its NUL. */
    mb1_begin(1u << 9);
    put_bytes(MB1_STRINGS, "abcdef", 6);
    mb1_set(64, MB1_STRINGS);
    fake_readable = MB1_STRINGS + 6 - FAKE_BASE;
    expect_mb1_error(-EFAULT);

    /* Ends exactly at the last readable byte: fine. */
    fake_readable = MB1_STRINGS + 7 - FAKE_BASE;
    put_bytes(MB1_STRINGS, "abcdef", 7);
    assert_int_equal(parse1(), 0);
    assert_string_equal(bi.loader, "abcdef");
}

static void test_mb1_long_strings_truncated(void **state)
{
    static char big[3000];
    static const char *names[1];

    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    names[0] = big;
    mb1_begin((1u << 2) | (1u << 3));
    mb1_set(16, mb1_string(big));
    mb1_mods(names, 1);
    assert_int_equal(parse1(), 0);
    assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_int_equal(strlen(bi.modules[0].cmdline), sizeof(bi.modules[0].cmdline) - 1);
    assert_int_equal(strlen(bi.modules[0].name), sizeof(bi.modules[0].name) - 1);
}

static void test_mb1_modules_bad(void **state)
{
    static const char *names[BOOT_MAX_MODULES + 1];
    unsigned i;

    for (i = 0; i < BOOT_MAX_MODULES + 1; i++)
        names[i] = "m";

    mb1_begin(1u << 3);
    mb1_mods(names, BOOT_MAX_MODULES + 1);
    expect_mb1_error(-E2BIG);

    mb1_begin(1u << 3);
    mb1_mods(names, 1);
    mb1_set(20, 0x10000000);            /* count * 16 would be huge */
    expect_mb1_error(-E2BIG);

    mb1_begin(1u << 3);
    mb1_mods(names, 2);
    mb1_set(24, 0xdead0000);            /* list not readable */
    expect_mb1_error(-EFAULT);

    mb1_begin(1u << 3);
    mb1_mods(names, 2);
    put32(MB1_MODS + 16 + 4, 0x1);      /* second module ends before it starts */
    expect_mb1_error(-EINVAL);

    mb1_begin(1u << 3);
    mb1_mods(names, 1);
    put32(MB1_MODS + 8, 0xdead0000);    /* string pointer not readable */
    expect_mb1_error(-EFAULT);
}

static void test_mb1_module_without_string(void **state)
{
    static const char *const names[] = { NULL, "/x/y.bin" };

    mb1_begin(1u << 3);
    mb1_mods(names, 2);
    assert_int_equal(parse1(), 0);
    assert_int_equal(bi.nr_modules, 2);
    assert_string_equal(bi.modules[0].cmdline, "");
    assert_string_equal(bi.modules[0].name, "");
    assert_string_equal(bi.modules[1].name, "y.bin");
}

static void test_mb1_info_unreadable(void **state)
{
    assert_int_equal(mb1_parse(0x10, fake_phys, NULL, &bi, &err), -EFAULT);
    assert_non_null(err);
    fake_readable = MB1_AT + 60 - FAKE_BASE;    /* header cut short */
    mb1_begin(0);
    expect_mb1_error(-EFAULT);
}

static void test_mb1_mmap_wraps(void **state)
{
    static const struct mm map[] = { { 0xFFFFFFFFFFFFF000ull, 0x1001, 1 } };

    mb1_begin(1u << 6);
    mb1_mmap(map, 1, 20);
    expect_mb1_error(-EINVAL);
}

/* ---- boot_find_module ---- */

static void test_find_module(void **state)
{
    mb2_begin();
    mb2_module(0x1000, 0x2000, "/boot/guest.elf guest.elf");
    mb2_module(0x3000, 0x4000, "/boot/wisp.cfg");
    mb2_module(0x5000, 0x6000, "/other/wisp.cfg");
    mb2_module(0x7000, 0x8000, "");
    mb2_finish();
    assert_int_equal(parse2(), 0);

    assert_ptr_equal(boot_find_module(&bi, "guest.elf"), &bi.modules[0]);
    assert_ptr_equal(boot_find_module(&bi, "wisp.cfg"), &bi.modules[1]);   /* first wins */
    assert_null(boot_find_module(&bi, "guest"));
    assert_null(boot_find_module(&bi, "guest.elf "));
    assert_null(boot_find_module(&bi, ""));     /* nameless modules are never found */
    assert_null(boot_find_module(&bi, NULL));
}

static void low_mem(struct boot_info *b, uint64_t base, uint64_t size, uint32_t type)
{
    b->mem[b->nr_mem++] = (struct boot_mem_range){ base, size, type };
}

/* SeaBIOS' map: RAM to the EBDA at 0x9fc00, the BIOS area reserved, RAM from 1 MiB. */
static void test_low_page_below_the_ebda(void **state)
{
    struct boot_info b = { 0 };

    low_mem(&b, 0, 0x9fc00, BOOT_MEM_RAM);
    low_mem(&b, 0x9fc00, 0x400, BOOT_MEM_RESERVED);
    low_mem(&b, 0xf0000, 0x10000, BOOT_MEM_RESERVED);
    low_mem(&b, 0x100000, 0x7ff00000, BOOT_MEM_RAM);
    assert_int_equal(boot_low_page(&b), 0x9e000);
}

static void test_low_page_skips_modules_and_reserved(void **state)
{
    struct boot_info b = { 0 };

    low_mem(&b, 0, 0x9f000, BOOT_MEM_RAM);
    low_mem(&b, 0x9d800, 0x100, BOOT_MEM_ACPI);     /* overlapping entries: not RAM wins */
    b.modules[b.nr_modules++] = (struct boot_module){ .start = 0x9e000, .end = 0x9e001 };
    assert_int_equal(boot_low_page(&b), 0x9c000);
}

static void test_low_page_none(void **state)
{
    struct boot_info b = { 0 };

    assert_int_equal(boot_low_page(&b), 0);         /* no map */
    low_mem(&b, 0x100000, 0x100000, BOOT_MEM_RAM);  /* RAM only above 1 MiB */
    low_mem(&b, 0x500, 0xfff, BOOT_MEM_RAM);        /* no whole page at 0x1000 or above */
    assert_int_equal(boot_low_page(&b), 0);
    low_mem(&b, 0, UINT64_MAX, BOOT_MEM_RAM);       /* a range that wraps counts to the end */
    assert_int_equal(boot_low_page(&b), 0x9e000);
    low_mem(&b, 0, 0x100000, BOOT_MEM_BAD);
    assert_int_equal(boot_low_page(&b), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, reset_mem, free_maps)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mb2_full),
        T(test_low_page_below_the_ebda),
        T(test_low_page_skips_modules_and_reserved),
        T(test_low_page_none),
        T(test_mb2_minimal_and_reset),
        T(test_mb2_rsdp_copies),
        T(test_mb2_module_names),
        T(test_mb2_long_cmdline_truncated),
        T(test_mb2_mmap_bigger_entries),
        T(test_mb2_too_many_ranges_truncated),
        T(test_mb2_module_limit),
        T(test_mb2_bad_header),
        T(test_mb2_truncated),
        T(test_mb2_zero_size_tag),
        T(test_mb2_tag_past_end),
        T(test_mb2_missing_end_tag),
        T(test_mb2_unterminated_strings),
        T(test_mb2_bad_module),
        T(test_mb2_bad_mmap),
        T(test_mb2_mmap_partial_entry_ignored),
        T(test_mb1_full),
        T(test_mb1_flags_absent),
        T(test_mb1_basic_mem_fallback),
        T(test_mb1_mmap_entry_sizes),
        T(test_mb1_strings),
        T(test_mb1_long_strings_truncated),
        T(test_mb1_modules_bad),
        T(test_mb1_module_without_string),
        T(test_mb1_info_unreadable),
        T(test_mb1_mmap_wraps),
        T(test_find_module),
    };

    int failed = cmocka_run_group_tests(tests, NULL, NULL);

    free(fake_maps);
    return failed;
}
