"""The territory a share covers: the 50 states and DC, or those and Puerto Rico.

A share's numerator and denominator cover the same territory. NATIONAL says, for each measure and territory, the
national figure the sources give and how it is made; MISSING says why one does not exist.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select

from models.delineation import GAZETTEER_2010, GAZETTEER_2020, vintage_in_force
from models.geography import STATES_DC, Geography
from models.observation import ALL_INDUSTRIES, WORLD, Observation


@dataclass(frozen=True)
class Scope:
    id: str
    territories: tuple[str, ...]  # Geography.territory values inside it
    definition: str


STATES = Scope("states_dc", (STATES_DC,), "the 50 states and the District of Columbia")
WITH_PR = Scope("states_dc_pr", (STATES_DC, "PR"), "the 50 states, the District of Columbia and Puerto Rico")
SCOPES = {s.id: s for s in (STATES, WITH_PR)}

# The year each Gazetteer file's boundaries hold (the year its land observations are stored under).
BOUNDARY_YEAR = {GAZETTEER_2010: 2010, GAZETTEER_2020: 2020}


@dataclass(frozen=True)
class National:
    """How a national figure is made: `rows` is 'nation' (the dataset's United States row, which covers the 50 states
    and DC, plus the rows of the scope's other territories), 'states' (the sum of the scope's states, DC and
    territories) or 'all' (every row of the dataset: ITA's metros and unallocated rows)."""

    dataset: str | None  # None: the Gazetteer file of the delineation in force
    indicator: str
    rows: str
    definition: str


NATIONAL = {
    ("land_area", STATES.id): National(None, "land_area", "states", (
        "land area of the 50 states and DC: their counties' ALAND summed in the Census Gazetteer county file on the "
        "boundaries of the delineation in force")),
    ("land_area", WITH_PR.id): National(None, "land_area", "states", (
        "land area of the 50 states, DC and Puerto Rico: their counties' ALAND summed in the Census Gazetteer county "
        "file on the boundaries of the delineation in force")),
    ("population", STATES.id): National("census-population-2019", "population", "nation", (
        "the United States row of census-population-2019 (the 50 states and DC)")),
    ("population", WITH_PR.id): National("census-population-2019", "population", "nation", (
        "the United States row plus the Puerto Rico row of census-population-2019")),
    ("population_census", STATES.id): National("census-population-2019", "population_census", "nation", (
        "the United States row of census-population-2019's April 1, 2010 census count (the 50 states and DC)")),
    ("population_census", WITH_PR.id): National("census-population-2019", "population_census", "nation", (
        "the United States row plus the Puerto Rico row of census-population-2019's April 1, 2010 census count")),
    ("real_gdp", STATES.id): National("metro-monitor-2021", "real_gdp", "nation", (
        "the United States row of metro-monitor-2021 (the 50 states and DC)")),
    ("jobs", STATES.id): National("metro-monitor-2021", "jobs", "nation", (
        "the United States row of metro-monitor-2021 (the 50 states and DC)")),
    ("exports_goods", WITH_PR.id): National("ita-metro-exports", "exports_goods", "all", (
        "every row of ita-metro-exports: the metros, Puerto Rico's included, and the four unallocated rows "
        "(crossovers, non-metropolitan, other metropolitan, unknown)")),
}
MISSING = {
    ("real_gdp", WITH_PR.id): "Metro Monitor has no Puerto Rico figures, so no national real GDP includes it",
    ("jobs", WITH_PR.id): "Metro Monitor has no Puerto Rico figures, so no national jobs total includes it",
    ("exports_goods", STATES.id): (
        "ITA's unallocated rows (non-metropolitan, crossovers, other metropolitan, unknown) are not split by "
        "territory, so no ITA total leaves Puerto Rico out"),
}


def territory_of(usps: list[str]) -> str:
    """A CBSA's territory from its principal states (a CBSA never spans Puerto Rico and a state)."""
    return "PR" if "PR" in usps else STATES_DC


def scope_of(territory: str | None) -> Scope | None:
    """The smallest scope holding a place of this territory (None for territories other than Puerto Rico)."""
    return next((s for s in (STATES, WITH_PR) if territory in s.territories), None)


def national_scope(measure: str, asked: Scope) -> tuple[Scope, str | None]:
    """The territory a measure's share can cover: the one asked, else the one the sources give, with the reason."""
    if (measure, asked.id) in NATIONAL:
        return asked, None
    other = next(s for s in SCOPES.values() if s != asked)
    if (measure, other.id) in NATIONAL:
        return other, MISSING[measure, asked.id]
    raise KeyError(f"no national {measure} in the sources")


def within(scope: Scope) -> ColumnElement[bool]:
    """Places inside the scope (for a universe of metros, or a numerator)."""
    return Geography.territory.in_(scope.territories)


def national(measure: str, scope: Scope, year: int) -> Select:
    """One row (total, figures): the national figure of a measure over a scope in a year; (None, 0) where the
    sources have none. For land, the Gazetteer county file of the delineation in force for `year`."""
    how = NATIONAL[measure, scope.id]
    o = Observation
    dataset, figure_year = (how.dataset, year) if how.dataset else land_dataset(year)
    return (select(func.sum(o.value), func.count(o.value)).join(Geography, Geography.id == o.geography_id)
            .where(o.dataset_id == dataset, o.indicator == how.indicator, o.year == figure_year,
                   o.industry == ALL_INDUSTRIES, o.partner == WORLD, _rows(how, scope)))


def national_by_year(measure: str, scope: Scope) -> Select:
    """Rows (year, total, figures): the national figure of a measure that one dataset gives (not land) over a scope,
    in every year of that dataset."""
    how = NATIONAL[measure, scope.id]
    o = Observation
    return (select(o.year, func.sum(o.value), func.count(o.value)).join(Geography, Geography.id == o.geography_id)
            .where(o.dataset_id == how.dataset, o.indicator == how.indicator, o.industry == ALL_INDUSTRIES,
                   o.partner == WORLD, _rows(how, scope)).group_by(o.year).order_by(o.year))


def _rows(how: National, scope: Scope) -> ColumnElement[bool]:
    if how.rows == "nation":
        others = [t for t in scope.territories if t != STATES_DC]
        return or_(Geography.kind == "nation", (Geography.kind == "state") & Geography.territory.in_(others))
    if how.rows == "states":
        return (Geography.kind == "state") & within(scope)
    return Geography.kind != "nation"


def land_dataset(year: int) -> tuple[str, int]:
    """The Gazetteer county dataset whose boundaries match the delineation in force for `year`, and its year."""
    dataset = vintage_in_force(year).national_land
    return dataset, BOUNDARY_YEAR[dataset]


def definition(measure: str, scope: Scope, year: int) -> str:
    """What the national figure of a measure over a scope is, as a share's denominator_definition names it."""
    text = NATIONAL[measure, scope.id].definition
    if NATIONAL[measure, scope.id].dataset is None:
        vintage = vintage_in_force(year)
        text += f" ({vintage.national_land}, for the {vintage.label} delineation in force for {year})"
    return text


def universe(year: int, scope: Scope, count: int) -> str:
    """The universe of a year's metros, as a response names it."""
    return (f"the {count} metropolitan statistical areas of the {vintage_in_force(year).label} delineation, in force "
            f"for {year}, in {scope.definition}")
