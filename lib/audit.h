/* audit.h - the Kafka-free core of `docbus audit`: prove every message, check each
 * producer's continuity, recount the quarterly figures exactly as the aggregator does
 * and compare them with the committed counts or a report. Online (Kafka) and offline
 * (evidence file) audits feed the same core, so they reach the same verdict. */
#ifndef DOCBUS_AUDIT_H
#define DOCBUS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>
#include <jansson.h>

#include "envelope.h"
#include "metrics.h"
#include "trust.h"
#include "verify.h"

#define AUDIT_TIME_OPEN_START INT64_MIN  /* from_ms of an audit over the whole history */
#define AUDIT_TIME_OPEN_END INT64_MAX    /* to_ms of an audit with no end */
#define AUDIT_DEFAULT_REPLAY_MS (3600LL * 1000)
#define AUDIT_DEFAULT_MAX_LISTED 10000

/* Finding classes. Message-level verification failures first, then continuity. */
typedef enum {
    AUDIT_BAD_SIGNATURE = 0,  /* batch signature does not verify */
    AUDIT_BAD_PROOF,          /* content altered: inclusion path does not reach the signed root */
    AUDIT_UNKNOWN_SIGNER,     /* key id of no certificate in the trust store */
    AUDIT_CERT_CHAIN,         /* certificate not issued by the trusted root */
    AUDIT_CERT_REVOKED,       /* certificate revoked at or before the signing time */
    AUDIT_CERT_EXPIRED,       /* certificate not valid at the signing time */
    AUDIT_CERT_UNIT,          /* certificate of another unit than the producer */
    AUDIT_BAD_CONTENT,        /* content inconsistent with its batch header */
    AUDIT_UNDECODABLE,        /* not a docbus envelope, or a body that does not decode */
    AUDIT_SEQ_GAP,            /* seqs of a producer missing inside a batch seen */
    AUDIT_BATCH_MISSING,      /* whole batches of a producer missing */
    AUDIT_CHAIN_BREAK,        /* prev_root does not chain, or one batch_seq with two roots */
    AUDIT_DUPLICATE_TAMPERED, /* one producer seq with two different signed contents */
    AUDIT_REORDERED,          /* a producer's batch read after a later batch in one partition */
    AUDIT_REPLAYED,           /* an old signed message produced again later (see audit_message) */
    AUDIT_CONFLICTING_RESEND, /* one msg_id re-sent under a new seq with a different body */
    AUDIT_NCLASSES
} audit_class_t;

/* One Kafka record as read. key/value may be NULL (null key, tombstone). */
typedef struct audit_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;        /* Kafka timestamp in ms, -1 when unknown */
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t len;
} audit_msg_t;

/* One finding. partition/offset are -1 and topic "" when no single message is concerned;
 * seq is -1 when the message did not decode. */
typedef struct audit_finding {
    audit_class_t cls;
    char topic[256];
    int32_t partition;
    int64_t offset;
    char producer[UNIT_CODE_MAX];
    int64_t seq, seq_to;
    int64_t batch_seq;        /* 0 when unknown */
    char other[300];          /* "topic/partition@offset" of the earlier conflicting message */
    char reason[512];
} audit_finding_t;

typedef struct audit_opts {
    const char *topic_prefix;     /* docbus.topic.prefix ("docbus."): which copy counts */
    int64_t from_ms, to_ms;       /* fact range [from, to) (AUDIT_TIME_OPEN_*: open) */
    int64_t replay_ms;            /* replay window (AUDIT_DEFAULT_REPLAY_MS) */
    size_t max_listed;            /* findings kept for the verdict; all are counted */
} audit_opts_t;

typedef struct audit audit_t;

/* Returns an audit verifying with trust (taken over: freed with the audit, even on
 * error) and counting with m (borrowed: must outlive the audit). The audited quarters
 * are those lying wholly inside [from, to); with an open start every quarter up to to.
 * NULL with errstr when out of memory or the range is empty. */
audit_t *audit_new(trust_t *trust, const metrics_t *m, const audit_opts_t *o, char *errstr,
                   size_t errstr_size);

