#!/usr/bin/env bash
# report_errors.sh - the report's failure modes each give their own exit code and a clear
# message: malformed quarter (2), a quarter without data (8), counts behind the input
# (9; --allow-lag renders with a visible warning), a template with an unknown
# placeholder (3, naming file and line).
. "$(dirname "$0")/lib.sh"
it_init report_errors
data=$IT_LIB_DIR/data/second-2019q3.jsonl
pki_for_jsonl "$data"
db import "$data" -q || die "import failed"
aggregate_run agg.json || die "aggregate failed"

db report --quarter 2019Q3 > out.txt 2> err.txt
check_eq "malformed quarter exit code" 2 $?
check_grep "malformed quarter message" 'malformed quarter "2019Q3"' err.txt

db report --quarter 2030-Q1 > out.txt 2> err.txt
check_eq "empty quarter exit code" 8 $?
check_grep "empty quarter message" '2030-Q1' err.txt

# More input that nobody has aggregated yet: the counts lag.
printf '%s\n' '{"type":"event","event_id":"LATE-1","unit":"000.00.11.H29","occurred_at":"2019-08-30T10:00:00","detail":{"PenaltyDecision":{"decision_no":"99/QĐ","subject":"E","sector":"OTHER","amount_vnd":1000}}}' > late.jsonl
db import late.jsonl -q || die "import of the late fact failed"
db report --quarter 2019-Q3 > out.txt 2> err.txt
check_eq "lagging counts exit code" 9 $?
check_grep "lag message says what to do" 'aggregate --until-caught-up' err.txt
db report --quarter 2019-Q3 --allow-lag > out.txt 2> err.txt
check_eq "--allow-lag exit code" 0 $?
check_grep "--allow-lag warning in the Markdown" '(Cảnh báo|cảnh báo|chưa được tổng hợp)' out.txt

# The late fact counts in 2019-Q3 once aggregated.
aggregate_run agg2.json || die "second aggregate failed"
db report --quarter 2019-Q3 --format json > r.json || die "report failed"
check_eq "late fact updates the quarter's penalty total" 20001000 \
  "$(python3 -c 'import json,sys; print(json.load(open("r.json"))["figures"]["penalty.amount_vnd"]["value"])')"

cp -r "$ROOT/schemas/templates" tpl
f=$(ls tpl | grep -v '^index$' | head -1)
printf '\nDòng thêm {{inspect.checkd}}\n' >> "tpl/$f"
line=$(wc -l < "tpl/$f")
db report --quarter 2019-Q3 --template-dir tpl > out.txt 2> err.txt
check_eq "template error exit code" 3 $?
check_grep "template error names file, line and placeholder" "$f:$line:.*inspect\.checkd" err.txt
check_eq "nothing written on a template error" 0 "$(wc -c < out.txt)"
it_done
