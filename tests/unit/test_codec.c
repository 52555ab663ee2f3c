/* test_codec.c - the envelope codec against Avro-C's generic encoder and the golden
 * envelope, every class of bad input with its own error code, the validating walker,
 * and reading an older body version into the current schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "avro_guard.h"
#include "codec.h"
#include "error.h"
#include "json_avro.h"
#include "schema.h"

#define BUF_CAP (64 * 1024)

/* ---- helpers --------------------------------------------------------------------- */

static char *path_of(const char *rel, char *out, size_t n)
{
    const char *root = getenv("DOCBUS_ROOT");
    snprintf(out, n, "%s/%s", root ? root : ".", rel);
    return out;
}

static uint8_t *read_file(const char *rel, size_t *len)
{
    char path[1024];
    FILE *f = fopen(path_of(rel, path, sizeof path), "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
    if (s == NULL || strlen(s) != 2 * n)
        fail_msg("hex string of %zu bytes expected: %s", n, s ? s : "(null)");
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        fail_msg("golden: \"%s\" is not a string", k);
    return json_string_value(v);
}

static int64_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("golden: \"%s\" is not an integer", k);
    return json_integer_value(v);
}

static void setup_registry(void)
{
    char err[256] = "";
    if (schemas_init(err, sizeof err) != 0)
        fail_msg("schemas_init: %s", err);
}

static int teardown(void **state)
{
    (void)state;
    schemas_term();
    return 0;
}

/* A content/proof pair with every field set, the numbers chosen by seed. */
static void sample(unsigned seed, content_t *c, proof_t *p, uint8_t *body, size_t body_len)
{
    static const int64_t longs[] = {0, 1, -1, 63, -64, 64, 8191, -8193, INT32_MAX, INT32_MIN,
                                    INT64_MAX, INT64_MIN, 1517454000123LL, -1517454000123LL};
    const size_t nl = sizeof longs / sizeof longs[0];
    srand(seed);
    memset(c, 0, sizeof *c);
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 16; i++)
        c->msg_id[i] = (uint8_t)rand();
    snprintf(c->producer, sizeof c->producer, "%03d.00.%02d.H29", rand() % 1000, rand() % 100);
    c->seq = longs[(size_t)rand() % nl];
    c->produced_at = longs[(size_t)rand() % nl];
    c->body_type = (body_type_t)(rand() % 3);
    for (int i = 0; i < 8; i++)
        c->body_fingerprint[i] = (uint8_t)rand();
    for (size_t i = 0; i < body_len; i++)
        body[i] = (uint8_t)rand();
    c->body = body;
    c->body_len = body_len;
    snprintf(p->header.producer, sizeof p->header.producer, "%s", c->producer);
    p->header.batch_seq = longs[(size_t)rand() % nl];
    p->header.first_seq = longs[(size_t)rand() % nl];
    p->header.count = (int32_t)(longs[(size_t)rand() % nl] & 0x7fffffff) * (rand() % 2 ? -1 : 1);
    for (int i = 0; i < 32; i++) {
        p->header.prev_root[i] = (uint8_t)rand();
        p->header.root[i] = (uint8_t)rand();
        p->header.key_id[i] = (uint8_t)rand();
    }
    p->header.created_at = longs[(size_t)rand() % nl];
    for (int i = 0; i < 64; i++)
        p->signature[i] = (uint8_t)rand();
    p->leaf_index = rand() % 2 ? rand() : -rand();
    p->path_len = rand() % (ENVELOPE_MAX_PATH + 1);
    for (int k = 0; k < p->path_len; k++)
        for (int i = 0; i < 32; i++)
            p->path[k][i] = (uint8_t)rand();
}

static void child(avro_value_t *parent, const char *name, avro_value_t *out)
{
    if (avro_value_get_by_name(parent, name, out, NULL) != 0)
        fail_msg("no field %s: %s", name, avro_strerror());
}

static void set_fixed(avro_value_t *parent, const char *name, const void *b, size_t n)
{
    avro_value_t v;
    child(parent, name, &v);
    assert_int_equal(avro_value_set_fixed(&v, (void *)b, n), 0);
}

static void set_long(avro_value_t *parent, const char *name, int64_t x)
{
    avro_value_t v;
    child(parent, name, &v);
    assert_int_equal(avro_value_set_long(&v, x), 0);
}

static void set_int(avro_value_t *parent, const char *name, int32_t x)
{
    avro_value_t v;
    child(parent, name, &v);
    assert_int_equal(avro_value_set_int(&v, x), 0);
}

static void set_string(avro_value_t *parent, const char *name, const char *s)
{
    avro_value_t v;
    child(parent, name, &v);
    assert_int_equal(avro_value_set_string(&v, s), 0);
}

