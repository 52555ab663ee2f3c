/* publish.c - batch-signed, idempotent delivery of docbus records to their topics. */
#include "publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "batch.h"
#include "codec.h"
#include "error.h"
#include "kafka.h"
#include "pki.h"
#include "schema.h"
#include "sha256.h"
#include "str.h"
#include "strindex.h"
#include "topics.h"

#define MAX_TOPICS 16
/* A producer fatal again right after each replacement (an ACL or a broker that refuses
 * idempotence) is replaced this many times, then its copies fail. */
#define MAX_RECREATES 5

/* One signed message: its bytes stay ours until every copy is acknowledged, so a
 * fatal producer error can be survived by producing them again on a new producer. */
struct msg {
    size_t len;                  /* of the bytes allocated just after the struct: msg_bytes */
    int copies_left;
    const char *why;             /* first failure of a copy (a static string), or NULL */
    int64_t deadline_at;         /* ms: after it a copy is failed, never produced again */
    int64_t ref;
    body_type_t type;
    size_t keylen;               /* the key (and its NUL) follows the bytes: msg_key */
    size_t producer_len;
    char producer[UNIT_CODE_MAX];
    int ntopics;
    int topics[MAX_TOPICS];      /* indices in the publisher's topic table */
    struct msg *prev, *next;     /* in-flight list */
};

/* What the signer hands back for each record at emission time. */
struct route {
    int64_t ref;
    body_type_t type;
    size_t keylen;
    char key[256];
    int ntopics;
    int topics[MAX_TOPICS];      /* indices in the publisher's topic table */
};

struct unit_signer {
    char unit[UNIT_CODE_MAX];
    batch_signer_t *signer;
};

struct publisher {
    const db_config_t *cfg;
    rd_kafka_t *rk;
    publish_fail_cb *fail_cb;
    void *fail_opaque;
    struct unit_signer *signers;
    size_t nsigners, capsigners;
    struct msg inflight;         /* list head */
    publish_stats_t stats;
    int64_t batch_size, linger_ms, deadline_ms;
    char pki_dir[512], state_dir[512], prefix[256];
    strindex_t *known_topics;    /* topics that exist -> index in topic */
    /* A handle per topic produced to, made on first use: producing by name made
     * librdkafka look the name up among all its topics under a lock, per message. */
    struct topic {
        const char *name;        /* interned in known_topics */
        rd_kafka_topic_t *rkt;   /* NULL until used on this producer */
    } *topic;
    size_t ntopic, captopic;
    strindex_t *signer_of;       /* unit code -> index in signers */
    topics_def_t *topics_def;    /* schemas/topics.json, loaded when a topic is missing */
    uint8_t body_fingerprint[3][8];  /* of Document, Status, Event (body_type_t order) */
    int recreating;
    int recreate_failed;         /* no (more) replacement producers: stop trying */
    uint64_t adds;               /* publisher_add calls, for polling every POLL_EVERY */
    /* Copies librdkafka gave up on because a restarting broker briefly answered that
     * their topic or partition did not exist: produced again once due (librdkafka
     * 2.0.2 fails such messages at once; the topics are known to exist). */
    struct retry {
        struct msg *m;
        int topic;
        int64_t due_ms;
    } *retry;
    size_t nretry, capretry;
};

/* Delivery reports are served every this many records: a poll per record (a queue lock
 * and a fatal-error check each) was ~3% of the import's main thread. */
#define POLL_EVERY 32

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

/* A tick behind now_ms at most: ample for a message's delivery deadline, which the
 * import stamps per message (the precise clock was ~2.6 % of the signing thread). */
static int64_t now_ms_coarse(void)
{
    return clock_ms(CLOCK_REALTIME_COARSE);
}

int publish_msg_id(const char *producer, body_type_t type, const char *natural_key,
                   uint8_t out[16])
{
    uint8_t md[SHA256_LEN];
    char t = (char)('0' + type);
    sha256_part_t parts[5] = {{"docbus-msgid-v1", 16}, {producer, strlen(producer) + 1},
                              {&t, 1}, {"", 1}, {natural_key, strlen(natural_key)}};
    int rc = sha256_parts(parts, 5, md);
    if (!rc)
        memcpy(out, md, 16);
    return rc;
}

