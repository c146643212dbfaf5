"""One dialect-aware bulk upsert, chunked."""

from collections.abc import Iterable, Sequence
from itertools import islice

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
CHUNK = 5000


def upsert(session: Session, table: Table, rows: Iterable[dict], key: Sequence[str]) -> None:
    """Insert rows, updating the non-key columns of rows whose key already exists."""
    insert = INSERTS[session.get_bind().dialect.name]
    stmt = insert(table)
    changes = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key and not c.primary_key}
    if changes:
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=changes)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    rows = iter(rows)
    while chunk := list(islice(rows, CHUNK)):
        session.execute(stmt, chunk)
