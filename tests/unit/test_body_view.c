/* test_body_view.c - the arena view reads every body as Avro-C's generic decode does
 * (equal values, equal JSON), across multi-block arrays, repeated map keys and a string
 * bigger than an arena chunk; refuses truncated and over-long input and what the guard's
 * caps refuse; stays read-only.
 * Paths are relative to $DOCBUS_ROOT (default: the current directory). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "avro_guard.h"
#include "body_view.h"
#include "codec.h"
#include "error.h"
#include "json_avro.h"
#include "jsonl.h"
#include "schema.h"

#define BODY_CAP (1 << 20)

/* Avro-C's generic decode of body[0..len) as schema into a new value (decref it). */
static void generic_read(avro_schema_t schema, const uint8_t *body, size_t len, avro_value_iface_t **iface,
                         avro_value_t *v)
{
    avro_reader_t r = avro_reader_memory((const char *)body, (int64_t)len);
    *iface = avro_generic_class_from_schema(schema);
    assert_non_null(*iface);
    assert_int_equal(avro_generic_value_new(*iface, v), 0);
    assert_int_equal(avro_value_read(r, v), 0);
    avro_reader_free(r);
}

static void generic_free(avro_value_iface_t *iface, avro_value_t *v)
{
    avro_value_decref(v);
    avro_value_iface_decref(iface);
}

/* Every prefix of body and body plus one byte are refused, never read past. */
static void refuses_cut_and_long(body_view_t *bv, avro_schema_t schema, const uint8_t *body, size_t len)
{
    char err[256];
    avro_value_t *out;
    uint8_t *copy = malloc(len + 1);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *exact = malloc(cut ? cut : 1);   /* exactly cut bytes: ASan sees overreads */
        memcpy(exact, body, cut);
        if (body_view_read(bv, schema, exact, cut, NULL, &out, err, sizeof err) != DB_ERR_INVALID)
            fail_msg("a body cut to %zu of %zu bytes was accepted", cut, len);
        free(exact);
    }
    memcpy(copy, body, len);
    copy[len] = 0;
    assert_int_equal(body_view_read(bv, schema, copy, len + 1, NULL, &out, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "after the end"));
    free(copy);
}

