#!/usr/bin/env bash
# inbox_restart.sh - `docbus inbox --unit X --out DIR` killed with kill -9 at random moments
# three times while documents (and resends of earlier ones) keep arriving, restarted each
# time, then `--once`: exactly one directory per document, no temporary leftovers, every
# metadata.json valid and verified, every inline attachment stored with its SHA-256 and
# size, and exactly one 01 reply per document in its sender's inbox (distinct message ids
# of S01 statuses; a reply re-sent with the same message id is the same reply).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init inbox_restart

X=000.01.11.H29                                  # Trung tâm CNTT và Truyền thông receives
SENDERS=(000.00.11.H29 000.00.16.H29 000.00.41.H29)
N=300
python3 - "$X" "$N" "${SENDERS[@]}" > docs.jsonl <<'EOF'
import base64, hashlib, json, sys
x, n, senders = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for i in range(n):
    s = senders[i % len(senders)]
    d = f"2018-03-{1 + i % 28:02d}"
    num = str(1000 + i)
    rec = {"type": "document", "doc_id": f"{s},{d.replace('-', '/')},{num}/TEST", "from": {"code": s},
           "to": [{"code": x}], "number": num, "notation": "TEST", "promulgation_date": d,
           "document_type": "CONG_VAN", "subject": f"Văn bản {i}", "signer": {"full_name": "Phạm Văn C"}}
    if i % 3 == 0:   # every third document has inline attachments (one with an awkward name)
        files = [(f"phu-luc {i}.txt", f"Phụ lục của văn bản {i}\n".encode() * (1 + i % 7)),
                 (f"bang/{i}.csv", bytes(range(256)) * (1 + i % 3))]
        rec["attachments"] = [{"name": nm, "media_type": "text/plain", "size": len(b),
                               "sha256": hashlib.sha256(b).hexdigest(),
                               "content": base64.b64encode(b).decode()} for nm, b in files]
    print(json.dumps(rec, ensure_ascii=False))
EOF
pki_new "$PKI"
pki_issue "$PKI" "$X" "${SENDERS[@]}"
# Chunks: new documents shuffled with resends of earlier ones; the last pass resends all.
chunk() { sed -n "$1" docs.jsonl; sed -n "$2" docs.jsonl; }
sed -n '1,75p' docs.jsonl > c1.jsonl
chunk '76,150p' '1,40p' | shuf --random-source=docs.jsonl > c2.jsonl
chunk '151,225p' '41,110p' | shuf --random-source=docs.jsonl > c3.jsonl
chunk '226,300p' '111,200p' | shuf --random-source=docs.jsonl > c4.jsonl
OUT=$IT_DIR/out
# A killed member stays in the inbox's consumer group until its session times out.
fast=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
stored() { find "$OUT" -mindepth 1 -maxdepth 1 -type d ! -name statuses ! -name '.tmp-*' 2> /dev/null | wc -l; }

db import c1.jsonl > /dev/null 2> imp1.err || die "import c1: $(cat imp1.err)"
kills=0 midstream=0
for c in c2 c3 c4; do
    before=$(stored)
    db_bg "inbox-$c.out" "inbox-$c.err" inbox --unit "$X" --out "$OUT" "${fast[@]}"
    ib=$pid
    db import "$c.jsonl" > /dev/null 2> "imp-$c.err" || fail "import $c exited $?: $(tail -2 "imp-$c.err")"
    # kill -9 at a random point: after 1..75 more documents are stored; the second time
    # 0..1.9 s later still (possibly after a round's replies and commit went out)
    target=$((before + 1 + RANDOM % 75))
    end=$((SECONDS + 30))
    while [ "$(stored)" -lt "$target" ] && [ $SECONDS -lt $end ] && kill -0 "$ib" 2> /dev/null; do
        sleep 0.02
    done
    [ $c = c3 ] && sleep "$((RANDOM % 2)).$((RANDOM % 10))"
    if kill -9 "$ib" 2> /dev/null; then
        kills=$((kills + 1))
        [ "$(stored)" -lt "$N" ] && midstream=$((midstream + 1))
        note "kill -9 of the inbox with $(stored) documents stored ($before before this run, target $target)"
    else
        fail "the inbox was not running when it was to be killed: $(tail -2 "inbox-$c.err")"
    fi
    { wait "$ib"; } 2> /dev/null
done
check_eq "kills" 3 "$kills"
# A kill that lands after everything was stored proves little; timing varies with load,
# so at least one of the three must have cut the stream.
[ "$midstream" -ge 1 ] || fail "no kill landed mid-stream (all $N documents were stored each time)"
note "kills mid-stream: $midstream of $kills"
db import docs.jsonl > /dev/null 2> imp-all.err || fail "import of every document again: $(tail -2 imp-all.err)"

