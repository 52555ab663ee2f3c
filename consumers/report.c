/* report.c - `docbus report`: the quarterly report from docbus.counts (or a saved
 * model) as Vietnamese Markdown, self-contained HTML or the JSON model.
 *
 * Exit codes:
 *   0  EXIT_OK      the report was written
 *   1  EXIT_FAIL    out of memory, or the output could not be written
 *   2  EXIT_USAGE   bad option, malformed quarter ("2018Q1"), --quarter differing from
 *                   the --model's quarter
 *   3  EXIT_CONFIG  bad config, metrics or registry; template not found or wrong
 *                   (unknown placeholder/filter, unclosed block); unreadable --model
 *   4  EXIT_BROKER  broker unreachable or a Kafka error while reading
 *   8  EXIT_NODATA  no data for the quarter (has_data false)
 *   9  EXIT_LAG     the aggregator has not counted all input yet (without --allow-lag;
 *                   with it the report carries a visible warning)
 *  10  EXIT_AUTH    the broker refused authentication or authorisation
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "counts.h"
#include "error.h"
#include "kafka.h"
#include "metrics.h"
#include "quarter.h"
#include "render.h"
#include "template.h"
#include "units.h"

#define REPORT_HISTORY_QUARTERS 4 /* the series: this quarter and the three before */
#define REPORT_TIMEOUT_MS 10000

static const char *unit_name(void *opaque, const char *code)
{
    const unit_t *u = units_find(opaque, code);
    return u ? u->name : NULL;
}

/* Loads one docbus.counts record into the counts table (kafka_read_to_end callback). */
static int load_count(void *opaque, const rd_kafka_message_t *m, char *errstr,
                      size_t errstr_size)
{
    char why[256];
    if (counts_load_record(opaque, m->key, m->key_len, m->payload, m->len, why, sizeof why)) {
        snprintf(errstr, errstr_size, "%s [%d] offset %" PRId64 ": %s", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, m->offset, why);
        return DB_ERR_INVALID;
    }
    return 0;
}

/* Sets *lag to how many input messages (every inbox and the events topic) the
 * aggregator group has not committed. The aggregator commits its input offsets in the
 * same transaction as the counts, so 0 means the counts include every input message
 * that existed when we looked. */
static int input_lag(rd_kafka_t *rk, const db_config_t *cfg, int64_t *lag, char *errstr,
                     size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *ends = NULL;
    int rc = kafka_input_ends(rk, cfg, &ends, errstr, errstr_size);
    if (!rc)
        rc = kafka_group_lag(rk, ends, lag, KAFKA_RECOVER_MS, errstr, errstr_size);
    if (ends)
        rd_kafka_topic_partition_list_destroy(ends);
    return rc;
}

/* Late facts change a quarter after its report: lists in the model ("changed_since")
 * the figures whose counts changed at or after since_ms, and says so in the visible
 * warning of the Markdown and HTML output. */
static void mark_changed_since(json_t *model, int64_t since_ms, const char *since_s)
{
    json_t *ids = json_array(), *fig;
    const char *id;
    char note[2048], ts[40];
    size_t used;
    json_object_foreach(json_object_get(model, "figures"), id, fig) {
        const char *lc = json_string_value(json_object_get(fig, "last_changed"));
        int64_t ms;
        char e[128];
        if (lc && !vn_time_parse(lc, &ms, e, sizeof e) && ms >= since_ms)
            json_array_append_new(ids, json_string(id));
    }
    json_object_set_new(model, "changed_since",
                        json_pack("{s:s, s:o}", "since", vn_time_format(since_ms, ts, sizeof ts),
                                  "figures", json_incref(ids)));
    if (json_array_size(ids)) {
        const char *prev = json_string_value(json_object_get(model, "warning"));
        used = (size_t)snprintf(note, sizeof note, "%s%sCác số liệu sau đã thay đổi sau %s: ",
                                prev ? prev : "", prev ? " " : "", since_s);
        for (size_t i = 0; i < json_array_size(ids) && used < sizeof note; i++)
            used += (size_t)snprintf(note + used, sizeof note - used, "%s%s", i ? ", " : "",
                                     json_string_value(json_array_get(ids, i)));
        if (used < sizeof note)
            snprintf(note + used, sizeof note - used, ".");
        json_object_set_new(model, "warning", json_string(note));
    }
    json_decref(ids);
}

/* Builds the report model of quarter q from Kafka; *lag gets the aggregator's lag.
 * Returns an exit code. */
