#!/usr/bin/env bash
# aggregate_two_instances.sh - two aggregator instances (A, B) of one group at once:
# 1. both `--until-caught-up` over a few thousand messages on ~70 partitions (many inbox
#    topics of one partition and the events topic): both exit 0 and the figures equal a
#    plain count;
# 2. both as daemons, both holding partitions, while more input is imported live; then B
#    is stopped mid-stream and started again (two rebalances while A counts): each
#    instance counted part of the input, and every figure of 2018-Q1 and 2018-Q2 (with
#    every dimension) equals a plain count of all input - no loss, no double count.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init aggregate_two_instances

gen_jsonl 17 1800 1500 > in.jsonl
pki_for_jsonl in.jsonl
db import in.jsonl > imp.json 2> imp.err
check_eq "import exit code" 0 "$?"
inputs="^${PREFIX//./\\.}(inbox\\..*|events)\$"
count_matching "$inputs" > per-topic.txt
msgs=$(awk '{n += $2} END {print n}' per-topic.txt)
parts=0
for t in $(cut -d' ' -f1 per-topic.txt); do parts=$((parts + $(topic_partitions "$t"))); done
note "$(jq -s length in.jsonl) records, $msgs messages on $(wc -l < per-topic.txt) topics, $parts partitions"
[ "$parts" -ge 50 ] || fail "only $parts input partitions: the split is not exercised"

note "== A and B --until-caught-up at once"
db_bg a.json a.err aggregate --until-caught-up --json --instance A
pa=$pid
db_bg b.json b.err aggregate --until-caught-up --json --instance B
pb=$pid
wait "$pa"
ra=$?
wait "$pb"
check_eq "exit codes of A and B" "0 0" "$ra $?"
note "A: $(cat a.json)"
note "B: $(cat b.json)"
ca=$(jq '.consumed // 0' a.json)
cb=$(jq '.consumed // 0' b.json)
# Work may be redone after a rebalance (an open transaction is aborted), never skipped.
[ $((ca + cb)) -ge "$msgs" ] || fail "A and B consumed $((ca + cb)) messages, fewer than the $msgs on the topics"
for q in 2018-Q1 2018-Q2; do
    report_flat $q > "got-$q.txt"
    expected_flat in.jsonl $q > "want-$q.txt"
    check_same "$q figures of two instances vs a plain count of the input" "want-$q.txt" "got-$q.txt"
done

note "== A and B as daemons while more input arrives; B stops and restarts mid-stream"
live=(-X topic.metadata.refresh.interval.ms=1000)   # new inbox topics join the pattern soon
start() {   # start ID RUN: a daemon instance, its pid in $pid
    db_bg "$1$2.json" "$1$2.err" aggregate --json --instance "$1" "${live[@]}"
}
# joined FILE: the instance has had an assignment (it rebuilds its state on each one)
joined() {
    local end=$((SECONDS + 30))
    until grep -q 'state rebuilt' "$1"; do
        [ $SECONDS -lt $end ] || { fail "no assignment in 30 s ($1)"; return 1; }
        sleep 0.2
    done
}
# Every unit has its certificate before the daemons load the PKI (they do not reload it).
gen_jsonl 23 1500 1200 > more1.jsonl
gen_jsonl 29 1500 1200 > more2.jsonl
cat more1.jsonl more2.jsonl > more.jsonl
pki_for_jsonl more.jsonl
start A 2; pa=$pid
start B 2; pb=$pid
joined A2.err
joined B2.err
# Each holds a fair share of the input partitions (librdkafka's default range assignor,
# dealing out each topic on its own, gave every one-partition inbox to the same
# instance): wait for both to report the assignment of the same rebalance, then compare.
last_assigned() { grep -o 'assigned [0-9]* partitions' "$1" | tail -1 | awk '{print $2}'; }
end=$((SECONDS + 20))
until na=$(last_assigned A2.err); nb=$(last_assigned B2.err); [ $((${na:-0} + ${nb:-0})) -eq "$parts" ]; do
    [ $SECONDS -lt $end ] || break
    sleep 0.2
done
note "assigned: A $na, B $nb of $parts partitions"
[ $((na + nb)) -eq "$parts" ] && [ $((4 * na)) -ge "$parts" ] && [ $((4 * nb)) -ge "$parts" ] &&
    note "ok: A and B each hold at least a quarter of the $parts partitions" ||
    fail "A holds $na and B $nb of $parts partitions: not split between them"
db import more1.jsonl > imp2.json 2> imp2.err
check_eq "import while A and B run" 0 "$?"
kill -TERM "$pb"
wait "$pb"
check_eq "B stops cleanly on SIGTERM" 0 "$?"
db_bg imp3.json imp3.err import more2.jsonl
pimp=$pid
start B 3; pb=$pid
wait "$pimp"
check_eq "second live import" 0 "$?"
wait_caught_up 40 || fail "the group did not catch up within 40 s"
kill -TERM "$pa" "$pb"
wait "$pa"
ra=$?
wait "$pb"
check_eq "A and B stop cleanly on SIGTERM" "0 0" "$ra $?"
for f in A2 B2 B3; do note "$f: $(cat "$f.json")"; done
check_eq "rejected by A and B" "0 0 0" "$(jq -s 'map(.rejected // "none") | join(" ")' -r A2.json B2.json B3.json)"
[ "$(jq '.counted // 0' A2.json)" -gt 0 ] || fail "A counted nothing of the live input"
[ $(($(jq '.counted // 0' B2.json) + $(jq '.counted // 0' B3.json))) -gt 0 ] ||
    fail "B counted nothing of the live input: not a two-instance run"
cat in.jsonl more.jsonl > all.jsonl
for q in 2018-Q1 2018-Q2; do
    report_flat $q > "got2-$q.txt"
    expected_flat all.jsonl $q > "want2-$q.txt"
    check_same "$q figures after the live run vs a plain count of all input" "want2-$q.txt" "got2-$q.txt"
done

note "== one more run finds nothing left to do"
aggregate_run again.json
check_eq "last run: consumed counted" "0 0" "$(jq -r '"\(.consumed) \(.counted)"' again.json)"
report_flat 2018-Q1 > again-2018-Q1.txt
check_same "2018-Q1 figures after the last run" got2-2018-Q1.txt again-2018-Q1.txt

it_done
