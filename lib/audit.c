/* audit.c - the Kafka-free audit core: verify, continuity, replay, recount, compare. */
#include "audit.h"
#include "record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "batch.h"
#include "codec.h"
#include "counts.h"
#include "error.h"
#include "json_parse.h"
#include "idset.h"
#include "merkle.h"
#include "quarter.h"
#include "str.h"
#include "strindex.h"
#include "verify.h"

#define QUARTER_OPEN_LO INT32_MIN
#define QUARTER_OPEN_HI INT32_MAX
#define CUR_MAX 16            /* continuity findings one message can raise */

/* ---- a hash map with 16-byte keys and a small value ------------------------------- */

/* Keys are the first 16 bytes of what the callers build: a message id, a Merkle leaf
 * with the topic folded in, a producer and seq. 128 bits keep two different leaves apart
 * (a collision by chance needs ~2^64 messages) at three quarters of the memory of whole
 * 32-byte keys: the copy table holds a slot per message read, 1.7 GiB at the peak of a
 * full-scale audit before. */
#define KMAP_KEY 16

typedef struct kslot {
    uint8_t key[KMAP_KEY];
    int64_t a;                /* e.g. a timestamp or a seq */
    uint8_t aux[16];          /* e.g. a body hash */
    uint8_t used;
} kslot_t;                    /* 48 bytes */

typedef struct kmap {
    kslot_t *slots;
    size_t cap, n;
} kmap_t;

static size_t kmap_index(const uint8_t key[KMAP_KEY], size_t cap)
{
    uint64_t h, l;
    memcpy(&h, key, 8);
    memcpy(&l, key + 8, 8);
    h ^= l * 0x9E3779B97F4A7C15ULL;   /* both halves: a seq key's second half is a small seq */
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (size_t)h & (cap - 1);
}

/* Returns the slot of key, or NULL. */
static kslot_t *kmap_get(const kmap_t *m, const uint8_t key[KMAP_KEY])
{
    if (!m->cap)
        return NULL;
    for (size_t i = kmap_index(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].used)
            return NULL;
        if (!memcmp(m->slots[i].key, key, KMAP_KEY))
            return &m->slots[i];
    }
}

/* Rehashes m into cap slots (a power of two holding every key); 0, or -1 when out of
 * memory (m unchanged). */
static int kmap_rehash(kmap_t *m, size_t cap)
{
    size_t i;
    kmap_t g = {0};
    g.cap = cap;
    if (!(g.slots = calloc(g.cap, sizeof *g.slots)))
        return -1;
    for (size_t j = 0; j < m->cap; j++) {
        if (!m->slots[j].used)
            continue;
        for (i = kmap_index(m->slots[j].key, g.cap); g.slots[i].used; i = (i + 1) & (g.cap - 1))
            ;
        g.slots[i] = m->slots[j];
    }
    g.n = m->n;
    free(m->slots);
    *m = g;
    return 0;
}

/* Capacity for n keys at a load of at most 3/4 (at least 1024 slots). */
static size_t kmap_cap_for(size_t n)
{
    size_t cap = 1024;
    while (cap < SIZE_MAX / 8 && n * 4 > cap * 3)
        cap *= 2;
    return cap;
}

/* Grows m when one more key would load it over 3/4; 0, or -1 when out of memory. */
static int kmap_reserve(kmap_t *m)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        return kmap_rehash(m, m->cap ? m->cap * 2 : 1024);
    return 0;
}

/* The slot of key, inserted zeroed when absent (*created = 1) in the same walk; NULL
 * when out of memory. */
static kslot_t *kmap_upsert(kmap_t *m, const uint8_t key[KMAP_KEY], int *created)
{
    size_t i;
    *created = 0;
    if (kmap_reserve(m))
        return NULL;
    for (i = kmap_index(key, m->cap); m->slots[i].used; i = (i + 1) & (m->cap - 1))
        if (!memcmp(m->slots[i].key, key, KMAP_KEY))
            return &m->slots[i];
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    memcpy(m->slots[i].key, key, KMAP_KEY);
    m->slots[i].used = 1;
    m->n++;
    *created = 1;
    return &m->slots[i];
}

/* Key of one producer seq: SHA-256 would do, but the name hash and seq are unique
 * enough for "was this seq claimed by a failed message". */
static void seq_key(const char *producer, int64_t seq, uint8_t key[KMAP_KEY])
{
    uint64_t h = str_fnv64(producer);
    memcpy(key, &h, 8);
    memcpy(key + 8, &seq, 8);
}

/* ---- interned topic names and per-producer batches -------------------------------- */

typedef struct bref {
    int64_t batch_seq, first_seq;
    int32_t count;
    int32_t partition;
    uint32_t topic;           /* index in the audit's topic table */
    int64_t offset;
} bref_t;

typedef struct prod {
    char name[UNIT_CODE_MAX];
    bref_t *b;
    size_t n, cap;
    int64_t last_batch;       /* batch_seq of b[n-1], to skip repeats cheaply */
    /* after audit_finish: missing seq ranges explained by missing batches */
    int64_t (*missing)[2];
    size_t nmissing;
} prod_t;

/* What continuity reported while one message was fed. */
typedef struct cur_finding {
    continuity_kind_t kind;
    int64_t seq, batch_seq;
    char location[160], other[160];
    char detail[256];
} cur_finding_t;

struct audit {
    verifier_t *verifier;
    const metrics_t *m;
    continuity_t *ct;
    counts_t *recount, *committed;
    strindex_t *committed_part;    /* key -> the partition it was first read from */
    idset_t *seen;                 /* msg ids counted (the aggregator's dedup set) */
    kmap_t copies;                 /* leaf ^ topic -> first Kafka timestamp */
    kmap_t ids;                    /* msg_id -> seq, body hash */
    kmap_t failed_claims;          /* (producer, seq) claimed by messages that failed */
    char prefix[256];
    int64_t from_ms, to_ms, replay_ms;
    quarter_t q_lo, q_hi;
    size_t max_listed;
    /* topics */
    char **topics;
    size_t ntopics, last_topic;
    /* producers, open addressing by name */
    prod_t **prods;
    size_t nprods, capprods;
    /* the message being fed to continuity */
    cur_finding_t cur[CUR_MAX];
    int ncur, phase_finish;
    /* results */
    audit_finding_t *findings;
    size_t nfindings, capfindings;
    uint64_t by_class[AUDIT_NCLASSES];
    uint64_t total_findings;
    json_t *differences, *notes, *not_compared;
    json_t *only_topics;           /* NULL, or {topic: true}: compare these sources only */
    uint64_t messages, verified, copies_fanout, benign_resends, counted, duplicates,
        extra_copies, uncountable, facts, facts_outside;
    /* scratch for facts: the source "topic:partition" of the last message counted */
    char src[300], src_topic[256];
    int32_t src_partition;
    uint64_t msg_facts;            /* facts delivered for the message being counted */
    int oom;
};

