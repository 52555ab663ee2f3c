#!/usr/bin/env bash
# audit_export.sh - `docbus audit --export` writes an Avro Object Container File that
# fastavro (independent of docbus) reads: header, trust, every audited record byte for
# byte as Kafka holds it, the counts records compared and the verdict. `docbus audit
# --file` re-verifies it with no broker and reaches the same verdict, findings and
# counts (exit 6 here: a tampered message and a forged count record; exit 0 for a clean
# export); it re-proves the messages instead of trusting the recorded verdict (a byte
# changed in the file is found); --ca pins the PKI (another CA: exit 3).
. "$(dirname "$0")/audit/lib.sh"
audit_setup export
P=t$RANDOM$RANDOM.
PY=$ROOT/.venv/bin/python
if ! "$PY" -c 'import fastavro' 2>/dev/null; then
  python3 -m venv "$ROOT/.venv" && "$ROOT/.venv/bin/pip" install -q fastavro || { fail "fastavro venv"; finish; }
fi
ev() { "$PY" "$ROOT/tests/it/audit/evidence.py" "$@"; }

events_jsonl "$W/u1.jsonl" $U1 8 X
stage "$P" "$W/u1.jsonl" 4
# shellcheck disable=SC2046
timeout 300 "$DOCBUS" aggregate --until-caught-up $(xopts "$P") -X docbus.aggregate.group=agg-$P \
  > "$W/agg.log" 2>&1 || { cat "$W/agg.log"; fail "aggregate"; finish; }
grep -q ': 0 consumed' "$W/agg.log" && { cat "$W/agg.log"; fail "docbus aggregate consumed nothing (an aggregator failure, not the audit's)"; finish; }

# clean export, offline
run_audit "$P" "$W/clean.json" --export "$W/clean.avro"
[ "$AUDIT_RC" -eq 0 ] && ok "clean online audit with export: exit 0" || fail "clean online exit $AUDIT_RC: $(cat "$W/clean.json.err")"
"$DOCBUS" audit --file "$W/clean.avro" --json > "$W/clean-off.json" 2> "$W/clean-off.err"
rc=$?
[ $rc -eq 0 ] && ok "clean export verified offline: exit 0" || fail "clean offline exit $rc: $(cat "$W/clean-off.err")"

# tamper: a body-altered copy of one message, and a forged count record
dump "$P" "$W/raw"
part=$(awk -F'\t' 'NR > 1 && $6 == 2 { print $2 }' "$W/raw/list.tsv")
"$FORGE" flip-body "$(file_of "$W/raw" 2)" "$W/s2.body" || fail "flip-body"
"$FORGE" put "$BOOT" "${P}events" "$part" - "$W/s2.body" || fail "put"
rec=$(kcat -b "$BOOT" -C -e -q -t "${P}counts" -f '%k\t%p\t%s\n' 2>/dev/null | grep -m1 '^rating.device|2018-Q1|')
IFS=$'\t' read -r key cpart val <<< "$rec"
forged=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); v["value"]=999; print(json.dumps(v))' "$val")
printf '%s\t%s\n' "$key" "$forged" | kcat -b "$BOOT" -P -t "${P}counts" -K $'\t' -p "$cpart" 2>/dev/null
# and a record no reader can load (its value names another source than its key)
printf '%s\t%s\n' "${key%|*}|elsewhere:0" "$forged" | kcat -b "$BOOT" -P -t "${P}counts" -K $'\t' -p "$cpart" 2>/dev/null

