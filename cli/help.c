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
     "  list [--json]                 the units, their certificates and status\n"
     "  publish                       put every unit certificate and the CRL on the compacted\n"
     "                                <prefix>certs topic: verifiers then need only ca.crt\n"
     "  revoke --at TIME              revoke as of TIME (messages signed before stay valid)\n"},
    {"send",
     "usage: docbus send --to CODE [--to CODE ...] --number N --notation X --subject TEXT\n"
     "                   --signer NAME [--position P] [--from CODE] [--type CONG_VAN|QUYET_DINH|KE_HOACH|...]\n"
     "                   [--date YYYY-MM-DD] [--place P] [--priority NORMAL|URGENT|VERY_URGENT|FLASH]\n"
     "                   [--due YYYY-MM-DD] [--summary TEXT] [--response-for DOC_ID] [--attach FILE]...\n"
     "Signs one document as --from (default docbus.unit) and delivers it to the inbox topic\n"
     "of every recipient. Attachments are hashed (SHA-256); files up to\n"
     "docbus.inline.max.bytes travel inline, larger ones by reference. Prints the document id\n"
     "(senderCode,YYYY/MM/DD,number/notation). Sending the same document again is harmless.\n"},
    {"status",
     "usage: docbus status --doc DOC_ID --code 01|02|03|04|05|06|13|15|16 [--from CODE]\n"
     "                     [--description TEXT] [--at TIME] [--staff NAME] [--department D]\n"
     "Sends a signed status reply to the document's sender (the first field of DOC_ID).\n"
     "Codes: 01 arrived, 02 rejected, 03 accepted, 04 assigned, 05 processing, 06 completed,\n"
     "13 recall requested, 15 recall/update agreed, 16 recall/update refused.\n"},
    {"emit",
     "usage: docbus emit --kind KIND --id EVENT_ID [--unit CODE] [--at TIME] [field=value ...]\n"
     "Publishes one signed activity event to docbus.events. KIND is a record of\n"
     "schemas/event.avsc: MailboxesIssued count=N; Rating channel=DEVICE|WEB level=SATISFIED;\n"
     "LandBranchJoined district=CODE; LandDatabaseLinked district=CODE; PressBriefing\n"
     "articles_commended=N; PropagandaAssigned items=N; InspectionConcluded subject=S;\n"
     "InspectionPreparing subject=S; InspectionCheck subject=S sector=INTERNET|TELECOM|\n"
     "PUBLISHING|PRESS|OTHER outcome=COMPLIANT|VIOLATION; PenaltyDecision decision_no=S subject=S\n"
     "sector=... amount_vnd=N; TaskProgress ...; Highlight ... (see docs/jsonl.md).\n"
     "TIME is 2018-03-13T09:00:00 (Vietnam time) or with Z / +07:00.\n"},
    {"import",
     "usage: docbus import FILE|- [--rejects FILE] [--json]\n"
     "Publishes JSON Lines (docs/jsonl.md): every valid line is signed (in batches of\n"
     "docbus.batch.size) and delivered; every invalid line is reported with its line number\n"
     "and reason and copied to the rejects file (default FILE.rejects.jsonl). Lines are parsed\n"
     "on docbus.import.workers threads (default: one per CPU) and signed in input order.\n"
     "Exit 0: all delivered; 7: some lines rejected, the rest delivered; 4: the broker did not\n"
     "acknowledge everything within docbus.delivery.deadline.ms (re-run: nothing counts twice).\n"},
    {"inbox",
     "usage: docbus inbox --unit CODE --out DIR [--once]\n"
     "Receives the documents addressed to CODE from its inbox topic. Every message is\n"
     "verified (signature, proof, certificate); each document is stored atomically as\n"
     "DIR/<document id>/metadata.json with its inline attachments (checked against their\n"
     "SHA-256) under attachments/, and answered with a signed status 01 (arrived).\n"
     "Statuses about documents CODE sent are kept under DIR/statuses/. Messages that fail\n"
     "verification are not stored: they go to docbus.rejected and are reported on stderr.\n"
     "Safe to kill and restart at any point: nothing is stored or answered twice.\n"
     "  --once   stop when caught up (otherwise run until SIGINT/SIGTERM)\n"
     "  --group G  consumer group (default docbus-inbox-CODE, the prefix the ACLs grant)\n"},
    {"aggregate",
     "usage: docbus aggregate [--until-caught-up] [--instance ID] [--json]\n"
     "Consumes every inbox topic and docbus.events (consumer group docbus.aggregate.group),\n"
     "verifies every message, drops duplicates by message id, and counts facts by their own\n"
     "time (Vietnam time) into quarters per schemas/metrics.json. Count updates, dedup ids,\n"
     "dead letters (docbus.rejected) and input offsets commit in one Kafka transaction,\n"
     "every docbus.aggregate.commit.interval.ms (1000) or .commit.messages (100000).\n"
     "  --until-caught-up  stop when the end offsets seen at start are committed\n"
     "  --instance ID      run several instances side by side (distinct transactional ids)\n"
     "Without --until-caught-up it runs until SIGINT/SIGTERM.\n"},
    {"inspect",
     "usage: docbus inspect --topic T --offset O [--partition P] [--count N]\n"
     "       docbus inspect --file FILE|-\n"
     "Prints each message as JSON: content (msg id, producer, seq, body type), the signed\n"
     "batch header and proof, the decoded body, and the verdict (valid, or the first failing\n"
     "check: bad_signature, bad_proof, cert_revoked, truncated ...). Exit 5 if any is invalid.\n"},
    {"audit",
     "usage: docbus audit [--from TIME] [--to TIME] [--topics LIST] [--against counts|none|FILE.json]\n"
     "                    [--export FILE] [--json] [--slack DAYS] [--replay-window SECONDS]\n"
     "                    [--max-findings N]\n"
     "       docbus audit --file FILE [--ca CA.crt] [--against none|FILE.json] [--json]\n"
     "Re-reads the messages whose facts fall in [--from, --to) (2018-Q1, 2018-01-01, or a time),\n"
     "proves each one (signature, proof, certificate at signing time), checks every producer's\n"
     "sequence and batch chain (gaps, tampered duplicates, reordering, replays), recounts the\n"
     "quarters with the aggregator's metrics and compares with docbus.counts or a report JSON.\n"
     "  --export FILE  the messages exactly as read, with the trust material, in an Avro\n"
     "                 container file; `--file FILE` audits it offline with no broker\n"
     "Findings go to stderr (and --json stdout). Exit 0 clean, 6 findings, 3/4 could not audit.\n"
     "See docs/audit.md.\n"},
    {"topics",
     "usage: docbus topics apply [--dry-run] [--json] [--file FILE] [--replication-factor N]\n"
     "Makes the cluster's docbus topics match schemas/topics.json (or --file): one inbox per unit\n"
     "of the registry (docbus.registry) plus events, counts, seen, rejected, certs. Creates missing\n"
     "topics, adds partitions, alters configs (other per-topic overrides are kept); never removes\n"
     "partitions or changes replication (it warns). Prints what it changed and \"unchanged: N topics\".\n"
     "  --replication-factor N  override every topic's (min.insync.replicas lowered to N); 1 locally\n"
     "Needs an admin login. Exit 3: definition does not fit the cluster; 4: broker; 10: not allowed.\n"},
    {"acl",
     "usage: docbus acl apply [--dry-run] [--prune] [--no-create] [--json]\n"
     "       docbus acl list [--json]\n"
     "       docbus acl revoke --unit CODE\n"
     "apply grants the ACLs derived from the unit registry: each unit writes every inbox and\n"
     "docbus.events and reads only its own inbox (groups docbus-inbox-<CODE>*); docbus-aggregator\n"
     "reads all docbus topics and writes counts, seen, rejected; docbus-auditor reads, never writes.\n"
     "  --prune      also delete grants of those principals that are no longer derived\n"
     "  --no-create  leave out CREATE on the topics each principal writes\n"
     "Transactional-id ACLs cannot be made through librdkafka 2.0.2: apply prints the kafka-acls.sh\n"
     "command (local: deploy/kafka/secure/acl-txn.sh). revoke deletes every ACL of User:CODE.\n"},
    {"units",
     "usage: docbus units [--json | --codes]\n"
     "Lists the unit registry: the built-in Ho Chi Minh City registry (illustrative codes\n"
     "of the QCVN 102 shape), or the file named by docbus.registry.\n"},
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
     "  --model FILE    render a saved JSON model instead of reading Kafka\n"
     "  --changed-since TIME  list the figures whose counts changed at or after TIME\n"
     "                  (late facts: a Q1 event arriving in Q2 updates Q1); shown as a notice\n"
     "  --template-dir DIR   section templates (default: schemas/templates next to the binary)\n"},
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
