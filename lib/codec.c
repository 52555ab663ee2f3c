/* codec.c - the docbus wire codec: direct encode/decode of Envelope, Content and
 * Proof; Avro-C based body encoding and decoding with older-version resolution. */
#include "codec.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_guard.h"
#include "body_view.h"
#include "error.h"
#include "schema.h"

static void seterr(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (errstr == NULL || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* ---- direct encoder ---------------------------------------------------------------- */

/* A bounded output buffer; the first overflow sticks and later writes do nothing. */
typedef struct out {
    uint8_t *buf;
    size_t cap, pos;
    int rc;
} out_t;

static void put_bytes(out_t *o, const void *p, size_t n)
{
    if (o->rc != 0)
        return;
    if (n > o->cap - o->pos) {
        o->rc = DB_ERR_TOO_LARGE;
        return;
    }
    if (n > 0)
        memcpy(o->buf + o->pos, p, n);
    o->pos += n;
}

static void put_long(out_t *o, int64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        b[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (uint8_t)z;
    put_bytes(o, b, n);
}

/* An Avro string from a NUL-terminated char[UNIT_CODE_MAX]. */
static void put_code(out_t *o, const char *s)
{
    size_t n = strnlen(s, UNIT_CODE_MAX);
    if (n == UNIT_CODE_MAX) {
        if (o->rc == 0)
            o->rc = DB_ERR_INVALID;
        return;
    }
    put_long(o, (int64_t)n);
    put_bytes(o, s, n);
}

static int finish(out_t *o, size_t *len)
{
    if (o->rc == 0)
        *len = o->pos;
    return o->rc;
}

static void put_header(out_t *o, const batch_header_t *h)
{
    put_code(o, h->producer);
    put_long(o, h->batch_seq);
    put_long(o, h->first_seq);
    put_long(o, h->count);
    put_bytes(o, h->prev_root, 32);
    put_bytes(o, h->root, 32);
    put_long(o, h->created_at);
    put_bytes(o, h->key_id, 32);
}

int content_encode(const content_t *c, uint8_t *buf, size_t cap, size_t *len)
{
    out_t o = {buf, cap, 0, 0};
    if ((unsigned)c->body_type > BODY_EVENT || (c->body == NULL && c->body_len > 0))
        return DB_ERR_INVALID;
    put_bytes(&o, c->msg_id, 16);
    put_code(&o, c->producer);
    put_long(&o, c->seq);
    put_long(&o, c->produced_at);
    put_long(&o, (int64_t)c->body_type);
    put_bytes(&o, c->body_fingerprint, 8);
    put_long(&o, (int64_t)c->body_len);
    put_bytes(&o, c->body, c->body_len);
    return finish(&o, len);
}

int batch_header_encode(const batch_header_t *h, uint8_t *buf, size_t cap, size_t *len)
{
    out_t o = {buf, cap, 0, 0};
    put_header(&o, h);
    return finish(&o, len);
}

/* The Envelope fingerprint is a constant of the build (the embedded schema's canonical
 * form): found once per process, not by name for every message written (a strcmp scan
 * of the registry, twice per record on the import's signing thread). */
static pthread_once_t envelope_fp_once = PTHREAD_ONCE_INIT;
static uint8_t envelope_fp_value[8];
static int envelope_fp_rc;
static char envelope_fp_err[256];

static void envelope_fp_find(void)
{
    int rc = schemas_fingerprint(SCHEMA_ENVELOPE, envelope_fp_value);
    if (rc != 0 && (rc = schemas_init(envelope_fp_err, sizeof envelope_fp_err)) == 0 &&
        (rc = schemas_fingerprint(SCHEMA_ENVELOPE, envelope_fp_value)) != 0)
        seterr(envelope_fp_err, sizeof envelope_fp_err, "schema registry has no %s",
               SCHEMA_ENVELOPE);
    envelope_fp_rc = rc;
}

/* The Envelope fingerprint (8 bytes), from the registry initialised on first use; NULL
 * with the registry's error in *rc and errstr when it has none. */
static const uint8_t *envelope_fp(int *rc, char *errstr, size_t errstr_size)
{
    pthread_once(&envelope_fp_once, envelope_fp_find);
    if ((*rc = envelope_fp_rc) != 0) {
        seterr(errstr, errstr_size, "%s", envelope_fp_err);
        return NULL;
    }
    return envelope_fp_value;
}

int envelope_write(const uint8_t *content_avro, size_t content_len, const proof_t *p,
                   uint8_t *buf, size_t cap, size_t *len)
{
    static const uint8_t magic[2] = {0xC3, 0x01};
    out_t o = {buf, cap, 0, 0};
    int rc;
    const uint8_t *fp = envelope_fp(&rc, NULL, 0);
    if (!fp)
        return rc;
    if (p->path_len < 0 || p->path_len > ENVELOPE_MAX_PATH)
        return DB_ERR_INVALID;
    if (cap > ENVELOPE_MAX_BYTES)
        o.cap = ENVELOPE_MAX_BYTES;
    put_bytes(&o, magic, 2);
    put_bytes(&o, fp, 8);
    put_bytes(&o, content_avro, content_len);
    put_header(&o, &p->header);
    put_bytes(&o, p->signature, 64);
    put_long(&o, p->leaf_index);
    if (p->path_len > 0) {
        put_long(&o, p->path_len);
        put_bytes(&o, p->path, (size_t)p->path_len * 32);
    }
    put_long(&o, 0);
    return finish(&o, len);
}

/* ---- direct decoder --------------------------------------------------------------- */

/* An organisation code: a string of at most UNIT_CODE_MAX-1 bytes without NUL. */
static int get_code(avro_cursor_t *cur, const char *path, char out[UNIT_CODE_MAX])
{
    const uint8_t *s;
    size_t n, at = cur->pos;
    int rc = avro_cursor_span(cur, path, "string", UNIT_CODE_MAX - 1, &s, &n);
    if (rc != 0)
        return rc;
    if (memchr(s, 0, n) != NULL) {
        seterr(cur->errstr, cur->errstr_size, "%s: NUL byte inside the string at offset %zu", path,
               cur->base_offset + at);
        return DB_ERR_INVALID;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int get_fixed(avro_cursor_t *cur, const char *path, void *out, size_t n)
{
    const uint8_t *p;
    int rc = avro_cursor_fixed(cur, path, n, &p);
    if (rc == 0)
        memcpy(out, p, n);
    return rc;
}

static int get_content(avro_cursor_t *cur, content_t *c)
{
    int rc;
    int32_t type;
    const uint8_t *body;
    if ((rc = get_fixed(cur, "Envelope.content.msg_id", c->msg_id, 16)) ||
        (rc = get_code(cur, "Envelope.content.producer", c->producer)) ||
        (rc = avro_cursor_long(cur, "Envelope.content.seq", &c->seq)) ||
        (rc = avro_cursor_long(cur, "Envelope.content.produced_at", &c->produced_at)) ||
        (rc = avro_cursor_enum(cur, "Envelope.content.body_type", BODY_EVENT + 1, &type)) ||
        (rc = get_fixed(cur, "Envelope.content.body_fingerprint", c->body_fingerprint, 8)) ||
        (rc = avro_cursor_span(cur, "Envelope.content.body", "bytes", ENVELOPE_MAX_BYTES, &body,
                               &c->body_len)))
        return rc;
    c->body_type = (body_type_t)type;
    c->body = body;
    return 0;
}

static int get_proof(avro_cursor_t *cur, proof_t *p)
{
    int rc;
    batch_header_t *h = &p->header;
    int64_t count, block_bytes;
    int n = 0;
    if ((rc = get_code(cur, "Envelope.proof.header.producer", h->producer)) ||
        (rc = avro_cursor_long(cur, "Envelope.proof.header.batch_seq", &h->batch_seq)) ||
        (rc = avro_cursor_long(cur, "Envelope.proof.header.first_seq", &h->first_seq)) ||
        (rc = avro_cursor_int(cur, "Envelope.proof.header.count", &h->count)) ||
        (rc = get_fixed(cur, "Envelope.proof.header.prev_root", h->prev_root, 32)) ||
        (rc = get_fixed(cur, "Envelope.proof.header.root", h->root, 32)) ||
        (rc = avro_cursor_long(cur, "Envelope.proof.header.created_at", &h->created_at)) ||
        (rc = get_fixed(cur, "Envelope.proof.header.key_id", h->key_id, 32)) ||
        (rc = get_fixed(cur, "Envelope.proof.signature", p->signature, 64)) ||
        (rc = avro_cursor_int(cur, "Envelope.proof.leaf_index", &p->leaf_index)))
        return rc;
    for (;;) {
        size_t at = cur->pos;
        if ((rc = avro_cursor_block(cur, "Envelope.proof.path", &count, &block_bytes)) != 0)
            return rc;
        if (count == 0)
            break;
        if (count > ENVELOPE_MAX_PATH - n) {
            seterr(cur->errstr, cur->errstr_size,
                   "Envelope.proof.path: %" PRIu64 "+ hashes over cap %d at offset %zu",
                   (uint64_t)n + (uint64_t)count,
                   ENVELOPE_MAX_PATH, cur->base_offset + at);
            return DB_ERR_LENGTH_CAP;
        }
        if (block_bytes >= 0 && block_bytes != count * 32) {
            seterr(cur->errstr, cur->errstr_size,
                   "Envelope.proof.path: block says %" PRId64 " bytes for %" PRId64
                   " hashes at offset %zu",
                   block_bytes, count, cur->base_offset + at);
            return DB_ERR_INVALID;
        }
        for (int64_t i = 0; i < count; i++, n++)
            if ((rc = get_fixed(cur, "Envelope.proof.path[]", p->path[n], 32)) != 0)
                return rc;
    }
    p->path_len = n;
    return 0;
}

int envelope_read(const uint8_t *buf, size_t len, content_t *c, proof_t *p,
                  const uint8_t **content_avro, size_t *content_len, char *errstr,
                  size_t errstr_size)
{
    int rc;
    const uint8_t *fp;
    avro_cursor_t cur = {.errstr = errstr, .errstr_size = errstr_size};

    if (len > ENVELOPE_MAX_BYTES) {
        seterr(errstr, errstr_size, "message of %zu bytes over cap %d", len, ENVELOPE_MAX_BYTES);
        return DB_ERR_TOO_LARGE;
    }
    if (len < 2 || buf[0] != 0xC3 || buf[1] != 0x01) {
        seterr(errstr, errstr_size, "message does not start with C3 01 (Avro single-object)");
        return DB_ERR_BAD_MAGIC;
    }
    if (len < ENVELOPE_HEADER_LEN) {
        seterr(errstr, errstr_size, "message of %zu bytes ends inside the schema fingerprint", len);
        return DB_ERR_TRUNCATED;
    }
    if (!(fp = envelope_fp(&rc, errstr, errstr_size)))
        return rc;
    if (memcmp(buf + 2, fp, 8) != 0) {
        const char *name = schemas_name_by_fingerprint(buf + 2);
        seterr(errstr, errstr_size,
               "schema fingerprint %02x%02x%02x%02x%02x%02x%02x%02x is %s%s, not this build's %s",
               buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8], buf[9],
               name ? "a version of " : "unknown", name ? name : "", SCHEMA_ENVELOPE);
        return DB_ERR_UNKNOWN_SCHEMA;
    }
    cur.buf = buf + ENVELOPE_HEADER_LEN;
    cur.len = len - ENVELOPE_HEADER_LEN;
    cur.base_offset = ENVELOPE_HEADER_LEN;
    if ((rc = get_content(&cur, c)) != 0)
        return rc;
    if (content_avro != NULL)
        *content_avro = cur.buf;
    if (content_len != NULL)
        *content_len = cur.pos;
    if ((rc = get_proof(&cur, p)) != 0)
        return rc;
    return avro_cursor_end(&cur, "Envelope");
}

const char *body_type_schema(body_type_t t)
{
    switch (t) {
    case BODY_DOCUMENT:
        return SCHEMA_DOCUMENT;
    case BODY_STATUS:
        return SCHEMA_STATUS;
    case BODY_EVENT:
        return SCHEMA_EVENT;
    }
    return NULL;
}

/* ---- bodies through Avro-C ------------------------------------------------------ */

int body_encode(avro_value_t *v, uint8_t *buf, size_t cap, size_t *len)
{
    int rc = 0;
    size_t size;
    avro_writer_t w = NULL;
    if (avro_value_sizeof(v, &size) != 0)
        return DB_ERR_INVALID;
    if (size > cap)
        return DB_ERR_TOO_LARGE;
    if ((w = avro_writer_memory((const char *)buf, (int64_t)cap)) == NULL)
        return DB_ERR_NOMEM;
    if (avro_value_write(w, v) != 0)
        rc = DB_ERR_INVALID;
    else
        *len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    return rc;
}

/* A reader record schema and its JSON definition (for field defaults). */
typedef struct record_def {
    avro_schema_t schema;
    const json_t *json;
} record_def_t;

/* One schema version the decoder has seen: Avro-C's generic value for it, and for
 * the current version the record definitions defaults are looked up in. */
typedef struct slot {
    const schema_info_t *info;
    avro_value_iface_t *iface;
    avro_value_t value;
    record_def_t *defs;
    size_t n_defs, cap_defs;
} slot_t;

struct body_decoder {
    slot_t slots[SCHEMAS_MAX];
    size_t n_slots;
    avro_reader_t reader;
    body_view_t *view;    /* bodies of current schema versions */
};

body_decoder_t *body_decoder_new(void)
{
    body_decoder_t *d = calloc(1, sizeof(body_decoder_t));
    if (d && !(d->view = body_view_new())) {
        free(d);
        d = NULL;
    }
    return d;
}

void body_decoder_destroy(body_decoder_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_slots; i++) {
        avro_value_decref(&d->slots[i].value);
        avro_value_iface_decref(d->slots[i].iface);
        free(d->slots[i].defs);
    }
    if (d->reader != NULL)
        avro_reader_free(d->reader);
    body_view_destroy(d->view);
    free(d);
}

static avro_schema_t deref(avro_schema_t s)
{
    while (is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

/* Walks schema s and its JSON text j in step and records where each record is defined. */
static int map_records(slot_t *sl, avro_schema_t s, const json_t *j)
{
    int rc = 0;
    s = deref(s);
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j) && rc == 0; i++)
            rc = map_records(sl, avro_schema_union_branch(s, (int)i), json_array_get(j, i));
        return rc;
    }
    if (!json_is_object(j)) /* a primitive, or a reference to a type defined earlier */
        return 0;
    const json_t *jt = json_object_get(j, "type");
    if (json_is_object(jt) || json_is_array(jt))
        return map_records(sl, s, jt);
    if (is_avro_record(s)) {
        const json_t *fields = json_object_get(j, "fields");
        if (sl->n_defs == sl->cap_defs) {
            size_t cap = sl->cap_defs ? sl->cap_defs * 2 : 8;
            record_def_t *nd = realloc(sl->defs, cap * sizeof *nd);
            if (nd == NULL)
                return DB_ERR_NOMEM;
            sl->defs = nd;
            sl->cap_defs = cap;
        }
        sl->defs[sl->n_defs++] = (record_def_t){s, j};
        for (size_t i = 0; i < avro_schema_record_size(s) && rc == 0; i++)
            rc = map_records(sl, avro_schema_record_field_get_by_index(s, (int)i),
                             json_object_get(json_array_get(fields, i), "type"));
    } else if (is_avro_array(s)) {
        rc = map_records(sl, avro_schema_array_items(s), json_object_get(j, "items"));
    } else if (is_avro_map(s)) {
        rc = map_records(sl, avro_schema_map_values(s), json_object_get(j, "values"));
    }
    return rc;
}

/* The "default" of field i of reader record rs, or NULL. */
static const json_t *field_default(const slot_t *cur, avro_schema_t rs, size_t i)
{
    for (size_t k = 0; k < cur->n_defs; k++)
        if (cur->defs[k].schema == rs)
            return json_object_get(json_array_get(json_object_get(cur->defs[k].json, "fields"), i),
                                   "default");
    return NULL;
}

/* Sets dst (of schema s) to the JSON default d (Avro's default-value encoding). */
static int set_default(const slot_t *cur, avro_value_t *dst, avro_schema_t s, const json_t *d,
                       const char *field, char *errstr, size_t errstr_size)
{
    int rc = 0;
    avro_value_t child;
    s = deref(s);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        rc = json_is_null(d) ? avro_value_set_null(dst) : EINVAL;
        break;
    case AVRO_BOOLEAN:
        rc = json_is_boolean(d) ? avro_value_set_boolean(dst, json_is_true(d)) : EINVAL;
        break;
    case AVRO_INT32:
        rc = json_is_integer(d) ? avro_value_set_int(dst, (int32_t)json_integer_value(d)) : EINVAL;
        break;
    case AVRO_INT64:
        rc = json_is_integer(d) ? avro_value_set_long(dst, json_integer_value(d)) : EINVAL;
        break;
    case AVRO_FLOAT:
        rc = json_is_number(d) ? avro_value_set_float(dst, (float)json_number_value(d)) : EINVAL;
        break;
    case AVRO_DOUBLE:
        rc = json_is_number(d) ? avro_value_set_double(dst, json_number_value(d)) : EINVAL;
        break;
    case AVRO_STRING:
        rc = json_is_string(d) ? avro_value_set_string_len(dst, json_string_value(d),
                                                           json_string_length(d) + 1)
                               : EINVAL;
        break;
    case AVRO_ENUM: {
        int i = json_is_string(d) ? avro_schema_enum_get_by_name(s, json_string_value(d)) : -1;
        rc = i >= 0 ? avro_value_set_enum(dst, i) : EINVAL;
        break;
    }
    case AVRO_UNION: /* a union's default is of its first branch */
        if ((rc = avro_value_set_branch(dst, 0, &child)) == 0)
            return set_default(cur, &child, avro_schema_union_branch(s, 0), d, field, errstr,
                               errstr_size);
        break;
    case AVRO_ARRAY:
        if (!json_is_array(d)) {
            rc = EINVAL;
            break;
        }
        for (size_t i = 0; i < json_array_size(d); i++) {
            if ((rc = avro_value_append(dst, &child, NULL)) != 0)
                break;
            if ((rc = set_default(cur, &child, avro_schema_array_items(s), json_array_get(d, i),
                                  field, errstr, errstr_size)) != 0)
                return rc;
        }
        break;
    case AVRO_RECORD:
        if (!json_is_object(d)) {
            rc = EINVAL;
            break;
        }
        for (size_t i = 0; i < avro_schema_record_size(s); i++) {
            const json_t *v = json_object_get(d, avro_schema_record_field_name(s, (int)i));
            if (v == NULL)
                v = field_default(cur, s, i);
            if (v == NULL) {
                rc = EINVAL;
                break;
            }
            if ((rc = avro_value_get_by_index(dst, i, &child, NULL)) != 0)
                break;
            if ((rc = set_default(cur, &child, avro_schema_record_field_get_by_index(s, (int)i), v,
                                  field, errstr, errstr_size)) != 0)
                return rc;
        }
        break;
    default: /* bytes, fixed and map defaults: no docbus schema has one */
        rc = ENOTSUP;
        break;
    }
    if (rc != 0) {
        seterr(errstr, errstr_size, "field %s: cannot use its default as a %s", field,
               avro_schema_type_name(s));
        return DB_ERR_INVALID;
    }
    return 0;
}

/* Whether a writer value of schema w can be read as reader schema r (same type and
 * name, or a promotion the Avro specification allows). */
static int matches(avro_schema_t w, avro_schema_t r)
{
    avro_type_t wt, rt;
    w = deref(w);
    r = deref(r);
    wt = avro_typeof(w);
    rt = avro_typeof(r);
    if (wt == rt)
        return !is_avro_named_type(w) || strcmp(avro_schema_name(w), avro_schema_name(r)) == 0;
    return (wt == AVRO_INT32 && (rt == AVRO_INT64 || rt == AVRO_FLOAT || rt == AVRO_DOUBLE)) ||
           (wt == AVRO_INT64 && (rt == AVRO_FLOAT || rt == AVRO_DOUBLE)) ||
           (wt == AVRO_FLOAT && rt == AVRO_DOUBLE);
}

/* Copies writer value src (schema ws) into reader value dst (schema rs) by the Avro
 * schema-resolution rules: fields matched by name, missing fields from defaults,
 * enum symbols by name, union branches by first match, numeric promotions. Avro-C
 * 1.11.1's resolved readers and writers refuse a reader field the writer lacks,
 * even with a default, which is the common evolution step; hence this copy. */
static int resolve(const slot_t *cur, avro_value_t *src, avro_schema_t ws, avro_value_t *dst,
                   avro_schema_t rs, const char *field, char *errstr, size_t errstr_size)
{
    int rc = 0;
    avro_value_t sc, dc;
    ws = deref(ws);
    rs = deref(rs);

    if (is_avro_union(ws)) {
        int disc;
        if ((rc = avro_value_get_discriminant(src, &disc)) == 0 &&
            (rc = avro_value_get_current_branch(src, &sc)) == 0)
            return resolve(cur, &sc, avro_schema_union_branch(ws, disc), dst, rs, field, errstr,
                           errstr_size);
        goto avro_failed;
    }
    if (is_avro_union(rs)) {
        for (size_t i = 0; i < avro_schema_union_size(rs); i++) {
            avro_schema_t b = avro_schema_union_branch(rs, (int)i);
            if (matches(ws, b)) {
                if ((rc = avro_value_set_branch(dst, (int)i, &dc)) != 0)
                    goto avro_failed;
                return resolve(cur, src, ws, &dc, b, field, errstr, errstr_size);
            }
        }
        seterr(errstr, errstr_size, "field %s: no branch of the reader's union takes a %s", field,
               avro_schema_type_name(ws));
        return DB_ERR_INVALID;
    }
    if (!matches(ws, rs)) {
        seterr(errstr, errstr_size, "field %s: a writer %s cannot be read as a %s", field,
               avro_schema_type_name(ws), avro_schema_type_name(rs));
        return DB_ERR_INVALID;
    }

    switch (avro_typeof(rs)) {
    case AVRO_NULL:
        rc = avro_value_set_null(dst);
        break;
    case AVRO_BOOLEAN: {
        int b;
        if ((rc = avro_value_get_boolean(src, &b)) == 0)
            rc = avro_value_set_boolean(dst, b);
        break;
    }
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        int32_t i = 0;
        int64_t l = 0;
        float f = 0;
        double x = 0;
        switch (avro_typeof(ws)) {
        case AVRO_INT32:
            rc = avro_value_get_int(src, &i);
            l = i, f = (float)i, x = i;
            break;
        case AVRO_INT64:
            rc = avro_value_get_long(src, &l);
            f = (float)l, x = (double)l;
            break;
        case AVRO_FLOAT:
            rc = avro_value_get_float(src, &f);
            x = f;
            break;
        default:
            rc = avro_value_get_double(src, &x);
            break;
        }
        if (rc == 0)
            rc = avro_typeof(rs) == AVRO_INT32   ? avro_value_set_int(dst, i)
                 : avro_typeof(rs) == AVRO_INT64 ? avro_value_set_long(dst, l)
                 : avro_typeof(rs) == AVRO_FLOAT ? avro_value_set_float(dst, f)
                                                 : avro_value_set_double(dst, x);
        break;
    }
    case AVRO_STRING: {
        const char *s;
        size_t n;
        if ((rc = avro_value_get_string(src, &s, &n)) == 0)
            rc = avro_value_set_string_len(dst, s, n);
        break;
    }
    case AVRO_BYTES: {
        const void *b;
        size_t n;
        if ((rc = avro_value_get_bytes(src, &b, &n)) == 0)
            rc = avro_value_set_bytes(dst, (void *)b, n);
        break;
    }
    case AVRO_FIXED: {
        const void *b;
        size_t n;
        if (avro_schema_fixed_size(ws) != avro_schema_fixed_size(rs)) {
            seterr(errstr, errstr_size, "field %s: fixed sizes differ", field);
            return DB_ERR_INVALID;
        }
        if ((rc = avro_value_get_fixed(src, &b, &n)) == 0)
            rc = avro_value_set_fixed(dst, (void *)b, n);
        break;
    }
    case AVRO_ENUM: {
        int i, ri = -1;
        const char *sym = NULL;
        if ((rc = avro_value_get_enum(src, &i)) != 0)
            break;
        sym = avro_schema_enum_get(ws, i);
        ri = sym ? avro_schema_enum_get_by_name(rs, sym) : -1;
        if (ri < 0) {
            seterr(errstr, errstr_size, "field %s: symbol %s unknown to the reader's %s", field,
                   sym ? sym : "?", avro_schema_name(rs));
            return DB_ERR_INVALID;
        }
        rc = avro_value_set_enum(dst, ri);
        break;
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
        size_t n;
        int arr = is_avro_array(rs);
        avro_schema_t wi = arr ? avro_schema_array_items(ws) : avro_schema_map_values(ws);
        avro_schema_t ri = arr ? avro_schema_array_items(rs) : avro_schema_map_values(rs);
        if ((rc = avro_value_get_size(src, &n)) != 0)
            break;
        for (size_t k = 0; k < n && rc == 0; k++) {
            const char *key = NULL;
            if ((rc = avro_value_get_by_index(src, k, &sc, &key)) != 0)
                break;
            rc = arr ? avro_value_append(dst, &dc, NULL) : avro_value_add(dst, key, &dc, NULL, NULL);
            if (rc != 0)
                break;
            if ((rc = resolve(cur, &sc, wi, &dc, ri, field, errstr, errstr_size)) != 0)
                return rc;
        }
        break;
    }
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(rs); i++) {
            const char *name = avro_schema_record_field_name(rs, (int)i);
            avro_schema_t rf = avro_schema_record_field_get_by_index(rs, (int)i);
            int wi = avro_schema_record_field_get_index(ws, name);
            if ((rc = avro_value_get_by_index(dst, i, &dc, NULL)) != 0)
                goto avro_failed;
            if (wi >= 0) {
                if ((rc = avro_value_get_by_index(src, (size_t)wi, &sc, NULL)) != 0)
                    goto avro_failed;
                rc = resolve(cur, &sc, avro_schema_record_field_get_by_index(ws, wi), &dc, rf, name,
                             errstr, errstr_size);
            } else {
                const json_t *d = field_default(cur, rs, i);
                if (d == NULL) {
                    seterr(errstr, errstr_size,
                           "field %s.%s: missing from the writer and has no default",
                           avro_schema_name(rs), name);
                    return DB_ERR_INVALID;
                }
                rc = set_default(cur, &dc, rf, d, name, errstr, errstr_size);
            }
            if (rc != 0)
                return rc;
        }
        break;
    default:
        rc = ENOTSUP;
        break;
    }
    if (rc == 0)
        return 0;