static void msg_unlink(struct msg *m)
{
    m->prev->next = m->next;
    m->next->prev = m->prev;
}

/* The signed message's bytes, allocated with m. */
static uint8_t *msg_bytes(struct msg *m)
{
    return (uint8_t *)(m + 1);
}

/* The message's key, NUL-terminated, allocated with m after its bytes. */
static char *msg_key(struct msg *m)
{
    return (char *)msg_bytes(m) + m->len;
}

/* One copy of m has an outcome; the record is settled when all copies have one, and m is
 * then freed: returns 1 in that case (m must not be touched again), else 0. */
static int msg_settle_copy(publisher_t *p, struct msg *m, const char *error)
{
    if (error && !m->why)
        m->why = error;
    if (--m->copies_left > 0)
        return 0;
    /* the outcome is reported once the record is settled: recreate may still produce a
     * failed copy again */
    if (m->why) {
        p->stats.failed++;
        if (p->fail_cb)
            p->fail_cb(p->fail_opaque, m->ref, m->why);
    } else {
        p->stats.delivered++;
    }
    msg_unlink(m);
    free(m);
    return 1;
}

/* 1 when a failed copy is worth producing again before its deadline: the broker did not
 * know its topic yet (it restarted and has not loaded it), or the producer is fatal -
 * librdkafka then fails its copies as fatal, purged from its queue, or with the broker's
 * error that made it fatal - and is being replaced (check_fatal), so the copy goes out
 * on the new one. */
static int worth_again(const publisher_t *p, rd_kafka_resp_err_t err)
{
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
        err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return 1;
    return err && !p->recreate_failed && rd_kafka_fatal_error(p->rk, NULL, 0);
}

/* Appends r to the copies to produce again. 0 or -1 (out of memory). */
static int retry_push(publisher_t *p, struct retry r)
{
    if (p->nretry == p->capretry) {
        size_t cap = p->capretry ? p->capretry * 2 : 64;
        struct retry *grown = realloc(p->retry, cap * sizeof *grown);
        if (!grown)
            return -1;
        p->retry = grown;
        p->capretry = cap;
    }
    p->retry[p->nretry++] = r;
    return 0;
}

/* Queues the copy of m to topic number ti to be produced again in 500 ms, if its
 * deadline has not passed. 0, or -1: the caller fails the copy. */
static int retry_later(publisher_t *p, struct msg *m, long ti)
{
    int64_t now = now_ms();
    if (ti < 0 || now >= m->deadline_at || retry_push(p, (struct retry){m, (int)ti, now + 500}))
        return -1;
    p->stats.retried++;
    return 0;
}

static int produce_or_retry(publisher_t *p, struct msg *m, int ti);

/* Produces the queued copies that are due (a failure settles the copy as failed). The
 * list is taken over first: producing may serve delivery reports that queue more. */
static void retry_due(publisher_t *p)
{
    struct retry *list = p->retry;
    size_t n = p->nretry;
    int64_t now;
    if (!n)
        return;
    p->retry = NULL;
    p->nretry = p->capretry = 0;
    now = now_ms();
    for (size_t i = 0; i < n; i++) {
        int err = 0;
        if (list[i].due_ms > now) {
            if (retry_push(p, list[i]) == 0)
                continue;
            err = RD_KAFKA_RESP_ERR__FAIL;
        }
        if (err || (err = produce_or_retry(p, list[i].m, list[i].topic)))
            msg_settle_copy(p, list[i].m, rd_kafka_err2str(err));
    }
    free(list);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    publisher_t *p = opaque;
    struct msg *m = rkm->_private;
    (void)rk;
    if (!m)
        return;
    /* Failed (purged, fatal, ...) while the producer is being replaced after a fatal
     * error: the copy stays in flight and recreate produces it again on the new one. */
    if (p->recreating && rkm->err)
        return;
    if (worth_again(p, rkm->err) &&
        retry_later(p, m, strindex_get(p->known_topics, rd_kafka_topic_name(rkm->rkt))) == 0)
        return;
    msg_settle_copy(p, m, rkm->err ? rd_kafka_err2str(rkm->err) : NULL);
}

