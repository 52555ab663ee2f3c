/* schema.c - Avro Parsing Canonical Form, CRC-64-AVRO fingerprints, and the registry
 * of the wire schemas compiled into the binary. */
#include "schema.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "schemas_embedded.h"

#define PCF_MAX_BYTES (1024 * 1024)  /* no wire schema comes near this */
#define PCF_MAX_DEPTH 64             /* nesting of JSON schema objects */
#define REGISTRY_MAX SCHEMAS_MAX

static void seterr(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (errstr == NULL || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* ---- CRC-64-AVRO ---------------------------------------------------------------- */

#define CRC64_AVRO_EMPTY 0xc15d213aa4d7a795ULL

static uint64_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (CRC64_AVRO_EMPTY & (0 - (fp & 1)));
        crc_table[i] = fp;
    }
}

uint64_t schema_crc64_avro(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t fp = CRC64_AVRO_EMPTY;
    pthread_once(&crc_once, crc_table_init);
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ crc_table[(fp ^ p[i]) & 0xff];
    return fp;
}

void schema_fp_bytes(uint64_t fp, uint8_t out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(fp >> (8 * i));
}

/* ---- Parsing Canonical Form ------------------------------------------------------ */

/* Output text plus the named types already written (a later use is the bare fullname). */
typedef struct pcf {
    char *buf;
    size_t len, cap;
    char **names;
    size_t n_names, cap_names;
    char *errstr;
    size_t errstr_size;
} pcf_t;

static const char *const primitives[] = {"null", "boolean", "int", "long",
                                         "float", "double", "bytes", "string"};

static bool is_primitive(const char *s)
{
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (strcmp(s, primitives[i]) == 0)
            return true;
    return false;
}

static int put(pcf_t *p, const char *s, size_t n)
{
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->len + n + 1)
            cap *= 2;
        if (cap > PCF_MAX_BYTES) {
            seterr(p->errstr, p->errstr_size, "schema: canonical form over %d bytes",
                   PCF_MAX_BYTES);
            return DB_ERR_INVALID;
        }
        char *nb = realloc(p->buf, cap);
        if (nb == NULL)
            return DB_ERR_NOMEM;
        p->buf = nb;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
    return 0;
}

static int puts_(pcf_t *p, const char *s)
{
    return put(p, s, strlen(s));
}

/* Writes "s" as a JSON string. Names and symbols are checked against the Avro name
 * grammar before they get here, so no character needs escaping. */
static int put_quoted(pcf_t *p, const char *s)
{
    int rc = put(p, "\"", 1);
    if (rc == 0)
        rc = puts_(p, s);
    if (rc == 0)
        rc = put(p, "\"", 1);
    return rc;
}

/* Avro name grammar: [A-Za-z_][A-Za-z0-9_]*; with dots allowed between parts when
 * dotted is true (fullnames and namespaces). */
static bool valid_name(const char *s, bool dotted)
{
    bool start = true;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        char c = *s;
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (dotted && c == '.' && !start && s[1] != '\0') {
            start = true;
            continue;
        }
        if (!(alpha || (!start && c >= '0' && c <= '9')))
            return false;
        start = false;
    }
    return true;
}

static bool name_seen(const pcf_t *p, const char *full)
{
    for (size_t i = 0; i < p->n_names; i++)
        if (strcmp(p->names[i], full) == 0)
            return true;
    return false;
}

static int name_add(pcf_t *p, const char *full)
{
    if (p->n_names == p->cap_names) {
        size_t cap = p->cap_names ? p->cap_names * 2 : 16;
        char **nn = realloc(p->names, cap * sizeof *nn);
        if (nn == NULL)
            return DB_ERR_NOMEM;
        p->names = nn;
        p->cap_names = cap;
    }
    p->names[p->n_names] = strdup(full);
    if (p->names[p->n_names] == NULL)
        return DB_ERR_NOMEM;
    p->n_names++;
    return 0;
}

