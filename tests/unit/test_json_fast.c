/* test_json_fast.c - the import's one-pass encoder against the full path: what it takes
 * comes out byte for byte as json_parse + json_avro_from_json + avro_value_write give
 * it; what the full path refuses it declines; and the valid lines it declines by
 * design still convert on the full path. Lines with an escape (DOC_HEAD has one) are
 * read by yajl inside json_fast, the others by json_scan: both readers are met here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec.h"
#include "error.h"
#include "json_avro.h"
#include "json_fast.h"
#include "jsonl.h"

#define CAP (1 << 20)

struct fx {
    json_avro_t *ja[3];
    avro_value_t v[3];
    json_fast_t *fast[3];
    uint8_t *buf;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    for (int t = 0; t < 3; t++) {
        if (json_avro_new_body((body_type_t)t, &f->ja[t], err, sizeof err))
            fail_msg("converter: %s", err);
        assert_int_equal(json_avro_value_new(f->ja[t], &f->v[t]), 0);
        assert_non_null(f->fast[t] = json_fast_new(f->ja[t]));
    }
    assert_non_null(f->buf = malloc(CAP));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (int t = 0; t < 3; t++) {
        avro_value_decref(&f->v[t]);
        json_fast_destroy(f->fast[t]);
        json_avro_destroy(f->ja[t]);
    }
    free(f->buf);
    free(f);
    return 0;
}

/* The full path's bytes for line into f->buf: their length, or -1 with err when it
 * refuses the line; *t gets the line's type. */
static long full_path(struct fx *f, const char *line, body_type_t *t, char *err, size_t errsz)
{
    json_t *rec = NULL;
    size_t len = 0;
    int rc = jsonl_parse_line(line, strlen(line), t, &rec, err, errsz);
    if (!rc)
        rc = json_avro_from_json(f->ja[*t], rec, &f->v[*t], err, errsz);
    if (!rc && body_encode(&f->v[*t], f->buf, CAP, &len))
        rc = DB_ERR_INVALID;
    json_decref(rec);
    return rc ? -1 : (long)len;
}

/* The one pass on line as body type t: 0 with *out, or -1 (declined). */
static int fast_path(struct fx *f, body_type_t t, const char *line, const uint8_t **out,
                     size_t *len)
{
    return json_fast_encode(f->fast[t], line, strlen(line), "type", CAP, out, len);
}

/* line is valid: the one pass takes it and writes the full path's bytes. */
static void check_same(struct fx *f, const char *line)
{
    char err[512];
    body_type_t t;
    const uint8_t *out;
    size_t len;
    long want = full_path(f, line, &t, err, sizeof err);
    if (want < 0)
        fail_msg("the full path refuses a line the test takes as valid: %s\n%s", err, line);
    if (fast_path(f, t, line, &out, &len))
        fail_msg("the one pass declines a valid line:\n%s", line);
    if ((long)len != want || memcmp(out, f->buf, len) != 0)
        fail_msg("the one pass wrote %zu bytes, the full path %ld, or other bytes:\n%s", len,
                 want, line);
}

#define DOC_HEAD "{\"type\":\"document\",\"doc_id\":\"000.00.11.H29,2018/02/01,263/STTTT-CNTT\"," \
                 "\"from\":{\"code\":\"000.00.11.H29\"},\"to\":[{\"code\":\"000.00.16.H29\"}]," \
                 "\"number\":\"263\",\"notation\":\"STTTT-CNTT\"," \
                 "\"promulgation_date\":\"2018-02-01\",\"document_type\":\"CONG_VAN\"," \
                 "\"signer\":{\"full_name\":\"Nguy\\u1ec5n V\\u0103n A\"},"
#define DOC_MIN DOC_HEAD "\"subject\":\"V\xe1\xbb\x81 vi\xe1\xbb\x87" "c\"}"