/* Adds topic to the known topics (nothing if it is there); its index in *ix when ix is
 * not NULL. 0 or DB_ERR_NOMEM. */
static int remember_topic(publisher_t *p, const char *topic, int *ix)
{
    long at = strindex_get(p->known_topics, topic);
    if (at >= 0) {
        if (ix)
            *ix = (int)at;
        return 0;
    }
    if (p->ntopic == p->captopic) {
        size_t cap = p->captopic ? p->captopic * 2 : 256;
        struct topic *t = realloc(p->topic, cap * sizeof *t);
        if (!t)
            return DB_ERR_NOMEM;
        p->topic = t;
        p->captopic = cap;
    }
    if (strindex_put(p->known_topics, topic, (long)p->ntopic))
        return DB_ERR_NOMEM;
    if (ix)
        *ix = (int)p->ntopic;
    p->topic[p->ntopic++] = (struct topic){strindex_key(p->known_topics, topic), NULL};
    return 0;
}

/* Releases the topic handles of the current producer (before it is destroyed). */
static void drop_topic_handles(publisher_t *p)
{
    for (size_t i = 0; i < p->ntopic; i++)
        if (p->topic[i].rkt) {
            rd_kafka_topic_destroy(p->topic[i].rkt);
            p->topic[i].rkt = NULL;
        }
}

int publisher_learn_topics(publisher_t *p, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    const char *prefix = p->prefix;
    int rc = 0;
    if (kafka_metadata(p->rk, 1, NULL, &md, 30000)) {
        snprintf(errstr, errstr_size, "cannot list the broker's topics");
        return DB_ERR_KAFKA;
    }
    for (int t = 0; t < md->topic_cnt && !rc; t++)
        if (!md->topics[t].err && !strncmp(md->topics[t].topic, prefix, strlen(prefix)))
            rc = remember_topic(p, md->topics[t].topic, NULL);
    rd_kafka_metadata_destroy(md);
    return rc;
}

static void check_fatal(publisher_t *p);

/* Makes sure topic (name: the topic without its prefix) exists, created with the
 * partitions schemas/topics.json gives it when missing (once per publisher; existing
 * topics untouched), and puts its index in the topic table in *ix. */
static int ensure_topic(publisher_t *p, const char *topic, const char *name, int *ix,
                        char *errstr, size_t errstr_size)
{
    const char *names[1] = {topic};
    int partitions, rc;
    long at = strindex_get(p->known_topics, topic);
    if (at >= 0) {
        *ix = (int)at;
        return 0;
    }
    if (!p->topics_def && (rc = topics_def_load(NULL, &p->topics_def, errstr, errstr_size)))
        return rc;
    partitions = topics_def_partitions(p->topics_def, name);
    /* A broker restart is survived here like in delivery: retry (serving delivery
     * reports) until the delivery deadline, then DB_ERR_KAFKA (exit 4). */
    int64_t give_up = now_ms() + p->deadline_ms;
    while (kafka_ensure_topics(p->rk, names, 1, partitions, NULL, 0, errstr, errstr_size)) {
        if (now_ms() >= give_up)
            return DB_ERR_KAFKA;
        rd_kafka_poll(p->rk, 1000);
        check_fatal(p);
    }
    return remember_topic(p, topic, ix);
}

/* Produces one copy of m to topic number ti; waits for queue space instead of
 * dropping. */
