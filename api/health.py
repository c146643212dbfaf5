"""Liveness and readiness probes."""

from flask import Blueprint
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from api import db
from api.problems import problem
from models import Dataset

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process answers."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz():
    """The store answers and holds data."""
    try:
        datasets = db.session.scalar(select(func.count()).select_from(Dataset))
    except SQLAlchemyError as e:
        db.release()
        return problem(503, f"The store is unreachable or not built ({type(e).__name__}).", {"Retry-After": "5"})
    if not datasets:
        return problem(503, "The store is empty: build it with 'flask data build'.", {"Retry-After": "30"})
    return {"status": "ready", "datasets": datasets}
