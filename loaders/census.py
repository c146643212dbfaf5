"""Census Bureau state exports (origin of movement): USA Trade Online CSV, the statenaics CSV extract, and
Census International Trade API responses (`statenaics`, `statehs`) saved as JSON."""

import gc
import re
import urllib.parse
import urllib.request
from pathlib import Path

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from loaders.files import SourceError, csv_rows, number
from loaders.partners import Partners
from loaders.places import Places
from loaders.store import Result, Rows, Source, unchanged, write
from loaders.upsert import upsert
from models import Industry
from models.observation import ALL_INDUSTRIES

INDICATOR = "exports_goods"
PUBLISHER = "U.S. Census Bureau, Economic Indicators Division"
ORIGIN = ("State of origin of movement (where the goods began their journey to the port of export), goods only, "
          "nominal US dollars, world totals.")

USA_TRADE_FILE = "census/Census_USATradeExport_2012.csv"
USA_TRADE = Source(
    id="census-state-exports-2012", title="Census USA Trade Online: state exports by NAICS, 2012",
    publisher=PUBLISHER, source_url="https://github.com/USEPA/stateior", unit="USD", dollar_basis="nominal",
    coverage="States, DC, Puerto Rico, U.S. Virgin Islands and 'Unknown'; NAICS 3- and 4-digit; 2012",
    delineation=None, license="MIT License (U.S. EPA stateior); the data are a U.S. Government work",
    notes=ORIGIN + " 'All States' is stored as the nation and 'Unknown' as the unallocated geography 'unknown'. "
                   "From USEPA/stateior inst/extdata.",
)
STATENAICS_FILE = "census/Census_StateExport_2013_2018.csv"
STATENAICS = Source(
    id="census-state-exports-2013-2018", title="Census International Trade API statenaics: state exports, 2013-2018",
    publisher=PUBLISHER, source_url="https://api.census.gov/data/timeseries/intltrade/exports/statenaics",
    unit="USD", dollar_basis="nominal", coverage="50 states and DC; NAICS 1- to 5-digit; 2013-2018",
    delineation=None, license="MIT License (U.S. EPA stateior); the data are a U.S. Government work",
    notes=ORIGIN + " Annual values are December year-to-date. The file has no all-states row. Converted from "
                   "USEPA/stateior data/Census_StateExport_{2013..2018}.rda.",
)
WORLD_NAMES = {"world total", "total for all countries"}
NOT_A_STATE = {"all states": ("nation", "US"), "unknown": ("unallocated", "unknown")}


def industry(code: str, path: Path, line: int, column: str) -> str:
    """NAICS as the sources write it: '-' or 'All Commodities' is all industries; '31-33' is a sector."""
    if code in ("-", "All Commodities", "ALL"):
        return ALL_INDUSTRIES
    if not re.fullmatch(r"\d{1,6}|\d{2}-\d{2}", code):
        raise SourceError(path, f"{code!r} is not a NAICS code", line, column)
    return code


def naics_level(code: str) -> int:
    """Digits of the code: 0 for ALL, 2 for a NAICS range such as 31-33, 6 for HS121120."""
    return 0 if code == ALL_INDUSTRIES else 2 if "-" in code else len(code.removeprefix("HS"))


def span(code: str) -> list[str]:
    """The two-digit codes a NAICS range spans: '31-33' -> ['31', '32', '33']; a plain code spans nothing."""
    first, _, last = code.partition("-")
    return [str(c) for c in range(int(first), int(last) + 1)] if last else []


def hierarchy(codes: set[str]) -> dict[str, tuple[str | None, bool]]:
    """Each code's parent (the nearest code above it in `codes`) and whether it is an aggregate.

    A range (31-33, 44-45, 48-49) is an aggregate when `codes` holds any two-digit code it spans: those codes
    then sit below it at the same level, and a level that counted both would count them twice.
    """
    ranges = {part: code for code in codes for part in span(code)}
    links = {}
    for code in codes:
        if code == ALL_INDUSTRIES:
            links[code] = (None, False)
        elif span(code):
            links[code] = (ALL_INDUSTRIES, any(part in codes for part in span(code)))
        else:
            prefix = "HS" if code.startswith("HS") else ""
            digits = code.removeprefix(prefix)
            above = [prefix + digits[:k] for k in range(len(digits) - 1, 1, -1)]
            above += [] if prefix else [ranges.get(digits[:2])]
            links[code] = (next((c for c in above if c in codes), ALL_INDUSTRIES), False)
    return links


def place(places: Places, name: str, path: Path, line: int, column: str) -> int:
    kind, code = NOT_A_STATE.get(name.strip().lower(), ("state", places.state_code(name)))
    geo = places.id(kind, code) if code else None
    if geo is None:
        raise SourceError(path, f"unknown state {name!r}", line, column)
    return geo


