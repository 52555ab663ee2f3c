/* metrics.h - declarative metrics (schemas/metrics.json): load, validate against the
 * body schemas, and turn one decoded body into the facts it counts. */
#ifndef DOCBUS_METRICS_H
#define DOCBUS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

#include "envelope.h"
#include "quarter.h"

#define METRICS_MAX 256          /* entries in one metrics file */
#define METRICS_ID_MAX 64        /* longest metric id, with NUL */
#define METRICS_VALUE_MAX 256    /* longest dimension / member / item-id value, escaped */
#define METRICS_SLOT_MAX 1024    /* longest dims string or item id, with NUL */

typedef enum { METRICS_COUNT = 0, METRICS_SUM, METRICS_DISTINCT, METRICS_LIST } metrics_kind_t;
typedef enum { METRICS_QUARTER = 0, METRICS_CUMULATIVE } metrics_window_t;

typedef struct metrics metrics_t;

/* One fact of one metric. The strings are valid only during the callback.
 * dims, member and item_id are key-safe: ',', '=', '|', '%' and control bytes of the
 * values are escaped as %XX (metrics_unescape reverses it). */
typedef struct metrics_fact {
    int metric;             /* index in the metrics file */
    quarter_t quarter;      /* quarter of the fact's own time, Vietnam time */
    const char *dims;       /* canonical "k=v,k=v" sorted by key; "" when none */
    int64_t delta;          /* count: 1; sum: the field; distinct: 1;
                             * list: the fact's own time in ms (latest version wins) */
    const char *member;     /* distinct: the member; NULL otherwise */
    const char *item_id;    /* list: the stable id (values of "key"); NULL otherwise */
    const char *item;       /* list: JSON object of the kept fields plus "id"; NULL otherwise */
} metrics_fact_t;

/* Called once per fact; a non-zero return stops metrics_eval, which returns it. */
typedef int (*metrics_fact_cb)(const metrics_fact_t *fact, void *opaque);

/* Loads and validates a metrics file: path, or the compiled-in "metrics.json" when
 * path is NULL. Paths are resolved against the body schemas (the .avsc files, compiled
 * in) and compiled to field indexes. On success *out is the caller's (metrics_destroy).
 * DB_ERR_IO (unreadable file), DB_ERR_NOT_FOUND (no compiled-in file) or DB_ERR_CONFIG
 * with errstr naming the file, the entry and the key at fault. */
int metrics_load(const char *path, metrics_t **out, char *errstr, size_t errstr_size);

/* Same as metrics_load but from JSON text; name is used in messages. */
int metrics_load_text(const char *text, size_t len, const char *name, metrics_t **out,
                      char *errstr, size_t errstr_size);

/* Frees m; NULL is allowed. */
void metrics_destroy(metrics_t *m);

/* Evaluates every metric of body type bt on body (an Avro value of the Document, Status
 * or Event schema) and calls cb once per fact. The whole body is checked before the
 * first callback, so either all facts are delivered or none: DB_ERR_INVALID when a
 * fact would have an impossible value (negative sum, time before 2000 or after 2100,
 * over-long value) or body is not of bt's schema, with the reason in errstr.
 * cb may be NULL to check only (no need for a check pass before a counting pass).
 * Returns 0, that error, or the callback's non-zero return. */
int metrics_eval(const metrics_t *m, body_type_t bt, avro_value_t *body,
                 metrics_fact_cb cb, void *opaque, char *errstr, size_t errstr_size);

/* Number of metrics. */
int metrics_count(const metrics_t *m);

/* Index of the metric with this id, or -1. */
int metrics_find(const metrics_t *m, const char *id);

/* Accessors by index (0 <= i < metrics_count); strings belong to m. */
const char *metrics_id(const metrics_t *m, int i);
const char *metrics_title(const metrics_t *m, int i);
metrics_kind_t metrics_kind(const metrics_t *m, int i);
metrics_window_t metrics_window(const metrics_t *m, int i);
body_type_t metrics_body(const metrics_t *m, int i);
/* The rounding step of "more than N" figures; 0 when not set. */
int64_t metrics_round(const metrics_t *m, int i);
/* Number of dimensions of metric i and the name of dimension j (its path as written,
 * e.g. "to[].code"); dimensions are in sorted order. */
int metrics_dim_count(const metrics_t *m, int i);
const char *metrics_dim_name(const metrics_t *m, int i, int j);

/* Returns "count", "sum", "distinct", "list" / "quarter", "cumulative". */
const char *metrics_kind_name(metrics_kind_t k);
const char *metrics_window_name(metrics_window_t w);

/* Reverses the %XX escaping of fact strings: writes the raw value of the len bytes at
 * s into buf (NUL-terminated). Returns the raw length, or -1 if it does not fit. */
int metrics_unescape(const char *s, size_t len, char *buf, size_t size);

#endif
