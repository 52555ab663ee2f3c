/* publish_fatal_broker.c - the broker answers a produce request with an error that makes
 * librdkafka's idempotent producer fatal (OUT_OF_ORDER_SEQUENCE_NUMBER on the first
 * batch in flight). librdkafka then fails that batch with the broker's error code and
 * the rest of its queue as purged; the publisher replaces the producer and every record
 * is still delivered. librdkafka's mock cluster injects the error (a real broker cannot
 * be made to answer so on demand); nothing here depends on its data limits. The fatal
 * state alone, without a broker error, is tested on the real broker by
 * publish_fatal_recreate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#define IT_PUBLISH_MOCK
#include "it_publish.h"
#include "publish.h"

#define UNIT "000.00.01.H29"
#define TOPIC "pf.inbox.000.00.02.H29"
#define RECORDS 600
#define PRODUCE_API 0   /* Kafka's ApiKey of Produce */

int main(void)
{
    char err[1024], dir[] = "/tmp/publish_fatal_broker.XXXXXX";
    rd_kafka_t *mrk;
    rd_kafka_mock_cluster_t *mc;
    db_config_t *cfg = config_new();
    publisher_t *p;
    publish_stats_t st;
    const char *topics[1] = {"inbox.000.00.02.H29"};

    it_publish_setup(dir, UNIT, cfg);

    mc = it_mock_cluster(TOPIC, 2, cfg, &mrk);
    it_set(cfg, "docbus.topic.prefix", "pf.");
    it_set(cfg, "docbus.batch.size", "50");
    it_set(cfg, "docbus.delivery.deadline.ms", "30000");
    p = publisher_new(cfg, it_on_fail, NULL, err, sizeof err);
    CHECK(p, "publisher: %s", err);
    CHECK(publisher_learn_topics(p, err, sizeof err) == 0, "learn topics: %s", err);

    for (int i = 0; i < RECORDS; i++) {
        char key[64], body[64];
        int n = snprintf(body, sizeof body, "body %d", i);
        snprintf(key, sizeof key, "doc-%d", i);
        if (i == RECORDS / 3)   /* the next produce request is refused */
            rd_kafka_mock_push_request_errors(mc, PRODUCE_API, 1,
                                              RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
        CHECK(publisher_add(p, BODY_EVENT, UNIT, key, key, topics, 1, (const uint8_t *)body,
                            (size_t)n, i + 1, err, sizeof err) == 0, "add %d: %s", i, err);
        if (i % 50 == 49)
            publisher_poll(p, 100);
    }
    CHECK(publisher_finish(p, err, sizeof err) == 0, "finish: %s", err);
    publisher_stats(p, &st);
    fprintf(stderr, "delivered %llu, failed %llu, producers re-created %llu\n",
            (unsigned long long)st.delivered, (unsigned long long)st.failed,
            (unsigned long long)st.recreated);
    CHECK(st.recreated >= 1, "the producer was never fatal: the injection did not bite");
    CHECK(st.delivered == RECORDS && st.failed == 0 && it_failures == 0,
          "%llu of %d delivered, %llu failed", (unsigned long long)st.delivered, RECORDS,
          (unsigned long long)st.failed);
    publisher_destroy(p);
    config_destroy(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return it_publish_cleanup(dir);
}
