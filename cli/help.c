/* help.c - the help text of every command: the one option reference (README points here). */
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    const char *text;
} help[] = {
    {"version",
     "usage: docbus version [--json]\n"
     "Prints the docbus version, the wire format version, and the librdkafka, Avro-C,\n"
     "OpenSSL, jansson and cmark versions actually linked, with librdkafka's features.\n"},
    {"exit-codes",
     "docbus exit codes (the same for every command):\n"
     "  0  success\n"
     "  1  internal or unexpected error\n"
     "  2  usage: bad command line\n"
     "  3  configuration: bad config file or key, missing PKI, bad template\n"
     "  4  broker: unreachable, or the delivery deadline passed (nothing is lost: re-run)\n"
     "  5  verification: a message failed its signature, proof or certificate check\n"
     "  6  audit findings: the audited range is not clean\n"
     "  7  input rejected: some records were invalid (see the rejects file); all valid\n"
     "     records were delivered\n"
     "  8  report: no data for the quarter\n"
     "  9  report: counts lag behind the input (use --allow-lag to render anyway)\n"
     " 10  authentication or authorisation refused by the broker\n"},
    {"pki",
     "usage: docbus pki <init|issue|revoke|list> [--dir DIR] [options]\n"
     "  init                          create the root CA in DIR (default $DOCBUS_PKI_DIR or ./pki)\n"
     "  issue --unit CODE --name NAME [--days N]\n"
     "                                Ed25519 key (mode 0600) and X.509 certificate for a unit;\n"
     "                                issuing again rotates the key, old certificates are kept\n"
     "  revoke --unit CODE            revoke the unit's current certificate (CRL)\n"
     "  list [--json]                 the units, their certificates and status\n"},
    {"simulate",
     "usage: docbus simulate --profile hcmc-2018q1 [--scale F] [--seed N] [--out FILE]\n"
     "Writes JSON Lines (docs/jsonl.md) modelling Ho Chi Minh City's units so that\n"
     "aggregating them gives the figures of the Q1/2018 report. --scale (default 1.0)\n"
     "scales the volume figures; --seed (default 1) makes a different, equally valid dataset.\n"},
    {"report",
     "usage: docbus report --quarter 2018-Q1 [--format md|html|json] [--out FILE]\n"
     "                     [--template FILE] [--template-dir DIR] [--allow-lag] [--model FILE]\n"
     "Renders the quarterly report from the committed counts in docbus.counts.\n"
     "  --format        md (default, Vietnamese Markdown), html (self-contained, with charts),\n"
     "                  json (every figure id of the report)\n"
     "  --allow-lag     render even when the aggregator has not caught up (with a warning)\n"
     "  --model FILE    render a saved JSON model instead of reading Kafka\n"},
};

int cli_help(const char *cmd, FILE *out)
{
    if (!strcmp(cmd, "config")) {
        config_print_reference(out);
        return 0;
    }
    for (size_t i = 0; i < sizeof help / sizeof help[0]; i++)
        if (!strcmp(help[i].name, cmd)) {
            fputs(help[i].text, out);
            fputs("\nCommon options: -c FILE, -X key=value, -q, -v, -h. See `docbus help config`.\n",
                  out);
            return 0;
        }
    return -1;
}
