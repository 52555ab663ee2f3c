/* test_units.c - the unit registry: loading, lookup, iteration, rejection of bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "schemas_embedded.h"
#include "units.h"

#define REGISTRY_FILE "schemas/units-hcmc.json"

static units_t *load_file(void)
{
    units_t *u = NULL;
    char err[256];
    if (units_load(REGISTRY_FILE, &u, err, sizeof err) != 0)
        fail_msg("%s", err);
    return u;
}

static void hcmc_registry_has_the_units_the_report_names(void **state)
{
    (void)state;
    units_t *u = load_file();
    int kinds[6] = {0};
    for (size_t i = 0; i < units_count(u); i++)
        kinds[units_at(u, i)->kind]++;
    assert_int_equal(kinds[UNIT_CITY], 1);
    assert_int_equal(kinds[UNIT_DISTRICT], 24);
    assert_true(kinds[UNIT_DEPARTMENT] >= 18); /* with the 24 districts: 42 rating units */
    assert_true(kinds[UNIT_WARD] > 0 && kinds[UNIT_PRESS] > 0 && kinds[UNIT_CORPORATION] > 0);
    const unit_t *s = units_find(u, "000.00.11.H29");
    assert_non_null(s);
    assert_string_equal(s->name, "Sở Thông tin và Truyền thông");
    assert_string_equal(s->abbr, "STTTT");
    assert_int_equal(s->kind, UNIT_DEPARTMENT);
    units_destroy(u);
}

static void find_returns_every_unit_and_nothing_else(void **state)
{
    (void)state;
    units_t *u = load_file();
    for (size_t i = 0; i < units_count(u); i++) {
        const unit_t *a = units_at(u, i);
        assert_ptr_equal(units_find(u, a->code), a);
        assert_true(unit_code_valid(a->code));
    }
    assert_null(units_find(u, "000.00.99.H29"));
    assert_null(units_find(u, NULL));
    assert_null(units_at(u, units_count(u)));
    units_destroy(u);
}

static void embedded_copy_equals_the_file(void **state)
{
    (void)state;
    units_t *e = NULL, *f;
    char err[256];
    int rc = units_load(NULL, &e, err, sizeof err);
    if (rc == DB_ERR_NOT_FOUND)
        skip(); /* binary built before the registry was embedded */
    assert_int_equal(rc, 0);
    f = load_file();
    assert_int_equal(units_count(e), units_count(f));
    for (size_t i = 0; i < units_count(f); i++)
        assert_string_equal(units_at(e, i)->code, units_at(f, i)->code);
    units_destroy(e);
    units_destroy(f);
}

static int parse(const char *json, char *err, size_t n)
{
    units_t *u = (units_t *)1;
    int rc = units_parse(json, strlen(json), "t.json", &u, err, n);
    if (rc)
        assert_null(u);
    units_destroy(rc ? NULL : u);
    return rc;
}

static void bad_registries_are_rejected_with_a_reason(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(parse("{\"units\":[{\"code\":\"000.00.11.H29\",\"name\":\"a\",\"kind\":\"city\"}]}",
                           err, sizeof err), 0);
    assert_int_equal(parse("{\"units\":[{\"code\":\"0.0.11.H29\",\"name\":\"a\",\"kind\":\"city\"}]}",
                           err, sizeof err), DB_ERR_INVALID);
    assert_string_equal(err, "t.json: units[0].code: \"0.0.11.H29\" is not an organisation code "
                             "like 000.00.11.H29");
    assert_int_equal(parse("{\"units\":[{\"code\":\"000.00.11.H29\",\"name\":\"a\",\"kind\":\"town\"}]}",
                           err, sizeof err), DB_ERR_INVALID);
    assert_non_null(strstr(err, "unknown kind \"town\""));
    assert_int_equal(parse("{\"units\":[{\"code\":\"000.00.11.H29\",\"name\":\"a\",\"kind\":\"city\"},"
                           "{\"code\":\"000.00.11.H29\",\"name\":\"b\",\"kind\":\"ward\"}]}",
                           err, sizeof err), DB_ERR_INVALID);
    assert_string_equal(err, "t.json: duplicate unit code \"000.00.11.H29\"");
    assert_int_equal(parse("{\"unit\":[]}", err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(parse("[", err, sizeof err), DB_ERR_INVALID);
}

static void missing_file_is_an_io_error(void **state)
{
    (void)state;
    units_t *u = (units_t *)1;
    char err[256];
    assert_int_equal(units_load("/nonexistent/units.json", &u, err, sizeof err), DB_ERR_IO);
    assert_null(u);
    assert_non_null(strstr(err, "/nonexistent/units.json"));
}

static void code_shape_is_checked(void **state)
{
    (void)state;
    assert_true(unit_code_valid("000.00.00.G22"));
    assert_true(unit_code_valid("002.00.20.H13"));
    assert_false(unit_code_valid("000.00.00.h29"));
    assert_false(unit_code_valid("000.00.00.H29 "));
    assert_false(unit_code_valid("000-00.00.H29"));
    assert_false(unit_code_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hcmc_registry_has_the_units_the_report_names),
        cmocka_unit_test(find_returns_every_unit_and_nothing_else),
        cmocka_unit_test(embedded_copy_equals_the_file),
        cmocka_unit_test(bad_registries_are_rejected_with_a_reason),
        cmocka_unit_test(missing_file_is_an_io_error),
        cmocka_unit_test(code_shape_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
