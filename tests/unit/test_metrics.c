/* test_metrics.c - schemas/metrics.json loads, covers every report figure, and
 * metrics_eval turns bodies into the right facts (kinds, dims, lists, bad values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "error.h"
#include "metrics.h"
#include "quarter.h"
#include "schemas_embedded.h"

#define METRICS_FILE "schemas/metrics.json"  /* tests run from the repository top */

/* ---------- building bodies with Avro-C ---------- */

typedef struct body {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t v;
} body_t;

static void body_new(body_t *b, const char *file)
{
    const char *text = NULL;
    for (const struct embedded_schema *e = embedded_schemas; e->file; e++)
        if (!strcmp(e->file, file))
            text = e->json;
    assert_non_null(text);
    assert_int_equal(avro_schema_from_json_length(text, strlen(text), &b->schema), 0);
    assert_non_null(b->iface = avro_generic_class_from_schema(b->schema));
    assert_int_equal(avro_generic_value_new(b->iface, &b->v), 0);
}

static void body_free(body_t *b)
{
    avro_value_decref(&b->v);
    avro_value_iface_decref(b->iface);
    avro_schema_decref(b->schema);
}

static avro_value_t field(avro_value_t *rec, const char *name)
{
    avro_value_t f;
    assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
    return f;
}

static void set_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f = field(rec, name);
    assert_int_equal(avro_value_set_string(&f, s), 0);
}

static void set_long(avro_value_t *rec, const char *name, int64_t x)
{
    avro_value_t f = field(rec, name);
    assert_int_equal(avro_value_set_long(&f, x), 0);
}

static void set_int(avro_value_t *rec, const char *name, int32_t x)
{
    avro_value_t f = field(rec, name);
    assert_int_equal(avro_value_set_int(&f, x), 0);
}

static void set_enum(avro_value_t *rec, const char *name, const char *sym)
{
    avro_value_t f = field(rec, name);
    int i = avro_schema_enum_get_by_name(avro_value_get_schema(&f), sym);
    assert_true(i >= 0);
    assert_int_equal(avro_value_set_enum(&f, i), 0);
}

/* Sets union field name to the branch called branch; returns the branch value. */
static avro_value_t set_branch(avro_value_t *rec, const char *name, const char *branch)
{
    avro_value_t u = field(rec, name), b;
    int idx = -1;
    assert_non_null(avro_schema_union_branch_by_name(avro_value_get_schema(&u), &idx, branch));
    assert_int_equal(avro_value_set_branch(&u, idx, &b), 0);
    return b;
}

static int64_t vn_ms(const char *s)
{
    int64_t ms;
    char err[128];
    assert_int_equal(vn_time_parse(s, &ms, err, sizeof err), 0);
    return ms;
}

static int32_t vn_days(const char *s)
{
    int32_t d;
    char err[128];
    assert_int_equal(vn_date_parse(s, &d, err, sizeof err), 0);
    return d;
}

/* An Event of unit at Vietnam time when, detail set to branch (returned). */
static avro_value_t event(body_t *b, const char *id, const char *unit, const char *when,
                          const char *branch)
{
    body_new(b, "event.avsc");
    set_str(&b->v, "event_id", id);
    set_str(&b->v, "unit", unit);
    set_long(&b->v, "occurred_at", vn_ms(when));
    return set_branch(&b->v, "detail", branch);
}

/* A Document from sender to the n recipients, dated date. */
static void document(body_t *b, const char *from, const char *const *to, int n, const char *date,
                     const char *type)
{
    avro_value_t org, arr = {0}, el;
    body_new(b, "document.avsc");
    set_str(&b->v, "doc_id", "x");
    org = field(&b->v, "from");
    set_str(&org, "code", from);
    arr = field(&b->v, "to");
    for (int i = 0; i < n; i++) {
        assert_int_equal(avro_value_append(&arr, &el, NULL), 0);
        set_str(&el, "code", to[i]);
    }
    set_int(&b->v, "promulgation_date", vn_days(date));
    set_enum(&b->v, "document_type", type);
}

