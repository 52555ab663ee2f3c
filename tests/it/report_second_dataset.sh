#!/usr/bin/env bash
# report_second_dataset.sh - a hand-written dataset in another quarter (2019-Q3, with
# history in Q2 and facts in Q4 that must stay out) goes through import -> aggregate ->
# report and gives exactly the figures computed by hand in data/second-2019q3.expected,
# in JSON and formatted the Vietnamese way in Markdown.
. "$(dirname "$0")/lib.sh"
it_init report_second_dataset
data=$IT_LIB_DIR/data/second-2019q3.jsonl

pki_for_jsonl "$data"
db import "$data" -q || die "import failed"
aggregate_run agg.json || die "aggregate failed: $(cat agg.json.err)"

db report --quarter 2019-Q3 --format json > report.json || die "report --format json failed"
python3 - "$IT_LIB_DIR/data/second-2019q3.expected" report.json > diff.txt <<'PY'
import json, sys
want = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line and not line.startswith('#'):
        k, v = line.split()
        want[k] = int(v)
got = json.load(open(sys.argv[2]))
assert got["quarter"] == "2019-Q3", got["quarter"]
for k, v in sorted(want.items()):
    g = got["figures"].get(k, {}).get("value")
    print(("ok  " if g == v else "BAD ") + f"{k}: expected {v}, got {g}")
PY
cat diff.txt
check_eq "figures that differ from the hand count" 0 "$(grep -c '^BAD' diff.txt)"
check_eq "figures checked" 19 "$(wc -l < diff.txt)"

db report --quarter 2019-Q3 > report.md || die "report (Markdown) failed"
check_grep "quarter named the Vietnamese way" 'Quý III/2019' report.md
check_grep "penalty total in đồng" '20\.000\.000 đồng' report.md
check_grep "mailboxes: 155 rounded down to the step, the seed's way" "hơn 100 hộp thư" report.md
it_done