static const char *class_names[AUDIT_NCLASSES] = {
    "bad_signature", "bad_proof",     "unknown_signer", "cert_chain",        "cert_revoked",
    "cert_expired",  "cert_unit",     "bad_content",    "undecodable",       "seq_gap",
    "batch_missing", "chain_break",   "duplicate_tampered", "reordered",     "replayed",
    "conflicting_resend"};

const char *audit_class_name(audit_class_t c)
{
    return (unsigned)c < AUDIT_NCLASSES ? class_names[c] : "unknown";
}

static audit_class_t class_of_error(int rc)
{
    switch (rc) {
    case DB_ERR_BAD_SIGNATURE: return AUDIT_BAD_SIGNATURE;
    case DB_ERR_BAD_PROOF: return AUDIT_BAD_PROOF;
    case DB_ERR_UNKNOWN_SIGNER: return AUDIT_UNKNOWN_SIGNER;
    case DB_ERR_CERT_CHAIN: return AUDIT_CERT_CHAIN;
    case DB_ERR_CERT_EXPIRED: return AUDIT_CERT_EXPIRED;
    case DB_ERR_CERT_REVOKED: return AUDIT_CERT_REVOKED;
    case DB_ERR_CERT_UNIT: return AUDIT_CERT_UNIT;
    case DB_ERR_BAD_CONTENT: return AUDIT_BAD_CONTENT;
    default: return AUDIT_UNDECODABLE;
    }
}

static uint32_t topic_intern(audit_t *a, const char *topic)
{
    /* A handful of topics (one per unit inbox): the last one hit is almost always it. */
    if (a->last_topic < a->ntopics && !strcmp(a->topics[a->last_topic], topic))
        return (uint32_t)a->last_topic;
    for (size_t i = 0; i < a->ntopics; i++)
        if (!strcmp(a->topics[i], topic))
            return (uint32_t)(a->last_topic = i);
    char **nt = realloc(a->topics, (a->ntopics + 1) * sizeof *nt);
    if (!nt) {
        a->oom = 1;
        return 0;
    }
    a->topics = nt;
    if (!(nt[a->ntopics] = strdup(topic))) {
        a->oom = 1;
        return 0;
    }
    return (uint32_t)(a->last_topic = a->ntopics++);
}

static prod_t *prod_get(audit_t *a, const char *name, int create)
{
    size_t i;
    if (a->capprods)
        for (i = str_fnv64(name) & (a->capprods - 1); a->prods[i]; i = (i + 1) & (a->capprods - 1))
            if (!strcmp(a->prods[i]->name, name))
                return a->prods[i];
    if (!create)
        return NULL;
    if ((a->nprods + 1) * 2 > a->capprods) {
        size_t cap = a->capprods ? a->capprods * 2 : 64;
        prod_t **np = calloc(cap, sizeof *np);
        if (!np)
            return NULL;
        for (size_t j = 0; j < a->capprods; j++) {
            if (!a->prods[j])
                continue;
            for (i = str_fnv64(a->prods[j]->name) & (cap - 1); np[i]; i = (i + 1) & (cap - 1))
                ;
            np[i] = a->prods[j];
        }
        free(a->prods);
        a->prods = np;
        a->capprods = cap;
    }
    prod_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->last_batch = -1;
    for (i = str_fnv64(name) & (a->capprods - 1); a->prods[i]; i = (i + 1) & (a->capprods - 1))
        ;
    a->prods[i] = p;
    a->nprods++;
    return p;
}

/* ---- findings ---------------------------------------------------------------------- */

static void add_finding(audit_t *a, audit_class_t cls, const char *topic, int32_t partition,
                        int64_t offset, const char *producer, int64_t seq, int64_t seq_to,
                        int64_t batch_seq, const char *other, const char *fmt, ...)
    __attribute__((format(printf, 11, 12)));

static void add_finding(audit_t *a, audit_class_t cls, const char *topic, int32_t partition,
                        int64_t offset, const char *producer, int64_t seq, int64_t seq_to,
                        int64_t batch_seq, const char *other, const char *fmt, ...)
{
    audit_finding_t *f;
    va_list ap;
    a->by_class[cls]++;
    a->total_findings++;
    if (a->nfindings >= a->max_listed)
        return;
    if (a->nfindings == a->capfindings) {
        size_t cap = a->capfindings ? a->capfindings * 2 : 16;
        audit_finding_t *nf = realloc(a->findings, cap * sizeof *nf);
        if (!nf) {
            a->oom = 1;
            return;
        }
        a->findings = nf;
        a->capfindings = cap;
    }
    f = &a->findings[a->nfindings++];
    memset(f, 0, sizeof *f);
    f->cls = cls;
    snprintf(f->topic, sizeof f->topic, "%s", topic ? topic : "");
    f->partition = topic && *topic ? partition : -1;
    f->offset = topic && *topic ? offset : -1;
    snprintf(f->producer, sizeof f->producer, "%s", producer ? producer : "");
    f->seq = seq;
    f->seq_to = seq_to;
    f->batch_seq = batch_seq;
    snprintf(f->other, sizeof f->other, "%s", other ? other : "");
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
}

/* Copies s (truncated to cap - 1 bytes) to buf; returns the length written (no NUL). */
/* Splits "topic/partition@offset" (the continuity locations we give). */
static void parse_loc(const char *loc, char *topic, size_t tsize, int32_t *partition,
                      int64_t *offset)
{
    const char *slash = strrchr(loc, '/'), *at = strrchr(loc, '@');
    *partition = -1;
    *offset = -1;
    topic[0] = 0;
    if (!slash || !at || at < slash)
        return;
    snprintf(topic, tsize, "%.*s", (int)(slash - loc), loc);
    *partition = (int32_t)strtol(slash + 1, NULL, 10);
    *offset = strtoll(at + 1, NULL, 10);
}

/* ---- construction ------------------------------------------------------------------ */

/* The continuity tracker reports here: during audit_message findings are kept for the
 * message being fed (classified afterwards); during audit_finish they are seq gaps. */
static void on_continuity(void *opaque, const continuity_finding_t *f);

