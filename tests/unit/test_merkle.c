/* test_merkle.c - Merkle trees: golden 7-leaf tree, every path verifies, tampering fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "merkle.h"

#define H MERKLE_HASH_LEN

typedef struct golden {
    uint8_t data[7][64];
    size_t data_len[7];
    uint8_t leaf[7][H];
    uint8_t root[H];
    uint8_t path[7][MERKLE_MAX_PATH][H];
    int path_len[7];
} golden_t;

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    while (s[0] && s[1] && s[0] != ' ' && s[0] != '\n') {
        unsigned v;
        if (n == cap || sscanf(s, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    *len = n;
    return 0;
}

static void load_golden(golden_t *g)
{
    const char *dir = getenv("DOCBUS_GOLDEN_DIR") ? getenv("DOCBUS_GOLDEN_DIR") : "tests/golden";
    char file[512], line[4096];
    FILE *f;
    memset(g, 0, sizeof *g);
    snprintf(file, sizeof file, "%s/merkle-7.txt", dir);
    f = fopen(file, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        char kind[8];
        int i = -1, off = 0;
        size_t len;
        if (line[0] == '#')
            continue;
        if (sscanf(line, "%7s %d %n", kind, &i, &off) == 2 && i >= 0 && i < 7) {
            if (!strcmp(kind, "data")) {
                assert_int_equal(unhex(line + off, g->data[i], 64, &g->data_len[i]), 0);
            } else if (!strcmp(kind, "leaf")) {
                assert_int_equal(unhex(line + off, g->leaf[i], H, &len), 0);
                assert_int_equal(len, H);
            } else if (!strcmp(kind, "path")) {
                const char *p = line + off;
                while (*p && *p != '\n') {
                    assert_true(g->path_len[i] < MERKLE_MAX_PATH);
                    assert_int_equal(unhex(p, g->path[i][g->path_len[i]], H, &len), 0);
                    assert_int_equal(len, H);
                    g->path_len[i]++;
                    p += 2 * H;
                    while (*p == ' ')
                        p++;
                }
            }
        } else if (sscanf(line, "%7s %n", kind, &off) == 1 && !strcmp(kind, "root")) {
            assert_int_equal(unhex(line + off, g->root, H, &len), 0);
            assert_int_equal(len, H);
        }
    }
    fclose(f);
}

/* FIPS 180-2 test vectors: "abc" and the empty string. */
static void test_plain_sha256_matches_the_standard_vectors(void **state)
{
    (void)state;
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t empty[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    uint8_t out[32];
    assert_int_equal(merkle_sha256((const uint8_t *)"abc", 3, out), 0);
    assert_memory_equal(out, abc, 32);
    assert_int_equal(merkle_sha256((const uint8_t *)"", 0, out), 0);
    assert_memory_equal(out, empty, 32);
}

static void test_golden_leaves_root_and_paths_match(void **state)
{
    (void)state;
    golden_t g;
    uint8_t leaves[7][H], root[H], path[MERKLE_MAX_PATH][H];
    int len;
    merkle_tree_t *t = merkle_tree_new();
    load_golden(&g);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(merkle_leaf(g.data[i], g.data_len[i], leaves[i]), 0);
        assert_memory_equal(leaves[i], g.leaf[i], H);
    }
    assert_int_equal(merkle_root((const uint8_t(*)[H])leaves, 7, root), 0);
    assert_memory_equal(root, g.root, H);
    memset(root, 0, H);
    assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])leaves, 7, root), 0);
    assert_memory_equal(root, g.root, H);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(merkle_path((const uint8_t(*)[H])leaves, 7, (size_t)i, path, &len), 0);
        assert_int_equal(len, g.path_len[i]);
        assert_memory_equal(path, g.path[i], (size_t)len * H);
        assert_int_equal(merkle_tree_path(t, (size_t)i, path, &len), 0);
        assert_int_equal(len, g.path_len[i]);
        assert_memory_equal(path, g.path[i], (size_t)len * H);
        assert_int_equal(merkle_verify(g.leaf[i], (uint64_t)i, 7, (const uint8_t(*)[H])g.path[i],
                                       g.path_len[i], g.root), 0);
    }
    merkle_tree_destroy(t);
}

/* For every size 1..70 and every index: both path builders agree, the path verifies,
 * and it is at most ceil(log2 n) long. */
