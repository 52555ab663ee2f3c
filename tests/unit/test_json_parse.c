/* test_json_parse.c - json_parse gives jansson's values and jansson's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_parse.h"

/* text must parse, to the value json_loadb gives it. */
static void same_as_jansson(const char *text)
{
    json_t *mine = NULL, *ref;
    json_error_t jerr;
    char err[256] = "";
    ref = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!ref)
        fail_msg("jansson refuses %s: %s", text, jerr.text);
    if (json_parse(text, strlen(text), &mine, err, sizeof err))
        fail_msg("json_parse refuses %s: %s", text, err);
    if (!json_equal(mine, ref))
        fail_msg("json_parse(%s) differs from jansson's value", text);
    json_decref(mine);
    json_decref(ref);
}

/* text (len bytes) must be refused with reason in the message; jansson refuses it too
 * unless jansson_accepts. */
static void refused(const char *text, size_t len, const char *reason, int jansson_accepts)
{
    json_t *mine = (json_t *)1, *ref;
    char err[256] = "";
    assert_int_equal(json_parse(text, len, &mine, err, sizeof err), -1);
    assert_null(mine);
    if (!strstr(err, reason) || strncmp(err, "column ", 7) != 0)
        fail_msg("refusal of %.*s says \"%s\", expected \"column N: ...%s...\"", (int)len, text,
                 err, reason);
    ref = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!jansson_accepts && ref)
        fail_msg("jansson accepts %.*s", (int)len, text);
    json_decref(ref);
}

static void test_values_match_jansson(void **state)
{
    (void)state;
    same_as_jansson("{\"type\":\"document\",\"to\":[{\"code\":\"000.00.46.H29\"}],\"n\":3}");
    same_as_jansson("{\"subject\":\"Về việc ứng dụng chữ ký số\",\"a\":[],\"o\":{}}");
    same_as_jansson("[1, -2, 9223372036854775807, -9223372036854775808, 1.5, -0.25e3, 1E2]");
    same_as_jansson("{\"t\":true,\"f\":false,\"n\":null,\"s\":\"\"}");
    same_as_jansson("{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u1ea1\"}");
    same_as_jansson("{\"pair\":\"\\ud83d\\ude00\",\"raw\":\"😀\"}");
    same_as_jansson("\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\"");
    same_as_jansson("  {\"deep\":[[[[{\"x\":[1]}]]]]}  ");
    same_as_jansson("\"just a string\"");
    same_as_jansson("-12.5e1 ");
    same_as_jansson(" 7");
    same_as_jansson("{\"a\":1} \t\r\n");
    same_as_jansson("{\"\":1,\"a\\\\ud800\":2}");   /* escaped backslash, not a surrogate */
}

static void test_refusals(void **state)
{
    (void)state;
    const char nul_inside[] = "{\"a\":\"x\0y\"}";
    refused("{\"a\":1,\"a\":2}", 13, "duplicate object key", 0);
    refused("{\"a\":\"\\u0000\"}", 14, "\\u0000", 0);
    refused("{\"\\u0000\":1}", 12, "\\u0000", 0);
    refused("{\"a\":\"\\ud800\"}", 14, "", 0);         /* lone surrogate: jansson's path */
    refused("{\"a\":\"\\udc00x\"}", 15, "", 0);
    refused("{\"a\":\"\xc3\x28\"}", 9, "unable to decode byte", 0);
    refused("{\"a\":1} x", 9, "end of file expected", 0);
    refused("{\"a\":1}{}", 9, "end of file expected", 0);
    refused("{\"a\":99999999999999999999}", 26, "too big integer", 0);
    refused("{\"a\":1e999}", 11, "overflow", 0);
    refused("{\"a\":", 5, "end of file", 0);
    refused("{\"a\" 1}", 7, "", 0);
    refused("{'a':1}", 7, "", 0);
    refused("{\"a\":01}", 8, "", 0);
    refused("{\"a\":1,}", 8, "", 0);
    refused("// c\n{}", 7, "", 0);
    refused("", 0, "", 0);
    refused("   ", 3, "", 0);
    refused(nul_inside, sizeof nul_inside - 1, "", 0);
    refused("\"a:\"\")", 6, "", 0);          /* found by fuzz_json */
    refused("\"Th\xc0\xa0nh\"", 8, "", 0);    /* overlong form of U+0020, found by fuzz_json */
    refused("\"\xe0\x80\xa0\"", 5, "", 0);       /* overlong, 3 bytes */
    refused("\"\xed\xa0\x80\"", 5, "", 0);       /* a surrogate in UTF-8 */
    refused("\"\xf4\x90\x80\x80\"", 6, "", 0);  /* above U+10FFFF */
    refused("\"\xe1\xbb\"", 4, "", 0);           /* cut short */
    refused("\"a\" \"b\"", 7, "", 0);
    refused("{\"a\":1}\"x", 9, "", 0);       /* an unterminated string after the value */
    refused("[1]  \"", 6, "", 0);
    refused("12 \"", 4, "", 0);
    refused("{\"a\":1}\v", 8, "", 0);    /* white space to yajl, not to JSON */
    refused("\f{\"a\":1}", 8, "", 0);
    refused("{\"a\":\"\\ud800\\\\\"}", 16, "", 0);
}

