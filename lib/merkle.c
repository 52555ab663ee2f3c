/* merkle.c - SHA-256 Merkle trees in RFC 6962 shape: leaves, roots, inclusion paths. */
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "error.h"
#include "sha256.h"

/* SHA-256(prefix || a || b); b may be NULL. */
static int hash_prefixed(uint8_t prefix, const uint8_t *a, size_t alen, const uint8_t *b,
                         size_t blen, uint8_t out[MERKLE_HASH_LEN])
{
    sha256_part_t parts[3] = {{&prefix, 1}, {a, alen}, {b, b ? blen : 0}};
    return sha256_parts(parts, 3, out);
}

int merkle_sha256(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
    return sha256_of(data, len, out);
}

int merkle_leaf(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
    return hash_prefixed(0x00, data, len, NULL, 0, out);
}

int merkle_node(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                uint8_t out[MERKLE_HASH_LEN])
{
    return hash_prefixed(0x01, left, MERKLE_HASH_LEN, right, MERKLE_HASH_LEN, out);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int size_ok(size_t n)
{
    return n >= 1 && (uint64_t)n <= ((uint64_t)1 << MERKLE_MAX_PATH);
}

/* Recursion depth is at most MERKLE_MAX_PATH. */
static int root_rec(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t out[MERKLE_HASH_LEN])
{
    uint8_t l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
    size_t k;
    int rc;
    if (n == 1) {
        memcpy(out, leaves[0], MERKLE_HASH_LEN);
        return 0;
    }
    k = split_point(n);
    if ((rc = root_rec(leaves, k, l)) || (rc = root_rec(leaves + k, n - k, r)))
        return rc;
    return merkle_node(l, r, out);
}

int merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t root[MERKLE_HASH_LEN])
{
    if (!leaves || !size_ok(n))
        return DB_ERR_INVALID;
    return root_rec(leaves, n, root);
}

