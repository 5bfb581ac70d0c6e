/* test_file_digest.c (host test): the CLI's digest cache reuses a file's SHA-256 only while the file is as it was. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "file_digest.h"
#include "run_dir.h"

/* The run directory: a temporary one, given to run_dir.c as $WISP_RUN_DIR. */
static char dir[64] = "/tmp/wisp-digest-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void expect_digest_of(const char *path, const char *text, const char *want_hex)
{
    struct hashed_file h;

    assert_int_equal(file_read_hashed("kernel", path, 1 << 20, &h), 0);
    assert_int_equal(h.size, strlen(text));
    assert_memory_equal(h.data, text, h.size);
    assert_string_equal(h.digest, want_hex);
    free(h.data);
}

/* Replaces every digest in the cache by a made-up one: a read that returns it used the cache. */
static void forge_cache(const char *forged)
{
    char path[128], line[256], out[4096] = "";
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, RUN_DIGESTS);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *space = strrchr(line, ' ');

        assert_non_null(space);
        snprintf(space + 1, sizeof(line) - (size_t)(space + 1 - line), "%s\n", forged);
        strcat(out, line);
    }
    fclose(f);
    write_file(path, out);
}

static void test_cache_is_used_only_while_the_file_is_unchanged(void **state)
{
    char path[128], cache[128], hex[SHA256_HEX_LEN + 1], forged[SHA256_HEX_LEN + 1];
    struct stat before;
    struct timespec times[2];

    (void)state;
    memset(forged, 'f', SHA256_HEX_LEN);
    forged[SHA256_HEX_LEN] = '\0';
    snprintf(path, sizeof(path), "%s/kernel", dir);
    write_file(path, "first");
    sha256_hex("first", 5, hex);

    expect_digest_of(path, "first", hex);       /* just written: hashed, not remembered */
    snprintf(cache, sizeof(cache), "%s/%s", dir, RUN_DIGESTS);
    assert_int_not_equal(access(cache, F_OK), 0);
    sleep(3);                                   /* settled: now it is remembered */
    expect_digest_of(path, "first", hex);
    forge_cache(forged);
    expect_digest_of(path, "first", forged);    /* unchanged: the cache answers */

    /* Rewritten in place, same size, its modification time put back: hashed again. */
    assert_int_equal(stat(path, &before), 0);
    write_file(path, "other");
    times[0] = before.st_atim;
    times[1] = before.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    sha256_hex("other", 5, hex);
    expect_digest_of(path, "other", hex);       /* recent: hashed whatever the cache says */
    sleep(3);
    expect_digest_of(path, "other", hex);       /* settled: its change time tells it apart */
}

static void test_missing_and_oversized_files_are_refused(void **state)
{
    char path[128];
    struct hashed_file h;

    (void)state;
    snprintf(path, sizeof(path), "%s/nothere", dir);
    assert_int_equal(file_read_hashed("kernel", path, 1 << 20, &h), -1);
    assert_null(h.data);
    snprintf(path, sizeof(path), "%s/big", dir);
    write_file(path, "0123456789");
    assert_int_equal(file_read_hashed("kernel", path, 9, &h), -1);
    assert_int_equal(file_read_hashed("kernel", dir, 1 << 20, &h), -1);     /* a directory */
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) && !setenv("WISP_RUN_DIR", dir, 1) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_is_used_only_while_the_file_is_unchanged),
        cmocka_unit_test(test_missing_and_oversized_files_are_refused),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
