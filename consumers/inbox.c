/* inbox.c - `docbus inbox --unit CODE --out DIR`: a unit receives the documents addressed
 * to it (verified, stored atomically, attachments checked) and replies 01 "arrived". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "json_avro.h"
#include "kafka.h"
#include "kafka_refill.h"
#include "quarter.h"
#include "submit.h"
#include "verify.h"

#define ROUND_MAX 500

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct inbox {
    const char *unit, *out;
    db_config_t *cfg;
    rd_kafka_t *consumer;
    submitter_t *sub;
    verifier_t *verifier;
    json_avro_t *conv[3];
    char topic[300], rejected_topic[300];
    /* documents of this round waiting for their 01 reply to be acknowledged */
    char pending[ROUND_MAX][600];
    int npending;
    uint64_t docs, resends, statuses, rejected, replies;
    int verbose;
};

/* Encodes s into a file name that is unique per s: [A-Za-z0-9.-] kept, others %XX. */
static void safe_name(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
    }
    out[o] = '\0';
}

static int write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    if (write(fd, data, len) != (ssize_t)len || fsync(fd)) {
        close(fd);
        return -1;
    }
    return close(fd);
}

/* Removes a temporary directory and its files (one level of subdirectories). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[2048];
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) && (errno == EISDIR || errno == EPERM))
            remove_tree(path);
    }
    closedir(d);
    rmdir(dir);
}

static void reject(struct inbox *ib, const rd_kafka_message_t *m, int code, const char *why)
{
    char key[400];
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "reason", db_errname(code), "detail",
                          why, "topic", rd_kafka_topic_name(m->rkt), "partition", (int)m->partition,
                          "offset", (json_int_t)m->offset, "consumer", ib->unit);
    char *v = json_dumps(j, JSON_COMPACT);
    int klen = snprintf(key, sizeof key, "%s:%d:%" PRId64, rd_kafka_topic_name(m->rkt),
                        (int)m->partition, m->offset);
    rd_kafka_producev(publisher_rk(submitter_publisher(ib->sub)), RD_KAFKA_V_TOPIC(ib->rejected_topic),
                      RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(v, strlen(v)),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    fprintf(stderr, "docbus inbox: rejected %s: %s: %s\n", key, db_errname(code), why);
    free(v);
    json_decref(j);
    ib->rejected++;
}

/* Verifies inline attachments against their SHA-256 and writes them into dir/attachments. */
static int store_attachments(json_t *meta, const char *dir, char *errstr, size_t errstr_size)
{
    json_t *list = json_object_get(meta, "attachments"), *a;
    size_t i;
    char path[2048], name[600];
    if (!json_array_size(list))
        return 0;
    snprintf(path, sizeof path, "%s/attachments", dir);
    if (mkdir(path, 0755) && errno != EEXIST)
        return DB_ERR_IO;
    json_array_foreach(list, i, a) {
        const char *b64 = json_string_value(json_object_get(a, "content"));
        const char *want = json_string_value(json_object_get(a, "sha256"));
        unsigned char *data, md[32];
        char hex[65];
        int n;
        size_t len;
        if (!b64)
            continue; /* referenced, not inline: the metadata keeps the reference */
        len = strlen(b64);
        data = malloc(len / 4 * 3 + 3);
        if (!data)
            return DB_ERR_NOMEM;
        n = EVP_DecodeBlock(data, (const unsigned char *)b64, (int)len);
        if (n < 0) {
            free(data);
            snprintf(errstr, errstr_size, "attachments[%zu]: content is not base64", i);
            return DB_ERR_INVALID;
        }
        while (len > 0 && b64[len - 1] == '=' && n > 0)
            len--, n--;
        EVP_Digest(data, (size_t)n, md, NULL, EVP_sha256(), NULL);
        for (int k = 0; k < 32; k++)
            sprintf(hex + 2 * k, "%02x", md[k]);
        if (!want || strcmp(want, hex) ||
            json_integer_value(json_object_get(a, "size")) != n) {
            free(data);
            snprintf(errstr, errstr_size, "attachments[%zu] (%s): bytes do not match their SHA-256 or size",
                     i, json_string_value(json_object_get(a, "name")));
            return DB_ERR_INVALID;
        }
        safe_name(json_string_value(json_object_get(a, "name")), name, sizeof name);
        snprintf(path, sizeof path, "%s/attachments/%s", dir, name);
        if (write_file(path, data, (size_t)n)) {
            free(data);
            return DB_ERR_IO;
        }
        free(data);
        json_object_del(a, "content");
        json_object_set_new(a, "file", json_string(path + strlen(dir) + 1));
    }
    return 0;
}

