/* audit.c - `docbus audit`: replay a time range from Kafka (or an evidence file), prove
 * every message, recount the quarterly figures, compare, export evidence. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "audit.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "evidence.h"
#include "kafka.h"
#include "kafka_refill.h"
#include "verify_pipe.h"
#include "metrics.h"
#include "pki.h"
#include "quarter.h"
#include "trust.h"
#include "version.h"

#define STALL_MS 60000        /* no progress for this long: the broker is not answering */
#define PRINT_FINDINGS 50     /* findings printed on stderr without -v */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* One partition to read: [start, end) where end is the high watermark seen at start. */
struct part {
    char *topic;
    int32_t partition;
    int64_t start, end;
    int done;
};

struct run {
    db_config_t *cfg;
    const char *cmd;
    audit_t *audit;
    metrics_t *metrics;
    rd_kafka_t *rk;
    evidence_writer_t *ev;
    evidence_trust_t trust_der;
    int have_trust_der;
    struct part *parts;
    size_t nparts;
    size_t ntopics, msg_topics;
    char prefix[256];
    char counts_topic[300];
    int64_t from_ms, to_ms, slack_ms, replay_ms;
    const char *against;           /* "counts" (default), "none", or a report file */
    char *against_text;            /* the report JSON text, when against is a file */
    int against_explicit;
    int json, verbose;
    uint64_t count_records;
    /* offline */
    int offline_header_seen, offline_trust_seen;
    const char *pin_ca;            /* --ca FILE: the evidence CA must be this one */
    char ca_sha256[65];
    char *recorded_summary;
    char against_buf[1024];
    size_t max_listed;
    char errstr[1024];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2018-Q1" is the quarter's first instant (for --to: the next quarter's, so that
 * --from 2018-Q1 --to 2018-Q1 is that quarter); anything else is a Vietnam time. */
static int parse_time(const char *s, int is_to, int64_t *ms, char *errstr, size_t errstr_size)
{
    quarter_t q;
    char err[256];
    if (strlen(s) == 7 && s[4] == '-' && s[5] == 'Q' && !quarter_parse(s, &q, err, sizeof err)) {
        *ms = quarter_start_ms(is_to ? q + 1 : q);
        return 0;
    }
    return vn_time_parse(s, ms, errstr, errstr_size);
}

static int cmp_part(const void *x, const void *y)
{
    const struct part *a = x, *b = y;
    int c = strcmp(a->topic, b->topic);
    return c ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

static struct part *find_part(struct run *r, const char *topic, int32_t partition)
{
    struct part key = {.topic = (char *)topic, .partition = partition};
    if (!r->nparts)
        return NULL;
    return bsearch(&key, r->parts, r->nparts, sizeof key, cmp_part);
}

static int wanted_topic(struct run *r, const char *name, const char *list)
{
    char events[300], inbox[300];
    if (list) {
        /* --topics: full names or suffixes after the prefix, comma separated */
        const char *p = list;
        size_t n = strlen(name), plen = strlen(r->prefix);
        while (*p) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if ((len == n && !strncmp(p, name, n)) ||
                (n == plen + len && !strncmp(name, r->prefix, plen) && !strncmp(name + plen, p, len)))
                return 1;
            p += len + (e ? 1 : 0);
        }
        return 0;
    }
    snprintf(events, sizeof events, "%sevents", r->prefix);
    snprintf(inbox, sizeof inbox, "%sinbox.", r->prefix);
    return !strcmp(name, events) || !strncmp(name, inbox, strlen(inbox));
}

/* Sets every planned partition's [start, end) to its watermarks now (bounded: what
 * exists now; later data is not waited for), in one batched request. Returns 0, or -1
 * with r->errstr. */
static int query_bounds(struct run *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)r->nparts);
    int64_t *lo = calloc(r->nparts, sizeof *lo), *hi = calloc(r->nparts, sizeof *hi);
    int bad = -1, rc = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__FAIL;
    for (size_t i = 0; i < r->nparts; i++)
        rd_kafka_topic_partition_list_add(l, r->parts[i].topic, r->parts[i].partition);
    if (lo && hi)
        err = kafka_list_watermarks(r->rk, l, lo, hi, 30000, &bad);
    if (err) {
        snprintf(r->errstr, sizeof r->errstr, "watermarks of %s [%d]: %s",
                 bad >= 0 ? r->parts[bad].topic : "the audited topics",
                 bad >= 0 ? (int)r->parts[bad].partition : -1, rd_kafka_err2str(err));
        rc = -1;
    }
    for (size_t i = 0; !err && i < r->nparts; i++) {
        r->parts[i].start = lo[i];
        r->parts[i].end = hi[i];
    }
    free(lo);
    free(hi);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Lists the partitions to read and their [start, end) offsets. */
