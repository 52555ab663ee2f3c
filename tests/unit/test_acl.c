/* test_acl.c - ACLs derived from the unit registry: each unit reads only its own inbox,
 * the auditor writes nothing, the aggregator has its transactions; diff and format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acl.h"
#include "error.h"
#include "units.h"

#define TWO_UNITS                                                                        \
    "{\"units\": [{\"code\": \"000.00.11.H29\", \"name\": \"A\", \"kind\": \"department\"}," \
    " {\"code\": \"000.00.12.H29\", \"name\": \"B\", \"kind\": \"department\"}]}"
#define UA "User:000.00.11.H29"
#define UB "User:000.00.12.H29"

static units_t *two_units(void)
{
    units_t *u = NULL;
    char err[256];
    if (units_parse(TWO_UNITS, strlen(TWO_UNITS), "test", &u, err, sizeof err))
        fail_msg("%s", err);
    return u;
}

static acl_entry_t *derive(const units_t *u, int grant_create, size_t *n)
{
    acl_options_t o = {.grant_create = grant_create};
    acl_entry_t *v = NULL;
    char err[256];
    if (acl_derive(u, &o, &v, n, err, sizeof err))
        fail_msg("%s", err);
    return v;
}

/* Does any entry grant principal op on a resource named name (literal) or a prefix of it? */
static int allows(const acl_entry_t *v, size_t n, const char *principal, acl_res_t res,
                  const char *name, rd_kafka_AclOperation_t op)
{
    for (size_t i = 0; i < n; i++) {
        const acl_entry_t *e = &v[i];
        if (strcmp(e->principal, principal) || e->resource != res || e->op != op)
            continue;
        if (e->prefixed ? !strncmp(name, e->name, strlen(e->name)) : !strcmp(name, e->name))
            return 1;
    }
    return 0;
}

static void a_unit_reads_only_its_own_inbox_and_group(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n;
    acl_entry_t *v = derive(u, 1, &n);
    assert_true(allows(v, n, UA, ACL_RES_TOPIC, "docbus.inbox.000.00.11.H29", RD_KAFKA_ACL_OPERATION_READ));
    assert_false(allows(v, n, UA, ACL_RES_TOPIC, "docbus.inbox.000.00.12.H29", RD_KAFKA_ACL_OPERATION_READ));
    assert_false(allows(v, n, UA, ACL_RES_TOPIC, "docbus.events", RD_KAFKA_ACL_OPERATION_READ));
    assert_false(allows(v, n, UA, ACL_RES_TOPIC, "docbus.counts", RD_KAFKA_ACL_OPERATION_READ));
    assert_true(allows(v, n, UA, ACL_RES_GROUP, "docbus-inbox-000.00.11.H29", RD_KAFKA_ACL_OPERATION_READ));
    assert_false(allows(v, n, UA, ACL_RES_GROUP, "docbus-inbox-000.00.12.H29", RD_KAFKA_ACL_OPERATION_READ));
    free(v);
    units_destroy(u);
}

static void a_unit_writes_every_inbox_and_events_but_not_the_aggregates(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n;
    acl_entry_t *v = derive(u, 1, &n);
    assert_true(allows(v, n, UA, ACL_RES_TOPIC, "docbus.inbox.000.00.12.H29", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, UB, ACL_RES_TOPIC, "docbus.inbox.000.00.11.H29", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, UA, ACL_RES_TOPIC, "docbus.events", RD_KAFKA_ACL_OPERATION_WRITE));
    for (const char *const *t = (const char *const[]){"docbus.counts", "docbus.seen", "docbus.rejected",
                                                      "docbus.certs", NULL};
         *t; t++)
        assert_false(allows(v, n, UA, ACL_RES_TOPIC, *t, RD_KAFKA_ACL_OPERATION_WRITE));
    free(v);
    units_destroy(u);
}

static void the_auditor_reads_everything_and_writes_nothing(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n;
    acl_entry_t *v = derive(u, 1, &n);
    const char *aud = "User:docbus-auditor";
    assert_true(allows(v, n, aud, ACL_RES_TOPIC, "docbus.inbox.000.00.12.H29", RD_KAFKA_ACL_OPERATION_READ));
    assert_true(allows(v, n, aud, ACL_RES_TOPIC, "docbus.counts", RD_KAFKA_ACL_OPERATION_READ));
    assert_true(allows(v, n, aud, ACL_RES_GROUP, "docbus-audit-2018q1", RD_KAFKA_ACL_OPERATION_READ));
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].principal, aud)) {
            assert_int_not_equal(v[i].op, RD_KAFKA_ACL_OPERATION_WRITE);
            assert_int_not_equal(v[i].op, RD_KAFKA_ACL_OPERATION_CREATE);
            assert_int_not_equal(v[i].resource, ACL_RES_TRANSACTIONAL_ID);
        }
    free(v);
    units_destroy(u);
}

