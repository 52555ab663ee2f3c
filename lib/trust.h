/* trust.h - the verifier's trust store: root CA, CRL and unit certificates by key id. */
#ifndef DOCBUS_TRUST_H
#define DOCBUS_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Not thread-safe (trust_check caches verdicts): one per thread, or lock around it. */
typedef struct trust trust_t;

/* Loads the trust store of a PKI directory: ca.crt, crl.pem (if present) and every
 * units/ *.crt (current, superseded and revoked). *out is freed with trust_destroy.
 * DB_ERR_CONFIG when ca.crt is missing or a file does not parse; DB_ERR_CERT_CHAIN
 * when the CRL is not signed by the CA. */
int trust_load_pki(const char *pki_dir, trust_t **out, char *errstr, size_t errstr_size);

/* Same for a verifier that holds no keys: ca_path required, crl_path and certs_dir
 * (every *.crt in it) may be NULL. */
int trust_load(const char *ca_path, const char *crl_path, const char *certs_dir, trust_t **out,
               char *errstr, size_t errstr_size);

/* Adds a certificate (the store takes its own reference). Adding a certificate twice
 * is a no-op. The chain is checked lazily by trust_check. 0 or DB_ERR_NOMEM/CRYPTO. */
int trust_add_cert(trust_t *t, X509 *cert, char *errstr, size_t errstr_size);

/* Adds a DER certificate (e.g. from the docbus.certs topic). DB_ERR_INVALID if it
 * does not parse. */
int trust_add_cert_der(trust_t *t, const uint8_t *der, size_t len, char *errstr,
                       size_t errstr_size);

/* Replaces the CRL (the store takes a reference) after checking that the CA signed it:
 * DB_ERR_CERT_CHAIN otherwise. */
int trust_set_crl(trust_t *t, X509_CRL *crl, char *errstr, size_t errstr_size);

/* Decides whether key_id (SHA-256 of a certificate's DER) may sign for producer at
 * signed_at_ms (ms since the epoch). Returns 0 and, if pub_out is not NULL, the
 * certificate's public key (owned by t, valid while t lives); or
 *   DB_ERR_UNKNOWN_SIGNER  no certificate with this key id
 *   DB_ERR_CERT_CHAIN      not issued by the trusted root, or not a unit signing cert
 *   DB_ERR_CERT_EXPIRED    certificate (or CA) not valid at signed_at_ms
 *   DB_ERR_CERT_REVOKED    on the CRL with a revocation time at or before signed_at_ms
 *   DB_ERR_CERT_UNIT       the certificate's unit is not producer
 * with the reason in errstr. Chain verification runs once per certificate. */
int trust_check(trust_t *t, const uint8_t key_id[32], const char *producer, int64_t signed_at_ms,
                EVP_PKEY **pub_out, char *errstr, size_t errstr_size);

/* Number of certificates held. */
size_t trust_count(const trust_t *t);

/* Frees t; NULL is allowed. */
void trust_destroy(trust_t *t);

#endif