static void test_every_index_verifies_for_sizes_1_to_70(void **state)
{
    (void)state;
    enum { N = 70 };
    uint8_t leaves[N][H], root[H], root2[H], p1[MERKLE_MAX_PATH][H], p2[MERKLE_MAX_PATH][H];
    int l1, l2;
    merkle_tree_t *t = merkle_tree_new();
    for (int i = 0; i < N; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "m%d", i);
        assert_int_equal(merkle_leaf((const uint8_t *)buf, (size_t)n, leaves[i]), 0);
    }
    for (size_t n = 1; n <= N; n++) {
        int maxlen = 0;
        while (((size_t)1 << maxlen) < n)
            maxlen++;
        assert_int_equal(merkle_root((const uint8_t(*)[H])leaves, n, root), 0);
        assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])leaves, n, root2), 0);
        assert_memory_equal(root, root2, H);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(merkle_path((const uint8_t(*)[H])leaves, n, i, p1, &l1), 0);
            assert_int_equal(merkle_tree_path(t, i, p2, &l2), 0);
            assert_int_equal(l1, l2);
            assert_true(l1 <= maxlen);
            if (l1)
                assert_memory_equal(p1, p2, (size_t)l1 * H);
            assert_int_equal(merkle_verify(leaves[i], i, n, (const uint8_t(*)[H])p1, l1, root), 0);
            /* the same proof must not verify at another index or tree size */
            if (n > 1)
                assert_int_equal(merkle_verify(leaves[i], (i + 1) % n, n,
                                               (const uint8_t(*)[H])p1, l1, root),
                                 DB_ERR_BAD_PROOF);
        }
    }
    merkle_tree_destroy(t);
}

static void test_flipped_bit_in_leaf_path_or_root_fails(void **state)
{
    (void)state;
    golden_t g;
    load_golden(&g);
    for (int i = 0; i < 7; i++) {
        for (int bit = 0; bit < H * 8; bit++) {
            uint8_t leaf[H], root[H], path[MERKLE_MAX_PATH][H];
            memcpy(leaf, g.leaf[i], H);
            leaf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(merkle_verify(leaf, (uint64_t)i, 7, (const uint8_t(*)[H])g.path[i],
                                           g.path_len[i], g.root), DB_ERR_BAD_PROOF);
            memcpy(root, g.root, H);
            root[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(merkle_verify(g.leaf[i], (uint64_t)i, 7, (const uint8_t(*)[H])g.path[i],
                                           g.path_len[i], root), DB_ERR_BAD_PROOF);
            for (int p = 0; p < g.path_len[i]; p++) {
                memcpy(path, g.path[i], sizeof path);
                path[p][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_equal(merkle_verify(g.leaf[i], (uint64_t)i, 7, (const uint8_t(*)[H])path,
                                               g.path_len[i], g.root), DB_ERR_BAD_PROOF);
            }
        }
    }
}

static void test_wrong_path_length_or_count_fails(void **state)
{
    (void)state;
    golden_t g;
    load_golden(&g);
    for (int i = 0; i < 7; i++) {
        const uint8_t(*p)[H] = (const uint8_t(*)[H])g.path[i];
        assert_int_equal(merkle_verify(g.leaf[i], (uint64_t)i, 7, p, g.path_len[i] - 1, g.root),
                         DB_ERR_BAD_PROOF);
        assert_int_equal(merkle_verify(g.leaf[i], (uint64_t)i, 7, p, g.path_len[i] + 1, g.root),
                         DB_ERR_BAD_PROOF);
        assert_int_equal(merkle_verify(g.leaf[i], 7, 7, p, g.path_len[i], g.root), DB_ERR_BAD_PROOF);
    }
    /* The path alone does not bind the tree size for leaves inside a full left subtree
     * (the signed header does); for the carried-up last leaf it does. */
    assert_int_equal(merkle_verify(g.leaf[6], 6, 8, (const uint8_t(*)[H])g.path[6], g.path_len[6],
                                   g.root), DB_ERR_BAD_PROOF);
    /* a single leaf is its own root with an empty path */
    assert_int_equal(merkle_verify(g.leaf[0], 0, 1, NULL, 0, g.leaf[0]), 0);
    assert_int_equal(merkle_verify(g.leaf[0], 0, 1, NULL, 0, g.leaf[1]), DB_ERR_BAD_PROOF);
}

static void test_empty_tree_and_bad_index_are_invalid(void **state)
{
    (void)state;
    uint8_t leaves[2][H] = {{1}, {2}}, root[H], path[MERKLE_MAX_PATH][H];
    int len;
    merkle_tree_t *t = merkle_tree_new();
    assert_int_equal(merkle_root((const uint8_t(*)[H])leaves, 0, root), DB_ERR_INVALID);
    assert_int_equal(merkle_path((const uint8_t(*)[H])leaves, 2, 2, path, &len), DB_ERR_INVALID);
    assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])leaves, 0, root), DB_ERR_INVALID);
    assert_int_equal(merkle_tree_path(t, 0, path, &len), DB_ERR_INVALID);
    merkle_tree_destroy(t);
    merkle_tree_destroy(NULL);
}

