"""Metro indicators: Brookings Metro Monitor 2021 (jobs, real GDP, ...) and Census population estimates (Vintage 2019)."""

import re
from pathlib import Path

from sqlalchemy.orm import Session

from loaders.files import SourceError, csv_rows, number, workbook
from loaders.places import Places
from loaders.store import Result, Rows, Source, unchanged, write
from models.geography import fold

GROWTH_FILE = "indicators/Growth Values (SC 2021.01.14).csv"
PROSPERITY_FILE = "indicators/Prosperity Values (SC 2021.01.12 ).csv"
POPULATION_FILE = "indicators/cbsa-met-est2019-annres.xlsx"

MONITOR_INDICATORS = {
    "Jobs": "jobs",
    "Real GDP": "real_gdp",
    "Employment at firms 0-5 years old": "jobs_young_firms",
    "Average Annual Wage": "average_annual_wage",
    "Output per Job": "output_per_job",
    "Output per Person": "output_per_person",
}
NATION = "99999"
AGGREGATES = {"99994", "99995", "99996", "99997", "99998"}

MONITOR = Source(
    id="metro-monitor-2021", title="Brookings Metro Monitor 2021: growth and prosperity indicators",
    publisher="Brookings Institution Metropolitan Policy Program",
    source_url="https://github.com/fansi-sifan/metro-datasets/tree/master/source/metro%20monitor%202021",
    unit="jobs; chained 2019 USD (real GDP, wages, output); persons (population)", dollar_basis="real (2019 dollars)",
    coverage="Metropolitan and micropolitan areas and the United States, 2009-2019", delineation="2018",
    license=None,
    notes="Real GDP, average annual wage and output per job/person are in 2019 dollars. Population is derived: "
          "real GDP / output per person, rounded to whole persons (status 'derived'; 'rounded' when real GDP is "
          "written in the file with only a few significant digits). Aggregate rows (codes 99994-99998) are not "
          "geographies and are skipped; 99999 is the United States. Some CBSAs are listed twice under two titles "
          "of the same area with the same figures; each figure is stored once. For a few codes (e.g. 13980, "
          "20140, 30940, 33940, 49260) the file gives two different values for the same year and indicator; "
          "those figures are stored as null with status 'conflicting'. Code 28780 is given to two areas "
          "(Kingsville, TX and Las Vegas, NM, whose code is 29780 and which the file also lists under 29780 with "
          "other figures): the file does not say which area a figure of 28780 belongs to, so every figure of a code "
          "given to two areas is stored as null with status 'conflicting', even where both rows agree.",
)
POPULATION = Source(
    id="census-population-2019", title="Census Population Estimates, Vintage 2019: metropolitan areas",
    publisher="U.S. Census Bureau, Population Division",
    source_url="https://www.census.gov/programs-surveys/popest/technical-documentation/research/evaluation-estimates.html",
    unit="persons", dollar_basis=None, coverage="Metropolitan statistical areas and Puerto Rico, 2010-2019",
    delineation="2018",
    notes="Resident population, July 1 estimates 2010-2019 (indicator population) and the April 1, 2010 census "
          "count (indicator population_census). Titles are mapped to codes through the 2018 delineation. "
          "Puerto Rico's total is stored for the state-level geography 72. Metropolitan divisions (doubly indented "
          "rows) and the in-metro aggregates are skipped.",
)


def area_title(title: str) -> str:
    """A Metro Monitor title without its type: 'Kingsville, TX Micropolitan Statistical Area' -> 'Kingsville, TX'."""
    return re.sub(r"\s+(Metropolitan|Micropolitan) Statistical Are(a)?$", "", title.strip())


def area(title: str) -> tuple[str, str]:
    """The first principal city and the states of a title: 'Macon-Bibb County, GA' -> ('macon', 'ga')."""
    cities, _, states = area_title(title).rpartition(", ")
    return fold(cities).split("-")[0], fold(states)


def given_to_two_areas(places: Places, code: str, titles: set[str]) -> bool:
    """Whether the file's titles for `code` name more than one area.

    The titles a delineation gives to this code are one area (the CBSA, however retitled); another title is that
    same area only if it shares their first principal city and states (a variant such as 'Macon-Bibb, GA').
    """
    own = {area(t) for t in titles if places.metro_code(area_title(t)) == code}
    return len({area(t) for t in titles} - own) + bool(own) > 1


