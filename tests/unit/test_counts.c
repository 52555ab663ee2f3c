/* test_counts.c - the counts table: windows, kinds, dims, lists, sources, records on
 * the wire and back, the report model, and the eval+apply throughput. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "counts.h"
#include "error.h"
#include "metrics.h"
#include "quarter.h"
#include "schemas_embedded.h"

#define METRICS_FILE "schemas/metrics.json"  /* tests run from the repository top */
#define SRC0 "docbus.events:0"
#define SRC1 "docbus.events:1"

static const metrics_t *M;

static quarter_t Q(const char *s)
{
    quarter_t q;
    char err[128];
    assert_int_equal(quarter_parse(s, &q, err, sizeof err), 0);
    return q;
}

static int setup(void **state)
{
    metrics_t *m;
    char err[512];
    (void)state;
    if (metrics_load(METRICS_FILE, &m, err, sizeof err) < 0) {
        fprintf(stderr, "metrics_load: %s\n", err);
        return -1;
    }
    M = m;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    metrics_destroy((metrics_t *)M);
    return 0;
}

/* Applies one fact of metric id; slot is dims, member or item id by the metric's kind. */
static void put(counts_t *c, const char *id, const char *q, const char *slot, int64_t delta,
                const char *item, const char *src, int64_t now)
{
    char err[256];
    int mi = metrics_find(M, id);
    assert_true(mi >= 0);
    metrics_fact_t f = {.metric = mi, .quarter = Q(q), .dims = "", .delta = delta};
    switch (metrics_kind(M, mi)) {
    case METRICS_DISTINCT:
        f.member = slot;
        break;
    case METRICS_LIST:
        f.item_id = slot;
        f.item = item;
        break;
    default:
        f.dims = slot;
        break;
    }
    if (counts_apply(c, M, &f, src, now, err, sizeof err) != 0)
        fail_msg("counts_apply: %s", err);
}

static int64_t val(const counts_t *c, const char *id, const char *q, metrics_window_t w,
                   const char *filter)
{
    return counts_value(c, M, id, Q(q), w, filter);
}

/* ---------- kinds and windows ---------- */

static void test_count_quarter_and_cumulative_over_three_quarters(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    for (int i = 0; i < 2; i++)
        put(c, "docs.exchanged", "2017-Q3", "", 1, NULL, SRC0, 1);
    for (int i = 0; i < 3; i++)
        put(c, "docs.exchanged", "2017-Q4", "", 1, NULL, SRC0, 2);
    for (int i = 0; i < 5; i++)
        put(c, "docs.exchanged", "2018-Q1", "", 1, NULL, SRC0, 3);
    assert_int_equal(counts_size(c), 3);  /* one record per quarter */
    assert_int_equal(val(c, "docs.exchanged", "2018-Q1", METRICS_QUARTER, NULL), 5);
    assert_int_equal(val(c, "docs.exchanged", "2018-Q1", METRICS_CUMULATIVE, NULL), 10);
    assert_int_equal(val(c, "docs.exchanged", "2017-Q4", METRICS_CUMULATIVE, NULL), 5);
    assert_int_equal(val(c, "docs.exchanged", "2017-Q2", METRICS_CUMULATIVE, NULL), 0);
    assert_int_equal(val(c, "docs.exchanged", "2018-Q2", METRICS_QUARTER, NULL), 0);
    assert_int_equal(val(c, "docs.exchanged", "2018-Q2", METRICS_CUMULATIVE, NULL), 10);
    assert_int_equal(val(c, "no.such", "2018-Q1", METRICS_CUMULATIVE, NULL), 0);
    counts_destroy(c);
}

static void test_sum_adds_the_field(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    put(c, "penalty.amount_vnd", "2018-Q1", "", 1000, NULL, SRC0, 1);
    put(c, "penalty.amount_vnd", "2018-Q1", "", 2500, NULL, SRC0, 1);
    put(c, "penalty.amount_vnd", "2018-Q1", "", 7000, NULL, SRC0, 1);
    put(c, "penalty.amount_vnd", "2017-Q4", "", 400, NULL, SRC0, 1);
    assert_int_equal(val(c, "penalty.amount_vnd", "2018-Q1", METRICS_QUARTER, NULL), 10500);
    assert_int_equal(val(c, "penalty.amount_vnd", "2018-Q1", METRICS_CUMULATIVE, NULL), 10900);
    counts_destroy(c);
}

static void test_distinct_counts_the_union_of_members(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    put(c, "rating.units", "2017-Q4", "A", 1, NULL, SRC0, 1);
    put(c, "rating.units", "2017-Q4", "B", 1, NULL, SRC0, 1);
    put(c, "rating.units", "2017-Q4", "A", 1, NULL, SRC0, 1);
    put(c, "rating.units", "2018-Q1", "B", 1, NULL, SRC1, 1);
    put(c, "rating.units", "2018-Q1", "C", 1, NULL, SRC0, 1);
    assert_int_equal(val(c, "rating.units", "2017-Q4", METRICS_CUMULATIVE, NULL), 2);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_QUARTER, NULL), 2);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_CUMULATIVE, NULL), 3);
    counts_destroy(c);
}

