/* batch.h - batch signatures with per-message proofs: signer, verifier, continuity. */
#ifndef DOCBUS_BATCH_H
#define DOCBUS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "trust.h"

#define BATCH_SIG_CONTEXT "docbus-batch-v1"   /* signed: this, a 0x00 byte, avro(header) */
#define BATCH_MAX_COUNT 65536                 /* largest batch a signer builds */

/* ---- signer ------------------------------------------------------------------------ */

typedef struct batch_signer batch_signer_t;

/* Receives one finished message: value/len is the complete Kafka value (the envelope),
 * c the content as signed (seq and produced_at filled in; body points into the
 * signer's buffer), msg_opaque what was passed to batch_signer_add. All pointers are
 * valid only during the call; copy what you keep. Called in seq order. */
typedef void batch_emit_cb(void *opaque, const uint8_t *value, size_t len, const content_t *c,
                           void *msg_opaque);

/* Returns a signer for unit using the key and certificate files (loaded once here; the
 * key must be mode 0600 and match the certificate, which must name unit) and the state
 * file state_path (locked while the signer lives). A batch closes at max_count messages
 * (1 = every message signed alone) or linger_ms after its first message (checked by
 * batch_signer_poll). NULL on error, with the reason in errstr. */
batch_signer_t *batch_signer_new(const char *unit, const char *key_path, const char *cert_path,
                                 const char *state_path, int max_count, int linger_ms,
                                 batch_emit_cb *emit_cb, void *opaque, char *errstr,
                                 size_t errstr_size);

/* Adds one message. c->producer must be the signer's unit (else DB_ERR_INVALID); the
 * signer assigns c->seq and c->produced_at (written back into *c) and copies the content
 * and body, so c and its body may be reused on return. When the batch is full it is
 * signed and emitted before this returns (async: signed; emitted once durable).
 * Returns 0 when the message is taken, or a db_err_t when it is not (nothing of it is
 * kept): a bad message, or an earlier batch that still cannot be closed or made
 * durable (a failure to close the batch this message fills is reported by the next
 * add, poll or flush). */
int batch_signer_add(batch_signer_t *s, content_t *c, void *msg_opaque);

/* Emits an async signer's sealed batch if its state is durable by now, and closes the
 * open batch if its first message is at least linger_ms old at now_ms. Returns the
 * number of messages emitted (0 if none) or a negative db_err_t. */
int batch_signer_poll(batch_signer_t *s, int64_t now_ms);

/* Closes the open batch now, if any. Returns the number emitted or a negative db_err_t. */
int batch_signer_flush(batch_signer_t *s);

/* Closes the open batch now without waiting for its state's sync (async signers; others
 * emit it as batch_signer_flush does): a later flush emits it. Calling this on every
 * signer before flushing any lets their fdatasyncs queue together. Returns the number
 * emitted or a negative db_err_t. */
int batch_signer_seal(batch_signer_t *s);

/* 1 when a sealed batch is still held (its state's sync has not been seen to finish). */
int batch_signer_holding(const batch_signer_t *s);

/* Async mode (off by default): a closed batch is signed and its state written at once,
 * but its messages are emitted only once the state's fdatasync, run on a background
 * thread, has finished: by a later add, poll or flush of this signer, so the caller
 * keeps working while the disk syncs. Emission still never precedes durability, and
 * flush still emits everything before it returns. */
void batch_signer_set_async(batch_signer_t *s, int on);

/* Reason of the last failure of add/poll/flush (empty if none). */
const char *batch_signer_error(const batch_signer_t *s);

/* Replaces the wall clock used for produced_at and created_at (tests, simulations of a
 * past period). now_ms(opaque) returns ms since the epoch. NULL restores the clock. */
void batch_signer_set_clock(batch_signer_t *s, int64_t (*now_ms)(void *), void *opaque);

/* Writes one envelope like envelope_write (codec.h): 0 or a negative db_err_t. */
typedef int batch_envelope_writer(const uint8_t *content_avro, size_t content_len,
                                  const proof_t *p, uint8_t *buf, size_t cap, size_t *len);

/* Replaces envelope_write for s (tests: a failure that only running out of memory makes
 * otherwise); NULL restores it. */
void batch_signer_set_envelope_writer(batch_signer_t *s, batch_envelope_writer *fn);

/* Flushes the open batch (errors are dropped: call batch_signer_flush first to see
 * them), releases the state lock and frees s; NULL is allowed. */
void batch_signer_destroy(batch_signer_t *s);

/* ---- verifier ---------------------------------------------------------------------- */

typedef struct batch_verifier batch_verifier_t;

