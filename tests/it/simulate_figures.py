#!/usr/bin/env python3
"""simulate_figures.py - independent checker for `docbus simulate`: recomputes every
figure of reference/figures-2018q1.md by plain counting over the JSON Lines and
compares it with the target the figures file's rules give for the scale.

usage: simulate_figures.py FIGURES.md SCALE < dataset.jsonl     (exit 0 ok, 1 mismatch)
Only the Python standard library; it shares no code with docbus."""
import json
import math
import re
import sys
from datetime import date, datetime, timedelta, timezone

VN = timezone(timedelta(hours=7))
Q1_START = datetime(2018, 1, 1, tzinfo=VN)
Q1_END = datetime(2018, 4, 1, tzinfo=VN)      # exclusive
Q1_START_D, Q1_END_D = date(2018, 1, 1), date(2018, 4, 1)


def parse_figures(path):
    """id -> (value, is_more_than); plus the rounding step stated in the text."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"rounding step \((\d+)", text)
    step = int(m.group(1)) if m else 100
    figs = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", cells[0]):
            continue
        raw = cells[4]
        more = raw.startswith("more than")
        num = re.search(r"\d[\d,]*", raw).group(0).replace(",", "")
        figs[cells[0]] = (int(num), more)
    return figs, step


def targets(figs, step, scale):
    """id -> (lo, hi) inclusive. "more than N" figures scale: floor(N*F) plus an offset
    in [0, step*F); everything else is kept at every scale."""
    out = {}
    for fid, (val, more) in figs.items():
        if more:
            base = math.floor(val * scale + 1e-9)
            width = math.ceil(step * scale - 1e-9)
            out[fid] = (base, base + max(width - 1, 0))
        else:
            out[fid] = (val, val)
    return out


def when(s):
    t = datetime.fromisoformat(s)
    return t if t.tzinfo else t.replace(tzinfo=VN)


def count(stream):
    c = {k: 0 for k in ("docs.exchanged", "mail.mailboxes", "rating.device", "rating.web",
                        "press.briefings", "press.commended", "press.propaganda",
                        "inspect.conclusions", "inspect.preparing", "inspect.checked",
                        "inspect.checked.internet", "inspect.checked.telecom",
                        "inspect.checked.publishing", "inspect.checked.press",
                        "penalty.decisions", "penalty.amount_vnd")}
    rating_units, branches, linked = set(), set(), set()
    doc_ids, problems = set(), []
    later = 0            # facts after 2018-Q1: must exist and must not be counted
    highlights, tasks, named = [], 0, set()
    status_unknown_doc = 0
    lines = 0
    for lineno, line in enumerate(stream, 1):
        lines += 1
        r = json.loads(line)
        typ = r.pop("type")
        if typ == "document":
            if r["doc_id"] in doc_ids:
                problems.append(f"line {lineno}: duplicate doc_id {r['doc_id']}")
            doc_ids.add(r["doc_id"])
            d = date.fromisoformat(r["promulgation_date"])
            if d < Q1_END_D:
                c["docs.exchanged"] += 1          # each document once, whatever its recipients
            else:
                later += 1
            named.add(f"{r['number']}/{r['notation']} {r['promulgation_date']}")
            codes = [t["code"] for t in r["to"]]
            if r["from"]["code"] in codes or len(set(codes)) != len(codes) or not 1 <= len(codes) <= 3:
                problems.append(f"line {lineno}: bad recipients {codes}")
            continue
        if typ == "status":
            if r["doc_id"] not in doc_ids:
                status_unknown_doc += 1
            continue
        if typ != "event":
            problems.append(f"line {lineno}: unknown type {typ}")
            continue
        t = when(r["occurred_at"])
        (kind, d), = r["detail"].items()
        if t >= Q1_END:
            later += 1
            continue
        in_q = t >= Q1_START
        if kind == "MailboxesIssued":
            c["mail.mailboxes"] += d["count"]
        elif kind == "Rating":
            c["rating.device" if d["channel"] == "DEVICE" else "rating.web"] += 1
            rating_units.add(r["unit"])
        elif kind == "LandBranchJoined":
            branches.add(d["district"])
        elif kind == "LandDatabaseLinked":
            linked.add(d["district"])
        elif not in_q:
            continue
        elif kind == "PressBriefing":
            c["press.briefings"] += 1
            c["press.commended"] += d["articles_commended"]
        elif kind == "PropagandaAssigned":
            c["press.propaganda"] += d["items"]
        elif kind == "InspectionConcluded":
            c["inspect.conclusions"] += 1
        elif kind == "InspectionPreparing":
            c["inspect.preparing"] += 1
        elif kind == "InspectionCheck":
            c["inspect.checked"] += 1
            sec = {"INTERNET": "internet", "TELECOM": "telecom", "PUBLISHING": "publishing",
                   "PRESS": "press"}.get(d["sector"])
            if sec:
                c["inspect.checked." + sec] += 1
        elif kind == "PenaltyDecision":
            c["penalty.decisions"] += 1
            c["penalty.amount_vnd"] += d["amount_vnd"]
        elif kind == "Highlight":
            highlights.append(d)
        elif kind == "TaskProgress":
            tasks += 1
    c["rating.units"] = len(rating_units)
    c["land.branches"] = len(branches)
    c["land.linked"] = len(linked)
    extra = dict(lines=lines, later=later, highlights=highlights, tasks=tasks, named=named,
                 status_unknown_doc=status_unknown_doc, problems=problems)
    return c, extra


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    figs, step = parse_figures(sys.argv[1])
    scale = float(sys.argv[2])
    want = targets(figs, step, scale)
    got, extra = count(sys.stdin)
    failures = []
    print(f"{'figure':28} {'target':>22} {'counted':>12}")
    for fid in sorted(want):
        lo, hi = want[fid]
        g = got.get(fid)
        ok = g is not None and lo <= g <= hi
        tgt = f"{lo}" if lo == hi else f"[{lo}, {hi}]"
        print(f"{fid:28} {tgt:>22} {str(g):>12}  {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"{fid}: counted {g}, expected {tgt}")
    for fid in sorted(set(got) - set(want)):
        failures.append(f"{fid}: counted but not in the figures file")
    hl = sorted((h["start_date"], h["end_date"]) for h in extra["highlights"])
    want_hl = [("2018-01-08", "2018-01-08"), ("2018-01-11", "2018-01-11"),
               ("2018-01-25", "2018-01-25"), ("2018-02-13", "2018-02-19"),
               ("2018-03-13", "2018-03-13"), ("2018-03-14", "2018-03-14")]
    if hl != want_hl:
        failures.append(f"appendix 2 highlights: dates {hl}, expected {want_hl}")
    fair = [h for h in extra["highlights"] if h.get("visitors")]
    if len(fair) != 1 or fair[0]["visitors"] != 1000000 or fair[0]["revenue_vnd"] != 4500000000:
        failures.append("appendix 2: expected one highlight with 1,000,000 visitors, 4.5 billion VND")
    if extra["tasks"] != 4:
        failures.append(f"appendix 1: {extra['tasks']} programme tasks, expected 4")
    for n in ("263/STTTT-CNTT 2018-02-01", "409/KH-UBND 2018-01-29", "331/KH-UBND 2018-01-23",
              "411/STTTT-KHTH 2018-03-13", "413/STTTT-KHTH 2018-03-13"):
        if n not in extra["named"]:
            failures.append(f"named document {n} missing")
    if extra["later"] == 0:
        failures.append("no facts after 2018-Q1: the quarter window is not exercised")
    if extra["status_unknown_doc"]:
        failures.append(f"{extra['status_unknown_doc']} statuses answer documents not (yet) in the stream")
    failures += extra["problems"][:20]
    print(f"lines {extra['lines']}, facts after 2018-Q1: {extra['later']}")
    if failures:
        print("MISMATCH:\n  " + "\n  ".join(failures))
        return 1
    print("all figures match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
