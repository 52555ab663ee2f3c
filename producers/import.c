/* import.c - `docbus import FILE|-`: bulk publishing of JSON Lines records. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
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
#define RING 2048              /* prepared records between the reader and the signer */
#define WAKE 64                /* a waiting side is woken once this many slots are ready */

/* One input line after the reader thread: a prepared record, a rejected line (rc
 * DB_ERR_INVALID, with the line kept for the rejects file) or a failure (other rc). */
struct slot {
    uint64_t line;
    int rc;
    char errstr[1024];
    char *text;                /* rejected: the line (or its first 200 bytes) */
    size_t text_len;
    submit_item_t item;
};

/* The reader thread parses and prepares lines in input order into a ring that the
 * main thread signs and publishes from: JSON work and signing run on separate cores. */
struct reader {
    FILE *in;
    submit_prep_t *prep;
    struct slot *ring;
    uint64_t head, tail;       /* filled up to head, taken up to tail (both grow) */
    int done, stop;            /* reader finished / main thread wants it to stop */
    int taker_waits, putter_waits;   /* a side is blocked on filled / freed */
    uint64_t lines;            /* lines read when done */
    int read_errno;            /* errno of a read error, 0 at end of input */
    atomic_llong bytes;        /* input bytes read so far, for progress */
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
};

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

/* Fills the next free slot from one line (len bytes) numbered lineno; blocks while
 * the ring is full. Returns 0, or -1 when the main thread asked to stop. */