/* ---------- collecting facts ---------- */

typedef struct got {
    const metrics_t *m;
    int n;
    char line[64][512];   /* "id|quarter|dims|delta|member|item_id" */
    char item[8][1024];
    int nitem;
} got_t;

static int collect(const metrics_fact_t *f, void *opaque)
{
    got_t *g = opaque;
    char q[8];
    assert_true(g->n < 64);
    snprintf(g->line[g->n++], sizeof g->line[0], "%s|%s|%s|%lld|%s|%s", metrics_id(g->m, f->metric),
             quarter_format(f->quarter, q, sizeof q), f->dims, (long long)f->delta,
             f->member ? f->member : "-", f->item_id ? f->item_id : "-");
    if (f->item && g->nitem < 8)
        snprintf(g->item[g->nitem++], sizeof g->item[0], "%s", f->item);
    return 0;
}

static int has_line(const got_t *g, const char *line)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->line[i], line))
            return 1;
    return 0;
}

static int lines_of(const got_t *g, const char *id)
{
    int k = 0;
    size_t n = strlen(id);
    for (int i = 0; i < g->n; i++)
        k += !strncmp(g->line[i], id, n) && g->line[i][n] == '|';
    return k;
}

static int setup(void **state)
{
    metrics_t *m;
    char err[512];
    int rc = metrics_load(METRICS_FILE, &m, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "metrics_load: %s\n", err);
        return -1;
    }
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    metrics_destroy(*state);
    return 0;
}

static int eval(const metrics_t *m, body_type_t bt, body_t *b, got_t *g, char *err, size_t errsz)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    return metrics_eval(m, bt, &b->v, collect, g, err, errsz);
}

/* ---------- the file ---------- */

/* The 19 figure ids of /work/shared/reference/figures-2018q1.md (copied, not parsed). */
static const char *const figure_ids[] = {
    "mail.mailboxes", "docs.exchanged", "rating.units", "rating.device", "rating.web",
    "land.branches", "land.linked", "press.briefings", "press.commended", "press.propaganda",
    "inspect.conclusions", "inspect.preparing", "inspect.checked", "inspect.checked.internet",
    "inspect.checked.telecom", "inspect.checked.publishing", "inspect.checked.press",
    "penalty.decisions", "penalty.amount_vnd"};

static void test_file_has_every_figure_id(void **state)
{
    const metrics_t *m = *state;
    assert_int_equal(sizeof figure_ids / sizeof figure_ids[0], 19);
    for (size_t i = 0; i < 19; i++) {
        int mi = metrics_find(m, figure_ids[i]);
        if (mi < 0)
            fail_msg("metrics.json lacks figure id %s", figure_ids[i]);
        assert_true(metrics_kind(m, mi) != METRICS_LIST);
    }
    static const char *const helpers[] = {"docs.sent", "docs.received", "docs.by_type",
                                          "status.replies"};
    for (size_t i = 0; i < 4; i++)
        assert_true(metrics_find(m, helpers[i]) >= 0);
    assert_int_equal(metrics_kind(m, metrics_find(m, "appendix.tasks")), METRICS_LIST);
    assert_int_equal(metrics_kind(m, metrics_find(m, "appendix.highlights")), METRICS_LIST);
}

static void test_file_kinds_windows_rounds_match_the_reference(void **state)
{
    const metrics_t *m = *state;
    int i = metrics_find(m, "rating.units");
    assert_int_equal(metrics_kind(m, i), METRICS_DISTINCT);
    assert_int_equal(metrics_window(m, i), METRICS_CUMULATIVE);
    i = metrics_find(m, "mail.mailboxes");
    assert_int_equal(metrics_kind(m, i), METRICS_SUM);
    assert_int_equal(metrics_window(m, i), METRICS_CUMULATIVE);
    assert_int_equal(metrics_round(m, i), 100);
    i = metrics_find(m, "penalty.amount_vnd");
    assert_int_equal(metrics_kind(m, i), METRICS_SUM);
    assert_int_equal(metrics_window(m, i), METRICS_QUARTER);
    assert_int_equal(metrics_round(m, i), 0);
    i = metrics_find(m, "docs.received");
    assert_int_equal(metrics_dim_count(m, i), 1);
    assert_string_equal(metrics_dim_name(m, i, 0), "to[].code");
    assert_string_equal(metrics_title(m, metrics_find(m, "press.briefings")),
                        "Cuộc giao ban báo chí với lãnh đạo các cơ quan báo chí");
    assert_int_equal(metrics_find(m, "no.such.metric"), -1);
}

