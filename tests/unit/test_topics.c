/* test_topics.c - declarative topics: the embedded definition, expansion over the unit
 * registry, rejection of bad definitions, and the plan against observed cluster state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "topics.h"
#include "units.h"

#define TWO_UNITS                                                                        \
    "{\"units\": [{\"code\": \"000.00.11.H29\", \"name\": \"A\", \"kind\": \"department\"}," \
    " {\"code\": \"000.00.12.H29\", \"name\": \"B\", \"kind\": \"department\"}]}"

static units_t *two_units(void)
{
    units_t *u = NULL;
    char err[256];
    if (units_parse(TWO_UNITS, strlen(TWO_UNITS), "test", &u, err, sizeof err))
        fail_msg("%s", err);
    return u;
}

static topic_spec_t *expand_embedded(const units_t *u, int rf, size_t *n, int *clamped)
{
    topics_def_t *d = NULL;
    topic_spec_t *s = NULL;
    char err[256];
    if (topics_def_load(NULL, &d, err, sizeof err) ||
        topics_expand(d, "docbus.", u, rf, &s, n, clamped, err, sizeof err))
        fail_msg("%s", err);
    topics_def_destroy(d);
    return s;
}

static const topic_spec_t *find(const topic_spec_t *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s[i].name, name))
            return &s[i];
    return NULL;
}

static void embedded_definition_gives_one_inbox_per_unit_and_the_shared_topics(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n = 0;
    topic_spec_t *s = expand_embedded(u, 0, &n, NULL);
    assert_int_equal(n, 2 + 5);
    assert_non_null(find(s, n, "docbus.inbox.000.00.11.H29"));
    assert_non_null(find(s, n, "docbus.inbox.000.00.12.H29"));
    for (const char *const *t = (const char *const[]){"docbus.events", "docbus.counts", "docbus.seen",
                                                      "docbus.rejected", "docbus.certs", NULL};
         *t; t++)
        assert_non_null(find(s, n, *t));
    free(s);
    units_destroy(u);
}

static void full_registry_gives_an_inbox_for_every_unit(void **state)
{
    (void)state;
    units_t *u = NULL;
    char err[256];
    size_t n = 0;
    assert_int_equal(units_load(NULL, &u, err, sizeof err), 0);
    topic_spec_t *s = expand_embedded(u, 0, &n, NULL);
    assert_int_equal(n, units_count(u) + 5);
    for (size_t i = 0; i < units_count(u); i++) {
        char name[64];
        snprintf(name, sizeof name, "docbus.inbox.%s", units_at(u, i)->code);
        assert_non_null(find(s, n, name));
    }
    free(s);
    units_destroy(u);
}

static void evidence_is_kept_forever_changelogs_compacted_rejects_long(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n = 0;
    topic_spec_t *s = expand_embedded(u, 0, &n, NULL);
    const topic_spec_t *inbox = find(s, n, "docbus.inbox.000.00.11.H29");
    const topic_spec_t *events = find(s, n, "docbus.events");
    assert_string_equal(topic_spec_config(inbox, "retention.ms"), "-1");
    assert_string_equal(topic_spec_config(events, "retention.ms"), "-1");
    assert_string_equal(topic_spec_config(events, "cleanup.policy"), "delete");
    for (const char *const *t = (const char *const[]){"docbus.counts", "docbus.seen", "docbus.certs", NULL};
         *t; t++)
        assert_string_equal(topic_spec_config(find(s, n, *t), "cleanup.policy"), "compact");
    /* at least a year */
    assert_true(atoll(topic_spec_config(find(s, n, "docbus.rejected"), "retention.ms")) >=
                365LL * 24 * 3600 * 1000);
    /* production defaults: RF 3, min.insync.replicas 2 */
    assert_int_equal(events->replication_factor, 3);
    assert_string_equal(topic_spec_config(events, "min.insync.replicas"), "2");
    assert_int_equal(inbox->partitions, 1);
    free(s);
    units_destroy(u);
}

/* What a publisher creates a missing topic with: the definition's count for the name,
 * a {unit} template matching any unit code, the default for a name it does not list. */
