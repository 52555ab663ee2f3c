/* avro_guard.c - allocation-free validation of untrusted Avro binary against a schema,
 * and the bounded cursor reads it (and the envelope codec) are built from. */
#include "avro_guard.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* ---- cursor ---------------------------------------------------------------------- */

/* Fills errstr with "<path>: <what> at offset N" and returns code. */
static int fail(avro_cursor_t *c, const char *path, size_t at, int code, const char *fmt, ...)
{
    char what[160], where[256];
    va_list ap;
    if (c->errstr == NULL || c->errstr_size == 0)
        return code;
    if (path != NULL)
        snprintf(where, sizeof where, "%s", path);
    else if (c->path_fn != NULL)
        c->path_fn(c->path_ctx, where, sizeof where);
    else
        snprintf(where, sizeof where, "datum");
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->errstr, c->errstr_size, "%s: %s at offset %zu", where, what, c->base_offset + at);
    return code;
}

/* Reads the raw (not zig-zag decoded) varint of at most max_bytes bytes; the last
 * allowed byte may only carry bits up to bit `bits`-1 of the result. */
static int read_varint(avro_cursor_t *c, const char *path, int max_bytes, int bits, uint64_t *out)
{
    size_t start = c->pos;
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (i == max_bytes)
            return fail(c, path, start, DB_ERR_BAD_VARINT, "varint longer than %d bytes", max_bytes);
        if (c->pos >= c->len)
            return fail(c, path, start, DB_ERR_TRUNCATED, "input ends inside a varint");
        uint8_t b = c->buf[c->pos++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (i == max_bytes - 1 && (b >> (bits - 7 * i)) != 0)
                return fail(c, path, start, DB_ERR_BAD_VARINT, "varint overflows %d bits", bits);
            break;
        }
    }
    *out = v;
    return 0;
}

int avro_cursor_long(avro_cursor_t *c, const char *path, int64_t *out)
{
    uint64_t v;
    int rc = read_varint(c, path, 10, 64, &v);
    if (rc == 0)
        *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return rc;
}

int avro_cursor_int(avro_cursor_t *c, const char *path, int32_t *out)
{
    uint64_t v;
    int rc = read_varint(c, path, 5, 32, &v);
    if (rc == 0)
        *out = (int32_t)((uint32_t)(v >> 1) ^ (uint32_t)-(int32_t)(v & 1));
    return rc;
}

int avro_cursor_span(avro_cursor_t *c, const char *path, const char *what, size_t max,
                     const uint8_t **out, size_t *out_len)
{
    size_t start = c->pos;
    int64_t n;
    int rc = avro_cursor_long(c, path, &n);
    if (rc != 0)
        return rc;
    if (n < 0)
        return fail(c, path, start, DB_ERR_NEG_LENGTH, "negative %s length %" PRId64, what, n);
    if ((uint64_t)n > max)
        return fail(c, path, start, DB_ERR_LENGTH_CAP, "%s length %" PRId64 " over cap %zu", what,
                    n, max);
    if ((uint64_t)n > c->len - c->pos)
        return fail(c, path, start, DB_ERR_TRUNCATED,
                    "%s length %" PRId64 " but only %zu bytes left", what, n, c->len - c->pos);
    *out = c->buf + c->pos;
    *out_len = (size_t)n;
    c->pos += (size_t)n;
    return 0;
}

int avro_cursor_fixed(avro_cursor_t *c, const char *path, size_t n, const uint8_t **out)
{
    if (n > c->len - c->pos)
        return fail(c, path, c->pos, DB_ERR_TRUNCATED, "fixed of %zu bytes but only %zu left", n,
                    c->len - c->pos);
    *out = c->buf + c->pos;
    c->pos += n;
    return 0;
}

int avro_cursor_enum(avro_cursor_t *c, const char *path, int n_symbols, int32_t *out)
{
    size_t start = c->pos;
    int32_t i;
    int rc = avro_cursor_int(c, path, &i);
    if (rc != 0)
        return rc;
    if (i < 0 || i >= n_symbols)
        return fail(c, path, start, DB_ERR_BAD_ENUM, "enum index %" PRId32 " not in 0..%d", i,
                    n_symbols - 1);
    *out = i;
    return 0;
}

