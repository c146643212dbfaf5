"""Figures many requests share, computed once per data version: the datasets' provenance, the exports indicator
of a dataset, national totals, every place's figures in a dataset (the cross-sections behind rankings and the
summary), the releases of each series and the figures known from some of them (models.vintages), and the trade
partners with their codes.

Each function takes a snapshot of the store (models.engine.Snapshot: a connection and the data version it sees) and
returns an immutable value that depends only on that version and the other arguments, so any caller may use it at
any time. Their results are kept together, bounded by the memory they hold (REMEMBERED; bench/memo_bench.py measures
what each costs to compute and to keep).
"""

import gc
import sys
import threading
from collections import Counter, OrderedDict, defaultdict, namedtuple
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from types import FunctionType, MappingProxyType, ModuleType

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from models import Dataset, Geography, Industry, Observation, Partner, geography_states, territory, vintages
from models.delineation import aliases, attribute, in_force, map_points, succession_edges, vintage_in_force
from models.engine import Snapshot
from models.observation import (
    ALL_INDUSTRIES,
    EXPORTS,
    PER_SOURCES,
    WORLD,
    PartnerCode,
    cross_section,
    has_kind,
    national_totals,
    partner_members,
)
from models.series import territory as territory_in_words
from models.stats import Per, Place
from models.territory import SCOPES, STATES, Scope, within
from models.vintages import sole_releases


class Remembered:
    """The results of the functions below, per (function, data version, arguments), in one store bounded by the
    memory they hold (footprint()): the least recently used go first, O(1) per entry."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: tuple, compute: Callable[[], object]) -> object:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key][0]
        value = compute()
        held = footprint(value)
        with self.lock:
            if key not in self.entries and held <= self.max_bytes:
                self.entries[key] = (value, held)
                self.size += held
                while self.size > self.max_bytes:
                    self.size -= self.entries.popitem(last=False)[1][1]
        return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


ATOMS = (str, bytes, int, float, bool, type(None), date)
SHARED = (type, ModuleType, FunctionType)


def footprint(value: object) -> int:
    """The bytes a value holds: every object it reaches, counted once (objects it shares with others, such as
    interned strings, are counted too, so this is an upper bound)."""
    seen, pending, total = set(), [value], 0
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, SHARED):
            continue
        seen.add(id(item))
        total += (sys.getsizeof(item) + 15) & ~15  # as the allocator hands it out: in multiples of 16 bytes
        if not isinstance(item, ATOMS):
            pending.extend(gc.get_referents(item))
    return total


REMEMBERED = Remembered(64 * 1024 * 1024)  # the app sets FIGURES_MAX_BYTES at start-up


def per_version(function: Callable) -> Callable:
    """Remember a function of (snapshot, *args) per (data version, *args), in REMEMBERED."""
    @wraps(function)
    def wrapper(snapshot: Snapshot, *args):
        return REMEMBERED.get((function, snapshot.version, *args), lambda: function(snapshot, *args))
    return wrapper


@dataclass(frozen=True, slots=True)
class Source:
    """A dataset's provenance as a response names it."""

    id: str
    title: str
    publisher: str
    source_url: str | None
    unit: str | None
    dollar_basis: str | None


@per_version
def provenance(snapshot: Snapshot) -> MappingProxyType:
    """{dataset id: Source} for every loaded dataset."""
    rows = snapshot.connection.execute(select(Dataset.id, Dataset.title, Dataset.publisher, Dataset.source_url,
                                              Dataset.unit, Dataset.dollar_basis).order_by(Dataset.id))
    return MappingProxyType({r.id: Source(*r) for r in rows})


@per_version
def exports_indicator(snapshot: Snapshot, dataset: str) -> str | None:
    """The exports indicator a dataset holds (goods, or goods and services), or None if it holds none."""
    return snapshot.connection.scalar(select(Observation.indicator).where(
        Observation.dataset_id == dataset, Observation.indicator.in_(EXPORTS)).limit(1))


