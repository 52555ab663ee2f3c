/* evidence.c - audit evidence as an Avro Object Container File: write and read. */
#include "evidence.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "error.h"
#include "pki.h"
#include "schema.h"

/* One block must hold the largest entry: a record of up to ENVELOPE_MAX_BYTES plus its
 * key and names (the Avro-C writer fails on a datum larger than its block). */
#define EVIDENCE_BLOCK_BYTES (4 * 1024 * 1024)

enum { BR_HEADER = 0, BR_TRUST = 1, BR_RECORD = 2, BR_SUMMARY = 3 };

struct evidence_writer {
    char *path, *tmp;
    avro_file_writer_t fw;
    avro_value_iface_t *iface;
    avro_value_t value;
    int have_value;
};

/* ---- trust material ---------------------------------------------------------------- */

static int der_of_cert_file(const char *path, uint8_t **der, size_t *len, char *errstr,
                            size_t errstr_size)
{
    X509 *x = NULL;
    unsigned char *p = NULL;
    int n, rc = pki_cert_load(path, &x, errstr, errstr_size);
    if (rc)
        return rc;
    n = i2d_X509(x, &p);
    X509_free(x);
    if (n <= 0) {
        snprintf(errstr, errstr_size, "%s: cannot encode the certificate as DER", path);
        return DB_ERR_CRYPTO;
    }
    *der = malloc((size_t)n);
    if (!*der) {
        OPENSSL_free(p);
        return DB_ERR_NOMEM;
    }
    memcpy(*der, p, (size_t)n);
    OPENSSL_free(p);
    *len = (size_t)n;
    return 0;
}

static int der_of_crl_file(const char *path, uint8_t **der, size_t *len, char *errstr,
                           size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    X509_CRL *crl = NULL;
    unsigned char *p = NULL;
    int n, rc = 0;
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return DB_ERR_IO;
    }
    crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
    fclose(f);
    if (!crl || (n = i2d_X509_CRL(crl, &p)) <= 0) {
        snprintf(errstr, errstr_size, "%s is not a PEM CRL", path);
        ERR_clear_error();
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if (!(*der = malloc((size_t)n))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    memcpy(*der, p, (size_t)n);
    *len = (size_t)n;
out:
    OPENSSL_free(p);
    X509_CRL_free(crl);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int evidence_trust_from_pki(const char *pki_dir, evidence_trust_t *out, char *errstr,
                            size_t errstr_size)
{
    char path[4096];
    DIR *d = NULL;
    struct dirent *e;
    char **names = NULL;
    size_t nnames = 0;
    int rc;
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "%s/ca.crt", pki_dir);
    if ((rc = der_of_cert_file(path, &out->ca, &out->ca_len, errstr, errstr_size)))
        goto out;
    snprintf(path, sizeof path, "%s/crl.pem", pki_dir);
    if (access(path, R_OK) == 0 &&
        (rc = der_of_crl_file(path, &out->crl, &out->crl_len, errstr, errstr_size)))
        goto out;
    snprintf(path, sizeof path, "%s/units", pki_dir);
    if (!(d = opendir(path)))
        goto out;   /* a PKI with no units yet */
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".crt") != 0)
            continue;
        char **nn = realloc(names, (nnames + 1) * sizeof *nn);
        if (!nn || !(nn[nnames] = strdup(e->d_name))) {
            if (nn)
                names = nn;
            rc = DB_ERR_NOMEM;
            goto out;
        }
        names = nn;
        nnames++;
    }
    qsort(names, nnames, sizeof *names, cmp_str);   /* a stable file, run after run */
    out->certs = calloc(nnames + 1, sizeof *out->certs);
    out->cert_lens = calloc(nnames + 1, sizeof *out->cert_lens);
    if (!out->certs || !out->cert_lens) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nnames; i++) {
        snprintf(path, sizeof path, "%s/units/%s", pki_dir, names[i]);
        if ((rc = der_of_cert_file(path, &out->certs[out->ncerts], &out->cert_lens[out->ncerts],
                                   errstr, errstr_size)))
            goto out;
        out->ncerts++;
    }
