/* version.c - `docbus version`: docbus and the versions of the libraries actually linked. */
#include <avro.h>
#include <link.h>
#include <limits.h>
#include <stdlib.h>
#include <cmark.h>
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "version.h"

/* Avro-C and jansson have no run-time version call: show the shared object the
 * loader actually mapped (its file name carries the ABI version) next to the version
 * the headers had at build time. */
static int find_lib(struct dl_phdr_info *info, size_t size, void *opaque)
{
    const char **want = opaque;
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, want[0])) {
        char real[PATH_MAX];
        want[1] = realpath(info->dlpi_name, real) ? strdup(real) : strdup(info->dlpi_name);
        return 1;
    }
    return 0;
}

static const char *linked_file(const char *stem)
{
    const char *want[2] = {stem, NULL};
    dl_iterate_phdr(find_lib, want);
    return want[1] ? want[1] : "statically linked";
}

int cmd_version(int argc, char **argv)
{
    int json = argc > 1 && argv[1] && !strcmp(argv[1], "--json");
    char features[512];
    size_t fsz = sizeof features;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_get(conf, "builtin.features", features, &fsz) != RD_KAFKA_CONF_OK)
        snprintf(features, sizeof features, "?");
    rd_kafka_conf_destroy(conf);
    if (argc > 1 && !json)
        return cli_usage_error("version", "unknown option \"%s\"", argv[1]);
    if (json) {
        printf("{\"docbus\":\"%s\",\"wire\":\"vn.docbus.v1\",\"librdkafka\":\"%s\",\"avro_c\":\"%s\","
               "\"openssl\":\"%s\",\"jansson\":\"%s\",\"cmark\":\"%s\",\"librdkafka_features\":\"%s\"}\n",
               DOCBUS_VERSION, rd_kafka_version_str(), AVRO_C_VERSION,
               OpenSSL_version(OPENSSL_VERSION), JANSSON_VERSION, cmark_version_string(),
               features);
        return EXIT_OK;
    }
    printf("docbus %s (wire format vn.docbus.v1)\n", DOCBUS_VERSION);
    printf("  librdkafka %s  features: %s\n", rd_kafka_version_str(), features);
    printf("  Avro-C     %s  (%s)\n", AVRO_C_VERSION, linked_file("libavro"));
    printf("  OpenSSL    %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("  jansson    %s  (%s)\n", JANSSON_VERSION, linked_file("libjansson"));
    printf("  cmark      %s\n", cmark_version_string());
    printf("  built      %s, C%ld, %s\n", __DATE__, __STDC_VERSION__,
#ifdef __SANITIZE_ADDRESS__
           "AddressSanitizer"
#else
           "no sanitizers"
#endif
    );
    return EXIT_OK;
}
