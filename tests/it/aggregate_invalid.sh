#!/usr/bin/env bash
# aggregate_invalid.sh - invalid messages among valid ones: a body byte flipped after
# signing (bad_proof), a signature byte flipped (bad_signature), a message cut in half
# (truncated), random bytes (bad_magic), a unit of an unrelated PKI (unknown_signer), a
# revoked key still in use (cert_revoked), and validly signed facts dated 1999 (invalid:
# the metrics count 2000..2100 only). Each lands in <prefix>rejected once, with its
# reason and source topic/offset, and every figure equals a plain count of the valid
# input alone: as if the invalid messages had never been sent.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init aggregate_invalid

S=000.00.11.H29                              # signs the valid templates
V=000.00.43.H29                              # Quận 3: its key is revoked, then used anyway
# One recipient inbox per injected class, so the rejected record names its class by topic.
R_PROOF=000.00.81.H29 R_SIG=000.00.82.H29 R_TRUNC=000.00.83.H29 R_MAGIC=000.00.84.H29
R_UNKNOWN=000.00.85.H29 R_REVOKED=000.00.86.H29 R_1999=000.00.87.H29

note "== valid input"
gen_jsonl 5 120 120 > valid.jsonl
pki_for_jsonl valid.jsonl
pki_issue "$PKI" "$S" "$V"
db import valid.jsonl > imp.out 2> imp.err
check_eq "import of the valid input" 0 "$?"

note "== invalid messages"
# Templates: valid messages signed as $S, produced under another prefix (never counted).
SCRATCH=(-X "docbus.topic.prefix=${PREFIX}scratch.")
for n in 1 2 3; do
    db send "${SCRATCH[@]}" --from "$S" --to "$R_PROOF" --number "9$n" --notation TEMPLATE \
        --subject "TEMPLATE-SUBJECT-$n" --signer "Nguyễn Văn An" --date 2018-02-0$n > /dev/null 2>> send.err ||
        die "send template $n: $(cat send.err)"
done
tt="${PREFIX}scratch.inbox.$R_PROOF"
kc_read "$tt" -f '%p %o\n' | sort > templates.txt
check_eq "templates" 3 "$(wc -l < templates.txt)"
i=0
while read -r p o; do
    i=$((i + 1))
    kcat -C -b "$BOOT" -t "$tt" -p "$p" -o "$o" -c 1 -e -q -f '%s' > "template-$i.bin" 2> /dev/null
    db inspect --file "template-$i.bin" > "template-$i.json" 2> /dev/null
    check_eq "template $i verifies" valid "$(jq -r .verdict "template-$i.json")"
