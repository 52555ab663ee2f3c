/* units.c - the unit registry: loads the JSON list, finds units by code. */
#include "units.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strindex.h"
#include "schemas_embedded.h"

#define UNITS_EMBEDDED_FILE "units-hcmc.json"

struct units {
    unit_t *list;         /* file order */
    size_t n;
    strindex_t *index;    /* code -> index in list: a lookup per checked code */
    char *strings;        /* one arena for every code, name and abbr */
};

static const char *kind_names[] = {"city", "department", "district", "ward", "press",
                                   "corporation"};

const char *unit_kind_name(unit_kind_t k)
{
    if ((unsigned)k < sizeof kind_names / sizeof kind_names[0])
        return kind_names[k];
    return "unknown";
}

static int digits_n(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int unit_code_valid(const char *c)
{
    if (!c || strlen(c) != 13)
        return 0;
    return digits_n(c, 3) && c[3] == '.' && digits_n(c + 4, 2) && c[6] == '.' &&
           digits_n(c + 7, 2) && c[9] == '.' && c[10] >= 'A' && c[10] <= 'Z' &&
           digits_n(c + 11, 2);
}

void units_destroy(units_t *u)
{
    if (!u)
        return;
    free(u->list);
    free(u->strings);
    strindex_destroy(u->index);
    free(u);
}

/* Copies s into the arena at *pos and returns the copy. */
static const char *arena_put(char *arena, size_t *pos, const char *s)
{
    size_t l = strlen(s) + 1;
    char *p = arena + *pos;
    memcpy(p, s, l);
    *pos += l;
    return p;
}

int units_parse(const char *text, size_t len, const char *origin, units_t **out,
                char *errstr, size_t errstr_size)
{
    int rc = 0;
    json_error_t jerr;
    json_t *root = NULL, *arr;
    units_t *u = NULL;
    size_t i, bytes = 0, pos = 0;

    *out = NULL;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "%s:%d:%d: %s", origin, jerr.line, jerr.column,
                 jerr.text);
        rc = DB_ERR_INVALID;
        goto out;
    }
    arr = json_object_get(root, "units");
    if (!json_is_array(arr)) {
        snprintf(errstr, errstr_size, "%s: no \"units\" array", origin);
        rc = DB_ERR_INVALID;
        goto out;
    }
    u = calloc(1, sizeof *u);
    if (!u || !(u->list = calloc(json_array_size(arr) + 1, sizeof *u->list)) ||
        !(u->index = strindex_new())) {
        rc = DB_ERR_NOMEM;
        snprintf(errstr, errstr_size, "%s: out of memory", origin);
        goto out;
    }
    /* First pass: validate and size the string arena. */
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *abbr = json_object_get(e, "abbr");
        size_t k;
        if (!json_is_object(e) || !code || !name || !kind || (abbr && !json_is_string(abbr))) {
            snprintf(errstr, errstr_size,
                     "%s: units[%zu]: expected an object with string code, name, kind "
                     "(and optional abbr)", origin, i);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (!unit_code_valid(code)) {
            snprintf(errstr, errstr_size,
                     "%s: units[%zu].code: \"%s\" is not an organisation code like "
                     "000.00.11.H29", origin, i, code);
            rc = DB_ERR_INVALID;
            goto out;
        }
        for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
            if (strcmp(kind, kind_names[k]) == 0)
                break;
        if (k == sizeof kind_names / sizeof kind_names[0]) {
            snprintf(errstr, errstr_size,
                     "%s: units[%zu].kind: unknown kind \"%s\" (expected city, department, "
                     "district, ward, press or corporation)", origin, i, kind);
            rc = DB_ERR_INVALID;
            goto out;
        }
        u->list[i].kind = (unit_kind_t)k;
        bytes += strlen(code) + strlen(name) + (abbr ? json_string_length(abbr) : 0) + 3;
    }
    u->strings = malloc(bytes + 1);
    if (!u->strings) {
        rc = DB_ERR_NOMEM;
        snprintf(errstr, errstr_size, "%s: out of memory", origin);
        goto out;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        json_t *abbr = json_object_get(e, "abbr");
        u->list[i].code = arena_put(u->strings, &pos, json_string_value(json_object_get(e, "code")));
        u->list[i].name = arena_put(u->strings, &pos, json_string_value(json_object_get(e, "name")));
        u->list[i].abbr = arena_put(u->strings, &pos, abbr ? json_string_value(abbr) : "");
    }
    u->n = i;
    for (i = 0; i < u->n; i++) {
        const char *code = u->list[i].code;
        if (strindex_get(u->index, code) >= 0) {
            snprintf(errstr, errstr_size, "%s: duplicate unit code \"%s\"", origin, code);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (strindex_put(u->index, code, (long)i)) {
            rc = DB_ERR_NOMEM;
            snprintf(errstr, errstr_size, "%s: out of memory", origin);
            goto out;
        }
    }
    *out = u;
    u = NULL;
out:
    units_destroy(u);
    json_decref(root);
    return rc;
}

int units_load(const char *path, units_t **out, char *errstr, size_t errstr_size)
{
    int rc = 0;
    FILE *f = NULL;
    char *buf = NULL;
    long len;

    *out = NULL;
    if (!path) {
        for (const struct embedded_schema *s = embedded_schemas; s->file; s++)
            if (strcmp(s->file, UNITS_EMBEDDED_FILE) == 0)
                return units_parse(s->json, strlen(s->json), "embedded " UNITS_EMBEDDED_FILE,
                                   out, errstr, errstr_size);
        snprintf(errstr, errstr_size,
                 "no embedded %s in this binary (build with schemas/*.json embedded)",
                 UNITS_EMBEDDED_FILE);
        return DB_ERR_NOT_FOUND;
    }
    f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot read: %m", path);
        rc = DB_ERR_IO;
        goto out;
    }
    if (len > 16L * 1024 * 1024) {
        snprintf(errstr, errstr_size, "%s: %ld bytes, over the 16 MiB registry cap", path, len);
        rc = DB_ERR_TOO_LARGE;
        goto out;
    }
    buf = malloc((size_t)len + 1);
    if (!buf) {
        rc = DB_ERR_NOMEM;
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        snprintf(errstr, errstr_size, "%s: short read: %m", path);
        rc = DB_ERR_IO;
        goto out;
    }
    rc = units_parse(buf, (size_t)len, path, out, errstr, errstr_size);
out:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

const unit_t *units_find(const units_t *u, const char *code)
{
    long i;
    if (!u || !code || (i = strindex_get(u->index, code)) < 0)
        return NULL;
    return &u->list[i];
}

size_t units_count(const units_t *u)
{
    return u ? u->n : 0;
}

const unit_t *units_at(const units_t *u, size_t i)
{
    return u && i < u->n ? &u->list[i] : NULL;
}