static void the_aggregator_writes_its_outputs_in_transactions(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n;
    acl_entry_t *v = derive(u, 0, &n);
    const char *agg = "User:docbus-aggregator";
    assert_true(allows(v, n, agg, ACL_RES_TOPIC, "docbus.inbox.000.00.12.H29", RD_KAFKA_ACL_OPERATION_READ));
    assert_true(allows(v, n, agg, ACL_RES_TOPIC, "docbus.events", RD_KAFKA_ACL_OPERATION_READ));
    assert_true(allows(v, n, agg, ACL_RES_TOPIC, "docbus.counts", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, agg, ACL_RES_TOPIC, "docbus.seen", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, agg, ACL_RES_TOPIC, "docbus.rejected", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_false(allows(v, n, agg, ACL_RES_TOPIC, "docbus.events", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_false(allows(v, n, agg, ACL_RES_TOPIC, "docbus.inbox.000.00.12.H29", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, agg, ACL_RES_TRANSACTIONAL_ID, "docbus-aggregate-0", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, agg, ACL_RES_TRANSACTIONAL_ID, "docbus-aggregate-1", RD_KAFKA_ACL_OPERATION_DESCRIBE));
    assert_true(allows(v, n, agg, ACL_RES_GROUP, "docbus-aggregate", RD_KAFKA_ACL_OPERATION_READ));
    assert_false(allows(v, n, agg, ACL_RES_GROUP, "docbus-aggregate-other", RD_KAFKA_ACL_OPERATION_READ));
    /* without grant_create nobody may create topics */
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(v[i].op, RD_KAFKA_ACL_OPERATION_CREATE);
    free(v);
    units_destroy(u);
}

static void options_rename_prefix_and_principals(void **state)
{
    (void)state;
    units_t *u = two_units();
    acl_options_t o = {.topic_prefix = "t.", .aggregator = "agg", .auditor = "aud",
                       .aggregate_group = "g"};
    acl_entry_t *v = NULL;
    size_t n = 0;
    char err[256];
    assert_int_equal(acl_derive(u, &o, &v, &n, err, sizeof err), 0);
    assert_true(allows(v, n, UA, ACL_RES_TOPIC, "t.inbox.000.00.11.H29", RD_KAFKA_ACL_OPERATION_READ));
    assert_true(allows(v, n, "User:agg", ACL_RES_TOPIC, "t.counts", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, "User:agg", ACL_RES_TRANSACTIONAL_ID, "g-0", RD_KAFKA_ACL_OPERATION_WRITE));
    assert_true(allows(v, n, "User:aud", ACL_RES_TOPIC, "t.events", RD_KAFKA_ACL_OPERATION_READ));
    assert_false(allows(v, n, UA, ACL_RES_TOPIC, "docbus.inbox.000.00.11.H29", RD_KAFKA_ACL_OPERATION_READ));
    free(v);
    units_destroy(u);
}

static void derived_list_is_sorted_and_free_of_duplicates(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n;
    acl_entry_t *v = derive(u, 1, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(acl_entry_cmp(&v[i - 1], &v[i]) < 0);
    free(v);
    units_destroy(u);
}

static void diff_finds_missing_and_extra_of_managed_principals(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n, nm = 0, nx = 0;
    acl_entry_t *want = derive(u, 1, &n), *have = calloc(n + 2, sizeof *have), *m = NULL, *x = NULL;
    size_t nhave = 0;
    /* the cluster has all but the first two, plus a stray grant for A and one for a
     * principal docbus does not manage */
    for (size_t i = 2; i < n; i++)
        have[nhave++] = want[i];
    have[nhave] = want[2];
    strcpy(have[nhave].name, "docbus.counts");
    have[nhave].resource = ACL_RES_TOPIC;
    have[nhave].prefixed = 0;
    have[nhave++].op = RD_KAFKA_ACL_OPERATION_WRITE;
    have[nhave] = want[2];
    strcpy(have[nhave++].principal, "User:someone-else");
    qsort(have, nhave, sizeof *have, acl_entry_cmp);
    assert_int_equal(acl_diff(want, n, have, nhave, &m, &nm, &x, &nx), 0);
    assert_int_equal(nm, 2);
    assert_int_equal(acl_entry_cmp(&m[0], &want[0]), 0);
    assert_int_equal(acl_entry_cmp(&m[1], &want[1]), 0);
    assert_int_equal(nx, 1);
    assert_string_equal(x[0].name, "docbus.counts");
    free(m);
    free(x);
    free(have);
    free(want);
    units_destroy(u);
}

static void format_marks_prefixed_patterns(void **state)
{
    (void)state;
    acl_entry_t e = {.principal = UA, .resource = ACL_RES_TOPIC, .prefixed = 1,
                     .name = "docbus.inbox.", .op = RD_KAFKA_ACL_OPERATION_WRITE};
    char buf[256];
    assert_string_equal(acl_entry_format(&e, buf, sizeof buf), UA " write topic:docbus.inbox.*");
    e.prefixed = 0;
    e.resource = ACL_RES_TRANSACTIONAL_ID;
    assert_string_equal(acl_entry_format(&e, buf, sizeof buf), UA " write transactional-id:docbus.inbox.");
    assert_false(acl_entry_manageable(&e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_unit_reads_only_its_own_inbox_and_group),
        cmocka_unit_test(a_unit_writes_every_inbox_and_events_but_not_the_aggregates),
        cmocka_unit_test(the_auditor_reads_everything_and_writes_nothing),
        cmocka_unit_test(the_aggregator_writes_its_outputs_in_transactions),
        cmocka_unit_test(options_rename_prefix_and_principals),
        cmocka_unit_test(derived_list_is_sorted_and_free_of_duplicates),
        cmocka_unit_test(diff_finds_missing_and_extra_of_managed_principals),
        cmocka_unit_test(format_marks_prefixed_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
