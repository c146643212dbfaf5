from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.base import Base
from models.geography import Geography

ALL_INDUSTRIES = "ALL"
WORLD = "WLD"


class Observation(Base):
    """One figure: a dataset's value of an indicator for a place, year, industry and partner.

    A value the source suppressed or lacks is NULL with a status saying why, never 0; `note` gives the reason where
    the status alone does not (an ITA blank in a year the area was not a metropolitan area).
    """

    __tablename__ = "observations"
    # a partner's figures across places (its source states, its national total) are read by partner first
    __table_args__ = (Index("ix_observations_geo", "geography_id", "indicator", "year"),
                      Index("ix_observations_partner", "partner"))

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    geography_id: Mapped[int] = mapped_column(ForeignKey("geographies.id"), primary_key=True)
    industry: Mapped[str] = mapped_column(String(16), primary_key=True, default=ALL_INDUSTRIES)
    partner: Mapped[str] = mapped_column(String(8), primary_key=True, default=WORLD)
    year: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), default="ok")
    note: Mapped[str | None] = mapped_column(Text)


class Industry(Base):
    """An industry code as the sources report it: NAICS (`31-33`, `336`), HS (`HS121120`) or `ALL`.

    `level` is the number of digits (0 for ALL, 2 for a range such as 31-33). `parent` is the nearest code above
    it that the store holds (`3361` -> `336` -> `33` -> `31-33` -> `ALL`). An `aggregate` is a range code
    published beside the two-digit codes it spans (31-33 = 31 + 32 + 33): a level leaves it out, so that the
    codes of one level never overlap and add up to ALL.
    """

    __tablename__ = "industries"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str | None]
    level: Mapped[int]
    classification: Mapped[str] = mapped_column(String(8), default="naics")
    parent: Mapped[str | None] = mapped_column(String(16))
    aggregate: Mapped[bool] = mapped_column(default=False)


class Partner(Base):
    """A trade partner: a country or territory (the Census name, its ISO 3166 code where one exists), a group of
    countries (a continent or a bloc), the world, or the exports Census could not attribute to a country.

    `code` is the canonical key observations use: ISO 3166-1 alpha-3 for a country that has one, a code from ISO's
    user-assigned range (X..) for one that has none, `WLD` for the world, `G-…` for a group.
    """

    __tablename__ = "partners"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str]
    kind: Mapped[str] = mapped_column(String(16))  # world | country | continent | bloc | unallocated
    iso2: Mapped[str | None] = mapped_column(String(2))
    iso3: Mapped[str | None] = mapped_column(String(3))
    # Every spelling the sources used, e.g. ["Congo (Brazzaville)", "Congo"].
    names: Mapped[list[str]] = mapped_column(default=list)


class PartnerCode(Base):
    """A code `partner=` accepts for a partner: its own, ISO alpha-2 and alpha-3, Census Schedule C codes."""

    __tablename__ = "partner_codes"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # upper case
    partner: Mapped[str] = mapped_column(ForeignKey("partners.code"))
    system: Mapped[str] = mapped_column(String(16))  # canonical | iso2 | iso3 | census


partner_members = Table(
    "partner_members",
    Base.metadata,
    Column("group_code", ForeignKey("partners.code"), primary_key=True),
    Column("member", ForeignKey("partners.code"), primary_key=True),
)


def partner_code(code: str) -> Select:
    """The canonical code of a partner given any code it is known by (`1220`, `CA`, `can`, `CAN`); no row if none."""
    return select(PartnerCode.partner).where(PartnerCode.code == code.strip().upper())


def partners(kinds: Iterable[str] | None = None, q: str | None = None) -> Select:
    """The codes of the partners of some kinds (all if None) whose name has every word of `q` (or whose code is
    one), in code order."""
    query = select(Partner.code)
    if kinds is not None:
        query = query.where(Partner.kind.in_(list(kinds)))
    for word in (q or "").lower().split():
        query = query.where(or_(func.lower(Partner.name).contains(word, autoescape=True), Partner.code == word.upper()))
    return query.order_by(Partner.code)