@per_version
def state_datasets(snapshot: Snapshot) -> tuple[str, ...]:
    """The datasets with state figures of goods exports (the Census ones) that are the sole release of their series
    (models.vintages.figures combines the releases of one), in id order."""
    ids = snapshot.connection.scalars(select(Dataset.id).where(Dataset.id.in_(sole_releases()))
                                      .order_by(Dataset.id)).all()
    o = Observation
    return tuple(d for d in ids if snapshot.connection.scalar(select(exists().where(
        o.dataset_id == d, o.indicator == "exports_goods",
        o.geography_id.in_(select(Geography.id).where(Geography.kind == "state"))))))


@dataclass(frozen=True, slots=True)
class NationalTotals:
    values: MappingProxyType  # year → total
    definition: str  # what the total is, as a response names it
    reasons: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # year → why it has no total
    outside: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # code → why not its denominator


@per_version
def national(snapshot: Snapshot, dataset: str, indicator: str, industry: str = ALL_INDUSTRIES,
             partner: str = WORLD) -> NationalTotals:
    """National totals per year for a dataset: its United States row where it has one (Census files), else the sum
    of every place (ITA: all metros and the unallocated rows, which together make the national total)."""
    nation, parts = national_totals(dataset, indicator, industry, partner)
    rows = snapshot.connection.execute(nation).all()
    if rows:
        return NationalTotals(MappingProxyType({y: total for y, total, _ in rows}),
                              f"the United States row of {dataset}")
    rows = snapshot.connection.execute(parts).all()
    return NationalTotals(MappingProxyType({y: total for y, total, _ in rows}), (
        f"the sum of every place in {dataset} (for ITA: all metros and the unallocated rows, which together make "
        f"the national total)"))


Point = namedtuple("Point", "dataset_id indicator year value status")  # a row of a series, as express() reads it


@dataclass(frozen=True, slots=True)
class Nation:
    """A dataset's national series of an indicator, and what it is made of (its basis)."""

    dataset: str
    rows: tuple[Point, ...]  # one per year; a sum of places is status 'derived'
    method: str  # united_states_row | sum_of_places
    definition: str
    territory: str
    places: MappingProxyType  # kind → places of that kind in the dataset
    places_with_figure: MappingProxyType  # year → places with a figure that year
    sum_of_places: MappingProxyType  # year → the sum of the places' figures (= the totals, unless a row is given)


@per_version
def nation(snapshot: Snapshot, dataset: str, indicator: str, industry: str = ALL_INDUSTRIES) -> Nation:
    """The national series of a dataset: the national totals shares divide by (national()), with the places they
    cover."""
    totals = national(snapshot, dataset, indicator, industry)
    row = places(snapshot, dataset, indicator, ("nation",), industry)
    parts = places(snapshot, dataset, indicator, ("state", "metro", "unallocated"), industry)
    years = sorted({y for p in (*row, *parts) for y in p.figures})

    def status(year: int) -> str:
        if row:
            return row[0].status(year)
        return "not_available" if totals.values.get(year) is None else "derived"

    principal = principal_states(snapshot)
    fips = {code for p in parts if p.kind in ("state", "metro") for code in (
        (p.code,) if p.kind == "state" else principal.get(p.code, ()))}
    kinds = Counter(p.kind for p in parts)
    return Nation(
        dataset, tuple(Point(dataset, indicator, y, totals.values.get(y), status(y)) for y in years),
        "united_states_row" if row else "sum_of_places", totals.definition,
        territory_in_words(fips, [p.name for p in parts if p.kind == "unallocated"], metros=not kinds["state"]),
        MappingProxyType(dict(sorted(kinds.items()))),
        MappingProxyType({y: sum(1 for p in parts if p.value(y) is not None) for y in years}),
        MappingProxyType({y: sum(p.value(y) for p in parts if p.value(y) is not None) for y in years}))


@per_version
def places(snapshot: Snapshot, dataset: str, indicator: str, kinds: tuple[str, ...],
           industry: str = ALL_INDUSTRIES, partner: str = WORLD) -> tuple[Place, ...]:
    """Every place of `kinds` with its figures in every year of a dataset, in code order."""
    found: dict[tuple[str, str], dict] = {}
    for r in snapshot.connection.execute(cross_section(dataset, [indicator], None, list(kinds), industry=industry,
                                                       partner=partner)):
        place = found.setdefault((r.kind, r.code), {"name": r.name, "metro_type": r.metro_type, "figures": {}})
        place["figures"][r.year] = (r.value, r.status)
    return tuple(Place(code, p["name"], MappingProxyType(p["figures"]), kind, p["metro_type"])
                 for (kind, code), p in sorted(found.items(), key=lambda item: item[0][1]))