/* Joins ns and name into a malloc'd fullname ("name" when ns is empty). */
static char *join_name(const char *ns, const char *name)
{
    size_t nl = strlen(ns), ml = strlen(name);
    char *s = malloc(nl + ml + 2);
    if (s == NULL)
        return NULL;
    if (nl > 0) {
        memcpy(s, ns, nl);
        s[nl++] = '.';
    }
    memcpy(s + nl, name, ml + 1);
    return s;
}

static int pcf_schema(pcf_t *p, const json_t *j, const char *ns, int depth);

/* A type given by name: a primitive, or a reference to a named type defined before. */
static int pcf_type_name(pcf_t *p, const char *name, const char *ns)
{
    int rc = 0;
    char *full = NULL;
    if (is_primitive(name))
        return put_quoted(p, name);
    if (!valid_name(name, true)) {
        seterr(p->errstr, p->errstr_size, "schema: '%s' is not a valid type name", name);
        return DB_ERR_INVALID;
    }
    /* A short name is looked up in the enclosing namespace first, then the null one. */
    if (strchr(name, '.') == NULL && ns[0] != '\0') {
        full = join_name(ns, name);
        if (full == NULL)
            return DB_ERR_NOMEM;
        if (!name_seen(p, full)) {
            free(full);
            full = NULL;
        }
    }
    if (full == NULL && name_seen(p, name))
        full = strdup(name);
    if (full == NULL) {
        seterr(p->errstr, p->errstr_size, "schema: unknown type '%s'%s%s", name,
               ns[0] ? " in namespace " : "", ns);
        return DB_ERR_INVALID;
    }
    rc = put_quoted(p, full);
    free(full);
    return rc;
}

static const char *get_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* record, enum, fixed: fullname from name/namespace/enclosing namespace; a second use
 * of a name already written is just its quoted fullname. */
