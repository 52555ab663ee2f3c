/* kafka.c - librdkafka client construction, topic creation and error classes. */
#include "kafka.h"
#include "kafka_refill.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

/* The last client-level error librdkafka reported (authentication, TLS, transport).
 * rd_kafka_metadata only says "transport error" after its timeout; the error callback
 * knows the real reason at once. One slot per process: docbus clients share a cause. */
static struct {
    volatile int err;
    char reason[512];
} last_error;

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk, (void)opaque;
    last_error.err = err;
    snprintf(last_error.reason, sizeof last_error.reason, "%s", reason);
}

/* Sets key=value unless the user configured key already. */
static int set_default(rd_kafka_conf_t *conf, const db_config_t *cfg, const char *key,
                       const char *value, char *errstr, size_t errstr_size)
{
    if (config_get(cfg, key, NULL))
        return 0;
    return rd_kafka_conf_set(conf, key, value, errstr, errstr_size) == RD_KAFKA_CONF_OK ? 0 : -1;
}

static int set_forced(rd_kafka_conf_t *conf, const char *key, const char *value,
                      char *errstr, size_t errstr_size)
{
    return rd_kafka_conf_set(conf, key, value, errstr, errstr_size) == RD_KAFKA_CONF_OK ? 0 : -1;
}

rd_kafka_t *kafka_producer_new(const db_config_t *cfg, const char *transactional_id,
                               void (*dr_msg_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                               void *opaque, char *errstr, size_t errstr_size)
{
    rd_kafka_t *rk;
    rd_kafka_conf_t *conf = config_kafka_conf(cfg, errstr, errstr_size);
    if (!conf)
        return NULL;
    /* acks=all + idempotence: a retried batch is never written twice and never
     * reordered; docbus relies on that for per-producer seq continuity. */
    if (set_forced(conf, "enable.idempotence", "true", errstr, errstr_size) ||
        set_forced(conf, "acks", "all", errstr, errstr_size) ||
        set_default(conf, cfg, "linger.ms", "10", errstr, errstr_size) ||
        set_default(conf, cfg, "batch.num.messages", "10000", errstr, errstr_size) ||
        set_default(conf, cfg, "queue.buffering.max.messages", "500000", errstr, errstr_size) ||
        set_default(conf, cfg, "compression.codec", "lz4", errstr, errstr_size) ||
        (transactional_id &&
         set_forced(conf, "transactional.id", transactional_id, errstr, errstr_size)))
        goto fail;
    /* Transactions last about half a second. One left open by a killed instance blocks
     * read_committed readers of its partitions (the instance taking them over, report)
     * until the broker times it out: 10 s, not librdkafka's 60 s (two_aggregators fault
     * test: takeover 72 s -> 12 s, docs/bench.md). Producer-only, so set it here. */
    if (transactional_id &&
        set_default(conf, cfg, "transaction.timeout.ms", "10000", errstr, errstr_size))
        goto fail;
    if (dr_msg_cb)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!rk)
        goto fail;
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_t *kafka_consumer_new(const db_config_t *cfg, const char *group_id,
                               void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
                                                    rd_kafka_topic_partition_list_t *, void *),
                               void *opaque, char *errstr, size_t errstr_size)
{
    rd_kafka_t *rk;
    rd_kafka_conf_t *conf = config_kafka_conf(cfg, errstr, errstr_size);
    if (!conf)
        return NULL;
    /* read_committed: aborted transactions of the aggregator (or of a killed one)
     * are never seen; offsets are committed by docbus explicitly, never by a timer. */
    if (set_forced(conf, "isolation.level", "read_committed", errstr, errstr_size) ||
        set_forced(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
        set_default(conf, cfg, "auto.offset.reset", "earliest", errstr, errstr_size) ||
        set_default(conf, cfg, "enable.partition.eof", "true", errstr, errstr_size) ||
        set_default(conf, cfg, "topic.metadata.refresh.interval.ms", "5000", errstr, errstr_size) ||
        set_forced(conf, "group.id", group_id ? group_id : "docbus-nogroup", errstr, errstr_size))
        goto fail;
    /* Most input topics (one inbox per unit) have one partition, and librdkafka's
     * default, the range assignor, deals out each topic on its own: every one-partition
     * topic went to the same member, so a second aggregator got only a share of the
     * events topic. Round robin deals out all the group's partitions together; range
     * stays listed, so that members of an older docbus still find a common protocol
     * during a rolling upgrade. */
    if (group_id && set_default(conf, cfg, "partition.assignment.strategy", "roundrobin,range",
                                errstr, errstr_size))
        goto fail;
    /* A group-less consumer reads bounded ranges (state, audit): when it waits at the
     * last stable offset for transaction markers, the broker should answer at once,
     * not after the default 500 ms fetch wait. It reads through once, as fast as it
     * can verify: 16 MiB fetched ahead is as fast as librdkafka's 64 MiB (eight
     * alternating audits of 414k messages each) and holds 150 MiB less at the peak. */
    if (!group_id && (set_default(conf, cfg, "fetch.wait.max.ms", "10", errstr, errstr_size) ||
                      set_default(conf, cfg, "queued.max.messages.kbytes", "16384", errstr,
                                  errstr_size)))
        goto fail;
    if (rebalance_cb)
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rk)
        goto fail;
    rd_kafka_poll_set_consumer(rk);
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

void kafka_message_release(void *m)
{
    rd_kafka_message_destroy(m);
}

/* Errors a restarted or briefly unreachable broker gives while it recovers. */
static int transient(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
        return 1;
    default:
        return 0;
    }
}

