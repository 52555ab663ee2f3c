/* body_view.h - a read-only Avro value over one body, decoded in a single pass into an
 * arena that is reused from body to body: no allocation per string or array once the
 * arena has grown, unlike Avro-C's generic values (a malloc and a free per string).
 * The value implements Avro-C's avro_value_iface_t getters (type, schema, scalars,
 * strings, bytes, fixed, enum, size, by index, by name, union branch), so code written
 * against avro_value_t reads it unchanged; setters answer EINVAL. */
#ifndef DOCBUS_BODY_VIEW_H
#define DOCBUS_BODY_VIEW_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "avro_guard.h"

typedef struct body_view body_view_t;

/* Returns an empty view, or NULL when out of memory. */
body_view_t *body_view_new(void);

/* Decodes body[0..len) as the Avro binary of schema into v's arena, accepting exactly
 * what avro_guard_check accepts under caps (NULL: the defaults): the same varint,
 * length, cap, index, depth, block-size and trailing-byte rules, so its arena stays
 * bounded. *out is valid until the next body_view_read on v. Returns 0, DB_ERR_NOMEM,
 * or DB_ERR_INVALID with a short errstr (run avro_guard_check on the same bytes for the
 * field path, offset and precise code). */
int body_view_read(body_view_t *v, avro_schema_t schema, const uint8_t *body, size_t len,
                   const avro_guard_caps_t *caps, avro_value_t **out, char *errstr,
                   size_t errstr_size);

/* Bytes the arena holds now (for tests and memory accounting). */
size_t body_view_arena_bytes(const body_view_t *v);

/* Frees v; NULL is allowed. */
void body_view_destroy(body_view_t *v);

#endif
