"""Baseline for http_bench.py: a bare Flask app answering one fixed JSON body.

Served by gunicorn with the same settings as the API, it shows what Flask + gunicorn cost on their own.
BENCH_BODY_BYTES sets the body's size (default 2,500 bytes, about one metro's exports series).
"""

import json
import os

from flask import Flask


def series_like_body(size: int) -> bytes:
    """A JSON document shaped like a series response, padded to `size` bytes (at least its skeleton)."""
    point = {"year": 2005, "value": 11202081090, "status": "ok", "dataset": "ita-metro-exports",
             "indicator": "exports_goods"}
    doc = {"geography": {"kind": "metro", "code": "00000", "name": "Baseline"}, "data": [], "padding": ""}
    while len(json.dumps(doc, separators=(",", ":"))) + len(json.dumps(point)) < size:
        doc["data"].append(point)
    doc["padding"] = "x" * max(0, size - len(json.dumps(doc, separators=(",", ":"))))
    return json.dumps(doc, separators=(",", ":")).encode()


BODY = series_like_body(int(os.environ.get("BENCH_BODY_BYTES", "2500")))

app = Flask(__name__)


@app.get("/bare")
def bare():
    return app.response_class(BODY, mimetype="application/json")
