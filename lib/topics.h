/* topics.h - declarative docbus topics: the definition (schemas/topics.json), its
 * expansion over the unit registry, the plan against what the cluster has, and
 * carrying the plan out through librdkafka's Admin API. */
#ifndef DOCBUS_TOPICS_H
#define DOCBUS_TOPICS_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>

#include "units.h"

#define TOPIC_NAME_MAX 250        /* Kafka's limit is 249 characters */
#define TOPIC_KEY_MAX 64
#define TOPIC_VALUE_MAX 128
#define TOPIC_MAX_CONFIGS 16      /* configs a definition may set per topic */
#define TOPIC_STATE_MAX_CONFIGS 64

typedef struct topic_kv {
    char key[TOPIC_KEY_MAX];
    char value[TOPIC_VALUE_MAX];
} topic_kv_t;

/* One topic as it should be. configs are sorted by key. */
typedef struct topic_spec {
    char name[TOPIC_NAME_MAX];
    int partitions;
    int replication_factor;
    int nconfigs;
    topic_kv_t configs[TOPIC_MAX_CONFIGS];
} topic_spec_t;

/* One topic as the cluster has it. configs holds the current value of every key the
 * spec manages (whatever its source) and every dynamic per-topic override (kept when
 * configs are altered: librdkafka 2.0.2 only has the non-incremental AlterConfigs). */
typedef struct topic_state {
    int exists;
    int partitions;
    int replication_factor;
    int nconfigs;
    topic_kv_t configs[TOPIC_STATE_MAX_CONFIGS];
    unsigned char dynamic[TOPIC_STATE_MAX_CONFIGS];   /* 1: a per-topic override */
} topic_state_t;

/* One config difference. */
typedef struct topic_change {
    char key[TOPIC_KEY_MAX];
    char from[TOPIC_VALUE_MAX];   /* "" when the key is not set (default) */
    char to[TOPIC_VALUE_MAX];
} topic_change_t;

/* What to do about one topic. */
typedef struct topic_action {
    const topic_spec_t *spec;     /* borrowed from the spec list */
    int create;                   /* topic missing: create it whole */
    int partitions_from;          /* add partitions from this count ... */
    int partitions_to;            /* ... to this one (both 0: no change) */
    int nchanges;                 /* configs to alter (existing topic) */
    topic_change_t changes[TOPIC_MAX_CONFIGS];
    char warning[256];            /* a difference Kafka cannot fix here ("" if none) */
} topic_action_t;

typedef struct topics_plan {
    topic_action_t *actions;      /* only topics with something to do or to warn about */
    size_t nactions;
    size_t unchanged;             /* topics already as defined */
} topics_plan_t;

typedef struct topics_def topics_def_t;

/* Parses a definition (the JSON of schemas/topics.json) of len bytes; origin names it
 * in errors. On success *out owns it (topics_def_destroy). DB_ERR_INVALID with the
 * reason (which topic, which field) in errstr; *out is then NULL. */
int topics_def_parse(const char *json, size_t len, const char *origin, topics_def_t **out,
                     char *errstr, size_t errstr_size);

/* Loads the definition from path, or the embedded schemas/topics.json when path is NULL.
 * Errors as topics_def_parse, plus DB_ERR_IO and DB_ERR_NOT_FOUND. */
int topics_def_load(const char *path, topics_def_t **out, char *errstr, size_t errstr_size);

/* Frees d; NULL is allowed. */
void topics_def_destroy(topics_def_t *d);

/* The partitions d gives the topic called name (without prefix; a template with {unit}
 * matches any unit code in its place), or d's default for a name it does not list. */
int topics_def_partitions(const topics_def_t *d, const char *name);

/* Expands d into full topic specs: names get prefix, a name with {unit} becomes one
 * topic per unit of units (registry order). rf_override > 0 replaces every replication
 * factor, and min.insync.replicas is lowered to it where larger (*clamped is set to 1 if
 * that happened; clamped may be NULL). *specs (caller frees with free()) gets *n specs.
 * DB_ERR_INVALID when a name is too long. */
int topics_expand(const topics_def_t *d, const char *prefix, const units_t *units,
                  int rf_override, topic_spec_t **specs, size_t *n, int *clamped,
                  char *errstr, size_t errstr_size);

/* Returns the value of key in spec or state configs, or NULL. */
const char *topic_spec_config(const topic_spec_t *spec, const char *key);
const char *topic_state_config(const topic_state_t *st, const char *key);

/* Compares specs[i] with states[i] for every i < n and fills *plan (free with
 * topics_plan_clear). Missing topics are created; fewer partitions than defined are
 * added; config values that differ are altered; more partitions or another replication
 * factor than defined only warn (Kafka cannot shrink, and reassigning replicas is a
 * separate operation). Returns 0 or DB_ERR_NOMEM. */
int topics_plan(const topic_spec_t *specs, const topic_state_t *states, size_t n,
                topics_plan_t *plan);

/* Frees what plan holds and zeroes it; NULL is allowed. */
void topics_plan_clear(topics_plan_t *plan);

/* Reads from the cluster (rk: any client handle) the state of every spec's topic:
 * existence, partitions and replication factor from metadata, configs from
 * DescribeConfigs. states must have room for n. Returns 0, or DB_ERR_KAFKA with errstr
 * and the librdkafka error code in *kerr (may be NULL) for exit-code classification. */
int topics_observe(rd_kafka_t *rk, const topic_spec_t *specs, size_t n, topic_state_t *states,
                   int timeout_ms, rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size);

/* Carries out plan: CreateTopics for missing topics, CreatePartitions, then AlterConfigs
 * (the topic's other per-topic overrides, found in states, are sent along so they are
 * kept). states are those given to topics_plan, in spec order (specs is their base).
 * Stops at the first failing step: DB_ERR_KAFKA with which topic and why in errstr and the
 * code in *kerr (may be NULL). */
int topics_execute(rd_kafka_t *rk, const topics_plan_t *plan, const topic_spec_t *specs,
                   const topic_state_t *states, int timeout_ms, rd_kafka_resp_err_t *kerr,
                   char *errstr, size_t errstr_size);

#endif
