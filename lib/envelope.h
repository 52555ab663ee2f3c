/* envelope.h - the docbus wire contract: Envelope = {Content, Proof} in Avro
 * single-object encoding (C3 01, CRC-64-AVRO fingerprint LE, Avro binary). */
#ifndef DOCBUS_ENVELOPE_H
#define DOCBUS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_MAX_BYTES (1024 * 1024)  /* total cap on one Kafka value */
#define ENVELOPE_MAX_PATH 32              /* Merkle path length cap (2^32 leaves) */
#define UNIT_CODE_MAX 64                  /* longest organisation code, with NUL */

typedef enum { BODY_DOCUMENT = 0, BODY_STATUS = 1, BODY_EVENT = 2 } body_type_t;

/* What the producer signs. body points into caller-owned or decoder-owned memory. */
typedef struct content {
    uint8_t msg_id[16];
    char producer[UNIT_CODE_MAX];
    int64_t seq;
    int64_t produced_at;          /* ms since epoch, UTC */
    body_type_t body_type;
    uint8_t body_fingerprint[8];  /* CRC-64-AVRO, little-endian, of the body schema */
    const uint8_t *body;          /* Avro binary of Document / Status / Event */
    size_t body_len;
} content_t;

typedef struct batch_header {
    char producer[UNIT_CODE_MAX];
    int64_t batch_seq;
    int64_t first_seq;
    int32_t count;
    uint8_t prev_root[32];
    uint8_t root[32];
    int64_t created_at;           /* ms since epoch, UTC */
    uint8_t key_id[32];           /* SHA-256 of the signer certificate's DER */
} batch_header_t;

typedef struct proof {
    batch_header_t header;
    uint8_t signature[64];        /* Ed25519 over "docbus-batch-v1\0" || avro(header) */
    int32_t leaf_index;
    int path_len;
    uint8_t path[ENVELOPE_MAX_PATH][32];
} proof_t;

#endif
