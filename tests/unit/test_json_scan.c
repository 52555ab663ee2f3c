/* test_json_scan.c - json_scan raises yajl's events for what it takes, takes only valid
 * JSON in strict UTF-8, and leaves the rest to yajl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "json_parse.h"
#include "json_scan.h"

/* The events of one pass, as text: "{ k:a n:1 s:x }" and so on. */
struct log {
    char s[4096];
    size_t len;
    int events;
    int refuse_at;   /* the event (counted from 1) a callback refuses; 0: none */
};

static int add(void *ctx, const char *tag, const void *s, size_t n)
{
    struct log *l = ctx;
    int w = snprintf(l->s + l->len, sizeof l->s - l->len, "%s%.*s ", tag, (int)n,
                     s ? (const char *)s : "");
    if (w < 0 || (size_t)w >= sizeof l->s - l->len)
        fail_msg("event log overflow");
    l->len += (size_t)w;
    return ++l->events != l->refuse_at;
}

static int ev_null(void *c) { return add(c, "null", NULL, 0); }
static int ev_bool(void *c, int b) { return add(c, b ? "true" : "false", NULL, 0); }
static int ev_num(void *c, const char *s, size_t n) { return add(c, "n:", s, n); }
static int ev_str(void *c, const unsigned char *s, size_t n) { return add(c, "s:", s, n); }
static int ev_key(void *c, const unsigned char *s, size_t n) { return add(c, "k:", s, n); }
static int ev_om(void *c) { return add(c, "{", NULL, 0); }
static int ev_cm(void *c) { return add(c, "}", NULL, 0); }
static int ev_oa(void *c) { return add(c, "[", NULL, 0); }
static int ev_ca(void *c) { return add(c, "]", NULL, 0); }

static const yajl_callbacks cbs = {
    ev_null, ev_bool, NULL, NULL, ev_num, ev_str, ev_om, ev_key, ev_cm, ev_oa, ev_ca,
};

/* yajl's events for text[0..n), as the import configures it; 0 when yajl refuses it. */
static int yajl_events(const char *text, size_t n, struct log *l)
{
    yajl_handle h = yajl_alloc(&cbs, NULL, l);
    yajl_status st;
    memset(l, 0, sizeof *l);
    yajl_config(h, yajl_dont_validate_strings, 1);
    st = yajl_parse(h, (const unsigned char *)text, n);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    yajl_free(h);
    return st == yajl_status_ok;
}

static int jansson_takes(const char *text, size_t n)
{
    json_t *v = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_decref(v);
    return v != NULL;
}

/* text must be scanned whole, with yajl's events, and be JSON to jansson too. */
static void scanned_like_yajl(const char *text)
{
    struct log mine = {0}, ref;
    size_t n = strlen(text);
    if (json_scan(text, n, &cbs, &mine) != JSON_SCAN_DONE)
        fail_msg("json_scan does not take %s", text);
    if (!yajl_events(text, n, &ref))
        fail_msg("yajl refuses %s", text);
    if (strcmp(mine.s, ref.s) != 0)
        fail_msg("events of %s differ:\n json_scan: %s\n yajl:      %s", text, mine.s, ref.s);
    if (!jansson_takes(text, n))
        fail_msg("jansson refuses %s", text);
}

static void left_to_yajl(const char *text, size_t n)
{
    struct log l = {0};
    if (json_scan(text, n, &cbs, &l) != JSON_SCAN_UNHANDLED)
        fail_msg("json_scan takes %.*s", (int)n, text);
}

