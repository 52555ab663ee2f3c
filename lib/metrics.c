/* metrics.c - declarative metrics: schemas/metrics.json compiled against the body
 * schemas into field-index paths, and evaluated on decoded bodies into facts. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "schemas_embedded.h"

#define PATH_TEXT_MAX 128
#define PATH_STEPS_MAX 12
#define METRIC_DIMS_MAX 4
#define METRIC_FIELDS_MAX 16
#define METRIC_CONDS_MAX 8
#define MS_PER_DAY 86400000LL

/* Avro types as resolved from the schema JSON (Avro-C drops logical types, so paths
 * are resolved on the .avsc text itself; field indexes are the same). */
enum { T_NULL, T_BOOL, T_INT, T_LONG, T_FLOAT, T_DOUBLE, T_STRING, T_BYTES,
       T_RECORD, T_ENUM, T_ARRAY, T_MAP, T_FIXED, T_UNION };
enum { LG_NONE, LG_DATE, LG_TS_MILLIS };
enum { ST_FIELD, ST_BRANCH, ST_ARRAY };

typedef struct step {
    uint8_t kind;      /* ST_* */
    int16_t index;     /* field index, expected union branch */
} step_t;

/* A scalar as found at the end of a path (or the items of an array leaf). */
typedef struct leaf {
    uint8_t type;      /* T_* */
    uint8_t logical;   /* LG_* */
    const char **syms; /* enum symbols or union branch names (strings of the schema JSON) */
    int nsyms;
} leaf_t;

typedef struct path {
    char text[PATH_TEXT_MAX];  /* as written, e.g. "to[].code" */
    char name[PATH_TEXT_MAX];  /* last component without "[]", e.g. "code" */
    step_t steps[PATH_STEPS_MAX];
    int nsteps;
    int expand;        /* index of the ST_ARRAY step expanded one fact per element, or -1 */
    int nullable;      /* a step may find the null branch: the value may be absent */
    leaf_t leaf;
    leaf_t items;      /* when leaf.type == T_ARRAY: the element type */
} path_t;

enum { C_NULL, C_INT, C_STR, C_BOOL, C_SYM };

typedef struct cond {
    path_t path;
    int op;            /* C_* */
    int64_t ival;      /* C_INT, C_BOOL, C_SYM (symbol or branch index) */
    char *sval;        /* C_STR */
    size_t slen;
} cond_t;

typedef struct metric {
    char id[METRICS_ID_MAX];
    char *title;
    body_type_t body;
    metrics_kind_t kind;
    metrics_window_t window;
    int64_t round;
    cond_t conds[METRIC_CONDS_MAX];
    int nconds;
    path_t time;
    path_t field;                      /* sum: the summed field; distinct: the member */
    path_t dims[METRIC_DIMS_MAX];      /* sorted by text */
    int ndims;
    path_t keep[METRIC_FIELDS_MAX];    /* list: the fields kept, in file order */
    int nkeep;
    path_t key[METRIC_FIELDS_MAX];     /* list: the fields of the stable id */
    int nkey;
    const path_t *xp;                  /* the path that expands an array, or NULL */
} metric_t;

struct metrics {
    metric_t *m;
    int n;
    int by_body[3][METRICS_MAX];       /* metric indexes per body type, file order */
    int nby[3];
    json_t *schemas[3];                /* parsed .avsc; leaf symbols point into them */
    int64_t t_lo, t_end;               /* facts' times must lie in [t_lo, t_end) ms */
};

static const char *const body_names[3] = {"document", "status", "event"};
static const char *const body_files[3] = {"document.avsc", "status.avsc", "event.avsc"};
static const char *const body_records[3] = {"Document", "Status", "Event"};
static const char *const kind_names[4] = {"count", "sum", "distinct", "list"};
static const char *const window_names[2] = {"quarter", "cumulative"};

/* Facts must lie in [2000-01-01, 2101-01-01) Vietnam time. */
#define YEAR_MIN 2000
#define YEAR_END 2101

/* ---------- schema JSON ---------- */

static const char *embedded_text(const char *file)
{
    for (const struct embedded_schema *e = embedded_schemas; e->file; e++)
        if (strcmp(e->file, file) == 0)
            return e->json;
    return NULL;
}

/* Registers every named type under its short and full name. */
static void collect_names(json_t *t, const char *ns, json_t *names)
{
    if (json_is_array(t)) {
        size_t i;
        json_t *b;
        json_array_foreach(t, i, b)
            collect_names(b, ns, names);
        return;
    }
    if (!json_is_object(t))
        return;
    const char *type = json_string_value(json_object_get(t, "type"));
    const char *name = json_string_value(json_object_get(t, "name"));
    const char *tns = json_string_value(json_object_get(t, "namespace"));
    if (!tns)
        tns = ns;
    if (type && name && (!strcmp(type, "record") || !strcmp(type, "enum") ||
                         !strcmp(type, "fixed"))) {
        const char *dot = strrchr(name, '.');
        json_object_set(names, dot ? dot + 1 : name, t);
        if (tns && !dot) {
            char full[256];
            snprintf(full, sizeof full, "%s.%s", tns, name);
            json_object_set(names, full, t);
        } else {
            json_object_set(names, name, t);
        }
    }
    if (type && !strcmp(type, "record")) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(t, "fields"), i, f)
            collect_names(json_object_get(f, "type"), tns, names);
    } else if (type && !strcmp(type, "array")) {
        collect_names(json_object_get(t, "items"), tns, names);
    } else if (type && !strcmp(type, "map")) {
        collect_names(json_object_get(t, "values"), tns, names);
    } else if (json_is_array(json_object_get(t, "type")) || json_is_object(json_object_get(t, "type"))) {
        collect_names(json_object_get(t, "type"), tns, names);
    }
}

/* Resolves a type reference to its definition and classifies it. Returns the node
 * (object, union array or primitive name string), or NULL if unknown. */
