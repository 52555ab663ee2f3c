/* cli.c - option handling, configuration and messages shared by every command. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_common_opt(cli_common_t *cc, int opt, const char *arg, const char *cmd)
{
    switch (opt) {
    case 'c':
        cc->config_file = arg;
        return 1;
    case 'X':
        if (cc->nprops == (int)(sizeof cc->props / sizeof cc->props[0])) {
            cli_usage_error(cmd, "too many -X options");
            return -1;
        }
        if (!strchr(arg, '=')) {
            cli_usage_error(cmd, "-X %s: expected key=value", arg);
            return -1;
        }
        cc->props[cc->nprops++] = arg;
        return 1;
    case 'q':
        cc->verbose = -1;
        return 1;
    case 'v':
        cc->verbose = 1;
        return 1;
    case 'h':
        if (cli_help(cmd, stdout))
            printf("usage: docbus %s [options] (see `docbus help`)\n", cmd);
        return 2;
    case '?':
        cli_usage_error(cmd, "see `docbus help %s`", cmd);
        return -1;
    default:
        return 0;
    }
}

int cli_getopt(cli_common_t *cc, int argc, char **argv, const char *cmd, const char *shortopts,
               const struct option *longopts, int *early)
{
    int opt;
    *early = -1;
    while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int r = cli_common_opt(cc, opt, optarg, cmd);
        if (r == 1)
            continue;
        if (r == 2 || r < 0) {
            *early = r == 2 ? EXIT_OK : EXIT_USAGE;
            return -1;
        }
        return opt;
    }
    return -1;
}

db_config_t *cli_config(const cli_common_t *cc)
{
    char errstr[512];
    const char *file = cc->config_file ? cc->config_file : getenv("DOCBUS_CONFIG");
    db_config_t *cfg = config_new();
    if (!cfg) {
        fprintf(stderr, "docbus: out of memory\n");
        return NULL;
    }
    if (file && *file && config_load_file(cfg, file, errstr, sizeof errstr)) {
        fprintf(stderr, "docbus: %s\n", errstr);
        goto fail;
    }
    for (int i = 0; i < cc->nprops; i++) {
        char key[256];
        const char *eq = strchr(cc->props[i], '=');
        size_t klen = (size_t)(eq - cc->props[i]);
        if (klen >= sizeof key) {
            fprintf(stderr, "docbus: -X %s: key too long\n", cc->props[i]);
            goto fail;
        }
        memcpy(key, cc->props[i], klen);
        key[klen] = '\0';
        if (config_set(cfg, key, eq + 1, errstr, sizeof errstr)) {
            fprintf(stderr, "docbus: -X %s: %s\n", cc->props[i], errstr);
            goto fail;
        }
    }
    return cfg;
fail:
    config_destroy(cfg);
    return NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "docbus %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try `docbus help %s`)\n", cmd);
    return EXIT_USAGE;
}

void cli_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "docbus %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_progress_enabled(void)
{
    return isatty(STDERR_FILENO);
}
