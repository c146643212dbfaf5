"""Census Gazetteer files: land and water area (square metres) and internal points of counties, CBSAs and states.

Each state's land and water (its counties summed, or the state file's row) are stored as observations
(indicators land_area, water_area; year = the boundaries' year), so that a national land area is a sum over the
states of a territory. CBSA land areas are the delineations loader's: it reads these files through read().
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from loaders.files import SourceError
from loaders.places import Places
from loaders.store import Result, Rows, Source, unchanged, write

SQ_MI = 2_589_988.110336  # square metres in a square mile
URL = "https://www.census.gov/geographies/reference-files/time-series/geo/gazetteer-files.html"
PUBLISHER = "U.S. Census Bureau"
COLUMNS = {"county": ("USPS", "GEOID", "NAME", "ALAND", "AWATER", "INTPTLAT", "INTPTLONG"),
           "cbsa": ("GEOID", "NAME", "CBSA_TYPE", "ALAND", "AWATER", "INTPTLAT", "INTPTLONG"),
           "state": ("USPS", "GEOID", "NAME", "ALAND", "AWATER", "INTPTLAT", "INTPTLONG")}
GEOID_DIGITS = {"county": 5, "cbsa": 5, "state": 2}


@dataclass(frozen=True)
class Area:
    geoid: str
    usps: str | None
    name: str
    land: int
    water: int
    lat: float
    lon: float
    cbsa_type: str | None = None


@dataclass(frozen=True)
class Gazetteer:
    file: str
    kind: str  # county | cbsa | state
    encoding: str
    year: int  # the year of the boundaries
    source: Source


def _source(id_: str, title: str, coverage: str, origin: str, delineation: str | None = None) -> Source:
    return Source(id=id_, title=title, publisher=PUBLISHER, source_url=URL, unit="square metres", dollar_basis=None,
                  coverage=coverage, delineation=delineation, notes=(
                      "ALAND and AWATER in square metres (land excludes all water); INTPTLAT/INTPTLONG are internal "
                      f"points, not centroids. {origin}"))


COUNTIES_2010 = Gazetteer("geography/Gaz_counties_national.txt", "county", "cp1252", 2010, _source(
    "census-gazetteer-2010-counties", "2010 Census Gazetteer: counties (2010 Census boundaries)",
    "3,143 counties and equivalents of the 50 states and DC, and the 78 Puerto Rico municipios",
    "Encoded Latin-1 (Windows-1252). From 1wheel/whitehouse-petitions Gaz_counties_national.txt."))
COUNTIES_2020 = Gazetteer("geography/2020_Gaz_counties_national.txt", "county", "utf-8", 2020, _source(
    "census-gazetteer-2020-counties", "2020 Gazetteer: counties (boundaries of January 1, 2020)",
    "3,143 counties and equivalents of the 50 states and DC, and the 78 Puerto Rico municipios",
    "From dylgr/sexratio data/raw_data/2020_Gaz_counties_national.txt."))
CBSA_2020 = Gazetteer("geography/2020_Gaz_cbsa_national.txt", "cbsa", "utf-8", 2020, _source(
    "census-gazetteer-2020-cbsa", "2020 Gazetteer: CBSAs (March 2020 OMB delineation)",
    "392 metropolitan and 547 micropolitan statistical areas, Puerto Rico's included",
    "A CBSA's ALAND equals the sum of its counties' ALAND in the 2020 county file. "
    "From dylgr/sexratio data/raw_data/2020_Gaz_cbsa_national.txt.", delineation="2020"))
STATES_2025 = Gazetteer("geography/2025_Gaz_state_national.txt", "state", "utf-8", 2025, _source(
    "census-gazetteer-2025-states", "2025 Gazetteer: states (boundaries of January 1, 2025)",
    "the 50 states, DC and Puerto Rico",
    "The nearest official state file (none was published for 2010-2023); about 594 square miles more land than "
    "the 2020 county sum (boundary and shoreline updates), so never a denominator for 2020-boundary figures. "
    "From sjsu-cs133-f25/133_datasets 2025_Gaz_state_national.txt."))
FILES = (COUNTIES_2010, COUNTIES_2020, CBSA_2020, STATES_2025)


def _lines(path: Path, encoding: str):
    """(line number, text) of a file in a known encoding; a byte that does not decode is named by its line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            yield number, raw.rstrip(b"\r").decode(encoding)
        except UnicodeDecodeError as e:
            raise SourceError(path, f"not {encoding} text (byte {raw[e.start]:#04x} at position {e.start + 1})",
                              number) from None


def _int(text: str, path: Path, line: int, column: str) -> int:
    if not text.isdigit():
        raise SourceError(path, f"{text!r} is not a whole number of square metres", line, column)
    return int(text)


