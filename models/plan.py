from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.geography import Geography


class ExportPlan(Base):
    """A metro's part in the Metropolitan Export Initiative: its plan or its participation in a cohort."""

    __tablename__ = "export_plans"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    geography_id: Mapped[int] = mapped_column(ForeignKey("geographies.id"), index=True)
    metro_name: Mapped[str]
    title: Mapped[str | None]
    cohort: Mapped[str] = mapped_column(String(32))
    released_on: Mapped[date | None]
    release_note: Mapped[str | None] = mapped_column(Text)
    lead_organisation: Mapped[str | None]
    partners: Mapped[list[str] | None]
    goal: Mapped[str | None] = mapped_column(Text)
    baseline_value: Mapped[int | None]
    baseline_year: Mapped[int | None]
    baseline_basis: Mapped[str | None]
    target_value: Mapped[int | None]
    target_year: Mapped[int | None]
    target_note: Mapped[str | None]
    strategies: Mapped[list[str] | None]
    sources: Mapped[list[str]]
    note: Mapped[str | None] = mapped_column(Text)

    geography: Mapped[Geography] = relationship(lazy="joined")