static int plan(struct run *r, const char *topics_list)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *tl = NULL;
    rd_kafka_resp_err_t err;
    int rc = EXIT_BROKER;
    size_t cap = 0;

    /* Every topic, so inboxes created by any unit are found by their prefix. */
    if ((err = kafka_metadata(r->rk, 1, NULL, &md, 30000))) {
        snprintf(r->errstr, sizeof r->errstr, "cannot list topics: %s", rd_kafka_err2str(err));
        return EXIT_BROKER;
    }
    for (int t = 0; t < md->topic_cnt; t++) {
        const char *name = md->topics[t].topic;
        if (md->topics[t].err || !wanted_topic(r, name, topics_list))
            continue;
        r->ntopics++;
        for (int p = 0; p < md->topics[t].partition_cnt; p++) {
            int32_t pid = md->topics[t].partitions[p].id;
            if (r->nparts == cap) {
                cap = cap ? cap * 2 : 64;
                struct part *np = realloc(r->parts, cap * sizeof *np);
                if (!np)
                    goto nomem;
                r->parts = np;
            }
            struct part *pp = &r->parts[r->nparts];
            if (!(pp->topic = strdup(name)))
                goto nomem;
            pp->partition = pid;
            pp->done = 0;
            r->nparts++;
        }
    }
    if (topics_list && r->ntopics == 0) {
        snprintf(r->errstr, sizeof r->errstr, "none of --topics %s exists", topics_list);
        rc = EXIT_CONFIG;
        goto out;
    }
    if (r->nparts && query_bounds(r))
        goto out;
    if (r->nparts)
        qsort(r->parts, r->nparts, sizeof *r->parts, cmp_part);
    if (r->from_ms != AUDIT_TIME_OPEN_START && r->nparts) {
        /* Facts are counted by their own time, but a fact is only produced after it
         * happened: reading from Kafka time from - slack to the end finds every message
         * about the range, late arrivals included. */
        tl = rd_kafka_topic_partition_list_new((int)r->nparts);
        for (size_t i = 0; i < r->nparts; i++)
            rd_kafka_topic_partition_list_add(tl, r->parts[i].topic, r->parts[i].partition)->offset =
                r->from_ms - r->slack_ms;
        if ((err = rd_kafka_offsets_for_times(r->rk, tl, 15000))) {
            snprintf(r->errstr, sizeof r->errstr, "offsets_for_times: %s", rd_kafka_err2str(err));
            goto out;
        }
        for (int i = 0; i < tl->cnt; i++) {
            struct part *pp = find_part(r, tl->elems[i].topic, tl->elems[i].partition);
            if (!pp)
                continue;
            if (tl->elems[i].err) {
                snprintf(r->errstr, sizeof r->errstr, "offsets_for_times %s [%d]: %s", pp->topic,
                         (int)pp->partition, rd_kafka_err2str(tl->elems[i].err));
                goto out;
            }
            /* -1: no message at or after that time */
            pp->start = tl->elems[i].offset < 0 ? pp->end : tl->elems[i].offset;
        }
    }
    for (size_t i = 0; i < r->nparts; i++)
        r->parts[i].done = r->parts[i].start >= r->parts[i].end;
    rc = 0;
    goto out;
nomem:
    snprintf(r->errstr, sizeof r->errstr, "out of memory");
    rc = EXIT_FAIL;
out:
    if (tl)
        rd_kafka_topic_partition_list_destroy(tl);
    if (md)
        rd_kafka_metadata_destroy(md);
    return rc;
}

static int export_record(struct run *r, evidence_kind_t kind, const audit_msg_t *m)
{
    if (!r->ev)
        return 0;
    if (evidence_write_record(r->ev, kind, m, r->errstr, sizeof r->errstr))
        return EXIT_FAIL;
    return 0;
}