def _degrees(text: str, limit: float, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SourceError(path, f"{text!r} is not a coordinate", line, column) from None
    if not -limit <= value <= limit:
        raise SourceError(path, f"{text!r} is out of range for {column}", line, column)
    return value


def read(path: Path, kind: str, encoding: str) -> list[Area]:
    """The rows of a Gazetteer file: tab- or pipe-separated (the header says which), every field stripped of the
    padding the Census Bureau adds, columns found by name."""
    lines = _lines(path, encoding)
    header_line = next(lines, (1, ""))[1]
    separator = "|" if "|" in header_line else "\t"
    header = [h.strip() for h in header_line.split(separator)]
    missing = [c for c in COLUMNS[kind] if c not in header]
    if missing:
        raise SourceError(path, f"header lacks column(s) {missing}; found {header}", 1)
    at = {c: header.index(c) for c in COLUMNS[kind]}
    areas, seen = [], {}
    for line, text in lines:
        if not text.strip():
            continue
        fields = [f.strip() for f in text.split(separator)]
        if len(fields) != len(header):
            raise SourceError(path, f"row has {len(fields)} fields, expected {len(header)}", line)
        row = {c: fields[i] for c, i in at.items()}
        geoid = row["GEOID"]
        if not (geoid.isdigit() and len(geoid) == GEOID_DIGITS[kind]):
            raise SourceError(path, f"{geoid!r} is not a {GEOID_DIGITS[kind]}-digit GEOID", line, "GEOID")
        if geoid in seen:
            raise SourceError(path, f"GEOID {geoid} repeats line {seen[geoid]}", line, "GEOID")
        seen[geoid] = line
        if kind == "cbsa" and row["CBSA_TYPE"] not in ("1", "2"):
            raise SourceError(path, f"unknown CBSA_TYPE {row['CBSA_TYPE']!r}", line, "CBSA_TYPE")
        areas.append(Area(geoid, row.get("USPS"), row["NAME"], _int(row["ALAND"], path, line, "ALAND"),
                          _int(row["AWATER"], path, line, "AWATER"),
                          _degrees(row["INTPTLAT"], 90, path, line, "INTPTLAT"),
                          _degrees(row["INTPTLONG"], 180, path, line, "INTPTLONG"), row.get("CBSA_TYPE")))
    if not areas:
        raise SourceError(path, "no rows below the header")
    return areas


def read_file(data_dir: Path, gazetteer: Gazetteer) -> list[Area]:
    return read(data_dir / gazetteer.file, gazetteer.kind, gazetteer.encoding)


def by_state(areas: list[Area]) -> dict[str, tuple[int, int]]:
    """State FIPS → (land, water) in square metres: counties summed, or a state file's own rows."""
    totals: dict[str, tuple[int, int]] = {}
    for a in areas:
        land, water = totals.get(a.geoid[:2], (0, 0))
        totals[a.geoid[:2]] = (land + a.land, water + a.water)
    return totals


def national(areas: list[Area], with_puerto_rico: bool) -> tuple[int, int]:
    """(land, water) of the 50 states and DC, or of those and Puerto Rico (state FIPS 72)."""
    parts = [v for fips, v in by_state(areas).items() if with_puerto_rico or fips != "72"]
    return sum(land for land, _ in parts), sum(water for _, water in parts)


def describe(areas: list[Area]) -> str:
    """The national totals, for the dataset's notes."""
    texts = []
    for with_pr, label in ((False, "50 states and DC"), (True, "with Puerto Rico")):
        land, water = national(areas, with_pr)
        texts.append(f"{label}: land {land:,} m² ({land / SQ_MI:,.2f} sq mi), water {water:,} m²")
    return "Totals, " + "; ".join(texts) + "."


def state_rows(path: Path, areas: list[Area], places: Places, year: int) -> Rows:
    rows = Rows(path)
    for a in areas:
        if a.usps is None or places.state_code(a.usps) != a.geoid[:2]:
            raise SourceError(path, f"USPS {a.usps!r} does not match the state of GEOID {a.geoid}")
    for fips, (land, water) in sorted(by_state(areas).items()):
        geo = places.id("state", fips)
        rows.add(0, "land_area", geo, year, float(land), "ok")
        rows.add(0, "water_area", geo, year, float(water), "ok")
    return rows


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    results = []
    for gazetteer in FILES:
        path = data_dir / gazetteer.file
        if not force and path.exists() and unchanged(session, gazetteer.source, [path]):
            results.append(Result(gazetteer.source.id, "unchanged"))
            continue
        areas = read_file(data_dir, gazetteer)
        if gazetteer.kind == "cbsa":
            results.append(write(session, gazetteer.source, [path], row_count=len(areas)))
        else:
            rows = state_rows(path, areas, Places(session), gazetteer.year)
            results.append(write(session, gazetteer.source, [path], rows, notes=[describe(areas)]))
    return results