/* Returns a verifier that trusts trust (borrowed: it must outlive the verifier), or
 * NULL when out of memory. Keeps a bounded cache of verified batch signatures. */
batch_verifier_t *batch_verifier_new(trust_t *trust);

/* Proves one decoded message (from envelope_read): content_avro/content_len are the
 * exact content bytes carried. Returns 0 or
 *   DB_ERR_BAD_CONTENT  producer differs from the header's, seq outside the batch,
 *                       leaf_index != seq - first_seq, bad count
 *   DB_ERR_BAD_PROOF    the inclusion path does not lead to header.root
 *   DB_ERR_BAD_SIGNATURE the header signature does not verify
 *   any trust_check code for the certificate at header.created_at
 * with the reason in errstr. */
int batch_verifier_check(batch_verifier_t *v, const content_t *c, const proof_t *p,
                         const uint8_t *content_avro, size_t content_len, char *errstr,
                         size_t errstr_size);

/* The Merkle leaf hash of the content given to the last batch_verifier_check that got
 * as far as hashing it (after a success: the proven leaf). */
const uint8_t *batch_verifier_leaf(const batch_verifier_t *v);

/* The number of batch signatures v has verified with Ed25519 (cache misses). */
uint64_t batch_verifier_signature_checks(const batch_verifier_t *v);

/* Frees v; NULL is allowed. */
void batch_verifier_destroy(batch_verifier_t *v);

/* ---- continuity -------------------------------------------------------------------- */

typedef enum {
    CONT_SEQ_GAP = 0,        /* seqs missing between first and last seen (or before the first) */
    CONT_DUP_RESEND = 1,     /* same seq seen again with the same content: benign redelivery */
    CONT_DUP_TAMPERED = 2,   /* same seq with different content: tampering or a forked producer */
    CONT_CHAIN_BREAK = 3,    /* batch prev_root is not the root of the previous batch, or one
                              * batch_seq with two different roots */
    CONT_REORDER = 4         /* batch_seq went backwards within one stream */
} continuity_kind_t;

/* One verified message as the continuity tracker sees it. stream is optional: e.g.
 * "docbus.events/3" (a partition); reordering is judged per producer and stream. */
typedef struct continuity_item {
    const char *producer;
    int64_t seq;
    const uint8_t *msg_id;          /* 16 bytes */
    const uint8_t *content_hash;    /* 32 bytes, e.g. the Merkle leaf */
    int64_t batch_seq;
    const uint8_t *prev_root;       /* 32 bytes */
    const uint8_t *root;            /* 32 bytes */
    const char *location;           /* where it was read, for the finding: "topic/part@offset" */
    const char *stream;             /* may be NULL */
} continuity_item_t;

typedef struct continuity_finding {
    continuity_kind_t kind;
    char producer[UNIT_CODE_MAX];
    int64_t seq_from, seq_to;       /* the seq range concerned (gap: the missing range) */
    int64_t batch_seq;              /* batch concerned (0 if not batch-level) */
    char location[160];             /* where the finding was seen (empty for gaps) */
    char other_location[160];       /* where the earlier, conflicting message was seen */
    char detail[256];               /* one human sentence */
} continuity_finding_t;

typedef void continuity_cb(void *opaque, const continuity_finding_t *f);

typedef struct continuity continuity_t;

/* Returns a tracker reporting each finding to cb (may be NULL: findings are then only
 * counted). If expect_from_one, seqs before a producer's first seen seq (from 1) are a
 * gap too (use it when replaying a producer's whole history). NULL when out of memory. */
continuity_t *continuity_new(continuity_cb *cb, void *opaque, int expect_from_one);

/* Findings of kind are reported from here on with their kind, producer, seqs and batch
 * only (location, other_location and detail empty): for a caller that only counts them,
 * such as the audit for the copies of a message in other inboxes (one per extra copy). */
void continuity_brief(continuity_t *ct, continuity_kind_t kind);

/* Feeds one message; duplicate, chain and order findings are reported at once.
 * Returns 0, DB_ERR_INVALID (missing fields) or DB_ERR_NOMEM. */
int continuity_feed(continuity_t *ct, const continuity_item_t *item);

/* Reports the seq gaps of every producer (they are only known at the end, since a
 * producer's messages spread over partitions). Returns the number of findings in all. */
int64_t continuity_finish(continuity_t *ct);

/* Count of findings of kind so far. */
int64_t continuity_count(const continuity_t *ct, continuity_kind_t kind);

/* Returns "seq_gap", "duplicate_resend", "duplicate_tampered", "chain_break", "reorder". */
const char *continuity_kind_name(continuity_kind_t kind);

/* Frees ct; NULL is allowed. */
void continuity_destroy(continuity_t *ct);

#endif
