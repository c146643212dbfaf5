"""Conditional requests and the response cache, both keyed by the data version and the canonical request.

The data version is read from the store at most every DATA_VERSION_TTL seconds per process (0: on every
request), so a 304 or a cache hit costs no query. After a reload every host sees the new version within that
time; a response is always entirely from one version of the data.
"""

import hashlib
import threading
import time
from datetime import datetime
from functools import lru_cache, wraps

import orjson
from flask import Flask, Response, current_app, g, request
from flask_caching import Cache
from redis import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from api import db, formats, front
from models import StoreState

cache = Cache()
MISSING = object()
# Redis holds a cache, not data: after a Redis error the response cache is skipped for REDIS_RETRY seconds (one
# warning in the log), then tried again.
REDIS_RETRY = 5.0
skipped_until = 0.0
STATE = select(StoreState.version, StoreState.loaded_at).where(StoreState.id == 1)


class Stale(Exception):  # not an error: a signal to run the view again
    """A request answered from figures remembered for one data version, then read the store and found another: a
    reload committed in between. `cached` runs the view again, on the store's version."""


class DataVersion:
    """The store's version and load time, remembered for a few seconds."""

    def __init__(self, engine, ttl: float):
        self.engine, self.ttl = engine, ttl
        self.lock = threading.Lock()
        self.value: tuple[str, datetime] | None = None
        self.checked = 0.0

    def in_snapshot(self) -> tuple[str, datetime]:
        """The version in a request's own snapshot of the store (what its figures came from); read once per
        request, and remembered for the next ones too."""
        if "snapshot_version" in g:
            return g.snapshot_version
        state = db.connection().execute(STATE).first()
        if state is None:
            return self.current()
        return self.seen(state.version, state.loaded_at)

    def seen(self, version: str, loaded_at: datetime | None = None) -> tuple[str, datetime]:
        """The version a request's snapshot holds, read by the request's own query; remembered as above unless the
        process already knows a later load (a slow request must not take it back). Stale if the request has
        already answered from figures remembered for another version. Without `loaded_at`, the load time
        remembered with that version (read from the snapshot if the version is new)."""
        known = self.value
        if loaded_at is None:
            if known is None or known[0] != version:
                g.pop("snapshot_version", None)
                return self.in_snapshot()
            loaded_at = known[1]
        value = (version, loaded_at)
        with self.lock:
            if self.value is None or self.value[0] == version or loaded_at >= self.value[1]:
                self.value, self.checked = value, time.monotonic()
        g.snapshot_version = value
        if "memo_version" in g and g.memo_version[0] != version:
            raise Stale(version)
        return value

    def of_request(self) -> tuple[str, datetime]:
        """The version a request answers from: its snapshot's once it has read the store (Stale if it had already
        answered from figures remembered for another); until then the version this process saw last (at most
        DATA_VERSION_TTL old), so that a request whose figures are all remembered per version reads nothing from
        the store."""
        if db.opened():
            return self.in_snapshot()
        if "memo_version" not in g:
            g.memo_version = self.current()
        return g.memo_version

    def current(self) -> tuple[str, datetime]:
        now = time.monotonic()
        if self.value is None or now - self.checked >= self.ttl:
            with self.lock, Session(self.engine) as session:
                state = session.get(StoreState, 1)
                self.value = (state.version, state.loaded_at) if state else ("empty", datetime(1970, 1, 1))
                self.checked = now
        return self.value


def per_version(function):
    """Remember a function's results per data version and arguments, in this process. For figures many different
    requests share, such as national totals and cross-sections; callers must not change what it returns.

    The version is the request's (DataVersion.of_request): a request whose figures are all remembered reads
    nothing from the store. A result is kept only if the snapshot it was read from holds that version.
    """
    results: dict[tuple, object] = {}

    @wraps(function)
    def wrapper(*args):
        versions = current_app.extensions["data_version"]
        key = (versions.of_request()[0], *args)
        value = results.get(key, MISSING)
        if value is MISSING:
            try:
                value = function(*args)
            except HTTPException:  # an error (a 400) answers too: Stale first if read from a later version
                versions.in_snapshot()
                raise
            versions.in_snapshot()  # Stale if the store had moved on from the version of the key
            if len(results) >= 1000:
                results.clear()
            results[key] = value
        return value
    return wrapper


def shared(operation, *args):
    """cache.get or cache.set, or None while Redis fails (see REDIS_RETRY)."""
    global skipped_until
    if time.monotonic() < skipped_until:
        return None
    try:
        return operation(*args)
    except RedisError as error:
        skipped_until = time.monotonic() + REDIS_RETRY
        current_app.logger.warning("Redis failed (%s): response cache skipped for %s s", error, REDIS_RETRY)
        return None


