/* topics.c - declarative docbus topics: definition, expansion, plan, Admin API apply. */
#include "topics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "schemas_embedded.h"

#define TOPICS_EMBEDDED_FILE "topics.json"
#define UNIT_PLACEHOLDER "{unit}"

struct def_topic {
    char name[TOPIC_NAME_MAX];    /* without prefix; may hold {unit} once */
    int partitions;               /* 0: the default */
    int replication_factor;       /* 0: the default */
    int nconfigs;
    topic_kv_t configs[TOPIC_MAX_CONFIGS];
};

struct topics_def {
    int partitions;
    int replication_factor;
    int nconfigs;
    topic_kv_t configs[TOPIC_MAX_CONFIGS];
    struct def_topic *topics;
    size_t ntopics;
};

void topics_def_destroy(topics_def_t *d)
{
    if (!d)
        return;
    free(d->topics);
    free(d);
}

/* 1 when name is pattern, or pattern with a non-empty text in place of its {unit}. */
static int name_matches(const char *pattern, const char *name)
{
    const char *u = strstr(pattern, UNIT_PLACEHOLDER), *rest;
    size_t head, tail, len = strlen(name);
    if (!u)
        return !strcmp(pattern, name);
    rest = u + strlen(UNIT_PLACEHOLDER);
    head = (size_t)(u - pattern);
    tail = strlen(rest);
    return len > head + tail && !strncmp(name, pattern, head) && !strcmp(name + len - tail, rest);
}

int topics_def_partitions(const topics_def_t *d, const char *name)
{
    for (size_t i = 0; i < d->ntopics; i++)
        if (name_matches(d->topics[i].name, name))
            return d->topics[i].partitions ? d->topics[i].partitions : d->partitions;
    return d->partitions;
}

/* Reads an optional integer field in [min, max] into *out (left alone when absent). */
static int get_int(json_t *obj, const char *field, int min, int max, int *out, const char *where,
                   char *errstr, size_t errstr_size)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(errstr, errstr_size, "%s: \"%s\" must be an integer from %d to %d", where, field,
                 min, max);
        return DB_ERR_INVALID;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

/* Reads a "configs" object of string values into kv (sorted by key later). */
static int get_configs(json_t *obj, topic_kv_t *kv, int *n, const char *where, char *errstr,
                       size_t errstr_size)
{
    json_t *c = json_object_get(obj, "configs"), *v;
    const char *key;
    *n = 0;
    if (!c)
        return 0;
    if (!json_is_object(c)) {
        snprintf(errstr, errstr_size, "%s: \"configs\" must be an object of strings", where);
        return DB_ERR_INVALID;
    }
    json_object_foreach(c, key, v) {
        if (!json_is_string(v)) {
            snprintf(errstr, errstr_size, "%s: config %s must be a string (write \"-1\", not -1)",
                     where, key);
            return DB_ERR_INVALID;
        }
        if (*n == TOPIC_MAX_CONFIGS || !*key || strlen(key) >= TOPIC_KEY_MAX ||
            strlen(json_string_value(v)) >= TOPIC_VALUE_MAX) {
            snprintf(errstr, errstr_size, "%s: config %s: at most %d configs, keys under %d and "
                     "values under %d characters", where, key, TOPIC_MAX_CONFIGS, TOPIC_KEY_MAX,
                     TOPIC_VALUE_MAX);
            return DB_ERR_INVALID;
        }
        snprintf(kv[*n].key, sizeof kv[*n].key, "%s", key);
        snprintf(kv[*n].value, sizeof kv[*n].value, "%s", json_string_value(v));
        (*n)++;
    }
    return 0;
}

