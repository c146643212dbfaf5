"""The store's engine, and each request's snapshot of it, bound to the app in init_app.

A request that reads data reads one snapshot: one connection inside a read-only transaction (PostgreSQL:
REPEATABLE READ READ ONLY; SQLite: an explicit BEGIN, which pysqlite would otherwise leave out before SELECTs),
opened on first use, whose data version is read once, as its first statement, and pinned for the request. Every
query the request runs, through the connection or the ORM `session`, sees that version, even when a reload commits
meanwhile; everything the request remembers or caches is keyed by it.
"""

from datetime import datetime

from flask import Flask, Response, current_app, g
from flask.globals import app_ctx
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from models import StoreState
from models.engine import Snapshot, create_store_engine

STATE = select(StoreState.version, StoreState.loaded_at).where(StoreState.id == 1)
# STATE as the driver runs it when a snapshot opens (pin), the first statement of every request that reads data:
# a quarter of what SQLAlchemy's execution of it costs (5 against 20 µs on SQLite; the uncached series 0.340 ->
# 0.367x the bare route, bench/README.md). SQLite gives the time as text.
STATE_SQL = f"SELECT version, loaded_at FROM {StoreState.__tablename__} WHERE id = 1"
EMPTY = ("empty", datetime(1970, 1, 1))  # the version of a store that has never been built


def snapshot() -> Snapshot:
    """The request's snapshot of the store: opened, and its data version read, on first use; the same one after."""
    if "snapshot" not in g:
        held = current_app.extensions["request_engine"].connect()
        try:
            held.begin()
            state = pin(held)
        except BaseException:
            held.close()
            raise
        g.snapshot = Snapshot(held, *(state or EMPTY))  # the request's pinned version; read only through here
    return g.snapshot


def pin(held: Connection) -> tuple[str, datetime] | None:
    """Begin the snapshot's transaction and read its data version (STATE_SQL), by the driver. A driver error is
    raised as SQLAlchemy's (OperationalError: the store is unavailable, a 503) and the connection is discarded."""
    raw = held.connection.dbapi_connection
    try:
        if held.dialect.name == "sqlite":
            raw.execute("BEGIN")  # pysqlite leaves it out before a SELECT; psycopg sends BEGIN … READ ONLY itself
        state = raw.execute(STATE_SQL).fetchone()
    except held.dialect.loaded_dbapi.Error as error:
        held.invalidate()
        raise DBAPIError.instance(STATE_SQL, None, error, held.dialect.loaded_dbapi.Error) from error
    return state if state is None or isinstance(state[1], datetime) else (state[0], datetime.fromisoformat(state[1]))


def connection() -> Connection:
    """The request's connection, inside its snapshot."""
    return snapshot().connection


# One ORM session per app context (a request's), reading through the snapshot's connection.
session = scoped_session(lambda: Session(bind=connection()), scopefunc=lambda: id(app_ctx._get_current_object()))


def release() -> None:
    """End the request's snapshot and give its connection back to the pool (also after a store error: a broken
    connection is thrown away and the next request opens a new one), unless a streamed response holds it."""
    try:
        session.remove()
    finally:
        held = g.pop("snapshot", None)
        if held is not None and g.get("streaming") is not held:
            held.connection.close()


def hand_over(response: Response) -> Response:
    """Give the request's snapshot to a response streamed after the request ends: it is read from until the last
    byte is sent and closed with the response (also when the client goes away), not at the end of the request."""
    held = g.streaming = snapshot()
    response.call_on_close(held.connection.close)
    return response


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
    url = app.config["DATABASE_URL"]
    # A server connection can drop (a restart, the network): test it at checkout, so that a worker's stale pooled
    # connections are replaced rather than failing a request each once the server is back (a round trip per request:
    # bench/README.md). A SQLite file cannot drop.
    engine = create_store_engine(url, pool_pre_ping=not url.startswith("sqlite"), connect_args=connect_args(
        url, app.config["STATEMENT_TIMEOUT_MS"], app.config["DATABASE_CONNECT_TIMEOUT"]))
    app.extensions["store_engine"] = engine
    app.extensions["request_engine"] = (
        engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        if engine.dialect.name == "postgresql" else engine)
    app.teardown_appcontext(lambda exc: release())