def partner_coverage(code: str) -> Select:
    """Per dataset: first and last year and the number of figures for one partner."""
    o = Observation
    return (select(o.dataset_id.label("dataset"), func.min(o.year).label("first_year"),
                   func.max(o.year).label("last_year"), func.count(o.value).label("figures"))
            .where(o.partner == code).group_by(o.dataset_id).order_by(o.dataset_id))


def members(group: str) -> Select:
    """The countries of a group, as the source defines it."""
    return (select(Partner).join(partner_members, partner_members.c.member == Partner.code)
            .where(partner_members.c.group_code == group).order_by(Partner.code))


@dataclass(frozen=True)
class Indicator:
    name: str
    title: str
    unit: str
    dollar_basis: str | None = None


INDICATORS = {i.name: i for i in (
    Indicator("exports_goods", "Exports of goods (merchandise)", "USD", "nominal"),
    Indicator("exports_goods_services", "Exports of goods and services", "USD", "nominal"),
    Indicator("exports_goods_services_real", "Exports of goods and services, real terms as published", "USD",
              "real (as published by Brookings)"),
    Indicator("exports_share_of_gdp", "Exports as a share of GDP", "fraction"),
    Indicator("population", "Resident population", "persons"),
    Indicator("population_census", "Census count of the resident population, April 1", "persons"),
    Indicator("real_gdp", "Real gross domestic product", "USD", "real (2019 dollars)"),
    Indicator("jobs", "Jobs", "jobs"),
    Indicator("jobs_young_firms", "Employment at firms 0-5 years old", "jobs"),
    Indicator("average_annual_wage", "Average annual wage", "USD", "real (2019 dollars)"),
    Indicator("output_per_job", "Real GDP per job", "USD", "real (2019 dollars)"),
    Indicator("output_per_person", "Real GDP per person", "USD", "real (2019 dollars)"),
)}
EXPORTS = ("exports_goods", "exports_goods_services")
# The dataset a ratio's denominator (per=) comes from, for each kind of place: one source each, its own figures (the
# Census estimates rather than Metro Monitor's derived population). States have none loaded.
PER_SOURCES = {"metro": {"population": "census-population-2019", "jobs": "metro-monitor-2021",
                         "real_gdp": "metro-monitor-2021"}}


class AmbiguousDataset(ValueError):
    """Two datasets give one place and year different figures: the client must choose one (dataset=)."""


def figure(value: float | None) -> int | float | None:
    """A source value as the API writes it: an integer where it is whole, else a decimal number; None stays."""
    return None if value is None else int(value) if float(value).is_integer() else float(value)


def series(geography_id: int | Iterable[int], indicators: Iterable[str] | None = None, dataset: str | None = None,
           year_from: int | None = None, year_to: int | None = None, industries: Iterable[str] | None = (ALL_INDUSTRIES,),
           naics_level: int | None = None, partner: str = WORLD) -> Select:
    """The observations of one place (or of several, by id), ordered by place, dataset, indicator, industry and
    year."""
    o = Observation
    ids = [geography_id] if isinstance(geography_id, int) else list(geography_id)
    query = select(o.geography_id, o.dataset_id, o.indicator, o.industry, o.partner, o.year, o.value, o.status,
                   o.note).where(o.geography_id.in_(ids), o.partner == partner)
    if indicators is not None:
        query = query.where(o.indicator.in_(list(indicators)))
    if dataset is not None:
        query = query.where(o.dataset_id == dataset)
    if year_from is not None:
        query = query.where(o.year >= year_from)
    if year_to is not None:
        query = query.where(o.year <= year_to)
    if naics_level is not None:
        query = query.where(o.industry.in_(select(Industry.code).where(
            Industry.level == naics_level, Industry.classification == "naics", Industry.aggregate.is_(False))))
    elif industries is not None:
        query = query.where(o.industry.in_(list(industries)))
    return query.order_by(o.geography_id, o.dataset_id, o.indicator, o.industry, o.year)


def has_kind(dataset: str, indicators: Iterable[str], kind: str) -> Select:
    """Whether a dataset has figures of `indicators` for some place of `kind`: at most one probe of the primary key
    (dataset, indicator, place, ...) per place of that kind, whatever the size of the dataset."""
    o = Observation
    figures = select(o.year).where(o.dataset_id == dataset, o.indicator.in_(list(indicators)),
                                   o.geography_id == Geography.id)
    return select(select(Geography.id).where(Geography.kind == kind, figures.exists()).exists())