/* A topic name template: Kafka's legal characters, with at most one {unit}. */
static int name_ok(const char *name)
{
    const char *u = strstr(name, UNIT_PLACEHOLDER);
    size_t len = strlen(name);
    if (len == 0 || len >= TOPIC_NAME_MAX)
        return 0;
    if (u && strstr(u + 1, UNIT_PLACEHOLDER))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (u && name + i >= u && name + i < u + strlen(UNIT_PLACEHOLDER))
            continue;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int topics_def_parse(const char *json, size_t len, const char *origin, topics_def_t **out,
                     char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr), *arr, *t;
    topics_def_t *d = NULL;
    size_t i;
    int rc = 0;
    char where[TOPIC_NAME_MAX + 64];
    *out = NULL;
    if (!root) {
        snprintf(errstr, errstr_size, "%s:%d: %s", origin, jerr.line, jerr.text);
        return DB_ERR_INVALID;
    }
    arr = json_object_get(root, "topics");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(errstr, errstr_size, "%s: \"topics\" must be a non-empty array", origin);
        rc = DB_ERR_INVALID;
        goto out;
    }
    if (!(d = calloc(1, sizeof *d)) || !(d->topics = calloc(json_array_size(arr), sizeof *d->topics))) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    d->partitions = 1;
    d->replication_factor = 1;
    {
        json_t *def = json_object_get(root, "defaults");
        snprintf(where, sizeof where, "%s: defaults", origin);
        if (def && !json_is_object(def)) {
            snprintf(errstr, errstr_size, "%s must be an object", where);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (def && ((rc = get_int(def, "partitions", 1, 100000, &d->partitions, where, errstr, errstr_size)) ||
                    (rc = get_int(def, "replication_factor", 1, 32, &d->replication_factor, where,
                                  errstr, errstr_size)) ||
                    (rc = get_configs(def, d->configs, &d->nconfigs, where, errstr, errstr_size))))
            goto out;
    }
    json_array_foreach(arr, i, t) {
        struct def_topic *dt = &d->topics[i];
        json_t *name = json_object_get(t, "name");
        if (!json_is_object(t) || !json_is_string(name) || !name_ok(json_string_value(name))) {
            snprintf(errstr, errstr_size, "%s: topics[%zu]: needs \"name\": letters, digits, "
                     ". _ - and at most one {unit}", origin, i);
            rc = DB_ERR_INVALID;
            goto out;
        }
        snprintf(dt->name, sizeof dt->name, "%s", json_string_value(name));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(d->topics[j].name, dt->name)) {
                snprintf(errstr, errstr_size, "%s: topic %s is defined twice", origin, dt->name);
                rc = DB_ERR_INVALID;
                goto out;
            }
        snprintf(where, sizeof where, "%s: topic %s", origin, dt->name);
        if ((rc = get_int(t, "partitions", 1, 100000, &dt->partitions, where, errstr, errstr_size)) ||
            (rc = get_int(t, "replication_factor", 1, 32, &dt->replication_factor, where, errstr,
                          errstr_size)) ||
            (rc = get_configs(t, dt->configs, &dt->nconfigs, where, errstr, errstr_size)))
            goto out;
        d->ntopics++;
    }
    *out = d;
    d = NULL;
out:
    topics_def_destroy(d);
    json_decref(root);
    return rc;
}

int topics_def_load(const char *path, topics_def_t **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (!path) {
        for (const struct embedded_schema *s = embedded_schemas; s->file; s++)
            if (!strcmp(s->file, TOPICS_EMBEDDED_FILE))
                return topics_def_parse(s->json, strlen(s->json), "schemas/" TOPICS_EMBEDDED_FILE,
                                        out, errstr, errstr_size);
        snprintf(errstr, errstr_size, "no embedded %s in this build", TOPICS_EMBEDDED_FILE);
        return DB_ERR_NOT_FOUND;
    }
    {
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        long len;
        int rc;
        if (!f) {
            snprintf(errstr, errstr_size, "cannot open topic definition %s: %m", path);
            return DB_ERR_IO;
        }
        if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
            !(buf = malloc((size_t)len + 1)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
            snprintf(errstr, errstr_size, "cannot read topic definition %s", path);
            free(buf);
            fclose(f);
            return DB_ERR_IO;
        }
        fclose(f);
        rc = topics_def_parse(buf, (size_t)len, path, out, errstr, errstr_size);
        free(buf);
        return rc;
    }
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const topic_kv_t *)a)->key, ((const topic_kv_t *)b)->key);
}

/* Sets key=value in kv (replacing an earlier value of key). */
static int kv_set(topic_kv_t *kv, int *n, int max, const char *key, const char *value)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(kv[i].key, key)) {
            snprintf(kv[i].value, sizeof kv[i].value, "%s", value);
            return 0;
        }
    if (*n == max)
        return -1;
    snprintf(kv[*n].key, sizeof kv[*n].key, "%s", key);
    snprintf(kv[*n].value, sizeof kv[*n].value, "%s", value);
    (*n)++;
    return 0;
}

