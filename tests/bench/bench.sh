#!/usr/bin/env bash
# bench.sh - `make bench`: docbus against its physical peers on the local real broker,
# each pair measured in the same run, repeated, median ratio (docbus rate / peer rate).
#   tests/bench/bench.sh [--json] [--reps N]
# Environment:
#   BENCH_N       messages per micro-benchmark pair (default 200000)
#   BENCH_SCALE   simulate --scale of the produce/aggregate/audit input (default 0.1,
#                 ~288k records: ~311k Kafka messages timed on import after a warm-up
#                 of ~78k records, ~426k read;
#                 at 0.03 the peers' start-up was a third of their time)
#   BENCH_REPS    repetitions of each pair (default 3, at least 3)
#   BENCH_WARM    extra imports of the timed input in the first untimed round, so that
#                 the broker's JIT has compiled its produce path (default 6)
#   BENCH_WARM_ROUNDS  untimed broker rounds before the timed ones (default 2, at least 1)
#   BENCH_FULL=1  also the full hcmc-2018q1 pipeline at scale 1.0 (2.78M documents):
#                 wall time and peak memory of import, aggregate, report and a 2018-Q1
#                 audit (about three minutes more on the 2-core bench machine)
#   DOCBUS_BOOTSTRAP  broker (default 127.0.0.1:19092; started with local.sh if down)
# Writes the table to build/bench/latest.md (and latest.json); prints it (or the JSON).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
DOCBUS=$ROOT/$BUILD/docbus
MICRO=$ROOT/$BUILD/bench/micro
OUT=$ROOT/$BUILD/bench
N=${BENCH_N:-200000}
SCALE=${BENCH_SCALE:-0.1}
REPS=${BENCH_REPS:-3}
WARM_IMPORTS=${BENCH_WARM:-6}
WARM_ROUNDS=${BENCH_WARM_ROUNDS:-2}
JSON=0
BOOT=${DOCBUS_BOOTSTRAP:-127.0.0.1:19092}
while [ $# -gt 0 ]; do
  case $1 in
    --json) JSON=1 ;;
    --reps) REPS=$2; shift ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$REPS" -ge 3 ] || REPS=3
[ "$WARM_ROUNDS" -ge 1 ] 2>/dev/null || WARM_ROUNDS=1
[ -x "$DOCBUS" ] || { echo "bench.sh: $DOCBUS not built (make)" >&2; exit 1; }
[ -x "$MICRO" ] || make --no-print-directory "$BUILD/bench/micro" >&2 || exit 1
for tool in kcat openssl python3; do
  command -v $tool >/dev/null || { echo "bench.sh: $tool not found" >&2; exit 1; }
