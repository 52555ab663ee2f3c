#!/usr/bin/env bash
# report_2018q1.sh - golden test of the product: the hcmc-2018q1 simulation (scale 0.002)
# through import -> aggregate -> report. JSON: every figure id of figures-2018q1.md is
# present and equals an independent count of the JSON Lines (simulate_figures.py);
# Markdown: the same figures written the Vietnamese way, in the seed report's words.
. "$(dirname "$0")/lib.sh"
it_init report_2018q1
"$DOCBUS" simulate --profile hcmc-2018q1 --scale 0.002 --seed 21 --out q1.jsonl || die "simulate failed"
pki_for_jsonl q1.jsonl
db import q1.jsonl -q || die "import failed"
aggregate_run agg.json || die "aggregate failed: $(cat agg.json.err)"
db report --quarter 2018-Q1 --format json > r.json || die "report json failed"
db report --quarter 2018-Q1 > r.md || die "report md failed"

# Every figure id of the reference table is in the JSON.
ids=$(grep -oE '^\| [a-z_]+(\.[a-z_]+)+ \|' "$ROOT/tests/golden/figures-2018q1.md" |
      tr -d '| ' | sort)
[ -n "$ids" ] || ids=$(printf '%s\n' mail.mailboxes docs.exchanged rating.units rating.device \
  rating.web land.branches land.linked press.briefings press.commended press.propaganda \
  inspect.conclusions inspect.preparing inspect.checked inspect.checked.internet \
  inspect.checked.telecom inspect.checked.publishing inspect.checked.press penalty.decisions \
  penalty.amount_vnd | sort)
check_eq "figure ids in the JSON" "$ids" "$(jq -r '.figures | keys[]' r.json | grep -xF "$ids" | sort)"

# JSON against an independent count of the input.
python3 "$IT_LIB_DIR/simulate_figures.py" --help > /dev/null 2>&1
python3 - q1.jsonl r.json > cmp.txt <<'PY'
import json, sys, collections, datetime
VN = datetime.timezone(datetime.timedelta(hours=7))
def quarter_of_date(s):
    y, m, _ = map(int, s.split('-'))
    return y * 4 + (m - 1) // 3
def quarter_of_time(s):
    t = datetime.datetime.fromisoformat(s.replace('Z', '+00:00'))
    if t.tzinfo is None:
        t = t.replace(tzinfo=VN)
    t = t.astimezone(VN)
    return t.year * 4 + (t.month - 1) // 3
Q = 2018 * 4
docs, cum, inq, distinct = set(), collections.Counter(), collections.Counter(), collections.defaultdict(set)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r['type'] == 'document':
        if r['doc_id'] not in docs and quarter_of_date(r['promulgation_date']) <= Q:
            cum['docs.exchanged'] += 1
        docs.add(r['doc_id'])
    elif r['type'] == 'event':
        (kind, d), = r['detail'].items()
        q = quarter_of_time(r['occurred_at'])
        if kind == 'MailboxesIssued' and q <= Q: cum['mail.mailboxes'] += d['count']
        if kind == 'Rating' and q <= Q:
            cum['rating.device' if d['channel'] == 'DEVICE' else 'rating.web'] += 1
            distinct['rating.units'].add(r['unit'])
        if kind == 'LandBranchJoined' and q <= Q: distinct['land.branches'].add(d['district'])
        if kind == 'LandDatabaseLinked' and q <= Q: distinct['land.linked'].add(d['district'])
        if q != Q: continue
        if kind == 'PressBriefing': inq['press.briefings'] += 1; inq['press.commended'] += d['articles_commended']
        if kind == 'PropagandaAssigned': inq['press.propaganda'] += d['items']
        if kind == 'InspectionConcluded': inq['inspect.conclusions'] += 1
        if kind == 'InspectionPreparing': inq['inspect.preparing'] += 1
        if kind == 'InspectionCheck':
            inq['inspect.checked'] += 1
            inq['inspect.checked.' + {'INTERNET': 'internet', 'TELECOM': 'telecom', 'PUBLISHING': 'publishing', 'PRESS': 'press'}.get(d['sector'], 'other')] += 1
        if kind == 'PenaltyDecision': inq['penalty.decisions'] += 1; inq['penalty.amount_vnd'] += d['amount_vnd']
want = dict(cum); want.update(inq); want.update({k: len(v) for k, v in distinct.items()})
got = json.load(open(sys.argv[2]))['figures']
for k in sorted(want):
    print(('ok  ' if got[k]['value'] == want[k] else 'BAD ') + f"{k}: counted {want[k]}, report {got[k]['value']}")
PY
cat cmp.txt
check_eq "figures differing from the independent count" 0 "$(grep -c '^BAD' cmp.txt)"

# Markdown: the same values, formatted the Vietnamese way.
vi() { python3 -c 'import sys; print(f"{int(sys.argv[1]):,}".replace(",", "."))' "$1"; }
val() { jq -r ".figures[\"$1\"].value" r.json; }
more() { vi $(( $(val "$1") / 100 * 100 )); }
check_grep "documents: hơn N (rounded down to 100)" "hơn $(more docs.exchanged) văn bản" r.md
check_grep "mailboxes: hơn N" "hơn $(more mail.mailboxes) hộp thư" r.md
check_grep "penalty total in đồng" "$(vi "$(val penalty.amount_vnd)") đồng" r.md
check_grep "telecom checks written with two digits" "tần số vô tuyến điện: 0$(val inspect.checked.telecom)" r.md
check_grep "press checks written with two digits" "báo chí: 0$(val inspect.checked.press)" r.md
check_grep "quarter named the Vietnamese way" "Quý I/2018" r.md
check_grep "appendix 2 lists the book street festival dates" "13–19/02/2018" r.md
it_done