audit_t *audit_new(trust_t *trust, const metrics_t *m, const audit_opts_t *o, char *errstr,
                   size_t errstr_size)
{
    audit_t *a = calloc(1, sizeof *a);
    if (!a) {
        trust_destroy(trust);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (!(a->verifier = verifier_new_trust(trust, errstr, errstr_size)))
        goto fail;
    a->m = m;
    a->src_partition = -1;
    snprintf(a->prefix, sizeof a->prefix, "%s", o->topic_prefix ? o->topic_prefix : "docbus.");
    a->from_ms = o->from_ms;
    a->to_ms = o->to_ms;
    a->replay_ms = o->replay_ms > 0 ? o->replay_ms : AUDIT_DEFAULT_REPLAY_MS;
    a->max_listed = o->max_listed ? o->max_listed : AUDIT_DEFAULT_MAX_LISTED;
    if (a->from_ms == AUDIT_TIME_OPEN_START) {
        a->q_lo = QUARTER_OPEN_LO;
    } else {
        a->q_lo = quarter_of_ms(a->from_ms);
        if (quarter_start_ms(a->q_lo) < a->from_ms)
            a->q_lo++;
    }
    if (a->to_ms == AUDIT_TIME_OPEN_END) {
        a->q_hi = QUARTER_OPEN_HI;
    } else {
        a->q_hi = quarter_of_ms(a->to_ms - 1);
        if (quarter_start_ms(a->q_hi + 1) > a->to_ms)
            a->q_hi--;
    }
    if (a->q_hi < a->q_lo) {
        snprintf(errstr, errstr_size, "the range holds no whole quarter: figures are per quarter, "
                 "so give at least one (e.g. --from 2018-Q1 --to 2018-Q1)");
        goto fail;
    }
    /* Seqs are expected from 1 only when the whole history is read. */
    a->ct = continuity_new(on_continuity, a, a->from_ms == AUDIT_TIME_OPEN_START);
    /* a resend is only counted (every extra copy of a document in another inbox is one):
     * its finding need not name places or carry a sentence */
    if (a->ct)
        continuity_brief(a->ct, CONT_DUP_RESEND);
    a->recount = counts_new();
    a->committed = counts_new();
    a->committed_part = strindex_new();
    a->seen = idset_new();
    a->differences = json_array();
    a->notes = json_array();
    a->not_compared = json_array();
    if (!a->ct || !a->recount || !a->committed || !a->committed_part || !a->seen ||
        !a->differences || !a->notes || !a->not_compared) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    return a;
fail:
    audit_destroy(a);
    return NULL;
}


void audit_destroy(audit_t *a)
{
    if (!a)
        return;
    verifier_destroy(a->verifier);
    continuity_destroy(a->ct);
    counts_destroy(a->recount);
    counts_destroy(a->committed);
    strindex_destroy(a->committed_part);
    json_decref(a->differences);
    json_decref(a->notes);
    json_decref(a->not_compared);
    json_decref(a->only_topics);
    idset_destroy(a->seen);
    free(a->copies.slots);
    free(a->ids.slots);
    free(a->failed_claims.slots);
    for (size_t i = 0; i < a->ntopics; i++)
        free(a->topics[i]);
    free(a->topics);
    for (size_t i = 0; i < a->capprods; i++)
        if (a->prods[i]) {
            free(a->prods[i]->b);
            free(a->prods[i]->missing);
            free(a->prods[i]);
        }
    free(a->prods);
    free(a->findings);
    free(a);
}

/* ---- counting, mirroring consumers/aggregate.c ------------------------------------ */

static int on_fact(const metrics_fact_t *f, void *opaque)
{
    audit_t *a = opaque;
    char errstr[256];
    a->msg_facts++;
    if (f->quarter < a->q_lo || f->quarter > a->q_hi) {
        a->facts_outside++;
        return 0;
    }
    a->facts++;
    /* The aggregator stamps updated_at with its clock; the audit compares values only. */
    return counts_apply(a->recount, a->m, f, a->src, 0, errstr, sizeof errstr);
}

static int count_message(audit_t *a, const audit_msg_t *msg, const verified_t *v)
{
    char errstr[512];
    int rc;
    if (!record_counted_copy(a->prefix, msg->topic, v->content.body_type, v->body)) {
        a->extra_copies++;
        return 0;
    }
    if (idset_has(a->seen, v->content.msg_id)) {
        a->duplicates++;
        return 0;
    }
    if (msg->partition != a->src_partition || strcmp(msg->topic, a->src_topic) != 0) {
        snprintf(a->src, sizeof a->src, "%s:%d", msg->topic, (int)msg->partition);
        snprintf(a->src_topic, sizeof a->src_topic, "%s", msg->topic);
        a->src_partition = msg->partition;
    }
    /* As the aggregator: a message with an impossible value is rejected whole.
     * metrics_eval checks the whole body before its first callback, so one call does
     * what the aggregator's check-then-count pair does. */
    a->msg_facts = 0;
    rc = metrics_eval(a->m, v->content.body_type, v->body, on_fact, a, errstr, sizeof errstr);
    if (rc == DB_ERR_NOMEM)
        return rc;
    if (rc && a->msg_facts == 0) {
        a->uncountable++;
        if (a->uncountable <= 20)
            audit_note(a, "%s/%d@%lld (%s seq %lld) not counted, as the aggregator rejects it: %s",
                       msg->topic, (int)msg->partition, (long long)msg->offset, v->content.producer,
                       (long long)v->content.seq, errstr);
        return 0;
    }
    if (rc)   /* e.g. an overflowing sum: the aggregator would stop; say so and go on */
        audit_note(a, "%s/%d@%lld: counting failed: %s", msg->topic, (int)msg->partition,
                   (long long)msg->offset, errstr);
    if (idset_add(a->seen, v->content.msg_id) < 0)
        return DB_ERR_NOMEM;
    a->counted++;
    return 0;
}

/* ---- one message ------------------------------------------------------------------- */

static void record_failed(audit_t *a, const audit_msg_t *msg, int rc, const char *why)
{
    content_t c;
    proof_t p;
    char errstr[256];
    const char *producer = NULL;
    int64_t seq = -1, batch_seq = 0;
    /* Which message did it claim to be? Only an envelope that decodes says. */
    if (msg->value && !envelope_read(msg->value, msg->len, &c, &p, NULL, NULL, errstr, sizeof errstr)) {
        producer = c.producer;
        seq = c.seq;
        batch_seq = p.header.batch_seq;
        uint8_t key[KMAP_KEY];
        seq_key(c.producer, c.seq, key);
        int created;
        if (!kmap_upsert(&a->failed_claims, key, &created))
            a->oom = 1;
    }
    add_finding(a, class_of_error(rc), msg->topic, msg->partition, msg->offset, producer, seq, seq,
                batch_seq, NULL, "%s", why);
}

static void note_batch(audit_t *a, const audit_msg_t *msg, const verified_t *v)
{
    const batch_header_t *h = &v->proof.header;
    prod_t *p = prod_get(a, v->content.producer, 1);
    if (!p) {
        a->oom = 1;
        return;
    }
    if (p->last_batch == h->batch_seq)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        bref_t *nb = realloc(p->b, cap * sizeof *nb);
        if (!nb) {
            a->oom = 1;
            return;
        }
        p->b = nb;
        p->cap = cap;
    }
    bref_t *b = &p->b[p->n++];
    b->batch_seq = h->batch_seq;
    b->first_seq = h->first_seq;
    b->count = h->count;
    b->topic = topic_intern(a, msg->topic);
    b->partition = msg->partition;
    b->offset = msg->offset;
    p->last_batch = h->batch_seq;
}

