/* txn_abort.c - kafka_txn_abort on the real broker: a transaction aborted right after its
 * first produce (the aggregator does this whenever its partitions are revoked) must
 * abort cleanly, never leave the producer fatal (confluentinc/librdkafka#4849), and
 * nothing aborted may be visible to a read_committed reader. And kafka_read_to_end must
 * not stop short at another producer's open transaction.
 *   txn_abort [--raw]   --raw: plain rd_kafka_abort_transaction, to show the bug */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "it_check.h"
#include "kafka.h"

#define CYCLES 150
#define PARTITIONS 4


/* Returns a transactional producer with init_transactions done. */
static rd_kafka_t *txn_producer(db_config_t *cfg, const char *txid)
{
    char errstr[512];
    rd_kafka_t *p = kafka_producer_new(cfg, txid, NULL, NULL, errstr, sizeof errstr);
    CHECK(p, "producer: %s", errstr);
    rd_kafka_error_t *e = rd_kafka_init_transactions(p, 30000);
    CHECK(!e, "init_transactions: %s", rd_kafka_error_string(e));
    return p;
}

/* kafka_read_to_end callback: counts the records, [0] committed ones, [1] aborted ones. */
static int count_record(void *opaque, const rd_kafka_message_t *m, char *errstr, size_t size)
{
    long *n = opaque;
    (void)errstr, (void)size;
    n[m->len == 7 && !memcmp(m->payload, "aborted", 7)]++;
    return 0;
}

struct delayed_commit {
    rd_kafka_t *producer;
    int delay_ms;
    rd_kafka_error_t *error;
};

static void *commit_later(void *arg)
{
    struct delayed_commit *d = arg;
    usleep((useconds_t)d->delay_ms * 1000);
    d->error = rd_kafka_commit_transaction(d->producer, -1);
    return NULL;
}

/* Producer A leaves a transaction open on partition 0, producer B then commits a record
 * behind it, and A commits a second later. A read started in between must wait and return
 * both: under read_committed the first partition EOF comes at A's open transaction (the
 * last stable offset) and stopping there would lose B's committed record - what an
 * aggregator taking over partitions would read while another instance is mid-transaction.
 * Returns the committed records the read found (want 2). */
static long read_behind_open_transaction(db_config_t *cfg, const char *topic)
{
    char errstr[512], txid[200];
    long seen[2] = {0, 0};
    pthread_t thread;
    snprintf(txid, sizeof txid, "%s.a", topic);
    rd_kafka_t *a = txn_producer(cfg, txid);
    snprintf(txid, sizeof txid, "%s.b", topic);
    rd_kafka_t *b = txn_producer(cfg, txid);
    rd_kafka_t *c = kafka_consumer_new(cfg, NULL, NULL, NULL, errstr, sizeof errstr);
    CHECK(c, "consumer: %s", errstr);
    const char *names[] = {topic};
    CHECK(!kafka_ensure_topics(a, names, 1, 2, NULL, 0, errstr, sizeof errstr), "%s", errstr);
    /* partition 1 holds nothing but an aborted transaction */
    rd_kafka_error_t *e = rd_kafka_begin_transaction(b);
    CHECK(!e, "begin_transaction: %s", rd_kafka_error_string(e));
    CHECK(!rd_kafka_producev(b, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(1),
                             RD_KAFKA_V_VALUE("aborted", 7), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END), "produce");
    CHECK(!kafka_txn_abort(b, errstr, sizeof errstr), "%s", errstr);
    rd_kafka_t *order[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        e = rd_kafka_begin_transaction(order[k]);
        CHECK(!e, "begin_transaction: %s", rd_kafka_error_string(e));
        CHECK(!rd_kafka_producev(order[k], RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                 RD_KAFKA_V_VALUE("committed", 9), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END), "produce");
        CHECK(rd_kafka_flush(order[k], 10000) == 0, "flush");
    }
    e = rd_kafka_commit_transaction(b, -1);
    CHECK(!e, "commit_transaction: %s", rd_kafka_error_string(e));
    struct delayed_commit d = {a, 1000, NULL};
    CHECK(!pthread_create(&thread, NULL, commit_later, &d), "pthread_create");
    CHECK(!kafka_read_to_end(c, topic, count_record, seen, errstr, sizeof errstr), "%s", errstr);
    pthread_join(thread, NULL);
    CHECK(!d.error, "commit_transaction: %s", rd_kafka_error_string(d.error));
    rd_kafka_destroy(c);
    rd_kafka_destroy(a);
    rd_kafka_destroy(b);
    CHECK(seen[1] == 0, "%ld aborted records read", seen[1]);
    return seen[0];
}

