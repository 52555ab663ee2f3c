/* json_avro.c - JSON <-> Avro generic values, driven by the schema's JSON text. */
#include "json_avro.h"

#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json_parse.h"
#include "quarter.h"
#include "schemas_embedded.h"
#include "str.h"

struct resolved;

struct json_avro {
    json_t *root;              /* the schema's JSON */
    json_t *names;             /* name and full name -> schema node (borrowed from root) */
    avro_schema_t schema;
    avro_value_iface_t *iface;
    /* resolve() of every schema node met so far, by node address: converting a record
     * looked the same nodes up again for every line. A converter is used by one thread
     * at a time (each import reader, inbox, inspect has its own), so no lock. */
    struct resolved *memo;
    size_t memo_cap, memo_n;
    int borrow_strings;        /* json_avro_borrow_strings */
    int utf8_checked;          /* json_avro_utf8_checked */
};

/* Conversion state: the JSON path of the value being converted, for errors. */
struct ctx {
    const json_avro_t *ja;
    char path[512];
    size_t plen;
    char *errstr;
    size_t errstr_size;
};

static const struct {
    const char *name;
    json_avro_kind_t k;
} primitives[] = {
    {"null", JA_NULL}, {"boolean", JA_BOOLEAN}, {"int", JA_INT}, {"long", JA_LONG},
    {"float", JA_FLOAT}, {"double", JA_DOUBLE}, {"string", JA_STRING}, {"bytes", JA_BYTES},
};

static json_avro_kind_t primitive_kind(const char *s)
{
    if (*s < 'a' || *s > 's')
        return JA_BAD; /* named types start with an upper-case letter or a namespace */
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (s[0] == primitives[i].name[0] && strcmp(s, primitives[i].name) == 0)
            return primitives[i].k;
    return JA_BAD;
}

/* Resolves a schema node (named references included) to its definition and kind. */
static json_t *resolve(const json_avro_t *ja, json_t *s, json_avro_kind_t *k, json_avro_logical_t *lt)
{
    *lt = JA_L_NONE;
    if (json_is_string(s)) {
        *k = primitive_kind(json_string_value(s));
        if (*k != JA_BAD)
            return s;
        s = json_object_get(ja->names, json_string_value(s));
        if (!s) {
            *k = JA_BAD;
            return NULL;
        }
    }
    if (json_is_array(s)) {
        *k = JA_UNION;
        return s;
    }
    if (json_is_object(s)) {
        json_t *t = json_object_get(s, "type");
        const char *ts = json_string_value(t);
        const char *l = json_string_value(json_object_get(s, "logicalType"));
        if (!ts)
            return resolve(ja, t, k, lt); /* {"type": {...}} or {"type": [...]} */
        if (strcmp(ts, "record") == 0 || strcmp(ts, "error") == 0)
            *k = JA_RECORD;
        else if (strcmp(ts, "enum") == 0)
            *k = JA_ENUM;
        else if (strcmp(ts, "array") == 0)
            *k = JA_ARRAY;
        else if (strcmp(ts, "map") == 0)
            *k = JA_MAP;
        else if (strcmp(ts, "fixed") == 0)
            *k = JA_FIXED;
        else {
            /* a primitive written as an object, maybe with a logical type */
            resolve(ja, t, k, lt);
            if (l && strcmp(l, "date") == 0 && *k == JA_INT)
                *lt = JA_L_DATE;
            else if (l && strcmp(l, "timestamp-millis") == 0 && *k == JA_LONG)
                *lt = JA_L_TIMESTAMP_MILLIS;
        }
        return s;
    }
    *k = JA_BAD;
    return NULL;
}

/* 1 for the text fields capped in characters (JSON_AVRO_TEXT_CAP): Document.subject
 * and Document.content_summary. */
int json_avro_capped_text(const char *record, const char *field)
{
    return record && field && strcmp(record, "Document") == 0 &&
           (strcmp(field, "subject") == 0 || strcmp(field, "content_summary") == 0);
}

/* One resolved schema node; for a record, its fields' names, types and defaults. */
struct resolved {
    json_t *node;              /* NULL: empty slot */
    json_t *d;
    json_avro_kind_t k;
    json_avro_logical_t lt;
    size_t nfields;
    const char **fname;
    json_t **ftype, **fdefault;
    uint64_t capped;           /* record Document: bit i set when field i is capped text */
};

static size_t memo_slot(const json_avro_t *ja, const json_t *node)
{
    uintptr_t h = (uintptr_t)node;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (ja->memo_cap - 1);
}

static void resolved_free(struct resolved *r)
{
    free(r->fname);
    free(r->ftype);
    free(r->fdefault);
}

/* Fills r's field table from record definition d. Returns 0 or -1 (out of memory, or
 * over 64 fields: the record is then converted without a table). */