#define KAFKA_RETRY_SLICE_MS 2000

rd_kafka_resp_err_t kafka_metadata(rd_kafka_t *rk, int all_topics, rd_kafka_topic_t *only,
                                   const struct rd_kafka_metadata **md, int total_ms)
{
    rd_kafka_resp_err_t err;
    for (int waited = 0;; waited += KAFKA_RETRY_SLICE_MS) {
        err = rd_kafka_metadata(rk, all_topics, only, md, KAFKA_RETRY_SLICE_MS);
        if (!err || !transient(err) || waited + KAFKA_RETRY_SLICE_MS >= total_ms)
            return err;
        rd_kafka_poll(rk, 200);
    }
}

/* One ListOffsets round for every partition of parts at logical offset which
 * (RD_KAFKA_OFFSET_BEGINNING or _END), results into out; retried while transient. */
static rd_kafka_resp_err_t list_offsets(rd_kafka_t *rk,
                                        const rd_kafka_topic_partition_list_t *parts,
                                        int64_t which, int64_t *out, int total_ms, int *bad)
{
    rd_kafka_resp_err_t err;
    for (int waited = 0;; waited += KAFKA_RETRY_SLICE_MS) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(parts);
        *bad = -1;
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].offset = which;
        err = rd_kafka_offsets_for_times(rk, l, KAFKA_RETRY_SLICE_MS);
        for (int i = 0; !err && i < l->cnt; i++) {
            if ((err = l->elems[i].err))
                *bad = i;
            else
                out[i] = l->elems[i].offset;
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (!err || !transient(err) || waited + KAFKA_RETRY_SLICE_MS >= total_ms)
            return err;
        rd_kafka_poll(rk, 200);
    }
}

rd_kafka_resp_err_t kafka_list_watermarks(rd_kafka_t *rk,
                                          const rd_kafka_topic_partition_list_t *parts,
                                          int64_t *low, int64_t *high, int total_ms, int *bad)
{
    rd_kafka_resp_err_t err;
    *bad = -1;
    if (parts->cnt == 0)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    err = low ? list_offsets(rk, parts, RD_KAFKA_OFFSET_BEGINNING, low, total_ms, bad)
              : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!err)
        err = list_offsets(rk, parts, RD_KAFKA_OFFSET_END, high, total_ms, bad);
    return err;
}

kafka_fail_t kafka_classify(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return KAFKA_FAIL_NONE;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return KAFKA_FAIL_AUTH;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        return KAFKA_FAIL_UNREACHABLE;
    default:
        return KAFKA_FAIL_OTHER;
    }
}

