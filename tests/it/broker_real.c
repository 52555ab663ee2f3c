/* broker_real.c - proves the test broker is a real Kafka: idempotent acks=all produce,
 * group consume + commit, resume from the committed offset after a restart, and a
 * timestamp lookup (offsets_for_times), which librdkafka's mock cluster cannot do. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "it_check.h"
#include "kafka.h"

#define N 200
#define BASE_TS 1514764800000LL /* 2018-01-01T00:00:00Z */

static int delivered, delivery_errors;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    if (m->err)
        delivery_errors++;
    else
        delivered++;
}


/* Consumes up to want messages of topic in group, checks they come in order starting at
 * expect_first, commits the last one synchronously, closes. Returns the count read. */
static int consume_some(db_config_t *cfg, const char *topic, const char *group, int want,
                        int expect_first)
{
    char errstr[512];
    int got = 0;
    rd_kafka_t *rk = kafka_consumer_new(cfg, group, NULL, NULL, errstr, sizeof errstr);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    CHECK(rk, "consumer: %s", errstr);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    CHECK(!rd_kafka_subscribe(rk, sub), "subscribe");
    time_t deadline = time(NULL) + 60;
    while (got < want && time(NULL) < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err) {
            CHECK(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF, "consume: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        CHECK(m->offset == expect_first + got, "offset %" PRId64 ", expected %d", m->offset,
              expect_first + got);
        char want_val[32];
        snprintf(want_val, sizeof want_val, "value-%d", expect_first + got);
        CHECK(m->len == strlen(want_val) && !memcmp(m->payload, want_val, m->len), "payload mismatch");
        got++;
        if (got == want)
            CHECK(!rd_kafka_commit_message(rk, m, 0), "commit");
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rd_kafka_topic_partition_list_destroy(sub);
    return got;
}

int main(void)
{
    char errstr[512], topic[128], group[160];
    const char *bootstrap = getenv("DOCBUS_BOOTSTRAP");
    db_config_t *cfg = config_new();
    rd_kafka_t *p;
    snprintf(topic, sizeof topic, "it.broker_real.%ld.%d", (long)time(NULL), (int)(clock() & 0xffff));
    snprintf(group, sizeof group, "%s.group", topic);
    if (bootstrap)
        config_set(cfg, "bootstrap.servers", bootstrap, errstr, sizeof errstr);

    p = kafka_producer_new(cfg, NULL, dr_cb, NULL, errstr, sizeof errstr);
    CHECK(p, "producer: %s", errstr);
    CHECK(kafka_check(p, 10000, errstr, sizeof errstr) == KAFKA_FAIL_NONE, "%s", errstr);
    const char *names[] = {topic};
    CHECK(!kafka_ensure_topics(p, names, 1, 1, NULL, 0, errstr, sizeof errstr), "%s", errstr);
    for (int i = 0; i < N; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "value-%d", i);
        rd_kafka_resp_err_t err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_VALUE(v, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(BASE_TS + (int64_t)i * 1000), RD_KAFKA_V_END);
        CHECK(!err, "produce: %s", rd_kafka_err2str(err));
    }
    CHECK(rd_kafka_flush(p, 30000) == 0, "flush timed out");
    CHECK(delivered == N && delivery_errors == 0, "delivered %d, errors %d", delivered, delivery_errors);
    printf("produced %d messages (idempotent, acks=all)\n", N);

    int first = consume_some(cfg, topic, group, 120, 0);
    CHECK(first == 120, "first consumer read %d", first);
    int second = consume_some(cfg, topic, group, N - 120, 120);
    CHECK(second == N - 120, "restarted consumer read %d from the committed offset", second);
    printf("restarted consumer resumed at offset 120\n");

    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, topic, 0)->offset = BASE_TS + 150 * 1000 - 500;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(p, tl, 10000);
    CHECK(!err, "offsets_for_times: %s", rd_kafka_err2str(err));
    CHECK(tl->elems[0].offset == 150, "timestamp lookup gave offset %" PRId64 ", expected 150",
          tl->elems[0].offset);
    printf("offsets_for_times found offset 150\n");
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_destroy(p);
    config_destroy(cfg);
    return 0;
}
