/* codec.h - the docbus wire codec: a direct, allocation-free codec for the fixed
 * Envelope/Content/Proof structure, and Avro-C based helpers for the bodies
 * (Document, Status, Event), including reading older body versions. */
#ifndef DOCBUS_CODEC_H
#define DOCBUS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

#include "envelope.h"

#define ENVELOPE_HEADER_LEN 10 /* C3 01 + 8-byte fingerprint */

/* Writes the Avro binary of the Content record c into buf[0..cap) and its length to
 * *len. c->producer must be NUL-terminated inside UNIT_CODE_MAX. Returns 0,
 * DB_ERR_TOO_LARGE (cap too small; *len untouched) or DB_ERR_INVALID (bad body_type,
 * unterminated producer, NULL body with a length). */
int content_encode(const content_t *c, uint8_t *buf, size_t cap, size_t *len);

/* Writes the Avro binary of BatchHeader h (what the batch signature covers, after
 * the "docbus-batch-v1\0" prefix). Returns 0, DB_ERR_TOO_LARGE or DB_ERR_INVALID. */
int batch_header_encode(const batch_header_t *h, uint8_t *buf, size_t cap, size_t *len);

/* Writes one Kafka value: C3 01, the Envelope schema's fingerprint, content_avro (as
 * made by content_encode) and the Avro binary of Proof p. Initialises the schema
 * registry on first use. Returns 0, DB_ERR_TOO_LARGE (cap too small or the result
 * over ENVELOPE_MAX_BYTES), DB_ERR_INVALID (path_len outside 0..ENVELOPE_MAX_PATH,
 * unterminated producer) or schemas_init's errors. */
int envelope_write(const uint8_t *content_avro, size_t content_len, const proof_t *p,
                   uint8_t *buf, size_t cap, size_t *len);

/* Decodes one untrusted Kafka value. Checks, in order: size (DB_ERR_TOO_LARGE over
 * ENVELOPE_MAX_BYTES), magic (DB_ERR_BAD_MAGIC), the Envelope fingerprint
 * (DB_ERR_UNKNOWN_SCHEMA), then every field like avro_guard_check (DB_ERR_TRUNCATED,
 * DB_ERR_TRAILING, DB_ERR_NEG_LENGTH, DB_ERR_LENGTH_CAP for a producer over
 * UNIT_CODE_MAX-1 bytes or a path over ENVELOPE_MAX_PATH, DB_ERR_BAD_ENUM,
 * DB_ERR_BAD_VARINT; DB_ERR_INVALID for a NUL byte inside a producer or an array
 * block size that does not match). On success fills *c and *p; c->body points into
 * buf, and *content_avro, *content_len is the exact Content span inside buf (a Merkle
 * leaf is SHA-256(0x00 || those bytes)). content_avro and content_len may be NULL.
 * Allocates nothing (after the registry's one-time initialisation). */
int envelope_read(const uint8_t *buf, size_t len, content_t *c, proof_t *p,
                  const uint8_t **content_avro, size_t *content_len, char *errstr,
                  size_t errstr_size);

/* Returns the current schema fullname of a body type ("vn.docbus.v1.Document"...),
 * or NULL for a value outside body_type_t. */
const char *body_type_schema(body_type_t t);

/* Writes the Avro binary of value v (any schema) into buf[0..cap). Returns 0,
 * DB_ERR_TOO_LARGE (cap too small) or DB_ERR_INVALID (Avro-C failed). */
int body_encode(avro_value_t *v, uint8_t *buf, size_t cap, size_t *len);

/* Decodes bodies into values reused across calls. Not thread-safe: one per thread. */
typedef struct body_decoder body_decoder_t;

/* Returns a new decoder, or NULL when out of memory. Free with body_decoder_destroy. */
body_decoder_t *body_decoder_new(void);

/* Decodes body[0..len) written with the schema whose wire fingerprint is fp. Runs
 * avro_guard_check first, then Avro-C into a reused value; a body of an older
 * version is resolved into the current version (fields the writer lacks get the
 * current schema's defaults). *out is a value of the current schema, owned by d and
 * valid until the next body_decoder_read on d or body_decoder_destroy. Returns 0,
 * DB_ERR_UNKNOWN_SCHEMA, the guard's errors, DB_ERR_INVALID (resolution impossible:
 * a new field without default, an unknown enum symbol) or DB_ERR_NOMEM, with the
 * reason in errstr. */
int body_decoder_read(body_decoder_t *d, const uint8_t fp[8], const uint8_t *body, size_t len,
                      avro_value_t **out, char *errstr, size_t errstr_size);

/* Frees d and its values. Accepts NULL. */
void body_decoder_destroy(body_decoder_t *d);

#endif
