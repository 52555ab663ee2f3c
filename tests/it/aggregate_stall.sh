#!/usr/bin/env bash
# aggregate_stall.sh - `aggregate --until-caught-up` gives up instead of waiting for ever
# when the group's committed lag stops falling. Instance B of the group takes its
# partitions and is frozen (SIGSTOP) before its first commit; instance A then cannot join
# until B's session times out (15 s). With docbus.aggregate.stall.timeout.ms=4000, A exits
# 4 within seconds and says why and what to do. B is killed; a re-run of A ends at exit 0
# and the figures equal a plain count of the input (the stall lost nothing).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init aggregate_stall

gen_jsonl 5 300 400 > in.jsonl
pki_for_jsonl in.jsonl
db import in.jsonl > imp.json 2> imp.err
check_eq "import exit code" 0 "$?"

# B: a daemon whose first commit would come after 4 s; frozen as soon as it has its
# partitions (it rebuilds its state on each assignment).
db_bg b.json b.err aggregate --instance B -X session.timeout.ms=15000 \
    -X docbus.aggregate.commit.interval.ms=4000
b=$pid
end=$((SECONDS + 30))
until grep -q 'state rebuilt' b.err 2> /dev/null; do
    [ $SECONDS -lt $end ] || die "instance B got no partitions in 30 s: $(cat b.err)"
    sleep 0.05
done
kill -STOP "$b"

start=$SECONDS
db aggregate --until-caught-up --json --instance A -X docbus.aggregate.stall.timeout.ms=4000 \
    -X session.timeout.ms=6000 \
    > stalled.json 2> stalled.err
rc=$?
took=$((SECONDS - start))
check_eq "exit code of A while B holds the group" 4 "$rc"
check_grep "the reason" "no progress toward the end for 4 s \(group lag (unknown|[0-9]+), " stalled.err
check_grep "what to do" "run again" stalled.err
[ "$took" -lt 14 ] || fail "A gave up after ${took}s, not within seconds of its 4 s limit"

kill -9 "$b"
wait "$b" 2> /dev/null
db aggregate --until-caught-up --json --instance A > agg.json 2> agg.err
check_eq "exit code of A once B is gone" 0 "$?"
for q in 2018-Q1 2018-Q2; do
    report_flat $q > "got-$q.txt"
    expected_flat in.jsonl $q > "want-$q.txt"
    check_same "$q figures after the stall vs a plain count of the input" "want-$q.txt" "got-$q.txt"
done
it_done
