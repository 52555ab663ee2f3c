#!/usr/bin/env bash
# audit_continuity.sh - `docbus audit` checks each producer's continuity: a message
# deleted from the middle of a sequence (seq_gap), a whole batch missing (batch_missing,
# and no seq_gap for its seqs), a duplicate with the same content (benign resend: not a
# finding, exit 0), reordered batches (reordered), a replayed old message (replayed: after
# later batches, or later than --replay-window), and one seq signed twice with different
# content by a forked producer (duplicate_tampered + chain_break), each at its location.
. "$(dirname "$0")/audit/lib.sh"
audit_setup continuity
base=t$RANDOM$RANDOM
S=$base.s.

# 8 events of U1 in batches of 2: batch k holds seqs 2k-1, 2k
events_jsonl "$W/u1.jsonl" $U1 8 C
stage "$S" "$W/u1.jsonl" 2
dump "$S" "$W/raw"
f() { file_of "$W/raw" "$1"; }
[ -n "$(f 8)" ] || { fail "staging did not produce seqs 1..8"; finish; }
all="$(f 1) $(f 2) $(f 3) $(f 4) $(f 5) $(f 6) $(f 7) $(f 8)"

# message deleted from the middle: seq 3 (batch 2 keeps seq 4, at offset 2)
P=$base.gap.; put "$P" $(f 1) $(f 2) $(f 4) $(f 5) $(f 6) $(f 7) $(f 8)
run_audit "$P" "$W/gap.json" --against none
[ "$AUDIT_RC" -eq 6 ] || fail "gap: exit $AUDIT_RC"
$CHECK find "$W/gap.json" seq_gap topic="${P}events" partition=0 offset=2 producer=$U1 seq=3 \
  && ok "deleted seq 3 found as seq_gap at its batch (offset 2)" || fail "seq_gap"
$CHECK classes "$W/gap.json" seq_gap && ok "gap: nothing else" || fail "gap: other classes"

# whole batch missing: batch 2 (seqs 3, 4); batch 3 is then at offset 2
P=$base.batch.; put "$P" $(f 1) $(f 2) $(f 5) $(f 6) $(f 7) $(f 8)
run_audit "$P" "$W/batch.json" --against none
[ "$AUDIT_RC" -eq 6 ] || fail "batch: exit $AUDIT_RC"
$CHECK find "$W/batch.json" batch_missing topic="${P}events" partition=0 offset=2 seq=3 seq_to=4 batch_seq=2 \
  && ok "missing batch 2 found (seqs 3..4, at the next batch)" || fail "batch_missing"
$CHECK classes "$W/batch.json" batch_missing && ok "batch: no separate seq_gap" || fail "batch: other classes"

# duplicate with the same content, right away: benign
P=$base.dup.; put "$P" $all $(f 8)
run_audit "$P" "$W/dup.json" --against none
[ "$AUDIT_RC" -eq 0 ] && ok "benign duplicate: exit 0" || fail "benign duplicate: exit $AUDIT_RC"
$CHECK classes "$W/dup.json" - && ok "benign duplicate: no finding" || fail "benign duplicate: findings"
[ "$($CHECK get "$W/dup.json" stats/benign_resends)" = 1 ] && ok "benign resend counted" || fail "benign_resends != 1"
[ "$($CHECK get "$W/dup.json" stats/counted)" = 8 ] && ok "counted once" || fail "duplicate counted twice"

# reordered batches: 1, 3, 2, 4 -> batch 2 (seqs 3, 4) read at offsets 4, 5 after batch 3
P=$base.reorder.; put "$P" $(f 1) $(f 2) $(f 5) $(f 6) $(f 3) $(f 4) $(f 7) $(f 8)
run_audit "$P" "$W/reorder.json" --against none
[ "$AUDIT_RC" -eq 6 ] || fail "reorder: exit $AUDIT_RC"
$CHECK find "$W/reorder.json" reordered topic="${P}events" partition=0 offset=4 seq=3 batch_seq=2 \
  && ok "reordered batch 2 found at offset 4" || fail "reordered"
$CHECK classes "$W/reorder.json" reordered && ok "reorder: nothing else" || fail "reorder: other classes"

# replayed: the whole sequence, then 3 s later seq 8 (latest batch) and seq 1 (old) again
P=$base.replay.; put "$P" $all; sleep 3; put "$P" $(f 8) $(f 1)
run_audit "$P" "$W/replay.json" --against none
[ "$AUDIT_RC" -eq 6 ] || fail "replay: exit $AUDIT_RC"
$CHECK find "$W/replay.json" replayed topic="${P}events" partition=0 offset=9 seq=1 \
  && ok "old seq 1 produced after later batches: replayed at offset 9" || fail "replayed seq 1"
$CHECK count "$W/replay.json" replayed 1 && ok "seq 8 within the window: benign" || fail "replay count (default window)"
$CHECK classes "$W/replay.json" replayed && ok "replay: not also reported as reordered" || fail "replay: other classes"
run_audit "$P" "$W/replay2.json" --against none --replay-window 2
$CHECK find "$W/replay2.json" replayed offset=8 seq=8 && ok "--replay-window 2: seq 8 copy 3 s later is replayed" \
  || fail "replayed seq 8 with --replay-window 2"
[ "$($CHECK get "$W/replay2.json" stats/counted)" = 8 ] && ok "replays are not counted" || fail "replay counted"

# a forked producer: the same seqs signed again with other content (fresh state)
P=$base.fork.
events_jsonl "$W/x.jsonl" $U1 4 X
events_jsonl "$W/y.jsonl" $U1 4 Y
stage "$P" "$W/x.jsonl" 4 "$W/state-fork-a"
stage "$P" "$W/y.jsonl" 4 "$W/state-fork-b"
run_audit "$P" "$W/fork.json" --against none
[ "$AUDIT_RC" -eq 6 ] || fail "fork: exit $AUDIT_RC"
$CHECK find "$W/fork.json" duplicate_tampered topic="${P}events" offset=4 seq=1 producer=$U1 \
  && ok "seq 1 with different content found at offset 4" || fail "duplicate_tampered"
$CHECK count "$W/fork.json" duplicate_tampered 4 && ok "all 4 forked seqs found" || fail "duplicate_tampered count"
$CHECK find "$W/fork.json" chain_break offset=4 batch_seq=1 && ok "batch 1 with two roots: chain_break" \
  || fail "chain_break"
$CHECK classes "$W/fork.json" duplicate_tampered,chain_break && ok "fork: nothing else" || fail "fork: other classes"
finish
