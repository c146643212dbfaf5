from datetime import date

from sqlalchemy import ForeignKey, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.geography import Geography
from models.growth import DIGITS, Series, cagr, change, first_year_at_least, index


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


def plans_of(geography_id: int) -> Select:
    """The plans a metro took part in, by cohort."""
    return select(ExportPlan).where(ExportPlan.geography_id == geography_id).order_by(ExportPlan.cohort)


COHORT_YEARS = {"pilot-2012": 2012, "exchange-2013": 2013, "global-cities-2015": 2015}
BASIS_NOTE = ("The plan's baseline and target are {basis} exports (Brookings figures); the series is ITA's "
              "merchandise (goods only) exports, so its levels are lower and not comparable with the plan's. "
              "Progress is measured on the series itself: the plan's growth multiple (target / baseline) is "
              "applied to the series' value in the start year.")


def start_year(plan: ExportPlan) -> tuple[int, str | None]:
    """The baseline year, or — when the plan states none — the year it was released, saying so."""
    if plan.baseline_year is not None:
        return plan.baseline_year, None
    year = plan.released_on.year if plan.released_on else COHORT_YEARS[plan.cohort]
    return year, f"The plan states no baseline year; the series starts in {year}, the year the plan was released."


def progress(plan: ExportPlan, series: Series, statuses: dict[int, str]) -> dict:
    """A plan's goal against a metro's actual exports each year from the start year on."""
    first, first_note = start_year(plan)
    years = {y: v for y, v in series.items() if y >= first}
    notes = [n for n in (first_note,) if n]
    multiple = (plan.target_value / plan.baseline_value
                if plan.target_value and plan.baseline_value else None)
    required, required_reason = None, None
    if multiple is None:
        required_reason = "the plan states no baseline and target values"
    elif plan.target_year is None:
        required_reason = "the plan states no target year"
    else:
        required, required_reason = cagr(plan.baseline_value, plan.target_value, plan.target_year - first)
    base = years.get(first)
    goal = round(base * multiple) if base is not None and multiple is not None else None
    last = max((y for y, v in years.items() if v is not None), default=None)
    achieved = change(years, first, last, statuses) if last is not None else None
    reached = first_year_at_least(years, goal, first) if goal is not None else None
    indexed, _ = index(years, first)
    path = {}
    if base is not None and required is not None:
        path = {y: round(base * (1 + required / 100) ** (y - first)) for y in years}
    return {
        "start_year": first,
        "target_multiple": round(multiple, DIGITS) if multiple is not None else None,
        "required_cagr": required,
        "required_cagr_reason": required_reason,
        "series_start_value": base,
        "series_goal_value": goal,
        "achieved": achieved,
        "goal_reached": reached is not None if goal is not None else None,
        "goal_reached_in": reached,
        "notes": notes,
        "years": [{"year": y, "value": v, "status": statuses.get(y, "ok"), "index": indexed.get(y),
                   "on_track_value": path.get(y)} for y, v in sorted(years.items())],
    }
