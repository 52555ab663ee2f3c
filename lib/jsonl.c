/* jsonl.c - parses JSON Lines input lines into a body type and a JSON record. */
#include "jsonl.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "json_parse.h"

static const char *type_names[] = {"document", "status", "event"};

const char *jsonl_type_name(body_type_t t)
{
    return (unsigned)t <= BODY_EVENT ? type_names[t] : "unknown";
}

int jsonl_leading_type(const char *line, size_t len)
{
    for (int t = 0; t <= BODY_EVENT; t++) {
        size_t n = strlen(type_names[t]);
        /* {"type":" + name + ", */
        if (len > n + 11 && memcmp(line, "{\"type\":\"", 9) == 0 &&
            memcmp(line + 9, type_names[t], n) == 0 && memcmp(line + 9 + n, "\",", 2) == 0)
            return t;
    }
    return -1;
}

int jsonl_parse_line(const char *line, size_t len, body_type_t *t, json_t **record,
                     char *errstr, size_t errstr_size)
{
    int rc = 0;
    char jerr[256];
    json_t *obj = NULL, *type;
    const char *ts;
    size_t i;

    *record = NULL;
    if (len && line[len - 1] == '\n')
        len--;
    if (len && line[len - 1] == '\r')
        len--;
    if (len > JSONL_LINE_MAX) {
        snprintf(errstr, errstr_size, "line of %zu bytes is over the %d-byte cap", len,
                 JSONL_LINE_MAX);
        return DB_ERR_TOO_LARGE;
    }
    for (i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            break;
    if (i == len) {
        snprintf(errstr, errstr_size, "blank line (only white space)");
        return DB_ERR_INVALID;
    }
    if (json_parse(line, len, &obj, jerr, sizeof jerr)) {
        snprintf(errstr, errstr_size, "not JSON at %s", jerr);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (!json_is_object(obj)) {
        snprintf(errstr, errstr_size, "line is not a JSON object");
        rc = DB_ERR_INVALID;
        goto out;
    }
    type = json_object_get(obj, "type");
    ts = json_string_value(type);
    if (!type) {
        snprintf(errstr, errstr_size,
                 "type: missing (expected \"document\", \"status\" or \"event\")");
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (!ts) {
        snprintf(errstr, errstr_size, "type: expected a string (\"document\", \"status\" or "
                 "\"event\")");
        rc = DB_ERR_INVALID;
        goto out;
    }
    for (i = 0; i <= BODY_EVENT; i++)
        if (strcmp(ts, type_names[i]) == 0)
            break;
    if (i > BODY_EVENT) {
        snprintf(errstr, errstr_size,
                 "type: unknown type \"%s\" (expected \"document\", \"status\" or \"event\")", ts);
        rc = DB_ERR_INVALID;
        goto out;
    }
    *t = (body_type_t)i;
    json_object_del(obj, "type");
    *record = obj;
    obj = NULL;
out:
    json_decref(obj);
    return rc;
}
