#!/usr/bin/env bash
# secure_client_errors.sh - against the real secure broker, a client that cannot get in
# must fail fast (well under the 10 s broker check) with a message that names the cause,
# and with the documented exit code:
#   wrong SCRAM password            -> 10 (EXIT_AUTH), "authentication"
#   broker certificate not trusted  ->  4 (EXIT_BROKER), "certificate"
#   plaintext client on the TLS port->  4 (EXIT_BROKER), "security.protocol" or "TLS"/"SSL"
# and the right login on the same broker works (the control case). Uses `docbus emit`, the
# way a unit's system talks to Kafka. Starts and stops its own broker.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCBUS=${DOCBUS:-$ROOT/build/docbus}
T=$(mktemp -d "${DOCBUS_TEST_TMP:-/tmp}/secure_errors.XXXXXX")
export DOCBUS_KAFKA_DIR=$T/kafka DOCBUS_KAFKA_PORT=${SECURE_ERRORS_PORT:-19196}
export DOCBUS_KAFKA_CONTROLLER_PORT=$((DOCBUS_KAFKA_PORT + 1))
unset DOCBUS_CONFIG
A=000.00.00.H29
FAST=${SECURE_FAIL_FAST_SECONDS:-8}
fails=0

cleanup() { "$ROOT/deploy/kafka/local.sh" --secure stop >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
die() { echo "FAIL $*"; exit 1; }

ADMIN=$("$ROOT/deploy/kafka/local.sh" start --secure 2> "$T/start.log") \
    || { cat "$T/start.log"; die "secure broker start"; }
PKI=$T/pki
"$DOCBUS" pki init --dir "$PKI" >/dev/null 2>&1 || die "pki init"
"$DOCBUS" pki issue --dir "$PKI" --unit $A --name "Unit A" >/dev/null 2>&1 || die "pki issue"
# another CA nobody configured the broker with
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/other.key" \
    -out "$T/other-ca.crt" -days 2 -subj "/CN=some other CA" 2>/dev/null || die "openssl"

n=0
# emit_as NAME EXPECTED_EXIT PATTERN [-X ...]: one event as unit A with the admin config
# plus the given overrides; checks exit code, time and docbus's own message line.
emit_as() {
    local name=$1 want=$2 pattern=$3 rc start took msg
    shift 3
    n=$((n + 1))
    start=$(date +%s.%N)
    timeout 60 "$DOCBUS" emit -c "$ADMIN" -X docbus.pki.dir="$PKI" -X docbus.state.dir="$T/state" \
        -X docbus.delivery.deadline.ms=20000 "$@" --unit $A --kind MailboxesIssued \
        --id "err-$n" --at 2018-02-01T09:00:00 count=1 > "$T/$n.out" 2> "$T/$n.err"
    rc=$?
    took=$(echo "$(date +%s.%N) - $start" | bc)
    msg=$(grep '^docbus' "$T/$n.err" | tail -n 1)
    if [ "$rc" -ne "$want" ]; then
        bad "$name: exit $rc, expected $want ($msg)"
    elif [ "$want" -ne 0 ] && ! echo "$msg" | grep -Eqi "$pattern"; then
        bad "$name: docbus's message does not name the cause /$pattern/: $msg"
    elif [ "$want" -ne 0 ] && [ "$(echo "$took > $FAST" | bc)" = 1 ]; then
        bad "$name: took ${took%.*} s (more than $FAST s to report a known failure): $msg"
    else
        ok "$name: exit $rc in ${took:0:4} s${msg:+: $msg}"
    fi
}

emit_as "right password (control)" 0 "" -X sasl.password="$(cat "$DOCBUS_KAFKA_DIR/admin.password")"
emit_as "wrong password" 10 "authenticat|password|credential" -X sasl.password=not-the-password
emit_as "untrusted broker certificate" 4 "certificate|ssl.ca.location" -X ssl.ca.location="$T/other-ca.crt"
emit_as "plaintext client to the TLS port" 4 "security.protocol|TLS|SSL" -X security.protocol=PLAINTEXT
emit_as "SASL without TLS to the TLS port" 4 "security.protocol|TLS|SSL" -X security.protocol=SASL_PLAINTEXT

echo "$fails failed"
[ $fails -eq 0 ]
