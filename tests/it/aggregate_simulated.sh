#!/usr/bin/env bash
# aggregate_simulated.sh - the hcmc-2018q1 pipeline at scale 0.002 on the real broker:
# `docbus simulate` -> `import` -> `aggregate --until-caught-up` -> `report --quarter
# 2018-Q1 --format json`. Every figure id of reference/figures-2018q1.md in the report
# equals both the plain count over the JSON Lines and the scaled target, both computed
# by the colleague's independent checker (tests/it/simulate_figures.py, imported as a
# module); the report has the 4 programme tasks and the 6 highlights of the appendices.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init aggregate_simulated

SCALE=0.002
FIGURES=${FIGURES:-$ROOT/tests/golden/figures-2018q1.md}
[ -r "$FIGURES" ] || die "figures file $FIGURES not readable (set FIGURES=)"

"$DOCBUS" simulate --scale $SCALE --seed 5 --out sim.jsonl 2> sim.err || die "simulate: $(cat sim.err)"
note "$(wc -l < sim.jsonl) lines"
pki_for_jsonl sim.jsonl
db import sim.jsonl --json > imp.json 2> imp.err
check_eq "import exit code" 0 "$?"
check_eq "import: every line valid and delivered" "$(wc -l < sim.jsonl) 0 $(wc -l < sim.jsonl)" \
    "$(jq -r '"\(.valid) \(.rejected) \(.delivered)"' imp.json)"
# small transactions, so that the figures below are exact across many commits; a small
# prefetch queue, so that librdkafka's fetcher pauses on it again and again and the
# aggregator must wake it (kafka_refill) for the input to keep coming
aggregate_run agg.json -X docbus.aggregate.commit.messages=1500 -X queued.min.messages=300 -v
check_eq "aggregate exit code" 0 "$?"
# the last transaction closes as soon as every partition is read to its end offset at
# start, not after a poll waiting for more (the figures below show it counted them all)
check_eq "aggregate: the end seen by reading to the targets" 1 \
    "$(grep -c 'every assigned partition read to its target' agg.json.err)"
check_eq "aggregate: the paused fetcher was woken" true "$(jq -r '.fetcher_wakeups > 0' agg.json)"
check_eq "aggregate: nothing rejected, no duplicates" "0 0" "$(jq -r '"\(.rejected) \(.duplicates)"' agg.json)"
check_eq "aggregate: a transaction per 1,500 messages at least" true \
    "$(jq -r '.transactions >= ((.consumed + 1499) / 1500 | floor)' agg.json)"
db report --quarter 2018-Q1 --format json > report.json 2> report.err
check_eq "report exit code" 0 "$?"

# The independent side: simulate_figures.py's own parser, scaled targets and plain count.
python3 - "$IT_LIB_DIR" "$FIGURES" "$SCALE" sim.jsonl report.json <<'EOF' > compare.txt
import json, sys
sys.path.insert(0, sys.argv[1])
import simulate_figures as sf
figs, step = sf.parse_figures(sys.argv[2])
want = sf.targets(figs, step, float(sys.argv[3]))
with open(sys.argv[4], encoding="utf-8") as f:
    counted, extra = sf.count(f)
report = json.load(open(sys.argv[5], encoding="utf-8"))
for fid in sorted(want):
    lo, hi = want[fid]
    got = report["figures"].get(fid, {}).get("value")
    verdict = "ok" if got == counted.get(fid) and lo <= (got if got is not None else -1) <= hi else "FAIL"
    print(f"{verdict} {fid}: report {got}, plain count {counted.get(fid)}, target [{lo}, {hi}]")
print(f"{'ok' if len(report.get('tasks', [])) == extra['tasks'] == 4 else 'FAIL'} appendix 1 tasks: "
      f"report {len(report.get('tasks', []))}, plain count {extra['tasks']}, expected 4")
print(f"{'ok' if len(report.get('highlights', [])) == len(extra['highlights']) == 6 else 'FAIL'} "
      f"appendix 2 highlights: report {len(report.get('highlights', []))}, "
      f"plain count {len(extra['highlights'])}, expected 6")
EOF
check_eq "independent checker exit code" 0 "$?"
sed 's/^/    /' compare.txt
check_eq "figures compared" 21 "$(wc -l < compare.txt)"
check_eq "figures that differ" "" "$(grep -v '^ok ' compare.txt | cut -d: -f1 | xargs)"

it_done