int merkle_path(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, size_t index,
                uint8_t path[][MERKLE_HASH_LEN], int *path_len)
{
    /* Walk down from the root collecting the sibling subtree roots, then reverse
     * them so the path runs from the leaf up. */
    uint8_t tmp[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
    int depth = 0, rc = 0;
    if (!leaves || !size_ok(n) || index >= n)
        return DB_ERR_INVALID;
    while (n > 1) {
        size_t k = split_point(n);
        if (index < k) {
            rc = root_rec(leaves + k, n - k, tmp[depth]);
            n = k;
        } else {
            rc = root_rec(leaves, k, tmp[depth]);
            leaves += k;
            index -= k;
            n -= k;
        }
        if (rc)
            goto out;
        depth++;
    }
    for (int i = 0; i < depth; i++)
        memcpy(path[i], tmp[depth - 1 - i], MERKLE_HASH_LEN);
    *path_len = depth;
out:
    return rc;
}

int merkle_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t count,
                  const uint8_t (*path)[MERKLE_HASH_LEN], int path_len,
                  const uint8_t root[MERKLE_HASH_LEN])
{
    uint8_t r[MERKLE_HASH_LEN];
    uint64_t fn = index, sn;
    int rc = 0;
    if (count == 0 || index >= count || path_len < 0 || path_len > MERKLE_MAX_PATH ||
        (path_len > 0 && !path))
        return DB_ERR_BAD_PROOF;
    sn = count - 1;
    memcpy(r, leaf, MERKLE_HASH_LEN);
    for (int i = 0; i < path_len; i++) {
        if (sn == 0)
            return DB_ERR_BAD_PROOF;   /* path longer than the tree is high */
        if ((fn & 1) || fn == sn) {
            /* we are a right child, or the last node of a level carried up */
            if ((rc = merkle_node(path[i], r, r)))
                return rc;
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else if ((rc = merkle_node(r, path[i], r))) {
            return rc;
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || CRYPTO_memcmp(r, root, MERKLE_HASH_LEN) != 0)
        return DB_ERR_BAD_PROOF;
    return 0;
}

/* ---- cache of proven nodes ----------------------------------------------------- */

/* Trees are kept in sets of MCACHE_WAYS chosen by root, replaced round-robin within a
 * set: a consumer reads batches interleaved (a batch's copies lie in many partitions), so
 * hundreds of trees are live at once, and two in one direct-mapped slot would evict each
 * other on every switch. The node arrays are allocated on first use, MCACHE_BUDGET bytes
 * in all; past that a tree is verified without the cache. */
#define MCACHE_WAYS 8
#define MCACHE_SETS 256
#define MCACHE_MAX_LEAVES 4096              /* bigger trees are verified without the cache */
#define MCACHE_BUDGET ((size_t)48 << 20)    /* ~1,400 trees of 512 leaves */

/* One tree: node (level, i) at nodes[off[level] + i], known[] says it is proven. A node
 * at level l covers leaves i << l .. ((i + 1) << l) - 1; a last node without a sibling
 * is carried up unchanged, so it appears at several levels under different positions. */
struct mtree {
    uint8_t root[MERKLE_HASH_LEN];
    uint64_t count;                 /* 0: slot empty */
    int levels;
    size_t off[MERKLE_MAX_PATH + 1], width[MERKLE_MAX_PATH + 1];
    uint8_t (*nodes)[MERKLE_HASH_LEN];
    uint8_t *known;                 /* in the same block, after cap nodes */
    size_t cap;
};

struct merkle_cache {
    struct mtree trees[MCACHE_SETS * MCACHE_WAYS];
    uint64_t tags[MCACHE_SETS * MCACHE_WAYS];  /* root bytes 2..9 of each slot's tree, 0:
                                                  empty; a set's tags share a cache line */
    uint8_t next[MCACHE_SETS];      /* the way a set replaces next */
    size_t bytes;                   /* node arrays allocated, all trees */
    uint64_t hashes;                /* node hashes computed by merkle_verify_cached */
};

merkle_cache_t *merkle_cache_new(void)
{
    return calloc(1, sizeof(merkle_cache_t));
}

void merkle_cache_destroy(merkle_cache_t *c)
{
    if (!c)
        return;
    for (int i = 0; i < MCACHE_SETS * MCACHE_WAYS; i++) {
        free(c->trees[i].nodes);   /* known[] lies in the same block */
    }
    free(c);
}

uint64_t merkle_cache_hashes(const merkle_cache_t *c)
{
    return c ? c->hashes : 0;
}

/* The slot holding (root, count), or one emptied and laid out for it (an empty way of its
 * set, else the set's next victim); NULL, evicting nothing, when the tree is too big to
 * remember or the budget or memory is short. A slot's nodes and known flags are one
 * allocation (nodes first), so the budget counts exactly what is allocated. */
static struct mtree *mtree_for(merkle_cache_t *c, const uint8_t root[MERKLE_HASH_LEN],
                               uint64_t count)
{
    unsigned set = (root[0] | (unsigned)root[1] << 8) % MCACHE_SETS;
    struct mtree *ways = &c->trees[set * MCACHE_WAYS], *t = NULL;
    size_t total = 0, off[MERKLE_MAX_PATH + 1], width[MERKLE_MAX_PATH + 1];
    int levels = 0;
    if (count > MCACHE_MAX_LEAVES)
        return NULL;
    uint64_t tag, *tags = &c->tags[set * MCACHE_WAYS];
    memcpy(&tag, root + 2, sizeof tag);
    for (int w = 0; w < MCACHE_WAYS; w++) {
        if (tags[w] == tag && ways[w].count == count &&
            memcmp(ways[w].root, root, MERKLE_HASH_LEN) == 0)
            return &ways[w];
        if (!t && tags[w] == 0)
            t = &ways[w];
    }
    if (!t)
        t = &ways[c->next[set]];
    for (uint64_t last = count - 1;; last >>= 1) {
        off[levels] = total;
        width[levels] = (size_t)last + 1;
        total += (size_t)last + 1;
        levels++;
        if (last == 0)
            break;
    }
    if (total > t->cap) {
        size_t grow = (total - t->cap) * (MERKLE_HASH_LEN + 1);
        void *n;
        if (c->bytes + grow > MCACHE_BUDGET ||
            !(n = realloc(t->nodes, total * (MERKLE_HASH_LEN + 1))))
            return NULL;
        t->nodes = n;
        c->bytes += grow;
        t->cap = total;
    }
    if (t->count != 0)   /* a tree evicted: the set's next victim is the way after it */
        c->next[set] = (uint8_t)((c->next[set] + 1) % MCACHE_WAYS);
    t->known = (uint8_t *)(t->nodes + t->cap);
    memcpy(t->off, off, sizeof off);
    memcpy(t->width, width, sizeof width);
    t->levels = levels;
    memset(t->known, 0, total);
    memcpy(t->root, root, MERKLE_HASH_LEN);
    t->count = count;
    tags[t - ways] = tag;
    return t;
}

/* The proven node at (level, i) of t, or NULL. */
static const uint8_t *mtree_get(const struct mtree *t, int level, uint64_t i)
{
    if (!t || level >= t->levels || i >= t->width[level] || !t->known[t->off[level] + i])
        return NULL;
    return t->nodes[t->off[level] + i];
}

struct mstep {
    int level;
    uint64_t i;
    const uint8_t *hash;
};

int merkle_verify_cached(merkle_cache_t *c, const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index,
                         uint64_t count, const uint8_t (*path)[MERKLE_HASH_LEN], int path_len,
                         const uint8_t root[MERKLE_HASH_LEN])
{
    /* merkle_verify's walk (RFC 9162 2.1.3.2) with each node's position tracked; a
     * parent is taken from the cache when both children equal proven nodes and the
     * parent is proven, else hashed. The nodes not proven before are remembered once the
     * walk ends at the root (rewriting known ones cost more than the walk itself). */
    uint8_t r[MERKLE_HASH_LEN], parents[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
    struct mstep seen[2 * MERKLE_MAX_PATH + 1];
    struct mtree *t;
    const uint8_t *known;
    uint64_t fn = index, sn;
    int level = 0, nseen = 0, rc;
    if (!c)
        return merkle_verify(leaf, index, count, path, path_len, root);
    if (count == 0 || index >= count || path_len < 0 || path_len > MERKLE_MAX_PATH ||
        (path_len > 0 && !path))
        return DB_ERR_BAD_PROOF;
    t = mtree_for(c, root, count);
    sn = count - 1;
    memcpy(r, leaf, MERKLE_HASH_LEN);
    known = mtree_get(t, 0, fn);
    if (!known || memcmp(known, r, MERKLE_HASH_LEN) != 0)
        seen[nseen++] = (struct mstep){0, fn, leaf};
    for (int i = 0; i < path_len; i++) {
        const uint8_t *left, *right, *kr, *ks, *known_parent;
        uint64_t sib;
        if (sn == 0)
            return DB_ERR_BAD_PROOF;
        if (!(fn & 1) && fn == sn) {
            /* the last node of its level, carried up until it is a right child */
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
                level++;
            }
            if (fn == 0)
                return DB_ERR_BAD_PROOF;   /* merkle_verify cannot match the root either */
        }
        sib = (fn & 1) ? fn - 1 : fn + 1;
        left = (fn & 1) ? path[i] : r;
        right = (fn & 1) ? r : path[i];
        kr = mtree_get(t, level, fn);
        ks = mtree_get(t, level, sib);
        known_parent = mtree_get(t, level + 1, fn >> 1);
        /* hashes of public data: a plain comparison is enough here */
        int r_known = kr && memcmp(kr, r, MERKLE_HASH_LEN) == 0;
        int s_known = ks && memcmp(ks, path[i], MERKLE_HASH_LEN) == 0;
        if (!s_known)
            seen[nseen++] = (struct mstep){level, sib, path[i]};
        if (r_known && s_known && known_parent) {
            memcpy(parents[i], known_parent, MERKLE_HASH_LEN);
        } else {
            if ((rc = merkle_node(left, right, parents[i])))
                return rc;
            c->hashes++;
        }
        memcpy(r, parents[i], MERKLE_HASH_LEN);
        fn >>= 1;
        sn >>= 1;
        level++;
        if (!(r_known && s_known && known_parent))
            seen[nseen++] = (struct mstep){level, fn, parents[i]};
    }
    if (sn != 0 || CRYPTO_memcmp(r, root, MERKLE_HASH_LEN) != 0)
        return DB_ERR_BAD_PROOF;
    /* the walk reached the root: every node on it is proven; remember the new ones */
    for (int k = 0; t && k < nseen; k++) {
        if (seen[k].level >= t->levels || seen[k].i >= t->width[seen[k].level])
            continue;
        size_t at = t->off[seen[k].level] + seen[k].i;
        memcpy(t->nodes[at], seen[k].hash, MERKLE_HASH_LEN);
        t->known[at] = 1;
    }
    return 0;
}

struct merkle_tree {
    uint8_t (*nodes)[MERKLE_HASH_LEN]; /* level 0, then level 1, ... up to the root */
    size_t cap;                        /* nodes allocated */
    size_t n;                          /* leaves of the last build */
    int levels;
    size_t off[MERKLE_MAX_PATH + 1];   /* first node of each level */
    size_t width[MERKLE_MAX_PATH + 1]; /* nodes on each level */
};

merkle_tree_t *merkle_tree_new(void)
{
    return calloc(1, sizeof(merkle_tree_t));
}

void merkle_tree_destroy(merkle_tree_t *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t);
}

int merkle_tree_build(merkle_tree_t *t, const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n,
                      uint8_t root[MERKLE_HASH_LEN])
{
    /* Pairing neighbours level by level and carrying an odd last node up unchanged
     * yields exactly the RFC 6962 tree. */
    size_t total = 0, w = n;
    int lv = 0, rc = 0;
    if (!t || !leaves || !size_ok(n))
        return DB_ERR_INVALID;
    for (;;) {
        t->off[lv] = total;
        t->width[lv] = w;
        total += w;
        if (w == 1)
            break;
        w = (w + 1) / 2;
        lv++;
    }
    if (total > t->cap) {
        void *p = realloc(t->nodes, total * MERKLE_HASH_LEN);
        if (!p)
            return DB_ERR_NOMEM;
        t->nodes = p;
        t->cap = total;
    }
    memcpy(t->nodes, leaves, n * MERKLE_HASH_LEN);
    for (int l = 1; l <= lv; l++) {
        uint8_t (*below)[MERKLE_HASH_LEN] = t->nodes + t->off[l - 1];
        uint8_t (*here)[MERKLE_HASH_LEN] = t->nodes + t->off[l];
        size_t bw = t->width[l - 1];
        for (size_t i = 0; i + 1 < bw; i += 2)
            if ((rc = merkle_node(below[i], below[i + 1], here[i / 2])))
                goto out;
        if (bw & 1)
            memcpy(here[bw / 2], below[bw - 1], MERKLE_HASH_LEN);
    }
    t->n = n;
    t->levels = lv + 1;
    memcpy(root, t->nodes[t->off[lv]], MERKLE_HASH_LEN);
out:
    if (rc)
        t->n = 0;
    return rc;
}

int merkle_tree_path(const merkle_tree_t *t, size_t index, uint8_t path[][MERKLE_HASH_LEN],
                     int *path_len)
{
    int len = 0;
    if (!t || index >= t->n)
        return DB_ERR_INVALID;
    for (int l = 0; l + 1 < t->levels; l++) {
        size_t sib = index ^ 1;
        if (sib < t->width[l])
            memcpy(path[len++], t->nodes[t->off[l] + sib], MERKLE_HASH_LEN);
        index >>= 1;
    }
    *path_len = len;
    return 0;
}