static int model_from_kafka(const cli_common_t *cc, quarter_t q, json_t **model, int64_t *lag)
{
    char err[1024], topic[256];
    db_config_t *cfg = NULL;
    metrics_t *m = NULL;
    units_t *reg = NULL;
    counts_t *c = NULL;
    rd_kafka_t *rk = NULL;
    const char *path;
    int ret = EXIT_OK, rc;
    kafka_fail_t kf;

    if (!(cfg = cli_config(cc)))
        return EXIT_CONFIG;
    path = config_get(cfg, "docbus.metrics", "");
    if (metrics_load(*path ? path : NULL, &m, err, sizeof err)) {
        cli_err("report", "%s", err);
        ret = EXIT_CONFIG;
        goto out;
    }
    path = config_get(cfg, "docbus.registry", "");
    if (units_load(*path ? path : NULL, &reg, err, sizeof err)) {
        cli_err("report", "%s", err);
        ret = EXIT_CONFIG;
        goto out;
    }
    /* The aggregator's group id lets us read its committed input offsets; the consumer
     * never subscribes, so it does not join (or disturb) the group. */
    rk = kafka_consumer_new(cfg, config_get(cfg, "docbus.aggregate.group", "docbus-aggregate"),
                            NULL, NULL, err, sizeof err);
    if (!rk) {
        cli_err("report", "%s", err);
        ret = EXIT_CONFIG;
        goto out;
    }
    if ((kf = kafka_check(rk, REPORT_TIMEOUT_MS, err, sizeof err)) != KAFKA_FAIL_NONE) {
        cli_err("report", "%s", err);
        ret = kf == KAFKA_FAIL_AUTH ? EXIT_AUTH : EXIT_BROKER;
        goto out;
    }
    /* Lag first: counts read afterwards are at least as recent as the offsets seen. */
    config_topic(cfg, "counts", topic, sizeof topic);
    if (input_lag(rk, cfg, lag, err, sizeof err)) {
        cli_err("report", "%s", err);
        ret = EXIT_BROKER;
        goto out;
    }
    if (!(c = counts_new())) {
        ret = EXIT_FAIL;
        goto out;
    }
    /* No counts topic: no aggregator ever ran, the table stays empty. */
    rc = kafka_read_to_end(rk, topic, load_count, c, err, sizeof err);
    if (rc && rc != DB_ERR_NOT_FOUND) {
        cli_err("report", "%s", err);
        ret = rc == DB_ERR_KAFKA ? EXIT_BROKER : EXIT_FAIL;
        goto out;
    }
    if ((rc = counts_report(c, m, unit_name, reg, q, REPORT_HISTORY_QUARTERS, model, err,
                            sizeof err))) {
        cli_err("report", "%s", err);
        ret = EXIT_FAIL;
    }
out:
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    counts_destroy(c);
    units_destroy(reg);
    metrics_destroy(m);
    config_destroy(cfg);
    return ret;
}

/* Writes len bytes to path through a temporary file and rename, so a reader never
 * sees half a report; "-" or NULL is stdout. Returns an exit code. */
