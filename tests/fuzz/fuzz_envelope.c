/* fuzz_envelope.c - libFuzzer harness for the consumer's decode path: envelope_read of
 * untrusted Kafka values, then the body decoder (guard, Avro-C, older-version
 * resolution) on the body, with round-trip checks; for a body of a current schema the
 * arena view must accept exactly what avro_guard_check accepts, and what it decodes
 * must equal Avro-C's generic decode. An input not starting with C3 is
 * taken as a raw body: its first byte picks the schema, the rest is the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_guard.h"
#include "body_view.h"
#include "codec.h"
#include "error.h"
#include "schema.h"

static body_decoder_t *decoder;
static body_view_t *view;
#define FPS_MAX 16
static uint8_t fps[FPS_MAX][8]; /* body schema versions: Document, Status, Event, older */
static int n_fps;
static uint8_t out[ENVELOPE_MAX_BYTES];
static uint8_t content[ENVELOPE_MAX_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    (void)argc, (void)argv;
    if (schemas_init(err, sizeof err) != 0 || (decoder = body_decoder_new()) == NULL ||
        (view = body_view_new()) == NULL) {
        fprintf(stderr, "fuzz_envelope: init failed: %s\n", err);
        abort();
    }
    /* every body schema version the binary knows, current and older */
    for (size_t i = 0; schemas_at(i) != NULL && n_fps < FPS_MAX; i++)
        if (strcmp(schemas_at(i)->fullname, SCHEMA_ENVELOPE) != 0)
            memcpy(fps[n_fps++], schemas_at(i)->fingerprint, 8);
    return 0;
}

/* Avro-C's generic decode of a body the decoder accepted, which must equal v. */
static void same_as_generic(const uint8_t fp[8], const uint8_t *body, size_t len, avro_value_t *v)
{
    static struct {
        const schema_info_t *si;
        avro_value_iface_t *iface;
        avro_value_t value;
    } gen[FPS_MAX];
    static avro_reader_t reader;
    const schema_info_t *si = schemas_lookup_fingerprint(fp);
    int k = 0;
    if (!si || !si->current)
        return;   /* older versions are resolved through Avro-C already */
    while (k < FPS_MAX && gen[k].si && gen[k].si != si)
        k++;
    if (k == FPS_MAX)
        abort();
    if (!gen[k].si) {
        gen[k].si = si;
        if (!(gen[k].iface = avro_generic_class_from_schema(si->schema)) ||
            avro_generic_value_new(gen[k].iface, &gen[k].value))
            abort();
    }
    if (!reader)
        reader = avro_reader_memory((const char *)body, (int64_t)len);
    else
        avro_reader_memory_set_source(reader, (const char *)body, (int64_t)len);
    avro_value_reset(&gen[k].value);
    if (avro_value_read(reader, &gen[k].value) != 0) {
        fprintf(stderr, "the view decoded a body Avro-C cannot read: %s\n", avro_strerror());
        abort();
    }
    if (!avro_value_equal(&gen[k].value, v)) {
        fprintf(stderr, "the view and Avro-C decode a body differently\n");
        abort();
    }
}

/* The view and the guard accept the same bodies of a current schema. */
static void view_agrees_with_guard(const uint8_t fp[8], const uint8_t *body, size_t len)
{
    const schema_info_t *si = schemas_lookup_fingerprint(fp);
    avro_guard_caps_t caps = {.total_max = ENVELOPE_MAX_BYTES};
    char gerr[256], verr[256];
    avro_value_t *v;
    if (!si || !si->current)
        return;
    int g = avro_guard_check(si->schema, body, len, &caps, NULL, gerr, sizeof gerr);
    int w = body_view_read(view, si->schema, body, len, &caps, &v, verr, sizeof verr);
    if ((g == 0) != (w == 0)) {
        fprintf(stderr, "guard (%d: %s) and view (%d: %s) disagree\n", g, g ? gerr : "ok", w,
                w ? verr : "ok");
        abort();
    }
}

/* Decodes a body; if it decodes, its re-encoding must decode too. */
static void body_round_trip(const uint8_t fp[8], const uint8_t *body, size_t len)
{
    char err[256];
    avro_value_t *v = NULL;
    size_t n;
    view_agrees_with_guard(fp, body, len);
    if (body_decoder_read(decoder, fp, body, len, &v, err, sizeof err) != 0)
        return;
    same_as_generic(fp, body, len, v);
    if (body_encode(v, out, sizeof out, &n) != 0) {
        fprintf(stderr, "decoded body does not re-encode\n");
        abort();
    }
    uint8_t cur[8];
    if (schemas_fingerprint(schemas_name_by_fingerprint(fp), cur) != 0 ||
        body_decoder_read(decoder, cur, out, n, &v, err, sizeof err) != 0) {
        fprintf(stderr, "re-encoded body does not decode: %s\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    content_t c, c2;
    proof_t p, p2;
    const uint8_t *span;
    size_t span_len, clen, n;

    if (size > 0 && data[0] != 0xC3) {
        if (n_fps > 0)
            body_round_trip(fps[data[0] % n_fps], data + 1, size - 1);
        return 0;
    }
    if (envelope_read(data, size, &c, &p, &span, &span_len, err, sizeof err) != 0)
        return 0;
    if (c.body < data || c.body + c.body_len > data + size || span != data + ENVELOPE_HEADER_LEN ||
        span_len > size || p.path_len < 0 || p.path_len > ENVELOPE_MAX_PATH) {
        fprintf(stderr, "envelope_read returned pointers or lengths outside the input\n");
        abort();
    }
    /* Re-encoding what was read and reading it again gives the same fields. */
    if (content_encode(&c, content, sizeof content, &clen) != 0 ||
        envelope_write(content, clen, &p, out, sizeof out, &n) != 0 ||
        envelope_read(out, n, &c2, &p2, NULL, NULL, err, sizeof err) != 0 ||
        c2.seq != c.seq || c2.body_len != c.body_len || memcmp(c2.body, c.body, c.body_len) != 0 ||
        strcmp(c2.producer, c.producer) != 0 || p2.path_len != p.path_len ||
        memcmp(p2.path, p.path, (size_t)p.path_len * 32) != 0 || p2.leaf_index != p.leaf_index) {
        fprintf(stderr, "envelope does not survive a re-encode: %s\n", err);
        abort();
    }
    body_round_trip(c.body_fingerprint, c.body, c.body_len);
    return 0;
}