/* Encodes Envelope {c, p} with Avro-C's generic value and writer: the reference. */
static size_t avro_c_envelope(const content_t *c, const proof_t *p, uint8_t *out, size_t cap)
{
    avro_schema_t s = schemas_get(SCHEMA_ENVELOPE);
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_value_t env, content, proof, header, v, item;
    assert_non_null(iface);
    assert_int_equal(avro_generic_value_new(iface, &env), 0);
    child(&env, "content", &content);
    set_fixed(&content, "msg_id", c->msg_id, 16);
    set_string(&content, "producer", c->producer);
    set_long(&content, "seq", c->seq);
    set_long(&content, "produced_at", c->produced_at);
    child(&content, "body_type", &v);
    assert_int_equal(avro_value_set_enum(&v, (int)c->body_type), 0);
    set_fixed(&content, "body_fingerprint", c->body_fingerprint, 8);
    child(&content, "body", &v);
    assert_int_equal(avro_value_set_bytes(&v, (void *)c->body, c->body_len), 0);
    child(&env, "proof", &proof);
    child(&proof, "header", &header);
    set_string(&header, "producer", p->header.producer);
    set_long(&header, "batch_seq", p->header.batch_seq);
    set_long(&header, "first_seq", p->header.first_seq);
    set_int(&header, "count", p->header.count);
    set_fixed(&header, "prev_root", p->header.prev_root, 32);
    set_fixed(&header, "root", p->header.root, 32);
    set_long(&header, "created_at", p->header.created_at);
    set_fixed(&header, "key_id", p->header.key_id, 32);
    set_fixed(&proof, "signature", p->signature, 64);
    set_int(&proof, "leaf_index", p->leaf_index);
    child(&proof, "path", &v);
    for (int k = 0; k < p->path_len; k++) {
        assert_int_equal(avro_value_append(&v, &item, NULL), 0);
        assert_int_equal(avro_value_set_fixed(&item, (void *)p->path[k], 32), 0);
    }
    avro_writer_t w = avro_writer_memory((const char *)out, (int64_t)cap);
    assert_int_equal(avro_value_write(w, &env), 0);
    size_t n = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&env);
    avro_value_iface_decref(iface);
    return n;
}

/* Encodes content + proof with the direct codec into a full Kafka value. */
static size_t direct_envelope(const content_t *c, const proof_t *p, uint8_t *out, size_t cap)
{
    uint8_t content[BUF_CAP];
    size_t clen = 0, len = 0;
    assert_int_equal(content_encode(c, content, sizeof content, &clen), 0);
    assert_int_equal(envelope_write(content, clen, p, out, cap, &len), 0);
    return len;
}

/* ---- the direct codec equals Avro-C ----------------------------------------------- */

/* 500 envelopes with edge-case numbers and 0..32 path hashes: the direct codec's bytes
 * after the 10-byte header equal Avro-C's generic encoding, byte for byte. */
static void direct_codec_matches_avro_c(void **state)
{
    (void)state;
    static uint8_t direct[BUF_CAP], ref[BUF_CAP], body[300];
    content_t c;
    proof_t p;
    uint8_t fp[8];
    setup_registry();
    assert_int_equal(schemas_fingerprint(SCHEMA_ENVELOPE, fp), 0);
    for (unsigned seed = 1; seed <= 500; seed++) {
        sample(seed, &c, &p, body, seed % sizeof body);
        size_t dn = direct_envelope(&c, &p, direct, sizeof direct);
        size_t rn = avro_c_envelope(&c, &p, ref, sizeof ref);
        assert_int_equal(direct[0], 0xC3);
        assert_int_equal(direct[1], 0x01);
        assert_memory_equal(direct + 2, fp, 8);
        if (dn != rn + 10 || memcmp(direct + 10, ref, rn) != 0)
            fail_msg("seed %u: direct codec (%zu bytes) differs from Avro-C (%zu bytes)", seed, dn,
                     rn);
    }
}

/* batch_header_encode equals Avro-C's encoding of the BatchHeader record alone. */
static void batch_header_matches_avro_c(void **state)
{
    (void)state;
    uint8_t direct[512], ref[512], body[1];
    content_t c;
    proof_t p;
    size_t dn = 0;
    setup_registry();
    avro_schema_t env = schemas_get(SCHEMA_ENVELOPE);
    avro_schema_t proof = avro_schema_record_field_get(env, "proof");
    avro_schema_t hs = avro_schema_record_field_get(proof, "header");
    assert_non_null(hs);
    avro_value_iface_t *iface = avro_generic_class_from_schema(hs);
    for (unsigned seed = 1; seed <= 100; seed++) {
        avro_value_t h;
        sample(seed, &c, &p, body, 0);
        assert_int_equal(batch_header_encode(&p.header, direct, sizeof direct, &dn), 0);
        assert_int_equal(avro_generic_value_new(iface, &h), 0);
        set_string(&h, "producer", p.header.producer);
        set_long(&h, "batch_seq", p.header.batch_seq);
        set_long(&h, "first_seq", p.header.first_seq);
        set_int(&h, "count", p.header.count);
        set_fixed(&h, "prev_root", p.header.prev_root, 32);
        set_fixed(&h, "root", p.header.root, 32);
        set_long(&h, "created_at", p.header.created_at);
        set_fixed(&h, "key_id", p.header.key_id, 32);
        avro_writer_t w = avro_writer_memory((const char *)ref, sizeof ref);
        assert_int_equal(avro_value_write(w, &h), 0);
        size_t rn = (size_t)avro_writer_tell(w);
        avro_writer_free(w);
        avro_value_decref(&h);
        assert_int_equal(dn, rn);
        assert_memory_equal(direct, ref, rn);
    }
    avro_value_iface_decref(iface);
}