@per_version
def years(snapshot: Snapshot, dataset: str, indicator: str, kinds: tuple[str, ...],
          industry: str = ALL_INDUSTRIES) -> tuple[int, ...]:
    """The years in which some place of `kinds` has a figure (not null) in the dataset, in order: what `year`,
    `from` and `to` default to (the latest, the first and the last)."""
    return tuple(sorted({year for p in places(snapshot, dataset, indicator, kinds, industry)
                         for year, (value, _) in p.figures.items() if value is not None}))


def state_years(snapshot: Snapshot, datasets: tuple[str, ...], industry: str) -> tuple[int, ...]:
    """The years with state exports of `industry` in any of `datasets` (the Census ones, whose years are combined)."""
    return tuple(sorted({y for d in datasets for y in years(snapshot, d, "exports_goods", ("state",), industry)}))


@per_version
def changes(snapshot: Snapshot, dataset: str, indicator: str, kinds: tuple[str, ...], start: int,
            end: int) -> MappingProxyType:
    """{code: Change from `start` to `end`} for every place of `places` (growth and CAGR rankings of any kind)."""
    return MappingProxyType({p.code: p.change(start, end) for p in places(snapshot, dataset, indicator, kinds)})


@per_version
def over_territory(snapshot: Snapshot, dataset: str, indicator: str, scope_id: str | None) -> NationalTotals:
    """National totals per year over the territory of a place's series, where `dataset` gives them
    (models.territory: Puerto Rico's metros divide their population by the United States and Puerto Rico rows);
    else the dataset's own (national())."""
    how = territory.NATIONAL.get((indicator, scope_id))
    if how is None or how.dataset != dataset:
        return national(snapshot, dataset, indicator)
    scope = SCOPES[scope_id]
    expected = len(scope.territories) if how.rows == "nation" else None
    totals, reasons = {}, {}
    for year, total, count in snapshot.connection.execute(territory.national_by_year(indicator, scope)):
        if expected is not None and count != expected:
            reasons[year] = f"{dataset} gives {count} of the {expected} rows the national total is made of for {year}"
        else:
            totals[year] = total
    return NationalTotals(MappingProxyType(totals), how.definition, MappingProxyType(reasons))


@per_version
def states_total(snapshot: Snapshot, dataset: str, indicator: str, industry: str, partner: str,
                 scope_id: str | None) -> NationalTotals:
    """Per year, a dataset's figures summed over the states of a territory (the 50 states and DC, or with Puerto
    Rico): one basis in every year of a state series, whichever file gives the year. A state the file covers that
    year (it has figures of it) but lists no figure for had none (the files leave zero cells out); a year in which
    the file does not cover one of those states, or withholds its figure, has no total, and the reason names them."""
    if scope_id is None:
        return NationalTotals(MappingProxyType({}), (
            "none: shares of state exports are over the 50 states and DC (or those and Puerto Rico, for Puerto "
            "Rico); other territories are in neither"))
    scope, o = SCOPES[scope_id], Observation
    names, covered = states_covered(snapshot, dataset, indicator, scope_id)
    values: dict[int, dict[str, float | None]] = {year: {} for year in covered}
    for year, code, value in snapshot.connection.execute(
            _state_rows(dataset, indicator, scope).add_columns(o.value).where(o.industry == industry,
                                                                             o.partner == partner)):
        values[year][code] = value
    totals, reasons = {}, {}
    for year in sorted(covered):
        lacking = sorted(names[c] for c in set(names) - covered[year])
        withheld = sorted(names[c] for c, v in values[year].items() if v is None)
        if lacking:
            reasons[year] = (f"{dataset} covers {len(covered[year])} of the {len(names)} places of "
                             f"{scope.definition} in {year} (not {_listed(lacking)}), so no total over them")
        elif withheld:
            reasons[year] = f"{dataset} withholds the {year} figure of {_listed(withheld)}, so no total over them"
        else:
            totals[year] = sum(v for v in values[year].values() if v is not None)
    return NationalTotals(MappingProxyType(totals), (
        f"the sum of {scope.definition} in the dataset of each year (the same rows in every year; not the file's "
        f"national row, which some files give with other territories and unallocated exports and some lack)"),
        MappingProxyType(reasons))