static void test_two_sources_are_summed(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC0, 1);
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC1, 1);
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC1, 1);
    assert_int_equal(counts_size(c), 2);
    assert_int_equal(val(c, "press.briefings", "2018-Q1", METRICS_QUARTER, NULL), 3);
    counts_destroy(c);
}

static void test_forget_src_drops_only_that_partition(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC0, 1);
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC1, 1);
    put(c, "press.briefings", "2017-Q4", "", 1, NULL, SRC1, 1);
    put(c, "rating.units", "2018-Q1", "A", 1, NULL, SRC1, 1);
    assert_int_equal(counts_forget_src(c, SRC1), 3);
    assert_int_equal(counts_size(c), 1);
    assert_int_equal(val(c, "press.briefings", "2018-Q1", METRICS_CUMULATIVE, NULL), 1);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_CUMULATIVE, NULL), 0);
    assert_int_equal(counts_forget_src(c, "docbus.events:9"), 0);
    /* the forgotten records were dirty: none is produced any more */
    assert_int_equal(counts_dirty_count(c), 1);
    counts_destroy(c);
}

static void test_dims_filter_and_breakdown(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    counts_bucket_t *b;
    size_t n;
    put(c, "docs.received", "2018-Q1", "to[].code=B", 1, NULL, SRC0, 1);
    put(c, "docs.received", "2018-Q1", "to[].code=C", 1, NULL, SRC0, 1);
    put(c, "docs.received", "2018-Q1", "to[].code=C", 1, NULL, SRC1, 1);
    put(c, "docs.received", "2018-Q1", "to[].code=A%2CX", 1, NULL, SRC0, 1);
    put(c, "docs.received", "2017-Q4", "to[].code=B", 5, NULL, SRC0, 1);
    assert_int_equal(val(c, "docs.received", "2018-Q1", METRICS_QUARTER, "to[].code=C"), 2);
    assert_int_equal(val(c, "docs.received", "2018-Q1", METRICS_QUARTER, "to[].code=Z"), 0);
    assert_int_equal(val(c, "docs.received", "2018-Q1", METRICS_QUARTER, NULL), 4);
    assert_int_equal(counts_breakdown(c, "docs.received", Q("2018-Q1"), METRICS_QUARTER,
                                      "to[].code", &b, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(b[0].value, "C");
    assert_int_equal(b[0].n, 2);
    assert_string_equal(b[1].value, "A,X");  /* unescaped; ties sorted by value */
    assert_string_equal(b[2].value, "B");
    counts_buckets_free(b, n);
    assert_int_equal(counts_breakdown(c, "docs.received", Q("2018-Q1"), METRICS_CUMULATIVE,
                                      "to[].code", &b, &n), 0);
    assert_string_equal(b[0].value, "B");
    assert_int_equal(b[0].n, 6);
    counts_buckets_free(b, n);
    counts_destroy(c);
}

static void test_list_keeps_latest_version_per_item(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    json_t *items;
    put(c, "appendix.tasks", "2018-Q1", "T1", 2000, "{\"id\":\"T1\",\"progress\":\"new\"}", SRC1, 1);
    put(c, "appendix.tasks", "2018-Q1", "T1", 1000, "{\"id\":\"T1\",\"progress\":\"old\"}", SRC0, 1);
    put(c, "appendix.tasks", "2018-Q1", "T0", 3000, "{\"id\":\"T0\",\"progress\":\"x\"}", SRC0, 1);
    put(c, "appendix.tasks", "2018-Q1", "T0", 2500, "{\"id\":\"T0\",\"progress\":\"older\"}", SRC0, 1);
    assert_int_equal(val(c, "appendix.tasks", "2018-Q1", METRICS_QUARTER, NULL), 2);
    assert_int_equal(counts_list(c, "appendix.tasks", Q("2018-Q1"), METRICS_QUARTER, &items), 0);
    assert_int_equal(json_array_size(items), 2);
    /* sorted by fact time: T1 (2000) before T0 (3000) */
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "progress")), "new");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "progress")), "x");
    json_decref(items);
    assert_int_equal(counts_list(c, "appendix.tasks", Q("2018-Q2"), METRICS_QUARTER, &items), 0);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    counts_destroy(c);
}

