/* topics.c - `docbus topics apply`: make the cluster's docbus topics match the
 * declarative definition (schemas/topics.json and the unit registry). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "kafka.h"
#include "topics.h"
#include "units.h"

#define TOPICS_TIMEOUT_MS 30000

/* Exit code for a failed admin step: the definition does not fit the cluster (config),
 * the broker refused us (auth), or the broker failed (broker). */
static int exit_for(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT:
        return EXIT_CONFIG;
    default:
        return kafka_classify(err) == KAFKA_FAIL_AUTH ? EXIT_AUTH : EXIT_BROKER;
    }
}

static const char *hint_for(rd_kafka_resp_err_t err)
{
    if (err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR)
        return " (the cluster has fewer brokers than the replication factor; on a single local "
               "broker use --replication-factor 1)";
    if (kafka_classify(err) == KAFKA_FAIL_AUTH)
        return " (topics apply needs an administrator's login: CREATE, DESCRIBE_CONFIGS and "
               "ALTER_CONFIGS on the docbus topics)";
    return "";
}

static void print_changes(FILE *out, const topic_action_t *a)
{
    for (int c = 0; c < a->nchanges; c++)
        fprintf(out, "%s%s %s -> %s", c ? ", " : "", a->changes[c].key,
                a->changes[c].from[0] ? a->changes[c].from : "(default)", a->changes[c].to);
}

static void print_text(const topics_plan_t *plan, size_t total, int dry_run)
{
    for (size_t i = 0; i < plan->nactions; i++) {
        const topic_action_t *a = &plan->actions[i];
        if (a->create)
            printf("%s %s (%d partition%s, replication factor %d)\n",
                   dry_run ? "would create" : "created", a->spec->name, a->spec->partitions,
                   a->spec->partitions == 1 ? "" : "s", a->spec->replication_factor);
        if (a->partitions_to)
            printf("%s %s: partitions %d -> %d\n", dry_run ? "would alter" : "altered",
                   a->spec->name, a->partitions_from, a->partitions_to);
        if (a->nchanges) {
            printf("%s %s: ", dry_run ? "would alter" : "altered", a->spec->name);
            print_changes(stdout, a);
            putchar('\n');
        }
        if (a->warning[0])
            fprintf(stderr, "docbus topics: warning: %s %s\n", a->spec->name, a->warning);
    }
    printf("unchanged: %zu topic%s (of %zu)\n", plan->unchanged, plan->unchanged == 1 ? "" : "s",
           total);
}

static void print_json(const topics_plan_t *plan, size_t total, int dry_run)
{
    json_t *created = json_array(), *altered = json_array(), *warnings = json_array();
    json_t *root;
    char *s;
    for (size_t i = 0; i < plan->nactions; i++) {
        const topic_action_t *a = &plan->actions[i];
        if (a->create)
            json_array_append_new(created, json_pack("{s:s, s:i, s:i}", "topic", a->spec->name,
                                                     "partitions", a->spec->partitions,
                                                     "replication_factor",
                                                     a->spec->replication_factor));
        if (a->partitions_to || a->nchanges) {
            json_t *changes = json_array();
            for (int c = 0; c < a->nchanges; c++)
                json_array_append_new(changes, json_pack("{s:s, s:s?, s:s}", "key", a->changes[c].key,
                                                         "from", a->changes[c].from[0] ? a->changes[c].from : NULL,
                                                         "to", a->changes[c].to));
            json_t *o = json_pack("{s:s, s:o}", "topic", a->spec->name, "configs", changes);
            if (a->partitions_to)
                json_object_set_new(o, "partitions", json_pack("{s:i, s:i}", "from",
                                                                a->partitions_from, "to",
                                                                a->partitions_to));
            json_array_append_new(altered, o);
        }
        if (a->warning[0])
            json_array_append_new(warnings, json_pack("{s:s, s:s}", "topic", a->spec->name,
                                                      "message", a->warning));
    }
    root = json_pack("{s:b, s:I, s:o, s:o, s:I, s:o}", "dry_run", dry_run, "topics",
                     (json_int_t)total, "created", created, "altered", altered, "unchanged",
                     (json_int_t)plan->unchanged, "warnings", warnings);
    s = json_dumps(root, JSON_COMPACT);
    if (s)
        puts(s);
    free(s);
    json_decref(root);
}

