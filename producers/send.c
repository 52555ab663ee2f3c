/* send.c - `docbus send`: one document from the command line to every recipient's inbox. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "quarter.h"
#include "submit.h"

#define MAX_FILE_BYTES (64LL * 1024 * 1024)

/* Adds one attachment: hashed; inline (base64) up to inline_max bytes, otherwise
 * referenced by its SHA-256 and path. Returns 0 or prints why and returns -1. */
static int add_attachment(json_t *list, const char *path, int64_t inline_max)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL, md[32];
    char hex[65], *b64 = NULL;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    long long size;
    json_t *a;
    if (!f) {
        cli_err("send", "--attach %s: %s", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    if (size < 0 || size > MAX_FILE_BYTES) {
        cli_err("send", "--attach %s: %lld bytes, over the %lld byte limit", path, size, MAX_FILE_BYTES);
        fclose(f);
        return -1;
    }
    data = malloc((size_t)size + 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        cli_err("send", "--attach %s: read failed", path);
        fclose(f);
        free(data);
        return -1;
    }
    fclose(f);
    EVP_Digest(data, (size_t)size, md, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    a = json_pack("{s:s, s:I, s:s}", "name", name, "size", (json_int_t)size, "sha256", hex);
    if (size <= inline_max) {
        b64 = malloc((size_t)(4 * ((size + 2) / 3) + 1));
        EVP_EncodeBlock((unsigned char *)b64, data, (int)size);
        json_object_set_new(a, "content", json_string(b64));
    } else {
        char ref[4200];
        snprintf(ref, sizeof ref, "sha256:%s %s", hex, path);
        json_object_set_new(a, "reference", json_string(ref));
    }
    json_array_append_new(list, a);
    free(b64);
    free(data);
    return 0;
}

int cmd_send(int argc, char **argv)
{
    enum { O_FROM = 256, O_TO, O_NUMBER, O_NOTATION, O_TYPE, O_SUBJECT, O_DATE, O_PLACE,
           O_SIGNER, O_POSITION, O_PRIORITY, O_DUE, O_SUMMARY, O_ATTACH, O_RESPONSE_FOR };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"from", required_argument, 0, O_FROM}, {"to", required_argument, 0, O_TO},
        {"number", required_argument, 0, O_NUMBER}, {"notation", required_argument, 0, O_NOTATION},
        {"type", required_argument, 0, O_TYPE}, {"subject", required_argument, 0, O_SUBJECT},
        {"date", required_argument, 0, O_DATE}, {"place", required_argument, 0, O_PLACE},
        {"signer", required_argument, 0, O_SIGNER}, {"position", required_argument, 0, O_POSITION},
        {"priority", required_argument, 0, O_PRIORITY}, {"due", required_argument, 0, O_DUE},
        {"summary", required_argument, 0, O_SUMMARY}, {"attach", required_argument, 0, O_ATTACH},
        {"response-for", required_argument, 0, O_RESPONSE_FOR}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    const char *from = NULL, *number = NULL, *notation = NULL, *type = "CONG_VAN",
               *subject = NULL, *date = NULL, *signer = NULL, *position = "", *attach[32];
    json_t *doc = json_object(), *to = json_array(), *atts = json_array();
    int early, opt, nattach = 0, rc;
    char today[16], doc_id[512], errstr[256];
    db_config_t *cfg;
    int64_t inline_max;

    while ((opt = cli_getopt(&cc, argc, argv, "send", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        switch (opt) {
        case O_FROM: from = optarg; break;
        case O_TO: json_array_append_new(to, json_pack("{s:s}", "code", optarg)); break;
        case O_NUMBER: number = optarg; break;
        case O_NOTATION: notation = optarg; break;
        case O_TYPE: type = optarg; break;
        case O_SUBJECT: subject = optarg; break;
        case O_DATE: date = optarg; break;
        case O_PLACE: json_object_set_new(doc, "promulgation_place", json_string(optarg)); break;
        case O_SIGNER: signer = optarg; break;
        case O_POSITION: position = optarg; break;
        case O_PRIORITY: json_object_set_new(doc, "priority", json_string(optarg)); break;
        case O_DUE: json_object_set_new(doc, "due_date", json_string(optarg)); break;
        case O_SUMMARY: json_object_set_new(doc, "content_summary", json_string(optarg)); break;
        case O_RESPONSE_FOR: json_object_set_new(doc, "response_for", json_string(optarg)); break;
        case O_ATTACH:
            if (nattach == 32) {
                rc = cli_usage_error("send", "at most 32 --attach files");
                goto out;
            }
            attach[nattach++] = optarg;
            break;
        }
    }
    if (early >= 0) {
        rc = early;
        goto out;
    }
    if (optind != argc) {
        rc = cli_usage_error("send", "unexpected argument \"%s\"", argv[optind]);
        goto out;
    }
    if (!(cfg = cli_config(&cc))) {
        rc = EXIT_CONFIG;
        goto out;
    }
    if (!from)
        from = config_get(cfg, "docbus.unit", "");
    rc = config_get_int(cfg, "docbus.inline.max.bytes", 262144, 0, 1 << 20, &inline_max, errstr,
                        sizeof errstr) ? EXIT_CONFIG : 0;
    if (!rc && (!*from || !json_array_size(to) || !number || !notation || !subject || !signer))
        rc = cli_usage_error("send", "--from (or docbus.unit), --to, --number, --notation, "
                             "--subject and --signer are required");
    if (!rc)
        for (int i = 0; i < nattach; i++)
            if (add_attachment(atts, attach[i], inline_max))
                rc = EXIT_USAGE;
    if (rc) {
        config_destroy(cfg);
        goto out;
    }
    if (!date) {
        time_t now = time(NULL);
        vn_date_format((int32_t)((now * 1000 + VN_UTC_OFFSET_MS) / 86400000LL), today, sizeof today);
        date = today;
    }
    /* doc_id follows edXML: senderCode,YYYY/MM/DD,number/notation */
    snprintf(doc_id, sizeof doc_id, "%s,%.4s/%.2s/%.2s,%s/%s", from, date, date + 5, date + 8,
             number, notation);
    json_object_set_new(doc, "doc_id", json_string(doc_id));
    json_object_set_new(doc, "from", json_pack("{s:s}", "code", from));
    json_object_set(doc, "to", to);
    json_object_set_new(doc, "number", json_string(number));
    json_object_set_new(doc, "notation", json_string(notation));
    json_object_set_new(doc, "promulgation_date", json_string(date));
    json_object_set_new(doc, "document_type", json_string(type));
    json_object_set_new(doc, "subject", json_string(subject));
    json_object_set_new(doc, "signer", json_pack("{s:s, s:s}", "full_name", signer, "position", position));
    json_object_set(doc, "attachments", atts);
    config_destroy(cfg);
    rc = submit_one("send", &cc, BODY_DOCUMENT, doc);
out:
    json_decref(doc);
    json_decref(to);
    json_decref(atts);
    return rc;
}