/* Encoders refuse a short buffer and bad structs instead of writing past them. */
static void encoders_refuse_small_buffers_and_bad_input(void **state)
{
    (void)state;
    static uint8_t buf[BUF_CAP], body[40];
    content_t c;
    proof_t p;
    size_t len = 12345, full = 0;
    setup_registry();
    sample(7, &c, &p, body, sizeof body);
    assert_int_equal(content_encode(&c, buf, sizeof buf, &full), 0);
    for (size_t cap = 0; cap < full; cap++)
        assert_int_equal(content_encode(&c, buf, cap, &len), DB_ERR_TOO_LARGE);
    assert_int_equal(len, 12345);
    memset(c.producer, 'A', sizeof c.producer); /* no NUL */
    assert_int_equal(content_encode(&c, buf, sizeof buf, &len), DB_ERR_INVALID);
    sample(7, &c, &p, body, sizeof body);
    c.body_type = (body_type_t)3;
    assert_int_equal(content_encode(&c, buf, sizeof buf, &len), DB_ERR_INVALID);
    p.path_len = ENVELOPE_MAX_PATH + 1;
    assert_int_equal(envelope_write(buf, 10, &p, buf + 100, sizeof buf - 100, &len), DB_ERR_INVALID);
    p.path_len = 1;
    assert_int_equal(envelope_write(buf, 10, &p, buf + 100, 60, &len), DB_ERR_TOO_LARGE);
}

/* ---- the golden envelope ----------------------------------------------------------- */

typedef struct golden {
    json_t *json;
    content_t c;
    proof_t p;
    uint8_t body[BUF_CAP];
    size_t body_len;
    json_avro_t *doc;
} golden_t;

static void golden_load(golden_t *g)
{
    char err[256] = "";
    json_error_t jerr;
    char path[1024];
    avro_value_t v;
    memset(g, 0, sizeof *g);
    g->json = json_load_file(path_of("tests/golden/envelope-1.json", path, sizeof path), 0, &jerr);
    if (g->json == NULL)
        fail_msg("envelope-1.json: %s", jerr.text);
    json_t *jc = json_object_get(g->json, "content");
    json_t *jp = json_object_get(g->json, "proof");
    json_t *jh = json_object_get(jp, "header");

    assert_int_equal(json_avro_new_body(BODY_DOCUMENT, &g->doc, err, sizeof err), 0);
    assert_int_equal(json_avro_value_new(g->doc, &v), 0);
    if (json_avro_from_json(g->doc, json_object_get(g->json, "body"), &v, err, sizeof err) != 0)
        fail_msg("golden body: %s", err);
    assert_int_equal(body_encode(&v, g->body, sizeof g->body, &g->body_len), 0);
    avro_value_decref(&v);

    content_t *c = &g->c;
    unhex(jstr(jc, "msg_id"), c->msg_id, 16);
    snprintf(c->producer, sizeof c->producer, "%s", jstr(jc, "producer"));
    c->seq = jint(jc, "seq");
    c->produced_at = jint(jc, "produced_at");
    assert_string_equal(jstr(jc, "body_type"), "DOCUMENT");
    c->body_type = BODY_DOCUMENT;
    unhex(jstr(jc, "body_fingerprint"), c->body_fingerprint, 8);
    c->body = g->body;
    c->body_len = g->body_len;

    proof_t *p = &g->p;
    snprintf(p->header.producer, sizeof p->header.producer, "%s", jstr(jh, "producer"));
    p->header.batch_seq = jint(jh, "batch_seq");
    p->header.first_seq = jint(jh, "first_seq");
    p->header.count = (int32_t)jint(jh, "count");
    unhex(jstr(jh, "prev_root"), p->header.prev_root, 32);
    unhex(jstr(jh, "root"), p->header.root, 32);
    p->header.created_at = jint(jh, "created_at");
    unhex(jstr(jh, "key_id"), p->header.key_id, 32);
    unhex(jstr(jp, "signature"), p->signature, 64);
    p->leaf_index = (int32_t)jint(jp, "leaf_index");
    json_t *jpath = json_object_get(jp, "path");
    p->path_len = (int)json_array_size(jpath);
    for (int k = 0; k < p->path_len; k++)
        unhex(json_string_value(json_array_get(jpath, (size_t)k)), p->path[k], 32);
}

static void golden_free(golden_t *g)
{
    json_decref(g->json);
    json_avro_destroy(g->doc);
}

/* The codec's output for envelope-1.json is exactly tests/golden/envelope-1.bin, and
 * the fingerprints it names are this build's. DOCBUS_UPDATE_GOLDEN=1 rewrites it. */