/* Fills one spec from a definition topic; unit may be NULL. */
static int fill_spec(const topics_def_t *d, const struct def_topic *dt, const char *prefix,
                     const char *unit, int rf_override, topic_spec_t *s, int *clamped,
                     char *errstr, size_t errstr_size)
{
    const char *u = strstr(dt->name, UNIT_PLACEHOLDER);
    int len;
    memset(s, 0, sizeof *s);
    if (u)
        len = snprintf(s->name, sizeof s->name, "%s%.*s%s%s", prefix, (int)(u - dt->name), dt->name,
                       unit, u + strlen(UNIT_PLACEHOLDER));
    else
        len = snprintf(s->name, sizeof s->name, "%s%s", prefix, dt->name);
    if (len < 0 || (size_t)len >= sizeof s->name) {
        snprintf(errstr, errstr_size, "topic name %s%s is longer than %d characters", prefix,
                 dt->name, TOPIC_NAME_MAX - 1);
        return DB_ERR_INVALID;
    }
    s->partitions = dt->partitions ? dt->partitions : d->partitions;
    s->replication_factor = dt->replication_factor ? dt->replication_factor : d->replication_factor;
    if (rf_override > 0)
        s->replication_factor = rf_override;
    for (int i = 0; i < d->nconfigs; i++)
        kv_set(s->configs, &s->nconfigs, TOPIC_MAX_CONFIGS, d->configs[i].key, d->configs[i].value);
    for (int i = 0; i < dt->nconfigs; i++)
        if (kv_set(s->configs, &s->nconfigs, TOPIC_MAX_CONFIGS, dt->configs[i].key,
                   dt->configs[i].value)) {
            snprintf(errstr, errstr_size, "topic %s: more than %d configs with the defaults",
                     s->name, TOPIC_MAX_CONFIGS);
            return DB_ERR_INVALID;
        }
    /* min.insync.replicas above the replication factor would make every acks=all write
     * fail (NOT_ENOUGH_REPLICAS): lower it with the factor. */
    for (int i = 0; i < s->nconfigs; i++)
        if (!strcmp(s->configs[i].key, "min.insync.replicas") &&
            atoi(s->configs[i].value) > s->replication_factor) {
            snprintf(s->configs[i].value, sizeof s->configs[i].value, "%d", s->replication_factor);
            if (clamped)
                *clamped = 1;
        }
    qsort(s->configs, (size_t)s->nconfigs, sizeof s->configs[0], cmp_kv);
    return 0;
}

int topics_expand(const topics_def_t *d, const char *prefix, const units_t *units,
                  int rf_override, topic_spec_t **specs, size_t *n, int *clamped,
                  char *errstr, size_t errstr_size)
{
    size_t total = 0, k = 0, nunits = units ? units_count(units) : 0;
    topic_spec_t *v;
    int rc = 0;
    *specs = NULL;
    *n = 0;
    if (clamped)
        *clamped = 0;
    for (size_t i = 0; i < d->ntopics; i++)
        total += strstr(d->topics[i].name, UNIT_PLACEHOLDER) ? nunits : 1;
    if (!(v = calloc(total ? total : 1, sizeof *v))) {
        snprintf(errstr, errstr_size, "out of memory");
        return DB_ERR_NOMEM;
    }
    for (size_t i = 0; i < d->ntopics && !rc; i++) {
        const struct def_topic *dt = &d->topics[i];
        if (strstr(dt->name, UNIT_PLACEHOLDER)) {
            for (size_t j = 0; j < nunits && !rc; j++)
                rc = fill_spec(d, dt, prefix, units_at(units, j)->code, rf_override, &v[k++],
                               clamped, errstr, errstr_size);
        } else {
            rc = fill_spec(d, dt, prefix, NULL, rf_override, &v[k++], clamped, errstr, errstr_size);
        }
    }
    if (rc) {
        free(v);
        return rc;
    }
    *specs = v;
    *n = total;
    return 0;
}

const char *topic_spec_config(const topic_spec_t *spec, const char *key)
{
    for (int i = 0; i < spec->nconfigs; i++)
        if (!strcmp(spec->configs[i].key, key))
            return spec->configs[i].value;
    return NULL;
}

const char *topic_state_config(const topic_state_t *st, const char *key)
{
    for (int i = 0; i < st->nconfigs; i++)
        if (!strcmp(st->configs[i].key, key))
            return st->configs[i].value;
    return NULL;
}

void topics_plan_clear(topics_plan_t *plan)
{
    if (!plan)
        return;
    free(plan->actions);
    memset(plan, 0, sizeof *plan);
}

static void warn_append(topic_action_t *a, const char *fmt, int x, int y)
{
    size_t used = strlen(a->warning);
    if (used)
        used += (size_t)snprintf(a->warning + used, sizeof a->warning - used, "; ");
    if (used < sizeof a->warning)
        snprintf(a->warning + used, sizeof a->warning - used, fmt, x, y);
}

