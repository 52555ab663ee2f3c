/* json_avro.h - schema-driven conversion between JSON values (jansson) and Avro-C
 * generic values, with docbus's JSON conventions (dates, times, hex, base64, unions). */
#ifndef DOCBUS_JSON_AVRO_H
#define DOCBUS_JSON_AVRO_H

#include <avro.h>
#include <jansson.h>
#include <stddef.h>

#include "envelope.h"

#define JSON_AVRO_STRING_CAP (64 * 1024)   /* bytes, any string field */
#define JSON_AVRO_TEXT_CAP 500             /* characters, Document.subject/content_summary */
#define JSON_AVRO_BYTES_CAP ENVELOPE_MAX_BYTES

/* What a schema node is, once named references are followed (json_avro_resolve). */
typedef enum {
    JA_NULL, JA_BOOLEAN, JA_INT, JA_LONG, JA_FLOAT, JA_DOUBLE, JA_STRING, JA_BYTES,
    JA_RECORD, JA_ENUM, JA_ARRAY, JA_MAP, JA_FIXED, JA_UNION, JA_BAD
} json_avro_kind_t;

/* The logical types the conversion reads and writes as text. */
typedef enum { JA_L_NONE, JA_L_DATE, JA_L_TIMESTAMP_MILLIS } json_avro_logical_t;

/* A converter for one Avro schema. It keeps the schema's JSON text because Avro-C
 * drops field defaults and logical types, which the conversion needs. */
typedef struct json_avro json_avro_t;

/* Parses schema_json (an .avsc text) into a converter. On success *out owns it (free
 * with json_avro_destroy). DB_ERR_INVALID with the reason in errstr when the text is
 * not a schema Avro-C accepts. */
int json_avro_new(const char *schema_json, json_avro_t **out, char *errstr,
                  size_t errstr_size);

/* Same, for an embedded schema by file name ("document.avsc"). DB_ERR_NOT_FOUND when
 * the binary has no such file. */
int json_avro_new_embedded(const char *file, json_avro_t **out, char *errstr,
                           size_t errstr_size);

/* Same, for a body type's schema (document.avsc, status.avsc, event.avsc). */
int json_avro_new_body(body_type_t t, json_avro_t **out, char *errstr, size_t errstr_size);

/* Frees the converter. NULL is accepted. */
void json_avro_destroy(json_avro_t *ja);

/* The parsed Avro schema, borrowed: valid until json_avro_destroy. */
avro_schema_t json_avro_schema(const json_avro_t *ja);

/* Makes a new generic value of the converter's schema in *out; the caller releases it
 * with avro_value_decref. 0 or DB_ERR_NOMEM. */
int json_avro_value_new(json_avro_t *ja, avro_value_t *out);

/* Converts in into out (a value of the converter's schema; it is reset first).
 * Records: unknown fields are errors, missing fields take the schema default (no
 * default: error). Strings: valid UTF-8, at most 64 KiB (500 characters for
 * Document.subject and content_summary). int/long: JSON integers in range. enum: by
 * symbol. fixed: lower-case hex of the exact size. bytes: base64. ["null", X]: null or
 * the plain X value; other unions: {"BranchName": value}. date: "YYYY-MM-DD".
 * timestamp-millis: ISO 8601 with "Z", "+HH:MM" or no offset (Vietnam time).
 * Returns 0, or DB_ERR_INVALID with "json.path: reason" in errstr (out is then in an
 * unspecified state; reset it before reuse). */
int json_avro_from_json(const json_avro_t *ja, json_t *in, avro_value_t *out, char *errstr,
                        size_t errstr_size);

/* on: json_avro_from_json's strings point into its JSON input instead of copies (a
 * malloc and a copy less per string, for the import): the input must then outlive every
 * use of the converted value, up to the value's next reset (json_avro_from_json resets
 * first; setting a borrowed string by copy without a reset would read the old bytes in
 * Avro-C). Off by default. */
void json_avro_borrow_strings(json_avro_t *ja, int on);

/* on: json_avro_from_json's inputs have valid UTF-8 strings already (jansson's checked
 * constructors, json_loadb, or json_parse, which checks a whole line at once), so it
 * does not check each string again (the import's lines). Off by default: a string made
 * with json_stringn_nocheck is checked. */
void json_avro_utf8_checked(json_avro_t *ja, int on);

/* The reverse (this is docbus's avro_to_json): v (of the converter's schema) as a new
 * JSON value in *out, same conventions, every record field present, times in
 * "+07:00". The caller owns *out (json_decref). DB_ERR_INVALID (e.g. a string that is
 * not UTF-8 in decoded input) or DB_ERR_NOMEM with the path in errstr. */
int json_avro_to_json(const json_avro_t *ja, avro_value_t *v, json_t **out, char *errstr,
                      size_t errstr_size);

/* The schema's JSON (borrowed), for code that compiles its own plan of it (json_fast). */
json_t *json_avro_schema_json(const json_avro_t *ja);

/* Resolves schema node s of ja's schema (named references followed) to its definition
 * (borrowed; NULL when it names nothing), its kind in *k and logical type in *lt. */
json_t *json_avro_resolve(const json_avro_t *ja, json_t *s, json_avro_kind_t *k,
                          json_avro_logical_t *lt);

/* The name a union branch goes by in {"Name": value} (a named type's short name, a
 * primitive's type name), as json_avro_from_json matches it. */
const char *json_avro_branch_name(const json_avro_t *ja, json_t *branch);

/* 1 when field of record rname is capped at JSON_AVRO_TEXT_CAP characters. */
int json_avro_capped_text(const char *rname, const char *field);

#endif