run_audit "$P" "$W/on.json" --export "$W/ev.avro"
[ "$AUDIT_RC" -eq 6 ] && ok "online: exit 6" || fail "online exit $AUDIT_RC: $(cat "$W/on.json.err")"
[ -f "$W/ev.avro" ] && [ ! -e "$W/ev.avro.tmp" ] && ok "evidence file in place" || fail "no evidence file"
"$DOCBUS" audit --file "$W/ev.avro" --json > "$W/off.json" 2> "$W/off.err"
rc=$?
[ $rc -eq 6 ] && ok "offline: exit 6" || fail "offline exit $rc: $(cat "$W/off.err")"
python3 - "$W/on.json" "$W/off.json" <<'PY' && ok "offline verdict, findings, counts and differences = online" || fail "offline differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = [k for k in ("verdict", "messages", "verified", "by_class", "findings", "counts", "differences") if a[k] != b[k]]
print("differ:", bad) if bad else None
sys.exit(1 if bad or b.get("recorded_verdict_agrees") is not True else 0)
PY
$CHECK find "$W/off.json" bad_proof topic="${P}events" partition="$part" seq=2 && ok "offline finds the altered body" || fail "offline bad_proof"
$CHECK diff "$W/off.json" kind=figure figure=rating.device quarter=2018-Q1 audit=8 against=999 \
  && ok "offline shows the forged count (8 vs 999)" || fail "offline count diff"
python3 - "$W/off.json" <<'PY' && ok "an unloadable count record is a difference" || fail "unloadable record"
import json, sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if any(d.get("key", "").endswith("|elsewhere:0") and d.get("reason") for d in v["differences"]) else 1)
PY

# any Avro reader: fastavro
ev describe "$W/ev.avro" > "$W/desc.json" || fail "fastavro cannot read the evidence"
python3 - "$W/desc.json" "$W/on.json" <<'PY' && ok "fastavro: header, trust, records, summary in order; counts match" || fail "fastavro contents"
import json, sys
d, v = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
checks = [
    d["schema"] == "vn.docbus.v1.EvidenceEntry",
    d["order"] == ["EvidenceHeader", "EvidenceTrust", "EvidenceRecord", "EvidenceSummary"],
    d["messages"] == v["messages"],
    d["count_records"] > 0,
    d["trust"]["unit_certs"] >= 2 and d["trust"]["crl"],
    d["verdict"]["verdict"] == "findings" and d["verdict"]["findings"] == v["findings"],
]
print(checks) if not all(checks) else None
sys.exit(0 if all(checks) else 1)
PY
mkdir -p "$W/raw2" && "$FORGE" dump "$BOOT" "${P}events" "$W/raw2" > "$W/raw2.tsv" || fail "dump"
sort <(ev values "$W/ev.avro" | awk '{print $4}') > "$W/ev.sha"
tail -n +2 "$W/raw2.tsv" | cut -f1 | xargs sha256sum | awk '{print $1}' | sort > "$W/kafka.sha"
[ -s "$W/ev.sha" ] && cmp -s "$W/ev.sha" "$W/kafka.sha" && ok "exported values are the Kafka bytes exactly" || fail "exported bytes differ from Kafka"

# the offline audit re-proves: one byte changed in the file is found
ev tamper "$W/ev.avro" "$W/ev-bad.avro" 0 || fail "fastavro rewrite"
"$DOCBUS" audit --file "$W/ev-bad.avro" --json > "$W/bad.json" 2> "$W/bad.err"
[ "$($CHECK get "$W/bad.json" verified)" = "$(( $($CHECK get "$W/on.json" verified) - 1 ))" ] \
  && ok "a byte changed in the evidence: one message less verified" || fail "tampered evidence not detected"
[ "$($CHECK get "$W/bad.json" recorded_verdict_agrees)" = false ] && grep -q "differs from the verdict recorded" "$W/bad.err" \
  && ok "and the recorded verdict no longer agrees" || fail "recorded_verdict_agrees"

# pinning the CA
"$DOCBUS" audit --file "$W/ev.avro" --ca "$PKI/ca.crt" > /dev/null 2>&1
rc=$?; [ $rc -eq 6 ] && ok "--ca of the right PKI: audited (exit 6)" || fail "--ca right PKI: exit $rc"
"$DOCBUS" pki init --dir "$W/other" >/dev/null 2>&1
"$DOCBUS" audit --file "$W/ev.avro" --ca "$W/other/ca.crt" > /dev/null 2> "$W/pin.err"
rc=$?; [ $rc -eq 3 ] && ok "--ca of another PKI: could not audit (exit 3)" || fail "--ca other PKI: exit $rc"
"$DOCBUS" audit --file "$W/nope.avro" > /dev/null 2>&1
rc=$?; [ $rc -eq 3 ] && ok "missing evidence file: exit 3" || fail "missing file: exit $rc"
finish
