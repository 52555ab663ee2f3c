/* test_sha256.c - sha256_parts against the FIPS 180-2 vectors and against OpenSSL's EVP
 * digest over the same bytes split in many ways, from several threads; message ids
 * (publish_msg_id) keep their documented bytes. lib/sha256.c is also compiled here as
 * it builds against an OpenSSL without the deprecated API (its EVP fallback, under the
 * names evp_sha256_*), and both must agree. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED
#define sha256_parts evp_sha256_parts
#define sha256_of evp_sha256_of
#include "../../lib/sha256.c"
#undef sha256_parts
#undef sha256_of

#include <pthread.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "publish.h"

/* the build's own (lib/sha256.o), whichever path it took */
int sha256_parts(const sha256_part_t *parts, size_t n, uint8_t out[SHA256_LEN]);
int sha256_of(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* The copy compiled above really is the fallback. */
static void test_fallback_is_compiled(void **state)
{
    (void)state;
#ifndef OPENSSL_NO_DEPRECATED_3_0
    fail_msg("OPENSSL_NO_DEPRECATED did not hide the deprecated API: no fallback built");
#endif
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_fips_vectors(void **state)
{
    (void)state;
    uint8_t md[SHA256_LEN];
    char h[2 * SHA256_LEN + 1];
    assert_int_equal(sha256_of("abc", 3, md), 0);
    hex(md, sizeof md, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(sha256_of(NULL, 0, md), 0);
    hex(md, sizeof md, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";   /* 2 blocks */
    assert_int_equal(sha256_of(two, strlen(two), md), 0);
    hex(md, sizeof md, h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Splits of a 300-byte input into three parts on a grid (empty first, middle and last
 * parts and a 64-byte block boundary among them) give EVP's digest of the whole, on
 * both paths; no parts at all give the empty input's. */
static void test_any_split_matches_evp(void **state)
{
    (void)state;
    uint8_t in[300], want[SHA256_LEN], got[SHA256_LEN];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(EVP_Digest(in, sizeof in, want, NULL, EVP_sha256(), NULL), 1);
    for (size_t a = 0; a <= sizeof in; a += 13)
        for (size_t b = a; b <= sizeof in; b += 29) {
            sha256_part_t p[3] = {{in, a}, {in + a, b - a}, {in + b, sizeof in - b}};
            memset(got, 0, sizeof got);
            assert_int_equal(sha256_parts(p, 3, got), 0);
            assert_memory_equal(got, want, sizeof want);
            memset(got, 0, sizeof got);
            assert_int_equal(evp_sha256_parts(p, 3, got), 0);
            assert_memory_equal(got, want, sizeof want);
        }
    assert_int_equal(EVP_Digest("", 0, want, NULL, EVP_sha256(), NULL), 1);
    assert_int_equal(sha256_parts(NULL, 0, got), 0);
    assert_memory_equal(got, want, sizeof want);
    assert_int_equal(evp_sha256_parts(NULL, 0, got), 0);
    assert_memory_equal(got, want, sizeof want);
}

/* The first 16 bytes of SHA-256("docbus-msgid-v1" 0 producer 0 type 0 natural_key),
 * computed with Python's hashlib: ids already in Kafka must keep matching. */
static void test_message_ids_unchanged(void **state)
{
    (void)state;
    uint8_t id[16];
    char h[33];
    assert_int_equal(publish_msg_id("000.00.01.H29", BODY_DOCUMENT, "doc-1", id), 0);
    hex(id, sizeof id, h);
    assert_string_equal(h, "2640a54f4ad2996ada90f4f44064f870");
    assert_int_equal(publish_msg_id("000.00.47.H29", BODY_EVENT, "s\xe1\xbb\xb1 ki\xe1\xbb\x87n/7", id), 0);
    hex(id, sizeof id, h);
    assert_string_equal(h, "8b78bfb612fbfceacef27f2ebc4ce425");
}

static void *hash_many(void *arg)
{
    uint8_t buf[100], md[SHA256_LEN], fb[SHA256_LEN], want[SHA256_LEN];
    int *bad = arg;
    for (int i = 0; i < 20000; i++) {
        memset(buf, i & 0xff, sizeof buf);
        if (sha256_of(buf, sizeof buf, md) || evp_sha256_of(buf, sizeof buf, fb) ||
            EVP_Digest(buf, sizeof buf, want, NULL, EVP_sha256(), NULL) != 1 ||
            memcmp(md, want, sizeof md) || memcmp(fb, want, sizeof fb))
            (*bad)++;
    }
    return NULL;
}

/* Four threads at once, each path against EVP's one-shot digest. */
static void test_threads_agree(void **state)
{
    (void)state;
    pthread_t t[4];
    int bad[4] = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hash_many, &bad[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(bad[i], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fallback_is_compiled),
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_any_split_matches_evp),
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_message_ids_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
