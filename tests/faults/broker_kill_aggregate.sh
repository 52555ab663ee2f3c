#!/usr/bin/env bash
# broker_kill_aggregate.sh - the broker is killed (kill -9) during `docbus aggregate`
# (after the aggregator's first commit, +0-300 ms) and restarted: the aggregator
# finishes (or exits 4 and a re-run finishes) and the committed counts and an audit
# equal an independent count of the input.
# FAULT_SCALE (default 0.02, ~86k messages) sizes the dataset.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init broker_kill_aggregate
fl_dataset "${FAULT_SCALE:-0.02}" 4 || fl_finish
"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import.err" || { fl_bad "import"; fl_finish; }
X+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)

fl_bg agg "$DOCBUS" aggregate -v --until-caught-up --json "${X[@]}" > "$W/agg1.json" 2> "$W/agg1.err"
fl_wait_log "$W/agg1.err" 'committed (' "$agg" || fl_bad "the aggregator ended before its first commit"
fl_sleep_random 0 300
kill -0 "$agg" 2>/dev/null || fl_bad "the aggregator finished before the broker kill (dataset too small?)"
fl_log "kill -9 broker during aggregate ($(grep -c 'committed (' "$W/agg1.err") transactions committed)"
fl_broker_kill9
sleep 1
fl_broker_start || fl_bad "broker restart"
wait "$agg"; rc=$?
fl_log "aggregate during the kill exited $rc: $(grep -v '^%' "$W/agg1.err" | tail -1)"
case $rc in 0|4) ;; *) fl_bad "aggregate exited $rc (expected 0, or 4 for a broker failure)" ;; esac

fl_aggregate_until_done || fl_bad "aggregate did not finish after the restart"
fl_log "final aggregate: $(cat "$W/agg-final.json")"
fl_check_exact "after broker kill during aggregate"
fl_check_audit "after broker kill during aggregate" exact
fl_finish
