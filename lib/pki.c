/* pki.c - the unit PKI on disk: an Ed25519 root CA, unit certificates and keys, the CRL. */
#include "pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "error.h"

#define PKI_PATH_MAX 4096
#define PKI_FILE_MAX (1024 * 1024)

/* ---- small helpers ---------------------------------------------------------------- */

/* Appends OpenSSL's most recent error reason to errstr (after the caller's text). */
static void ssl_reason(char *errstr, size_t errstr_size)
{
    unsigned long e = ERR_peek_last_error();
    size_t used = strlen(errstr);
    if (e && used + 3 < errstr_size) {
        snprintf(errstr + used, errstr_size - used, ": ");
        ERR_error_string_n(e, errstr + used + 2, errstr_size - used - 2);
    }
    ERR_clear_error();
}

static int crypto_fail(char *errstr, size_t errstr_size, const char *what)
{
    snprintf(errstr, errstr_size, "%s failed", what);
    ssl_reason(errstr, errstr_size);
    return DB_ERR_CRYPTO;
}

static int join(char *out, const char *dir, const char *rel, char *errstr, size_t errstr_size)
{
    int n = snprintf(out, PKI_PATH_MAX, "%s/%s", dir, rel);
    if (n < 0 || n >= PKI_PATH_MAX) {
        snprintf(errstr, errstr_size, "path %s/%s is too long", dir, rel);
        return DB_ERR_INVALID;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char d[PKI_PATH_MAX];
    char *slash;
    int fd, rc = 0;
    snprintf(d, sizeof d, "%s", path);
    slash = strrchr(d, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(d, sizeof d, ".");
    fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fsync(fd) != 0)
        rc = -1;
    close(fd);
    return rc;
}

/* Writes data to path atomically: a new temp file created with O_EXCL and mode, fsync,
 * rename over path, fsync of the directory. */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        char *errstr, size_t errstr_size)
{
    char tmp[PKI_PATH_MAX + 32];
    const uint8_t *p = data;
    int fd = -1, rc = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", tmp, strerror(errno));
        return DB_ERR_IO;
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(errstr, errstr_size, "cannot write %s: %s", tmp, strerror(errno));
            rc = DB_ERR_IO;
            goto out;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        snprintf(errstr, errstr_size, "cannot fsync %s: %s", tmp, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(errstr, errstr_size, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    fsync_dir_of(path);
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    return rc;
}

/* Writes the contents of a memory BIO to path atomically. */
static int write_bio(const char *path, BIO *b, mode_t mode, char *errstr, size_t errstr_size)
{
    char *data;
    long len = BIO_get_mem_data(b, &data);
    if (len < 0) {
        snprintf(errstr, errstr_size, "cannot serialise %s", path);
        return DB_ERR_CRYPTO;
    }
    return write_atomic(path, data, (size_t)len, mode, errstr, errstr_size);
}

/* Private keys are serialised in OpenSSL's secure heap (wiped when freed) and written
 * with mode 0600 from the start. */
static int write_key(const char *path, EVP_PKEY *key, char *errstr, size_t errstr_size)
{
    BIO *b = BIO_new(BIO_s_secmem());
    int rc;
    if (!b)
        return DB_ERR_NOMEM;
    if (!PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
        rc = crypto_fail(errstr, errstr_size, "serialising the private key");
    else
        rc = write_bio(path, b, 0600, errstr, errstr_size);
    BIO_free(b);
    return rc;
}

static int write_cert(const char *path, X509 *x, char *errstr, size_t errstr_size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc;
    if (!b)
        return DB_ERR_NOMEM;
    if (!PEM_write_bio_X509(b, x))
        rc = crypto_fail(errstr, errstr_size, "serialising a certificate");
    else
        rc = write_bio(path, b, 0644, errstr, errstr_size);
    BIO_free(b);
    return rc;
}

/* Reads a whole (small) file into a malloc'd buffer. */
static int read_all(const char *path, uint8_t **buf, size_t *len, char *errstr,
                    size_t errstr_size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    size_t got = 0;
    *buf = NULL;
    if (fd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? DB_ERR_NOT_FOUND : DB_ERR_IO;
    }
    if (fstat(fd, &st) != 0 || st.st_size > PKI_FILE_MAX) {
        snprintf(errstr, errstr_size, "%s: not a readable file under %d bytes", path, PKI_FILE_MAX);
        rc = DB_ERR_IO;
        goto out;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (!*buf) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    (*buf)[got] = '\0';
    *len = got;
out:
    close(fd);
    if (rc) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static int64_t asn1_to_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

/* Holds an exclusive lock on dir/.lock so that two pki commands never interleave. */
static int lock_dir(const char *dir, int *fd, char *errstr, size_t errstr_size)
{
    char p[PKI_PATH_MAX];
    int rc = join(p, dir, ".lock", errstr, errstr_size);
    if (rc)
        return rc;
    *fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0 || flock(*fd, LOCK_EX) != 0) {
        snprintf(errstr, errstr_size, "cannot lock %s: %s", p, strerror(errno));
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return DB_ERR_IO;
    }
    return 0;
}

static void unlock_dir(int fd)
{
    if (fd >= 0)
        close(fd);
}

int pki_unit_code_ok(const char *unit)
{
    size_t n = unit ? strlen(unit) : 0;
    if (n == 0 || n >= UNIT_CODE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = unit[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return strcmp(unit, ".") != 0 && strcmp(unit, "..") != 0;
}

const char *pki_status_name(pki_status_t s)
{
    switch (s) {
    case PKI_CERT_CURRENT: return "current";
    case PKI_CERT_SUPERSEDED: return "superseded";
    case PKI_CERT_REVOKED: return "revoked";
    }
    return "unknown";
}

int pki_exists(const char *dir)
{
    char p[PKI_PATH_MAX];
    char e[PKI_PATH_MAX + 64];
    return dir && !join(p, dir, "ca.crt", e, sizeof e) && access(p, R_OK) == 0 &&
           !join(p, dir, "ca.key", e, sizeof e) && access(p, F_OK) == 0;
}

static int no_pki(const char *dir, char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "no PKI at %s (no ca.crt/ca.key); run `docbus pki init` first", dir);
    return DB_ERR_CONFIG;
}

/* ---- index ------------------------------------------------------------------------ */

typedef struct index_list {
    pki_entry_t *e;
    size_t n, cap;
} index_list_t;

static int status_parse(const char *s, pki_status_t *st)
{
    if (!strcmp(s, "current")) *st = PKI_CERT_CURRENT;
    else if (!strcmp(s, "superseded")) *st = PKI_CERT_SUPERSEDED;
    else if (!strcmp(s, "revoked")) *st = PKI_CERT_REVOKED;
    else return -1;
    return 0;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void bytes_to_hex(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int index_push(index_list_t *l, const pki_entry_t *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        pki_entry_t *p = realloc(l->e, cap * sizeof *p);
        if (!p)
            return DB_ERR_NOMEM;
        l->e = p;
        l->cap = cap;
    }
    l->e[l->n++] = *e;
    return 0;
}

/* index.tsv: one certificate a line, tab-separated:
 * status unit serial not_before not_after revoked_at key_id file name */
static int index_load(const char *dir, index_list_t *l, char *errstr, size_t errstr_size)
{
    char p[PKI_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc, lineno = 0;
    char *save = NULL, *line;
    memset(l, 0, sizeof *l);
    if ((rc = join(p, dir, "index.tsv", errstr, errstr_size)))
        return rc;
    rc = read_all(p, &buf, &len, errstr, errstr_size);
    if (rc == DB_ERR_NOT_FOUND)
        return 0;
    if (rc)
        return rc;
    for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        pki_entry_t e;
        char *f[9];
        int nf = 0;
        char *s = line, *tab;
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        while (nf < 8 && (tab = strchr(s, '\t'))) {
            *tab = '\0';
            f[nf++] = s;
            s = tab + 1;
        }
        f[nf++] = s;
        memset(&e, 0, sizeof e);
        if (nf != 9 || status_parse(f[0], &e.status) || strlen(f[1]) >= sizeof e.unit ||
            strlen(f[2]) >= sizeof e.serial || strlen(f[7]) >= sizeof e.file ||
            strlen(f[8]) >= sizeof e.name || hex_to_bytes(f[6], e.key_id, PKI_KEY_ID_LEN)) {
            snprintf(errstr, errstr_size, "%s line %d: malformed index entry", p, lineno);
            rc = DB_ERR_CONFIG;
            goto out;
        }
        snprintf(e.unit, sizeof e.unit, "%s", f[1]);
        snprintf(e.serial, sizeof e.serial, "%s", f[2]);
        e.not_before = strtoll(f[3], NULL, 10);
        e.not_after = strtoll(f[4], NULL, 10);
        e.revoked_at = strtoll(f[5], NULL, 10);
        snprintf(e.file, sizeof e.file, "%s", f[7]);
        snprintf(e.name, sizeof e.name, "%s", f[8]);
        if ((rc = index_push(l, &e)))
            goto out;
    }
out:
    free(buf);
    if (rc) {
        free(l->e);
        memset(l, 0, sizeof *l);
    }
    return rc;
}

static int index_save(const char *dir, const index_list_t *l, char *errstr, size_t errstr_size)
{
    char p[PKI_PATH_MAX];
    BIO *b = BIO_new(BIO_s_mem());
    int rc = 0;
    if (!b)
        return DB_ERR_NOMEM;
    if ((rc = join(p, dir, "index.tsv", errstr, errstr_size)))
        goto out;
    BIO_printf(b, "# docbus PKI index: status unit serial not_before not_after revoked_at key_id file name\n");
    for (size_t i = 0; i < l->n; i++) {
        const pki_entry_t *e = &l->e[i];
        char kid[2 * PKI_KEY_ID_LEN + 1];
        bytes_to_hex(e->key_id, PKI_KEY_ID_LEN, kid);
        BIO_printf(b, "%s\t%s\t%s\t%lld\t%lld\t%lld\t%s\t%s\t%s\n", pki_status_name(e->status),
                   e->unit, e->serial, (long long)e->not_before, (long long)e->not_after,
                   (long long)e->revoked_at, kid, e->file, e->name);
    }
    rc = write_bio(p, b, 0644, errstr, errstr_size);
out:
    BIO_free(b);
    return rc;
}

static pki_entry_t *index_current(index_list_t *l, const char *unit)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].status == PKI_CERT_CURRENT && !strcmp(l->e[i].unit, unit))
            return &l->e[i];
    return NULL;
}

/* ---- certificates ------------------------------------------------------------------ */

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value, char *errstr,
                   size_t errstr_size)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) {
        snprintf(errstr, errstr_size, "building certificate extension %s=%s failed",
                 OBJ_nid2sn(nid), value);
        ssl_reason(errstr, errstr_size);
        return DB_ERR_CRYPTO;
    }
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : crypto_fail(errstr, errstr_size, "adding a certificate extension");
}

