#!/usr/bin/env bash
# broker_sigstop.sh - the broker is frozen (SIGSTOP) for longer than the consumer
# session timeout while two aggregators run, and during an import; then resumed
# (SIGCONT). Clients reconnect, the aggregators rejoin their group (or exit 4 and are
# re-run), and counts and audit equal an independent count of the input.
# FAULT_PAUSE seconds (default 15; the session timeout here is 6 s); FAULT_SCALE (default
# 0.04, ~170k messages: both aggregators still count when the broker freezes).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init broker_sigstop
fl_dataset "${FAULT_SCALE:-0.04}" 9 || fl_finish
pause=${FAULT_PAUSE:-15}
X+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)

dbg=()
[ -n "${FAULT_RDKAFKA_DEBUG:-}" ] && dbg=(-X "debug=$FAULT_RDKAFKA_DEBUG")
fl_bg imp "$DOCBUS" import -v "$W/in.jsonl" "${X[@]}" "${dbg[@]}" 2> "$W/import.err"
fl_wait_log "$W/import.err" 'docbus import: [0-9]* read' "$imp" || fl_bad "the import ended before it reported progress"
fl_sleep_random 0 300
kill -0 "$imp" 2>/dev/null || fl_bad "the import finished before the fault (dataset too small?)"
pid=$(fl_broker_pid)
fl_log "SIGSTOP broker $pid for $pause s during import"
kill -STOP "$pid"; sleep "$pause"; kill -CONT "$pid"
wait "$imp"; rc=$?
fl_log "import exited $rc: $(grep '^docbus import: [0-9]* lines' "$W/import.err" | tail -1)"
[ $rc = 0 ] || fl_bad "import exited $rc after a ${pause}s pause (deadline 120 s)"

# librdkafka 2.0.2 can lose a few acknowledged messages when the broker is frozen
# (confluentinc/librdkafka#4134, open upstream; seen here 1 run in 4). docbus's answer is
# detection and repair: the audit must see every loss (a seq gap in the signed chain),
# and re-running the same import restores the messages without double counting.
"$DOCBUS" audit --from 2010-01-01 --json "${X[@]}" > "$W/audit-import.json" 2> /dev/null
read -r msgs findings < <(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a.get("messages",0), a.get("findings_total",0))' "$W/audit-import.json" 2> /dev/null || echo "0 0")
repaired=0
if [ "${msgs:-0}" -lt "$FL_MSGS" ]; then
  fl_log "the client lost $((FL_MSGS - msgs)) of $FL_MSGS messages under the freeze; the audit reports $findings findings"
  [ "${findings:-0}" -gt 0 ] || fl_bad "messages were lost and the audit did not notice"
  "$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import2.err" || fl_bad "re-running the import to repair failed"
  repaired=1
fi

fl_bg a "$DOCBUS" aggregate -v --until-caught-up --json --instance a "${X[@]}" > "$W/a.json" 2> "$W/a.err"
fl_bg b "$DOCBUS" aggregate -v --until-caught-up --json --instance b "${X[@]}" > "$W/b.json" 2> "$W/b.err"
# freeze the broker while both count: after a's first commit, +0-200 ms
fl_wait_log "$W/a.err" 'committed (' "$a" || fl_bad "instance a ended before its first commit"
fl_sleep_random 0 200
kill -0 "$a" 2>/dev/null && kill -0 "$b" 2>/dev/null ||
  fl_bad "an aggregator finished before the freeze (dataset too small?)"
fl_log "SIGSTOP broker $pid for $pause s during aggregation"
kill -STOP "$pid"; sleep "$pause"; kill -CONT "$pid"
wait "$a"; ra=$?
wait "$b"; rb=$?
fl_log "aggregators exited a=$ra b=$rb"
[ $ra = 0 ] || fl_log "a: $(grep -v '^%' "$W/a.err" | grep -v 'committed (' | tail -1 | cut -c1-300)"
[ $rb = 0 ] || fl_log "b: $(grep -v '^%' "$W/b.err" | tail -1 | cut -c1-300)"
for r in $ra $rb; do case $r in 0|4) ;; *) fl_bad "an aggregator exited $r" ;; esac; done
fl_aggregate_until_done || fl_bad "aggregate after the pause"
fl_check_exact "after two ${pause}s broker pauses"
fl_check_audit "after two ${pause}s broker pauses" "$([ $repaired = 0 ] && echo exact)"
fl_finish