static int produce_copy(publisher_t *p, struct msg *m, int ti)
{
    static const char *type_names[] = {"document", "status", "event"};
    static const size_t type_lens[] = {8, 6, 5};
    struct topic *t = &p->topic[ti];
    if (!t->rkt && !(t->rkt = rd_kafka_topic_new(p->rk, t->name, NULL)))
        return rd_kafka_last_error();
    for (;;) {
        /* No copy flag: the bytes are ours until the delivery report, so the same
         * buffer serves every topic and a re-production after a fatal error. */
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(t->rkt), RD_KAFKA_V_VALUE(msg_bytes(m), m->len),
            RD_KAFKA_V_KEY(msg_key(m), m->keylen), RD_KAFKA_V_OPAQUE(m),
            RD_KAFKA_V_HEADER("docbus.type", type_names[m->type], (ssize_t)type_lens[m->type]),
            RD_KAFKA_V_HEADER("docbus.producer", m->producer, (ssize_t)m->producer_len),
            RD_KAFKA_V_END);
        if (!err)
            return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return err;
        rd_kafka_poll(p->rk, 50);
    }
}

/* produce_copy, except that a copy refused for a reason worth_again accepts is queued to
 * be produced again while its deadline lasts. */
static int produce_or_retry(publisher_t *p, struct msg *m, int ti)
{
    int err = produce_copy(p, m, ti);
    return err && worth_again(p, err) && retry_later(p, m, ti) == 0 ? 0 : err;
}

/* The signer calls this for every message of a signed batch, in seq order. */
static void emit_cb(void *opaque, const uint8_t *value, size_t len, const content_t *c,
                    void *msg_opaque)
{
    publisher_t *p = opaque;
    struct route *r = msg_opaque;
    /* one allocation for the record, its bytes and its key; every field is set below */
    struct msg *m = malloc(sizeof *m + len + r->keylen + 1);
    if (!m) {
        if (p->fail_cb)
            p->fail_cb(p->fail_opaque, r->ref, "out of memory");
        p->stats.failed++;
        goto out;
    }
    memcpy(msg_bytes(m), value, len);
    m->len = len;
    m->ref = r->ref;
    m->type = r->type;
    str_join(m->producer, sizeof m->producer, c->producer, NULL);
    m->producer_len = strlen(m->producer);
    m->keylen = r->keylen;
    memcpy(msg_key(m), r->key, r->keylen + 1);
    m->ntopics = r->ntopics;
    m->copies_left = r->ntopics;
    m->why = NULL;
    m->deadline_at = now_ms_coarse() + p->deadline_ms;
    memcpy(m->topics, r->topics, (size_t)r->ntopics * sizeof *m->topics);
    m->next = &p->inflight;
    m->prev = p->inflight.prev;
    p->inflight.prev->next = m;
    p->inflight.prev = m;
    p->stats.queued++;
    for (int i = 0, n = m->ntopics; i < n; i++) {
        int err = produce_or_retry(p, m, m->topics[i]);
        if (err && msg_settle_copy(p, m, rd_kafka_err2str(err)))
            break;   /* the last copy failed: m is freed */
    }
out:
    free(r);
}

/* Replaces a producer that hit a fatal error and produces every unacknowledged copy
 * again. Idempotence restarts with a new producer id; downstream dedup by msg_id makes
 * a copy that did reach the broker harmless. */
