#!/usr/bin/env bash
# secure_acl.sh - on the real secure broker (SASL_SSL, SCRAM-SHA-512, ACLs from the unit
# registry): unit B reads its inbox and unit A cannot; the auditor reads but cannot write;
# the aggregator runs its transactions with its own login; and a unit with a valid Kafka
# login still cannot publish a message that verifies as another unit's (the aggregator
# rejects it as cert_unit and counts nothing from it). Also: topics apply and acl apply
# are idempotent. Starts and stops its own broker (own dir and ports).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCBUS=${DOCBUS:-$ROOT/build/docbus}
T=$(mktemp -d "${DOCBUS_TEST_TMP:-/tmp}/secure_acl.XXXXXX")
export DOCBUS_KAFKA_DIR=$T/kafka DOCBUS_KAFKA_PORT=${SECURE_ACL_PORT:-19194}
export DOCBUS_KAFKA_CONTROLLER_PORT=$((DOCBUS_KAFKA_PORT + 1))
unset DOCBUS_CONFIG
A=000.00.00.H29 B=000.00.01.H29
fails=0

cleanup() { "$ROOT/deploy/kafka/local.sh" --secure stop >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
die() { echo "FAIL $*"; exit 1; }

ADMIN=$("$ROOT/deploy/kafka/local.sh" start --secure 2> "$T/start.log") \
    || { cat "$T/start.log"; die "secure broker start"; }
ok "secure broker up ($(sed -n 's/^bootstrap.servers=//p' "$ADMIN"))"

# --- PKI, SCRAM users, topics, ACLs ------------------------------------------------
PKI=$T/pki
"$DOCBUS" pki init --dir "$PKI" -q >/dev/null 2>&1 || die "pki init"
for u in $A $B; do "$DOCBUS" pki issue --dir "$PKI" --unit $u --name "Unit $u" >/dev/null 2>&1 || die "pki issue $u"; done
"$ROOT/deploy/kafka/secure/add-user.sh" $A pwA-secret1 $B pwB-secret1 docbus-aggregator pwAgg-secret1 \
    docbus-auditor pwAud-secret1 > "$T/users.txt" || die "add-user.sh"
U=$DOCBUS_KAFKA_DIR/users
[ "$(wc -l < "$T/users.txt")" -eq 4 ] && ok "add-user.sh: 4 SCRAM users with client configs" || bad "add-user.sh output"

"$DOCBUS" topics apply -c "$ADMIN" --replication-factor 1 -q > "$T/topics1.txt"; rc=$?
[ $rc -eq 0 ] && grep -q "^created docbus.inbox.$A (1 partition," "$T/topics1.txt" \
    && grep -q "^created docbus.counts" "$T/topics1.txt" \
    && ok "topics apply creates every topic" || { bad "topics apply (exit $rc)"; cat "$T/topics1.txt"; }
"$DOCBUS" topics apply -c "$ADMIN" --replication-factor 1 -q > "$T/topics2.txt"
n=$(grep -c '^created' "$T/topics1.txt")
check "topics apply again changes nothing ($n topics)" grep -qx "unchanged: $n topics (of $n)" "$T/topics2.txt"

"$DOCBUS" acl apply -c "$ADMIN" -q > "$T/acl1.txt" || die "acl apply"
check "acl apply grants the derived bindings" grep -q "^granted [0-9]* bindings" "$T/acl1.txt"
# DescribeAcls is answered from the broker's metadata image, a moment behind: wait until
# a dry run sees every binding before checking that applying again changes nothing.
for i in $(seq 1 15); do
  "$DOCBUS" acl apply -c "$ADMIN" -q --dry-run > "$T/acl-dry.txt" 2>&1 &&
    grep -q "^unchanged: [0-9]* bindings" "$T/acl-dry.txt" && ! grep -q "grant" "$T/acl-dry.txt" && break
  sleep 1
done
"$DOCBUS" acl apply -c "$ADMIN" -q > "$T/acl2.txt"
check "acl apply again grants nothing" grep -q "^unchanged: [0-9]* bindings" "$T/acl2.txt"
check "acl apply again: no 'granted' line" sh -c "! grep -q '^granted' '$T/acl2.txt'"
"$ROOT/deploy/kafka/secure/acl-txn.sh" > /dev/null 2>&1 || die "acl-txn.sh"
"$DOCBUS" topics apply -c "$U/$A.properties" --replication-factor 1 -q > /dev/null 2> "$T/topics3.err"
rc=$?
[ $rc -eq 10 ] && ok "a unit cannot run topics apply (exit 10: $(head -c 90 "$T/topics3.err")...)" \
    || { bad "topics apply as a unit: exit $rc"; cat "$T/topics3.err"; }
"$DOCBUS" acl apply -c "$U/$A.properties" -q > /dev/null 2> "$T/acl3.err"
rc=$?
[ $rc -eq 10 ] && ok "a unit cannot run acl apply (exit 10)" || { bad "acl apply as a unit: exit $rc"; cat "$T/acl3.err"; }

X="-X docbus.pki.dir=$PKI -X docbus.batch.size=1 -X docbus.delivery.deadline.ms=20000"

# --- unit A writes to B; B reads its inbox, A cannot ----------------------------------
"$DOCBUS" send -c "$U/$A.properties" $X -X docbus.state.dir=$T/stateA --from $A --to $B \
    --number 7 --notation UBND-VP --subject "Kiểm thử ACL" --signer "Nguyễn Văn A" \
    --date 2018-03-01 > "$T/send.out" 2> "$T/send.err"
check "A sends a document to B over SASL_SSL" test -s "$T/send.out"
"$DOCBUS" emit -c "$U/$A.properties" $X -X docbus.state.dir=$T/stateA --unit $A \
    --kind MailboxesIssued --id secure-ev-1 --at 2018-02-01T09:00:00 count=3 > /dev/null 2> "$T/emit.err" \
    || { bad "A emits an event"; cat "$T/emit.err"; }

timeout 60 "$DOCBUS" inbox -c "$U/$B.properties" $X -X docbus.state.dir=$T/stateB --unit $B \
    --out "$T/inboxB" --once > /dev/null 2> "$T/inboxB.err"; rc=$?
[ $rc -eq 0 ] && [ -n "$(ls "$T/inboxB" 2>/dev/null | grep -v statuses)" ] \
    && ok "B receives the document from its own inbox" || { bad "B's inbox (exit $rc)"; cat "$T/inboxB.err"; }

start=$SECONDS
timeout 60 "$DOCBUS" inbox -c "$U/$A.properties" $X -X docbus.state.dir=$T/stateA2 --unit $B \
    --out "$T/inboxA" --once > /dev/null 2> "$T/inboxA.err"; rc=$?
if [ $rc -eq 10 ] && grep -qi "authori[sz]ation" "$T/inboxA.err" && [ $((SECONDS - start)) -lt 20 ]; then
    ok "A cannot read B's inbox with docbus inbox: exit 10, $(grep -i -m1 'authori' "$T/inboxA.err")"
else
    bad "A reading B's inbox: exit $rc after $((SECONDS - start)) s"; cat "$T/inboxA.err"
fi
[ -z "$(ls "$T/inboxA" 2>/dev/null | grep -v statuses)" ] && ok "nothing of B's was stored for A" || bad "A stored B's documents"

# the topic ACL itself, without any group: a plain assign() read of B's inbox as A
timeout 30 kcat -F "$U/$A.properties" -C -t docbus.inbox.$B -o beginning -e > /dev/null 2> "$T/kcatA.err"
check "A cannot fetch docbus.inbox.$B even without a group (Topic authorization failed)" \
    grep -q "Topic authorization failed" "$T/kcatA.err"
echo junk | timeout 30 kcat -F "$U/$A.properties" -P -t docbus.counts > /dev/null 2> "$T/kcatA2.err"
check "A cannot write docbus.counts" grep -q "Topic authorization failed" "$T/kcatA2.err"

# --- the auditor reads everything, writes nothing -------------------------------------
n=$(timeout 30 kcat -F "$U/docbus-auditor.properties" -C -t docbus.events -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && ok "the auditor reads docbus.events ($n messages)" || bad "the auditor cannot read docbus.events"
n=$(timeout 30 kcat -F "$U/docbus-auditor.properties" -C -t docbus.inbox.$B -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && ok "the auditor reads B's inbox" || bad "the auditor cannot read B's inbox"
for t in docbus.events docbus.inbox.$A docbus.counts docbus.rejected; do
    echo junk | timeout 30 kcat -F "$U/docbus-auditor.properties" -P -t $t > /dev/null 2> "$T/aud.err"; rc=$?
    [ $rc -ne 0 ] && grep -q "Topic authorization failed" "$T/aud.err" \
        && ok "the auditor cannot write $t" || { bad "the auditor wrote to $t (exit $rc)"; cat "$T/aud.err"; }
done

# --- the aggregator's transactions under its own login --------------------------------
timeout 90 "$DOCBUS" aggregate -c "$U/docbus-aggregator.properties" -X docbus.pki.dir=$PKI \
    --until-caught-up --json > "$T/agg1.json" 2> "$T/agg1.err"; rc=$?
if [ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["counted"]>=2 and d["transactions"]>=1 and d["rejected"]==0 else 1)' "$T/agg1.json"; then
    ok "the aggregator counts in transactions with its own login: $(cat "$T/agg1.json")"
else
    bad "aggregate as docbus-aggregator (exit $rc)"; cat "$T/agg1.json" "$T/agg1.err"
fi

# --- A signs a message that claims to come from B --------------------------------------
# The impersonator: takes one of A's own envelopes, rewrites the producer to B, builds a
# one-message batch for it and signs it with A's real key and certificate. What a unit
# could do with its own key and any software: nothing of B's key is used.
cat > "$T/impersonate.c" <<'EOF'
/* impersonate.c - secure_acl.sh's forger: IN OUT PRODUCER KEY CERT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "batch.h"
#include "codec.h"
#include "merkle.h"
#include "pki.h"
int main(int argc, char **argv)
{
    static uint8_t in[ENVELOPE_MAX_BYTES + 1], cav[ENVELOPE_MAX_BYTES], out[ENVELOPE_MAX_BYTES];
    uint8_t sig_msg[4096];
    size_t len, clen = 0, hl = 0, siglen = 64, outlen = 0, ctxlen = strlen(BATCH_SIG_CONTEXT) + 1;
    content_t c;
    proof_t p;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char err[512];
    FILE *f;
    if (argc != 6 || !(f = fopen(argv[1], "rb")))
        return 2;
    len = fread(in, 1, sizeof in, f);
    fclose(f);
    if (envelope_read(in, len, &c, &p, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "impersonate: %s\n", err);
        return 1;
    }
    snprintf(c.producer, sizeof c.producer, "%s", argv[3]);
    if (content_encode(&c, cav, sizeof cav, &clen) || pki_key_load(argv[4], &key, err, sizeof err) ||
        pki_cert_load(argv[5], &cert, err, sizeof err)) {
        fprintf(stderr, "impersonate: %s\n", err);
        return 1;
    }
    memset(&p, 0, sizeof p);
    snprintf(p.header.producer, sizeof p.header.producer, "%s", argv[3]);
    p.header.batch_seq = 1;
    p.header.first_seq = c.seq;
    p.header.count = 1;
    p.header.created_at = (int64_t)time(NULL) * 1000;
    merkle_leaf(cav, clen, p.header.root);   /* one leaf: the root is the leaf */
    pki_cert_key_id(cert, p.header.key_id);
    memcpy(sig_msg, BATCH_SIG_CONTEXT, ctxlen);
    if (batch_header_encode(&p.header, sig_msg + ctxlen, sizeof sig_msg - ctxlen, &hl) ||
        EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
        EVP_DigestSign(ctx, p.signature, &siglen, sig_msg, ctxlen + hl) != 1 ||
        envelope_write(cav, clen, &p, out, sizeof out, &outlen) || !(f = fopen(argv[2], "wb")) ||
        fwrite(out, 1, outlen, f) != outlen || fclose(f)) {
        fprintf(stderr, "impersonate: signing or writing failed\n");
        return 1;
    }
    return 0;
}
EOF
OBJ=$(dirname "$DOCBUS")
# shellcheck disable=SC2046
gcc -std=c11 -D_GNU_SOURCE -O1 -I"$ROOT/lib" $(pkg-config --cflags rdkafka avro-c libcrypto jansson) \
    -o "$T/impersonate" "$T/impersonate.c" "$OBJ"/lib/*.o "$OBJ"/gen/schemas_embedded.o \
    $(pkg-config --libs rdkafka avro-c libcrypto jansson yajl libcmark) -lm $(case $OBJ in *san*) echo -fsanitize=address,undefined ;; esac) \
    || die "cannot build the impersonator"
# A's own event, as A could keep it when it published it
timeout 30 kcat -F "$U/docbus-auditor.properties" -C -t docbus.events -o beginning -e -q -c 1 -f '%s' > "$T/a-event.bin" 2>/dev/null
[ -s "$T/a-event.bin" ] || die "could not read A's event"
"$T/impersonate" "$T/a-event.bin" "$T/forged.bin" $B "$PKI/units/$A.key" "$PKI/units/$A.crt" || die "impersonate"
timeout 30 kcat -F "$U/$A.properties" -P -t docbus.events -k $B "$T/forged.bin" 2> "$T/forge-put.err" \
    && ok "A (valid login) publishes an envelope claiming producer B" || { bad "publishing the forgery"; cat "$T/forge-put.err"; }

timeout 90 "$DOCBUS" aggregate -c "$U/docbus-aggregator.properties" -X docbus.pki.dir=$PKI \
    --until-caught-up --json > "$T/agg2.json" 2> "$T/agg2.err"; rc=$?
if [ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["consumed"]==1 and d["rejected"]==1 and d["counted"]==0 and d["facts"]==0 else 1)' "$T/agg2.json"; then
    ok "the aggregator rejects the forgery and counts nothing from it: $(cat "$T/agg2.json")"
else
    bad "aggregate after the forgery (exit $rc)"; cat "$T/agg2.json" "$T/agg2.err"
fi
timeout 30 kcat -F "$U/docbus-auditor.properties" -C -t docbus.rejected -o beginning -e -q -f '%s\n' \
    > "$T/rejected.jsonl" 2>/dev/null
if python3 - "$T/rejected.jsonl" "$B" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hit = [r for r in recs if r.get("reason") == "cert_unit" and r.get("topic") == "docbus.events"]
print("   rejected:", hit[0] if hit else recs)
sys.exit(0 if len(recs) == 1 and hit else 1)
EOF
then ok "docbus.rejected holds it with reason cert_unit"; else bad "no cert_unit dead letter"; fi

echo "$fails failed"
[ $fails -eq 0 ]
