/* test_pki.c - PKI on disk (init, issue, rotate, revoke, list) and trust_check verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "pki.h"
#include "trust.h"

#define UNIT_A "000.00.00.H29"
#define UNIT_B "000.00.01.H29"

typedef struct fixture {
    char root[512];   /* temp dir */
    char pki[600];
    char err[512];
} fixture_t;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    const char *base = getenv("DOCBUS_TEST_TMP") ? getenv("DOCBUS_TEST_TMP") : "/tmp";
    snprintf(f->root, sizeof f->root, "%s/pki-XXXXXX", base);
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->pki, sizeof f->pki, "%s/pki", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void path(char *out, size_t n, const fixture_t *f, const char *rel)
{
    snprintf(out, n, "%s/%s", f->pki, rel);
}

static mode_t mode_of(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return st.st_mode & 0777;
}

static void key_id_of(const fixture_t *f, const char *rel, uint8_t kid[32])
{
    char p[700], err[256];
    X509 *x = NULL;
    path(p, sizeof p, f, rel);
    assert_int_equal(pki_cert_load(p, &x, err, sizeof err), 0);
    assert_int_equal(pki_cert_key_id(x, kid), 0);
    X509_free(x);
}

static int64_t now_ms(void)
{
    return (int64_t)time(NULL) * 1000;
}

static void test_init_creates_ca_with_private_key_mode_0600(void **state)
{
    fixture_t *f = *state;
    char p[700];
    X509 *ca = NULL;
    assert_false(pki_exists(f->pki));
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_true(pki_exists(f->pki));
    path(p, sizeof p, f, "ca.key");
    assert_int_equal(mode_of(p), 0600);
    path(p, sizeof p, f, "ca.crt");
    assert_int_equal(pki_cert_load(p, &ca, f->err, sizeof f->err), 0);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_get_signature_nid(ca), NID_ED25519);
    assert_int_equal(X509_self_signed(ca, 1), 1);
    X509_free(ca);
    path(p, sizeof p, f, "crl.pem");
    assert_int_equal(access(p, R_OK), 0);
    /* a second init must not replace the CA */
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), DB_ERR_INVALID);
}

static void test_issue_without_pki_is_a_config_error(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(pki_issue(f->pki, UNIT_A, "Sở TT&TT", 30, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_non_null(strstr(f->err, "docbus pki init"));
}

static void test_issue_writes_key_0600_and_cert_naming_the_unit(void **state)
{
    fixture_t *f = *state;
    char p[700], unit[UNIT_CODE_MAX];
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "Sở Thông tin và Truyền thông", 30, f->err, sizeof f->err), 0);
    path(p, sizeof p, f, "units/" UNIT_A ".key");
    assert_int_equal(mode_of(p), 0600);
    assert_int_equal(pki_unit_load(f->pki, UNIT_A, &key, &cert, f->err, sizeof f->err), 0);
    assert_int_equal(EVP_PKEY_get_id(key), EVP_PKEY_ED25519);
    assert_int_equal(pki_cert_unit(cert, unit, f->err, sizeof f->err), 0);
    assert_string_equal(unit, UNIT_A);
    assert_int_equal(X509_check_ca(cert), 0);
    EVP_PKEY_free(key);
    X509_free(cert);
    /* bad inputs */
    assert_int_equal(pki_issue(f->pki, "../etc", "x", 30, f->err, sizeof f->err), DB_ERR_INVALID);
    assert_int_equal(pki_issue(f->pki, UNIT_B, "a\tb", 30, f->err, sizeof f->err), DB_ERR_INVALID);
    assert_int_equal(pki_issue(f->pki, UNIT_B, "x", 0, f->err, sizeof f->err), DB_ERR_INVALID);
}

static void test_key_readable_by_others_is_refused(void **state)
{
    fixture_t *f = *state;
    char p[700];
    EVP_PKEY *key = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    path(p, sizeof p, f, "units/" UNIT_A ".key");
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_null(key);
    assert_non_null(strstr(f->err, "chmod 600"));
}

/* Writes key as an unencrypted PKCS#8 PEM at p, mode 0600. */
static void write_key(const char *p, EVP_PKEY *key)
{
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(p, 0600), 0);
}

/* Writes text to p with mode 0600. */
static void write_text(const char *p, const char *text)
{
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(p, 0600), 0);
}

/* The fast decoder takes only Ed25519; other keys and non-keys keep their own message. */
static void test_key_load_tells_foreign_keys_from_garbage(void **state)
{
    fixture_t *f = *state;
    char p[700];
    EVP_PKEY *key = NULL, *other;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    path(p, sizeof p, f, "other.key");
    other = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    assert_non_null(other);
    write_key(p, other);
    EVP_PKEY_free(other);
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_null(key);
    assert_non_null(strstr(f->err, "is not an Ed25519 key"));
    other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(other);
    write_key(p, other);
    EVP_PKEY_free(other);
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_non_null(strstr(f->err, "is not an Ed25519 key"));
    write_text(p, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_null(key);
    assert_non_null(strstr(f->err, "is not a PEM private key"));
    other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(other);
    write_key(p, other);
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), 0);
    assert_int_equal(EVP_PKEY_eq(key, other), 1);
    EVP_PKEY_free(other);
    EVP_PKEY_free(key);
}