def state_shares(snapshot: Snapshot, sources: Mapping[int, set[str]], industry: str, partner: str,
                 codes: Iterable[str]) -> NationalTotals:
    """What a ranking of states by share divides by, as a state's series does (states_total): per year, the sum of
    the 50 states and DC in the dataset that year's figures come from (`sources`: year → datasets). Puerto Rico's
    shares are over the 50 states, DC and Puerto Rico, and other territories are in no share: of `codes`, those
    outside the 50 states and DC are named in `outside`."""
    values, reasons, names = {}, {}, {}
    for year, datasets in sorted(sources.items()):
        if len(datasets) > 1:
            reasons[year] = f"the {year} figures come from {', '.join(sorted(datasets))}: no one total over them"
            continue
        (dataset,) = datasets
        names, _ = states_covered(snapshot, dataset, "exports_goods", STATES.id)
        totals = states_total(snapshot, dataset, "exports_goods", industry, partner, STATES.id)
        if year in totals.values:
            values[year] = totals.values[year]
        else:
            reasons[year] = totals.reasons.get(year, f"{dataset} has no figures of {STATES.definition} in {year}")
    outside = {code: (f"not one of {STATES.definition}: Puerto Rico's shares are of those and Puerto Rico (its "
                      "series), and other territories are in no share") for code in codes if names and code not in names}
    return NationalTotals(MappingProxyType(values), (
        f"the sum of {STATES.definition} in the dataset of each year, as in a state's series (not the files' All "
        "States rows, which some files give with other territories and unallocated exports and some lack); Puerto "
        "Rico and the other territories are not ranked by share"), MappingProxyType(reasons), MappingProxyType(outside))


@per_version
def states_covered(snapshot: Snapshot, dataset: str, indicator: str, scope_id: str) -> tuple[MappingProxyType,
                                                                                             MappingProxyType]:
    """The states of a territory ({code: name}), and per year those a dataset has figures of (any industry or
    partner): what every industry's states_total() checks its figures against."""
    scope = SCOPES[scope_id]
    names = dict(snapshot.connection.execute(
        select(Geography.code, Geography.name).where(Geography.kind == "state", within(scope))).all())
    covered: dict[int, set[str]] = defaultdict(set)
    for year, code in snapshot.connection.execute(_state_rows(dataset, indicator, scope).distinct()):
        covered[year].add(code)
    return MappingProxyType(names), MappingProxyType({year: frozenset(codes) for year, codes in covered.items()})


def _state_rows(dataset: str, indicator: str, scope: Scope):
    o = Observation
    return (select(o.year, Geography.code).join(Geography, Geography.id == o.geography_id)
            .where(o.dataset_id == dataset, o.indicator == indicator, Geography.kind == "state", within(scope)))


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


@per_version
def points(snapshot: Snapshot) -> MappingProxyType:
    """{geography id: {lat, lon, vintage}}: every CBSA's internal point (models.delineation.map_points)."""
    return MappingProxyType({r.id: MappingProxyType({"lat": r.intpt_lat, "lon": r.intpt_lon, "vintage": r.vintage})
                             for r in snapshot.connection.execute(map_points())})


@per_version
def heirs(snapshot: Snapshot) -> MappingProxyType:
    """{geography id: the current CBSA holding most of its land (kind, code, name)} for every retired CBSA that has
    one (models.delineation.successor)."""
    heir = aliased(Geography)
    rows = snapshot.connection.execute(select(Geography.id, heir.kind, heir.code, heir.name)
                                       .join(heir, heir.id == Geography.successor_id))
    return MappingProxyType({r.id: MappingProxyType({"kind": r.kind, "code": r.code, "name": r.name}) for r in rows})


