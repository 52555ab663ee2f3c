#!/usr/bin/env bash
# producers_idempotent.sh - importing the same JSON Lines file twice changes no count:
# the second import really delivers every message again (twice as many on the topics,
# same message ids), the aggregator reports them as duplicates in its --json summary,
# and every report figure (2018-Q1 and 2018-Q2, with every dimension) equals both the
# figures after one import and an independent plain count of the file.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init producers_idempotent

gen_jsonl 11 400 250 > in.jsonl
pki_for_jsonl in.jsonl
records=$(wc -l < in.jsonl)
# Messages per import: one per document recipient, one per status and event.
msgs=$(jq -s '[.[] | if .type == "document" then (.to | length) else 1 end] | add' in.jsonl)
counted=$(jq -s 'length' in.jsonl)
copies=$((msgs - counted))
note "$records records, $msgs messages per import"

inputs="^${PREFIX//./\\.}(inbox\\..*|events)\$"
# Message ids are deterministic: sampled on the events topic (4 partitions).
event_ids() { inspect_topic "$(topic events)" | jq -r .content.msg_id | sort; }

note "== first import"
db import in.jsonl --json > imp1.json 2> imp1.err
check_eq "first import exit code" 0 "$?"
check_eq "first import: records valid and delivered" "$records $records" "$(jq -r '"\(.valid) \(.delivered)"' imp1.json)"
check_eq "messages on the topics" "$msgs" "$(total_matching "$inputs")"
event_ids > ids1.txt
aggregate_run agg1.json
check_eq "first aggregate exit code" 0 "$?"
check_eq "first aggregate (consumed counted duplicates extra_copies rejected)" \
    "$msgs $counted 0 $copies 0" \
    "$(jq -r '"\(.consumed) \(.counted) \(.duplicates) \(.extra_copies) \(.rejected)"' agg1.json)"
for q in 2018-Q1 2018-Q2; do
    report_flat $q > "once-$q.txt"
    expected_flat in.jsonl $q > "want-$q.txt"
    check_same "$q figures after one import vs a plain count of the file" "want-$q.txt" "once-$q.txt"
done

note "== the same file again"
db import in.jsonl --json > imp2.json 2> imp2.err
check_eq "second import exit code" 0 "$?"
check_eq "second import: records delivered again" "$records $records" "$(jq -r '"\(.valid) \(.delivered)"' imp2.json)"
check_eq "messages on the topics after two imports" $((2 * msgs)) "$(total_matching "$inputs")"
event_ids > ids2.txt
sort -u ids1.txt > ids1u.txt
sort -u ids2.txt > ids2u.txt
check_same "distinct event message ids after two imports vs one" ids1u.txt ids2u.txt
check_eq "each event message id twice on the topic" "$(wc -l < ids2.txt)" "$(( $(wc -l < ids1.txt) * 2 ))"
aggregate_run agg2.json
check_eq "second aggregate exit code" 0 "$?"
check_eq "second aggregate: all duplicates (consumed counted duplicates extra_copies rejected)" \
    "$msgs 0 $counted $copies 0" \
    "$(jq -r '"\(.consumed) \(.counted) \(.duplicates) \(.extra_copies) \(.rejected)"' agg2.json)"
for q in 2018-Q1 2018-Q2; do
    report_flat $q > "twice-$q.txt"
    check_same "$q figures after two imports vs one" "once-$q.txt" "twice-$q.txt"
done

note "== import twice more, then one aggregate over both"
db import in.jsonl > /dev/null 2>&1 && db import in.jsonl > /dev/null 2>&1
check_eq "third and fourth imports" 0 "$?"
aggregate_run agg3.json
check_eq "one aggregate over two more imports (consumed counted duplicates)" \
    "$((2 * msgs)) 0 $((2 * counted))" \
    "$(jq -r '"\(.consumed) \(.counted) \(.duplicates)"' agg3.json)"
report_flat 2018-Q1 > four-2018-Q1.txt
check_same "2018-Q1 figures after four imports vs one" once-2018-Q1.txt four-2018-Q1.txt

it_done
