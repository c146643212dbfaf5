from datetime import date

from sqlalchemy import Column, ForeignKey, Integer, Select, String, Table, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.geography import Geography, geography_states
from models.growth import DIGITS, Series, cagr, change, first_year_at_least, index
from models.observation import ALL_INDUSTRIES, WORLD, Observation

# The metros of a plan, in the order the programme names them; a joint site (Louisville and Lexington) has two.
export_plan_metros = Table(
    "export_plan_metros",
    Base.metadata,
    Column("plan_slug", ForeignKey("export_plans.slug"), primary_key=True),
    Column("geography_id", ForeignKey("geographies.id"), primary_key=True, index=True),
    Column("position", Integer, nullable=False),
)

# Progress is measured on ITA's metro series, the only metro export series with every year since the plans
# (Brookings' Export Monitor has 2017 only).
DATASET, INDICATOR = "ita-metro-exports", "exports_goods"
SERIES_TITLE = "ITA merchandise (goods only) exports"


class PlanCohort(Base):
    """A round of the programmes: the 2012 pilots, the 2013 Metropolitan Export Exchange, the Global Cities
    Exchange; what the reference says of it holds for each of its plans."""

    __tablename__ = "export_plan_cohorts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str]
    first_year: Mapped[int]
    last_year: Mapped[int]
    organisers: Mapped[list[str]]
    plan_scope: Mapped[str]
    description: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]]


class ExportPlan(Base):
    """A site's part in the Metropolitan Export Initiative or the Global Cities Exchange: its plan, as far as known.

    A fact the reference does not give is null, and `unknown` maps its field to the reason.
    """

    __tablename__ = "export_plans"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    metro_name: Mapped[str]
    title: Mapped[str | None]
    cohort: Mapped[str] = mapped_column(ForeignKey("export_plan_cohorts.id"))
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
    unknown: Mapped[dict]
    note: Mapped[str | None] = mapped_column(Text)
    # Slugs the plan was served under before (a joint site listed once per metro): they redirect here.
    former_slugs: Mapped[list[str]] = mapped_column(default=list)

    metros: Mapped[list[Geography]] = relationship(secondary=export_plan_metros,
                                                   order_by=export_plan_metros.c.position, lazy="selectin")
    cohort_detail: Mapped[PlanCohort] = relationship(lazy="joined")

    @property
    def metro(self) -> Geography:
        """The site's first metro (v1 named one metro per plan; a joint site has several: `metros`)."""
        return self.metros[0]

    @property
    def cbsas(self) -> list[str]:
        return [m.code for m in self.metros]

    @property
    def cbsa_names(self) -> list[str]:
        return [m.name for m in self.metros]

    @property
    def baseline(self) -> dict | None:
        if self.baseline_value is None and self.baseline_year is None:
            return None
        return {"value": self.baseline_value, "year": self.baseline_year, "basis": self.baseline_basis}

    @property
    def target(self) -> dict | None:
        if self.target_value is None and self.target_year is None:
            return None
        return {"value": self.target_value, "year": self.target_year, "note": self.target_note}


def plans(cohort: str | None = None, metro: str | None = None, state_id: int | None = None) -> Select:
    """Plans, oldest cohort first, optionally of a cohort, of a metro (CBSA code) or in a state."""
    query = select(ExportPlan).join(PlanCohort, PlanCohort.id == ExportPlan.cohort)
    if cohort is not None:
        query = query.where(ExportPlan.cohort == cohort)
    if metro is not None:
        query = query.where(ExportPlan.slug.in_(select(export_plan_metros.c.plan_slug).join(
            Geography, Geography.id == export_plan_metros.c.geography_id).where(Geography.code == metro)))
    if state_id is not None:
        query = query.where(ExportPlan.slug.in_(select(export_plan_metros.c.plan_slug).join(
            geography_states, geography_states.c.geography_id == export_plan_metros.c.geography_id).where(
            geography_states.c.state_id == state_id)))
    return query.order_by(PlanCohort.first_year, PlanCohort.last_year, ExportPlan.slug)


def plans_of(geography_id: int) -> Select:
    """The plans a metro takes part in, alone or as part of a joint site."""
    return (select(ExportPlan).join(PlanCohort, PlanCohort.id == ExportPlan.cohort)
            .where(ExportPlan.slug.in_(select(export_plan_metros.c.plan_slug)
                                       .where(export_plan_metros.c.geography_id == geography_id)))
            .order_by(PlanCohort.first_year, PlanCohort.last_year, ExportPlan.slug))


def plan_series(slug: str) -> Select:
    """Each of a plan's metros' figures in the progress series (CBSA code, year, value, status), in plan order."""
    o, m = Observation, export_plan_metros
    return (select(Geography.code, o.year, o.value, o.status)
            .join(m, m.c.geography_id == o.geography_id).join(Geography, Geography.id == o.geography_id)
            .where(m.c.plan_slug == slug, o.dataset_id == DATASET, o.indicator == INDICATOR,
                   o.industry == ALL_INDUSTRIES, o.partner == WORLD)
            .order_by(m.c.position, o.year))


