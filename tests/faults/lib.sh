# lib.sh - shared helpers of the fault tests (sourced, not run): a fresh topic prefix and
# work dir per test, a PKI for every unit of a JSON Lines file, broker kill/start/pause
# for the runner's broker, and the exactness check (report figures and audit against an
# independent Python count over the input).
#
# Environment (set by tests/run.sh; defaults for running a test by hand):
#   DOCBUS            the binary                       (build/docbus)
#   DOCBUS_ROOT       repo root                        (two levels up)
#   DOCBUS_BOOTSTRAP  the broker                       (127.0.0.1:19092)
#   DOCBUS_TEST_TMP   scratch parent dir               (/tmp)
#   DOCBUS_KAFKA_DIR  the broker's runtime dir (pid)   (deploy/kafka/run)
#   DOCBUS_KAFKA_CONTROLLER_PORT                       (client port + 1)
#   FAULT_SCALE       simulate --scale of the dataset  (test's own default)
#   FAULT_KEEP=1      keep the work dir

DOCBUS_ROOT=${DOCBUS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DOCBUS=${DOCBUS:-$DOCBUS_ROOT/build/docbus}
DOCBUS_BOOTSTRAP=${DOCBUS_BOOTSTRAP:-127.0.0.1:19092}
FL_PORT=${DOCBUS_BOOTSTRAP##*:}
FL_KAFKA_DIR=${DOCBUS_KAFKA_DIR:-$DOCBUS_ROOT/deploy/kafka/run}
FL_CPORT=${DOCBUS_KAFKA_CONTROLLER_PORT:-$((FL_PORT + 1))}
FL_LOCAL=$DOCBUS_ROOT/deploy/kafka/local.sh
FL_FIGURES_PY=$DOCBUS_ROOT/tests/it/simulate_figures.py
FL_FAIL=0
FL_BG_PIDS=()

fl_log() { printf '[%s %s] %s\n' "$(date +%T)" "${FL_NAME:-fault}" "$*"; }
fl_bad() { printf 'FAIL: %s\n' "$*"; FL_FAIL=1; }

# fl_init NAME: work dir $W, prefix $P, docbus options array X (pki, state, prefix, group).
fl_init() {
  FL_NAME=$1
  [ -x "$DOCBUS" ] || { echo "FAIL: $DOCBUS not built"; exit 1; }
  command -v kcat >/dev/null || { echo "FAIL: kcat not installed"; exit 1; }
  W=$(mktemp -d "${DOCBUS_TEST_TMP:-/tmp}/$1-XXXXXX" 2>/dev/null || mktemp -d "/tmp/$1-XXXXXX")
  P="f$(date +%s%N | tail -c 7)$RANDOM."
  # Aggregator transactions of 10,000 messages (the default is 100,000): the faults land
  # after an aggregator's first commit, and the datasets (86k-215k messages) must leave
  # it committed work behind and counting still to do. A group that stops moving for
  # 60 s (not the default 120 s) ends an --until-caught-up run with exit 4, which the
  # tests re-run (fl_aggregate_until_done) well inside the runner's 600 s.
  X=(-X "bootstrap.servers=$DOCBUS_BOOTSTRAP" -X "docbus.pki.dir=$W/pki"
     -X "docbus.state.dir=$W/state" -X "docbus.topic.prefix=$P"
     -X "docbus.aggregate.group=${P}agg" -X docbus.aggregate.commit.messages=10000
     -X docbus.aggregate.stall.timeout.ms=60000)
  trap fl_cleanup EXIT
  fl_log "work dir $W, topic prefix $P, broker $DOCBUS_BOOTSTRAP ($FL_KAFKA_DIR)"
}

# Restores the runner's broker (running, not paused) and kills our background jobs.
fl_cleanup() {
  local pid
  for pid in "${FL_BG_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  pid=$(fl_broker_pid)
  [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
  fl_broker_answers || fl_broker_start >/dev/null 2>&1
  [ "${FAULT_KEEP:-0}" = 1 ] || rm -rf "$W"
}

fl_broker_pid() { cat "$FL_KAFKA_DIR/broker.pid" 2>/dev/null; }

fl_broker_answers() {
  timeout 5 kcat -b "$DOCBUS_BOOTSTRAP" -X allow.auto.create.topics=false -L -t __none -m 3 \
    >/dev/null 2>&1
}

# Starts the broker again. Where Linux's ephemeral range (net.ipv4.ip_local_port_range)
# holds the broker's ports - some machines widen it to 1024-65535; Debian's default
# 32768-60999 does not - connect() walks that range per destination: a client
# reconnecting to the dead broker can get the broker's own port as its source port (a
# TCP self-connect, 127.0.0.1:P <-> 127.0.0.1:P) and the broker cannot bind. While the
# broker starts, a sweeper closes such self-connected sockets (ss -K).
fl_broker_start() {
  local i sweeper rc=1
  ( while :; do
      ss -K -t "sport = :$FL_PORT and dport = :$FL_PORT" >/dev/null 2>&1
      ss -K -t "sport = :$FL_CPORT and dport = :$FL_CPORT" >/dev/null 2>&1
      sleep 0.1
    done ) &
  sweeper=$!
  for ((i = 1; i <= 4; i++)); do
    if DOCBUS_KAFKA_DIR=$FL_KAFKA_DIR DOCBUS_KAFKA_PORT=$FL_PORT \
       DOCBUS_KAFKA_CONTROLLER_PORT=$FL_CPORT "$FL_LOCAL" start >/dev/null \
       2>"${W:-/tmp}/broker-start.log"; then
      rc=0
      break
    fi
    grep -q "already in use" "${W:-/tmp}/broker-start.log" || break
    fl_log "broker start: port $FL_PORT busy, retry $i: $(ss -tan 2>/dev/null |
      awk -v p=":$FL_PORT" '$4 ~ p"$" {print $1, $4, $5}' | head -3 | tr '\n' ';')"
    sleep 1
  done
  kill "$sweeper" 2>/dev/null
  wait "$sweeper" 2>/dev/null
  [ $rc = 0 ] || { tail -5 "${W:-/tmp}/broker-start.log"; return $rc; }
  fl_wait_leaders
}

# Waits (up to 90 s) until every partition of our topics and of the internal topics
# has a leader and no error again: after a crash the broker answers metadata requests
# before it has loaded and led every partition ("Not leader for partition").
fl_wait_leaders() {
  local i md
  for ((i = 0; i < 180; i++)); do
    md=$(timeout 10 kcat -b "$DOCBUS_BOOTSTRAP" -L 2>/dev/null) || { sleep 0.5; continue; }
    if ! awk -v p="${P:-}" '
        /^  topic "/ { t = $2; gsub(/"/, "", t); mine = (index(t, p) == 1 || t ~ /^__/) ;
                       if (mine && /[Ee]rror/) bad = 1 }
        /^    partition / && mine && (/leader -1/ || /[Ee]rror/) { bad = 1 }
        END { exit bad }' <<< "$md"; then
      sleep 0.5
      continue
    fi
    return 0
  done
  fl_bad "partitions still without a leader 90 s after the broker restart"
  return 1
}