static void test_valid_lines(void **state)
{
    static const char *lines[] = {
        DOC_MIN,
        /* every optional field given, unions both ways, escapes, white space */
        DOC_HEAD "\"subject\":\"a \\\"quoted\\\" \\\\ line\\nbreak\\t\\/\","
                 "\"content_summary\":\"T\xc3\xb3m t\xe1\xba\xaft\", \"due_date\" : \"2018-03-31\","
                 "\"priority\":\"FLASH\",\"steering_type\":\"x\",\"sphere_of_promulgation\":\"y\","
                 "\"page_amount\":-12,\"appendixes\":[\"A\",\"B\",\"\"],\"response_for\":\"r\","
                 "\"business_type\":\"REPLACE\",\"attachments\":[],"
                 "\"promulgation_place\":\"HCM\"}  \t",
        DOC_HEAD "\"subject\":\"s\",\"due_date\":null,\"response_for\":null,\"appendixes\":[]}",
        /* keys out of schema order, nested records too; many recipients */
        "{\"type\":\"document\",\"subject\":\"s\",\"signer\":{\"full_name\":\"F\",\"position\":\"P\","
        "\"competence\":\"C\"},\"to\":[{\"name\":\"N1\",\"code\":\"000.00.01.H29\"},"
        "{\"code\":\"000.00.02.H29\"},{\"code\":\"000.00.03.H29\",\"name\":\"\"}],"
        "\"document_type\":\"OTHER\",\"promulgation_date\":\"2017-12-31\",\"notation\":\"N\","
        "\"number\":\"1\",\"from\":{\"name\":\"S\",\"code\":\"000.00.11.H29\"},"
        "\"doc_id\":\"000.00.11.H29,2017/12/31,1/N\",\"page_amount\":2147483647}",
        /* exactly 500 characters of subject (capped text), 2-byte characters */
        NULL,   /* filled below */
        "{\"type\":\"status\",\"doc_id\":\"d\",\"from\":\"000.00.16.H29\",\"to\":\"000.00.11.H29\","
        "\"code\":\"S01\",\"at\":\"2018-01-02T11:12:20+07:00\"}",
        "{\"type\":\"status\",\"doc_id\":\"d\",\"from\":\"a\",\"to\":\"b\",\"code\":\"S03\","
        "\"description\":\"x\",\"at\":\"2018-01-02T04:12:20Z\",\"staff\":{\"name\":\"n\","
        "\"email\":\"e\"}}",
        "{\"type\":\"event\",\"event_id\":\"DGTB-1\",\"unit\":\"000.00.47.H29\","
        "\"occurred_at\":\"2018-03-10T08:05:01+07:00\",\"detail\":{\"Rating\":{\"channel\":"
        "\"DEVICE\",\"level\":\"SATISFIED\",\"service\":\"C\xe1\xba\xa5p ph\xc3\xa9p\"}}}",
        "{\"type\":\"event\",\"detail\":{\"TaskProgress\":{\"task\":\"t\",\"lead_agency\":\"l\","
        "\"deadline_quarter\":\"2018-Q2\",\"progress\":\"p\",\"cooperating\":[\"a\",\"b\"]}},"
        "\"event_id\":\"T-1\",\"unit\":\"000.00.11.H29\",\"occurred_at\":\"2018-03-10T08:05:01\"}",
        "{\"type\":\"event\",\"event_id\":\"H-1\",\"unit\":\"u\",\"occurred_at\":"
        "\"2018-03-10T08:05:01Z\",\"detail\":{\"Highlight\":{\"title\":\"t\",\"start_date\":"
        "\"2018-01-01\",\"end_date\":\"2018-03-31\",\"visitors\":1234567890123,"
        "\"revenue_vnd\":null}}}",
        "{\"type\":\"event\",\"event_id\":\"P-1\",\"unit\":\"u\",\"occurred_at\":"
        "\"2018-03-10T08:05:01Z\",\"detail\":{\"PenaltyDecision\":{\"decision_no\":\"1\","
        "\"subject\":\"s\",\"sector\":\"TELECOM\",\"amount_vnd\":-999999999999999999}}}",
        "{\"type\":\"event\",\"event_id\":\"M-1\",\"unit\":\"u\",\"occurred_at\":"
        "\"2018-03-10T08:05:01Z\",\"detail\":{\"MailboxesIssued\":{\"count\":0}}}",
    };
    struct fx *f = *state;
    char capped[4096];
    int n = snprintf(capped, sizeof capped, "%s", DOC_HEAD "\"subject\":\"");
    for (int i = 0; i < 500; i++)
        n += snprintf(capped + n, sizeof capped - n, "\xc3\xa9");
    snprintf(capped + n, sizeof capped - n, "\"}");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        check_same(f, lines[i] ? lines[i] : capped);
}