/* merkle_verify_cached answers exactly as merkle_verify, for honest proofs in any order
 * and for every single-bit or length tampering, with the cache warm from honest proofs
 * of the same tree (and of a neighbouring tree size). */
static void test_cached_verify_agrees_with_plain_verify(void **state)
{
    (void)state;
    static uint8_t leaves[600][H];
    uint8_t root[H], path[MERKLE_MAX_PATH][H], bad[MERKLE_MAX_PATH][H], leaf[H];
    int len, hashes_checked = 0;
    const size_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 70, 512, 513, 600};
    merkle_tree_t *t = merkle_tree_new();
    merkle_cache_t *c = merkle_cache_new();
    assert_non_null(c);
    for (int i = 0; i < 600; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "c%d", i);
        assert_int_equal(merkle_leaf((const uint8_t *)buf, (size_t)n, leaves[i]), 0);
    }
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])leaves, n, root), 0);
        /* honest proofs, forwards then backwards then strided: all verify */
        for (int pass = 0; pass < 3; pass++)
            for (size_t k = 0; k < n; k++) {
                size_t i = pass == 0 ? k : pass == 1 ? n - 1 - k : (k * 37) % n;
                assert_int_equal(merkle_tree_path(t, i, path, &len), 0);
                assert_int_equal(merkle_verify_cached(c, leaves[i], i, n,
                                                      (const uint8_t(*)[H])path, len, root), 0);
            }
        /* tampering, against a warm cache: same verdict as the plain verifier */
        for (size_t i = 0; i < n; i += (n > 70 ? 7 : 1)) {
            assert_int_equal(merkle_tree_path(t, i, path, &len), 0);
            for (int e = 0; e < len; e++)
                for (int bit = 0; bit < 8 * H; bit += 61) {
                    memcpy(bad, path, sizeof path);
                    bad[e][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    assert_int_equal(merkle_verify_cached(c, leaves[i], i, n,
                                                          (const uint8_t(*)[H])bad, len, root),
                                     merkle_verify(leaves[i], i, n, (const uint8_t(*)[H])bad, len, root));
                    hashes_checked++;
                }
            memcpy(leaf, leaves[i], H);
            leaf[i % H] ^= 0x80;
            assert_int_equal(merkle_verify_cached(c, leaf, i, n, (const uint8_t(*)[H])path, len, root),
                             DB_ERR_BAD_PROOF);
            for (int dl = -1; dl <= 1; dl += 2)
                if (len + dl >= 0 && len + dl <= MERKLE_MAX_PATH)
                    assert_int_equal(
                        merkle_verify_cached(c, leaves[i], i, n, (const uint8_t(*)[H])path, len + dl, root),
                        merkle_verify(leaves[i], i, n, (const uint8_t(*)[H])path, len + dl, root));
            for (uint64_t other = 0; other < n && other < 4; other++)
                assert_int_equal(
                    merkle_verify_cached(c, leaves[i], other, n, (const uint8_t(*)[H])path, len, root),
                    merkle_verify(leaves[i], other, n, (const uint8_t(*)[H])path, len, root));
            assert_int_equal(
                merkle_verify_cached(c, leaves[i], i, n + 1, (const uint8_t(*)[H])path, len, root),
                merkle_verify(leaves[i], i, n + 1, (const uint8_t(*)[H])path, len, root));
        }
    }
    assert_true(hashes_checked > 1000);
    /* no cache: the plain verifier */
    assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])leaves, 9, root), 0);
    assert_int_equal(merkle_tree_path(t, 4, path, &len), 0);
    assert_int_equal(merkle_verify_cached(NULL, leaves[4], 4, 9, (const uint8_t(*)[H])path, len, root), 0);
    merkle_cache_destroy(c);
    merkle_cache_destroy(NULL);
    merkle_tree_destroy(t);
}