static void test_compiled_in_file_equals_the_repository_file(void **state)
{
    (void)state;
    const char *text = NULL;
    for (const struct embedded_schema *e = embedded_schemas; e->file; e++)
        if (!strcmp(e->file, "metrics.json"))
            text = e->json;
    if (!text)
        skip();  /* the Makefile does not embed the .json files yet */
    metrics_t *m;
    char err[512];
    assert_int_equal(metrics_load(NULL, &m, err, sizeof err), 0);
    assert_true(metrics_count(m) >= 19 + 6);
    metrics_destroy(m);
}

/* ---------- evaluation ---------- */

static void test_rating_device_counts_device_and_distinct_unit(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "r1", "000.00.01.H29", "2018-02-10T10:00:00", "Rating");
    set_enum(&d, "channel", "DEVICE");
    set_enum(&d, "level", "SATISFIED");
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 2);
    assert_true(has_line(&g, "rating.device|2018-Q1||1|-|-"));
    assert_true(has_line(&g, "rating.units|2018-Q1||1|000.00.01.H29|-"));
    assert_int_equal(lines_of(&g, "rating.web"), 0);
    body_free(&b);
}

static void test_rating_web_is_not_device(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "r2", "U1", "2018-02-10T10:00:00", "Rating");
    set_enum(&d, "channel", "WEB");
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(lines_of(&g, "rating.web"), 1);
    assert_int_equal(lines_of(&g, "rating.device"), 0);
    body_free(&b);
}

static void test_penalty_sums_amount_and_counts_by_sector(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "p1", "U1", "2018-03-01T08:00:00", "PenaltyDecision");
    set_str(&d, "decision_no", "12/QĐ-XPVPHC");
    set_enum(&d, "sector", "TELECOM");
    set_long(&d, "amount_vnd", 15000000);
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 2);
    assert_true(has_line(&g, "penalty.decisions|2018-Q1|detail.sector=TELECOM|1|-|-"));
    assert_true(has_line(&g, "penalty.amount_vnd|2018-Q1||15000000|-|-"));
    body_free(&b);
}

static void test_inspection_check_counts_total_and_its_sector(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "c1", "U1", "2018-01-20T08:00:00", "InspectionCheck");
    set_enum(&d, "sector", "PUBLISHING");
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 2);
    assert_true(has_line(&g, "inspect.checked|2018-Q1|detail.sector=PUBLISHING|1|-|-"));
    assert_true(has_line(&g, "inspect.checked.publishing|2018-Q1||1|-|-"));
    body_free(&b);
}

static void test_document_expands_one_fact_per_recipient(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    const char *to[] = {"000.00.02.H29", "000.00.03.H29", "000.00.04.H29"};
    document(&b, "000.00.00.H29", to, 3, "2018-02-01", "CONG_VAN");
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 6);
    assert_true(has_line(&g, "docs.exchanged|2018-Q1||1|-|-"));
    assert_true(has_line(&g, "docs.sent|2018-Q1|from.code=000.00.00.H29|1|-|-"));
    assert_true(has_line(&g, "docs.by_type|2018-Q1|document_type=CONG_VAN|1|-|-"));
    for (int i = 0; i < 3; i++) {
        char want[128];
        snprintf(want, sizeof want, "docs.received|2018-Q1|to[].code=%s|1|-|-", to[i]);
        assert_true(has_line(&g, want));
    }
    body_free(&b);
}