note "== restart with --once"
db inbox --unit "$X" --out "$OUT" --once "${fast[@]}" > once.out 2> once.err
rc=$?
check_eq "inbox --once exit code" 0 "$rc"
tail -1 once.err

note "== the directory"
ls -A "$OUT" | grep -v '^statuses$' | sort > dirs.txt
jq -r '.doc_id' docs.jsonl | python3 -c '
import sys
def safe(s):   # the inbox naming rule: [A-Za-z0-9.-] kept, every other byte %XX
    return "".join(chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in ".-") else "%%%02X" % b
                   for b in s.encode())
print("\n".join(sorted(safe(l.rstrip("\n")) for l in sys.stdin)))' > want-dirs.txt
check_same "one directory per document, nothing else (no .tmp leftovers)" want-dirs.txt dirs.txt
python3 - "$OUT" docs.jsonl <<'EOF' > store-check.txt
import hashlib, json, os, sys
out, src = sys.argv[1], sys.argv[2]
want = {}
for line in open(src, encoding="utf-8"):
    r = json.loads(line)
    want[r["doc_id"]] = r
problems, docs, files = [], 0, 0
for name in sorted(os.listdir(out)):
    d = os.path.join(out, name)
    if name == "statuses" or not os.path.isdir(d):
        continue
    try:
        meta = json.load(open(os.path.join(d, "metadata.json"), encoding="utf-8"))
    except Exception as e:
        problems.append(f"{name}: metadata.json unreadable: {e}")
        continue
    docs += 1
    doc = meta.get("document", {})
    r = want.get(doc.get("doc_id"))
    if r is None:
        problems.append(f"{name}: unknown doc_id {doc.get('doc_id')}")
        continue
    for k in ("number", "notation", "promulgation_date", "subject"):
        if doc.get(k) != r[k]:
            problems.append(f"{name}: {k} is {doc.get(k)!r}, sent {r[k]!r}")
    v = meta.get("verified", {})
    if v.get("producer") != r["from"]["code"] or len(v.get("msg_id", "")) != 32:
        problems.append(f"{name}: verified block {v}")
    if not os.path.exists(os.path.join(d, ".replied")):
        problems.append(f"{name}: no .replied marker")
    sent = {a["sha256"]: a for a in r.get("attachments", [])}
    got = doc.get("attachments", [])
    if len(got) != len(sent):
        problems.append(f"{name}: {len(got)} attachments, sent {len(sent)}")
    for a in got:
        p = os.path.join(d, a.get("file") or "")
        if not a.get("file") or not os.path.isfile(p):
            problems.append(f"{name}: attachment {a.get('name')} has no file ({a.get('file')})")
            continue
        b = open(p, "rb").read()
        files += 1
        if hashlib.sha256(b).hexdigest() != a["sha256"] or len(b) != a["size"] or a["sha256"] not in sent:
            problems.append(f"{name}: {a['file']} does not match its SHA-256/size or what was sent")
print(f"{docs} documents, {files} attachment files checked")
for p in problems[:30]:
    print("PROBLEM", p)
EOF
cat store-check.txt | head -40
check_eq "documents stored" "$N documents, $((2 * ((N + 2) / 3))) attachment files checked" "$(head -1 store-check.txt)"
check_eq "problems in the stored documents" 0 "$(grep -c '^PROBLEM' store-check.txt)"

note "== the 01 replies"
for s in "${SENDERS[@]}"; do inspect_topic "$(topic "inbox.$s")"; done > replies.json
check_eq "every reply verifies" 0 "$(jq -r .verdict replies.json | grep -vc '^valid$')"
jq -r --arg x "$X" 'select(.body.code == "S01" and .body.from == $x) | "\(.body.doc_id) \(.content.msg_id)"' \
    replies.json | sort -u > reply-ids.txt
note "$(jq -s length replies.json) reply messages, $(wc -l < reply-ids.txt) distinct (doc, msg_id)"
cut -d' ' -f1 reply-ids.txt | uniq -d > docs-with-two-replies.txt
check_eq "documents with more than one distinct 01 reply" 0 "$(wc -l < docs-with-two-replies.txt)"
head -5 docs-with-two-replies.txt | while read -r d; do grep -F "$d " reply-ids.txt | sed 's/^/    /'; done
jq -r .doc_id docs.jsonl | sort > want-docs.txt
cut -d' ' -f1 reply-ids.txt | sort -u > replied-docs.txt
check_same "documents with a 01 reply" want-docs.txt replied-docs.txt

it_done