/* A consumer reads the leaves of hundreds of batches interleaved: with every tree cached,
 * each tree costs exactly n - 1 node hashes whatever the order; more trees than the cache
 * holds still verify. */
static void test_cache_keeps_interleaved_trees(void **state)
{
    (void)state;
    enum { TREES = 600, LEAVES = 8, MANY = 3000 };
    static uint8_t leaves[TREES][LEAVES][H], roots[TREES][H], paths[TREES][LEAVES][MERKLE_MAX_PATH][H];
    static int lens[TREES][LEAVES];
    merkle_tree_t *t = merkle_tree_new();
    merkle_cache_t *c = merkle_cache_new();
    assert_non_null(c);
    assert_int_equal(merkle_cache_hashes(NULL), 0);
    for (int k = 0; k < TREES; k++) {
        for (int i = 0; i < LEAVES; i++) {
            char buf[32];
            int n = snprintf(buf, sizeof buf, "t%d/%d", k, i);
            assert_int_equal(merkle_leaf((const uint8_t *)buf, (size_t)n, leaves[k][i]), 0);
        }
        assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])leaves[k], LEAVES, roots[k]), 0);
        for (int i = 0; i < LEAVES; i++)
            assert_int_equal(merkle_tree_path(t, (size_t)i, paths[k][i], &lens[k][i]), 0);
    }
    for (int i = 0; i < LEAVES; i++)
        for (int k = 0; k < TREES; k++)
            assert_int_equal(merkle_verify_cached(c, leaves[k][i], (uint64_t)i, LEAVES,
                                                  (const uint8_t(*)[H])paths[k][i], lens[k][i],
                                                  roots[k]), 0);
    assert_int_equal(merkle_cache_hashes(c), (uint64_t)TREES * (LEAVES - 1));
    /* a tampered path against the warm cache still fails */
    paths[7][3][1][0] ^= 1;
    assert_int_equal(merkle_verify_cached(c, leaves[7][3], 3, LEAVES,
                                          (const uint8_t(*)[H])paths[7][3], lens[7][3], roots[7]),
                     DB_ERR_BAD_PROOF);
    paths[7][3][1][0] ^= 1;
    merkle_cache_destroy(c);
    /* more trees than slots: evictions, every proof still verifies */
    c = merkle_cache_new();
    assert_non_null(c);
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < MANY; k++) {
            uint8_t l[4][H], root[H], path[MERKLE_MAX_PATH][H];
            int len;
            for (int i = 0; i < 4; i++) {
                char buf[32];
                int n = snprintf(buf, sizeof buf, "m%d/%d", k, i);
                assert_int_equal(merkle_leaf((const uint8_t *)buf, (size_t)n, l[i]), 0);
            }
            assert_int_equal(merkle_tree_build(t, (const uint8_t(*)[H])l, 4, root), 0);
            assert_int_equal(merkle_tree_path(t, (size_t)(k + round) % 4, path, &len), 0);
            assert_int_equal(merkle_verify_cached(c, l[(k + round) % 4], (uint64_t)(k + round) % 4,
                                                  4, (const uint8_t(*)[H])path, len, root), 0);
        }
    merkle_cache_destroy(c);
    merkle_tree_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_sha256_matches_the_standard_vectors),
        cmocka_unit_test(test_golden_leaves_root_and_paths_match),
        cmocka_unit_test(test_every_index_verifies_for_sizes_1_to_70),
        cmocka_unit_test(test_flipped_bit_in_leaf_path_or_root_fails),
        cmocka_unit_test(test_wrong_path_length_or_count_fails),
        cmocka_unit_test(test_empty_tree_and_bad_index_are_invalid),
        cmocka_unit_test(test_cached_verify_agrees_with_plain_verify),
        cmocka_unit_test(test_cache_keeps_interleaved_trees),
    };
    return cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
}
