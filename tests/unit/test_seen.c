/* test_seen.c - records of the aggregator's dedup topic: grouped ids round trip, the
 * older one-id records still load, malformed lists are refused whole with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "idset.h"
#include "seen.h"

static void make_ids(uint8_t (*ids)[16], size_t n, uint8_t salt)
{
    for (size_t i = 0; i < n; i++) {
        memset(ids[i], salt, 16);
        memcpy(ids[i], &i, sizeof i);
    }
}

static void test_grouped_ids_round_trip(void **state)
{
    (void)state;
    static uint8_t ids[SEEN_IDS_MAX][16];
    char err[256], *buf;
    size_t len;
    idset_t *set = idset_new();
    make_ids(ids, SEEN_IDS_MAX, 0xa5);
    static const size_t sizes[] = {1, 2, 7, 100, SEEN_IDS_MAX - 1, SEEN_IDS_MAX};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        idset_clear(set);
        assert_int_equal(seen_record_encode((const uint8_t(*)[16])ids, n, &buf, &len), 0);
        assert_true(len > n * 16 && !memcmp(buf, "ids:", 4));
        assert_int_equal(seen_record_load(set, ids[0], 16, buf, len, err, sizeof err), 0);
        assert_int_equal(idset_size(set), n);
        for (size_t i = 0; i < n; i++)
            assert_true(idset_has(set, ids[i]));
        assert_false(n < SEEN_IDS_MAX && idset_has(set, ids[n]));
        free(buf);
    }
    assert_int_equal(seen_record_encode((const uint8_t(*)[16])ids, 0, &buf, &len), DB_ERR_INVALID);
    assert_int_equal(seen_record_encode((const uint8_t(*)[16])ids, SEEN_IDS_MAX + 1, &buf, &len),
                     DB_ERR_INVALID);
    idset_destroy(set);
}

static void test_single_id_records_of_older_aggregators_load(void **state)
{
    (void)state;
    uint8_t id[16];
    char err[256];
    idset_t *set = idset_new();
    memset(id, 7, sizeof id);
    assert_int_equal(seen_record_load(set, id, 16, "docbus.inbox.000.00.01.H29:3", 28, err, sizeof err), 0);
    assert_int_equal(idset_size(set), 1);
    assert_true(idset_has(set, id));
    assert_int_equal(seen_record_load(set, id, 15, "x", 1, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "not a message id"));
    idset_destroy(set);
}

/* Each damaged list is refused and adds nothing beyond the key. */
static void test_malformed_lists_are_refused(void **state)
{
    (void)state;
    uint8_t ids[3][16];
    char err[256], *buf, bad[200];
    size_t len;
    idset_t *set = idset_new();
    make_ids(ids, 3, 0x11);
    assert_int_equal(seen_record_encode((const uint8_t(*)[16])ids, 3, &buf, &len), 0);
    struct { const char *what; size_t cut; const char *head; const char *reason; } cases[] = {
        {"one byte short", 1, NULL, "holds 47 bytes, not 48"},
        {"count says 4", 0, "ids:4\n", "holds 48 bytes, not 64"},
        {"count 0", 0, "ids:0\n", "no valid count"},
        {"count too big", 0, "ids:4097\n", "no valid count"},
        {"count not a number", 0, "ids:3x\n", "no valid count"},
        {"no newline", 0, "ids:3", "no valid count"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t blen;
        if (cases[c].head) {
            size_t hl = strlen(cases[c].head);
            memcpy(bad, cases[c].head, hl);
            memcpy(bad + hl, ids, sizeof ids);
            blen = hl + sizeof ids;
        } else {
            memcpy(bad, buf, len - cases[c].cut);
            blen = len - cases[c].cut;
        }
        idset_clear(set);
        err[0] = 0;
        assert_int_equal(seen_record_load(set, ids[0], 16, bad, blen, err, sizeof err), DB_ERR_INVALID);
        if (!strstr(err, cases[c].reason))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[c].what, err, cases[c].reason);
        assert_false(idset_has(set, ids[1]));
    }
    /* a list whose first id is not the key */
    idset_clear(set);
    assert_int_equal(seen_record_load(set, ids[1], 16, buf, len, err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "start with its key"));
    free(buf);
    idset_destroy(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouped_ids_round_trip),
        cmocka_unit_test(test_single_id_records_of_older_aggregators_load),
        cmocka_unit_test(test_malformed_lists_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
