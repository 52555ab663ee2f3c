/* submit.c - JSON record -> validated Avro body -> routed, signed, delivered. */
#include "submit.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_view.h"
#include "codec.h"
#include "error.h"
#include "json_avro.h"
#include "json_fast.h"
#include "jsonl.h"
#include "kafka.h"
#include "record.h"
#include "schema.h"
#include "str.h"

#define BODY_BUF (ENVELOPE_MAX_BYTES)
/* The largest body that still fits one Kafka message once signed: librdkafka's default
 * message.max.bytes (1,000,000) less room for the envelope, proof, key and headers. */
#define BODY_MAX (1000000 - 16384)

struct submit_prep {
    const units_t *units;
    json_avro_t *conv[3];
    avro_value_t value[3];
    json_fast_t *fast[3];      /* the one-pass path of submit_prepare_line */
    body_view_t *view;         /* its body, read back for the checks */
    uint8_t *buf;
};

struct submitter {
    publisher_t *pub;
    units_t *units;
    submit_prep_t *prep;
    submit_item_t item;
};

submit_prep_t *submit_prep_new(const units_t *registry, char *errstr, size_t errstr_size)
{
    submit_prep_t *p = calloc(1, sizeof *p);
    if (!p || !(p->buf = malloc(BODY_BUF))) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    p->units = registry;
    if (schemas_init(errstr, errstr_size))
        goto fail;
    for (int t = 0; t < 3; t++) {
        if (json_avro_new_body((body_type_t)t, &p->conv[t], errstr, errstr_size) ||
            json_avro_value_new(p->conv[t], &p->value[t]))
            goto fail;
        /* submit_prepare is done with the converted value before it returns, while the
         * caller still holds the record */
        json_avro_borrow_strings(p->conv[t], 1);
        /* its records come from json_parse or jansson's checked constructors */
        json_avro_utf8_checked(p->conv[t], 1);
        if (!(p->fast[t] = json_fast_new(p->conv[t]))) {
            snprintf(errstr, errstr_size, "out of memory");
            goto fail;
        }
    }
    if (!(p->view = body_view_new())) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    return p;
fail:
    submit_prep_destroy(p);
    return NULL;
}

void submit_prep_destroy(submit_prep_t *p)
{
    if (!p)
        return;
    for (int t = 0; t < 3; t++) {
        if (p->value[t].iface)
            avro_value_decref(&p->value[t]);
        json_avro_destroy(p->conv[t]);
        json_fast_destroy(p->fast[t]);
    }
    body_view_destroy(p->view);
    free(p->buf);
    free(p);
}

void submit_item_clear(submit_item_t *item)
{
    free(item->body);
    item->body = NULL;
    item->len = item->cap = 0;
}

submitter_t *submitter_new(const db_config_t *cfg, publish_fail_cb *fail_cb, void *opaque,
                           int *broker_down, char *errstr, size_t errstr_size)
{
    submitter_t *s = calloc(1, sizeof *s);
    const char *registry = config_get(cfg, "docbus.registry", "");
    *broker_down = 0;
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (units_load(*registry ? registry : NULL, &s->units, errstr, errstr_size) ||
        !(s->prep = submit_prep_new(s->units, errstr, errstr_size)))
        goto fail;
    s->pub = publisher_new(cfg, fail_cb, opaque, errstr, errstr_size);
    if (!s->pub)
        goto fail;
    {
        /* Fail fast with a clear message rather than queueing into the void. */
        rd_kafka_t *rk = publisher_rk(s->pub);
        kafka_fail_t f = kafka_check(rk, 10000, errstr, errstr_size);
        if (f != KAFKA_FAIL_NONE) {
            *broker_down = f == KAFKA_FAIL_AUTH ? 2 : 1;
            goto fail;
        }
    }
    /* Topics that already exist are known after one metadata request; a missing one
     * is created when its first record comes (a fresh deployment creates them all
     * at once with `docbus topics apply`). */
    if (publisher_learn_topics(s->pub, errstr, errstr_size)) {
        *broker_down = 1;
        goto fail;
    }
    return s;
fail:
    submitter_destroy(s);
    return NULL;
}

