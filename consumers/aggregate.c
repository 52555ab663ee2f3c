/* aggregate.c - `docbus aggregate`: verify, deduplicate and count every message into
 * quarterly counts, exactly once (read_committed input; counts, dedup ids, rejects and
 * input offsets committed in one Kafka transaction). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "counts.h"
#include "error.h"
#include "exit_guard.h"
#include "idset.h"
#include "kafka.h"
#include "kafka_refill.h"
#include "metrics.h"
#include "record.h"
#include "seen.h"
#include "txn_commit.h"
#include "verify.h"
#include "verify_pipe.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct agg {
    db_config_t *cfg;
    rd_kafka_t *consumer, *producer;
    verify_pipe_t *pipe;         /* verifies input messages on a second thread */
    kafka_refill_t refill;       /* wakes the consumer's fetcher when its queue drained */
    verifier_t *verifier;
    metrics_t *metrics;
    counts_t *counts;
    idset_t *seen;
    char counts_topic[256], seen_topic[256], rejected_topic[256], events_topic[256];
    char inbox_prefix[256], prefix[200];
    rd_kafka_topic_partition_list_t *targets;   /* input partitions with end offsets at start */
    rd_kafka_topic_partition_list_t *committed; /* offsets our transactions committed since
                                                 * the last assignment (NULL: none) */
    int at_targets;              /* every assigned partition was read to its target */
    int until_caught_up, json, verbose;
    int need_rebuild;            /* 1: after an abort; -1: rebuilding failed (see fatal) */
    char fatal[512];
    int in_txn;                  /* messages were counted since the last hand-over */
    txn_committer_t *committer;  /* commits each transaction on a thread of its own */
    txn_batch_t *batches[2];     /* one being filled here, one with the committer (or spare) */
    txn_batch_t *building;       /* the transaction being counted: rejects, then at the
                                  * hand-over the seen ids, count records and offsets */
    int producer_broken;         /* the producer hit a fatal error; replace it */
    int resets;                  /* producer replacements since the last commit */
    char txid[300];
    uint8_t (*seen_new)[16];     /* ids counted in this transaction, not yet handed over */
    size_t seen_n, seen_cap;
    /* the current message's source, for facts */
    char src[300];
    int64_t now;
    /* totals */
    uint64_t consumed, counted, duplicates, rejected, not_counted_copies, txns, facts;
    int64_t rebuilt_at;          /* ms: when the state was last rebuilt (the stall clock
                                  * restarts there: nothing is consumed while it runs) */
    int64_t txn_msgs;            /* messages counted in the open transaction */
    int64_t flight_msgs;         /* messages counted in the one handed to the committer */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int load_count(void *opaque, const rd_kafka_message_t *m, char *errstr,
                      size_t errstr_size)
{
    struct agg *a = opaque;
    char why[256];
    if (counts_load_record(a->counts, m->key, m->key_len, m->payload, m->len, why, sizeof why)) {
        snprintf(errstr, errstr_size, "%s [%d] offset %" PRId64 ": %s", a->counts_topic,
                 (int)m->partition, m->offset, why);
        return DB_ERR_INVALID;
    }
    return 0;
}

static int load_seen(void *opaque, const rd_kafka_message_t *m, char *errstr,
                     size_t errstr_size)
{
    struct agg *a = opaque;
    char why[256];
    int rc = seen_record_load(a->seen, m->key, m->key_len, m->payload, m->len, why, sizeof why);
    if (rc == DB_ERR_INVALID)
        snprintf(errstr, errstr_size, "%s [%d] offset %" PRId64 ": %s", a->seen_topic,
                 (int)m->partition, m->offset, why);
    return rc;
}

/* Rebuilds the counts and the dedup set from docbus.counts and docbus.seen: the only
 * source of truth is Kafka, so a restarted or newly assigned aggregator starts exactly
 * where the last committed transaction left off. */
static int rebuild_state(struct agg *a, char *errstr, size_t errstr_size)
{
    int rc;
    rd_kafka_t *rk;
    counts_destroy(a->counts);
    a->counts = counts_new();
    idset_clear(a->seen);
    if (!a->counts)
        return DB_ERR_NOMEM;
    rk = kafka_consumer_new(a->cfg, NULL, NULL, NULL, errstr, errstr_size);
    if (!rk)
        return DB_ERR_KAFKA;
    rc = kafka_read_to_end(rk, a->counts_topic, load_count, a, errstr, errstr_size);
    if (!rc)
        rc = kafka_read_to_end(rk, a->seen_topic, load_seen, a, errstr, errstr_size);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    a->rebuilt_at = now_ms();
    if (rc)
        return rc;
    if (a->verbose >= 0)
        fprintf(stderr, "docbus aggregate: state rebuilt from Kafka: %zu message ids seen\n",
                idset_size(a->seen));
    return 0;
}

