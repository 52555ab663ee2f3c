/* pki.c - `docbus pki`: create the root CA, issue, rotate and revoke unit certificates, list. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "pki.h"
#include "quarter.h"

/* Maps a library error of a pki operation to the documented exit code. */
static int pki_exit(int rc)
{
    return rc == DB_ERR_CONFIG ? EXIT_CONFIG : EXIT_FAIL;
}

static void key_hex(const uint8_t *k, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", k[i]);
}

static int list_units(const char *dir, int json)
{
    pki_entry_t *e = NULL;
    size_t n = 0;
    char err[512], kid[65], nb[40], na[40], ra[40];
    int rc = pki_list(dir, &e, &n, err, sizeof err);
    if (rc) {
        cli_err("pki", "%s", err);
        return pki_exit(rc);
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            key_hex(e[i].key_id, sizeof e[i].key_id, kid);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}",
                "unit", e[i].unit, "name", e[i].name, "serial", e[i].serial,
                "status", pki_status_name(e[i].status),
                "not_before", vn_time_format(e[i].not_before * 1000, nb, sizeof nb),
                "not_after", vn_time_format(e[i].not_after * 1000, na, sizeof na),
                "revoked_at", e[i].status == PKI_CERT_REVOKED
                                  ? json_string(vn_time_format(e[i].revoked_at * 1000, ra, sizeof ra))
                                  : json_null(),
                "key_id", kid, "file", e[i].file));
        }
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
    } else {
        printf("%-16s %-10s %-25s %-25s %-16s %s\n", "UNIT", "STATUS", "VALID UNTIL", "REVOKED AT",
               "KEY ID", "NAME");
        for (size_t i = 0; i < n; i++) {
            key_hex(e[i].key_id, 8, kid);
            printf("%-16s %-10s %-25s %-25s %-16s %s\n", e[i].unit, pki_status_name(e[i].status),
                   vn_time_format(e[i].not_after * 1000, na, sizeof na),
                   e[i].status == PKI_CERT_REVOKED ? vn_time_format(e[i].revoked_at * 1000, ra, sizeof ra) : "-",
                   kid, e[i].name);
        }
        if (n == 0)
            fprintf(stderr, "docbus pki: no unit certificates in %s yet (docbus pki issue --unit CODE --name NAME)\n", dir);
    }
    free(e);
    return EXIT_OK;
}

int cmd_pki(int argc, char **argv)
{
    enum { O_DIR = 256, O_UNIT, O_NAME, O_DAYS, O_JSON, O_AT };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"dir", required_argument, 0, O_DIR}, {"unit", required_argument, 0, O_UNIT},
        {"name", required_argument, 0, O_NAME}, {"days", required_argument, 0, O_DAYS},
        {"json", no_argument, 0, O_JSON}, {"at", required_argument, 0, O_AT}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *dir = NULL, *unit = NULL, *name = NULL, *days_s = NULL, *at_s = NULL, *sub;
    char err[512], dirbuf[1024];
    db_config_t *cfg = NULL;
    int early, opt, json = 0, days = PKI_DEFAULT_DAYS, rc, ret = EXIT_OK;
    int64_t at_ms = (int64_t)time(NULL) * 1000;

    while ((opt = cli_getopt(&cc, argc, argv, "pki", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        switch (opt) {
        case O_DIR: dir = optarg; break;
        case O_UNIT: unit = optarg; break;
        case O_NAME: name = optarg; break;
        case O_DAYS: days_s = optarg; break;
        case O_JSON: json = 1; break;
        case O_AT: at_s = optarg; break;
        default: return cli_usage_error("pki", "see `docbus help pki`");
        }
    }
    if (early >= 0)
        return early;
    if (optind >= argc)
        return cli_usage_error("pki", "which action? init, issue, revoke or list");
    if (optind + 1 < argc)
        return cli_usage_error("pki", "unexpected argument \"%s\"", argv[optind + 1]);
    sub = argv[optind];
    if (days_s) {
        char *end;
        long d = strtol(days_s, &end, 10);
        if (*end || d < 1 || d > 36500)
            return cli_usage_error("pki", "--days %s: expected a number of days, 1..36500", days_s);
        days = (int)d;
    }
    if (at_s && vn_time_parse(at_s, &at_ms, err, sizeof err))
        return cli_usage_error("pki", "--at: %s", err);
    /* The directory: --dir, then $DOCBUS_PKI_DIR, then docbus.pki.dir of a config file
     * or -X, then ./pki. Exit codes: 0 ok, 2 usage, 3 no PKI / bad config, 1 other. */
    if (!dir && getenv("DOCBUS_PKI_DIR") && *getenv("DOCBUS_PKI_DIR"))
        dir = getenv("DOCBUS_PKI_DIR");
    if (!dir && (cc.config_file || cc.nprops || getenv("DOCBUS_CONFIG"))) {
        if (!(cfg = cli_config(&cc)))
            return EXIT_CONFIG;
        snprintf(dirbuf, sizeof dirbuf, "%s", config_get(cfg, "docbus.pki.dir", "pki"));
        dir = dirbuf;
    }
    if (!dir)
        dir = "./pki";

    if (!strcmp(sub, "init")) {
        if ((rc = pki_init(dir, err, sizeof err))) {
            cli_err("pki", "%s", err);
            ret = pki_exit(rc);
        } else if (cc.verbose >= 0) {
            fprintf(stderr, "docbus pki: root CA created in %s (ca.key is secret: keep it offline)\n", dir);
        }
    } else if (!strcmp(sub, "issue")) {
        if (!unit || !name) {
            ret = cli_usage_error("pki", "issue needs --unit CODE and --name NAME");
        } else if (!pki_unit_code_ok(unit)) {
            ret = cli_usage_error("pki", "--unit %s: expected an organisation code such as 000.00.00.H29 "
                                  "(letters, digits, . - _)", unit);
        } else if ((rc = pki_issue(dir, unit, name, days, err, sizeof err))) {
            cli_err("pki", "%s", err);
            ret = rc == DB_ERR_INVALID ? EXIT_USAGE : pki_exit(rc);
        } else if (cc.verbose >= 0) {
            fprintf(stderr, "docbus pki: issued %s/units/%s.crt and .key (mode 0600), valid %d days\n",
                    dir, unit, days);
        }
    } else if (!strcmp(sub, "revoke")) {
        if (!unit) {
            ret = cli_usage_error("pki", "revoke needs --unit CODE");
        } else if ((rc = pki_revoke(dir, unit, at_ms / 1000, err, sizeof err))) {
            cli_err("pki", "%s", err);
            ret = pki_exit(rc);
        } else if (cc.verbose >= 0) {
            char t[40];
            fprintf(stderr, "docbus pki: revoked the certificate of %s as of %s; %s/crl.pem re-signed\n",
                    unit, vn_time_format(at_ms, t, sizeof t), dir);
        }
    } else if (!strcmp(sub, "list")) {
        ret = list_units(dir, json);
    } else {
        ret = cli_usage_error("pki", "unknown action \"%s\": expected init, issue, revoke or list", sub);
    }
    config_destroy(cfg);
    return ret;
}