/* The direct read of pki's own form takes its line breaks as they come (CRLF, the body
 * over two lines) and gives the very key; a PEM cut before its END line is no key. */
static void test_key_load_reads_any_line_breaks_of_pkis_form(void **state)
{
    fixture_t *f = *state;
    char p[700], pem[512], text[512];
    EVP_PKEY *key = NULL, *orig = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *b = BIO_new(BIO_s_mem());
    const char *body;
    int n;
    assert_non_null(orig);
    assert_non_null(b);
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(PEM_write_bio_PrivateKey(b, orig, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_read(b, pem, sizeof pem - 1);
    assert_true(n > 0);
    pem[n] = 0;
    body = strchr(pem, '\n') + 1;   /* the 64 base64 characters */
    assert_int_equal(strchr(body, '\n') - body, 64);
    path(p, sizeof p, f, "crlf.key");
    snprintf(text, sizeof text, "-----BEGIN PRIVATE KEY-----\r\n%.32s\r\n%.32s\r\n"
             "-----END PRIVATE KEY-----\r\n", body, body + 32);
    write_text(p, text);
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), 0);
    assert_int_equal(EVP_PKEY_eq(key, orig), 1);
    EVP_PKEY_free(key);
    key = NULL;
    snprintf(text, sizeof text, "-----BEGIN PRIVATE KEY-----\n%.64s\n-----END PRI", body);
    write_text(p, text);
    assert_int_equal(pki_key_load(p, &key, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_null(key);
    assert_non_null(strstr(f->err, "is not a PEM private key"));
    BIO_free(b);
    EVP_PKEY_free(orig);
}

static void test_rotation_keeps_old_certificate_and_both_verify(void **state)
{
    fixture_t *f = *state;
    pki_entry_t *e = NULL;
    size_t n = 0;
    uint8_t old_kid[32], new_kid[32];
    char rel[200];
    trust_t *t = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", old_kid);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", new_kid);
    assert_memory_not_equal(old_kid, new_kid, 32);
    assert_int_equal(pki_list(f->pki, &e, &n, f->err, sizeof f->err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].status, PKI_CERT_SUPERSEDED);
    assert_int_equal(e[1].status, PKI_CERT_CURRENT);
    assert_memory_equal(e[0].key_id, old_kid, 32);
    snprintf(rel, sizeof rel, "units/%s.%s.crt", UNIT_A, e[0].serial);
    assert_string_equal(e[0].file, rel);
    free(e);
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_count(t), 2);
    assert_int_equal(trust_check(t, old_kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, new_kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err), 0);
    trust_destroy(t);
}

static void test_trust_accepts_good_cert_and_returns_its_key(void **state)
{
    fixture_t *f = *state;
    uint8_t kid[32];
    trust_t *t = NULL;
    EVP_PKEY *pub = NULL, *key = NULL;
    X509 *cert = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", kid);
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), &pub, f->err, sizeof f->err), 0);
    assert_non_null(pub);
    assert_int_equal(pki_unit_load(f->pki, UNIT_A, &key, &cert, f->err, sizeof f->err), 0);
    assert_int_equal(EVP_PKEY_eq(pub, key), 1);
    /* the cached verdict gives the same answer */
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err), 0);
    EVP_PKEY_free(key);
    X509_free(cert);
    trust_destroy(t);
}

static void test_trust_rejects_unknown_signer(void **state)
{
    fixture_t *f = *state;
    uint8_t kid[32];
    trust_t *t = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", kid);
    kid[31] ^= 1;
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err),
                     DB_ERR_UNKNOWN_SIGNER);
    trust_destroy(t);
}

static void test_trust_rejects_certificate_of_another_ca(void **state)
{
    fixture_t *f = *state;
    char other[700], p[800];
    uint8_t kid[32];
    X509 *x = NULL;
    trust_t *t = NULL;
    snprintf(other, sizeof other, "%s/other", f->root);
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_init(other, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(other, UNIT_A, "impostor", 30, f->err, sizeof f->err), 0);
    snprintf(p, sizeof p, "%s/units/%s.crt", other, UNIT_A);
    assert_int_equal(pki_cert_load(p, &x, f->err, sizeof f->err), 0);
    assert_int_equal(pki_cert_key_id(x, kid), 0);
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_add_cert(t, x, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_CHAIN);
    /* cached verdict */
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_CHAIN);
    X509_free(x);
    trust_destroy(t);
}