# kill -9 the broker and wait until the process is gone.
fl_broker_kill9() {
  local pid i
  pid=$(fl_broker_pid)
  [ -n "$pid" ] || { fl_bad "no broker pid in $FL_KAFKA_DIR/broker.pid"; return 1; }
  kill -9 "$pid"
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  fl_bad "broker pid $pid survived kill -9"
}

# fl_pki JSONL: a root CA and a certificate for every unit producing in JSONL.
fl_pki() {
  "$DOCBUS" pki init --dir "$W/pki" >/dev/null 2>&1 || { fl_bad "pki init"; return 1; }
  python3 - "$1" > "$W/units.txt" <<'EOF'
import json, sys
u = set()
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    t = r["type"]
    u.add(r["from"]["code"] if t == "document" else r["from"] if t == "status" else r["unit"])
print("\n".join(sorted(u)))
EOF
  local u
  while read -r u; do
    "$DOCBUS" pki issue --dir "$W/pki" --unit "$u" --name "Unit $u" >/dev/null 2>&1 \
      || { fl_bad "pki issue $u"; return 1; }
  done < "$W/units.txt"
}

# fl_dataset SCALE SEED: $W/in.jsonl, its PKI, and $FL_MSGS = Kafka messages it makes
# (a document goes to each recipient's inbox; statuses and events are one message).
fl_dataset() {
  "$DOCBUS" simulate --scale "$1" --seed "${2:-1}" --out "$W/in.jsonl" || { fl_bad "simulate"; return 1; }
  fl_pki "$W/in.jsonl" || return 1
  read -r FL_LINES FL_MSGS < <(python3 -c '
import json, sys
n = m = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line); n += 1
    m += len(r["to"]) if r["type"] == "document" else 1
print(n, m)' "$W/in.jsonl")
  fl_log "dataset: scale $1, $FL_LINES records, $FL_MSGS Kafka messages"
}

# fl_bg VAR CMD...: runs CMD in the background, its pid in VAR (killed on exit).
fl_bg() {
  local var=$1
  shift
  "$@" &
  printf -v "$var" '%s' $!
  FL_BG_PIDS+=("$!")
}

