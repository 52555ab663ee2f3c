/* test_json_avro.c - JSON <-> Avro conversion: every error class and round trips. */
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

/* A schema exercising the types the body schemas do not (bytes, map, non-null
 * unions of primitives, float). */
static const char *misc_schema =
    "{\"type\":\"record\",\"name\":\"Misc\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"b\",\"type\":\"bytes\"},"
    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H4\",\"size\":4}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":{}},"
    "{\"name\":\"u\",\"type\":[\"int\",\"string\"],\"default\":7},"
    "{\"name\":\"f\",\"type\":\"double\",\"default\":0.5},"
    "{\"name\":\"ok\",\"type\":\"boolean\",\"default\":false},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"default\":0}"
    "]}";

static const char *doc_json =
    "{\"doc_id\":\"000.00.11.H29,2018/02/01,263/STTTT-CNTT\","
    "\"from\":{\"code\":\"000.00.11.H29\",\"name\":\"Sở Thông tin và Truyền thông\"},"
    "\"to\":[{\"code\":\"000.00.16.H29\",\"name\":\"Sở Y tế\"}],"
    "\"number\":\"263\",\"notation\":\"STTTT-CNTT\",\"promulgation_date\":\"2018-02-01\","
    "\"document_type\":\"CONG_VAN\","
    "\"subject\":\"Về vận hành chính thức dịch vụ thanh toán trực tuyến\","
    "\"signer\":{\"full_name\":\"Nguyễn Văn A\"}}";

struct fx {
    json_avro_t *ja;
    avro_value_t v;
    char err[512];
};

static struct fx *fx_new(const char *schema_json, body_type_t t)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    int rc = schema_json ? json_avro_new(schema_json, &f->ja, err, sizeof err)
                         : json_avro_new_body(t, &f->ja, err, sizeof err);
    if (rc)
        fail_msg("converter: %s", err);
    assert_int_equal(json_avro_value_new(f->ja, &f->v), 0);
    return f;
}

static void fx_free(struct fx *f)
{
    avro_value_decref(&f->v);
    json_avro_destroy(f->ja);
    free(f);
}

/* Converts text; returns the rc and leaves the error in f->err. */
static int conv(struct fx *f, const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    int rc;
    if (!j)
        fail_msg("test JSON broken: %s: %s", text, je.text);
    f->err[0] = '\0';
    rc = json_avro_from_json(f->ja, j, &f->v, f->err, sizeof f->err);
    json_decref(j);
    return rc;
}

/* Replaces the value of key in doc_json by repl (a JSON text), or deletes it when
 * repl is NULL; returns the new document text (caller frees). */
static char *doc_with(const char *key, const char *repl)
{
    json_t *d = json_loads(doc_json, 0, NULL);
    char *s;
    if (repl)
        json_object_set_new(d, key, json_loads(repl, JSON_DECODE_ANY, NULL));
    else
        json_object_del(d, key);
    s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return s;
}

/* 1 when every member of a (recursively, for objects) equals the one in b. */
static int json_subset(json_t *a, json_t *b)
{
    const char *key;
    json_t *val;
    if (!json_is_object(a) || !json_is_object(b))
        return json_equal(a, b);
    json_object_foreach(a, key, val)
        if (!json_subset(val, json_object_get(b, key)))
            return 0;
    return 1;
}

static int conv_doc_with(struct fx *f, const char *key, const char *repl)
{
    char *s = doc_with(key, repl);
    int rc = conv(f, s);
    free(s);
    return rc;
}

static void document_takes_schema_defaults(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    avro_value_t x;
    int32_t pages = 0;
    int prio = -1;
    assert_int_equal(conv(f, doc_json), 0);
    avro_value_get_by_name(&f->v, "page_amount", &x, NULL);
    avro_value_get_int(&x, &pages);
    assert_int_equal(pages, 1);
    avro_value_get_by_name(&f->v, "priority", &x, NULL);
    avro_value_get_enum(&x, &prio);
    assert_int_equal(prio, 0);
    fx_free(f);
}