static void fill_msg(audit_msg_t *am, const rd_kafka_message_t *m)
{
    rd_kafka_timestamp_type_t tst;
    am->topic = rd_kafka_topic_name(m->rkt);
    am->partition = m->partition;
    am->offset = m->offset;
    am->timestamp = rd_kafka_message_timestamp(m, &tst);
    if (tst == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        am->timestamp = -1;
    am->key = m->key;
    am->key_len = m->key ? m->key_len : 0;
    am->value = m->payload;
    am->len = m->payload ? m->len : 0;
}

/* The message phase's verify_pipe_drain callback: audits one proven message. */
struct audit_proven {
    struct run *r;
    uint64_t *n;             /* messages audited */
};

static int audit_one(void *opaque, verify_slot_t *s)
{
    struct audit_proven *ap = opaque;
    struct run *r = ap->r;
    audit_msg_t am;
    int rc = 0;
    fill_msg(&am, s->owner);
    if (s->hash_rc) {
        snprintf(r->errstr, sizeof r->errstr, "SHA-256 of a body failed (OpenSSL)");
        rc = EXIT_FAIL;
    } else if (audit_message_verified(r->audit, &am, s->rc, s->errstr, &s->v, s->body_hash)) {
        snprintf(r->errstr, sizeof r->errstr, "out of memory");
        rc = EXIT_FAIL;
    }
    if (!rc)
        rc = export_record(r, EVIDENCE_MESSAGE, &am);
    if (!rc)
        (*ap->n)++;
    return rc;
}

/* Reads every planned partition from start to end. kind MESSAGE feeds the audit,
 * COUNT the committed counts. Returns 0 or an exit code. */
static int read_parts(struct run *r, evidence_kind_t kind)
{
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new((int)r->nparts + 1);
    size_t remaining = 0;
    int rc = 0, show = cli_progress_enabled() && r->verbose >= 0 && kind == EVIDENCE_MESSAGE;
    int64_t last_progress = 0, last_msg = now_ms();
    uint64_t n = 0;
    kafka_refill_t refill = {0};
    verify_pipe_t *pipe = NULL;   /* messages are verified on a second thread */
    struct audit_proven ap = {r, &n};
    for (size_t i = 0; i < r->nparts; i++)
        if (!r->parts[i].done) {
            rd_kafka_topic_partition_list_add(tl, r->parts[i].topic, r->parts[i].partition)->offset =
                r->parts[i].start;
            remaining++;
        }
    if (!remaining)
        goto out;
    if (rd_kafka_assign(r->rk, tl)) {
        snprintf(r->errstr, sizeof r->errstr, "cannot assign the partitions");
        rc = EXIT_BROKER;
        goto out;
    }
    kafka_refill_init(&refill, r->rk);
    if (kind == EVIDENCE_MESSAGE &&
        !(pipe = verify_pipe_new(audit_verifier(r->audit), kafka_message_release, VERIFY_PIPE_BODY_HASH))) {
        snprintf(r->errstr, sizeof r->errstr, "cannot start the verifying thread (out of memory?)");
        rc = EXIT_FAIL;
        goto out;
    }
    while (remaining > 0) {
        rd_kafka_message_t *m, *pushed = NULL;
        struct part *pp;
        if (stop_requested) {
            snprintf(r->errstr, sizeof r->errstr, "interrupted: the audit is incomplete");
            rc = EXIT_FAIL;
            goto out;
        }
        /* with messages in the pipe, do not sleep in poll: audit them as they are proven */
        int pending = pipe && verify_pipe_in_flight(pipe) > 0;
        m = rd_kafka_consumer_poll(r->rk, pending ? 0 : 200);
        int64_t now = now_ms();
        if (!m && pending) {
            if ((rc = verify_pipe_drain(pipe, VERIFY_DRAIN_ALL, audit_one, &ap)))
                goto out;
            continue;
        }
        if (!m) {
            if (now - last_msg > STALL_MS) {
                snprintf(r->errstr, sizeof r->errstr, "no progress for %d s with %zu partitions "
                         "unfinished (broker down, or a transaction left open?)", STALL_MS / 1000,
                         remaining);
                rc = EXIT_BROKER;
                goto out;
            }
            continue;
        }
        last_msg = now;
        pp = m->rkt ? find_part(r, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* Reached the log's end: with read_committed, offsets before end that are
             * transaction markers or aborted records are never delivered. */
            if (pp && !pp->done && m->offset >= pp->end) {
                pp->done = 1;
                remaining--;
            }
        } else if (m->err) {
            kafka_fail_t f = kafka_classify(m->err);
            if (f == KAFKA_FAIL_AUTH || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                snprintf(r->errstr, sizeof r->errstr, "%s", rd_kafka_message_errstr(m));
                rc = f == KAFKA_FAIL_AUTH ? EXIT_AUTH : EXIT_BROKER;
                rd_kafka_message_destroy(m);
                goto out;
            }
            if (r->verbose > 0)
                cli_err(r->cmd, "consumer: %s (retrying)", rd_kafka_message_errstr(m));
        } else if (pp && !pp->done) {
            if (m->offset < pp->end && kind == EVIDENCE_MESSAGE) {
                kafka_refill_note(&refill, m);
                if (verify_pipe_full(pipe) && (rc = verify_pipe_drain(pipe, VERIFY_DRAIN_BURST, audit_one, &ap))) {
                    rd_kafka_message_destroy(m);
                    goto out;
                }
                verify_pipe_push(pipe, m->payload, m->payload ? m->len : 0, m);
                pushed = m;   /* the pipe owns it now */
            } else if (m->offset < pp->end) {
                audit_msg_t am;
                char err[512];
                fill_msg(&am, m);
                /* a record that does not load is a difference, recorded by the core */
                if (audit_committed_record(r->audit, m->partition, m->key, m->key_len,
                                           m->payload, m->payload ? m->len : 0, err,
                                           sizeof err) == DB_ERR_NOMEM)
                    rc = EXIT_FAIL;
                r->count_records++;
                if (!rc)
                    rc = export_record(r, kind, &am);
                if (rc) {
                    rd_kafka_message_destroy(m);
                    goto out;
                }
                n++;
                kafka_refill_note(&refill, m);
            }
            if (m->offset >= pp->end - 1) {
                pp->done = 1;
                remaining--;
            }
        }
        if (m != pushed)
            rd_kafka_message_destroy(m);
        if (pipe && (rc = verify_pipe_drain(pipe, remaining ? VERIFY_DRAIN_READY : VERIFY_DRAIN_ALL, audit_one, &ap)))
            goto out;
        if ((show || (r->verbose > 0 && kind == EVIDENCE_MESSAGE)) && now - last_progress >= 1000) {
            last_progress = now;
            /* a terminal gets one line rewritten, a log (-v) a line per second */
            fprintf(stderr, show ? "\r%" PRIu64 " messages audited, %zu partitions to go   "
                                 : "docbus audit: %" PRIu64 " messages audited, %zu partitions to go\n",
                    n, remaining);
        }
    }
out:
    if (show)
        fputc('\n', stderr);
    verify_pipe_destroy(pipe);   /* what is left in it was not audited: only on failure */
    kafka_refill_clear(&refill);
    rd_kafka_assign(r->rk, NULL);
    rd_kafka_topic_partition_list_destroy(tl);
    return rc;
}

/* Plans and reads the committed counts topic, whole (it is compacted), into the audit's
 * committed table; 1 when the topic does not exist (nothing to compare: the caller notes
 * it, or fails when --against counts was explicit), else 0 or an exit code. Touches only
 * the committed side of the audit, so it may run beside the message phase (with r a run
 * of its own). */
static int read_counts_records(struct run *r)
{
    char list[400];
    for (size_t i = 0; i < r->nparts; i++)
        free(r->parts[i].topic);
    free(r->parts);
    r->parts = NULL;
    r->nparts = r->ntopics = 0;
    int64_t from = r->from_ms;
    r->from_ms = AUDIT_TIME_OPEN_START;   /* every record, not a time window */
    snprintf(list, sizeof list, "%s", r->counts_topic);
    int rc = plan(r, list);
    r->from_ms = from;
    if (rc == EXIT_CONFIG)
        return 1;
    return rc ? rc : read_parts(r, EVIDENCE_COUNT);
}

/* Compares the committed counts read (rc: read_counts_records' result) with the
 * recount. Returns 0 or an exit code. */
static int compare_counts(struct run *r, int rc)
{
    if (rc == 1) {
        if (r->against_explicit) {
            snprintf(r->errstr, sizeof r->errstr, "--against counts: no topic %s (has the "
                     "aggregator run with docbus.topic.prefix=%s?)", r->counts_topic, r->prefix);
            return EXIT_CONFIG;
        }
        audit_note(r->audit, "no committed counts (%s does not exist): nothing compared",
                   r->counts_topic);
        return 0;
    }
    if (rc)
        return rc;
    if (audit_compare_committed(r->audit) < 0) {
        snprintf(r->errstr, sizeof r->errstr, "out of memory");
        return EXIT_FAIL;
    }
    return 0;
}

/* The committed counts read on a thread of their own while the message phase runs on
 * the main one (reading and parsing them was a quarter of the main thread). */
struct counts_reader {
    struct run run;            /* a copy of the main run with its own consumer and parts */
    pthread_t thread;
    int started, rc;
};

static void *counts_reader_main(void *arg)
{
    struct counts_reader *cr = arg;
    cr->rc = read_counts_records(&cr->run);
    return NULL;
}

/* Starts cr reading the committed counts of r; 0, or an exit code with r->errstr. */
static int counts_reader_start(struct counts_reader *cr, struct run *r)
{
    cr->run = *r;
    cr->run.parts = NULL;
    cr->run.nparts = cr->run.ntopics = 0;
    cr->run.count_records = 0;
    if (!(cr->run.rk = kafka_consumer_new(r->cfg, NULL, NULL, NULL, r->errstr, sizeof r->errstr)))
        return EXIT_CONFIG;
    if (pthread_create(&cr->thread, NULL, counts_reader_main, cr)) {
        rd_kafka_destroy(cr->run.rk);
        cr->run.rk = NULL;
        snprintf(r->errstr, sizeof r->errstr, "cannot start a thread");
        return EXIT_FAIL;
    }
    cr->started = 1;
    return 0;
}

/* Waits for cr, takes its tally and error into r; returns its read_counts_records result. */
static int counts_reader_join(struct counts_reader *cr, struct run *r)
{
    if (!cr->started)
        return 0;
    pthread_join(cr->thread, NULL);
    cr->started = 0;
    r->count_records += cr->run.count_records;
    if (cr->rc > 1)
        snprintf(r->errstr, sizeof r->errstr, "%s", cr->run.errstr);
    for (size_t i = 0; i < cr->run.nparts; i++)
        free(cr->run.parts[i].topic);
    free(cr->run.parts);
    rd_kafka_consumer_close(cr->run.rk);
    rd_kafka_destroy(cr->run.rk);
    return cr->rc;
}

static int read_counts(struct run *r)
{
    return compare_counts(r, read_counts_records(r));
}

static int compare_report_text(struct run *r, const char *name, const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    int rc;
    if (!j) {
        snprintf(r->errstr, sizeof r->errstr, "%s: line %d: %s", name, e.line, e.text);
        return EXIT_CONFIG;
    }
    rc = audit_compare_report(r->audit, j, r->errstr, sizeof r->errstr);
    json_decref(j);
    if (rc == DB_ERR_INVALID) {
        char tmp[sizeof r->errstr];
        snprintf(tmp, sizeof tmp, "%.200s: %.800s", name, r->errstr);
        snprintf(r->errstr, sizeof r->errstr, "%s", tmp);
        return EXIT_CONFIG;
    }
    return rc < 0 ? EXIT_FAIL : 0;
}

static char *slurp(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > 64L * 1024 * 1024 || fseek(f, 0, SEEK_SET) ||
        !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(errstr, errstr_size, "%s: cannot read (or over 64 MiB)", path);
        free(buf);
        buf = NULL;
    } else {
        buf[n] = 0;
    }
    fclose(f);
    return buf;
}

