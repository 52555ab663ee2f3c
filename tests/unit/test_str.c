/* test_str.c - str_join and the decimal writers agree with snprintf, truncation
 * included; str_fnv64 is FNV-1a; strindex keeps every name's value across growth. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "str.h"
#include "strindex.h"

static void test_join_matches_snprintf_at_every_size(void **state)
{
    (void)state;
    char got[40], want[40];
    for (size_t size = 0; size <= sizeof got; size++) {
        memset(got, 'x', sizeof got);
        memset(want, 'x', sizeof want);
        size_t n = str_join(got, size, "inbox.", "", "000.00.43.H29", "|", NULL);
        int w = snprintf(want, size, "%s%s%s%s", "inbox.", "", "000.00.43.H29", "|");
        assert_int_equal(n, (size_t)w);
        assert_memory_equal(got, want, sizeof got);   /* bytes past the end untouched too */
    }
    assert_int_equal(str_join(got, sizeof got, NULL), 0);
    assert_string_equal(got, "");
}

static void test_decimal_matches_snprintf(void **state)
{
    (void)state;
    const int64_t v[] = {0, 1, 9, 10, 99, 100, 12345, -1, -10, INT64_MAX, INT64_MIN, 1795922415374};
    char got[21], want[32];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        snprintf(want, sizeof want, "%" PRId64, v[i]);
        assert_string_equal(str_i64(got, v[i]), want);
        snprintf(want, sizeof want, "%" PRIu64, (uint64_t)v[i]);
        assert_string_equal(str_u64(got, (uint64_t)v[i]), want);
    }
}

/* The published FNV-1a 64-bit vectors (offset basis, "a", "foobar"). */
static void test_fnv64_is_fnv1a(void **state)
{
    (void)state;
    assert_true(str_fnv64("") == 0xcbf29ce484222325ULL);
    assert_true(str_fnv64("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(str_fnv64("foobar") == 0x85944171f73967e8ULL);
}

static void test_index_keeps_values_across_growth(void **state)
{
    (void)state;
    strindex_t *ix = strindex_new();
    char name[64];
    assert_non_null(ix);
    assert_int_equal(strindex_get(ix, "missing"), -1);
    assert_null(strindex_key(ix, "missing"));
    const char *first = NULL;
    for (long i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "p.inbox.000.%02ld.%02ld.H29", i / 100, i % 100);
        assert_int_equal(strindex_put(ix, name, i), 0);
        if (i == 0)
            first = strindex_key(ix, name);
    }
    /* the index's copy of a name stays where it was through growth */
    assert_ptr_equal(strindex_key(ix, "p.inbox.000.00.00.H29"), first);
    assert_string_equal(first, "p.inbox.000.00.00.H29");
    assert_int_equal(strindex_size(ix), 3000);
    for (long i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "p.inbox.000.%02ld.%02ld.H29", i / 100, i % 100);
        assert_int_equal(strindex_get(ix, name), i);
    }
    assert_int_equal(strindex_put(ix, "p.inbox.000.00.07.H29", 42), 0);   /* replaced */
    assert_int_equal(strindex_get(ix, "p.inbox.000.00.07.H29"), 42);
    assert_int_equal(strindex_size(ix), 3000);
    assert_int_equal(strindex_get(ix, "p.inbox.000.00.07.H2"), -1);     /* a prefix */
    assert_int_equal(strindex_get(ix, ""), -1);
    assert_int_equal(strindex_put(ix, "", 7), 0);
    assert_int_equal(strindex_get(ix, ""), 7);
    strindex_destroy(ix);
    strindex_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv64_is_fnv1a),
        cmocka_unit_test(test_join_matches_snprintf_at_every_size),
        cmocka_unit_test(test_decimal_matches_snprintf),
        cmocka_unit_test(test_index_keeps_values_across_growth),
    };
    return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