static void test_document_with_no_recipients_has_no_received_fact(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    document(&b, "A", NULL, 0, "2018-02-01", "CONG_VAN");
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(lines_of(&g, "docs.received"), 0);
    assert_int_equal(lines_of(&g, "docs.exchanged"), 1);
    body_free(&b);
}

static void test_dimension_values_are_escaped(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256], raw[64];
    const char *to[] = {"B"};
    document(&b, "a,b=c|d%", to, 1, "2018-02-01", "OTHER");
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), 0);
    assert_true(has_line(&g, "docs.sent|2018-Q1|from.code=a%2Cb%3Dc%7Cd%25|1|-|-"));
    assert_int_equal(metrics_unescape("a%2Cb%3Dc%7Cd%25", 16, raw, sizeof raw), 8);
    assert_string_equal(raw, "a,b=c|d%");
    body_free(&b);
}

static void test_status_reply_counts_by_code(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    body_new(&b, "status.avsc");
    set_str(&b.v, "doc_id", "d");
    set_enum(&b.v, "code", "S03");
    set_long(&b.v, "at", vn_ms("2017-12-31T23:59:59"));
    assert_int_equal(eval(m, BODY_STATUS, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 1);
    assert_true(has_line(&g, "status.replies|2017-Q4|code=S03|1|-|-"));
    body_free(&b);
}

static void test_quarter_is_taken_in_vietnam_time(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    /* 2018-03-31T17:30Z is 2018-04-01 00:30 in Vietnam: second quarter */
    avro_value_t d = event(&b, "b1", "U1", "2018-03-31T17:30:00Z", "PressBriefing");
    set_int(&d, "articles_commended", 4);
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_true(has_line(&g, "press.briefings|2018-Q2||1|-|-"));
    assert_true(has_line(&g, "press.commended|2018-Q2||4|-|-"));
    body_free(&b);
}

static void test_negative_sum_rejects_the_whole_message(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "p2", "U1", "2018-03-01T08:00:00", "PenaltyDecision");
    set_enum(&d, "sector", "PRESS");
    set_long(&d, "amount_vnd", -1);
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(g.n, 0);  /* penalty.decisions comes first yet was not delivered */
    assert_non_null(strstr(err, "penalty.amount_vnd"));
    assert_non_null(strstr(err, "negative"));
    body_free(&b);
}

static void test_time_outside_2000_to_2100_is_rejected(void **state)
{
    const metrics_t *m = *state;
    const char *bad[] = {"1999-12-31T23:59:59", "2101-01-01T00:00:00"};
    const char *good[] = {"2000-01-01T00:00:00", "2100-12-31T23:59:59"};
    for (int i = 0; i < 2; i++) {
        body_t b;
        got_t g;
        char err[256];
        event(&b, "x", "U1", bad[i], "InspectionConcluded");
        assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), DB_ERR_INVALID);
        assert_int_equal(g.n, 0);
        assert_non_null(strstr(err, "occurred_at"));
        body_free(&b);
        event(&b, "x", "U1", good[i], "InspectionConcluded");
        assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
        assert_int_equal(g.n, 1);
        body_free(&b);
    }
    body_t b;
    got_t g;
    char err[256];
    const char *to[] = {"B"};
    document(&b, "A", to, 1, "1999-12-31", "OTHER");
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "promulgation_date"));
    body_free(&b);
}

