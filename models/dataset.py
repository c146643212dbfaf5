import hashlib
from datetime import date, datetime

from sqlalchemy import MetaData, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Dataset(Base):
    """One loaded source file and its provenance."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str]
    publisher: Mapped[str]
    source_url: Mapped[str | None]
    source_file: Mapped[str]
    license: Mapped[str | None]
    unit: Mapped[str | None]
    dollar_basis: Mapped[str | None]
    coverage: Mapped[str | None]
    delineation: Mapped[str | None] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]
    row_count: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)
    # The series this file is a release (vintage) of: the same figures as published or retrieved on `released_on`.
    # A file that is the only release of its series has its own id as series.
    series: Mapped[str] = mapped_column(String(64), index=True)
    released_on: Mapped[date | None]
    release: Mapped[str | None]  # what the date is and what the figures are, e.g. "retrieved March 2019; initial"


def datasets_query():
    return select(Dataset).order_by(Dataset.id)


class StoreState(Base):
    """One row: the version of the data as a whole, changed by every build that changes anything.

    HTTP validators (ETag, Last-Modified) and the response cache are keyed by it.
    """

    __tablename__ = "store_state"

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    version: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]
    # The tables, columns and indexes the store was built with (schema_version): a build by code that defines others
    # rebuilds the store from scratch.
    schema: Mapped[str | None] = mapped_column(String(64))


def store_version(datasets: list[tuple[str, str, datetime]], built_at: datetime) -> str:
    """The version of a build: a hash of every dataset's id and checksum and of the build's time."""
    text = "\n".join(f"{i}:{sha}" for i, sha, _ in sorted(datasets)) + f"\n{built_at.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def schema_version(metadata: MetaData) -> str:
    """A hash of the tables, columns and indexes `metadata` defines."""
    text = "\n".join([f"{t.name}.{c.name}:{type(c.type).__name__}:{c.nullable}:{c.primary_key}"
                      for t in metadata.sorted_tables for c in t.columns] +
                     sorted(f"{t.name}#{i.name}:{','.join(c.name for c in i.columns)}"
                            for t in metadata.sorted_tables for i in t.indexes))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
