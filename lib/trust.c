/* trust.c - the verifier's trust store: root CA, CRL and unit certificates by key id. */
#include "trust.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "pki.h"

typedef struct trust_cert {
    uint8_t key_id[32];
    X509 *cert;
    EVP_PKEY *pub;              /* borrowed from cert */
    char unit[UNIT_CODE_MAX];   /* "" when the certificate names no single unit */
    char unit_err[160];
    int64_t not_before_ms, not_after_ms;
    int chain;                  /* 0 unchecked, 1 good, else the db_err_t */
    char chain_err[200];
    unsigned crl_gen;           /* crl generation the revocation fields were computed for */
    int revoked;
    int64_t revoked_at_ms;
} trust_cert_t;

struct trust {
    X509 *ca;
    X509_STORE *store;
    int64_t ca_not_before_ms, ca_not_after_ms;
    X509_CRL *crl;
    unsigned crl_gen;
    trust_cert_t **slots;       /* open addressing on key_id */
    size_t nslots, count;
};

static int64_t asn1_ms(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (int64_t)timegm(&tm) * 1000;
}

static size_t slot_of(const trust_t *t, const uint8_t key_id[32])
{
    uint64_t h;
    memcpy(&h, key_id, sizeof h);   /* key ids are SHA-256 outputs: already uniform */
    return (size_t)h & (t->nslots - 1);
}

static trust_cert_t *lookup(const trust_t *t, const uint8_t key_id[32])
{
    if (!t->nslots)
        return NULL;
    for (size_t i = slot_of(t, key_id);; i = (i + 1) & (t->nslots - 1)) {
        trust_cert_t *c = t->slots[i];
        if (!c)
            return NULL;
        if (!memcmp(c->key_id, key_id, 32))
            return c;
    }
}

static int grow(trust_t *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 64;
    trust_cert_t **old = t->slots;
    size_t oldn = t->nslots;
    t->slots = calloc(n, sizeof *t->slots);
    if (!t->slots) {
        t->slots = old;
        return DB_ERR_NOMEM;
    }
    t->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        if (!old[i])
            continue;
        size_t j = slot_of(t, old[i]->key_id);
        while (t->slots[j])
            j = (j + 1) & (n - 1);
        t->slots[j] = old[i];
    }
    free(old);
    return 0;
}

static trust_t *trust_new(X509 *ca, char *errstr, size_t errstr_size)
{
    trust_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    t->store = X509_STORE_new();
    if (!t->store || !X509_STORE_add_cert(t->store, ca) || !X509_up_ref(ca)) {
        snprintf(errstr, errstr_size, "cannot build the X.509 store");
        ERR_clear_error();
        trust_destroy(t);
        return NULL;
    }
    t->ca = ca;
    t->ca_not_before_ms = asn1_ms(X509_get0_notBefore(ca));
    t->ca_not_after_ms = asn1_ms(X509_get0_notAfter(ca)) + 999;
    return t;
}

int trust_add_cert(trust_t *t, X509 *cert, char *errstr, size_t errstr_size)
{
    trust_cert_t *c;
    uint8_t kid[32];
    int rc = 0;
    if (pki_cert_key_id(cert, kid)) {
        snprintf(errstr, errstr_size, "cannot hash a certificate");
        return DB_ERR_CRYPTO;
    }
    if (lookup(t, kid))
        return 0;
    if ((t->count + 1) * 2 > t->nslots && (rc = grow(t)))
        return rc;
    c = calloc(1, sizeof *c);
    if (!c || !X509_up_ref(cert)) {
        free(c);
        return DB_ERR_NOMEM;
    }
    memcpy(c->key_id, kid, 32);
    c->cert = cert;
    c->pub = X509_get0_pubkey(cert);
    c->not_before_ms = asn1_ms(X509_get0_notBefore(cert));
    c->not_after_ms = asn1_ms(X509_get0_notAfter(cert)) + 999;
    if (pki_cert_unit(cert, c->unit, c->unit_err, sizeof c->unit_err))
        c->unit[0] = '\0';
    c->crl_gen = (unsigned)-1;
    size_t j = slot_of(t, kid);
    while (t->slots[j])
        j = (j + 1) & (t->nslots - 1);
    t->slots[j] = c;
    t->count++;
    return 0;
}

