/* kafka.h - librdkafka clients made the docbus way: idempotent producers, read_committed
 * consumers, topic creation, and classification of broker errors. */
#ifndef DOCBUS_KAFKA_H
#define DOCBUS_KAFKA_H

#include <librdkafka/rdkafka.h>
#include "config.h"

/* Why a Kafka call failed, coarse enough to choose an exit code. */
typedef enum {
    KAFKA_FAIL_NONE = 0,
    KAFKA_FAIL_UNREACHABLE,   /* no broker answered (down, wrong address, TLS mismatch) */
    KAFKA_FAIL_AUTH,          /* SASL authentication or ACL authorisation refused */
    KAFKA_FAIL_OTHER,
} kafka_fail_t;

/* Returns an idempotent (acks=all) producer, transactional when transactional_id is
 * not NULL, with dr_msg_cb set and opaque as the client opaque; user properties from cfg
 * apply on top of docbus's defaults, except that idempotence stays on. NULL on error
 * with errstr. */
rd_kafka_t *kafka_producer_new(const db_config_t *cfg, const char *transactional_id,
                               void (*dr_msg_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                               void *opaque, char *errstr, size_t errstr_size);

/* Returns a consumer in group group_id (NULL: a group-less consumer for assign()),
 * isolation.level=read_committed, auto commit off, starting at the earliest offset,
 * with rebalance_cb (may be NULL) and opaque. NULL on error with errstr. */
rd_kafka_t *kafka_consumer_new(const db_config_t *cfg, const char *group_id,
                               void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
                                                    rd_kafka_topic_partition_list_t *, void *),
                               void *opaque, char *errstr, size_t errstr_size);

/* Asks the cluster for metadata within timeout_ms. Returns KAFKA_FAIL_NONE, or the
 * failure class with a message in errstr that says what to check next. */
kafka_fail_t kafka_check(rd_kafka_t *rk, int timeout_ms, char *errstr, size_t errstr_size);

/* rd_kafka_metadata, retried while the error is transient (a restarted broker: transport
 * failure, timeout, no leader yet) for up to total_ms. */
rd_kafka_resp_err_t kafka_metadata(rd_kafka_t *rk, int all_topics, rd_kafka_topic_t *only,
                                   const struct rd_kafka_metadata **md, int total_ms);

/* Reads the low and high watermarks of every partition in parts into low[i] and high[i]
 * (indexed like parts->elems; low may be NULL for the high marks only) with one batched
 * ListOffsets request per broker and kind, retried while transient for up to total_ms.
 * On failure *bad is the index of the partition that failed (-1: the whole request).
 * Under read_committed the high mark is the last stable offset, as with
 * rd_kafka_query_watermark_offsets. */
rd_kafka_resp_err_t kafka_list_watermarks(rd_kafka_t *rk,
                                          const rd_kafka_topic_partition_list_t *parts,
                                          int64_t *low, int64_t *high, int total_ms, int *bad);

/* Aborts the producer's open transaction, first waiting (up to 10 s) for its messages to
 * be acknowledged, which works around confluentinc/librdkafka#4849. Returns 0, or -1
 * with errstr when the abort failed (the producer is then usually in a fatal state). */
int kafka_txn_abort(rd_kafka_t *producer, char *errstr, size_t errstr_size);

/* Destroys the rd_kafka_message_t m (a verify_pipe release function). */
void kafka_message_release(void *m);

/* Classifies a librdkafka error code. */
kafka_fail_t kafka_classify(rd_kafka_resp_err_t err);

/* Creates the topics that do not exist yet, with partitions and the given topic
 * configs ("key=value" strings, may be NULL/0). Existing topics are left alone.
 * Returns 0, or DB_ERR_KAFKA with errstr. */
int kafka_ensure_topics(rd_kafka_t *rk, const char **names, int n, int partitions,
                        const char **configs, int nconfigs, char *errstr, size_t errstr_size);

/* Reads the low and high watermarks of every partition of topic into arrays the
 * caller frees; *n gets the partition count. Returns 0 or DB_ERR_KAFKA. */
int kafka_watermarks(rd_kafka_t *rk, const char *topic, int64_t **low, int64_t **high,
                     int *n, int timeout_ms, char *errstr, size_t errstr_size);


/* Called for each record by kafka_read_to_end; a non-zero return stops the read and is
 * returned (errstr filled by the callback). */
typedef int (kafka_record_cb)(void *opaque, const rd_kafka_message_t *m, char *errstr,
                              size_t errstr_size);

/* Reads topic from its beginning to its end with the group-less consumer rk
 * (read_committed: aborted transactions are skipped; a transaction still open below the
 * high watermark is waited for, up to 90 s without progress)
 * and hands every record to cb. A topic that does not exist is DB_ERR_NOT_FOUND.
 * Returns 0, cb's code, or DB_ERR_KAFKA with errstr. rk is unassigned afterwards. */
int kafka_read_to_end(rd_kafka_t *rk, const char *topic, kafka_record_cb *cb, void *opaque,
                      char *errstr, size_t errstr_size);

/* Lists every partition of the docbus input topics (each <prefix>inbox.* and
 * <prefix>events) into a new list *out (caller destroys), each offset set to that
 * partition's end offset now. Returns 0 or DB_ERR_KAFKA. */
int kafka_input_ends(rd_kafka_t *rk, const db_config_t *cfg,
                     rd_kafka_topic_partition_list_t **out, char *errstr, size_t errstr_size);

#define KAFKA_RECOVER_MS 30000   /* how long to wait for a restarted broker */

/* Sets *lag to how many messages of ends (partitions with end offsets) the consumer
 * group of rk has not committed yet, retrying a coordinator that is busy or loading for up
 * to wait_ms (at least one try of 2 s). Returns 0 or DB_ERR_KAFKA. */
int kafka_group_lag(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *ends, int64_t *lag,
                    int wait_ms, char *errstr, size_t errstr_size);

#endif