int main(int argc, char **argv)
{
    char errstr[512], topic[128], txid[160];
    int raw = argc > 1 && !strcmp(argv[1], "--raw");
    int fatal = 0, failed = 0;
    long committed = 0;
    const char *bootstrap = getenv("DOCBUS_BOOTSTRAP");
    db_config_t *cfg = config_new();
    if (bootstrap)
        config_set(cfg, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
    snprintf(topic, sizeof topic, "it.txn_abort.%ld.%d", (long)time(NULL), (int)(clock() & 0xffff));
    snprintf(txid, sizeof txid, "%s.txid", topic);

    rd_kafka_t *p = txn_producer(cfg, txid);
    const char *names[] = {topic};
    CHECK(!kafka_ensure_topics(p, names, 1, PARTITIONS, NULL, 0, errstr, sizeof errstr), "%s", errstr);
    for (int i = 0; i < CYCLES; i++) {
        /* a committed transaction first: its markers may still be in writing when the
         * next transaction registers its partitions (CONCURRENT_TRANSACTIONS, retried) */
        rd_kafka_error_t *e = rd_kafka_begin_transaction(p);
        CHECK(!e, "cycle %d: begin_transaction: %s", i, rd_kafka_error_string(e));
        CHECK(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(i % PARTITIONS),
                                 RD_KAFKA_V_VALUE("committed", 9), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END), "produce");
        e = rd_kafka_commit_transaction(p, -1);
        CHECK(!e, "cycle %d: commit_transaction: %s", i, rd_kafka_error_string(e));
        committed++;
        e = rd_kafka_begin_transaction(p);
        CHECK(!e, "cycle %d: begin_transaction: %s", i, rd_kafka_error_string(e));
        /* each cycle on a partition the producer has not registered in a while */
        CHECK(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(i % PARTITIONS),
                                 RD_KAFKA_V_VALUE("aborted", 7), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END), "produce");
        int rc;
        /* abort at different points of the registration: before AddPartitionsToTxn is
         * sent, while it is in flight, after it is answered */
        usleep((useconds_t)(i % 30) * 100);
        if (raw) {
            e = rd_kafka_abort_transaction(p, -1);
            rc = e ? -1 : 0;
            if (e) {
                snprintf(errstr, sizeof errstr, "%s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else {
            rc = kafka_txn_abort(p, errstr, sizeof errstr);
        }
        if (rc) {
            failed++;
            if (rd_kafka_fatal_error(p, NULL, 0)) {
                fatal++;
                fprintf(stderr, "cycle %d: %s (fatal; new producer)\n", i, errstr);
                rd_kafka_destroy(p);
                p = txn_producer(cfg, txid);
            } else {
                fprintf(stderr, "cycle %d: %s\n", i, errstr);
            }
        }
    }
    rd_kafka_destroy(p);

    long visible[2] = {0, 0};
    rd_kafka_t *c = kafka_consumer_new(cfg, NULL, NULL, NULL, errstr, sizeof errstr);
    CHECK(c, "consumer: %s", errstr);
    CHECK(!kafka_read_to_end(c, topic, count_record, visible, errstr, sizeof errstr), "%s", errstr);
    rd_kafka_destroy(c);
    printf("%s: %d transactions aborted right after a commit and a produce: %d aborts failed, "
           "%d fatal; read_committed sees %ld of %ld committed and %ld aborted records\n",
           raw ? "rd_kafka_abort_transaction" : "kafka_txn_abort", CYCLES, failed, fatal,
           visible[0], committed, visible[1]);
    if (raw) {
        config_destroy(cfg);
        return 0;
    }
    snprintf(topic + strlen(topic), sizeof topic - strlen(topic), ".read");
    long found = read_behind_open_transaction(cfg, topic);
    printf("kafka_read_to_end behind another producer's open transaction: %ld of 2 committed "
           "records\n", found);
    config_destroy(cfg);
    CHECK(found == 2, "kafka_read_to_end returned %ld of 2 committed records: it stopped at "
          "the open transaction", found);
    CHECK(failed == 0, "%d of %d aborts failed (%d fatal)", failed, CYCLES, fatal);
    CHECK(visible[0] == committed, "%ld of %ld committed records visible", visible[0], committed);
    CHECK(visible[1] == 0, "%ld aborted records visible to a read_committed reader", visible[1]);
    return 0;
}