static void document_round_trips_through_json(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    json_t *out = NULL, *in = json_loads(doc_json, 0, NULL);
    char *s;
    assert_int_equal(conv(f, doc_json), 0);
    assert_int_equal(json_avro_to_json(f->ja, &f->v, &out, f->err, sizeof f->err), 0);
    /* every input field comes back unchanged; defaults are filled in */
    assert_true(json_subset(in, out));
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "signer"),
                                                          "position")), "");
    assert_string_equal(json_string_value(json_object_get(out, "priority")), "NORMAL");
    assert_true(json_is_null(json_object_get(out, "due_date")));
    /* and converting the output again gives the same JSON */
    s = json_dumps(out, JSON_COMPACT);
    assert_int_equal(conv(f, s), 0);
    json_t *out2 = NULL;
    assert_int_equal(json_avro_to_json(f->ja, &f->v, &out2, f->err, sizeof f->err), 0);
    assert_true(json_equal(out, out2));
    free(s);
    json_decref(in);
    json_decref(out);
    json_decref(out2);
    fx_free(f);
}

static void event_union_of_records_round_trips(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_EVENT);
    const char *ev = "{\"event_id\":\"HL-1\",\"unit\":\"000.00.11.H29\","
                     "\"occurred_at\":\"2018-02-13T08:00:00+07:00\","
                     "\"detail\":{\"Highlight\":{\"title\":\"Đường sách Tết\","
                     "\"start_date\":\"2018-02-13\",\"end_date\":\"2018-02-19\","
                     "\"visitors\":1000000,\"revenue_vnd\":4500000000}}}";
    json_t *out = NULL, *in = json_loads(ev, 0, NULL);
    assert_int_equal(conv(f, ev), 0);
    assert_int_equal(json_avro_to_json(f->ja, &f->v, &out, f->err, sizeof f->err), 0);
    json_t *h = json_object_get(json_object_get(out, "detail"), "Highlight");
    assert_non_null(h);
    assert_int_equal(json_integer_value(json_object_get(h, "visitors")), 1000000);
    assert_string_equal(json_string_value(json_object_get(h, "end_date")), "2018-02-19");
    assert_string_equal(json_string_value(json_object_get(out, "occurred_at")),
                        "2018-02-13T08:00:00+07:00");
    json_decref(in);
    json_decref(out);
    fx_free(f);
}

static void unknown_field_is_rejected_with_its_path(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    assert_int_equal(conv_doc_with(f, "to", "[{\"code\":\"000.00.16.H29\",\"nam\":\"x\"}]"),
                     DB_ERR_INVALID);
    assert_string_equal(f->err, "to[0].nam: unknown field \"nam\" in record Organization");
    fx_free(f);
}

static void missing_field_without_default_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    assert_int_equal(conv_doc_with(f, "subject", NULL), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "subject: missing field \"subject\""));
    fx_free(f);
}

static void wrong_json_type_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    assert_int_equal(conv_doc_with(f, "page_amount", "\"3\""), DB_ERR_INVALID);
    assert_string_equal(f->err, "page_amount: expected an integer, got a string");
    assert_int_equal(conv_doc_with(f, "page_amount", "3.0"), DB_ERR_INVALID);
    assert_string_equal(f->err, "page_amount: expected an integer, got a real number");
    assert_int_equal(conv_doc_with(f, "from", "\"000.00.11.H29\""), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "from: expected an object (record Organization)"));
    fx_free(f);
}

static void int_out_of_range_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    assert_int_equal(conv_doc_with(f, "page_amount", "2147483648"), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "page_amount: 2147483648 is out of the int range"));
    assert_int_equal(conv_doc_with(f, "page_amount", "2147483647"), 0);
    fx_free(f);
}

static void subject_is_capped_at_500_characters_not_bytes(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    char s[2 + 501 * 3 + 1];
    size_t p = 0;
    s[p++] = '"';
    for (int i = 0; i < 500; i++) { /* "ệ" is 3 bytes: 1500 bytes, 500 characters */
        memcpy(s + p, "ệ", 3);
        p += 3;
    }
    s[p] = '"', s[p + 1] = '\0';
    assert_int_equal(conv_doc_with(f, "subject", s), 0);
    memcpy(s + p, "ệ\"", 5);
    assert_int_equal(conv_doc_with(f, "subject", s), DB_ERR_INVALID);
    assert_string_equal(f->err, "subject: 501 characters, over the 500-character cap");
    /* other strings may be longer */
    assert_int_equal(conv_doc_with(f, "promulgation_place", s), 0);
    fx_free(f);
}

/* With json_avro_utf8_checked the strings are taken as checked (the import's lines are
 * checked whole by json_parse); a NUL byte is still refused. */
