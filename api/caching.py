"""Conditional requests and the response cache.

The invariant: a request that reads data reads exactly one data version, pinned once (`api.db.snapshot`), and
everything it remembers or caches is keyed by that version. Before a view runs, a 304 or a response-cache hit is
decided from the version this process saw last (re-read at most every DATA_VERSION_TTL seconds) without touching
the store; a view's answer is labelled (ETag) and cached under its own snapshot's version.

The response cache is Flask-Caching: in this process (`BoundedMemoryCache`, bounded by the bytes it holds), or in
Redis when REDIS_URL is set. CACHE_TIMEOUT <= 0 means no response cache, on both. Redis holds nothing the API cannot
recompute: when it fails, the cache is skipped for a few seconds and the API answers from the store.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import datetime
from functools import wraps

import orjson
from flask import Flask, Response, current_app, g, request
from flask_caching import Cache
from flask_caching.backends.base import BaseCache
from sqlalchemy import Engine
from werkzeug.http import http_date, parse_etags

from api import db, formats

cache = Cache()
# Response headers that belong to the representation and are kept with a cached body.
KEPT_HEADERS = ("Link", "X-Total-Count", "Content-Disposition")


class LatestVersion:
    """The store's data version and load time as this process saw them last, re-read every `ttl` seconds."""

    def __init__(self, engine: Engine, ttl: float):
        self.engine, self.ttl = engine, ttl
        self.lock = threading.Lock()
        self.value: tuple[str, datetime] = db.EMPTY
        self.checked = float("-inf")

    def get(self) -> tuple[str, datetime]:
        with self.lock:
            if time.monotonic() - self.checked >= self.ttl:
                with self.engine.connect() as connection:
                    self.value = tuple(connection.execute(db.STATE).first() or db.EMPTY)
                self.checked = time.monotonic()
            return self.value


class BoundedMemoryCache(BaseCache):
    """An in-process cache of byte strings bounded by the memory its entries take (key, value and bookkeeping
    counted), the least recently used out first: O(1) per get and per set."""

    ENTRY_OVERHEAD = 250  # bytes of Python objects around each key and value (tests/test_caching.py measures it)

    def __init__(self, default_timeout: int = 300, max_bytes: int = 32 * 1024 * 1024):
        super().__init__(default_timeout)
        self.max_bytes = max_bytes
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    @classmethod
    def factory(cls, app, config, args, kwargs):
        return cls(config["CACHE_DEFAULT_TIMEOUT"], config["CACHE_MAX_BYTES"])

    @classmethod
    def cost(cls, key: str, value: bytes) -> int:
        return len(key) + len(value) + cls.ENTRY_OVERHEAD

    def get(self, key: str) -> bytes | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[0] and entry[0] <= time.monotonic():
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: bytes, timeout: int | None = None) -> bool:
        timeout = self._normalize_timeout(timeout)
        cost = self.cost(key, value)
        if cost > self.max_bytes:
            return False
        with self.lock:
            if key in self.entries:
                self._drop(key)
            while self.size + cost > self.max_bytes:
                self._drop(next(iter(self.entries)))
            self.entries[key] = (time.monotonic() + timeout if timeout else 0, value)
            self.size += cost
        return True

    def add(self, key: str, value: bytes, timeout: int | None = None) -> bool:
        return not self.has(key) and self.set(key, value, timeout)

    def delete(self, key: str) -> bool:
        with self.lock:
            return self._drop(key)

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def clear(self) -> bool:
        with self.lock:
            self.entries.clear()
            self.size = 0
        return True

    def _drop(self, key: str) -> bool:
        entry = self.entries.pop(key, None)
        if entry is None:
            return False
        self.size -= self.cost(key, entry[1])
        return True


class Outage:
    """Whether a shared cache that failed is being left alone: for `pause` seconds after each failure, logged once
    when it starts and once when the cache answers again."""

    def __init__(self, name: str, pause: float):
        self.name, self.pause = name, pause
        self.until = 0.0

    def skipping(self) -> bool:
        return time.monotonic() < self.until

    def failed(self, error: Exception) -> None:
        if not self.until:
            current_app.logger.warning("%s unavailable, skipped for now: %s", self.name, error)
        self.until = time.monotonic() + self.pause

    def answered(self) -> None:
        if self.until:
            current_app.logger.warning("%s answers again", self.name)
            self.until = 0.0


def _outage() -> Outage:
    return current_app.extensions["response_cache_outage"]


def _get(key: str) -> bytes | None:
    if _outage().skipping():
        return None
    try:
        value = cache.get(key)
    except Exception as e:  # noqa: BLE001 - whatever the backend raises (Redis: connection, timeout), skip it
        _outage().failed(e)
        return None
    _outage().answered()
    return value


