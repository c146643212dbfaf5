"""Liveness and readiness probes."""

from flask import Blueprint, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from api import db, limits
from api.problems import problem
from models import Dataset

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process answers."""
    return {"status": "ok"}


def response_cache() -> str:
    """Where responses are cached, as this process last found it: in process, in Redis, nowhere while Redis fails
    (api.caching skips it for REDIS_RETRY_AFTER seconds after each failure), or nowhere at all."""
    if current_app.config["CACHE_TIMEOUT"] <= 0:
        return "off"
    if not current_app.config["REDIS_URL"]:
        return "in process"
    return "skipped (redis unavailable)" if current_app.extensions["response_cache_outage"].skipping() else "redis"


@blp.get("/readyz")
def readyz():
    """The store answers and holds data; the body also says where rate limits are counted and responses cached,
    as this process last found them (while Redis fails the API answers from the store: still ready)."""
    try:
        datasets = db.session.scalar(select(func.count()).select_from(Dataset))
    except SQLAlchemyError as e:
        db.release()
        return problem(503, f"The store is unreachable or not built ({type(e).__name__}).", {"Retry-After": "5"})
    if not datasets:
        return problem(503, "The store is empty: build it with 'flask data build'.", {"Retry-After": "30"})
    return {"status": "ready", "datasets": datasets, "rate_limits": limits.counting(),
            "response_cache": response_cache()}
