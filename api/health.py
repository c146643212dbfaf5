"""Liveness and readiness probes."""

import time

from flask import Blueprint, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from api import caching, db, limits
from api.problems import problem
from models import Dataset

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process answers."""
    return {"status": "ok"}


def response_cache() -> str:
    """Where responses are cached: in process, in Redis, or nowhere while Redis fails."""
    if not current_app.config.get("REDIS_URL"):
        return "in process"
    caching.shared(caching.cache.get, "readyz")  # asks Redis, unless it failed in the last REDIS_RETRY seconds
    return "redis" if time.monotonic() >= caching.skipped_until else "skipped (redis unavailable)"


@blp.get("/readyz")
def readyz():
    """The store answers and holds data; the body also says where rate limits are counted and responses cached
    (without Redis the API answers from the store: still ready)."""
    try:
        datasets = db.session.scalar(select(func.count()).select_from(Dataset))
    except SQLAlchemyError as e:
        db.release()
        return problem(503, f"The store is unreachable or not built ({type(e).__name__}).", {"Retry-After": "5"})
    if not datasets:
        return problem(503, "The store is empty: build it with 'flask data build'.", {"Retry-After": "30"})
    return {"status": "ready", "datasets": datasets, "rate_limits": limits.counting(),
            "response_cache": response_cache()}