out:
    if (d)
        closedir(d);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    if (rc)
        evidence_trust_free(out);
    return rc;
}

int evidence_trust_build(const evidence_trust_t *t, trust_t **out, char *errstr,
                         size_t errstr_size)
{
    const unsigned char *p = t->ca;
    X509 *ca = d2i_X509(NULL, &p, (long)t->ca_len);
    X509_CRL *crl = NULL;
    char tmp[] = "/tmp/docbus-evidence-ca.XXXXXX";
    FILE *f = NULL;
    int fd = -1, rc = 0;
    *out = NULL;
    if (!ca) {
        snprintf(errstr, errstr_size, "evidence: the CA certificate does not parse");
        rc = DB_ERR_INVALID;
        goto out;
    }
    /* trust_load takes the CA from a file: hand it a private temporary PEM. */
    if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(errstr, errstr_size, "evidence: temporary file: %s", strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    fd = -1;
    if (!PEM_write_X509(f, ca) || fclose(f) != 0) {
        f = NULL;
        snprintf(errstr, errstr_size, "evidence: cannot write the CA to %s", tmp);
        rc = DB_ERR_IO;
        goto out;
    }
    f = NULL;
    if ((rc = trust_load(tmp, NULL, NULL, out, errstr, errstr_size)))
        goto out;
    for (size_t i = 0; i < t->ncerts; i++)
        if ((rc = trust_add_cert_der(*out, t->certs[i], t->cert_lens[i], errstr, errstr_size)))
            goto out;
    if (t->crl) {
        p = t->crl;
        if (!(crl = d2i_X509_CRL(NULL, &p, (long)t->crl_len))) {
            snprintf(errstr, errstr_size, "evidence: the CRL does not parse");
            rc = DB_ERR_INVALID;
            goto out;
        }
        if ((rc = trust_set_crl(*out, crl, errstr, errstr_size)))
            goto out;
    }
out:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    X509_free(ca);
    X509_CRL_free(crl);
    ERR_clear_error();
    if (rc) {
        trust_destroy(*out);
        *out = NULL;
    }
    return rc;
}

void evidence_trust_ca_sha256(const evidence_trust_t *t, char hex[65])
{
    uint8_t md[32];
    SHA256(t->ca, t->ca_len, md);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void evidence_trust_free(evidence_trust_t *t)
{
    if (!t)
        return;
    free(t->ca);
    for (size_t i = 0; i < t->ncerts; i++)
        free(t->certs[i]);
    free(t->certs);
    free(t->cert_lens);
    free(t->crl);
    memset(t, 0, sizeof *t);
}

/* ---- writing ----------------------------------------------------------------------- */

static int avro_fail(const char *what, char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size, "evidence: %s: %s", what, avro_strerror());
    return DB_ERR_INVALID;
}

int evidence_writer_open(const char *path, evidence_writer_t **out, char *errstr,
                         size_t errstr_size)
{
    evidence_writer_t *w = calloc(1, sizeof *w);
    avro_schema_t schema;
    FILE *f = NULL;
    int rc = DB_ERR_NOMEM;
    *out = NULL;
    if (!w || !(w->path = strdup(path)) || !(w->tmp = malloc(strlen(path) + 5)))
        goto fail;
    sprintf(w->tmp, "%s.tmp", path);
    if ((rc = schemas_init(errstr, errstr_size)))
        goto fail;
    if (!(schema = schemas_get(EVIDENCE_SCHEMA))) {
        snprintf(errstr, errstr_size, "evidence: schema %s is not compiled in", EVIDENCE_SCHEMA);
        rc = DB_ERR_NOT_FOUND;
        goto fail;
    }
    if (!(f = fopen(w->tmp, "wb"))) {
        snprintf(errstr, errstr_size, "%s: %s", w->tmp, strerror(errno));
        rc = DB_ERR_IO;
        goto fail;
    }
    /* deflate is read by every Avro implementation; fall back to no codec if absent. */
    if (avro_file_writer_create_with_codec_fp(f, w->tmp, 1, schema, &w->fw, "deflate",
                                              EVIDENCE_BLOCK_BYTES) &&
        (rewind(f), avro_file_writer_create_with_codec_fp(f, w->tmp, 1, schema, &w->fw, "null",
                                                          EVIDENCE_BLOCK_BYTES))) {
        rc = avro_fail(w->tmp, errstr, errstr_size);
        goto fail;
    }
    f = NULL;
    if (!(w->iface = avro_generic_class_from_schema(schema)) ||
        avro_generic_value_new(w->iface, &w->value)) {
        rc = avro_fail("value", errstr, errstr_size);
        goto fail;
    }
    w->have_value = 1;
    *out = w;
    return 0;
fail:
    if (f)
        fclose(f);
    if (rc == DB_ERR_NOMEM)
        snprintf(errstr, errstr_size, "out of memory");
    evidence_writer_abort(w);
    return rc;
}

/* Resets the entry value and selects branch br; *rec is the branch record. */
static int entry_begin(evidence_writer_t *w, int br, avro_value_t *rec)
{
    avro_value_t u;
    avro_value_reset(&w->value);
    if (avro_value_get_by_name(&w->value, "entry", &u, NULL) || avro_value_set_branch(&u, br, rec))
        return -1;
    return 0;
}

static int set_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_set_string(&f, s ? s : "");
}