static void partitions_of_a_name_follow_the_definition(void **state)
{
    (void)state;
    topics_def_t *d = NULL;
    char err[256];
    assert_int_equal(topics_def_load(NULL, &d, err, sizeof err), 0);
    assert_int_equal(topics_def_partitions(d, "inbox.000.00.11.H29"), 1);
    assert_int_equal(topics_def_partitions(d, "events"), 4);
    assert_int_equal(topics_def_partitions(d, "certs"), 1);
    assert_int_equal(topics_def_partitions(d, "inbox."), 4);        /* no unit in its place */
    assert_int_equal(topics_def_partitions(d, "inboxes"), 4);
    assert_int_equal(topics_def_partitions(d, "no.such.topic"), 4);
    topics_def_destroy(d);
    const char *json = "{\"defaults\":{\"partitions\":3},\"topics\":["
                       "{\"name\":\"a.{unit}.b\",\"partitions\":7},{\"name\":\"c\"}]}";
    assert_int_equal(topics_def_parse(json, strlen(json), "t", &d, err, sizeof err), 0);
    assert_int_equal(topics_def_partitions(d, "a.X.b"), 7);
    assert_int_equal(topics_def_partitions(d, "a.X.bb"), 3);           /* tail must match */
    assert_int_equal(topics_def_partitions(d, "a..b"), 3);             /* empty unit */
    assert_int_equal(topics_def_partitions(d, "c"), 3);                /* listed, no count */
    topics_def_destroy(d);
}

static void replication_override_lowers_min_insync_replicas(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n = 0;
    int clamped = 0;
    topic_spec_t *s = expand_embedded(u, 1, &n, &clamped);
    assert_true(clamped);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].replication_factor, 1);
        assert_string_equal(topic_spec_config(&s[i], "min.insync.replicas"), "1");
    }
    free(s);
    s = expand_embedded(u, 3, &n, &clamped);
    assert_false(clamped);
    free(s);
    units_destroy(u);
}

static int parse_fails(const char *json, const char *expect_in_error)
{
    topics_def_t *d = NULL;
    char err[256] = "";
    int rc = topics_def_parse(json, strlen(json), "t.json", &d, err, sizeof err);
    if (rc == 0) {
        topics_def_destroy(d);
        return 0;
    }
    if (!strstr(err, expect_in_error))
        fail_msg("error \"%s\" does not mention \"%s\"", err, expect_in_error);
    return rc == DB_ERR_INVALID;
}

static void bad_definitions_are_rejected_with_the_reason(void **state)
{
    (void)state;
    assert_true(parse_fails("{\"topics\": []}", "non-empty"));
    assert_true(parse_fails("{\"topics\": [{\"name\": \"a b\"}]}", "name"));
    assert_true(parse_fails("{\"topics\": [{\"name\": \"x.{unit}.{unit}\"}]}", "name"));
    assert_true(parse_fails("{\"topics\": [{\"name\": \"e\"}, {\"name\": \"e\"}]}", "twice"));
    assert_true(parse_fails("{\"topics\": [{\"name\": \"e\", \"partitions\": 0}]}", "partitions"));
    assert_true(parse_fails("{\"topics\": [{\"name\": \"e\", \"configs\": {\"retention.ms\": -1}}]}",
                            "string"));
    assert_true(parse_fails("{\"topics\": [", "t.json"));
}

/* A state that matches spec exactly. */
static topic_state_t state_of(const topic_spec_t *s)
{
    topic_state_t st;
    memset(&st, 0, sizeof st);
    st.exists = 1;
    st.partitions = s->partitions;
    st.replication_factor = s->replication_factor;
    for (int i = 0; i < s->nconfigs; i++)
        st.configs[st.nconfigs++] = s->configs[i];
    return st;
}

