#!/usr/bin/env bash
# disk_full.sh - a second broker whose data dir is a small tmpfs (made by the test, needs
# root) fills up during `docbus import`: the import fails clearly (exit 4, a summary of
# what was not delivered) instead of hanging or claiming success; once space returns
# (tmpfs grown, broker restarted) the broker's logs load without corruption, a re-run of
# the import completes and counts and audit equal an independent count of the input.
# The runner's broker is not touched. FAULT_DISK_MB (default 48), FAULT_SCALE (0.05).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v mount >/dev/null; then
  echo "disk_full: needs root to mount a tmpfs: skipped"; exit 0
fi
# a broker of our own on other ports, its runtime dir on the tmpfs
DOCBUS_BOOTSTRAP=127.0.0.1:${FAULT_DISK_PORT:-19492}
FL_PORT=${DOCBUS_BOOTSTRAP##*:}
FL_CPORT=$((FL_PORT + 1))
fl_init disk_full
FL_KAFKA_DIR=$W/kafka
mkdir -p "$FL_KAFKA_DIR"
mount -t tmpfs -o "size=${FAULT_DISK_MB:-48}m" tmpfs "$FL_KAFKA_DIR" || { echo "FAIL: mount tmpfs"; exit 1; }
fl_cleanup_disk() {
  local pid
  for pid in "${FL_BG_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  DOCBUS_KAFKA_DIR=$FL_KAFKA_DIR DOCBUS_KAFKA_PORT=$FL_PORT DOCBUS_KAFKA_CONTROLLER_PORT=$FL_CPORT \
    "$FL_LOCAL" stop >/dev/null 2>&1
  pid=$(fl_broker_pid); [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  sleep 1
  umount "$FL_KAFKA_DIR" 2>/dev/null || umount -l "$FL_KAFKA_DIR"
  [ "${FAULT_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap fl_cleanup_disk EXIT
X[1]="bootstrap.servers=$DOCBUS_BOOTSTRAP"
fl_broker_start || { fl_bad "second broker did not start on $DOCBUS_BOOTSTRAP"; fl_finish; }
fl_dataset "${FAULT_SCALE:-0.05}" 10 || fl_finish
fl_log "tmpfs: $(df -h "$FL_KAFKA_DIR" | tail -1)"

"$DOCBUS" import "$W/in.jsonl" "${X[@]}" -X docbus.delivery.deadline.ms=10000 2> "$W/import1.err" &
imp=$!
FL_BG_PIDS+=("$imp")
( sleep 180; kill -9 "$imp" 2>/dev/null ) & guard=$!
wait "$imp"; rc=$?
kill "$guard" 2>/dev/null
summary=$(grep '^docbus import: [0-9]* lines' "$W/import1.err" | tail -1)
fl_log "import on a full disk exited $rc: ${summary:-$(grep -v '^%' "$W/import1.err" | tail -1)}"
fl_log "tmpfs: $(df -h "$FL_KAFKA_DIR" | tail -1)"
grep -m3 -i "No space left\|offline\|IOException" "$FL_KAFKA_DIR/broker.log" | cut -c1-200
case $rc in
  4) [[ $summary =~ ([0-9]+)\ not\ delivered ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] ||
       fl_bad "exit 4 without a summary counting the undelivered records" ;;
  0) fl_bad "the import claims success on a ${FAULT_DISK_MB:-48} MB disk: dataset too small to fill it? (FAULT_SCALE)" ;;
  *) fl_bad "import exited $rc on a full disk (documented: 4)" ;;
esac

fl_log "space returns: tmpfs grown to 2 GB, broker restarted"
DOCBUS_KAFKA_DIR=$FL_KAFKA_DIR DOCBUS_KAFKA_PORT=$FL_PORT DOCBUS_KAFKA_CONTROLLER_PORT=$FL_CPORT \
  "$FL_LOCAL" stop >/dev/null 2>&1
pid=$(fl_broker_pid); [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
mount -o remount,size=2g "$FL_KAFKA_DIR" || fl_bad "remount"
fl_broker_start || { fl_bad "broker did not start again after space returned"; fl_finish; }
grep -qi "corrupt" "$FL_KAFKA_DIR/broker.log" && fl_log "broker log mentions corruption (recovered): $(grep -i -m1 corrupt "$FL_KAFKA_DIR/broker.log" | cut -c1-200)"

"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import2.err"; rc=$?
fl_log "re-run exited $rc: $(grep '^docbus import: [0-9]* lines' "$W/import2.err" | tail -1)"
[ $rc = 0 ] || fl_bad "re-run of the import exited $rc"
fl_aggregate_until_done || fl_bad "aggregate"
fl_log "aggregate: $(cat "$W/agg-final.json")"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(1 if a["rejected"] else 0)' \
  "$W/agg-final.json" || fl_bad "the aggregator rejected messages: corruption"
fl_check_exact "after a full disk and a re-run"
fl_check_audit "after a full disk and a re-run"
fl_finish