static int set_long(avro_value_t *rec, const char *name, int64_t x)
{
    avro_value_t f;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_set_long(&f, x);
}

static int set_int(avro_value_t *rec, const char *name, int32_t x)
{
    avro_value_t f;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_set_int(&f, x);
}

/* A ["null", T] field: null when isnull, else the T branch in *br. */
static int set_opt(avro_value_t *rec, const char *name, int isnull, avro_value_t *br)
{
    avro_value_t f, tmp;
    if (avro_value_get_by_name(rec, name, &f, NULL))
        return -1;
    if (isnull)
        return avro_value_set_branch(&f, 0, &tmp) || avro_value_set_null(&tmp);
    return avro_value_set_branch(&f, 1, br);
}

static int append(evidence_writer_t *w, char *errstr, size_t errstr_size)
{
    if (avro_file_writer_append_value(w->fw, &w->value)) {
        snprintf(errstr, errstr_size, "evidence: writing %s: %s", w->tmp, avro_strerror());
        return DB_ERR_IO;
    }
    return 0;
}

int evidence_write_header(evidence_writer_t *w, const evidence_header_t *h, char *errstr,
                          size_t errstr_size)
{
    avro_value_t rec, b;
    if (entry_begin(w, BR_HEADER, &rec) || set_int(&rec, "format_version", EVIDENCE_FORMAT_VERSION) ||
        set_long(&rec, "created_at", h->created_at) || set_str(&rec, "tool", h->tool) ||
        set_str(&rec, "topic_prefix", h->topic_prefix) ||
        set_opt(&rec, "from_ms", h->from_ms == AUDIT_TIME_OPEN_START, &b) ||
        (h->from_ms != AUDIT_TIME_OPEN_START && avro_value_set_long(&b, h->from_ms)) ||
        set_opt(&rec, "to_ms", h->to_ms == AUDIT_TIME_OPEN_END, &b) ||
        (h->to_ms != AUDIT_TIME_OPEN_END && avro_value_set_long(&b, h->to_ms)) ||
        set_long(&rec, "slack_ms", h->slack_ms) || set_long(&rec, "replay_window_ms", h->replay_ms) ||
        set_str(&rec, "against", h->against) ||
        set_opt(&rec, "against_report", h->against_report == NULL, &b) ||
        (h->against_report && avro_value_set_string(&b, h->against_report)))
        return avro_fail("header", errstr, errstr_size);
    return append(w, errstr, errstr_size);
}

