"""The index at / (HTML for a browser, JSON for a program) and the explorer at /explore: static files from
api/static, which read the public API like any other client.

Both stay out of the OpenAPI spec on purpose: the spec is the versioned /v1 contract, and the JSON index is made
from it (one URI template per GET operation), so it can never list an operation the spec lacks.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.security import safe_join

STATIC = Path(__file__).with_name("static")
TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml",
         ".html": "text/html", ".txt": "text/plain", "": "text/plain"}  # "": LICENSE, SHA256SUMS

blp = Blueprint("explore", __name__)


def entry_points(app: Flask) -> dict[str, str]:
    """Where to start, like GitHub's API root: the pages, then `<operationId>_url` for every GET operation of the
    spec as an RFC 6570 URI template (its path parameters, then its query parameters as `{?a,b}`). The references
    are relative to this document, so they hold behind any proxy, host or scheme."""
    if "entry_points" in app.extensions:  # the spec is complete once the app serves; made on first use
        return app.extensions["entry_points"]
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    index = {"explorer_url": "/explore", "documentation_url": "/docs", "openapi_url": "/v1/openapi.json",
             "health_url": "/healthz", "readiness_url": "/readyz"}
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        query = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        index[f"{get['operationId']}_url"] = path + (f"{{?{','.join(query)}}}" if query else "")
    return app.extensions.setdefault("entry_points", index)


@lru_cache(maxsize=64)
def _read(path: Path, modified_ns: int) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


def static_file(name: str) -> Response:
    """A file of api/static, read whole: its ETag is its content's digest (the same on every host, unlike
    mtime-based ones) and, not being a stream, it is compressed with a validator that revalidates (flask-compress
    re-checks If-None-Match against the "…:br" form)."""
    found = safe_join(str(STATIC), name)
    path = Path(found) if found else None
    if path is None or not path.is_file():
        abort(404)
    body, digest = _read(path, path.stat().st_mtime_ns)
    response = Response(body, mimetype=TYPES.get(path.suffix, "application/octet-stream"))
    response.set_etag(digest)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE"]
    return response.make_conditional(request)


@blp.get("/")
def index():
    """The index: JSON for `Accept: application/json`, `*/*` or `?format=json`, HTML for a browser."""
    accept = parse_accept_header(request.headers.get("Accept", "*/*")[:1024], MIMEAccept)
    if request.args.get("format") != "json" and accept.best_match(["application/json", "text/html"]) == "text/html":
        return static_file("index.html")
    response = current_app.json.response(entry_points(current_app._get_current_object()))
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE"]
    return response.make_conditional(request)


@blp.get("/explore")
def explore():
    return static_file("explore.html")


@blp.get("/explore/static/<path:name>")
def asset(name: str):
    """The explorer's code, styles, icon and vendored libraries."""
    return static_file(name)