static int resolved_fields(struct resolved *r, json_t *d)
{
    json_t *fields = json_object_get(d, "fields"), *f;
    const char *rname = json_string_value(json_object_get(d, "name"));
    size_t i, n = json_array_size(fields);
    if (n > 64 || !(r->fname = calloc(n + 1, sizeof *r->fname)) ||
        !(r->ftype = calloc(n + 1, sizeof *r->ftype)) ||
        !(r->fdefault = calloc(n + 1, sizeof *r->fdefault)))
        return -1;
    json_array_foreach(fields, i, f) {
        r->fname[i] = json_string_value(json_object_get(f, "name"));
        r->ftype[i] = json_object_get(f, "type");
        r->fdefault[i] = json_object_get(f, "default");
        if (!r->fname[i])
            return -1;
        if (json_avro_capped_text(rname, r->fname[i]))
            r->capped |= 1ULL << i;
    }
    r->nfields = n;
    return 0;
}

/* resolve(), remembered: the entry for schema node s, or NULL when memory ran out
 * (callers then resolve without it). A record's entry has its field table unless the
 * record has over 64 fields (nfields 0 with fname NULL). */
static const struct resolved *resolve_memo(const json_avro_t *cja, json_t *s)
{
    json_avro_t *ja = (json_avro_t *)cja;   /* the memo only: see struct json_avro */
    struct resolved *r;
    if (ja->memo_cap && (r = &ja->memo[memo_slot(ja, s)])->node == s)
        return r;   /* the common case: found in its home slot */
    if (ja->memo_cap)
        for (size_t i = memo_slot(ja, s);; i = (i + 1) & (ja->memo_cap - 1)) {
            if (ja->memo[i].node == s)
                return &ja->memo[i];
            if (!ja->memo[i].node)
                break;
        }
    if ((ja->memo_n + 1) * 2 > ja->memo_cap) {
        size_t ncap = ja->memo_cap ? ja->memo_cap * 2 : 256;
        struct resolved *nm = calloc(ncap, sizeof *nm), *old = ja->memo;
        size_t ocap = ja->memo_cap;
        if (!nm)
            return NULL;
        ja->memo = nm;
        ja->memo_cap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].node) {
                size_t j = memo_slot(ja, old[i].node);
                while (nm[j].node)
                    j = (j + 1) & (ncap - 1);
                nm[j] = old[i];
            }
        free(old);
    }
    size_t j = memo_slot(ja, s);
    while (ja->memo[j].node)
        j = (j + 1) & (ja->memo_cap - 1);
    r = &ja->memo[j];
    memset(r, 0, sizeof *r);
    r->d = resolve(ja, s, &r->k, &r->lt);
    if (r->k == JA_RECORD && resolved_fields(r, r->d) != 0) {
        resolved_free(r);
        r->fname = NULL;
        r->ftype = r->fdefault = NULL;
        r->nfields = 0;
        r->capped = 0;
    }
    r->node = s;
    ja->memo_n++;
    return r;
}

/* Records every named type of the schema under its name and full name. */
static void index_names(json_t *names, json_t *s, const char *ns)
{
    if (json_is_array(s)) {
        size_t i;
        json_t *b;
        json_array_foreach(s, i, b)
            index_names(names, b, ns);
        return;
    }
    if (!json_is_object(s))
        return;
    const char *type = json_string_value(json_object_get(s, "type"));
    const char *name = json_string_value(json_object_get(s, "name"));
    const char *own_ns = json_string_value(json_object_get(s, "namespace"));
    char full[512];
    if (!type) {
        index_names(names, json_object_get(s, "type"), ns);
        return;
    }
    if (name && (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 ||
                 strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0)) {
        const char *use_ns = strchr(name, '.') ? NULL : (own_ns ? own_ns : ns);
        const char *shortname = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
        if (use_ns && *use_ns)
            snprintf(full, sizeof full, "%s.%s", use_ns, name);
        else
            snprintf(full, sizeof full, "%s", name);
        json_object_set(names, full, s);
        if (!json_object_get(names, shortname))
            json_object_set(names, shortname, s);
        if (own_ns)
            ns = own_ns;
        else if (strchr(name, '.'))
            ns = NULL; /* a dotted name carries its own namespace; children use it */
    }
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(s, "fields"), i, f)
            index_names(names, json_object_get(f, "type"), ns);
    } else if (strcmp(type, "array") == 0) {
        index_names(names, json_object_get(s, "items"), ns);
    } else if (strcmp(type, "map") == 0) {
        index_names(names, json_object_get(s, "values"), ns);
    }
}

void json_avro_destroy(json_avro_t *ja)
{
    if (!ja)
        return;
    if (ja->iface)
        avro_value_iface_decref(ja->iface);
    if (ja->schema)
        avro_schema_decref(ja->schema);
    for (size_t i = 0; i < ja->memo_cap; i++)
        if (ja->memo[i].node)
            resolved_free(&ja->memo[i]);
    free(ja->memo);
    json_decref(ja->names);
    json_decref(ja->root);
    free(ja);
}