/* rebuild_state, retried for up to REBUILD_PATIENCE_S while the broker recovers (a
 * restarted broker answers "not leader" or times out for a while). */
#define REBUILD_PATIENCE_S 60
static int rebuild_state_retrying(struct agg *a, char *errstr, size_t errstr_size)
{
    int rc = 0;
    for (int waited = 0; waited <= REBUILD_PATIENCE_S && !stop_requested; waited += 2) {
        if (!(rc = rebuild_state(a, errstr, errstr_size)) || rc == DB_ERR_NOMEM || rc == DB_ERR_INVALID)
            return rc;
        if (a->verbose >= 0)
            fprintf(stderr, "docbus aggregate: rebuilding state: %s; retrying\n", errstr);
        sleep(2);
    }
    return rc;
}

/* Forgets what was counted since the last hand-over (the state is rebuilt from Kafka
 * before counting goes on). */
static void drop_txn(struct agg *a)
{
    a->in_txn = 0;
    a->seen_n = 0;
    txn_batch_clear(a->building);
}

static void remember_committed(struct agg *a, const rd_kafka_topic_partition_list_t *pos);

/* Collects the outcome of the transaction handed to the committer, if any (waiting for
 * it), and acts on it: a commit is remembered; an abort makes the loop recount from the
 * last commit, a fatal error replace the producer first. Returns the outcome. */
static txn_result_t collect_txn(struct agg *a)
{
    char errstr[512] = "";
    txn_batch_t *done = NULL;
    txn_result_t r = a->committer ? txn_committer_wait(a->committer, &done, errstr, sizeof errstr)
                                  : TXN_COMMITTED;
    if (!done)
        return TXN_COMMITTED;
    if (r == TXN_COMMITTED) {
        if (txn_batch_offsets(done))
            remember_committed(a, txn_batch_offsets(done));
        a->txns++;
        a->resets = 0;
        if (a->verbose > 0)
            fprintf(stderr, "docbus aggregate: transaction %" PRIu64 " committed (%" PRId64
                    " messages, %zu records)\n", a->txns, a->flight_msgs, txn_batch_records(done));
    } else {
        /* what was counted since is dropped too: the recount starts at the last commit */
        drop_txn(a);
        if (r == TXN_FATAL) {
            cli_err("aggregate", "transaction failed fatally: %s", errstr);
            a->producer_broken = 1;
        } else {
            cli_err("aggregate", "transaction aborted (%s); recounting from the last commit", errstr);
        }
        a->need_rebuild = 1;
    }
    txn_batch_clear(done);
    return r;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct agg *a = opaque;
    /* the transaction in flight ends before the partitions move (its offsets are of
     * this generation); another member may then commit past what we committed */
    collect_txn(a);
    if (a->committed)
        rd_kafka_topic_partition_list_destroy(a->committed);
    a->committed = NULL;
    a->at_targets = 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* Another instance may have counted these partitions until now: its last
         * transaction is committed before we get them, so rebuild from the changelogs
         * here, before the first message of the new assignment can arrive. */
        if (rebuild_state_retrying(a, a->fatal, sizeof a->fatal))
            a->need_rebuild = -1;
        if (a->verbose >= 0)
            fprintf(stderr, "docbus aggregate: assigned %d partitions\n", parts->cnt);
        rd_kafka_assign(rk, parts);
    } else {
        /* Losing partitions: drop what was counted since the last hand-over, so the next
         * owner recounts from the last committed offsets and never sees half our work;
         * the messages still being verified go with it. */
        verify_pipe_discard(a->pipe);
        drop_txn(a);
        rd_kafka_assign(rk, NULL);
    }
}

/* Adds a dead letter for a message that failed verification or counting to the
 * transaction; 0 or DB_ERR_NOMEM. */
static int reject(struct agg *a, const rd_kafka_message_t *m, int code, const char *why,
                   const char *producer)
{
    char key[320];
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s?, s:I, s:I}", "reason", db_errname(code),
                          "detail", why, "topic", rd_kafka_topic_name(m->rkt), "partition",
                          (int)m->partition, "offset", (json_int_t)m->offset, "producer",
                          producer, "rejected_at", (json_int_t)a->now, "bytes",
                          (json_int_t)m->len);
    char *value = json_dumps(j, JSON_COMPACT);
    int klen = snprintf(key, sizeof key, "%s:%d:%" PRId64, rd_kafka_topic_name(m->rkt),
                        (int)m->partition, m->offset);
    int rc = value ? txn_batch_add(a->building, a->rejected_topic, key, (size_t)klen, value,
                                   strlen(value)) : DB_ERR_NOMEM;
    if (a->verbose > 0)
        fprintf(stderr, "docbus aggregate: rejected %s: %s: %s\n", key, db_errname(code), why);
    free(value);
    json_decref(j);
    a->rejected++;
    return rc;
}

