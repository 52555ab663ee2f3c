/* main.c - the docbus binary: git-style subcommand dispatch, help and version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"pki", cmd_pki, "manage the unit PKI: root CA, unit certificates, revocation"},
    {"send", cmd_send, "send one signed document to its recipients' inboxes"},
    {"status", cmd_status, "reply to a document with a status code (01 ... 16)"},
    {"emit", cmd_emit, "publish one signed activity event"},
    {"import", cmd_import, "publish JSON Lines records in bulk (documents, statuses, events)"},
    {"simulate", cmd_simulate, "generate the hcmc-2018q1 dataset as JSON Lines"},
    {"inbox", cmd_inbox, "receive a unit's documents into a directory and reply 01 arrived"},
    {"aggregate", cmd_aggregate, "count every message exactly once into quarterly counts"},
    {"report", cmd_report, "render the quarterly report from the committed counts"},
    {"audit", cmd_audit, "replay a time range: prove every message, recount, compare, export"},
    {"topics", cmd_topics, "create or update every docbus topic from the declarative definition"},
    {"acl", cmd_acl, "grant the Kafka ACLs derived from the unit registry"},
    {"units", cmd_units, "list the unit registry (organisation codes, kinds, names)"},
    {"inspect", cmd_inspect, "show one message as JSON with its verification verdict"},
    {"version", cmd_version, "print docbus and linked library versions"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: docbus <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "`docbus help CMD` for a command, `docbus help config` for keys");
    fprintf(out, "\nCommon options: -c FILE (config), -X key=value (any librdkafka or docbus.* key),\n"
                 "-q quiet, -v verbose. Exit codes: `docbus help exit-codes`.\n");
}

static const struct command *lookup(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Suggests the command that starts like name, for typos such as `docbus agregate`. */
static const char *suggest(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strncmp(commands[i].name, name, 2) == 0)
            return commands[i].name;
    return NULL;
}

static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    if (cli_help(argv[1], stdout) == 0)
        return EXIT_OK;
    fprintf(stderr, "docbus help: no help for \"%s\" (try `docbus help`)\n", argv[1]);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const struct command *cmd;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return run_help(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return cmd_version(argc - 1, argv + 1);
    cmd = lookup(argv[1]);
    if (!cmd) {
        const char *s = suggest(argv[1]);
        fprintf(stderr, "docbus: unknown command \"%s\"%s%s%s (see `docbus help`)\n", argv[1],
                s ? "; did you mean \"" : "", s ? s : "", s ? "\"?" : "");
        return EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