/* Text json_scan takes whole is built from its events (integers as text): the values at
 * both 64-bit edges are jansson's, and one past either edge leaves the scan for the full
 * path's refusal. */
static void test_scanned_integers_at_the_64_bit_edges(void **state)
{
    (void)state;
    same_as_jansson("{\"a\":9223372036854775807,\"b\":-9223372036854775808,\"c\":-0,\"d\":0}");
    same_as_jansson("[922337203685477580,-922337203685477580,10,-10,1844674407370955161]");
    refused("{\"a\":9223372036854775808}", 25, "too big integer", 0);
    refused("{\"a\":-9223372036854775809}", 26, "too big negative integer", 0);
    refused("{\"a\":18446744073709551616}", 26, "too big integer", 0);
    refused("{\"a\":1,\"b\":{\"c\":2,\"c\":3}}", 25, "duplicate object key", 0);
}

static void test_nesting_is_capped(void **state)
{
    (void)state;
    char deep[2 * JSON_PARSE_MAX_DEPTH + 8], ok[2 * JSON_PARSE_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i <= JSON_PARSE_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i <= JSON_PARSE_MAX_DEPTH; i++)
        deep[n++] = ']';
    refused(deep, n, "nested too deep", 1);
    n = 0;
    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++)
        ok[n++] = '[';
    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++)
        ok[n++] = ']';
    ok[n] = '\0';
    same_as_jansson(ok);
}

/* Every prefix of a valid record is refused, and never crashes: truncated lines are the
 * commonest bad input. */
static void test_every_truncation_is_refused(void **state)
{
    (void)state;
    const char *rec = "{\"type\":\"event\",\"unit\":\"000.00.08.H29\",\"x\":[1,2.5,{\"k\":\"Sở\"}],"
                      "\"b\":true,\"n\":null}";
    size_t len = strlen(rec);
    for (size_t i = 0; i < len; i++) {
        json_t *v = NULL;
        char err[256];
        if (json_parse(rec, i, &v, err, sizeof err) == 0)
            fail_msg("prefix of %zu bytes accepted", i);
    }
    same_as_jansson(rec);
}

/* The Unicode definition, decoded code point by code point: shortest form, at most
 * U+10FFFF, no surrogates. Slow and plain, to check json_utf8_valid against. */
static int utf8_reference(const unsigned char *s, size_t n)
{
    static const uint32_t min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        uint32_t cp;
        if (len == 0 || n - i < len)
            return 0;
        cp = len == 1 ? c : c & (0x7Fu >> len);
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] >> 6) != 2)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3Fu);
        }
        if (cp < min_of[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* Checks json_utf8_valid on seq (len bytes) after pre ASCII bytes and before post: the
 * eight-byte steps must find a sequence wherever it sits in a word. */
static void utf8_agrees(const unsigned char *seq, size_t len, size_t pre, size_t post)
{
    unsigned char buf[32];
    size_t n = pre + len + post;
    memset(buf, 'a', sizeof buf);
    memcpy(buf + pre, seq, len);
    if (json_utf8_valid((const char *)buf, n) != utf8_reference(buf, n))
        fail_msg("json_utf8_valid disagrees on %02x %02x %02x %02x (%zu bytes) at offset %zu of %zu",
                 seq[0], len > 1 ? seq[1] : 0, len > 2 ? seq[2] : 0, len > 3 ? seq[3] : 0, len,
                 pre, n);
}

/* Every one- and two-byte string at every offset in a word, every three-byte string
 * from E0 up at two offsets, and four-byte ones over the lead and second byte. */
static void test_utf8_matches_the_definition(void **state)
{
    static const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    unsigned char seq[4];
    (void)state;
    for (unsigned a = 0; a < 256; a++)
        for (size_t pre = 0; pre <= 9; pre++) {
            seq[0] = (unsigned char)a;
            utf8_agrees(seq, 1, pre, pre % 3);
            for (unsigned b = 0; b < 256; b++) {
                seq[1] = (unsigned char)b;
                utf8_agrees(seq, 2, pre, pre % 3);
            }
        }
    for (unsigned a = 0xE0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned c = 0; c < 256; c++) {
                seq[0] = (unsigned char)a, seq[1] = (unsigned char)b, seq[2] = (unsigned char)c;
                utf8_agrees(seq, 3, 0, 0);
                utf8_agrees(seq, 3, 7, 4);
            }
    for (unsigned a = 0xF0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t t = 0; t < sizeof tails * sizeof tails; t++) {
                seq[0] = (unsigned char)a, seq[1] = (unsigned char)b;
                seq[2] = tails[t % sizeof tails], seq[3] = tails[t / sizeof tails];
                for (size_t pre = 0; pre <= 8; pre += 4)
                    utf8_agrees(seq, 4, pre, 1);
            }
    /* and a valid Vietnamese line, every prefix (a cut sequence is invalid) */
    const char *vi = "{\"subject\":\"Về việc triển khai Kế hoạch số 12/KH-UBND của Ủy ban 𝔸\"}";
    for (size_t n = 0; n <= strlen(vi); n++)
        if (json_utf8_valid(vi, n) != utf8_reference((const unsigned char *)vi, n))
            fail_msg("json_utf8_valid disagrees on the first %zu bytes of %s", n, vi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_match_jansson),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_scanned_integers_at_the_64_bit_edges),
        cmocka_unit_test(test_nesting_is_capped),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_utf8_matches_the_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
