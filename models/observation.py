from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

ALL_INDUSTRIES = "ALL"
WORLD = "WLD"


class Observation(Base):
    """One figure: a dataset's value of an indicator for a place, year, industry and partner.

    A value the source suppressed or lacks is NULL with a status saying why, never 0.
    """

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_geo", "geography_id", "indicator", "year"),)

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    geography_id: Mapped[int] = mapped_column(ForeignKey("geographies.id"), primary_key=True)
    industry: Mapped[str] = mapped_column(String(16), primary_key=True, default=ALL_INDUSTRIES)
    partner: Mapped[str] = mapped_column(String(8), primary_key=True, default=WORLD)
    year: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), default="ok")


class Industry(Base):
    """An industry code as the sources report it: NAICS (`31-33`, `336`), HS (`HS121120`) or `ALL`."""

    __tablename__ = "industries"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str | None]
    level: Mapped[int]
    classification: Mapped[str] = mapped_column(String(8), default="naics")


class Partner(Base):
    """A trade partner: a Census country code, or `WLD` for the world total."""

    __tablename__ = "partners"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str]
    kind: Mapped[str] = mapped_column(String(16))
