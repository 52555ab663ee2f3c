/* counts.h - the aggregator's in-memory counts table (records of docbus.counts, one
 * per metric, quarter, dims/member/item and source partition) and the report model
 * read from it. */
#ifndef DOCBUS_COUNTS_H
#define DOCBUS_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "metrics.h"
#include "quarter.h"

#define COUNTS_SRC_MAX 256    /* longest "topic:partition", with NUL */
#define COUNTS_TOP_UNITS 10   /* rows of top_units.sent / .received in the report */

typedef struct counts counts_t;

/* One value of a breakdown: the dimension value (unescaped) and its total. */
typedef struct counts_bucket {
    char *value;
    int64_t n;
} counts_bucket_t;

/* Gets the display name of a unit code, or NULL when unknown (a unit registry wrapped
 * by the caller). The string must live until counts_report returns. */
typedef const char *(*counts_unit_name_fn)(void *opaque, const char *code);

/* Called with one record: key "<metric>|<quarter>|<slot>|<src>" and its value JSON. */
typedef int (*counts_record_cb)(const char *key, size_t klen, const char *value, size_t vlen,
                                void *opaque);

/* Returns an empty table, or NULL on allocation failure. */
counts_t *counts_new(void);

/* Frees c; NULL is allowed. */
void counts_destroy(counts_t *c);

/* Counts fact f (from metrics_eval with m) for source partition src ("topic:partition")
 * at now_ms and marks its record dirty. count/sum/distinct add f->delta; a list record
 * keeps the item with the latest fact time. No allocation unless the record is new.
 * DB_ERR_INVALID (bad metric index, src, or an int64 overflow) leaves c unchanged. */
int counts_apply(counts_t *c, const metrics_t *m, const metrics_fact_t *f, const char *src,
                 int64_t now_ms, char *errstr, size_t errstr_size);

/* Calls cb with the key and value JSON of every record changed since the last
 * counts_clear_dirty, in the order they were first changed. Value JSON:
 * {"metric","quarter","dims":{..}|"member":".."|"item":{..},"value","src","updated_at"}.
 * Returns 0, DB_ERR_NOMEM, or the first non-zero return of cb (which stops the walk). */
int counts_dirty_foreach(counts_t *c, counts_record_cb cb, void *opaque);

/* Called by counts_dirty_values with a record's key, its value and, for list records,
 * its item JSON (NULL otherwise); non-zero stops the walk and is returned. */
typedef int (*counts_value_cb)(const char *key, size_t klen, int64_t value, const char *item,
                               void *opaque);

/* Like counts_dirty_foreach, without serializing: the numbers a comparison needs. */
int counts_dirty_values(const counts_t *c, counts_value_cb cb, void *opaque);

/* Like counts_dirty_values, over every record, dirty or not. */
int counts_values(const counts_t *c, counts_value_cb cb, void *opaque);

/* The value and, for list records, the item JSON (else NULL) of the record key: returns
 * 1, or 0 when there is no such record. */
int counts_get(const counts_t *c, const char *key, size_t klen, int64_t *value, const char **item);

/* Number of dirty records. */
size_t counts_dirty_count(const counts_t *c);

/* Marks every record clean (after the records were produced and committed). */
void counts_clear_dirty(counts_t *c);

/* Rebuilds state from one docbus.counts record: value NULL is a tombstone (the record
 * is removed). The record is not dirty. DB_ERR_INVALID when key and value disagree or
 * either is malformed, with the reason in errstr; c is then unchanged. */
int counts_load_record(counts_t *c, const char *key, size_t klen, const char *value,
                       size_t vlen, char *errstr, size_t errstr_size);

/* counts_load_record of a value already parsed: v (borrowed; NULL when the text was not
 * JSON), or a tombstone when has_value is 0. */
int counts_load_value(counts_t *c, const char *key, size_t klen, int has_value, json_t *v,
                      char *errstr, size_t errstr_size);

/* Removes every record of source src (its partition was revoked). Returns how many. */
size_t counts_forget_src(counts_t *c, const char *src);

/* Number of records. */
size_t counts_size(const counts_t *c);

/* The value of metric id for quarter q, summed over sources and dimensions: window
 * METRICS_QUARTER counts facts of q alone, METRICS_CUMULATIVE those of every quarter
 * up to q. dims_filter ("k=v,k=v", escaped as in facts, or NULL) keeps records having
 * every listed pair. distinct: the number of distinct members over the window; list:
 * the number of distinct items. 0 for an unknown id or no data. */
int64_t counts_value(const counts_t *c, const metrics_t *m, const char *id, quarter_t q,
                     metrics_window_t w, const char *dims_filter);

/* counts_value of metric id without a dims filter for the n consecutive quarters from
 * first, both windows at once: quarter[i] and cumulative[i] (cumulative may be NULL: not
 * wanted) for quarter first + i. One pass over the metric's records for counts and sums
 * (the per-quarter queries of an audit scanned them 4 times a quarter); distinct and
 * list metrics ask counts_value. */
void counts_series(const counts_t *c, const metrics_t *m, const char *id, quarter_t first,
                   size_t n, int64_t *quarter, int64_t *cumulative);

/* The totals of metric id over window w per value of dimension dim, sorted by total
 * descending then value. *out (may be NULL when *n is 0) is freed with
 * counts_buckets_free. Returns 0 or DB_ERR_NOMEM. */
int counts_breakdown(const counts_t *c, const char *id, quarter_t q, metrics_window_t w,
                     const char *dim, counts_bucket_t **out, size_t *n);

/* Frees a breakdown; NULL is allowed. */
void counts_buckets_free(counts_bucket_t *b, size_t n);

/* The quarters that have records, ascending, in *out (caller frees). 0 or DB_ERR_NOMEM. */
int counts_quarters(const counts_t *c, quarter_t **out, size_t *n);

/* The latest updated_at (ms) of the records of metric id within window w of q, or 0. */
int64_t counts_last_changed(const counts_t *c, const char *id, quarter_t q, metrics_window_t w);

/* The items of list metric id within window w of q, the latest version per item id,
 * sorted by fact time then id, as a new JSON array in *out. 0 or DB_ERR_NOMEM. */
int counts_list(const counts_t *c, const char *id, quarter_t q, metrics_window_t w, json_t **out);

/* Builds the report model for quarter q (the shape in docs/metrics.md; also the output
 * of `docbus report --format json`): every non-list metric under "figures" with a
 * series of history_quarters quarters ending at q, top units from docs.sent and
 * docs.received, tasks and highlights from appendix.tasks / appendix.highlights.
 * names may be NULL (unit names are then null). *out is the caller's. 0, DB_ERR_NOMEM or DB_ERR_INVALID. */
int counts_report(const counts_t *c, const metrics_t *m, counts_unit_name_fn names,
                  void *names_opaque, quarter_t q, int history_quarters, json_t **out,
                  char *errstr, size_t errstr_size);

#endif