static void golden_envelope_bytes_are_stable(void **state)
{
    (void)state;
    static golden_t g;
    static uint8_t out[BUF_CAP];
    uint8_t fp[8], want[8];
    char path[1024];
    setup_registry();
    golden_load(&g);
    assert_int_equal(schemas_fingerprint(SCHEMA_ENVELOPE, fp), 0);
    unhex(jstr(g.json, "envelope_fingerprint"), want, 8);
    assert_memory_equal(fp, want, 8);
    assert_int_equal(schemas_fingerprint(SCHEMA_DOCUMENT, fp), 0);
    assert_memory_equal(fp, g.c.body_fingerprint, 8);
    size_t n = direct_envelope(&g.c, &g.p, out, sizeof out);
    if (getenv("DOCBUS_UPDATE_GOLDEN") != NULL) {
        FILE *f = fopen(path_of("tests/golden/envelope-1.bin", path, sizeof path), "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(out, 1, n, f), n);
        fclose(f);
    }
    size_t glen;
    uint8_t *gold = read_file("tests/golden/envelope-1.bin", &glen);
    assert_int_equal(n, glen);
    assert_memory_equal(out, gold, n);
    free(gold);
    golden_free(&g);
}

/* envelope_read of the golden bytes gives back every field of envelope-1.json, the
 * exact Content span, and a body that decodes to the JSON body. */
static void golden_envelope_reads_back(void **state)
{
    (void)state;
    static golden_t g;
    static uint8_t content[BUF_CAP];
    content_t c;
    proof_t p;
    const uint8_t *span = NULL;
    size_t span_len = 0, clen = 0, len;
    char err[256] = "";
    avro_value_t *body = NULL;
    json_t *back = NULL;
    setup_registry();
    golden_load(&g);
    uint8_t *bin = read_file("tests/golden/envelope-1.bin", &len);
    memset(&p, 0xAA, sizeof p);
    if (envelope_read(bin, len, &c, &p, &span, &span_len, err, sizeof err) != 0)
        fail_msg("envelope_read: %s", err);
    assert_memory_equal(c.msg_id, g.c.msg_id, 16);
    assert_string_equal(c.producer, g.c.producer);
    assert_true(c.seq == g.c.seq && c.produced_at == g.c.produced_at);
    assert_int_equal(c.body_type, BODY_DOCUMENT);
    assert_memory_equal(c.body_fingerprint, g.c.body_fingerprint, 8);
    assert_int_equal(c.body_len, g.body_len);
    assert_memory_equal(c.body, g.body, g.body_len);
    assert_true(c.body > bin && c.body < bin + len); /* points into the input */
    assert_int_equal(content_encode(&g.c, content, sizeof content, &clen), 0);
    assert_ptr_equal(span, bin + ENVELOPE_HEADER_LEN);
    assert_int_equal(span_len, clen);
    assert_memory_equal(span, content, clen);
    assert_string_equal(p.header.producer, g.p.header.producer);
    assert_true(p.header.batch_seq == g.p.header.batch_seq &&
                p.header.first_seq == g.p.header.first_seq && p.header.count == g.p.header.count &&
                p.header.created_at == g.p.header.created_at);
    assert_memory_equal(p.header.prev_root, g.p.header.prev_root, 32);
    assert_memory_equal(p.header.root, g.p.header.root, 32);
    assert_memory_equal(p.header.key_id, g.p.header.key_id, 32);
    assert_memory_equal(p.signature, g.p.signature, 64);
    assert_int_equal(p.leaf_index, g.p.leaf_index);
    assert_int_equal(p.path_len, g.p.path_len);
    assert_memory_equal(p.path, g.p.path, (size_t)p.path_len * 32);

    body_decoder_t *d = body_decoder_new();
    assert_non_null(d);
    if (body_decoder_read(d, c.body_fingerprint, c.body, c.body_len, &body, err, sizeof err) != 0)
        fail_msg("body_decoder_read: %s", err);
    assert_int_equal(json_avro_to_json(g.doc, body, &back, err, sizeof err), 0);
    if (!json_equal(back, json_object_get(g.json, "body"))) {
        char *s = json_dumps(back, JSON_COMPACT);
        fail_msg("decoded body differs from envelope-1.json: %s", s);
    }
    json_decref(back);
    body_decoder_destroy(d);
    free(bin);
    golden_free(&g);
}

/* ---- bad input: one error code per class ------------------------------------------- */

/* A small valid envelope with known offsets: producer "P" (length byte at 26), seq 1
 * at 28, produced_at 2 at 29, body_type at 30, body fingerprint 31..38, body length
 * at 39, body "xyz" 40..42, then the proof (header producer length at 43). */
static size_t small_envelope(uint8_t *out, size_t cap, int path_len)
{
    static const uint8_t body[3] = {'x', 'y', 'z'};
    content_t c = {.seq = 1, .produced_at = 2, .body_type = BODY_STATUS, .body = body,
                   .body_len = 3};
    proof_t p = {.leaf_index = 0, .path_len = path_len};
    strcpy(c.producer, "P");
    strcpy(p.header.producer, "P");
    return direct_envelope(&c, &p, out, cap);
}

/* Replaces n bytes at off with the given bytes; returns the new length. */
static size_t splice(uint8_t *buf, size_t len, size_t off, size_t n, const void *with, size_t wn)
{
    memmove(buf + off + wn, buf + off + n, len - off - n);
    memcpy(buf + off, with, wn);
    return len - n + wn;
}

static void expect(const uint8_t *buf, size_t len, int code, const char *msg_part)
{
    content_t c;
    proof_t p;
    char err[256] = "";
    int rc = envelope_read(buf, len, &c, &p, NULL, NULL, err, sizeof err);
    if (rc != code)
        fail_msg("envelope_read returned %s (%s), expected %s", db_errname(rc), err,
                 db_errname(code));
    if (msg_part != NULL && strstr(err, msg_part) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, msg_part);
}

static void envelope_over_size_cap_is_too_large(void **state)
{
    (void)state;
    setup_registry();
    uint8_t *big = calloc(1, ENVELOPE_MAX_BYTES + 1);
    assert_non_null(big);
    big[0] = 0xC3, big[1] = 0x01;
    expect(big, ENVELOPE_MAX_BYTES + 1, DB_ERR_TOO_LARGE, "over cap 1048576");
    free(big);
}

static void envelope_without_c3_01_is_bad_magic(void **state)
{
    (void)state;
    uint8_t buf[256];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    expect(buf, n, 0, NULL);
    buf[1] = 0x02;
    expect(buf, n, DB_ERR_BAD_MAGIC, "C3 01");
    expect((const uint8_t *)"", 0, DB_ERR_BAD_MAGIC, NULL);
    expect((const uint8_t *)"{\"json\":1}", 10, DB_ERR_BAD_MAGIC, NULL);
}

static void envelope_with_other_fingerprint_is_unknown_schema(void **state)
{
    (void)state;
    uint8_t buf[256], doc_fp[8];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    buf[5] ^= 0x40;
    expect(buf, n, DB_ERR_UNKNOWN_SCHEMA, "unknown");
    assert_int_equal(schemas_fingerprint(SCHEMA_DOCUMENT, doc_fp), 0);
    memcpy(buf + 2, doc_fp, 8); /* a Document where an Envelope belongs */
    expect(buf, n, DB_ERR_UNKNOWN_SCHEMA, "vn.docbus.v1.Document");
}

/* Every strict prefix of a valid envelope is truncated (and never crashes). */
static void every_prefix_is_truncated(void **state)
{
    (void)state;
    uint8_t buf[1024];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 3);
    for (size_t k = 2; k < n; k++)
        expect(buf, k, DB_ERR_TRUNCATED, NULL);
    expect(buf, n, 0, NULL);
}

