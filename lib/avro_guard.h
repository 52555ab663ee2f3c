/* avro_guard.h - validates untrusted Avro binary against a schema without allocating,
 * before Avro-C (which trusts declared lengths) ever reads it; plus the bounded
 * cursor primitives the envelope codec decodes with. */
#ifndef DOCBUS_AVRO_GUARD_H
#define DOCBUS_AVRO_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

/* Caps on one datum. Zero in a field means "use the default". */
typedef struct avro_guard_caps {
    size_t string_max;      /* bytes of one string or map key (default 64 KiB) */
    size_t bytes_max;       /* bytes of one bytes value (default 512 KiB) */
    size_t array_items_max; /* items of one array or entries of one map (default 10,000) */
    size_t items_total_max; /* items and entries of all collections together (default 100,000) */
    size_t total_max;       /* bytes of the whole datum (default 1 MiB) */
} avro_guard_caps_t;

#define AVRO_GUARD_STRING_MAX (64 * 1024)
#define AVRO_GUARD_BYTES_MAX (512 * 1024)
#define AVRO_GUARD_ARRAY_ITEMS_MAX 10000
#define AVRO_GUARD_ITEMS_TOTAL_MAX 100000
#define AVRO_GUARD_TOTAL_MAX (1024 * 1024)
#define AVRO_GUARD_MAX_DEPTH 32 /* nesting of records, arrays, maps and unions */

/* Checks that buf[0..len) is exactly one Avro binary datum of schema: every varint
 * at most 10 bytes (5 for int) and in range, no negative length, every length under
 * its cap and inside the input, enum and union indexes in range, fixed values
 * complete, booleans 0 or 1, no bytes left over. root names the datum in messages
 * (e.g. "Document"); NULL uses the schema's name. caps may be NULL (defaults).
 * Allocates nothing. Returns 0, or DB_ERR_TOO_LARGE, DB_ERR_TRUNCATED,
 * DB_ERR_TRAILING, DB_ERR_NEG_LENGTH, DB_ERR_LENGTH_CAP, DB_ERR_BAD_ENUM,
 * DB_ERR_BAD_UNION, DB_ERR_BAD_VARINT, DB_ERR_INVALID (bad boolean, array block byte
 * size that does not match its items, nesting over AVRO_GUARD_MAX_DEPTH), with the
 * field path and byte offset in errstr, e.g.
 * "Document.to[2].code: string length 70000 over cap 65536 at offset 1234". */
int avro_guard_check(avro_schema_t schema, const uint8_t *buf, size_t len,
                     const avro_guard_caps_t *caps, const char *root, char *errstr,
                     size_t errstr_size);

/* A bounded reader over untrusted bytes, for hand-written decoders. Every read
 * checks the remaining length; on error the message names path (a field path such
 * as "Envelope.content.producer") and the byte offset of the bad value, counted from
 * base_offset. A NULL path asks path_fn (if set) to write the path. */
typedef struct avro_cursor {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    size_t base_offset; /* added to pos in messages (bytes before buf in the message) */
    char *errstr;       /* may be NULL */
    size_t errstr_size;
    void (*path_fn)(const void *ctx, char *out, size_t out_size);
    const void *path_ctx;
} avro_cursor_t;

/* Reads a zig-zag varint long (at most 10 bytes). Returns 0, DB_ERR_TRUNCATED or
 * DB_ERR_BAD_VARINT. */
int avro_cursor_long(avro_cursor_t *c, const char *path, int64_t *out);

/* Reads a zig-zag varint int (at most 5 bytes, in int32 range). Returns 0,
 * DB_ERR_TRUNCATED or DB_ERR_BAD_VARINT. */
int avro_cursor_int(avro_cursor_t *c, const char *path, int32_t *out);

/* Reads a string or bytes length and points *out at its bytes inside the input
 * (no copy). Returns 0, or DB_ERR_NEG_LENGTH, DB_ERR_LENGTH_CAP (over max),
 * DB_ERR_TRUNCATED, DB_ERR_BAD_VARINT. what is "string" or "bytes". */
int avro_cursor_span(avro_cursor_t *c, const char *path, const char *what, size_t max,
                     const uint8_t **out, size_t *out_len);

/* Points *out at the next n bytes (a fixed value). Returns 0 or DB_ERR_TRUNCATED. */
int avro_cursor_fixed(avro_cursor_t *c, const char *path, size_t n, const uint8_t **out);

/* Reads an enum index and checks 0 <= index < n_symbols. Returns 0, DB_ERR_BAD_ENUM,
 * or avro_cursor_int's errors. */
int avro_cursor_enum(avro_cursor_t *c, const char *path, int n_symbols, int32_t *out);

/* Reads one array or map block header. A negative count (legal Avro: a block
 * followed by its byte size) is returned as its absolute value with the byte size
 * in *block_bytes; otherwise *block_bytes is -1. Returns 0, DB_ERR_NEG_LENGTH
 * (count of INT64_MIN, negative byte size), DB_ERR_TRUNCATED (byte size past the
 * end), DB_ERR_BAD_VARINT. */
int avro_cursor_block(avro_cursor_t *c, const char *path, int64_t *count, int64_t *block_bytes);

/* Returns 0 if the cursor is at the end of its input, else DB_ERR_TRAILING. */
int avro_cursor_end(avro_cursor_t *c, const char *path);

#endif