static void utf8_checked_skips_the_per_string_check(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    json_t *d = json_loads(doc_json, 0, NULL);
    json_object_set_new(d, "promulgation_place", json_string_nocheck("H\xC3\x28"));
    json_avro_utf8_checked(f->ja, 1);
    assert_int_equal(json_avro_from_json(f->ja, d, &f->v, f->err, sizeof f->err), 0);
    json_object_set_new(d, "promulgation_place", json_stringn_nocheck("a\0b", 3));
    assert_int_equal(json_avro_from_json(f->ja, d, &f->v, f->err, sizeof f->err), DB_ERR_INVALID);
    assert_string_equal(f->err, "promulgation_place: string is not valid UTF-8 text");
    json_avro_utf8_checked(f->ja, 0);
    json_object_set_new(d, "promulgation_place", json_string_nocheck("H\xC3\x28"));
    assert_int_equal(json_avro_from_json(f->ja, d, &f->v, f->err, sizeof f->err), DB_ERR_INVALID);
    json_decref(d);
    fx_free(f);
}

static void string_over_64k_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    size_t n = JSON_AVRO_STRING_CAP + 1;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    json_t *d = json_loads(doc_json, 0, NULL);
    json_object_set_new(d, "promulgation_place", json_string(big));
    assert_int_equal(json_avro_from_json(f->ja, d, &f->v, f->err, sizeof f->err), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "promulgation_place: string of 65537 bytes is over"));
    json_decref(d);
    free(big);
    fx_free(f);
}

static void invalid_utf8_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    json_t *d = json_loads(doc_json, 0, NULL);
    json_object_set_new(d, "promulgation_place", json_string_nocheck("H\xC3\x28"));
    assert_int_equal(json_avro_from_json(f->ja, d, &f->v, f->err, sizeof f->err), DB_ERR_INVALID);
    assert_string_equal(f->err, "promulgation_place: string is not valid UTF-8 text");
    json_object_set_new(d, "promulgation_place", json_string_nocheck("\xED\xA0\x80")); /* surrogate */
    assert_int_equal(json_avro_from_json(f->ja, d, &f->v, f->err, sizeof f->err), DB_ERR_INVALID);
    json_decref(d);
    fx_free(f);
}

static void unknown_enum_symbol_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    assert_int_equal(conv_doc_with(f, "document_type", "\"CONGVAN\""), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "document_type: unknown symbol \"CONGVAN\" of DocumentType"));
    fx_free(f);
}

static void impossible_date_is_rejected(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    assert_int_equal(conv_doc_with(f, "promulgation_date", "\"2018-02-30\""), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "promulgation_date: impossible date"));
    assert_int_equal(conv_doc_with(f, "promulgation_date", "\"01/02/2018\""), DB_ERR_INVALID);
    assert_int_equal(conv_doc_with(f, "promulgation_date", "17563"), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "expected a date string"));
    fx_free(f);
}

static void timestamps_accept_z_offset_and_vietnam_default(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_STATUS);
    const char *fmt = "{\"doc_id\":\"000.00.11.H29,2018/02/01,263/STTTT-CNTT\","
                      "\"from\":\"000.00.16.H29\",\"to\":\"000.00.11.H29\",\"code\":\"S01\","
                      "\"at\":\"%s\"}";
    const char *forms[] = {"2018-02-01T09:30:00+07:00", "2018-02-01T02:30:00Z",
                           "2018-02-01T09:30:00"};
    char buf[400];
    avro_value_t at;
    int64_t ms, first = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, fmt, forms[i]);
        assert_int_equal(conv(f, buf), 0);
        avro_value_get_by_name(&f->v, "at", &at, NULL);
        avro_value_get_long(&at, &ms);
        if (i == 0)
            first = ms;
        assert_true(ms == first);
    }
    assert_true(first == 1517452200000LL);
    snprintf(buf, sizeof buf, fmt, "2018-02-01T25:00:00");
    assert_int_equal(conv(f, buf), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "at: malformed time"));
    fx_free(f);
}

static void fixed_needs_exact_lowercase_hex(void **state)
{
    (void)state;
    struct fx *f = fx_new(misc_schema, 0);
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00ff10ab\"}"), 0);
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00FF10AB\"}"), DB_ERR_INVALID);
    assert_string_equal(f->err, "h: not lower-case hex at character 2");
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00ff10\"}"), DB_ERR_INVALID);
    assert_string_equal(f->err, "h: expected 8 hex digits (H4, 4 bytes), got 6");
    fx_free(f);
}