int topics_plan(const topic_spec_t *specs, const topic_state_t *states, size_t n,
                topics_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    if (n && !(plan->actions = calloc(n, sizeof *plan->actions)))
        return DB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const topic_spec_t *s = &specs[i];
        const topic_state_t *st = &states[i];
        topic_action_t *a = &plan->actions[plan->nactions];
        memset(a, 0, sizeof *a);
        a->spec = s;
        if (!st->exists) {
            a->create = 1;
            plan->nactions++;
            continue;
        }
        if (st->partitions < s->partitions) {
            a->partitions_from = st->partitions;
            a->partitions_to = s->partitions;
        } else if (st->partitions > s->partitions) {
            warn_append(a, "has %d partitions, the definition says %d (Kafka cannot remove "
                        "partitions; left as is)", st->partitions, s->partitions);
        }
        if (st->replication_factor != s->replication_factor)
            warn_append(a, "replication factor is %d, the definition says %d (change it with a "
                        "partition reassignment, kafka-reassign-partitions)",
                        st->replication_factor, s->replication_factor);
        for (int c = 0; c < s->nconfigs; c++) {
            const char *cur = topic_state_config(st, s->configs[c].key);
            if (cur && !strcmp(cur, s->configs[c].value))
                continue;
            topic_change_t *ch = &a->changes[a->nchanges++];
            snprintf(ch->key, sizeof ch->key, "%s", s->configs[c].key);
            snprintf(ch->from, sizeof ch->from, "%s", cur ? cur : "");
            snprintf(ch->to, sizeof ch->to, "%s", s->configs[c].value);
        }
        if (a->partitions_to || a->nchanges || a->warning[0])
            plan->nactions++;
        if (!a->partitions_to && !a->nchanges)
            plan->unchanged++;
    }
    return 0;
}

/* ---- Admin API -------------------------------------------------------------------- */