static json_t *type_resolve(json_t *t, json_t *names, int *type, int *logical)
{
    static const struct { const char *name; int type; } prim[] = {
        {"null", T_NULL}, {"boolean", T_BOOL}, {"int", T_INT}, {"long", T_LONG},
        {"float", T_FLOAT}, {"double", T_DOUBLE}, {"string", T_STRING}, {"bytes", T_BYTES},
        {"record", T_RECORD}, {"enum", T_ENUM}, {"array", T_ARRAY}, {"map", T_MAP},
        {"fixed", T_FIXED}};
    *logical = LG_NONE;
    for (int depth = 0; depth < 4 && t; depth++) {
        if (json_is_array(t)) {
            *type = T_UNION;
            return t;
        }
        const char *s = json_is_string(t) ? json_string_value(t)
                                          : json_string_value(json_object_get(t, "type"));
        if (!s) {
            if (json_is_object(t) && json_object_get(t, "type")) {
                t = json_object_get(t, "type");  /* {"type": [..]} or {"type": {..}} */
                continue;
            }
            return NULL;
        }
        for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++) {
            if (strcmp(s, prim[i].name) == 0) {
                *type = prim[i].type;
                if (json_is_object(t)) {
                    const char *lg = json_string_value(json_object_get(t, "logicalType"));
                    if (lg && !strcmp(lg, "date") && *type == T_INT)
                        *logical = LG_DATE;
                    else if (lg && !strcmp(lg, "timestamp-millis") && *type == T_LONG)
                        *logical = LG_TS_MILLIS;
                } else if (*type >= T_RECORD) {
                    return NULL;  /* a bare "record" string is not a type */
                }
                return t;
            }
        }
        t = json_object_get(names, s);  /* a named type reference */
    }
    return NULL;
}

/* The name a union branch is matched by: its short name, or its primitive type name. */
static const char *branch_name(json_t *b, json_t *names)
{
    int type, lg;
    json_t *r = type_resolve(b, names, &type, &lg);
    if (!r)
        return NULL;
    if (json_is_object(r) && json_string_value(json_object_get(r, "name"))) {
        const char *n = json_string_value(json_object_get(r, "name"));
        const char *dot = strrchr(n, '.');
        return dot ? dot + 1 : n;
    }
    if (json_is_string(r))
        return json_string_value(r);
    return json_string_value(json_object_get(r, "type"));
}

/* Fills leaf from a resolved scalar type node; symbol tables are allocated. */
static int leaf_fill(leaf_t *lf, json_t *node, int type, int logical, json_t *names)
{
    lf->type = (uint8_t)type;
    lf->logical = (uint8_t)logical;
    lf->syms = NULL;
    lf->nsyms = 0;
    if (type == T_ENUM) {
        json_t *syms = json_object_get(node, "symbols");
        lf->nsyms = (int)json_array_size(syms);
        lf->syms = calloc((size_t)lf->nsyms + 1, sizeof *lf->syms);
        if (!lf->syms)
            return DB_ERR_NOMEM;
        for (int i = 0; i < lf->nsyms; i++)
            lf->syms[i] = json_string_value(json_array_get(syms, (size_t)i));
    } else if (type == T_UNION) {
        lf->nsyms = (int)json_array_size(node);
        lf->syms = calloc((size_t)lf->nsyms + 1, sizeof *lf->syms);
        if (!lf->syms)
            return DB_ERR_NOMEM;
        for (int i = 0; i < lf->nsyms; i++)
            lf->syms[i] = branch_name(json_array_get(node, (size_t)i), names);
    }
    return 0;
}

static void path_free(path_t *p)
{
    free(p->leaf.syms);
    free(p->items.syms);
    p->leaf.syms = p->items.syms = NULL;
}

/* Index of the non-null branch of a ["null", T] union, or -1 if u is not nullable. */
static int nullable_branch(json_t *u, json_t *names)
{
    if (json_array_size(u) != 2)
        return -1;
    for (int i = 0; i < 2; i++) {
        int t, lg;
        if (type_resolve(json_array_get(u, (size_t)i), names, &t, &lg) && t == T_NULL)
            return 1 - i;
    }
    return -1;
}

/* The branch a metric's match fixes for the union at prefix ("detail": "Rating"). */
static int match_branch(json_t *match, const char *prefix, json_t *u, json_t *names)
{
    const char *want = json_string_value(json_object_get(match, prefix));
    if (!want)
        return -1;
    for (size_t i = 0; i < json_array_size(u); i++) {
        const char *bn = branch_name(json_array_get(u, i), names);
        if (bn && strcmp(bn, want) == 0)
            return (int)i;
    }
    return -1;
}

/* Compiles text ("detail.channel", "to[].code") against the record schema root into
 * steps. match fixes union branches on the way. Errors name the path and the reason. */