/* Reads the string field name of record v into out. */
static int get_str(avro_value_t *v, const char *name, const char **out)
{
    avro_value_t f;
    size_t sz;
    if (avro_value_get_by_name(v, name, &f, NULL) || avro_value_get_string(&f, out, &sz))
        return DB_ERR_INVALID;
    return 0;
}

/* Checks body v of type t against the registry and fills item's routing: natural key,
 * Kafka key, topics, producer. 0 or DB_ERR_INVALID with errstr. */
static int route(submit_prep_t *p, body_type_t t, avro_value_t *v, submit_item_t *item,
                 char *errstr, size_t errstr_size)
{
    char *natural = item->natural, *key = item->key;
    char (*topic_names)[UNIT_CODE_MAX + 16] = item->topics;
    int ntopics = 0, rc;
    size_t len;
    const char *producer, *str;

    if ((rc = record_validate(t, v, p->units, errstr, errstr_size)))
        return rc;
    if (record_natural_key(t, v, natural, sizeof item->natural)) {
        snprintf(errstr, errstr_size, "natural key longer than %zu bytes", sizeof item->natural);
        return DB_ERR_INVALID;
    }
    producer = record_producer(t, v);
    switch (t) {
    case BODY_DOCUMENT: {
        avro_value_t to, rcpt, code;
        size_t n = 0;
        const char *doc_id;
        get_str(v, "doc_id", &doc_id);
        str_join(key, sizeof item->key, doc_id, NULL);
        avro_value_get_by_name(v, "to", &to, NULL);
        avro_value_get_size(&to, &n);
        /* The first recipient's inbox holds the counted copy (DESIGN: one partition
         * counts each fact); the other copies are deliveries only. */
        for (size_t i = 0; i < n && ntopics < 16; i++) {
            avro_value_get_by_index(&to, i, &rcpt, NULL);
            avro_value_get_by_name(&rcpt, "code", &code, NULL);
            avro_value_get_string(&code, &str, &len);
            str_join(topic_names[ntopics], sizeof topic_names[0], "inbox.", str, NULL);
            ntopics++;
        }
        if (n > 16) {
            snprintf(errstr, errstr_size, "to: %zu recipients, at most 16 per document", n);
            return DB_ERR_INVALID;
        }
        break;
    }
    case BODY_STATUS:
        get_str(v, "doc_id", &str);
        str_join(key, sizeof item->key, str, NULL);
        get_str(v, "to", &str);
        str_join(topic_names[0], sizeof topic_names[0], "inbox.", str, NULL);
        ntopics++;
        break;
    case BODY_EVENT:
        get_str(v, "unit", &str);
        str_join(key, sizeof item->key, str, NULL);
        str_join(topic_names[0], sizeof topic_names[0], "events", NULL);
        ntopics++;
        break;
    }
    item->type = t;
    item->ntopics = ntopics;
    str_join(item->producer, sizeof item->producer, producer ? producer : "", NULL);
    return 0;
}

/* Copies the len bytes of body into item's reused buffer. 0 or DB_ERR_NOMEM. */
static int keep_body(submit_item_t *item, const uint8_t *body, size_t len, char *errstr,
                     size_t errstr_size)
{
    if (len > item->cap) {
        uint8_t *nb = realloc(item->body, len);
        if (!nb) {
            snprintf(errstr, errstr_size, "out of memory");
            return DB_ERR_NOMEM;
        }
        item->body = nb;
        item->cap = len;
    }
    memcpy(item->body, body, len);
    item->len = len;
    return 0;
}

int submit_prepare(submit_prep_t *p, body_type_t t, json_t *record, submit_item_t *item,
                   char *errstr, size_t errstr_size)
{
    avro_value_t *v = &p->value[t];
    size_t len;
    int rc;

    avro_value_reset(v);
    if ((rc = json_avro_from_json(p->conv[t], record, v, errstr, errstr_size)) ||
        (rc = route(p, t, v, item, errstr, errstr_size)))
        return rc;
    if ((rc = body_encode(v, p->buf, BODY_BUF, &len)) || len > BODY_MAX) {
        snprintf(errstr, errstr_size,
                 "record encodes to %s%zu bytes, over the %d-byte cap of one message "
                 "(send large attachments by reference)", rc ? "more than " : "",
                 rc ? (size_t)BODY_BUF : len, BODY_MAX);
        return DB_ERR_INVALID;
    }
    return keep_body(item, p->buf, len, errstr, errstr_size);
}

