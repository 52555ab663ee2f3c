/* txn_commit.c - one committer thread per transactional producer. The caller hands over
 * a batch and goes on; the thread runs begin, produce, send_offsets and commit, and
 * hands the batch back with the outcome. One transaction at a time: Kafka allows one
 * open transaction per producer, and a batch's offsets must not be committed before the
 * batch's predecessor. */
#include "txn_commit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kafka.h"

struct txn_rec {
    const char *topic;
    size_t key_off, klen, val_off, vlen;
    int tombstone;
};

struct txn_batch {
    char *buf;                 /* keys and values, back to back */
    size_t len, cap;
    struct txn_rec *recs;
    size_t n, rcap;
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_consumer_group_metadata_t *gm;
};

txn_batch_t *txn_batch_new(void)
{
    return calloc(1, sizeof(txn_batch_t));
}

/* Frees b's offsets and group metadata. */
static void drop_offsets(txn_batch_t *b)
{
    if (b->offsets)
        rd_kafka_topic_partition_list_destroy(b->offsets);
    if (b->gm)
        rd_kafka_consumer_group_metadata_destroy(b->gm);
    b->offsets = NULL;
    b->gm = NULL;
}

void txn_batch_clear(txn_batch_t *b)
{
    b->len = 0;
    b->n = 0;
    drop_offsets(b);
}

void txn_batch_destroy(txn_batch_t *b)
{
    if (!b)
        return;
    txn_batch_clear(b);
    free(b->buf);
    free(b->recs);
    free(b);
}

/* Makes room for more bytes in b->buf; 0 or DB_ERR_NOMEM. */
static int batch_reserve(txn_batch_t *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + more)
        cap *= 2;
    char *grown = realloc(b->buf, cap);
    if (!grown)
        return DB_ERR_NOMEM;
    b->buf = grown;
    b->cap = cap;
    return 0;
}

int txn_batch_add(txn_batch_t *b, const char *topic, const void *key, size_t klen,
                  const void *value, size_t vlen)
{
    if (b->n == b->rcap) {
        size_t rcap = b->rcap ? b->rcap * 2 : 1024;
        struct txn_rec *grown = realloc(b->recs, rcap * sizeof *grown);
        if (!grown)
            return DB_ERR_NOMEM;
        b->recs = grown;
        b->rcap = rcap;
    }
    if (batch_reserve(b, klen + (value ? vlen : 0)))
        return DB_ERR_NOMEM;
    struct txn_rec *r = &b->recs[b->n++];
    r->topic = topic;
    r->key_off = b->len;
    r->klen = klen;
    if (klen)
        memcpy(b->buf + b->len, key, klen);
    b->len += klen;
    r->val_off = b->len;
    r->vlen = value ? vlen : 0;
    r->tombstone = !value;
    if (value && vlen)
        memcpy(b->buf + b->len, value, vlen);
    b->len += r->vlen;
    return 0;
}

size_t txn_batch_records(const txn_batch_t *b)
{
    return b->n;
}

void txn_batch_set_offsets(txn_batch_t *b, rd_kafka_topic_partition_list_t *offsets,
                           rd_kafka_consumer_group_metadata_t *gm)
{
    drop_offsets(b);
    b->offsets = offsets;
    b->gm = gm;
}

const rd_kafka_topic_partition_list_t *txn_batch_offsets(const txn_batch_t *b)
{
    return b->offsets;
}

struct txn_committer {
    rd_kafka_t *rk;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    txn_batch_t *job;        /* submitted, not yet collected */
    int running;             /* the thread works on job */
    int stop;
    txn_result_t result;
    char errstr[512];
};

/* Produces b's records into the open transaction; 0, or -1 with errstr. */
static int produce_all(rd_kafka_t *rk, const txn_batch_t *b, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct txn_rec *r = &b->recs[i];
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->topic),
                                        RD_KAFKA_V_KEY(b->buf + r->key_off, r->klen),
                                        RD_KAFKA_V_VALUE(r->tombstone ? NULL : b->buf + r->val_off,
                                                         r->vlen),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (err) {
            snprintf(errstr, errstr_size, "producing to %s: %s", r->topic, rd_kafka_err2str(err));
            return -1;
        }
    }
    return 0;
}