static int reader_put(struct reader *r, uint64_t lineno, char *line, size_t len)
{
    struct slot *sl;
    int stop;

    pthread_mutex_lock(&r->mu);
    while (r->head - r->tail == RING && !r->stop) {
        r->putter_waits = 1;
        pthread_cond_wait(&r->freed, &r->mu);
        r->putter_waits = 0;
    }
    stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    if (stop)
        return -1;
    sl = &r->ring[r->head % RING];   /* only this thread writes slots at head */
    sl->line = lineno;
    sl->errstr[0] = '\0';
    if (len > LINE_CAP) {
        snprintf(sl->errstr, sizeof sl->errstr, "line is %zu bytes, over the %d byte cap", len,
                 LINE_CAP);
        sl->rc = DB_ERR_INVALID;
        len = 200;
    } else {
        sl->rc = submit_prepare_line(r->prep, line, len, &sl->item, sl->errstr,
                                     sizeof sl->errstr);
    }
    free(sl->text);
    sl->text = NULL;
    if (sl->rc == DB_ERR_INVALID && (sl->text = malloc(len + 1))) {
        memcpy(sl->text, line, len);
        sl->text[len] = '\0';
        sl->text_len = len;
    }
    pthread_mutex_lock(&r->mu);
    r->head++;
    /* Waking the signer per record would cost a context switch each: wake it per WAKE. */
    if (r->taker_waits && r->head - r->tail >= WAKE)
        pthread_cond_signal(&r->filled);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* The reader thread: every line of r->in through reader_put, then done. */
static void *reader_main(void *arg)
{
    struct reader *r = arg;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0;

    errno = 0;
    while ((n = getline(&line, &cap, r->in)) != -1) {
        lineno++;
        atomic_fetch_add(&r->bytes, n);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (reader_put(r, lineno, line, (size_t)n))
            break;
        errno = 0;
    }
    free(line);
    pthread_mutex_lock(&r->mu);
    r->read_errno = ferror(r->in) ? (errno ? errno : EIO) : 0;
    r->lines = lineno;
    r->done = 1;
    pthread_cond_signal(&r->filled);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* The next prepared line in input order, or NULL when the input is exhausted. The
 * slot stays the caller's until reader_release. */
static struct slot *reader_take(struct reader *r)
{
    struct slot *sl = NULL;
    pthread_mutex_lock(&r->mu);
    while (r->head == r->tail && !r->done) {
        /* woken per WAKE records, or after 20 ms: a slow input (a pipe fed by hand)
         * is not held back waiting for WAKE records */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        r->taker_waits = 1;
        pthread_cond_timedwait(&r->filled, &r->mu, &until);
        r->taker_waits = 0;
    }
    if (r->head != r->tail)
        sl = &r->ring[r->tail % RING];
    pthread_mutex_unlock(&r->mu);
    return sl;
}

/* Gives the slot reader_take returned back to the reader. */
static void reader_release(struct reader *r)
{
    pthread_mutex_lock(&r->mu);
    r->tail++;
    if (r->putter_waits && RING - (r->head - r->tail) >= WAKE)
        pthread_cond_signal(&r->freed);
    pthread_mutex_unlock(&r->mu);
}

/* Stops the reader thread (it may be mid-input) and waits for it. */
static void reader_stop(struct reader *r, pthread_t th)
{
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_signal(&r->freed);
    pthread_mutex_unlock(&r->mu);
    pthread_join(th, NULL);
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
    char errstr[1024], rejects_default[1024];
    struct reader rd = {.mu = PTHREAD_MUTEX_INITIALIZER, .filled = PTHREAD_COND_INITIALIZER,
                        .freed = PTHREAD_COND_INITIALIZER};
    pthread_t reader_th;
    int early, opt, json = 0, rc = EXIT_FAIL, broker_down = 0, show = cli_progress_enabled();
    int reader_started = 0;
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
    /* An import writes every unit's inbox (~200-400 partitions): at the 10 ms default a
     * partition's batch holds a record or two and the broker pays per batch (1.3-1.6 s of
     * broker CPU per 128k messages; 0.7-0.9 s at 100 ms). At 500 ms the full-scale import
     * cost the broker 12.0-12.6 s of CPU against 22.5-23.2 s at 100 ms, and took 48.5-51.8 s
     * against 57.3-57.5 s; the bench input (415k messages) 5.6 s against 5.8 s. The end
     * does not wait out the linger: publisher_finish flushes. One-shot commands keep
     * 10 ms. */
    if (!config_get(cfg, "linger.ms", NULL) &&
        config_set(cfg, "linger.ms", "500", errstr, sizeof errstr)) {
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
    if (!(rd.prep = submit_prep_new(submitter_units(sub), errstr, sizeof errstr)) ||
        !(rd.ring = calloc(RING, sizeof *rd.ring))) {
        cli_err("import", "%s", rd.prep ? "out of memory" : errstr);
        goto finish;
    }
    rd.in = in;
    if (pthread_create(&reader_th, NULL, reader_main, &rd) != 0) {
        cli_err("import", "cannot start the reader thread: %s", strerror(errno));
        goto finish;
    }
    reader_started = 1;
    for (struct slot *sl; (sl = reader_take(&rd)) != NULL; reader_release(&rd)) {
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
            reader_release(&rd);
            goto finish;
        }
        im.valid++;
        if ((im.valid & 1023) == 0) {
            publisher_poll(submitter_publisher(sub), 0);
            /* a terminal every 0.5 s; a log (-v) at once, then every second */
            if ((show && now_s() - last > 0.5) || (!show && cc.verbose > 0 && now_s() - last > 1)) {
                last = now_s();
                progress(&im, submitter_publisher(sub), t0, total,
                         in == stdin ? 0 : (off_t)atomic_load(&rd.bytes), 0, !show);
            }
        }
    }
    im.lines = rd.lines;
    if (rd.read_errno) {
        cli_err("import", "reading %s stopped after line %llu: %s; the lines before it are "
                "delivered, re-run the import once the input is readable",
                argv[optind], (unsigned long long)rd.lines, strerror(rd.read_errno));
        rc = EXIT_FAIL;
        goto finish;
    }
    rc = EXIT_OK;
finish:
    if (reader_started)
        reader_stop(&rd, reader_th);
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
    if (rd.ring)
        for (int i = 0; i < RING; i++) {
            free(rd.ring[i].text);
            submit_item_clear(&rd.ring[i].item);
        }
    free(rd.ring);
    submit_prep_destroy(rd.prep);
    submitter_destroy(sub);
    if (im.rejects)
        fclose(im.rejects);
    if (in && in != stdin)
        fclose(in);
    config_destroy(cfg);
    return rc;
}
