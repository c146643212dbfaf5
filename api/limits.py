"""Rate limits per client IP: one budget across the API, shared by the workers of a host through a SQLite file,
or by every worker and host through Redis. When the counters do not answer, each process counts on its own until
they do."""

import logging
import time
from pathlib import Path

from flask import Flask, Response, current_app, g
from flask.logging import default_handler
from flask.views import MethodView
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from api import ROOT, limits_storage
from api.problems import Blueprint
from schemas.common import FormatArgs
from schemas.limits import RateLimitSchema

limiter = Limiter(get_remote_address, application_limits=[lambda: current_app.config["RATELIMIT_LIMIT"]],
                  headers_enabled=True)
blp = Blueprint("rate_limit", __name__, url_prefix="/v1", description="Your rate limit.")
SCOPE = "global"


def ietf(amount: int, expiry: int, remaining: int, reset_at: float) -> list[tuple[str, str]]:
    """RateLimit-Policy and RateLimit as in the IETF httpapi draft."""
    return [("RateLimit-Policy", f'"default";q={amount};w={expiry}'),
            ("RateLimit", f'"default";r={remaining};t={max(0, int(reset_at - time.time()))}')]


def window(limit: str) -> dict:
    """This client's budget under `limit` right now, without spending any of it (all null when limits are off)."""
    if not limiter.enabled:
        return {"enabled": False, "limit": None, "remaining": None, "window_seconds": None, "reset_in": None,
                "client": get_remote_address()}
    item = parse(limit)
    key = [current_app.config["RATELIMIT_KEY_PREFIX"], get_remote_address(), SCOPE]
    try:
        reset, remaining = limiter.limiter.get_window_stats(item, *key)
    except Exception:  # noqa: BLE001 - the counters do not answer (Redis down): unknown, rather than a 500
        reset, remaining = None, None
    return {"enabled": True, "limit": item.amount, "remaining": remaining, "window_seconds": item.get_expiry(),
            "reset_in": None if reset is None else max(0, int(reset - time.time())), "client": get_remote_address()}


def counting() -> str:
    """Where requests are counted: redis, sqlite, memory, or memory in each process while redis or sqlite fail."""
    if not limiter.enabled:
        return "off"
    scheme = limiter.storage.STORAGE_SCHEME[0]
    return f"memory (fallback: {scheme} unavailable)" if limiter.limiter.storage is not limiter.storage else scheme


@blp.route("/rate_limit")
class RateLimit(MethodView):
    decorators = [limiter.exempt]

    @blp.arguments(FormatArgs(), location="query")
    @blp.response(200, RateLimitSchema)
    def get(self, args):
        """Show your own rate limit (this request does not count)"""
        return window(current_app.config["RATELIMIT_LIMIT"]), 200, {"Cache-Control": "no-store"}


def counters_file(app: Flask) -> str:
    """The SQLite file the workers of this host count in: beside a SQLite store (a folder the API writes to
    already), else in the instance folder."""
    store = make_url(app.config["DATABASE_URL"])
    embedded = store.get_backend_name() == "sqlite" and store.database not in (None, "", ":memory:")
    folder = Path(store.database).parent if embedded else ROOT / "instance"
    return f"{limits_storage.SQLiteStorage.STORAGE_SCHEME[0]}:///{folder / 'ratelimits.sqlite'}"


def storage_events(record: logging.LogRecord) -> bool:
    """Of Flask-Limiter's log, the warnings and the storage's comings and goings, not each 429 (the access log
    has those)."""
    return record.levelno >= logging.WARNING or record.getMessage().startswith("Rate limit storage")


def init_app(app: Flask) -> None:
    if app.config["PROXY_COUNT"]:
        # Trust X-Forwarded-For only as far back as the proxies we run: the client is the address the
        # outermost of them saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or counters_file(app))
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        timeout = app.config["REDIS_TIMEOUT"]
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": timeout,
                                                            "socket_connect_timeout": timeout})
    limiter.logger.setLevel(logging.INFO)
    limiter.logger.addFilter(storage_events)
    limiter.logger.addHandler(default_handler)

    # Registered before Flask-Limiter's own hook, so that it runs after it (Flask runs them in reverse).
    @app.after_request
    def ietf_headers(response: Response) -> Response:
        """RateLimit-Policy and RateLimit as in the IETF httpapi draft, beside Flask-Limiter's X-RateLimit-*."""
        if not limiter.enabled:
            return response
        current = limiter.current_limit
        if current is not None:
            response.headers.update(ietf(current.limit.amount, current.limit.get_expiry(), current.remaining,
                                         current.reset_at))
        if response.status_code != 429:  # Flask-Limiter puts its own Retry-After on every response
            response.headers.pop("Retry-After", None)
            if "retry_after" in g:
                response.headers["Retry-After"] = g.retry_after
        return response

    limiter.init_app(app)
