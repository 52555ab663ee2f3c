/* submit.h - one path from a JSON record to signed messages on Kafka, shared by
 * send, status, emit and import: convert, validate, route, sign, deliver. */
#ifndef DOCBUS_SUBMIT_H
#define DOCBUS_SUBMIT_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "envelope.h"
#include "publish.h"
#include "units.h"

typedef struct submitter submitter_t;

/* Returns a submitter publishing with cfg, or NULL with errstr (a config or PKI problem:
 * exit EXIT_CONFIG; a broker problem: EXIT_BROKER, told apart by *broker_down = 1;
 * authentication or authorisation refused: EXIT_AUTH, *broker_down = 2). */
submitter_t *submitter_new(const db_config_t *cfg, publish_fail_cb *fail_cb, void *opaque,
                           int *broker_down, char *errstr, size_t errstr_size);

/* Converts record (without its "type" key) to the body of type t, validates it against
 * the schema and the unit registry, and queues it for its topics (documents: every
 * recipient's inbox; statuses: the document sender's inbox; events: docbus.events).
 * ref identifies the record in failure reports. If id_out is not NULL it receives the
 * record's natural key. Returns 0, DB_ERR_INVALID (the record is bad: errstr says
 * where and why), or another code for a failure that is not the record's fault. */
int submitter_add(submitter_t *s, body_type_t t, json_t *record, int64_t ref,
                  char *id_out, size_t id_size, char *errstr, size_t errstr_size);

/* A record converted, checked, routed and encoded: what signing and delivery need. */
typedef struct submit_item {
    body_type_t type;
    char producer[UNIT_CODE_MAX];        /* the signing unit */
    char natural[1024];                  /* the record's natural key (its id) */
    char key[256];                       /* the Kafka message key */
    int ntopics;
    char topics[16][UNIT_CODE_MAX + 16]; /* topic suffixes: "inbox.<code>", "events" */
    uint8_t *body;                       /* Avro binary of the record, len bytes */
    size_t len, cap;
} submit_item_t;

/* Converts and checks records on one thread; one per thread that prepares. */
typedef struct submit_prep submit_prep_t;

/* Returns a preparer validating against registry (borrowed: it must outlive the
 * preparer), or NULL with errstr. */
submit_prep_t *submit_prep_new(const units_t *registry, char *errstr, size_t errstr_size);

/* Converts record (without its "type" key) to the body of type t, validates it against
 * the schema and the registry, routes and encodes it into item (whose body buffer is
 * reused: zero-initialise an item before its first use, free it with
 * submit_item_clear). record must stay alive until the call returns (the converted
 * value borrows its strings). Returns 0, DB_ERR_INVALID (errstr says where and why), or
 * another code for a failure that is not the record's fault. */
int submit_prepare(submit_prep_t *p, body_type_t t, json_t *record, submit_item_t *item,
                   char *errstr, size_t errstr_size);

/* submit_prepare for one JSON Lines input line (its "type" key names the body type):
 * lines that start {"type":"<type>", take a one-pass path (json_fast) when they are
 * valid, every other line and every invalid one the full path; the item and the error
 * are the same either way. Returns as submit_prepare (and DB_ERR_TOO_LARGE for a line
 * over JSONL_LINE_MAX). */
int submit_prepare_line(submit_prep_t *p, const char *line, size_t len, submit_item_t *item,
                        char *errstr, size_t errstr_size);

/* Frees the body buffer of item. */
void submit_item_clear(submit_item_t *item);

/* Frees p; NULL allowed. */
void submit_prep_destroy(submit_prep_t *p);

/* Signs item and queues it for its topics; ref identifies it in failure reports.
 * Returns 0 or the publisher's error (DB_ERR_CONFIG: no key for the unit). */
int submitter_send(submitter_t *s, const submit_item_t *item, int64_t ref, char *errstr,
                   size_t errstr_size);

/* The publisher under s (poll, finish, stats). */
publisher_t *submitter_publisher(submitter_t *s);

/* The unit registry s validates against. */
const units_t *submitter_units(submitter_t *s);

/* Frees s; NULL allowed. */
void submitter_destroy(submitter_t *s);

#include "cli.h"

/* Publishes the one record rec of type t for command cmd (send, status, emit): builds
 * the config from cc, signs, waits for the broker's acknowledgement, prints the record's
 * id on stdout. Returns the exit code (EXIT_REJECTED with the reason for a bad record). */
int submit_one(const char *cmd, const cli_common_t *cc, body_type_t t, json_t *rec);

#endif