/* ---- output ------------------------------------------------------------------------ */

static void print_summary(struct run *r, json_t *v, double secs, const char *source)
{
    json_t *x, *stats = json_object_get(v, "stats");
    size_t i, nf = 0;
    uint64_t msgs = (uint64_t)json_integer_value(json_object_get(v, "messages"));
    const char *a = r->against;
    if (r->verbose < 0)
        return;
    fprintf(stderr, "docbus audit: %" PRIu64 " messages from %s in %.2f s (%.0f msg/s); %" JSON_INTEGER_FORMAT
            " verified\n", msgs, source, secs, secs > 0 ? msgs / secs : 0.0,
            json_integer_value(json_object_get(v, "verified")));
    x = json_object_get(v, "range");
    fprintf(stderr, "  facts from %s to %s; quarters:", json_is_string(json_object_get(x, "from"))
            ? json_string_value(json_object_get(x, "from")) : "the beginning",
            json_is_string(json_object_get(x, "to")) ? json_string_value(json_object_get(x, "to"))
                                                    : "now");
    json_array_foreach(json_object_get(v, "quarters"), i, x)
        fprintf(stderr, " %s", json_string_value(x));
    fprintf(stderr, "\n  %" JSON_INTEGER_FORMAT " messages counted, %" JSON_INTEGER_FORMAT
            " fan-out copies, %" JSON_INTEGER_FORMAT " benign resends, %" JSON_INTEGER_FORMAT
            " duplicates\n",
            json_integer_value(json_object_get(stats, "counted")),
            json_integer_value(json_object_get(stats, "fanout_copies")),
            json_integer_value(json_object_get(stats, "benign_resends")),
            json_integer_value(json_object_get(stats, "duplicates")));
    json_array_foreach(json_object_get(v, "notes"), i, x)
        fprintf(stderr, "  note: %s\n", json_string_value(x));
    x = json_object_get(v, "findings");
    nf = (size_t)json_integer_value(json_object_get(v, "findings_total"));
    if (nf) {
        const char *k;
        json_t *c;
        fprintf(stderr, "FINDINGS: %zu (", nf);
        int first = 1;
        json_object_foreach(json_object_get(v, "by_class"), k, c) {
            fprintf(stderr, "%s%s %" JSON_INTEGER_FORMAT, first ? "" : ", ", k, json_integer_value(c));
            first = 0;
        }
        fprintf(stderr, ")\n");
        json_t *f;
        json_array_foreach(x, i, f) {
            if (r->verbose <= 0 && i >= PRINT_FINDINGS) {
                fprintf(stderr, "  ... %zu more (-v or --json for all)\n", json_array_size(x) - i);
                break;
            }
            const char *topic = json_string_value(json_object_get(f, "topic"));
            fprintf(stderr, "  %-18s ", json_string_value(json_object_get(f, "class")));
            if (topic && *topic)
                fprintf(stderr, "%s/%" JSON_INTEGER_FORMAT "@%" JSON_INTEGER_FORMAT " ", topic,
                        json_integer_value(json_object_get(f, "partition")),
                        json_integer_value(json_object_get(f, "offset")));
            fprintf(stderr, "%s: %s\n", json_string_value(json_object_get(f, "producer")),
                    json_string_value(json_object_get(f, "reason")));
        }
    }
    x = json_object_get(v, "differences");
    if (json_array_size(x)) {
        json_t *d;
        fprintf(stderr, "DIFFERENCES with %s: %zu\n", a, json_array_size(x));
        json_array_foreach(x, i, d) {
            if (r->verbose <= 0 && i >= PRINT_FINDINGS) {
                fprintf(stderr, "  ... %zu more (-v or --json for all)\n", json_array_size(x) - i);
                break;
            }
            char *av = json_dumps(json_object_get(d, "audit"), JSON_ENCODE_ANY | JSON_COMPACT);
            char *bv = json_dumps(json_object_get(d, "against"), JSON_ENCODE_ANY | JSON_COMPACT);
            if (!strcmp(json_string_value(json_object_get(d, "kind")), "figure"))
                fprintf(stderr, "  %s %s (%s): audit %s, %s %s\n",
                        json_string_value(json_object_get(d, "quarter")),
                        json_string_value(json_object_get(d, "figure")),
                        json_string_value(json_object_get(d, "window")), av ? av : "?", a,
                        bv ? bv : "?");
            else
                fprintf(stderr, "  record %s: audit %s, %s %s\n",
                        json_string_value(json_object_get(d, "key")), av ? av : "?", a, bv ? bv : "?");
            free(av);
            free(bv);
        }
    } else if (strcmp(a, "none") != 0) {
        fprintf(stderr, "  counts agree with %s\n", strcmp(a, "counts") ? a : r->counts_topic);
    }
    fprintf(stderr, "verdict: %s\n", json_string_value(json_object_get(v, "verdict")));
}