static void bytes_are_strict_base64_and_round_trip(void **state)
{
    (void)state;
    struct fx *f = fx_new(misc_schema, 0);
    json_t *out = NULL;
    avro_value_t b;
    const void *p;
    size_t n;
    assert_int_equal(conv(f, "{\"b\":\"aGk=\",\"h\":\"00000000\"}"), 0);
    avro_value_get_by_name(&f->v, "b", &b, NULL);
    avro_value_get_bytes(&b, &p, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(p, "hi", 2);
    assert_int_equal(json_avro_to_json(f->ja, &f->v, &out, f->err, sizeof f->err), 0);
    assert_string_equal(json_string_value(json_object_get(out, "b")), "aGk=");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "u"), "int")), 7);
    json_decref(out);
    assert_int_equal(conv(f, "{\"b\":\"aGk\",\"h\":\"00000000\"}"), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "b: not valid base64"));
    assert_int_equal(conv(f, "{\"b\":\"a=Gk\",\"h\":\"00000000\"}"), DB_ERR_INVALID);
    assert_int_equal(conv(f, "{\"b\":\"aG k\",\"h\":\"00000000\"}"), DB_ERR_INVALID);
    fx_free(f);
}

static void general_unions_need_a_branch_name(void **state)
{
    (void)state;
    struct fx *f = fx_new(misc_schema, 0);
    json_t *out = NULL;
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00000000\",\"u\":{\"string\":\"x\"}}"), 0);
    assert_int_equal(json_avro_to_json(f->ja, &f->v, &out, f->err, sizeof f->err), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "u"), "string")), "x");
    json_decref(out);
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00000000\",\"u\":3}"), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "u: expected an object with one key naming the branch, one of int, string"));
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00000000\",\"u\":{\"long\":3}}"), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "u: unknown union branch \"long\""));
    assert_int_equal(conv(f, "{\"b\":\"\",\"h\":\"00000000\",\"u\":null}"), DB_ERR_INVALID);
    assert_string_equal(f->err, "u: null is not allowed here");
    fx_free(f);
}

static void event_detail_errors_name_the_branch(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_EVENT);
    const char *ev = "{\"event_id\":\"R-1\",\"unit\":\"000.00.41.H29\","
                     "\"occurred_at\":\"2018-01-08T09:30:00\","
                     "\"detail\":{\"Rating\":{\"channel\":\"KIOSK\",\"level\":\"SATISFIED\"}}}";
    assert_int_equal(conv(f, ev), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "detail.Rating.channel: unknown symbol \"KIOSK\""));
    const char *ev2 = "{\"event_id\":\"R-1\",\"unit\":\"000.00.41.H29\","
                      "\"occurred_at\":\"2018-01-08T09:30:00\",\"detail\":{\"Vote\":{}}}";
    assert_int_equal(conv(f, ev2), DB_ERR_INVALID);
    assert_non_null(strstr(f->err, "detail: unknown union branch \"Vote\" (expected one of MailboxesIssued, Rating"));
    fx_free(f);
}

static void nullable_union_takes_plain_value_or_null(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, BODY_DOCUMENT);
    avro_value_t x, br;
    int disc = -1;
    assert_int_equal(conv_doc_with(f, "due_date", "\"2018-03-15\""), 0);
    avro_value_get_by_name(&f->v, "due_date", &x, NULL);
    avro_value_get_discriminant(&x, &disc);
    assert_int_equal(disc, 1);
    avro_value_get_current_branch(&x, &br);
    int32_t d = 0;
    avro_value_get_int(&br, &d);
    assert_int_equal(d, 17605);
    assert_int_equal(conv_doc_with(f, "due_date", "null"), 0);
    avro_value_get_by_name(&f->v, "due_date", &x, NULL);
    avro_value_get_discriminant(&x, &disc);
    assert_int_equal(disc, 0);
    assert_int_equal(conv_doc_with(f, "due_date", "{\"int\":17605}"), DB_ERR_INVALID);
    fx_free(f);
}