static void test_highlight_item_keeps_fields_with_dates(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "h4", "000.00.00.H29", "2018-02-20T08:00:00", "Highlight");
    set_str(&d, "title", "Lễ hội đường sách Tết Mậu Tuất");
    set_int(&d, "start_date", vn_days("2018-02-13"));
    set_int(&d, "end_date", vn_days("2018-02-19"));
    avro_value_t vis = set_branch(&d, "visitors", "long");
    assert_int_equal(avro_value_set_long(&vis, 1000000), 0);
    avro_value_t rev = set_branch(&d, "revenue_vnd", "null");
    assert_int_equal(avro_value_set_null(&rev), 0);
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nitem, 1);
    /* counted by its start date, as Vietnam midnight in ms */
    char want[128];
    snprintf(want, sizeof want, "appendix.highlights|2018-Q1||%lld|-|000.00.00.H29,h4",
             (long long)vn_ms("2018-02-13T00:00:00"));
    assert_true(has_line(&g, want));
    json_t *it = json_loads(g.item[0], 0, NULL);
    assert_non_null(it);
    assert_string_equal(json_string_value(json_object_get(it, "id")), "000.00.00.H29,h4");
    assert_string_equal(json_string_value(json_object_get(it, "title")), "Lễ hội đường sách Tết Mậu Tuất");
    assert_string_equal(json_string_value(json_object_get(it, "start_date")), "2018-02-13");
    assert_string_equal(json_string_value(json_object_get(it, "end_date")), "2018-02-19");
    assert_int_equal(json_integer_value(json_object_get(it, "visitors")), 1000000);
    assert_true(json_is_null(json_object_get(it, "revenue_vnd")));
    json_decref(it);
    body_free(&b);
}

static void test_task_item_keeps_array_and_is_keyed_by_task(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    avro_value_t d = event(&b, "t1", "U1", "2018-03-20T08:00:00", "TaskProgress");
    set_str(&d, "task", "Trung tâm Báo chí");
    set_str(&d, "lead_agency", "Sở TTTT");
    avro_value_t arr = field(&d, "cooperating"), el;
    assert_int_equal(avro_value_append(&arr, &el, NULL), 0);
    assert_int_equal(avro_value_set_string(&el, "Sở ngành có liên quan"), 0);
    set_str(&d, "deadline_quarter", "2018-Q4");
    set_str(&d, "progress", "Đang hoàn thiện đề án");
    assert_int_equal(eval(m, BODY_EVENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.nitem, 1);
    json_t *it = json_loads(g.item[0], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(it, "id")), "Trung tâm Báo chí");
    assert_string_equal(json_string_value(json_array_get(json_object_get(it, "cooperating"), 0)),
                        "Sở ngành có liên quan");
    assert_string_equal(json_string_value(json_object_get(it, "deadline_quarter")), "2018-Q4");
    json_decref(it);
    body_free(&b);
}

static void test_wrong_body_type_is_rejected(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    got_t g;
    char err[256];
    event(&b, "x", "U1", "2018-01-01T00:00:00", "InspectionConcluded");
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "Document"));
    body_free(&b);
}

static int stop_at_second(const metrics_fact_t *f, void *opaque)
{
    (void)f;
    return ++*(int *)opaque == 2 ? 42 : 0;
}

static void test_callback_return_stops_eval(void **state)
{
    const metrics_t *m = *state;
    body_t b;
    char err[256];
    int calls = 0;
    const char *to[] = {"B", "C", "D"};
    document(&b, "A", to, 3, "2018-02-01", "OTHER");
    assert_int_equal(metrics_eval(m, BODY_DOCUMENT, &b.v, stop_at_second, &calls, err, sizeof err), 42);
    assert_int_equal(calls, 2);
    body_free(&b);
}

/* ---------- load errors ---------- */

static void expect_load_error(const char *entry, const char *want1, const char *want2)
{
    char text[2048], err[512];
    metrics_t *m = (metrics_t *)1;
    snprintf(text, sizeof text, "{\"version\": 1, \"metrics\": [%s]}", entry);
    assert_int_equal(metrics_load_text(text, strlen(text), "t.json", &m, err, sizeof err),
                     DB_ERR_CONFIG);
    assert_null(m);
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, want1, want2 ? want2 : "");
}

#define BASE "\"id\": \"x.y\", \"title\": \"T\", \"body\": \"event\", \"time\": \"occurred_at\", "

static void test_unknown_key_names_entry_and_key(void **state)
{
    (void)state;
    expect_load_error("{" BASE "\"kind\": \"count\", \"window\": \"quarter\", \"colour\": 1}",
                      "metric 1 (\"x.y\")", "unknown key \"colour\"");
}