int audit_message(audit_t *a, const audit_msg_t *msg)
{
    verified_t v;
    char errstr[512] = "";
    int rc = 0;
    if (msg->value)
        rc = verifier_check(a->verifier, msg->value, msg->len, &v, errstr, sizeof errstr);
    return audit_message_verified(a, msg, rc, errstr, &v, NULL);
}

verifier_t *audit_verifier(audit_t *a)
{
    return a->verifier;
}

int audit_message_verified(audit_t *a, const audit_msg_t *msg, int vrc, const char *errstr,
                           const verified_t *v, const uint8_t body_hash[32])
{
    char loc[300], stream[300];
    uint8_t leaf[32], key[KMAP_KEY], hash[32];
    int rc, same_topic_dup = 0, replayed = 0, created;
    int64_t first_ts = -1;
    kslot_t *s;
    continuity_item_t it;

    a->messages++;
    if (!msg->value) {
        add_finding(a, AUDIT_UNDECODABLE, msg->topic, msg->partition, msg->offset, NULL, -1, -1, 0,
                    NULL, "record has no value (a tombstone in a message topic)");
        goto out;
    }
    if (vrc) {
        record_failed(a, msg, vrc, errstr);
        goto out;
    }
    a->verified++;
    /* "topic/partition@offset" and "topic/partition", built without printf: this runs
     * for every message and printf was a tenth of the audit's time. */
    {
        char part[21], off[21];
        str_u64(part, (uint64_t)(msg->partition < 0 ? 0 : msg->partition));
        str_u64(off, (uint64_t)(msg->offset < 0 ? 0 : msg->offset));
        str_join(stream, sizeof stream, msg->topic, "/", part, NULL);
        str_join(loc, sizeof loc, stream, "@", off, NULL);
    }

    /* Copies of one signed content in one topic: the leaf names the content, the topic
     * hash is folded in so each topic has its own first copy. */
    memcpy(leaf, v->leaf, 32);   /* proven by verifier_check */
    memcpy(key, leaf, KMAP_KEY);
    uint64_t th = str_fnv64(msg->topic);
    for (int i = 0; i < 8; i++)
        key[i] ^= (uint8_t)(th >> (8 * i));
    if (!(s = kmap_upsert(&a->copies, key, &created)))
        return DB_ERR_NOMEM;
    if (created) {
        s->a = msg->timestamp;
    } else {
        same_topic_dup = 1;
        first_ts = s->a;
    }

    /* The same msg_id under another seq is a re-send of the same record: benign with the
     * same body, a conflict with another one. */
    if (body_hash) {
        memcpy(hash, body_hash, sizeof hash);
    } else if ((rc = merkle_sha256(v->content.body, v->content.body_len, hash))) {
        return rc;
    }
    memcpy(key, v->content.msg_id, KMAP_KEY);   /* a msg_id is 16 bytes */
    if (!(s = kmap_upsert(&a->ids, key, &created)))
        return DB_ERR_NOMEM;
    if (created) {
        s->a = v->content.seq;
        memcpy(s->aux, hash, 16);
    } else {
        if (s->a != v->content.seq) {
            if (!memcmp(s->aux, hash, 16))
                a->benign_resends++;
            else
                add_finding(a, AUDIT_CONFLICTING_RESEND, msg->topic, msg->partition, msg->offset,
                            v->content.producer, v->content.seq, v->content.seq,
                            v->proof.header.batch_seq, NULL,
                            "message id already signed by %s as seq %lld with a different body; "
                            "the aggregator counts only the first version",
                            v->content.producer, (long long)s->a);
        }
    }

    memset(&it, 0, sizeof it);
    it.producer = v->content.producer;
    it.seq = v->content.seq;
    it.msg_id = v->content.msg_id;
    it.content_hash = leaf;
    it.batch_seq = v->proof.header.batch_seq;
    it.prev_root = v->proof.header.prev_root;
    it.root = v->proof.header.root;
    it.location = loc;
    it.stream = stream;
    a->ncur = 0;
    if ((rc = continuity_feed(a->ct, &it)))
        return rc == DB_ERR_NOMEM ? rc : 0;

    int had_reorder = 0;
    for (int i = 0; i < a->ncur; i++)
        had_reorder |= a->cur[i].kind == CONT_REORDER;
    if (same_topic_dup) {
        if (msg->timestamp >= 0 && first_ts >= 0 && msg->timestamp - first_ts > a->replay_ms) {
            replayed = 1;
            add_finding(a, AUDIT_REPLAYED, msg->topic, msg->partition, msg->offset,
                        v->content.producer, v->content.seq, v->content.seq, it.batch_seq, NULL,
                        "%s seq %lld produced again %.1f s after its first copy in %s "
                        "(replay window %.0f s)", v->content.producer, (long long)v->content.seq,
                        (msg->timestamp - first_ts) / 1000.0, msg->topic, a->replay_ms / 1000.0);
        } else if (had_reorder) {
            replayed = 1;
            add_finding(a, AUDIT_REPLAYED, msg->topic, msg->partition, msg->offset,
                        v->content.producer, v->content.seq, v->content.seq, it.batch_seq, NULL,
                        "%s seq %lld (batch %lld) produced again after later batches of its "
                        "producer in %s", v->content.producer, (long long)v->content.seq,
                        (long long)it.batch_seq, stream);
        } else {
            a->benign_resends++;
        }
    }
    if (!replayed && msg->timestamp >= 0 &&
        msg->timestamp - v->proof.header.created_at > a->replay_ms) {
        replayed = 1;
        add_finding(a, AUDIT_REPLAYED, msg->topic, msg->partition, msg->offset, v->content.producer,
                    v->content.seq, v->content.seq, it.batch_seq, NULL,
                    "%s seq %lld produced %.1f s after its batch was signed (replay window %.0f s)",
                    v->content.producer, (long long)v->content.seq,
                    (msg->timestamp - v->proof.header.created_at) / 1000.0, a->replay_ms / 1000.0);
    }
    for (int i = 0; i < a->ncur; i++) {
        cur_finding_t *c = &a->cur[i];
        char topic[256];
        int32_t part;
        int64_t off;
        audit_class_t cls;
        if (c->kind == CONT_DUP_RESEND) {
            if (!same_topic_dup)
                a->copies_fanout++;   /* the same message delivered to another inbox */
            continue;
        }
        if (c->kind == CONT_REORDER && (same_topic_dup || replayed))
            continue;                 /* explained above */
        cls = c->kind == CONT_DUP_TAMPERED ? AUDIT_DUPLICATE_TAMPERED
              : c->kind == CONT_CHAIN_BREAK ? AUDIT_CHAIN_BREAK
                                            : AUDIT_REORDERED;
        parse_loc(c->location, topic, sizeof topic, &part, &off);
        add_finding(a, cls, topic, part, off, v->content.producer, c->seq, c->seq, c->batch_seq,
                    c->other, "%s", c->detail);
    }
    note_batch(a, msg, v);
    if ((rc = count_message(a, msg, v)))
        return rc;
out:
    return a->oom ? DB_ERR_NOMEM : 0;
}

