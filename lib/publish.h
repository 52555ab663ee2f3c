/* publish.h - the producing side of docbus: sign records per unit in batches and deliver
 * every copy to its topics with an idempotent producer, accounting for every record. */
#ifndef DOCBUS_PUBLISH_H
#define DOCBUS_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "envelope.h"

typedef struct publisher publisher_t;

/* Totals of a publisher's life so far. A record is delivered when every copy of it
 * (one per topic) is acknowledged by the broker. */
typedef struct publish_stats {
    uint64_t queued;       /* records signed and handed to Kafka */
    uint64_t delivered;    /* records with every copy acknowledged */
    uint64_t failed;       /* records with a copy that could not be delivered in time */
    uint64_t recreated;    /* producer re-creations after fatal errors */
    uint64_t retried;      /* copies queued to be produced again after "unknown topic" */
} publish_stats_t;

/* Called once per record whose delivery failed for good, with the ref given to
 * publisher_add (e.g. the input line number) and the reason. */
typedef void (publish_fail_cb)(void *opaque, int64_t ref, const char *reason);

/* Returns a publisher using cfg (bootstrap, docbus.pki.dir, docbus.state.dir,
 * docbus.batch.*, docbus.delivery.deadline.ms), or NULL with errstr. fail_cb may be NULL. */
publisher_t *publisher_new(const db_config_t *cfg, publish_fail_cb *fail_cb, void *opaque,
                           char *errstr, size_t errstr_size);

/* Signs one record as unit `producer` and queues it for every topic suffix in topics
 * (e.g. "inbox.000.00.11.H29", "events"), keyed by key. body is the Avro binary of the
 * record (copied). ref identifies the record in failure reports. The unit's key and
 * certificate come from the PKI directory; a missing one is DB_ERR_CONFIG with a hint.
 * Blocks (serving delivery reports) while the local queue is full. */
int publisher_add(publisher_t *p, body_type_t type, const char *producer,
                  const char *natural_key, const char *key, const char *const *topics,
                  int ntopics, const uint8_t *body, size_t body_len, int64_t ref,
                  char *errstr, size_t errstr_size);

/* Learns, with one metadata request, which docbus topics exist already, so records for
 * them need no creation round trip. Returns 0 or DB_ERR_KAFKA. */
int publisher_learn_topics(publisher_t *p, char *errstr, size_t errstr_size);

/* Serves delivery reports and batch lingering for up to timeout_ms. */
void publisher_poll(publisher_t *p, int timeout_ms);

/* Signs what is pending and waits until every record is delivered or failed (the
 * delivery deadline bounds the wait). Returns 0 when all delivered, DB_ERR_KAFKA when
 * some failed (see stats), or another db_err_t (DB_ERR_IO: a seq state could not be
 * made durable) when a unit's last records were signed but could not be sent; errstr
 * names the unit and the reason. */
int publisher_finish(publisher_t *p, char *errstr, size_t errstr_size);

/* Copies the current totals into *out. */
void publisher_stats(const publisher_t *p, publish_stats_t *out);

/* The underlying librdkafka producer (borrowed; replaced after a fatal error). */
rd_kafka_t *publisher_rk(publisher_t *p);

/* Frees p; NULL is allowed. Undelivered records are reported failed first. */
void publisher_destroy(publisher_t *p);

/* Computes the deterministic message id: the first 16 bytes of
 * SHA-256("docbus-msgid-v1" 0 producer 0 type 0 natural_key). 0, or DB_ERR_CRYPTO (out
 * unchanged). */
int publish_msg_id(const char *producer, body_type_t type, const char *natural_key,
                   uint8_t out[16]);

#endif
