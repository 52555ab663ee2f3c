#!/usr/bin/env python3
"""expect.py - independent facts about a JSON Lines dataset for the audit tests.

  expect.py producers FILE           the producing unit codes, one a line
  expect.py docs FILE QUARTER        documents promulgated in QUARTER ("2018-Q1")
  expect.py docs-upto FILE QUARTER   documents promulgated up to QUARTER's end
"""
import json
import sys


def quarter(date):
    y, m = int(date[:4]), int(date[5:7])
    return (y, (m - 1) // 3 + 1)


def parse_q(s):
    return (int(s[:4]), int(s[6]))


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    recs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if cmd == "producers":
        units = set()
        for r in recs:
            if r["type"] == "document":
                units.add(r["from"]["code"])
            elif r["type"] == "status":
                units.add(r["from"])
            else:
                units.add(r["unit"])
        print("\n".join(sorted(units)))
    elif cmd in ("docs", "docs-upto"):
        q = parse_q(sys.argv[3])
        ids = {r["doc_id"]: quarter(r["promulgation_date"]) for r in recs if r["type"] == "document"}
        if cmd == "docs":
            print(sum(1 for x in ids.values() if x == q))
        else:
            print(sum(1 for x in ids.values() if x <= q))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
