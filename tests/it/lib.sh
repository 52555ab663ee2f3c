# lib.sh - shared helpers for the integration tests (sourced, not run): a fresh topic
# prefix, PKI, state dir and aggregator group per test; docbus with the right -X options;
# topics read with kcat; an independent plain count of JSON Lines; assertions that print
# what differs. Usage: `. "$(dirname "$0")/lib.sh"; it_init NAME; ...; it_done`.
# Environment (set by tests/run.sh): DOCBUS, DOCBUS_BOOTSTRAP, DOCBUS_ROOT, DOCBUS_TEST_TMP;
# DOCBUS_TEST_KEEP=1 keeps the work directory.

IT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${DOCBUS_ROOT:-$(cd "$IT_LIB_DIR/../.." && pwd)}
DOCBUS=${DOCBUS:-$ROOT/build/docbus}
BOOT=${DOCBUS_BOOTSTRAP:-127.0.0.1:19092}
IT_FAILS=0
IT_PIDS=()

# it_init NAME: work dir $IT_DIR (cwd), PREFIX, PKI, STATE, GROUP and the option array DX.
it_init() {
    IT_NAME=$1
    local tmproot=${DOCBUS_TEST_TMP:-/tmp}
    IT_DIR=$(mktemp -d "$tmproot/$IT_NAME.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
    IT_ID="$IT_NAME-$(date +%s%N | tail -c 10)-$$"
    PREFIX="it.$IT_ID."
    PKI=$IT_DIR/pki
    STATE=$IT_DIR/state
    GROUP="it-$IT_ID-agg"
    DX=(-X "bootstrap.servers=$BOOT" -X "docbus.topic.prefix=$PREFIX" -X "docbus.pki.dir=$PKI"
        -X "docbus.state.dir=$STATE" -X "docbus.aggregate.group=$GROUP")
    trap it_cleanup EXIT
    cd "$IT_DIR" || exit 1
    [ -x "$DOCBUS" ] || die "$DOCBUS is not built"
    command -v kcat > /dev/null || die "kcat is not installed"
    note "== $IT_NAME: prefix $PREFIX, dir $IT_DIR, broker $BOOT"
}

# Stops background processes this test started (by pid) and removes the work dir.
it_cleanup() {
    local p
    [ "${BASH_SUBSHELL:-0}" = 0 ] || return 0
    [ -s "$IT_DIR/.failed" ] && IT_FAILS=$(wc -l < "$IT_DIR/.failed")
    for p in "${IT_PIDS[@]}"; do kill -9 "$p" 2> /dev/null; done
    if [ "$IT_FAILS" = 0 ] && [ -z "${DOCBUS_TEST_KEEP:-}" ]; then
        cd / && rm -rf "$IT_DIR"
    else
        echo "(work dir kept: $IT_DIR)"
    fi
}

note() { printf '%s\n' "$*"; }
# fail also marks $IT_DIR/.failed, so a failure inside a subshell (a pipe) still counts.
fail() {
    printf 'FAIL: %s\n' "$*"
    IT_FAILS=$((IT_FAILS + 1))
    [ -n "${IT_DIR:-}" ] && echo "$*" >> "$IT_DIR/.failed"
}
die() { fail "$*"; exit 1; }

# it_done: the verdict; exit 0 only when no check failed.
it_done() {
    [ "$IT_FAILS" = 0 ] && [ -s "$IT_DIR/.failed" ] && IT_FAILS=$(wc -l < "$IT_DIR/.failed")
    if [ "$IT_FAILS" = 0 ]; then
        note "$IT_NAME: ok"
        exit 0
    fi
    note "$IT_NAME: $IT_FAILS check(s) failed"
    exit 1
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
    if [ "$2" == "$3" ]; then
        note "ok: $1 = $3"
    else
        fail "$1: expected '$2', got '$3'"
    fi
}

# check_grep WHAT REGEX FILE: FILE has a line matching REGEX (extended).
check_grep() {
    if grep -Eq -- "$2" "$3"; then
        note "ok: $1"
    else
        fail "$1: no line of $3 matches /$2/; it holds:"
        sed 's/^/    | /' "$3" | head -20
    fi
}

# check_line LINE FILE: FILE has exactly this line.
check_line() {
    if grep -Fxq -- "$1" "$2"; then
        note "ok: $2 has '$1'"
    else
        fail "$2 lacks the line '$1'; lines with the same id:"
        grep -F -- "${1%% *}" "$2" | head -10 | sed 's/^/    | /'
    fi
}

# check_same WHAT EXPECTED_FILE ACTUAL_FILE: identical, or a diff is printed.
check_same() {
    if cmp -s "$2" "$3"; then
        note "ok: $1 ($(wc -l < "$3") lines identical)"
    else
        fail "$1 differ (- expected, + actual):"
        diff -u "$2" "$3" | sed 1,2d | head -60 | sed 's/^/    /'
    fi
}

# db CMD ARGS...: docbus with this test's options.
db() {
    local cmd=$1
    shift
    "$DOCBUS" "$cmd" "${DX[@]}" "$@"
}

# db_bg OUT ERR CMD ARGS...: docbus in the background (stdout to OUT, stderr to ERR); its
# own pid (not a subshell's, so signals reach docbus) goes to $pid and IT_PIDS.
db_bg() {
    local out=$1 err=$2 cmd=$3
    shift 3
    "$DOCBUS" "$cmd" "${DX[@]}" "$@" > "$out" 2> "$err" &
    pid=$!
    IT_PIDS+=("$pid")
}

# pki_new DIR: a root CA in DIR.
pki_new() {
    "$DOCBUS" pki init --dir "$1" > /dev/null 2>&1 || die "pki init --dir $1"
}

# pki_issue DIR CODE...: a key and certificate for each unit that has none in DIR yet
# (issuing again would rotate the key).
pki_issue() {
    local dir=$1 code
    shift
    for code in "$@"; do
        [ -f "$dir/units/$code.crt" ] && continue
        "$DOCBUS" pki issue --dir "$dir" --unit "$code" --name "unit $code" > /dev/null 2>&1 ||
            die "pki issue --dir $dir --unit $code"
    done
}

# producers_of FILE: the codes that sign the records of a JSON Lines file (registry codes only).
producers_of() {
    python3 - "$1" "$("$DOCBUS" units | cut -f1 | tr '\n' ' ')" <<'EOF'
import json, sys
known = set(sys.argv[2].split())
out = set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if not isinstance(r, dict):
        continue
    t = r.get("type")
    code = (r.get("from") or {}).get("code") if t == "document" and isinstance(r.get("from"), dict) \
        else r.get("from") if t == "status" else r.get("unit") if t == "event" else None
    if isinstance(code, str) and code in known:
        out.add(code)
print("\n".join(sorted(out)))
EOF
}

# pki_for_jsonl FILE: this test's PKI ($PKI) with a certificate for every producing unit.
pki_for_jsonl() {
    [ -f "$PKI/ca.crt" ] || pki_new "$PKI"
    # shellcheck disable=SC2046
    pki_issue "$PKI" $(producers_of "$1")
}

topic() { printf '%s%s' "$PREFIX" "$1"; }

# kc_read TOPIC [kcat args]: every committed message of TOPIC (kcat -C -e).
kc_read() {
    local t=$1
    shift
    kcat -C -b "$BOOT" -X isolation.level=read_committed -t "$t" -e -q "$@" 2> /dev/null
}

# topic_count TOPIC: how many committed messages TOPIC holds (0 if it does not exist).
topic_count() {
    kc_read "$1" -f 'x\n' | wc -l | tr -d ' '
}

# topic_partitions TOPIC: its partition count (0 if it does not exist).
topic_partitions() {
    kcat -L -b "$BOOT" -t "$1" -J 2> /dev/null |
        jq '[.topics[] | select(.error == null) | .partitions | length] | add // 0'
}

# topics_matching REGEX: this broker's topic names matching REGEX, sorted.
topics_matching() {
    kcat -L -b "$BOOT" -J 2> /dev/null | jq -r '.topics[].topic' | grep -E -- "$1" | sort
}

# count_matching REGEX: "topic count" per topic whose name matches REGEX (librdkafka
# regex), read from the beginning in one pass by a new throwaway consumer group.
count_matching() {
    kcat -b "$BOOT" -G "it-$IT_ID-read-$(date +%s%N)-$RANDOM" -X isolation.level=read_committed \
        -X auto.offset.reset=earliest -e -q -f '%t\n' "$1" 2> /dev/null | sort | uniq -c |
        awk '{print $2, $1}'
}

# total_matching REGEX: how many messages the topics matching REGEX hold together.
total_matching() {
    count_matching "$1" | awk '{n += $2} END {print n + 0}'
}

# inspect_topic TOPIC: every message of TOPIC through `docbus inspect`, one JSON per line.
# Each partition must give as many messages as kcat sees there (one retry), or the test fails.
inspect_topic() {
    local t=$1 p n got try
    while read -r n p; do
        for try in 1 2; do
            db inspect --topic "$t" --partition "$p" --offset 0 --count "$n" 2> "$IT_DIR/inspect.err" |
                jq -c . > "$IT_DIR/inspect.out"
            got=$(wc -l < "$IT_DIR/inspect.out")
            [ "$got" = "$n" ] && break
        done
        [ "$got" = "$n" ] || fail "docbus inspect gave $got of the $n messages of $t [$p]: $(tail -1 "$IT_DIR/inspect.err")"
        cat "$IT_DIR/inspect.out"
    done < <(kc_read "$t" -f '%p\n' | sort -n | uniq -c)
}

# aggregate_run OUT [ARGS]: `docbus aggregate --until-caught-up --json` (stdout to OUT,
# stderr to OUT.err); returns its exit code.
aggregate_run() {
    local out=$1
    shift
    db aggregate --until-caught-up --json "$@" > "$out" 2> "$out.err"
}

# wait_caught_up SECONDS: waits until the aggregator group has committed every input
# message (`docbus report` stops answering 9, lag); returns 0 when caught up in time.
wait_caught_up() {
    local end=$((SECONDS + $1)) rc
    while [ $SECONDS -lt $end ]; do
        db report --quarter 2018-Q1 --format json > /dev/null 2> "$IT_DIR/lag.err"
        rc=$?
        [ $rc = 0 ] && return 0
        [ $rc = 9 ] || [ $rc = 8 ] || { cat "$IT_DIR/lag.err"; return 1; }
        sleep 0.5
    done
    cat "$IT_DIR/lag.err"
    return 1
}

# report_flat QUARTER: the report's figures as sorted lines "id value" and
# "id[dim=key] value" (the per-dimension values of the quarter).
report_flat() {
    db report --quarter "$1" --format json 2> "$IT_DIR/report.err" | jq -r '
        .figures | to_entries[] | select(.value.kind != "list") | .key as $id |
        "\($id) \(.value.value)",
        ((.value.by // {}) | to_entries[] | .key as $dim | .value | to_entries[] |
         select(.value != 0) | "\($id)[\($dim)=\(.key)] \(.value)")' | sort
}

# expected_flat FILE QUARTER: the same lines counted independently over JSON Lines:
# every record once by its natural key, facts by their own Vietnam time.
expected_flat() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
VN = timezone(timedelta(hours=7))
path, q = sys.argv[1], sys.argv[2]
year, n = int(q[:4]), int(q[-1])
start = datetime(year, 3 * n - 2, 1, tzinfo=VN)
end = datetime(year + (n == 4), 1 if n == 4 else 3 * n + 1, 1, tzinfo=VN)

def ts(s):
    t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=VN)

def day(s):
    return datetime.combine(date.fromisoformat(s), datetime.min.time(), VN)

cum = Counter()          # cumulative to the quarter's end
inq = Counter()          # in the quarter
distinct = defaultdict(set)
by = Counter()           # "id[dim=key]" in the quarter
seen = set()
def fact(fid, t, amount=1, dims=()):
    if t >= end:
        return
    cum[fid] += amount
    if t >= start:
        inq[fid] += amount
        for d, k in dims:
            by[(fid, d, k)] += amount

for line in open(path, encoding="utf-8"):
    if not line.strip():
        continue
    r = json.loads(line)
    typ = r.pop("type")
    if typ == "document":
        key = ("d", r["doc_id"])
    elif typ == "status":
        key = ("s", r["doc_id"], r["from"], r["code"], ts(r["at"]))
    else:
        key = ("e", r["unit"], r["event_id"])
    if key in seen:
        continue
    seen.add(key)
    if typ == "document":
        t = day(r["promulgation_date"])
        fact("docs.exchanged", t)
        fact("docs.sent", t, dims=[("from.code", r["from"]["code"])])
        for to in r["to"]:
            fact("docs.received", t, dims=[("to[].code", to["code"])])
        fact("docs.by_type", t, dims=[("document_type", r["document_type"])])
        continue
    if typ == "status":
        fact("status.replies", ts(r["at"]), dims=[("code", r["code"])])
        continue
    t = ts(r["occurred_at"])
    (kind, d), = r["detail"].items()
    if kind == "MailboxesIssued":
        fact("mail.mailboxes", t, d["count"])
    elif kind == "Rating":
        fact("rating.device" if d["channel"] == "DEVICE" else "rating.web", t)
        if t < end:
            distinct["rating.units"].add(r["unit"])
    elif kind in ("LandBranchJoined", "LandDatabaseLinked"):
        if t < end:
            distinct["land.branches" if kind == "LandBranchJoined" else "land.linked"].add(d["district"])
    elif kind == "PressBriefing":
        fact("press.briefings", t)
        fact("press.commended", t, d["articles_commended"])
    elif kind == "PropagandaAssigned":
        fact("press.propaganda", t, d["items"])
    elif kind == "InspectionConcluded":
        fact("inspect.conclusions", t)
    elif kind == "InspectionPreparing":
        fact("inspect.preparing", t)
    elif kind == "InspectionCheck":
        fact("inspect.checked", t, dims=[("detail.sector", d["sector"])])
        if d["sector"] != "OTHER":
            fact("inspect.checked." + d["sector"].lower(), t)
    elif kind == "PenaltyDecision":
        fact("penalty.decisions", t, dims=[("detail.sector", d["sector"])])
        fact("penalty.amount_vnd", t, d["amount_vnd"])

cumulative = {"mail.mailboxes", "docs.exchanged", "rating.device", "rating.web"}
counted = ["mail.mailboxes", "docs.exchanged", "rating.device", "rating.web", "press.briefings",
           "press.commended", "press.propaganda", "inspect.conclusions", "inspect.preparing",
           "inspect.checked", "inspect.checked.internet", "inspect.checked.telecom",
           "inspect.checked.publishing", "inspect.checked.press", "penalty.decisions",
           "penalty.amount_vnd", "docs.sent", "docs.received", "docs.by_type", "status.replies"]
out = [f"{f} {cum[f] if f in cumulative else inq[f]}" for f in counted]
out += [f"{f} {len(distinct[f])}" for f in ("rating.units", "land.branches", "land.linked")]
out += [f"{f}[{d}={k}] {v}" for (f, d, k), v in by.items() if v]
print("\n".join(sorted(out)))
EOF
}

