#!/usr/bin/env bash
# pki_publish.sh - `docbus pki publish` puts unit certificates and the CRL on the certs
# topic, so a consumer holding only the CA certificate verifies and counts; a unit
# revoked (and re-published) before it signs is rejected by that consumer.
. "$(dirname "$0")/lib.sh"
it_init pki_publish
good=000.00.11.H29 bad=000.00.41.H29
pki_new "$PKI"
pki_issue "$PKI" "$good" "$bad"
db pki publish --dir "$PKI" -q || die "pki publish failed"
check_eq "certs topic holds both certificates and the CRL" 3 "$(topic_count "$(topic certs)")"

mkdir caonly && cp "$PKI/ca.crt" caonly/
CA=(-X "docbus.pki.dir=$IT_DIR/caonly")
db emit --unit "$good" --kind PressBriefing --id B-1 --at 2018-02-01T09:00:00 articles_commended=4 > /dev/null ||
  die "emit as $good failed"
aggregate_run a1.json "${CA[@]}" || die "aggregate with only the CA failed: $(cat a1.json.err)"
check_eq "counted with only ca.crt locally" "1 0" "$(jq -r '"\(.counted) \(.rejected)"' a1.json)"

cp -r "$PKI" kept   # the unit keeps a copy of its key after the CA revokes it
db pki revoke --dir "$PKI" --unit "$bad" 2> /dev/null || die "revoke failed"
db pki publish --dir "$PKI" -q || die "second publish failed"
sleep 1
db emit -X "docbus.pki.dir=$IT_DIR/kept" --unit "$bad" --kind PressBriefing --id B-2 \
  --at 2018-02-02T09:00:00 articles_commended=1 > /dev/null || die "emit with the kept key failed"
aggregate_run a2.json "${CA[@]}" || die "second aggregate failed: $(cat a2.json.err)"
check_eq "signed after revocation: rejected, not counted" "0 1" "$(jq -r '"\(.counted) \(.rejected)"' a2.json)"
kc_read "$(topic rejected)" > rejected.txt
check_grep "rejected as cert_revoked" '"reason":"cert_revoked"' rejected.txt

# A unit added while the aggregator runs: its certificate arrives on the certs topic and
# the running aggregator picks it up, no restart.
late=000.00.42.H29
"$DOCBUS" aggregate "${DX[@]}" "${CA[@]}" -q > daemon.out 2> daemon.err &
agg=$!
IT_PIDS+=("$agg")
sleep 6
pki_issue "$PKI" "$late"
db pki publish --dir "$PKI" -q || die "third publish failed"
db emit --unit "$late" --kind PressBriefing --id B-3 --at 2018-02-03T09:00:00 articles_commended=2 > /dev/null ||
  die "emit as the new unit failed"
for i in $(seq 1 30); do
  [ "$(db report --quarter 2018-Q1 --format json 2> /dev/null | jq -r '.figures["press.briefings"].value')" = 2 ] && break
  sleep 1
done
kill -TERM "$agg"; wait "$agg"
check_eq "daemon exit code after SIGTERM" 0 $?
check_eq "new unit's message counted by the running aggregator" 2 \
  "$(db report --quarter 2018-Q1 --format json | jq -r '.figures["press.briefings"].value')"
it_done
