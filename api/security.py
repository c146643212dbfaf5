"""Headers for a JSON API, request size limits, well-formed URLs, and a request id on every response and log line."""

import re
import uuid
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask, Response, g, request
from flask_smorest import abort

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI: its own scripts and styles (one inline bootstrap script), images, and calls to this API.
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'")
# The explorer (/explore) runs only its own files: scripts, styles (uPlot sets styles through the CSSOM, which
# style-src does not govern), the state outlines and the API on this origin; the DOM is written without HTML strings,
# so Trusted Types can forbid them. The index (/) has no script at all.
EXPLORE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
               "trusted-types 'none'")
INDEX_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; " \
            "frame-ancestors 'none'"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _decode(raw: bytes, plus: bool = False) -> str:
    """Percent-decode strictly: ValueError (a message for the client) for a malformed escape, bytes that are not
    UTF-8, or a control character such as NUL (which PostgreSQL text cannot hold)."""
    if BAD_ESCAPE.search(raw):
        raise ValueError("Malformed percent-escape: '%' must be followed by two hexadecimal digits.")
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ") if plus else raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("Not valid UTF-8 once percent-decoded.") from None
    if CONTROL.search(text):
        raise ValueError("Control characters (such as NUL) are not allowed.")
    return text


def query_errors(query: bytes) -> dict[str, list[str]]:
    """{parameter: [messages]} for every malformed query parameter (werkzeug would let it through, replacing bad
    bytes). Repeats are the parser's to judge: only a list parameter may be repeated (api.problems.Parser)."""
    errors: dict[str, list[str]] = {}
    for pair in query.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8", "replace")
        try:
            _decode(raw_name, plus=True)
            _decode(raw_value, plus=True)
        except ValueError as e:
            errors.setdefault(name, []).append(str(e))
    return errors


def path_error(environ: dict) -> str | None:
    """What is wrong with the request path as the client sent it, if anything."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        return None
    if not raw.startswith("/"):  # absolute form: GET http://host/path
        raw = urlsplit(raw).path
    try:
        _decode(raw.split("?", 1)[0].encode("latin-1"))
    except (ValueError, UnicodeEncodeError) as e:
        reason = str(e) if isinstance(e, ValueError) else "Not valid UTF-8 once percent-decoded."
        return f"The request path is malformed. {reason}"
    return None


def csp(path: str) -> str:
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_CSP
    if path == "/explore" or path.startswith("/explore/"):
        return EXPLORE_CSP
    return INDEX_CSP if path == "/" else API_CSP


def init_app(app: Flask) -> None:
    @app.before_request
    def request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex  # logged and echoed (headers, below)
        limit = app.config["MAX_HEADER_BYTES"]
        if sum(len(k) + len(v) for k, v in request.environ.items() if k.startswith("HTTP_")) > limit:
            abort(431, message=f"Request headers are limited to {limit} bytes in all.")
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            abort(413, message=f"Request bodies are limited to {app.config['MAX_CONTENT_LENGTH']} bytes; this API "
                               "reads none.")
        wrong_path = path_error(request.environ)
        if wrong_path:
            abort(400, message=wrong_path)
        if request.query_string:
            errors = query_errors(request.query_string)
            if errors:
                abort(400, messages={"query": errors})

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.extend((  # headers nothing else sets: added, not replaced
            ("X-Request-ID", g.get("request_id") or uuid.uuid4().hex),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", csp(request.path)),
        ))
        if request.method not in ("GET", "HEAD") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
