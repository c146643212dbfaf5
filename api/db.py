"""The store's engine, and each request's connection and session, bound to the app in init_app.

A request reads one snapshot of the store: every query it runs sees the same data, even when a reload commits
while it runs (PostgreSQL: a read-only REPEATABLE READ transaction; SQLite: an explicit BEGIN, which pysqlite
would otherwise leave out before SELECTs, so that each statement saw the latest commit). The snapshot lives on
one Core connection per request (`connection()`), opened on first use and closed when the request ends; the ORM
`session` reads through that same connection. Hot paths run Core statements on the connection directly: a
session costs about 20 µs a request more (measured, bench/README.md).
"""

from flask import Flask, current_app, g
from flask.globals import app_ctx
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session

from models.engine import create_store_engine


def connection() -> Connection:
    """The request's connection, inside its read-only snapshot."""
    if "store_connection" not in g:
        held = current_app.extensions["request_engine"].connect()
        try:
            held.begin()
            if held.dialect.name == "sqlite":
                held.connection.dbapi_connection.execute("BEGIN")
        except BaseException:
            held.close()
            raise
        g.store_connection = held
    return g.store_connection


def opened() -> bool:
    """Whether the request has read the store (opened its snapshot)."""
    return "store_connection" in g


# One session per app context (a request's), reading through its connection.
session = scoped_session(lambda: Session(bind=connection()), scopefunc=lambda: id(app_ctx._get_current_object()))


def release() -> None:
    """End the request's snapshot and give its connection back to the pool (also after a store error: a broken
    connection is thrown away and the next request opens a new one)."""
    try:
        session.remove()
    finally:
        held = g.pop("store_connection", None)
        if held is not None:
            held.close()


def connect_args(url: str, statement_timeout_ms: int, connect_timeout_s: int) -> dict:
    """PostgreSQL: no statement runs longer than `statement_timeout_ms` (0: no limit), and an unreachable server
    is given up after `connect_timeout_s` seconds rather than waited on forever."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    args = {}
    if statement_timeout_ms:
        given = parsed.query.get("options")
        args["options"] = " ".join(filter(None, [given if isinstance(given, str) else None,
                                                 f"-c statement_timeout={int(statement_timeout_ms)}"]))
    if connect_timeout_s:
        args["connect_timeout"] = int(connect_timeout_s)
    return args


def init_app(app: Flask) -> None:
    app.config.setdefault("STATEMENT_TIMEOUT_MS", 5000)
    app.config.setdefault("DATABASE_CONNECT_TIMEOUT", 5)
    url = app.config["DATABASE_URL"]
    # A server connection can drop (restart, network): test it at checkout. A SQLite file cannot.
    engine = create_store_engine(url, pool_pre_ping=not url.startswith("sqlite"), connect_args=connect_args(
        url, app.config["STATEMENT_TIMEOUT_MS"], app.config["DATABASE_CONNECT_TIMEOUT"]))
    app.extensions["store_engine"] = engine
    app.extensions["request_engine"] = (
        engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        if engine.dialect.name == "postgresql" else engine)
    app.teardown_appcontext(lambda exc: release())