int cmd_topics(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"dry-run", no_argument, 0, 'n'},
        {"json", no_argument, 0, 'j'},
        {"file", required_argument, 0, 'f'},
        {"replication-factor", required_argument, 0, 'r'},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    db_config_t *cfg = NULL;
    topics_def_t *def = NULL;
    units_t *units = NULL;
    topic_spec_t *specs = NULL;
    topic_state_t *states = NULL;
    topics_plan_t plan = {0};
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *conf;
    rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    const char *file = NULL, *registry;
    char errstr[1024];
    size_t n = 0;
    int early, opt, rc = EXIT_FAIL, dry_run = 0, json = 0, rf = 0, clamped = 0;

    optind = 1;
    while ((opt = cli_getopt(&cc, argc, argv, "topics", CLI_COMMON_SHORT "njf:r:", longopts, &early)) > 0) {
        if (opt == 'n')
            dry_run = 1;
        else if (opt == 'j')
            json = 1;
        else if (opt == 'f')
            file = optarg;
        else if (opt == 'r') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 32)
                return cli_usage_error("topics", "--replication-factor %s: expected 1 to 32", optarg);
            rf = (int)v;
        }
    }
    if (early >= 0)
        return early;
    if (optind >= argc || strcmp(argv[optind], "apply") != 0)
        return cli_usage_error("topics", "expected `docbus topics apply [--dry-run]`");
    if (optind + 1 != argc)
        return cli_usage_error("topics", "unexpected argument \"%s\"", argv[optind + 1]);
    if (!(cfg = cli_config(&cc)))
        return EXIT_CONFIG;

    registry = config_get(cfg, "docbus.registry", "");
    if (topics_def_load(file, &def, errstr, sizeof errstr) ||
        units_load(*registry ? registry : NULL, &units, errstr, sizeof errstr) ||
        topics_expand(def, config_get(cfg, "docbus.topic.prefix", "docbus."), units, rf, &specs, &n,
                      &clamped, errstr, sizeof errstr)) {
        cli_err("topics", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    if (clamped && cc.verbose >= 0)
        fprintf(stderr, "docbus topics: min.insync.replicas lowered to the replication factor %d\n", rf);

    if (!(conf = config_kafka_conf(cfg, errstr, sizeof errstr)) ||
        !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr))) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        cli_err("topics", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    switch (kafka_check(rk, 10000, errstr, sizeof errstr)) {
    case KAFKA_FAIL_NONE:
        break;
    case KAFKA_FAIL_AUTH:
        cli_err("topics", "%s", errstr);
        rc = EXIT_AUTH;
        goto out;
    default:
        cli_err("topics", "%s", errstr);
        rc = EXIT_BROKER;
        goto out;
    }

    if (!(states = calloc(n ? n : 1, sizeof *states))) {
        cli_err("topics", "out of memory");
        goto out;
    }
    if (topics_observe(rk, specs, n, states, TOPICS_TIMEOUT_MS, &kerr, errstr, sizeof errstr)) {
        cli_err("topics", "%s%s", errstr, hint_for(kerr));
        rc = exit_for(kerr);
        goto out;
    }
    if (topics_plan(specs, states, n, &plan)) {
        cli_err("topics", "out of memory");
        goto out;
    }
    if (!dry_run &&
        topics_execute(rk, &plan, specs, states, TOPICS_TIMEOUT_MS, &kerr, errstr, sizeof errstr)) {
        cli_err("topics", "%s%s", errstr, hint_for(kerr));
        rc = exit_for(kerr);
        goto out;
    }
    if (json)
        print_json(&plan, n, dry_run);
    else
        print_text(&plan, n, dry_run);
    rc = EXIT_OK;
out:
    if (rk)
        rd_kafka_destroy(rk);
    topics_plan_clear(&plan);
    free(states);
    free(specs);
    units_destroy(units);
    topics_def_destroy(def);
    config_destroy(cfg);
    return rc;
}