def parse_monitor(paths: list[Path], places: Places) -> Rows:
    rows = Rows(paths[0], conflicts="null")
    titles: dict[str, set[str]] = {}
    geos: dict[str, int] = {}
    gdp: dict[tuple[int, int], tuple[float | None, str]] = {}
    per_person: dict[tuple[int, int], tuple[float | None, str]] = {}
    for path in paths:
        rows.path = path
        columns = None
        for line, row in csv_rows(path, ["year", "cbsa_name", "indicator", "value"]):
            if columns is None:
                columns = "cbsa" if "cbsa" in row else "cbsa_code" if "cbsa_code" in row else None
                if columns is None:
                    raise SourceError(path, "header has neither 'cbsa' nor 'cbsa_code'", 1)
            code = row[columns].strip()
            if code in AGGREGATES:
                rows.reject("aggregate row (codes 99994-99998), not a geography")
                continue
            geo = places.id("nation", "US") if code == NATION else places.id("metro", code)
            if geo is None:
                raise SourceError(path, f"unknown CBSA code {code!r}", line, columns)
            titles.setdefault(code, set()).add(row["cbsa_name"])
            geos[code] = geo
            indicator = MONITOR_INDICATORS.get(row["indicator"].strip())
            if indicator is None:
                raise SourceError(path, f"unknown indicator {row['indicator']!r}", line, "indicator")
            if not row["year"].strip().isdigit():
                raise SourceError(path, f"{row['year']!r} is not a year", line, "year")
            year = int(row["year"])
            value, status = number(row["value"], path, line, "value")
            rows.add(line, indicator, geo, year, value, status)
    shared = {geos[code]: f"{code} ({'; '.join(sorted(map(area_title, names)))})" for code, names in titles.items()
              if code != NATION and given_to_two_areas(places, code, names)}
    for key, figure in rows.items.items():
        if key[1] in shared and figure != (None, "conflicting"):
            rows.items[key] = (None, "conflicting")
            rows.reject(f"figure of code {shared[key[1]]}, which the file gives to two areas (stored as null, "
                        "status conflicting)")
    for (indicator, geo, _, _, year), figure in rows.items.items():
        if indicator == "real_gdp":
            gdp[geo, year] = figure
        elif indicator == "output_per_person":
            per_person[geo, year] = figure
    for (geo, year), (value, status) in gdp.items():
        divisor, divisor_status = per_person.get((geo, year), (None, "not_available"))
        if value is None or not divisor:
            conflicting = "conflicting" in (status, divisor_status)
            rows.add(0, "population", geo, year, None, "conflicting" if conflicting else "not_available")
        else:
            rows.add(0, "population", geo, year, float(round(value / divisor)),
                     "rounded" if status == "rounded" else "derived")
    return rows


def parse_population(path: Path, places: Places) -> Rows:
    book = workbook(path)
    rows = Rows(path)
    order = ("2018", "2015", "2023", "2013", "2009")
    try:
        lines = enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
        header = None
        for line, cells in lines:
            if cells and cells[0] is None and cells[1] == "Census":
                header = [str(c).strip() for c in cells]
                break
        if header is None or header[1:3] != ["Census", "Estimates Base"]:
            raise SourceError(path, "no header row with 'Census', 'Estimates Base' and years")
        years = []
        for i, h in enumerate(header[3:], start=3):
            if not h.isdigit():
                raise SourceError(path, f"header {h!r} is not a year", line, chr(65 + i))
            years.append(int(h))
        for line, cells in lines:
            name = str(cells[0] or "").strip()
            if not name or cells[1] is None:
                continue  # notes below the table
            if name.startswith(".."):
                rows.reject("metropolitan division (part of a metro)")
                continue
            title = name.lstrip(".")
            if name == "United States":
                geo = places.id("nation", "US")
            elif title.endswith((" Metro Area", " Micro Area")):
                code = places.metro_code(title.rsplit(" ", 2)[0], order)
                if code is None:
                    raise SourceError(path, f"unknown metro title {title!r}", line, "A")
                geo = places.id("metro", code)
            elif places.state_code(title):
                geo = places.id("state", places.state_code(title))  # Puerto Rico's total
            else:
                rows.reject(f"aggregate row {title!r}")
                continue
            value, status = number(cells[1], path, line, "B")
            rows.add(line, "population_census", geo, 2010, value, status)
            for i, year in enumerate(years, start=3):
                value, status = number(cells[i], path, line, chr(65 + i))
                rows.add(line, "population", geo, year, value, status)
    finally:
        book.close()
    return rows


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    results = []
    monitor = [data_dir / GROWTH_FILE, data_dir / PROSPERITY_FILE]
    if force or not unchanged(session, MONITOR, monitor):
        results.append(write(session, MONITOR, monitor, parse_monitor(monitor, Places(session))))
    else:
        results.append(Result(MONITOR.id, "unchanged"))
    path = data_dir / POPULATION_FILE
    if force or not unchanged(session, POPULATION, [path]):
        results.append(write(session, POPULATION, [path], parse_population(path, Places(session))))
    else:
        results.append(Result(POPULATION.id, "unchanged"))
    return results
