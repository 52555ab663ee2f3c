/* schema.h - Avro Parsing Canonical Form, CRC-64-AVRO fingerprints, and the registry of
 * the wire schemas compiled into the binary (current versions and older ones). */
#ifndef DOCBUS_SCHEMA_H
#define DOCBUS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>
#include <jansson.h>

#define SCHEMA_ENVELOPE "vn.docbus.v1.Envelope"
#define SCHEMA_DOCUMENT "vn.docbus.v1.Document"
#define SCHEMA_STATUS "vn.docbus.v1.Status"
#define SCHEMA_EVENT "vn.docbus.v1.Event"

#define SCHEMAS_MAX 32 /* schema versions the registry holds */

/* Computes the Parsing Canonical Form (Avro specification) of the schema text
 * schema_json. On success returns 0 and sets *out to a NUL-terminated malloc'd
 * string the caller frees. On error returns DB_ERR_INVALID (not JSON, not a valid
 * schema: unknown type name, bad name, missing attribute) or DB_ERR_NOMEM, *out is
 * NULL and errstr says what and where. errstr may be NULL. */
int schema_pcf(const char *schema_json, char **out, char *errstr, size_t errstr_size);

/* Returns the CRC-64-AVRO (64-bit Rabin) fingerprint of buf[0..len). Put on the wire
 * as 8 little-endian bytes (schema_fp_bytes). Thread-safe. */
uint64_t schema_crc64_avro(const void *buf, size_t len);

/* Writes fp as the 8 little-endian bytes used by single-object encoding. */
void schema_fp_bytes(uint64_t fp, uint8_t out[8]);

/* The 8-byte wire fingerprint of schema_json: CRC-64-AVRO of its Parsing Canonical
 * Form, little-endian. Returns 0, or schema_pcf's errors. */
int schema_fingerprint(const char *schema_json, uint8_t fp[8], char *errstr, size_t errstr_size);

/* One schema version known to the registry. Everything is owned by the registry
 * and lives until schemas_term(). */
typedef struct schema_info {
    const char *file;        /* "status.avsc", or "history/status-v0.avsc" for older versions */
    const char *fullname;    /* "vn.docbus.v1.Status" */
    avro_schema_t schema;    /* parsed by Avro-C */
    json_t *json;            /* the parsed text (field defaults for schema resolution) */
    uint8_t fingerprint[8];  /* wire fingerprint (little-endian CRC-64-AVRO of the PCF) */
    int current;             /* 1: the version this build writes; 0: an older version */
} schema_info_t;

/* Parses every embedded Avro schema (the *.avsc entries of embedded_schemas[]) with
 * Avro-C and computes its fingerprint. Files under "history/" are older versions. Idempotent and
 * thread-safe; the first successful call wins. Returns 0, or DB_ERR_INVALID /
 * DB_ERR_NOMEM with the schema file and the reason in errstr. */
int schemas_init(char *errstr, size_t errstr_size);

/* Adds one schema text to the registry (used by schemas_init; tests use it to add a
 * version from disk). file decides current vs older ("history/..." is older). A text
 * whose fingerprint is already known is accepted and ignored. Returns 0, or
 * DB_ERR_INVALID (bad schema, a second current version of one name, registry full),
 * DB_ERR_NOMEM. Not safe concurrently with lookups: call before starting threads. */
int schemas_register(const char *file, const char *json, char *errstr, size_t errstr_size);

/* Frees the registry (schemas handed out become invalid). Safe to call twice. */
void schemas_term(void);

/* Returns the current version's schema for a fullname such as "vn.docbus.v1.Document",
 * a borrowed reference, or NULL if unknown or the registry is not initialised. */
avro_schema_t schemas_get(const char *fullname);

/* Copies the current version's wire fingerprint of fullname into fp. Returns 0 or
 * DB_ERR_NOT_FOUND. */
int schemas_fingerprint(const char *fullname, uint8_t fp[8]);

/* Returns the fullname of the schema (any version) with wire fingerprint fp, or NULL. */
const char *schemas_name_by_fingerprint(const uint8_t fp[8]);

/* Returns the registry entry (any version) with wire fingerprint fp, or NULL. */
const schema_info_t *schemas_lookup_fingerprint(const uint8_t fp[8]);

/* Returns the current version's registry entry for fullname, or NULL. */
const schema_info_t *schemas_lookup_name(const char *fullname);

/* Returns the i-th registry entry (0-based, in registration order), or NULL past the
 * end: for listing every known version. */
const schema_info_t *schemas_at(size_t i);

#endif
