/* kafka_refill.h - keeps a consumer's prefetch flowing under librdkafka 2.0.x, whose
 * fetcher, once the local queue passed queued.min.messages or
 * queued.max.messages.kbytes, looks at the queue again only when its broker thread wakes
 * (a reply, a request, or a one-second timer). A consumer that drains the queue in less
 * than that second then waits idle for the rest of it: a third of an aggregate's wall
 * time was spent so. */
#ifndef DOCBUS_KAFKA_REFILL_H
#define DOCBUS_KAFKA_REFILL_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef struct kafka_refill {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;  /* the consumer queue every assigned partition feeds */
    int64_t min_msgs;         /* the consumer's queued.min.messages */
    int64_t max_bytes;        /* its queued.max.messages.kbytes, in bytes */
    uint64_t check_every;     /* the queue is looked at every this many messages */
    uint64_t seen;            /* messages noted */
    uint64_t seen_bytes;      /* their key and value bytes */
    int full;                 /* the queue was seen over a threshold since the last wake-up */
    uint64_t wakeups;         /* wake-ups sent (for -v and tests) */
} kafka_refill_t;

/* Prepares r for the consumer rk (queue thresholds read from its configuration). */
void kafka_refill_init(kafka_refill_t *r, rd_kafka_t *rk);

/* Notes the consumed message m; when the queue was over a fetch threshold and has since
 * drained below both, wakes the fetching broker thread of m's partition with a
 * watermark request (one round trip, at most once per fill of the queue). */
void kafka_refill_note(kafka_refill_t *r, const rd_kafka_message_t *m);

/* Releases r's queue handle; r may be zero-initialised and never set up. */
void kafka_refill_clear(kafka_refill_t *r);

#endif