static void test_apply_rejects_bad_facts_and_overflow(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    char err[256];
    metrics_fact_t f = {.metric = metrics_find(M, "penalty.amount_vnd"), .quarter = Q("2018-Q1"),
                        .dims = "", .delta = INT64_MAX};
    assert_int_equal(counts_apply(c, M, &f, SRC0, 1, err, sizeof err), 0);
    f.delta = 1;
    assert_int_equal(counts_apply(c, M, &f, SRC0, 1, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "overflow"));
    assert_int_equal(val(c, "penalty.amount_vnd", "2018-Q1", METRICS_QUARTER, NULL), INT64_MAX);
    assert_int_equal(counts_apply(c, M, &f, "a|b", 1, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(counts_apply(c, M, &f, "", 1, err, sizeof err), DB_ERR_INVALID);
    f.metric = 999;
    assert_int_equal(counts_apply(c, M, &f, SRC0, 1, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(counts_size(c), 1);
    counts_destroy(c);
}

/* ---------- records ---------- */

static void test_dirty_tracks_changed_records_once(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC0, 1);
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC0, 2);
    assert_int_equal(counts_dirty_count(c), 1);
    counts_clear_dirty(c);
    assert_int_equal(counts_dirty_count(c), 0);
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC0, 3);
    put(c, "press.briefings", "2018-Q2", "", 1, NULL, SRC0, 3);
    assert_int_equal(counts_dirty_count(c), 2);
    counts_destroy(c);
}

typedef struct recs {
    int n;
    char key[64][512];
    char value[64][1024];
} recs_t;

static int grab(const char *key, size_t klen, const char *value, size_t vlen, void *opaque)
{
    recs_t *r = opaque;
    assert_true(r->n < 64 && klen < 512 && vlen < 1024);
    memcpy(r->key[r->n], key, klen);
    r->key[r->n][klen] = '\0';
    memcpy(r->value[r->n], value, vlen);
    r->value[r->n][vlen] = '\0';
    r->n++;
    return 0;
}

static void test_record_format(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    recs_t r = {0};
    put(c, "docs.sent", "2018-Q1", "from.code=000.00.00.H29", 1, NULL, "docbus.inbox.X:3", 1519000000000);
    put(c, "rating.units", "2018-Q1", "U%2C1", 1, NULL, SRC0, 7);
    assert_int_equal(counts_dirty_foreach(c, grab, &r), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.key[0], "docs.sent|2018-Q1|from.code=000.00.00.H29|docbus.inbox.X:3");
    json_t *v = json_loads(r.value[0], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(v, "metric")), "docs.sent");
    assert_string_equal(json_string_value(json_object_get(v, "quarter")), "2018-Q1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "dims"), "from.code")),
                        "000.00.00.H29");
    assert_int_equal(json_integer_value(json_object_get(v, "value")), 1);
    assert_string_equal(json_string_value(json_object_get(v, "src")), "docbus.inbox.X:3");
    assert_int_equal(json_integer_value(json_object_get(v, "updated_at")), 1519000000000);
    json_decref(v);
    assert_string_equal(r.key[1], "rating.units|2018-Q1|U%2C1|" SRC0);
    v = json_loads(r.value[1], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(v, "member")), "U,1");
    assert_null(json_object_get(v, "dims"));
    json_decref(v);
    /* the record's text is kept between transactions; only value and updated_at change */
    assert_string_equal(r.value[0], "{\"metric\":\"docs.sent\",\"quarter\":\"2018-Q1\",\"dims\":"
                        "{\"from.code\":\"000.00.00.H29\"},\"value\":1,\"src\":\"docbus.inbox.X:3\","
                        "\"updated_at\":1519000000000}");
    counts_clear_dirty(c);
    put(c, "docs.sent", "2018-Q1", "from.code=000.00.00.H29", 41, NULL, "docbus.inbox.X:3", 1519000000999);
    r.n = 0;
    assert_int_equal(counts_dirty_foreach(c, grab, &r), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.value[0], "{\"metric\":\"docs.sent\",\"quarter\":\"2018-Q1\",\"dims\":"
                        "{\"from.code\":\"000.00.00.H29\"},\"value\":42,\"src\":\"docbus.inbox.X:3\","
                        "\"updated_at\":1519000000999}");
    counts_destroy(c);
}

/* The record text is written directly; it must be what jansson dumps for the same
 * value, escapes included (quote, backslash, control characters, non-ASCII). */
static void test_record_text_escapes_like_jansson(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    recs_t r = {0};
    put(c, "docs.sent", "2018-Q1", "from.code=a%22b%5Cc%0Ad%09e%01f%7F%E1%BA%A1", 1, NULL,
        "docbus.inbox.\"X\":3", 5);
    put(c, "rating.units", "2018-Q2", "%08%0C%0D%1F/%E1%BA%A1", 2, NULL, SRC0, 6);
    assert_int_equal(counts_dirty_foreach(c, grab, &r), 0);
    assert_int_equal(r.n, 2);
    for (int i = 0; i < 2; i++) {
        json_error_t jerr;
        json_t *v = json_loads(r.value[i], 0, &jerr);
        if (!v)
            fail_msg("record %d is not JSON (%s): %s", i, jerr.text, r.value[i]);
        char *again = json_dumps(v, JSON_COMPACT);
        assert_string_equal(r.value[i], again);
        free(again);
        json_decref(v);
    }
    assert_non_null(strstr(r.value[0], "\"a\\\"b\\\\c\\nd\\te\\u0001f\x7fạ\""));
    assert_non_null(strstr(r.value[1], "\"member\":\"\\b\\f\\r\\u001F/ạ\""));
    counts_destroy(c);
}

static int count_visit(const char *key, size_t klen, int64_t value, const char *item, void *opaque)
{
    (void)key, (void)klen, (void)value, (void)item;
    (*(int *)opaque)++;
    return 0;
}

