#!/usr/bin/env bash
# broker_deadline.sh - the broker dies during `docbus import` (once it reports progress,
# +0-300 ms) and stays down longer than
# the delivery deadline (-X docbus.delivery.deadline.ms=5000): the import stops with
# exit 4 and a summary naming what was not delivered; once the broker is back, a re-run
# of the same import completes (exit 0) and nothing is lost or counted twice.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init broker_deadline
fl_dataset "${FAULT_SCALE:-0.02}" 8 || fl_finish

fl_bg imp "$DOCBUS" import -v "$W/in.jsonl" "${X[@]}" -X docbus.delivery.deadline.ms=5000 \
  2> "$W/import1.err"
fl_wait_log "$W/import1.err" 'docbus import: [0-9]* read' "$imp" || fl_bad "the import ended before it reported progress"
fl_sleep_random 0 300
kill -0 "$imp" 2>/dev/null || fl_bad "the import finished before the fault (dataset too small?)"
fl_log "kill -9 broker during import; it stays down until the import gives up"
fl_broker_kill9
t0=$SECONDS
( sleep 120; kill -9 "$imp" 2>/dev/null ) & guard=$!
wait "$imp"; rc=$?
kill "$guard" 2>/dev/null
summary=$(grep '^docbus import: [0-9]* lines' "$W/import1.err" | tail -1)
fl_log "import exited $rc after $((SECONDS - t0)) s with the broker down: $summary"
[ $rc = 4 ] || fl_bad "import exited $rc with the broker down past the deadline (documented: 4)"
[[ $summary =~ ([0-9]+)\ not\ delivered ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] \
  || fl_bad "no summary with a non-zero 'not delivered' count"
fl_broker_start || fl_bad "broker restart"

"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import2.err"; rc=$?
fl_log "re-run exited $rc: $(grep '^docbus import: [0-9]* lines' "$W/import2.err" | tail -1)"
[ $rc = 0 ] || fl_bad "re-run of the import exited $rc"
fl_aggregate_until_done || fl_bad "aggregate"
fl_log "aggregate: $(cat "$W/agg-final.json")"
fl_check_exact "after a broker outage past the delivery deadline and a re-run"
# the re-run signs every record again with new seqs: the audit sees each twice (counted
# once) and the seqs that never arrived as gaps; every message must still verify
fl_check_audit "after a broker outage past the delivery deadline and a re-run"
fl_finish