static int write_output(const char *path, const char *buf, size_t len)
{
    char tmp[PATH_MAX];
    FILE *f;
    int fd;

    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
            cli_err("report", "writing the report to stdout: %s", strerror(errno));
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp ||
        (fd = mkstemp(tmp)) < 0) {
        cli_err("report", "cannot create a temporary file next to %s: %s", path, strerror(errno));
        return EXIT_FAIL;
    }
    if (!(f = fdopen(fd, "w"))) {
        close(fd);
        unlink(tmp);
        cli_err("report", "cannot write %s: %s", tmp, strerror(errno));
        return EXIT_FAIL;
    }
    if (fwrite(buf, 1, len, f) != len || fflush(f) != 0 || fsync(fd) != 0) {
        cli_err("report", "cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return EXIT_FAIL;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        cli_err("report", "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    enum { O_QUARTER = 256, O_FORMAT, O_TEMPLATE, O_TEMPLATE_DIR, O_OUT, O_ALLOW_LAG, O_MODEL, O_CHANGED_SINCE };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"quarter", required_argument, 0, O_QUARTER},
        {"format", required_argument, 0, O_FORMAT},
        {"template", required_argument, 0, O_TEMPLATE},
        {"template-dir", required_argument, 0, O_TEMPLATE_DIR},
        {"out", required_argument, 0, O_OUT},
        {"allow-lag", no_argument, 0, O_ALLOW_LAG},
        {"model", required_argument, 0, O_MODEL},
        {"changed-since", required_argument, 0, O_CHANGED_SINCE},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *quarter_s = NULL, *format = "md", *tpl_file = NULL, *tpl_dir = NULL;
    const char *out_path = NULL, *model_path = NULL, *templates = NULL, *since_s = NULL;
    int64_t since_ms = 0;
    char err[1024], dirbuf[PATH_MAX], qbuf[16], warning[512];
    json_t *model = NULL;
    json_error_t jerr;
    quarter_t q = 0;
    int64_t lag = 0;
    int early, opt, allow_lag = 0, ret = EXIT_OK, rc;
    char *buf = NULL;
    size_t len = 0;
    FILE *ms = NULL;

    while ((opt = cli_getopt(&cc, argc, argv, "report", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        switch (opt) {
        case O_QUARTER: quarter_s = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_TEMPLATE: tpl_file = optarg; break;
        case O_TEMPLATE_DIR: tpl_dir = optarg; break;
        case O_OUT: out_path = optarg; break;
        case O_ALLOW_LAG: allow_lag = 1; break;
        case O_MODEL: model_path = optarg; break;
        case O_CHANGED_SINCE: since_s = optarg; break;
        default: return cli_usage_error("report", "see `docbus help report`");
        }
    }
    if (early >= 0)
        return early;
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument \"%s\"", argv[optind]);
    if (!quarter_s && !model_path)
        return cli_usage_error("report", "which quarter? --quarter 2018-Q1");
    if (quarter_s && quarter_parse(quarter_s, &q, err, sizeof err))
        return cli_usage_error("report", "%s", err);
    if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "json"))
        return cli_usage_error("report", "--format %s: expected md, html or json", format);
    if (since_s && vn_time_parse(since_s, &since_ms, err, sizeof err))
        return cli_usage_error("report", "--changed-since: %s", err);
    if (tpl_file && tpl_dir)
        return cli_usage_error("report", "--template and --template-dir exclude each other");

    if (model_path) {
        const char *mq;
        if (!(model = json_load_file(model_path, 0, &jerr)) || !json_is_object(model)) {
            cli_err("report", "--model %s:%d: %s", model_path, jerr.line,
                    model ? "not a JSON object" : jerr.text);
            ret = EXIT_CONFIG;
            goto out;
        }
        mq = json_string_value(json_object_get(model, "quarter"));
        if (quarter_s && (!mq || strcmp(mq, quarter_format(q, qbuf, sizeof qbuf)) != 0)) {
            ret = cli_usage_error("report", "--model %s is the report of %s, not %s", model_path,
                                  mq ? mq : "no quarter", qbuf);
            goto out;
        }
    }
    /* Templates are found before any Kafka work, so a wrong directory fails at once. */
    if (strcmp(format, "json") != 0) {
        if (tpl_file) {
            templates = tpl_file;
        } else if (template_dir_find(tpl_dir, dirbuf, sizeof dirbuf, err, sizeof err)) {
            cli_err("report", "%s", err);
            ret = EXIT_CONFIG;
            goto out;
        } else {
            templates = dirbuf;
        }
    }

    if (!model && (ret = model_from_kafka(&cc, q, &model, &lag)) != EXIT_OK)
        goto out;

    if (lag > 0) {
        if (!allow_lag) {
            cli_err("report", "the counts lag %" PRId64 " input messages behind; run `docbus "
                    "aggregate --until-caught-up` first, or pass --allow-lag to render anyway",
                    lag);
            ret = EXIT_LAG;
            goto out;
        }
        snprintf(warning, sizeof warning,
                 "Số liệu chưa đầy đủ: tại thời điểm lập báo cáo còn %" PRId64
                 " thông điệp chưa được tổng hợp.", lag);
        json_object_set_new(model, "warning", json_string(warning));
        if (cc.verbose >= 0)
            cli_err("report", "warning: rendering with %" PRId64 " input messages not yet counted",
                    lag);
    }
    if (since_s)
        mark_changed_since(model, since_ms, since_s);
    if (!json_is_true(json_object_get(model, "has_data"))) {
        const char *mq = json_string_value(json_object_get(model, "quarter"));
        cli_err("report", "no data for %s", mq ? mq : quarter_s);
        ret = EXIT_NODATA;
        goto out;
    }

    /* The whole report is rendered before anything is written: a template error never
     * leaves half a report on stdout or in --out. */
    if (!(ms = open_memstream(&buf, &len))) {
        ret = EXIT_FAIL;
        goto out;
    }
    rc = !strcmp(format, "json") ? render_json(model, ms, err, sizeof err)
         : !strcmp(format, "html") ? render_html(model, templates, ms, err, sizeof err)
                                   : render_markdown(model, templates, ms, err, sizeof err);
    if (fclose(ms) != 0 && rc == 0)
        rc = DB_ERR_NOMEM;
    ms = NULL;
    if (rc) {
        cli_err("report", "%s", rc == DB_ERR_NOMEM ? "out of memory" : err);
        ret = rc == DB_ERR_NOMEM ? EXIT_FAIL : EXIT_CONFIG;
        goto out;
    }
    ret = write_output(out_path, buf, len);
out:
    if (ms)
        fclose(ms);
    free(buf);
    json_decref(model);
    return ret;
}
