/* micro.c - CPU micro-benchmarks for `make bench`: docbus's batch signer and verifier
 * against plain Avro-C encode/decode of the same Document bodies, and the signer's
 * Ed25519 rate at batch size 1.
 *
 *   micro ROW SIDE JSONL N DIR
 *     ROW   sign    docbus: batch signer (content encode, leaf hash, Merkle tree, one
 *                   Ed25519 signature per 512, durable seq state synced in the
 *                   background as the producers do, envelope write);
 *                   peer: avro_value_write of the body value
 *           verify  docbus: verifier_check (envelope decode, proof, cached batch
 *                   signature, certificate, body decode); peer: avro_value_read of the body
 *           sigs    docbus: batch signer at batch size 1 (one Ed25519 signature per
 *                   message; state file under DIR, put DIR on tmpfs to leave the disk out)
 *     SIDE  docbus | peer
 *     JSONL documents are taken from it (up to 4096 distinct bodies, cycled)
 *     N     messages timed
 *     DIR   scratch directory (PKI, state); created if missing
 * Prints one JSON object: {"row", "side", "n", "seconds", "per_s"}. Setup (reading the
 * JSON Lines, issuing the PKI, signing the verify input) is not timed. Exit 0 / 1. */
#include <avro.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "batch.h"
#include "codec.h"
#include "error.h"
#include "json_avro.h"
#include "jsonl.h"
#include "pki.h"
#include "publish.h"
#include "schema.h"
#include "verify.h"

#define UNIT "000.00.01.H29"
#define MAX_DISTINCT 4096
#define BODY_CAP (256 * 1024)

struct corpus {
    json_avro_t *ja;
    avro_value_t *values;
    uint8_t **bodies;
    size_t *lens;
    size_t n;
};