static void test_records_round_trip_into_a_fresh_table(void **state)
{
    (void)state;
    counts_t *a = counts_new(), *b = counts_new();
    recs_t r = {0}, r2 = {0};
    char err[256];
    put(a, "docs.exchanged", "2017-Q4", "", 3, NULL, SRC0, 10);
    put(a, "docs.exchanged", "2018-Q1", "", 4, NULL, SRC1, 11);
    put(a, "penalty.amount_vnd", "2018-Q1", "", 189000000, NULL, SRC0, 12);
    put(a, "rating.units", "2018-Q1", "A", 1, NULL, SRC0, 13);
    put(a, "rating.units", "2017-Q4", "B", 1, NULL, SRC1, 14);
    put(a, "docs.received", "2018-Q1", "to[].code=B", 2, NULL, SRC0, 15);
    put(a, "appendix.highlights", "2018-Q1", "U,h1", 5000,
        "{\"id\":\"U,h1\",\"title\":\"Đường sách\",\"start_date\":\"2018-02-13\"}", SRC0, 16);
    assert_int_equal(counts_dirty_foreach(a, grab, &r), 0);
    assert_int_equal(r.n, 7);
    for (int i = 0; i < r.n; i++)
        if (counts_load_record(b, r.key[i], strlen(r.key[i]), r.value[i], strlen(r.value[i]), err,
                               sizeof err) != 0)
            fail_msg("load %s: %s", r.key[i], err);
    assert_int_equal(counts_size(b), 7);
    assert_int_equal(counts_dirty_count(b), 0);
    static const char *const ids[] = {"docs.exchanged", "penalty.amount_vnd", "rating.units",
                                      "docs.received", "appendix.highlights"};
    for (size_t i = 0; i < 5; i++) {
        for (int w = 0; w < 2; w++) {
            assert_int_equal(val(a, ids[i], "2018-Q1", (metrics_window_t)w, NULL),
                             val(b, ids[i], "2018-Q1", (metrics_window_t)w, NULL));
            assert_int_equal(counts_last_changed(a, ids[i], Q("2018-Q1"), (metrics_window_t)w),
                             counts_last_changed(b, ids[i], Q("2018-Q1"), (metrics_window_t)w));
        }
    }
    assert_int_equal(val(b, "rating.units", "2018-Q1", METRICS_CUMULATIVE, NULL), 2);
    assert_int_equal(val(b, "docs.exchanged", "2018-Q1", METRICS_CUMULATIVE, NULL), 7);
    /* every loaded record is found by its key with the value and item written */
    int visited = 0;
    assert_int_equal(counts_values(b, count_visit, &visited), 0);
    assert_int_equal(visited, 7);
    visited = 0;
    assert_int_equal(counts_dirty_values(b, count_visit, &visited), 0);
    assert_int_equal(visited, 0);
    for (int i = 0; i < r.n; i++) {
        int64_t va, vb;
        const char *ia, *ib;
        assert_int_equal(counts_get(a, r.key[i], strlen(r.key[i]), &va, &ia), 1);
        assert_int_equal(counts_get(b, r.key[i], strlen(r.key[i]), &vb, &ib), 1);
        assert_int_equal(va, vb);
        assert_true(ia == ib || (ia && ib && !strcmp(ia, ib)));
    }
    int64_t v5;
    const char *i5;
    assert_int_equal(counts_get(b, "appendix.highlights|2018-Q1|U,h1|" SRC0,
                                strlen("appendix.highlights|2018-Q1|U,h1|" SRC0), &v5, &i5), 1);
    assert_int_equal(v5, 5000);
    assert_string_equal(i5, "{\"id\":\"U,h1\",\"title\":\"Đường sách\",\"start_date\":\"2018-02-13\"}");
    assert_int_equal(counts_get(b, "docs.exchanged|2018-Q2||" SRC0,
                                strlen("docs.exchanged|2018-Q2||" SRC0), &v5, &i5), 0);
    /* the reloaded table writes the same records */
    put(b, "docs.exchanged", "2018-Q1", "", 0, NULL, SRC1, 11);
    assert_int_equal(counts_dirty_foreach(b, grab, &r2), 0);
    assert_int_equal(r2.n, 1);
    assert_string_equal(r2.key[0], "docs.exchanged|2018-Q1||" SRC1);
    assert_string_equal(r2.value[0], r.value[1]);
    /* and keeps counting from the loaded value */
    put(b, "rating.units", "2018-Q1", "A", 1, NULL, SRC0, 20);
    put(b, "rating.units", "2018-Q1", "Z", 1, NULL, SRC0, 20);
    assert_int_equal(val(b, "rating.units", "2018-Q1", METRICS_CUMULATIVE, NULL), 3);
    counts_destroy(a);
    counts_destroy(b);
}

static void test_tombstone_removes_the_record(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    char err[256];
    const char *k = "press.briefings|2018-Q1||" SRC0;
    put(c, "press.briefings", "2018-Q1", "", 4, NULL, SRC0, 1);
    assert_int_equal(counts_load_record(c, k, strlen(k), NULL, 0, err, sizeof err), 0);
    assert_int_equal(counts_size(c), 0);
    assert_int_equal(counts_dirty_count(c), 0);
    assert_int_equal(val(c, "press.briefings", "2018-Q1", METRICS_QUARTER, NULL), 0);
    /* a tombstone for an unknown record is harmless */
    assert_int_equal(counts_load_record(c, k, strlen(k), NULL, 0, err, sizeof err), 0);
    counts_destroy(c);
}