done
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/work.XXXXXX")
RES=$WORK/results.tsv          # row side rep rate peak_kb n unit
: > "$RES"
started_broker=0
cleanup() {
  [ $started_broker = 1 ] && ./deploy/kafka/local.sh stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { echo "bench: $*" >&2; }

broker_up() {
  timeout 5 kcat -b "$BOOT" -X allow.auto.create.topics=false -L -t __none -m 3 >/dev/null 2>&1
}
if ! broker_up; then
  say "starting the local broker"
  ./deploy/kafka/local.sh start >/dev/null || exit 1
  started_broker=1
  BOOT=127.0.0.1:19092
fi

# The local broker's process, when the bench talks to it: a freshly started broker's JIT
# compiles through a whole bench (its C2 thread took 27 s of CPU in one run of three
# rounds, 2026-11-30) and slows whichever side runs meanwhile, so the timed broker steps
# say how long it compiled during them.
BROKER_PID=""
if [ "$BOOT" = 127.0.0.1:19092 ] && [ -r "${DOCBUS_KAFKA_DIR:-deploy/kafka/run}/broker.pid" ]; then
  BROKER_PID=$(cat "${DOCBUS_KAFKA_DIR:-deploy/kafka/run}/broker.pid" 2>/dev/null)
  [ -d "/proc/$BROKER_PID/task" ] || BROKER_PID=""
fi
# The CPU time (clock ticks) of the broker's JIT compiler threads so far; 0 without one.
jit_ticks() {
  [ -n "$BROKER_PID" ] || { echo 0; return; }
  local t c sum=0
  for t in /proc/"$BROKER_PID"/task/*; do
    read -r c < "$t/comm" 2>/dev/null || continue   # no fork per broker thread
    case "$c" in C1\ Compiler*|C2\ Compiler*)
      sum=$((sum + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0))) ;;
    esac
  done
  echo "$sum"
}
TICKS=$(getconf CLK_TCK)
# The broker process's CPU time (clock ticks) so far; 0 without one.
broker_ticks() {
  [ -n "$BROKER_PID" ] || { echo 0; return; }
  awk '{print $14 + $15}' "/proc/$BROKER_PID/stat" 2>/dev/null || echo 0
}

# timed CMD...: runs CMD, sets T_WALL (s), T_PEAK (KB, max resident set size) and T_CPU:
# the text " (CPU C s; broker B s, JIT compiling J s)" - CMD's own CPU time, and the
# local broker's meanwhile, of which its JIT compiler threads' (when it compiled). Which
# side's CPU moved tells a slow run of the VM from one of the broker.
timed() {
  local tf=$WORK/time.$$ rc j0 j1 b0 b1 user sys
  j0=$(jit_ticks)
  b0=$(broker_ticks)
  /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@"
  rc=$?
  j1=$(jit_ticks)
  b1=$(broker_ticks)
  read -r T_WALL T_PEAK user sys < "$tf"
  T_CPU=$(awk -v u="$user" -v s="$sys" -v b=$((b1 - b0)) -v j=$((j1 - j0)) -v hz="$TICKS" \
    -v lb="$BROKER_PID" 'BEGIN {
      printf " (CPU %.2f s", u + s
      if (lb != "") printf "; broker %.2f s", b / hz
      if (j > 0) printf ", JIT compiling %.2f s", j / hz
      printf ")" }')
  return $rc
}
# record ROW SIDE REP RATE PEAK N UNIT; repetitions up to 0 are warm-ups and are not kept
record() { [ "$3" -le 0 ] || printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RES"; }

# ---------------------------------------------------------------- input
say "input: simulate --scale $SCALE, PKI for every producing unit"
"$DOCBUS" simulate --scale "$SCALE" --seed 11 --out "$WORK/in.jsonl" || exit 1
"$DOCBUS" simulate --scale 0.01 --seed 12 --out "$WORK/micro.jsonl" || exit 1
# The warm-up (see the broker rounds): the first 8000 records, then every fourth record of
# the rest; the other three quarters are timed.
head -n 8000 "$WORK/in.jsonl" > "$WORK/warm.jsonl"
tail -n +8001 "$WORK/in.jsonl" | awk 'NR % 4 == 1' > "$WORK/warm2.jsonl"
tail -n +8001 "$WORK/in.jsonl" | awk 'NR % 4 != 1' > "$WORK/main.jsonl"
"$DOCBUS" pki init --dir "$WORK/pki" >/dev/null 2>&1 || exit 1
python3 - "$WORK/in.jsonl" > "$WORK/units.txt" <<'EOF'
import json, sys
u = set()
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    t = r["type"]
    u.add(r["from"]["code"] if t == "document" else r["from"] if t == "status" else r["unit"])
print("\n".join(sorted(u)))
EOF
while read -r u; do
  "$DOCBUS" pki issue --dir "$WORK/pki" --unit "$u" --name "Unit $u" >/dev/null 2>&1 || exit 1
done < "$WORK/units.txt"
read -r LINES MSGS < <(python3 -c '
import json, sys
n = m = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line); n += 1
    m += len(r["to"]) if r["type"] == "document" else 1
print(n, m)' "$WORK/main.jsonl")
say "$LINES records -> $MSGS Kafka messages; $N messages per micro pair; $REPS repetitions"

# ---------------------------------------------------------------- micro rows
# micro ROW SIDE DIR [N]: runs one micro driver in this shell (T_PEAK stays visible)
# and sets RATE.
micro() {
  RATE=""
  timed "$MICRO" "$1" "$2" "$WORK/micro.jsonl" "${4:-$N}" "$3" > "$WORK/micro.out" || return 1
  RATE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["per_s"])' "$WORK/micro.out")
}
SHM=/dev/shm/docbus-bench.$$
[ -d /dev/shm ] || SHM=$WORK/shm
for ((r = 1; r <= REPS; r++)); do
  say "micro round $r"
  micro sign docbus "$WORK/m" && record sign docbus $r "$RATE" "$T_PEAK" "$N" msg/s
  micro sign peer "$WORK/m" && record sign peer $r "$RATE" "$T_PEAK" "$N" msg/s
  micro sign docbus "$SHM" && record sign_tmpfs docbus $r "$RATE" "$T_PEAK" "$N" msg/s
  micro sign peer "$WORK/m" && record sign_tmpfs peer $r "$RATE" "$T_PEAK" "$N" msg/s
  micro verify docbus "$WORK/m" && record verify docbus $r "$RATE" "$T_PEAK" "$N" msg/s
  micro verify peer "$WORK/m" && record verify peer $r "$RATE" "$T_PEAK" "$N" msg/s
  # signatures: the batch signer at batch size 1 (state on tmpfs: the crypto, not the disk)
  micro sigs docbus "$SHM" 5000 && record sigs docbus $r "$RATE" "$T_PEAK" 5000 sig/s
  # "253 bits EdDSA (Ed25519)   0.0000s   0.0001s  35000.0  13700.0": sign/s, verify/s last
  timed openssl speed -seconds 2 ed25519 > "$WORK/speed.txt" 2>/dev/null
  sps=$(awk '/Ed25519/ && NF >= 4 { s = $(NF - 1) } END { print s }' "$WORK/speed.txt")
  [ -n "$sps" ] && record sigs peer $r "$sps" "$T_PEAK" "openssl speed" sig/s
done
rm -rf "$SHM"

# ---------------------------------------------------------------- broker rows
# kcat peers use the producer settings docbus forces (idempotent, acks=all, lz4) and
# values of the very sizes docbus produced; consumers read_committed like docbus. The
# producing peer keeps librdkafka's default linger (5 ms): kcat -P waits out linger.ms at
# its end (one value: 0.51 s at 500 ms, 0.01 s at 5 ms), so at docbus import's linger
# (500 ms then, 250 ms now) it idled ~0.4 s of its ~1.0 s; over 5-200 ms it takes ~0.6 s
# for the bench input, flat (one partition fills its batches at any linger). docbus
# import flushes at its end.
KPROD=(-X enable.idempotence=true -X acks=all -X compression.codec=lz4
       -X batch.num.messages=10000 -X queue.buffering.max.messages=500000)

# produce_docbus: the timed import of round r into prefix P, then the sizes of every
# message in the topics (TOTAL, which the consumers read) and kcat's values of the
# sizes of the first MSGS, kept for the next round.
produce_docbus() {
  if timed "$DOCBUS" import -q "$WORK/main.jsonl" "${X[@]}" 2> "$WORK/import.err"; then
    record produce docbus $r "$(python3 -c "print($MSGS / $T_WALL)")" "$T_PEAK" "$MSGS" msg/s
    say "  import: ${T_WALL} s${T_CPU}"
  else
    say "import failed: $(tail -1 "$WORK/import.err")"
  fi
  kcat -b "$BOOT" -G "${P}sizes" -X auto.offset.reset=earliest -e -q -f '%S\n' \
    "^${P//./\\.}inbox\\..*" "${P}events" > "$WORK/sizes.txt" 2>/dev/null
  TOTAL=$(wc -l < "$WORK/sizes.txt")
  python3 - "$WORK/sizes.txt" "$WORK/values.txt" "$MSGS" <<'EOF'
import base64, os, sys
# random base64 text (no newline). LZ4 cannot shrink it (267 of 270 MB stored), while the
# envelopes shrink 2:1; the peer producing the envelopes' own bytes instead (kcat -D)
# took as long (median 1.13 against 1.15 s, 5 runs each, 2026-11-29): kept simple.
sizes = [int(line) for line in open(sys.argv[1])][:int(sys.argv[3])]
with open(sys.argv[2], "wb") as out:
    for n in sizes:
        out.write(base64.b64encode(os.urandom(n))[:n] + b"\n")
EOF
}

# produce_peer: kcat -P of the values produce_docbus wrote last (every round imports the
# same input, so their sizes differ from this round's by a few bytes at most), as many as
# the timed import's messages, into one topic of prefix P.
produce_peer() {
  if timed kcat -P -l -b "$BOOT" -t "${P}kcat" "${KPROD[@]}" "$WORK/values.txt"; then
    record produce peer $r "$(python3 -c "print($MSGS / $T_WALL)")" "$T_PEAK" "$MSGS" msg/s
    say "  kcat -P: ${T_WALL} s${T_CPU}, $(wc -c < "$WORK/values.txt") bytes"
  fi
}

# aggregate_docbus / audit_docbus: docbus aggregate / audit of every message of round r.
aggregate_docbus() {
  if timed "$DOCBUS" aggregate -q --until-caught-up "${X[@]}" > /dev/null 2> "$WORK/agg.err"; then
    record aggregate docbus $r "$(python3 -c "print($TOTAL / $T_WALL)")" "$T_PEAK" "$TOTAL" msg/s
    say "  aggregate: ${T_WALL} s${T_CPU}"
  else
    say "aggregate failed: $(tail -1 "$WORK/agg.err")"
  fi
}
audit_docbus() {
  if timed "$DOCBUS" audit -q --from 2010-01-01 "${X[@]}" > /dev/null 2> "$WORK/audit.err"; then
    record audit docbus $r "$(python3 -c "print($TOTAL / $T_WALL)")" "$T_PEAK" "$TOTAL" msg/s
    say "  audit: ${T_WALL} s${T_CPU}"
  else
    say "audit exited non-zero: $(tail -1 "$WORK/audit.err")"
  fi
}

# read_peer ROW GROUP: kcat -C of the round's topics, as consumer group GROUP, as ROW's peer.
read_peer() {
  if timed kcat -b "$BOOT" -G "${P}$2" -X auto.offset.reset=earliest \
       -X isolation.level=read_committed -e -q \
       "^${P//./\\.}inbox\\..*" "${P}events" > /dev/null 2>&1; then
    record "$1" peer $r "$(python3 -c "print($TOTAL / $T_WALL)")" "$T_PEAK" "$TOTAL" msg/s
    say "  kcat -C ($1's peer): ${T_WALL} s${T_CPU}"
  fi
}

# in_turn DOCBUS_STEP PEER_STEP: the two sides of a pair, one after the other. Which
# goes first alternates: docbus in the warm-ups and odd rounds, the peer in even ones.
# The side going second meets the broker as the first left it: in 28 bench-like rounds
# on one broker (2026-11-30, docs/bench.md, sixteenth session) kcat -P took 1.05 and
# 1.32 s in the median going second, 1.21 and 1.63 s going first; docbus import
# 2.33-2.54 s either way. Always going first, docbus left its peer the better place.
in_turn() {
  # each argument is a command line: split on purpose
  if [ $r -gt 0 ] && [ $((r % 2)) = 0 ]; then
    $2
    $1
  else
    $1
    $2
  fi
}

have_audit=0
"$DOCBUS" audit --help >/dev/null 2>&1 && have_audit=1
# The first rounds are run and not recorded: a broker that has just started compiles its
# hot paths as it goes (the first two imports of the bench input cost it ~7.5 s of CPU
# each, later ones ~3.5 s), and docbus, going first in round 1, would pay for that
# while kcat found the broker warm. One import was not enough: over eight
# rounds of warm-ups and a timed import on a fresh broker, the broker's CPU in the timed
# import fell from 2.5-2.7 s to 0.7-0.9 s (its C2 compiler threads and G1's concurrent
# marking busy in the early rounds; the same with a 1 GiB heap), and the import's wall
# time with it from 3.4 to 2.6 s, its own CPU unchanged (2026-11-30). So the first round
# also imports the timed input BENCH_WARM more times. Nor was one such round enough: the
# JIT lines below showed the broker compiling for 1.67 s of round 1's 3.40 s import, 0.36 s
# in round 2 and 0.04 s in round 3 (kcat -P: 0.48, 0.08, 0.21 s; 2026-11-30). With a
# second untimed round it compiled for 1.40 s of that round's import and 0.01-0.46 s of
# the timed ones. So BENCH_WARM_ROUNDS (2) untimed rounds come first, numbered up to 0.
first=$((1 - WARM_ROUNDS))
for ((r = first; r <= REPS; r++)); do
  P="bench$(date +%s)r$r."
  [ $r -le 0 ] && P="bench$(date +%s)w$((r - first))."   # warm-up rounds: w0, w1, ...
  X=(-X "bootstrap.servers=$BOOT" -X "docbus.pki.dir=$WORK/pki" -X "docbus.state.dir=$WORK/state$r"
     -X "docbus.topic.prefix=$P" -X "docbus.aggregate.group=${P}agg")
  if [ $r = $first ]; then
    say "broker round $r (prefix $P): a warm-up, not recorded (the timed input $((WARM_IMPORTS + 1)) times)"
  elif [ $r -le 0 ]; then
    say "broker round $r (prefix $P): a warm-up, not recorded"
  else
    say "broker round $r (prefix $P)"
  fi
  # Steady state, as in a deployment that has run for a while: the topics exist (made
  # once with `docbus topics apply`) and hold data. The first writes into each of the
  # ~200 fresh partitions cost the broker more, which a peer writing one topic never
  # pays, so both sides write a warm-up first, in two runs each: Kafka writes a segment's
  # first index entry with its second batch (index.interval.bytes), and the first touch
  # of each fresh memory-mapped index file is a page fault with read-ahead that cost the
  # broker ~3.6 ms of system time (392 index files: 1.4 s, which a one-run warm-up left
  # inside the timed import). docbus: the first 8000 records, then every fourth record of
  # the rest, the other three quarters timed; kcat: two runs of 1000 values. Aggregate and
  # audit then read the warm-up too: their rates count every message in the topics (TOTAL).
  "$DOCBUS" topics apply -q --replication-factor 1 "${X[@]}" > /dev/null || say "topics apply failed"
  warmups=(warm warm2)
  for ((k = 0; r == first && k < WARM_IMPORTS; k++)); do warmups+=(main); done
  for w in "${warmups[@]}"; do
    "$DOCBUS" import -q "$WORK/$w.jsonl" "${X[@]}" 2> "$WORK/import.err" ||
      say "warm-up import failed: $(tail -1 "$WORK/import.err")"
  done
  for w in 1 2; do seq 1 1000 | kcat -P -b "$BOOT" -t "${P}kcat" 2>/dev/null; done
  in_turn produce_docbus produce_peer
  in_turn aggregate_docbus "read_peer aggregate kcat-c"
  [ $have_audit = 1 ] && in_turn audit_docbus "read_peer audit kcat-a"
done

# ---------------------------------------------------------------- full scale
FULL=$WORK/full.tsv
: > "$FULL"
if [ "${BENCH_FULL:-0}" = 1 ]; then
  say "full scale: simulate --scale 1.0"
  P="benchfull$(date +%s)."
  X=(-X "bootstrap.servers=$BOOT" -X "docbus.pki.dir=$WORK/pki" -X "docbus.state.dir=$WORK/statefull"
     -X "docbus.topic.prefix=$P" -X "docbus.aggregate.group=${P}agg")
  timed "$DOCBUS" simulate --scale 1.0 --seed 1 --out "$WORK/full.jsonl" &&
    printf 'simulate\t%s\t%s\n' "$T_WALL" "$T_PEAK" >> "$FULL"
  while read -r u; do
    "$DOCBUS" pki issue --dir "$WORK/pki" --unit "$u" --name "Unit $u" >/dev/null 2>&1
  done < <(comm -13 "$WORK/units.txt" <(python3 -c '
import json, sys
u = set()
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line); t = r["type"]
    u.add(r["from"]["code"] if t == "document" else r["from"] if t == "status" else r["unit"])
print("\n".join(sorted(u)))' "$WORK/full.jsonl"))
  FLINES=$(wc -l < "$WORK/full.jsonl")
  timed "$DOCBUS" import -q "$WORK/full.jsonl" "${X[@]}" &&
    printf 'import (%s records)\t%s\t%s\n' "$FLINES" "$T_WALL" "$T_PEAK" >> "$FULL"
  timed "$DOCBUS" aggregate -q --until-caught-up "${X[@]}" > /dev/null &&
    printf 'aggregate\t%s\t%s\n' "$T_WALL" "$T_PEAK" >> "$FULL"
  timed "$DOCBUS" report --quarter 2018-Q1 --format json "${X[@]}" > "$OUT/full-report.json" &&
    printf 'report\t%s\t%s\n' "$T_WALL" "$T_PEAK" >> "$FULL"
  if [ $have_audit = 1 ]; then
    timed "$DOCBUS" audit -q --from 2018-Q1 "${X[@]}" > /dev/null &&
      printf 'audit 2018-Q1\t%s\t%s\n' "$T_WALL" "$T_PEAK" >> "$FULL"
  fi
  rm -f "$WORK/full.jsonl"
fi

# ---------------------------------------------------------------- table
"$DOCBUS" version --json > "$WORK/version.json" 2>/dev/null || echo '{}' > "$WORK/version.json"
python3 - "$RES" "$FULL" "$OUT/latest.md" "$OUT/latest.json" "$JSON" "$have_audit" \
  "$N" "$LINES" "$MSGS" "$SCALE" "$REPS" "$WORK/version.json" <<'EOF'
import json, platform, statistics, subprocess, sys, time
res, full, md_path, json_path, as_json, have_audit = sys.argv[1:7]
n_micro, lines, msgs, scale, reps, version_path = sys.argv[7:]
version = json.load(open(version_path))
rows = {}
for line in open(res):
    row, side, rep, rate, peak, n, unit = line.rstrip("\n").split("\t")
    rows.setdefault(row, {}).setdefault(rep, {})[side] = (float(rate), int(peak or 0), n, unit)
what = {
    "sign": ("sign+encode", "batch signer (512/batch, seq state fsync'd on disk)", "Avro-C encode of the body"),
    "sign_tmpfs": ("sign+encode, state on tmpfs", "batch signer, seq state on /dev/shm", "Avro-C encode of the body"),
    "verify": ("verify+decode", "verifier_check (proof, cached signature, cert, body)", "Avro-C decode of the body"),
    "produce": ("produce", "docbus import (signed, to every inbox)", "kcat -P, same count and sizes"),
    "aggregate": ("aggregate", "docbus aggregate --until-caught-up", "kcat -C -e (read_committed) > /dev/null"),
    "audit": ("audit", "docbus audit (whole history)", "kcat -C -e (read_committed) > /dev/null"),
    "sigs": ("signatures", "batch signer at batch size 1, signatures/s", "openssl speed ed25519 (sign/s)"),
}
out = []
for key in ["sign", "sign_tmpfs", "verify", "sigs", "produce", "aggregate", "audit"]:
    name, dside, pside = what[key]
    if key not in rows:
        if key == "audit" and have_audit != "1":
            out.append({"row": name, "na": "n/a (audit not built)"})
        continue
    pairs = [v for v in rows[key].values() if "docbus" in v and "peer" in v]
    if not pairs:
        out.append({"row": name, "na": "n/a (a run failed)"}); continue
    ratios = [p["docbus"][0] / p["peer"][0] for p in pairs]
    d = statistics.median(p["docbus"][0] for p in pairs)
    pr = statistics.median(p["peer"][0] for p in pairs)
    out.append({"row": name, "docbus": dside, "peer": pside, "n": pairs[0]["docbus"][2],
                "docbus_rate": round(d, 1), "peer_rate": round(pr, 1), "unit": pairs[0]["docbus"][3],
                "ratio_median": round(statistics.median(ratios), 3),
                "ratios": [round(r, 3) for r in ratios],
                "docbus_peak_kb": max(p["docbus"][1] for p in pairs),
                "peer_peak_kb": max(p["peer"][1] for p in pairs)})
fulls = [l.rstrip("\n").split("\t") for l in open(full)] if full else []
cpu = "?"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip(); break
except OSError:
    pass
import os
machine = f"{platform.node()}: {os.cpu_count()} CPU ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.system()} {platform.release()}"
build = ", ".join(f"{k} {version[k]}" for k in ("docbus", "librdkafka", "allocator") if k in version)
doc = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine, "build": version, "micro_n": int(n_micro),
       "records": int(lines), "messages": int(msgs), "scale": float(scale), "repetitions": int(reps),
       "rows": out, "full_scale": [{"step": s, "wall_s": float(w), "peak_kb": int(p)} for s, w, p in fulls]}
json.dump(doc, open(json_path, "w"), indent=1)
md = [f"docbus bench, {doc['date']}, {machine}" + (f"; {build}" if build else ""),
      f"micro rows: {n_micro} messages per run; broker rows: simulate --scale {scale}, {lines} records timed on import ({msgs} Kafka messages; the rest a warm-up); "
      f"each pair run {reps} times, ratio = docbus rate / peer rate (median of the per-run ratios); peak = max resident set size",
      "",
      "| row | docbus | peer | N | docbus rate | peer rate | ratio (median) | docbus peak | peer peak |",
      "|---|---|---|---|---|---|---|---|---|"]
for o in out:
    if "na" in o:
        md.append(f"| {o['row']} | {o['na']} | | | | | | | |"); continue
    md.append(f"| {o['row']} | {o['docbus']} | {o['peer']} | {o['n']} | {o['docbus_rate']:,.0f} {o['unit']} | "
              f"{o['peer_rate']:,.0f} {o['unit']} | {o['ratio_median']:.2f} ({', '.join(f'{r:.2f}' for r in o['ratios'])}) | "
              f"{o['docbus_peak_kb'] / 1024:.0f} MiB | {o['peer_peak_kb'] / 1024:.0f} MiB |")
if fulls:
    md += ["", "Full scale (hcmc-2018q1, --scale 1.0):", "", "| step | wall | peak memory |", "|---|---|---|"]
    md += [f"| {s} | {float(w):.1f} s | {int(p) / 1024:.0f} MiB |" for s, w, p in fulls]
open(md_path, "w").write("\n".join(md) + "\n")
print(json.dumps(doc, indent=1) if as_json == "1" else "\n".join(md))
EOF