/* A random positive 127-bit serial; its upper-case hex goes to hex (41 bytes). */
static int new_serial(X509 *x, char hex[41], char *errstr, size_t errstr_size)
{
    unsigned char r[16];
    BIGNUM *bn = NULL;
    char *h = NULL;
    int rc = 0;
    if (RAND_bytes(r, sizeof r) != 1)
        return crypto_fail(errstr, errstr_size, "RAND_bytes");
    r[0] = (unsigned char)((r[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(r, sizeof r, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !(h = BN_bn2hex(bn))) {
        rc = crypto_fail(errstr, errstr_size, "setting the serial number");
        goto out;
    }
    snprintf(hex, 41, "%s", h);
out:
    OPENSSL_free(h);
    BN_free(bn);
    return rc;
}

/* Builds and signs a certificate. issuer == NULL means self-signed (the CA). */
static int make_cert(X509 **out, EVP_PKEY *subject_key, X509 *issuer, EVP_PKEY *issuer_key,
                     const char *cn, const char *unit, int days, char serial_hex[41],
                     char *errstr, size_t errstr_size)
{
    X509 *x = X509_new();
    X509_NAME *name = NULL;
    time_t now = time(NULL);
    char san[UNIT_CODE_MAX + 32];
    int rc = 0;
    if (!x)
        return DB_ERR_NOMEM;
    name = X509_NAME_new();
    if (!name || !X509_set_version(x, 2) || !X509_set_pubkey(x, subject_key) ||
        !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now)) {
        rc = crypto_fail(errstr, errstr_size, "building a certificate");
        goto out;
    }
    if ((rc = new_serial(x, serial_hex, errstr, errstr_size)))
        goto out;
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
        (unit && !X509_NAME_add_entry_by_txt(name, "serialNumber", MBSTRING_ASC,
                                             (const unsigned char *)unit, -1, -1, 0)) ||
        (!unit && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                              (const unsigned char *)"docbus", -1, -1, 0))) {
        snprintf(errstr, errstr_size, "certificate subject CN=\"%s\" rejected (at most 64 characters)", cn);
        ssl_reason(errstr, errstr_size);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (!X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name)) {
        rc = crypto_fail(errstr, errstr_size, "setting certificate names");
        goto out;
    }
    if (!issuer) {
        if ((rc = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", errstr, errstr_size)) ||
            (rc = add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign", errstr, errstr_size)) ||
            (rc = add_ext(x, x, NID_subject_key_identifier, "hash", errstr, errstr_size)))
            goto out;
    } else {
        snprintf(san, sizeof san, "URI:%s%s", PKI_UNIT_URN_PREFIX, unit);
        if ((rc = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE", errstr, errstr_size)) ||
            (rc = add_ext(x, issuer, NID_key_usage, "critical,digitalSignature", errstr, errstr_size)) ||
            (rc = add_ext(x, issuer, NID_subject_key_identifier, "hash", errstr, errstr_size)) ||
            (rc = add_ext(x, issuer, NID_authority_key_identifier, "keyid:always", errstr, errstr_size)) ||
            (rc = add_ext(x, issuer, NID_subject_alt_name, san, errstr, errstr_size)))
            goto out;
    }
    /* Ed25519 signs the message itself: no separate digest (md = NULL). */
    if (!X509_sign(x, issuer_key, NULL)) {
        rc = crypto_fail(errstr, errstr_size, "signing the certificate");
        goto out;
    }
out:
    X509_NAME_free(name);
    if (rc)
        X509_free(x);
    else
        *out = x;
    return rc;
}

static int gen_key(EVP_PKEY **key, char *errstr, size_t errstr_size)
{
    *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return *key ? 0 : crypto_fail(errstr, errstr_size, "generating an Ed25519 key");
}

int pki_cert_key_id(X509 *cert, uint8_t key_id[PKI_KEY_ID_LEN])
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    unsigned int len = 0;
    int ok = md && cert && X509_digest(cert, md, key_id, &len) && len == PKI_KEY_ID_LEN;
    EVP_MD_free(md);
    return ok ? 0 : DB_ERR_CRYPTO;
}

/* Builds crl.pem from the index's revoked entries and signs it with the CA key. */
static int write_crl(const char *dir, const index_list_t *l, X509 *ca, EVP_PKEY *ca_key,
                     char *errstr, size_t errstr_size)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = NULL;
    ASN1_INTEGER *num = NULL;
    BIO *b = NULL;
    char p[PKI_PATH_MAX];
    time_t now = time(NULL);
    int rc = 0;
    if (!crl || !(t = ASN1_TIME_new()) || !(b = BIO_new(BIO_s_mem()))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    /* nextUpdate is informational: verifiers judge revocation at signing time from
     * whatever CRL they hold, so a stale CRL never blocks verifying old messages. */
    if (!X509_CRL_set_version(crl, 1) || !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
        !X509_time_adj_ex(t, 0, 0, &now) || !X509_CRL_set1_lastUpdate(crl, t) ||
        !X509_time_adj_ex(t, 30, 0, &now) || !X509_CRL_set1_nextUpdate(crl, t)) {
        rc = crypto_fail(errstr, errstr_size, "building the CRL");
        goto out;
    }
    for (size_t i = 0; i < l->n; i++) {
        const pki_entry_t *e = &l->e[i];
        X509_REVOKED *r;
        BIGNUM *bn = NULL;
        ASN1_INTEGER *serial = NULL;
        ASN1_TIME *rt = NULL;
        int ok;
        if (e->status != PKI_CERT_REVOKED)
            continue;
        r = X509_REVOKED_new();
        ok = r && BN_hex2bn(&bn, e->serial) && (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
             (rt = ASN1_TIME_set(NULL, (time_t)e->revoked_at)) &&
             X509_REVOKED_set_serialNumber(r, serial) && X509_REVOKED_set_revocationDate(r, rt) &&
             X509_CRL_add0_revoked(crl, r);
        BN_free(bn);
        ASN1_INTEGER_free(serial);
        ASN1_TIME_free(rt);
        if (!ok) {
            X509_REVOKED_free(r);
            rc = crypto_fail(errstr, errstr_size, "adding a CRL entry");
            goto out;
        }
    }
    num = ASN1_INTEGER_new();
    if (!num || !ASN1_INTEGER_set_int64(num, (int64_t)now) ||
        !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) || !X509_CRL_sort(crl) ||
        !X509_CRL_sign(crl, ca_key, NULL) || !PEM_write_bio_X509_CRL(b, crl)) {
        rc = crypto_fail(errstr, errstr_size, "signing the CRL");
        goto out;
    }
    if ((rc = join(p, dir, "crl.pem", errstr, errstr_size)))
        goto out;
    rc = write_bio(p, b, 0644, errstr, errstr_size);
out:
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(t);
    BIO_free(b);
    X509_CRL_free(crl);
    return rc;
}

/* The 32-byte seed of an Ed25519 key in the one DER form OpenSSL writes for it (RFC 8410:
 * PKCS#8 v1, no attributes, no public key) inside a "PRIVATE KEY" PEM, into seed: 0, or -1
 * for anything else. */
static int ed25519_pem_seed(const uint8_t *buf, size_t len, uint8_t seed[32])
{
    static const char begin[] = "-----BEGIN PRIVATE KEY-----", end[] = "-----END PRIVATE KEY-----";
    static const uint8_t prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                       0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
    uint8_t b64[68], der[51];   /* 48 bytes are 64 base64 characters; room to see more */
    size_t n = 0;
    const uint8_t *p = buf, *stop = buf + len;
    int rc = -1;
    if (len < sizeof begin || memcmp(buf, begin, sizeof begin - 1))
        return -1;
    for (p += sizeof begin - 1; p < stop && *p != '-' && n < sizeof b64; p++)
        if (*p != '\n' && *p != '\r')
            b64[n++] = *p;
    if (n == 64 && (size_t)(stop - p) >= sizeof end - 1 && !memcmp(p, end, sizeof end - 1) &&
        EVP_DecodeBlock(der, b64, 64) == 48 && !memcmp(der, prefix, sizeof prefix)) {
        memcpy(seed, der + 16, 32);
        rc = 0;
    }
    OPENSSL_cleanse(b64, sizeof b64);
    OPENSSL_cleanse(der, sizeof der);
    return rc;
}

/* The Ed25519 key in an unencrypted PKCS#8 PEM (what pki writes), or NULL. The form pki
 * writes is read directly (0.24 ms a key through OpenSSL 3.0's decoders, and an import
 * loads one per unit); any other goes to a decoder told the input, structure and key
 * type, which skips the search through every decoder OpenSSL has (0.99 ms). */
static EVP_PKEY *ed25519_pem_decode(const uint8_t *buf, size_t len)
{
    EVP_PKEY *key = NULL;
    const unsigned char *p = buf;
    uint8_t seed[32];
    if (ed25519_pem_seed(buf, len, seed) == 0) {
        key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
        OPENSSL_cleanse(seed, sizeof seed);
        if (key)
            return key;
    }
    OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", "PrivateKeyInfo", "ED25519",
                                                         EVP_PKEY_KEYPAIR, NULL, NULL);
    if (!d || !OSSL_DECODER_from_data(d, &p, &len)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    OSSL_DECODER_CTX_free(d);
    return key;
}

/* ---- public ----------------------------------------------------------------------- */

int pki_key_load(const char *path, EVP_PKEY **key, char *errstr, size_t errstr_size)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    BIO *b = NULL;
    int rc = 0;
    *key = NULL;
    if (stat(path, &st) != 0) {
        snprintf(errstr, errstr_size, "cannot read key %s: %s", path, strerror(errno));
        return errno == ENOENT ? DB_ERR_NOT_FOUND : DB_ERR_IO;
    }
    if (st.st_mode & 077) {
        snprintf(errstr, errstr_size, "key %s is accessible by group or others (mode %04o); "
                 "run chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
        return DB_ERR_CONFIG;
    }
    if ((rc = read_all(path, &buf, &len, errstr, errstr_size)))
        return rc;
    if ((*key = ed25519_pem_decode(buf, len)) != NULL)
        goto out;
    /* Not what pki writes: the general reader tells a foreign key from no key at all. */
    ERR_clear_error();
    b = BIO_new_mem_buf(buf, (int)len);
    if (!b || !(*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
        snprintf(errstr, errstr_size, "%s is not a PEM private key", path);
        ERR_clear_error();
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if (EVP_PKEY_get_id(*key) != EVP_PKEY_ED25519) {
        snprintf(errstr, errstr_size, "%s is not an Ed25519 key", path);
        EVP_PKEY_free(*key);
        *key = NULL;
        rc = DB_ERR_CONFIG;
    }
out:
    BIO_free(b);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

int pki_cert_load(const char *path, X509 **cert, char *errstr, size_t errstr_size)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    BIO *b = NULL;
    int rc;
    *cert = NULL;
    if ((rc = read_all(path, &buf, &len, errstr, errstr_size)))
        return rc;
    b = BIO_new_mem_buf(buf, (int)len);
    if (!b || !(*cert = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        snprintf(errstr, errstr_size, "%s is not a PEM certificate", path);
        ERR_clear_error();
        rc = DB_ERR_CONFIG;
    }
    BIO_free(b);
    free(buf);
    return rc;
}

int pki_cert_unit(X509 *cert, char unit[UNIT_CODE_MAX], char *errstr, size_t errstr_size)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    X509_NAME *subj = X509_get_subject_name(cert);
    const size_t plen = strlen(PKI_UNIT_URN_PREFIX);
    char from_san[UNIT_CODE_MAX] = "", from_subj[UNIT_CODE_MAX] = "";
    int found = 0, rc = 0, idx;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *s;
        int n;
        if (g->type != GEN_URI)
            continue;
        s = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
        n = ASN1_STRING_length(g->d.uniformResourceIdentifier);
        if (n <= (int)plen || memcmp(s, PKI_UNIT_URN_PREFIX, plen) != 0)
            continue;
        if (++found > 1 || n - (int)plen >= UNIT_CODE_MAX ||
            memchr(s, '\0', (size_t)n)) {
            found = 2;
            break;
        }
        memcpy(from_san, s + plen, (size_t)n - plen);
        from_san[n - plen] = '\0';
    }
    GENERAL_NAMES_free(gens);
    idx = subj ? X509_NAME_get_index_by_NID(subj, NID_serialNumber, -1) : -1;
    if (idx >= 0) {
        const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
        int n = ASN1_STRING_length(d);
        if (n > 0 && n < UNIT_CODE_MAX && !memchr(ASN1_STRING_get0_data(d), '\0', (size_t)n)) {
            memcpy(from_subj, ASN1_STRING_get0_data(d), (size_t)n);
            from_subj[n] = '\0';
        }
        if (X509_NAME_get_index_by_NID(subj, NID_serialNumber, idx) >= 0)
            from_subj[0] = '\0';
    }
    if (found != 1 || !pki_unit_code_ok(from_san) || strcmp(from_san, from_subj) != 0) {
        snprintf(errstr, errstr_size,
                 "certificate names no single unit (URI SAN %s<CODE> %s, subject serialNumber \"%s\")",
                 PKI_UNIT_URN_PREFIX, found == 0 ? "missing" : found > 1 ? "repeated or malformed" : from_san,
                 from_subj);
        rc = DB_ERR_CERT_UNIT;
    } else {
        memcpy(unit, from_san, UNIT_CODE_MAX);
    }
    return rc;
}

int pki_init(const char *dir, char *errstr, size_t errstr_size)
{
    char p[PKI_PATH_MAX];
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    index_list_t empty = {0};
    char serial[41];
    int rc = 0, lock = -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", dir, strerror(errno));
        return DB_ERR_IO;
    }
    if ((rc = join(p, dir, "units", errstr, errstr_size)))
        return rc;
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", p, strerror(errno));
        return DB_ERR_IO;
    }
    if ((rc = lock_dir(dir, &lock, errstr, errstr_size)))
        return rc;
    if ((rc = join(p, dir, "ca.key", errstr, errstr_size)))
        goto out;
    if (access(p, F_OK) == 0) {
        snprintf(errstr, errstr_size, "%s already holds a CA (%s exists); refusing to replace it", dir, p);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if ((rc = gen_key(&key, errstr, errstr_size)) ||
        (rc = make_cert(&ca, key, NULL, key, "docbus root CA", NULL, PKI_CA_DAYS, serial, errstr,
                        errstr_size)))
        goto out;
    /* The key first: a ca.crt without its key is useless, a key without ca.crt is
     * detected by pki_exists. */
    if ((rc = write_key(p, key, errstr, errstr_size)) ||
        (rc = join(p, dir, "ca.crt", errstr, errstr_size)) ||
        (rc = write_cert(p, ca, errstr, errstr_size)) ||
        (rc = write_crl(dir, &empty, ca, key, errstr, errstr_size)) ||
        (rc = index_save(dir, &empty, errstr, errstr_size)))
        goto out;
out:
    unlock_dir(lock);
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc;
}

static int load_ca(const char *dir, X509 **ca, EVP_PKEY **ca_key, char *errstr, size_t errstr_size)
{
    char p[PKI_PATH_MAX];
    int rc;
    *ca = NULL;
    *ca_key = NULL;
    if (!pki_exists(dir))
        return no_pki(dir, errstr, errstr_size);
    if ((rc = join(p, dir, "ca.crt", errstr, errstr_size)) ||
        (rc = pki_cert_load(p, ca, errstr, errstr_size)) ||
        (rc = join(p, dir, "ca.key", errstr, errstr_size)) ||
        (rc = pki_key_load(p, ca_key, errstr, errstr_size)))
        goto out;
    if (X509_check_private_key(*ca, *ca_key) != 1) {
        snprintf(errstr, errstr_size, "%s/ca.key does not match %s/ca.crt", dir, dir);
        ERR_clear_error();
        rc = DB_ERR_CONFIG;
    }
out:
    if (rc) {
        X509_free(*ca);
        EVP_PKEY_free(*ca_key);
        *ca = NULL;
        *ca_key = NULL;
    }
    return rc;
}

static int name_ok(const char *name)
{
    if (!name || !*name || strlen(name) >= sizeof(((pki_entry_t *)0)->name))
        return 0;
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* Moves units/<CODE>.crt aside to units/<CODE>.<SERIAL>.crt and records the new path. */
static int archive_cert(const char *dir, pki_entry_t *e, char *errstr, size_t errstr_size)
{
    char from[PKI_PATH_MAX], to[PKI_PATH_MAX], rel[sizeof e->file];
    int rc;
    int n = snprintf(rel, sizeof rel, "units/%s.%s.crt", e->unit, e->serial);
    if (n < 0 || n >= (int)sizeof rel) {
        snprintf(errstr, errstr_size, "archive name for %s too long", e->unit);
        return DB_ERR_INVALID;
    }
    if ((rc = join(from, dir, e->file, errstr, errstr_size)) ||
        (rc = join(to, dir, rel, errstr, errstr_size)))
        return rc;
    if (rename(from, to) != 0) {
        snprintf(errstr, errstr_size, "cannot move %s to %s: %s", from, to, strerror(errno));
        return DB_ERR_IO;
    }
    fsync_dir_of(to);
    snprintf(e->file, sizeof e->file, "%s", rel);
    return 0;
}

int pki_issue(const char *dir, const char *unit, const char *name, int days,
              char *errstr, size_t errstr_size)
{
    char keyp[PKI_PATH_MAX], crtp[PKI_PATH_MAX], rel[128];
    X509 *ca = NULL, *x = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    index_list_t l = {0};
    pki_entry_t e, *cur;
    int rc = 0, lock = -1;
    memset(&e, 0, sizeof e);
    if (!pki_unit_code_ok(unit)) {
        snprintf(errstr, errstr_size, "bad unit code \"%s\": expected 1-63 characters of A-Z a-z 0-9 . - _, "
                 "e.g. 000.00.00.H29", unit ? unit : "");
        return DB_ERR_INVALID;
    }
    if (!name_ok(name)) {
        snprintf(errstr, errstr_size, "bad unit name for %s: empty, too long or holds control characters", unit);
        return DB_ERR_INVALID;
    }
    if (days < 1 || days > 36500) {
        snprintf(errstr, errstr_size, "bad validity %d days for %s: expected 1..36500", days, unit);
        return DB_ERR_INVALID;
    }
    if (!pki_exists(dir))
        return no_pki(dir, errstr, errstr_size);
    if ((rc = lock_dir(dir, &lock, errstr, errstr_size)))
        return rc;
    if ((rc = load_ca(dir, &ca, &ca_key, errstr, errstr_size)) ||
        (rc = index_load(dir, &l, errstr, errstr_size)) ||
        (rc = gen_key(&key, errstr, errstr_size)) ||
        (rc = make_cert(&x, key, ca, ca_key, name, unit, days, e.serial, errstr, errstr_size)))
        goto out;
    snprintf(e.unit, sizeof e.unit, "%s", unit);
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.file, sizeof e.file, "units/%s.crt", unit);
    e.status = PKI_CERT_CURRENT;
    e.not_before = asn1_to_epoch(X509_get0_notBefore(x));
    e.not_after = asn1_to_epoch(X509_get0_notAfter(x));
    if ((rc = pki_cert_key_id(x, e.key_id))) {
        snprintf(errstr, errstr_size, "hashing the new certificate of %s failed", unit);
        goto out;
    }
    /* Key rotation: the old certificate stays on disk under its serial. */
    if ((cur = index_current(&l, unit))) {
        if ((rc = archive_cert(dir, cur, errstr, errstr_size)))
            goto out;
        cur->status = PKI_CERT_SUPERSEDED;
    }
    snprintf(rel, sizeof rel, "units/%s.key", unit);
    if ((rc = join(keyp, dir, rel, errstr, errstr_size)) ||
        (rc = join(crtp, dir, e.file, errstr, errstr_size)) ||
        (rc = write_key(keyp, key, errstr, errstr_size)) ||
        (rc = write_cert(crtp, x, errstr, errstr_size)) ||
        (rc = index_push(&l, &e)) ||
        (rc = index_save(dir, &l, errstr, errstr_size)))
        goto out;
out:
    unlock_dir(lock);
    free(l.e);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return rc;
}

int pki_revoke(const char *dir, const char *unit, int64_t at_time, char *errstr,
               size_t errstr_size)
{
    char p[PKI_PATH_MAX], rel[128];
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    index_list_t l = {0};
    pki_entry_t *cur;
    int rc = 0, lock = -1;
    if (!pki_unit_code_ok(unit)) {
        snprintf(errstr, errstr_size, "bad unit code \"%s\"", unit ? unit : "");
        return DB_ERR_INVALID;
    }
    if (!pki_exists(dir))
        return no_pki(dir, errstr, errstr_size);
    if ((rc = lock_dir(dir, &lock, errstr, errstr_size)))
        return rc;
    if ((rc = load_ca(dir, &ca, &ca_key, errstr, errstr_size)) ||
        (rc = index_load(dir, &l, errstr, errstr_size)))
        goto out;
    if (!(cur = index_current(&l, unit))) {
        snprintf(errstr, errstr_size, "unit %s has no current certificate in %s", unit, dir);
        rc = DB_ERR_NOT_FOUND;
        goto out;
    }
    cur->status = PKI_CERT_REVOKED;
    cur->revoked_at = at_time;
    /* CRL first: once it is signed the revocation is in force even if what follows fails. */
    if ((rc = write_crl(dir, &l, ca, ca_key, errstr, errstr_size)) ||
        (rc = archive_cert(dir, cur, errstr, errstr_size)) ||
        (rc = index_save(dir, &l, errstr, errstr_size)))
        goto out;
    snprintf(rel, sizeof rel, "units/%s.key", unit);
    if ((rc = join(p, dir, rel, errstr, errstr_size)))
        goto out;
    if (unlink(p) != 0 && errno != ENOENT) {
        snprintf(errstr, errstr_size, "revoked, but cannot delete the key %s: %s", p, strerror(errno));
        rc = DB_ERR_IO;
    }
out:
    unlock_dir(lock);
    free(l.e);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

int pki_list(const char *dir, pki_entry_t **entries, size_t *n, char *errstr,
             size_t errstr_size)
{
    index_list_t l;
    int rc;
    *entries = NULL;
    *n = 0;
    if (!pki_exists(dir))
        return no_pki(dir, errstr, errstr_size);
    if ((rc = index_load(dir, &l, errstr, errstr_size)))
        return rc;
    *entries = l.e;
    *n = l.n;
    return 0;
}

int pki_unit_load(const char *dir, const char *unit, EVP_PKEY **key, X509 **cert,
                  char *errstr, size_t errstr_size)
{
    char p[PKI_PATH_MAX], rel[128], got[UNIT_CODE_MAX];
    int rc;
    *key = NULL;
    *cert = NULL;
    if (!pki_unit_code_ok(unit)) {
        snprintf(errstr, errstr_size, "bad unit code \"%s\"", unit ? unit : "");
        return DB_ERR_CONFIG;
    }
    if (!pki_exists(dir))
        return no_pki(dir, errstr, errstr_size);
    snprintf(rel, sizeof rel, "units/%s.crt", unit);
    if ((rc = join(p, dir, rel, errstr, errstr_size)))
        goto out;
    if ((rc = pki_cert_load(p, cert, errstr, errstr_size))) {
        if (rc == DB_ERR_NOT_FOUND)
            snprintf(errstr, errstr_size, "unit %s has no certificate in %s; run `docbus pki issue "
                     "--unit %s --name NAME`", unit, dir, unit);
        rc = DB_ERR_CONFIG;
        goto out;
    }
    snprintf(rel, sizeof rel, "units/%s.key", unit);
    if ((rc = join(p, dir, rel, errstr, errstr_size)))
        goto out;
    if ((rc = pki_key_load(p, key, errstr, errstr_size))) {
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if (X509_check_private_key(*cert, *key) != 1) {
        snprintf(errstr, errstr_size, "%s does not match units/%s.crt in %s", p, unit, dir);
        ERR_clear_error();
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if ((rc = pki_cert_unit(*cert, got, errstr, errstr_size)))
        goto out;
    if (strcmp(got, unit) != 0) {
        snprintf(errstr, errstr_size, "units/%s.crt in %s names unit %s", unit, dir, got);
        rc = DB_ERR_CERT_UNIT;
    }
out:
    if (rc) {
        EVP_PKEY_free(*key);
        X509_free(*cert);
        *key = NULL;
        *cert = NULL;
    }
    return rc;
}
