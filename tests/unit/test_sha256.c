/* test_sha256.c (host test): SHA-256 against FIPS 180-4's examples and sha256sum (toolstack/protocol/sha256.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

static void known_digests(void **state)
{
    static const struct { const char *text, *digest; } cases[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    };
    char out[SHA256_HEX_LEN + 1];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sha256_hex(cases[i].text, strlen(cases[i].text), out);
        assert_string_equal(out, cases[i].digest);
    }
}

/* A million 'a' (FIPS 180-4's third example) crosses every padding case on the way. */
static void a_million_a(void **state)
{
    static char a[1000000];
    char out[SHA256_HEX_LEN + 1];

    memset(a, 'a', sizeof(a));
    sha256_hex(a, sizeof(a), out);
    assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the 55/56/64-byte padding edges, checked against sha256sum's answers. */
static void padding_edges(void **state)
{
    static const struct { size_t len; const char *digest; } cases[] = {
        { 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
        { 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
        { 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
    };
    char a[64], out[SHA256_HEX_LEN + 1];

    memset(a, 'a', sizeof(a));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sha256_hex(a, cases[i].len, out);
        assert_string_equal(out, cases[i].digest);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_digests),
        cmocka_unit_test(a_million_a),
        cmocka_unit_test(padding_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
