#!/usr/bin/env bash
# add-user.sh - create or update SCRAM-SHA-512 users on the local secure broker
# (deploy/kafka/local.sh start --secure), or delete them, and write a client properties
# file per user for `docbus -c` / `kcat -F`.
#
#   add-user.sh NAME PASSWORD [NAME PASSWORD ...]   create/update; prints each user's
#                                                   properties file path (one per line)
#   add-user.sh --delete NAME [NAME ...]            remove the users' SCRAM credentials
#
# librdkafka 2.0.2 has no AlterUserScramCredentials (added in 2.2.0), so this runs
# Kafka's ConfigCommand with the secure broker's jars, as the super user admin. Users are
# handled in parallel (one JVM each). The password appears on the ConfigCommand
# command line for the life of that JVM (about 2 s): use this on a machine you trust.
#
# Environment: the same as local.sh (DOCBUS_KAFKA_DIR, ...); the runtime dir must hold
# a started secure broker's client.properties.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOCAL="$HERE/../local.sh"
RUN="${DOCBUS_KAFKA_DIR:-$HERE/../run/secure}"
ADMIN_PROPS="$RUN/client.properties"
JAVA_PROPS="$RUN/admin-java.properties"

die() { echo "add-user.sh: $*" >&2; exit 1; }

[[ $# -ge 1 ]] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ -f "$ADMIN_PROPS" && -f "$JAVA_PROPS" ]] \
    || die "no secure broker config in $RUN (run: deploy/kafka/local.sh start --secure)"
BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$ADMIN_PROPS")"

valid_name() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]]; }

# ConfigCommand's SCRAM syntax ([password=...]) and the JAAS/properties files cannot
# carry these characters unescaped; refuse rather than store a different password.
valid_password() { [[ "$1" =~ ^[A-Za-z0-9._~@%+^:/-]{8,128}$ ]]; }

# The secure broker's jars (local.sh fetches them once). The JVM runs with start-up
# friendly flags (C1 only, serial GC): a ConfigCommand call is ~2.5 s instead of ~4.5 s.
"$LOCAL" --secure fetch
LIBS="$HERE/../run/libs-secure"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
[[ -f "$RUN/tools-log4j2.properties" ]] || die "no $RUN/tools-log4j2.properties (start the broker first)"

config_command() {  # runs ConfigCommand as admin; output to the given log
    local log="$1"; shift
    "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" -cp "$LIBS/*" \
        kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" \
        --command-config "$JAVA_PROPS" "$@" > "$log" 2>&1
}

pids=() names=()
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

deleting=0
if [[ "$1" == --delete ]]; then
    deleting=1
    shift
    [[ $# -ge 1 ]] || die "--delete needs at least one NAME"
    for name in "$@"; do
        valid_name "$name" || die "bad user name '$name'"
        [[ "$name" != admin ]] || die "refusing to delete the super user admin"
        config_command "$tmp/$name.log" --alter --delete-config SCRAM-SHA-512 \
            --entity-type users --entity-name "$name" &
        pids+=($!) names+=("$name")
        rm -f "$RUN/users/$name.properties"
    done
else
    [[ $(($# % 2)) -eq 0 ]] || die "expected NAME PASSWORD pairs"
    mkdir -p "$RUN/users"
    chmod 700 "$RUN/users"
    while [[ $# -gt 0 ]]; do
        name="$1" pw="$2"
        shift 2
        valid_name "$name" || die "bad user name '$name' (letters, digits, . _ -; at most 64)"
        valid_password "$pw" || die "password for '$name' must be 8-128 characters of A-Z a-z 0-9 . _ ~ @ % + ^ : / -"
        config_command "$tmp/$name.log" --alter \
            --add-config "SCRAM-SHA-512=[iterations=8192,password=$pw]" \
            --entity-type users --entity-name "$name" &
        pids+=($!) names+=("$name")
        # the user's own client config: the admin's minus the admin's login
        (
            umask 077
            grep -v -E '^(sasl\.username|sasl\.password|#)' "$ADMIN_PROPS"
            echo "sasl.username=$name"
            echo "sasl.password=$pw"
        ) > "$RUN/users/$name.properties"
    done
fi

rc=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "add-user.sh: ${names[$i]}: ConfigCommand failed:" >&2
        grep -v '^\s*at ' "$tmp/${names[$i]}.log" | tail -n 5 >&2 || true
        rc=1
    elif [[ $deleting -eq 0 ]]; then
        echo "$RUN/users/${names[$i]}.properties"
    fi
done
exit $rc