int trust_add_cert_der(trust_t *t, const uint8_t *der, size_t len, char *errstr,
                       size_t errstr_size)
{
    const unsigned char *p = der;
    X509 *x = len <= 65536 ? d2i_X509(NULL, &p, (long)len) : NULL;
    int rc;
    if (!x || p != der + len) {
        snprintf(errstr, errstr_size, "certificate (%zu bytes of DER) does not parse", len);
        ERR_clear_error();
        X509_free(x);
        return DB_ERR_INVALID;
    }
    rc = trust_add_cert(t, x, errstr, errstr_size);
    X509_free(x);
    return rc;
}

int trust_set_crl(trust_t *t, X509_CRL *crl, char *errstr, size_t errstr_size)
{
    EVP_PKEY *ca_pub = X509_get0_pubkey(t->ca);
    if (!ca_pub || X509_CRL_verify(crl, ca_pub) != 1 ||
        X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(t->ca)) != 0) {
        snprintf(errstr, errstr_size, "the CRL is not signed by the trusted root CA");
        ERR_clear_error();
        return DB_ERR_CERT_CHAIN;
    }
    if (!X509_CRL_up_ref(crl))
        return DB_ERR_NOMEM;
    X509_CRL_free(t->crl);
    t->crl = crl;
    t->crl_gen++;
    return 0;
}

static int load_crl_file(trust_t *t, const char *path, char *errstr, size_t errstr_size)
{
    BIO *b = BIO_new_file(path, "r");
    X509_CRL *crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
    int rc;
    BIO_free(b);
    if (!crl) {
        snprintf(errstr, errstr_size, "%s: cannot read a PEM CRL", path);
        ERR_clear_error();
        return DB_ERR_CONFIG;
    }
    rc = trust_set_crl(t, crl, errstr, errstr_size);
    if (rc == DB_ERR_CERT_CHAIN)
        snprintf(errstr, errstr_size, "%s is not signed by the trusted root CA", path);
    X509_CRL_free(crl);
    return rc;
}

