#!/usr/bin/env bash
# audit_verify.sh - `docbus audit` proves every message: a clean sequence has zero
# findings (exit 0); a body altered after signing (bad_proof), a forged signature
# (bad_signature), a signer unknown to the PKI (unknown_signer), a certificate of another
# unit (cert_unit) and a key used after its revocation (cert_revoked) are each found
# at their exact topic/partition/offset, producer and seq (exit 6), and the messages
# they replace are not reported again as seq gaps.
. "$(dirname "$0")/audit/lib.sh"
audit_setup verify
base=t$RANDOM$RANDOM
S=$base.s. C=$base.c. T=$base.t. R=$base.r.

events_jsonl "$W/u1.jsonl" $U1 8 V
stage "$S" "$W/u1.jsonl" 4
dump "$S" "$W/raw"
f() { file_of "$W/raw" "$1"; }
[ -n "$(f 8)" ] || { fail "staging did not produce seqs 1..8"; finish; }

# 1. clean: the 8 messages as signed
put "$C" $(f 1) $(f 2) $(f 3) $(f 4) $(f 5) $(f 6) $(f 7) $(f 8)
run_audit "$C" "$W/clean.json" --against none
[ "$AUDIT_RC" -eq 0 ] && ok "clean run exits 0" || fail "clean run exit $AUDIT_RC: $(cat "$W/clean.json.err")"
$CHECK classes "$W/clean.json" - && ok "clean run has zero findings" || fail "clean run has findings"
[ "$($CHECK get "$W/clean.json" verified)" = 8 ] && ok "8 of 8 verified" || fail "verified != 8"

# 2. tampered copies in one partition: offsets 0..7 are seqs 1..8
"$DOCBUS" pki init --dir "$W/pki2" >/dev/null 2>&1 && \
  "$DOCBUS" pki issue --dir "$W/pki2" --unit $U1 --name "Impostor" >/dev/null 2>&1 || fail "second PKI"
"$FORGE" flip-body "$(f 2)" "$W/s2.body" || fail "flip-body"
"$FORGE" flip-sig "$(f 3)" "$W/s3.sig" || fail "flip-sig"
"$FORGE" resign "$(f 5)" "$W/s5.unknown" "$W/pki2/units/$U1.key" "$W/pki2/units/$U1.crt" || fail "resign unknown"
"$FORGE" resign "$(f 6)" "$W/s6.otherunit" "$PKI/units/$U2.key" "$PKI/units/$U2.crt" || fail "resign other unit"
put "$T" $(f 1) "$W/s2.body" "$W/s3.sig" $(f 4) "$W/s5.unknown" "$W/s6.otherunit" $(f 7) $(f 8)
run_audit "$T" "$W/tampered.json" --against none
[ "$AUDIT_RC" -eq 6 ] && ok "findings exit 6" || fail "tampered run exit $AUDIT_RC: $(cat "$W/tampered.json.err")"
for want in "bad_proof offset=1 seq=2" "bad_signature offset=2 seq=3" \
            "unknown_signer offset=4 seq=5" "cert_unit offset=5 seq=6"; do
  set -- $want
  $CHECK find "$W/tampered.json" "$1" topic="${T}events" partition=0 producer=$U1 "${@:2}" \
    && ok "$want found" || fail "$want not found"
done
$CHECK classes "$W/tampered.json" bad_proof,bad_signature,unknown_signer,cert_unit \
  && ok "nothing else reported (no seq_gap for replaced messages)" || fail "unexpected classes"
[ "$($CHECK get "$W/tampered.json" verified)" = 4 ] && ok "4 of 8 verified" || fail "verified != 4"

# 3. a key used after its revocation: batch 1 before, batch 2 after
events_jsonl "$W/u2a.jsonl" $U2 4 RA
events_jsonl "$W/u2b.jsonl" $U2 4 RB
stage "$R" "$W/u2a.jsonl" 4 "$W/state-r"
cp "$PKI/units/$U2.key" "$PKI/units/$U2.crt" "$W/"   # the key leaks before revocation
sleep 1.2
"$DOCBUS" pki revoke --dir "$PKI" --unit $U2 >/dev/null 2>&1 || fail "pki revoke"
sleep 1.2
cp "$W/$U2.key" "$W/$U2.crt" "$PKI/units/"          # ... and signs afterwards
stage "$R" "$W/u2b.jsonl" 4 "$W/state-r"
rm -f "$PKI/units/$U2.key" "$PKI/units/$U2.crt"
run_audit "$R" "$W/revoked.json" --against none
[ "$AUDIT_RC" -eq 6 ] && ok "revoked: exit 6" || fail "revoked run exit $AUDIT_RC: $(cat "$W/revoked.json.err")"
$CHECK count "$W/revoked.json" cert_revoked 4 && ok "4 messages signed after revocation" || fail "cert_revoked count"
for s in 5 8; do
  $CHECK find "$W/revoked.json" cert_revoked topic="${R}events" producer=$U2 seq=$s \
    && ok "cert_revoked seq $s" || fail "cert_revoked seq $s"
done
$CHECK classes "$W/revoked.json" cert_revoked && ok "signed before revocation: valid" || fail "revoked: other classes"
finish
