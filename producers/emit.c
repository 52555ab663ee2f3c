/* emit.c - `docbus emit`: one activity event of any kind, fields as key=value. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "quarter.h"
#include "submit.h"

/* A value that looks like a JSON number, array, object or null is taken as JSON;
 * anything else is a string (so enum symbols and dates need no quoting). */
static json_t *field_value(const char *v)
{
    if (*v == '[' || *v == '{' || *v == '-' || (*v >= '0' && *v <= '9') || !strcmp(v, "null")) {
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        if (j)
            return j;
    }
    return json_string(v);
}

int cmd_emit(int argc, char **argv)
{
    enum { O_UNIT = 256, O_KIND, O_ID, O_AT };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"unit", required_argument, 0, O_UNIT}, {"kind", required_argument, 0, O_KIND},
        {"id", required_argument, 0, O_ID}, {"at", required_argument, 0, O_AT}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *unit = NULL, *kind = NULL, *id = NULL, *at = NULL;
    char now[40];
    int early, opt, rc;
    json_t *fields = json_object(), *rec;
    db_config_t *cfg;

    while ((opt = cli_getopt(&cc, argc, argv, "emit", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        if (opt == O_UNIT) unit = optarg;
        else if (opt == O_KIND) kind = optarg;
        else if (opt == O_ID) id = optarg;
        else if (opt == O_AT) at = optarg;
    }
    if (early >= 0) {
        json_decref(fields);
        return early;
    }
    for (int i = optind; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            json_decref(fields);
            return cli_usage_error("emit", "\"%s\": expected field=value", argv[i]);
        }
        *eq = '\0';
        json_object_set_new(fields, argv[i], field_value(eq + 1));
    }
    if (!kind || !id) {
        json_decref(fields);
        return cli_usage_error("emit", "--kind (e.g. Rating, PenaltyDecision) and --id are required");
    }
    if (!(cfg = cli_config(&cc))) {
        json_decref(fields);
        return EXIT_CONFIG;
    }
    if (!unit)
        unit = config_get(cfg, "docbus.unit", "");
    if (!at) {
        vn_time_format((int64_t)time(NULL) * 1000, now, sizeof now);
        at = now;
    }
    rec = json_pack("{s:s, s:s, s:s, s:{s:o}}", "event_id", id, "unit", unit, "occurred_at", at,
                    "detail", kind, fields);
    config_destroy(cfg);
    rc = submit_one("emit", &cc, BODY_EVENT, rec);
    json_decref(rec);
    return rc;
}