/* submit_prepare_line's one pass: 0 with item filled, or -1 when the line must take
 * the full path (which also names any error: this one only declines). */
static int prepare_fast(submit_prep_t *p, body_type_t t, const char *line, size_t len,
                        submit_item_t *item)
{
    const uint8_t *body;
    size_t blen;
    avro_value_t *v;
    char err[256];
    if (json_fast_encode(p->fast[t], line, len, "type", BODY_MAX, &body, &blen) ||
        body_view_read(p->view, json_avro_schema(p->conv[t]), body, blen, NULL, &v, err,
                       sizeof err) ||
        route(p, t, v, item, err, sizeof err) ||
        keep_body(item, body, blen, err, sizeof err))
        return -1;
    return 0;
}

int submit_prepare_line(submit_prep_t *p, const char *line, size_t len, submit_item_t *item,
                        char *errstr, size_t errstr_size)
{
    int t = len <= JSONL_LINE_MAX ? jsonl_leading_type(line, len) : -1, rc;
    body_type_t bt;
    json_t *rec = NULL;
    if (t >= 0 && prepare_fast(p, (body_type_t)t, line, len, item) == 0)
        return 0;
    rc = jsonl_parse_line(line, len, &bt, &rec, errstr, errstr_size);
    if (!rc)
        rc = submit_prepare(p, bt, rec, item, errstr, errstr_size);
    json_decref(rec);
    return rc;
}

int submitter_send(submitter_t *s, const submit_item_t *item, int64_t ref, char *errstr,
                   size_t errstr_size)
{
    const char *topics[16];
    for (int i = 0; i < item->ntopics; i++)
        topics[i] = item->topics[i];
    return publisher_add(s->pub, item->type, item->producer, item->natural, item->key, topics,
                         item->ntopics, item->body, item->len, ref, errstr, errstr_size);
}

int submitter_add(submitter_t *s, body_type_t t, json_t *record, int64_t ref,
                  char *id_out, size_t id_size, char *errstr, size_t errstr_size)
{
    int rc = submit_prepare(s->prep, t, record, &s->item, errstr, errstr_size);
    if (rc)
        return rc;
    if (id_out)
        snprintf(id_out, id_size, "%s", s->item.natural);
    return submitter_send(s, &s->item, ref, errstr, errstr_size);
}

publisher_t *submitter_publisher(submitter_t *s)
{
    return s->pub;
}

const units_t *submitter_units(submitter_t *s)
{
    return s->units;
}

void submitter_destroy(submitter_t *s)
{
    if (!s)
        return;
    publisher_destroy(s->pub);
    submit_prep_destroy(s->prep);
    submit_item_clear(&s->item);
    units_destroy(s->units);
    free(s);
}

static void one_failed(void *opaque, int64_t ref, const char *reason)
{
    (void)ref;
    snprintf(opaque, 512, "%s", reason);
}

int submit_one(const char *cmd, const cli_common_t *cc, body_type_t t, json_t *rec)
{
    char errstr[1024], id[1024], failure[512] = "";
    int rc, broker_down = 0;
    db_config_t *cfg = cli_config(cc);
    submitter_t *s = NULL;
    if (!cfg)
        return EXIT_CONFIG;
    s = submitter_new(cfg, one_failed, failure, &broker_down, errstr, sizeof errstr);
    if (!s) {
        cli_err(cmd, "%s", errstr);
        rc = broker_down == 2 ? EXIT_AUTH : broker_down ? EXIT_BROKER : EXIT_CONFIG;
        goto out;
    }
    rc = submitter_add(s, t, rec, 1, id, sizeof id, errstr, sizeof errstr);
    if (rc) {
        cli_err(cmd, "%s", errstr);
        rc = rc == DB_ERR_INVALID ? EXIT_REJECTED : rc == DB_ERR_CONFIG ? EXIT_CONFIG : EXIT_FAIL;
        goto out;
    }
    if (publisher_finish(s->pub, errstr, sizeof errstr)) {
        cli_err(cmd, "not delivered: %s (%s); sending again is safe", failure, errstr);
        rc = EXIT_BROKER;
        goto out;
    }
    printf("%s\n", id);
    rc = EXIT_OK;
out:
    submitter_destroy(s);
    config_destroy(cfg);
    return rc;
}