static int pcf_named(pcf_t *p, const json_t *j, const char *type, const char *ns, int depth)
{
    int rc = 0;
    char *full = NULL, *inner_ns = NULL;
    const char *name = get_str(j, "name");
    const json_t *jns = json_object_get(j, "namespace");

    if (name == NULL || !valid_name(name, true)) {
        seterr(p->errstr, p->errstr_size, "schema: %s without a valid \"name\"%s%s%s", type,
               name ? " ('" : "", name ? name : "", name ? "')" : "");
        return DB_ERR_INVALID;
    }
    if (jns != NULL && !json_is_null(jns) && !json_is_string(jns)) {
        seterr(p->errstr, p->errstr_size, "schema: %s '%s': \"namespace\" is not a string",
               type, name);
        return DB_ERR_INVALID;
    }
    if (strchr(name, '.') != NULL) {
        full = strdup(name);
    } else {
        const char *space = json_is_string(jns) ? json_string_value(jns) : ns;
        if (space[0] != '\0' && !valid_name(space, true)) {
            seterr(p->errstr, p->errstr_size, "schema: %s '%s': bad namespace '%s'", type, name,
                   space);
            return DB_ERR_INVALID;
        }
        full = join_name(space, name);
    }
    if (full == NULL)
        return DB_ERR_NOMEM;
    if (name_seen(p, full)) {
        seterr(p->errstr, p->errstr_size, "schema: %s '%s' defined twice", type, full);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if ((rc = name_add(p, full)) != 0)
        goto out;
    /* Types nested inside take the namespace of this fullname. */
    inner_ns = strdup(full);
    if (inner_ns == NULL) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    char *dot = strrchr(inner_ns, '.');
    if (dot != NULL)
        *dot = '\0';
    else
        inner_ns[0] = '\0';

    if ((rc = puts_(p, "{\"name\":")) || (rc = put_quoted(p, full)) ||
        (rc = puts_(p, ",\"type\":")) || (rc = put_quoted(p, type)))
        goto out;

    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        const json_t *fields = json_object_get(j, "fields");
        size_t i;
        const json_t *f;
        if (!json_is_array(fields)) {
            seterr(p->errstr, p->errstr_size, "schema: record '%s' has no \"fields\" array", full);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if ((rc = puts_(p, ",\"fields\":[")))
            goto out;
        json_array_foreach(fields, i, f) {
            const char *fname = get_str(f, "name");
            const json_t *ftype = json_object_get(f, "type");
            if (fname == NULL || !valid_name(fname, false) || ftype == NULL) {
                seterr(p->errstr, p->errstr_size,
                       "schema: record '%s' field %zu needs a valid \"name\" and a \"type\"",
                       full, i);
                rc = DB_ERR_INVALID;
                goto out;
            }
            if ((rc = puts_(p, i ? ",{\"name\":" : "{\"name\":")) || (rc = put_quoted(p, fname)) ||
                (rc = puts_(p, ",\"type\":")))
                goto out;
            if ((rc = pcf_schema(p, ftype, inner_ns, depth + 1)) || (rc = put(p, "}", 1)))
                goto out;
        }
        rc = put(p, "]", 1);
    } else if (strcmp(type, "enum") == 0) {
        const json_t *syms = json_object_get(j, "symbols");
        size_t i;
        const json_t *s;
        if (!json_is_array(syms)) {
            seterr(p->errstr, p->errstr_size, "schema: enum '%s' has no \"symbols\" array", full);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if ((rc = puts_(p, ",\"symbols\":[")))
            goto out;
        json_array_foreach(syms, i, s) {
            if (!json_is_string(s) || !valid_name(json_string_value(s), false)) {
                seterr(p->errstr, p->errstr_size, "schema: enum '%s' symbol %zu is not a valid name",
                       full, i);
                rc = DB_ERR_INVALID;
                goto out;
            }
            if ((i && (rc = put(p, ",", 1))) || (rc = put_quoted(p, json_string_value(s))))
                goto out;
        }
        rc = put(p, "]", 1);
    } else { /* fixed */
        const json_t *size = json_object_get(j, "size");
        long long n = -1;
        char num[32];
        if (json_is_integer(size)) {
            n = json_integer_value(size);
        } else if (json_is_string(size)) { /* [INTEGERS]: "size":"015" -> 15 */
            const char *s = json_string_value(size);
            char *end;
            n = (*s >= '0' && *s <= '9') ? strtoll(s, &end, 10) : -1;
            if (n >= 0 && *end != '\0')
                n = -1;
        }
        if (n < 0 || n > INT32_MAX) {
            seterr(p->errstr, p->errstr_size, "schema: fixed '%s' needs a non-negative \"size\"",
                   full);
            rc = DB_ERR_INVALID;
            goto out;
        }
        snprintf(num, sizeof num, ",\"size\":%lld", n);
        rc = puts_(p, num);
    }
    if (rc == 0)
        rc = put(p, "}", 1);
out:
    free(full);
    free(inner_ns);
    return rc;
}

static int pcf_schema(pcf_t *p, const json_t *j, const char *ns, int depth)
{
    int rc = 0;
    if (depth > PCF_MAX_DEPTH) {
        seterr(p->errstr, p->errstr_size, "schema: nested deeper than %d", PCF_MAX_DEPTH);
        return DB_ERR_INVALID;
    }
    if (json_is_string(j))
        return pcf_type_name(p, json_string_value(j), ns);
    if (json_is_array(j)) { /* union */
        size_t i;
        const json_t *b;
        if ((rc = put(p, "[", 1)))
            return rc;
        json_array_foreach(j, i, b) {
            if ((i && (rc = put(p, ",", 1))) || (rc = pcf_schema(p, b, ns, depth + 1)))
                return rc;
        }
        return put(p, "]", 1);
    }
    if (!json_is_object(j)) {
        seterr(p->errstr, p->errstr_size, "schema: a type must be a string, array or object");
        return DB_ERR_INVALID;
    }
    const json_t *jt = json_object_get(j, "type");
    if (json_is_object(jt) || json_is_array(jt)) /* {"type": {...}} wraps a type */
        return pcf_schema(p, jt, ns, depth + 1);
    if (!json_is_string(jt)) {
        seterr(p->errstr, p->errstr_size, "schema: object without a \"type\" string");
        return DB_ERR_INVALID;
    }
    const char *t = json_string_value(jt);
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0 || strcmp(t, "enum") == 0 ||
        strcmp(t, "fixed") == 0)
        return pcf_named(p, j, strcmp(t, "error") == 0 ? "record" : t, ns, depth);
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
        bool arr = t[0] == 'a';
        const json_t *inner = json_object_get(j, arr ? "items" : "values");
        if (inner == NULL) {
            seterr(p->errstr, p->errstr_size, "schema: %s without \"%s\"", t,
                   arr ? "items" : "values");
            return DB_ERR_INVALID;
        }
        if ((rc = puts_(p, arr ? "{\"type\":\"array\",\"items\":" : "{\"type\":\"map\",\"values\":")) ||
            (rc = pcf_schema(p, inner, ns, depth + 1)))
            return rc;
        return put(p, "}", 1);
    }
    /* A primitive (logicalType and other attributes are stripped) or a named reference. */
    return pcf_type_name(p, t, ns);
}