/* Fields that an offline re-audit must reproduce. */
static int same_verdict(json_t *mine, const char *recorded)
{
    static const char *fields[] = {"verdict", "messages", "verified", "by_class", "findings",
                                   "counts", "differences"};
    json_t *rec = json_loads(recorded, 0, NULL);
    int same = rec != NULL;
    for (size_t i = 0; same && i < sizeof fields / sizeof *fields; i++)
        same = json_equal(json_object_get(mine, fields[i]), json_object_get(rec, fields[i]));
    json_decref(rec);
    return same;
}

/* ---- offline ----------------------------------------------------------------------- */

static int off_header(void *opaque, const evidence_header_t *h)
{
    struct run *r = opaque;
    if (r->offline_header_seen)
        return DB_ERR_INVALID;
    r->offline_header_seen = 1;
    snprintf(r->prefix, sizeof r->prefix, "%s", h->topic_prefix);
    snprintf(r->counts_topic, sizeof r->counts_topic, "%scounts", h->topic_prefix);
    r->from_ms = h->from_ms;
    r->to_ms = h->to_ms;
    r->slack_ms = h->slack_ms;
    if (r->replay_ms <= 0)
        r->replay_ms = h->replay_ms;
    if (!r->against_explicit) {
        /* the header's strings die with the entry */
        snprintf(r->against_buf, sizeof r->against_buf, "%s", h->against);
        r->against = r->against_buf;
        if (h->against_report && !(r->against_text = strdup(h->against_report)))
            return DB_ERR_NOMEM;
    }
    return 0;
}