static int on_fact(const metrics_fact_t *f, void *opaque)
{
    struct agg *a = opaque;
    a->facts++;
    char errstr[256];
    return counts_apply(a->counts, a->metrics, f, a->src, a->now, errstr, sizeof errstr);
}

/* Counts one input message, verified by the pipe (inside the open transaction). */
static int process(struct agg *a, verify_slot_t *s)
{
    const rd_kafka_message_t *m = s->owner;
    const verified_t *vp = &s->v;
    char errstr[512];
    int rc;
    a->consumed++;
    if (s->rc)
        return reject(a, m, s->rc, s->errstr, NULL);
    if (!record_counted_copy(a->prefix, rd_kafka_topic_name(m->rkt), vp->content.body_type, vp->body)) {
        a->not_counted_copies++;
        return 0;
    }
    if (idset_has(a->seen, vp->content.msg_id)) {
        a->duplicates++;
        return 0;
    }
    snprintf(a->src, sizeof a->src, "%s:%d", rd_kafka_topic_name(m->rkt), (int)m->partition);
    /* metrics_eval checks the whole body before the first fact, so a message with an
     * impossible value is rejected whole, never counted in part. */
    rc = metrics_eval(a->metrics, vp->content.body_type, vp->body, on_fact, a, errstr, sizeof errstr);
    if (rc == DB_ERR_INVALID)
        return reject(a, m, rc, errstr, vp->content.producer);
    if (rc)
        return rc;
    if (idset_add(a->seen, vp->content.msg_id) < 0)
        return DB_ERR_NOMEM;
    if (a->seen_n == a->seen_cap) {
        void *grown = realloc(a->seen_new, (a->seen_cap + SEEN_IDS_MAX) * sizeof *a->seen_new);
        if (!grown)
            return DB_ERR_NOMEM;
        a->seen_new = grown;
        a->seen_cap += SEEN_IDS_MAX;
    }
    memcpy(a->seen_new[a->seen_n++], vp->content.msg_id, 16);
    a->counted++;
    return 0;
}

/* verify_pipe_drain's callback: counts one proven message. */
static int count_one(void *opaque, verify_slot_t *s)
{
    struct agg *a = opaque;
    if (process(a, s)) {
        cli_err("aggregate", "counting failed (out of memory?)");
        return EXIT_FAIL;
    }
    a->txn_msgs++;
    return 0;
}

/* Adds the ids counted in this transaction to it, for docbus.seen, SEEN_IDS_MAX to a
 * record (a record per id made the broker validate ~90k tiny records per 128k messages,
 * three times the CPU of the rest of its work for the aggregator). */
static int add_seen(struct agg *a)
{
    int rc = 0;
    for (size_t i = 0; i < a->seen_n && !rc; i += SEEN_IDS_MAX) {
        size_t n = a->seen_n - i < SEEN_IDS_MAX ? a->seen_n - i : SEEN_IDS_MAX, len;
        char *value;
        if ((rc = seen_record_encode((const uint8_t(*)[16])a->seen_new[i], n, &value, &len)))
            break;
        rc = txn_batch_add(a->building, a->seen_topic, a->seen_new[i], 16, value, len);
        free(value);
    }
    a->seen_n = 0;
    return rc;
}

static int add_dirty(const char *key, size_t klen, const char *value, size_t vlen, void *opaque)
{
    struct agg *a = opaque;
    return txn_batch_add(a->building, a->counts_topic, key, klen, value, vlen);
}

/* Records the offsets in pos (the positions a transaction just committed; invalid ones
 * were not sent) as the group's committed offsets of those partitions. */
static void remember_committed(struct agg *a, const rd_kafka_topic_partition_list_t *pos)
{
    if (!a->committed && !(a->committed = rd_kafka_topic_partition_list_new(pos->cnt)))
        return;
    for (int i = 0; i < pos->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &pos->elems[i];
        rd_kafka_topic_partition_t *c;
        if (p->offset < 0)
            continue;
        if (!(c = rd_kafka_topic_partition_list_find(a->committed, p->topic, p->partition)))
            c = rd_kafka_topic_partition_list_add(a->committed, p->topic, p->partition);
        c->offset = p->offset;
    }
}

/* Hands the transaction to the committer: count updates, seen ids, rejects and the
 * input offsets (the consumer's positions: every message polled so far is counted), to
 * be committed together or not at all while counting goes on. The committer must be
 * idle. Returns 0, or DB_ERR_NOMEM / DB_ERR_KAFKA with errstr (nothing handed over). */
