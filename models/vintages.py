"""Releases (vintages) of a series, and its figures as known on a date.

A series is published again and again with revisions; each file the store loads is one release of its series
(`Dataset.series`, dated `Dataset.released_on`). A release *covers* a place and year where it gives the place's world
figure that year (every release of these series gives one for each place and year it holds), and *lists* a partner
where it gives any figure for it. The figure of a place, partner and year known on a date is that of the newest
release dated on or before it that covers the place and year and lists the partner. Where that release gives no
figure for the partner, the place exported nothing there (the files leave zero cells out) and none is served; a
release that never names a partner (the 2016-2025 file has no groups) says nothing about it, and an older one answers.
"""

from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, or_, select

from models.dataset import Dataset
from models.geography import Geography
from models.observation import ALL_INDUSTRIES, WORLD, Observation

# The series state reads without dataset= take their figures from first (see api.partners.state_figures).
STATE_SERIES = "census-state-exports-by-partner"


def releases(series: str, as_of: date | None = None) -> Select:
    """The releases of a series, newest first (undated ones last); only those dated on or before `as_of`."""
    query = select(Dataset).where(Dataset.series == series)
    if as_of is not None:
        query = query.where(Dataset.released_on <= as_of)
    return query.order_by(Dataset.released_on.desc().nulls_last(), Dataset.id.desc())


def sole_releases() -> Select:
    """The ids of datasets that are the only release of their series (undated: what they were known on is unknown)."""
    revised = select(Dataset.series).group_by(Dataset.series).having(func.count() > 1)
    return select(Dataset.id).where(Dataset.series.not_in(revised))


def series_named(name: str) -> Select:
    """The series a dataset id (a release of it) or a series id names; no row if neither."""
    return (select(Dataset.series).where(or_(Dataset.id == name, Dataset.series == name))
            .order_by((Dataset.id == name).desc()).limit(1))


def coverage(series: str) -> Select:
    """Per release of a series: first and last year, places and figures (values, not nulls) of its exports."""
    o = Observation
    return (select(o.dataset_id, func.min(o.year).label("first_year"), func.max(o.year).label("last_year"),
                   func.count(func.distinct(o.geography_id)).label("places"),
                   func.count(func.distinct(o.partner)).label("partners"), func.count(o.value).label("figures"))
            .join(Dataset, Dataset.id == o.dataset_id).where(Dataset.series == series)
            .group_by(o.dataset_id))


def vintages_body(series: str, datasets: Sequence[Dataset], coverage_: Mapping[str, Mapping]) -> dict:
    """The releases of a series, newest first, with what each covers (schemas.codes.VintagesSchema); `newest` marks
    the one a read without as_of prefers."""
    newest = next((d.id for d in datasets if d.released_on is not None), datasets[0].id)
    empty = {"first_year": None, "last_year": None, "places": 0, "partners": 0, "figures": 0}
    return {"series": series, "releases": [
        {**{k: getattr(d, k) for k in ("id", "title", "released_on", "release", "loaded_at", "coverage")},
         **{k: coverage_.get(d.id, empty)[k] for k in empty}, "newest": d.id == newest} for d in datasets]}


def listed(datasets: Iterable[str]) -> Select:
    """(dataset, partner): the partners each dataset gives any figure for."""
    o = Observation
    return select(o.dataset_id, o.partner).where(o.dataset_id.in_(list(datasets))).group_by(o.dataset_id, o.partner)


Cell = namedtuple("Cell", "dataset_id geography_id kind code name usps metro_type partner year value status note")


def cells(datasets: Iterable[str], indicator: str = "exports_goods", kinds: Iterable[str] | None = None,
          geography_ids: Iterable[int] | None = None, partners: Iterable[str] | None = None,
          years: Iterable[int] | None = None, industry: str = ALL_INDUSTRIES) -> Select:
    """The figures of some releases, each with its place (rows of Cell's fields): those of `partners` (all if
    None). newest() needs the world figures among them, which say what each release covers."""
    o, g = Observation, Geography
    query = (select(o.dataset_id, o.geography_id, g.kind, g.code, g.name, g.usps, g.metro_type, o.partner, o.year,
                    o.value, o.status, o.note)
             .join(g, g.id == o.geography_id)
             .where(o.dataset_id.in_(list(datasets)), o.indicator == indicator, o.industry == industry))
    if kinds is not None:
        query = query.where(g.kind.in_(list(kinds)))
    if geography_ids is not None:
        query = query.where(o.geography_id.in_(list(geography_ids)))
    if partners is not None:
        query = query.where(o.partner.in_(list(partners)))
    if years is not None:
        query = query.where(o.year.in_(list(years)))
    return query


@dataclass(frozen=True, slots=True)
class Revision:
    """One release's figure of a place, partner and year (value and status None: the release lists the partner and
    covers the place and year, but gives no figure: no exports, as that release has it), with the release's note on
    it (why a figure is null, for ITA's metros)."""

    dataset: str
    released_on: date | None
    value: float | None
    status: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Known:
    """A figure as known: from the newest release that covers it, with every covering release's figure, newest
    first (the first is this one)."""

    value: float | None
    status: str
    dataset: str
    released_on: date | None
    revisions: tuple[Revision, ...]
    note: str | None = None


Key = tuple[int, str, int]  # (geography id, partner, year)


def newest(rows, order: Sequence[tuple[str, date | None]], listed: Mapping[str, frozenset[str]]) -> dict[Key, Known]:
    """What is known of each (place, partner, year) among the figures of some releases (`cells` rows), given the
    releases newest first in `order` as (id, released_on) and the partners each lists."""
    covered, found = set(), {}
    for r in rows:
        if r.partner == WORLD:
            covered.add((r.dataset_id, r.geography_id, r.year))
        found[r.dataset_id, r.geography_id, r.partner, r.year] = (r.value, r.status, r.note)
    known = {}
    for geography_id, partner, year in {key[1:] for key in found}:
        chain = tuple(Revision(d, on, *found.get((d, geography_id, partner, year), (None, None, None)))
                      for d, on in order if (d, geography_id, year) in covered and partner in listed.get(d, ()))
        if chain and chain[0].status is not None:
            first = chain[0]
            known[geography_id, partner, year] = Known(first.value, first.status, first.dataset, first.released_on,
                                                       chain, first.note)
    return known


def as_in(known: Known, dataset: str) -> Known | None:
    """A figure as one of the releases that cover it gives it; None where that release gives none."""
    found = next((r for r in known.revisions if r.dataset == dataset), None)
    if found is None or found.status is None:
        return None
    return Known(found.value, found.status, found.dataset, found.released_on, known.revisions, found.note)