static int recreate(publisher_t *p, char *errstr, size_t errstr_size)
{
    rd_kafka_t *old = p->rk;
    /* the new producer first: if it cannot be made, the old one stays and its copies
     * fail with its fatal error (counted as not delivered) */
    rd_kafka_t *fresh = kafka_producer_new(p->cfg, NULL, dr_cb, p, errstr, errstr_size);
    if (!fresh)
        return DB_ERR_KAFKA;
    p->recreating = 1;
    rd_kafka_purge(old, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(old, 0);
    drop_topic_handles(p);
    rd_kafka_destroy(old);
    p->recreating = 0;
    p->rk = fresh;
    p->stats.recreated++;
    p->nretry = 0;   /* every copy still in flight is produced again below */
    int64_t now = now_ms();
    for (struct msg *m = p->inflight.next, *next; m != &p->inflight; m = next) {
        next = m->next;
        m->copies_left = m->ntopics;
        m->why = NULL;
        for (int i = 0, n = m->ntopics; i < n; i++) {
            const char *why = NULL;
            if (now >= m->deadline_at)
                why = "the delivery deadline passed while the producer was replaced";
            else if (produce_or_retry(p, m, m->topics[i]))
                why = "could not re-produce after a fatal producer error";
            if (why && msg_settle_copy(p, m, why))
                break;   /* m is freed */
        }
    }
    return 0;
}

static void check_fatal(publisher_t *p)
{
    char reason[512], errstr[512];
    if (!rd_kafka_fatal_error(p->rk, reason, sizeof reason))
        return;
    if (p->recreate_failed)
        return;
    if (p->stats.recreated >= MAX_RECREATES) {
        p->recreate_failed = 1;
        fprintf(stderr, "docbus: fatal producer error again (%s) after %d replacements; the "
                "records still in flight fail (check the principal's IdempotentWrite ACL and "
                "the broker)\n", reason, MAX_RECREATES);
        return;
    }
    fprintf(stderr, "docbus: fatal producer error (%s); recreating the producer\n", reason);
    if (recreate(p, errstr, sizeof errstr)) {
        /* the copies still in flight fail with the old producer's fatal error */
        p->recreate_failed = 1;
        fprintf(stderr, "docbus: %s\n", errstr);
    }
}

publisher_t *publisher_new(const db_config_t *cfg, publish_fail_cb *fail_cb, void *opaque,
                           char *errstr, size_t errstr_size)
{
    publisher_t *p = calloc(1, sizeof *p);
    char deadline[32];
    db_config_t *c = (db_config_t *)cfg;
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->fail_cb = fail_cb;
    p->fail_opaque = opaque;
    p->inflight.next = p->inflight.prev = &p->inflight;
    config_topic(cfg, "", p->prefix, sizeof p->prefix);
    if (!(p->known_topics = strindex_new()) || !(p->signer_of = strindex_new())) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    /* the body schemas' fingerprints once, not by name for every record */
    if (schemas_init(errstr, errstr_size))
        goto fail;
    for (body_type_t t = BODY_DOCUMENT; t <= BODY_EVENT; t++)
        if (schemas_fingerprint(body_type_schema(t), p->body_fingerprint[t])) {
            snprintf(errstr, errstr_size, "schema registry has no %s", body_type_schema(t));
            goto fail;
        }
    snprintf(p->pki_dir, sizeof p->pki_dir, "%s", config_get(cfg, "docbus.pki.dir", "pki"));
    snprintf(p->state_dir, sizeof p->state_dir, "%s", config_get(cfg, "docbus.state.dir", "state"));
    if (config_get_int(cfg, "docbus.batch.size", 512, 1, 1 << 20, &p->batch_size, errstr, errstr_size) ||
        config_get_int(cfg, "docbus.batch.linger.ms", 1000, 0, 60000, &p->linger_ms, errstr, errstr_size) ||
        config_get_int(cfg, "docbus.delivery.deadline.ms", 120000, 1000, 86400000, &p->deadline_ms,
                       errstr, errstr_size))
        goto fail;
    /* The delivery deadline is librdkafka's message timeout: within it a message is
     * retried through broker restarts; after it, it is reported failed, never dropped. */
    if (!config_get(cfg, "message.timeout.ms", NULL)) {
        snprintf(deadline, sizeof deadline, "%lld", (long long)p->deadline_ms);
        config_set(c, "message.timeout.ms", deadline, errstr, errstr_size);
    }
    if (mkdir(p->state_dir, 0700) && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create state directory %s: %s", p->state_dir,
                 strerror(errno));
        goto fail;
    }
    p->rk = kafka_producer_new(cfg, NULL, dr_cb, p, errstr, errstr_size);
    if (!p->rk)
        goto fail;
    return p;
fail:
    publisher_destroy(p);
    return NULL;
}