int avro_cursor_block(avro_cursor_t *c, const char *path, int64_t *count, int64_t *block_bytes)
{
    size_t start = c->pos;
    int64_t n, size;
    int rc = avro_cursor_long(c, path, &n);
    if (rc != 0)
        return rc;
    *block_bytes = -1;
    if (n >= 0) {
        *count = n;
        return 0;
    }
    if (n == INT64_MIN)
        return fail(c, path, start, DB_ERR_NEG_LENGTH, "block count %" PRId64, n);
    *count = -n;
    start = c->pos;
    if ((rc = avro_cursor_long(c, path, &size)) != 0)
        return rc;
    if (size < 0)
        return fail(c, path, start, DB_ERR_NEG_LENGTH, "negative block size %" PRId64, size);
    if ((uint64_t)size > c->len - c->pos)
        return fail(c, path, start, DB_ERR_TRUNCATED, "block size %" PRId64 " but only %zu left",
                    size, c->len - c->pos);
    *block_bytes = size;
    return 0;
}

int avro_cursor_end(avro_cursor_t *c, const char *path)
{
    if (c->pos != c->len)
        return fail(c, path, c->pos, DB_ERR_TRAILING, "%zu bytes left after the value",
                    c->len - c->pos);
    return 0;
}

/* ---- schema walker --------------------------------------------------------------- */

typedef struct frame {
    char kind;        /* '.' field, '[' index, '<' union branch */
    const char *name; /* field or branch name */
    int64_t index;
} frame_t;

typedef struct walk {
    avro_cursor_t c;
    avro_guard_caps_t caps;
    size_t items_total;
    const char *root;
    int depth;
    frame_t path[AVRO_GUARD_MAX_DEPTH + 1];
} walk_t;

/* Writes the current field path, e.g. "Document.to[2].code". */
static void walk_path(const void *ctx, char *out, size_t size)
{
    const walk_t *w = ctx;
    size_t n = (size_t)snprintf(out, size, "%s", w->root);
    for (int i = 0; i < w->depth && n < size; i++) {
        const frame_t *f = &w->path[i];
        if (f->kind == '[')
            n += (size_t)snprintf(out + n, size - n, "[%" PRId64 "]", f->index);
        else if (f->kind == '<')
            n += (size_t)snprintf(out + n, size - n, "<%s>", f->name);
        else
            n += (size_t)snprintf(out + n, size - n, ".%s", f->name);
    }
}

static int walk_value(walk_t *w, avro_schema_t s);

static int push(walk_t *w, char kind, const char *name, int64_t index)
{
    if (w->depth == AVRO_GUARD_MAX_DEPTH)
        return fail(&w->c, NULL, w->c.pos, DB_ERR_INVALID, "nested deeper than %d",
                    AVRO_GUARD_MAX_DEPTH);
    w->path[w->depth++] = (frame_t){kind, name, index};
    return 0;
}

/* Arrays and maps: blocks of items until a zero count. */
static int walk_blocks(walk_t *w, avro_schema_t items, int is_map)
{
    int rc;
    int64_t count, block_bytes, n = 0;
    const char *what = is_map ? "map" : "array";
    for (;;) {
        size_t start = w->c.pos;
        if ((rc = avro_cursor_block(&w->c, NULL, &count, &block_bytes)) != 0)
            return rc;
        if (count == 0)
            return 0;
        if ((uint64_t)count > w->caps.array_items_max - (uint64_t)n)
            return fail(&w->c, NULL, start, DB_ERR_LENGTH_CAP, "%s of %" PRIu64 "+ items over cap %zu",
                        what, (uint64_t)n + (uint64_t)count, w->caps.array_items_max);
        if ((uint64_t)count > w->caps.items_total_max - w->items_total)
            return fail(&w->c, NULL, start, DB_ERR_LENGTH_CAP,
                        "more than %zu collection items in the datum", w->caps.items_total_max);
        w->items_total += (size_t)count;
        size_t items_start = w->c.pos;
        for (int64_t i = 0; i < count; i++, n++) {
            if ((rc = push(w, '[', NULL, n)) != 0)
                return rc;
            if (is_map) {
                const uint8_t *k;
                size_t klen;
                rc = avro_cursor_span(&w->c, NULL, "map key", w->caps.string_max, &k, &klen);
            }
            if (rc == 0)
                rc = walk_value(w, items);
            w->depth--;
            if (rc != 0)
                return rc;
        }
        /* Readers that skip by the byte size and readers that parse items must agree. */
        if (block_bytes >= 0 && w->c.pos - items_start != (uint64_t)block_bytes)
            return fail(&w->c, NULL, start, DB_ERR_INVALID,
                        "%s block says %" PRId64 " bytes but its items take %zu", what, block_bytes,
                        w->c.pos - items_start);
    }
}

