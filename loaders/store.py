"""Writing one source into the store: its observations and its provenance row."""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from loaders.files import SourceError, sha256
from loaders.upsert import upsert
from models import Dataset, Observation
from models.observation import ALL_INDUSTRIES, WORLD


@dataclass(frozen=True)
class Source:
    """What a dataset row says about a source besides its checksum and size."""

    id: str
    title: str
    publisher: str
    source_url: str | None
    unit: str | None
    dollar_basis: str | None
    coverage: str
    delineation: str | None
    notes: str
    license: str | None = "Public domain (U.S. Government work)"
    # The series this file is a release of (default: its own id), when it was published or retrieved, and what
    # that date is (e.g. "retrieved from USA Trade Online, March 2019: initial figures").
    series: str | None = None
    released_on: date | None = None
    release: str | None = None


@dataclass
class Result:
    dataset: str
    status: str  # loaded | unchanged
    rows: int = 0
    rejects: Counter = field(default_factory=Counter)
    checks: list[str] = field(default_factory=list)


class Rows:
    """Observations collected from one source, keyed so that a repeated figure is caught."""

    def __init__(self, path: Path, conflicts: str = "fail"):
        self.path = path
        # "fail": a figure repeated with another value rejects the file; "null": it is stored as null with
        # status 'conflicting', since the source does not say which value is right.
        self.conflicts = conflicts
        self.items: dict[tuple, tuple[float | None, str]] = {}
        self.lines: dict[tuple, int] = {}
        self.notes: dict[tuple, str] = {}  # the reason for a status, where one is needed
        self.rejects: Counter = Counter()
        self.merged = 0

    def add(self, line: int, indicator: str, geography_id: int, year: int, value: float | None, status: str,
            industry: str = ALL_INDUSTRIES, partner: str = WORLD, note: str | None = None) -> None:
        key = (indicator, geography_id, industry, partner, year)
        if note is not None and key not in self.items:
            self.notes[key] = note
        if key in self.items:
            if self.items[key] != (value, status) and self.conflicts == "null":
                if self.items[key][1] != "conflicting":
                    self.reject("figure given twice with different values (stored as null, status conflicting)")
                self.items[key] = (None, "conflicting")
                return
            if self.items[key] != (value, status):
                raise SourceError(self.path, f"repeats line {self.lines[key]} ({indicator} {year}) with another value",
                                  line)
            self.merged += 1  # the same figure twice (e.g. a CBSA listed under two titles)
            return
        self.items[key] = (value, status)
        self.lines[key] = line

    def reject(self, reason: str) -> None:
        self.rejects[reason] += 1

    def __len__(self) -> int:
        return len(self.items)


def fingerprint(paths: list[Path]) -> str:
    """The file's SHA-256; for a dataset read from several files, the SHA-256 of their SHA-256s."""
    digests = [sha256(p) for p in paths]
    return digests[0] if len(digests) == 1 else hashlib.sha256(",".join(digests).encode()).hexdigest()


def unchanged(session: Session, source: Source, paths: list[Path]) -> bool:
    dataset = session.get(Dataset, source.id)
    return dataset is not None and dataset.sha256 == fingerprint(paths)


COLUMNS = ("dataset_id", "indicator", "geography_id", "industry", "partner", "year", "value", "status", "note")


def bulk_insert(session: Session, rows: Iterable[tuple]) -> None:
    """Observations as tuples, through the driver in the session's transaction: COPY on PostgreSQL,
    executemany on SQLite (several times faster than executemany of dicts through SQLAlchemy)."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    names = ", ".join(COLUMNS)
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY observations ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        driver.cursor().executemany(f"INSERT INTO observations ({names}) VALUES ({', '.join('?' * len(COLUMNS))})",
                                    rows)


def write(session: Session, source: Source, paths: list[Path], rows: Rows | None = None, row_count: int | None = None,
          notes: list[str] = ()) -> Result:
    """Replace the dataset's observations with `rows` and record its provenance, in the caller's transaction."""
    extra = [*notes]
    if rows is not None and rows.merged:
        extra.append(f"{rows.merged} repeated figures (same value twice in the file) were stored once.")
    upsert(session, Dataset.__table__, [dict(
        id=source.id, title=source.title, publisher=source.publisher, source_url=source.source_url,
        source_file=", ".join(p.name for p in paths), license=source.license, unit=source.unit,
        dollar_basis=source.dollar_basis, coverage=source.coverage, delineation=source.delineation,
        sha256=fingerprint(paths), loaded_at=datetime.now(UTC).replace(microsecond=0, tzinfo=None),
        row_count=len(rows) if rows is not None else row_count,
        notes=" ".join([source.notes, *extra]), series=source.series or source.id, released_on=source.released_on,
        release=source.release,
    )], ["id"])
    session.execute(delete(Observation).where(Observation.dataset_id == source.id))
    if rows is not None:
        bulk_insert(session, ((source.id, *key, value, status, rows.notes.get(key))
                              for key, (value, status) in rows.items.items()))
    return Result(source.id, "loaded", len(rows) if rows is not None else row_count or 0,
                  rows.rejects if rows is not None else Counter())
