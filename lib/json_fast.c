/* json_fast.c - JSON text -> Avro binary in one pass (see json_fast.h).
 *
 * The plan: one node per schema node (named types shared), a record's fields with their
 * defaults already encoded. The pass: yajl's events (from json_scan, or from yajl for
 * the lines json_scan leaves), a stack of open records, arrays and wrapped unions, and
 * one output buffer. A record's fields are written in the order the JSON gives them and
 * put in schema order when the record closes (with the defaults of the missing ones); an
 * array's count goes in front of its items when it closes. Every event the plan does not
 * expect declines the line: the full path (json_avro_from_json) then either converts it
 * or names the error. */
#include "json_fast.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "json_parse.h"
#include "json_scan.h"
#include "quarter.h"

#define MAX_FIELDS 64          /* a record with more is declined (as json_avro's tables) */
#define MAX_DEPTH 32           /* open records, arrays and unions */
#define MAX_DIGITS 18          /* longer integers are declined: they always fit int64 */

enum fkind {
    F_DECLINE, F_NULL, F_BOOLEAN, F_INT, F_DATE, F_LONG, F_TIME, F_STRING, F_ENUM,
    F_ARRAY, F_RECORD, F_UNION
};

struct fnode;

struct ffield {
    const char *name;
    size_t len;
    struct fnode *type;
    int capped;                /* JSON_AVRO_TEXT_CAP applies */
    int has_default;           /* def holds the default's encoding */
    uint8_t *def;
    size_t def_len;
};

struct fnode {
    enum fkind k;
    size_t n;                  /* enum symbols, union branches, record fields */
    const char **name;         /* enum symbols, union branch names */
    size_t *name_len;
    struct fnode **branch;     /* union */
    int null_ix;               /* union: the null branch, -1 without */
    int plain;                 /* union of null and one other: the other is unwrapped */
    struct fnode *items;       /* array */
    struct ffield *field;      /* record */
};

struct buf {
    uint8_t *p;
    size_t len, cap;
    int failed;                /* out of memory */
};

struct frame {
    const struct fnode *n;     /* a record, an array or a wrapped union */
    size_t base;               /* where its bytes start in out */
    int capped;                /* wrapped union: the cap its branch's value takes */
    int cur;                   /* record: field of the value being read; union: branch */
    uint64_t seen;             /* record: fields read */
    uint64_t count;            /* array: items read */
    size_t start[MAX_FIELDS], end[MAX_FIELDS];
};

struct memo {
    json_t *def;
    struct fnode *node;
};

struct json_fast {
    const json_avro_t *ja;
    struct fnode *root;
    struct memo *memo;
    size_t memo_n, memo_cap;
    struct buf out, tmp;
    /* one pass */
    struct frame fr[MAX_DEPTH];
    int depth;
    const struct fnode *want;  /* the plan of the next value; NULL: none expected */
    int want_capped;
    const char *skip_key;
    size_t skip_len;
    int skipping, skipped;     /* the next value is skip_key's / skip_key was met */
    int done;                  /* the root object closed */
    size_t root_end;
    yajl_handle h;             /* NULL while json_scan raises the events */
    const char *text;
    int finishing;
    size_t text_len;
};

static struct fnode decline_node = {.k = F_DECLINE};

/* ---- output ---- */