/* Lines the full path refuses: the one pass must decline every one. */
static void test_invalid_lines_declined(void **state)
{
    static const char *lines[] = {
        DOC_HEAD "\"subject\":\"s\",\"colour\":\"red\"}",              /* unknown field */
        DOC_HEAD "\"subject\":\"s\",\"subject\":\"t\"}",                /* duplicate key */
        DOC_HEAD "\"content_summary\":\"no subject\"}",                 /* missing field */
        DOC_HEAD "\"subject\":1}",                                      /* wrong type */
        DOC_HEAD "\"subject\":\"s\",\"priority\":\"LOW\"}",             /* no such symbol */
        DOC_HEAD "\"subject\":\"s\",\"due_date\":\"2018-02-30\"}",      /* no such day */
        DOC_HEAD "\"subject\":\"s\",\"due_date\":17000}",               /* a number for a date */
        DOC_HEAD "\"subject\":\"s\",\"page_amount\":2147483648}",       /* over int */
        DOC_HEAD "\"subject\":\"s\",\"page_amount\":1.0}",              /* not an integer */
        DOC_HEAD "\"subject\":\"s\",\"page_amount\":1e2}",
        DOC_HEAD "\"subject\":\"a\\u0000b\"}",                          /* NUL */
        DOC_HEAD "\"subject\":\"\\ud800\"}",                            /* lone surrogate */
        DOC_HEAD "\"subject\":\"\xc0\xaf\"}",                           /* overlong UTF-8 */
        DOC_HEAD "\"subject\":\"s\"} x",                                /* trailing data */
        DOC_HEAD "\"subject\":\"s\"",                                   /* cut short */
        DOC_HEAD "\"subject\":\"s\",\"type\":\"document\"}",            /* type twice */
        DOC_HEAD "\"subject\":\"s\",\"to\":[]}",                        /* duplicate to */
        DOC_HEAD "\"subject\":\"s\",\"appendixes\":[1]}",
        DOC_HEAD "\"subject\":\"s\",\"response_for\":{\"string\":\"x\"}}",
        "{\"type\":\"document\"}",
        "{\"type\":7,\"doc_id\":\"x\"}",
        "{\"type\":\"event\",\"event_id\":\"M\",\"unit\":\"u\",\"occurred_at\":\"2018-03-10T25:00:00Z\","
        "\"detail\":{\"MailboxesIssued\":{\"count\":1}}}",              /* no such hour */
        "{\"type\":\"event\",\"event_id\":\"M\",\"unit\":\"u\",\"occurred_at\":\"2018-03-10T00:00:00Z\","
        "\"detail\":{\"MailboxesIssued\":{\"count\":1},\"Rating\":{}}}",/* two branches */
        "{\"type\":\"event\",\"event_id\":\"M\",\"unit\":\"u\",\"occurred_at\":\"2018-03-10T00:00:00Z\","
        "\"detail\":{}}",                                               /* no branch */
        "{\"type\":\"event\",\"event_id\":\"M\",\"unit\":\"u\",\"occurred_at\":\"2018-03-10T00:00:00Z\","
        "\"detail\":{\"Parade\":{}}}",                                  /* no such branch */
        "{\"type\":\"event\",\"event_id\":\"M\",\"unit\":\"u\",\"occurred_at\":\"2018-03-10T00:00:00Z\","
        "\"detail\":null}",
        "{\"type\":\"status\",\"doc_id\":\"d\",\"from\":\"a\",\"to\":\"b\",\"code\":\"S01\","
        "\"at\":\"2018-01-02T11:12:20+07:00\",\"staff\":{\"name\":\"n\",\"name\":\"m\"}}",
        "[1,2]",
    };
    struct fx *f = *state;
    char err[512], big[4096];
    body_type_t t;
    const uint8_t *out;
    size_t len;
    int n = snprintf(big, sizeof big, "%s", DOC_HEAD "\"subject\":\"");
    for (int i = 0; i < 501; i++)
        n += snprintf(big + n, sizeof big - n, "\xc3\xa9");   /* 501 characters: over the cap */
    snprintf(big + n, sizeof big - n, "\"}");
    for (size_t i = 0; i <= sizeof lines / sizeof lines[0]; i++) {
        const char *line = i < sizeof lines / sizeof lines[0] ? lines[i] : big;
        if (full_path(f, line, &t, err, sizeof err) >= 0)
            fail_msg("the full path takes a line the test takes as invalid:\n%s", line);
        for (int bt = 0; bt < 3; bt++)
            if (fast_path(f, (body_type_t)bt, line, &out, &len) == 0)
                fail_msg("the one pass takes (as type %d) a line the full path refuses (%s):\n%s",
                         bt, err, line);
    }
}