static int off_trust(void *opaque, const evidence_trust_t *t)
{
    struct run *r = opaque;
    trust_t *trust = NULL;
    audit_opts_t o = {0};
    if (r->offline_trust_seen || !r->offline_header_seen)
        return DB_ERR_INVALID;
    r->offline_trust_seen = 1;
    evidence_trust_ca_sha256(t, r->ca_sha256);
    if (r->pin_ca) {
        evidence_trust_t pin = {0};
        char pin_hex[65];
        X509 *x = NULL;
        unsigned char *der = NULL;
        int n;
        if (pki_cert_load(r->pin_ca, &x, r->errstr, sizeof r->errstr))
            return DB_ERR_CONFIG;
        n = i2d_X509(x, &der);
        X509_free(x);
        if (n <= 0)
            return DB_ERR_CONFIG;
        pin.ca = der;
        pin.ca_len = (size_t)n;
        evidence_trust_ca_sha256(&pin, pin_hex);
        OPENSSL_free(der);
        if (strcmp(pin_hex, r->ca_sha256) != 0) {
            snprintf(r->errstr, sizeof r->errstr, "the evidence's CA (SHA-256 %s) is not %s "
                     "(SHA-256 %s): its messages prove nothing about that PKI", r->ca_sha256,
                     r->pin_ca, pin_hex);
            return DB_ERR_CONFIG;
        }
    }
    if (evidence_trust_build(t, &trust, r->errstr, sizeof r->errstr))
        return DB_ERR_CONFIG;
    o.topic_prefix = r->prefix;
    o.from_ms = r->from_ms;
    o.to_ms = r->to_ms;
    o.replay_ms = r->replay_ms;
    o.max_listed = r->max_listed;
    if (!(r->audit = audit_new(trust, r->metrics, &o, r->errstr, sizeof r->errstr)))
        return DB_ERR_CONFIG;
    return 0;
}

static int off_record(void *opaque, evidence_kind_t kind, const audit_msg_t *m)
{
    struct run *r = opaque;
    char err[512];
    if (!r->audit) {
        snprintf(r->errstr, sizeof r->errstr, "records before the trust entry");
        return DB_ERR_INVALID;
    }
    if (kind == EVIDENCE_MESSAGE)
        return audit_message(r->audit, m);
    r->count_records++;
    if (audit_committed_record(r->audit, m->partition, (const char *)m->key, m->key_len,
                               (const char *)m->value, m->value ? m->len : 0, err,
                               sizeof err) == DB_ERR_NOMEM)
        return DB_ERR_NOMEM;
    return 0;
}

static int off_summary(void *opaque, const char *json)
{
    struct run *r = opaque;
    free(r->recorded_summary);
    r->recorded_summary = strdup(json);
    return r->recorded_summary ? 0 : DB_ERR_NOMEM;
}

static int run_offline(struct run *r, const char *file)
{
    evidence_visitor_t vis = {off_header, off_trust, off_record, off_summary};
    int rc = evidence_read(file, &vis, r, r->errstr, sizeof r->errstr);
    if (rc) {
        if (!*r->errstr)
            snprintf(r->errstr, sizeof r->errstr, "%s: %s", file, db_strerror(rc));
        return rc == DB_ERR_NOMEM ? EXIT_FAIL : EXIT_CONFIG;
    }
    if (!r->audit) {
        snprintf(r->errstr, sizeof r->errstr, "%s: no trust entry: not a complete evidence file", file);
        return EXIT_CONFIG;
    }
    if (audit_finish(r->audit)) {
        snprintf(r->errstr, sizeof r->errstr, "out of memory");
        return EXIT_FAIL;
    }
    if (!strcmp(r->against, "counts")) {
        if (!r->count_records)
            audit_note(r->audit, "the evidence holds no committed counts records: nothing compared");
        else if (audit_compare_committed(r->audit) < 0)
            return EXIT_FAIL;
    } else if (strcmp(r->against, "none") != 0) {
        if (!r->against_text) {
            snprintf(r->errstr, sizeof r->errstr, "%s: the report compared with is not in the file", file);
            return EXIT_CONFIG;
        }
        if ((rc = compare_report_text(r, r->against, r->against_text)))
            return rc;
    }
    audit_note(r->audit, "offline: trust from the evidence file; CA certificate SHA-256 %s%s",
               r->ca_sha256, r->pin_ca ? " (matches --ca)" : " (pin it with --ca FILE)");
    return 0;
}

/* ---- online ------------------------------------------------------------------------ */