int evidence_write_trust(evidence_writer_t *w, const evidence_trust_t *t, char *errstr,
                         size_t errstr_size)
{
    avro_value_t rec, f, item, b;
    if (entry_begin(w, BR_TRUST, &rec) || avro_value_get_by_name(&rec, "ca_cert_der", &f, NULL) ||
        avro_value_set_bytes(&f, t->ca, t->ca_len) ||
        avro_value_get_by_name(&rec, "unit_certs_der", &f, NULL))
        return avro_fail("trust", errstr, errstr_size);
    for (size_t i = 0; i < t->ncerts; i++)
        if (avro_value_append(&f, &item, NULL) ||
            avro_value_set_bytes(&item, t->certs[i], t->cert_lens[i]))
            return avro_fail("trust", errstr, errstr_size);
    if (set_opt(&rec, "crl_der", t->crl == NULL, &b) ||
        (t->crl && avro_value_set_bytes(&b, t->crl, t->crl_len)))
        return avro_fail("trust", errstr, errstr_size);
    return append(w, errstr, errstr_size);
}

int evidence_write_record(evidence_writer_t *w, evidence_kind_t kind, const audit_msg_t *m,
                          char *errstr, size_t errstr_size)
{
    avro_value_t rec, f, b;
    /* Avro-C copies bytes set with set_bytes; the record's memory stays the caller's. */
    if (entry_begin(w, BR_RECORD, &rec) || avro_value_get_by_name(&rec, "kind", &f, NULL) ||
        avro_value_set_enum(&f, (int)kind) || set_str(&rec, "topic", m->topic) ||
        set_int(&rec, "partition", m->partition) || set_long(&rec, "offset", m->offset) ||
        set_long(&rec, "timestamp", m->timestamp) || set_opt(&rec, "key", m->key == NULL, &b) ||
        (m->key && avro_value_set_bytes(&b, (void *)m->key, m->key_len)) ||
        set_opt(&rec, "value", m->value == NULL, &b) ||
        (m->value && avro_value_set_bytes(&b, (void *)m->value, m->len)))
        return avro_fail("record", errstr, errstr_size);
    return append(w, errstr, errstr_size);
}

int evidence_write_summary(evidence_writer_t *w, const char *verdict_json, char *errstr,
                           size_t errstr_size)
{
    avro_value_t rec;
    if (entry_begin(w, BR_SUMMARY, &rec) || set_str(&rec, "verdict_json", verdict_json))
        return avro_fail("summary", errstr, errstr_size);
    return append(w, errstr, errstr_size);
}

int evidence_writer_close(evidence_writer_t *w, char *errstr, size_t errstr_size)
{
    int rc = 0;
    if (avro_file_writer_close(w->fw)) {
        snprintf(errstr, errstr_size, "evidence: closing %s: %s", w->tmp, avro_strerror());
        rc = DB_ERR_IO;
    }
    w->fw = NULL;
    if (!rc && rename(w->tmp, w->path) != 0) {
        snprintf(errstr, errstr_size, "evidence: renaming %s to %s: %s", w->tmp, w->path,
                 strerror(errno));
        rc = DB_ERR_IO;
    }
    evidence_writer_abort(w);
    return rc;
}

void evidence_writer_abort(evidence_writer_t *w)
{
    if (!w)
        return;
    if (w->fw)
        avro_file_writer_close(w->fw);
    if (w->tmp)
        unlink(w->tmp);   /* after a successful rename there is nothing left to remove */
    if (w->have_value)
        avro_value_decref(&w->value);
    if (w->iface)
        avro_value_iface_decref(w->iface);
    free(w->path);
    free(w->tmp);
    free(w);
}

/* ---- reading ----------------------------------------------------------------------- */

static int get_str(avro_value_t *rec, const char *name, const char **s)
{
    avro_value_t f;
    size_t n;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_get_string(&f, s, &n);
}

static int get_long(avro_value_t *rec, const char *name, int64_t *x)
{
    avro_value_t f;
    return avro_value_get_by_name(rec, name, &f, NULL) || avro_value_get_long(&f, x);
}