avro_failed:
    seterr(errstr, errstr_size, "field %s: Avro-C failed resolving: %s", field, avro_strerror());
    return DB_ERR_INVALID;
}

/* The decoder's slot for a registry entry, created on first use. */
static int slot_get(body_decoder_t *d, const schema_info_t *si, slot_t **out, char *errstr,
                    size_t errstr_size)
{
    int rc = 0;
    slot_t *sl;
    for (size_t i = 0; i < d->n_slots; i++)
        if (d->slots[i].info == si) {
            *out = &d->slots[i];
            return 0;
        }
    if (d->n_slots == SCHEMAS_MAX) { /* cannot happen: one slot per registry entry */
        seterr(errstr, errstr_size, "body decoder full");
        return DB_ERR_INVALID;
    }
    sl = &d->slots[d->n_slots];
    memset(sl, 0, sizeof *sl);
    sl->info = si;
    if ((sl->iface = avro_generic_class_from_schema(si->schema)) == NULL ||
        avro_generic_value_new(sl->iface, &sl->value) != 0) {
        seterr(errstr, errstr_size, "%s: Avro-C cannot make a value: %s", si->file,
               avro_strerror());
        if (sl->iface != NULL)
            avro_value_iface_decref(sl->iface);
        return DB_ERR_NOMEM;
    }
    if (si->current && (rc = map_records(sl, si->schema, si->json)) != 0)
        seterr(errstr, errstr_size, "%s: out of memory", si->file);
    d->n_slots++; /* kept even on error: destroy frees it */
    *out = sl;
    return rc;
}

