/* pki.h - the unit PKI on disk: an Ed25519 root CA, unit certificates and keys, the CRL. */
#ifndef DOCBUS_PKI_H
#define DOCBUS_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "envelope.h"

/* Layout of a PKI directory (config key docbus.pki.dir, default ./pki):
 *   ca.key (0600)  ca.crt  crl.pem  index.tsv
 *   units/<CODE>.key (0600)  units/<CODE>.crt          the unit's current identity
 *   units/<CODE>.<SERIAL>.crt                          superseded or revoked certificates
 * A unit certificate carries the unit code twice: as the subject's serialNumber
 * attribute (2.5.4.5, next to CN = the unit's name) and as the URI subjectAltName
 * urn:docbus:unit:<CODE>. Both must agree. */
#define PKI_UNIT_URN_PREFIX "urn:docbus:unit:"
#define PKI_CA_DAYS 3650
#define PKI_DEFAULT_DAYS 730
#define PKI_KEY_ID_LEN 32

typedef enum {
    PKI_CERT_CURRENT = 0,    /* the unit signs with it */
    PKI_CERT_SUPERSEDED = 1, /* replaced by a newer certificate (key rotation); still verifies old messages */
    PKI_CERT_REVOKED = 2     /* on the CRL */
} pki_status_t;

/* One certificate in the PKI index. Times are seconds since the epoch (UTC). */
typedef struct pki_entry {
    char unit[UNIT_CODE_MAX];
    char name[256];
    char serial[41];          /* upper-case hex */
    int64_t not_before;
    int64_t not_after;
    pki_status_t status;
    int64_t revoked_at;       /* 0 unless revoked */
    uint8_t key_id[PKI_KEY_ID_LEN];
    char file[128];           /* path of the certificate, relative to the PKI dir */
} pki_entry_t;

/* Creates dir (and dir/units) if needed and a new root CA in it: Ed25519, self-signed,
 * PKI_CA_DAYS days, basicConstraints CA:TRUE, plus an empty signed CRL and index.
 * DB_ERR_INVALID if dir already holds a CA; DB_ERR_IO / DB_ERR_CRYPTO otherwise. */
int pki_init(const char *dir, char *errstr, size_t errstr_size);

/* Issues (or rotates) the identity of unit: new Ed25519 key + certificate signed by the
 * CA, valid from now for days days. A previous current certificate is kept as
 * units/<CODE>.<SERIAL>.crt (superseded) so old messages still verify. unit must be
 * 1..63 characters of [A-Za-z0-9._-]; name is the unit's display name (UTF-8, at most
 * 64 characters, no control characters). DB_ERR_CONFIG if dir holds no PKI. */
int pki_issue(const char *dir, const char *unit, const char *name, int days,
              char *errstr, size_t errstr_size);

/* Revokes unit's current certificate as of at_time (seconds since the epoch): the
 * certificate goes on the CRL with that revocation time, the CRL is re-signed, the
 * certificate is kept as units/<CODE>.<SERIAL>.crt and the unit's key is deleted.
 * DB_ERR_NOT_FOUND if the unit has no current certificate. */
int pki_revoke(const char *dir, const char *unit, int64_t at_time, char *errstr,
               size_t errstr_size);

/* Reads the index: *entries (caller frees with free()) gets *n entries in issue order.
 * DB_ERR_CONFIG if dir holds no PKI. */
int pki_list(const char *dir, pki_entry_t **entries, size_t *n, char *errstr,
             size_t errstr_size);

/* Nonzero if dir holds a CA (ca.crt and ca.key). */
int pki_exists(const char *dir);

/* Loads a private key; refuses a file readable by group or others. The file buffer is
 * wiped after parsing. Caller frees *key with EVP_PKEY_free. */
int pki_key_load(const char *path, EVP_PKEY **key, char *errstr, size_t errstr_size);

/* Loads a PEM certificate. Caller frees *cert with X509_free. */
int pki_cert_load(const char *path, X509 **cert, char *errstr, size_t errstr_size);

/* Loads unit's current key and certificate from dir and checks that they match.
 * Caller frees both. DB_ERR_CONFIG (no PKI / no such unit, with the fix in errstr). */
int pki_unit_load(const char *dir, const char *unit, EVP_PKEY **key, X509 **cert,
                  char *errstr, size_t errstr_size);

/* Extracts the unit code of a docbus unit certificate into unit. Returns 0, or
 * DB_ERR_CERT_UNIT when the URI SAN is missing, repeated, or disagrees with the
 * subject serialNumber. */
int pki_cert_unit(X509 *cert, char unit[UNIT_CODE_MAX], char *errstr, size_t errstr_size);

/* key_id = SHA-256 of the certificate's DER encoding. Returns 0 or DB_ERR_CRYPTO. */
int pki_cert_key_id(X509 *cert, uint8_t key_id[PKI_KEY_ID_LEN]);

/* Nonzero if unit is a syntactically valid unit code. */
int pki_unit_code_ok(const char *unit);

/* Returns "current", "superseded" or "revoked". */
const char *pki_status_name(pki_status_t s);

#endif