static int path_compile(path_t *p, const char *text, json_t *root, json_t *names,
                        json_t *match, char *err, size_t errsz)
{
    int rc = DB_ERR_CONFIG;
    char buf[PATH_TEXT_MAX], prefix[PATH_TEXT_MAX] = "";
    json_t *cur = root;
    int type, lg;

    memset(p, 0, sizeof *p);
    p->expand = -1;
    if (!text || !*text || strlen(text) >= PATH_TEXT_MAX) {
        snprintf(err, errsz, "path \"%s\" is empty or longer than %d bytes",
                 text ? text : "", PATH_TEXT_MAX - 1);
        goto out;
    }
    for (const char *c = text; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '[' || *c == ']')) {
            snprintf(err, errsz, "path \"%s\": character '%c' is not allowed "
                     "(field names, '.', and '[]' after an array field)", text, *c);
            goto out;
        }
    }
    snprintf(p->text, sizeof p->text, "%s", text);
    snprintf(buf, sizeof buf, "%s", text);
    cur = type_resolve(cur, names, &type, &lg);
    for (char *save = NULL, *comp = strtok_r(buf, ".", &save); comp;
         comp = strtok_r(NULL, ".", &save)) {
        size_t cl = strlen(comp);
        int expand = cl > 2 && strcmp(comp + cl - 2, "[]") == 0;
        if (expand)
            comp[cl - 2] = '\0';
        if (!*comp || strchr(comp, '[') || strchr(comp, ']')) {
            snprintf(err, errsz, "path \"%s\": malformed component \"%s\"", text, comp);
            goto out;
        }
        /* cross a union on the way to the next field */
        if (cur && type == T_UNION) {
            int b = nullable_branch(cur, names);
            if (b >= 0) {
                p->nullable = 1;
            } else if ((b = match_branch(match, prefix, cur, names)) < 0) {
                snprintf(err, errsz, "path \"%s\" crosses the union \"%s\": add a match "
                         "condition \"%s\": \"<record name>\" naming the branch",
                         text, prefix, prefix);
                goto out;
            }
            if (p->nsteps >= PATH_STEPS_MAX)
                goto too_deep;
            p->steps[p->nsteps++] = (step_t){ST_BRANCH, (int16_t)b};
            cur = type_resolve(json_array_get(cur, (size_t)b), names, &type, &lg);
        }
        if (!cur || type != T_RECORD) {
            snprintf(err, errsz, "path \"%s\": \"%s\" is not a record, it has no field \"%s\"",
                     text, *prefix ? prefix : "(body)", comp);
            goto out;
        }
        json_t *fields = json_object_get(cur, "fields"), *f = NULL;
        size_t fi;
        json_array_foreach(fields, fi, f) {
            if (strcmp(json_string_value(json_object_get(f, "name")), comp) == 0)
                break;
        }
        if (fi >= json_array_size(fields)) {
            snprintf(err, errsz, "path \"%s\": record %s has no field \"%s\"", text,
                     json_string_value(json_object_get(cur, "name")), comp);
            goto out;
        }
        if (p->nsteps >= PATH_STEPS_MAX)
            goto too_deep;
        p->steps[p->nsteps++] = (step_t){ST_FIELD, (int16_t)fi};
        cur = type_resolve(json_object_get(f, "type"), names, &type, &lg);
        if (!cur) {
            snprintf(err, errsz, "path \"%s\": cannot resolve the type of field \"%s\"", text, comp);
            goto out;
        }
        size_t pl = strlen(prefix);
        snprintf(prefix + pl, sizeof prefix - pl, "%s%s%s", pl ? "." : "", comp, expand ? "[]" : "");
        snprintf(p->name, sizeof p->name, "%s", comp);
        if (expand) {
            if (type != T_ARRAY) {
                snprintf(err, errsz, "path \"%s\": \"%s\" is not an array, \"[]\" does not apply",
                         text, comp);
                goto out;
            }
            if (p->expand >= 0) {
                snprintf(err, errsz, "path \"%s\" expands more than one array", text);
                goto out;
            }
            if (p->nsteps >= PATH_STEPS_MAX)
                goto too_deep;
            p->expand = p->nsteps;
            p->steps[p->nsteps++] = (step_t){ST_ARRAY, 0};
            cur = type_resolve(json_object_get(cur, "items"), names, &type, &lg);
        }
    }
    /* a nullable leaf is read through its non-null branch */
    if (type == T_UNION) {
        int b = nullable_branch(cur, names);
        if (b >= 0) {
            if (p->nsteps >= PATH_STEPS_MAX)
                goto too_deep;
            p->nullable = 1;
            p->steps[p->nsteps++] = (step_t){ST_BRANCH, (int16_t)b};
            cur = type_resolve(json_array_get(cur, (size_t)b), names, &type, &lg);
        }
    }
    if (!cur) {
        snprintf(err, errsz, "path \"%s\": cannot resolve its type", text);
        goto out;
    }
    if ((rc = leaf_fill(&p->leaf, cur, type, lg, names)) < 0)
        goto out;
    if (type == T_ARRAY) {
        json_t *it = type_resolve(json_object_get(cur, "items"), names, &type, &lg);
        if (!it) {
            snprintf(err, errsz, "path \"%s\": cannot resolve its item type", text);
            rc = DB_ERR_CONFIG;
            goto out;
        }
        if ((rc = leaf_fill(&p->items, it, type, lg, names)) < 0)
            goto out;
    }
    rc = 0;
    goto out;
too_deep:
    snprintf(err, errsz, "path \"%s\" is deeper than %d steps", text, PATH_STEPS_MAX);
    rc = DB_ERR_CONFIG;
out:
    if (rc < 0)
        path_free(p);
    return rc;
}

static int leaf_is_scalar(const leaf_t *l)
{
    return l->type == T_BOOL || l->type == T_INT || l->type == T_LONG ||
           l->type == T_STRING || l->type == T_ENUM || l->type == T_UNION;
}

/* ---------- loading ---------- */

static int entry_err(char *err, size_t errsz, const char *name, int i, const char *id,
                     const char *what)
{
    snprintf(err, errsz, "%s: metric %d (\"%s\"): %s", name, i + 1, id ? id : "?", what);
    return DB_ERR_CONFIG;
}

static int lookup_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static int cmp_path_text(const void *a, const void *b)
{
    return strcmp(((const path_t *)a)->text, ((const path_t *)b)->text);
}

/* Compiles the list of path strings arr (a string or an array of strings) into out. */
static int compile_paths(json_t *arr, const char *what, path_t *out, int max, int *n,
                         json_t *root, json_t *names, json_t *match, char *err, size_t errsz)
{
    char perr[256];
    int rc = 0;
    *n = 0;
    if (json_is_string(arr)) {
        if ((rc = path_compile(&out[0], json_string_value(arr), root, names, match, perr,
                               sizeof perr)) < 0)
            goto bad;
        *n = 1;
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > (size_t)max) {
        snprintf(err, errsz, "\"%s\" must be a path or a list of 1 to %d paths", what, max);
        return DB_ERR_CONFIG;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (!s) {
            snprintf(err, errsz, "\"%s\" item %zu is not a string", what, i + 1);
            return DB_ERR_CONFIG;
        }
        for (int j = 0; j < *n; j++) {
            if (strcmp(out[j].text, s) == 0) {
                snprintf(err, errsz, "\"%s\" lists \"%s\" twice", what, s);
                return DB_ERR_CONFIG;
            }
        }
        if ((rc = path_compile(&out[*n], s, root, names, match, perr, sizeof perr)) < 0)
            goto bad;
        (*n)++;
    }
    return 0;
bad:
    if (rc == DB_ERR_CONFIG)
        snprintf(err, errsz, "\"%s\": %s", what, perr);
    return rc;
}

static int compile_cond(cond_t *c, const char *key, json_t *val, json_t *root, json_t *names,
                        json_t *match, char *err, size_t errsz)
{
    char perr[256];
    int rc = path_compile(&c->path, key, root, names, match, perr, sizeof perr);
    if (rc < 0) {
        snprintf(err, errsz, "\"match\": %s", perr);
        return rc;
    }
    const leaf_t *l = &c->path.leaf;
    if (c->path.expand >= 0) {
        snprintf(err, errsz, "\"match\" on \"%s\": a condition cannot expand an array", key);
        return DB_ERR_CONFIG;
    }
    if (json_is_null(val)) {
        if (!c->path.nullable) {
            snprintf(err, errsz, "\"match\" on \"%s\": null given but the field is never null", key);
            return DB_ERR_CONFIG;
        }
        c->op = C_NULL;
    } else if (json_is_boolean(val) && l->type == T_BOOL) {
        c->op = C_BOOL;
        c->ival = json_is_true(val);
    } else if (json_is_integer(val) && (l->type == T_INT || l->type == T_LONG) &&
               l->logical == LG_NONE) {
        c->op = C_INT;
        c->ival = json_integer_value(val);
    } else if (json_is_string(val) && (l->type == T_ENUM || l->type == T_UNION)) {
        int s = lookup_name(l->syms, l->nsyms, json_string_value(val));
        if (s < 0) {
            char known[512] = "";
            size_t kl = 0;
            for (int i = 0; i < l->nsyms && kl < sizeof known; i++)
                kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", i ? ", " : "",
                                       l->syms[i] ? l->syms[i] : "?");
            snprintf(err, errsz, "\"match\" on \"%s\": \"%s\" is not one of %s", key,
                     json_string_value(val), known);
            return DB_ERR_CONFIG;
        }
        c->op = C_SYM;
        c->ival = s;
    } else if (json_is_string(val) && l->type == T_STRING) {
        c->op = C_STR;
        c->slen = json_string_length(val);
        if (!(c->sval = strdup(json_string_value(val))))
            return DB_ERR_NOMEM;
    } else {
        snprintf(err, errsz, "\"match\" on \"%s\": the value's JSON type does not fit the field", key);
        return DB_ERR_CONFIG;
    }
    return 0;
}