static void on_continuity(void *opaque, const continuity_finding_t *f)
{
    audit_t *a = opaque;
    if (!a->phase_finish) {
        if (a->ncur >= CUR_MAX)
            return;
        cur_finding_t *c = &a->cur[a->ncur++];
        c->kind = f->kind;
        c->seq = f->seq_from;
        c->batch_seq = f->batch_seq;
        str_join(c->location, sizeof c->location, f->location, NULL);
        str_join(c->other, sizeof c->other, f->other_location, NULL);
        str_join(c->detail, sizeof c->detail, f->detail, NULL);
        return;
    }
    if (f->kind != CONT_SEQ_GAP)
        return;
    /* A gap: drop the seqs a missing batch already explains, and those claimed by a
     * message that failed verification (that message is the finding). */
    prod_t *p = prod_get(a, f->producer, 0);
    int64_t lo = f->seq_from, hi = f->seq_to;
    while (lo <= hi) {
        int64_t end = hi;
        int skip = 0;
        if (p)
            for (size_t i = 0; i < p->nmissing; i++) {
                if (lo >= p->missing[i][0] && lo <= p->missing[i][1]) {
                    lo = p->missing[i][1] + 1;
                    skip = 1;
                    break;
                }
                if (p->missing[i][0] > lo && p->missing[i][0] - 1 < end)
                    end = p->missing[i][0] - 1;
            }
        if (skip)
            continue;
        int claimed = 1;
        for (int64_t s = lo; s <= end && claimed; s++) {
            uint8_t key[KMAP_KEY];
            seq_key(f->producer, s, key);
            claimed = kmap_get(&a->failed_claims, key) != NULL;
            if (s - lo > 100000)
                claimed = 0;
        }
        if (!claimed) {
            /* Where: the batch that should hold the first missing seq, if seen. */
            const bref_t *where = NULL;
            if (p)
                for (size_t i = 0; i < p->n; i++)
                    if (lo >= p->b[i].first_seq && lo < p->b[i].first_seq + p->b[i].count) {
                        where = &p->b[i];
                        break;
                    }
            add_finding(a, AUDIT_SEQ_GAP, where ? a->topics[where->topic] : NULL,
                        where ? where->partition : -1, where ? where->offset : -1, f->producer, lo,
                        end, where ? where->batch_seq : 0, NULL,
                        "%s seqs %lld..%lld missing (%lld messages)%s", f->producer, (long long)lo,
                        (long long)end, (long long)(end - lo + 1),
                        where ? "; location: a message of the batch that signed them" : "");
        }
        lo = end + 1;
    }
}

static int cmp_bref(const void *x, const void *y)
{
    const bref_t *a = x, *b = y;
    return (a->batch_seq > b->batch_seq) - (a->batch_seq < b->batch_seq);
}

int audit_finish(audit_t *a)
{
    int expect_from_one = a->from_ms == AUDIT_TIME_OPEN_START;
    for (size_t i = 0; i < a->capprods; i++) {
        prod_t *p = a->prods[i];
        size_t n = 0;
        if (!p || !p->n)
            continue;
        qsort(p->b, p->n, sizeof *p->b, cmp_bref);
        for (size_t j = 0; j < p->n; j++)   /* keep the first copy of each batch */
            if (!n || p->b[n - 1].batch_seq != p->b[j].batch_seq)
                p->b[n++] = p->b[j];
        p->n = n;
        if (!(p->missing = calloc(n + 1, sizeof *p->missing)))
            return DB_ERR_NOMEM;
        for (size_t j = 0; j <= n; j++) {
            int64_t blo, bhi, slo, shi;
            const bref_t *next = j < n ? &p->b[j] : NULL;
            if (!next)
                break;
            if (j == 0) {
                if (!expect_from_one || next->batch_seq <= 1)
                    continue;
                blo = 1, slo = 1;
            } else {
                const bref_t *prev = &p->b[j - 1];
                if (next->batch_seq <= prev->batch_seq + 1)
                    continue;
                blo = prev->batch_seq + 1;
                slo = prev->first_seq + prev->count;
            }
            bhi = next->batch_seq - 1;
            shi = next->first_seq - 1;
            p->missing[p->nmissing][0] = slo;
            p->missing[p->nmissing][1] = shi;
            p->nmissing++;
            char what[96];
            if (blo == bhi)
                snprintf(what, sizeof what, "batch %lld", (long long)blo);
            else
                snprintf(what, sizeof what, "batches %lld..%lld", (long long)blo, (long long)bhi);
            add_finding(a, AUDIT_BATCH_MISSING, a->topics[next->topic], next->partition,
                        next->offset, p->name, slo, shi, blo, NULL,
                        "%s %s missing (seqs %lld..%lld); location: the next batch read "
                        "(batch %lld), whose prev_root names the missing one", p->name, what,
                        (long long)slo, (long long)shi, (long long)next->batch_seq);
        }
    }
    a->phase_finish = 1;
    continuity_finish(a->ct);
    return a->oom ? DB_ERR_NOMEM : 0;
}

/* ---- comparing --------------------------------------------------------------------- */

static int key_quarter(const char *key, size_t klen, quarter_t *q)
{
    const char *bar = memchr(key, '|', klen), *bar2;
    char qs[16], err[64];
    if (!bar || !(bar2 = memchr(bar + 1, '|', klen - (size_t)(bar + 1 - key))) ||
        bar2 - bar - 1 >= (long)sizeof qs)
        return DB_ERR_INVALID;
    snprintf(qs, sizeof qs, "%.*s", (int)(bar2 - bar - 1), bar + 1);
    return quarter_parse(qs, q, err, sizeof err);
}

