/* sha256.h - SHA-256 of a few byte ranges, for the small inputs hashed per message
 * (Merkle leaves and nodes, message ids, body hashes). */
#ifndef DOCBUS_SHA256_H
#define DOCBUS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* One input range; len 0 adds nothing (data may then be NULL). */
typedef struct sha256_part {
    const void *data;
    size_t len;
} sha256_part_t;

/* out = SHA-256 of parts[0] || ... || parts[n-1]. 0, or DB_ERR_CRYPTO when OpenSSL
 * fails (out of memory). Safe from any thread. */
int sha256_parts(const sha256_part_t *parts, size_t n, uint8_t out[SHA256_LEN]);

/* out = SHA-256 of the len bytes at data; 0 or DB_ERR_CRYPTO. */
int sha256_of(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
