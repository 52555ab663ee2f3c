/* merkle.h - SHA-256 Merkle trees in RFC 6962 shape: leaves, roots, inclusion paths. */
#ifndef DOCBUS_MERKLE_H
#define DOCBUS_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
#define MERKLE_MAX_PATH 32   /* 2^32 leaves at most; equals ENVELOPE_MAX_PATH */

/* Plain SHA-256(data), with the digest fetched once per process and a context per
 * thread (the one-shot SHA256() looks the algorithm up per call). Returns 0 or
 * DB_ERR_CRYPTO. */
int merkle_sha256(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/* leaf = SHA-256(0x00 || data). Returns 0, or DB_ERR_CRYPTO if OpenSSL fails. */
int merkle_leaf(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/* node = SHA-256(0x01 || left || right). Returns 0 or DB_ERR_CRYPTO. */
int merkle_node(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                uint8_t out[MERKLE_HASH_LEN]);

/* Root of the tree over n leaf hashes (n >= 1), split as RFC 6962 does (left subtree
 * holds the largest power of two smaller than n). Returns 0, DB_ERR_INVALID for n == 0
 * or n > 2^32, or DB_ERR_CRYPTO. Uses n-1 hashes and no allocation. */
int merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t root[MERKLE_HASH_LEN]);

/* Inclusion path of leaf index in the tree over n leaves: sibling hashes from the leaf
 * up to the root, written to path (room for MERKLE_MAX_PATH), length in *path_len.
 * Costs O(n) hashes; to take every path of one tree use merkle_tree_t. Returns 0,
 * DB_ERR_INVALID (index >= n, n == 0) or DB_ERR_CRYPTO. */
int merkle_path(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, size_t index,
                uint8_t path[][MERKLE_HASH_LEN], int *path_len);

/* Checks that leaf sits at index in a tree of count leaves with this root, following
 * path (RFC 9162 section 2.1.3.2). Returns 0, DB_ERR_BAD_PROOF if it does not (wrong
 * path length, index >= count, hashes differ), or DB_ERR_CRYPTO. The root comparison
 * is constant-time. */
int merkle_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t count,
                  const uint8_t (*path)[MERKLE_HASH_LEN], int path_len,
                  const uint8_t root[MERKLE_HASH_LEN]);

/* Nodes of recently proven trees, so that proofs of other leaves of the same tree reuse
 * them instead of hashing again: a node is only remembered after a proof through it
 * reached the root, and is reused only where the proof presents the same children. */
typedef struct merkle_cache merkle_cache_t;

/* Returns an empty cache (its trees take 48 MiB at most), or NULL when out of memory. */
merkle_cache_t *merkle_cache_new(void);

/* Node hashes merkle_verify_cached has computed with c (0 for NULL): what it saves. */
uint64_t merkle_cache_hashes(const merkle_cache_t *c);

/* Frees c; NULL is allowed. */
void merkle_cache_destroy(merkle_cache_t *c);

/* merkle_verify with the same result for every input, reusing and remembering proven
 * nodes in c (NULL: plain merkle_verify). Most leaves of a warm tree cost no node hash. */
int merkle_verify_cached(merkle_cache_t *c, const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index,
                         uint64_t count, const uint8_t (*path)[MERKLE_HASH_LEN], int path_len,
                         const uint8_t root[MERKLE_HASH_LEN]);

/* A whole tree kept level by level, so that every path costs O(log n). Reusable:
 * build again with other leaves and the buffer is kept. */
typedef struct merkle_tree merkle_tree_t;

/* Returns an empty tree, or NULL when out of memory. */
merkle_tree_t *merkle_tree_new(void);

/* Frees t; NULL is allowed. */
void merkle_tree_destroy(merkle_tree_t *t);

/* Builds the tree over n leaf hashes (copied) and writes its root. Returns 0,
 * DB_ERR_INVALID (n == 0 or too large), DB_ERR_NOMEM or DB_ERR_CRYPTO. */
int merkle_tree_build(merkle_tree_t *t, const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n,
                      uint8_t root[MERKLE_HASH_LEN]);

/* Path of leaf index of the last built tree (same output as merkle_path). Returns 0 or
 * DB_ERR_INVALID (index out of range). */
int merkle_tree_path(const merkle_tree_t *t, size_t index, uint8_t path[][MERKLE_HASH_LEN],
                     int *path_len);

#endif
