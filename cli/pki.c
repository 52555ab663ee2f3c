/* pki.c - `docbus pki`: create the root CA, issue, rotate and revoke unit certificates, list. */
#include <dirent.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "kafka.h"
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

/* Produces one PEM file's DER bytes to the certs topic: a certificate under
 * "cert/<key id>", the CRL under "crl". Returns 0 or -1. */
static int publish_file(rd_kafka_t *rk, const char *topic, const char *path, int is_crl)
{
    FILE *f = fopen(path, "r");
    unsigned char *der = NULL;
    char key[80] = "crl";
    int len = -1, rc = -1;
    if (!f)
        return -1;
    if (is_crl) {
        X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
        if (crl)
            len = i2d_X509_CRL(crl, &der);
        X509_CRL_free(crl);
    } else {
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        uint8_t kid[32];
        if (x && !pki_cert_key_id(x, kid)) {
            strcpy(key, "cert/");
            for (int i = 0; i < 32; i++)
                sprintf(key + 5 + 2 * i, "%02x", kid[i]);
            len = i2d_X509(x, &der);
        }
        X509_free(x);
    }
    fclose(f);
    if (len > 0)
        rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                               RD_KAFKA_V_VALUE(der, (size_t)len),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ? -1 : 0;
    OPENSSL_free(der);
    return rc;
}

/* `pki publish`: every unit certificate (current, superseded and revoked) and the CRL go
 * to the compacted <prefix>certs topic, so verifiers need only the CA certificate. */
static int publish_certs(const char *dir, const db_config_t *cfg, int verbose)
{
    char err[512], topic[256], path[2400], units[1100];
    const char *changelog[] = {"cleanup.policy=compact"};
    const char *names[1] = {topic};
    rd_kafka_t *rk;
    DIR *d;
    struct dirent *e;
    int n = 0, ret = EXIT_OK;
    config_topic(cfg, "certs", topic, sizeof topic);
    snprintf(units, sizeof units, "%s/units", dir);
    if (!(d = opendir(units))) {
        cli_err("pki", "no unit certificates in %s: run `docbus pki issue` first", units);
        return EXIT_CONFIG;
    }
    rk = kafka_producer_new(cfg, NULL, NULL, NULL, err, sizeof err);
    if (!rk || kafka_check(rk, 10000, err, sizeof err) != KAFKA_FAIL_NONE ||
        kafka_ensure_topics(rk, names, 1, 1, changelog, 1, err, sizeof err)) {
        cli_err("pki", "%s", err);
        ret = rk ? EXIT_BROKER : EXIT_CONFIG;
        goto out;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".crt"))
            continue;
        snprintf(path, sizeof path, "%s/%s", units, e->d_name);
        if (publish_file(rk, topic, path, 0)) {
            cli_err("pki", "cannot publish %s", path);
            ret = EXIT_FAIL;
            goto out;
        }
        n++;
    }
    snprintf(path, sizeof path, "%s/crl.pem", dir);
    if (publish_file(rk, topic, path, 1)) {
        cli_err("pki", "cannot publish %s", path);
        ret = EXIT_FAIL;
        goto out;
    }
    if (rd_kafka_flush(rk, 30000)) {
        cli_err("pki", "the broker did not acknowledge the certificates in 30 s");
        ret = EXIT_BROKER;
        goto out;
    }
    if (verbose >= 0)
        fprintf(stderr, "docbus pki: published %d certificates and the CRL to %s\n", n, topic);
out:
    closedir(d);
    if (rk)
        rd_kafka_destroy(rk);
    return ret;
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
        return cli_usage_error("pki", "which action? init, issue, revoke, list or publish");
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
    } else if (!strcmp(sub, "publish")) {
        if (!cfg && !(cfg = cli_config(&cc)))
            return EXIT_CONFIG;
        ret = publish_certs(dir, cfg, cc.verbose);
    } else {
        ret = cli_usage_error("pki", "unknown action \"%s\": expected init, issue, revoke, list or publish", sub);
    }
    config_destroy(cfg);
    return ret;
}
