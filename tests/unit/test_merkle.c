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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_leaves_root_and_paths_match),
        cmocka_unit_test(test_every_index_verifies_for_sizes_1_to_70),
        cmocka_unit_test(test_flipped_bit_in_leaf_path_or_root_fails),
        cmocka_unit_test(test_wrong_path_length_or_count_fails),
        cmocka_unit_test(test_empty_tree_and_bad_index_are_invalid),
    };
    return cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
}