/* Waits for the result event of one admin request on q. NULL after timeout_ms. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, int timeout_ms)
{
    return rd_kafka_queue_poll(q, timeout_ms + 5000);
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              int timeout_ms)
{
    char e[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    if (o) {
        rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
        if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)
            rd_kafka_AdminOptions_set_operation_timeout(o, timeout_ms, e, sizeof e);
    }
    return o;
}

static topic_state_t *state_by_name(const topic_spec_t *specs, topic_state_t *states, size_t n,
                                    const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(specs[i].name, name))
            return &states[i];
    return NULL;
}

static int observe_metadata(rd_kafka_t *rk, const topic_spec_t *specs, size_t n,
                            topic_state_t *states, int timeout_ms, rd_kafka_resp_err_t *kerr,
                            char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err) {
        *kerr = err;
        snprintf(errstr, errstr_size, "listing the cluster's topics: %s", rd_kafka_err2str(err));
        return DB_ERR_KAFKA;
    }
    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        topic_state_t *st = state_by_name(specs, states, n, mt->topic);
        if (!st || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            continue;
        if (mt->err && mt->err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
            *kerr = mt->err;
            snprintf(errstr, errstr_size, "metadata of %s: %s", mt->topic, rd_kafka_err2str(mt->err));
            rd_kafka_metadata_destroy(md);
            return DB_ERR_KAFKA;
        }
        st->exists = 1;
        st->partitions = mt->partition_cnt;
        st->replication_factor = mt->partition_cnt > 0 ? mt->partitions[0].replica_cnt : 0;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

int topics_observe(rd_kafka_t *rk, const topic_spec_t *specs, size_t n, topic_state_t *states,
                   int timeout_ms, rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t dummy;
    rd_kafka_ConfigResource_t **res = NULL;
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    size_t nres = 0;
    int rc;
    if (!kerr)
        kerr = &dummy;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    memset(states, 0, n * sizeof *states);
    if ((rc = observe_metadata(rk, specs, n, states, timeout_ms, kerr, errstr, errstr_size)))
        return rc;
    if (!(res = calloc(n ? n : 1, sizeof *res)) || !(q = rd_kafka_queue_new(rk)) ||
        !(opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms))) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (states[i].exists)
            res[nres++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, specs[i].name);
    if (nres == 0)
        goto out;
    rd_kafka_DescribeConfigs(rk, res, nres, opts, q);
    if (!(ev = admin_wait(q, timeout_ms))) {
        *kerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
        snprintf(errstr, errstr_size, "DescribeConfigs: no answer within %d ms", timeout_ms);
        rc = DB_ERR_KAFKA;
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        *kerr = rd_kafka_event_error(ev);
        snprintf(errstr, errstr_size, "DescribeConfigs: %s", rd_kafka_event_error_string(ev));
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_ConfigResource_t **rr =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            const char *name = rd_kafka_ConfigResource_name(rr[i]);
            topic_state_t *st = state_by_name(specs, states, n, name);
            const topic_spec_t *sp = st ? &specs[st - states] : NULL;
            const rd_kafka_ConfigEntry_t **ce;
            size_t nce = 0;
            if (rd_kafka_ConfigResource_error(rr[i])) {
                *kerr = rd_kafka_ConfigResource_error(rr[i]);
                snprintf(errstr, errstr_size, "configs of %s: %s", name,
                         rd_kafka_ConfigResource_error_string(rr[i]));
                rc = DB_ERR_KAFKA;
                goto out;
            }
            if (!st)
                continue;
            ce = rd_kafka_ConfigResource_configs(rr[i], &nce);
            for (size_t j = 0; j < nce; j++) {
                const char *k = rd_kafka_ConfigEntry_name(ce[j]);
                const char *v = rd_kafka_ConfigEntry_value(ce[j]);
                int dyn = rd_kafka_ConfigEntry_source(ce[j]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
                if (!k || (!dyn && !topic_spec_config(sp, k)))
                    continue;
                if (st->nconfigs == TOPIC_STATE_MAX_CONFIGS || strlen(k) >= TOPIC_KEY_MAX ||
                    (v && strlen(v) >= TOPIC_VALUE_MAX)) {
                    snprintf(errstr, errstr_size, "topic %s: config %s is too long or the topic has "
                             "more than %d overrides", name, k, TOPIC_STATE_MAX_CONFIGS);
                    rc = DB_ERR_INVALID;
                    goto out;
                }
                snprintf(st->configs[st->nconfigs].key, TOPIC_KEY_MAX, "%s", k);
                snprintf(st->configs[st->nconfigs].value, TOPIC_VALUE_MAX, "%s", v ? v : "");
                st->dynamic[st->nconfigs] = (unsigned char)dyn;
                st->nconfigs++;
            }
        }
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; i < nres; i++)
        rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

/* Checks the per-topic results of a CreateTopics or CreatePartitions event. */
static int check_topic_results(const rd_kafka_topic_result_t **tr, size_t cnt, const char *what,
                               rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            *kerr = e;
            snprintf(errstr, errstr_size, "%s %s: %s", what, rd_kafka_topic_result_name(tr[i]),
                     rd_kafka_topic_result_error_string(tr[i]));
            return DB_ERR_KAFKA;
        }
    }
    return 0;
}