/* Returns the signer of unit, creating it from the PKI on first use. */
static batch_signer_t *signer_for(publisher_t *p, const char *unit, char *errstr,
                                  size_t errstr_size)
{
    struct unit_signer *s;
    char key[1024], cert[1024], state[1024];
    long at = strindex_get(p->signer_of, unit);
    if (at >= 0)
        return p->signers[at].signer;
    if (p->nsigners == p->capsigners) {
        size_t cap = p->capsigners ? p->capsigners * 2 : 16;
        s = realloc(p->signers, cap * sizeof *s);
        if (!s) {
            snprintf(errstr, errstr_size, "out of memory");
            return NULL;
        }
        p->signers = s;
        p->capsigners = cap;
    }
    s = &p->signers[p->nsigners];
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    snprintf(key, sizeof key, "%s/units/%s.key", p->pki_dir, unit);
    snprintf(cert, sizeof cert, "%s/units/%s.crt", p->pki_dir, unit);
    snprintf(state, sizeof state, "%s/%s.seq", p->state_dir, unit);
    s->signer = batch_signer_new(unit, key, cert, state, (int)p->batch_size, (int)p->linger_ms,
                                 emit_cb, p, errstr, errstr_size);
    if (!s->signer)
        return NULL;
    /* The state's fdatasync runs on the fsync worker while this thread goes on; the
     * batch leaves once it is durable (publisher_poll, the signer's next add, or
     * publisher_finish). Inline, the import's thread waited 0.6-0.9 s per bench run in
     * ~600 fdatasyncs (p50 0.8 ms, p99 11 ms, behind the broker's own writes). */
    batch_signer_set_async(s->signer, 1);
    if (strindex_put(p->signer_of, unit, (long)p->nsigners)) {
        batch_signer_destroy(s->signer);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->nsigners++;
    return s->signer;
}

int publisher_add(publisher_t *p, body_type_t type, const char *producer,
                  const char *natural_key, const char *key, const char *const *topics,
                  int ntopics, const uint8_t *body, size_t body_len, int64_t ref,
                  char *errstr, size_t errstr_size)
{
    content_t c;
    struct route *r;
    batch_signer_t *s;
    int rc;
    if (ntopics < 1 || ntopics > MAX_TOPICS) {
        snprintf(errstr, errstr_size, "a record goes to 1..%d topics, not %d", MAX_TOPICS, ntopics);
        return DB_ERR_INVALID;
    }
    s = signer_for(p, producer, errstr, errstr_size);
    if (!s)
        return DB_ERR_CONFIG;
    r = malloc(sizeof *r);   /* the key's bytes past its NUL and topics past ntopics unset */
    if (!r)
        return DB_ERR_NOMEM;
    r->ref = ref;
    r->type = type;
    r->keylen = str_join(r->key, sizeof r->key, key, NULL);
    if (r->keylen >= sizeof r->key)
        r->keylen = sizeof r->key - 1;   /* truncated, as before */
    r->ntopics = ntopics;
    for (int i = 0; i < ntopics; i++) {
        char topic[512];
        str_join(topic, sizeof topic, p->prefix, topics[i], NULL);
        if ((rc = ensure_topic(p, topic, topics[i], &r->topics[i], errstr, errstr_size))) {
            free(r);
            return rc;
        }
    }
    memset(&c, 0, sizeof c);
    if ((rc = publish_msg_id(producer, type, natural_key, c.msg_id))) {
        snprintf(errstr, errstr_size, "message id of %s: %s", natural_key, db_strerror(rc));
        free(r);
        return rc;
    }
    str_join(c.producer, sizeof c.producer, producer, NULL);
    c.body_type = type;
    memcpy(c.body_fingerprint, p->body_fingerprint[type], sizeof c.body_fingerprint);
    c.body = body;
    c.body_len = body_len;
    rc = batch_signer_add(s, &c, r);
    if (rc) {
        snprintf(errstr, errstr_size, "signing as %s failed: %s", producer,
                 *batch_signer_error(s) ? batch_signer_error(s) : db_strerror(rc));
        free(r);
        return rc;
    }
    if (++p->adds % POLL_EVERY == 0) {
        rd_kafka_poll(p->rk, 0);
        check_fatal(p);
        retry_due(p);
    }
    return 0;
}

void publisher_poll(publisher_t *p, int timeout_ms)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < p->nsigners; i++)
        batch_signer_poll(p->signers[i].signer, now);
    rd_kafka_poll(p->rk, timeout_ms);
    check_fatal(p);
    retry_due(p);
}