static void test_unknown_kind_and_window_are_rejected(void **state)
{
    (void)state;
    expect_load_error("{" BASE "\"kind\": \"average\", \"window\": \"quarter\"}", "\"x.y\"", "kind");
    expect_load_error("{" BASE "\"kind\": \"count\", \"window\": \"yearly\"}", "\"x.y\"", "window");
}

static void test_bad_paths_are_rejected_at_load(void **state)
{
    (void)state;
    /* no such field */
    expect_load_error("{" BASE "\"kind\": \"count\", \"window\": \"quarter\", \"dims\": [\"unitt\"]}",
                      "no field \"unitt\"", "\"x.y\"");
    /* a path through the detail union needs the branch fixed by match */
    expect_load_error("{" BASE "\"kind\": \"sum\", \"field\": \"detail.count\", \"window\": \"quarter\"}",
                      "crosses the union \"detail\"", NULL);
    /* a field of another branch */
    expect_load_error("{" BASE "\"match\": {\"detail\": \"Rating\"}, \"kind\": \"sum\", "
                      "\"field\": \"detail.count\", \"window\": \"quarter\"}",
                      "record Rating has no field \"count\"", NULL);
    /* an unknown branch or symbol */
    expect_load_error("{" BASE "\"match\": {\"detail\": \"Ratings\"}, \"kind\": \"count\", "
                      "\"window\": \"quarter\"}", "\"Ratings\" is not one of", "Rating");
    expect_load_error("{" BASE "\"match\": {\"detail\": \"Rating\", \"detail.channel\": \"KIOSK\"}, "
                      "\"kind\": \"count\", \"window\": \"quarter\"}", "\"KIOSK\" is not one of DEVICE, WEB", NULL);
    /* time must be a date or timestamp */
    expect_load_error("{\"id\": \"x.y\", \"title\": \"T\", \"body\": \"event\", \"time\": \"unit\", "
                      "\"kind\": \"count\", \"window\": \"quarter\"}", "not a date or timestamp", NULL);
    /* summing a string */
    expect_load_error("{" BASE "\"kind\": \"sum\", \"field\": \"unit\", \"window\": \"quarter\"}",
                      "not an int or long", NULL);
    /* "[]" on a non-array */
    expect_load_error("{\"id\": \"x.y\", \"title\": \"T\", \"body\": \"document\", \"time\": "
                      "\"promulgation_date\", \"kind\": \"count\", \"window\": \"quarter\", "
                      "\"dims\": [\"from[].code\"]}", "not an array", NULL);
}

static void test_entry_shape_errors(void **state)
{
    (void)state;
    expect_load_error("{" BASE "\"kind\": \"count\", \"window\": \"quarter\", \"field\": \"unit\"}",
                      "does not apply to kind count", NULL);
    expect_load_error("{" BASE "\"kind\": \"distinct\", \"field\": \"unit\", \"window\": \"quarter\", "
                      "\"dims\": [\"unit\"]}", "\"dims\" apply to kinds count and sum only", NULL);
    expect_load_error("{" BASE "\"kind\": \"list\", \"field\": [\"unit\"], \"window\": \"quarter\"}",
                      "\"key\" is required", NULL);
    expect_load_error("{" BASE "\"kind\": \"count\", \"window\": \"quarter\", \"round\": 0}",
                      "\"round\" must be a positive integer", NULL);
    expect_load_error("{" BASE "\"kind\": \"count\", \"window\": \"quarter\"}, {" BASE
                      "\"kind\": \"count\", \"window\": \"quarter\"}", "metric 2 (\"x.y\"): duplicate id", NULL);
    expect_load_error("{\"id\": \"Bad Id\", \"title\": \"T\"}", "metric 1", "\"id\" must be");
}

