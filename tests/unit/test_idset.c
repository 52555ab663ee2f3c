/* test_idset.c - the dedup set keeps every id exactly once, across growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "idset.h"

static void make_id(uint32_t i, uint8_t id[16])
{
    memset(id, 0, 16);
    /* deliberately poor ids (mostly zero bytes) to exercise probing */
    memcpy(id + 12, &i, 4);
    id[0] = (uint8_t)(i * 7);
}

static void test_add_has_across_growth(void **state)
{
    (void)state;
    idset_t *s = idset_new();
    uint8_t id[16];
    assert_non_null(s);
    for (uint32_t i = 0; i < 200000; i++) {
        make_id(i, id);
        assert_int_equal(idset_add(s, id), 1);
    }
    assert_int_equal(idset_size(s), 200000);
    for (uint32_t i = 0; i < 200000; i++) {
        make_id(i, id);
        assert_int_equal(idset_has(s, id), 1);
        assert_int_equal(idset_add(s, id), 0);
    }
    make_id(200001, id);
    assert_int_equal(idset_has(s, id), 0);
    assert_int_equal(idset_size(s), 200000);
    idset_clear(s);
    make_id(5, id);
    assert_int_equal(idset_has(s, id), 0);
    assert_int_equal(idset_size(s), 0);
    idset_destroy(s);
    idset_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_add_has_across_growth)};
    return cmocka_run_group_tests_name("idset", tests, NULL, NULL);
}