/* The index through growth and removals: 30,000 records, every third removed by a
 * tombstone (moving the last record into its place and shifting probe runs back); each
 * survivor is still found with its own value, no removed one is. */
static void test_index_survives_growth_and_removals(void **state)
{
    (void)state;
    enum { N = 30000 };
    counts_t *c = counts_new();
    char key[128], err[256];
    int64_t v;
    const char *item;
    for (int i = 0; i < N; i++) {
        char src[32];
        snprintf(src, sizeof src, "t%d:%d", i % 97, i);
        put(c, "press.briefings", "2018-Q1", "", i + 1, NULL, src, 1);
    }
    assert_int_equal(counts_size(c), N);
    for (int i = 0; i < N; i += 3) {
        snprintf(key, sizeof key, "press.briefings|2018-Q1||t%d:%d", i % 97, i);
        assert_int_equal(counts_load_record(c, key, strlen(key), NULL, 0, err, sizeof err), 0);
    }
    assert_int_equal(counts_size(c), N - (N + 2) / 3);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "press.briefings|2018-Q1||t%d:%d", i % 97, i);
        int found = counts_get(c, key, strlen(key), &v, &item);
        if (found != (i % 3 != 0) || (found && v != i + 1))
            fail_msg("record %d: found %d value %lld", i, found, (long long)(found ? v : 0));
    }
    counts_destroy(c);
}

/* counts_series gives, quarter by quarter and for every metric of the file, what
 * counts_value gives for both windows: counts and sums from one pass (records before the
 * first quarter and after the last included or not as they should), distinct members
 * and lists through counts_value. */
static void test_series_equal_values(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    const char *qs[] = {"2016-Q2", "2017-Q3", "2017-Q4", "2018-Q1", "2018-Q3", "2019-Q1"};
    int64_t quarter[8], cumulative[8];
    for (int k = 0; k < 6; k++) {
        put(c, "docs.exchanged", qs[k], "", k + 1, NULL, k % 2 ? SRC0 : SRC1, 1);
        put(c, "penalty.amount_vnd", qs[k], "", 1000 * (k + 1), NULL, SRC0, 1);
        put(c, "rating.units", qs[k], k % 2 ? "A" : "B", 1, NULL, SRC0, 1);
        put(c, "rating.units", qs[k], "C", 1, NULL, SRC1, 1);
    }
    for (int i = 0; i < metrics_count(M); i++) {
        const char *id = metrics_id(M, i);
        counts_series(c, M, id, Q("2017-Q1"), 8, quarter, cumulative);
        for (int k = 0; k < 8; k++) {
            assert_int_equal(quarter[k], counts_value(c, M, id, Q("2017-Q1") + k, METRICS_QUARTER, NULL));
            assert_int_equal(cumulative[k],
                             counts_value(c, M, id, Q("2017-Q1") + k, METRICS_CUMULATIVE, NULL));
        }
    }
    /* without the cumulative series: the same quarters */
    int64_t again[8];
    counts_series(c, M, "rating.units", Q("2017-Q1"), 8, again, NULL);
    for (int k = 0; k < 8; k++)
        assert_int_equal(again[k], counts_value(c, M, "rating.units", Q("2017-Q1") + k,
                                                METRICS_QUARTER, NULL));
    /* the data is really there: 2016-Q2 counts before the series, 2019-Q1 after it */
    counts_series(c, M, "docs.exchanged", Q("2017-Q1"), 8, quarter, cumulative);
    assert_int_equal(cumulative[0], 1);
    assert_int_equal(cumulative[7], 1 + 2 + 3 + 4 + 5);
    counts_destroy(c);
}

static void expect_bad_record(const char *key, const char *value, const char *want)
{
    counts_t *c = counts_new();
    char err[256];
    assert_int_equal(counts_load_record(c, key, strlen(key), value, value ? strlen(value) : 0, err,
                                        sizeof err), DB_ERR_INVALID);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_int_equal(counts_size(c), 0);
    counts_destroy(c);
}

static void test_bad_records_are_refused(void **state)
{
    (void)state;
    const char *good = "{\"metric\":\"press.briefings\",\"quarter\":\"2018-Q1\",\"dims\":{},"
                       "\"value\":3,\"src\":\"" SRC0 "\",\"updated_at\":1}";
    expect_bad_record("press.briefings|2018-Q1|" SRC0, good, "key is not");
    expect_bad_record("press.briefings|2018-Q9||" SRC0, good, "bad quarter");
    expect_bad_record("press.briefings|2018-Q2||" SRC0, good, "differ from the key");
    expect_bad_record("press.briefings|2018-Q1||" SRC1, good, "differ from the key");
    expect_bad_record("press.briefings|2018-Q1|a=b|" SRC0, good, "dims, member or item");
    expect_bad_record("press.briefings|2018-Q1||" SRC0, "not json", "not a JSON object");
    expect_bad_record("press.briefings|2018-Q1||" SRC0,
                      "{\"metric\":\"press.briefings\",\"quarter\":\"2018-Q1\",\"dims\":{},"
                      "\"value\":-3,\"src\":\"" SRC0 "\",\"updated_at\":1}", "negative");
}