static void test_file_level_errors(void **state)
{
    (void)state;
    char err[512];
    metrics_t *m;
    const char *t1 = "{\"version\": 1, \"metrics\": [], \"extra\": 1}";
    assert_int_equal(metrics_load_text(t1, strlen(t1), "t.json", &m, err, sizeof err), DB_ERR_CONFIG);
    assert_non_null(strstr(err, "unknown top-level key \"extra\""));
    const char *t2 = "{\"version\": 1, \"metrics\": [";
    assert_int_equal(metrics_load_text(t2, strlen(t2), "t.json", &m, err, sizeof err), DB_ERR_CONFIG);
    assert_non_null(strstr(err, "t.json:1:"));
    assert_int_equal(metrics_load("/nonexistent/metrics.json", &m, err, sizeof err), DB_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/metrics.json"));
}

static void test_match_on_null_int_and_string(void **state)
{
    (void)state;
    const char *text =
        "{\"version\": 1, \"metrics\": ["
        "{\"id\": \"a\", \"title\": \"A\", \"body\": \"document\", \"time\": \"promulgation_date\","
        " \"kind\": \"count\", \"window\": \"quarter\", \"match\": {\"response_for\": null}},"
        "{\"id\": \"b\", \"title\": \"B\", \"body\": \"document\", \"time\": \"promulgation_date\","
        " \"kind\": \"count\", \"window\": \"quarter\", \"match\": {\"page_amount\": 3}},"
        "{\"id\": \"c\", \"title\": \"C\", \"body\": \"document\", \"time\": \"promulgation_date\","
        " \"kind\": \"count\", \"window\": \"quarter\", \"match\": {\"from.code\": \"A\"}}]}";
    metrics_t *m;
    char err[512];
    body_t b;
    got_t g;
    const char *to[] = {"B"};
    assert_int_equal(metrics_load_text(text, strlen(text), "t.json", &m, err, sizeof err), 0);
    document(&b, "A", to, 1, "2018-02-01", "OTHER");
    set_branch(&b.v, "response_for", "null");
    set_int(&b.v, "page_amount", 3);
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 3);
    avro_value_t r = set_branch(&b.v, "response_for", "string");
    avro_value_set_string(&r, "other-doc");
    set_int(&b.v, "page_amount", 2);
    avro_value_t org = field(&b.v, "from");
    set_str(&org, "code", "AB");
    assert_int_equal(eval(m, BODY_DOCUMENT, &b, &g, err, sizeof err), 0);
    assert_int_equal(g.n, 0);
    body_free(&b);
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_has_every_figure_id),
        cmocka_unit_test(test_file_kinds_windows_rounds_match_the_reference),
        cmocka_unit_test(test_compiled_in_file_equals_the_repository_file),
        cmocka_unit_test(test_rating_device_counts_device_and_distinct_unit),
        cmocka_unit_test(test_rating_web_is_not_device),
        cmocka_unit_test(test_penalty_sums_amount_and_counts_by_sector),
        cmocka_unit_test(test_inspection_check_counts_total_and_its_sector),
        cmocka_unit_test(test_document_expands_one_fact_per_recipient),
        cmocka_unit_test(test_document_with_no_recipients_has_no_received_fact),
        cmocka_unit_test(test_dimension_values_are_escaped),
        cmocka_unit_test(test_status_reply_counts_by_code),
        cmocka_unit_test(test_quarter_is_taken_in_vietnam_time),
        cmocka_unit_test(test_negative_sum_rejects_the_whole_message),
        cmocka_unit_test(test_time_outside_2000_to_2100_is_rejected),
        cmocka_unit_test(test_highlight_item_keeps_fields_with_dates),
        cmocka_unit_test(test_task_item_keeps_array_and_is_keyed_by_task),
        cmocka_unit_test(test_wrong_body_type_is_rejected),
        cmocka_unit_test(test_callback_return_stops_eval),
        cmocka_unit_test(test_unknown_key_names_entry_and_key),
        cmocka_unit_test(test_unknown_kind_and_window_are_rejected),
        cmocka_unit_test(test_bad_paths_are_rejected_at_load),
        cmocka_unit_test(test_entry_shape_errors),
        cmocka_unit_test(test_file_level_errors),
        cmocka_unit_test(test_match_on_null_int_and_string),
    };
    return cmocka_run_group_tests_name("metrics", tests, setup, teardown);
}
