/* config.c - docbus configuration keys, their defaults, and the librdkafka pass-through. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The one reference of docbus's own keys: `docbus help config` and the README come
 * from this table. */
static const struct {
    const char *key, *def, *doc;
} docbus_keys[] = {
    {"docbus.unit", "", "organisation code this process acts as (inbox, status, send)"},
    {"docbus.pki.dir", "pki", "PKI directory: ca.crt, crl.pem, units/<CODE>.key|.crt"},
    {"docbus.state.dir", "state", "where producers keep per-unit seq and last batch root"},
    {"docbus.topic.prefix", "docbus.", "prefix of every docbus topic"},
    {"docbus.batch.size", "512", "messages per signed batch (1 = sign every message)"},
    {"docbus.batch.linger.ms", "1000", "longest a message waits for its batch to fill (send, status and emit flush at once)"},
    {"docbus.import.workers", "0", "threads that parse and check an import's lines (0 = one per online CPU, at most 8)"},
    {"docbus.delivery.deadline.ms", "120000", "how long producers keep retrying a broker before giving up"},
    {"docbus.registry", "", "unit registry JSON file (empty: the built-in Ho Chi Minh City registry)"},
    {"docbus.metrics", "", "metric definitions JSON file (empty: the built-in schemas/metrics.json)"},
    {"docbus.inline.max.bytes", "262144", "attachments up to this size travel inline, larger ones by reference"},
    {"docbus.aggregate.group", "docbus-aggregate", "consumer group and transactional id prefix of the aggregator"},
    {"docbus.aggregate.commit.interval.ms", "1000", "longest an aggregator transaction stays open (counts visible, work redone after a crash); at most half of transaction.timeout.ms (10000)"},
    {"docbus.aggregate.commit.messages", "100000", "most messages counted in one aggregator transaction"},
    {"docbus.aggregate.stall.timeout.ms", "120000", "aggregate --until-caught-up gives up (exit 4) when the group's lag has not fallen for this long"},
};

#define NKEYS (sizeof docbus_keys / sizeof docbus_keys[0])

struct kv {
    char *key, *value;
};

struct db_config {
    struct kv *items;
    size_t n, cap;
};

static struct kv *find(const db_config_t *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->items[i].key, key) == 0)
            return &cfg->items[i];
    return NULL;
}

static int put(db_config_t *cfg, const char *key, const char *value)
{
    struct kv *kv = find(cfg, key);
    char *v = strdup(value);
    if (!v)
        return DB_ERR_NOMEM;
    if (kv) {
        free(kv->value);
        kv->value = v;
        return 0;
    }
    if (cfg->n == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 32;
        struct kv *items = realloc(cfg->items, cap * sizeof *items);
        if (!items) {
            free(v);
            return DB_ERR_NOMEM;
        }
        cfg->items = items;
        cfg->cap = cap;
    }
    cfg->items[cfg->n].key = strdup(key);
    if (!cfg->items[cfg->n].key) {
        free(v);
        return DB_ERR_NOMEM;
    }
    cfg->items[cfg->n++].value = v;
    return 0;
}

db_config_t *config_new(void)
{
    db_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    for (size_t i = 0; i < NKEYS; i++)
        if (put(cfg, docbus_keys[i].key, docbus_keys[i].def))
            goto fail;
    if (put(cfg, "bootstrap.servers", DOCBUS_DEFAULT_BOOTSTRAP))
        goto fail;
    return cfg;
fail:
    config_destroy(cfg);
    return NULL;
}

void config_destroy(db_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->items[i].key);
        free(cfg->items[i].value);
    }
    free(cfg->items);
    free(cfg);
}

int config_set(db_config_t *cfg, const char *key, const char *value,
               char *errstr, size_t errstr_size)
{
    if (!*key) {
        snprintf(errstr, errstr_size, "empty configuration key");
        return DB_ERR_CONFIG;
    }
    if (strncmp(key, "docbus.", 7) == 0) {
        size_t i;
        for (i = 0; i < NKEYS; i++)
            if (strcmp(docbus_keys[i].key, key) == 0)
                break;
        if (i == NKEYS) {
            snprintf(errstr, errstr_size,
                     "unknown configuration key \"%s\" (see `docbus help config`)", key);
            return DB_ERR_CONFIG;
        }
    }
    return put(cfg, key, value);
}

/* Trims spaces at both ends of s in place and returns it. */
static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int config_load_file(db_config_t *cfg, const char *path, char *errstr, size_t errstr_size)
{
    int rc = 0, lineno = 0;
    char line[4096];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "cannot read config file %s: %s", path, strerror(errno));
        return DB_ERR_CONFIG;
    }
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line), *eq;
        lineno++;
        if (!*s || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            snprintf(errstr, errstr_size, "%s:%d: expected key=value, got \"%s\"", path, lineno, s);
            rc = DB_ERR_CONFIG;
            goto out;
        }
        *eq = '\0';
        char sub[512];
        rc = config_set(cfg, trim(s), trim(eq + 1), sub, sizeof sub);
        if (rc) {
            snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno, sub);
            goto out;
        }
    }
out:
    fclose(f);
    return rc;
}

const char *config_get(const db_config_t *cfg, const char *key, const char *def)
{
    struct kv *kv = find(cfg, key);
    return kv ? kv->value : def;
}

int config_get_int(const db_config_t *cfg, const char *key, int64_t def, int64_t min,
                   int64_t max, int64_t *out, char *errstr, size_t errstr_size)
{
    const char *v = config_get(cfg, key, NULL);
    char *end;
    long long n;
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        snprintf(errstr, errstr_size, "%s=%s: expected an integer in [%lld, %lld]", key, v,
                 (long long)min, (long long)max);
        return DB_ERR_CONFIG;
    }
    *out = n;
    return 0;
}

rd_kafka_conf_t *config_kafka_conf(const db_config_t *cfg, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < cfg->n; i++) {
        char kerr[256];
        if (strncmp(cfg->items[i].key, "docbus.", 7) == 0)
            continue;
        if (rd_kafka_conf_set(conf, cfg->items[i].key, cfg->items[i].value, kerr,
                              sizeof kerr) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "librdkafka property %s: %s", cfg->items[i].key, kerr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

char *config_topic(const db_config_t *cfg, const char *suffix, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", config_get(cfg, "docbus.topic.prefix", "docbus."), suffix);
    return buf;
}

void config_print_reference(FILE *out)
{
    fprintf(out, "docbus configuration keys (file: -c FILE or $DOCBUS_CONFIG; one: -X key=value)\n\n");
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(out, "  %-36s %s\n  %-36s default: %s\n", docbus_keys[i].key, docbus_keys[i].doc,
                "", *docbus_keys[i].def ? docbus_keys[i].def : "(empty)");
    fprintf(out, "\nEvery other key is a librdkafka property (bootstrap.servers defaults to %s;\n"
                 "producers always use idempotence and acks=all and default to lz4 and linger.ms=10;\n"
                 "import defaults to linger.ms=500).\n",
            DOCBUS_DEFAULT_BOOTSTRAP);
}