def with_industry_titles(query: Select) -> Select:
    """A series() query with each figure's industry title (industry_title; null where the sources give none)."""
    return query.add_columns(Industry.title.label("industry_title")).outerjoin(
        Industry, Industry.code == Observation.industry)


def place_series(kinds: tuple[str, ...], indicators: tuple[str, ...]) -> Select:
    """One query for a place's series of `indicators`: the place (one of `kinds`, by code) and its figures in a
    dataset; run with {"code": ..., "dataset": ...}. A place without figures in the dataset comes back as one row
    whose figure columns are null; an unknown place as no row. Each row also names the place's successor (a retired
    CBSA's: successor_code and successor_name, else null).

    `kinds` and `indicators` are written into the statement as literals: build it once (an expanding IN list
    would be rendered again on every run).
    """
    o = Observation
    figures = and_(o.geography_id == Geography.id, o.dataset_id == bindparam("dataset"),
                   o.indicator.in_([literal(i) for i in indicators]), o.industry == ALL_INDUSTRIES,
                   o.partner == WORLD)
    heir = aliased(Geography)
    return (select(Geography.kind, Geography.code, Geography.name, o.dataset_id, o.indicator, o.year, o.value,
                   o.status, o.note, Geography.current, Geography.territory, heir.code.label("successor_code"),
                   heir.name.label("successor_name"))
            .select_from(Geography).outerjoin(o, figures).outerjoin(heir, heir.id == Geography.successor_id)
            .where(Geography.kind.in_([literal(k) for k in kinds]), Geography.code == bindparam("code"))
            .order_by(o.indicator, o.year))


METRO_EXPORTS = place_series(("metro", "unallocated"), EXPORTS)


def sorted_metros(query: Select, sort: str, year: int | None = None) -> Select:
    """Metros (a select of Geography), CBSAs before unallocated rows, each kind in `sort` order (name, code or
    exports; '-' first for descending); with a `year`, each row also carries the metro's ITA goods exports that year
    (value and status, null where there is no figure: they sort last). `listed` turns a row into the Geography the
    schema dumps."""
    key, descending = sort.lstrip("-"), sort.startswith("-")
    o = Observation
    if year is not None:
        query = query.add_columns(o.value, o.status).outerjoin(o, and_(
            o.geography_id == Geography.id, o.dataset_id == "ita-metro-exports", o.indicator == "exports_goods",
            o.year == year, o.industry == ALL_INDUSTRIES, o.partner == WORLD))
    if key == "exports":
        ordered = (o.value.desc() if descending else o.value.asc()).nulls_last()
    else:
        column = Geography.name if key == "name" else Geography.code
        ordered = column.desc() if descending else column
    return query.order_by(Geography.kind, ordered, Geography.code)


def listed(row, year: int | None, points: Mapping[int, dict]) -> Geography:
    """A row of sorted_metros as the Geography the list dumps: with its internal point ({geography id: point}) and,
    given a year, its exports."""
    geo = row if year is None else row[0]
    geo.internal_point = points.get(geo.id)
    if year is not None:
        geo.exports = {"year": year, "value": row[1], "status": row[2] or "not_available",
                       "dataset": "ita-metro-exports"}
    return geo


def coverage(geography_id: int) -> Select:
    """Per dataset and indicator: first and last year and the number of figures, for one place."""
    o = Observation
    return (select(o.dataset_id.label("dataset"), o.indicator, func.min(o.year).label("first_year"),
                   func.max(o.year).label("last_year"), func.count(o.value).label("figures"))
            .where(o.geography_id == geography_id, o.industry == ALL_INDUSTRIES, o.partner == WORLD)
            .group_by(o.dataset_id, o.indicator).order_by(o.dataset_id, o.indicator))


