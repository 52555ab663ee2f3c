/* import.c - `docbus import FILE|-`: bulk publishing of JSON Lines records. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "jsonl.h"
#include "prep_pool.h"
#include "submit.h"

#define INPUT_BUFFER (1 << 20)   /* stdio buffer of an input file */

/* The number of preparing threads: docbus.import.workers, where 0 is one per online CPU
 * (the signing thread waits on them: one reader thread was the import's longest);
 * prep_pool_start keeps it within 1..PREP_POOL_MAX_WORKERS. */
static int import_workers(const db_config_t *cfg, int *out, char *errstr, size_t errstr_size)
{
    int64_t n;
    if (config_get_int(cfg, "docbus.import.workers", 0, 0, PREP_POOL_MAX_WORKERS, &n, errstr,
                       errstr_size))
        return -1;
    *out = n ? (int)n : (int)sysconf(_SC_NPROCESSORS_ONLN);
    return 0;
}

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

/* One progress report: rewritten in place on a terminal, or (log, for -v) a line of
 * its own. */
static void progress(const struct import *im, publisher_t *pub, double t0, off_t total,
                     off_t done, int final, int log)
{
    publish_stats_t st;
    double el = now_s() - t0, rate;
    publisher_stats(pub, &st);
    rate = el > 0 ? st.delivered / el : 0;
    fprintf(stderr, "%s%llu read, %llu rejected, %llu delivered, %.0f/s",
            log ? "docbus import: " : "\r", (unsigned long long)im->lines,
            (unsigned long long)im->rejected, (unsigned long long)st.delivered, rate);
    if (total > 0 && done > 0 && !final)
        fprintf(stderr, ", %.0f s left", el * (double)(total - done) / (double)done);
    fprintf(stderr, final || log ? "\n" : "   ");
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
    char *inbuf = NULL;   /* in's stdio buffer, freed after it is closed */
    char errstr[1024], rejects_default[1024];
    prep_pool_t *pool = NULL;
    int early, opt, workers, json = 0, rc = EXIT_FAIL, broker_down = 0, show = cli_progress_enabled();
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
        /* stdio reads st_blksize (4 KiB) a call: ~29,000 reads for the bench input, 5 %
         * of a preparing thread's samples in the kernel. glibc takes a size only with a
         * buffer; without one (out of memory) the default stays. */
        if ((inbuf = malloc(INPUT_BUFFER)))
            setvbuf(in, inbuf, _IOFBF, INPUT_BUFFER);
        snprintf(rejects_default, sizeof rejects_default, "%s.rejects.jsonl", argv[optind]);
    }
    if (!im.rejects_path)
        im.rejects_path = rejects_default;
    if (!(cfg = cli_config(&cc))) {
        rc = EXIT_CONFIG;
        goto out;
    }
    /* An import writes every unit's inbox (~200-400 partitions): at the 10 ms default a
     * partition's batch holds a record or two and the broker pays per batch (1.3-1.6 s of
     * broker CPU per 128k messages; 0.7-0.9 s at 100 ms). At 500 ms the full-scale import
     * cost the broker 12.0-12.6 s of CPU against 22.5-23.2 s at 100 ms, and took 48.5-51.8 s
     * against 57.3-57.5 s; the bench input (415k messages) 5.6 s against 5.8 s. With one
     * partition per inbox (half as many), 250 ms gives a partition's batch what 500 ms
     * gave, and the import's end, where librdkafka's thread compresses and sends what the
     * linger held, is half as long: the bench input 2.23-2.25 s against 2.34-2.37 s
     * (medians of 2 x 8 alternating runs), the broker's CPU 0.76-0.82 s against
     * 0.69-0.72 s. The end does not wait out the linger: publisher_finish flushes.
     * One-shot commands keep 10 ms. */
    if (!config_get(cfg, "linger.ms", NULL) &&
        config_set(cfg, "linger.ms", "250", errstr, sizeof errstr)) {
        cli_err("import", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    if (import_workers(cfg, &workers, errstr, sizeof errstr)) {
        cli_err("import", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    sub = submitter_new(cfg, on_fail, &im, &broker_down, errstr, sizeof errstr);
    if (!sub) {
        cli_err("import", "%s", errstr);
        rc = broker_down == 2 ? EXIT_AUTH : broker_down ? EXIT_BROKER : EXIT_CONFIG;
        goto out;
    }
    if (!(pool = prep_pool_start(in, submitter_units(sub), workers, errstr, sizeof errstr))) {
        cli_err("import", "%s", errstr);
        goto finish;
    }
    for (prep_slot_t *sl; (sl = prep_pool_take(pool)) != NULL; prep_pool_release(pool)) {
        int r = sl->rc;
        im.lines = sl->line;
        if (!r)
            r = submitter_send(sub, &sl->item, (int64_t)sl->line, errstr, sizeof errstr);
        else
            snprintf(errstr, sizeof errstr, "%s", sl->errstr);
        if (r == DB_ERR_INVALID) {
            reject(&im, sl->text ? sl->text : "", sl->text ? sl->text_len : 0, errstr);
            continue;
        }
        if (r) {
            cli_err("import", "line %llu: %s", (unsigned long long)sl->line, errstr);
            rc = r == DB_ERR_CONFIG ? EXIT_CONFIG : r == DB_ERR_KAFKA ? EXIT_BROKER : EXIT_FAIL;
            prep_pool_release(pool);
            goto finish;
        }
        im.valid++;
        if ((im.valid & 1023) == 0) {
            publisher_poll(submitter_publisher(sub), 0);
            /* a terminal every 0.5 s; a log (-v) at once, then every second */
            if ((show && now_s() - last > 0.5) || (!show && cc.verbose > 0 && now_s() - last > 1)) {
                last = now_s();
                progress(&im, submitter_publisher(sub), t0, total,
                         in == stdin ? 0 : (off_t)prep_pool_bytes(pool), 0, !show);
            }
        }
    }
    im.lines = prep_pool_lines(pool);
    if (prep_pool_read_errno(pool)) {
        cli_err("import", "reading %s stopped after line %llu: %s; the lines before it are "
                "delivered, re-run the import once the input is readable",
                argv[optind], (unsigned long long)im.lines, strerror(prep_pool_read_errno(pool)));
        rc = EXIT_FAIL;
        goto finish;
    }
    rc = EXIT_OK;
finish:
    prep_pool_stop(pool);
    pool = NULL;
    {
        int frc = publisher_finish(submitter_publisher(sub), errstr, sizeof errstr);
        if (frc == DB_ERR_KAFKA) {
            cli_err("import", "%s; the broker did not acknowledge them within "
                    "docbus.delivery.deadline.ms. Re-run the same import: records already "
                    "delivered are not counted twice", errstr);
            rc = EXIT_BROKER;
        } else if (frc) {
            cli_err("import", "%s. Fix that (the state directory, docbus.state.dir, must be "
                    "writable), then re-run the same import: records already delivered are "
                    "not counted twice", errstr);
            rc = EXIT_FAIL;
        }
    }
    if (show)
        progress(&im, submitter_publisher(sub), t0, total, 0, 1, 0);
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
    free(inbuf);
    config_destroy(cfg);
    return rc;
}
