#!/usr/bin/env bash
# audit_counts.sh - `docbus audit` recounts the figures exactly as the aggregator does:
# over a simulated dataset (documents to several inboxes, statuses, events) aggregated
# with `docbus aggregate`, the recount agrees with docbus.counts record by record (exit 0)
# and equals the documents in the input (an independent count); --from/--to limit the
# compared quarters; a forged count record in docbus.counts is shown as a difference
# with both values (exit 6); a report JSON file is compared figure by figure.
. "$(dirname "$0")/audit/lib.sh"
audit_setup counts
P=t$RANDOM$RANDOM.
EXPECT="python3 $ROOT/tests/it/audit/expect.py"

"$DOCBUS" simulate --profile hcmc-2018q1 --scale 0.0011 --seed 7 --out "$W/sim.jsonl" >/dev/null 2>&1 \
  || { fail "simulate"; finish; }
for u in $($EXPECT producers "$W/sim.jsonl"); do
  [ -f "$PKI/units/$u.crt" ] || "$DOCBUS" pki issue --dir "$PKI" --unit "$u" --name "Unit $u" >/dev/null 2>&1 \
    || fail "pki issue $u"
done
# shellcheck disable=SC2046
"$DOCBUS" import "$W/sim.jsonl" $(xopts "$P") > "$W/import.log" 2>&1 || { cat "$W/import.log"; fail "import"; finish; }
# shellcheck disable=SC2046
timeout 300 "$DOCBUS" aggregate --until-caught-up $(xopts "$P") -X docbus.aggregate.group=agg-$P \
  > "$W/agg.log" 2>&1 || { cat "$W/agg.log"; fail "aggregate"; finish; }
grep -q ': 0 consumed' "$W/agg.log" && { cat "$W/agg.log"; fail "docbus aggregate consumed nothing (an aggregator failure, not the audit's)"; finish; }

# whole history: every committed record and figure agrees
run_audit "$P" "$W/all.json"
[ "$AUDIT_RC" -eq 0 ] && ok "clean dataset: exit 0" || { fail "exit $AUDIT_RC"; cat "$W/all.json.err"; }
$CHECK classes "$W/all.json" - && ok "no findings" || fail "findings in a clean dataset"
[ "$($CHECK get "$W/all.json" differences)" = "[]" ] && ok "recount equals docbus.counts" || fail "differences"
want=$($EXPECT docs "$W/sim.jsonl" 2018-Q1)
got=$($CHECK get "$W/all.json" counts/2018-Q1/docs.exchanged/quarter_value)
[ "$got" = "$want" ] && ok "docs.exchanged 2018-Q1 = $want documents of the input" || fail "docs.exchanged 2018-Q1 $got, input has $want"
want=$($EXPECT docs-upto "$W/sim.jsonl" 2018-Q1)
got=$($CHECK get "$W/all.json" counts/2018-Q1/docs.exchanged/value)
[ "$got" = "$want" ] && ok "cumulative docs.exchanged = $want" || fail "cumulative docs.exchanged $got, input has $want"
grep -q "counts agree with ${P}counts" "$W/all.json.err" && ok "summary says the counts agree" || fail "summary"

# one quarter
run_audit "$P" "$W/q1.json" --from 2018-Q1 --to 2018-Q1
[ "$AUDIT_RC" -eq 0 ] && ok "2018-Q1 alone: exit 0" || fail "2018-Q1 exit $AUDIT_RC"
[ "$($CHECK get "$W/q1.json" quarters)" = '["2018-Q1"]' ] && ok "only 2018-Q1 compared" || fail "quarters"

# a report file: right figures agree, a wrong one is listed with both values
q1=$($CHECK get "$W/all.json" counts/2018-Q1/docs.exchanged/value)
pb=$($CHECK get "$W/all.json" counts/2018-Q1/press.briefings/value)
printf '{"quarter":"2018-Q1","figures":{"docs.exchanged":{"value":%d},"press.briefings":{"value":%d}}}\n' \
  $((q1 + 5)) "$pb" > "$W/report.json"
run_audit "$P" "$W/rep.json" --against "$W/report.json"
[ "$AUDIT_RC" -eq 6 ] && ok "wrong report figure: exit 6" || fail "report exit $AUDIT_RC"
$CHECK diff "$W/rep.json" kind=figure figure=docs.exchanged quarter=2018-Q1 audit=$q1 against=$((q1 + 5)) \
  && ok "docs.exchanged: audit $q1, report $((q1 + 5))" || fail "report difference"
[ "$($CHECK get "$W/rep.json" differences | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
  && ok "press.briefings agrees" || fail "extra report differences"

# a forged count record (a non-transactional write to the compacted topic)
key=$(kcat -b "$BOOT" -C -e -q -t "${P}counts" -X isolation.level=read_committed -f '%k\n' 2>/dev/null \
      | grep -m1 '^docs.exchanged|2018-Q1|')
[ -n "$key" ] || { fail "no docs.exchanged 2018-Q1 record in ${P}counts"; finish; }
rec=$(kcat -b "$BOOT" -C -e -q -t "${P}counts" -X isolation.level=read_committed -f '%k\t%p\t%s\n' 2>/dev/null \
      | awk -F'\t' -v k="$key" '$1 == k { v = $2 "\t" $3 } END { print v }')
part=${rec%%$'\t'*} val=${rec#*$'\t'}
old=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["value"])' "$val")
forged=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); v["value"]+=1000; print(json.dumps(v, separators=(",",":")))' "$val")
# into the record's own partition, where it replaces the committed value for every reader
printf '%s\t%s\n' "$key" "$forged" | kcat -b "$BOOT" -P -t "${P}counts" -K $'\t' -p "$part" 2>/dev/null
run_audit "$P" "$W/forged.json"
[ "$AUDIT_RC" -eq 6 ] && ok "forged count record: exit 6" || fail "forged exit $AUDIT_RC"
$CHECK diff "$W/forged.json" kind=record key="$key" && ok "forged record listed by key" || fail "record difference"
$CHECK diff "$W/forged.json" kind=figure figure=docs.exchanged quarter=2018-Q1 window=quarter \
  && ok "docs.exchanged 2018-Q1 differs" || fail "figure difference"
python3 - "$W/forged.json" "$key" "$old" <<'PY' && ok "both values shown ($old vs $((old + 1000)))" || fail "record values"
import json, sys
v = json.load(open(sys.argv[1]))
d = [d for d in v["differences"] if d.get("key") == sys.argv[2]][0]
old = int(sys.argv[3])
sys.exit(0 if d["audit"]["value"] == old and d["against"]["value"] == old + 1000 else 1)
PY
$CHECK classes "$W/forged.json" - && ok "forged counts are differences, not message findings" || fail "classes"

# the same key written by hand to another partition: the aggregator never does that
printf '%s\t%s\n' "$key" "$val" | kcat -b "$BOOT" -P -t "${P}counts" -K $'\t' -p $(((part + 1) % 4)) 2>/dev/null
run_audit "$P" "$W/twoparts.json"
python3 - "$W/twoparts.json" "$key" <<'PY' && ok "a key in two partitions is a difference" || fail "key in two partitions"
import json, sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if any(d.get("key") == sys.argv[2] and "partitions" in d.get("reason", "") for d in v["differences"]) else 1)
PY
finish
