#!/usr/bin/env bash
# simulate_figures.sh - `docbus simulate` reproduces the Q1/2018 figures: counts every
# figure over the JSON Lines with an independent checker (simulate_figures.py), for two
# seeds; checks determinism, the checker's ability to fail, and usage errors.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
DOCBUS=${DOCBUS:-$BUILD/docbus}
FIGURES=${FIGURES:-tests/golden/figures-2018q1.md}
SCALE=${SCALE:-0.01}
CHECK=tests/it/simulate_figures.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
note() { printf '%s\n' "$*"; }
bad() { printf 'FAIL: %s\n' "$*"; fail=1; }

[ -x "$DOCBUS" ] || { note "FAIL: $DOCBUS not built"; exit 1; }
[ -r "$FIGURES" ] || { note "FAIL: figures file $FIGURES not readable (set FIGURES=)"; exit 1; }

for seed in 7 11; do
  note "== seed $seed, scale $SCALE"
  if ! "$DOCBUS" simulate --scale "$SCALE" --seed "$seed" > "$tmp/s$seed.jsonl"; then
    bad "simulate --seed $seed exited $?"
    continue
  fi
  python3 "$CHECK" "$FIGURES" "$SCALE" < "$tmp/s$seed.jsonl" || bad "figures differ for seed $seed"
done

note "== determinism"
"$DOCBUS" simulate --scale "$SCALE" --seed 7 --out "$tmp/again.jsonl" || bad "simulate --out failed"
cmp -s "$tmp/s7.jsonl" "$tmp/again.jsonl" || bad "seed 7 twice gave different output"
cmp -s "$tmp/s7.jsonl" "$tmp/s11.jsonl" && bad "seeds 7 and 11 gave identical output"
ls "$tmp"/again.jsonl.tmp.* >/dev/null 2>&1 && bad "--out left a temporary file"

note "== the checker can fail"
awk '/PenaltyDecision/ && !done && /2018-0[1-3]/ { done = 1; next } { print }' "$tmp/s7.jsonl" \
  > "$tmp/mutant.jsonl"
if python3 "$CHECK" "$FIGURES" "$SCALE" < "$tmp/mutant.jsonl" > "$tmp/mutant.out"; then
  bad "checker accepted a dataset with one penalty decision removed"
else
  grep -q "penalty.decisions: counted 12" "$tmp/mutant.out" || bad "checker did not name penalty.decisions"
fi

note "== usage errors exit 2"
for args in "--profile hcmc-2019q1" "--scale 0" "--scale abc" "--scale 1000" "--scale 0.0001" "--seed -1"; do
  # shellcheck disable=SC2086
  "$DOCBUS" simulate $args > /dev/null 2> "$tmp/err"
  rc=$?
  [ $rc = 2 ] || bad "simulate $args exited $rc, expected 2"
  [ -s "$tmp/err" ] || bad "simulate $args printed no message"
done

[ $fail = 0 ] && note "simulate_figures: ok"
exit $fail
