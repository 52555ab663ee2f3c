/* verify.c - one message, proven: envelope, inclusion proof, signature, certificate, body. */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>
#include <sys/stat.h>

#include "batch.h"
#include "config.h"
#include "kafka.h"
#include "codec.h"
#include "error.h"
#include "schema.h"

struct verifier {
    trust_t *trust;
    batch_verifier_t *bv;
    body_decoder_t *bodies;
    const struct db_config *cfg;   /* set when certificates come from the certs topic */
    int64_t certs_read_at;         /* monotonic ms of the last read of the certs topic */
};

#define CERTS_REFRESH_MS 5000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

verifier_t *verifier_new_trust(trust_t *trust, char *errstr, size_t errstr_size)
{
    verifier_t *v = calloc(1, sizeof *v);
    if (!v) {
        trust_destroy(trust);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    v->trust = trust;
    if (schemas_init(errstr, errstr_size))
        goto fail;
    v->bv = batch_verifier_new(trust);
    v->bodies = body_decoder_new();
    if (!v->bv || !v->bodies) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    return v;
fail:
    verifier_destroy(v);
    return NULL;
}

verifier_t *verifier_new(const char *pki_dir, char *errstr, size_t errstr_size)
{
    trust_t *trust = NULL;
    if (trust_load_pki(pki_dir, &trust, errstr, errstr_size))
        return NULL;
    return verifier_new_trust(trust, errstr, errstr_size);
}

/* Adds one record of the certs topic to the trust store (kafka_read_to_end callback):
 * "cert/<key id>" is a unit certificate (DER), "crl" the CA's CRL (DER). */
static int load_cert_record(void *opaque, const rd_kafka_message_t *m, char *errstr,
                            size_t errstr_size)
{
    trust_t *t = opaque;
    if (!m->key || !m->payload)
        return 0;
    if (m->key_len > 5 && !memcmp(m->key, "cert/", 5))
        return trust_add_cert_der(t, m->payload, m->len, errstr, errstr_size);
    if (m->key_len == 3 && !memcmp(m->key, "crl", 3)) {
        const unsigned char *p = m->payload;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)m->len);
        int rc;
        if (!crl) {
            snprintf(errstr, errstr_size, "%s offset %lld: CRL does not decode",
                     rd_kafka_topic_name(m->rkt), (long long)m->offset);
            return DB_ERR_INVALID;
        }
        rc = trust_set_crl(t, crl, errstr, errstr_size);
        X509_CRL_free(crl);
        return rc;
    }
    return 0; /* "ca" and unknown keys: the trust anchor is only ever the local one */
}

/* Adds what the certs topic holds now to trust. Returns 0 or a db_err_t. */
static int read_certs_topic(const struct db_config *cfg, trust_t *trust, char *errstr,
                            size_t errstr_size)
{
    char topic[256];
    int rc;
    rd_kafka_t *rk = kafka_consumer_new(cfg, NULL, NULL, NULL, errstr, errstr_size);
    if (!rk)
        return DB_ERR_KAFKA;
    config_topic(cfg, "certs", topic, sizeof topic);
    rc = kafka_read_to_end(rk, topic, load_cert_record, trust, errstr, errstr_size);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc == DB_ERR_NOT_FOUND ? 0 : rc;
}

verifier_t *verifier_new_cfg(const struct db_config *cfg, char *errstr, size_t errstr_size)
{
    verifier_t *v;
    const char *dir = config_get(cfg, "docbus.pki.dir", "pki");
    char ca[1024], crl[1024], units[1024];
    struct stat sb;
    trust_t *trust = NULL;
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    snprintf(crl, sizeof crl, "%s/crl.pem", dir);
    snprintf(units, sizeof units, "%s/units", dir);
    if (trust_load(ca, stat(crl, &sb) ? NULL : crl, stat(units, &sb) ? NULL : units, &trust,
                   errstr, errstr_size))
        return NULL;
    if (read_certs_topic(cfg, trust, errstr, errstr_size)) {
        trust_destroy(trust);
        return NULL;
    }
    v = verifier_new_trust(trust, errstr, errstr_size);
    if (v) {
        v->cfg = cfg;
        v->certs_read_at = mono_ms();
    }
    return v;
}

int verifier_check(verifier_t *v, const uint8_t *buf, size_t len, verified_t *out,
                   char *errstr, size_t errstr_size)
{
    return verifier_check_into(v, v->bodies, buf, len, out, errstr, errstr_size);
}

int verifier_check_into(verifier_t *v, body_decoder_t *bodies, const uint8_t *buf, size_t len,
                        verified_t *out, char *errstr, size_t errstr_size)
{
    int rc = envelope_read(buf, len, &out->content, &out->proof, &out->content_avro,
                           &out->content_len, errstr, errstr_size);
    if (rc)
        return rc;
    rc = batch_verifier_check(v->bv, &out->content, &out->proof, out->content_avro,
                              out->content_len, errstr, errstr_size);
    /* A unit added (or a key rotated) after we started: its certificate may be on the
     * certs topic by now. Look again, at most every few seconds, then retry once. */
    if (rc == DB_ERR_UNKNOWN_SIGNER && v->cfg && mono_ms() - v->certs_read_at >= CERTS_REFRESH_MS) {
        char why[256];
        v->certs_read_at = mono_ms();
        if (!read_certs_topic(v->cfg, v->trust, why, sizeof why))
            rc = batch_verifier_check(v->bv, &out->content, &out->proof, out->content_avro,
                                      out->content_len, errstr, errstr_size);
    }
    if (rc)
        return rc;
    memcpy(out->leaf, batch_verifier_leaf(v->bv), sizeof out->leaf);
    {
        /* The signed body type and the body's schema must agree, or a Status could be
         * passed off as a Document (older versions keep the record's full name). */
        const char *name = schemas_name_by_fingerprint(out->content.body_fingerprint);
        const char *want = body_type_schema(out->content.body_type);
        if (!name || !want || strcmp(name, want)) {
            snprintf(errstr, errstr_size, "%s seq %lld: body type %s but body schema %s",
                     out->content.producer, (long long)out->content.seq, want ? want : "?",
                     name ? name : "unknown");
            return name ? DB_ERR_BAD_CONTENT : DB_ERR_UNKNOWN_SCHEMA;
        }
    }
    return body_decoder_read(bodies, out->content.body_fingerprint, out->content.body,
                             out->content.body_len, &out->body, errstr, errstr_size);
}

void verifier_destroy(verifier_t *v)
{
    if (!v)
        return;
    body_decoder_destroy(v->bodies);
    batch_verifier_destroy(v->bv);
    trust_destroy(v->trust);
    free(v);
}