static void test_common_forms_give_yajls_events(void **state)
{
    (void)state;
    scanned_like_yajl("{\"type\":\"document\",\"to\":[{\"code\":\"000.00.46.H29\",\"name\":"
                      "\"Ủy ban nhân dân Quận 8\"}],\"page_amount\":3}");
    scanned_like_yajl("{\"subject\":\"Về việc ứng dụng chữ ký số 𝔸 \x7f\",\"a\":[],\"o\":{}}");
    scanned_like_yajl("[0, -0, 7, -12, 9223372036854775807, -9223372036854775808]");
    scanned_like_yajl("{\"t\":true,\"f\":false,\"n\":null,\"s\":\"\",\"k\":{\"\":1}}");
    scanned_like_yajl(" \t\r\n{ \"deep\" : [ [ [ [ { \"x\" : [ 1 ] } ] ] ] ] } \n ");
    scanned_like_yajl("\"just a string\"");
    scanned_like_yajl("42");
    scanned_like_yajl("true");
    scanned_like_yajl("null ");
    scanned_like_yajl("[[],{},[{}],\"\"]");
    scanned_like_yajl("{\"dup\":1,\"dup\":2}");   /* duplicates are the callbacks' concern */
}

static void test_the_rest_is_left_to_yajl(void **state)
{
    static const char *const texts[] = {
        "",
        "   ",
        "{\"esc\":\"a\\\"b\"}",
        "{\"k\\u0041\":1}",
        "{\"tab\":\"a\tb\"}",
        "[1.5]",
        "[1e2]",
        "[-0.0]",
        "[01]",
        "[-]",
        "[- 1]",
        "[+1]",
        "{} x",
        "{}{}",
        "[1,]",
        "[,1]",
        "{,}",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{a:1}",
        "{\"a\":1",
        "[1 2]",
        "[tru]",
        "[nul]",
        "[falsey]",
        "[True]",
        "\"open",
        "{\"a\":1]",
        "[1}",
        "]",
        "\v{}",
        "{}\f",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        left_to_yajl(texts[i], strlen(texts[i]));
    left_to_yajl("{\"nul\":\"a\0b\"}", 13);
    left_to_yajl("{\"a\":1}\0", 8);
}

static void test_nesting_over_the_cap_is_left_to_yajl(void **state)
{
    char text[2 * JSON_SCAN_MAX_DEPTH + 8];
    size_t n = 0;
    (void)state;
    for (int i = 0; i < JSON_SCAN_MAX_DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i < JSON_SCAN_MAX_DEPTH; i++)
        text[n++] = ']';
    text[n] = '\0';
    scanned_like_yajl(text);
    memmove(text + 1, text, n + 1);
    text[0] = '[';
    text[n + 1] = ']';
    text[n + 2] = '\0';
    left_to_yajl(text, n + 2);
}

/* No strict prefix of a complete object is taken: the scanner never guesses an end. */
static void test_every_truncation_is_left_to_yajl(void **state)
{
    const char *text = "{\"a\":[1,{\"b\":\"xyz\"},true,null],\"c\":\"Quận 1\",\"d\":-20}";
    (void)state;
    scanned_like_yajl(text);
    for (size_t n = 0; n < strlen(text); n++)
        left_to_yajl(text, n);
}

/* Quotes, backslashes and control bytes at every offset of the eight-byte steps. */
static void test_string_ends_are_found_at_every_offset(void **state)
{
    (void)state;
    for (size_t at = 0; at < 20; at++) {
        char text[64], want[64];
        struct log l = {0};
        memset(text, 0, sizeof text);
        text[0] = '"';
        memset(text + 1, 'a', at);
        memcpy(text + 1 + at, "\xc3\xa1\"", 4);   /* "á" then the closing quote */
        if (json_scan(text, strlen(text), &cbs, &l) != JSON_SCAN_DONE)
            fail_msg("not taken: %s", text);
        snprintf(want, sizeof want, "s:%.*s ", (int)(at + 2), text + 1);
        assert_string_equal(l.s, want);
        for (int bad = 0; bad < 3; bad++) {
            static const char special[] = {'\\', 0x1f, '\n'};
            char t2[64];
            memcpy(t2, text, sizeof t2);
            t2[1 + at] = special[bad];
            left_to_yajl(t2, strlen(text));
        }
    }
}

/* A string of pre + seq (seq_len bytes) + "x" is taken exactly when its bytes are
 * strict UTF-8 (json_utf8_valid) with no quote, backslash or control byte. */
static void utf8_agrees(const unsigned char *seq, size_t seq_len, size_t pre)
{
    char text[32], content[32];
    size_t n = 0, c = 0;
    int plain = 1;
    struct log l = {0};
    for (size_t i = 0; i < pre; i++)
        content[c++] = 'a';
    for (size_t i = 0; i < seq_len; i++) {
        content[c++] = (char)seq[i];
        plain &= seq[i] != '"' && seq[i] != '\\' && seq[i] >= 0x20;
    }
    content[c++] = 'x';
    text[n++] = '"';
    memcpy(text + n, content, c);
    n += c;
    text[n++] = '"';
    int want = plain && json_utf8_valid(content, c);
    int got = json_scan(text, n, &cbs, &l) == JSON_SCAN_DONE;
    if (got != want)
        fail_msg("json_scan %s the string of %zu 'a' then %02x %02x %02x %02x (%zu bytes)",
                 got ? "takes" : "leaves", pre, seq[0], seq_len > 1 ? seq[1] : 0,
                 seq_len > 2 ? seq[2] : 0, seq_len > 3 ? seq[3] : 0, seq_len);
}

/* Every pair of bytes, and the edges of the three- and four-byte forms, at offsets
 * that put them on and across the eight-byte steps. */
static void test_strings_must_be_strict_utf8(void **state)
{
    static const unsigned char edge[] = {0x00, 0x22, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                         0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed,
                                         0xef, 0xf0, 0xf4, 0xf5, 0xff};
    const size_t ne = sizeof edge;
    (void)state;
    for (size_t pre = 0; pre < 10; pre += 3)
        for (unsigned a = 0; a < 256; a++)
            for (unsigned b = 0; b < 256; b++)
                utf8_agrees((unsigned char[]){(unsigned char)a, (unsigned char)b}, 2, pre);
    for (size_t pre = 0; pre < 10; pre++)
        for (size_t a = 0; a < ne; a++)
            for (size_t b = 0; b < ne; b++)
                for (size_t c = 0; c < ne; c++) {
                    unsigned char seq[4] = {edge[a], edge[b], edge[c], 0x80};
                    utf8_agrees(seq, 3, pre);
                    utf8_agrees(seq, 4, pre);
                    seq[3] = 0xbf;
                    utf8_agrees(seq, 4, pre);
                }
    /* outside strings only ASCII stands */
    left_to_yajl("{\"a\":1}\xc2\xa0", 9);
    left_to_yajl("\xef\xbb\xbf{}", 5);
}

static void test_a_refusing_callback_stops_the_scan(void **state)
{
    const char *text = "{\"a\":[1,2],\"b\":\"x\"}";
    (void)state;
    for (int k = 1; k <= 9; k++) {
        struct log l = {.refuse_at = k};
        assert_int_equal(json_scan(text, strlen(text), &cbs, &l), JSON_SCAN_REFUSED);
        assert_int_equal(l.events, k);
    }
    struct log l = {.refuse_at = 10};
    assert_int_equal(json_scan(text, strlen(text), &cbs, &l), JSON_SCAN_DONE);
    assert_int_equal(l.events, 9);
}

static void test_callbacks_without_yajl_number_are_not_scanned(void **state)
{
    yajl_callbacks no_number = cbs;
    struct log l = {0};
    (void)state;
    no_number.yajl_number = NULL;
    assert_int_equal(json_scan("{}", 2, &no_number, &l), JSON_SCAN_UNHANDLED);
    assert_int_equal(l.events, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_forms_give_yajls_events),
        cmocka_unit_test(test_the_rest_is_left_to_yajl),
        cmocka_unit_test(test_nesting_over_the_cap_is_left_to_yajl),
        cmocka_unit_test(test_every_truncation_is_left_to_yajl),
        cmocka_unit_test(test_string_ends_are_found_at_every_offset),
        cmocka_unit_test(test_strings_must_be_strict_utf8),
        cmocka_unit_test(test_a_refusing_callback_stops_the_scan),
        cmocka_unit_test(test_callbacks_without_yajl_number_are_not_scanned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