def predecessors_filed(geography_id: int, dataset: str | None) -> Select:
    """The retired CBSAs whose successor is this one and under whose codes `dataset` (any, if None) has figures:
    where a source files the area under an older code (Brookings 2017's Dayton under 19380)."""
    o = Observation
    return (select(Geography.code, Geography.name).where(Geography.successor_id == geography_id, exists().where(
        o.geography_id == Geography.id, o.value.is_not(None), *([o.dataset_id == dataset] if dataset else [])))
            .order_by(Geography.code))


def industries(level: int | None = None, classification: str | None = None, q: str | None = None) -> Select:
    query = select(Industry)
    if level is not None:
        query = query.where(Industry.level == level)
    if classification:
        query = query.where(Industry.classification == classification)
    if q:
        query = query.where(or_(Industry.code.startswith(q, autoescape=True),
                                     func.lower(Industry.title).contains(q.lower(), autoescape=True)))
    return query.order_by(Industry.classification, Industry.code)


def cross_section(dataset: str, indicators: Iterable[str], years: Iterable[int] | None, kinds: Iterable[str],
                  industry: str = ALL_INDUSTRIES, partner: str = WORLD) -> Select:
    """Every place's figures in some years (None: all), with the place's kind, code, name and metro type."""
    o = Observation
    query = (select(o.dataset_id, o.geography_id, Geography.kind, Geography.code, Geography.name,
                    Geography.metro_type, o.indicator, o.year, o.value, o.status)
             .join(Geography, Geography.id == o.geography_id)
             .where(o.dataset_id == dataset, o.indicator.in_(list(indicators)), Geography.kind.in_(list(kinds)),
                    o.industry == industry, o.partner == partner))
    return query if years is None else query.where(o.year.in_(list(years)))


def national_totals(dataset: str, indicator: str, industry: str = ALL_INDUSTRIES,
                    partner: str = WORLD) -> tuple[Select, Select]:
    """Two ways to the national total per year: the dataset's United States row, and the sum of every other place.

    The caller uses the first where the dataset has one (Census files do), else the second (ITA has no
    national row: its metros and unallocated rows add up to the national total).
    """
    o = Observation
    base = (select(o.year).join(Geography, Geography.id == o.geography_id)
            .where(o.dataset_id == dataset, o.indicator == indicator, o.industry == industry, o.partner == partner)
            .group_by(o.year))
    nation = base.add_columns(func.sum(o.value), func.count(o.value)).where(Geography.kind == "nation")
    parts = base.add_columns(func.sum(o.value), func.count(o.value)).where(Geography.kind != "nation")
    return nation, parts


KEY = (Observation.dataset_id, Observation.indicator, Observation.geography_id, Observation.industry,
       Observation.partner, Observation.year)  # the primary key, in its order


def observations(datasets: Iterable[str] = (), indicators: Iterable[str] = (), geography_ids: Iterable[int] = (),
                 kinds: Iterable[str] = (), industries: Iterable[str] = (), partners: Iterable[str] = (),
                 year_from: int | None = None, year_to: int | None = None, after: tuple | None = None) -> Select:
    """Observations in primary-key order, each filter given (an empty one is no filter), after the key `after`
    (keyset pagination: the next page starts where the index left off, whatever the table's size)."""
    o = Observation
    query = select(*KEY, o.value, o.status).order_by(*KEY)
    for column, values in ((o.dataset_id, datasets), (o.indicator, indicators), (o.geography_id, geography_ids),
                           (o.industry, industries), (o.partner, partners)):
        if values:
            query = query.where(column.in_(list(values)))
    if kinds:
        query = query.where(o.geography_id.in_(select(Geography.id).where(Geography.kind.in_(list(kinds)))))
    if year_from is not None:
        query = query.where(o.year >= year_from)
    if year_to is not None:
        query = query.where(o.year <= year_to)
    if after is not None:
        query = query.where(tuple_(*KEY) > tuple_(*after))
    return query


def long_form(rows, places: Mapping[int, tuple[str, str]]) -> list[dict]:
    """Rows of observations() as the API writes them, the place as its kind and code (`places`: id → both)."""
    return [{"dataset": r[0], "indicator": r[1], "kind": places[r[2]][0], "code": places[r[2]][1], "industry": r[3],
             "partner": r[4], "year": r[5], "value": figure(r[6]), "status": r[7]} for r in rows]
