/* acl.c - `docbus acl`: grant the ACLs derived from the unit registry (apply), show them
 * (list), or take every ACL of one unit away (revoke). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "kafka.h"
#include "units.h"

#define ACL_TIMEOUT_MS 30000

static int exit_for(rd_kafka_resp_err_t err)
{
    return kafka_classify(err) == KAFKA_FAIL_AUTH ? EXIT_AUTH : EXIT_BROKER;
}

static const char *hint_for(rd_kafka_resp_err_t err)
{
    if (kafka_classify(err) == KAFKA_FAIL_AUTH || err == RD_KAFKA_RESP_ERR_SECURITY_DISABLED)
        return err == RD_KAFKA_RESP_ERR_SECURITY_DISABLED
                   ? " (the broker has no authorizer: ACLs need authorizer.class.name)"
                   : " (docbus acl needs a super user's or an ALTER-on-cluster login)";
    return "";
}

/* Prints the Kafka tool command for the bindings librdkafka cannot make. */
static void print_txn_hint(const acl_entry_t *v, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].resource != ACL_RES_TRANSACTIONAL_ID)
            continue;
        fprintf(out, "docbus acl: librdkafka 2.0.2 cannot manage transactional-id ACLs; grant "
                "%s %s on transactional-id:%s%s with Kafka's tool:\n"
                "  kafka-acls.sh --bootstrap-server HOST:PORT --command-config ADMIN.properties "
                "--add --allow-principal %s --transactional-id %s --resource-pattern-type %s "
                "--operation %s\n"
                "  (local secure broker: deploy/kafka/secure/acl-txn.sh)\n",
                v[i].principal, acl_op_name(v[i].op), v[i].name, v[i].prefixed ? "*" : "",
                v[i].principal, v[i].name, v[i].prefixed ? "prefixed" : "literal",
                v[i].op == RD_KAFKA_ACL_OPERATION_WRITE ? "Write" : "Describe");
    }
}

static json_t *json_entries(const acl_entry_t *v, size_t n, int manageable)
{
    json_t *a = json_array();
    char buf[512];
    for (size_t i = 0; i < n; i++)
        if (acl_entry_manageable(&v[i]) == manageable)
            json_array_append_new(a, json_string(acl_entry_format(&v[i], buf, sizeof buf)));
    return a;
}

static rd_kafka_t *admin_client(const db_config_t *cfg, int *rc)
{
    char errstr[512];
    rd_kafka_conf_t *conf = config_kafka_conf(cfg, errstr, sizeof errstr);
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        cli_err("acl", "%s", errstr);
        *rc = EXIT_CONFIG;
        return NULL;
    }
    switch (kafka_check(rk, 10000, errstr, sizeof errstr)) {
    case KAFKA_FAIL_NONE:
        return rk;
    case KAFKA_FAIL_AUTH:
        *rc = EXIT_AUTH;
        break;
    default:
        *rc = EXIT_BROKER;
    }
    cli_err("acl", "%s", errstr);
    rd_kafka_destroy(rk);
    return NULL;
}

