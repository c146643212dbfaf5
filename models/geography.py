from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base

KINDS = ("nation", "state", "metro", "unallocated")

geography_states = Table(
    "geography_states",
    Base.metadata,
    Column("geography_id", ForeignKey("geographies.id"), primary_key=True),
    Column("state_id", ForeignKey("geographies.id"), primary_key=True),
)


class Geography(Base):
    """A place figures are reported for: the nation, a state, a CBSA, or one of ITA's unallocated rows."""

    __tablename__ = "geographies"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str]
    usps: Mapped[str | None] = mapped_column(String(2))
    metro_type: Mapped[str | None] = mapped_column(String(16))
    land_area_m2: Mapped[int | None]
    delineation: Mapped[str | None] = mapped_column(String(16))
    # Title in each delineation vintage that has this CBSA, e.g. {"2023": "...", "2013": "..."}.
    titles: Mapped[dict] = mapped_column(default=dict)
    # Lower-case, accent-free name and former titles: what `q` searches.
    search_text: Mapped[str] = mapped_column(default="")

    states: Mapped[list["Geography"]] = relationship(
        secondary=geography_states,
        primaryjoin=id == geography_states.c.geography_id,
        secondaryjoin=id == geography_states.c.state_id,
        order_by="Geography.code",
        lazy="selectin",
    )

    @property
    def former_titles(self) -> list[str]:
        return sorted({t for t in (self.titles or {}).values() if t != self.name})


def by_kind(kind: str):
    return select(Geography).where(Geography.kind == kind)