@dataclass(frozen=True, slots=True)
class Area:
    """A CBSA of a year's universe, as the delineation in force defines it."""

    code: str
    title: str
    territory: str
    land_area_m2: int | None
    source: str


@dataclass(frozen=True, slots=True)
class Universe:
    """The metropolitan areas of the delineation in force for a year, and the codes sources file them under."""

    year: int
    areas: tuple[Area, ...]  # in code order
    aliases: MappingProxyType  # code outside the universe → the universe's code for that area


@per_version
def universe(snapshot: Snapshot, year: int) -> Universe:
    areas = tuple(Area(r.code, r.title, r.territory, r.land_area_m2, r.source)
                  for r in snapshot.connection.execute(in_force(year)))
    edges = [tuple(r) for r in snapshot.connection.execute(succession_edges())]
    return Universe(year, areas, MappingProxyType(aliases((a.code for a in areas), edges)))


@dataclass(frozen=True, slots=True)
class Denominator:
    value: float | None
    definition: str
    dataset: str
    reason: str | None  # why value is None


@per_version
def denominator(snapshot: Snapshot, measure: str, scope_id: str, year: int) -> Denominator:
    """The national figure of a measure over a territory in a year (models.territory), or None with the reason:
    the sources have none for the year, or lack one of the rows it is made of."""
    scope, how = SCOPES[scope_id], territory.NATIONAL[measure, scope_id]
    dataset = how.dataset or territory.land_dataset(year)[0]
    total, count = snapshot.connection.execute(territory.national(measure, scope, year)).one()
    expected = {"nation": len(scope.territories), "all": count or 1, "states": snapshot.connection.scalar(
        select(func.count()).select_from(Geography).where(Geography.kind == "state", within(scope)))}[how.rows]
    reason = (f"{dataset} has no {measure} figures for {year}" if not count else
              f"{dataset} gives {count} of the {expected} rows this total is made of for {year}"
              if count != expected else None)
    return Denominator(None if reason else total, territory.definition(measure, scope, year), dataset, reason)


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure of every CBSA of a year's universe, and the national denominator of shares of it over a
    territory."""

    name: str
    values: MappingProxyType  # universe code → figure or None
    under: MappingProxyType  # universe code → the code whose figure it took, where that is another one
    dataset: str  # where the figures come from
    scope: Scope  # the territory of the share
    scope_reason: str | None  # why it is not the territory asked for
    denominator: Denominator


CONCENTRATION_SOURCES = {**PER_SOURCES["metro"], "exports_goods": "ita-metro-exports"}


def measures(snapshot: Snapshot, year: int, asked: Scope) -> dict[str, Measure]:
    """Land area, population, real GDP, jobs and goods exports of every CBSA of the universe of `year`, each with
    its national denominator over the territory asked, or the one the sources give (national_scope)."""
    found = universe(snapshot, year)
    codes = [a.code for a in found.areas]
    result = {}
    for name, dataset in {"land_area": vintage_in_force(year).source, **CONCENTRATION_SOURCES}.items():
        scope, why = territory.national_scope(name, asked)
        if name == "land_area":  # the delineation's own land: its codes are the universe's
            values, under = {a.code: a.land_area_m2 for a in found.areas}, {}
        else:
            figures = {p.code: p.value(year) for p in places(snapshot, dataset, name, ("metro",))}
            values, under = attribute(codes, found.aliases, figures)
        result[name] = Measure(name, MappingProxyType(values), MappingProxyType(under), dataset, scope, why,
                               denominator(snapshot, name, scope.id, year))
    return result


def measure_years(snapshot: Snapshot, name: str) -> tuple[str, tuple[int, ...]]:
    """(dataset, years with metro figures) of a measure of concentration; land area has no year: ITA's exports'."""
    dataset = CONCENTRATION_SOURCES.get(name, "ita-metro-exports")
    return dataset, years(snapshot, dataset, "exports_goods" if name == "land_area" else name, ("metro",))


@dataclass(frozen=True, slots=True)
class Release:
    """A dataset as a release (vintage) of its series."""

    id: str
    series: str
    title: str
    released_on: date | None
    release: str | None


@per_version
def releases(snapshot: Snapshot) -> MappingProxyType:
    """{series: its releases, newest first (undated last)} for every dataset."""
    found: dict[str, list[Release]] = defaultdict(list)
    for r in snapshot.connection.execute(select(Dataset.id, Dataset.series, Dataset.title, Dataset.released_on,
                                                Dataset.release)
                                         .order_by(Dataset.released_on.desc().nulls_last(), Dataset.id.desc())):
        found[r.series].append(Release(*r))
    return MappingProxyType({series: tuple(found[series]) for series in sorted(found)})


@per_version
def release_coverage(snapshot: Snapshot, series: str) -> MappingProxyType:
    """{release: its first and last year, places, partners and figures} for the releases of a series."""
    return MappingProxyType({r.dataset_id: MappingProxyType(dict(r._mapping))
                             for r in snapshot.connection.execute(vintages.coverage(series))})


def release(snapshot: Snapshot, dataset: str) -> Release | None:
    """A dataset as a release of its series."""
    return next((r for found in releases(snapshot).values() for r in found if r.id == dataset), None)


@per_version
def listed(snapshot: Snapshot, dataset: str) -> frozenset[str]:
    """The partners a dataset gives any figure for."""
    return frozenset(p for _, p in snapshot.connection.execute(vintages.listed([dataset])))


@per_version
def series_cells(snapshot: Snapshot, series: str, partner: str = WORLD, industry: str = ALL_INDUSTRIES) -> tuple:
    """Every release's figures (vintages.Cell) for `partner` and for the world (which say what each release covers):
    what vintages.newest() reads for that partner's figures as known on a date. Strings are interned: the same few
    ids and names repeat over thousands of cells."""
    ids = [r.id for r in releases(snapshot).get(series, ())]
    found = tuple(vintages.Cell(*(sys.intern(v) if isinstance(v, str) else v for v in row))
                  for row in snapshot.connection.execute(vintages.cells(ids, partners=[partner], industry=industry)))
    return found if partner == WORLD else series_cells(snapshot, series, WORLD, industry) + found


def known(snapshot: Snapshot, series: str, known_releases: tuple[str, ...], rows) -> dict[vintages.Key, vintages.Known]:
    """vintages.newest() over `rows` of the releases `known_releases` of a series."""
    order = [(r.id, r.released_on) for r in releases(snapshot).get(series, ()) if r.id in known_releases]
    return vintages.newest([r for r in rows if r.dataset_id in known_releases], order,
                           {d: listed(snapshot, d) for d in known_releases})


def spans(years) -> str:
    """Years as runs: '2015-2019', or '2012, 2014-2016'."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


