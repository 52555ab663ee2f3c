/* publish_unknown_topic.c - a broker that answers "unknown topic" for a topic docbus knows
 * exists (what a restarting broker does until it has loaded the topic) must not lose the
 * records produced meanwhile: the publisher produces the failed copies again and every
 * record is delivered. librdkafka's mock cluster injects the error (a real broker
 * cannot be made to answer so on demand); nothing here depends on its data limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#define IT_PUBLISH_MOCK
#include "it_publish.h"
#include "publish.h"

#define UNIT "000.00.01.H29"
#define TOPIC "pu.inbox.000.00.02.H29"
#define RECORDS 400

int main(void)
{
    char err[1024], dir[] = "/tmp/publish_unknown_topic.XXXXXX";
    rd_kafka_t *mrk;
    rd_kafka_mock_cluster_t *mc;
    db_config_t *cfg = config_new();
    publisher_t *p;
    publish_stats_t st;
    const char *topics[1] = {"inbox.000.00.02.H29"};

    it_publish_setup(dir, UNIT, cfg);

    mc = it_mock_cluster(TOPIC, 2, cfg, &mrk);
    it_set(cfg, "docbus.topic.prefix", "pu.");
    it_set(cfg, "docbus.batch.size", "50");
    it_set(cfg, "docbus.delivery.deadline.ms", "30000");
    /* librdkafka fails a topic's messages as unknown once this has passed after it
     * first learnt of the topic (30 s by default) */
    it_set(cfg, "topic.metadata.propagation.max.ms", "200");
    it_set(cfg, "topic.metadata.refresh.interval.ms", "200");
    p = publisher_new(cfg, it_on_fail, NULL, err, sizeof err);
    CHECK(p, "publisher: %s", err);
    CHECK(publisher_learn_topics(p, err, sizeof err) == 0, "learn topics: %s", err);

    /* the broker forgets the topic while records are produced, then knows it again */
    rd_kafka_mock_topic_set_error(mc, TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* a first record makes the producer follow the topic; its metadata refreshes then
     * see the topic gone */
    {
        const char *b = "first";
        CHECK(publisher_add(p, BODY_EVENT, UNIT, "doc-first", "doc-first", topics, 1,
                            (const uint8_t *)b, 5, 0, err, sizeof err) == 0, "add: %s", err);
        for (int i = 0; i < 10; i++)
            publisher_poll(p, 100);
    }
    for (int i = 0; i < RECORDS; i++) {
        char key[64], body[64];
        int n = snprintf(body, sizeof body, "body %d", i);
        snprintf(key, sizeof key, "doc-%d", i);
        CHECK(publisher_add(p, BODY_EVENT, UNIT, key, key, topics, 1, (const uint8_t *)body,
                            (size_t)n, i + 1, err, sizeof err) == 0, "add %d: %s", i, err);
        if (i % 50 == 49)
            publisher_poll(p, 100);
    }
    for (int i = 0; i < 20; i++)   /* 2 s of "unknown topic" */
        publisher_poll(p, 100);
    rd_kafka_mock_topic_set_error(mc, TOPIC, RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(publisher_finish(p, err, sizeof err) == 0, "finish: %s", err);
    publisher_stats(p, &st);
    fprintf(stderr, "delivered %llu, failed %llu, copies produced again %llu\n",
            (unsigned long long)st.delivered, (unsigned long long)st.failed,
            (unsigned long long)st.retried);
    CHECK(st.delivered == RECORDS + 1 && st.failed == 0 && it_failures == 0,
          "%llu of %d delivered, %llu failed", (unsigned long long)st.delivered, RECORDS + 1,
          (unsigned long long)st.failed);
    CHECK(st.retried > 0, "no copy was failed as unknown: the injection did not bite");
    publisher_destroy(p);
    config_destroy(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return it_publish_cleanup(dir);
}
