/* json_fast.h - one pass from a JSON Lines record to the Avro binary of its body, for
 * the import: yajl's events (raised by json_scan for the common forms, else by yajl)
 * drive an encoding plan compiled from the schema, with no JSON tree and no Avro-C
 * generic value in between. It takes only input that json_avro_from_json converts
 * without error and yields the very bytes that conversion and avro_value_write yield;
 * anything else (bad input, an unusual but valid form, a schema part it has no plan for)
 * it declines, and the caller takes the full path, which names the error. */
#ifndef DOCBUS_JSON_FAST_H
#define DOCBUS_JSON_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "json_avro.h"

typedef struct json_fast json_fast_t;

/* Returns an encoder for ja's schema (ja must outlive it), or NULL when out of memory.
 * One thread uses an encoder at a time. */
json_fast_t *json_fast_new(const json_avro_t *ja);

/* Encodes the JSON object text[0..len) into *out (valid until the next call on f),
 * *out_len bytes. The object's top-level key skip_key (with a string value; NULL:
 * none) is not a field: it is passed over. Returns 0, or -1 when the line must take the
 * full path (its bytes would be over max_len, or anything json_fast declines). */
int json_fast_encode(json_fast_t *f, const char *text, size_t len, const char *skip_key,
                     size_t max_len, const uint8_t **out, size_t *out_len);

/* Frees f; NULL is allowed. */
void json_fast_destroy(json_fast_t *f);

#endif