/* Stores a verified document as DIR/<id>/ (metadata.json + attachments), atomically:
 * built in a temporary directory, then renamed. Returns 1 if newly stored, 0 if it was
 * already there (a resend), or a negative error. */
static int store_document(struct inbox *ib, const verified_t *v, json_t *meta, const char *doc_id,
                          char *errstr, size_t errstr_size)
{
    char name[600], final[1200], tmp[1300], path[1400];
    char *text;
    int rc;
    struct stat sb;
    safe_name(doc_id, name, sizeof name);
    snprintf(final, sizeof final, "%s/%s", ib->out, name);
    if (!stat(final, &sb))
        return 0;
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s", ib->out, name);
    remove_tree(tmp); /* left by a crash */
    if (mkdir(tmp, 0755)) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", tmp, strerror(errno));
        return DB_ERR_IO;
    }
    if ((rc = store_attachments(meta, tmp, errstr, errstr_size))) {
        remove_tree(tmp);
        return rc;
    }
    {
        char hex[33];
        for (int i = 0; i < 16; i++)
            sprintf(hex + 2 * i, "%02x", v->content.msg_id[i]);
        json_t *wrap = json_pack("{s:o, s:{s:s, s:s, s:I, s:I}}", "document", json_incref(meta),
                                 "verified", "msg_id", hex, "producer", v->content.producer, "seq",
                                 (json_int_t)v->content.seq, "batch_seq",
                                 (json_int_t)v->proof.header.batch_seq);
        text = json_dumps(wrap, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(wrap);
    }
    snprintf(path, sizeof path, "%s/metadata.json", tmp);
    rc = text ? write_file(path, text, strlen(text)) : -1;
    free(text);
    if (rc || rename(tmp, final)) {
        snprintf(errstr, errstr_size, "cannot store %.400s: %s", final, strerror(errno));
        remove_tree(tmp);
        return DB_ERR_IO;
    }
    return 1;
}

/* Records a status about a document this unit sent: DIR/statuses/<doc>/<code>-<at>.json */
static int store_status(struct inbox *ib, json_t *meta)
{
    char doc[600], dir[1400], path[2100], tmp[2200], at[64];
    const char *code = json_string_value(json_object_get(meta, "code"));
    char *text;
    snprintf(dir, sizeof dir, "%s/statuses", ib->out);
    mkdir(dir, 0755);
    safe_name(json_string_value(json_object_get(meta, "doc_id")), doc, sizeof doc);
    snprintf(dir, sizeof dir, "%s/statuses/%s", ib->out, doc);
    mkdir(dir, 0755);
    safe_name(json_string_value(json_object_get(meta, "at")), at, sizeof at);
    snprintf(path, sizeof path, "%s/%s-%s-%s.json", dir, code ? code : "S00", at,
             json_string_value(json_object_get(meta, "from")));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text || write_file(tmp, text, strlen(text)) || rename(tmp, path)) {
        free(text);
        return DB_ERR_IO;
    }
    free(text);
    ib->statuses++;
    return 0;
}

/* Has doc_id been answered, or is its answer already queued in this round (a resend
 * read in the same round as the first copy gets no second reply)? */
static int replied(struct inbox *ib, const char *doc_id)
{
    char name[600], path[1300];
    struct stat sb;
    for (int i = 0; i < ib->npending; i++)
        if (!strcmp(ib->pending[i], doc_id))
            return 1;
    safe_name(doc_id, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s/.replied", ib->out, name);
    return !stat(path, &sb);
}

/* Queues the signed 01 reply. Its time is the document's Kafka timestamp, so a reply
 * re-sent after a crash has the same message id and counts once downstream. */
static int queue_reply(struct inbox *ib, const char *doc_id, const char *sender, int64_t ts,
                       char *errstr, size_t errstr_size)
{
    char at[40];
    int rc;
    json_t *rec;
    vn_time_format(ts, at, sizeof at);
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "doc_id", doc_id, "from", ib->unit, "to",
                    sender, "code", "S01", "description", "Đã đến hệ thống nhận", "at", at);
    rc = submitter_add(ib->sub, BODY_STATUS, rec, 0, NULL, 0, errstr, errstr_size);
    json_decref(rec);
    if (!rc)
        snprintf(ib->pending[ib->npending++], sizeof ib->pending[0], "%s", doc_id);
    return rc;
}