/* Room for n more bytes in b; 0, or -1 (b->failed) when out of memory. */
static int reserve(struct buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put_bytes(struct buf *b, const void *s, size_t n)
{
    if (reserve(b, n) == 0) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

/* Avro's long (and int): zig-zag, then base-128 varint. */
static size_t varint(uint8_t out[10], int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z > 0x7F) {
        out[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    out[n++] = (uint8_t)z;
    return n;
}

static void put_long(struct buf *b, int64_t v)
{
    uint8_t tmp[10];
    put_bytes(b, tmp, varint(tmp, v));
}

static void put_string(struct buf *b, const void *s, size_t n)
{
    put_long(b, (int64_t)n);
    put_bytes(b, s, n);
}

/* ---- checks shared by the plan's defaults and the pass ---- */

/* Index of the n bytes at s among node's names, or -1. */
static int find_name(const struct fnode *node, const char *s, size_t n)
{
    for (size_t i = 0; i < node->n; i++)
        if (node->name_len[i] == n && memcmp(node->name[i], s, n) == 0)
            return (int)i;
    return -1;
}

/* 1 when the n bytes at s are a string json_avro_from_json stores: under the byte
 * cap, no NUL, and (capped) at most JSON_AVRO_TEXT_CAP characters. UTF-8 is checked
 * on the whole line before the pass. */
static int string_ok(const char *s, size_t n, int capped)
{
    if (n > JSON_AVRO_STRING_CAP || memchr(s, '\0', n))
        return 0;
    if (capped && n > JSON_AVRO_TEXT_CAP) {   /* fewer bytes are fewer characters */
        size_t chars = 0;
        for (size_t i = 0; i < n; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (chars > JSON_AVRO_TEXT_CAP)
            return 0;
    }
    return 1;
}

/* A date or a time string, as its int or long; 0, or -1 when not one. */
static int parse_when(enum fkind k, const char *s, size_t n, int64_t *out)
{
    char text[64], why[200];
    if (n >= sizeof text || memchr(s, '\0', n))
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    if (k == F_DATE) {
        int32_t days;
        if (vn_date_parse(text, &days, why, sizeof why))
            return -1;
        *out = days;
        return 0;
    }
    return vn_time_parse(text, out, why, sizeof why) ? -1 : 0;
}

/* ---- the plan ---- */

static struct fnode *compile(json_fast_t *f, json_t *s);

/* Encodes JSON value v as node into b the way json_avro_from_json would (is_default:
 * v is a schema default). 0, or -1 when the value is not one it converts. */
static int encode_json(const struct fnode *node, json_t *v, int capped,
                       int is_default, struct buf *b, int depth)
{
    size_t i;
    json_t *e;
    if (depth > MAX_DEPTH)
        return -1;
    switch (node->k) {
    case F_NULL:
        return json_is_null(v) ? 0 : -1;
    case F_BOOLEAN:
        if (!json_is_boolean(v))
            return -1;
        put_bytes(b, json_is_true(v) ? "\1" : "\0", 1);
        return 0;
    case F_DATE:
    case F_TIME:
        if (json_is_string(v)) {
            int64_t when;
            if (parse_when(node->k, json_string_value(v), json_string_length(v), &when))
                return -1;
            put_long(b, when);
            return 0;
        }
        if (!is_default)
            return -1;
        /* a schema default of a logical type is its raw number */
        /* fall through */
    case F_INT:
    case F_LONG:
        if (!json_is_integer(v))
            return -1;
        if ((node->k == F_INT || node->k == F_DATE) &&
            (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX))
            return -1;
        put_long(b, json_integer_value(v));
        return 0;
    case F_STRING:
        if (!json_is_string(v) ||
            !json_utf8_valid(json_string_value(v), json_string_length(v)) ||
            !string_ok(json_string_value(v), json_string_length(v), capped))
            return -1;
        put_string(b, json_string_value(v), json_string_length(v));
        return 0;
    case F_ENUM: {
        int ix = json_is_string(v) ? find_name(node, json_string_value(v), json_string_length(v))
                                   : -1;
        if (ix < 0)
            return -1;
        put_long(b, ix);
        return 0;
    }
    case F_ARRAY:
        if (!json_is_array(v))
            return -1;
        if (json_array_size(v))
            put_long(b, (int64_t)json_array_size(v));
        json_array_foreach(v, i, e)
            if (encode_json(node->items, e, 0, 0, b, depth + 1))
                return -1;
        put_long(b, 0);
        return 0;
    case F_RECORD: {
        size_t present = 0;
        if (!json_is_object(v))
            return -1;
        for (i = 0; i < node->n; i++) {
            const struct ffield *fl = &node->field[i];
            json_t *fv = json_object_getn(v, fl->name, fl->len);
            present += fv != NULL;
            if (fv) {
                if (encode_json(fl->type, fv, fl->capped, 0, b, depth + 1))
                    return -1;
            } else if (fl->has_default) {
                put_bytes(b, fl->def, fl->def_len);
            } else {
                return -1;
            }
        }
        return present == json_object_size(v) ? 0 : -1;   /* else an unknown key */
    }
    case F_UNION: {
        int pick;
        if (is_default) {
            pick = 0;   /* Avro: a union's default is of its first branch */
        } else if (json_is_null(v)) {
            pick = node->null_ix;
        } else if (node->plain) {
            pick = 1 - node->null_ix;
        } else {
            const char *key;
            if (!json_is_object(v) || json_object_size(v) != 1)
                return -1;
            key = json_object_iter_key(json_object_iter(v));
            pick = find_name(node, key, strlen(key));
            v = json_object_iter_value(json_object_iter(v));
        }
        if (pick < 0)
            return -1;
        put_long(b, pick);
        return encode_json(node->branch[pick], v, capped, is_default, b, depth + 1);
    }
    case F_DECLINE:
        break;
    }
    return -1;
}

/* The names (enum symbols or union branch names) of node, n of them. 0 or -1. */
static int names_alloc(struct fnode *node, size_t n)
{
    node->n = n;
    node->name = calloc(n + 1, sizeof *node->name);
    node->name_len = calloc(n + 1, sizeof *node->name_len);
    return node->name && node->name_len ? 0 : -1;
}

/* Fills record node from definition d: 0, 1 when json_fast has no plan for it (over
 * MAX_FIELDS fields, a field without a name), -1 when out of memory. */
static int compile_record(json_fast_t *f, struct fnode *node, json_t *d)
{
    json_t *fields = json_object_get(d, "fields"), *fd;
    const char *rname = json_string_value(json_object_get(d, "name"));
    size_t i, n = json_array_size(fields);
    if (n > MAX_FIELDS)
        return 1;
    if (!(node->field = calloc(n + 1, sizeof *node->field)))
        return -1;
    node->n = n;
    json_array_foreach(fields, i, fd) {
        struct ffield *fl = &node->field[i];
        fl->name = json_string_value(json_object_get(fd, "name"));
        if (!fl->name)
            return 1;
        fl->len = strlen(fl->name);
        fl->capped = json_avro_capped_text(rname, fl->name);
        fl->type = compile(f, json_object_get(fd, "type"));
        if (!fl->type)
            return -1;
    }
    /* defaults once every field's type has its plan (a default may hold a record) */
    json_array_foreach(fields, i, fd) {
        struct ffield *fl = &node->field[i];
        json_t *def = json_object_get(fd, "default");
        struct buf b = {0};
        if (!def)
            continue;
        if (encode_json(fl->type, def, fl->capped, 1, &b, 0) == 0 && !b.failed) {
            fl->has_default = 1;
            fl->def = b.p;
            fl->def_len = b.len;
        } else {
            free(b.p);   /* no usable default: a line without the field is declined */
        }
    }
    return 0;
}

/* The plan of schema node s (shared by every node naming the same definition), or
 * NULL when out of memory. A part json_fast has no plan for becomes F_DECLINE. */
static struct fnode *compile(json_fast_t *f, json_t *s)
{
    json_avro_kind_t k;
    json_avro_logical_t lt;
    json_t *d = json_avro_resolve(f->ja, s, &k, &lt), *e;
    struct fnode *node;
    size_t i;

    if (!d)
        return &decline_node;
    for (i = 0; i < f->memo_n; i++)
        if (f->memo[i].def == d)
            return f->memo[i].node;
    if (f->memo_n == f->memo_cap) {
        size_t cap = f->memo_cap ? f->memo_cap * 2 : 64;
        struct memo *m = realloc(f->memo, cap * sizeof *m);
        if (!m)
            return NULL;
        f->memo = m;
        f->memo_cap = cap;
    }
    if (!(node = calloc(1, sizeof *node)))
        return NULL;
    f->memo[f->memo_n++] = (struct memo){d, node};   /* before the children: recursion */
    node->null_ix = -1;
    switch (k) {
    case JA_NULL: node->k = F_NULL; break;
    case JA_BOOLEAN: node->k = F_BOOLEAN; break;
    case JA_INT: node->k = lt == JA_L_DATE ? F_DATE : F_INT; break;
    case JA_LONG: node->k = lt == JA_L_TIMESTAMP_MILLIS ? F_TIME : F_LONG; break;
    case JA_STRING: node->k = F_STRING; break;
    case JA_ENUM: {
        json_t *syms = json_object_get(d, "symbols");
        if (names_alloc(node, json_array_size(syms)))
            return NULL;
        json_array_foreach(syms, i, e) {
            if (!json_is_string(e))
                return &decline_node;
            node->name[i] = json_string_value(e);
            node->name_len[i] = json_string_length(e);
        }
        node->k = F_ENUM;
        break;
    }
    case JA_ARRAY:
        if (!(node->items = compile(f, json_object_get(d, "items"))))
            return NULL;
        node->k = F_ARRAY;
        break;
    case JA_UNION:
        if (names_alloc(node, json_array_size(d)) ||
            !(node->branch = calloc(json_array_size(d) + 1, sizeof *node->branch)))
            return NULL;
        json_array_foreach(d, i, e) {
            if (!(node->branch[i] = compile(f, e)))
                return NULL;
            if (json_is_string(e) && strcmp(json_string_value(e), "null") == 0)
                node->null_ix = (int)i;
            node->name[i] = json_avro_branch_name(f->ja, e);
            node->name_len[i] = strlen(node->name[i]);
        }
        node->plain = node->n == 2 && node->null_ix >= 0;
        node->k = F_UNION;
        /* two branches of one short name (namespaces apart): the full path picks */
        for (i = 1; i < node->n; i++)
            for (size_t j = 0; j < i; j++)
                if (!strcmp(node->name[i], node->name[j]))
                    node->k = F_DECLINE;
        break;
    case JA_RECORD: {
        int rc = compile_record(f, node, d);
        if (rc < 0)
            return NULL;
        node->k = rc ? F_DECLINE : F_RECORD;
        break;
    }
    default:
        node->k = F_DECLINE;   /* float, double, bytes, fixed, map: the full path */
        break;
    }
    return node;
}

json_fast_t *json_fast_new(const json_avro_t *ja)
{
    json_fast_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ja = ja;
    if (!(f->root = compile(f, json_avro_schema_json(ja)))) {
        json_fast_destroy(f);
        return NULL;
    }
    return f;
}

void json_fast_destroy(json_fast_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->memo_n; i++) {
        struct fnode *node = f->memo[i].node;
        for (size_t j = 0; node->field && j < node->n; j++)
            free(node->field[j].def);
        free(node->field);
        free(node->name);
        free(node->name_len);
        free(node->branch);
        free(node);
    }
    free(f->memo);
    free(f->out.p);
    free(f->tmp.p);
    free(f);
}

/* ---- the pass: yajl callbacks return 0 to decline ---- */

/* The value just written is complete: tell its container. */
static int value_done(json_fast_t *f)
{
    struct frame *fr;
    if (f->depth == 0) {
        f->done = 1;
        /* json_scan takes white space only after the root: its end is the text's */
        f->root_end = f->finishing || !f->h ? f->text_len : yajl_get_bytes_consumed(f->h);
        f->want = NULL;
        return 1;
    }
    fr = &f->fr[f->depth - 1];
    switch (fr->n->k) {
    case F_RECORD:
        fr->end[fr->cur] = f->out.len;
        fr->seen |= 1ULL << fr->cur;
        f->want = NULL;
        break;
    case F_ARRAY:
        fr->count++;
        f->want = fr->n->items;
        f->want_capped = 0;
        break;
    default:   /* a wrapped union: its object must close now */
        f->want = NULL;
        break;
    }
    return !f->out.failed;
}

/* The plan for the next scalar or container: a plain union's branch index is
 * written and its other branch returned; NULL when no value is expected here (a
 * wrapped union needs an object: start_map takes it). */
static const struct fnode *next_value(json_fast_t *f)
{
    const struct fnode *n = f->want;
    if (!n || f->skipping || (f->depth == 0 && f->done))
        return NULL;
    if (n->k == F_UNION && n->plain) {
        put_long(&f->out, 1 - n->null_ix);
        n = n->branch[1 - n->null_ix];
    }
    return n;
}

static int on_null(void *ctx)
{
    json_fast_t *f = ctx;
    const struct fnode *n = f->want;
    if (!n || f->skipping)
        return 0;
    if (n->k == F_UNION && n->null_ix >= 0)
        put_long(&f->out, n->null_ix);
    else if (n->k != F_NULL)
        return 0;
    return value_done(f);
}

static int on_boolean(void *ctx, int v)
{
    json_fast_t *f = ctx;
    const struct fnode *n = next_value(f);
    if (!n || n->k != F_BOOLEAN)
        return 0;
    put_bytes(&f->out, v ? "\1" : "\0", 1);
    return value_done(f);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    json_fast_t *f = ctx;
    const struct fnode *n = next_value(f);
    size_t i = len && s[0] == '-';
    int64_t v = 0;
    if (!n || (n->k != F_INT && n->k != F_LONG) || len - i == 0 || len - i > MAX_DIGITS)
        return 0;
    for (size_t j = i; j < len; j++) {
        if (s[j] < '0' || s[j] > '9')
            return 0;   /* a fraction or an exponent: not an integer to jansson */
        v = v * 10 + (s[j] - '0');
    }
    if (i)
        v = -v;
    if (n->k == F_INT && (v < INT32_MIN || v > INT32_MAX))
        return 0;
    put_long(&f->out, v);
    return value_done(f);
}

static int on_string(void *ctx, const unsigned char *us, size_t len)
{
    json_fast_t *f = ctx;
    const char *s = (const char *)us;
    const struct fnode *n;
    int64_t when;
    int ix;
    if (f->skipping) {
        f->skipping = 0;
        f->want = NULL;
        return 1;
    }
    if (!(n = next_value(f)))
        return 0;
    switch (n->k) {
    case F_STRING:
        if (!string_ok(s, len, f->want_capped))
            return 0;
        put_string(&f->out, s, len);
        break;
    case F_ENUM:
        if ((ix = find_name(n, s, len)) < 0)
            return 0;
        put_long(&f->out, ix);
        break;
    case F_DATE:
    case F_TIME:
        if (parse_when(n->k, s, len, &when))
            return 0;
        put_long(&f->out, when);
        break;
    default:
        return 0;
    }
    return value_done(f);
}

/* Opens a container frame for n; 0 when nested too deep. */
static struct frame *push(json_fast_t *f, const struct fnode *n)
{
    struct frame *fr;
    if (f->depth == MAX_DEPTH)
        return NULL;
    fr = &f->fr[f->depth++];
    fr->n = n;
    fr->base = f->out.len;
    fr->capped = f->want_capped;
    fr->cur = -1;
    fr->seen = 0;
    fr->count = 0;
    return fr;
}

static int on_start_map(void *ctx)
{
    json_fast_t *f = ctx;
    const struct fnode *n = f->want;
    if (!n || f->skipping || (f->depth == 0 && f->done))
        return 0;
    if (!(n->k == F_UNION && !n->plain) && !(n = next_value(f)))
        return 0;
    if ((n->k != F_RECORD && n->k != F_UNION) || !push(f, n))
        return 0;
    f->want = NULL;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *us, size_t len)
{
    json_fast_t *f = ctx;
    const char *key = (const char *)us;
    struct frame *fr = &f->fr[f->depth - 1];
    const struct fnode *n = fr->n;
    int i;
    if (n->k == F_UNION) {
        if (fr->cur >= 0 || (i = find_name(n, key, len)) < 0)
            return 0;   /* a second key, or no such branch */
        put_long(&f->out, i);
        fr->cur = i;
        f->want = n->branch[i];
        f->want_capped = fr->capped;
        return 1;
    }
    if (f->depth == 1 && f->skip_key && len == f->skip_len && memcmp(key, f->skip_key, len) == 0) {
        if (f->skipped)
            return 0;   /* a duplicate key */
        f->skipped = f->skipping = 1;
        f->want = NULL;
        return 1;
    }
    /* fields usually come in schema order: try the one after the last first */
    i = fr->cur + 1;
    if (i >= (int)n->n || n->field[i].len != len || memcmp(n->field[i].name, key, len) != 0)
        for (i = 0; i < (int)n->n; i++)
            if (n->field[i].len == len && memcmp(n->field[i].name, key, len) == 0)
                break;
    if (i == (int)n->n || (fr->seen >> i & 1))
        return 0;       /* an unknown or a duplicate key */
    fr->cur = i;
    fr->start[i] = f->out.len;
    f->want = n->field[i].type;
    f->want_capped = n->field[i].capped;
    return 1;
}

/* Puts the record in frame fr in schema order over its bytes in out, missing fields
 * taking their defaults. 0, or -1 when a field without a default is missing. The
 * fields that came first in schema order, none missing, stay where they are (the
 * whole record, for a line written in schema order); the rest is rewritten after them
 * through tmp (their bytes all lie after those fields). */
static int record_close(json_fast_t *f, const struct frame *fr)
{
    const struct fnode *n = fr->n;
    size_t i = 0, at = fr->base;
    while (i < n->n && (fr->seen >> i & 1) && fr->start[i] == at)
        at = fr->end[i++];
    if (i == n->n)
        return 0;
    f->tmp.len = 0;
    for (; i < n->n; i++) {
        if (fr->seen >> i & 1)
            put_bytes(&f->tmp, f->out.p + fr->start[i], fr->end[i] - fr->start[i]);
        else if (n->field[i].has_default)
            put_bytes(&f->tmp, n->field[i].def, n->field[i].def_len);
        else
            return -1;
    }
    f->out.len = at;
    put_bytes(&f->out, f->tmp.p, f->tmp.len);
    return f->tmp.failed ? -1 : 0;
}

static int on_end_map(void *ctx)
{
    json_fast_t *f = ctx;
    struct frame *fr = &f->fr[f->depth - 1];
    if (f->skipping)
        return 0;
    if (fr->n->k == F_RECORD ? record_close(f, fr) != 0 : fr->cur < 0)
        return 0;       /* a field missing, or a wrapped union with no branch */
    f->depth--;
    return value_done(f);
}

static int on_start_array(void *ctx)
{
    json_fast_t *f = ctx;
    const struct fnode *n = next_value(f);
    if (!n || n->k != F_ARRAY || !push(f, n))
        return 0;
    f->want = n->items;
    f->want_capped = 0;
    return 1;
}

static int on_end_array(void *ctx)
{
    json_fast_t *f = ctx;
    struct frame *fr = &f->fr[--f->depth];
    if (fr->count) {
        uint8_t head[10];
        size_t hn = varint(head, (int64_t)fr->count), items = f->out.len - fr->base;
        if (reserve(&f->out, hn))
            return 0;
        memmove(f->out.p + fr->base + hn, f->out.p + fr->base, items);
        memcpy(f->out.p + fr->base, head, hn);
        f->out.len += hn;
    }
    put_long(&f->out, 0);
    return value_done(f);
}

static const yajl_callbacks callbacks = {
    on_null,   on_boolean, NULL,         NULL,         on_number,      on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

/* Readies f for a pass over text[0..len). */
static void begin(json_fast_t *f, const char *text, size_t len, const char *skip_key)
{
    f->text = text;
    f->out.len = 0;
    f->out.failed = f->tmp.failed = 0;
    f->depth = 0;
    f->want = f->root;
    f->want_capped = 0;
    f->skip_key = skip_key;
    f->skip_len = skip_key ? strlen(skip_key) : 0;
    f->skipping = f->skipped = f->done = 0;
    f->finishing = 0;
    f->text_len = len;
}

/* After a pass that took every event: the body in *out, or -1 (json_fast_encode). */
static int finish(json_fast_t *f, size_t max_len, const uint8_t **out, size_t *out_len)
{
    if (!f->done || f->out.failed || f->root_end > f->text_len)
        return -1;
    /* only white space after the object (json_parse's rule) */
    for (size_t rest = f->root_end; rest < f->text_len; rest++)
        if (!strchr(" \t\n\r", f->text[rest]) || !f->text[rest])
            return -1;
    *out = f->out.p;
    *out_len = f->out.len;
    return f->out.len <= max_len ? 0 : -1;
}

int json_fast_encode(json_fast_t *f, const char *text, size_t len, const char *skip_key,
                     size_t max_len, const uint8_t **out, size_t *out_len)
{
    yajl_status st;

    /* the common forms through json_scan, which checks their UTF-8 itself; the rest
     * through yajl, from the start again, if yajl reads the text as jansson would */
    begin(f, text, len, skip_key);
    switch (json_scan(text, len, &callbacks, f)) {
    case JSON_SCAN_DONE:
        return finish(f, max_len, out, out_len);
    case JSON_SCAN_REFUSED:
        return -1;
    case JSON_SCAN_UNHANDLED:
        break;
    }
    if (!json_parse_yajl_safe(text, len) || !(f->h = yajl_alloc(&callbacks, NULL, f)))
        return -1;
    /* the whole text's UTF-8 is checked (json_parse_yajl_safe), more strictly than yajl */
    yajl_config(f->h, yajl_dont_validate_strings, 1);
    begin(f, text, len, skip_key);
    st = yajl_parse(f->h, (const unsigned char *)text, len);
    f->finishing = 1;
    if (st == yajl_status_ok)
        st = yajl_complete_parse(f->h);
    yajl_free(f->h);
    f->h = NULL;
    if (st != yajl_status_ok)
        return -1;
    return finish(f, max_len, out, out_len);
}