def _codes(session: Session, industries: dict[str, str | None], partners: Partners) -> None:
    """The codes seen, and every stored code's parent and aggregate flag, which depend on all the codes stored."""
    titles = dict(session.execute(select(Industry.code, Industry.title)).all())
    titles.update({c: t or titles.get(c) for c, t in industries.items()})
    links = hierarchy(set(titles))
    upsert(session, Industry.__table__, [
        dict(code=c, title=t, level=naics_level(c), classification="hs" if c.startswith("HS") else "naics",
             parent=links[c][0], aggregate=links[c][1])
        for c, t in titles.items()], ["code"])
    partners.write(session)


def parse_usa_trade(path: Path, places: Places, industries: dict[str, str | None]) -> Rows:
    rows = Rows(path)
    columns = ["Commodity", "State", "Country", "Time", "Total Exports Value ($US)"]
    for line, row in csv_rows(path, columns, skip=2):
        commodity = row["Commodity"].strip()
        code, _, title = commodity.partition(" ")
        code = industry(commodity if commodity == "All Commodities" else code, path, line, "Commodity")
        industries[code] = "All industries" if code == ALL_INDUSTRIES else title.strip()
        if row["Country"].strip().lower() not in WORLD_NAMES:
            raise SourceError(path, f"only world totals are supported, found {row['Country']!r}", line, "Country")
        if not row["Time"].strip().isdigit():
            raise SourceError(path, f"{row['Time']!r} is not a year", line, "Time")
        value, status = number(row[columns[4]], path, line, columns[4])
        rows.add(line, INDICATOR, place(places, row["State"], path, line, "State"), int(row["Time"]), value, status,
                 industry=code)
    return rows


def parse_statenaics_csv(path: Path, places: Places, industries: dict[str, str | None]) -> Rows:
    rows = Rows(path)
    for line, row in csv_rows(path, ["NAICS", "CountryName", "State", "Value", "Year"]):
        code = industry(row["NAICS"].strip(), path, line, "NAICS")
        industries.setdefault(code, None)
        if row["CountryName"].strip().lower() not in WORLD_NAMES:
            raise SourceError(path, f"only world totals are supported, found {row['CountryName']!r}", line,
                              "CountryName")
        year = row["Year"].strip()
        if not year.isdigit():
            raise SourceError(path, f"{year!r} is not a year", line, "Year")
        value, status = number(row["Value"], path, line, "Value")
        rows.add(line, INDICATOR, place(places, row["State"], path, line, "State"), int(year), value, status,
                 industry=code)
    return rows


def parse_api_json(path: Path, places: Places, industries: dict[str, str | None], partners: Partners) -> Rows:
    """A Census API answer: see _parse_api_json. The garbage collector is paused meanwhile: a large answer is
    millions of small strings that it would otherwise scan again and again (measured: parsing took twice as
    long on a million rows)."""
    gc.disable()
    try:
        return _parse_api_json(path, places, industries, partners)
    finally:
        gc.enable()


def _parse_api_json(path: Path, places: Places, industries: dict[str, str | None], partners: Partners) -> Rows:
    """A Census API answer: a JSON array of arrays of strings, header first. Annual = MONTH 12, ALL_VAL_YR.

    STATE is a USPS code ('-' all states, 'XX' unallocated); CTY_CODE '-' (or '0') is all countries.
    A predicate variable echoed as a trailing column (e.g. a second E_COMMODITY) is ignored.
    """
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise SourceError(path, f"not a JSON array of arrays ({e})") from None
    if not _array_of_arrays(data):
        raise SourceError(path, "not a JSON array of arrays")
    header = data[0]
    col = {}
    for i, name in enumerate(header):
        col.setdefault(name, i)
    kind = "NAICS" if "NAICS" in col else "E_COMMODITY" if "E_COMMODITY" in col else None
    missing = [c for c in ("STATE", "ALL_VAL_YR", "YEAR", "MONTH") if c not in col]
    if kind is None or missing:
        raise SourceError(path, f"header lacks {missing or ['NAICS or E_COMMODITY']}; found {header}", 1)
    state_column, code_column, value_column = col["STATE"], col[kind], col["ALL_VAL_YR"]
    month_column, year_column = col["MONTH"], col["YEAR"]
    country_column, title_column = col.get("CTY_CODE"), col.get(f"{kind}_LDESC")
    width = len(header)
    # Each distinct STATE, code, country and year is checked once; a million rows repeat a few hundred values.
    geos, codes, countries, years = {}, {}, {}, {}
    rows = Rows(path)
    items, lines = rows.items, rows.lines
    for line, r in enumerate(data[1:], start=2):  # "line" = position in the array, header = 1
        if len(r) != width:
            raise SourceError(path, f"row has {len(r)} values, expected {width}", line)
        if r[month_column] != "12":
            rows.reject("not an annual (December year-to-date) row")
            continue
        geo = geos.get(r[state_column]) or geos.setdefault(r[state_column], _state(places, r[state_column], path, line))
        code = codes.get(r[code_column])
        if code is None:
            code = codes[r[code_column]] = _industry(kind, r[code_column], path, line)
            industries[code] = industries.get(code) or (r[title_column] if title_column is not None else None)
        partner = countries.get(r[country_column] if country_column is not None else "-")
        if partner is None:
            partner = _partner(r, country_column, col.get("CTY_NAME"), partners, path, line)
            countries[r[country_column] if country_column is not None else "-"] = partner
        year = years.get(r[year_column])
        if year is None:
            if not r[year_column].isdigit():
                raise SourceError(path, f"{r[year_column]!r} is not a year", line, "YEAR")
            year = years[r[year_column]] = int(r[year_column])
        text = r[value_column]
        figure = (float(text), "ok") if text.isdigit() else number(text, path, line, "ALL_VAL_YR")
        key = (INDICATOR, geo, code, partner, year)
        if key in items:
            rows.add(line, INDICATOR, geo, year, *figure, industry=code, partner=partner)  # repeated: checked there
        else:
            items[key] = figure
            lines[key] = line
    return rows