int audit_committed_record(audit_t *a, int32_t partition, const char *key, size_t klen,
                           const char *value, size_t vlen, char *errstr, size_t errstr_size)
{
    char k[1024];
    int rc;
    long seen;
    if (klen == 0 || klen >= sizeof k) {
        snprintf(errstr, errstr_size, "counts record key of %zu bytes", klen);
        return DB_ERR_INVALID;
    }
    memcpy(k, key, klen);
    k[klen] = '\0';
    json_t *parsed = NULL;
    char perr[256];
    if (value && json_parse(value, vlen, &parsed, perr, sizeof perr))
        parsed = NULL;   /* counts_load_value reports an unreadable record */
    if ((rc = counts_load_value(a->committed, key, klen, value != NULL, parsed, errstr,
                                errstr_size))) {
        json_decref(parsed);
        /* A record no reader can load is itself a discrepancy of the published counts. */
        json_t *d = json_pack("{s:s, s:s, s:n, s:s%, s:s}", "kind", "record", "key", k, "audit",
                              "against", value ? value : "", value ? vlen : 0, "reason", errstr);
        if (!d || json_array_append_new(a->differences, d))
            return DB_ERR_NOMEM;
        return rc;
    }
    json_decref(parsed);
    if ((seen = strindex_get(a->committed_part, k)) >= 0) {
        if (seen != partition) {
            json_t *d = json_pack("{s:s, s:s, s:n, s:n, s:s}", "kind", "record", "key", k, "audit",
                                  "against", "reason", "");
            char why[128];
            snprintf(why, sizeof why, "the key was written to partitions %d and %d: the "
                     "aggregator writes a key to one partition only", (int)seen,
                     (int)partition);
            if (!d || json_object_set_new(d, "reason", json_string(why)) ||
                json_array_append_new(a->differences, d))
                return DB_ERR_NOMEM;
        }
    } else if (strindex_put(a->committed_part, k, partition)) {
        return DB_ERR_NOMEM;
    }
    return 0;   /* the record itself lives in a->committed */
}

int audit_note(audit_t *a, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_array_append_new(a->notes, json_string(buf)) ? DB_ERR_NOMEM : 0;
}

static int in_range(const audit_t *a, quarter_t q)
{
    return q >= a->q_lo && q <= a->q_hi;
}

/* The audited quarters: the whole bounded range, or (open ends) those with records. */
static int audited_quarters(const audit_t *a, quarter_t **out, size_t *n)
{
    quarter_t *q1 = NULL, *q2 = NULL, *res = NULL, lo, hi;
    size_t n1 = 0, n2 = 0, k = 0;
    int rc = DB_ERR_NOMEM;
    *out = NULL;
    *n = 0;
    if (counts_quarters(a->recount, &q1, &n1) || counts_quarters(a->committed, &q2, &n2))
        goto out;
    lo = a->q_lo, hi = a->q_hi;
    if (lo == QUARTER_OPEN_LO || hi == QUARTER_OPEN_HI) {
        quarter_t mn = QUARTER_OPEN_HI, mx = QUARTER_OPEN_LO;
        for (size_t i = 0; i < n1; i++)
            if (in_range(a, q1[i]))
                mn = q1[i] < mn ? q1[i] : mn, mx = q1[i] > mx ? q1[i] : mx;
        for (size_t i = 0; i < n2; i++)
            if (in_range(a, q2[i]))
                mn = q2[i] < mn ? q2[i] : mn, mx = q2[i] > mx ? q2[i] : mx;
        if (lo == QUARTER_OPEN_LO)
            lo = mn;
        if (hi == QUARTER_OPEN_HI)
            hi = mx;
    }
    rc = 0;
    if (lo > hi || (int64_t)hi - lo > 4000)
        goto out;
    if (!(res = malloc((size_t)(hi - lo + 1) * sizeof *res))) {
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (quarter_t q = lo; q <= hi; q++)
        res[k++] = q;
    *out = res;
    *n = k;
out:
    free(q1);
    free(q2);
    return rc;
}

static int full_history(const audit_t *a)
{
    return a->from_ms == AUDIT_TIME_OPEN_START;
}

static int add_figure_diff(audit_t *a, quarter_t q, const char *id, const char *window,
                           json_t *audit_v, json_t *against_v, const char *reason)
{
    char qs[16];
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "kind", "figure", "quarter",
                          quarter_format(q, qs, sizeof qs), "figure", id, "window", window,
                          "audit", audit_v ? audit_v : json_null(), "against",
                          against_v ? against_v : json_null());
    if (d && reason)
        json_object_set_new(d, "reason", json_string(reason));
    return !d || json_array_append_new(a->differences, d) ? DB_ERR_NOMEM : 0;
}

/* Is the source of record key k ("...|topic:partition") one of the audited topics? */
static int source_audited(const audit_t *a, const char *k)
{
    char topic[300];
    const char *bar = strrchr(k, '|'), *colon;
    if (!a->only_topics)
        return 1;
    if (!bar || !(colon = strrchr(bar, ':')) || colon - bar - 1 >= (long)sizeof topic)
        return 0;
    snprintf(topic, sizeof topic, "%.*s", (int)(colon - bar - 1), bar + 1);
    return json_object_get(a->only_topics, topic) != NULL;
}

/* A record's {"value", "item"?} as differences show it; NULL when out of memory. */
static json_t *record_core(int64_t value, const char *item)
{
    json_t *core = json_pack("{s:I}", "value", (json_int_t)value), *it;
    if (core && item && (!(it = json_loads(item, 0, NULL)) || json_object_set_new(core, "item", it))) {
        json_decref(core);
        return NULL;
    }
    return core;
}

/* Do two list items (JSON texts, or NULL) say the same? Texts written by docbus agree
 * byte for byte; anything else is compared as JSON. */
static int same_item(const char *x, const char *y)
{
    json_t *jx, *jy;
    int same;
    if (!x || !y)
        return x == y;
    if (!strcmp(x, y))
        return 1;
    jx = json_loads(x, 0, NULL);
    jy = json_loads(y, 0, NULL);
    same = jx && jy && json_equal(jx, jy);
    json_decref(jx);
    json_decref(jy);
    return same;
}

/* Records a "record" difference: the audit's and the committed side (NULL: none). */
static int record_diff(audit_t *a, const char *key, size_t klen, const int64_t *mine,
                       const char *mine_item, const int64_t *theirs, const char *their_item)
{
    json_t *x = mine ? record_core(*mine, mine_item) : json_null();
    json_t *y = theirs ? record_core(*theirs, their_item) : json_null();
    json_t *d = x && y ? json_pack("{s:s, s:s%, s:o, s:o}", "kind", "record", "key", key, klen,
                                   "audit", x, "against", y)
                       : NULL;
    if (!d) {
        if (!x || !y) {   /* not handed to json_pack */
            json_decref(x);
            json_decref(y);
        }
        return DB_ERR_NOMEM;
    }
    return json_array_append_new(a->differences, d) ? DB_ERR_NOMEM : 0;
}