/* One transaction of b on rk: its outcome, and why in errstr unless committed. */
static txn_result_t run_txn(rd_kafka_t *rk, const txn_batch_t *b, char *errstr,
                            size_t errstr_size)
{
    rd_kafka_error_t *error = rd_kafka_begin_transaction(rk);
    if (error) {
        /* only a fatal producer state makes begin fail */
        snprintf(errstr, errstr_size, "begin_transaction: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return TXN_FATAL;
    }
    if (produce_all(rk, b, errstr, errstr_size))
        goto abort;
    /* The offsets ride in the same transaction as the records: either both are visible
     * to read_committed readers or neither is (the Kafka Streams exactly-once pattern). */
    if (b->offsets && b->offsets->cnt > 0)
        error = rd_kafka_send_offsets_to_transaction(rk, b->offsets, b->gm, -1);
    if (!error)
        error = rd_kafka_commit_transaction(rk, -1);
    if (!error)
        return TXN_COMMITTED;
    snprintf(errstr, errstr_size, "%s", rd_kafka_error_string(error));
    if (rd_kafka_error_is_fatal(error)) {
        rd_kafka_error_destroy(error);
        return TXN_FATAL;
    }
    rd_kafka_error_destroy(error);
abort:
    {
        char why[256];
        if (kafka_txn_abort(rk, why, sizeof why)) {
            size_t used = strlen(errstr);
            snprintf(errstr + used, errstr_size - used, "; %s", why);
            return TXN_FATAL;
        }
    }
    return TXN_ABORTED;
}

static void *committer_main(void *arg)
{
    txn_committer_t *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && !(c->job && c->running))
            pthread_cond_wait(&c->cv, &c->mu);
        if (!(c->job && c->running))
            break;   /* stopping, nothing in flight */
        txn_batch_t *b = c->job;
        rd_kafka_t *rk = c->rk;
        char errstr[sizeof c->errstr] = "";
        pthread_mutex_unlock(&c->mu);
        txn_result_t r = run_txn(rk, b, errstr, sizeof errstr);
        pthread_mutex_lock(&c->mu);
        c->result = r;
        memcpy(c->errstr, errstr, sizeof errstr);
        c->running = 0;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

txn_committer_t *txn_committer_new(rd_kafka_t *rk)
{
    txn_committer_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rk = rk;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c)) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    return c;
}

void txn_committer_set_producer(txn_committer_t *c, rd_kafka_t *rk)
{
    pthread_mutex_lock(&c->mu);
    c->rk = rk;
    pthread_mutex_unlock(&c->mu);
}

void txn_committer_submit(txn_committer_t *c, txn_batch_t *b)
{
    pthread_mutex_lock(&c->mu);
    c->job = b;
    c->running = 1;
    c->errstr[0] = '\0';
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int txn_committer_busy(const txn_committer_t *c)
{
    return c->job != NULL;   /* only the caller's thread sets and clears job */
}

int txn_committer_done(txn_committer_t *c)
{
    pthread_mutex_lock(&c->mu);
    int done = c->job && !c->running;
    pthread_mutex_unlock(&c->mu);
    return done;
}

txn_result_t txn_committer_wait(txn_committer_t *c, txn_batch_t **b, char *errstr,
                                size_t errstr_size)
{
    txn_result_t r = TXN_COMMITTED;
    pthread_mutex_lock(&c->mu);
    *b = c->job;
    if (c->job) {
        while (c->running)
            pthread_cond_wait(&c->cv, &c->mu);
        r = c->result;
        if (r != TXN_COMMITTED)
            snprintf(errstr, errstr_size, "%s", c->errstr);
        c->job = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

void txn_committer_destroy(txn_committer_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    while (c->running)
        pthread_cond_wait(&c->cv, &c->mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
