# lib.sh - shared setup of the audit integration tests (sourced, not run): a fresh PKI,
# staged messages made by `docbus import`, the forge injector, audit runs and checks.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
DOCBUS=${DOCBUS:-$ROOT/build/docbus}
BOOT=${DOCBUS_BOOTSTRAP:-127.0.0.1:19092}
OBJ=$(dirname "$DOCBUS")
CHECK="python3 $ROOT/tests/it/audit/check.py"
U1=000.00.02.H29
U2=000.00.19.H29
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
finish() { if [ "$fails" -eq 0 ]; then echo "all checks passed"; exit 0; else echo "$fails checks failed"; exit 1; fi; }

# A private work dir with a PKI (units U1, U2) and a config; $W, $PKI.
audit_setup() {
  local base=${DOCBUS_TEST_TMP:-$(mktemp -d /tmp/docbus-audit.XXXXXX)}
  W=$(mktemp -d "$base/$1.XXXXXX")
  PKI=$W/pki
  "$DOCBUS" pki init --dir "$PKI" >/dev/null 2>&1 || { echo "FAIL: pki init"; exit 1; }
  for u in $U1 $U2 000.00.52.H29 000.00.16.H29 000.00.05.H29 000.00.50.H29 000.00.01.H29 000.00.14.H29; do
    "$DOCBUS" pki issue --dir "$PKI" --unit "$u" --name "Unit $u" >/dev/null 2>&1 || { echo "FAIL: pki issue $u"; exit 1; }
  done
  FORGE=$W/forge
  local cflags="-std=c11 -D_GNU_SOURCE -O1 -I$ROOT/lib"
  case $OBJ in *build-san*) cflags="$cflags -fsanitize=address,undefined"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} ;; esac
  # shellcheck disable=SC2046
  gcc $cflags $(pkg-config --cflags rdkafka avro-c libcrypto jansson) -o "$FORGE" \
    "$ROOT/tests/it/audit/forge.c" "$OBJ"/lib/*.o "$OBJ"/gen/schemas_embedded.o \
    $(pkg-config --libs rdkafka avro-c libcrypto jansson yajl libcmark) -lm \
    || { echo "FAIL: cannot build the forge tool against $OBJ/lib"; exit 1; }
}

# Config of one prefix: cfg_of PREFIX [STATE_DIR] prints -X options.
xopts() {
  echo "-X bootstrap.servers=$BOOT -X docbus.topic.prefix=$1 -X docbus.pki.dir=$PKI" \
       "-X docbus.state.dir=${2:-$W/state} -X docbus.batch.linger.ms=60000"
}

# events_jsonl FILE UNIT N [ID_PREFIX [DAY]]: N rating events of UNIT in 2018-Q1.
events_jsonl() {
  local f=$1 unit=$2 n=$3 idp=${4:-E} day=${5:-01} i
  : > "$f"
  for i in $(seq 1 "$n"); do
    printf '{"type":"event","event_id":"%s-%04d","unit":"%s","occurred_at":"2018-02-%sT09:%02d:00+07:00","detail":{"Rating":{"channel":"DEVICE","level":"SATISFIED","service":"test"}}}\n' \
      "$idp" "$i" "$unit" "$day" $((i % 60)) >> "$f"
  done
}

# stage PREFIX JSONL BATCH [STATE_DIR]: import with batch size BATCH.
stage() {
  # shellcheck disable=SC2046
  "$DOCBUS" import "$2" $(xopts "$1" "${4:-}") -X docbus.batch.size="$3" >"$W/import.log" 2>&1 \
    || { cat "$W/import.log"; fail "import into $1"; return 1; }
}

# dump PREFIX DIR: the raw records of PREFIX's events topic into DIR, listing DIR/list.tsv.
dump() {
  mkdir -p "$2"
  "$FORGE" dump "$BOOT" "${1}events" "$2" > "$2/list.tsv" || fail "dump ${1}events"
}

# file_of DIR SEQ: the file holding seq SEQ.
file_of() { awk -F'\t' -v s="$2" 'NR > 1 && $6 == s { print $1; exit }' "$1/list.tsv"; }

# put PREFIX FILE...: produce the files, in order, to PREFIX's events topic partition 0.
put() { local p=$1; shift; "$FORGE" put "$BOOT" "${p}events" 0 - "$@" || fail "put into ${p}events"; }

# run_audit PREFIX OUT [ARGS]: docbus audit --json > OUT; AUDIT_RC is its exit code.
run_audit() {
  local p=$1 out=$2; shift 2
  # shellcheck disable=SC2046
  "$DOCBUS" audit --json $(xopts "$p") "$@" > "$out" 2> "$out.err"
  AUDIT_RC=$?
}

# offset_in TOPIC_DIR_LIST SEQ: after put, offsets are positions in the put order.