static void test_many_records_survive_growth_and_deletion(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    char dims[64];
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        snprintf(dims, sizeof dims, "from.code=U%d", i);
        put(c, "docs.sent", "2018-Q1", dims, i + 1, NULL, i % 2 ? SRC1 : SRC0, 1);
    }
    assert_int_equal(counts_size(c), N);
    assert_int_equal(counts_forget_src(c, SRC0), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(dims, sizeof dims, "from.code=U%d", i);
        assert_int_equal(val(c, "docs.sent", "2018-Q1", METRICS_QUARTER, dims), i % 2 ? i + 1 : 0);
    }
    /* every survivor is still found by key: applying again does not add records */
    for (int i = 1; i < N; i += 2) {
        snprintf(dims, sizeof dims, "from.code=U%d", i);
        put(c, "docs.sent", "2018-Q1", dims, 1, NULL, SRC1, 2);
    }
    assert_int_equal(counts_size(c), N / 2);
    assert_int_equal(counts_dirty_count(c), N / 2);
    counts_destroy(c);
}

/* Queries between changes: the per-metric grouping the queries use must follow every
 * add, removal and newly seen metric. */
static void test_queries_follow_changes_between_them(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    put(c, "press.briefings", "2018-Q1", "", 2, NULL, SRC0, 1);
    assert_int_equal(val(c, "press.briefings", "2018-Q1", METRICS_QUARTER, NULL), 2);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_QUARTER, NULL), 0);
    put(c, "rating.units", "2018-Q1", "A", 1, NULL, SRC1, 1);
    put(c, "rating.units", "2018-Q1", "B", 1, NULL, SRC0, 1);
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC1, 1);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_QUARTER, NULL), 2);
    assert_int_equal(val(c, "press.briefings", "2018-Q1", METRICS_QUARTER, NULL), 3);
    /* the removal moves the last record into a freed place */
    assert_int_equal(counts_forget_src(c, SRC0), 2);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_QUARTER, NULL), 1);
    assert_int_equal(val(c, "press.briefings", "2018-Q1", METRICS_QUARTER, NULL), 1);
    put(c, "press.briefings", "2018-Q2", "", 5, NULL, SRC0, 2);
    assert_int_equal(val(c, "press.briefings", "2018-Q2", METRICS_CUMULATIVE, NULL), 6);
    assert_int_equal(counts_last_changed(c, "press.briefings", Q("2018-Q2"), METRICS_CUMULATIVE), 2);
    counts_destroy(c);
}