static void metric_free(metric_t *mt)
{
    free(mt->title);
    for (int i = 0; i < mt->nconds; i++) {
        path_free(&mt->conds[i].path);
        free(mt->conds[i].sval);
    }
    path_free(&mt->time);
    path_free(&mt->field);
    for (int i = 0; i < mt->ndims; i++)
        path_free(&mt->dims[i]);
    for (int i = 0; i < mt->nkeep; i++)
        path_free(&mt->keep[i]);
    for (int i = 0; i < mt->nkey; i++)
        path_free(&mt->key[i]);
}

static int id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= METRICS_ID_MAX)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
              *c == '-'))
            return 0;
    return 1;
}

/* Compiles entry e (index i) of file name into mt. */
static int metric_compile(metrics_t *ms, metric_t *mt, json_t *e, int i, const char *name,
                          char *err, size_t errsz)
{
    static const char *const keys[] = {"id", "title", "doc", "body", "match", "kind", "field",
                                       "time", "window", "dims", "round", "key"};
    char why[512];
    const char *k, *id = json_string_value(json_object_get(e, "id"));
    json_t *v, *match, *root, *names = NULL;
    int rc = DB_ERR_CONFIG, t;

    if (!json_is_object(e))
        return entry_err(err, errsz, name, i, NULL, "not a JSON object");
    if (!id || !id_valid(id))
        return entry_err(err, errsz, name, i, id, "\"id\" must be 1-63 characters of a-z 0-9 . _ -");
    snprintf(mt->id, sizeof mt->id, "%s", id);
    json_object_foreach(e, k, v) {
        if (lookup_name(keys, (int)(sizeof keys / sizeof keys[0]), k) < 0) {
            snprintf(why, sizeof why, "unknown key \"%s\" (known: id, title, doc, body, match, "
                     "kind, field, time, window, dims, round, key)", k);
            return entry_err(err, errsz, name, i, id, why);
        }
    }
    const char *title = json_string_value(json_object_get(e, "title"));
    if (!title || !*title)
        return entry_err(err, errsz, name, i, id, "\"title\" is required (a Vietnamese label)");
    if (!(mt->title = strdup(title)))
        return DB_ERR_NOMEM;
    if ((t = lookup_name(body_names, 3, json_string_value(json_object_get(e, "body")))) < 0)
        return entry_err(err, errsz, name, i, id, "\"body\" must be document, status or event");
    mt->body = (body_type_t)t;
    if ((t = lookup_name(kind_names, 4, json_string_value(json_object_get(e, "kind")))) < 0)
        return entry_err(err, errsz, name, i, id, "\"kind\" must be count, sum, distinct or list");
    mt->kind = (metrics_kind_t)t;
    if ((t = lookup_name(window_names, 2, json_string_value(json_object_get(e, "window")))) < 0)
        return entry_err(err, errsz, name, i, id, "\"window\" must be quarter or cumulative");
    mt->window = (metrics_window_t)t;
    if ((v = json_object_get(e, "round"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return entry_err(err, errsz, name, i, id, "\"round\" must be a positive integer");
        mt->round = json_integer_value(v);
    }
    match = json_object_get(e, "match");
    if (match && !json_is_object(match))
        return entry_err(err, errsz, name, i, id, "\"match\" must be an object of path: value");
    root = json_object_get(ms->schemas[mt->body], "root");
    names = json_object_get(ms->schemas[mt->body], "names");

    /* match */
    if (match) {
        if (json_object_size(match) > METRIC_CONDS_MAX)
            return entry_err(err, errsz, name, i, id, "\"match\" has too many conditions");
        json_object_foreach(match, k, v) {
            if ((rc = compile_cond(&mt->conds[mt->nconds], k, v, root, names, match, why,
                                   sizeof why)) < 0) {
                mt->nconds++;
                goto fail;
            }
            mt->nconds++;
        }
    }
    /* time */
    if (!json_is_string(json_object_get(e, "time")))
        return entry_err(err, errsz, name, i, id, "\"time\" is required: the path of the fact's own time");
    if ((rc = compile_paths(json_object_get(e, "time"), "time", &mt->time, 1, &t, root, names,
                            match, why, sizeof why)) < 0)
        goto fail;
    if (mt->time.expand >= 0 || !((mt->time.leaf.type == T_INT && mt->time.leaf.logical == LG_DATE) ||
                                  (mt->time.leaf.type == T_LONG && mt->time.leaf.logical == LG_TS_MILLIS))) {
        snprintf(why, sizeof why, "\"time\": \"%s\" is not a date or timestamp-millis field",
                 mt->time.text);
        rc = DB_ERR_CONFIG;
        goto fail;
    }
    /* field */
    v = json_object_get(e, "field");
    if (mt->kind == METRICS_COUNT && v) {
        snprintf(why, sizeof why, "\"field\" does not apply to kind count");
        rc = DB_ERR_CONFIG;
        goto fail;
    }
    if (mt->kind != METRICS_COUNT && !v) {
        snprintf(why, sizeof why, "\"field\" is required for kind %s", kind_names[mt->kind]);
        rc = DB_ERR_CONFIG;
        goto fail;
    }
    if (mt->kind == METRICS_SUM || mt->kind == METRICS_DISTINCT) {
        if (!json_is_string(v)) {
            snprintf(why, sizeof why, "\"field\" must be one path for kind %s", kind_names[mt->kind]);
            rc = DB_ERR_CONFIG;
            goto fail;
        }
        if ((rc = compile_paths(v, "field", &mt->field, 1, &t, root, names, match, why,
                                sizeof why)) < 0)
            goto fail;
        const leaf_t *l = &mt->field.leaf;
        if (mt->kind == METRICS_SUM && !((l->type == T_INT || l->type == T_LONG) && !l->logical)) {
            snprintf(why, sizeof why, "\"field\": \"%s\" is not an int or long to sum", mt->field.text);
            rc = DB_ERR_CONFIG;
            goto fail;
        }
        if (mt->kind == METRICS_DISTINCT && !leaf_is_scalar(l)) {
            snprintf(why, sizeof why, "\"field\": \"%s\" is not a scalar to count distinct values of",
                     mt->field.text);
            rc = DB_ERR_CONFIG;
            goto fail;
        }
        if (mt->field.expand >= 0)
            mt->xp = &mt->field;
    }
    if (mt->kind == METRICS_LIST) {
        if ((rc = compile_paths(v, "field", mt->keep, METRIC_FIELDS_MAX, &mt->nkeep, root, names,
                                match, why, sizeof why)) < 0)
            goto fail;
        for (int j = 0; j < mt->nkeep; j++) {
            const path_t *p = &mt->keep[j];
            int ok = p->expand < 0 && (leaf_is_scalar(&p->leaf) ||
                                       (p->leaf.type == T_ARRAY && leaf_is_scalar(&p->items)));
            for (int q = 0; ok && q < j; q++)
                ok = strcmp(mt->keep[q].name, p->name) != 0 && strcmp(p->name, "id") != 0;
            if (!ok || !strcmp(p->name, "id")) {
                snprintf(why, sizeof why, "\"field\": \"%s\" must be a scalar or an array of "
                         "scalars, without \"[]\", and its last name must be unique and not \"id\"",
                         p->text);
                rc = DB_ERR_CONFIG;
                goto fail;
            }
        }
        if (!json_object_get(e, "key")) {
            snprintf(why, sizeof why, "\"key\" is required for kind list: the paths that "
                     "identify an item (a later fact with the same key replaces it)");
            rc = DB_ERR_CONFIG;
            goto fail;
        }
        if ((rc = compile_paths(json_object_get(e, "key"), "key", mt->key, METRIC_FIELDS_MAX,
                                &mt->nkey, root, names, match, why, sizeof why)) < 0)
            goto fail;
        for (int j = 0; j < mt->nkey; j++) {
            if (mt->key[j].expand >= 0 || !leaf_is_scalar(&mt->key[j].leaf)) {
                snprintf(why, sizeof why, "\"key\": \"%s\" must be a scalar without \"[]\"",
                         mt->key[j].text);
                rc = DB_ERR_CONFIG;
                goto fail;
            }
        }
    } else if (json_object_get(e, "key")) {
        snprintf(why, sizeof why, "\"key\" applies to kind list only");
        rc = DB_ERR_CONFIG;
        goto fail;
    }
    /* dims */
    if ((v = json_object_get(e, "dims"))) {
        if (mt->kind == METRICS_DISTINCT || mt->kind == METRICS_LIST) {
            snprintf(why, sizeof why, "\"dims\" apply to kinds count and sum only");
            rc = DB_ERR_CONFIG;
            goto fail;
        }
        if (!json_is_array(v)) {
            snprintf(why, sizeof why, "\"dims\" must be a list of paths");
            rc = DB_ERR_CONFIG;
            goto fail;
        }
        if ((rc = compile_paths(v, "dims", mt->dims, METRIC_DIMS_MAX, &mt->ndims, root, names,
                                match, why, sizeof why)) < 0)
            goto fail;
        qsort(mt->dims, (size_t)mt->ndims, sizeof mt->dims[0], cmp_path_text);
        for (int j = 0; j < mt->ndims; j++) {
            if (!leaf_is_scalar(&mt->dims[j].leaf) &&
                !(mt->dims[j].leaf.type == T_INT && mt->dims[j].leaf.logical == LG_DATE)) {
                snprintf(why, sizeof why, "\"dims\": \"%s\" is not a scalar", mt->dims[j].text);
                rc = DB_ERR_CONFIG;
                goto fail;
            }
            if (mt->dims[j].expand >= 0) {
                if (mt->xp) {
                    snprintf(why, sizeof why, "\"dims\": only one path of a metric may expand an "
                             "array (\"%s\" and \"%s\")", mt->xp->text, mt->dims[j].text);
                    rc = DB_ERR_CONFIG;
                    goto fail;
                }
                mt->xp = &mt->dims[j];
            }
        }
    }
    return 0;
fail:
    if (rc == DB_ERR_CONFIG)
        entry_err(err, errsz, name, i, id, why);
    return rc;
}

static int schemas_load(metrics_t *ms, char *err, size_t errsz)
{
    for (int b = 0; b < 3; b++) {
        const char *text = embedded_text(body_files[b]);
        json_error_t jerr;
        json_t *root, *names;
        if (!text) {
            snprintf(err, errsz, "schema %s is not compiled in", body_files[b]);
            return DB_ERR_NOT_FOUND;
        }
        if (!(root = json_loads(text, 0, &jerr))) {
            snprintf(err, errsz, "schema %s:%d: %s", body_files[b], jerr.line, jerr.text);
            return DB_ERR_CONFIG;
        }
        names = json_object();
        ms->schemas[b] = json_object();
        if (!names || !ms->schemas[b]) {
            json_decref(root);
            json_decref(names);
            return DB_ERR_NOMEM;
        }
        collect_names(root, NULL, names);
        json_object_set_new(ms->schemas[b], "root", root);
        json_object_set_new(ms->schemas[b], "names", names);
    }
    return 0;
}

int metrics_load_text(const char *text, size_t len, const char *name, metrics_t **out,
                      char *errstr, size_t errstr_size)
{
    int rc = 0;
    json_error_t jerr;
    json_t *doc = NULL, *list;
    metrics_t *ms = NULL;
    const char *k;
    json_t *v;

    *out = NULL;
    if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
        snprintf(errstr, errstr_size, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if (!json_is_object(doc)) {
        snprintf(errstr, errstr_size, "%s: expected an object {\"version\": 1, \"metrics\": [...]}", name);
        rc = DB_ERR_CONFIG;
        goto out;
    }
    json_object_foreach(doc, k, v) {
        if (strcmp(k, "version") && strcmp(k, "metrics") && strcmp(k, "doc")) {
            snprintf(errstr, errstr_size, "%s: unknown top-level key \"%s\" (known: version, doc, metrics)",
                     name, k);
            rc = DB_ERR_CONFIG;
            goto out;
        }
    }
    if (json_integer_value(json_object_get(doc, "version")) != 1) {
        snprintf(errstr, errstr_size, "%s: \"version\" must be 1", name);
        rc = DB_ERR_CONFIG;
        goto out;
    }
    list = json_object_get(doc, "metrics");
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > METRICS_MAX) {
        snprintf(errstr, errstr_size, "%s: \"metrics\" must be a list of 1 to %d entries", name,
                 METRICS_MAX);
        rc = DB_ERR_CONFIG;
        goto out;
    }
    if (!(ms = calloc(1, sizeof *ms)) ||
        !(ms->m = calloc(json_array_size(list), sizeof *ms->m))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    if ((rc = schemas_load(ms, errstr, errstr_size)) < 0)
        goto out;
    ms->t_lo = quarter_start_ms(YEAR_MIN * 4);
    ms->t_end = quarter_start_ms(YEAR_END * 4);
    for (size_t i = 0; i < json_array_size(list); i++) {
        metric_t *mt = &ms->m[i];
        ms->n = (int)i + 1;
        if ((rc = metric_compile(ms, mt, json_array_get(list, i), (int)i, name, errstr,
                                 errstr_size)) < 0)
            goto out;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(ms->m[j].id, mt->id) == 0) {
                rc = entry_err(errstr, errstr_size, name, (int)i, mt->id, "duplicate id");
                goto out;
            }
        }
        ms->by_body[mt->body][ms->nby[mt->body]++] = (int)i;
    }
    *out = ms;
    ms = NULL;
out:
    if (rc == DB_ERR_NOMEM)
        snprintf(errstr, errstr_size, "%s: out of memory", name);
    metrics_destroy(ms);
    json_decref(doc);
    return rc;
}

int metrics_load(const char *path, metrics_t **out, char *errstr, size_t errstr_size)
{
    int rc;
    char *text = NULL;
    size_t len = 0;
    FILE *f = NULL;

    *out = NULL;
    if (!path) {
        const char *t = embedded_text("metrics.json");
        if (!t) {
            snprintf(errstr, errstr_size, "no compiled-in metrics.json (build with schemas/metrics.json "
                     "embedded, or give a metrics file)");
            return DB_ERR_NOT_FOUND;
        }
        return metrics_load_text(t, strlen(t), "metrics.json (compiled in)", out, errstr, errstr_size);
    }
    if (!(f = fopen(path, "rb"))) {
        snprintf(errstr, errstr_size, "cannot open metrics file %s: %s", path, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    for (;;) {
        char *nt = realloc(text, len + 65536);
        if (!nt) {
            rc = DB_ERR_NOMEM;
            snprintf(errstr, errstr_size, "%s: out of memory", path);
            goto out;
        }
        text = nt;
        size_t r = fread(text + len, 1, 65536, f);
        len += r;
        if (r < 65536)
            break;
        if (len > 16 * 1024 * 1024) {
            snprintf(errstr, errstr_size, "%s: larger than 16 MiB", path);
            rc = DB_ERR_CONFIG;
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "cannot read metrics file %s: %s", path, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    rc = metrics_load_text(text, len, path, out, errstr, errstr_size);
out:
    if (f)
        fclose(f);
    free(text);
    return rc;
}

void metrics_destroy(metrics_t *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++)
        metric_free(&m->m[i]);
    free(m->m);
    for (int b = 0; b < 3; b++)
        json_decref(m->schemas[b]);
    free(m);
}

/* ---------- accessors ---------- */

int metrics_count(const metrics_t *m)
{
    return m->n;
}

int metrics_find(const metrics_t *m, const char *id)
{
    for (int i = 0; id && i < m->n; i++)
        if (strcmp(m->m[i].id, id) == 0)
            return i;
    return -1;
}

const char *metrics_id(const metrics_t *m, int i)
{
    return m->m[i].id;
}

const char *metrics_title(const metrics_t *m, int i)
{
    return m->m[i].title;
}

metrics_kind_t metrics_kind(const metrics_t *m, int i)
{
    return m->m[i].kind;
}

metrics_window_t metrics_window(const metrics_t *m, int i)
{
    return m->m[i].window;
}

body_type_t metrics_body(const metrics_t *m, int i)
{
    return m->m[i].body;
}

int64_t metrics_round(const metrics_t *m, int i)
{
    return m->m[i].round;
}

int metrics_dim_count(const metrics_t *m, int i)
{
    return m->m[i].ndims;
}

const char *metrics_dim_name(const metrics_t *m, int i, int j)
{
    return m->m[i].dims[j].text;
}

const char *metrics_kind_name(metrics_kind_t k)
{
    return (unsigned)k < 4 ? kind_names[k] : "?";
}

const char *metrics_window_name(metrics_window_t w)
{
    return (unsigned)w < 2 ? window_names[w] : "?";
}

/* ---------- evaluation ---------- */

/* Walks p's first nsteps steps from body, taking element elem at the array step.
 * Returns 1 (value in *out), 0 (absent: another union branch, or null) or -1. */
static int path_walk(const path_t *p, int nsteps, avro_value_t *body, size_t elem,
                     avro_value_t *out)
{
    avro_value_t cur = *body, next;
    for (int i = 0; i < nsteps; i++) {
        const step_t *s = &p->steps[i];
        int d;
        switch (s->kind) {
        case ST_FIELD:
            if (avro_value_get_by_index(&cur, (size_t)s->index, &next, NULL))
                return -1;
            break;
        case ST_BRANCH:
            if (avro_value_get_discriminant(&cur, &d))
                return -1;
            if (d != s->index)
                return 0;
            if (avro_value_get_current_branch(&cur, &next))
                return -1;
            break;
        default:
            if (avro_value_get_by_index(&cur, elem, &next, NULL))
                return -1;
            break;
        }
        cur = next;
    }
    *out = cur;
    return 1;
}

static int get_int64(const leaf_t *l, avro_value_t *v, int64_t *out)
{
    int32_t i32;
    int b;
    switch (l->type) {
    case T_INT:
        if (avro_value_get_int(v, &i32))
            return -1;
        *out = i32;
        return 0;
    case T_LONG:
        return avro_value_get_long(v, out) ? -1 : 0;
    case T_ENUM:
        if (avro_value_get_enum(v, &b))
            return -1;
        *out = b;
        return 0;
    case T_UNION:
        if (avro_value_get_discriminant(v, &b))
            return -1;
        *out = b;
        return 0;
    case T_BOOL:
        if (avro_value_get_boolean(v, &b))
            return -1;
        *out = b != 0;
        return 0;
    default:
        return -1;
    }
}

/* Appends the escaped form of s[0..n) to buf at *pos. -1 if it does not fit or the
 * value is longer than METRICS_VALUE_MAX escaped. */
static int escape_append(char *buf, size_t size, size_t *pos, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t p = *pos, start = *pos;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '%' || c == ',' || c == '=' || c == '|') {
            if (p + 4 > size)
                return -1;
            buf[p++] = '%';
            buf[p++] = hex[c >> 4];
            buf[p++] = hex[c & 15];
        } else {
            if (p + 2 > size)
                return -1;
            buf[p++] = (char)c;
        }
    }
    if (p - start > METRICS_VALUE_MAX)
        return -1;
    buf[p] = '\0';
    *pos = p;
    return 0;
}

/* Formats the scalar v (of leaf type l) as text: a pointer to the bytes (string values
 * point into the Avro value, others into tmp). Returns length or -1. */
static int scalar_text(const leaf_t *l, avro_value_t *v, char *tmp, size_t tmpsz, const char **s)
{
    int64_t x;
    if (l->type == T_STRING) {
        const char *str;
        size_t sz;
        if (avro_value_get_string(v, &str, &sz))
            return -1;
        *s = str;
        return sz > 0 ? (int)(sz - 1) : 0;
    }
    if (get_int64(l, v, &x) < 0)
        return -1;
    *s = tmp;
    if (l->type == T_ENUM || l->type == T_UNION) {
        if (x < 0 || x >= l->nsyms || !l->syms[x])
            return -1;
        *s = l->syms[x];
        return (int)strlen(*s);
    }
    if (l->type == T_BOOL)
        return snprintf(tmp, tmpsz, "%s", x ? "true" : "false");
    if (l->logical == LG_DATE)
        return (int)strlen(vn_date_format((int32_t)x, tmp, tmpsz));
    if (l->logical == LG_TS_MILLIS)
        return (int)strlen(vn_time_format(x, tmp, tmpsz));
    return snprintf(tmp, tmpsz, "%" PRId64, x);
}

/* Appends the escaped text of path p (element elem) to buf; an absent value appends "". */
static int append_path_value(const path_t *p, avro_value_t *body, size_t elem, char *buf,
                             size_t size, size_t *pos)
{
    avro_value_t v;
    char tmp[64];
    const char *s;
    int r = path_walk(p, p->nsteps, body, elem, &v), n;
    if (r < 0)
        return -1;
    if (r == 0) {
        buf[*pos] = '\0';
        return 0;
    }
    if ((n = scalar_text(&p->leaf, &v, tmp, sizeof tmp, &s)) < 0)
        return -1;
    return escape_append(buf, size, pos, s, (size_t)n);
}

static int cond_eval(const cond_t *c, avro_value_t *body)
{
    avro_value_t v;
    int64_t x;
    int r = path_walk(&c->path, c->path.nsteps, body, 0, &v);
    if (r <= 0)
        return r < 0 ? -1 : c->op == C_NULL;
    switch (c->op) {
    case C_NULL:
        return 0;
    case C_STR: {
        const char *s;
        size_t sz;
        if (avro_value_get_string(&v, &s, &sz))
            return -1;
        return sz == c->slen + 1 && memcmp(s, c->sval, c->slen) == 0;
    }
    default:
        if (get_int64(&c->path.leaf, &v, &x) < 0)
            return -1;
        return x == c->ival;
    }
}

static json_t *scalar_json(const leaf_t *l, avro_value_t *v)
{
    char tmp[64];
    const char *s;
    int64_t x;
    int n;
    if ((l->type == T_INT || l->type == T_LONG) && !l->logical) {
        if (get_int64(l, v, &x) < 0)
            return NULL;
        return json_integer(x);
    }
    if (l->type == T_BOOL) {
        if (get_int64(l, v, &x) < 0)
            return NULL;
        return json_boolean(x);
    }
    if ((n = scalar_text(l, v, tmp, sizeof tmp, &s)) < 0)
        return NULL;
    return json_stringn(s, (size_t)n);
}

/* The kept fields of a list metric as a JSON object text (caller frees), or NULL. */
static char *item_json(const metric_t *mt, avro_value_t *body, const char *id)
{
    json_t *o = json_object(), *x;
    char *text = NULL;
    if (!o || json_object_set_new(o, "id", json_string(id)))
        goto out;
    for (int j = 0; j < mt->nkeep; j++) {
        const path_t *p = &mt->keep[j];
        avro_value_t v;
        int r = path_walk(p, p->nsteps, body, 0, &v);
        if (r < 0)
            goto out;
        if (r == 0) {
            x = json_null();
        } else if (p->leaf.type == T_ARRAY) {
            size_t n;
            if (avro_value_get_size(&v, &n) || !(x = json_array()))
                goto out;
            for (size_t e = 0; e < n; e++) {
                avro_value_t ev;
                if (avro_value_get_by_index(&v, e, &ev, NULL) ||
                    json_array_append_new(x, scalar_json(&p->items, &ev))) {
                    json_decref(x);
                    goto out;
                }
            }
        } else if (!(x = scalar_json(&p->leaf, &v))) {
            goto out;
        }
        if (json_object_set_new(o, p->name, x))
            goto out;
    }
    text = json_dumps(o, JSON_COMPACT);
out:
    json_decref(o);
    return text;
}

typedef struct eval_ctx {
    avro_value_t *body;
    metrics_fact_cb cb;    /* NULL: check only */
    void *opaque;
    char *err;
    size_t errsz;
    int64_t time_ms;       /* the current metric's fact time */
} eval_ctx_t;

static int fail(eval_ctx_t *cx, const metric_t *mt, const char *what, const char *path)
{
    snprintf(cx->err, cx->errsz, "metric \"%s\": %s%s%s", mt->id, what, path ? " at " : "",
             path ? path : "");
    return DB_ERR_INVALID;
}

/* Checks (cx->cb NULL) or delivers the facts of metric mi whose conditions held and
 * whose time fell in quarter q. */
static int metric_facts(const metrics_t *ms, int mi, quarter_t q, eval_ctx_t *cx)
{
    const metric_t *mt = &ms->m[mi];
    char dims[METRICS_SLOT_MAX], member[METRICS_SLOT_MAX];
    metrics_fact_t f = {.metric = mi, .quarter = q, .dims = dims, .delta = 1};
    size_t n = 1;
    avro_value_t v;
    int r, rc = 0;

    if (mt->xp) {
        if ((r = path_walk(mt->xp, mt->xp->expand, cx->body, 0, &v)) < 0 ||
            (r == 1 && avro_value_get_size(&v, &n)))
            return fail(cx, mt, "cannot read the array", mt->xp->text);
        if (r == 0)
            return 0;
    }
    dims[0] = '\0';
    for (size_t e = 0; e < n; e++) {
        if (mt->kind == METRICS_SUM || mt->kind == METRICS_DISTINCT) {
            if ((r = path_walk(&mt->field, mt->field.nsteps, cx->body, e, &v)) < 0)
                return fail(cx, mt, "cannot read the field", mt->field.text);
            if (r == 0)
                continue;  /* null: no fact */
        }
        if (mt->kind == METRICS_SUM) {
            if (get_int64(&mt->field.leaf, &v, &f.delta) < 0)
                return fail(cx, mt, "cannot read the field", mt->field.text);
            if (f.delta < 0)
                return fail(cx, mt, "negative value to sum", mt->field.text);
        } else if (mt->kind == METRICS_DISTINCT) {
            char tmp[64];
            const char *s;
            size_t pos = 0;
            int len = scalar_text(&mt->field.leaf, &v, tmp, sizeof tmp, &s);
            if (len < 0)
                return fail(cx, mt, "cannot read the field", mt->field.text);
            if (len == 0)
                continue;  /* no member */
            if (escape_append(member, sizeof member, &pos, s, (size_t)len) < 0)
                return fail(cx, mt, "value longer than 256 bytes", mt->field.text);
            f.member = member;
        }
        size_t pos = 0;
        for (int j = 0; j < mt->ndims; j++) {
            const path_t *p = &mt->dims[j];
            size_t nl = strlen(p->text);
            if (pos + nl + 2 >= sizeof dims)
                return fail(cx, mt, "dimensions too long", p->text);
            if (j)
                dims[pos++] = ',';
            memcpy(dims + pos, p->text, nl);
            pos += nl;
            dims[pos++] = '=';
            if (append_path_value(p, cx->body, e, dims, sizeof dims, &pos) < 0)
                return fail(cx, mt, "dimension value unreadable or longer than 256 bytes", p->text);
        }
        if (mt->kind == METRICS_LIST) {
            pos = 0;
            for (int j = 0; j < mt->nkey; j++) {
                if (j)
                    member[pos++] = ',';
                if (append_path_value(&mt->key[j], cx->body, 0, member, sizeof member - 1, &pos) < 0)
                    return fail(cx, mt, "item key unreadable or longer than 256 bytes",
                                mt->key[j].text);
            }
            if (pos == 0)
                return fail(cx, mt, "empty item key", mt->key[0].text);
            f.item_id = member;
            f.delta = cx->time_ms;
        }
        if (!cx->cb)
            continue;
        if (mt->kind == METRICS_LIST) {
            char *item = item_json(mt, cx->body, member);
            if (!item) {
                snprintf(cx->err, cx->errsz, "metric \"%s\": cannot build the list item", mt->id);
                return DB_ERR_NOMEM;
            }
            f.item = item;
            rc = cx->cb(&f, cx->opaque);
            free(item);
        } else {
            rc = cx->cb(&f, cx->opaque);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* The fact time of metric mt in ms: 1 (in *ms), 0 (absent), or DB_ERR_INVALID. */
static int fact_time(const metrics_t *ms, const metric_t *mt, eval_ctx_t *cx, int64_t *t)
{
    avro_value_t v;
    int64_t x;
    char buf[32];
    int r = path_walk(&mt->time, mt->time.nsteps, cx->body, 0, &v);
    if (r <= 0)
        return r < 0 ? fail(cx, mt, "cannot read the time", mt->time.text) : 0;
    if (get_int64(&mt->time.leaf, &v, &x) < 0)
        return fail(cx, mt, "cannot read the time", mt->time.text);
    if (mt->time.leaf.logical == LG_DATE)
        x = x * MS_PER_DAY - VN_UTC_OFFSET_MS;  /* midnight of that Vietnam day */
    if (x < ms->t_lo || x >= ms->t_end) {
        snprintf(buf, sizeof buf, "%" PRId64, x);
        snprintf(cx->err, cx->errsz, "metric \"%s\": time %s at %s (%s ms) is outside %d..%d",
                 mt->id, mt->time.leaf.logical == LG_DATE ? "date" : "timestamp",
                 mt->time.text, buf, YEAR_MIN, YEAR_END - 1);
        return DB_ERR_INVALID;
    }
    *t = x;
    return 1;
}

int metrics_eval(const metrics_t *m, body_type_t bt, avro_value_t *body,
                 metrics_fact_cb cb, void *opaque, char *errstr, size_t errstr_size)
{
    eval_ctx_t cx = {.body = body, .err = errstr, .errsz = errstr_size};
    int8_t matched[METRICS_MAX];
    int64_t times[METRICS_MAX];
    avro_schema_t schema;
    const char *sname;
    int rc = 0;

    if ((unsigned)bt > BODY_EVENT) {
        snprintf(errstr, errstr_size, "unknown body type %d", (int)bt);
        return DB_ERR_INVALID;
    }
    schema = avro_value_get_schema(body);
    sname = schema ? avro_schema_name(schema) : NULL;
    if (!sname || strcmp(sname, body_records[bt]) != 0) {
        snprintf(errstr, errstr_size, "body is a %s record, expected %s",
                 sname ? sname : "non-record", body_records[bt]);
        return DB_ERR_INVALID;
    }
    /* Pass 1 checks every fact, so a message is either counted whole or rejected. */
    for (int k = 0; k < m->nby[bt]; k++) {
        int mi = m->by_body[bt][k], r = 1;
        const metric_t *mt = &m->m[mi];
        matched[k] = 0;
        for (int c = 0; c < mt->nconds && r == 1; c++) {
            if ((r = cond_eval(&mt->conds[c], body)) < 0) {
                rc = fail(&cx, mt, "cannot read the match field", mt->conds[c].path.text);
                goto out;
            }
        }
        if (r != 1)
            continue;
        if ((r = fact_time(m, mt, &cx, &times[k])) < 0) {
            rc = r;
            goto out;
        }
        if (r == 0)
            continue;
        cx.time_ms = times[k];
        if ((rc = metric_facts(m, mi, quarter_of_ms(times[k]), &cx)) < 0)
            goto out;
        matched[k] = 1;
    }
    if (!cb)
        goto out;
    cx.cb = cb;
    cx.opaque = opaque;
    for (int k = 0; k < m->nby[bt]; k++) {
        if (!matched[k])
            continue;
        cx.time_ms = times[k];
        if ((rc = metric_facts(m, m->by_body[bt][k], quarter_of_ms(times[k]), &cx)) != 0)
            goto out;
    }
out:
    return rc;
}

static int hexval(char h)
{
    return h >= '0' && h <= '9' ? h - '0' : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
}

int metrics_unescape(const char *s, size_t len, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        buf[o++] = (char)c;
    }
    if (o >= size)
        return -1;
    buf[o] = '\0';
    return (int)o;
}
