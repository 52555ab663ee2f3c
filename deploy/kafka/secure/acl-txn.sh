#!/usr/bin/env bash
# acl-txn.sh - grant the aggregator's transactional-id ACLs on the local secure broker.
# `docbus acl apply` grants every other docbus ACL, but librdkafka 2.0.2 has no
# TransactionalId resource type, so these two go through Kafka's AclCommand:
#   ALLOW User:PRINCIPAL WRITE, DESCRIBE on transactional-id PREFIX* (prefixed)
#
#   acl-txn.sh [PRINCIPAL [PREFIX]]   defaults: docbus-aggregator docbus-aggregate
#                                     (PREFIX = docbus.aggregate.group; the aggregator's
#                                     transactional ids are PREFIX-<instance>)
# Idempotent. Environment: as local.sh (DOCBUS_KAFKA_DIR, ...).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="${DOCBUS_KAFKA_DIR:-$HERE/../run/secure}"
PRINCIPAL="${1:-docbus-aggregator}"
PREFIX="${2:-docbus-aggregate}"

die() { echo "acl-txn.sh: $*" >&2; exit 1; }
[[ -f "$RUN/client.properties" ]] || die "no secure broker config in $RUN (run: deploy/kafka/local.sh start --secure)"
BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$RUN/client.properties")"

"$HERE/../local.sh" --secure fetch
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# The secure broker is Kafka 3.9 (see pom.xml here): AclCommand is kafka.admin.AclCommand
# there (4.x moved it to org.apache.kafka.tools.AclCommand in kafka-tools).
exec "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" -cp "$HERE/../run/libs-secure/*" \
    kafka.admin.AclCommand --bootstrap-server "$BOOTSTRAP" --command-config "$RUN/admin-java.properties" \
    --add --allow-principal "User:$PRINCIPAL" --allow-host '*' \
    --transactional-id "$PREFIX" --resource-pattern-type prefixed \
    --operation Write --operation Describe >&2
