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
struct lib_want {
    const char *stem;
    char path[PATH_MAX];
    int found;
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *opaque)
{
    struct lib_want *w = opaque;
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, w->stem)) {
        if (!realpath(info->dlpi_name, w->path))
            snprintf(w->path, sizeof w->path, "%s", info->dlpi_name);
        w->found = 1;
        return 1;
    }
    return 0;
}

/* The file of the loaded shared object whose name contains w->stem, in w->path. */
static const char *linked_file(struct lib_want *w)
{
    dl_iterate_phdr(find_lib, w);
    return w->found ? w->path : "statically linked";
}

/* jemalloc's control call: present when the binary links it (ALLOC in the Makefile). */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

/* The allocator in use, "jemalloc 5.3.0 (thp always)" or "glibc malloc", into out. */
static const char *allocator(char *out, size_t size)
{
    const char *ver = NULL, *thp = NULL;
    size_t sz = sizeof ver;
    if (!mallctl || mallctl("version", &ver, &sz, NULL, 0) || !ver)
        return snprintf(out, size, "glibc malloc"), out;
    sz = sizeof thp;
    if (mallctl("opt.thp", &thp, &sz, NULL, 0) || !thp)
        thp = "?";
    snprintf(out, size, "jemalloc %.*s (thp %s)", (int)strcspn(ver, "-"), ver, thp);
    return out;
}

int cmd_version(int argc, char **argv)
{
    int json = argc > 1 && argv[1] && !strcmp(argv[1], "--json");
    char features[512], alloc[128];
    size_t fsz = sizeof features;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_get(conf, "builtin.features", features, &fsz) != RD_KAFKA_CONF_OK)
        snprintf(features, sizeof features, "?");
    rd_kafka_conf_destroy(conf);
    if (argc > 1 && !json)
        return cli_usage_error("version", "unknown option \"%s\"", argv[1]);
    if (json) {
        printf("{\"docbus\":\"%s\",\"wire\":\"vn.docbus.v1\",\"librdkafka\":\"%s\",\"avro_c\":\"%s\","
               "\"openssl\":\"%s\",\"jansson\":\"%s\",\"cmark\":\"%s\",\"librdkafka_features\":\"%s\","
               "\"allocator\":\"%s\"}\n",
               DOCBUS_VERSION, rd_kafka_version_str(), AVRO_C_VERSION,
               OpenSSL_version(OPENSSL_VERSION), JANSSON_VERSION, cmark_version_string(),
               features, allocator(alloc, sizeof alloc));
        return EXIT_OK;
    }
    printf("docbus %s (wire format vn.docbus.v1)\n", DOCBUS_VERSION);
    printf("  librdkafka %s  features: %s\n", rd_kafka_version_str(), features);
    printf("  Avro-C     %s  (%s)\n", AVRO_C_VERSION, linked_file(&(struct lib_want){.stem = "libavro"}));
    printf("  OpenSSL    %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("  jansson    %s  (%s)\n", JANSSON_VERSION, linked_file(&(struct lib_want){.stem = "libjansson"}));
    printf("  cmark      %s\n", cmark_version_string());
    printf("  allocator  %s\n", allocator(alloc, sizeof alloc));
    printf("  built      %s, C%ld, %s\n", __DATE__, __STDC_VERSION__,
#ifdef __SANITIZE_ADDRESS__
           "AddressSanitizer"
#else
           "no sanitizers"
#endif
    );
    return EXIT_OK;
}