int publisher_finish(publisher_t *p, char *errstr, size_t errstr_size)
{
    int held_rc = 0;
    /* Every open batch is sealed first, so that the units' state syncs queue together;
     * flushing them one by one waited out each unit's fdatasync in turn (96 units: 0.11-
     * 0.21 s at the end of the bench's import). While the syncs finish, librdkafka sends
     * what it holds without waiting out linger.ms (only inside rd_kafka_flush), and each
     * batch is emitted once durable. A seal that fails is tried again and reported by the
     * flush below, which also emits whatever is left; a signer whose poll failed is not
     * polled again (failed[i]). */
    char *failed = calloc(p->nsigners ? p->nsigners : 1, 1);
    for (size_t i = 0; i < p->nsigners; i++)
        batch_signer_seal(p->signers[i].signer);
    for (int holding = failed != NULL; holding;) {
        holding = 0;
        for (size_t i = 0; i < p->nsigners; i++) {
            batch_signer_t *s = p->signers[i].signer;
            if (failed[i] || !batch_signer_holding(s))
                continue;
            if (batch_signer_poll(s, 0) < 0)
                failed[i] = 1;
            else
                holding |= batch_signer_holding(s);
        }
        if (holding && rd_kafka_outq_len(p->rk) > 0)
            rd_kafka_flush(p->rk, 1);
        else if (holding)
            rd_kafka_poll(p->rk, 1);   /* nothing to send: a wait, not a spin */
    }
    free(failed);
    for (size_t i = 0; i < p->nsigners; i++) {
        int rc = batch_signer_flush(p->signers[i].signer);
        if (rc < 0 && !held_rc) {
            /* signed messages whose seq state is not durable never leave (a later run
             * signs them again); say which unit and why */
            held_rc = rc;
            snprintf(errstr, errstr_size, "the last records of %s were not sent: %s",
                     p->signers[i].unit, batch_signer_error(p->signers[i].signer));
        }
    }
    /* Bounded by message.timeout.ms: every copy gets a delivery report by then.
     * rd_kafka_flush, not rd_kafka_poll: while it runs, librdkafka sends what it holds
     * at once instead of waiting out linger.ms (up to 500 ms for an import), and it
     * serves the delivery reports. */
    while (p->inflight.next != &p->inflight) {
        rd_kafka_flush(p->rk, 100);
        check_fatal(p);
        retry_due(p);
    }
    if (held_rc)
        return held_rc;
    if (p->stats.failed) {
        snprintf(errstr, errstr_size, "%llu of %llu records could not be delivered",
                 (unsigned long long)p->stats.failed, (unsigned long long)p->stats.queued);
        return DB_ERR_KAFKA;
    }
    return 0;
}

void publisher_stats(const publisher_t *p, publish_stats_t *out)
{
    *out = p->stats;
}

rd_kafka_t *publisher_rk(publisher_t *p)
{
    return p->rk;
}

void publisher_destroy(publisher_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsigners; i++)
        batch_signer_destroy(p->signers[i].signer);
    if (p->rk) {
        rd_kafka_flush(p->rk, 1000);
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0);
        drop_topic_handles(p);
        rd_kafka_destroy(p->rk);
    }
    while (p->inflight.next != &p->inflight) {
        struct msg *m = p->inflight.next;
        msg_unlink(m);
        free(m);
    }
    strindex_destroy(p->known_topics);
    strindex_destroy(p->signer_of);
    topics_def_destroy(p->topics_def);
    free(p->topic);
    free(p->retry);
    free(p->signers);
    free(p);
}
