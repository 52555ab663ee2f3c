/* verify_pipe.h - message verification on a thread of its own: Kafka messages go in in
 * order and come out verified in the same order, while the caller counts the ones ahead
 * of them. Proving a message (envelope, Merkle path, signature, certificate, body) was
 * half of a consumer's work on its one thread, with the second core mostly idle. */
#ifndef DOCBUS_VERIFY_PIPE_H
#define DOCBUS_VERIFY_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "verify.h"

typedef struct verify_pipe verify_pipe_t;

/* Called with a message's owner when the pipe is done with it (see verify_pipe_push). */
typedef void verify_release_fn(void *owner);

/* One message and its verdict. */
typedef struct verify_slot {
    void *owner;             /* what verify_pipe_push was given (e.g. the Kafka message) */
    const uint8_t *buf;      /* the message bytes, alive until the owner is released */
    size_t len;
    int rc;                  /* verifier_check's result: 0 or a db_err_t */
    char errstr[512];        /* why, when rc != 0 */
    verified_t v;            /* when rc == 0; valid until verify_pipe_done */
    uint8_t body_hash[32];   /* with VERIFY_PIPE_BODY_HASH, when rc == 0: SHA-256 of the body */
    int hash_rc;             /* 0, or the hash failed (an internal error, not the message's) */
} verify_slot_t;

/* verify_pipe_new flags */
#define VERIFY_PIPE_BODY_HASH 1   /* also hash each verified body (the audit's resend check) */

/* Starts a pipe verifying with v, which only the pipe's thread uses from now until
 * verify_pipe_destroy; release frees an owner; flags: VERIFY_PIPE_* or 0. NULL when out
 * of memory or no thread could be started. */
verify_pipe_t *verify_pipe_new(verifier_t *v, verify_release_fn *release, int flags);

/* Returns 1 when no message can be pushed before the oldest is popped and done. */
int verify_pipe_full(const verify_pipe_t *p);

/* Queues the len bytes at buf for verification; owner keeps them alive and is released
 * when the message is done or discarded. The pipe must not be full. */
void verify_pipe_push(verify_pipe_t *p, const uint8_t *buf, size_t len, void *owner);

/* The oldest message once verified, or NULL: nothing is in the pipe, or (wait == 0) the
 * oldest is still being verified. The slot stays valid until verify_pipe_done. */
verify_slot_t *verify_pipe_pop(verify_pipe_t *p, int wait);

/* Releases the slot verify_pipe_pop returned last, and its owner. */
void verify_pipe_done(verify_pipe_t *p);

/* How much verify_pipe_drain takes. */
typedef enum {
    VERIFY_DRAIN_READY,      /* the messages proven already */
    VERIFY_DRAIN_BURST,      /* waits until the oldest quarter of the pipe (or all of a
                              * pipe less full) is proven, then takes those ready */
    VERIFY_DRAIN_ALL,        /* every message in the pipe, waiting for each */
} verify_drain_t;

/* Called by verify_pipe_drain with each message, in input order; non-zero stops it. */
typedef int verify_slot_fn(void *opaque, verify_slot_t *s);

/* Hands the messages how says to fn, each done right after; returns 0 or fn's first
 * non-zero result (that message is done too). */
int verify_pipe_drain(verify_pipe_t *p, verify_drain_t how, verify_slot_fn *fn, void *opaque);

/* Messages pushed and not yet done. */
size_t verify_pipe_in_flight(const verify_pipe_t *p);

/* Drops every message in the pipe unprocessed (after a rewind or a revoked assignment);
 * NULL allowed. */
void verify_pipe_discard(verify_pipe_t *p);

/* Stops the thread and frees p (messages still in it are released); NULL allowed. */
void verify_pipe_destroy(verify_pipe_t *p);

#endif