kafka_fail_t kafka_check(rd_kafka_t *rk, int timeout_ms, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    int waited = 0;
    last_error.err = 0;
    /* Short slices, serving the error callback in between: a refused login or an
     * untrusted certificate is reported as soon as librdkafka knows it. */
    while (waited < timeout_ms) {
        int slice = timeout_ms - waited < 500 ? timeout_ms - waited : 500;
        err = rd_kafka_metadata(rk, 0, NULL, &md, slice);
        if (!err) {
            rd_kafka_metadata_destroy(md);
            return KAFKA_FAIL_NONE;
        }
        waited += slice;
        rd_kafka_poll(rk, 0);
        if (last_error.err == RD_KAFKA_RESP_ERR__AUTHENTICATION || last_error.err == RD_KAFKA_RESP_ERR__SSL ||
            (last_error.err && strstr(last_error.reason, "security.protocol")))
            break;
        if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
    }
    switch (last_error.err) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        snprintf(errstr, errstr_size, "the broker refused authentication (%s); check "
                 "sasl.username, sasl.password and sasl.mechanisms", last_error.reason);
        return KAFKA_FAIL_AUTH;
    case RD_KAFKA_RESP_ERR__SSL:
        snprintf(errstr, errstr_size, "TLS handshake with the broker failed (%s); check the "
                 "broker certificate against ssl.ca.location", last_error.reason);
        return KAFKA_FAIL_UNREACHABLE;
    default:
        break;
    }
    if (last_error.err && strstr(last_error.reason, "security.protocol")) {
        snprintf(errstr, errstr_size, "the broker closed the connection (%s); check "
                 "security.protocol (SASL_SSL for a TLS listener)", last_error.reason);
        return KAFKA_FAIL_UNREACHABLE;
    }
    if (kafka_classify(err) == KAFKA_FAIL_UNREACHABLE || err == RD_KAFKA_RESP_ERR__TIMED_OUT)
        snprintf(errstr, errstr_size,
                 "no Kafka broker answered within %d ms (%s); check bootstrap.servers and "
                 "that the broker runs (local: deploy/kafka/local.sh start)",
                 timeout_ms, last_error.err ? last_error.reason : rd_kafka_err2str(err));
    else
        snprintf(errstr, errstr_size, "Kafka metadata request failed: %s", rd_kafka_err2str(err));
    return kafka_classify(err) == KAFKA_FAIL_AUTH ? KAFKA_FAIL_AUTH : KAFKA_FAIL_UNREACHABLE;
}

int kafka_ensure_topics(rd_kafka_t *rk, const char **names, int n, int partitions,
                        const char **configs, int nconfigs, char *errstr, size_t errstr_size)
{
    int rc = 0;
    rd_kafka_NewTopic_t **nt = calloc((size_t)n, sizeof *nt);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    if (!nt || !q) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], partitions, -1, errstr, errstr_size);
        if (!nt[i]) {
            rc = DB_ERR_KAFKA;
            goto out;
        }
        for (int c = 0; c < nconfigs; c++) {
            char key[128];
            const char *eq = strchr(configs[c], '=');
            snprintf(key, sizeof key, "%.*s", (int)(eq - configs[c]), configs[c]);
            rd_kafka_NewTopic_set_config(nt[i], key, eq + 1);
        }
    }
    rd_kafka_CreateTopics(rk, nt, (size_t)n, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    if (!ev) {
        snprintf(errstr, errstr_size, "creating topics: no answer from the broker in 30 s");
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr;
        if (!res) {
            snprintf(errstr, errstr_size, "creating topics: %s", rd_kafka_event_error_string(ev));
            rc = DB_ERR_KAFKA;
            goto out;
        }
        tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(errstr, errstr_size, "creating topic %s: %s",
                         rd_kafka_topic_result_name(tr[i]), rd_kafka_topic_result_error_string(tr[i]));
                rc = DB_ERR_KAFKA;
                goto out;
            }
        }
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (nt) {
        for (int i = 0; i < n; i++)
            if (nt[i])
                rd_kafka_NewTopic_destroy(nt[i]);
        free(nt);
    }
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

int kafka_watermarks(rd_kafka_t *rk, const char *topic, int64_t **low, int64_t **high,
                     int *n, int timeout_ms, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err;
    int rc = 0;
    *low = *high = NULL;
    *n = 0;
    err = kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        snprintf(errstr, errstr_size, "metadata of topic %s: %s", topic,
                 rd_kafka_err2str(err ? err : md->topic_cnt ? md->topics[0].err
                                                          : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        rc = DB_ERR_KAFKA;
        goto out;
    }
    *n = md->topics[0].partition_cnt;
    *low = calloc((size_t)*n + 1, sizeof **low);
    *high = calloc((size_t)*n + 1, sizeof **high);
    if (!*low || !*high) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(*n);
        int64_t *lo = calloc((size_t)*n + 1, sizeof *lo), *hi = calloc((size_t)*n + 1, sizeof *hi);
        int bad = -1;
        for (int i = 0; i < *n; i++)
            rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id);
        err = lo && hi ? kafka_list_watermarks(rk, l, lo, hi, timeout_ms, &bad)
                       : RD_KAFKA_RESP_ERR__FAIL;
        for (int i = 0; !err && i < *n; i++) {
            int32_t p = l->elems[i].partition;
            if (p >= 0 && p < *n) {
                (*low)[p] = lo[i];
                (*high)[p] = hi[i];
            }
        }
        if (err)
            snprintf(errstr, errstr_size, "watermarks of %s [%d]: %s", topic,
                     bad >= 0 ? (int)l->elems[bad].partition : -1, rd_kafka_err2str(err));
        free(lo);
        free(hi);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
            rc = DB_ERR_KAFKA;
            goto out;
        }
    }