def _array_of_arrays(data) -> bool:
    """The shape of every Census API answer: a non-empty JSON array of arrays (the header first)."""
    return isinstance(data, list) and bool(data) and all(isinstance(r, list) for r in data)


def _state(places: Places, state: str, path: Path, line: int) -> int:
    geo = (places.id("nation", "US") if state == "-" else places.id("unallocated", "unknown") if state == "XX"
           else places.id("state", places.state_code(state) or ""))
    if geo is None:
        raise SourceError(path, f"unknown state {state!r}", line, "STATE")
    return geo


def _industry(kind: str, code: str, path: Path, line: int) -> str:
    if kind == "NAICS":
        return industry(code, path, line, "NAICS")
    if not re.fullmatch(r"-|\d{2,10}", code):
        raise SourceError(path, f"{code!r} is not an HS code", line, "E_COMMODITY")
    return ALL_INDUSTRIES if code == "-" else "HS" + code


def _partner(r: list[str], code_column: int | None, name_column: int | None, partners: Partners, path: Path,
             line: int) -> str:
    """The canonical partner code of a row (loaders.partners): CTY_CODE '-' is the world; a Census country code
    stays known as another code of its partner."""
    raw = r[code_column] if code_column is not None else "-"
    if raw not in ("-", "0", "") and not re.fullmatch(r"\d{4}", raw):
        raise SourceError(path, f"{raw!r} is not a Census country code", line, "CTY_CODE")
    return partners.census_code(raw, r[name_column] if name_column is not None else raw)


def api_source(path: Path) -> Source:
    name = path.stem
    return Source(
        id=f"census-api-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"[:64],
        title=f"Census International Trade API response ({path.name})", publisher=PUBLISHER,
        source_url="https://api.census.gov/data/timeseries/intltrade/exports", unit="USD", dollar_basis="nominal",
        coverage="As in the response", delineation=None,
        notes=ORIGIN.replace(", world totals", "") + " Annual values are December year-to-date (ALL_VAL_YR).",
    )


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    places = Places(session)
    industries: dict[str, str | None] = {ALL_INDUSTRIES: "All industries"}
    partners = Partners()
    results = []
    jobs = [(USA_TRADE, data_dir / USA_TRADE_FILE, lambda p: parse_usa_trade(p, places, industries)),
            (STATENAICS, data_dir / STATENAICS_FILE, lambda p: parse_statenaics_csv(p, places, industries))]
    jobs += [(api_source(p), p, lambda p: parse_api_json(p, places, industries, partners))
             for p in sorted((data_dir / "census").glob("*.json"))]
    for source, path, parse in jobs:
        if not force and unchanged(session, source, [path]):
            results.append(Result(source.id, "unchanged"))
            continue
        rows = parse(path)
        _codes(session, industries, partners)
        results.append(write(session, source, [path], rows))
    return results


API = "https://api.census.gov/data/timeseries/intltrade/exports"
API_FIELDS = {"statenaics": "STATE,NAICS,NAICS_LDESC,CTY_CODE,CTY_NAME,ALL_VAL_YR",
              "statehs": "STATE,E_COMMODITY,E_COMMODITY_LDESC,CTY_CODE,CTY_NAME,ALL_VAL_YR"}


def fetch(endpoint: str, year: int, key: str | None, target: Path, base_url: str = API, timeout: float = 60) -> Path:
    """Save a Census International Trade API answer (annual: December year-to-date) where `load` reads it.

    The answer is checked (a JSON array of arrays) before the file is written; an existing file is replaced
    only by a complete one.
    """
    query = {"get": API_FIELDS[endpoint], "YEAR": str(year), "MONTH": "12"}
    if key:
        query["key"] = key
    url = f"{base_url}/{endpoint}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise SourceError(url.split("key=")[0], f"the Census API did not answer JSON ({e})") from None
    if not _array_of_arrays(data):
        raise SourceError(url.split("key=")[0], "the Census API answer is not a JSON array of arrays")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(body)
    partial.replace(target)
    return target