static int hand_over_txn(struct agg *a, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *pos = NULL;
    txn_batch_t *next;
    if (add_seen(a) || counts_dirty_foreach(a->counts, add_dirty, a)) {
        snprintf(errstr, errstr_size, "gathering count updates failed (out of memory?)");
        return DB_ERR_NOMEM;
    }
    if (rd_kafka_assignment(a->consumer, &pos)) {
        snprintf(errstr, errstr_size, "reading the assignment failed");
        return DB_ERR_KAFKA;
    }
    rd_kafka_position(a->consumer, pos);
    txn_batch_set_offsets(a->building, pos, rd_kafka_consumer_group_metadata(a->consumer));
    counts_clear_dirty(a->counts);
    txn_committer_submit(a->committer, a->building);
    a->flight_msgs = a->txn_msgs;
    next = a->building == a->batches[0] ? a->batches[1] : a->batches[0];
    txn_batch_clear(next);
    a->building = next;
    a->in_txn = 0;
    return 0;
}

/* Puts every assigned partition back at its committed offset (after an abort), by
 * seeking: re-assigning the same partitions while their fetchers are still stopping trips
 * an assertion in librdkafka 2.0.2 (confluentinc/librdkafka#5573). A partition without a
 * committed offset goes back to its beginning (auto.offset.reset=earliest). */
static int rewind_to_committed(struct agg *a, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(a->consumer, &parts);
    if (!err)
        err = rd_kafka_committed(a->consumer, parts, 10000);
    if (!err && parts->cnt > 0) {
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].offset < 0)
                parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        error = rd_kafka_seek_partitions(a->consumer, parts, 10000);
        for (int i = 0; !error && !err && i < parts->cnt; i++)
            err = parts->elems[i].err;
    }
    if (error)
        snprintf(errstr, errstr_size, "seeking to the committed offsets: %s",
                 rd_kafka_error_string(error));
    else if (err)
        snprintf(errstr, errstr_size, "reading the committed offsets: %s", rd_kafka_err2str(err));
    if (error)
        rd_kafka_error_destroy(error);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    return err || error ? DB_ERR_KAFKA : 0;
}

/* The group's lag from the offsets this instance committed itself, when it committed
 * every target partition since its assignment: returns 1 with *lag set, else 0 (only
 * the coordinator knows; asking it costs a round trip, and right after a commit a retry
 * while the transaction's offsets settle, ~100 ms). */
static int own_lag(struct agg *a, int64_t *lag)
{
    int64_t sum = 0;
    if (!a->committed)
        return 0;
    for (int i = 0; i < a->targets->cnt; i++) {
        const rd_kafka_topic_partition_t *t = &a->targets->elems[i], *c;
        if (!(c = rd_kafka_topic_partition_list_find(a->committed, t->topic, t->partition)))
            return 0;
        if (t->offset > c->offset)
            sum += t->offset - c->offset;
    }
    *lag = sum;
    return 1;
}

/* Returns 1 when every partition assigned to this instance has been read up to its
 * target (the end offset seen at start), so that what is in the pipe is the last to
 * count before --until-caught-up may end; 0 otherwise or when unknown. */
static int read_to_targets(struct agg *a)
{
    rd_kafka_topic_partition_list_t *pos = NULL;
    int done = 1;
    if (rd_kafka_assignment(a->consumer, &pos) || !pos)
        return 0;
    rd_kafka_position(a->consumer, pos);
    for (int i = 0; i < pos->cnt && done; i++) {
        const rd_kafka_topic_partition_t *p = &pos->elems[i], *t =
            rd_kafka_topic_partition_list_find(a->targets, p->topic, p->partition);
        if (t && t->offset > 0 && p->offset < t->offset)
            done = 0;   /* an invalid position (nothing read yet) is negative */
    }
    done = done && pos->cnt > 0;
    rd_kafka_topic_partition_list_destroy(pos);
    return done;
}

/* Returns 1 when the group's committed offsets reached the end offsets seen at start
 * (the --until-caught-up target); *lag gets the messages still to go (-1: unknown). A
 * busy coordinator (a rebalance waiting for a member) is waited for at most wait_ms. */
static int caught_up(struct agg *a, int64_t *lag, int64_t wait_ms)
{
    char errstr[256];
    if (own_lag(a, lag))
        return *lag == 0;
    if (kafka_group_lag(a->consumer, a->targets, lag, (int)wait_ms, errstr, sizeof errstr)) {
        *lag = -1;
        return 0;
    }
    return *lag == 0;
}

/* --until-caught-up's stall limit: the group's committed lag must fall now and then (a
 * consumer that never gets its partitions back, or transactions that abort every time,
 * would otherwise keep it waiting for ever). The clock restarts at a new lowest lag and
 * after a state rebuild (nothing is consumed while that runs). */
struct stall {
    int64_t limit_ms, best_lag, since;
};

/* How long the next lag check may wait for the group: what is left of the limit, and
 * no longer than a restarting broker needs (the consumer is not polled meanwhile). */