out:
    if (rc) {
        free(*low);
        free(*high);
        *low = *high = NULL;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

#define KAFKA_TIMEOUT_MS 10000
#define KAFKA_READ_END_MS 90000  /* how long kafka_read_to_end waits without progress */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The position of rk in topic [partition] (the offset after the last record it has
 * handed out, transaction markers and aborted records included), or -1. */
static int64_t read_position(rd_kafka_t *rk, const char *topic, int32_t partition)
{
    int64_t pos = -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    if (!rd_kafka_position(rk, l) && !l->elems[0].err)
        pos = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return pos;
}

int kafka_read_to_end(rd_kafka_t *rk, const char *topic, kafka_record_cb *cb, void *opaque,
                      char *errstr, size_t errstr_size)
{
    int64_t *low = NULL, *high = NULL, *target = NULL;
    int n = 0, rc, remaining = 0;
    rd_kafka_topic_partition_list_t *tl = NULL;
    kafka_refill_t refill = {0};

    if ((rc = kafka_watermarks(rk, topic, &low, &high, &n, KAFKA_RECOVER_MS, errstr, errstr_size))) {
        if (strstr(errstr, "Unknown topic") || strstr(errstr, "unknown topic"))
            rc = DB_ERR_NOT_FOUND;
        goto out;
    }
    if (n == 0)
        goto out;
    target = malloc((size_t)n * sizeof *target);
    tl = rd_kafka_topic_partition_list_new(n);
    if (!target || !tl) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    /* Every partition, even one that looks empty: the watermarks a read_committed client
     * gets are last stable offsets, and one that stops at a transaction still open may
     * hide records committed after it. */
    for (int p = 0; p < n; p++) {
        rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        target[p] = -1;
    }
    remaining = n;
    if (rd_kafka_assign(rk, tl)) {
        snprintf(errstr, errstr_size, "cannot assign the partitions of %s", topic);
        rc = DB_ERR_KAFKA;
        goto out;
    }
    /* Under read_committed, partition EOF comes at the last stable offset: where the
     * first transaction still open begins (another aggregator mid-transaction, or one
     * whose markers are still being written). Records committed behind it are there but
     * not yet readable, so EOF alone would stop short. The end is the high watermark of
     * the fetch that brought the first EOF (librdkafka caches it); the partition is done
     * when the position reaches it (a position moves past markers and aborted records). */
    int64_t deadline = mono_ms() + KAFKA_READ_END_MS;
    kafka_refill_init(&refill, rk);
    while (remaining > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (mono_ms() > deadline) {
                snprintf(errstr, errstr_size, "reading %s: no progress to its end within %d s "
                         "(a transaction left open by a stopped producer? the broker aborts it "
                         "after its transaction.timeout.ms)", topic, KAFKA_READ_END_MS / 1000);
                rc = DB_ERR_KAFKA;
                goto out;
            }
            continue;
        }
        deadline = mono_ms() + KAFKA_READ_END_MS;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            int32_t p = m->partition;
            if (p >= 0 && p < n && target[p] != INT64_MAX) {
                int64_t lo, hi;
                if (target[p] < 0 && !rd_kafka_get_watermark_offsets(rk, topic, p, &lo, &hi))
                    target[p] = hi;
                if (target[p] >= 0 &&
                    (target[p] <= low[p] || read_position(rk, topic, p) >= target[p])) {
                    target[p] = INT64_MAX; /* done */
                    remaining--;
                }
            }
        } else if (m->err) {
            snprintf(errstr, errstr_size, "reading %s: %s", topic, rd_kafka_message_errstr(m));
            rc = DB_ERR_KAFKA;
        } else {
            rc = cb(opaque, m, errstr, errstr_size);
            kafka_refill_note(&refill, m);
        }
        rd_kafka_message_destroy(m);
        if (rc)
            goto out;
    }