static int handle(struct inbox *ib, const rd_kafka_message_t *m, char *errstr, size_t errstr_size)
{
    verified_t v;
    json_t *meta = NULL;
    int rc = verifier_check(ib->verifier, m->payload, m->len, &v, errstr, errstr_size);
    if (rc) {
        reject(ib, m, rc, errstr);
        return 0;
    }
    if (json_avro_to_json(ib->conv[v.content.body_type], v.body, &meta, errstr, errstr_size)) {
        reject(ib, m, DB_ERR_INVALID, errstr);
        return 0;
    }
    if (v.content.body_type == BODY_DOCUMENT) {
        const char *doc_id = json_string_value(json_object_get(meta, "doc_id"));
        const char *sender = json_string_value(json_object_get(json_object_get(meta, "from"), "code"));
        json_t *to;
        size_t i;
        int mine = 0;
        json_array_foreach(json_object_get(meta, "to"), i, to)
            mine |= !strcmp(json_string_value(json_object_get(to, "code")), ib->unit);
        if (!mine) {
            snprintf(errstr, errstr_size, "document %s is not addressed to %s", doc_id, ib->unit);
            reject(ib, m, DB_ERR_INVALID, errstr);
            goto out;
        }
        rc = store_document(ib, &v, meta, doc_id, errstr, errstr_size);
        if (rc == DB_ERR_INVALID) {
            reject(ib, m, rc, errstr);
            rc = 0;
            goto out;
        }
        if (rc < 0)
            goto out;
        if (rc == 1)
            ib->docs++;
        else
            ib->resends++;
        rc = 0;
        if (!replied(ib, doc_id) && ib->npending < ROUND_MAX) {
            rd_kafka_timestamp_type_t tt;
            int64_t ts = rd_kafka_message_timestamp(m, &tt);
            rc = queue_reply(ib, doc_id, sender, ts, errstr, errstr_size);
        }
    } else if (v.content.body_type == BODY_STATUS) {
        rc = store_status(ib, meta);
        if (rc)
            snprintf(errstr, errstr_size, "cannot store status in %s/statuses", ib->out);
    } else {
        reject(ib, m, DB_ERR_INVALID, "an event in an inbox topic");
    }
out:
    json_decref(meta);
    return rc;
}

/* Waits until every queued 01 reply is acknowledged, marks those documents replied,
 * then commits the consumed offsets: a crash anywhere before the commit re-reads the
 * round, and stored documents and replied markers make the re-read harmless. */
static int finish_round(struct inbox *ib, char *errstr, size_t errstr_size)
{
    if (publisher_finish(submitter_publisher(ib->sub), errstr, errstr_size))
        return EXIT_BROKER;
    for (int i = 0; i < ib->npending; i++) {
        char name[600], path[1300];
        safe_name(ib->pending[i], name, sizeof name);
        snprintf(path, sizeof path, "%s/%s/.replied", ib->out, name);
        if (write_file(path, "", 0)) {
            snprintf(errstr, errstr_size, "cannot write %.400s: %s", path, strerror(errno));
            return EXIT_FAIL;
        }
        ib->replies++;
    }
    ib->npending = 0;
    rd_kafka_commit(ib->consumer, NULL, 0);
    return EXIT_OK;
}

