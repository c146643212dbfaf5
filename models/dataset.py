from datetime import datetime

from sqlalchemy import String, Text, select
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


def datasets_query():
    return select(Dataset).order_by(Dataset.id)
