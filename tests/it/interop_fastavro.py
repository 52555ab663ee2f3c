#!/usr/bin/env python3
"""interop_fastavro.py - an independent reader of docbus messages: decodes Kafka values
(Avro single-object encoding of vn.docbus.v1.Envelope) with fastavro and nothing but
schemas/*.avsc, decodes each body by its fingerprint, and compares every field with the
.json file next to the .bin (tests/golden/envelope-1.json describes envelope-1.bin).

usage: interop_fastavro.py [FILE.bin ...]   (default: tests/golden/envelope-1.bin)
Exit 0 when every file matches, 1 otherwise, with the reason on stderr.
"""
import base64
import datetime
import glob
import io
import json
import os
import sys

import fastavro
import fastavro.schema

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Mismatch(Exception):
    pass


def fingerprint_le(schema_json):
    """8 little-endian CRC-64-AVRO bytes of the schema's Parsing Canonical Form, by fastavro."""
    pcf = fastavro.schema.to_parsing_canonical_form(schema_json)
    if hasattr(fastavro.schema, "fingerprint"):
        return bytes.fromhex(fastavro.schema.fingerprint(pcf, "CRC-64-AVRO"))
    raise Mismatch("this fastavro has no fingerprint(); install fastavro >= 1.4")


def load_schemas():
    """fingerprint -> (fullname, parsed schema, expanded schema) for schemas/*.avsc."""
    known = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "schemas", "*.avsc"))):
        with open(path, encoding="utf-8") as f:
            text = json.load(f)
        name = text["namespace"] + "." + text["name"]
        parsed = fastavro.parse_schema(text)
        expanded = fastavro.parse_schema(text, expand=True)
        known[fingerprint_le(text)] = (name, parsed, expanded)
    return known


def read_exact(data, schema, what):
    """Decodes data with schema and checks that every byte was used."""
    buf = io.BytesIO(data)
    value = fastavro.schemaless_reader(buf, schema, return_record_name=True)
    if buf.tell() != len(data):
        raise Mismatch(f"{what}: {len(data) - buf.tell()} bytes left after the value")
    return value


def iso_to_ms(s):
    t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:  # docbus JSON: no offset means Vietnam time
        t = t.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
    return round(t.timestamp() * 1000)


def canon(v, s, decoded):
    """A comparable form of value v of (expanded) schema s, in docbus JSON conventions.
    decoded says whether v came from fastavro (True) or from the .json file (False)."""
    if isinstance(s, list):  # union
        if v is None:
            return None
        if decoded and isinstance(v, tuple):  # a record branch: (fullname, value)
            name, inner = v
            branch = next(b for b in s if isinstance(b, dict) and b.get("name") == name)
            short = name.rsplit(".", 1)[-1]
            if len([b for b in s if b != "null"]) == 1:
                return canon(inner, branch, decoded)
            return {short: canon(inner, branch, decoded)}
        non_null = [b for b in s if b != "null"]
        if len(non_null) == 1:
            return canon(v, non_null[0], decoded)
        if not decoded and isinstance(v, dict) and len(v) == 1:  # {"Branch": value}
            (short, inner), = v.items()
            branch = next(b for b in s if isinstance(b, dict) and b.get("name", "").rsplit(".", 1)[-1] == short)
            return {short: canon(inner, branch, decoded)}
        raise Mismatch(f"cannot place {v!r} in union {s!r}")
    t = s if isinstance(s, str) else s["type"]
    logical = s.get("logicalType") if isinstance(s, dict) else None
    if t == "record":
        return {f["name"]: canon(v[f["name"]], f["type"], decoded) for f in s["fields"]}
    if t == "array":
        return [canon(x, s["items"], decoded) for x in v]
    if t == "map":
        return {k: canon(x, s["values"], decoded) for k, x in v.items()}
    if t == "fixed":
        return v.hex() if decoded else v
    if t == "bytes":
        return base64.b64encode(v).decode() if decoded else v
    if logical == "date":
        return v.isoformat() if decoded else v
    if logical == "timestamp-millis":
        if decoded:
            return round(v.timestamp() * 1000) if isinstance(v, datetime.datetime) else v
        return iso_to_ms(v) if isinstance(v, str) else v
    return v