def canonical(args: dict) -> str:
    """The request as the API understood it: path, format and every parameter with its default, in key order."""
    body = {k: v for k, v in args.items() if k != "format"}
    return f"{request.path}|{g.format}|{orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str).decode()}"


def _matches(etag: str) -> bool:
    """If-None-Match holds our ETag, also in the form compression gives it ("…:gzip")."""
    given = request.headers.get("If-None-Match")
    return given is not None and front.Front.matches(given, etag)


def _validators(response: Response, etag: str, loaded_at: datetime) -> Response:
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary"):
        response.headers.remove(name)  # `in` raises and catches a KeyError per absent header: dearer
    response.headers.extend(((
        "ETag", f'"{etag}"'), ("Last-Modified", _http_date(loaded_at)),
        ("Cache-Control", f"public, max-age={current_app.config['CACHE_MAX_AGE']}"),
        ("Vary", "Accept, Accept-Encoding")))
    return response


@lru_cache(maxsize=8)
def _http_date(moment: datetime) -> str:
    return http_date(moment)


def _key(version: str, canonical_request: str) -> tuple[str, str]:
    key = hashlib.sha256(f"{version}|{canonical_request}".encode()).hexdigest()
    return key, key[:32]


def answer(canonical_request: str) -> Response | None:
    """A 304 or the cached response for this request while the data have not changed; else None."""
    version, loaded_at = current_app.extensions["data_version"].current()
    key, etag = _key(version, canonical_request)
    if _matches(etag):
        return _validators(Response(status=304), etag, loaded_at)
    hit = shared(cache.get, key)
    if hit is None:
        return None
    body, mimetype, headers = hit
    if "Link" in headers:  # kept relative to the host: give them this request's
        headers = {**headers, "Link": headers["Link"].replace("</", f"<{request.host_url}")}
    g.cache = "hit"
    request.environ[front.KEEP] = version
    return _validators(Response(body, mimetype=mimetype, headers=headers), etag, loaded_at)


def cached(view):
    """Answer a GET from its ETag (304) or the response cache when the data have not changed; else run the view.

    Goes between @blp.arguments (it needs the parsed arguments) and @blp.response (it keeps the finished
    representation, JSON or CSV, with its pagination headers).
    """
    @wraps(view)
    def wrapper(*args, **kwargs):
        canonical_request = canonical(args[-1])
        early = answer(canonical_request)
        if early is not None:
            return early
        g.cache = "miss"
        try:
            response = formats.render(view(*args, **kwargs))
            # Label the figures with the version they were read from, in case a reload committed meanwhile.
            version, loaded_at = current_app.extensions["data_version"].of_request()
        except Stale:  # begun on remembered figures of the version before a reload: again, on the store's
            g.pop("memo_version", None)
            response = formats.render(view(*args, **kwargs))
            version, loaded_at = current_app.extensions["data_version"].of_request()
        key, etag = _key(version, canonical_request)
        if response.status_code == 200:
            request.environ[front.KEEP] = version
            headers = {k: v for k, v in response.headers.items() if k in ("Link", "X-Total-Count",
                                                                        "Content-Disposition")}
            if "Link" in headers:  # shared by every host name the API answers to: without this request's
                headers["Link"] = headers["Link"].replace(f"<{request.host_url}", "</")
            shared(cache.set, key, (response.get_data(), response.mimetype, headers))
        return _validators(response, etag, loaded_at)
    return wrapper


def init_app(app: Flask) -> None:
    redis = app.config.get("REDIS_URL")
    cache.init_app(app, config={
        "CACHE_TYPE": "RedisCache" if redis else "SimpleCache",
        "CACHE_REDIS_URL": redis,
        "CACHE_OPTIONS": {"socket_timeout": app.config["REDIS_TIMEOUT"],
                          "socket_connect_timeout": app.config["REDIS_TIMEOUT"]} if redis else None,
        "CACHE_KEY_PREFIX": app.config.get("CACHE_KEY_PREFIX", "metro-exports:"),
        "CACHE_DEFAULT_TIMEOUT": app.config["CACHE_TIMEOUT"],
        "CACHE_THRESHOLD": app.config["CACHE_ENTRIES"],
    })
    app.extensions["data_version"] = DataVersion(app.extensions["store_engine"], app.config["DATA_VERSION_TTL"])

    @app.after_request
    def cache_status(response: Response) -> Response:
        if "cache" in g:
            response.headers["X-Cache"] = g.cache
        return response