/* Is the record key in the comparison: a quarter in range, a source audited? */
static int record_compared(audit_t *a, const char *key, size_t klen)
{
    quarter_t q;
    return !key_quarter(key, klen, &q) && in_range(a, q) && source_audited(a, key);
}

/* A recount record against its committed twin. */
static int compare_recounted(const char *key, size_t klen, int64_t value, const char *item,
                             void *opaque)
{
    audit_t *a = opaque;
    int64_t theirs;
    const char *their_item;
    if (!record_compared(a, key, klen))
        return 0;
    if (!counts_get(a->committed, key, klen, &theirs, &their_item))
        return record_diff(a, key, klen, &value, item, NULL, NULL);
    if (theirs != value || !same_item(item, their_item))
        return record_diff(a, key, klen, &value, item, &theirs, their_item);
    return 0;
}

/* A committed record the recount does not have. */
static int compare_committed(const char *key, size_t klen, int64_t value, const char *item,
                             void *opaque)
{
    audit_t *a = opaque;
    int64_t mine;
    const char *mine_item;
    if (!record_compared(a, key, klen) || counts_get(a->recount, key, klen, &mine, &mine_item))
        return 0;
    return record_diff(a, key, klen, NULL, NULL, &value, item);
}

int audit_expect(audit_t *a, uint64_t messages)
{
    size_t cap = kmap_cap_for(messages > SIZE_MAX / 8 ? SIZE_MAX / 8 : (size_t)messages);
    if (cap > a->copies.cap && kmap_rehash(&a->copies, cap))
        return DB_ERR_NOMEM;
    return 0;
}

int audit_only_topics(audit_t *a, const char *const *topics, size_t n)
{
    json_decref(a->only_topics);
    if (!(a->only_topics = json_object()))
        return DB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (json_object_set_new(a->only_topics, topics[i], json_true()))
            return DB_ERR_NOMEM;
    return 0;
}

int audit_compare_committed(audit_t *a)
{
    quarter_t *qs = NULL;
    int64_t *series = NULL;
    size_t nq = 0, before = json_array_size(a->differences);
    int rc = DB_ERR_NOMEM;
    if (audited_quarters(a, &qs, &nq))
        goto out;
    /* Record by record: the audit's sources are the aggregator's (topic:partition), so
     * every committed record of an audited quarter has its exact twin. */
    if (counts_dirty_values(a->recount, compare_recounted, a) ||
        counts_values(a->committed, compare_committed, a))
        goto out;
    /* Figure by figure, as the report shows them (they sum every source: only when
     * every topic was read). */
    if (a->only_topics) {
        audit_note(a, "figures not compared: only some topics were audited; their count "
                   "records were compared one by one");
        nq = 0;
    }
    /* audited_quarters are consecutive: each table's figures come as series, computed
     * first, then compared quarter by quarter, metric by metric */
    size_t nm = (size_t)metrics_count(a->m);
    if (nq && !(series = malloc(4 * nq * nm * sizeof *series)))
        goto out;
    for (size_t i = 0; i < nq; i++)
        if (qs[i] != qs[0] + (quarter_t)i)
            goto out;   /* not consecutive: cannot happen */
    for (size_t mi = 0; nq && mi < nm; mi++) {
        int64_t *x = series + 4 * nq * mi;
        int cum = metrics_window(a->m, (int)mi) == METRICS_CUMULATIVE && full_history(a);
        counts_series(a->recount, a->m, metrics_id(a->m, (int)mi), qs[0], nq, x,
                      cum ? x + nq : NULL);
        counts_series(a->committed, a->m, metrics_id(a->m, (int)mi), qs[0], nq, x + 2 * nq,
                      cum ? x + 3 * nq : NULL);
    }
    for (size_t i = 0; i < nq; i++)
        for (size_t mi = 0; mi < nm; mi++) {
            const char *id = metrics_id(a->m, (int)mi);
            const int64_t *xq = series + 4 * nq * mi, *xc = xq + nq, *yq = xq + 2 * nq, *yc = xq + 3 * nq;
            if (xq[i] != yq[i] &&
                add_figure_diff(a, qs[i], id, "quarter", json_integer(xq[i]), json_integer(yq[i]), NULL))
                goto out;
            if (metrics_window(a->m, (int)mi) == METRICS_CUMULATIVE && full_history(a) &&
                xc[i] != yc[i] &&
                add_figure_diff(a, qs[i], id, "cumulative", json_integer(xc[i]), json_integer(yc[i]), NULL))
                goto out;
        }
    rc = (int)(json_array_size(a->differences) - before);
out:
    free(series);
    free(qs);
    return rc;
}

static int compare_one_report(audit_t *a, const json_t *r, char *errstr, size_t errstr_size)
{
    const char *qstr = json_string_value(json_object_get(r, "quarter"));
    json_t *figs = json_object_get(r, "figures"), *f;
    const char *id;
    quarter_t q;
    char qs[16];
    if (!qstr || !json_is_object(figs)) {
        snprintf(errstr, errstr_size, "not a report: needs \"quarter\" and a \"figures\" object");
        return DB_ERR_INVALID;
    }
    if (quarter_parse(qstr, &q, errstr, errstr_size))
        return DB_ERR_INVALID;
    if (!in_range(a, q)) {
        snprintf(errstr, errstr_size, "the report is for %s, outside the audited range", qstr);
        return DB_ERR_INVALID;
    }
    json_object_foreach(figs, id, f) {
        int mi = metrics_find(a->m, id);
        json_t *val = json_object_get(f, "value"), *qv = json_object_get(f, "quarter_value");
        if (mi < 0) {
            if (add_figure_diff(a, q, id, "quarter", NULL, json_incref(val), "no such figure"))
                return DB_ERR_NOMEM;
            continue;
        }
        int64_t xq = counts_value(a->recount, a->m, id, q, METRICS_QUARTER, NULL);
        metrics_window_t w = metrics_window(a->m, mi);
        if (json_is_integer(qv) && json_integer_value(qv) != xq &&
            add_figure_diff(a, q, id, "quarter", json_integer(xq), json_incref(qv), NULL))
            return DB_ERR_NOMEM;
        if (!json_is_integer(val))
            continue;
        if (w == METRICS_QUARTER) {
            if (json_integer_value(val) != xq &&
                add_figure_diff(a, q, id, "quarter", json_integer(xq), json_incref(val), NULL))
                return DB_ERR_NOMEM;
        } else if (full_history(a)) {
            int64_t xc = counts_value(a->recount, a->m, id, q, METRICS_CUMULATIVE, NULL);
            if (json_integer_value(val) != xc &&
                add_figure_diff(a, q, id, "cumulative", json_integer(xc), json_incref(val), NULL))
                return DB_ERR_NOMEM;
        } else {
            json_t *nc = json_pack("{s:s, s:s, s:s}", "quarter", quarter_format(q, qs, sizeof qs),
                                   "figure", id, "reason",
                                   "cumulative value: audit the whole history (no --from) to compare it");
            if (!nc || json_array_append_new(a->not_compared, nc))
                return DB_ERR_NOMEM;
        }
    }
    return 0;
}

