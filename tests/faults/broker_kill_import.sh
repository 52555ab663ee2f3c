#!/usr/bin/env bash
# broker_kill_import.sh - the broker is killed (kill -9) during `docbus import` (once it
# reports progress, +0-300 ms) and restarted (~14 s, within the delivery deadline): the import completes with exit 0,
# and the counts and an audit equal an independent count of the input (no loss, no
# double count). FAULT_SCALE (default 0.02, ~58k records) sizes the dataset.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init broker_kill_import
fl_dataset "${FAULT_SCALE:-0.02}" 3 || fl_finish

fl_bg imp "$DOCBUS" import -v "$W/in.jsonl" "${X[@]}" 2> "$W/import.err"
fl_wait_log "$W/import.err" 'docbus import: [0-9]* read' "$imp" || fl_bad "the import ended before it reported progress"
fl_sleep_random 0 300
kill -0 "$imp" 2>/dev/null || fl_bad "the import finished before the fault (dataset too small?)"
fl_log "kill -9 broker during import"
fl_broker_kill9
sleep 1
fl_broker_start || fl_bad "broker restart"
wait "$imp"; rc=$?
fl_log "import exit $rc: $(grep '^docbus import: [0-9]* lines' "$W/import.err" | tail -1)"
[ $rc = 0 ] || fl_bad "import exited $rc after a broker restart within the deadline"
grep -q " 0 not delivered" "$W/import.err" || fl_bad "import summary reports undelivered records"
# why, when it fails: the import's own reasons and librdkafka's last words
[ $rc = 0 ] || grep -m8 "not delivered:\|fatal\|recreat\|^%[0-3]|" "$W/import.err" | cut -c1-300

fl_aggregate_until_done || fl_bad "aggregate did not finish"
fl_log "aggregate: $(cat "$W/agg-final.json")"
fl_check_exact "after broker kill during import"
fl_check_audit "after broker kill during import" exact
fl_finish