def _set(key: str, value: bytes) -> None:
    if _outage().skipping():
        return
    try:
        cache.set(key, value)
    except Exception as e:  # noqa: BLE001 - as in _get
        _outage().failed(e)


def canonical(args: dict) -> str:
    """The request as the API understood it: path, format and every parameter with its default, in key order."""
    body = {k: v for k, v in args.items() if k != "format"}
    return f"{request.path}|{g.format}|{orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str).decode()}"


def etag(version: str, canonical_request: str) -> str:
    return hashlib.sha256(f"{version}|{canonical_request}".encode()).hexdigest()[:32]


def cache_key(etag_: str) -> str:
    """A response is cached per host name as well, since its Link headers name the host."""
    return f"{etag_}|{request.host_url}"


def matches(etag_: str) -> bool:
    """If-None-Match holds this ETag, also in the form compression gives it ("…:gzip")."""
    given = request.headers.get("If-None-Match")
    if given is None:
        return False
    tags = parse_etags(given)
    return tags.star_tag or any(t.split(":")[0] == etag_ for t in tags.as_set(include_weak=True))


def validators(response: Response, etag_: str, loaded_at: datetime) -> Response:
    response.headers.update({
        "ETag": f'"{etag_}"', "Last-Modified": http_date(loaded_at),
        "Vary": "Accept, Accept-Encoding" if current_app.config["COMPRESS"] else "Accept",
        "Cache-Control": current_app.config["CACHE_CONTROL"]})
    return response


def _pack(response: Response) -> bytes:
    headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
    return orjson.dumps([response.mimetype, headers]) + b"\n" + response.get_data()


def _unpack(blob: bytes) -> Response:
    head, _, body = blob.partition(b"\n")
    mimetype, headers = orjson.loads(head)
    return Response(body, mimetype=mimetype, headers=headers)


def cached(view):
    """Answer a GET with 304 or from the response cache while the data have not changed; else run the view, then
    label its answer with the data version it read and cache it.

    Goes between @blp.arguments (it needs the parsed arguments) and @blp.response (it keeps the finished
    representation, JSON or CSV, with its pagination headers).
    """
    @wraps(view)
    def wrapper(*args, **kwargs):
        canonical_request = canonical(args[-1])
        version, loaded_at = current_app.extensions["data_version"].get()
        known = etag(version, canonical_request)
        if matches(known):
            return validators(Response(status=304), known, loaded_at)
        hit = _get(cache_key(known))
        g.cache = "hit" if hit is not None else "miss"  # for the X-Cache header (cache_status below)
        if hit is not None:
            return validators(_unpack(hit), known, loaded_at)
        response = formats.render(view(*args, **kwargs))
        pinned = db.snapshot()
        answered = etag(pinned.version, canonical_request)
        if response.status_code == 200 and not response.is_streamed:  # a stream is sent as it is made, never kept
            _set(cache_key(answered), _pack(response))
        return validators(response, answered, pinned.loaded_at)
    wrapper.cached = True  # api/spec.py documents the validators and the 304 of such an operation
    return wrapper


def init_app(app: Flask) -> None:
    timeout, redis = app.config["CACHE_TIMEOUT"], app.config["REDIS_URL"]
    cache.init_app(app, config={
        "CACHE_TYPE": "NullCache" if timeout <= 0 else "RedisCache" if redis else "api.caching.BoundedMemoryCache",
        "CACHE_NO_NULL_WARNING": True,
        "CACHE_DEFAULT_TIMEOUT": max(timeout, 0),
        "CACHE_MAX_BYTES": app.config["CACHE_MAX_BYTES"],
        "CACHE_KEY_PREFIX": app.config["CACHE_KEY_PREFIX"],
        "CACHE_REDIS_URL": redis,
        # a stopped or frozen Redis must not hold a worker: give up on it quickly
        "CACHE_OPTIONS": {"socket_timeout": app.config["REDIS_TIMEOUT"],
                          "socket_connect_timeout": app.config["REDIS_TIMEOUT"]} if redis else None,
    })
    app.extensions["response_cache_outage"] = Outage("response cache (Redis)", app.config["REDIS_RETRY_AFTER"])
    app.extensions["data_version"] = LatestVersion(app.extensions["store_engine"], app.config["DATA_VERSION_TTL"])
    shared = app.config["CACHE_SHARED_MAX_AGE"]
    app.config["CACHE_CONTROL"] = f"public, max-age={app.config['CACHE_MAX_AGE']}" + (
        f", s-maxage={shared}" if shared is not None else "")

    @app.after_request
    def cache_status(response: Response) -> Response:
        if "cache" in g:
            response.headers["X-Cache"] = g.cache
        return response
