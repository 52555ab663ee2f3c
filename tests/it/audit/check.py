#!/usr/bin/env python3
"""check.py - assertions on a `docbus audit --json` verdict for the audit tests.

  check.py find VERDICT CLASS [key=value ...]   a finding of CLASS with these fields
  check.py classes VERDICT CLASS,CLASS|-        exactly these classes were found (- none)
  check.py count VERDICT CLASS N                exactly N findings of CLASS
  check.py get VERDICT PATH                      print a value (path a/b/c)
  check.py diff VERDICT key=value ...            a difference with these fields
Exit 0 when the assertion holds, 1 (with the verdict's findings) when not."""
import json
import sys


def load(path):
    with open(path) as f:
        text = f.read().strip()
    if not text:
        print(f"{path}: empty (the audit printed no verdict)")
        sys.exit(1)
    return json.loads(text)


def match(obj, pairs):
    for p in pairs:
        k, v = p.split("=", 1)
        got = obj.get(k)
        if str(got) != v:
            return False
    return True


def show(v):
    for f in v.get("findings", []):
        print("   ", json.dumps(f, ensure_ascii=False))
    for d in v.get("differences", []):
        print("   diff", json.dumps(d, ensure_ascii=False))


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    v = load(path)
    ok = False
    if cmd == "find":
        cls, pairs = sys.argv[3], sys.argv[4:]
        ok = any(f["class"] == cls and match(f, pairs) for f in v["findings"])
        if not ok:
            print(f"no {cls} finding with {pairs}; findings are:")
    elif cmd == "classes":
        want = set() if sys.argv[3] == "-" else set(sys.argv[3].split(","))
        got = set(v["by_class"].keys())
        ok = want == got
        if not ok:
            print(f"classes {sorted(got)}, expected {sorted(want)}:")
    elif cmd == "count":
        got = v["by_class"].get(sys.argv[3], 0)
        ok = got == int(sys.argv[4])
        if not ok:
            print(f"{got} {sys.argv[3]} findings, expected {sys.argv[4]}:")
    elif cmd == "get":
        x = v
        for part in sys.argv[3].split("/"):
            x = x[int(part)] if isinstance(x, list) else x.get(part)
        print(json.dumps(x) if not isinstance(x, str) else x)
        return 0
    elif cmd == "diff":
        pairs = sys.argv[3:]
        ok = any(match(d, pairs) for d in v["differences"])
        if not ok:
            print(f"no difference with {pairs}:")
    else:
        print(__doc__)
        return 2
    if not ok:
        show(v)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