def combine(codes: list[str], rows) -> tuple[Series, dict[int, str], dict[int, list[dict]]]:
    """The sum of the metros' series: a year has a value only when every metro has one.

    The sum's status is 'ok' when every part is; otherwise the status of the first metro (in the plan's order)
    that lacks a figure, or failing that the first that is not 'ok' (e.g. 'rounded'). Returns the values, the
    statuses and each year's parts.
    """
    figures = {(r.code, r.year): (r.value, r.status) for r in rows}
    values, statuses, parts = {}, {}, {}
    for year in sorted({r.year for r in rows}):
        each = [(code, *figures.get((code, year), (None, "not_available"))) for code in codes]
        missing = [status for _, value, status in each if value is None]
        values[year] = None if missing else sum(value for _, value, _ in each)
        statuses[year] = (missing or [s for _, _, s in each if s != "ok"] or ["ok"])[0]
        parts[year] = [{"cbsa": code, "value": value, "status": status} for code, value, status in each]
    return values, statuses, parts


def basis_note(plan: ExportPlan) -> str:
    """How the plan's figures and the series differ."""
    if plan.baseline_basis is None:
        return (f"The reference gives no baseline or target for this plan (see its unknown); the series is "
                f"{SERIES_TITLE}, shown as they are, indexed to the start year.")
    return (f"The plan's baseline and target are {plan.baseline_basis} exports (Brookings figures); the series is "
            f"{SERIES_TITLE}, so its levels are lower and not comparable with the plan's. Progress is measured on "
            "the series itself: the plan's growth multiple (target / baseline) is applied to the series' value in "
            "the start year.")


def measured_on(plan: ExportPlan) -> str:
    """What a progress value is: one metro's series, or the sum of a joint site's metros' series."""
    names = [f"{m.name} ({m.code})" for m in plan.metros]
    if len(names) == 1:
        return f"{SERIES_TITLE} of {names[0]}."
    return (f"The sum of the {SERIES_TITLE} of {', '.join(names[:-1])} and {names[-1]}, the metros of this joint "
            "site; a year has a value only when every one of them has a figure (parts gives each).")


def start_year(plan: ExportPlan) -> tuple[int, str | None]:
    """The baseline year; else the year the plan was released; else the last year of its cohort. Says which."""
    if plan.baseline_year is not None:
        return plan.baseline_year, None
    if plan.released_on is not None:
        year = plan.released_on.year
        return year, f"The plan states no baseline year; the series starts in {year}, the year the plan was released."
    cohort = plan.cohort_detail
    period = (f"{cohort.first_year}–{cohort.last_year}" if cohort.first_year != cohort.last_year
              else str(cohort.last_year))
    return cohort.last_year, (f"The plan states no baseline year and its release date is unknown; the series "
                              f"starts in {cohort.last_year}, the last year of its cohort ({cohort.name}, {period}).")


def progress(plan: ExportPlan, rows) -> dict:
    """A plan's goal against its metros' actual exports each year from the start year on.

    `rows` are the plan's metros' figures (code, year, value, status) as `plan_series` gives them.
    The series' years come with their statuses and each metro's part.
    """
    first, first_note = start_year(plan)
    values, statuses, parts = combine(plan.cbsas, rows)
    years = {y: v for y, v in values.items() if y >= first}
    notes = [n for n in (first_note,) if n]
    multiple = (plan.target_value / plan.baseline_value
                if plan.target_value and plan.baseline_value else None)
    required, required_reason, growth = None, None, None
    if multiple is None:
        required_reason = "the plan states no baseline and target values"
    elif plan.target_year is None:
        required_reason = "the plan states no target year"
    else:
        required, required_reason = cagr(plan.baseline_value, plan.target_value, plan.target_year - first)
        if required is not None:  # the exact rate: the rounded percentage would drift from the goal by dollars
            growth = multiple ** (1 / (plan.target_year - first))
    base = years.get(first)
    goal = round(base * multiple) if base is not None and multiple is not None else None
    last = max((y for y, v in years.items() if v is not None), default=None)
    achieved = change(years, first, last, statuses) if last is not None else None
    reached = first_year_at_least(years, goal, first) if goal is not None else None
    indexed, _ = index(years, first)
    path = {y: round(base * growth ** (y - first)) for y in years} if base is not None and growth else {}
    return {
        "baseline": plan.baseline,
        "target": plan.target,
        "measured_on": measured_on(plan),
        "basis_note": basis_note(plan),
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
        "years": [{"year": y, "value": v, "status": statuses[y], "index": indexed.get(y),
                   "on_track_value": path.get(y), "parts": parts[y]} for y, v in sorted(years.items())],
    }
