/* test_record.c - semantic checks, natural keys and producers of body records, and
 * the JSON Lines line parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "json_avro.h"
#include "jsonl.h"
#include "record.h"
#include "units.h"

static units_t *reg;

static int setup(void **state)
{
    char err[256];
    (void)state;
    if (units_load("schemas/units-hcmc.json", &reg, err, sizeof err) != 0)
        fail_msg("%s", err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    units_destroy(reg);
    return 0;
}

/* Parses a JSONL line, converts and validates it; returns the first failing rc and
 * leaves the reason in err; key/producer receive the natural key and producer. */
static int check(const char *line, char *err, size_t n, char *key, char *producer)
{
    body_type_t t;
    json_t *rec = NULL;
    json_avro_t *ja = NULL;
    avro_value_t v;
    int rc = jsonl_parse_line(line, strlen(line), &t, &rec, err, n);
    if (rc)
        return rc;
    if (json_avro_new_body(t, &ja, err, n) != 0)
        fail_msg("%s", err);
    json_avro_value_new(ja, &v);
    rc = json_avro_from_json(ja, rec, &v, err, n);
    if (rc == 0)
        rc = record_validate(t, &v, reg, err, n);
    if (rc == 0 && key)
        assert_int_equal(record_natural_key(t, &v, key, RECORD_KEY_MAX), 0);
    if (rc == 0 && producer)
        strcpy(producer, record_producer(t, &v));
    avro_value_decref(&v);
    json_avro_destroy(ja);
    json_decref(rec);
    return rc;
}

#define DOC(id, from, to, extra)                                                         \
    "{\"type\":\"document\",\"doc_id\":\"" id "\",\"from\":{\"code\":\"" from "\"},"     \
    "\"to\":[" to "],\"number\":\"263\",\"notation\":\"STTTT-CNTT\","                   \
    "\"promulgation_date\":\"2018-02-01\",\"document_type\":\"CONG_VAN\","              \
    "\"subject\":\"Về vận hành\",\"signer\":{\"full_name\":\"A\"}" extra "}"
#define GOOD_ID "000.00.11.H29,2018/02/01,263/STTTT-CNTT"
#define TO(c) "{\"code\":\"" c "\"}"

static void valid_document_passes_with_key_and_producer(void **state)
{
    (void)state;
    char err[512], key[RECORD_KEY_MAX], prod[64];
    int rc = check(DOC(GOOD_ID, "000.00.11.H29", TO("000.00.16.H29") "," TO("000.00.00.H29"), ""),
                   err, sizeof err, key, prod);
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(key, GOOD_ID);
    assert_string_equal(prod, "000.00.11.H29");
}

static void unknown_recipient_is_named_by_path(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC(GOOD_ID, "000.00.11.H29", TO("000.00.16.H29") "," TO("000.00.99.H29"), ""),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "to[1].code: unknown organisation code \"000.00.99.H29\"");
}

static void unknown_sender_is_rejected(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC("000.00.79.H29,2018/02/01,263/STTTT-CNTT", "000.00.79.H29",
                               TO("000.00.16.H29"), ""), err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "from.code: unknown organisation code \"000.00.79.H29\"");
}

static void recipient_equal_to_sender_is_rejected(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC(GOOD_ID, "000.00.11.H29", TO("000.00.11.H29"), ""), err, sizeof err,
                           NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "to[0].code: recipient \"000.00.11.H29\" is the sender");
}

static void duplicate_recipient_is_rejected(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC(GOOD_ID, "000.00.11.H29",
                               TO("000.00.16.H29") "," TO("000.00.41.H29") "," TO("000.00.16.H29"), ""),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "to[2].code: duplicate recipient \"000.00.16.H29\" (also to[0])");
}

static void no_recipient_is_rejected(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC(GOOD_ID, "000.00.11.H29", "", ""), err, sizeof err, NULL, NULL),
                     DB_ERR_INVALID);
    assert_non_null(strstr(err, "to: a document needs at least one recipient"));
}

