/* publish_fatal_recreate.c - a fatal error of the idempotent producer in the middle of a
 * run (injected with librdkafka's rd_kafka_test_fatal_error; the real broker of the
 * test run carries the data) must not lose a record: the publisher replaces the producer,
 * produces every copy still in flight again, and all records are delivered. The topic
 * is then read back: every record is there (copies produced twice may repeat). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "it_publish.h"
#include "publish.h"

#define UNIT "000.00.01.H29"
#define RECORDS 2000

static void add(publisher_t *p, const char *const *topics, int i)
{
    char key[64], body[64], err[512];
    int n = snprintf(body, sizeof body, "body %d", i);
    snprintf(key, sizeof key, "doc-%d", i);
    CHECK(publisher_add(p, BODY_EVENT, UNIT, key, key, topics, 1, (const uint8_t *)body,
                        (size_t)n, i + 1, err, sizeof err) == 0, "add %d: %s", i, err);
}

/* Reads topic from its beginning to its end; returns how many distinct keys doc-0 ..
 * doc-(RECORDS-1) it holds, *total the messages read. */
static int distinct_keys(const char *boot, const char *topic, int *total)
{
    char err[512];
    static unsigned char seen[RECORDS];
    int distinct = 0, eofs = 0, parts;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_partition_list_t *tl;
    rd_kafka_t *rk;
    char group[160];
    snprintf(group, sizeof group, "%s-readback", topic);
    CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", boot, err, sizeof err) == 0 &&
          rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) == 0 &&
          rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) == 0 &&
          rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) == 0,
          "consumer config: %s", err);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CHECK(rk, "consumer: %s", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    CHECK(rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0 && md->topic_cnt == 1, "metadata of %s", topic);
    parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    tl = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(tl, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CHECK(rd_kafka_assign(rk, tl) == 0, "assign");
    *total = 0;
    for (time_t end = time(NULL) + 60; eofs < parts;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        CHECK(time(NULL) < end, "reading %s back: no end within 60 s", topic);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else {
            CHECK(!m->err, "reading %s back: %s", topic, rd_kafka_message_errstr(m));
            int k;
            (*total)++;
            if (m->key_len > 4 && m->key_len < 20) {
                char key[24];
                memcpy(key, m->key, m->key_len);
                key[m->key_len] = 0;
                if (sscanf(key, "doc-%d", &k) == 1 && k >= 0 && k < RECORDS && !seen[k]++)
                    distinct++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return distinct;
}

int main(void)
{
    char err[1024], dir[] = "/tmp/publish_fatal_recreate.XXXXXX";
    char prefix[64], topic[128];
    const char *boot = getenv("DOCBUS_BOOTSTRAP");
    db_config_t *cfg = config_new();
    publisher_t *p;
    publish_stats_t st;
    const char *topics[1] = {"inbox.000.00.02.H29"};
    int total, distinct;

    CHECK(boot && *boot, "DOCBUS_BOOTSTRAP is not set (tests/run.sh sets it)");
    snprintf(prefix, sizeof prefix, "it.fatal%ld%d.", (long)time(NULL), (int)getpid());
    snprintf(topic, sizeof topic, "%s%s", prefix, topics[0]);
    it_publish_setup(dir, UNIT, cfg);

    it_set(cfg, "bootstrap.servers", boot);
    it_set(cfg, "docbus.topic.prefix", prefix);
    it_set(cfg, "docbus.batch.size", "50");
    it_set(cfg, "docbus.delivery.deadline.ms", "60000");
    p = publisher_new(cfg, it_on_fail, NULL, err, sizeof err);
    CHECK(p, "publisher: %s", err);

    for (int i = 0; i < RECORDS / 2; i++)
        add(p, topics, i);
    publisher_poll(p, 100);
    /* what librdkafka does when the broker answers a sequence it cannot accept */
    CHECK(rd_kafka_test_fatal_error(publisher_rk(p), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                    "injected by publish_fatal_recreate") == 0,
          "cannot inject a fatal error");
    for (int i = RECORDS / 2; i < RECORDS; i++)
        add(p, topics, i);
    CHECK(publisher_finish(p, err, sizeof err) == 0, "finish: %s", err);
    publisher_stats(p, &st);
    fprintf(stderr, "delivered %llu, failed %llu, producers re-created %llu\n",
            (unsigned long long)st.delivered, (unsigned long long)st.failed,
            (unsigned long long)st.recreated);
    CHECK(st.recreated == 1, "the producer was re-created %llu times, not once",
          (unsigned long long)st.recreated);
    CHECK(st.delivered == RECORDS && st.failed == 0 && it_failures == 0,
          "%llu of %d delivered, %llu failed", (unsigned long long)st.delivered, RECORDS,
          (unsigned long long)st.failed);
    publisher_destroy(p);

    distinct = distinct_keys(boot, topic, &total);
    fprintf(stderr, "%s holds %d messages, %d distinct records of %d\n", topic, total, distinct,
            RECORDS);
    CHECK(distinct == RECORDS, "%d of %d records are on %s", distinct, RECORDS, topic);
    config_destroy(cfg);
    return it_publish_cleanup(dir);
}