static void test_trust_rejects_certificate_of_another_unit(void **state)
{
    fixture_t *f = *state;
    uint8_t kid[32];
    trust_t *t = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_B, "B", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_B ".crt", kid);
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_UNIT);
    assert_int_equal(trust_check(t, kid, UNIT_B, now_ms(), NULL, f->err, sizeof f->err), 0);
    trust_destroy(t);
}

static void test_trust_rejects_signing_outside_validity(void **state)
{
    fixture_t *f = *state;
    uint8_t kid[32];
    trust_t *t = NULL;
    int64_t day = 86400LL * 1000;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 1, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", kid);
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms() + 2 * day, NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_EXPIRED);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms() - day, NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_EXPIRED);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms() + day / 2, NULL, f->err, sizeof f->err), 0);
    trust_destroy(t);
}

static void test_revoked_cert_rejects_later_signatures_only(void **state)
{
    fixture_t *f = *state;
    uint8_t kid[32];
    trust_t *t = NULL;
    pki_entry_t *e = NULL;
    size_t n = 0;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int64_t rev_s = time(NULL) + 3600;   /* revocation effective in an hour */
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", kid);
    assert_int_equal(pki_revoke(f->pki, UNIT_A, rev_s, f->err, sizeof f->err), 0);
    assert_int_equal(trust_load_pki(f->pki, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, rev_s * 1000 - 1, NULL, f->err, sizeof f->err), 0);
    assert_int_equal(trust_check(t, kid, UNIT_A, rev_s * 1000, NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_REVOKED);
    assert_int_equal(trust_check(t, kid, UNIT_A, rev_s * 1000 + 5000, NULL, f->err, sizeof f->err),
                     DB_ERR_CERT_REVOKED);
    trust_destroy(t);
    /* the index says revoked, the key is gone, revoking again finds nothing */
    assert_int_equal(pki_list(f->pki, &e, &n, f->err, sizeof f->err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].status, PKI_CERT_REVOKED);
    assert_int_equal(e[0].revoked_at, rev_s);
    free(e);
    assert_int_equal(pki_unit_load(f->pki, UNIT_A, &key, &cert, f->err, sizeof f->err), DB_ERR_CONFIG);
    assert_int_equal(pki_revoke(f->pki, UNIT_A, rev_s, f->err, sizeof f->err), DB_ERR_NOT_FOUND);
}

static void test_verifier_without_keys_loads_ca_crl_and_certs_dir(void **state)
{
    fixture_t *f = *state;
    char ca[700], crl[700], units[700];
    uint8_t kid[32];
    trust_t *t = NULL;
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_issue(f->pki, UNIT_A, "A", 30, f->err, sizeof f->err), 0);
    key_id_of(f, "units/" UNIT_A ".crt", kid);
    path(ca, sizeof ca, f, "ca.crt");
    path(crl, sizeof crl, f, "crl.pem");
    path(units, sizeof units, f, "units");
    assert_int_equal(trust_load(ca, crl, units, &t, f->err, sizeof f->err), 0);
    assert_int_equal(trust_count(t), 1);
    assert_int_equal(trust_check(t, kid, UNIT_A, now_ms(), NULL, f->err, sizeof f->err), 0);
    trust_destroy(t);
    trust_destroy(NULL);
}

static void test_crl_signed_by_another_ca_is_refused(void **state)
{
    fixture_t *f = *state;
    char other[700], ca[700], crl[800];
    trust_t *t = NULL;
    snprintf(other, sizeof other, "%s/other", f->root);
    assert_int_equal(pki_init(f->pki, f->err, sizeof f->err), 0);
    assert_int_equal(pki_init(other, f->err, sizeof f->err), 0);
    path(ca, sizeof ca, f, "ca.crt");
    snprintf(crl, sizeof crl, "%s/crl.pem", other);
    assert_int_equal(trust_load(ca, crl, NULL, &t, f->err, sizeof f->err), DB_ERR_CERT_CHAIN);
    assert_null(t);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_init_creates_ca_with_private_key_mode_0600),
        T(test_issue_without_pki_is_a_config_error),
        T(test_issue_writes_key_0600_and_cert_naming_the_unit),
        T(test_key_readable_by_others_is_refused),
        T(test_key_load_tells_foreign_keys_from_garbage),
        T(test_key_load_reads_any_line_breaks_of_pkis_form),
        T(test_rotation_keeps_old_certificate_and_both_verify),
        T(test_trust_accepts_good_cert_and_returns_its_key),
        T(test_trust_rejects_unknown_signer),
        T(test_trust_rejects_certificate_of_another_ca),
        T(test_trust_rejects_certificate_of_another_unit),
        T(test_trust_rejects_signing_outside_validity),
        T(test_revoked_cert_rejects_later_signatures_only),
        T(test_verifier_without_keys_loads_ca_crl_and_certs_dir),
        T(test_crl_signed_by_another_ca_is_refused),
    };
    return cmocka_run_group_tests_name("pki", tests, NULL, NULL);
}
