#!/usr/bin/env bash
# broker_sigstop.sh - the broker is frozen (SIGSTOP) for longer than the consumer
# session timeout while two aggregators run, and during an import; then resumed
# (SIGCONT). Clients reconnect, the aggregators rejoin their group (or exit 4 and are
# re-run), and counts and audit equal an independent count of the input.
# FAULT_PAUSE seconds (default 15; the session timeout here is 6 s).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init broker_sigstop
fl_dataset "${FAULT_SCALE:-0.02}" 9 || fl_finish
pause=${FAULT_PAUSE:-15}
X+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)

dbg=()
[ -n "${FAULT_RDKAFKA_DEBUG:-}" ] && dbg=(-X "debug=$FAULT_RDKAFKA_DEBUG")
fl_bg imp "$DOCBUS" import "$W/in.jsonl" "${X[@]}" "${dbg[@]}" 2> "$W/import.err"
fl_sleep_random 2000 3000
pid=$(fl_broker_pid)
fl_log "SIGSTOP broker $pid for $pause s during import"
kill -STOP "$pid"; sleep "$pause"; kill -CONT "$pid"
wait "$imp"; rc=$?
fl_log "import exited $rc: $(grep '^docbus import: [0-9]* lines' "$W/import.err" | tail -1)"
[ $rc = 0 ] || fl_bad "import exited $rc after a ${pause}s pause (deadline 120 s)"

fl_bg a "$DOCBUS" aggregate --until-caught-up --json --instance a "${X[@]}" > "$W/a.json" 2> "$W/a.err"
fl_bg b "$DOCBUS" aggregate --until-caught-up --json --instance b "${X[@]}" > "$W/b.json" 2> "$W/b.err"
fl_sleep_random 1000 2000
fl_log "SIGSTOP broker $pid for $pause s during aggregation"
kill -STOP "$pid"; sleep "$pause"; kill -CONT "$pid"
wait "$a"; ra=$?
wait "$b"; rb=$?
fl_log "aggregators exited a=$ra b=$rb"
for r in $ra $rb; do case $r in 0|4) ;; *) fl_bad "an aggregator exited $r" ;; esac; done
fl_aggregate_until_done || fl_bad "aggregate after the pause"
fl_check_exact "after two ${pause}s broker pauses"
fl_check_audit "after two ${pause}s broker pauses" exact
fl_finish
