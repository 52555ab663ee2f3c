/* status.c - `docbus status`: a status reply (01 ... 16) to a document's sender. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "quarter.h"
#include "submit.h"

int cmd_status(int argc, char **argv)
{
    enum { O_DOC = 256, O_CODE, O_FROM, O_DESC, O_AT, O_STAFF, O_DEPT };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"doc", required_argument, 0, O_DOC}, {"code", required_argument, 0, O_CODE},
        {"from", required_argument, 0, O_FROM}, {"description", required_argument, 0, O_DESC},
        {"at", required_argument, 0, O_AT}, {"staff", required_argument, 0, O_STAFF},
        {"department", required_argument, 0, O_DEPT}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *doc = NULL, *code = NULL, *from = NULL, *desc = "", *at = NULL, *staff = "",
               *dept = "";
    char sender[128], symbol[8], now[40];
    const char *comma;
    int early, opt, rc;
    json_t *rec;
    db_config_t *cfg;

    while ((opt = cli_getopt(&cc, argc, argv, "status", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        switch (opt) {
        case O_DOC: doc = optarg; break;
        case O_CODE: code = optarg; break;
        case O_FROM: from = optarg; break;
        case O_DESC: desc = optarg; break;
        case O_AT: at = optarg; break;
        case O_STAFF: staff = optarg; break;
        case O_DEPT: dept = optarg; break;
        }
    }
    if (early >= 0)
        return early;
    if (optind != argc)
        return cli_usage_error("status", "unexpected argument \"%s\"", argv[optind]);
    if (!doc || !code)
        return cli_usage_error("status", "--doc DOC_ID and --code (01..16) are required");
    /* The sender is the first field of an edXML document id. */
    comma = strchr(doc, ',');
    if (!comma || comma == doc || (size_t)(comma - doc) >= sizeof sender)
        return cli_usage_error("status", "--doc \"%s\": expected senderCode,YYYY/MM/DD,number/notation", doc);
    snprintf(sender, sizeof sender, "%.*s", (int)(comma - doc), doc);
    snprintf(symbol, sizeof symbol, "S%s", code[0] == 'S' ? code + 1 : code);
    if (!(cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    if (!from)
        from = config_get(cfg, "docbus.unit", "");
    if (!*from) {
        config_destroy(cfg);
        return cli_usage_error("status", "--from CODE (or docbus.unit) is required");
    }
    if (!at) {
        vn_time_format((int64_t)time(NULL) * 1000, now, sizeof now);
        at = now;
    }
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "doc_id", doc, "from", from,
                    "to", sender, "code", symbol, "description", desc, "at", at, "staff",
                    "department", dept, "name", staff);
    config_destroy(cfg);
    rc = submit_one("status", &cc, BODY_STATUS, rec);
    json_decref(rec);
    return rc;
}