/* Valid lines in forms the one pass leaves to the full path, and the size cap. */
static void test_valid_lines_declined(void **state)
{
    static const char *lines[] = {
        /* a branch by its full name */
        "{\"type\":\"event\",\"event_id\":\"M\",\"unit\":\"u\",\"occurred_at\":\"2018-03-10T00:00:00Z\","
        "\"detail\":{\"vn.docbus.v1.MailboxesIssued\":{\"count\":1}}}",
        /* fixed and bytes (an attachment) */
        DOC_HEAD "\"subject\":\"s\",\"attachments\":[{\"name\":\"a.pdf\",\"size\":3,\"sha256\":"
        "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"content\":"
        "\"YWJj\"}]}",
    };
    struct fx *f = *state;
    char err[512];
    body_type_t t;
    const uint8_t *out;
    size_t len;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (full_path(f, lines[i], &t, err, sizeof err) < 0)
            fail_msg("the full path refuses: %s\n%s", err, lines[i]);
        assert_int_equal(fast_path(f, t, lines[i], &out, &len), -1);
    }
    /* over max_len: declined, so that the full path names the cap */
    assert_int_equal(json_fast_encode(f->fast[BODY_DOCUMENT], DOC_MIN, strlen(DOC_MIN), "type",
                                      10, &out, &len), -1);
}

/* Schemas with parts json_fast has no plan for: it is still made, and declines. */
static void test_unplanned_schema(void **state)
{
    char schema[8192], line[2048], err[256];
    int n = snprintf(schema, sizeof schema, "{\"type\":\"record\",\"name\":\"Wide\",\"fields\":[");
    int m = snprintf(line, sizeof line, "{\"type\":\"x\"");
    json_avro_t *ja;
    json_fast_t *f;
    const uint8_t *out;
    size_t len;
    (void)state;
    for (int i = 0; i < 70; i++) {   /* over 64 fields */
        n += snprintf(schema + n, sizeof schema - n, "%s{\"name\":\"f%d\",\"type\":\"int\"}",
                      i ? "," : "", i);
        m += snprintf(line + m, sizeof line - m, ",\"f%d\":%d", i, i);
    }
    snprintf(schema + n, sizeof schema - n, "]}");
    snprintf(line + m, sizeof line - m, "}");
    if (json_avro_new(schema, &ja, err, sizeof err))
        fail_msg("schema: %s", err);
    assert_non_null(f = json_fast_new(ja));
    assert_int_equal(json_fast_encode(f, line, strlen(line), "type", CAP, &out, &len), -1);
    json_fast_destroy(f);
    json_avro_destroy(ja);

    /* a map field (and so its default): declined with or without it */
    if (json_avro_new("{\"type\":\"record\",\"name\":\"M\",\"fields\":[{\"name\":\"a\","
                      "\"type\":\"int\"},{\"name\":\"m\",\"type\":{\"type\":\"map\","
                      "\"values\":\"int\"},\"default\":{}}]}", &ja, err, sizeof err))
        fail_msg("schema: %s", err);
    assert_non_null(f = json_fast_new(ja));
    assert_int_equal(json_fast_encode(f, "{\"a\":1,\"m\":{\"k\":2}}", 19, NULL, CAP, &out, &len), -1);
    assert_int_equal(json_fast_encode(f, "{\"a\":1}", 7, NULL, CAP, &out, &len), -1);
    json_fast_destroy(f);
    json_avro_destroy(ja);
}

/* Every line of the second dataset (a real-looking quarter): taken, same bytes. */
static void test_dataset(void **state)
{
    struct fx *f = *state;
    char path[1100], *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    const char *root = getenv("DOCBUS_ROOT") ? getenv("DOCBUS_ROOT") : ".";
    snprintf(path, sizeof path, "%s/tests/it/data/second-2019q3.jsonl", root);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    while ((n = getline(&line, &cap, in)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n) {
            check_same(f, line);
            lines++;
        }
    }
    free(line);
    fclose(in);
    assert_true(lines >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_lines),
        cmocka_unit_test(test_invalid_lines_declined),
        cmocka_unit_test(test_valid_lines_declined),
        cmocka_unit_test(test_unplanned_schema),
        cmocka_unit_test(test_dataset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