int body_decoder_read(body_decoder_t *d, const uint8_t fp[8], const uint8_t *body, size_t len,
                      avro_value_t **out, char *errstr, size_t errstr_size)
{
    int rc;
    const schema_info_t *si;
    slot_t *ws, *cs;
    avro_guard_caps_t caps = {.total_max = ENVELOPE_MAX_BYTES};

    if ((si = schemas_lookup_fingerprint(fp)) == NULL) {
        if ((rc = schemas_init(errstr, errstr_size)) != 0)
            return rc;
        si = schemas_lookup_fingerprint(fp);
    }
    if (si == NULL) {
        seterr(errstr, errstr_size,
               "body schema fingerprint %02x%02x%02x%02x%02x%02x%02x%02x is unknown", fp[0], fp[1],
               fp[2], fp[3], fp[4], fp[5], fp[6], fp[7]);
        return DB_ERR_UNKNOWN_SCHEMA;
    }
    if (si->current) {
        /* One pass into an arena under the guard's own rules (see body_view.h); only a
         * refused body is walked by the guard, for the field, offset and code. */
        if ((rc = body_view_read(d->view, si->schema, body, len, &caps, out, errstr,
                                 errstr_size)) == 0 || rc == DB_ERR_NOMEM)
            return rc;
        int grc = avro_guard_check(si->schema, body, len, &caps, avro_schema_name(si->schema),
                                   errstr, errstr_size);
        return grc ? grc : rc;
    }
    if ((rc = avro_guard_check(si->schema, body, len, &caps, avro_schema_name(si->schema), errstr,
                               errstr_size)) != 0)
        return rc;
    if ((rc = slot_get(d, si, &ws, errstr, errstr_size)) != 0)
        return rc;
    if (d->reader == NULL) {
        if ((d->reader = avro_reader_memory((const char *)body, (int64_t)len)) == NULL) {
            seterr(errstr, errstr_size, "out of memory for an Avro reader");
            return DB_ERR_NOMEM;
        }
    } else {
        avro_reader_memory_set_source(d->reader, (const char *)body, (int64_t)len);
    }
    avro_value_reset(&ws->value);
    if (avro_value_read(d->reader, &ws->value) != 0) {
        seterr(errstr, errstr_size, "%s: Avro-C cannot read the body: %s", si->fullname,
               avro_strerror());
        return DB_ERR_INVALID;
    }
    if (si->current) {
        *out = &ws->value;
        return 0;
    }
    const schema_info_t *ci = schemas_lookup_name(si->fullname);
    if (ci == NULL) {
        seterr(errstr, errstr_size, "%s (%s) has no current version to read it as", si->fullname,
               si->file);
        return DB_ERR_UNKNOWN_SCHEMA;
    }
    if ((rc = slot_get(d, ci, &cs, errstr, errstr_size)) != 0)
        return rc;
    avro_value_reset(&cs->value);
    if ((rc = resolve(cs, &ws->value, si->schema, &cs->value, ci->schema, avro_schema_name(ci->schema),
                      errstr, errstr_size)) != 0)
        return rc;
    *out = &cs->value;
    return 0;
}