static void bytes_after_the_envelope_are_trailing(void **state)
{
    (void)state;
    uint8_t buf[1024];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 2);
    buf[n] = 0;
    expect(buf, n + 1, DB_ERR_TRAILING, "1 bytes left after the value at offset");
}

static void negative_producer_length_is_neg_length(void **state)
{
    (void)state;
    uint8_t buf[256];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    assert_int_equal(buf[26], 2);
    buf[26] = 0x01; /* zig-zag -1 */
    expect(buf, n, DB_ERR_NEG_LENGTH, "Envelope.content.producer: negative string length -1 at offset 26");
}

static void long_producer_and_path_hit_length_caps(void **state)
{
    (void)state;
    uint8_t buf[4096];
    static const uint8_t len64[] = {0x80, 0x01}; /* zig-zag 64 */
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    n = splice(buf, n, 26, 1, len64, sizeof len64);
    expect(buf, n, DB_ERR_LENGTH_CAP, "Envelope.content.producer: string length 64 over cap 63 at offset 26");

    /* 33 path hashes: one over ENVELOPE_MAX_PATH. The count is the byte before the
     * first hash; with 32 hashes it is 0x40 (zig-zag 32), so 33 is 0x42. */
    n = small_envelope(buf, sizeof buf, ENVELOPE_MAX_PATH);
    expect(buf, n, 0, NULL);
    size_t count_at = n - 1 - 32 * ENVELOPE_MAX_PATH - 1;
    assert_int_equal(buf[count_at], 0x40);
    buf[count_at] = 0x42;
    uint8_t extra[32] = {0};
    n = splice(buf, n, n - 1, 0, extra, sizeof extra);
    expect(buf, n, DB_ERR_LENGTH_CAP, "Envelope.proof.path: 33+ hashes over cap 32");
}

/* Regression (found by fuzz_envelope): a block count of INT64_MAX is refused by the
 * cap, and the message about it does not overflow. */
