#!/usr/bin/env bash
# two_aggregators.sh - two aggregator instances share the input; one is killed
# (kill -9) mid-run: after its first commit (its -v lines say so), plus 0-200 ms. The
# other takes over its partitions after the session timeout and finishes; counts and
# audit equal an independent count of the input. FAULT_SCALE (default 0.04, ~170k
# messages: a has ~1 s of counting left after its first commit).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init two_aggregators
fl_dataset "${FAULT_SCALE:-0.04}" 7 || fl_finish
"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import.err" || { fl_bad "import"; fl_finish; }
X+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
fl_bg a "$DOCBUS" aggregate -v --until-caught-up --json --instance a "${X[@]}" > "$W/a.json" 2> "$W/a.err"
fl_bg b "$DOCBUS" aggregate --until-caught-up --json --instance b "${X[@]}" > "$W/b.json" 2> "$W/b.err"
fl_wait_log "$W/a.err" 'committed (' "$a"
fl_sleep_random 0 200
if kill -9 "$a" 2>/dev/null; then
  fl_log "instance a killed after $(grep -c 'committed (' "$W/a.err") commits of its own"
else
  fl_bad "instance a finished before it could be killed (dataset too small?)"
fi
wait "$a" 2>/dev/null
wait "$b"; rc=$?
fl_log "instance b exited $rc: $(cat "$W/b.json")"
[ $rc = 0 ] || fl_bad "surviving instance b exited $rc"
fl_check_exact "two aggregators, one killed"
fl_check_audit "two aggregators, one killed" exact
fl_finish
