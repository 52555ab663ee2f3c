#!/usr/bin/env python3
"""evidence.py - read and alter docbus audit evidence files with fastavro, an Avro
implementation independent of docbus (any Avro reader must be able to open them).

  evidence.py describe FILE          JSON: schema name, entry order, counts, header, verdict
  evidence.py values FILE            "topic partition offset sha256(value)" per MESSAGE
  evidence.py tamper IN OUT N        copy IN with one byte of the N-th MESSAGE value flipped
"""
import hashlib
import json
import sys

import fastavro


def entries(path):
    with open(path, "rb") as f:
        r = fastavro.reader(f, return_record_name=True)
        schema, codec = r.writer_schema, r.codec
        items = list(r)
    return schema, codec, items


def branch(e):
    name, value = e["entry"]
    return name.rsplit(".", 1)[-1], value


def fullname(schema):
    name = schema["name"]
    return name if "." in name or "namespace" not in schema else schema["namespace"] + "." + name


def describe(path):
    schema, codec, items = entries(path)
    order, out = [], {"schema": fullname(schema), "codec": codec}
    kinds = {"MESSAGE": 0, "COUNT": 0}
    for e in items:
        name, v = branch(e)
        if not order or order[-1] != name:
            order.append(name)
        if name == "EvidenceHeader":
            out["header"] = {k: (v[k] if not hasattr(v[k], "isoformat") else v[k].isoformat()) for k in v}
        elif name == "EvidenceTrust":
            out["trust"] = {"ca_bytes": len(v["ca_cert_der"]), "unit_certs": len(v["unit_certs_der"]),
                            "crl": v["crl_der"] is not None}
        elif name == "EvidenceRecord":
            kinds[v["kind"]] += 1
        elif name == "EvidenceSummary":
            out["verdict"] = json.loads(v["verdict_json"])
    out["order"] = order
    out["messages"] = kinds["MESSAGE"]
    out["count_records"] = kinds["COUNT"]
    print(json.dumps(out, ensure_ascii=False))


def values(path):
    _, _, items = entries(path)
    for e in items:
        name, v = branch(e)
        if name == "EvidenceRecord" and v["kind"] == "MESSAGE":
            print(v["topic"], v["partition"], v["offset"], hashlib.sha256(v["value"] or b"").hexdigest())


def tamper(src, dst, n):
    schema, codec, items = entries(src)
    i = 0
    out = []
    for e in items:
        full, v = e["entry"]
        name = full.rsplit(".", 1)[-1]
        if name == "EvidenceRecord" and v["kind"] == "MESSAGE":
            if i == n:
                b = bytearray(v["value"])
                b[len(b) // 2] ^= 0x01
                v["value"] = bytes(b)
            i += 1
        out.append({"entry": (full, v)})
    with open(dst, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(schema), out, codec=codec)


def main():
    cmd = sys.argv[1]
    if cmd == "describe":
        describe(sys.argv[2])
    elif cmd == "values":
        values(sys.argv[2])
    elif cmd == "tamper":
        tamper(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