static void plan_creates_missing_alters_drifted_and_leaves_the_rest(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n = 0;
    topic_spec_t *s = expand_embedded(u, 1, &n, NULL);
    topic_state_t *st = calloc(n, sizeof *st);
    topics_plan_t plan;
    size_t counts_i = 0, events_i = 0, inbox_i = 0;
    for (size_t i = 0; i < n; i++) {
        st[i] = state_of(&s[i]);
        if (!strcmp(s[i].name, "docbus.counts"))
            counts_i = i;
        if (!strcmp(s[i].name, "docbus.events"))
            events_i = i;
        if (!strcmp(s[i].name, "docbus.inbox.000.00.12.H29"))
            inbox_i = i;
    }
    /* counts was auto-created with delete; events has fewer partitions; inbox missing */
    for (int c = 0; c < st[counts_i].nconfigs; c++)
        if (!strcmp(st[counts_i].configs[c].key, "cleanup.policy"))
            strcpy(st[counts_i].configs[c].value, "delete");
    st[events_i].partitions = 2;
    memset(&st[inbox_i], 0, sizeof st[inbox_i]);

    assert_int_equal(topics_plan(s, st, n, &plan), 0);
    assert_int_equal(plan.nactions, 3);
    assert_int_equal(plan.unchanged, n - 3);
    for (size_t i = 0; i < plan.nactions; i++) {
        const topic_action_t *a = &plan.actions[i];
        if (a->spec == &s[inbox_i]) {
            assert_true(a->create);
        } else if (a->spec == &s[counts_i]) {
            assert_false(a->create);
            assert_int_equal(a->nchanges, 1);
            assert_string_equal(a->changes[0].key, "cleanup.policy");
            assert_string_equal(a->changes[0].from, "delete");
            assert_string_equal(a->changes[0].to, "compact");
        } else if (a->spec == &s[events_i]) {
            assert_int_equal(a->partitions_from, 2);
            assert_int_equal(a->partitions_to, s[events_i].partitions);
            assert_int_equal(a->nchanges, 0);
        } else {
            fail_msg("unexpected action for %s", a->spec->name);
        }
    }
    topics_plan_clear(&plan);
    free(st);
    free(s);
    units_destroy(u);
}

static void plan_of_a_matching_cluster_is_empty(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n = 0;
    topic_spec_t *s = expand_embedded(u, 1, &n, NULL);
    topic_state_t *st = calloc(n, sizeof *st);
    topics_plan_t plan;
    for (size_t i = 0; i < n; i++)
        st[i] = state_of(&s[i]);
    assert_int_equal(topics_plan(s, st, n, &plan), 0);
    assert_int_equal(plan.nactions, 0);
    assert_int_equal(plan.unchanged, n);
    topics_plan_clear(&plan);
    free(st);
    free(s);
    units_destroy(u);
}

static void more_partitions_or_another_replication_factor_only_warn(void **state)
{
    (void)state;
    units_t *u = two_units();
    size_t n = 0;
    topic_spec_t *s = expand_embedded(u, 1, &n, NULL);
    topic_state_t *st = calloc(n, sizeof *st);
    topics_plan_t plan;
    for (size_t i = 0; i < n; i++)
        st[i] = state_of(&s[i]);
    st[0].partitions = s[0].partitions + 3;
    st[1].replication_factor = 3;
    assert_int_equal(topics_plan(s, st, n, &plan), 0);
    assert_int_equal(plan.nactions, 2);
    assert_int_equal(plan.unchanged, n);
    assert_non_null(strstr(plan.actions[0].warning, "cannot remove"));
    assert_int_equal(plan.actions[0].partitions_to, 0);
    assert_non_null(strstr(plan.actions[1].warning, "replication factor is 3"));
    topics_plan_clear(&plan);
    free(st);
    free(s);
    units_destroy(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(embedded_definition_gives_one_inbox_per_unit_and_the_shared_topics),
        cmocka_unit_test(full_registry_gives_an_inbox_for_every_unit),
        cmocka_unit_test(evidence_is_kept_forever_changelogs_compacted_rejects_long),
        cmocka_unit_test(partitions_of_a_name_follow_the_definition),
        cmocka_unit_test(replication_override_lowers_min_insync_replicas),
        cmocka_unit_test(bad_definitions_are_rejected_with_the_reason),
        cmocka_unit_test(plan_creates_missing_alters_drifted_and_leaves_the_rest),
        cmocka_unit_test(plan_of_a_matching_cluster_is_empty),
        cmocka_unit_test(more_partitions_or_another_replication_factor_only_warn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