out:
    kafka_refill_clear(&refill);
    if (tl && tl->cnt)
        rd_kafka_assign(rk, NULL);
    if (tl)
        rd_kafka_topic_partition_list_destroy(tl);
    free(low);
    free(high);
    free(target);
    return rc;
}

int kafka_input_ends(rd_kafka_t *rk, const db_config_t *cfg,
                     rd_kafka_topic_partition_list_t **out, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(64);
    char inbox[256], events[256];
    rd_kafka_resp_err_t err;
    int rc = 0;

    *out = NULL;
    config_topic(cfg, "inbox.", inbox, sizeof inbox);
    config_topic(cfg, "events", events, sizeof events);
    if ((err = kafka_metadata(rk, 1, NULL, &md, KAFKA_RECOVER_MS))) {
        snprintf(errstr, errstr_size, "cannot list topics: %s", rd_kafka_err2str(err));
        rc = DB_ERR_KAFKA;
        goto out;
    }
    for (int t = 0; t < md->topic_cnt; t++) {
        const char *name = md->topics[t].topic;
        if (strncmp(name, inbox, strlen(inbox)) != 0 && strcmp(name, events) != 0)
            continue;
        for (int p = 0; p < md->topics[t].partition_cnt; p++)
            rd_kafka_topic_partition_list_add(parts, name, md->topics[t].partitions[p].id);
    }
    {
        int64_t *hi = calloc((size_t)parts->cnt + 1, sizeof *hi);
        int bad = -1;
        err = hi ? kafka_list_watermarks(rk, parts, NULL, hi, KAFKA_RECOVER_MS, &bad)
                 : RD_KAFKA_RESP_ERR__FAIL;
        if (err) {
            snprintf(errstr, errstr_size, "end offset of %s [%d]: %s",
                     bad >= 0 ? parts->elems[bad].topic : "the input topics",
                     bad >= 0 ? (int)parts->elems[bad].partition : -1, rd_kafka_err2str(err));
            rc = DB_ERR_KAFKA;
        }
        for (int i = 0; !err && i < parts->cnt; i++)
            parts->elems[i].offset = hi[i];
        free(hi);
    }
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rc)
        rd_kafka_topic_partition_list_destroy(parts);
    else
        *out = parts;
    return rc;
}

int kafka_group_lag(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *ends, int64_t *lag,
                    int wait_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(ends);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int rc = 0;
    *lag = 0;
    /* The group coordinator may still be loading after a broker restart: retry. */
    for (int waited = 0; c->cnt; waited += KAFKA_RETRY_SLICE_MS) {
        err = rd_kafka_committed(rk, c, KAFKA_RETRY_SLICE_MS);
        if (!err || waited + KAFKA_RETRY_SLICE_MS >= wait_ms ||
            !(transient(err) || err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
              err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
              err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS))
            break;
    }
    if (c->cnt && err) {
        snprintf(errstr, errstr_size, "committed offsets of the group: %s", rd_kafka_err2str(err));
        rc = DB_ERR_KAFKA;
        goto out;
    }
    for (int i = 0; i < c->cnt; i++) {
        int64_t end = ends->elems[i].offset, done = c->elems[i].offset, lo, hi;
        if (done < 0)
            done = 0;
        /* Cached low watermark only (no request per partition: this runs every second
         * in the aggregator): retention may have removed what was never counted. */
        if (done < end && !rd_kafka_get_watermark_offsets(rk, c->elems[i].topic,
                                                          c->elems[i].partition, &lo, &hi) &&
            lo > 0 && done < lo)
            done = lo;
        if (end > done)
            *lag += end - done;
    }
out:
    rd_kafka_topic_partition_list_destroy(c);
    return rc;
}

/* librdkafka 2.0.2 counts a partition as part of the transaction once its AddPartitionsToTxn
 * request is sent, and sends EndTxn(abort) as soon as that count is non-zero. If EndTxn
 * reaches the coordinator before AddPartitionsToTxn, the transaction is still Empty there,
 * the broker answers INVALID_TXN_STATE and librdkafka makes it fatal. A message is only
 * acknowledged after its partition is registered, so flushing first closes the window. */
int kafka_txn_abort(rd_kafka_t *producer, char *errstr, size_t errstr_size)
{
    rd_kafka_error_t *error;
    rd_kafka_flush(producer, 10000);
    error = rd_kafka_abort_transaction(producer, -1);
    if (!error)
        return 0;
    snprintf(errstr, errstr_size, "abort failed: %s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return -1;
}
