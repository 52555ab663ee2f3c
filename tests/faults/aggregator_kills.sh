#!/usr/bin/env bash
# aggregator_kills.sh - the aggregator is killed (kill -9) at random points again and
# again, each time restarted; then it runs to the end. The committed counts and an audit
# equal an independent count of the input: no loss, no double count.
# FAULT_SCALE (default 0.05, ~215k messages), FAULT_KILLS (default 5),
# FAULT_KILL_MAX_MS (latest kill after a start, default 3000: the aggregator counts
# ~30k messages/s, so a later kill would often find it finished).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init aggregator_kills
fl_dataset "${FAULT_SCALE:-0.05}" 6 || fl_finish
"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import.err" || { fl_bad "import"; fl_finish; }
# a killed member leaves the group after the session timeout: keep it short
X+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
kills=0 runs=0
for ((k = 1; k <= ${FAULT_KILLS:-5}; k++)); do
  fl_bg agg "$DOCBUS" aggregate --until-caught-up --json "${X[@]}" > "$W/agg$k.json" 2> "$W/agg$k.err"
  runs=$((runs + 1))
  # a restarted instance waits up to the session timeout (6 s) for the killed member's
  # partitions: kill anywhere from start-up to well into counting
  fl_sleep_random 300 "${FAULT_KILL_MAX_MS:-3000}"
  if kill -9 "$agg" 2>/dev/null; then
    kills=$((kills + 1))
    wait "$agg" 2>/dev/null
    fl_log "kill $kills: aggregator killed ($(grep -c . "$W/agg$k.err") lines of stderr)"
  else
    wait "$agg"; fl_log "run $k finished before its kill (exit $?)"
  fi
done
fl_aggregate_until_done || fl_bad "final aggregate"
runs=$((runs + 1))
fl_log "final aggregate: $(cat "$W/agg-final.json")"
fl_log "runs $runs, kills $kills, messages $FL_MSGS"
[ "$kills" -ge 3 ] || fl_bad "only $kills aggregators were killed mid-run (dataset too small?)"
fl_check_exact "after $kills aggregator kills"
fl_check_audit "after $kills aggregator kills" exact
fl_finish
