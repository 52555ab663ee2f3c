#!/usr/bin/env bash
# broker_kill_audit.sh - the broker is killed (kill -9) during `docbus audit` (once it
# reports messages audited, +0-300 ms) and restarted: the audit either completes or exits 4 (could not audit) - never a false
# "clean" on partial input nor false findings - and a re-run is clean, proving every
# message; the counts stay equal to an independent count of the input.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
fl_init broker_kill_audit
"$DOCBUS" audit --help >/dev/null 2>&1 || { fl_log "docbus audit not built: skipped"; exit 0; }
fl_dataset "${FAULT_SCALE:-0.02}" 5 || fl_finish
"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import.err" || { fl_bad "import"; fl_finish; }
fl_aggregate_until_done || fl_bad "aggregate"

fl_bg aud "$DOCBUS" audit -v --from 2010-01-01 --json "${X[@]}" > "$W/audit1.json" 2> "$W/audit1.err"
fl_wait_log "$W/audit1.err" 'messages audited' "$aud" || fl_bad "the audit ended before reading messages"
fl_sleep_random 0 300
kill -0 "$aud" 2>/dev/null || fl_bad "the audit finished before the broker kill (dataset too small?)"
fl_log "kill -9 broker during audit ($(grep 'messages audited' "$W/audit1.err" | tail -1 | sed 's/^docbus audit: //'))"
fl_broker_kill9
sleep 1
fl_broker_start || fl_bad "broker restart"
wait "$aud"; rc=$?
fl_log "audit during the kill exited $rc: $(grep -v '^%' "$W/audit1.err" | tail -1)"
case $rc in
  0) python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if a["messages"]==int(sys.argv[2]) and a["verdict"]=="clean" else 1)' \
       "$W/audit1.json" "$FL_MSGS" || fl_bad "audit exited 0 but did not read all $FL_MSGS messages cleanly" ;;
  3|4) ;;
  *) fl_bad "audit exited $rc during a broker kill (expected 0 or 4; 6 would be a false finding)" ;;
esac
fl_check_audit "audit re-run after broker kill" exact
fl_check_exact "counts after broker kill during audit"
fl_finish
