/* test_txn_commit.c - the committer thread's contract: a batch keeps its records and
 * tombstones apart; a submitted batch comes back with its outcome, committed or not
 * (never lost), and nothing in flight is nothing to wait for. The transactions run on
 * librdkafka's mock cluster only to inject a broker error into EndTxn; what a committed
 * transaction makes visible is checked on the real broker by the aggregator's tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "txn_commit.h"

static void a_batch_holds_its_records_until_cleared(void **state)
{
    (void)state;
    txn_batch_t *b = txn_batch_new();
    assert_non_null(b);
    assert_int_equal(txn_batch_records(b), 0);
    for (int i = 0; i < 5000; i++) {   /* past the first buffer and record array */
        char key[32], value[64];
        int kl = snprintf(key, sizeof key, "k%d", i), vl = snprintf(value, sizeof value, "{\"v\":%d}", i);
        assert_int_equal(txn_batch_add(b, "t", key, (size_t)kl, value, (size_t)vl), 0);
    }
    assert_int_equal(txn_batch_add(b, "t", "gone", 4, NULL, 0), 0);   /* a tombstone */
    assert_int_equal(txn_batch_records(b), 5001);
    assert_null(txn_batch_offsets(b));
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offs, "in", 0)->offset = 42;
    txn_batch_set_offsets(b, offs, NULL);
    assert_int_equal(txn_batch_offsets(b)->elems[0].offset, 42);
    txn_batch_clear(b);
    assert_int_equal(txn_batch_records(b), 0);
    assert_null(txn_batch_offsets(b));
    txn_batch_destroy(b);
}

/* A transactional producer on a one-broker mock cluster, or NULL. */
static rd_kafka_t *mock_producer(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err) ||
        rd_kafka_conf_set(conf, "transactional.id", "txn-commit-test", err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        return NULL;
    rd_kafka_error_t *error = rd_kafka_init_transactions(rk, 10000);
    if (error) {
        rd_kafka_error_destroy(error);
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

static void a_batch_comes_back_with_its_outcome(void **state)
{
    (void)state;
    char errstr[512] = "";
    txn_batch_t *back = (txn_batch_t *)1;
    rd_kafka_t *rk = mock_producer();
    assert_non_null(rk);
    txn_committer_t *c = txn_committer_new(rk);
    assert_non_null(c);

    /* nothing in flight: nothing to wait for */
    assert_false(txn_committer_busy(c));
    assert_int_equal(txn_committer_wait(c, &back, errstr, sizeof errstr), TXN_COMMITTED);
    assert_null(back);

    txn_batch_t *b = txn_batch_new();
    for (int i = 0; i < 100; i++)
        assert_int_equal(txn_batch_add(b, "counts", "key", 3, "value", 5), 0);
    txn_committer_submit(c, b);
    assert_true(txn_committer_busy(c));
    assert_int_equal(txn_committer_wait(c, &back, errstr, sizeof errstr), TXN_COMMITTED);
    assert_ptr_equal(back, b);
    assert_false(txn_committer_busy(c));
    assert_true(txn_committer_done(c) == 0);

    /* the broker refuses the commit: the batch still comes back, not committed, and says why */
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    assert_non_null(mc);
    /* 26: the EndTxn request's API key (librdkafka keeps its names internal) */
    rd_kafka_mock_push_request_errors(mc, 26, 1, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
    txn_committer_submit(c, b);
    txn_result_t r = txn_committer_wait(c, &back, errstr, sizeof errstr);
    assert_true(r == TXN_ABORTED || r == TXN_FATAL);
    assert_ptr_equal(back, b);
    assert_true(strlen(errstr) > 0);

    txn_committer_destroy(c);
    txn_batch_destroy(b);
    rd_kafka_destroy(rk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_batch_holds_its_records_until_cleared),
        cmocka_unit_test(a_batch_comes_back_with_its_outcome),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
