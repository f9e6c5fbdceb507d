#!/usr/bin/python3
"""Independent reader for the order test files (Python's csv and json modules).

    peer.py csv FILE    -> {"header": [...], "rows": [{"line": first line, "fields": [...]}]}
    peer.py json FILE   -> the list of order objects
The C++ tests compare what sortd's own parsers read with what this prints.
"""
import csv
import json
import sys

mode, path = sys.argv[1], sys.argv[2]
if mode == "csv":
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)
        header = next(reader)
        rows, line = [], reader.line_num + 1
        for fields in reader:
            rows.append({"line": line, "fields": fields})
            line = reader.line_num + 1
    out = {"header": header, "rows": rows}
elif mode == "json":
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out = data["orders"] if isinstance(data, dict) else data
else:
    sys.exit("usage: peer.py csv|json FILE")
sys.stdout.buffer.write(json.dumps(out, ensure_ascii=False).encode("utf-8"))
