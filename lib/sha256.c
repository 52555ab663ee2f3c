/* sha256.c - SHA-256 of a few byte ranges without an allocation per hash.
 *
 * OpenSSL 3.0's EVP_DigestInit_ex frees and reallocates the provider's context each
 * time it is called, even on a reused EVP_MD_CTX with the same fetched digest: ~110 ns
 * a hash on the bench machine, as much as hashing a 65-byte Merkle node (249 against
 * 137 ns; 427 against 338 ns for a 400-byte leaf). docbus hashes two or three small
 * inputs per message on every path (sign, verify, import, aggregate, audit), so where
 * OpenSSL still has its SHA256_* functions (deprecated in 3.0, the same SHA-NI/AVX2 code
 * underneath) they are used on a context on the stack; a build of OpenSSL without the
 * deprecated API falls back to EVP with one context per thread. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sha256.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "error.h"

#ifndef OPENSSL_NO_DEPRECATED_3_0

int sha256_parts(const sha256_part_t *parts, size_t n, uint8_t out[SHA256_LEN])
{
    SHA256_CTX c;
    if (!SHA256_Init(&c))
        return DB_ERR_CRYPTO;
    for (size_t i = 0; i < n; i++)
        if (parts[i].len && !SHA256_Update(&c, parts[i].data, parts[i].len))
            return DB_ERR_CRYPTO;
    return SHA256_Final(out, &c) ? 0 : DB_ERR_CRYPTO;
}

#else

#include <pthread.h>

/* SHA-256 is fetched once per process and each thread reuses one digest context. */
static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static int md_ok;

static void ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static void md_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_ok = sha256_md && pthread_key_create(&ctx_key, ctx_free) == 0;
}

/* This thread's digest context, made on first use; NULL when out of memory. */
static EVP_MD_CTX *thread_ctx(void)
{
    EVP_MD_CTX *ctx;
    if (pthread_once(&md_once, md_init) != 0 || !md_ok)
        return NULL;
    ctx = pthread_getspecific(ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        if (ctx && pthread_setspecific(ctx_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}

int sha256_parts(const sha256_part_t *parts, size_t n, uint8_t out[SHA256_LEN])
{
    EVP_MD_CTX *ctx = thread_ctx();
    if (!ctx || !EVP_DigestInit_ex(ctx, sha256_md, NULL))
        return DB_ERR_CRYPTO;
    for (size_t i = 0; i < n; i++)
        if (parts[i].len && !EVP_DigestUpdate(ctx, parts[i].data, parts[i].len))
            return DB_ERR_CRYPTO;
    return EVP_DigestFinal_ex(ctx, out, NULL) ? 0 : DB_ERR_CRYPTO;
}

#endif

int sha256_of(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
    sha256_part_t p = {data, len};
    return sha256_parts(&p, 1, out);
}