int audit_compare_report(audit_t *a, const json_t *report, char *errstr, size_t errstr_size)
{
    size_t before = json_array_size(a->differences), i;
    json_t *r;
    int rc;
    if (json_is_array(report)) {
        json_array_foreach(report, i, r)
            if ((rc = compare_one_report(a, r, errstr, errstr_size)))
                return rc;
    } else if ((rc = compare_one_report(a, report, errstr, errstr_size))) {
        return rc;
    }
    return (int)(json_array_size(a->differences) - before);
}

/* ---- verdict ----------------------------------------------------------------------- */

int audit_clean(const audit_t *a)
{
    return a->total_findings == 0 && json_array_size(a->differences) == 0;
}

uint64_t audit_messages(const audit_t *a) { return a->messages; }
uint64_t audit_verified(const audit_t *a) { return a->verified; }
uint64_t audit_findings_total(const audit_t *a) { return a->total_findings; }
size_t audit_differences(const audit_t *a) { return json_array_size(a->differences); }

const audit_finding_t *audit_findings(const audit_t *a, size_t *n)
{
    *n = a->nfindings;
    return a->findings;
}

static json_t *finding_json(const audit_finding_t *f)
{
    json_t *j = json_pack("{s:s, s:s, s:i, s:I, s:s, s:I, s:s}", "class", audit_class_name(f->cls),
                          "topic", f->topic, "partition", (int)f->partition, "offset",
                          (json_int_t)f->offset, "producer", f->producer, "seq", (json_int_t)f->seq,
                          "reason", f->reason);
    if (!j)
        return NULL;
    if (f->seq_to != f->seq)
        json_object_set_new(j, "seq_to", json_integer(f->seq_to));
    if (f->batch_seq)
        json_object_set_new(j, "batch_seq", json_integer(f->batch_seq));
    if (f->other[0])
        json_object_set_new(j, "other", json_string(f->other));
    return j;
}

static json_t *range_json(const audit_t *a)
{
    char buf[40];
    json_t *r = json_object();
    if (!r)
        return NULL;
    json_object_set_new(r, "from", a->from_ms == AUDIT_TIME_OPEN_START
                                       ? json_null()
                                       : json_string(vn_time_format(a->from_ms, buf, sizeof buf)));
    json_object_set_new(r, "to", a->to_ms == AUDIT_TIME_OPEN_END
                                     ? json_null()
                                     : json_string(vn_time_format(a->to_ms, buf, sizeof buf)));
    json_object_set_new(r, "full_history", json_boolean(full_history(a)));
    json_object_set_new(r, "replay_window_s", json_real(a->replay_ms / 1000.0));
    return r;
}

json_t *audit_verdict(const audit_t *a)
{
    json_t *v = json_object(), *fl = json_array(), *bc = json_object(), *counts = json_object();
    json_t *stats = NULL, *qlist = json_array();
    quarter_t *qs = NULL;
    size_t nq = 0;
    char qbuf[16];
    if (!v || !fl || !bc || !counts || !qlist)
        goto fail;
    for (size_t i = 0; i < a->nfindings; i++) {
        json_t *f = finding_json(&a->findings[i]);
        if (!f || json_array_append_new(fl, f))
            goto fail;
    }
    for (int c = 0; c < AUDIT_NCLASSES; c++)
        if (a->by_class[c])
            json_object_set_new(bc, class_names[c], json_integer((json_int_t)a->by_class[c]));
    if (audited_quarters(a, &qs, &nq))
        goto fail;
    for (size_t i = 0; i < nq; i++) {
        json_t *qo = json_object();
        quarter_format(qs[i], qbuf, sizeof qbuf);
        if (!qo || json_object_set_new(counts, qbuf, qo) ||
            json_array_append_new(qlist, json_string(qbuf)))
            goto fail;
        for (int mi = 0; mi < metrics_count(a->m); mi++) {
            const char *id = metrics_id(a->m, mi);
            json_t *fo = json_pack("{s:I}", "quarter_value",
                                   (json_int_t)counts_value(a->recount, a->m, id, qs[i],
                                                            METRICS_QUARTER, NULL));
            if (!fo || json_object_set_new(qo, id, fo))
                goto fail;
            if (metrics_window(a->m, mi) == METRICS_QUARTER)
                json_object_set(fo, "value", json_object_get(fo, "quarter_value"));
            else if (full_history(a))
                json_object_set_new(fo, "value",
                                    json_integer(counts_value(a->recount, a->m, id, qs[i],
                                                              METRICS_CUMULATIVE, NULL)));
        }
    }
    stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "fanout_copies",
                      (json_int_t)a->copies_fanout, "benign_resends", (json_int_t)a->benign_resends,
                      "counted", (json_int_t)a->counted, "duplicates", (json_int_t)a->duplicates,
                      "extra_copies", (json_int_t)a->extra_copies, "uncountable",
                      (json_int_t)a->uncountable, "facts", (json_int_t)a->facts, "facts_outside_range",
                      (json_int_t)a->facts_outside);
    if (!stats)
        goto fail;
    json_object_set_new(v, "verdict", json_string(audit_clean(a) ? "clean" : "findings"));
    json_object_set_new(v, "messages", json_integer((json_int_t)a->messages));
    json_object_set_new(v, "verified", json_integer((json_int_t)a->verified));
    json_object_set_new(v, "findings_total", json_integer((json_int_t)a->total_findings));
    json_object_set_new(v, "by_class", bc);
    json_object_set_new(v, "findings", fl);
    json_object_set_new(v, "range", range_json(a));
    json_object_set_new(v, "quarters", qlist);
    json_object_set_new(v, "counts", counts);
    json_object_set(v, "differences", a->differences);
    json_object_set(v, "not_compared", a->not_compared);
    json_object_set_new(v, "stats", stats);
    json_object_set(v, "notes", a->notes);
    free(qs);
    return v;
fail:
    free(qs);
    json_decref(v);
    json_decref(fl);
    json_decref(bc);
    json_decref(counts);
    json_decref(qlist);
    return NULL;
}