static int64_t stall_wait_ms(struct stall *st, int64_t rebuilt_at, int64_t now)
{
    int64_t left;
    if (rebuilt_at > st->since)
        st->since = rebuilt_at;
    left = st->limit_ms - (now - st->since);
    return left < KAFKA_RECOVER_MS ? left : KAFKA_RECOVER_MS;
}

/* Takes the lag just measured (-1: unknown); 1 when the limit has passed without a new
 * lowest lag. */
static int stall_over(struct stall *st, int64_t lag, int64_t now)
{
    if (lag >= 0 && lag < st->best_lag) {
        st->best_lag = lag;
        st->since = now;
        return 0;
    }
    return now - st->since >= st->limit_ms;
}

/* Creates the transactional producer under a->txid, checks the broker and registers
 * the id (fencing any predecessor and aborting what it left open). Returns an exit code. */
static int producer_open(struct agg *a, char *errstr, size_t errstr_size)
{
    rd_kafka_error_t *error;
    a->producer = kafka_producer_new(a->cfg, a->txid, NULL, a, errstr, errstr_size);
    if (!a->producer)
        return EXIT_CONFIG;
    switch (kafka_check(a->producer, 10000, errstr, errstr_size)) {
    case KAFKA_FAIL_NONE:
        break;
    case KAFKA_FAIL_AUTH:
        return EXIT_AUTH;
    default:
        return EXIT_BROKER;
    }
    error = rd_kafka_init_transactions(a->producer, 30000);
    if (error) {
        snprintf(errstr, errstr_size, "init_transactions: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return EXIT_BROKER;
    }
    return EXIT_OK;
}

#define MAX_RESETS 3
/* Replaces a producer left in a fatal state by a new one under the same transactional
 * id; the caller then recounts from the last commit. Returns 0, or an exit code when the
 * producer was fenced (another live instance uses our --instance id) or keeps failing. */
static int producer_reset(struct agg *a, char *errstr, size_t errstr_size)
{
    char why[512];
    rd_kafka_resp_err_t err = rd_kafka_fatal_error(a->producer, why, sizeof why);
    if (err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
        err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
        snprintf(errstr, errstr_size, "fenced as transactional id \"%s\": either another "
                 "aggregator runs with the same --instance (give each its own), or the broker "
                 "aborted our open transaction after transaction.timeout.ms while it was "
                 "unreachable; restart the aggregator (state is rebuilt from Kafka, nothing is "
                 "lost)", a->txid);
        return EXIT_BROKER;
    }
    if (++a->resets > MAX_RESETS) {
        snprintf(errstr, errstr_size, "the transactional producer failed %d times in a row "
                 "(last: %s); check the broker, then restart the aggregator (state is rebuilt "
                 "from Kafka, nothing is lost)", MAX_RESETS, err ? why : "unknown");
        return EXIT_BROKER;
    }
    if (a->verbose >= 0)
        cli_err("aggregate", "replacing the transactional producer after a fatal error (%s); "
                "recounting from the last commit", err ? why : "unknown");
    rd_kafka_destroy(a->producer);
    a->producer = NULL;
    a->producer_broken = 0;
    a->need_rebuild = 1;
    drop_txn(a);
    int rc = producer_open(a, errstr, errstr_size);
    txn_committer_set_producer(a->committer, a->producer);
    return rc;
}

static int setup(struct agg *a, const char *instance, char *errstr, size_t errstr_size)
{
    const char *group = config_get(a->cfg, "docbus.aggregate.group", "docbus-aggregate");
    const char *metrics_path = config_get(a->cfg, "docbus.metrics", "");
    const char *changelog_cfg[] = {"cleanup.policy=compact"};
    const char *rejected_cfg[] = {"retention.ms=-1"};
    const char *names[2];
    int rc;

    config_topic(a->cfg, "counts", a->counts_topic, sizeof a->counts_topic);
    config_topic(a->cfg, "seen", a->seen_topic, sizeof a->seen_topic);
    config_topic(a->cfg, "rejected", a->rejected_topic, sizeof a->rejected_topic);
    config_topic(a->cfg, "events", a->events_topic, sizeof a->events_topic);
    config_topic(a->cfg, "inbox.", a->inbox_prefix, sizeof a->inbox_prefix);
    config_topic(a->cfg, "", a->prefix, sizeof a->prefix);

    if ((rc = metrics_load(*metrics_path ? metrics_path : NULL, &a->metrics, errstr, errstr_size)))
        return EXIT_CONFIG;
    a->verifier = verifier_new_cfg(a->cfg, errstr, errstr_size);
    if (!a->verifier)
        return EXIT_CONFIG;
    if (!(a->pipe = verify_pipe_new(a->verifier, kafka_message_release, 0))) {
        snprintf(errstr, errstr_size, "cannot start the verifying thread (out of memory?)");
        return EXIT_FAIL;
    }
    a->seen = idset_new();
    if (!a->seen)
        return EXIT_FAIL;

    /* One stable transactional id per instance: a restarted instance fences its killed
     * predecessor and aborts whatever that one left open. */
    snprintf(a->txid, sizeof a->txid, "%s-%s", group, instance);
    if ((rc = producer_open(a, errstr, errstr_size)))
        return rc;
    if (!(a->batches[0] = txn_batch_new()) || !(a->batches[1] = txn_batch_new()) ||
        !(a->committer = txn_committer_new(a->producer))) {
        snprintf(errstr, errstr_size, "cannot start the committing thread (out of memory?)");
        return EXIT_FAIL;
    }
    a->building = a->batches[0];
    names[0] = a->counts_topic;
    names[1] = a->seen_topic;
    if (kafka_ensure_topics(a->producer, names, 2, 4, changelog_cfg, 1, errstr, errstr_size))
        return EXIT_BROKER;
    names[0] = a->rejected_topic;
    names[1] = a->events_topic;
    if (kafka_ensure_topics(a->producer, names, 2, 4, rejected_cfg, 1, errstr, errstr_size))
        return EXIT_BROKER;

    a->consumer = kafka_consumer_new(a->cfg, group, rebalance_cb, a, errstr, errstr_size);
    if (!a->consumer)
        return EXIT_CONFIG;
    kafka_refill_init(&a->refill, a->consumer);
    if (a->until_caught_up && kafka_input_ends(a->consumer, a->cfg, &a->targets, errstr, errstr_size))
        return EXIT_BROKER;
    return EXIT_OK;
}

int cmd_aggregate(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"until-caught-up", no_argument, 0, 'u'},
        {"json", no_argument, 0, 'j'},
        {"instance", required_argument, 0, 'i'},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    struct agg a = {0};
    const char *instance = "0";
    char errstr[1024], pattern[600];
    int early, opt, rc = EXIT_FAIL, show = cli_progress_enabled();
    int64_t txn_start = 0, last_progress = 0, t0 = now_ms(), lag = 0, txn_max_ms, txn_max_msgs;
    int64_t txn_timeout_ms, targets_checked = 0;
    struct stall stall = {0, INT64_MAX, t0};
    int idle = 0;
    rd_kafka_topic_partition_list_t *sub = NULL;

    while ((opt = cli_getopt(&cc, argc, argv, "aggregate", CLI_COMMON_SHORT "uji:", longopts, &early)) > 0) {
        if (opt == 'u')
            a.until_caught_up = 1;
        else if (opt == 'j')
            a.json = 1;
        else if (opt == 'i')
            instance = optarg;
    }
    if (early >= 0)
        return early;
    if (optind != argc)
        return cli_usage_error("aggregate", "unexpected argument \"%s\"", argv[optind]);
    a.verbose = cc.verbose;
    if (!(a.cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    /* Each commit costs a few broker round trips (~30-80 ms here): fewer, larger
     * transactions count faster; a smaller interval shows counts sooner. */
    if (config_get_int(a.cfg, "docbus.aggregate.commit.interval.ms", 1000, 10, 60000,
                       &txn_max_ms, errstr, sizeof errstr) ||
        config_get_int(a.cfg, "docbus.aggregate.commit.messages", 100000, 1, 10000000,
                       &txn_max_msgs, errstr, sizeof errstr) ||
        config_get_int(a.cfg, "transaction.timeout.ms", 10000, 1000, INT32_MAX, &txn_timeout_ms,
                       errstr, sizeof errstr) ||
        config_get_int(a.cfg, "docbus.aggregate.stall.timeout.ms", 120000, 1000, INT32_MAX,
                       &stall.limit_ms, errstr, sizeof errstr)) {
        cli_err("aggregate", "%s", errstr);
        config_destroy(a.cfg);
        return EXIT_CONFIG;
    }
    /* The broker aborts a transaction open longer than transaction.timeout.ms (10 s by
     * default here, lib/kafka.c), which would fence this instance: keep a margin. */
    if (txn_max_ms * 2 > txn_timeout_ms) {
        cli_err("aggregate", "docbus.aggregate.commit.interval.ms=%" PRId64 " must be at most half "
                "of transaction.timeout.ms (%" PRId64 "): the broker aborts a transaction open "
                "longer than that; raise transaction.timeout.ms too", txn_max_ms, txn_timeout_ms);
        config_destroy(a.cfg);
        return EXIT_CONFIG;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = setup(&a, instance, errstr, sizeof errstr);
    if (rc) {
        cli_err("aggregate", "%s", errstr);
        goto out;
    }
    if (a.until_caught_up && a.targets->cnt == 0 && a.verbose >= 0)
        cli_err("aggregate", "no input topics yet (%s* or %s): nothing to count",
                a.inbox_prefix, a.events_topic);
    if (a.until_caught_up && caught_up(&a, &lag, KAFKA_RECOVER_MS)) {
        rc = EXIT_OK;
        goto summary;
    }
    /* librdkafka treats a subscription starting with ^ as a regex: every unit's inbox,
     * including inboxes created after we started, plus the events topic. */
    snprintf(pattern, sizeof pattern, "^%s.*", a.inbox_prefix);
    sub = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(sub, pattern, RD_KAFKA_PARTITION_UA);
    rd_kafka_topic_partition_list_add(sub, a.events_topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(a.consumer, sub)) {
        cli_err("aggregate", "cannot subscribe to %s and %s", pattern, a.events_topic);
        rc = EXIT_BROKER;
        goto out;
    }

    while (!stop_requested) {
        /* with messages in the pipe, do not sleep in poll: count them as they are proven */
        size_t pending = verify_pipe_in_flight(a.pipe);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a.consumer, pending ? 0 : 100);
        int got = m != NULL;
        a.now = now_ms();
        if (a.need_rebuild < 0) {
            cli_err("aggregate", "rebuilding state from Kafka failed: %s", a.fatal);
            rc = EXIT_BROKER;
            if (m)
                rd_kafka_message_destroy(m);
            goto out;
        }
        if (a.producer_broken && (rc = producer_reset(&a, errstr, sizeof errstr))) {
            cli_err("aggregate", "%s", errstr);
            if (m)
                rd_kafka_message_destroy(m);
            goto out;
        }
        if (a.need_rebuild > 0) {
            /* After an aborted transaction: recount from the last committed offsets. */
            a.need_rebuild = 0;
            if (m) {
                rd_kafka_message_destroy(m);
                m = NULL;
            }
            verify_pipe_discard(a.pipe);
            if (rebuild_state_retrying(&a, errstr, sizeof errstr) || rewind_to_committed(&a, errstr, sizeof errstr)) {
                cli_err("aggregate", "recovering after an aborted transaction failed: %s", errstr);
                rc = EXIT_BROKER;
                goto out;
            }
        }
        if (m && !m->err) {
            if (!a.in_txn) {
                a.in_txn = 1;
                txn_start = a.now;
                a.txn_msgs = 0;
            }
            kafka_refill_note(&a.refill, m);
            if (verify_pipe_full(a.pipe) && (rc = verify_pipe_drain(a.pipe, VERIFY_DRAIN_BURST, count_one, &a))) {
                rd_kafka_message_destroy(m);
                goto out;
            }
            verify_pipe_push(a.pipe, m->payload, m->len, m);   /* the pipe owns m now */
            m = NULL;
        } else if (m && m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (kafka_classify(m->err) == KAFKA_FAIL_AUTH) {
                cli_err("aggregate", "%s", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                rc = EXIT_AUTH;
                goto out;
            }
            if (a.verbose > 0)
                cli_err("aggregate", "consumer: %s", rd_kafka_message_errstr(m));
        }
        if (m)
            rd_kafka_message_destroy(m);
        /* --until-caught-up: once every assigned partition is read to its target, count
         * what is left, commit and check now, rather than after a poll that waited in
         * vain (a partition's end-of-partition event comes with a later fetch). Looked
         * at when the local queue ran dry, at most every 5 ms. */
        if (a.until_caught_up && !got && a.now - targets_checked >= 5) {
            targets_checked = a.now;
            if ((a.at_targets = read_to_targets(&a)) && a.verbose > 0)
                fprintf(stderr, "docbus aggregate: every assigned partition read to its target\n");
        }
        /* count what the pipe has proven; all of it when the input has nothing new */
        if ((rc = verify_pipe_drain(a.pipe, got && !a.at_targets ? VERIFY_DRAIN_READY : VERIFY_DRAIN_ALL,
                                    count_one, &a)))
            goto out;
        /* --until-caught-up: input idle for one full poll means the end may be reached;
         * commit now and ask, rather than at the next transaction or progress tick. A
         * poll that did not wait (messages were in the pipe) finding nothing only means
         * the next fetch is on its way. */
        idle = a.until_caught_up && ((!got && pending == 0) || a.at_targets);
        a.at_targets = 0;
        /* a transaction the committer has ended: its outcome now, not at the next one */
        if (txn_committer_busy(a.committer) && txn_committer_done(a.committer) &&
            collect_txn(&a) != TXN_COMMITTED)
            continue;
        if (a.in_txn && (a.txn_msgs >= txn_max_msgs || a.now - txn_start >= txn_max_ms ||
                         stop_requested || idle)) {
            /* the offsets committed are the consumer's positions: every message polled
             * so far must be counted first; one transaction at a time */
            if ((rc = verify_pipe_drain(a.pipe, VERIFY_DRAIN_ALL, count_one, &a)))
                goto out;
            if (collect_txn(&a) != TXN_COMMITTED)
                continue;
            if (hand_over_txn(&a, errstr, sizeof errstr)) {
                cli_err("aggregate", "%s", errstr);
                rc = EXIT_FAIL;
                goto out;
            }
            /* at the end, the answer is needed before the lag is asked */
            if ((idle || stop_requested) && collect_txn(&a) != TXN_COMMITTED)
                continue;
        }
        if (a.until_caught_up && !a.in_txn && !txn_committer_busy(a.committer) &&
            (idle || a.now - last_progress >= 1000)) {
            last_progress = a.now;
            if (caught_up(&a, &lag, stall_wait_ms(&stall, a.rebuilt_at, a.now)))
                break;
            a.now = now_ms();
            if (stall_over(&stall, lag, a.now)) {
                if (show)
                    fputc('\n', stderr);
                char lagtxt[40] = "unknown";
                if (lag >= 0)
                    snprintf(lagtxt, sizeof lagtxt, "%" PRId64, lag);
                cli_err("aggregate", "no progress toward the end for %" PRId64 " s (group lag %s, "
                        "%" PRIu64 " consumed): the broker or the consumer group is stuck; check "
                        "the broker, then run again (state is rebuilt from Kafka, nothing is lost; "
                        "docbus.aggregate.stall.timeout.ms sets this limit)",
                        stall.limit_ms / 1000, lagtxt, a.consumed);
                rc = EXIT_BROKER;
                goto out;
            }
            if (show)
                fprintf(stderr, "\r%" PRIu64 " consumed, %" PRIu64 " counted, %" PRIu64
                        " rejected, lag %" PRId64 "   ", a.consumed, a.counted, a.rejected, lag);
        } else if (!a.until_caught_up && show && a.now - last_progress >= 1000) {
            last_progress = a.now;
            fprintf(stderr, "\r%" PRIu64 " consumed, %" PRIu64 " counted, %" PRIu64 " rejected   ",
                    a.consumed, a.counted, a.rejected);
        }
    }
    collect_txn(&a);   /* stopped between a hand-over and its outcome */
    if (show)
        fputc('\n', stderr);
    rc = EXIT_OK;
summary:
    if (a.verbose >= 0)
        fprintf(stderr,
                "docbus aggregate: %" PRIu64 " consumed, %" PRIu64 " counted, %" PRIu64
                " duplicates, %" PRIu64 " extra copies, %" PRIu64 " rejected, %" PRIu64
                " transactions, %.1f s\n",
                a.consumed, a.counted, a.duplicates, a.not_counted_copies, a.rejected, a.txns,
                (now_ms() - t0) / 1000.0);
    if (a.verbose > 0)
        fprintf(stderr, "docbus aggregate: fetcher woken %" PRIu64 " times\n", a.refill.wakeups);
    if (a.json)
        printf("{\"consumed\":%" PRIu64 ",\"counted\":%" PRIu64 ",\"duplicates\":%" PRIu64
               ",\"extra_copies\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"facts\":%" PRIu64
               ",\"transactions\":%" PRIu64 ",\"fetcher_wakeups\":%" PRIu64 ",\"seconds\":%.3f}\n",
               a.consumed, a.counted, a.duplicates, a.not_counted_copies, a.rejected, a.facts,
               a.txns, a.refill.wakeups, (now_ms() - t0) / 1000.0);
out:
    /* what the transactions committed stands; closing must not hang the exit (the guard
     * ends the process without flushing stdio: flush the summary first) */
    fflush(stdout);
    fflush(stderr);
    exit_guard_arm(60, rc);
    if (sub)
        rd_kafka_topic_partition_list_destroy(sub);
    if (a.consumer) {
        verify_pipe_discard(a.pipe);   /* its messages go back before their consumer */
        kafka_refill_clear(&a.refill);
        rd_kafka_consumer_close(a.consumer);
        rd_kafka_destroy(a.consumer);
    }
    txn_committer_destroy(a.committer);   /* after the consumer's last rebalance, before
                                           * the producer it uses */
    txn_batch_destroy(a.batches[0]);
    txn_batch_destroy(a.batches[1]);
    if (a.producer)
        rd_kafka_destroy(a.producer);
    verify_pipe_destroy(a.pipe);   /* before the verifier its thread uses */
    verifier_destroy(a.verifier);
    metrics_destroy(a.metrics);
    counts_destroy(a.counts);
    idset_destroy(a.seen);
    free(a.seen_new);
    if (a.targets)
        rd_kafka_topic_partition_list_destroy(a.targets);
    config_destroy(a.cfg);
    return rc;
}