@dataclass(frozen=True, slots=True)
class KnownPlaces:
    """Every place of some kinds with its figures as known from some releases of a series (`places`, in code
    order), and each figure with its release and revisions (`known`: {(code, year): vintages.Known})."""

    places: tuple[Place, ...]
    known: MappingProxyType


@per_version
def known_places(snapshot: Snapshot, series: str, known_releases: tuple[str, ...], kinds: tuple[str, ...],
                 partner: str = WORLD, industry: str = ALL_INDUSTRIES) -> KnownPlaces:
    """The figures of places of `kinds` for `partner` as known from `known_releases` of a series (newest covering
    release first)."""
    rows = [r for r in series_cells(snapshot, series, partner, industry) if r.kind in kinds]
    figures = known(snapshot, series, known_releases, rows)
    names = {r.geography_id: (r.kind, r.code, r.name, r.metro_type) for r in rows}
    found: dict[int, dict] = defaultdict(dict)
    for (geography_id, p, year), k in figures.items():
        if p == partner:
            found[geography_id][year] = k
    places_ = sorted((names[g], by_year) for g, by_year in found.items())
    return KnownPlaces(
        tuple(Place(code, name, MappingProxyType({y: (k.value, k.status) for y, k in by_year.items()}), kind, metro)
              for (kind, code, name, metro), by_year in places_),
        MappingProxyType({(code, y): k for (_, code, _, _), by_year in places_ for y, k in by_year.items()}))


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    """A trade partner with every code it is known by, and its groups or members."""

    code: str
    name: str
    kind: str
    iso2: str | None
    iso3: str | None
    names: tuple[str, ...]
    codes: tuple[tuple[str, str], ...]  # (code, system): iso2, iso3, census
    members: tuple[str, ...]  # a group's countries
    groups: tuple[str, ...]  # the groups a country is a member of