/* A ["null", T] field: *present 0 for null, else *br is the T value. */
static int get_opt(avro_value_t *rec, const char *name, int *present, avro_value_t *br)
{
    avro_value_t f;
    int disc;
    if (avro_value_get_by_name(rec, name, &f, NULL) || avro_value_get_discriminant(&f, &disc) ||
        avro_value_get_current_branch(&f, br))
        return -1;
    *present = avro_value_get_type(br) != AVRO_NULL;
    return 0;
}

static int get_bytes(avro_value_t *v, const uint8_t **p, size_t *n)
{
    const void *b;
    if (avro_value_get_bytes(v, &b, n))
        return -1;
    *p = b;
    return 0;
}

static int read_header(avro_value_t *rec, const evidence_visitor_t *v, void *opaque)
{
    evidence_header_t h;
    avro_value_t b;
    int present;
    int32_t ver;
    avro_value_t f;
    memset(&h, 0, sizeof h);
    if (avro_value_get_by_name(rec, "format_version", &f, NULL) || avro_value_get_int(&f, &ver) ||
        get_long(rec, "created_at", &h.created_at) || get_str(rec, "tool", &h.tool) ||
        get_str(rec, "topic_prefix", &h.topic_prefix) || get_long(rec, "slack_ms", &h.slack_ms) ||
        get_long(rec, "replay_window_ms", &h.replay_ms) || get_str(rec, "against", &h.against))
        return DB_ERR_INVALID;
    h.format_version = ver;
    h.from_ms = AUDIT_TIME_OPEN_START;
    h.to_ms = AUDIT_TIME_OPEN_END;
    if (get_opt(rec, "from_ms", &present, &b) || (present && avro_value_get_long(&b, &h.from_ms)) ||
        get_opt(rec, "to_ms", &present, &b) || (present && avro_value_get_long(&b, &h.to_ms)) ||
        get_opt(rec, "against_report", &present, &b))
        return DB_ERR_INVALID;
    if (present) {
        size_t n;
        if (avro_value_get_string(&b, &h.against_report, &n))
            return DB_ERR_INVALID;
    }
    return v->header ? v->header(opaque, &h) : 0;
}

static int read_trust(avro_value_t *rec, const evidence_visitor_t *v, void *opaque)
{
    evidence_trust_t t;
    avro_value_t f, item, b;
    size_t n = 0;
    int present, rc = DB_ERR_INVALID;
    const uint8_t *p;
    memset(&t, 0, sizeof t);
    /* Pointers borrow from the Avro value; t is freed here without freeing them. */
    if (avro_value_get_by_name(rec, "ca_cert_der", &f, NULL) || get_bytes(&f, &p, &t.ca_len))
        return DB_ERR_INVALID;
    t.ca = (uint8_t *)p;
    if (avro_value_get_by_name(rec, "unit_certs_der", &f, NULL) || avro_value_get_size(&f, &n))
        return DB_ERR_INVALID;
    t.certs = calloc(n + 1, sizeof *t.certs);
    t.cert_lens = calloc(n + 1, sizeof *t.cert_lens);
    if (!t.certs || !t.cert_lens) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (avro_value_get_by_index(&f, i, &item, NULL) || get_bytes(&item, &p, &t.cert_lens[i]))
            goto out;
        t.certs[i] = (uint8_t *)p;
    }
    t.ncerts = n;
    if (get_opt(rec, "crl_der", &present, &b) || (present && get_bytes(&b, &p, &t.crl_len)))
        goto out;
    t.crl = present ? (uint8_t *)p : NULL;
    rc = v->trust ? v->trust(opaque, &t) : 0;
out:
    free(t.certs);
    free(t.cert_lens);
    return rc;
}