/* Sends one admin request (already issued on q) and checks its event. */
static rd_kafka_event_t *wait_ok(rd_kafka_queue_t *q, int timeout_ms, const char *what,
                                 rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_event_t *ev = admin_wait(q, timeout_ms);
    if (!ev) {
        *kerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
        snprintf(errstr, errstr_size, "%s: no answer within %d ms", what, timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        *kerr = rd_kafka_event_error(ev);
        snprintf(errstr, errstr_size, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int do_creates(rd_kafka_t *rk, rd_kafka_queue_t *q, const topics_plan_t *plan,
                      int timeout_ms, rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_NewTopic_t **nt = calloc(plan->nactions ? plan->nactions : 1, sizeof *nt);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
    rd_kafka_event_t *ev = NULL;
    size_t k = 0;
    int rc = 0;
    if (!nt || !opts) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < plan->nactions; i++) {
        const topic_spec_t *s = plan->actions[i].spec;
        if (!plan->actions[i].create)
            continue;
        if (!(nt[k] = rd_kafka_NewTopic_new(s->name, s->partitions, s->replication_factor, errstr,
                                            errstr_size))) {
            rc = DB_ERR_INVALID;
            goto out;
        }
        for (int c = 0; c < s->nconfigs; c++)
            rd_kafka_NewTopic_set_config(nt[k], s->configs[c].key, s->configs[c].value);
        k++;
    }
    if (k == 0)
        goto out;
    rd_kafka_CreateTopics(rk, nt, k, opts, q);
    if (!(ev = wait_ok(q, timeout_ms, "CreateTopics", kerr, errstr, errstr_size))) {
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        rc = check_topic_results(tr, cnt, "creating", kerr, errstr, errstr_size);
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; nt && i < k; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    return rc;
}

static int do_partitions(rd_kafka_t *rk, rd_kafka_queue_t *q, const topics_plan_t *plan,
                         int timeout_ms, rd_kafka_resp_err_t *kerr, char *errstr,
                         size_t errstr_size)
{
    rd_kafka_NewPartitions_t **np = calloc(plan->nactions ? plan->nactions : 1, sizeof *np);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout_ms);
    rd_kafka_event_t *ev = NULL;
    size_t k = 0;
    int rc = 0;
    if (!np || !opts) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < plan->nactions; i++) {
        const topic_action_t *a = &plan->actions[i];
        if (!a->partitions_to)
            continue;
        if (!(np[k] = rd_kafka_NewPartitions_new(a->spec->name, (size_t)a->partitions_to, errstr,
                                                 errstr_size))) {
            rc = DB_ERR_INVALID;
            goto out;
        }
        k++;
    }
    if (k == 0)
        goto out;
    rd_kafka_CreatePartitions(rk, np, k, opts, q);
    if (!(ev = wait_ok(q, timeout_ms, "CreatePartitions", kerr, errstr, errstr_size))) {
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &cnt);
        rc = check_topic_results(tr, cnt, "adding partitions to", kerr, errstr, errstr_size);
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; np && i < k; i++)
        rd_kafka_NewPartitions_destroy(np[i]);
    free(np);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    return rc;
}

static int do_alters(rd_kafka_t *rk, rd_kafka_queue_t *q, const topics_plan_t *plan,
                     const topic_spec_t *specs, const topic_state_t *states, int timeout_ms,
                     rd_kafka_resp_err_t *kerr, char *errstr, size_t errstr_size)
{
    rd_kafka_ConfigResource_t **res = calloc(plan->nactions ? plan->nactions : 1, sizeof *res);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms);
    rd_kafka_event_t *ev = NULL;
    size_t k = 0;
    int rc = 0;
    if (!res || !opts) {
        snprintf(errstr, errstr_size, "out of memory");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < plan->nactions; i++) {
        const topic_action_t *a = &plan->actions[i];
        const topic_spec_t *s = a->spec;
        const topic_state_t *st = &states[s - specs];
        if (!a->nchanges)
            continue;
        res[k] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, s->name);
        /* AlterConfigs (not incremental) replaces the topic's whole set of overrides:
         * send the defined configs and every other override the topic has, unchanged. */
        for (int c = 0; c < st->nconfigs; c++)
            if (st->dynamic[c] && !topic_spec_config(s, st->configs[c].key))
                rd_kafka_ConfigResource_set_config(res[k], st->configs[c].key, st->configs[c].value);
        for (int c = 0; c < s->nconfigs; c++)
            rd_kafka_ConfigResource_set_config(res[k], s->configs[c].key, s->configs[c].value);
        k++;
    }
    if (k == 0)
        goto out;
    rd_kafka_AlterConfigs(rk, res, k, opts, q);
    if (!(ev = wait_ok(q, timeout_ms, "AlterConfigs", kerr, errstr, errstr_size))) {
        rc = DB_ERR_KAFKA;
        goto out;
    }
    {
        size_t cnt = 0;
        const rd_kafka_ConfigResource_t **rr =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++)
            if (rd_kafka_ConfigResource_error(rr[i])) {
                *kerr = rd_kafka_ConfigResource_error(rr[i]);
                snprintf(errstr, errstr_size, "altering %s: %s", rd_kafka_ConfigResource_name(rr[i]),
                         rd_kafka_ConfigResource_error_string(rr[i]));
                rc = DB_ERR_KAFKA;
                break;
            }
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; res && i < k; i++)
        rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    return rc;
}

int topics_execute(rd_kafka_t *rk, const topics_plan_t *plan, const topic_spec_t *specs,
                   const topic_state_t *states, int timeout_ms, rd_kafka_resp_err_t *kerr,
                   char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t dummy;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc;
    if (!kerr)
        kerr = &dummy;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!q) {
        snprintf(errstr, errstr_size, "out of memory");
        return DB_ERR_NOMEM;
    }
    if (!(rc = do_creates(rk, q, plan, timeout_ms, kerr, errstr, errstr_size)) &&
        !(rc = do_partitions(rk, q, plan, timeout_ms, kerr, errstr, errstr_size)))
        rc = do_alters(rk, q, plan, specs, states, timeout_ms, kerr, errstr, errstr_size);
    rd_kafka_queue_destroy(q);
    return rc;
}
