/* jsonl.h - the JSON Lines input format: one {"type": ..., fields...} object a line. */
#ifndef DOCBUS_JSONL_H
#define DOCBUS_JSONL_H

#include <jansson.h>
#include <stddef.h>

#include "envelope.h"

#define JSONL_LINE_MAX (4 * 1024 * 1024)   /* bytes, without the newline */

/* Parses one line (len bytes, a trailing "\n" or "\r\n" allowed) of the form
 * {"type":"document"|"status"|"event", ...record fields...}. On success returns 0,
 * sets *t and hands the caller *record (the object without its "type" key; free with
 * json_decref). Callers skip empty lines themselves; a line of only white space is
 * an error. Errors: DB_ERR_TOO_LARGE (over JSONL_LINE_MAX), DB_ERR_INVALID (blank, not
 * JSON, not an object, missing or unknown type, duplicate keys) with the reason in
 * errstr; *record is then NULL. */
int jsonl_parse_line(const char *line, size_t len, body_type_t *t, json_t **record,
                     char *errstr, size_t errstr_size);

/* The body type a line names by starting exactly {"type":"<type>", (the form simulate
 * and most writers use: the import's one pass takes only such lines), or -1. */
int jsonl_leading_type(const char *line, size_t len);

/* Returns "document", "status" or "event"; "unknown" otherwise. */
const char *jsonl_type_name(body_type_t t);

#endif