int cmd_inbox(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG, {"unit", required_argument, 0, 'u'}, {"out", required_argument, 0, 'o'},
        {"once", no_argument, 0, '1'}, {"group", required_argument, 0, 'g'}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    struct inbox ib = {0};
    int early, opt, once = 0, rc = EXIT_FAIL, broker_down = 0, round = 0, nparts = -1;
    unsigned char at_end[256] = {0};
    char errstr[1024], group[300];
    const char *group_opt = NULL;
    rd_kafka_topic_partition_list_t *sub = NULL;
    kafka_refill_t refill = {0};

    while ((opt = cli_getopt(&cc, argc, argv, "inbox", CLI_COMMON_SHORT "u:o:", longopts, &early)) > 0) {
        if (opt == 'u')
            ib.unit = optarg;
        else if (opt == 'o')
            ib.out = optarg;
        else if (opt == '1')
            once = 1;
        else if (opt == 'g')
            group_opt = optarg;
    }
    if (early >= 0)
        return early;
    if (optind != argc)
        return cli_usage_error("inbox", "unexpected argument \"%s\"", argv[optind]);
    if (!(ib.cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    if (!ib.unit)
        ib.unit = config_get(ib.cfg, "docbus.unit", "");
    if (!*ib.unit || !ib.out) {
        config_destroy(ib.cfg);
        return cli_usage_error("inbox", "--unit CODE (or docbus.unit) and --out DIR are required");
    }
    ib.verbose = cc.verbose;
    if (mkdir(ib.out, 0755) && errno != EEXIST) {
        cli_err("inbox", "cannot create %s: %s", ib.out, strerror(errno));
        rc = EXIT_CONFIG;
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ib.verifier = verifier_new_cfg(ib.cfg, errstr, sizeof errstr);
    if (!ib.verifier) {
        cli_err("inbox", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    for (int t = 0; t < 3; t++)
        if (json_avro_new_body((body_type_t)t, &ib.conv[t], errstr, sizeof errstr)) {
            cli_err("inbox", "%s", errstr);
            goto out;
        }
    /* Replies are signed as this unit, in batches of one round at most. */
    ib.sub = submitter_new(ib.cfg, NULL, NULL, &broker_down, errstr, sizeof errstr);
    if (!ib.sub) {
        cli_err("inbox", "%s", errstr);
        rc = broker_down == 2 ? EXIT_AUTH : broker_down ? EXIT_BROKER : EXIT_CONFIG;
        goto out;
    }
    {
        char suffix[300];
        snprintf(suffix, sizeof suffix, "inbox.%s", ib.unit);
        config_topic(ib.cfg, suffix, ib.topic, sizeof ib.topic);
        config_topic(ib.cfg, "rejected", ib.rejected_topic, sizeof ib.rejected_topic);
    }
    /* The ACLs grant each unit the groups starting docbus-inbox-<CODE>; --group picks
     * another one under that prefix (e.g. per topic prefix, or per test). */
    if (group_opt)
        snprintf(group, sizeof group, "%s", group_opt);
    else
        snprintf(group, sizeof group, "docbus-inbox-%s", ib.unit);
    ib.consumer = kafka_consumer_new(ib.cfg, group, NULL, NULL, errstr, sizeof errstr);
    if (!ib.consumer) {
        cli_err("inbox", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    {
        int64_t *lo = NULL, *hi = NULL;
        if (kafka_watermarks(ib.consumer, ib.topic, &lo, &hi, &nparts, 10000, errstr, sizeof errstr)) {
            cli_err("inbox", "%s (has anything been sent to %s yet?)", errstr, ib.unit);
            rc = EXIT_BROKER;
            goto out;
        }
        free(lo);
        free(hi);
    }
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, ib.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(ib.consumer, sub);
    kafka_refill_init(&refill, ib.consumer);
    rc = EXIT_OK;
    while (!stop_requested) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ib.consumer, 200);
        int idle = !m || m->err;
        if (m && m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < 256)
                at_end[m->partition] = 1;
        } else if (m && m->err) {
            kafka_fail_t f = kafka_classify(m->err);
            if (f == KAFKA_FAIL_AUTH || m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
                cli_err("inbox", "cannot read %s: %s", ib.topic, rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                rc = f == KAFKA_FAIL_AUTH ? EXIT_AUTH : EXIT_BROKER;
                break;
            }
            if (ib.verbose > 0)
                cli_err("inbox", "%s", rd_kafka_message_errstr(m));
        } else if (m) {
            if (m->partition >= 0 && m->partition < 256)
                at_end[m->partition] = 0;
            kafka_refill_note(&refill, m);
            if (handle(&ib, m, errstr, sizeof errstr)) {
                cli_err("inbox", "%s", errstr);
                rd_kafka_message_destroy(m);
                rc = EXIT_FAIL;
                break;
            }
            round++;
        }
        if (m)
            rd_kafka_message_destroy(m);
        if (round >= ROUND_MAX || ib.npending >= ROUND_MAX || (round > 0 && idle)) {
            if ((rc = finish_round(&ib, errstr, sizeof errstr))) {
                cli_err("inbox", "%s", errstr);
                break;
            }
            round = 0;
        }
        if (once && round == 0 && nparts > 0) {
            int all = 1;
            for (int p = 0; p < nparts && p < 256; p++)
                all &= at_end[p];
            if (all)
                break;
        }
    }
    if (round > 0 && rc == EXIT_OK && (rc = finish_round(&ib, errstr, sizeof errstr)))
        cli_err("inbox", "%s", errstr);
    if (cc.verbose >= 0)
        fprintf(stderr, "docbus inbox %s: %" PRIu64 " new documents, %" PRIu64 " resends, %" PRIu64
                " statuses, %" PRIu64 " replies, %" PRIu64 " rejected\n",
                ib.unit, ib.docs, ib.resends, ib.statuses, ib.replies, ib.rejected);
    if (rc == EXIT_OK && ib.rejected)
        rc = EXIT_VERIFY;
out:
    if (sub)
        rd_kafka_topic_partition_list_destroy(sub);
    kafka_refill_clear(&refill);
    if (ib.consumer) {
        rd_kafka_consumer_close(ib.consumer);
        rd_kafka_destroy(ib.consumer);
    }
    submitter_destroy(ib.sub);
    verifier_destroy(ib.verifier);
    for (int t = 0; t < 3; t++)
        json_avro_destroy(ib.conv[t]);
    config_destroy(ib.cfg);
    return rc;
}