static void inconsistent_doc_id_is_rejected(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC("000.00.11.H29,2018/02/02,263/STTTT-CNTT", "000.00.11.H29",
                               TO("000.00.16.H29"), ""), err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "doc_id: \"000.00.11.H29,2018/02/02,263/STTTT-CNTT\" does not match "
                             "from/promulgation_date/number/notation (expected \"" GOOD_ID "\")");
}

static void negative_page_amount_and_early_due_date_are_rejected(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check(DOC(GOOD_ID, "000.00.11.H29", TO("000.00.16.H29"), ",\"page_amount\":-1"),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "page_amount: -1 is negative");
    assert_int_equal(check(DOC(GOOD_ID, "000.00.11.H29", TO("000.00.16.H29"), ",\"due_date\":\"2018-01-31\""),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "due_date: 2018-01-31 is before promulgation_date 2018-02-01");
}

static void status_checks_and_key(void **state)
{
    (void)state;
    char err[512], key[RECORD_KEY_MAX], prod[64];
    const char *ok = "{\"type\":\"status\",\"doc_id\":\"" GOOD_ID "\",\"from\":\"000.00.16.H29\","
                     "\"to\":\"000.00.11.H29\",\"code\":\"S01\",\"at\":\"2018-02-01T10:00:00+07:00\"}";
    const char *wrong_to = "{\"type\":\"status\",\"doc_id\":\"" GOOD_ID "\",\"from\":\"000.00.16.H29\","
                           "\"to\":\"000.00.00.H29\",\"code\":\"S01\",\"at\":\"2018-02-01T10:00:00\"}";
    const char *self = "{\"type\":\"status\",\"doc_id\":\"" GOOD_ID "\",\"from\":\"000.00.11.H29\","
                       "\"to\":\"000.00.11.H29\",\"code\":\"S01\",\"at\":\"2018-02-01T10:00:00\"}";
    if (check(ok, err, sizeof err, key, prod))
        fail_msg("%s", err);
    assert_string_equal(key, GOOD_ID "|000.00.16.H29|S01|1517454000000");
    assert_string_equal(prod, "000.00.16.H29");
    assert_int_equal(check(wrong_to, err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "doc_id: the document's sender \"000.00.11.H29\" differs from to "
                             "\"000.00.00.H29\"");
    assert_int_equal(check(self, err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_non_null(strstr(err, "to: \"000.00.11.H29\" is the replying unit itself"));
}

#define EV(unit, detail)                                                                  \
    "{\"type\":\"event\",\"event_id\":\"E-1\",\"unit\":\"" unit "\","                    \
    "\"occurred_at\":\"2018-01-08T09:30:00+07:00\",\"detail\":" detail "}"

static void event_checks_and_key(void **state)
{
    (void)state;
    char err[512], key[RECORD_KEY_MAX], prod[64];
    if (check(EV("000.00.41.H29", "{\"LandDatabaseLinked\":{\"district\":\"000.00.41.H29\"}}"),
              err, sizeof err, key, prod))
        fail_msg("%s", err);
    assert_string_equal(key, "000.00.41.H29|E-1");
    assert_string_equal(prod, "000.00.41.H29");
    assert_int_equal(check(EV("000.00.11.H29", "{\"LandBranchJoined\":{\"district\":\"000.00.16.H29\"}}"),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "detail.LandBranchJoined.district: \"000.00.16.H29\" (Sở Y tế) is a "
                             "department, not a district");
    assert_int_equal(check(EV("000.00.99.H29", "{\"MailboxesIssued\":{\"count\":3}}"),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "unit: unknown organisation code \"000.00.99.H29\"");
    assert_int_equal(check(EV("000.00.11.H29", "{\"PenaltyDecision\":{\"decision_no\":\"1/QĐ-XPVPHC\","
                              "\"subject\":\"x\",\"sector\":\"INTERNET\",\"amount_vnd\":-5}}"),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_string_equal(err, "detail.PenaltyDecision.amount_vnd: -5 is negative");
    assert_int_equal(check(EV("000.00.11.H29", "{\"MailboxesIssued\":{\"count\":-1}}"),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_int_equal(check(EV("000.00.11.H29", "{\"Highlight\":{\"title\":\"x\",\"start_date\":\"2018-02-19\","
                              "\"end_date\":\"2018-02-13\"}}"), err, sizeof err, NULL, NULL),
                     DB_ERR_INVALID);
    assert_string_equal(err, "detail.Highlight.end_date: 2018-02-13 is before start_date 2018-02-19");
    assert_int_equal(check(EV("000.00.11.H29", "{\"TaskProgress\":{\"task\":\"x\",\"lead_agency\":\"y\","
                              "\"deadline_quarter\":\"Q4/2018\",\"progress\":\"\"}}"),
                           err, sizeof err, NULL, NULL), DB_ERR_INVALID);
    assert_non_null(strstr(err, "detail.TaskProgress.deadline_quarter: malformed quarter"));
}

static void jsonl_rejects_what_is_not_a_typed_object(void **state)
{
    (void)state;
    char err[256];
    body_type_t t;
    json_t *r = NULL;
    assert_int_equal(jsonl_parse_line("[1,2]\n", 6, &t, &r, err, sizeof err), DB_ERR_INVALID);
    assert_string_equal(err, "line is not a JSON object");
    assert_int_equal(jsonl_parse_line("{\"a\":1}", 7, &t, &r, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "type: missing"));
    assert_int_equal(jsonl_parse_line("{\"type\":\"memo\"}", 15, &t, &r, err, sizeof err),
                     DB_ERR_INVALID);
    assert_string_equal(err, "type: unknown type \"memo\" (expected \"document\", \"status\" or \"event\")");
    assert_int_equal(jsonl_parse_line("{\"type\":1}", 10, &t, &r, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(jsonl_parse_line("{\"type\":\"event\",", 16, &t, &r, err, sizeof err),
                     DB_ERR_INVALID);
    assert_non_null(strstr(err, "not JSON at column"));
    assert_int_equal(jsonl_parse_line("{\"type\":\"event\",\"type\":\"event\"}", 32, &t, &r, err,
                                      sizeof err), DB_ERR_INVALID);
    assert_null(r);
    assert_int_equal(jsonl_parse_line("  \r\n", 4, &t, &r, err, sizeof err), DB_ERR_INVALID);
    assert_string_equal(err, "blank line (only white space)");
    assert_null(r);
}

static void jsonl_caps_line_length(void **state)
{
    (void)state;
    char err[256];
    body_type_t t;
    json_t *r = NULL;
    size_t n = JSONL_LINE_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    assert_int_equal(jsonl_parse_line(big, n, &t, &r, err, sizeof err), DB_ERR_TOO_LARGE);
    assert_null(r);
    free(big);
}

static void jsonl_strips_type_and_returns_the_record(void **state)
{
    (void)state;
    char err[256];
    body_type_t t = BODY_DOCUMENT;
    json_t *r = NULL;
    const char *l = "{\"type\":\"status\",\"doc_id\":\"x\"}\r\n";
    assert_int_equal(jsonl_parse_line(l, strlen(l), &t, &r, err, sizeof err), 0);
    assert_int_equal(t, BODY_STATUS);
    assert_null(json_object_get(r, "type"));
    assert_string_equal(json_string_value(json_object_get(r, "doc_id")), "x");
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_document_passes_with_key_and_producer),
        cmocka_unit_test(unknown_recipient_is_named_by_path),
        cmocka_unit_test(unknown_sender_is_rejected),
        cmocka_unit_test(recipient_equal_to_sender_is_rejected),
        cmocka_unit_test(duplicate_recipient_is_rejected),
        cmocka_unit_test(no_recipient_is_rejected),
        cmocka_unit_test(inconsistent_doc_id_is_rejected),
        cmocka_unit_test(negative_page_amount_and_early_due_date_are_rejected),
        cmocka_unit_test(status_checks_and_key),
        cmocka_unit_test(event_checks_and_key),
        cmocka_unit_test(jsonl_rejects_what_is_not_a_typed_object),
        cmocka_unit_test(jsonl_caps_line_length),
        cmocka_unit_test(jsonl_strips_type_and_returns_the_record),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