static void huge_block_counts_hit_the_cap_without_overflow(void **state)
{
    (void)state;
    uint8_t buf[256];
    char err[256];
    static const uint8_t max[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    n = splice(buf, n, n - 1, 1, max, sizeof max);
    expect(buf, n, DB_ERR_LENGTH_CAP, "Envelope.proof.path: 9223372036854775807+ hashes over cap 32");
    /* an array of nulls: one item, then a block of INT64_MAX more */
    avro_schema_t s;
    assert_int_equal(avro_schema_from_json_literal("{\"type\":\"array\",\"items\":\"null\"}", &s), 0);
    static const uint8_t arr[] = {0x02, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(avro_guard_check(s, arr, sizeof arr, NULL, "A", err, sizeof err), DB_ERR_LENGTH_CAP);
    assert_string_equal(err, "A: array of 9223372036854775808+ items over cap 10000 at offset 1");
    avro_schema_decref(s);
}

static void body_type_out_of_range_is_bad_enum(void **state)
{
    (void)state;
    uint8_t buf[256];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    assert_int_equal(buf[30], 2); /* STATUS */
    buf[30] = 6;                  /* index 3 */
    expect(buf, n, DB_ERR_BAD_ENUM, "Envelope.content.body_type: enum index 3 not in 0..2 at offset 30");
    buf[30] = 1; /* index -1 */
    expect(buf, n, DB_ERR_BAD_ENUM, "enum index -1");
}

static void overlong_varints_are_bad_varint(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const uint8_t eleven[11] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t overflow[10] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    static const uint8_t big_int[5] = {0x80, 0x80, 0x80, 0x80, 0x10}; /* 2^32 */
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    size_t m = splice(buf, n, 28, 1, eleven, sizeof eleven);
    expect(buf, m, DB_ERR_BAD_VARINT, "Envelope.content.seq: varint longer than 10 bytes at offset 28");
    n = small_envelope(buf, sizeof buf, 0);
    m = splice(buf, n, 28, 1, overflow, sizeof overflow);
    expect(buf, m, DB_ERR_BAD_VARINT, "overflows 64 bits");
    /* A padded but in-range 10-byte varint is accepted (Avro does not forbid it). */
    static const uint8_t padded[10] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    n = small_envelope(buf, sizeof buf, 0);
    m = splice(buf, n, 28, 1, padded, sizeof padded);
    expect(buf, m, 0, NULL);
    /* leaf_index is an int: 5 bytes at most, within 32 bits. It is the byte before the
     * final path count 0 when the path is empty. */
    n = small_envelope(buf, sizeof buf, 0);
    m = splice(buf, n, n - 2, 1, big_int, sizeof big_int);
    expect(buf, m, DB_ERR_BAD_VARINT, "Envelope.proof.leaf_index: varint overflows 32 bits");
}

static void nul_inside_producer_is_invalid(void **state)
{
    (void)state;
    uint8_t buf[256];
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 0);
    buf[27] = 0;
    expect(buf, n, DB_ERR_INVALID, "NUL");
}

/* Path as Avro blocks: a negative count with a matching byte size is valid Avro and is
 * read; a wrong byte size and INT64_MIN are refused. */
static void path_blocks_follow_the_avro_rules(void **state)
{
    (void)state;
    uint8_t buf[1024];
    content_t c;
    proof_t p;
    char err[256];
    static const uint8_t neg2_64[] = {0x03, 0x80, 0x01}; /* count -2, block of 64 bytes */
    static const uint8_t neg2_65[] = {0x03, 0x82, 0x01}; /* count -2, block of 65 bytes */
    static const uint8_t min[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    setup_registry();
    size_t n = small_envelope(buf, sizeof buf, 2);
    size_t count_at = n - 1 - 64 - 1;
    assert_int_equal(buf[count_at], 0x04);
    size_t m = splice(buf, n, count_at, 1, neg2_64, sizeof neg2_64);
    assert_int_equal(envelope_read(buf, m, &c, &p, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(p.path_len, 2);
    n = small_envelope(buf, sizeof buf, 2);
    m = splice(buf, n, count_at, 1, neg2_65, sizeof neg2_65);
    expect(buf, m, DB_ERR_INVALID, "block says 65 bytes for 2 hashes");
    n = small_envelope(buf, sizeof buf, 2);
    m = splice(buf, n, count_at, 1, min, sizeof min);
    expect(buf, m, DB_ERR_NEG_LENGTH, "block count -9223372036854775808");
}

/* Random byte flips of a valid envelope never crash and always give a known code. */
static void random_corruption_gives_known_errors(void **state)
{
    (void)state;
    static golden_t g;
    static uint8_t buf[BUF_CAP], orig[BUF_CAP];
    content_t c;
    proof_t p;
    char err[256];
    setup_registry();
    golden_load(&g);
    size_t n = direct_envelope(&g.c, &g.p, orig, sizeof orig);
    srand(99);
    for (int i = 0; i < 20000; i++) {
        memcpy(buf, orig, n);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++)
            buf[10 + (size_t)rand() % (n - 10)] ^= (uint8_t)(1 + rand() % 255);
        size_t len = rand() % 8 ? n : (size_t)rand() % n;
        int rc = envelope_read(buf, len, &c, &p, NULL, NULL, err, sizeof err);
        assert_true(rc == 0 || strcmp(db_errname(rc), "unknown") != 0);
        if (rc == 0) {
            assert_true(c.body >= buf && c.body + c.body_len <= buf + len);
            assert_true(p.path_len >= 0 && p.path_len <= ENVELOPE_MAX_PATH);
            assert_true(strlen(c.producer) < UNIT_CODE_MAX);
        }
    }
    golden_free(&g);
}

/* ---- the validating walker on bodies ---------------------------------------------- */

/* A Document whose to[2].code is 70000 bytes: the guard names the field, the length,
 * the cap and the offset of the length, and Avro-C never sees it. */
static void guard_names_field_path_and_offset(void **state)
{
    (void)state;
    static golden_t g;
    char err[256] = "", want[160];
    avro_value_t v;
    size_t len;
    static uint8_t buf[256 * 1024];
    setup_registry();
    golden_load(&g);
    avro_value_t arr, item, code;
    char *big = malloc(70001);
    assert_non_null(big);
    memset(big, 'c', 70000);
    big[70000] = 0;
    /* json_avro caps strings at 64 KiB itself, so the third recipient is added by hand */
    assert_int_equal(json_avro_value_new(g.doc, &v), 0);
    assert_int_equal(json_avro_from_json(g.doc, json_object_get(g.json, "body"), &v, err, sizeof err), 0);
    child(&v, "to", &arr);
    assert_int_equal(avro_value_append(&arr, &item, NULL), 0);
    child(&item, "code", &code);
    assert_int_equal(avro_value_set_string(&code, big), 0);
    assert_int_equal(body_encode(&v, buf, sizeof buf, &len), 0);
    /* the length varint of 70000 (zig-zag 140000 = e0 c5 08) followed by the bytes */
    static const uint8_t pat[] = {0xe0, 0xc5, 0x08, 'c', 'c'};
    uint8_t *at = memmem(buf, len, pat, sizeof pat);
    assert_non_null(at);
    snprintf(want, sizeof want, "Document.to[2].code: string length 70000 over cap 65536 at offset %zu",
             (size_t)(at - buf));
    assert_int_equal(avro_guard_check(schemas_get(SCHEMA_DOCUMENT), buf, len, NULL, NULL, err,
                                      sizeof err),
                     DB_ERR_LENGTH_CAP);
    assert_string_equal(err, want);
    /* A higher cap lets it through. */
    avro_guard_caps_t caps = {.string_max = 100000};
    assert_int_equal(avro_guard_check(schemas_get(SCHEMA_DOCUMENT), buf, len, &caps, NULL, err,
                                      sizeof err),
                     0);
    free(big);
    avro_value_decref(&v);
    golden_free(&g);
}

/* Union index out of range, and an array longer than its cap, in a Document body
 * given to the body decoder. */
static void body_decoder_rejects_bad_union_and_long_arrays(void **state)
{
    (void)state;
    static golden_t g;
    static uint8_t buf[BUF_CAP];
    char err[256] = "";
    avro_value_t *out;
    setup_registry();
    golden_load(&g);
    body_decoder_t *d = body_decoder_new();
    assert_int_equal(body_decoder_read(d, g.c.body_fingerprint, g.body, g.body_len, &out, err, sizeof err), 0);

    /* due_date is the first union in Document; in the golden it is branch 1 (02),
     * right after the signer record. Find it from the encoding of the signer's name. */
    static const char name[] = "Nguy\xe1\xbb\x85n V\xc4\x83n A";
    uint8_t *at = memmem(g.body, g.body_len, name, sizeof name - 1);
    assert_non_null(at);
    size_t u = (size_t)(at - g.body) + sizeof name - 1;
    assert_int_equal(g.body[u], 0x02);
    memcpy(buf, g.body, g.body_len);
    buf[u] = 0x04; /* branch 2 of a 2-branch union */
    assert_int_equal(body_decoder_read(d, g.c.body_fingerprint, buf, g.body_len, &out, err, sizeof err),
                     DB_ERR_BAD_UNION);
    assert_non_null(strstr(err, "Document.due_date: union branch 2 not in 0..1 at offset"));

    /* with a cap of one item, the two recipients are too many */
    avro_guard_caps_t caps = {.array_items_max = 1};
    assert_int_equal(avro_guard_check(schemas_get(SCHEMA_DOCUMENT), g.body, g.body_len, &caps, NULL,
                                      err, sizeof err),
                     DB_ERR_LENGTH_CAP);
    assert_non_null(strstr(err, "Document.to: array of 2+ items over cap 1"));

    uint8_t unknown[8] = {0};
    assert_int_equal(body_decoder_read(d, unknown, g.body, g.body_len, &out, err, sizeof err),
                     DB_ERR_UNKNOWN_SCHEMA);
    body_decoder_destroy(d);
    golden_free(&g);
}

/* Guard error classes on a tiny schema with every kind of value. */
static void guard_checks_every_value_kind(void **state)
{
    (void)state;
    avro_schema_t s;
    char err[256];
    assert_int_equal(avro_schema_from_json_literal(
                         "{\"type\":\"record\",\"name\":\"T\",\"fields\":["
                         "{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"f\",\"type\":\"float\"},"
                         "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"bytes\"}},"
                         "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"X\",\"size\":2}}]}",
                         &s),
                     0);
    /* true, 1.0f, {"k": "\x01"}, fixed "ab" */
    const uint8_t ok[] = {1, 0, 0, 0x80, 0x3f, 2, 2, 'k', 2, 1, 0, 'a', 'b'};
    uint8_t b[sizeof ok];
    assert_int_equal(avro_guard_check(s, ok, sizeof ok, NULL, NULL, err, sizeof err), 0);
    memcpy(b, ok, sizeof ok);
    b[0] = 2;
    assert_int_equal(avro_guard_check(s, b, sizeof b, NULL, NULL, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "T.b: boolean byte 0x02 at offset 0"));
    memcpy(b, ok, sizeof ok);
    b[8] = 3; /* bytes length -2 */
    assert_int_equal(avro_guard_check(s, b, sizeof b, NULL, NULL, err, sizeof err), DB_ERR_NEG_LENGTH);
    assert_non_null(strstr(err, "T.m[0]: negative bytes length -2 at offset 8"));
    avro_guard_caps_t caps = {.bytes_max = 0, .string_max = 0, .total_max = 12};
    assert_int_equal(avro_guard_check(s, ok, sizeof ok, &caps, NULL, err, sizeof err), DB_ERR_TOO_LARGE);
    assert_int_equal(avro_guard_check(s, ok, sizeof ok - 1, NULL, NULL, err, sizeof err), DB_ERR_TRUNCATED);
    assert_non_null(strstr(err, "T.x: fixed of 2 bytes but only 1 left"));
    avro_schema_decref(s);
}

/* ---- older versions ----------------------------------------------------------------- */

/* A Status written with schemas/history/status-v0.avsc (no description, no staff)
 * reads as a current Status: shared fields kept, new ones from their defaults. */
static void older_status_resolves_into_current_schema(void **state)
{
    (void)state;
    char err[256] = "";
    size_t n;
    uint8_t v0_fp[8], buf[512];
    avro_value_t old, f, *out = NULL;
    const char *s;
    size_t sl;
    int e;
    int64_t at;
    setup_registry();
    uint8_t *text = read_file("schemas/history/status-v0.avsc", &n);
    assert_int_equal(schemas_register("history/status-v0.avsc", (const char *)text, err, sizeof err), 0);
    assert_int_equal(schema_fingerprint((const char *)text, v0_fp, err, sizeof err), 0);
    free(text);
    const schema_info_t *v0 = schemas_lookup_fingerprint(v0_fp);
    assert_non_null(v0);
    assert_int_equal(v0->current, 0);

    avro_value_iface_t *iface = avro_generic_class_from_schema(v0->schema);
    assert_int_equal(avro_generic_value_new(iface, &old), 0);
    set_string(&old, "doc_id", "000.00.00.H29,2018/02/01,263/STTTT-CNTT");
    set_string(&old, "from", "000.00.01.H29");
    set_string(&old, "to", "000.00.00.H29");
    child(&old, "code", &f);
    assert_int_equal(avro_value_set_enum(&f, 2), 0); /* S03 */
    set_long(&old, "at", 1517500000000LL);
    assert_int_equal(body_encode(&old, buf, sizeof buf, &n), 0);

    body_decoder_t *d = body_decoder_new();
    for (int round = 0; round < 2; round++) { /* the second round reuses the values */
        if (body_decoder_read(d, v0_fp, buf, n, &out, err, sizeof err) != 0)
            fail_msg("older Status: %s", err);
        assert_ptr_equal(avro_value_get_schema(out), schemas_get(SCHEMA_STATUS));
        child(out, "doc_id", &f);
        assert_int_equal(avro_value_get_string(&f, &s, &sl), 0);
        assert_string_equal(s, "000.00.00.H29,2018/02/01,263/STTTT-CNTT");
        child(out, "code", &f);
        assert_int_equal(avro_value_get_enum(&f, &e), 0);
        assert_string_equal(avro_schema_enum_get(avro_value_get_schema(&f), e), "S03");
        child(out, "at", &f);
        assert_int_equal(avro_value_get_long(&f, &at), 0);
        assert_true(at == 1517500000000LL);
        child(out, "description", &f);
        assert_int_equal(avro_value_get_string(&f, &s, &sl), 0);
        assert_string_equal(s, "");
        avro_value_t staff;
        child(out, "staff", &staff);
        child(&staff, "email", &f);
        assert_int_equal(avro_value_get_string(&f, &s, &sl), 0);
        assert_string_equal(s, "");
    }
    /* The resolved value encodes as a current Status that the current fingerprint reads. */
    uint8_t cur_fp[8], buf2[512];
    size_t n2;
    assert_int_equal(body_encode(out, buf2, sizeof buf2, &n2), 0);
    assert_int_equal(schemas_fingerprint(SCHEMA_STATUS, cur_fp), 0);
    assert_int_equal(body_decoder_read(d, cur_fp, buf2, n2, &out, err, sizeof err), 0);
    body_decoder_destroy(d);
    avro_value_decref(&old);
    avro_value_iface_decref(iface);
}

/* The reused value holds only the latest body: a Document with two recipients read
 * after one with three has two. */
static void body_decoder_value_is_reset_between_reads(void **state)
{
    (void)state;
    static golden_t g;
    static uint8_t buf[BUF_CAP];
    char err[256] = "";
    avro_value_t v, *out, to;
    size_t n, items;
    setup_registry();
    golden_load(&g);
    json_t *body = json_deep_copy(json_object_get(g.json, "body"));
    json_array_append_new(json_object_get(body, "to"),
                          json_pack("{s:s, s:s}", "code", "000.00.03.H29", "name", "Q3"));
    assert_int_equal(json_avro_value_new(g.doc, &v), 0);
    assert_int_equal(json_avro_from_json(g.doc, body, &v, err, sizeof err), 0);
    assert_int_equal(body_encode(&v, buf, sizeof buf, &n), 0);
    body_decoder_t *d = body_decoder_new();
    assert_int_equal(body_decoder_read(d, g.c.body_fingerprint, buf, n, &out, err, sizeof err), 0);
    child(out, "to", &to);
    assert_int_equal(avro_value_get_size(&to, &items), 0);
    assert_int_equal(items, 3);
    assert_int_equal(body_decoder_read(d, g.c.body_fingerprint, g.body, g.body_len, &out, err, sizeof err), 0);
    child(out, "to", &to);
    assert_int_equal(avro_value_get_size(&to, &items), 0);
    assert_int_equal(items, 2);
    body_decoder_destroy(d);
    body_decoder_destroy(NULL);
    avro_value_decref(&v);
    json_decref(body);
    golden_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(direct_codec_matches_avro_c, teardown),
        cmocka_unit_test_teardown(batch_header_matches_avro_c, teardown),
        cmocka_unit_test_teardown(encoders_refuse_small_buffers_and_bad_input, teardown),
        cmocka_unit_test_teardown(golden_envelope_bytes_are_stable, teardown),
        cmocka_unit_test_teardown(golden_envelope_reads_back, teardown),
        cmocka_unit_test_teardown(envelope_over_size_cap_is_too_large, teardown),
        cmocka_unit_test_teardown(envelope_without_c3_01_is_bad_magic, teardown),
        cmocka_unit_test_teardown(envelope_with_other_fingerprint_is_unknown_schema, teardown),
        cmocka_unit_test_teardown(every_prefix_is_truncated, teardown),
        cmocka_unit_test_teardown(bytes_after_the_envelope_are_trailing, teardown),
        cmocka_unit_test_teardown(negative_producer_length_is_neg_length, teardown),
        cmocka_unit_test_teardown(long_producer_and_path_hit_length_caps, teardown),
        cmocka_unit_test_teardown(huge_block_counts_hit_the_cap_without_overflow, teardown),
        cmocka_unit_test_teardown(body_type_out_of_range_is_bad_enum, teardown),
        cmocka_unit_test_teardown(overlong_varints_are_bad_varint, teardown),
        cmocka_unit_test_teardown(nul_inside_producer_is_invalid, teardown),
        cmocka_unit_test_teardown(path_blocks_follow_the_avro_rules, teardown),
        cmocka_unit_test_teardown(random_corruption_gives_known_errors, teardown),
        cmocka_unit_test_teardown(guard_names_field_path_and_offset, teardown),
        cmocka_unit_test_teardown(body_decoder_rejects_bad_union_and_long_arrays, teardown),
        cmocka_unit_test(guard_checks_every_value_kind),
        cmocka_unit_test_teardown(older_status_resolves_into_current_schema, teardown),
        cmocka_unit_test_teardown(body_decoder_value_is_reset_between_reads, teardown),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