static int do_apply(const db_config_t *cfg, const acl_entry_t *want, size_t nwant, int dry_run,
                    int prune, int json, int verbose)
{
    acl_entry_t *have = NULL, *missing = NULL, *extra = NULL, *todo = NULL;
    size_t nhave = 0, nmissing = 0, nextra = 0, ntodo = 0, unchanged = 0;
    rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    char errstr[1024], buf[512];
    int rc = EXIT_FAIL;
    rd_kafka_t *rk = admin_client(cfg, &rc);
    if (!rk)
        return rc;
    if (acl_describe(rk, &have, &nhave, ACL_TIMEOUT_MS, &kerr, errstr, sizeof errstr)) {
        cli_err("acl", "%s%s", errstr, hint_for(kerr));
        rc = exit_for(kerr);
        goto out;
    }
    if (acl_diff(want, nwant, have, nhave, &missing, &nmissing, prune ? &extra : NULL, &nextra)) {
        cli_err("acl", "out of memory");
        goto out;
    }
    /* only what librdkafka can create; transactional ids are reported below */
    if (!(todo = calloc(nmissing ? nmissing : 1, sizeof *todo)))
        goto out;
    for (size_t i = 0; i < nmissing; i++)
        if (acl_entry_manageable(&missing[i]))
            todo[ntodo++] = missing[i];
    for (size_t i = 0; i < nwant; i++)
        if (acl_entry_manageable(&want[i]))
            unchanged++;
    unchanged -= ntodo;
    if (!dry_run && acl_create(rk, todo, ntodo, ACL_TIMEOUT_MS, &kerr, errstr, sizeof errstr)) {
        cli_err("acl", "%s%s", errstr, hint_for(kerr));
        rc = exit_for(kerr);
        goto out;
    }
    if (!dry_run && prune && acl_delete(rk, extra, nextra, ACL_TIMEOUT_MS, &kerr, errstr, sizeof errstr)) {
        cli_err("acl", "%s%s", errstr, hint_for(kerr));
        rc = exit_for(kerr);
        goto out;
    }
    if (json) {
        json_t *root = json_pack("{s:b, s:o, s:o, s:I, s:o}", "dry_run", dry_run, "granted",
                                 json_entries(todo, ntodo, 1), "removed",
                                 json_entries(extra, prune ? nextra : 0, 1), "unchanged",
                                 (json_int_t)unchanged, "not_managed", json_entries(want, nwant, 0));
        char *s = json_dumps(root, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
        json_decref(root);
    } else {
        for (size_t i = 0; i < ntodo && (verbose > 0 || dry_run || ntodo <= 20); i++)
            printf("%s %s\n", dry_run ? "would grant" : "granted",
                   acl_entry_format(&todo[i], buf, sizeof buf));
        if (ntodo > 20 && verbose <= 0 && !dry_run)
            printf("granted %zu bindings (-v lists them)\n", ntodo);
        for (size_t i = 0; prune && i < nextra; i++)
            printf("%s %s\n", dry_run ? "would remove" : "removed",
                   acl_entry_format(&extra[i], buf, sizeof buf));
        printf("unchanged: %zu bindings\n", unchanged);
    }
    if (verbose >= 0)
        print_txn_hint(want, nwant, stderr);
    rc = EXIT_OK;
out:
    free(have);
    free(missing);
    free(extra);
    free(todo);
    rd_kafka_destroy(rk);
    return rc;
}

static int do_revoke(const db_config_t *cfg, const char *unit, int dry_run, int verbose)
{
    char principal[ACL_PRINCIPAL_MAX], errstr[1024];
    rd_kafka_resp_err_t kerr;
    size_t deleted = 0;
    int rc = EXIT_FAIL;
    rd_kafka_t *rk;
    snprintf(principal, sizeof principal, "User:%s", unit);
    if (dry_run) {
        printf("would remove every ACL of %s\n", principal);
        return EXIT_OK;
    }
    if (!(rk = admin_client(cfg, &rc)))
        return rc;
    if (acl_delete_principal(rk, principal, &deleted, ACL_TIMEOUT_MS, &kerr, errstr, sizeof errstr)) {
        cli_err("acl", "%s%s", errstr, hint_for(kerr));
        rc = exit_for(kerr);
    } else {
        printf("removed %zu bindings of %s\n", deleted, principal);
        if (verbose >= 0)
            fprintf(stderr, "docbus acl: %s keeps its SCRAM login until it is deleted too "
                    "(kafka-configs.sh --alter --delete-config SCRAM-SHA-512 --entity-type users "
                    "--entity-name %s); `acl apply` grants the ACLs again while the unit is in "
                    "the registry\n", principal, unit);
        rc = EXIT_OK;
    }
    rd_kafka_destroy(rk);
    return rc;
}

int cmd_acl(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"dry-run", no_argument, 0, 'n'},
        {"json", no_argument, 0, 'j'},
        {"prune", no_argument, 0, 'p'},
        {"no-create", no_argument, 0, 'C'},
        {"unit", required_argument, 0, 'u'},
        {"aggregator", required_argument, 0, 'A'},
        {"auditor", required_argument, 0, 'D'},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    db_config_t *cfg = NULL;
    units_t *units = NULL;
    acl_entry_t *want = NULL;
    acl_options_t o = {.grant_create = 1};
    const char *sub, *unit = NULL, *registry;
    char errstr[1024], buf[512];
    size_t nwant = 0;
    int early, opt, rc = EXIT_FAIL, dry_run = 0, json = 0, prune = 0;

    optind = 1;
    while ((opt = cli_getopt(&cc, argc, argv, "acl", CLI_COMMON_SHORT "njpCu:A:D:", longopts, &early)) > 0) {
        switch (opt) {
        case 'n': dry_run = 1; break;
        case 'j': json = 1; break;
        case 'p': prune = 1; break;
        case 'C': o.grant_create = 0; break;
        case 'u': unit = optarg; break;
        case 'A': o.aggregator = optarg; break;
        case 'D': o.auditor = optarg; break;
        }
    }
    if (early >= 0)
        return early;
    if (optind + 1 != argc)
        return cli_usage_error("acl", "expected one of apply, list, revoke");
    sub = argv[optind];
    if (strcmp(sub, "apply") && strcmp(sub, "list") && strcmp(sub, "revoke"))
        return cli_usage_error("acl", "unknown subcommand \"%s\" (apply, list, revoke)", sub);
    if (!strcmp(sub, "revoke") && (!unit || !*unit))
        return cli_usage_error("acl", "revoke needs --unit CODE");
    if (!(cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    if (!strcmp(sub, "revoke")) {
        rc = do_revoke(cfg, unit, dry_run, cc.verbose);
        goto out;
    }

    registry = config_get(cfg, "docbus.registry", "");
    o.topic_prefix = config_get(cfg, "docbus.topic.prefix", "docbus.");
    o.aggregate_group = config_get(cfg, "docbus.aggregate.group", "docbus-aggregate");
    if (units_load(*registry ? registry : NULL, &units, errstr, sizeof errstr) ||
        acl_derive(units, &o, &want, &nwant, errstr, sizeof errstr)) {
        cli_err("acl", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    if (!strcmp(sub, "list")) {
        if (json) {
            json_t *root = json_pack("{s:o, s:o}", "managed", json_entries(want, nwant, 1),
                                     "not_managed", json_entries(want, nwant, 0));
            char *s = json_dumps(root, JSON_COMPACT);
            if (s)
                puts(s);
            free(s);
            json_decref(root);
        } else {
            for (size_t i = 0; i < nwant; i++)
                printf("%s\n", acl_entry_format(&want[i], buf, sizeof buf));
        }
        rc = EXIT_OK;
        goto out;
    }
    rc = do_apply(cfg, want, nwant, dry_run, prune, json, cc.verbose);
out:
    free(want);
    units_destroy(units);
    config_destroy(cfg);
    return rc;
}
