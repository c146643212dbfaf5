"""Rate-limit counters in a SQLite file, so that the workers of one host share one budget per client without a
server to run: a `limits` storage for URIs `sqlite:///path/to/file`, fixed windows (Flask-Limiter's default
strategy). Each increment is one atomic upsert; expired counters are deleted about once a minute."""

import os
import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

SCHEMA = "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
# A window that has ended starts again at `amount`; both columns read the row as it was before the update.
INCREMENT = """INSERT INTO counters (key, count, expires) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET count = CASE WHEN expires <= :now THEN :amount ELSE count + :amount END,
                                expires = CASE WHEN expires <= :now THEN :expires ELSE expires END
RETURNING count"""
PURGE_EVERY = 60.0


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, timeout: float = 0.5, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(uri.removeprefix("sqlite:///"))
        self.timeout = timeout  # how long to wait for another process's write lock
        self.local = threading.local()
        self.purged = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def connection(self) -> sqlite3.Connection:
        """This process's and thread's connection (one opened before a fork must not be used after it)."""
        held = getattr(self.local, "held", None)
        if held is None or held[0] != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # counters, not data: a crash may lose the last ones
            connection.execute(SCHEMA)
            self.local.held = held = (os.getpid(), connection)
        return held[1]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        connection = self.connection()
        # fetchall: a statement with RETURNING keeps its write lock until it is read to the end
        [(count,)] = connection.execute(INCREMENT, {"key": key, "amount": amount, "expires": now + expiry,
                                                    "now": now}).fetchall()
        if now - self.purged > PURGE_EVERY:
            self.purged = now
            connection.execute("DELETE FROM counters WHERE expires <= ?", (now,))
        return count

    def get(self, key: str) -> int:
        row = self.connection().execute("SELECT count FROM counters WHERE key = ? AND expires > ?",
                                        (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self.connection().execute("SELECT expires FROM counters WHERE key = ? AND expires > ?",
                                        (key, now)).fetchone()
        return row[0] if row else now

    def check(self) -> bool:
        try:
            return self.connection().execute("SELECT 1").fetchone() == (1,)
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self.connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self.connection().execute("DELETE FROM counters WHERE key = ?", (key,))