int schema_pcf(const char *schema_json, char **out, char *errstr, size_t errstr_size)
{
    int rc = 0;
    json_error_t jerr;
    pcf_t p = {.errstr = errstr, .errstr_size = errstr_size};
    json_t *j = json_loads(schema_json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);

    *out = NULL;
    if (j == NULL) {
        seterr(errstr, errstr_size, "schema: not JSON: %s at line %d column %d", jerr.text,
               jerr.line, jerr.column);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if ((rc = pcf_schema(&p, j, "", 0)) != 0)
        goto out;
    if (p.buf == NULL && (rc = put(&p, "", 0)) != 0)
        goto out;
    *out = p.buf;
    p.buf = NULL;
out:
    if (rc == DB_ERR_NOMEM)
        seterr(errstr, errstr_size, "schema: out of memory computing the canonical form");
    free(p.buf);
    for (size_t i = 0; i < p.n_names; i++)
        free(p.names[i]);
    free(p.names);
    json_decref(j);
    return rc;
}

int schema_fingerprint(const char *schema_json, uint8_t fp[8], char *errstr, size_t errstr_size)
{
    char *pcf = NULL;
    int rc = schema_pcf(schema_json, &pcf, errstr, errstr_size);
    if (rc == 0)
        schema_fp_bytes(schema_crc64_avro(pcf, strlen(pcf)), fp);
    free(pcf);
    return rc;
}

/* ---- registry -------------------------------------------------------------------- */

typedef struct entry {
    schema_info_t info;
    char *file;
    char *fullname;
} entry_t;

static entry_t registry[REGISTRY_MAX];
/* Entries are written before registry_n publishes them, so a lookup racing with
 * schemas_init sees only complete entries. */
static _Atomic size_t registry_n;
static int registry_ready;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static void entry_free(entry_t *e)
{
    if (e->info.schema != NULL)
        avro_schema_decref(e->info.schema);
    json_decref(e->info.json);
    free(e->file);
    free(e->fullname);
    memset(e, 0, sizeof *e);
}

int schemas_register(const char *file, const char *json, char *errstr, size_t errstr_size)
{
    int rc = 0;
    entry_t e = {0};
    uint8_t fp[8];
    json_error_t jerr;
    char why[256];

    if ((rc = schema_fingerprint(json, fp, why, sizeof why)) != 0) {
        seterr(errstr, errstr_size, "%s: %s", file, why);
        goto out;
    }
    if (schemas_lookup_fingerprint(fp) != NULL)
        goto out; /* the same version twice: nothing to add */
    if (registry_n == REGISTRY_MAX) {
        seterr(errstr, errstr_size, "%s: schema registry full (%d versions)", file, REGISTRY_MAX);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (avro_schema_from_json_length(json, strlen(json), &e.info.schema) != 0) {
        seterr(errstr, errstr_size, "%s: Avro-C rejects the schema: %s", file, avro_strerror());
        rc = DB_ERR_INVALID;
        goto out;
    }
    e.info.json = json_loads(json, JSON_DECODE_ANY, &jerr);
    const char *name = avro_schema_name(e.info.schema);
    const char *space = avro_schema_namespace(e.info.schema);
    if (e.info.json == NULL || name == NULL) {
        seterr(errstr, errstr_size, "%s: top-level schema must be a named type", file);
        rc = DB_ERR_INVALID;
        goto out;
    }
    e.fullname = join_name(space ? space : "", name);
    e.file = strdup(file);
    if (e.fullname == NULL || e.file == NULL) {
        seterr(errstr, errstr_size, "%s: out of memory", file);
        rc = DB_ERR_NOMEM;
        goto out;
    }
    e.info.file = e.file;
    e.info.fullname = e.fullname;
    memcpy(e.info.fingerprint, fp, 8);
    e.info.current = strncmp(file, "history/", 8) != 0;
    if (e.info.current && schemas_lookup_name(e.fullname) != NULL) {
        seterr(errstr, errstr_size, "%s: a second current version of %s", file, e.fullname);
        rc = DB_ERR_INVALID;
        goto out;
    }
    registry[registry_n] = e;
    atomic_store(&registry_n, registry_n + 1);
    memset(&e, 0, sizeof e);
out:
    entry_free(&e);
    return rc;
}

int schemas_init(char *errstr, size_t errstr_size)
{
    int rc = 0;
    pthread_mutex_lock(&registry_lock);
    if (registry_ready)
        goto out;
    for (const struct embedded_schema *s = embedded_schemas; s->file != NULL; s++) {
        size_t n = strlen(s->file);
        if (n < 5 || strcmp(s->file + n - 5, ".avsc") != 0)
            continue; /* other embedded files (metrics definitions...) are not Avro */
        if ((rc = schemas_register(s->file, s->json, errstr, errstr_size)) != 0)
            goto out;
    }
    registry_ready = 1;
out:
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void schemas_term(void)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_n; i++)
        entry_free(&registry[i]);
    registry_n = 0;
    registry_ready = 0;
    pthread_mutex_unlock(&registry_lock);
}

const schema_info_t *schemas_lookup_fingerprint(const uint8_t fp[8])
{
    for (size_t i = 0; i < registry_n; i++)
        if (memcmp(registry[i].info.fingerprint, fp, 8) == 0)
            return &registry[i].info;
    return NULL;
}

const schema_info_t *schemas_lookup_name(const char *fullname)
{
    for (size_t i = 0; i < registry_n; i++)
        if (registry[i].info.current && strcmp(registry[i].fullname, fullname) == 0)
            return &registry[i].info;
    return NULL;
}

const schema_info_t *schemas_at(size_t i)
{
    return i < registry_n ? &registry[i].info : NULL;
}

avro_schema_t schemas_get(const char *fullname)
{
    const schema_info_t *si = schemas_lookup_name(fullname);
    return si ? si->schema : NULL;
}

int schemas_fingerprint(const char *fullname, uint8_t fp[8])
{
    const schema_info_t *si = schemas_lookup_name(fullname);
    if (si == NULL)
        return DB_ERR_NOT_FOUND;
    memcpy(fp, si->fingerprint, 8);
    return 0;
}

const char *schemas_name_by_fingerprint(const uint8_t fp[8])
{
    const schema_info_t *si = schemas_lookup_fingerprint(fp);
    return si ? si->fullname : NULL;
}