/* Audits one record of an inbox or events topic, in read order. Verifies it; feeds the
 * continuity checks with verified ones; counts it as the aggregator would (only the
 * copy of a document in its first recipient's inbox, each msg_id once, facts of the
 * audited quarters). A copy of one signed message in another topic (fan-out) is not a
 * finding. A copy in the same topic is a benign resend unless it is a replay: produced
 * more than replay_ms after the first copy read, or after a later batch of its producer
 * in the same partition; any message whose Kafka timestamp is more than replay_ms after
 * its batch was signed is a replay too. Findings are recorded, not returned: returns 0
 * or DB_ERR_NOMEM. */
int audit_message(audit_t *a, const audit_msg_t *msg);

/* audit_message for a record already put through the verifier of audit_verifier(a)
 * (elsewhere, e.g. on a verify_pipe): vrc and errstr are its verdict, v its result,
 * body_hash the SHA-256 of its body or NULL (computed here then). */
int audit_message_verified(audit_t *a, const audit_msg_t *msg, int vrc, const char *errstr,
                           const verified_t *v, const uint8_t body_hash[32]);

/* The verifier audit_message uses; while records go through audit_message_verified, no
 * other thread may use it at the same time as the one verifying them. */
verifier_t *audit_verifier(audit_t *a);

/* Closes the message phase: reports missing seqs and batches. Call once, after the last
 * audit_message. 0 or DB_ERR_NOMEM. */
int audit_finish(audit_t *a);

/* Loads one record of the committed counts topic read from partition (value NULL:
 * tombstone), in read order. The aggregator's producer routes a key to one partition
 * always; a key met in a second partition (a hand-written record) is recorded as a
 * difference. A record that does not load (malformed, key and value disagree) is
 * recorded as a difference too and returned as DB_ERR_INVALID with errstr; 0 otherwise. */
int audit_committed_record(audit_t *a, int32_t partition, const char *key, size_t klen,
                           const char *value, size_t vlen, char *errstr, size_t errstr_size);

/* Compares the recount with the committed records loaded: every count record of the
 * audited quarters (key by key) and every figure (per quarter; in its own window too
 * when the audit covers the whole history). Differences are recorded in the verdict.
 * Returns the number of differences found, or DB_ERR_NOMEM. */
int audit_compare_committed(audit_t *a);

/* Sizes the audit's copy table (a slot per message read) for about `messages` messages
 * to come (a hint: it grows as needed), so that it is not rebuilt while reading; the
 * msg_id table, a slot per distinct id (a document's copies in several inboxes share
 * one), still grows as ids come. 0 or DB_ERR_NOMEM. */
int audit_expect(audit_t *a, uint64_t messages);

/* Limits audit_compare_committed to the records whose source topic is one of topics
 * (copied), for an audit that read only some topics; figures, which sum every source,
 * are then not compared. 0 or DB_ERR_NOMEM. */
int audit_only_topics(audit_t *a, const char *const *topics, size_t n);

/* Compares the recount with a report model (`docbus report --format json`: an object
 * {"quarter", "figures": {id: {"value", "quarter_value"?, "window"?}}} or an array of
 * them). Returns the number of differences, DB_ERR_NOMEM, or DB_ERR_INVALID with errstr
 * (not a report, or a quarter outside the audited range). */
int audit_compare_report(audit_t *a, const json_t *report, char *errstr, size_t errstr_size);

/* Adds a human note to the verdict (e.g. "no committed counts to compare"). */
int audit_note(audit_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the verdict as a new JSON object (the caller's): {"verdict":"clean|findings",
 * "messages","verified","findings":[...],"by_class","counts","differences",...}; NULL
 * when out of memory. */
json_t *audit_verdict(const audit_t *a);

/* 1 when no finding and no difference was recorded. */
int audit_clean(const audit_t *a);

/* Totals: messages audited, verified, findings (all, listed or not), differences. */
uint64_t audit_messages(const audit_t *a);
uint64_t audit_verified(const audit_t *a);
uint64_t audit_findings_total(const audit_t *a);
size_t audit_differences(const audit_t *a);

/* The listed findings (at most max_listed) in the order found; owned by a. */
const audit_finding_t *audit_findings(const audit_t *a, size_t *n);

/* Stable class names: "bad_signature", "seq_gap", "replayed" ... never NULL. */
const char *audit_class_name(audit_class_t c);

/* Frees a; NULL is allowed. */
void audit_destroy(audit_t *a);


#endif