int json_avro_new(const char *schema_json, json_avro_t **out, char *errstr, size_t errstr_size)
{
    int rc = 0;
    json_error_t jerr;
    json_avro_t *ja = calloc(1, sizeof *ja);

    *out = NULL;
    if (!ja) {
        rc = DB_ERR_NOMEM;
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    ja->root = json_loads(schema_json, 0, &jerr);
    if (!ja->root) {
        snprintf(errstr, errstr_size, "schema is not JSON: %d:%d: %s", jerr.line,
                 jerr.column, jerr.text);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (avro_schema_from_json_length(schema_json, strlen(schema_json), &ja->schema) != 0) {
        snprintf(errstr, errstr_size, "Avro-C rejects the schema: %s", avro_strerror());
        rc = DB_ERR_INVALID;
        goto out;
    }
    ja->names = json_object();
    ja->iface = avro_generic_class_from_schema(ja->schema);
    if (!ja->names || !ja->iface) {
        snprintf(errstr, errstr_size, "cannot build the schema's value class: %s",
                 avro_strerror());
        rc = DB_ERR_NOMEM;
        goto out;
    }
    index_names(ja->names, ja->root, NULL);
    *out = ja;
    ja = NULL;
out:
    json_avro_destroy(ja);
    return rc;
}

int json_avro_new_embedded(const char *file, json_avro_t **out, char *errstr,
                           size_t errstr_size)
{
    *out = NULL;
    for (const struct embedded_schema *s = embedded_schemas; s->file; s++)
        if (strcmp(s->file, file) == 0)
            return json_avro_new(s->json, out, errstr, errstr_size);
    snprintf(errstr, errstr_size, "no embedded schema \"%s\"", file);
    return DB_ERR_NOT_FOUND;
}

int json_avro_new_body(body_type_t t, json_avro_t **out, char *errstr, size_t errstr_size)
{
    static const char *files[] = {"document.avsc", "status.avsc", "event.avsc"};
    if ((unsigned)t > BODY_EVENT) {
        *out = NULL;
        snprintf(errstr, errstr_size, "unknown body type %d", (int)t);
        return DB_ERR_INVALID;
    }
    return json_avro_new_embedded(files[t], out, errstr, errstr_size);
}

json_t *json_avro_schema_json(const json_avro_t *ja)
{
    return ja->root;
}

json_t *json_avro_resolve(const json_avro_t *ja, json_t *s, json_avro_kind_t *k,
                          json_avro_logical_t *lt)
{
    return resolve(ja, s, k, lt);
}

avro_schema_t json_avro_schema(const json_avro_t *ja)
{
    return ja->schema;
}

int json_avro_value_new(json_avro_t *ja, avro_value_t *out)
{
    return avro_generic_value_new(ja->iface, out) == 0 ? 0 : DB_ERR_NOMEM;
}

/* ---- paths and errors ---- */

static size_t path_push_field(struct ctx *c, const char *name)
{
    size_t old = c->plen, n = strlen(name), room = sizeof c->path - 1 - c->plen;
    if (c->plen && room) {
        c->path[c->plen++] = '.';
        room--;
    }
    if (n > room)
        n = room;
    memcpy(c->path + c->plen, name, n);
    c->plen += n;
    c->path[c->plen] = '\0';
    return old;
}

static size_t path_push_index(struct ctx *c, size_t i)
{
    size_t old = c->plen;
    char digits[21];
    size_t n = str_join(c->path + c->plen, sizeof c->path - c->plen, "[", str_u64(digits, i), "]", NULL);
    c->plen = c->plen + n < sizeof c->path ? c->plen + n : sizeof c->path - 1;
    return old;
}

static void path_pop(struct ctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, int code, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(c->errstr, c->errstr_size, "%s: %s", c->plen ? c->path : "(record)", reason);
    return code;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown JSON value";
}

/* Characters of valid UTF-8 text: the bytes that do not continue a sequence. */
static long utf8_count(const unsigned char *s, size_t len)
{
    long n = 0;
    for (size_t i = 0; i < len; i++)
        n += (s[i] & 0xC0) != 0x80;
    return n;
}

/* Strict base64 (RFC 4648, padded, no whitespace). Returns decoded length or -1. */
static long b64_decode(const char *in, size_t len, unsigned char **out)
{
    size_t pad = 0;
    long n;
    *out = NULL;
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                 (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
        if (ch == '=' && i >= len - 2 && (i == len - 1 || in[len - 1] == '=')) {
            pad++;
            continue;
        }
        if (!ok || pad)
            return -1;
    }
    *out = malloc(len / 4 * 3 + 1);
    if (!*out)
        return -2;
    if (len == 0)
        return 0;
    n = EVP_DecodeBlock(*out, (const unsigned char *)in, (int)len);
    if (n < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return n - (long)pad;
}

static char *b64_encode(const unsigned char *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Returns the name a union branch is selected by: a named type's short name or a
 * primitive's type name. */
const char *json_avro_branch_name(const json_avro_t *ja, json_t *b)
{
    json_avro_kind_t k;
    json_avro_logical_t lt;
    json_t *d = resolve(ja, b, &k, &lt);
    const char *name;
    if (!d)
        return "?";
    if (json_is_string(d))
        return json_string_value(d);
    name = json_string_value(json_object_get(d, "name"));
    if (name)
        return strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
    return json_string_value(json_object_get(d, "type")) ? json_string_value(json_object_get(d, "type"))
                                                         : "?";
}

/* ---- JSON -> Avro ---- */

static int from_json(struct ctx *c, json_t *sch, json_t *in, avro_value_t *v, int text_cap,
                     int is_default);

/* Converts field i (fname of record rname) of v from val, or from the schema default
 * def when val is NULL (a field without either is an error); type is the field's
 * schema, text_cap its character cap. */
static int field_from_json(struct ctx *c, avro_value_t *v, size_t i, const char *fname,
                           const char *rname, json_t *val, json_t *def, json_t *type,
                           int text_cap)
{
    avro_value_t child;
    size_t old = path_push_field(c, fname);
    int rc, is_default = !val;
    if (!val)
        val = def;
    if (!val)
        rc = fail(c, DB_ERR_INVALID, "missing field \"%s\" of record %s (it has no default)",
                  fname, rname);
    else if (avro_value_get_by_index(v, i, &child, NULL) != 0)
        rc = fail(c, DB_ERR_INVALID, "schema mismatch: %s", avro_strerror());
    else
        rc = from_json(c, type, val, &child, text_cap, is_default);
    path_pop(c, old);
    return rc;
}

static int record_from_json(struct ctx *c, json_t *d, json_t *in, avro_value_t *v)
{
    json_t *fields = json_object_get(d, "fields");
    const char *rname = json_string_value(json_object_get(d, "name"));
    const char *key;
    json_t *val;
    size_t i;
    json_t *f;

    if (!json_is_object(in))
        return fail(c, DB_ERR_INVALID, "expected an object (record %s), got %s", rname,
                    json_kind(in));
    /* unknown keys exist iff fewer schema fields are present than the object has keys */
    size_t present = 0;
    json_array_foreach(fields, i, f)
        present += json_object_get(in, json_string_value(json_object_get(f, "name"))) != NULL;
    json_object_foreach(in, key, val) {
        int found = 0;
        if (present == json_object_size(in))
            break;
        json_array_foreach(fields, i, f)
            if (strcmp(json_string_value(json_object_get(f, "name")), key) == 0)
                found = 1;
        if (!found) {
            size_t old = path_push_field(c, key);
            int rc = fail(c, DB_ERR_INVALID, "unknown field \"%s\" in record %s", key, rname);
            path_pop(c, old);
            return rc;
        }
    }
    json_array_foreach(fields, i, f) {
        const char *fname = json_string_value(json_object_get(f, "name"));
        int rc = field_from_json(c, v, i, fname, rname, json_object_get(in, fname),
                                 json_object_get(f, "default"), json_object_get(f, "type"),
                                 json_avro_capped_text(rname, fname));
        if (rc)
            return rc;
    }
    return 0;
}

/* record_from_json with the record's field table (same checks, same messages, same
 * order): no name lookups in the schema per line. */
static int record_from_table(struct ctx *c, const struct resolved *entry, json_t *in,
                             avro_value_t *v)
{
    /* a copy: the memo may grow (and move) while the fields are converted */
    const struct resolved rec = *entry, *r = &rec;
    const char *rname = json_string_value(json_object_get(r->d, "name"));
    json_t *fin[65];
    size_t present = 0;

    if (!json_is_object(in))
        return fail(c, DB_ERR_INVALID, "expected an object (record %s), got %s", rname,
                    json_kind(in));
    for (size_t i = 0; i < r->nfields; i++)
        present += (fin[i] = json_object_get(in, r->fname[i])) != NULL;
    if (present != json_object_size(in))
        return record_from_json(c, r->d, in, v);   /* it names the unknown key */
    for (size_t i = 0; i < r->nfields; i++) {
        int rc = field_from_json(c, v, i, r->fname[i], rname, fin[i], r->fdefault[i],
                                 r->ftype[i], (int)(r->capped >> i & 1));
        if (rc)
            return rc;
    }
    return 0;
}

static int union_from_json(struct ctx *c, json_t *d, json_t *in, avro_value_t *v, int text_cap,
                           int is_default)
{
    size_t n = json_array_size(d), i, null_ix = SIZE_MAX, pick = SIZE_MAX;
    avro_value_t branch;
    json_t *b, *val = in;
    int rc;

    json_array_foreach(d, i, b)
        if (json_is_string(b) && strcmp(json_string_value(b), "null") == 0)
            null_ix = i;
    if (is_default) {
        pick = 0; /* Avro: a union's default is of its first branch */
    } else if (json_is_null(in)) {
        if (null_ix == SIZE_MAX)
            return fail(c, DB_ERR_INVALID, "null is not allowed here");
        pick = null_ix;
    } else if (n == 2 && null_ix != SIZE_MAX) {
        pick = 1 - null_ix;
    } else {
        char names[400] = "";
        size_t used = 0;
        const char *key = NULL;
        if (json_is_object(in) && json_object_size(in) == 1) {
            void *it = json_object_iter(in);
            key = json_object_iter_key(it);
            val = json_object_iter_value(it);
            json_array_foreach(d, i, b) {
                const char *bn = json_avro_branch_name(c->ja, b);
                const char *dot = strrchr(key, '.');
                if (strcmp(bn, key) == 0 || (dot && strcmp(bn, dot + 1) == 0))
                    pick = i;
            }
        }
        if (pick == SIZE_MAX) {
            json_array_foreach(d, i, b) {
                int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 json_avro_branch_name(c->ja, b));
                if (w > 0 && used + (size_t)w < sizeof names)
                    used += (size_t)w;
            }
            if (key)
                return fail(c, DB_ERR_INVALID, "unknown union branch \"%s\" (expected one of %s)",
                            key, names);
            return fail(c, DB_ERR_INVALID,
                        "expected an object with one key naming the branch, one of %s; got %s",
                        names, json_kind(in));
        }
    }
    if (avro_value_set_branch(v, (int)pick, &branch) != 0)
        return fail(c, DB_ERR_INVALID, "cannot select union branch %zu: %s", pick,
                    avro_strerror());
    if (val != in) {
        size_t old = path_push_field(c, json_avro_branch_name(c->ja, json_array_get(d, pick)));
        rc = from_json(c, json_array_get(d, pick), val, &branch, text_cap, 0);
        path_pop(c, old);
        return rc;
    }
    return from_json(c, json_array_get(d, pick), val, &branch, text_cap, is_default);
}

static int string_from_json(struct ctx *c, json_t *in, avro_value_t *v, int text_cap)
{
    const char *s;
    size_t len;
    long chars;
    if (!json_is_string(in))
        return fail(c, DB_ERR_INVALID, "expected a string, got %s", json_kind(in));
    s = json_string_value(in);
    len = json_string_length(in);
    if (len > JSON_AVRO_STRING_CAP)
        return fail(c, DB_ERR_INVALID, "string of %zu bytes is over the %d-byte cap", len,
                    JSON_AVRO_STRING_CAP);
    if ((!c->ja->utf8_checked && !json_utf8_valid(s, len)) || memchr(s, '\0', len))
        return fail(c, DB_ERR_INVALID, "string is not valid UTF-8 text");
    if (text_cap && (chars = utf8_count((const unsigned char *)s, len)) > JSON_AVRO_TEXT_CAP)
        return fail(c, DB_ERR_INVALID, "%ld characters, over the %d-character cap", chars,
                    JSON_AVRO_TEXT_CAP);
    if (c->ja->borrow_strings) {
        avro_wrapped_buffer_t wb;   /* no free function: the JSON value owns the bytes */
        if (avro_wrapped_buffer_new(&wb, s, len + 1) == 0 && avro_value_give_string_len(v, &wb) == 0)
            return 0;
        return fail(c, DB_ERR_NOMEM, "cannot store string: %s", avro_strerror());
    }
    if (avro_value_set_string_len(v, s, len + 1) != 0)
        return fail(c, DB_ERR_NOMEM, "cannot store string: %s", avro_strerror());
    return 0;
}

void json_avro_borrow_strings(json_avro_t *ja, int on)
{
    ja->borrow_strings = on;
}

void json_avro_utf8_checked(json_avro_t *ja, int on)
{
    ja->utf8_checked = on;
}

static int from_json(struct ctx *c, json_t *sch, json_t *in, avro_value_t *v, int text_cap,
                     int is_default)
{
    json_avro_kind_t k;
    json_avro_logical_t lt;
    const struct resolved *r = resolve_memo(c->ja, sch);
    json_t *d = r ? r->d : resolve(c->ja, sch, &k, &lt);
    size_t i;
    int rc = 0;

    if (r) {
        k = r->k;
        lt = r->lt;
    }

    switch (k) {
    case JA_NULL:
        if (!json_is_null(in))
            return fail(c, DB_ERR_INVALID, "expected null, got %s", json_kind(in));
        return avro_value_set_null(v) ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
    case JA_BOOLEAN:
        if (!json_is_boolean(in))
            return fail(c, DB_ERR_INVALID, "expected true or false, got %s", json_kind(in));
        return avro_value_set_boolean(v, json_is_true(in)) ? fail(c, DB_ERR_INVALID, "%s",
                                                                 avro_strerror()) : 0;
    case JA_INT:
        if (lt == JA_L_DATE && !(is_default && json_is_integer(in))) {
            /* schema defaults of logical types are raw numbers (Avro spec) */
            int32_t days;
            char why[160];
            if (!json_is_string(in))
                return fail(c, DB_ERR_INVALID, "expected a date string \"YYYY-MM-DD\", got %s",
                            json_kind(in));
            if (vn_date_parse(json_string_value(in), &days, why, sizeof why) != 0)
                return fail(c, DB_ERR_INVALID, "%s", why);
            return avro_value_set_int(v, days) ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
        }
        if (!json_is_integer(in))
            return fail(c, DB_ERR_INVALID, "expected an integer, got %s", json_kind(in));
        if (json_integer_value(in) < INT32_MIN || json_integer_value(in) > INT32_MAX)
            return fail(c, DB_ERR_INVALID, "%" JSON_INTEGER_FORMAT " is out of the int range",
                        json_integer_value(in));
        return avro_value_set_int(v, (int32_t)json_integer_value(in))
                   ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
    case JA_LONG:
        if (lt == JA_L_TIMESTAMP_MILLIS && !(is_default && json_is_integer(in))) {
            int64_t ms;
            char why[200];
            if (!json_is_string(in))
                return fail(c, DB_ERR_INVALID,
                            "expected a time string like \"2018-01-08T09:30:00+07:00\", got %s",
                            json_kind(in));
            if (vn_time_parse(json_string_value(in), &ms, why, sizeof why) != 0)
                return fail(c, DB_ERR_INVALID, "%s", why);
            return avro_value_set_long(v, ms) ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
        }
        if (!json_is_integer(in))
            return fail(c, DB_ERR_INVALID, "expected an integer, got %s", json_kind(in));
        return avro_value_set_long(v, json_integer_value(in))
                   ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
    case JA_FLOAT:
    case JA_DOUBLE:
        if (!json_is_number(in))
            return fail(c, DB_ERR_INVALID, "expected a number, got %s", json_kind(in));
        rc = k == JA_FLOAT ? avro_value_set_float(v, (float)json_number_value(in))
                          : avro_value_set_double(v, json_number_value(in));
        return rc ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
    case JA_STRING:
        return string_from_json(c, in, v, text_cap);
    case JA_BYTES: {
        unsigned char *buf;
        long n;
        if (!json_is_string(in))
            return fail(c, DB_ERR_INVALID, "expected a base64 string, got %s", json_kind(in));
        if (json_string_length(in) / 4 * 3 > JSON_AVRO_BYTES_CAP)
            return fail(c, DB_ERR_INVALID, "bytes over the %d-byte cap", JSON_AVRO_BYTES_CAP);
        n = b64_decode(json_string_value(in), json_string_length(in), &buf);
        if (n == -2)
            return fail(c, DB_ERR_NOMEM, "out of memory");
        if (n < 0)
            return fail(c, DB_ERR_INVALID, "not valid base64 (RFC 4648, padded, no spaces)");
        rc = avro_value_set_bytes(v, buf, (size_t)n);
        free(buf);
        return rc ? fail(c, DB_ERR_NOMEM, "%s", avro_strerror()) : 0;
    }
    case JA_FIXED: {
        size_t size = (size_t)json_integer_value(json_object_get(d, "size"));
        const char *s = json_string_value(in);
        unsigned char buf[1024];
        if (!s)
            return fail(c, DB_ERR_INVALID, "expected a lower-case hex string, got %s",
                        json_kind(in));
        if (size > sizeof buf || json_string_length(in) != size * 2)
            return fail(c, DB_ERR_INVALID, "expected %zu hex digits (%s, %zu bytes), got %zu",
                        size * 2, json_string_value(json_object_get(d, "name")), size,
                        json_string_length(in));
        for (i = 0; i < size; i++) {
            int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return fail(c, DB_ERR_INVALID, "not lower-case hex at character %zu",
                            hi < 0 ? 2 * i : 2 * i + 1);
            buf[i] = (unsigned char)(hi << 4 | lo);
        }
        return avro_value_set_fixed(v, buf, size) ? fail(c, DB_ERR_INVALID, "%s", avro_strerror())
                                                  : 0;
    }
    case JA_ENUM: {
        json_t *syms = json_object_get(d, "symbols"), *sym;
        const char *s = json_string_value(in);
        char list[400] = "";
        size_t used = 0;
        if (s)
            json_array_foreach(syms, i, sym)
                if (strcmp(json_string_value(sym), s) == 0)
                    return avro_value_set_enum(v, (int)i)
                               ? fail(c, DB_ERR_INVALID, "%s", avro_strerror()) : 0;
        json_array_foreach(syms, i, sym) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             json_string_value(sym));
            if (w > 0 && used + (size_t)w < sizeof list)
                used += (size_t)w;
        }
        if (!s)
            return fail(c, DB_ERR_INVALID, "expected a symbol of %s (%s), got %s",
                        json_string_value(json_object_get(d, "name")), list, json_kind(in));
        return fail(c, DB_ERR_INVALID, "unknown symbol \"%s\" of %s (expected one of %s)", s,
                    json_string_value(json_object_get(d, "name")), list);
    }
    case JA_ARRAY: {
        json_t *e;
        if (!json_is_array(in))
            return fail(c, DB_ERR_INVALID, "expected an array, got %s", json_kind(in));
        json_array_foreach(in, i, e) {
            avro_value_t child;
            size_t old = path_push_index(c, i);
            if (avro_value_append(v, &child, NULL) != 0)
                rc = fail(c, DB_ERR_NOMEM, "%s", avro_strerror());
            else
                rc = from_json(c, json_object_get(d, "items"), e, &child, 0, 0);
            path_pop(c, old);
            if (rc)
                return rc;
        }
        return 0;
    }
    case JA_MAP: {
        const char *key;
        json_t *e;
        if (!json_is_object(in))
            return fail(c, DB_ERR_INVALID, "expected an object (map), got %s", json_kind(in));
        json_object_foreach(in, key, e) {
            avro_value_t child;
            size_t old = path_push_field(c, key);
            if (avro_value_add(v, key, &child, NULL, NULL) != 0)
                rc = fail(c, DB_ERR_NOMEM, "%s", avro_strerror());
            else
                rc = from_json(c, json_object_get(d, "values"), e, &child, 0, 0);
            path_pop(c, old);
            if (rc)
                return rc;
        }
        return 0;
    }
    case JA_RECORD:
        return r && r->fname ? record_from_table(c, r, in, v) : record_from_json(c, d, in, v);
    case JA_UNION:
        return union_from_json(c, d, in, v, text_cap, is_default);
    case JA_BAD:
        break;
    }
    return fail(c, DB_ERR_INVALID, "schema type not understood");
}

int json_avro_from_json(const json_avro_t *ja, json_t *in, avro_value_t *out, char *errstr,
                        size_t errstr_size)
{
    struct ctx c = {.ja = ja, .errstr = errstr, .errstr_size = errstr_size};
    if (!in) {
        snprintf(errstr, errstr_size, "(record): no JSON value");
        return DB_ERR_INVALID;
    }
    avro_value_reset(out);
    return from_json(&c, ja->root, in, out, 0, 0);
}

/* ---- Avro -> JSON ---- */

static int to_json(struct ctx *c, json_t *sch, avro_value_t *v, json_t **out);

static int set_out(struct ctx *c, json_t *j, json_t **out)
{
    if (!j)
        return fail(c, DB_ERR_NOMEM, "out of memory");
    *out = j;
    return 0;
}

static int to_json(struct ctx *c, json_t *sch, avro_value_t *v, json_t **out)
{
    json_avro_kind_t k;
    json_avro_logical_t lt;
    json_t *d = resolve(c->ja, sch, &k, &lt);
    size_t i, n;
    int rc = 0;

    *out = NULL;
    switch (k) {
    case JA_NULL:
        return set_out(c, json_null(), out);
    case JA_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        return set_out(c, json_boolean(b), out);
    }
    case JA_INT: {
        int32_t x = 0;
        char buf[32];
        avro_value_get_int(v, &x);
        if (lt == JA_L_DATE)
            return set_out(c, json_string(vn_date_format(x, buf, sizeof buf)), out);
        return set_out(c, json_integer(x), out);
    }
    case JA_LONG: {
        int64_t x = 0;
        char buf[48];
        avro_value_get_long(v, &x);
        if (lt == JA_L_TIMESTAMP_MILLIS)
            return set_out(c, json_string(vn_time_format(x, buf, sizeof buf)), out);
        return set_out(c, json_integer(x), out);
    }
    case JA_FLOAT: {
        float x = 0;
        avro_value_get_float(v, &x);
        return set_out(c, json_real(x), out);
    }
    case JA_DOUBLE: {
        double x = 0;
        avro_value_get_double(v, &x);
        return set_out(c, json_real(x), out);
    }
    case JA_STRING: {
        const char *s = NULL;
        size_t size = 0;
        json_t *j;
        if (avro_value_get_string(v, &s, &size) != 0 || !s || size == 0)
            return fail(c, DB_ERR_INVALID, "string value unreadable");
        j = json_stringn(s, size - 1);
        if (!j)
            return fail(c, DB_ERR_INVALID, "string is not valid UTF-8 text");
        *out = j;
        return 0;
    }
    case JA_BYTES: {
        const void *buf = NULL;
        size_t size = 0;
        char *b64;
        avro_value_get_bytes(v, &buf, &size);
        b64 = b64_encode(buf, size);
        if (!b64)
            return fail(c, DB_ERR_NOMEM, "out of memory");
        rc = set_out(c, json_string(b64), out);
        free(b64);
        return rc;
    }
    case JA_FIXED: {
        const unsigned char *buf = NULL;
        size_t size = 0;
        char hex[2049];
        avro_value_get_fixed(v, (const void **)&buf, &size);
        if (size > 1024)
            return fail(c, DB_ERR_INVALID, "fixed value of %zu bytes is too long", size);
        for (i = 0; i < size; i++)
            snprintf(hex + 2 * i, 3, "%02x", buf[i]);
        hex[2 * size] = '\0';
        return set_out(c, json_string(hex), out);
    }
    case JA_ENUM: {
        int x = -1;
        json_t *syms = json_object_get(d, "symbols");
        avro_value_get_enum(v, &x);
        if (x < 0 || (size_t)x >= json_array_size(syms))
            return fail(c, DB_ERR_INVALID, "enum index %d out of range", x);
        return set_out(c, json_incref(json_array_get(syms, (size_t)x)), out);
    }
    case JA_ARRAY: {
        json_t *arr = json_array();
        if (!arr)
            return fail(c, DB_ERR_NOMEM, "out of memory");
        avro_value_get_size(v, &n);
        for (i = 0; i < n && rc == 0; i++) {
            avro_value_t child;
            json_t *e = NULL;
            size_t old = path_push_index(c, i);
            avro_value_get_by_index(v, i, &child, NULL);
            rc = to_json(c, json_object_get(d, "items"), &child, &e);
            if (rc == 0 && json_array_append_new(arr, e) != 0)
                rc = fail(c, DB_ERR_NOMEM, "out of memory");
            path_pop(c, old);
        }
        if (rc)
            json_decref(arr);
        else
            *out = arr;
        return rc;
    }
    case JA_MAP: {
        json_t *obj = json_object();
        if (!obj)
            return fail(c, DB_ERR_NOMEM, "out of memory");
        avro_value_get_size(v, &n);
        for (i = 0; i < n && rc == 0; i++) {
            avro_value_t child;
            const char *key = NULL;
            json_t *e = NULL;
            avro_value_get_by_index(v, i, &child, &key);
            size_t old = path_push_field(c, key ? key : "?");
            rc = to_json(c, json_object_get(d, "values"), &child, &e);
            if (rc == 0 && json_object_set_new(obj, key, e) != 0)
                rc = fail(c, DB_ERR_INVALID, "map key is not valid UTF-8");
            path_pop(c, old);
        }
        if (rc)
            json_decref(obj);
        else
            *out = obj;
        return rc;
    }
    case JA_RECORD: {
        json_t *obj = json_object(), *f;
        if (!obj)
            return fail(c, DB_ERR_NOMEM, "out of memory");
        json_array_foreach(json_object_get(d, "fields"), i, f) {
            avro_value_t child;
            json_t *e = NULL;
            const char *fname = json_string_value(json_object_get(f, "name"));
            size_t old = path_push_field(c, fname);
            if (avro_value_get_by_index(v, i, &child, NULL) != 0)
                rc = fail(c, DB_ERR_INVALID, "schema mismatch: %s", avro_strerror());
            else
                rc = to_json(c, json_object_get(f, "type"), &child, &e);
            if (rc == 0 && json_object_set_new(obj, fname, e) != 0)
                rc = fail(c, DB_ERR_NOMEM, "out of memory");
            path_pop(c, old);
            if (rc)
                break;
        }
        if (rc)
            json_decref(obj);
        else
            *out = obj;
        return rc;
    }
    case JA_UNION: {
        int disc = -1;
        avro_value_t branch;
        json_t *b, *e = NULL;
        size_t null_ix = SIZE_MAX;
        if (avro_value_get_discriminant(v, &disc) != 0 || disc < 0 ||
            (size_t)disc >= json_array_size(d) ||
            avro_value_get_current_branch(v, &branch) != 0)
            return fail(c, DB_ERR_INVALID, "union has no valid branch set");
        json_array_foreach(d, i, b)
            if (json_is_string(b) && strcmp(json_string_value(b), "null") == 0)
                null_ix = i;
        if ((size_t)disc == null_ix)
            return set_out(c, json_null(), out);
        rc = to_json(c, json_array_get(d, (size_t)disc), &branch, &e);
        if (rc)
            return rc;
        if (json_array_size(d) == 2 && null_ix != SIZE_MAX) {
            *out = e;
            return 0;
        }
        *out = json_object();
        if (!*out || json_object_set_new(*out, json_avro_branch_name(c->ja, json_array_get(d, (size_t)disc)),
                                         e) != 0) {
            json_decref(*out);
            *out = NULL;
            return fail(c, DB_ERR_NOMEM, "out of memory");
        }
        return 0;
    }
    case JA_BAD:
        break;
    }
    return fail(c, DB_ERR_INVALID, "schema type not understood");
}

int json_avro_to_json(const json_avro_t *ja, avro_value_t *v, json_t **out, char *errstr,
                      size_t errstr_size)
{
    struct ctx c = {.ja = ja, .errstr = errstr, .errstr_size = errstr_size};
    return to_json(&c, ja->root, v, out);
}