static int load_dir(trust_t *t, const char *dir, char *errstr, size_t errstr_size)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;
    if (!d) {
        snprintf(errstr, errstr_size, "cannot open certificate directory %s", dir);
        return DB_ERR_CONFIG;
    }
    while ((de = readdir(d))) {
        char p[4096];
        size_t n = strlen(de->d_name);
        X509 *x = NULL;
        if (n < 5 || strcmp(de->d_name + n - 4, ".crt") != 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if ((rc = pki_cert_load(p, &x, errstr, errstr_size)))
            break;
        rc = trust_add_cert(t, x, errstr, errstr_size);
        X509_free(x);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

int trust_load(const char *ca_path, const char *crl_path, const char *certs_dir, trust_t **out,
               char *errstr, size_t errstr_size)
{
    X509 *ca = NULL;
    trust_t *t = NULL;
    int rc;
    *out = NULL;
    if ((rc = pki_cert_load(ca_path, &ca, errstr, errstr_size))) {
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if (!(t = trust_new(ca, errstr, errstr_size))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    if ((crl_path && (rc = load_crl_file(t, crl_path, errstr, errstr_size))) ||
        (certs_dir && (rc = load_dir(t, certs_dir, errstr, errstr_size))))
        goto out;
    *out = t;
    t = NULL;
out:
    trust_destroy(t);
    X509_free(ca);
    return rc;
}

int trust_load_pki(const char *pki_dir, trust_t **out, char *errstr, size_t errstr_size)
{
    char ca[4096], crl[4096], units[4096];
    snprintf(ca, sizeof ca, "%s/ca.crt", pki_dir);
    snprintf(crl, sizeof crl, "%s/crl.pem", pki_dir);
    snprintf(units, sizeof units, "%s/units", pki_dir);
    if (access(ca, R_OK) != 0) {
        snprintf(errstr, errstr_size, "no PKI at %s (no ca.crt); run `docbus pki init` first", pki_dir);
        *out = NULL;
        return DB_ERR_CONFIG;
    }
    return trust_load(ca, access(crl, R_OK) == 0 ? crl : NULL,
                      access(units, R_OK) == 0 ? units : NULL, out, errstr, errstr_size);
}

/* Chain to the root and the shape of a unit signing certificate; times are judged
 * separately at signing time, so the X.509 time check is off here. */
static void check_chain(trust_t *t, trust_cert_t *c)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    uint32_t ku;
    c->chain = DB_ERR_CERT_CHAIN;
    if (!ctx || !X509_STORE_CTX_init(ctx, t->store, c->cert, NULL)) {
        snprintf(c->chain_err, sizeof c->chain_err, "cannot set up chain verification");
        goto out;
    }
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_X509_STRICT);
    if (X509_verify_cert(ctx) != 1) {
        snprintf(c->chain_err, sizeof c->chain_err, "does not chain to the trusted root: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    if (X509_check_ca(c->cert) != 0) {
        snprintf(c->chain_err, sizeof c->chain_err, "is a CA certificate, not a unit certificate");
        goto out;
    }
    ku = X509_get_key_usage(c->cert);
    if (!(ku & KU_DIGITAL_SIGNATURE)) {
        snprintf(c->chain_err, sizeof c->chain_err, "does not allow digitalSignature");
        goto out;
    }
    if (!c->pub || EVP_PKEY_get_id(c->pub) != EVP_PKEY_ED25519) {
        snprintf(c->chain_err, sizeof c->chain_err, "does not hold an Ed25519 key");
        goto out;
    }
    c->chain = 1;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
}

static void check_revocation(trust_t *t, trust_cert_t *c)
{
    X509_REVOKED *rev = NULL;
    c->revoked = 0;
    c->revoked_at_ms = 0;
    if (t->crl && X509_CRL_get0_by_serial(t->crl, &rev, X509_get0_serialNumber(c->cert)) == 1 && rev) {
        c->revoked = 1;
        c->revoked_at_ms = asn1_ms(X509_REVOKED_get0_revocationDate(rev));
    }
    c->crl_gen = t->crl_gen;
}

/* The first 8 bytes of a key id in hex, for messages (only on error paths: formatting
 * it per message cost ~7% of verification). Returns out. */
static const char *hex8(const uint8_t *k, char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", k[i]);
    return out;
}

int trust_check(trust_t *t, const uint8_t key_id[32], const char *producer, int64_t signed_at_ms,
                EVP_PKEY **pub_out, char *errstr, size_t errstr_size)
{
    trust_cert_t *c = lookup(t, key_id);
    char kid[17];
    int rc = 0;
    if (pub_out)
        *pub_out = NULL;
    if (!c) {
        snprintf(errstr, errstr_size, "no certificate with key id %s... (signer claims unit %s)",
                 hex8(key_id, kid), producer);
        rc = DB_ERR_UNKNOWN_SIGNER;
        goto out;
    }
    if (c->chain == 0)
        check_chain(t, c);
    if (c->chain != 1) {
        snprintf(errstr, errstr_size, "certificate %s... %s", hex8(key_id, kid), c->chain_err);
        rc = c->chain;
        goto out;
    }
    if (signed_at_ms < c->not_before_ms || signed_at_ms > c->not_after_ms ||
        signed_at_ms < t->ca_not_before_ms || signed_at_ms > t->ca_not_after_ms) {
        snprintf(errstr, errstr_size,
                 "certificate %s... of %s not valid at signing time %lld ms (valid %lld..%lld ms)",
                 hex8(key_id, kid), c->unit, (long long)signed_at_ms, (long long)c->not_before_ms,
                 (long long)c->not_after_ms);
        rc = DB_ERR_CERT_EXPIRED;
        goto out;
    }
    if (c->crl_gen != t->crl_gen)
        check_revocation(t, c);
    if (c->revoked && c->revoked_at_ms <= signed_at_ms) {
        snprintf(errstr, errstr_size,
                 "certificate %s... of %s revoked at %lld ms, at or before signing time %lld ms",
                 hex8(key_id, kid), c->unit, (long long)c->revoked_at_ms, (long long)signed_at_ms);
        rc = DB_ERR_CERT_REVOKED;
        goto out;
    }
    if (!c->unit[0] || strcmp(c->unit, producer) != 0) {
        snprintf(errstr, errstr_size, "certificate %s... belongs to unit %s, message claims producer %s%s%s",
                 hex8(key_id, kid), c->unit[0] ? c->unit : "(none)", producer, c->unit[0] ? "" : ": ",
                 c->unit[0] ? "" : c->unit_err);
        rc = DB_ERR_CERT_UNIT;
        goto out;
    }
    if (pub_out)
        *pub_out = c->pub;
out:
    return rc;
}

size_t trust_count(const trust_t *t)
{
    return t ? t->count : 0;
}

void trust_destroy(trust_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nslots; i++) {
        if (t->slots[i]) {
            X509_free(t->slots[i]->cert);
            free(t->slots[i]);
        }
    }
    free(t->slots);
    X509_STORE_free(t->store);
    X509_free(t->ca);
    X509_CRL_free(t->crl);
    free(t);
}