done < templates.txt
python3 - "$(jq -r .proof.header.key_id template-2.json)" <<'EOF'
import os, sys
t1, t2, t3 = (open(f"template-{i}.bin", "rb").read() for i in (1, 2, 3))
at = t1.find(b"TEMPLATE-SUBJECT-")                       # a byte of the signed body
assert at > 0, "subject not found in the template"
open("bad-proof.bin", "wb").write(t1[:at] + b"X" + t1[at + 1:])
kid = bytes.fromhex(sys.argv[1])                          # the signature follows the key id
at = t2.find(kid) + 32 + 10
assert at > 42, "key id not found in the template"
open("bad-sig.bin", "wb").write(t2[:at] + bytes([t2[at] ^ 0x01]) + t2[at + 1:])
open("truncated.bin", "wb").write(t3[: len(t3) // 2])
r = bytearray(os.urandom(300))
r[0] = 0x42                                               # never C3 01
open("random.bin", "wb").write(bytes(r))
EOF
for f in bad-proof bad-sig truncated random; do
    db inspect --file "$f.bin" > "$f.json" 2> /dev/null
done
check_eq "inspect verdicts of the forged files" "bad_proof bad_signature truncated bad_magic" \
    "$(for f in bad-proof bad-sig truncated random; do jq -r .error "$f.json"; done | xargs)"
kcat -P -b "$BOOT" -t "$(topic "inbox.$R_PROOF")" bad-proof.bin 2> /dev/null
kcat -P -b "$BOOT" -t "$(topic "inbox.$R_SIG")" bad-sig.bin 2> /dev/null
kcat -P -b "$BOOT" -t "$(topic "inbox.$R_TRUNC")" truncated.bin 2> /dev/null
kcat -P -b "$BOOT" -t "$(topic "inbox.$R_MAGIC")" random.bin 2> /dev/null

# A unit of an unrelated PKI: same code, a key the city's root never certified.
pki_new "$IT_DIR/pki-other"
pki_issue "$IT_DIR/pki-other" "$S"
db send -X "docbus.pki.dir=$IT_DIR/pki-other" -X "docbus.state.dir=$IT_DIR/state-other" \
    --from "$S" --to "$R_UNKNOWN" --number 77 --notation OTHER --subject "Khác" --signer "X" \
    --date 2018-02-10 > /dev/null 2>> send.err || fail "send with the other PKI: $(cat send.err)"

# A revoked key still in use: a copy of the PKI taken before the revocation signs.
sleep 1.1   # CRL times have second precision: the valid input was signed strictly before
cp -a "$PKI" "$IT_DIR/pki-stale"
"$DOCBUS" pki revoke --dir "$PKI" --unit "$V" > /dev/null 2>&1 || die "pki revoke $V"
sleep 1.1
db send -X "docbus.pki.dir=$IT_DIR/pki-stale" --from "$V" --to "$R_REVOKED" --number 5 \
    --notation UBND --subject "Sau thu hồi" --signer "Y" --date 2018-02-11 > /dev/null 2>> send.err ||
    fail "send with the revoked key: $(cat send.err)"

# Validly signed facts of 1999: a document and an event.
db send --from "$S" --to "$R_1999" --number 1 --notation CU --subject "Năm 1999" --signer "Z" \
    --date 1999-05-05 > /dev/null 2>> send.err || fail "send a 1999 document: $(cat send.err)"
db emit --kind Rating --id OLD-1 --unit "$S" --at 1999-06-01T09:00:00 channel=DEVICE level=SATISFIED \
    > /dev/null 2>> send.err || fail "emit a 1999 event: $(cat send.err)"

note "== a bad transaction setting: exit 3, naming the key and its range, nothing read"
aggregate_run agg-bad.json -X docbus.aggregate.commit.messages=0
check_eq "aggregate with commit.messages=0: exit code" 3 "$?"
check_eq "the error names the key and its range" 1 \
    "$(grep -c 'docbus.aggregate.commit.messages=0: expected an integer in \[1, 10000000\]' agg-bad.json.err)"

aggregate_run agg-bad2.json -X docbus.aggregate.commit.interval.ms=6000
check_eq "aggregate with a commit interval over half the transaction timeout: exit code" 3 "$?"
check_eq "the error says what to raise" 1 \
    "$(grep -c 'commit.interval.ms=6000 must be at most half of transaction.timeout.ms (10000)' agg-bad2.json.err)"

note "== aggregate"
aggregate_run agg.json
check_eq "aggregate exit code" 0 "$?"
valid_counted=$(jq -s 'length' valid.jsonl)
check_eq "aggregate --json: counted rejected" "$valid_counted 8" "$(jq -r '"\(.counted) \(.rejected)"' agg.json)"
kc_read "$(topic rejected)" -f '%s\n' > rejected.jsonl
printf '%s\n' "inbox.$R_PROOF bad_proof" "inbox.$R_SIG bad_signature" "inbox.$R_TRUNC truncated" \
    "inbox.$R_MAGIC bad_magic" "inbox.$R_UNKNOWN unknown_signer" "inbox.$R_REVOKED cert_revoked" \
    "inbox.$R_1999 invalid" "events invalid" | sed "s/^/$PREFIX/" | sort > want-rejected.txt
jq -r '"\(.topic) \(.reason)"' rejected.jsonl | sort > got-rejected.txt
check_same "rejected records (source topic, reason)" want-rejected.txt got-rejected.txt
check_eq "every rejected record has a detail, a partition and an offset" 0 \
    "$(jq -s '[.[] | select((.detail // "") == "" or .partition == null or .offset == null)] | length' rejected.jsonl)"
# The record points at the message: its bytes at topic/partition/offset are what was sent.
for pair in "$R_PROOF bad-proof" "$R_SIG bad-sig" "$R_TRUNC truncated" "$R_MAGIC random"; do
    set -- $pair
    loc=$(jq -r --arg t "$(topic "inbox.$1")" 'select(.topic == $t) | "\(.partition) \(.offset)"' rejected.jsonl)
    kcat -C -b "$BOOT" -t "$(topic "inbox.$1")" -p "${loc% *}" -o "${loc#* }" -c 1 -e -q -f '%s' > at.bin 2> /dev/null
    check_eq "the rejected record of $2 points at its bytes" "$(sha256sum < "$2.bin")" "$(sha256sum < at.bin)"
done
jq -r 'select(.reason == "invalid") | .detail' rejected.jsonl > invalid-details.txt
check_eq "the 1999 facts are rejected for their date" 2 "$(grep -c 'outside 2000\.\.2100' invalid-details.txt)"

note "== the figures are those of the valid input alone"
for q in 2018-Q1 2018-Q2; do
    report_flat $q > "got-$q.txt"
    expected_flat valid.jsonl $q > "want-$q.txt"
    check_same "$q figures vs a plain count of the valid input" "want-$q.txt" "got-$q.txt"
done

note "== a second run rejects nothing new and changes nothing"
aggregate_run agg2.json
check_eq "second aggregate: consumed rejected" "0 0" "$(jq -r '"\(.consumed) \(.rejected)"' agg2.json)"
check_eq "rejected records after the second run" 8 "$(topic_count "$(topic rejected)")"

it_done
