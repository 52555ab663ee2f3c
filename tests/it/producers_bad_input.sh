#!/usr/bin/env bash
# producers_bad_input.sh - `docbus import` of a file mixing valid lines with one line of
# each invalid class (unknown field, wrong type, unknown organisation code, impossible
# date, over-long subject, oversize attachment (over the bytes cap, and over one Kafka
# message), recipient equal to the sender, duplicate recipients, not JSON, unknown type):
# each is reported on stderr with its line number and reason, copied verbatim to the
# rejects file, the exit code is 7, and exactly the valid lines are on the topics, valid.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init producers_bad_input

S=000.00.11.H29 R=000.00.16.H29 R3=000.00.05.H29 U=000.00.41.H29
python3 - "$S" "$R" "$R3" "$U" > in.jsonl <<'EOF'
import base64, hashlib, json, sys
S, R, R3, U = sys.argv[1:5]
def doc(num, **kw):
    d = {"type": "document", "doc_id": f"{S},2018/02/01,{num}/STTTT-CNTT",
         "from": {"code": S, "name": "Sở Thông tin và Truyền thông"}, "to": [{"code": R, "name": "Sở Y tế"}],
         "number": str(num), "notation": "STTTT-CNTT", "promulgation_date": "2018-02-01",
         "document_type": "CONG_VAN", "subject": "Về việc thử nghiệm", "signer": {"full_name": "Nguyễn Văn An"}}
    d.update(kw)
    return json.dumps(d, ensure_ascii=False)
def att(n):
    b = bytes(i % 251 for i in range(n))
    return [{"name": "a.bin", "size": n, "sha256": hashlib.sha256(b).hexdigest(),
             "content": base64.b64encode(b).decode()}]
lines = [
    doc(1),                                                              # 1 valid
    doc(2, subjet="Về việc"),                                            # 2 unknown field
    doc(3, page_amount="3"),                                             # 3 wrong type
    json.dumps({"type": "event", "event_id": "DG-1", "unit": U, "occurred_at": "2018-01-08T09:30:00",
                "detail": {"Rating": {"channel": "DEVICE", "level": "SATISFIED"}}}),  # 4 valid
    doc(5, to=[{"code": "000.00.99.H29"}]),                              # 5 unknown organisation
    doc(6, promulgation_date="2018-02-30", doc_id=f"{S},2018/02/30,6/STTTT-CNTT"),  # 6 impossible date
    doc(7, subject="ệ" * 501),                                           # 7 over-long subject
    doc(8, attachments=att(1100 * 1024)),                                # 8 attachment over the bytes cap
    doc(9, attachments=att(1000000)),                                    # 9 record over one message
    doc(10, to=[{"code": R}, {"code": R3}]),                             # 10 valid, two recipients
    doc(11, to=[{"code": S}]),                                           # 11 recipient is the sender
    doc(12, to=[{"code": R}, {"code": R}]),                              # 12 duplicate recipients
    '{"type": "document", "doc_id": not json',                           # 13 not JSON
    '{"type": "memo", "doc_id": "x"}',                                   # 14 unknown type
    json.dumps({"type": "status", "doc_id": f"{S},2018/02/01,1/STTTT-CNTT", "from": R, "to": S,
                "code": "S01", "at": "2018-02-01T10:12:00+07:00"}),       # 15 valid
    doc(16, attachments=att(2000)),                                      # 16 valid, inline attachment
]
print("\n".join(lines))
EOF
pki_for_jsonl in.jsonl
declare -A want=(
    [2]='subjet: unknown field'
    [3]='page_amount: expected an integer'
    [5]='to\[0\]\.code: unknown organisation code "000\.00\.99\.H29"'
    [6]='promulgation_date: impossible date "2018-02-30"'
    [7]='subject: 501 characters, over the 500-character cap'
    [8]='attachments\[0\]\.content: bytes over the [0-9]+-byte cap'
    [9]='record encodes to [0-9]+ bytes, over the [0-9]+-byte cap'
    [11]='to\[0\]\.code: recipient "000\.00\.11\.H29" is the sender'
    [12]='to\[1\]\.code: duplicate recipient "000\.00\.16\.H29"'
    [13]='not JSON'
    [14]='type: unknown type "memo"'
)

db import in.jsonl --rejects rejects.jsonl --json > summary.json 2> stderr.txt
rc=$?
check_eq "import exit code (some lines rejected)" 7 "$rc"
check_eq "--json summary (lines valid rejected delivered not_delivered)" "16 5 11 5 0" \
    "$(jq -r '"\(.lines) \(.valid) \(.rejected) \(.delivered) \(.not_delivered)"' summary.json)"

note "== each invalid line on stderr, with its line number and reason"
for n in "${!want[@]}"; do
    check_grep "stderr reports line $n (${want[$n]})" "^docbus import: line $n: .*${want[$n]}" stderr.txt
done
check_eq "lines reported on stderr" "$(printf '%s\n' "${!want[@]}" | sort -n | xargs)" \
    "$(sed -nE 's/^docbus import: line ([0-9]+): .*/\1/p' stderr.txt | sort -n | xargs)"

note "== each invalid line in the rejects file, verbatim, with the same reason"
check_eq "rejects file line numbers" "$(printf '%s\n' "${!want[@]}" | sort -n | xargs)" \
    "$(jq -r .line rejects.jsonl | sort -n | xargs)"
for n in "${!want[@]}"; do
    if [ "$(jq -r --argjson n "$n" 'select(.line == $n) | .input' rejects.jsonl)" == "$(sed -n "${n}p" in.jsonl)" ]; then
        note "ok: rejects file holds line $n verbatim"
    else
        fail "rejects file: the input of line $n is not the original line"
    fi
    jq -r --argjson n "$n" 'select(.line == $n) | .error' rejects.jsonl > "err-$n.txt"
    check_grep "rejects file: reason of line $n" "${want[$n]}" "err-$n.txt"
done

note "== the valid lines are on the topics, once, and verify"
check_eq "documents in inbox.$R (lines 1, 10, 16)" 3 "$(topic_count "$(topic "inbox.$R")")"
check_eq "documents in inbox.$R3 (line 10)" 1 "$(topic_count "$(topic "inbox.$R3")")"
check_eq "statuses in inbox.$S (line 15)" 1 "$(topic_count "$(topic "inbox.$S")")"
check_eq "events (line 4)" 1 "$(topic_count "$(topic events)")"
check_eq "docbus topics" "$(printf '%s\n' events "inbox.$R3" "inbox.$S" "inbox.$R" | sed "s/^/$PREFIX/" | sort | xargs)" \
    "$(topics_matching "^${PREFIX//./\\.}" | xargs)"
for t in "inbox.$R" "inbox.$R3" "inbox.$S" events; do inspect_topic "$(topic "$t")"; done > msgs.json
check_eq "verdicts" "valid valid valid valid valid valid" "$(jq -r .verdict msgs.json | xargs)"
printf '%s\n' "$S,2018/02/01,1/STTTT-CNTT" "$S,2018/02/01,10/STTTT-CNTT" "$S,2018/02/01,10/STTTT-CNTT" \
    "$S,2018/02/01,16/STTTT-CNTT" "$S,2018/02/01,1/STTTT-CNTT|$R|S01" "$U|DG-1" | sort > want-keys.txt
jq -r '.body | if .event_id then "\(.unit)|\(.event_id)" elif .code then "\(.doc_id)|\(.from)|\(.code)"
    else .doc_id end' msgs.json | sort > got-keys.txt
check_same "records delivered (one per valid line and recipient)" want-keys.txt got-keys.txt

it_done
