/* forge.c - the audit tests' injector: dump a topic's raw records to files, produce files
 * back byte for byte (optionally with a chosen timestamp), and tamper with envelopes
 * (alter the body, the signature, or re-sign with another key). Built by
 * tests/it/audit/lib.sh against the library objects; never part of docbus. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "batch.h"
#include "codec.h"
#include "config.h"
#include "envelope.h"
#include "error.h"
#include "kafka.h"
#include "pki.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: forge dump BOOTSTRAP TOPIC DIR        files DIR/p<P>-o<O>.val/.key, TSV on stdout\n"
            "       forge put BOOTSTRAP TOPIC PART TS FILE... (TS: ms or -; key from FILE.key)\n"
            "       forge flip-body IN OUT | flip-sig IN OUT | resign IN OUT KEY CERT\n"
            "       forge show IN                          producer seq batch_seq created_at\n");
    return 2;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    if (!f)
        return NULL;
    buf = malloc(ENVELOPE_MAX_BYTES + 1);
    *len = fread(buf, 1, ENVELOPE_MAX_BYTES + 1, f);
    fclose(f);
    return buf;
}

static int spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "forge: writing %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

static rd_kafka_t *client(const char *bootstrap, rd_kafka_type_t type)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set(c, "group.id", "forge", err, sizeof err);
        rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof err);
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
        rd_kafka_conf_set(c, "isolation.level", "read_committed", err, sizeof err);
    } else {
        rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk)
        fprintf(stderr, "forge: %s\n", err);
    return rk;
}

static int dump(const char *bootstrap, const char *topic, const char *dir)
{
    rd_kafka_t *rk = client(bootstrap, RD_KAFKA_CONSUMER);
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt;
    rd_kafka_topic_partition_list_t *tl;
    int remaining = 0, rc = 0;
    if (!rk)
        return 1;
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "forge: no topic %s\n", topic);
        return 1;
    }
    tl = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int p = 0; p < md->topics[0].partition_cnt; p++) {
        int64_t lo, hi;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (hi > lo) {
            rd_kafka_topic_partition_list_add(tl, topic, p)->offset = lo;
            remaining++;
        }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_assign(rk, tl);
    printf("file\tpartition\toffset\ttimestamp\tproducer\tseq\tbatch_seq\tfirst_seq\tcount\n");
    while (remaining > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        char path[4096];
        content_t c;
        proof_t pf;
        char err[256];
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            remaining--;
        } else if (m->err) {
            fprintf(stderr, "forge: %s\n", rd_kafka_message_errstr(m));
            rc = 1;
            remaining = 0;
        } else {
            snprintf(path, sizeof path, "%s/p%d-o%06" PRId64 ".val", dir, (int)m->partition, m->offset);
            rc |= spit(path, m->payload, m->len);
            printf("%s\t%d\t%" PRId64 "\t%" PRId64, path, (int)m->partition, m->offset,
                   rd_kafka_message_timestamp(m, NULL));
            if (!envelope_read(m->payload, m->len, &c, &pf, NULL, NULL, err, sizeof err))
                printf("\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%d\n", c.producer, c.seq,
                       pf.header.batch_seq, pf.header.first_seq, (int)pf.header.count);
            else
                printf("\t-\t-1\t-1\t-1\t0\n");
            if (m->key) {
                snprintf(path, sizeof path, "%s/p%d-o%06" PRId64 ".val.key", dir, (int)m->partition,
                         m->offset);
                rc |= spit(path, m->key, m->key_len);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static int put(const char *bootstrap, const char *topic, int partition, const char *ts,
               char **files, int n)
{
    rd_kafka_t *rk = client(bootstrap, RD_KAFKA_PRODUCER);
    const char *names[1] = {topic};
    char err[512];
    int rc = 0;
    int64_t tsv = strcmp(ts, "-") ? strtoll(ts, NULL, 10) : 0;
    db_config_t *cfg = config_new();
    if (!rk || !cfg)
        return 1;
    /* one partition unless it exists: tests pick the partition explicitly */
    if (kafka_ensure_topics(rk, names, 1, 1, NULL, 0, err, sizeof err)) {
        fprintf(stderr, "forge: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        size_t len = 0, klen = 0;
        char kpath[4096];
        uint8_t *v = slurp(files[i], &len), *k;
        if (!v) {
            fprintf(stderr, "forge: %s: %s\n", files[i], strerror(errno));
            return 1;
        }
        snprintf(kpath, sizeof kpath, "%s.key", files[i]);
        k = slurp(kpath, &klen);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_VALUE(v, len),
            RD_KAFKA_V_KEY(k, k ? klen : 0), RD_KAFKA_V_TIMESTAMP(tsv),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        free(v);
        free(k);
        if (e) {
            fprintf(stderr, "forge: produce: %s\n", rd_kafka_err2str(e));
            rc = 1;
        }
        /* one at a time, so the order on the partition is the order given */
        if (rd_kafka_flush(rk, 10000)) {
            fprintf(stderr, "forge: flush timed out\n");
            rc = 1;
        }
    }
    rd_kafka_destroy(rk);
    config_destroy(cfg);
    return rc;
}