static void test_quarters_lists_quarters_with_data(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    quarter_t *qs;
    size_t n;
    put(c, "press.briefings", "2018-Q1", "", 1, NULL, SRC0, 1);
    put(c, "press.briefings", "2017-Q3", "", 1, NULL, SRC0, 1);
    put(c, "rating.units", "2018-Q1", "A", 1, NULL, SRC0, 1);
    assert_int_equal(counts_quarters(c, &qs, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(qs[0], Q("2017-Q3"));
    assert_int_equal(qs[1], Q("2018-Q1"));
    free(qs);
    counts_destroy(c);
}

/* ---------- report ---------- */

static const char *unit_name(void *opaque, const char *code)
{
    (void)opaque;
    return strcmp(code, "000.00.00.H29") == 0 ? "Sở Thông tin và Truyền thông" : NULL;
}

static void test_report_on_empty_table_has_every_figure_at_zero(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    json_t *r;
    char err[256];
    assert_int_equal(counts_report(c, M, NULL, NULL, Q("2018-Q1"), 4, &r, err, sizeof err), 0);
    json_t *figs = json_object_get(r, "figures");
    for (int i = 0; i < metrics_count(M); i++) {
        if (metrics_kind(M, i) == METRICS_LIST)
            continue;
        json_t *f = json_object_get(figs, metrics_id(M, i));
        if (!f)
            fail_msg("figure %s missing", metrics_id(M, i));
        assert_int_equal(json_integer_value(json_object_get(f, "value")), 0);
        assert_int_equal(json_array_size(json_object_get(f, "series")), 4);
        assert_true(json_is_null(json_object_get(f, "last_changed")));
    }
    assert_true(json_is_false(json_object_get(r, "has_data")));
    assert_string_equal(json_string_value(json_object_get(r, "quarter_vi")), "Quý I/2018");
    assert_int_equal(json_array_size(json_object_get(r, "tasks")), 0);
    json_decref(r);
    counts_destroy(c);
}

static void test_report_model(void **state)
{
    (void)state;
    counts_t *c = counts_new();
    json_t *r;
    char err[256];
    put(c, "mail.mailboxes", "2017-Q3", "", 20000, NULL, SRC0, 1);
    put(c, "mail.mailboxes", "2018-Q1", "", 1850, NULL, SRC1, 1520000000000);
    put(c, "penalty.decisions", "2018-Q1", "detail.sector=INTERNET", 8, NULL, SRC0, 1);
    put(c, "penalty.decisions", "2018-Q1", "detail.sector=PRESS", 5, NULL, SRC0, 1);
    put(c, "docs.sent", "2018-Q1", "from.code=000.00.00.H29", 30, NULL, SRC0, 1);
    put(c, "docs.sent", "2018-Q1", "from.code=000.00.09.H29", 50, NULL, SRC0, 1);
    put(c, "appendix.highlights", "2018-Q1", "U,h1", 5000, "{\"id\":\"U,h1\",\"title\":\"A\"}", SRC0, 1);
    assert_int_equal(counts_report(c, M, unit_name, NULL, Q("2018-Q1"), 4, &r, err, sizeof err), 0);
    json_t *figs = json_object_get(r, "figures");
    json_t *mail = json_object_get(figs, "mail.mailboxes");
    assert_int_equal(json_integer_value(json_object_get(mail, "value")), 21850);
    assert_int_equal(json_integer_value(json_object_get(mail, "quarter_value")), 1850);
    assert_int_equal(json_integer_value(json_object_get(mail, "round")), 100);
    assert_string_equal(json_string_value(json_object_get(mail, "window")), "cumulative");
    assert_string_equal(json_string_value(json_object_get(mail, "kind")), "sum");
    json_t *series = json_object_get(mail, "series");
    assert_int_equal(json_array_size(series), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(series, 0), "quarter")), "2017-Q2");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(series, 0), "value")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(series, 1), "value")), 20000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(series, 2), "value")), 20000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(series, 3), "value")), 21850);
    /* 1520000000000 ms = 2018-03-02T21:13:20+07:00 */
    assert_string_equal(json_string_value(json_object_get(mail, "last_changed")),
                        "2018-03-02T21:13:20+07:00");
    assert_null(json_object_get(mail, "by"));
    json_t *pen = json_object_get(figs, "penalty.decisions");
    assert_int_equal(json_integer_value(json_object_get(pen, "value")), 13);
    json_t *by = json_object_get(json_object_get(pen, "by"), "detail.sector");
    assert_int_equal(json_integer_value(json_object_get(by, "INTERNET")), 8);
    assert_int_equal(json_integer_value(json_object_get(by, "PRESS")), 5);
    assert_null(json_object_get(pen, "round"));
    json_t *sent = json_object_get(json_object_get(r, "top_units"), "sent");
    assert_int_equal(json_array_size(sent), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(sent, 0), "unit")), "000.00.09.H29");
    assert_true(json_is_null(json_object_get(json_array_get(sent, 0), "name")));  /* unknown */
    assert_string_equal(json_string_value(json_object_get(json_array_get(sent, 1), "name")),
                        "Sở Thông tin và Truyền thông");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sent, 1), "value")), 30);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "top_units"), "received")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "highlights")), 1);
    assert_null(json_object_get(figs, "appendix.highlights"));
    assert_true(json_is_true(json_object_get(r, "has_data")));
    json_decref(r);
    counts_destroy(c);
}

/* ---------- eval + apply, end to end and throughput ---------- */

typedef struct sink {
    counts_t *c;
    const char *src;
    int64_t facts;
} sink_t;

static int sink_fact(const metrics_fact_t *f, void *opaque)
{
    sink_t *s = opaque;
    char err[256];
    s->facts++;
    return counts_apply(s->c, M, f, s->src, 1, err, sizeof err);
}

static void body_new(const char *file, avro_schema_t *s, avro_value_iface_t **iface, avro_value_t *v)
{
    const char *text = NULL;
    for (const struct embedded_schema *e = embedded_schemas; e->file; e++)
        if (!strcmp(e->file, file))
            text = e->json;
    assert_non_null(text);
    assert_int_equal(avro_schema_from_json_length(text, strlen(text), s), 0);
    *iface = avro_generic_class_from_schema(*s);
    assert_int_equal(avro_generic_value_new(*iface, v), 0);
}

