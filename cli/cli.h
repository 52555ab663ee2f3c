/* cli.h - what every docbus command shares: exit codes, -c/-X handling, messages. */
#ifndef DOCBUS_CLI_H
#define DOCBUS_CLI_H

#include <getopt.h>
#include <stdio.h>
#include "config.h"

/* Exit codes, documented in docs/exit-codes.md. Distinct per failure class. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,        /* internal or unexpected error */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_CONFIG = 3,      /* bad config file, key, PKI or template */
    EXIT_BROKER = 4,      /* broker unreachable, or delivery deadline passed */
    EXIT_VERIFY = 5,      /* a message failed verification (inspect, inbox --strict) */
    EXIT_FINDINGS = 6,    /* audit found problems */
    EXIT_REJECTED = 7,    /* some input records were rejected; the valid ones were delivered */
    EXIT_NODATA = 8,      /* report: no data for the quarter */
    EXIT_LAG = 9,         /* report: counts are behind the input */
    EXIT_AUTH = 10,       /* authentication or authorisation refused by the broker */
};

/* Options every command takes: -c FILE, -X key=value, -q, -v. */
typedef struct cli_common {
    const char *config_file;
    const char *props[64];
    int nprops;
    int verbose;    /* -1 quiet, 0 normal, 1 verbose */
} cli_common_t;

/* The getopt_long short-option letters and long options handled by cli_common_opt. */
#define CLI_COMMON_SHORT "c:X:qvh"
#define CLI_COMMON_LONG                                          \
    {"config", required_argument, 0, 'c'},                       \
    {"property", required_argument, 0, 'X'},                     \
    {"quiet", no_argument, 0, 'q'},                              \
    {"verbose", no_argument, 0, 'v'},                            \
    {"help", no_argument, 0, 'h'}

/* Handles one common option. Returns 1 if handled, 0 if not a common option, or
 * -1 after printing an error (the command then exits EXIT_USAGE). 'h' prints the
 * command's help and returns 2 (the command then exits EXIT_OK). */
int cli_common_opt(cli_common_t *cc, int opt, const char *arg, const char *cmd);

/* getopt_long for docbus commands: handles the common options itself and returns the
 * next command-specific option (> 0), or -1 when the options end. *early is set to -1
 * when they ended normally, else to the exit code the command must return at once
 * (EXIT_OK after printing --help, EXIT_USAGE after a usage error). */
int cli_getopt(cli_common_t *cc, int argc, char **argv, const char *cmd, const char *shortopts,
               const struct option *longopts, int *early);

/* Builds the configuration: $DOCBUS_CONFIG or -c FILE, then each -X in order.
 * Returns a config or NULL after printing the error (exit EXIT_CONFIG). */
db_config_t *cli_config(const cli_common_t *cc);

/* Prints "docbus CMD: unknown option ..." style usage errors with a hint; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "docbus CMD: message" to stderr. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the help text of cmd to out. Returns 0, or -1 if cmd is unknown. */
int cli_help(const char *cmd, FILE *out);

/* Nonzero when stderr is a terminal (progress lines are shown only then). */
int cli_progress_enabled(void);

#endif