def compare(got, want, where):
    """Raises Mismatch naming the first field path where got and want differ."""
    if isinstance(got, dict) and isinstance(want, dict) and got.keys() == want.keys():
        for k in got:
            compare(got[k], want[k], f"{where}.{k}")
    elif isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for i, (g, w) in enumerate(zip(got, want)):
            compare(g, w, f"{where}[{i}]")
    elif got != want:
        raise Mismatch(f"{where}: decoded {json.dumps(got, ensure_ascii=False, default=str)[:200]}"
                       f" but the .json says {json.dumps(want, ensure_ascii=False)[:200]}")


def check_file(path, known):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\xc3\x01":
        raise Mismatch("does not start with C3 01 (Avro single-object encoding)")
    if len(data) < 10:
        raise Mismatch("shorter than the 10-byte single-object header")
    fp = data[2:10]
    if fp not in known:
        raise Mismatch(f"schema fingerprint {fp.hex()} matches none of schemas/*.avsc")
    env_name, env_schema, env_expanded = known[fp]
    if env_name != "vn.docbus.v1.Envelope":
        raise Mismatch(f"fingerprint {fp.hex()} is {env_name}, not vn.docbus.v1.Envelope")
    env = read_exact(data[10:], env_schema, "Envelope")

    content = env["content"]
    body_fp = content["body_fingerprint"]
    if body_fp not in known:
        raise Mismatch(f"body fingerprint {body_fp.hex()} matches none of schemas/*.avsc")
    body_name, body_schema, body_expanded = known[body_fp]
    expected_body = {"DOCUMENT": "vn.docbus.v1.Document", "STATUS": "vn.docbus.v1.Status",
                     "EVENT": "vn.docbus.v1.Event"}[content["body_type"]]
    if body_name != expected_body:
        raise Mismatch(f"body_type {content['body_type']} but the body fingerprint is {body_name}")
    body = read_exact(content["body"], body_schema, body_name)

    desc_path = os.path.splitext(path)[0] + ".json"
    if not os.path.exists(desc_path):
        print(f"  {os.path.relpath(path, ROOT)}: decoded ({body_name}), no .json to compare")
        return
    with open(desc_path, encoding="utf-8") as f:
        want = json.load(f)
    compare(fp.hex(), want["envelope_fingerprint"], "envelope_fingerprint")
    compare(body_name, want["body_schema"], "body_schema")
    got_content = canon({k: v for k, v in content.items() if k != "body"},
                        {"type": "record", "fields": [f for f in env_expanded["fields"][0]["type"]["fields"]
                                                      if f["name"] != "body"]}, True)
    for k, v in want["content"].items():
        compare(got_content[k], v, f"content.{k}")
    got_proof = canon(env["proof"], env_expanded["fields"][1]["type"], True)
    compare(got_proof, want["proof"], "proof")
    compare(canon(body, body_expanded, True), canon(want["body"], body_expanded, False), "body")
    print(f"  {os.path.relpath(path, ROOT)}: {body_name} body and every envelope field match "
          f"{os.path.relpath(desc_path, ROOT)}")


def main(argv):
    files = argv[1:] or [os.path.join(ROOT, "tests", "golden", "envelope-1.bin")]
    try:
        known = load_schemas()
    except Mismatch as e:
        print(f"interop_fastavro: {e}", file=sys.stderr)
        return 1
    print(f"fastavro {fastavro.__version__}: {len(known)} schemas from schemas/*.avsc")
    failed = 0
    for path in files:
        try:
            check_file(path, known)
        except (Mismatch, ValueError, EOFError, KeyError, StopIteration) as e:
            failed += 1
            print(f"interop_fastavro: {path}: {type(e).__name__}: {e}", file=sys.stderr)
    if failed:
        print(f"interop_fastavro: {failed} of {len(files)} files FAILED", file=sys.stderr)
        return 1
    print(f"interop_fastavro: {len(files)} files OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
