/* inspect.c - `docbus inspect`: one message (or a few) as JSON with its verification
 * verdict, read from Kafka or from raw value bytes in a file or stdin. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec.h"
#include "commands.h"
#include "envelope.h"
#include "error.h"
#include "json_avro.h"
#include "kafka.h"
#include "quarter.h"
#include "verify.h"

static const char *body_names[] = {"document", "status", "event"};

static json_t *hex(const uint8_t *b, size_t n)
{
    char s[129];
    for (size_t i = 0; i < n && i < 64; i++)
        sprintf(s + 2 * i, "%02x", b[i]);
    s[2 * (n < 64 ? n : 64)] = '\0';
    return json_string(s);
}

/* Describes buf as JSON: what decodes, the verdict, and the body. Returns 1 if valid. */
static int describe(verifier_t *vf, json_avro_t **conv, const uint8_t *buf, size_t len,
                    json_t *out)
{
    verified_t v;
    char errstr[512], t[40];
    content_t c;
    proof_t p;
    const uint8_t *ca;
    size_t cl;
    int rc = verifier_check(vf, buf, len, &v, errstr, sizeof errstr);
    json_object_set_new(out, "bytes", json_integer((json_int_t)len));
    json_object_set_new(out, "verdict", json_string(rc ? "invalid" : "valid"));
    if (rc) {
        json_object_set_new(out, "error", json_string(db_errname(rc)));
        json_object_set_new(out, "reason", json_string(errstr));
    }
    /* Show whatever decodes, even when verification failed. */
    if (envelope_read(buf, len, &c, &p, &ca, &cl, errstr, sizeof errstr))
        return 0;
    json_object_set_new(out, "content", json_pack("{s:o, s:s, s:I, s:s, s:s, s:o, s:I}",
        "msg_id", hex(c.msg_id, 16), "producer", c.producer, "seq", (json_int_t)c.seq,
        "produced_at", vn_time_format(c.produced_at, t, sizeof t), "body_type",
        body_names[c.body_type], "body_fingerprint", hex(c.body_fingerprint, 8), "body_bytes",
        (json_int_t)c.body_len));
    json_object_set_new(out, "proof", json_pack("{s:{s:s, s:I, s:I, s:i, s:o, s:o, s:s, s:o}, s:i, s:i}",
        "header", "producer", p.header.producer, "batch_seq", (json_int_t)p.header.batch_seq,
        "first_seq", (json_int_t)p.header.first_seq, "count", (int)p.header.count, "prev_root",
        hex(p.header.prev_root, 32), "root", hex(p.header.root, 32), "created_at",
        vn_time_format(p.header.created_at, t, sizeof t), "key_id", hex(p.header.key_id, 32),
        "leaf_index", (int)p.leaf_index, "path_len", p.path_len));
    if (!rc) {
        json_t *body = NULL;
        if (!json_avro_to_json(conv[c.body_type], v.body, &body, errstr, sizeof errstr))
            json_object_set_new(out, "body", body);
    }
    return rc == 0;
}

static int read_all(FILE *f, uint8_t **buf, size_t *len)
{
    size_t cap = 65536, n = 0, r;
    uint8_t *b = malloc(cap);
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            if (cap > ENVELOPE_MAX_BYTES * 2)
                break; /* capped: the decoder reports too_large */
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return -1;
            }
            b = nb;
        }
    }
    *buf = b;
    *len = n;
    return b ? 0 : -1;
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONG, {"topic", required_argument, 0, 't'}, {"partition", required_argument, 0, 'p'},
        {"offset", required_argument, 0, 'o'}, {"count", required_argument, 0, 'n'},
        {"file", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *topic = NULL, *file = NULL;
    long partition = 0, count = 1;
    long long offset = -1;
    int early, opt, rc = EXIT_OK, all_valid = 1;
    char errstr[512];
    db_config_t *cfg = NULL;
    verifier_t *vf = NULL;
    json_avro_t *conv[3] = {0};

    while ((opt = cli_getopt(&cc, argc, argv, "inspect", CLI_COMMON_SHORT "t:p:o:n:f:", longopts, &early)) > 0) {
        switch (opt) {
        case 't': topic = optarg; break;
        case 'p': partition = strtol(optarg, NULL, 10); break;
        case 'o': offset = strtoll(optarg, NULL, 10); break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'f': file = optarg; break;
        }
    }
    if (early >= 0)
        return early;
    if (optind != argc)
        return cli_usage_error("inspect", "unexpected argument \"%s\"", argv[optind]);
    if ((topic && offset < 0) || count < 1 || (topic && file))
        return cli_usage_error("inspect", "give --topic T --offset O [--partition P] [--count N], "
                               "or --file FILE (- for stdin)");
    if (!(cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    /* Offline (--file) needs no broker: the PKI directory alone. */
    vf = topic ? verifier_new_cfg(cfg, errstr, sizeof errstr)
               : verifier_new(config_get(cfg, "docbus.pki.dir", "pki"), errstr, sizeof errstr);
    if (!vf) {
        cli_err("inspect", "%s", errstr);
        rc = EXIT_CONFIG;
        goto out;
    }
    for (int t = 0; t < 3; t++)
        if (json_avro_new_body((body_type_t)t, &conv[t], errstr, sizeof errstr)) {
            cli_err("inspect", "%s", errstr);
            rc = EXIT_FAIL;
            goto out;
        }
    if (!topic) {
        FILE *f = !file || !strcmp(file, "-") ? stdin : fopen(file, "rb");
        uint8_t *buf;
        size_t len;
        json_t *j = json_object();
        if (!f) {
            cli_err("inspect", "cannot read %s: %s", file, strerror(errno));
            rc = EXIT_USAGE;
            goto out;
        }
        if (read_all(f, &buf, &len)) {
            rc = EXIT_FAIL;
            goto out;
        }
        if (f != stdin)
            fclose(f);
        all_valid = describe(vf, conv, buf, len, j);
        json_dumpf(j, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(j);
        free(buf);
    } else {
        rd_kafka_t *rk = kafka_consumer_new(cfg, NULL, NULL, NULL, errstr, sizeof errstr);
        rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
        long seen = 0;
        if (!rk) {
            cli_err("inspect", "%s", errstr);
            rc = EXIT_CONFIG;
            goto out;
        }
        rd_kafka_topic_partition_list_add(tl, topic, (int32_t)partition)->offset = offset;
        rd_kafka_assign(rk, tl);
        while (seen < count) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10000);
            if (!m) {
                cli_err("inspect", "no message at %s [%ld] offset %lld within 10 s", topic,
                        partition, offset + seen);
                rc = EXIT_BROKER;
                break;
            }
            if (m->err) {
                int eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
                cli_err("inspect", "%s [%ld]: %s", topic, partition,
                        eof ? "end of partition" : rd_kafka_message_errstr(m));
                rc = eof ? (seen ? EXIT_OK : EXIT_USAGE) : EXIT_BROKER;
                rd_kafka_message_destroy(m);
                break;
            }
            json_t *j = json_pack("{s:s, s:i, s:I}", "topic", topic, "partition", (int)m->partition,
                                  "offset", (json_int_t)m->offset);
            all_valid &= describe(vf, conv, m->payload, m->len, j);
            json_dumpf(j, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(j);
            rd_kafka_message_destroy(m);
            seen++;
        }
        rd_kafka_topic_partition_list_destroy(tl);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    if (rc == EXIT_OK && !all_valid)
        rc = EXIT_VERIFY;
out:
    for (int t = 0; t < 3; t++)
        json_avro_destroy(conv[t]);
    verifier_destroy(vf);
    config_destroy(cfg);
    return rc;
}
