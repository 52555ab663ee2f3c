#!/usr/bin/env bash
# aggregator_kills.sh - the aggregator is killed (kill -9) at random points again and
# again, each time restarted; then it runs to the end. The committed counts and an audit
# equal an independent count of the input: no loss, no double count.
# Each kill lands while the instance counts: after its first commit (its -v lines say
# so), plus 0-FAULT_KILL_MAX_MS ms, so committed work, an open transaction and
# uncommitted offsets are all there when it dies. (Killed after a fixed delay instead,
# most kills found the instance still waiting for the killed member's partitions,
# before its first commit.)
# FAULT_SCALE (default 0.05, ~215k messages), FAULT_KILLS (default 5),
# FAULT_KILL_MAX_MS (default 300: the aggregator counts ~80k messages/s, the fault
# tests' transactions are 10,000 messages (lib.sh), so a run dies a few transactions in
# and the final run still has counting to do).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init aggregator_kills
fl_dataset "${FAULT_SCALE:-0.05}" 6 || fl_finish
"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import.err" || { fl_bad "import"; fl_finish; }
# a killed member leaves the group after the session timeout: keep it short
X+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
kills=0 runs=0 mid=0
for ((k = 1; k <= ${FAULT_KILLS:-5}; k++)); do
  fl_bg agg "$DOCBUS" aggregate -v --until-caught-up --json "${X[@]}" > "$W/agg$k.json" 2> "$W/agg$k.err"
  runs=$((runs + 1))
  # a restarted instance waits up to the session timeout (6 s) for the killed member's
  # partitions; then it counts: wait for its first commit
  fl_wait_log "$W/agg$k.err" 'committed (' "$agg"
  fl_sleep_random 0 "${FAULT_KILL_MAX_MS:-300}"
  if kill -9 "$agg" 2>/dev/null; then
    kills=$((kills + 1))
    wait "$agg" 2>/dev/null
    done_txns=$(grep -c 'committed (' "$W/agg$k.err")
    [ "$done_txns" -ge 1 ] && mid=$((mid + 1))
    fl_log "kill $kills: aggregator killed after $done_txns commits of its own"
  else
    wait "$agg"; fl_log "run $k finished before its kill (exit $?)"
  fi
done
fl_aggregate_until_done || fl_bad "final aggregate"
runs=$((runs + 1))
fl_log "final aggregate: $(cat "$W/agg-final.json")"
fl_log "runs $runs, kills $kills ($mid after commits of their own), messages $FL_MSGS"
[ "$mid" -ge 3 ] || fl_bad "only $mid of $kills aggregators were killed while counting (dataset too small?)"
fl_check_exact "after $kills aggregator kills"
fl_check_audit "after $kills aggregator kills" exact
fl_finish