@per_version
def partners(snapshot: Snapshot) -> MappingProxyType:
    """{canonical code: PartnerInfo} for every partner, in code order."""
    connection = snapshot.connection
    codes, members, groups = defaultdict(list), defaultdict(list), defaultdict(list)
    for code, partner, system in connection.execute(select(PartnerCode.code, PartnerCode.partner, PartnerCode.system)
                                                    .order_by(PartnerCode.code)):
        if system != "canonical":
            codes[partner].append((code, system))
    for group, member in connection.execute(select(partner_members).order_by(partner_members.c.group_code,
                                                                             partner_members.c.member)):
        members[group].append(member)
        groups[member].append(group)
    return MappingProxyType({p.code: PartnerInfo(p.code, p.name, p.kind, p.iso2, p.iso3, tuple(p.names or ()),
                                                 tuple(codes[p.code]), tuple(members[p.code]), tuple(groups[p.code]))
                             for p in connection.execute(select(Partner.code, Partner.name, Partner.kind, Partner.iso2,
                                                                Partner.iso3, Partner.names).order_by(Partner.code))})


@per_version
def per(snapshot: Snapshot, indicator: str, dataset: str, kind: str) -> Per:
    """The denominator of ratios per `indicator` (per=population) for places of `kind`, from `dataset`."""
    delineation = snapshot.connection.scalar(select(Dataset.delineation).where(Dataset.id == dataset))
    return Per(indicator, dataset, delineation,
               MappingProxyType({p.code: p for p in places(snapshot, dataset, indicator, (kind,))}))


@per_version
def principal_states(snapshot: Snapshot) -> MappingProxyType:
    """{CBSA code: the FIPS codes of its principal states} for every CBSA."""
    cbsa, state = Geography.__table__.alias("cbsa"), Geography.__table__.alias("state")
    found: dict[str, tuple[str, ...]] = {}
    for code, fips in snapshot.connection.execute(
            select(cbsa.c.code, state.c.code)
            .join(geography_states, geography_states.c.geography_id == cbsa.c.id)
            .join(state, state.c.id == geography_states.c.state_id)
            .where(cbsa.c.kind == "metro").order_by(cbsa.c.code, state.c.code)):
        found[code] = (*found.get(code, ()), fips)
    return MappingProxyType(found)


@per_version
def kinds(snapshot: Snapshot, dataset: str, indicators: tuple[str, ...]) -> frozenset[str]:
    """The kinds of place (nation, state, metro, unallocated) a dataset has figures of `indicators` for."""
    return frozenset(kind for kind in ("nation", "state", "metro", "unallocated")
                     if snapshot.connection.scalar(has_kind(dataset, indicators, kind)))


@per_version
def industry_codes(snapshot: Snapshot) -> frozenset[str]:
    """Every industry code the data hold (/v1/industries)."""
    return frozenset(snapshot.connection.scalars(select(Industry.code)))


@per_version
def partner_codes(snapshot: Snapshot) -> MappingProxyType:
    """{any code a partner is known by, upper case: the partner's own code} (models.observation.PartnerCode)."""
    return MappingProxyType(dict(snapshot.connection.execute(select(PartnerCode.code, PartnerCode.partner)).all()))


@dataclass(frozen=True, slots=True)
class GeographyIndex:
    """Every place in the store by id, and the ids by kind and code."""

    by_id: MappingProxyType  # id → (kind, code)
    ids: MappingProxyType  # (kind, code) → id


@per_version
def geographies(snapshot: Snapshot) -> GeographyIndex:
    """Every place by id and by kind and code: how observations' place ids become codes, and codes ids."""
    rows = snapshot.connection.execute(select(Geography.id, Geography.kind, Geography.code)).all()
    return GeographyIndex(MappingProxyType({r.id: (r.kind, r.code) for r in rows}),
                          MappingProxyType({(r.kind, r.code): r.id for r in rows}))