# gen_jsonl SEED NDOCS NEVENTS: a valid, deterministic JSON Lines mix on stdout:
# documents (1-3 recipients, 2017-Q3 .. 2018-Q2, some with statuses from their first
# recipient) and events of every counted kind, spread over many units (so over many
# inbox topics and partitions).
gen_jsonl() {
    python3 - "$1" "$2" "$3" "$("$DOCBUS" units | cut -f1,2 | tr '\t\n' ': ')" <<'EOF'
import json, random, sys
from datetime import date, timedelta
seed, ndocs, nevents, reg = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rnd = random.Random(seed)
units = [u.split(":") for u in reg.split()]
codes = [c for c, k in units if k != "ward"]
districts = [c for c, k in units if k == "district"]
day0 = date(2017, 7, 1)
span = (date(2018, 6, 30) - day0).days
notations = ["STTTT-CNTT", "KH-UBND", "GM-SYT", "BC-STC", "TB-VP"]
types = ["CONG_VAN", "QUYET_DINH", "KE_HOACH", "BAO_CAO", "THONG_BAO", "GIAY_MOI"]
out = []
numbers = {}
for i in range(ndocs):
    s = rnd.choice(codes)
    d = day0 + timedelta(days=rnd.randrange(span))
    numbers[s] = numbers.get(s, seed * 100000) + 1      # distinct doc ids across seeds
    num, nota = str(numbers[s]), rnd.choice(notations)
    to = rnd.sample([c for c in codes if c != s], rnd.randint(1, 3))
    doc_id = f"{s},{d:%Y/%m/%d},{num}/{nota}"
    out.append({"type": "document", "doc_id": doc_id, "from": {"code": s},
                "to": [{"code": c} for c in to], "number": num, "notation": nota,
                "promulgation_date": d.isoformat(), "document_type": rnd.choice(types),
                "subject": f"Văn bản thử số {i}", "signer": {"full_name": "Trần Thị B"}})
    if rnd.random() < 0.15:
        for code in ["S01", "S03"][: rnd.randint(1, 2)]:
            out.append({"type": "status", "doc_id": doc_id, "from": to[0], "to": s, "code": code,
                        "at": f"{d + timedelta(days=1)}T08:{rnd.randrange(60):02d}:00+07:00"})
for i in range(nevents):
    u = rnd.choice(codes)
    t = f"{day0 + timedelta(days=rnd.randrange(span))}T{rnd.randrange(7, 18):02d}:{rnd.randrange(60):02d}:00"
    k = rnd.randrange(10)
    sector = rnd.choice(["INTERNET", "TELECOM", "PUBLISHING", "PRESS", "OTHER"])
    detail = [
        {"Rating": {"channel": "DEVICE", "level": "SATISFIED"}},
        {"Rating": {"channel": "WEB", "level": "VERY_SATISFIED"}},
        {"MailboxesIssued": {"count": rnd.randint(1, 40)}},
        {"PressBriefing": {"topic": "Giao ban", "articles_commended": rnd.randint(0, 12)}},
        {"PropagandaAssigned": {"topic": "Tuyên truyền", "items": rnd.randint(1, 9)}},
        {"InspectionCheck": {"subject": f"Cơ sở {i}", "sector": sector,
                             "outcome": rnd.choice(["COMPLIANT", "VIOLATION"])}},
        {"PenaltyDecision": {"decision_no": f"{i}/QĐ-XPVPHC", "subject": f"Cơ sở {i}",
                             "sector": sector, "amount_vnd": 500000 * rnd.randint(4, 40)}},
        {"LandBranchJoined": {"district": rnd.choice(districts)}},
        {"LandDatabaseLinked": {"district": rnd.choice(districts)}},
        {"InspectionConcluded": {"subject": f"Kết luận {i}"}},
    ][k]
    out.append({"type": "event", "event_id": f"EV-{seed}-{i}", "unit": u, "occurred_at": t,
                "detail": detail})
rnd.shuffle(out)
for r in out:
    print(json.dumps(r, ensure_ascii=False))
EOF
}