static void converter_rejects_a_broken_schema(void **state)
{
    (void)state;
    json_avro_t *ja = (json_avro_t *)1;
    char err[256];
    assert_int_equal(json_avro_new("{\"type\":\"recrd\"}", &ja, err, sizeof err), DB_ERR_INVALID);
    assert_null(ja);
    assert_int_equal(json_avro_new("{nope", &ja, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(json_avro_new_embedded("nope.avsc", &ja, err, sizeof err), DB_ERR_NOT_FOUND);
}

/* Borrowed strings point into the JSON input (no copy) and give the same value: the
 * same JSON back and the same Avro bytes as copied strings; a value reused after a
 * reset takes the next input's strings. */
static void borrowed_strings_point_into_the_input(void **state)
{
    (void)state;
    struct fx *copy = fx_new(NULL, BODY_DOCUMENT), *borrow = fx_new(NULL, BODY_DOCUMENT);
    json_t *in = json_loads(doc_json, 0, NULL), *out = NULL;
    const char *s;
    size_t n, len_c, len_b;
    char buf_c[4096], buf_b[4096];
    avro_value_t f;
    avro_writer_t w;
    assert_non_null(in);
    json_avro_borrow_strings(borrow->ja, 1);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(json_avro_from_json(copy->ja, in, &copy->v, copy->err, sizeof copy->err), 0);
        assert_int_equal(json_avro_from_json(borrow->ja, in, &borrow->v, borrow->err,
                                             sizeof borrow->err), 0);
        assert_int_equal(avro_value_get_by_name(&borrow->v, "subject", &f, NULL), 0);
        assert_int_equal(avro_value_get_string(&f, &s, &n), 0);
        assert_ptr_equal(s, json_string_value(json_object_get(in, "subject")));
        assert_int_equal(avro_value_get_by_name(&copy->v, "subject", &f, NULL), 0);
        assert_int_equal(avro_value_get_string(&f, &s, &n), 0);
        assert_ptr_not_equal(s, json_string_value(json_object_get(in, "subject")));
        w = avro_writer_memory(buf_c, sizeof buf_c);
        assert_int_equal(avro_value_write(w, &copy->v), 0);
        len_c = (size_t)avro_writer_tell(w);
        avro_writer_free(w);
        w = avro_writer_memory(buf_b, sizeof buf_b);
        assert_int_equal(avro_value_write(w, &borrow->v), 0);
        len_b = (size_t)avro_writer_tell(w);
        avro_writer_free(w);
        assert_int_equal(len_b, len_c);
        assert_memory_equal(buf_b, buf_c, len_c);
        assert_int_equal(json_avro_to_json(borrow->ja, &borrow->v, &out, borrow->err,
                                           sizeof borrow->err), 0);
        assert_true(json_subset(in, out));
        json_decref(out);
        out = NULL;
        /* the second round: another input, the same (reset) values */
        json_decref(in);
        in = json_loads(doc_json, 0, NULL);
        json_object_set_new(in, "subject", json_string("Về việc thứ hai"));
    }
    json_decref(in);
    fx_free(copy);
    fx_free(borrow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(document_takes_schema_defaults),
        cmocka_unit_test(document_round_trips_through_json),
        cmocka_unit_test(event_union_of_records_round_trips),
        cmocka_unit_test(unknown_field_is_rejected_with_its_path),
        cmocka_unit_test(missing_field_without_default_is_rejected),
        cmocka_unit_test(wrong_json_type_is_rejected),
        cmocka_unit_test(int_out_of_range_is_rejected),
        cmocka_unit_test(subject_is_capped_at_500_characters_not_bytes),
        cmocka_unit_test(string_over_64k_is_rejected),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(utf8_checked_skips_the_per_string_check),
        cmocka_unit_test(unknown_enum_symbol_is_rejected),
        cmocka_unit_test(impossible_date_is_rejected),
        cmocka_unit_test(timestamps_accept_z_offset_and_vietnam_default),
        cmocka_unit_test(fixed_needs_exact_lowercase_hex),
        cmocka_unit_test(bytes_are_strict_base64_and_round_trip),
        cmocka_unit_test(general_unions_need_a_branch_name),
        cmocka_unit_test(event_detail_errors_name_the_branch),
        cmocka_unit_test(nullable_union_takes_plain_value_or_null),
        cmocka_unit_test(converter_rejects_a_broken_schema),
        cmocka_unit_test(borrowed_strings_point_into_the_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
