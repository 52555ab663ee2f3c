/* kafka_refill.c - wakes librdkafka's fetcher when the consumer queue has drained. */
#include "kafka_refill.h"

#include <stdlib.h>

/* How often (in messages) the queue length is looked at, at most: it takes a lock. */
#define CHECK_EVERY_MAX 512

/* Reads an integer property of rk's configuration, or fallback. */
static int64_t conf_int(rd_kafka_t *rk, const char *name, int64_t fallback)
{
    char buf[32];
    size_t size = sizeof buf;
    const rd_kafka_conf_t *conf = rd_kafka_conf(rk);
    if (!conf || rd_kafka_conf_get(conf, name, buf, &size) != RD_KAFKA_CONF_OK)
        return fallback;
    return strtoll(buf, NULL, 10);
}

void kafka_refill_init(kafka_refill_t *r, rd_kafka_t *rk)
{
    *r = (kafka_refill_t){0};
    r->rk = rk;
    r->queue = rd_kafka_queue_get_consumer(rk);
    r->min_msgs = conf_int(rk, "queued.min.messages", 100000);
    r->max_bytes = conf_int(rk, "queued.max.messages.kbytes", 65536) * 1024;
    /* often enough to see the queue between its thresholds and half of them */
    int64_t every = r->min_msgs / 16;
    r->check_every = every < 1 ? 1 : every > CHECK_EVERY_MAX ? CHECK_EVERY_MAX : (uint64_t)every;
}

void kafka_refill_note(kafka_refill_t *r, const rd_kafka_message_t *m)
{
    int64_t lo, hi, queued, bytes;
    if (!r->queue || m->err)
        return;
    r->seen++;
    r->seen_bytes += m->len + m->key_len;
    if (r->seen % r->check_every)
        return;
    queued = (int64_t)rd_kafka_queue_length(r->queue);
    /* librdkafka counts the queue's payload bytes; the mean size so far estimates them */
    bytes = queued * (int64_t)(r->seen_bytes / r->seen);
    /* 90 %: a queue just under a threshold may have been over it a moment ago */
    if (queued >= r->min_msgs * 9 / 10 || bytes >= r->max_bytes * 9 / 10) {
        r->full = 1;
        return;
    }
    if (!r->full || queued >= r->min_msgs / 2 || bytes >= r->max_bytes / 2)
        return;
    /* A ListOffsets request is queued on the partition leader's broker thread; serving
     * it, the thread decides its fetches again and finds the queue room. */
    r->full = 0;
    r->wakeups++;
    rd_kafka_query_watermark_offsets(r->rk, rd_kafka_topic_name(m->rkt), m->partition, &lo,
                                     &hi, 1000);
}

void kafka_refill_clear(kafka_refill_t *r)
{
    if (r->queue)
        rd_kafka_queue_destroy(r->queue);
    r->queue = NULL;
}