static int run_online(struct run *r, const char *topics_list, const char *export_path)
{
    trust_t *trust = NULL;
    audit_opts_t o = {0};
    const char *pki = config_get(r->cfg, "docbus.pki.dir", "pki");
    int rc;
    if (trust_load_pki(pki, &trust, r->errstr, sizeof r->errstr))
        return EXIT_CONFIG;
    o.topic_prefix = r->prefix;
    o.from_ms = r->from_ms;
    o.to_ms = r->to_ms;
    o.replay_ms = r->replay_ms;
    o.max_listed = r->max_listed;
    if (!(r->audit = audit_new(trust, r->metrics, &o, r->errstr, sizeof r->errstr)))
        return EXIT_USAGE;
    if (!(r->rk = kafka_consumer_new(r->cfg, NULL, NULL, NULL, r->errstr, sizeof r->errstr)))
        return EXIT_CONFIG;
    switch (kafka_check(r->rk, 10000, r->errstr, sizeof r->errstr)) {
    case KAFKA_FAIL_NONE: break;
    case KAFKA_FAIL_AUTH: return EXIT_AUTH;
    default: return EXIT_BROKER;
    }
    if (export_path) {
        evidence_header_t h = {0};
        if (evidence_trust_from_pki(pki, &r->trust_der, r->errstr, sizeof r->errstr))
            return EXIT_CONFIG;
        r->have_trust_der = 1;
        if (evidence_writer_open(export_path, &r->ev, r->errstr, sizeof r->errstr))
            return EXIT_CONFIG;
        h.created_at = now_ms();
        h.tool = "docbus " DOCBUS_VERSION;
        h.topic_prefix = r->prefix;
        h.from_ms = r->from_ms;
        h.to_ms = r->to_ms;
        h.slack_ms = r->slack_ms;
        h.replay_ms = r->replay_ms;
        h.against = r->against;
        h.against_report = r->against_text;
        if (evidence_write_header(r->ev, &h, r->errstr, sizeof r->errstr) ||
            evidence_write_trust(r->ev, &r->trust_der, r->errstr, sizeof r->errstr))
            return EXIT_FAIL;
    }
    if ((rc = plan(r, topics_list)))
        return rc;
    r->msg_topics = r->ntopics;
    {
        uint64_t expected = 0;
        for (size_t i = 0; i < r->nparts; i++)
            if (r->parts[i].end > r->parts[i].start)
                expected += (uint64_t)(r->parts[i].end - r->parts[i].start);
        if (audit_expect(r->audit, expected)) {
            snprintf(r->errstr, sizeof r->errstr, "out of memory sizing the audit for %llu messages",
                     (unsigned long long)expected);
            return EXIT_FAIL;
        }
    }
    if (topics_list) {
        /* compare only the count records whose source was read */
        const char **names = malloc((r->nparts + 1) * sizeof *names);
        size_t n = 0;
        if (!names)
            return EXIT_FAIL;
        for (size_t i = 0; i < r->nparts; i++)
            if (!n || strcmp(names[n - 1], r->parts[i].topic))
                names[n++] = r->parts[i].topic;
        rc = audit_only_topics(r->audit, names, n);
        free(names);
        if (rc)
            return EXIT_FAIL;
    }
    if (r->nparts == 0)
        audit_note(r->audit, "no topic matched (prefix %s): nothing to audit", r->prefix);
    /* Without an evidence file (whose records must not interleave), the committed
     * counts are read beside the message phase. */
    struct counts_reader cr = {0};
    int beside = !strcmp(r->against, "counts") && !r->ev;
    if (beside && (rc = counts_reader_start(&cr, r)))
        return rc;
    rc = read_parts(r, EVIDENCE_MESSAGE);
    int crc = beside ? counts_reader_join(&cr, r) : 0;
    if (rc)
        return rc;
    if (audit_finish(r->audit)) {
        snprintf(r->errstr, sizeof r->errstr, "out of memory");
        return EXIT_FAIL;
    }
    if (beside)
        return compare_counts(r, crc);
    if (!strcmp(r->against, "counts"))
        return read_counts(r);
    if (strcmp(r->against, "none") != 0)
        return compare_report_text(r, r->against, r->against_text);
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"from", required_argument, 0, 'F'},
        {"to", required_argument, 0, 'T'},
        {"topics", required_argument, 0, 't'},
        {"against", required_argument, 0, 'a'},
        {"export", required_argument, 0, 'e'},
        {"file", required_argument, 0, 'f'},
        {"json", no_argument, 0, 'j'},
        {"slack", required_argument, 0, 's'},
        {"replay-window", required_argument, 0, 'r'},
        {"ca", required_argument, 0, 'C'},
        {"max-findings", required_argument, 0, 'm'},
        {0, 0, 0, 0}};
    cli_common_t cc = {0};
    struct run r = {0};
    const char *topics_list = NULL, *export_path = NULL, *file = NULL, *metrics_path;
    const char *from_s = NULL, *to_s = NULL;
    double slack_days = 0, replay_s = 0;
    long max_findings = 0;
    int early, opt, rc = EXIT_FAIL;
    int64_t t0 = now_ms();
    json_t *verdict = NULL;
    char *vtext = NULL, *end;

    r.cmd = "audit";
    r.against = "counts";
    r.from_ms = AUDIT_TIME_OPEN_START;
    r.to_ms = AUDIT_TIME_OPEN_END;
    while ((opt = cli_getopt(&cc, argc, argv, "audit", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        switch (opt) {
        case 'F': from_s = optarg; break;
        case 'T': to_s = optarg; break;
        case 't': topics_list = optarg; break;
        case 'a': r.against = optarg; r.against_explicit = 1; break;
        case 'e': export_path = optarg; break;
        case 'f': file = optarg; break;
        case 'j': r.json = 1; break;
        case 'C': r.pin_ca = optarg; break;
        case 's':
            slack_days = strtod(optarg, &end);
            if (*end || slack_days < 0 || slack_days > 3650)
                return cli_usage_error("audit", "--slack %s: days, 0 to 3650", optarg);
            break;
        case 'r':
            replay_s = strtod(optarg, &end);
            if (*end || replay_s <= 0)
                return cli_usage_error("audit", "--replay-window %s: seconds, more than 0", optarg);
            break;
        case 'm':
            max_findings = strtol(optarg, &end, 10);
            if (*end || max_findings < 1)
                return cli_usage_error("audit", "--max-findings %s: a positive number", optarg);
            break;
        default: return cli_usage_error("audit", "unknown option");
        }
    }
    if (early >= 0)
        return early;
    if (optind != argc)
        return cli_usage_error("audit", "unexpected argument \"%s\"", argv[optind]);
    if (file && (from_s || to_s || topics_list || export_path || slack_days > 0))
        return cli_usage_error("audit", "--file audits an evidence file as it was exported: "
                               "--from, --to, --topics, --slack and --export do not apply");
    if (r.pin_ca && !file)
        return cli_usage_error("audit", "--ca pins the CA of an evidence file (--file)");
    if (from_s && parse_time(from_s, 0, &r.from_ms, r.errstr, sizeof r.errstr))
        return cli_usage_error("audit", "--from: %s", r.errstr);
    if (to_s && parse_time(to_s, 1, &r.to_ms, r.errstr, sizeof r.errstr))
        return cli_usage_error("audit", "--to: %s", r.errstr);
    if (r.from_ms != AUDIT_TIME_OPEN_START && r.to_ms != AUDIT_TIME_OPEN_END && r.to_ms <= r.from_ms)
        return cli_usage_error("audit", "--to must be after --from");
    r.slack_ms = (int64_t)(slack_days * 86400000.0);
    r.replay_ms = replay_s > 0 ? (int64_t)(replay_s * 1000.0) : 0;
    r.verbose = cc.verbose;
    r.max_listed = (size_t)max_findings;
    if (!(r.cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    config_topic(r.cfg, "", r.prefix, sizeof r.prefix);
    config_topic(r.cfg, "counts", r.counts_topic, sizeof r.counts_topic);
    if (strcmp(r.against, "counts") && strcmp(r.against, "none") &&
        !(r.against_text = slurp(r.against, r.errstr, sizeof r.errstr))) {
        rc = EXIT_CONFIG;
        goto fail;
    }
    metrics_path = config_get(r.cfg, "docbus.metrics", "");
    if (metrics_load(*metrics_path ? metrics_path : NULL, &r.metrics, r.errstr, sizeof r.errstr)) {
        rc = EXIT_CONFIG;
        goto fail;
    }
    if (file) {
        rc = run_offline(&r, file);
    } else {
        if (r.replay_ms <= 0)
            r.replay_ms = AUDIT_DEFAULT_REPLAY_MS;
        rc = run_online(&r, topics_list, export_path);
    }
    if (rc)
        goto fail;
    if (!(verdict = audit_verdict(r.audit)) || !(vtext = json_dumps(verdict, JSON_COMPACT))) {
        snprintf(r.errstr, sizeof r.errstr, "out of memory");
        rc = EXIT_FAIL;
        goto fail;
    }
    if (file && r.recorded_summary) {
        int same = same_verdict(verdict, r.recorded_summary);
        json_object_set_new(verdict, "recorded_verdict_agrees", json_boolean(same));
        if (!same && r.verbose >= 0)
            cli_err("audit", "warning: this re-audit differs from the verdict recorded in %s", file);
    }
    if (r.ev) {
        if (evidence_write_summary(r.ev, vtext, r.errstr, sizeof r.errstr) ||
            evidence_writer_close(r.ev, r.errstr, sizeof r.errstr)) {
            r.ev = NULL;
            rc = EXIT_FAIL;
            goto fail;
        }
        r.ev = NULL;
        if (r.verbose >= 0)
            fprintf(stderr, "docbus audit: evidence written to %s\n", export_path);
    }
    {
        char source[512];
        if (file)
            snprintf(source, sizeof source, "evidence file %s", file);
        else
            snprintf(source, sizeof source, "%zu topics", r.msg_topics);
        print_summary(&r, verdict, (now_ms() - t0) / 1000.0, source);
    }
    if (r.json) {
        char *out = json_dumps(verdict, JSON_COMPACT);
        if (out)
            printf("%s\n", out);
        free(out);
    }
    rc = audit_clean(r.audit) ? EXIT_OK : EXIT_FINDINGS;
    goto out;
fail:
    cli_err("audit", "could not audit: %s", r.errstr);
out:
    json_decref(verdict);
    free(vtext);
    evidence_writer_abort(r.ev);
    if (r.have_trust_der)
        evidence_trust_free(&r.trust_der);
    if (r.rk) {
        rd_kafka_consumer_close(r.rk);
        rd_kafka_destroy(r.rk);
    }
    for (size_t i = 0; i < r.nparts; i++)
        free(r.parts[i].topic);
    free(r.parts);
    audit_destroy(r.audit);
    metrics_destroy(r.metrics);
    free(r.against_text);
    free(r.recorded_summary);
    config_destroy(r.cfg);
    return rc;
}