static int read_record(avro_value_t *rec, const evidence_visitor_t *v, void *opaque)
{
    audit_msg_t m;
    avro_value_t f, b;
    int kind, present;
    int32_t part;
    memset(&m, 0, sizeof m);
    if (avro_value_get_by_name(rec, "kind", &f, NULL) || avro_value_get_enum(&f, &kind) ||
        (kind != EVIDENCE_MESSAGE && kind != EVIDENCE_COUNT) || get_str(rec, "topic", &m.topic) ||
        avro_value_get_by_name(rec, "partition", &f, NULL) || avro_value_get_int(&f, &part) ||
        get_long(rec, "offset", &m.offset) || get_long(rec, "timestamp", &m.timestamp) ||
        get_opt(rec, "key", &present, &b) || (present && get_bytes(&b, &m.key, &m.key_len)) ||
        get_opt(rec, "value", &present, &b) || (present && get_bytes(&b, &m.value, &m.len)))
        return DB_ERR_INVALID;
    m.partition = part;
    return v->record ? v->record(opaque, (evidence_kind_t)kind, &m) : 0;
}

int evidence_read(const char *path, const evidence_visitor_t *v, void *opaque, char *errstr,
                  size_t errstr_size)
{
    avro_file_reader_t fr = NULL;
    avro_schema_t ws = NULL;
    avro_value_iface_t *iface = NULL;
    avro_value_t value, u, rec;
    int have_value = 0, rc = 0, seen_header = 0;
    uint64_t n = 0;
    if (avro_file_reader(path, &fr)) {
        snprintf(errstr, errstr_size, "%s: not an Avro container file: %s", path, avro_strerror());
        return DB_ERR_IO;
    }
    /* Read with the writer's own schema: the branches are found by name, so a file
     * from any writer with the same record names reads. */
    ws = avro_file_reader_get_writer_schema(fr);
    if (!ws || !(iface = avro_generic_class_from_schema(ws)) ||
        avro_generic_value_new(iface, &value)) {
        snprintf(errstr, errstr_size, "%s: unusable schema: %s", path, avro_strerror());
        rc = DB_ERR_INVALID;
        goto out;
    }
    have_value = 1;
    for (;;) {
        const char *name;
        int r = avro_file_reader_read_value(fr, &value);
        if (r == EOF)
            break;
        if (r) {
            snprintf(errstr, errstr_size, "%s: entry %llu: %s", path, (unsigned long long)n,
                     avro_strerror());
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (avro_value_get_by_name(&value, "entry", &u, NULL) ||
            avro_value_get_current_branch(&u, &rec) ||
            !(name = avro_schema_name(avro_value_get_schema(&rec)))) {
            snprintf(errstr, errstr_size, "%s: entry %llu is not an evidence entry", path,
                     (unsigned long long)n);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (!strcmp(name, "EvidenceHeader")) {
            rc = read_header(&rec, v, opaque);
            seen_header = 1;
        } else if (!seen_header) {
            snprintf(errstr, errstr_size, "%s: the first entry is not an EvidenceHeader", path);
            rc = DB_ERR_INVALID;
            goto out;
        } else if (!strcmp(name, "EvidenceTrust")) {
            rc = read_trust(&rec, v, opaque);
        } else if (!strcmp(name, "EvidenceRecord")) {
            rc = read_record(&rec, v, opaque);
        } else if (!strcmp(name, "EvidenceSummary")) {
            const char *js;
            rc = get_str(&rec, "verdict_json", &js) ? DB_ERR_INVALID
                 : v->summary                        ? v->summary(opaque, js)
                                                     : 0;
        } else {
            snprintf(errstr, errstr_size, "%s: entry %llu: unknown entry %s", path,
                     (unsigned long long)n, name);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (rc) {
            if (rc == DB_ERR_INVALID && !*errstr)
                snprintf(errstr, errstr_size, "%s: entry %llu (%s) is malformed", path,
                         (unsigned long long)n, name);
            goto out;
        }
        n++;
    }
    if (!seen_header) {
        snprintf(errstr, errstr_size, "%s: no EvidenceHeader: not a docbus evidence file", path);
        rc = DB_ERR_INVALID;
    }
out:
    if (have_value)
        avro_value_decref(&value);
    if (iface)
        avro_value_iface_decref(iface);
    if (ws)
        avro_schema_decref(ws);
    avro_file_reader_close(fr);
    return rc;
}
