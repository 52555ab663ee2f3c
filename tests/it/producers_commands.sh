#!/usr/bin/env bash
# producers_commands.sh - `docbus send`, `status` and `emit` end to end on the real broker:
# every message on the topics decodes and verifies (`docbus inspect`: verdict valid,
# producer as given) and carries exactly what was given; a document to three recipients
# lands once in each inbox (inline attachment under docbus.inline.max.bytes, a larger one
# by reference, both with their SHA-256) and `aggregate --json` counts it once; sending
# it again changes no count.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
it_init producers_commands

S=000.00.11.H29                                   # sender: Sở Thông tin và Truyền thông
R=(000.00.16.H29 000.00.05.H29 000.00.41.H29)     # Sở Y tế, Sở Tài chính, Quận 1
E=000.00.20.H29                                   # Thanh tra Thành phố (events)
pki_new "$PKI"
pki_issue "$PKI" "$S" "${R[@]}" "$E"

printf 'Kế hoạch 409: nội dung đính kèm ngắn.\n' > small.txt   # under 100 bytes: inline
head -c 5000 /dev/urandom > big.bin                            # over 100 bytes: referenced
small_sha=$(sha256sum small.txt | cut -c1-64)
big_sha=$(sha256sum big.bin | cut -c1-64)
small_size=$(stat -c %s small.txt)
subject='Về vận hành chính thức dịch vụ thanh toán trực tuyến "thử nghiệm"'

send_doc() {
    db send -X docbus.inline.max.bytes=100 --from "$S" --to "${R[0]}" --to "${R[1]}" --to "${R[2]}" \
        --number 409 --notation KH-STTTT --type KE_HOACH --subject "$subject" \
        --signer "Nguyễn Văn An" --date 2018-01-29 --place "Thành phố Hồ Chí Minh" \
        --priority URGENT --due 2018-03-15 --summary "Tóm tắt" \
        --attach small.txt --attach "$IT_DIR/big.bin"
}

note "== send: a document to three recipients"
doc_id="$S,2018/01/29,409/KH-STTTT"
out=$(send_doc 2> send.err)
rc=$?
check_eq "send exit code" 0 "$rc"
check_eq "send prints the document id" "$doc_id" "$out"
[ $rc = 0 ] || cat send.err

for r in "${R[@]}"; do
    t=$(topic "inbox.$r")
    check_eq "messages in $t" 1 "$(topic_count "$t")"
    inspect_topic "$t" > "msg-$r.json"
    check_eq "verdict of the copy in $t" valid "$(jq -r .verdict "msg-$r.json")"
    check_eq "producer of the copy in $t" "$S" "$(jq -r .content.producer "msg-$r.json")"
    check_eq "body type of the copy in $t" document "$(jq -r .content.body_type "msg-$r.json")"
    # Every field as given (and the defaults of what was not given).
    jq -S '.body | del(.attachments)' "msg-$r.json" > "body-$r.json"
    jq -nS --arg id "$doc_id" --arg s "$S" --arg sub "$subject" \
        --arg r0 "${R[0]}" --arg r1 "${R[1]}" --arg r2 "${R[2]}" '{
        doc_id: $id, from: {code: $s, name: ""},
        to: [{code: $r0, name: ""}, {code: $r1, name: ""}, {code: $r2, name: ""}],
        number: "409", notation: "KH-STTTT", promulgation_place: "Thành phố Hồ Chí Minh",
        promulgation_date: "2018-01-29", document_type: "KE_HOACH", subject: $sub,
        content_summary: "Tóm tắt", signer: {competence: "", position: "", full_name: "Nguyễn Văn An"},
        due_date: "2018-03-15", priority: "URGENT", steering_type: "", sphere_of_promulgation: "",
        page_amount: 1, appendixes: [], response_for: null, business_type: "NEW"}' > want-body.json
    check_same "document fields in $t" want-body.json "body-$r.json"
    # The inline attachment: its bytes and hash; the large one: hash, size and reference.
    check_eq "attachment count in $t" 2 "$(jq '.body.attachments | length' "msg-$r.json")"
    jq -r '.body.attachments[0].content' "msg-$r.json" | base64 -d > "inline-$r.bin" 2> /dev/null
    check_eq "inline attachment bytes in $t (sha256)" "$small_sha" "$(sha256sum < "inline-$r.bin" | cut -c1-64)"
    check_eq "inline attachment fields in $t" "small.txt $small_size $small_sha null" \
        "$(jq -r '.body.attachments[0] | "\(.name) \(.size) \(.sha256) \(.reference)"' "msg-$r.json")"
    check_eq "referenced attachment fields in $t" "big.bin 5000 $big_sha null" \
        "$(jq -r '.body.attachments[1] | "\(.name) \(.size) \(.sha256) \(.content)"' "msg-$r.json")"
    ref=$(jq -r '.body.attachments[1].reference' "msg-$r.json")
    case $ref in
    *"$big_sha"*) note "ok: the reference names the SHA-256 ($ref)" ;;
    *) fail "reference of big.bin in $t is '$ref', without its SHA-256 $big_sha" ;;
    esac
