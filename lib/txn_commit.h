/* txn_commit.h - a Kafka transaction run on a thread of its own: records and consumer
 * offsets gathered by the counting thread are produced and committed together while
 * that thread goes on counting. In the aggregator, the commit (producing ~28k count
 * records, then two broker round trips) took ~15 % of the wall time, during which the
 * verifying thread had nothing to do. */
#ifndef DOCBUS_TXN_COMMIT_H
#define DOCBUS_TXN_COMMIT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* The records and offsets of one transaction. */
typedef struct txn_batch txn_batch_t;

/* Returns an empty batch, or NULL when out of memory. */
txn_batch_t *txn_batch_new(void);

/* Frees b; NULL allowed. */
void txn_batch_destroy(txn_batch_t *b);

/* Empties b (records, offsets and group metadata). */
void txn_batch_clear(txn_batch_t *b);

/* Appends a record for topic (copied; the name must outlive the batch's commit); value
 * NULL is a tombstone. Returns 0 or DB_ERR_NOMEM. */
int txn_batch_add(txn_batch_t *b, const char *topic, const void *key, size_t klen,
                  const void *value, size_t vlen);

/* Records in b. */
size_t txn_batch_records(const txn_batch_t *b);

/* Sets the consumer offsets committed with b's records, taking over offsets and gm. */
void txn_batch_set_offsets(txn_batch_t *b, rd_kafka_topic_partition_list_t *offsets,
                           rd_kafka_consumer_group_metadata_t *gm);

/* The offsets of b (NULL when none were set). */
const rd_kafka_topic_partition_list_t *txn_batch_offsets(const txn_batch_t *b);

/* Outcome of a transaction. */
typedef enum {
    TXN_COMMITTED = 0,
    TXN_ABORTED = 1,   /* nothing of it is visible; the producer can go on */
    TXN_FATAL = -1,    /* the producer is unusable (fenced, or its abort failed): replace it */
} txn_result_t;

typedef struct txn_committer txn_committer_t;

/* Starts a committer thread for the transactional producer rk (initialised). NULL when
 * out of memory or no thread could be started. */
txn_committer_t *txn_committer_new(rd_kafka_t *rk);

/* Replaces the producer (after a fatal error). The committer must be idle. */
void txn_committer_set_producer(txn_committer_t *c, rd_kafka_t *rk);

/* Hands b to the committer, which begins a transaction, produces b's records, adds b's
 * offsets and commits (aborting on any error). The committer must be idle; b belongs to
 * it until txn_committer_wait returns. */
void txn_committer_submit(txn_committer_t *c, txn_batch_t *b);

/* 1 when a batch was submitted and its outcome not yet collected by txn_committer_wait. */
int txn_committer_busy(const txn_committer_t *c);

/* 1 when the submitted batch's transaction has ended (txn_committer_wait will not block). */
int txn_committer_done(txn_committer_t *c);

/* Waits for the submitted batch's transaction to end and returns its outcome (why in
 * errstr unless committed) and the batch, through *b, back to the caller; TXN_COMMITTED
 * with *b NULL when nothing was submitted. */
txn_result_t txn_committer_wait(txn_committer_t *c, txn_batch_t **b, char *errstr,
                                size_t errstr_size);

/* Waits for any transaction in flight, stops the thread and frees c (not the producer
 * nor a batch in flight: collect it with txn_committer_wait first); NULL allowed. */
void txn_committer_destroy(txn_committer_t *c);

#endif
