#!/usr/bin/env bash
# state_full.sh - the producer's seq state directory is a small tmpfs (made by the test,
# needs root) with no space left: `docbus import` signs nothing it cannot make durable,
# exits 1 naming the unit and the reason instead of claiming success, and delivers
# nothing; once space returns a re-run completes, and counts and audit equal an
# independent count of the input with no gap in any chain. On the runner's broker.
# FAULT_SCALE (default 0.01).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v mount >/dev/null; then
  echo "state_full: needs root to mount a tmpfs: skipped"; exit 0
fi
fl_init state_full
mkdir -p "$W/state"
mount -t tmpfs -o size=1m tmpfs "$W/state" || { echo "FAIL: mount tmpfs"; exit 1; }
fl_cleanup_state() {
  umount "$W/state" 2>/dev/null || umount -l "$W/state"
  fl_cleanup
}
trap fl_cleanup_state EXIT
fl_dataset "${FAULT_SCALE:-0.01}" 21 || fl_finish
# fill it: the state files' first save (a whole new file) finds no space
dd if=/dev/zero of="$W/state/fill" bs=4k count=1024 2>/dev/null
fl_log "state tmpfs: $(df -h "$W/state" | tail -1)"

"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import1.err"; rc=$?
summary=$(grep '^docbus import: [0-9]* lines' "$W/import1.err" | tail -1)
fl_log "import with a full state dir exited $rc: $summary"
grep -m1 "were not sent" "$W/import1.err" | cut -c1-300
[ $rc = 1 ] || fl_bad "import exited $rc with its state dir full (documented: 1)"
grep -q "were not sent: cannot write .*No space left on device" "$W/import1.err" ||
  fl_bad "no message naming the unit and the full disk"
[[ $summary =~ \ 0\ delivered ]] || fl_bad "records delivered without a durable seq state: $summary"

rm -f "$W/state/fill"
fl_log "space returns"
"$DOCBUS" import "$W/in.jsonl" "${X[@]}" 2> "$W/import2.err"; rc=$?
fl_log "re-run exited $rc: $(grep '^docbus import: [0-9]* lines' "$W/import2.err" | tail -1)"
[ $rc = 0 ] || fl_bad "re-run of the import exited $rc"
fl_aggregate_until_done || fl_bad "aggregate"
fl_check_exact "after a full state dir and a re-run"
fl_check_audit "after a full state dir and a re-run" exact
fl_finish