static void test_sample_bodies_match_avro_c(void **state)
{
    (void)state;
    char path[1024], err[512], *line = NULL;
    const char *root = getenv("DOCBUS_ROOT") ? getenv("DOCBUS_ROOT") : ".";
    size_t cap = 0, n = 0;
    ssize_t len;
    uint8_t *buf = malloc(BODY_CAP);
    json_avro_t *ja[3] = {0};
    avro_value_t jv[3];
    body_view_t *bv = body_view_new();
    FILE *f;
    assert_int_equal(schemas_init(err, sizeof err), 0);
    for (int t = 0; t < 3; t++) {
        assert_int_equal(json_avro_new_body((body_type_t)t, &ja[t], err, sizeof err), 0);
        assert_int_equal(json_avro_value_new(ja[t], &jv[t]), 0);
    }
    snprintf(path, sizeof path, "%s/tests/it/data/second-2019q3.jsonl", root);
    f = fopen(path, "r");
    assert_non_null(f);
    while ((len = getline(&line, &cap, f)) > 0) {
        body_type_t t;
        json_t *rec = NULL, *j1 = NULL, *j2 = NULL;
        size_t blen;
        avro_value_iface_t *gi;
        avro_value_t gv, *vv;
        avro_schema_t schema;
        while (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (jsonl_parse_line(line, (size_t)len, &t, &rec, err, sizeof err))
            fail_msg("%s: %s", path, err);
        if (json_avro_from_json(ja[t], rec, &jv[t], err, sizeof err) ||
            body_encode(&jv[t], buf, BODY_CAP, &blen))
            fail_msg("line %zu: %s", n + 1, err);
        schema = avro_value_get_schema(&jv[t]);
        generic_read(schema, buf, blen, &gi, &gv);
        assert_int_equal(body_view_read(bv, schema, buf, blen, NULL, &vv, err, sizeof err), 0);
        assert_true(avro_value_equal(&gv, vv));
        assert_int_equal(json_avro_to_json(ja[t], &gv, &j1, err, sizeof err), 0);
        assert_int_equal(json_avro_to_json(ja[t], vv, &j2, err, sizeof err), 0);
        if (!json_equal(j1, j2))
            fail_msg("line %zu: the view reads as different JSON", n + 1);
        refuses_cut_and_long(bv, schema, buf, blen);
        json_decref(j1);
        json_decref(j2);
        json_decref(rec);
        generic_free(gi, &gv);
        n++;
    }
    assert_true(n >= 20);   /* documents, statuses and events of the second dataset */
    fclose(f);
    free(line);
    free(buf);
    for (int t = 0; t < 3; t++) {
        avro_value_decref(&jv[t]);
        json_avro_destroy(ja[t]);
    }
    body_view_destroy(bv);
}

static const char *every_type =
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"double\"]},"
    "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"Y\"]}},"
    "{\"name\":\"fl\",\"type\":\"float\"},"
    "{\"name\":\"b\",\"type\":\"bytes\"},"
    "{\"name\":\"t\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},"
    "{\"name\":\"s\",\"type\":\"string\"}]}";

/* Hand-written bytes: an array in two blocks (the second with its byte size), a map
 * whose key "k" comes twice, and a string larger than one arena chunk. */
static void test_blocks_repeated_keys_and_big_strings_match_avro_c(void **state)
{
    (void)state;
    static uint8_t body[200000];
    size_t n = 0;
    avro_schema_t schema;
    avro_value_iface_t *gi;
    avro_value_t gv, *vv, child;
    body_view_t *bv = body_view_new();
    char err[256];
    const char *s;
    size_t size, big = 100000;
    avro_guard_caps_t caps = {.string_max = 200000};
    assert_int_equal(avro_schema_from_json_length(every_type, strlen(every_type), &schema), 0);
    /* a: block of 2 (1, -1), block of -1 with byte size 1 (63), end */
    memcpy(body + n, "\x04\x02\x01\x01\x02\x7e\x00", 7);
    n += 7;
    /* m: block of 3: k->"a", j->"bc", k->"d", end */
    memcpy(body + n, "\x06\x02k\x02" "a\x02j\x04" "bc\x02k\x02" "d\x00", 15);
    n += 15;
    memcpy(body + n, "\x02\x00\x00\x00\x00\x00\x00\xf8\x3f", 9);   /* u: branch 1, 1.5 */
    n += 9;
    memcpy(body + n, "xyz\x02\x00\x00\xc0\x3f\x04\x00\xff\x01\x7f", 13);   /* f, e=Y, fl, b, t, i */
    n += 13;
    /* s: a string of 100000 'q' (varint 200000 = 0xc0 0x9a 0x0c) */
    memcpy(body + n, "\xc0\x9a\x0c", 3);
    n += 3;
    memset(body + n, 'q', big);
    n += big;
    generic_read(schema, body, n, &gi, &gv);
    /* over the default string cap (64 KiB), as avro_guard_check says too */
    assert_int_equal(body_view_read(bv, schema, body, n, NULL, &vv, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(avro_guard_check(schema, body, n, NULL, NULL, err, sizeof err), DB_ERR_LENGTH_CAP);
    assert_int_equal(avro_guard_check(schema, body, n, &caps, NULL, err, sizeof err), 0);
    assert_int_equal(body_view_read(bv, schema, body, n, &caps, &vv, err, sizeof err), 0);
    assert_true(avro_value_equal(&gv, vv));
    assert_int_equal(avro_value_get_by_name(vv, "m", &child, NULL), 0);
    assert_int_equal(avro_value_get_size(&child, &size), 0);
    assert_int_equal(size, 2);   /* "k" kept its place and took the later value */
    assert_int_equal(avro_value_get_by_name(vv, "a", &child, NULL), 0);
    assert_int_equal(avro_value_get_size(&child, &size), 0);
    assert_int_equal(size, 3);   /* both blocks */
    assert_int_equal(avro_value_get_by_name(vv, "s", &child, NULL), 0);
    assert_int_equal(avro_value_get_string(&child, &s, &size), 0);
    assert_int_equal(size, big + 1);
    assert_int_equal(s[big], '\0');
    /* read-only, typed, named */
    assert_int_equal(avro_value_set_string(&child, "x"), EINVAL);
    assert_int_equal(avro_value_get_long(&child, &(int64_t){0}), EINVAL);
    assert_int_equal(avro_value_get_by_name(vv, "nope", &child, NULL), EINVAL);
    assert_int_equal(avro_value_get_by_index(vv, 10, &child, NULL), EINVAL);
    /* names asked for at more addresses than the view remembers, and at one address whose
     * bytes change between lookups: each still finds its own field */
    {
        static const char *const names[] = {"a", "m", "u", "f", "e", "fl", "b", "t", "i", "s"};
        char *copies[80], at[4];
        for (size_t c = 0; c < 80; c++) {
            size_t ix = 99;
            copies[c] = strdup(names[c % 10]);
            assert_int_equal(avro_value_get_by_name(vv, copies[c], &child, &ix), 0);
            assert_int_equal(ix, c % 10);
            strcpy(at, names[(c * 7) % 10]);
            assert_int_equal(avro_value_get_by_name(vv, at, &child, &ix), 0);
            assert_int_equal(ix, (c * 7) % 10);
        }
        for (size_t c = 0; c < 80; c++)
            free(copies[c]);
    }
    /* the same view again, then a cut body */
    assert_int_equal(body_view_read(bv, schema, body, n, &caps, &vv, err, sizeof err), 0);
    assert_true(avro_value_equal(&gv, vv));
    assert_int_equal(body_view_read(bv, schema, body, n - 1, &caps, &vv, err, sizeof err), DB_ERR_INVALID);
    generic_free(gi, &gv);
    avro_schema_decref(schema);
    body_view_destroy(bv);
    body_view_destroy(NULL);
}

/* Bodies of varied sizes, one after another: the arena stays one chunk no larger than
 * what the biggest body needed (it used to add chunks without bound). */
static void test_arena_stays_bounded_over_varied_bodies(void **state)
{
    (void)state;
    static uint8_t body[300000];
    const char *schema_json =
        "{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"b\",\"type\":\"bytes\"},"
        "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"c\",\"type\":\"bytes\"}]}";
    avro_schema_t schema;
    avro_guard_caps_t caps = {.string_max = 200000, .bytes_max = 200000};
    body_view_t *bv = body_view_new();
    avro_value_t *vv;
    char err[256];
    size_t biggest = 0;
    unsigned seed = 7;
    assert_int_equal(avro_schema_from_json_length(schema_json, strlen(schema_json), &schema), 0);
    for (int i = 0; i < 300; i++) {
        size_t n = 0, sizes[3];
        for (int f = 0; f < 3; f++) {
            seed = seed * 1103515245u + 12345u;
            sizes[f] = 1000 + (seed >> 8) % 90000;
            uint64_t z = (uint64_t)sizes[f] << 1;   /* zig-zag of a positive length */
            while (z >= 0x80) {
                body[n++] = (uint8_t)(z | 0x80);
                z >>= 7;
            }
            body[n++] = (uint8_t)z;
            memset(body + n, 'a' + f, sizes[f]);
            n += sizes[f];
        }
        assert_int_equal(body_view_read(bv, schema, body, n, &caps, &vv, err, sizeof err), 0);
        if (n > biggest)
            biggest = n;
    }
    /* one chunk, at most what the biggest body took with its alignment and chunk rounding */
    assert_true(body_view_arena_bytes(bv) <= 2 * biggest + 65536);
    avro_schema_decref(schema);
    body_view_destroy(bv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_bodies_match_avro_c),
        cmocka_unit_test(test_blocks_repeated_keys_and_big_strings_match_avro_c),
        cmocka_unit_test(test_arena_stays_bounded_over_varied_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
