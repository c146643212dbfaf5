"""The front: a repeat of a request already answered is served from memory before Flask sees it.

It keeps the finished 200 responses of cacheable GETs (the ones `api.caching.cached` answers), byte for byte,
keyed by the request exactly as sent (URI, host, scheme, Accept, Accept-Encoding). A repeat gets the same
status, headers and body, or a 304 when its If-None-Match holds the ETag; only the per-request headers are
new (X-Request-ID, the rate-limit headers, `X-Cache: hit`). A kept response is served only while the store's
data version is the one it was read from and its response-cache lifetime (CACHE_TIMEOUT) lasts, and only after
the client's rate-limit budget paid for it; anything else (another version, an exhausted budget, a rate-limit
store that does not answer, conditional headers other than If-None-Match, a request body) goes to Flask.

Profiling showed Flask's request context and hooks cost more than the response itself on a cache hit: this
answers a hit in a fraction of that (bench/README.md has the figures).
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_etags

from api import limits
from api.security import REQUEST_ID

# Set by api.caching.cached on a response the front may keep: the data version its figures came from.
KEEP = "metro_exports.data_version"
# Headers that belong to one request, not to the representation.
PER_REQUEST = {"x-request-id", "x-cache", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
               "ratelimit", "ratelimit-policy", "retry-after", "date"}
# What a 304 repeats of the 200 (RFC 9110 §15.4.5), and the headers every response of the API carries.
NOT_MODIFIED = {"etag", "cache-control", "vary", "access-control-allow-origin", "access-control-expose-headers",
                "x-content-type-options", "referrer-policy", "content-security-policy"}
# Requests the front leaves to Flask: other conditions, ranges, bodies.
OTHER_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE",
                    "HTTP_IF_RANGE", "HTTP_TRANSFER_ENCODING")


@dataclass(slots=True)
class Kept:
    version: str
    expires: float
    status: str
    headers: list[tuple[str, str]]
    not_modified: list[tuple[str, str]]
    etag: str  # without quotes and without the ":gzip"/":br" that compression appends
    body: bytes


class Front:
    """WSGI middleware around the Flask app; see the module docstring."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app, self.wsgi_app = app, wsgi_app
        self.kept: dict[tuple, Kept] = {}
        self.size = 0
        self.lock = threading.Lock()  # for threaded servers: keep() changes kept and size together

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = self.key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        kept = self.kept.get(key)
        if kept is not None:
            answered = self.answer(kept, environ, start_response)
            if answered is not None:
                return answered
        if environ["REQUEST_METHOD"] == "GET":
            return self.record(key, environ, start_response)
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def key(environ: dict) -> tuple | None:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("CONTENT_LENGTH", "0") not in ("", "0"):
            return None
        if any(name in environ for name in OTHER_CONDITIONS):
            return None
        # The path as sent where the server gives it (gunicorn's RAW_URI also holds the query; werkzeug's not).
        return (environ.get("RAW_URI") or environ.get("PATH_INFO"), environ.get("QUERY_STRING"),
                environ.get("HTTP_HOST"), environ["wsgi.url_scheme"], environ.get("HTTP_ACCEPT"),
                environ.get("HTTP_ACCEPT_ENCODING"))

    def answer(self, kept: Kept, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        try:
            current = self.app.extensions["data_version"].current()[0]
        except SQLAlchemyError:  # the store does not answer: Flask says so (503)
            return None
        if current != kept.version or time.monotonic() > kept.expires:
            return None
        budget = limits.spend(self.app, environ.get("REMOTE_ADDR") or "127.0.0.1")
        if budget is None:
            return None
        given = environ.get("HTTP_X_REQUEST_ID", "")
        own = [("X-Request-ID", given if REQUEST_ID.match(given) else uuid.uuid4().hex), *budget]
        if "HTTP_IF_NONE_MATCH" in environ and self.matches(environ["HTTP_IF_NONE_MATCH"], kept.etag):
            start_response("304 NOT MODIFIED", kept.not_modified + own)
            return []
        start_response(kept.status, kept.headers + own + [("X-Cache", "hit")])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [kept.body]

    @staticmethod
    def matches(if_none_match: str, etag: str) -> bool:
        tags = parse_etags(if_none_match)
        return tags.star_tag or any(t.split(":")[0] == etag for t in tags.as_set(include_weak=True))

    def record(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        seen = []

        def capture(status: str, headers: list, exc_info=None):
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        version, timeout = environ.get(KEEP), self.app.config["CACHE_TIMEOUT"]
        if version is None or not seen or not seen[0].startswith("200 ") or timeout < 0:
            return body
        try:
            data = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        self.keep(key, version, timeout, seen[0], seen[1], data)
        return [data]

    def keep(self, key: tuple, version: str, timeout: float, status: str, headers: list, body: bytes) -> None:
        headers = [(k, v) for k, v in headers if k.lower() not in PER_REQUEST]
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        if etag is None:
            return
        budget = self.app.config["FRONT_CACHE_BYTES"]
        with self.lock:
            self._store(key, Kept(version, time.monotonic() + timeout if timeout else float("inf"), status, headers,
                                  [(k, v) for k, v in headers if k.lower() in NOT_MODIFIED],
                                  etag.strip('"').split(":")[0], body), budget)

    def _store(self, key: tuple, kept: Kept, budget: int) -> None:
        if len(kept.body) > budget:
            return
        if key in self.kept:
            self.size -= len(self.kept.pop(key).body)
        while self.kept and self.size + len(kept.body) > budget:  # oldest out first
            self.size -= len(self.kept.pop(next(iter(self.kept))).body)
        self.kept[key] = kept
        self.size += len(kept.body)


def init_app(app: Flask) -> None:
    """Install the front; before ProxyFix (limits.init_app), so that it sees the client's address."""
    app.config.setdefault("FRONT_CACHE_BYTES", 64 * 1024 * 1024)
    app.wsgi_app = Front(app, app.wsgi_app)