static int rewrite(const char *in, const char *out, const char *op, const char *keyf,
                   const char *certf)
{
    size_t len, clen, outlen;
    uint8_t *buf = slurp(in, &len), *o = malloc(ENVELOPE_MAX_BYTES);
    const uint8_t *cav;
    content_t c;
    proof_t p;
    char err[512];
    int rc = 1;
    if (!buf || envelope_read(buf, len, &c, &p, &cav, &clen, err, sizeof err)) {
        fprintf(stderr, "forge: %s: not an envelope\n", in);
        goto out;
    }
    if (!strcmp(op, "flip-body")) {
        /* a byte in the middle of the body: the envelope still parses, the leaf changes */
        memcpy(o, buf, len);
        o[(c.body - buf) + c.body_len / 2] ^= 0x01;
        rc = spit(out, o, len);
        goto out;
    }
    if (!strcmp(op, "flip-sig")) {
        p.signature[10] ^= 0x01;
    } else if (!strcmp(op, "resign")) {
        EVP_PKEY *key = NULL;
        X509 *cert = NULL;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t msg[16 + 4096];
        size_t hl = 0, siglen = 64, ctxlen = strlen(BATCH_SIG_CONTEXT) + 1;
        if (pki_key_load(keyf, &key, err, sizeof err) || pki_cert_load(certf, &cert, err, sizeof err)) {
            fprintf(stderr, "forge: %s\n", err);
            goto out;
        }
        pki_cert_key_id(cert, p.header.key_id);
        memcpy(msg, BATCH_SIG_CONTEXT, ctxlen);
        if (batch_header_encode(&p.header, msg + ctxlen, sizeof msg - ctxlen, &hl) ||
            EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
            EVP_DigestSign(ctx, p.signature, &siglen, msg, ctxlen + hl) != 1) {
            fprintf(stderr, "forge: signing failed\n");
            goto out;
        }
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(key);
        X509_free(cert);
    } else {
        rc = usage();
        goto out;
    }
    if (envelope_write(cav, clen, &p, o, ENVELOPE_MAX_BYTES, &outlen)) {
        fprintf(stderr, "forge: envelope_write failed\n");
        goto out;
    }
    rc = spit(out, o, outlen);
out:
    free(buf);
    free(o);
    return rc;
}

static int show(const char *in)
{
    size_t len;
    uint8_t *buf = slurp(in, &len);
    content_t c;
    proof_t p;
    char err[256];
    int rc = !buf || envelope_read(buf, len, &c, &p, NULL, NULL, err, sizeof err);
    if (!rc)
        printf("%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", c.producer, c.seq, p.header.batch_seq,
               p.header.created_at);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "dump"))
        return dump(argv[2], argv[3], argv[4]);
    if (argc >= 7 && !strcmp(argv[1], "put"))
        return put(argv[2], argv[3], atoi(argv[4]), argv[5], argv + 6, argc - 6);
    if (argc == 4 && (!strcmp(argv[1], "flip-body") || !strcmp(argv[1], "flip-sig")))
        return rewrite(argv[2], argv[3], argv[1], NULL, NULL);
    if (argc == 6 && !strcmp(argv[1], "resign"))
        return rewrite(argv[2], argv[3], argv[1], argv[4], argv[5]);
    if (argc == 3 && !strcmp(argv[1], "show"))
        return show(argv[2]);
    return usage();
}