done

note "== status: ${R[0]} answers 03 to the sender"
out=$(db status --doc "$doc_id" --from "${R[0]}" --code 03 --at 2018-01-30T08:15:00 \
    --description "Đã tiếp nhận" --staff "Lê Thị Mai" --department "Văn phòng" 2> status.err)
rc=$?
check_eq "status exit code" 0 "$rc"
[ $rc = 0 ] || cat status.err
check_eq "status prints its natural key" "$doc_id|${R[0]}|S03|1517274900000" "$out"
t=$(topic "inbox.$S")
check_eq "messages in $t" 1 "$(topic_count "$t")"
inspect_topic "$t" > status.json
check_eq "status verdict, producer, type" "valid ${R[0]} status" \
    "$(jq -r '"\(.verdict) \(.content.producer) \(.content.body_type)"' status.json)"
check_eq "status fields" \
    "$doc_id|${R[0]}|$S|S03|Đã tiếp nhận|2018-01-30T08:15:00+07:00|Văn phòng|Lê Thị Mai" \
    "$(jq -r '.body | [.doc_id, .from, .to, .code, .description, .at, .staff.department, .staff.name] | join("|")' status.json)"

note "== emit: a web rating and a penalty decision"
out=$(db emit --kind Rating --id DG-0001 --unit "${R[2]}" --at 2018-02-05T09:30:00+07:00 \
    channel=WEB level=VERY_SATISFIED "service=Đăng ký hộ tịch" 2> emit.err)
check_eq "emit Rating: exit code and key" "0 ${R[2]}|DG-0001" "$? $out"
out=$(db emit --kind PenaltyDecision --id XP-7 --unit "$E" --at 2018-03-01T01:00:00Z \
    "decision_no=7/QĐ-XPVPHC" "subject=Cơ sở in số 03" sector=PUBLISHING amount_vnd=15000000 2>> emit.err)
check_eq "emit PenaltyDecision: exit code and key" "0 $E|XP-7" "$? $out"
t=$(topic events)
check_eq "messages in $t" 2 "$(topic_count "$t")"
inspect_topic "$t" > events.json
check_eq "event verdicts" "valid valid" "$(jq -r .verdict events.json | xargs)"
check_eq "rating event" "${R[2]}|DG-0001|2018-02-05T09:30:00+07:00|WEB|VERY_SATISFIED|Đăng ký hộ tịch" \
    "$(jq -r 'select(.body.event_id == "DG-0001") | .body | [.unit, .event_id, .occurred_at,
        .detail.Rating.channel, .detail.Rating.level, .detail.Rating.service] | join("|")' events.json)"
check_eq "penalty event (01:00Z is 08:00 in Vietnam)" \
    "$E|XP-7|2018-03-01T08:00:00+07:00|7/QĐ-XPVPHC|Cơ sở in số 03|PUBLISHING|15000000" \
    "$(jq -r 'select(.body.event_id == "XP-7") | .body | [.unit, .event_id, .occurred_at,
        .detail.PenaltyDecision.decision_no, .detail.PenaltyDecision.subject,
        .detail.PenaltyDecision.sector, (.detail.PenaltyDecision.amount_vnd | tostring)] | join("|")' events.json)"
check_eq "event producers" "$E ${R[2]}" "$(jq -r .content.producer events.json | sort | xargs)"

note "== aggregate: the three copies count once"
aggregate_run agg1.json
check_eq "aggregate exit code" 0 "$?"
check_eq "aggregate summary (consumed counted duplicates extra_copies rejected)" "6 4 0 2 0" \
    "$(jq -r '"\(.consumed) \(.counted) \(.duplicates) \(.extra_copies) \(.rejected)"' agg1.json)"
report_flat 2018-Q1 > report1.txt
for want in "docs.exchanged 1" "docs.sent[from.code=$S] 1" "docs.by_type[document_type=KE_HOACH] 1" \
    "docs.received[to[].code=${R[0]}] 1" "docs.received[to[].code=${R[1]}] 1" \
    "docs.received[to[].code=${R[2]}] 1" "status.replies[code=S03] 1" "rating.web 1" \
    "rating.units 1" "penalty.decisions[detail.sector=PUBLISHING] 1" "penalty.amount_vnd 15000000"; do
    check_line "$want" report1.txt
done

note "== send the same document again: delivered again, counted once"
out=$(send_doc 2> send2.err)
check_eq "second send: exit code and id" "0 $doc_id" "$? $out"
for r in "${R[@]}"; do
    check_eq "messages in $(topic "inbox.$r") after the resend" 2 "$(topic_count "$(topic "inbox.$r")")"
done
aggregate_run agg2.json
check_eq "second aggregate (consumed counted duplicates extra_copies rejected)" "3 0 1 2 0" \
    "$(jq -r '"\(.consumed) \(.counted) \(.duplicates) \(.extra_copies) \(.rejected)"' agg2.json)"
report_flat 2018-Q1 > report2.txt
check_same "report after the resend" report1.txt report2.txt

it_done
