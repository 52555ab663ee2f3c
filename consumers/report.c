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

/* Reads every record of the counts topic up to its end (read_committed) into c. */
static int read_counts(rd_kafka_t *rk, const char *topic, counts_t *c, char *errstr,
                       size_t errstr_size)
{
    int64_t *low = NULL, *high = NULL;
    int n = 0, rc, remaining = 0;
    rd_kafka_topic_partition_list_t *tl = NULL;

    if ((rc = kafka_watermarks(rk, topic, &low, &high, &n, REPORT_TIMEOUT_MS, errstr,
                               errstr_size)))
        goto out;
    tl = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int p = 0; p < n; p++)
        if (high[p] > low[p]) {
            rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
            remaining++;
        }
    if (remaining && rd_kafka_assign(rk, tl)) {
        snprintf(errstr, errstr_size, "cannot assign the partitions of %s", topic);
        rc = DB_ERR_KAFKA;
        goto out;
    }
    /* read_committed: records of aborted aggregator transactions are never seen, and
     * the end is the last stable offset, so the counts are exactly the committed ones. */
    while (remaining > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            remaining--;
        } else if (m->err) {
            snprintf(errstr, errstr_size, "reading %s: %s", topic, rd_kafka_message_errstr(m));
            rc = DB_ERR_KAFKA;
        } else {
            char why[256];
            if (counts_load_record(c, m->key, m->key_len, m->payload, m->len, why, sizeof why)) {
                snprintf(errstr, errstr_size, "%s [%d] offset %" PRId64 ": %s", topic,
                         (int)m->partition, m->offset, why);
                rc = DB_ERR_INVALID;
            }
        }
        rd_kafka_message_destroy(m);
        if (rc)
            goto out;
    }
out:
    if (remaining)
        rd_kafka_assign(rk, NULL);
    if (tl)
        rd_kafka_topic_partition_list_destroy(tl);
    free(low);
    free(high);
    return rc;
}

/* Sums, over every partition of the input topics (the inboxes and the events topic),
 * how far the aggregator group's committed offset is behind the end. The aggregator
 * commits its input offsets in the same transaction as the counts, so a lag of 0 means
 * the counts include every input message that existed when we looked. *has_counts
 * tells whether the counts topic exists (it does not before the first aggregation). */
static int input_lag(rd_kafka_t *rk, const db_config_t *cfg, const char *counts_topic,
                     int64_t *lag, int *has_counts, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(64);
    char inbox[256], events[256];
    rd_kafka_resp_err_t err;
    int rc = 0;

    *lag = 0;
    *has_counts = 0;
    config_topic(cfg, "inbox.", inbox, sizeof inbox);
    config_topic(cfg, "events", events, sizeof events);
    if ((err = rd_kafka_metadata(rk, 1, NULL, &md, REPORT_TIMEOUT_MS))) {
        snprintf(errstr, errstr_size, "cannot list topics: %s", rd_kafka_err2str(err));
        rc = DB_ERR_KAFKA;
        goto out;
    }
    for (int t = 0; t < md->topic_cnt; t++) {
        const char *name = md->topics[t].topic;
        if (strcmp(name, counts_topic) == 0)
            *has_counts = 1;
        if (strncmp(name, inbox, strlen(inbox)) != 0 && strcmp(name, events) != 0)
            continue;
        for (int p = 0; p < md->topics[t].partition_cnt; p++)
            rd_kafka_topic_partition_list_add(parts, name, md->topics[t].partitions[p].id);
    }
    if (parts->cnt == 0)
        goto out;
    if ((err = rd_kafka_committed(rk, parts, REPORT_TIMEOUT_MS))) {
        snprintf(errstr, errstr_size, "committed offsets of the aggregator: %s",
                 rd_kafka_err2str(err));
        rc = DB_ERR_KAFKA;
        goto out;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t lo, hi, done = tp->offset < 0 ? 0 : tp->offset;
        if ((err = rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi,
                                                    REPORT_TIMEOUT_MS))) {
            snprintf(errstr, errstr_size, "end offset of %s [%d]: %s", tp->topic,
                     (int)tp->partition, rd_kafka_err2str(err));
            rc = DB_ERR_KAFKA;
            goto out;
        }
        if (done < lo)
            done = lo; /* retention removed what was never counted: nothing to wait for */
        if (hi > done)
            *lag += hi - done;
    }
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
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
    int ret = EXIT_OK, rc, has_counts = 0;
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
    if (input_lag(rk, cfg, topic, lag, &has_counts, err, sizeof err)) {
        cli_err("report", "%s", err);
        ret = EXIT_BROKER;
        goto out;
    }
    if (!(c = counts_new())) {
        ret = EXIT_FAIL;
        goto out;
    }
    /* No counts topic: no aggregator ever ran, the table stays empty. */
    if (has_counts && (rc = read_counts(rk, topic, c, err, sizeof err))) {
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
    enum { O_QUARTER = 256, O_FORMAT, O_TEMPLATE, O_TEMPLATE_DIR, O_OUT, O_ALLOW_LAG, O_MODEL };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"quarter", required_argument, 0, O_QUARTER},
        {"format", required_argument, 0, O_FORMAT},
        {"template", required_argument, 0, O_TEMPLATE},
        {"template-dir", required_argument, 0, O_TEMPLATE_DIR},
        {"out", required_argument, 0, O_OUT},
        {"allow-lag", no_argument, 0, O_ALLOW_LAG},
        {"model", required_argument, 0, O_MODEL},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *quarter_s = NULL, *format = "md", *tpl_file = NULL, *tpl_dir = NULL;
    const char *out_path = NULL, *model_path = NULL, *templates = NULL;
    char err[1024], dirbuf[PATH_MAX], qbuf[16], warning[512];
    json_t *model = NULL;
    json_error_t jerr;
    quarter_t q = 0;
    int64_t lag = 0;
    int opt, allow_lag = 0, ret = EXIT_OK, rc;
    char *buf = NULL;
    size_t len = 0;
    FILE *ms = NULL;

    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
        int r = cli_common_opt(&cc, opt, optarg, "report");
        if (r == 1)
            continue;
        if (r == 2 || r < 0)
            return r == 2 ? EXIT_OK : EXIT_USAGE;
        switch (opt) {
        case O_QUARTER: quarter_s = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_TEMPLATE: tpl_file = optarg; break;
        case O_TEMPLATE_DIR: tpl_dir = optarg; break;
        case O_OUT: out_path = optarg; break;
        case O_ALLOW_LAG: allow_lag = 1; break;
        case O_MODEL: model_path = optarg; break;
        default: return cli_usage_error("report", "see `docbus help report`");
        }
    }
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument \"%s\"", argv[optind]);
    if (!quarter_s && !model_path)
        return cli_usage_error("report", "which quarter? --quarter 2018-Q1");
    if (quarter_s && quarter_parse(quarter_s, &q, err, sizeof err))
        return cli_usage_error("report", "%s", err);
    if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "json"))
        return cli_usage_error("report", "--format %s: expected md, html or json", format);
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