struct captured {
    uint8_t **vals;
    size_t *lens;
    size_t n, cap;
    int keep;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int load_corpus(const char *path, struct corpus *co, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint8_t *buf = malloc(BODY_CAP);
    int rc = -1;
    if (!f || !buf) {
        snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (json_avro_new_body(BODY_DOCUMENT, &co->ja, err, errsz))
        goto out;
    co->values = calloc(MAX_DISTINCT, sizeof *co->values);
    co->bodies = calloc(MAX_DISTINCT, sizeof *co->bodies);
    co->lens = calloc(MAX_DISTINCT, sizeof *co->lens);
    if (!co->values || !co->bodies || !co->lens)
        goto out;
    while (co->n < MAX_DISTINCT && (len = getline(&line, &cap, f)) > 0) {
        body_type_t t;
        json_t *rec = NULL;
        size_t blen = 0;
        while (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (jsonl_parse_line(line, (size_t)len, &t, &rec, err, errsz) || t != BODY_DOCUMENT) {
            json_decref(rec);
            continue;
        }
        avro_value_t *v = &co->values[co->n];
        if (json_avro_value_new(co->ja, v) ||
            json_avro_from_json(co->ja, rec, v, err, errsz) || body_encode(v, buf, BODY_CAP, &blen)) {
            json_decref(rec);
            goto out;
        }
        json_decref(rec);
        co->bodies[co->n] = malloc(blen);
        if (!co->bodies[co->n])
            goto out;
        memcpy(co->bodies[co->n], buf, blen);
        co->lens[co->n] = blen;
        co->n++;
    }
    if (co->n == 0) {
        snprintf(err, errsz, "no document records in %s", path);
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    free(line);
    free(buf);
    return rc;
}

static void emit(void *opaque, const uint8_t *value, size_t len, const content_t *c, void *mo)
{
    struct captured *cp = opaque;
    (void)c;
    (void)mo;
    if (!cp->keep) {
        cp->n++;
        return;
    }
    if (cp->n == cp->cap) {
        size_t nc = cp->cap ? cp->cap * 2 : 1024;
        cp->vals = realloc(cp->vals, nc * sizeof *cp->vals);
        cp->lens = realloc(cp->lens, nc * sizeof *cp->lens);
        if (!cp->vals || !cp->lens) {
            fprintf(stderr, "micro: out of memory\n");
            exit(1);
        }
        cp->cap = nc;
    }
    cp->vals[cp->n] = malloc(len);
    memcpy(cp->vals[cp->n], value, len);
    cp->lens[cp->n++] = len;
}

/* Signs n messages with a signer of batch size batch; the state file lives in dir. async:
 * the state's fdatasync on the background worker, as the producers run it (publish.c),
 * a batch's messages emitted once it is done while the next batch is signed. */
static int sign_n(const char *dir, const struct corpus *co, long n, int batch, int async,
                  struct captured *cp, char *err, size_t errsz)
{
    char key[1024], crt[1024], state[1024], nk[64];
    batch_signer_t *s;
    content_t c;
    uint8_t fp[8];
    int rc = 0;
    snprintf(key, sizeof key, "%s/pki/units/%s.key", dir, UNIT);
    snprintf(crt, sizeof crt, "%s/pki/units/%s.crt", dir, UNIT);
    snprintf(state, sizeof state, "%s/state-%d/%s.seq", dir, batch, UNIT);
    s = batch_signer_new(UNIT, key, crt, state, batch, 1000000, emit, cp, err, errsz);
    if (!s)
        return -1;
    batch_signer_set_async(s, async);
    schemas_fingerprint("vn.docbus.v1.Document", fp);
    for (long i = 0; i < n && !rc; i++) {
        size_t k = (size_t)i % co->n;
        memset(&c, 0, sizeof c);
        snprintf(nk, sizeof nk, "bench-%ld", i);
        if ((rc = publish_msg_id(UNIT, BODY_DOCUMENT, nk, c.msg_id))) {
            snprintf(err, errsz, "message id: %s", db_strerror(rc));
            batch_signer_destroy(s);
            return rc;
        }
        memcpy(c.producer, UNIT, sizeof UNIT);
        c.body_type = BODY_DOCUMENT;
        memcpy(c.body_fingerprint, fp, 8);
        c.body = co->bodies[k];
        c.body_len = co->lens[k];
        rc = batch_signer_add(s, &c, NULL);
    }
    if (!rc && batch_signer_flush(s) < 0)
        rc = -1;
    if (rc)
        snprintf(err, errsz, "signer: %s", batch_signer_error(s));
    batch_signer_destroy(s);
    return rc;
}

int main(int argc, char **argv)
{
    struct corpus co = {0};
    struct captured cp = {0};
    char err[1024], pki[1024];
    const char *row, *side, *dir;
    long n;
    double t0 = 0, t1 = 0;
    int docbus, rc = 1;
    if (argc != 6) {
        fprintf(stderr, "usage: micro sign|verify|sigs docbus|peer JSONL N DIR\n");
        return 2;
    }
    row = argv[1];
    side = argv[2];
    n = atol(argv[4]);
    dir = argv[5];
    docbus = !strcmp(side, "docbus");
    if (n < 1 || (!docbus && strcmp(side, "peer")) ||
        (strcmp(row, "sign") && strcmp(row, "verify") && strcmp(row, "sigs"))) {
        fprintf(stderr, "micro: bad arguments\n");
        return 2;
    }
    if (schemas_init(err, sizeof err) || load_corpus(argv[3], &co, err, sizeof err))
        goto out;
    mkdir(dir, 0700);
    snprintf(pki, sizeof pki, "%s/pki", dir);
    if (!pki_exists(pki) && (pki_init(pki, err, sizeof err) ||
                             pki_issue(pki, UNIT, "Bench unit", 30, err, sizeof err)))
        goto out;

    if (!strcmp(row, "sign") && docbus) {
        t0 = now_s();
        if (sign_n(dir, &co, n, 512, 1, &cp, err, sizeof err))
            goto out;
        t1 = now_s();
    } else if (!strcmp(row, "sigs")) {
        if (!docbus) {
            fprintf(stderr, "micro: the sigs peer is `openssl speed ed25519`\n");
            return 2;
        }
        t0 = now_s();
        if (sign_n(dir, &co, n, 1, 0, &cp, err, sizeof err))
            goto out;
        t1 = now_s();
    } else if (!strcmp(row, "sign")) {
        char *buf = malloc(BODY_CAP);
        avro_writer_t w = avro_writer_memory(buf, BODY_CAP);
        size_t total = 0;
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            avro_writer_reset(w);
            if (avro_value_write(w, &co.values[(size_t)i % co.n])) {
                snprintf(err, sizeof err, "avro_value_write: %s", avro_strerror());
                goto out;
            }
            total += (size_t)avro_writer_tell(w);
        }
        t1 = now_s();
        avro_writer_free(w);
        free(buf);
        if (!total)
            goto out;
    } else if (docbus) { /* verify */
        verifier_t *v;
        verified_t out;
        cp.keep = 1;
        if (sign_n(dir, &co, n, 512, 1, &cp, err, sizeof err))
            goto out;
        v = verifier_new(pki, err, sizeof err);
        if (!v)
            goto out;
        t0 = now_s();
        for (size_t i = 0; i < cp.n; i++)
            if (verifier_check(v, cp.vals[i], cp.lens[i], &out, err, sizeof err)) {
                verifier_destroy(v);
                goto out;
            }
        t1 = now_s();
        verifier_destroy(v);
    } else { /* verify, peer */
        avro_value_t val;
        avro_reader_t r = avro_reader_memory((const char *)co.bodies[0], (int64_t)co.lens[0]);
        if (json_avro_value_new(co.ja, &val))
            goto out;
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            size_t k = (size_t)i % co.n;
            avro_reader_memory_set_source(r, (const char *)co.bodies[k], (int64_t)co.lens[k]);
            avro_value_reset(&val);
            if (avro_value_read(r, &val)) {
                snprintf(err, sizeof err, "avro_value_read: %s", avro_strerror());
                goto out;
            }
        }
        t1 = now_s();
        avro_reader_free(r);
        avro_value_decref(&val);
    }
    printf("{\"row\":\"%s\",\"side\":\"%s\",\"n\":%ld,\"seconds\":%.6f,\"per_s\":%.1f}\n", row, side,
           n, t1 - t0, (double)n / (t1 - t0));
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "micro %s %s: %s\n", row, side, err);
    for (size_t i = 0; i < cp.n && cp.keep; i++)
        free(cp.vals[i]);
    free(cp.vals);
    free(cp.lens);
    for (size_t i = 0; i < co.n; i++) {
        avro_value_decref(&co.values[i]);
        free(co.bodies[i]);
    }
    free(co.values);
    free(co.bodies);
    free(co.lens);
    json_avro_destroy(co.ja);
    return rc;
}
