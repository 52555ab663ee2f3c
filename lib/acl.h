/* acl.h - docbus's Kafka ACLs: derived from the unit registry (who may read and write
 * which topics, groups and transactional ids), compared with the cluster's, and
 * created or deleted through librdkafka's Admin API. */
#ifndef DOCBUS_ACL_H
#define DOCBUS_ACL_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>

#include "units.h"

#define ACL_PRINCIPAL_MAX 96
#define ACL_NAME_MAX 256

/* Resource types docbus grants on. librdkafka 2.0.2 knows topics, groups and the cluster
 * but not transactional ids (Kafka resource type 5): those bindings are derived here
 * and must be created with Kafka's own tool (kafka-acls.sh / AclCommand). */
typedef enum {
    ACL_RES_TOPIC = 0,
    ACL_RES_GROUP = 1,
    ACL_RES_TRANSACTIONAL_ID = 2,
} acl_res_t;

/* One ALLOW binding for any host. */
typedef struct acl_entry {
    char principal[ACL_PRINCIPAL_MAX];    /* "User:000.00.11.H29" */
    acl_res_t resource;
    int prefixed;                         /* 1: PREFIXED pattern, 0: LITERAL */
    char name[ACL_NAME_MAX];
    rd_kafka_AclOperation_t op;           /* READ, WRITE, DESCRIBE, CREATE */
} acl_entry_t;

/* Names the derivation uses; NULL fields take the defaults shown. */
typedef struct acl_options {
    const char *topic_prefix;        /* "docbus." (docbus.topic.prefix) */
    const char *aggregator;          /* "docbus-aggregator": the aggregator's user */
    const char *auditor;             /* "docbus-auditor": the auditor's user */
    const char *aggregate_group;     /* "docbus-aggregate": its group and transactional id prefix */
    const char *inbox_group_prefix;  /* "docbus-inbox-": + unit code = a unit's group prefix */
    const char *audit_group_prefix;  /* "docbus-audit": the auditor's group prefix */
    const char *nogroup;             /* "docbus-nogroup": the group id docbus's group-less
                                      * (assign) consumers carry; librdkafka still looks up
                                      * its coordinator, which needs DESCRIBE on it */
    /* Also grant CREATE on the topics a principal writes: docbus producers and the
     * aggregator call CreateTopics for their output topics on start (kafka_ensure_topics),
     * and Kafka answers TOPIC_AUTHORIZATION_FAILED without CREATE even when the topic
     * exists. Creating an existing topic changes nothing. */
    int grant_create;
} acl_options_t;

/* Derives every binding docbus needs from the registry:
 *  - unit CODE (User:CODE): WRITE+DESCRIBE on every inbox (prefixed) and on events,
 *    READ on its own inbox only, READ on groups prefixed inbox_group_prefix+CODE;
 *  - aggregator: READ+DESCRIBE on every docbus topic (prefixed), WRITE on counts, seen
 *    and rejected, READ on group aggregate_group, DESCRIBE on group nogroup,
 *    WRITE+DESCRIBE on transactional ids prefixed aggregate_group;
 *  - auditor: READ+DESCRIBE on every docbus topic, READ on groups prefixed
 *    audit_group_prefix, DESCRIBE on group nogroup; nothing else (no WRITE anywhere).
 * *out (caller frees with free()) gets *n entries, sorted (acl_entry_cmp), no duplicates.
 * Returns 0, DB_ERR_INVALID (a name too long) or DB_ERR_NOMEM, with errstr. */
int acl_derive(const units_t *units, const acl_options_t *opts, acl_entry_t **out, size_t *n,
               char *errstr, size_t errstr_size);

/* Total order on entries (principal, resource, pattern, name, operation). */
int acl_entry_cmp(const void *a, const void *b);

/* Writes "User:X WRITE topic:docbus.inbox.*" (a '*' marks a prefixed pattern). Returns buf. */
char *acl_entry_format(const acl_entry_t *e, char *buf, size_t size);

/* Returns the lower-case names "topic", "group", "transactional-id"; "read", "write", ... */
const char *acl_res_name(acl_res_t r);
const char *acl_op_name(rd_kafka_AclOperation_t op);

/* Returns 1 if e is one librdkafka can create, list and delete (not a transactional id). */
int acl_entry_manageable(const acl_entry_t *e);

/* Fills *missing with the entries of want not in have and, if extra is not NULL, *extra
 * with the entries of have whose principal appears in want but that want lacks (for
 * pruning). Both inputs sorted; outputs are new arrays (free()). 0 or DB_ERR_NOMEM. */
int acl_diff(const acl_entry_t *want, size_t nwant, const acl_entry_t *have, size_t nhave,
             acl_entry_t **missing, size_t *nmissing, acl_entry_t **extra, size_t *nextra);

/* Lists the cluster's ALLOW bindings for any host on topics and groups (the types
 * librdkafka 2.0.2 can represent) into *out (sorted; free()). Returns 0, or DB_ERR_KAFKA
 * with errstr and the librdkafka code in *kerr (may be NULL). */
int acl_describe(rd_kafka_t *rk, acl_entry_t **out, size_t *n, int timeout_ms,
                 rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size);

/* Creates the bindings (ALLOW, host *). Transactional-id entries are refused
 * (DB_ERR_INVALID). Returns 0 or DB_ERR_KAFKA with errstr and *kerr. */
int acl_create(rd_kafka_t *rk, const acl_entry_t *entries, size_t n, int timeout_ms,
               rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size);

/* Deletes exactly these bindings. Returns 0 or DB_ERR_KAFKA with errstr and *kerr. */
int acl_delete(rd_kafka_t *rk, const acl_entry_t *entries, size_t n, int timeout_ms,
               rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size);

/* Deletes every binding of principal on any resource (including transactional ids: the
 * filter is the broker's). *deleted (may be NULL) gets how many went. 0 or DB_ERR_KAFKA. */
int acl_delete_principal(rd_kafka_t *rk, const char *principal, size_t *deleted, int timeout_ms,
                         rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size);

#endif