static int walk_value(walk_t *w, avro_schema_t s)
{
    int rc = 0;
    const uint8_t *p = NULL;
    size_t n;
    int32_t i32;
    int64_t i64;

    while (is_avro_link(s))
        s = avro_schema_link_target(s);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        break;
    case AVRO_BOOLEAN:
        if ((rc = avro_cursor_fixed(&w->c, NULL, 1, &p)) == 0 && *p > 1)
            rc = fail(&w->c, NULL, w->c.pos - 1, DB_ERR_INVALID, "boolean byte 0x%02x", *p);
        break;
    case AVRO_INT32:
        rc = avro_cursor_int(&w->c, NULL, &i32);
        break;
    case AVRO_INT64:
        rc = avro_cursor_long(&w->c, NULL, &i64);
        break;
    case AVRO_FLOAT:
        rc = avro_cursor_fixed(&w->c, NULL, 4, &p);
        break;
    case AVRO_DOUBLE:
        rc = avro_cursor_fixed(&w->c, NULL, 8, &p);
        break;
    case AVRO_STRING:
        rc = avro_cursor_span(&w->c, NULL, "string", w->caps.string_max, &p, &n);
        break;
    case AVRO_BYTES:
        rc = avro_cursor_span(&w->c, NULL, "bytes", w->caps.bytes_max, &p, &n);
        break;
    case AVRO_FIXED:
        rc = avro_cursor_fixed(&w->c, NULL, (size_t)avro_schema_fixed_size(s), &p);
        break;
    case AVRO_ENUM:
        rc = avro_cursor_enum(&w->c, NULL, avro_schema_enum_number_of_symbols(s), &i32);
        break;
    case AVRO_RECORD: {
        size_t nf = avro_schema_record_size(s);
        for (size_t i = 0; i < nf && rc == 0; i++) {
            if ((rc = push(w, '.', avro_schema_record_field_name(s, (int)i), 0)) != 0)
                break;
            rc = walk_value(w, avro_schema_record_field_get_by_index(s, (int)i));
            w->depth--;
        }
        break;
    }
    case AVRO_ARRAY:
        rc = walk_blocks(w, avro_schema_array_items(s), 0);
        break;
    case AVRO_MAP:
        rc = walk_blocks(w, avro_schema_map_values(s), 1);
        break;
    case AVRO_UNION: {
        size_t start = w->c.pos, nb = avro_schema_union_size(s);
        if ((rc = avro_cursor_long(&w->c, NULL, &i64)) != 0)
            break;
        if (i64 < 0 || (uint64_t)i64 >= nb) {
            rc = fail(&w->c, NULL, start, DB_ERR_BAD_UNION, "union branch %" PRId64 " not in 0..%zu",
                      i64, nb - 1);
            break;
        }
        avro_schema_t b = avro_schema_union_branch(s, i64);
        while (is_avro_link(b))
            b = avro_schema_link_target(b);
        const char *bname = is_avro_named_type(b) ? avro_schema_name(b) : avro_schema_type_name(b);
        if ((rc = push(w, '<', bname, 0)) != 0)
            break;
        rc = walk_value(w, b);
        w->depth--;
        break;
    }
    default:
        rc = fail(&w->c, NULL, w->c.pos, DB_ERR_INVALID, "schema type %d not supported",
                  (int)avro_typeof(s));
        break;
    }
    return rc;
}

int avro_guard_check(avro_schema_t schema, const uint8_t *buf, size_t len,
                     const avro_guard_caps_t *caps, const char *root, char *errstr,
                     size_t errstr_size)
{
    int rc;
    walk_t w = {
        .c = {.buf = buf, .len = len, .errstr = errstr, .errstr_size = errstr_size},
        .caps = {AVRO_GUARD_STRING_MAX, AVRO_GUARD_BYTES_MAX, AVRO_GUARD_ARRAY_ITEMS_MAX,
                 AVRO_GUARD_ITEMS_TOTAL_MAX, AVRO_GUARD_TOTAL_MAX},
    };
    if (caps != NULL) {
        if (caps->string_max)
            w.caps.string_max = caps->string_max;
        if (caps->bytes_max)
            w.caps.bytes_max = caps->bytes_max;
        if (caps->array_items_max)
            w.caps.array_items_max = caps->array_items_max;
        if (caps->items_total_max)
            w.caps.items_total_max = caps->items_total_max;
        if (caps->total_max)
            w.caps.total_max = caps->total_max;
    }
    w.root = root ? root : (avro_schema_name(schema) ? avro_schema_name(schema) : "datum");
    w.c.path_fn = walk_path;
    w.c.path_ctx = &w;
    if (len > w.caps.total_max)
        return fail(&w.c, NULL, 0, DB_ERR_TOO_LARGE, "%zu bytes over cap %zu", len,
                    w.caps.total_max);
    if ((rc = walk_value(&w, schema)) == 0)
        rc = avro_cursor_end(&w.c, NULL);
    return rc;
}
