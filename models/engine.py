from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, create_engine, event


def create_store_engine(url: str, **kwargs) -> Engine:
    """An engine for the store. SQLite gets WAL (readers never wait for a load) and foreign keys."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    return engine


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One read of the store: a connection inside a read-only transaction, and the data version it sees."""

    connection: Connection
    version: str
    loaded_at: datetime