static void test_eval_and_apply_throughput(void **state)
{
    (void)state;
    avro_schema_t s;
    avro_value_iface_t *iface;
    avro_value_t doc, f, el;
    counts_t *c = counts_new();
    sink_t sink = {c, "docbus.inbox.x:0", 0};
    char err[256], code[32];
    int32_t day0;
    enum { UNITS = 300, N = 300000 };

    assert_int_equal(vn_date_parse("2018-01-01", &day0, err, sizeof err), 0);
    body_new("document.avsc", &s, &iface, &doc);
    struct timespec t0, t1;
    double secs = 0;
    for (int i = 0; i < N; i++) {
        /* a fresh document per message: sender, two recipients, date and type vary */
        avro_value_reset(&doc);
        avro_value_get_by_name(&doc, "from", &f, NULL);
        avro_value_get_by_name(&f, "code", &el, NULL);
        snprintf(code, sizeof code, "000.00.%03d.H29", i % UNITS);
        avro_value_set_string(&el, code);
        avro_value_get_by_name(&doc, "to", &f, NULL);
        for (int k = 1; k <= 2; k++) {
            avro_value_t org, cv;
            avro_value_append(&f, &org, NULL);
            avro_value_get_by_name(&org, "code", &cv, NULL);
            snprintf(code, sizeof code, "000.00.%03d.H29", (i + k * 7) % UNITS);
            avro_value_set_string(&cv, code);
        }
        avro_value_get_by_name(&doc, "promulgation_date", &f, NULL);
        avro_value_set_int(&f, day0 + i % 180);
        avro_value_get_by_name(&doc, "document_type", &f, NULL);
        avro_value_set_enum(&f, i % 9);
        clock_gettime(CLOCK_MONOTONIC, &t0);  /* time eval + apply only, not building */
        if (metrics_eval(M, BODY_DOCUMENT, &doc, sink_fact, &sink, err, sizeof err) != 0)
            fail_msg("eval: %s", err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        secs += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
    /* docs.exchanged + docs.sent + docs.by_type + 2 x docs.received per document */
    assert_int_equal(sink.facts, (int64_t)N * 5);
    assert_int_equal(val(c, "docs.exchanged", "2018-Q2", METRICS_CUMULATIVE, NULL), N);
    assert_int_equal(val(c, "docs.received", "2018-Q2", METRICS_CUMULATIVE, NULL), 2 * N);
    fprintf(stderr, "    eval+apply: %d documents, %lld facts in %.3f s: %.0f facts/s, "
            "%.0f messages/s (records: %zu)\n", N, (long long)sink.facts, secs,
            (double)sink.facts / secs, N / secs, counts_size(c));
    avro_value_decref(&doc);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);

    /* rating events: every event metric is tried, two match (rating.device, rating.units) */
    int64_t ms0, facts0 = sink.facts;
    assert_int_equal(vn_time_parse("2018-01-01T08:00:00", &ms0, err, sizeof err), 0);
    body_new("event.avsc", &s, &iface, &doc);
    secs = 0;
    for (int i = 0; i < N; i++) {
        avro_value_t d, ch;
        avro_value_reset(&doc);
        avro_value_get_by_name(&doc, "unit", &f, NULL);
        snprintf(code, sizeof code, "000.00.%03d.H29", i % 42);
        avro_value_set_string(&f, code);
        avro_value_get_by_name(&doc, "occurred_at", &f, NULL);
        avro_value_set_long(&f, ms0 + (int64_t)i * 20000);
        avro_value_get_by_name(&doc, "detail", &f, NULL);
        avro_value_set_branch(&f, 1, &d);  /* Rating */
        avro_value_get_by_name(&d, "channel", &ch, NULL);
        avro_value_set_enum(&ch, i % 10 == 0);  /* 1 in 10 on the web */
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (metrics_eval(M, BODY_EVENT, &doc, sink_fact, &sink, err, sizeof err) != 0)
            fail_msg("eval: %s", err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        secs += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
    assert_int_equal(sink.facts - facts0, (int64_t)N * 2);
    assert_int_equal(val(c, "rating.web", "2018-Q1", METRICS_CUMULATIVE, NULL), N / 10);
    assert_int_equal(val(c, "rating.units", "2018-Q1", METRICS_CUMULATIVE, NULL), 42);
    fprintf(stderr, "    eval+apply: %d rating events, %lld facts in %.3f s: %.0f facts/s, "
            "%.0f messages/s\n", N, (long long)(sink.facts - facts0), secs,
            (double)(sink.facts - facts0) / secs, N / secs);
    avro_value_decref(&doc);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
    counts_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_quarter_and_cumulative_over_three_quarters),
        cmocka_unit_test(test_sum_adds_the_field),
        cmocka_unit_test(test_distinct_counts_the_union_of_members),
        cmocka_unit_test(test_two_sources_are_summed),
        cmocka_unit_test(test_forget_src_drops_only_that_partition),
        cmocka_unit_test(test_dims_filter_and_breakdown),
        cmocka_unit_test(test_list_keeps_latest_version_per_item),
        cmocka_unit_test(test_apply_rejects_bad_facts_and_overflow),
        cmocka_unit_test(test_dirty_tracks_changed_records_once),
        cmocka_unit_test(test_record_format),
        cmocka_unit_test(test_record_text_escapes_like_jansson),
        cmocka_unit_test(test_records_round_trip_into_a_fresh_table),
        cmocka_unit_test(test_tombstone_removes_the_record),
        cmocka_unit_test(test_index_survives_growth_and_removals),
        cmocka_unit_test(test_series_equal_values),
        cmocka_unit_test(test_bad_records_are_refused),
        cmocka_unit_test(test_many_records_survive_growth_and_deletion),
        cmocka_unit_test(test_queries_follow_changes_between_them),
        cmocka_unit_test(test_quarters_lists_quarters_with_data),
        cmocka_unit_test(test_report_on_empty_table_has_every_figure_at_zero),
        cmocka_unit_test(test_report_model),
        cmocka_unit_test(test_eval_and_apply_throughput),
    };
    return cmocka_run_group_tests_name("counts", tests, setup, teardown);
}
