/* import.c - `docbus import FILE|-`: bulk publishing of JSON Lines records. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "jsonl.h"
#include "submit.h"

#define LINE_CAP (4 * 1024 * 1024)

struct import {
    FILE *rejects;
    const char *rejects_path;
    uint64_t lines, valid, rejected, failed_reported;
    int quiet;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A record the broker never acknowledged within the deadline. */
static void on_fail(void *opaque, int64_t line, const char *reason)
{
    struct import *im = opaque;
    if (im->failed_reported++ < 20)
        fprintf(stderr, "docbus import: line %lld: not delivered: %s\n", (long long)line, reason);
    else if (im->failed_reported == 21)
        fprintf(stderr, "docbus import: (more undelivered lines not listed)\n");
}

/* Copies a bad line to the rejects file with its line number and reason. */
static void reject(struct import *im, const char *line, size_t len, const char *reason)
{
    im->rejected++;
    if (!im->quiet)
        fprintf(stderr, "docbus import: line %llu: %s\n", (unsigned long long)im->lines, reason);
    if (!im->rejects) {
        im->rejects = fopen(im->rejects_path, "w");
        if (!im->rejects) {
            fprintf(stderr, "docbus import: cannot write rejects file %s: %s\n", im->rejects_path,
                    strerror(errno));
            return;
        }
    }
    json_t *j = json_pack("{s:I, s:s, s:s%}", "line", (json_int_t)im->lines, "error", reason,
                          "input", line, len);
    if (j) {
        json_dumpf(j, im->rejects, JSON_COMPACT | JSON_ENSURE_ASCII);
        fputc('\n', im->rejects);
        json_decref(j);
    } else {
        fprintf(im->rejects, "{\"line\":%llu,\"error\":\"input is not valid UTF-8\"}\n",
                (unsigned long long)im->lines);
    }
}

static void progress(const struct import *im, publisher_t *pub, double t0, off_t total,
                     off_t done, int final)
{
    publish_stats_t st;
    double el = now_s() - t0, rate;
    publisher_stats(pub, &st);
    rate = el > 0 ? st.delivered / el : 0;
    fprintf(stderr, "\r%llu read, %llu rejected, %llu delivered, %.0f/s",
            (unsigned long long)im->lines, (unsigned long long)im->rejected,
            (unsigned long long)st.delivered, rate);
    if (total > 0 && done > 0 && !final)
        fprintf(stderr, ", %.0f s left", el * (double)(total - done) / (double)done);
    fprintf(stderr, final ? "\n" : "   ");
}

int cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG, {"rejects", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    struct import im = {0};
    db_config_t *cfg = NULL;
    submitter_t *sub = NULL;
    FILE *in = NULL;
    char *line = NULL, errstr[1024], rejects_default[1024];
    size_t cap = 0;
    ssize_t n;
    int early, opt, json = 0, rc = EXIT_FAIL, broker_down = 0, show = cli_progress_enabled();
    off_t total = 0;
    double t0 = now_s(), last = 0;
    publish_stats_t st;

    while ((opt = cli_getopt(&cc, argc, argv, "import", CLI_COMMON_SHORT "r:j", longopts, &early)) > 0) {
        if (opt == 'r')
            im.rejects_path = optarg;
        else if (opt == 'j')
            json = 1;
    }
    if (early >= 0)
        return early;
    if (optind != argc - 1)
        return cli_usage_error("import", "expected one input: FILE or - for stdin");
    im.quiet = cc.verbose < 0;
    if (!strcmp(argv[optind], "-")) {
        in = stdin;
        snprintf(rejects_default, sizeof rejects_default, "import-stdin.rejects.jsonl");
    } else {
        struct stat sb;
        in = fopen(argv[optind], "r");
        if (!in) {
            cli_err("import", "cannot read %s: %s", argv[optind], strerror(errno));
            return EXIT_USAGE;
        }
        if (!fstat(fileno(in), &sb))
            total = sb.st_size;
        snprintf(rejects_default, sizeof rejects_default, "%s.rejects.jsonl", argv[optind]);
    }
    if (!im.rejects_path)
        im.rejects_path = rejects_default;
    if (!(cfg = cli_config(&cc))) {
        rc = EXIT_CONFIG;
        goto out;
    }
    sub = submitter_new(cfg, on_fail, &im, &broker_down, errstr, sizeof errstr);
    if (!sub) {
        cli_err("import", "%s", errstr);
        rc = broker_down == 2 ? EXIT_AUTH : broker_down ? EXIT_BROKER : EXIT_CONFIG;
        goto out;
    }
    while ((n = getline(&line, &cap, in)) != -1) {
        body_type_t t;
        json_t *rec = NULL;
        int r;
        im.lines++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (n > LINE_CAP) {
            snprintf(errstr, sizeof errstr, "line is %zd bytes, over the %d byte cap", n, LINE_CAP);
            reject(&im, line, 200, errstr);
            continue;
        }
        r = jsonl_parse_line(line, (size_t)n, &t, &rec, errstr, sizeof errstr);
        if (!r)
            r = submitter_add(sub, t, rec, (int64_t)im.lines, NULL, 0, errstr, sizeof errstr);
        json_decref(rec);
        if (r == DB_ERR_INVALID) {
            reject(&im, line, (size_t)n, errstr);
            continue;
        }
        if (r) {
            cli_err("import", "line %llu: %s", (unsigned long long)im.lines, errstr);
            rc = r == DB_ERR_CONFIG ? EXIT_CONFIG : r == DB_ERR_KAFKA ? EXIT_BROKER : EXIT_FAIL;
            goto finish;
        }
        im.valid++;
        if ((im.lines & 1023) == 0) {
            publisher_poll(submitter_publisher(sub), 0);
            if (show && now_s() - last > 0.5) {
                last = now_s();
                progress(&im, submitter_publisher(sub), t0, total, in == stdin ? 0 : ftello(in), 0);
            }
        }
    }
    rc = EXIT_OK;
finish:
    if (publisher_finish(submitter_publisher(sub), errstr, sizeof errstr)) {
        cli_err("import", "%s; the broker did not acknowledge them within "
                "docbus.delivery.deadline.ms. Re-run the same import: records already "
                "delivered are not counted twice", errstr);
        rc = EXIT_BROKER;
    }
    if (show)
        progress(&im, submitter_publisher(sub), t0, total, 0, 1);
    publisher_stats(submitter_publisher(sub), &st);
    if (!im.quiet)
        fprintf(stderr,
                "docbus import: %llu lines, %llu valid, %llu rejected%s%s%s, %llu delivered, "
                "%llu not delivered, %.1f s\n",
                (unsigned long long)im.lines, (unsigned long long)im.valid,
                (unsigned long long)im.rejected, im.rejected ? " (see " : "",
                im.rejected ? im.rejects_path : "", im.rejected ? ")" : "",
                (unsigned long long)st.delivered,
                (unsigned long long)st.failed, now_s() - t0);
    if (json)
        printf("{\"lines\":%llu,\"valid\":%llu,\"rejected\":%llu,\"delivered\":%llu,"
               "\"not_delivered\":%llu,\"producer_recreated\":%llu,\"seconds\":%.3f,"
               "\"rejects_file\":%s%s%s}\n",
               (unsigned long long)im.lines, (unsigned long long)im.valid,
               (unsigned long long)im.rejected, (unsigned long long)st.delivered,
               (unsigned long long)st.failed, (unsigned long long)st.recreated, now_s() - t0,
               im.rejected ? "\"" : "", im.rejected ? im.rejects_path : "null",
               im.rejected ? "\"" : "");
    if (rc == EXIT_OK && im.rejected)
        rc = EXIT_REJECTED;
out:
    submitter_destroy(sub);
    if (im.rejects)
        fclose(im.rejects);
    if (in && in != stdin)
        fclose(in);
    free(line);
    config_destroy(cfg);
    return rc;
}