# fl_wait_log FILE PATTERN PID: waits (at most 30 s) until FILE has a line matching
# PATTERN, for a fault to land while PID is at work; 0 when the line came and PID still
# runs, 1 when PID ended first (or nothing came).
fl_wait_log() {
  local t
  for ((t = 0; t < 300; t++)); do
    if grep -q -- "$2" "$1" 2>/dev/null; then
      kill -0 "$3" 2>/dev/null
      return
    fi
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# fl_wait_for_file_lines FILE N TIMEOUT: waits until FILE exists (for progress markers).
fl_sleep_random() { # MIN_MS MAX_MS
  local ms=$(( $1 + RANDOM % ($2 - $1 + 1) ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# fl_aggregate_until_done [extra args]: aggregate --until-caught-up, re-run on a broker
# exit (4) up to 5 times. Returns the last exit code.
fl_aggregate_until_done() {
  local rc i
  for ((i = 1; i <= 5; i++)); do
    "$DOCBUS" aggregate --until-caught-up --json "${X[@]}" "$@" > "$W/agg-final.json" \
      2> "$W/agg-final.err"
    rc=$?
    [ $rc = 0 ] && return 0
    fl_log "aggregate exited $rc (try $i): $(tail -1 "$W/agg-final.err")"
    [ $rc = 4 ] || return $rc
    sleep 2
  done
  return $rc
}

# fl_check_exact LABEL: the committed counts (report --format json) and an audit of the
# input topics equal an independent count over $W/in.jsonl: every figure of
# simulate_figures.py, docs.exchanged per quarter series; prints losses and double counts.
fl_check_exact() {
  local label=$1 rc
  if ! "$DOCBUS" report --quarter 2018-Q1 --format json "${X[@]}" > "$W/report.json" \
       2> "$W/report.err"; then
    fl_bad "$label: report exited non-zero: $(cat "$W/report.err")"
    return 1
  fi
  python3 - "$FL_FIGURES_PY" "$W/in.jsonl" "$W/report.json" "$label" <<'EOF'
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("sf", sys.argv[1])
sf = importlib.util.module_from_spec(spec); spec.loader.exec_module(sf)
with open(sys.argv[2], encoding="utf-8") as f:
    want, _ = sf.count(f)
figs = json.load(open(sys.argv[3], encoding="utf-8"))["figures"]
lost = double = checked = 0
bad = []
for fid, w in sorted(want.items()):
    if fid not in figs:
        bad.append(f"{fid}: missing from the report"); continue
    g = figs[fid]["value"]
    checked += 1
    if g != w:
        bad.append(f"{fid}: report {g}, input {w}")
        if g < w: lost += w - g
        else: double += g - w
print(f"{sys.argv[4]}: {checked} figures checked against the input, losses {lost}, "
      f"double counts {double}")
for b in bad: print("  MISMATCH " + b)
sys.exit(1 if bad else 0)
EOF
  rc=$?
  [ $rc = 0 ] || fl_bad "$label: counts differ from the input"
  return $rc
}

# fl_check_audit LABEL [exact]: docbus audit of the whole history proves every message
# it reads and its recount agrees with docbus.counts; with "exact", the audit must be
# clean and read exactly $FL_MSGS messages (no resend happened); without, resends after
# a failed import may show as findings (seq gaps of the undelivered seqs).
fl_check_audit() {
  local label=$1 mode=${2:-} rc
  "$DOCBUS" audit --from 2010-01-01 --json "${X[@]}" > "$W/audit.json" 2> "$W/audit.err"
  rc=$?
  python3 - "$W/audit.json" "$FL_MSGS" "$label" "$rc" "$mode" <<'EOF'
import json, sys
label, want, rc, exact = sys.argv[3], int(sys.argv[2]), int(sys.argv[4]), sys.argv[5] == "exact"
try:
    a = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"{label}: audit output unreadable ({e}), exit {rc}"); sys.exit(1)
print(f"{label}: audit {a.get('verdict')}, {a.get('messages')} messages read, "
      f"{a.get('verified')} verified, {a.get('findings_total')} findings (input made {want})")
ok = rc in (0, 6) and a.get("verified") == a.get("messages") and a.get("messages", 0) >= want
if exact:
    ok = ok and rc == 0 and a.get("verdict") == "clean" and a.get("messages") == want
# resent batches after a fault are benign duplicates; anything else is a finding to show
for f in a.get("findings", [])[:10]:
    print("  finding:", json.dumps(f)[:300])
sys.exit(0 if ok else 1)
EOF
  [ $? = 0 ] || { fl_bad "$label: audit did not prove every message"; return 1; }
}

fl_finish() {
  if [ "$FL_FAIL" = 0 ]; then fl_log "ok"; else fl_log "FAILED (work dir kept: $W)"; FAULT_KEEP=1; fi
  exit "$FL_FAIL"
}
