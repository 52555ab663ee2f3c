#!/usr/bin/env bash
# import_workers.sh - `docbus import` with several preparing threads
# (docbus.import.workers=4, more than this machine's cores, so that the threads'
# chunks interleave): the order of the input survives. Of 6,000 lines, with invalid and
# blank lines spread through them, every invalid line is reported and kept in input
# order with its own line number, and the valid documents of the one producer carry
# seq 1..N in input order (seq is given in the order the signer takes the lines).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init import_workers

S=000.00.11.H29 R=000.00.16.H29
N=6000
python3 - "$S" "$R" "$N" > in.jsonl <<'EOF'
import json, sys
S, R, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, N + 1):
    if i % 97 == 0:
        print('{"type": "document", "doc_id": not json')
    elif i % 131 == 0:
        print('')
    elif i % 211 == 0:
        print(json.dumps({"type": "document", "doc_id": f"{S},2018/02/01,{i}/X",
                          "from": {"code": S}, "to": [{"code": "000.00.99.H29"}]}))
    else:
        print(json.dumps({"type": "document", "doc_id": f"{S},2018/02/01,{i}/STTTT-CNTT",
              "from": {"code": S, "name": "Sở Thông tin và Truyền thông"}, "to": [{"code": R}],
              "number": str(i), "notation": "STTTT-CNTT", "promulgation_date": "2018-02-01",
              "document_type": "CONG_VAN", "subject": f"Văn bản số {i}",
              "signer": {"full_name": "Nguyễn Văn An"}}, ensure_ascii=False))
EOF
pki_for_jsonl in.jsonl
python3 - "$N" <<'EOF'
import sys
n = int(sys.argv[1])
bad = [i for i in range(1, n + 1) if i % 97 == 0 or (i % 131 and i % 211 == 0)]
good = [i for i in range(1, n + 1) if i % 97 and i % 131 and i % 211]
open("bad.txt", "w").write("".join(f"{i}\n" for i in bad))
open("good.txt", "w").write("".join(f"{i}\n" for i in good))
EOF
nbad=$(wc -l < bad.txt) ngood=$(wc -l < good.txt)

db import in.jsonl -X docbus.import.workers=4 --rejects rejects.jsonl --json > summary.json 2> stderr.txt
check_eq "import exit code (some lines rejected)" 7 "$?"
check_eq "--json summary (lines valid rejected delivered not_delivered)" \
    "$N $ngood $nbad $ngood 0" \
    "$(jq -r '"\(.lines) \(.valid) \(.rejected) \(.delivered) \(.not_delivered)"' summary.json)"
sed -nE 's/^docbus import: line ([0-9]+): .*/\1/p' stderr.txt > stderr-lines.txt
check_same "rejected lines on stderr, in input order" bad.txt stderr-lines.txt
jq -r .line rejects.jsonl > rejects-lines.txt
check_same "rejects file, in input order" bad.txt rejects-lines.txt
first=$(head -1 bad.txt)
if [ "$(jq -r 'select(.line == '"$first"') | .input' rejects.jsonl)" == "$(sed -n "${first}p" in.jsonl)" ]; then
    note "ok: rejects file holds line $first verbatim"
else
    fail "rejects file: the input of line $first is not the original line"
fi

note "== the documents in seq order are the valid lines in input order"
inspect_topic "$(topic "inbox.$R")" > msgs.json
check_eq "verdicts" "valid" "$(jq -r .verdict msgs.json | sort -u | xargs)"
seq 1 "$ngood" > want-seq.txt
jq -r .content.seq msgs.json | sort -n > got-seq.txt
check_same "seq 1..$ngood, each once" want-seq.txt got-seq.txt
jq -r '"\(.content.seq) \(.body.number)"' msgs.json | sort -n | cut -d' ' -f2 > by-seq.txt
check_same "document numbers by seq" good.txt by-seq.txt

it_done
