"""Census state exports by destination country: three extracts of one series (USA Trade Online March 2019 and
October 2020, the Census API in March 2026) and Census's "top 25 countries" tables (Excel 97), with trade
partners as first-class codes (ISO 3166 where one exists).

Each file is a release (vintage) of its series: the same figure can be in several, as first published and as
revised. The store keeps every release as its own dataset with its date; models/vintages.py reads them.
"""

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pycountry
import xlrd
from sqlalchemy import delete
from sqlalchemy.orm import Session

from loaders.files import SourceError, column_letter, number
from loaders.places import Places
from loaders.store import Result, Rows, Source, unchanged, write
from loaders.upsert import upsert
from models import Partner
from models.geography import fold
from models.observation import WORLD, PartnerCode, partner_members

INDICATOR = "exports_goods"
PUBLISHER = "U.S. Census Bureau, Economic Indicators Division"
SERIES = "census-state-exports-by-partner"
TOP25_SERIES = "census-state-exports-top25-partners"
REFERENCE = Path(__file__).parent / "reference" / "partners.csv"
GROUPS = Path(__file__).parent / "reference" / "partner_groups.csv"

ORIGIN = ("State of origin of movement x destination country, all merchandise (no industry split), nominal US "
          "dollars. Zero cells are left out of the file: a partner without a figure in a release that covers the "
          "state and year had no exports there.")
REPO = "https://github.com/lanzhenw/Visualizing-US-Trade-By-State"

INITIAL_FILE = "census_partners/2014-2018/ExportByCountry.csv"
INITIAL = Source(
    id="census-state-exports-by-partner-2014-2018", publisher=PUBLISHER, source_url=REPO,
    title="Census USA Trade Online: state exports by destination country, 2014-2018 (initial figures)",
    unit="USD", dollar_basis="nominal", delineation=None,
    coverage="50 states, DC, Puerto Rico, U.S. Virgin Islands, 'Unknown' and 'All States'; 235 countries; 2014-2018",
    notes=ORIGIN + " 'All States' is stored as the nation, 'Unknown' as the unallocated geography 'unknown'. "
                   "From lanzhenw/Visualizing-US-Trade-By-State data/csv/ExportByCountry.csv (commit 491f67d).",
    series=SERIES, released_on=date(2019, 3, 31),
    release="Retrieved from USA Trade Online in March 2019 (dated the last day of that month): first-published "
            "figures, before Census's annual revisions.",
)
REVISED_FILE = "census_partners/StateExportData.csv"
REVISED = Source(
    id="census-state-exports-by-partner-2015-2019", publisher=PUBLISHER, source_url=REPO,
    title="Census USA Trade Online: state exports by destination country, 2015-2019 (revised figures)",
    unit="USD", dollar_basis="nominal", delineation=None,
    coverage="50 states, DC, Puerto Rico, U.S. Virgin Islands and 'All States' (no 'Unknown'); 235 countries and "
             "19 country groups (6 continents, 13 blocs); 2015-2019",
    notes=ORIGIN + " 'All States' is stored as the nation; the file has no 'Unknown' row, so the nation exceeds the "
                   "sum of the states by the unallocated exports. Country groups are partners of their own (kind "
                   "continent or bloc), never added to countries; their members are those as USA Trade Online "
                   "defined them when the file was pulled, applied to every year. From "
                   "lanzhenw/Visualizing-US-Trade-By-State data/csv/StateExportData.csv (branch updateData, commit "
                   "3d3bead).",
    series=SERIES, released_on=date(2020, 10, 21),
    release="Retrieved from USA Trade Online on the date its title line gives: figures revised since first "
            "publication.",
)
CURRENT_FILE = "census_partners/2016-2025/ExportByCountry.csv"
CURRENT = Source(
    id="census-state-exports-by-partner-2016-2025", publisher=PUBLISHER, source_url=REPO,
    title="Census International Trade API: state exports by destination country, 2016-2025 (current figures)",
    unit="USD", dollar_basis="nominal", delineation=None,
    coverage="50 states, DC, Puerto Rico and U.S. Virgin Islands (no 'Unknown', no 'All States'); 234 countries; "
             "2016-2025",
    notes=ORIGIN + " Written by the repository's script from timeseries/intltrade/exports/statenaics (December "
                   "year to date). The file has no world total: the world figure of each state and year is the "
                   "sum of its countries (status 'derived'). From lanzhenw/Visualizing-US-Trade-By-State "
                   "public/data/csv/ExportByCountry.csv (commit 6339ee1).",
    series=SERIES, released_on=date(2026, 3, 31),
    release="Retrieved from the Census International Trade API in March 2026 (dated the last day of that month): "
            "current figures, with every revision until then.",
)
TOP25_NOTES = ("Census's table 'Top U.S. Exports by State (Origin of Movement), Top 25 Countries': each state's world "
               "total and its 25 largest destinations in the last year, in millions of US dollars rounded to "
               "0.01, stored as whole dollars with status 'rounded' (within $5,000 of the exact figure). "
               "'Unidentified' is stored as the unallocated geography 'unknown'. Ranks, shares and the 'Top 25' "
               "subtotal are checked, not stored. From chunyanhao/Data_visualization_with_R original_data "
               "(commit 2e921c8).")
TOP25_2018_FILE = "census_partners/exctyall_15_18.xls"
TOP25_2018 = Source(
    id="census-top25-partners-2015-2018", publisher=PUBLISHER,
    source_url="https://github.com/chunyanhao/Data_visualization_with_R",
    title="Census: top 25 destination countries by state, 2015-2018 (initial figures)",
    unit="USD", dollar_basis="nominal", delineation=None,
    coverage="50 states, DC, Puerto Rico, Virgin Islands, 'Unidentified'; world and top 25 countries; 2015-2018",
    notes=TOP25_NOTES, series=TOP25_SERIES, released_on=date(2019, 3, 4),
    release="Created 2019-03-04 (the workbook's document properties): first-published figures.",
)
TOP25_2020_FILE = "census_partners/exctyall_17_20.xls"
TOP25_2020 = Source(
    id="census-top25-partners-2017-2020", publisher=PUBLISHER,
    source_url="https://github.com/chunyanhao/Data_visualization_with_R",
    title="Census: top 25 destination countries by state, 2017-2020",
    unit="USD", dollar_basis="nominal", delineation=None,
    coverage="50 states, DC, Puerto Rico, Virgin Islands, 'Unidentified'; world and top 25 countries; 2017-2020",
    notes=TOP25_NOTES, series=TOP25_SERIES, released_on=date(2021, 4, 22),
    release="Created 2021-04-22 (the workbook's document properties): 2020 first published, earlier years revised.",
)

# Places the partner files spell their own way; everything else goes through Places (states by name).
NOT_A_STATE = {"all states": ("nation", "US"), "unknown": ("unallocated", "unknown"),
               "unidentified": ("unallocated", "unknown")}


@dataclass(frozen=True)
class Known:
    code: str
    kind: str
    iso2: str | None = None
    iso3: str | None = None


@lru_cache(maxsize=1)
def iso_names() -> dict[str, Known]:
    """ISO 3166-1 countries by every name pycountry gives them (name, official and common name), folded."""
    found = {}
    for c in pycountry.countries:
        for name in {c.name, getattr(c, "official_name", c.name), getattr(c, "common_name", c.name)}:
            found[fold(name)] = Known(c.alpha_3, "country", c.alpha_2, c.alpha_3)
    return found


@lru_cache(maxsize=1)
def reference() -> dict[str, Known]:
    """The reviewed mapping file: names ISO 3166 does not spell the Census way, groups, the world, unidentified."""
    with open(REFERENCE, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    found = {}
    for row in rows:
        country = pycountry.countries.get(alpha_3=row["code"])
        found[fold(row["name"])] = Known(row["code"], row["kind"], country.alpha_2 if country else None,
                                         country.alpha_3 if country else None)
    return found


class Partners:
    """The partners the sources name, by canonical code, with every spelling and every other code they go by."""

    def __init__(self):
        self.known: dict[str, Known] = {}
        self.names: dict[str, list[str]] = defaultdict(list)
        self.census: dict[str, str] = {}  # Census Schedule C code -> canonical code
        self.by_name: dict[str, str] = {}

    def code(self, name: str) -> str | None:
        """The canonical code of a partner by its Census name (any case); None if neither the mapping file nor
        ISO 3166 knows the name."""
        name = " ".join(name.split())
        if name in self.by_name:
            return self.by_name[name]
        known = reference().get(fold(name)) or iso_names().get(fold(name))
        if known is None:
            return None
        self.known[known.code] = known
        if name not in self.names[known.code]:
            self.names[known.code].append(name)
        self.by_name[name] = known.code
        return known.code

    def named(self, name: str, path: Path, line: int, column: str) -> str:
        code = self.code(name)
        if code is None:
            raise SourceError(path, f"unknown partner {name!r}: not in ISO 3166 nor in {REFERENCE.name}", line, column)
        return code

    def census_code(self, census: str, name: str) -> str:
        """A partner of a Census API answer: its CTY_CODE ('-' is the world) and CTY_NAME. Known by name, it gets
        its canonical code and keeps the Census code as another; unknown, the Census code is its code."""
        if census in ("-", "0", ""):
            return self.code("World")
        code = self.code(name.title())
        if code is None:
            code = census
            self.known[code] = Known(code, "country")
            self.names[code] = self.names[code] or [name.title()]
        self.census[census] = code
        return code

    def write(self, session: Session) -> None:
        """Upsert every partner seen and the codes it is known by. Existing codes are never removed."""
        upsert(session, Partner.__table__, [
            dict(code=k.code, name="World" if k.code == WORLD else self.names[k.code][0], kind=k.kind, iso2=k.iso2,
                 iso3=k.iso3, names=self.names[k.code]) for k in self.known.values()], ["code"])
        codes = {}
        for k in self.known.values():
            codes[k.code] = (k.code, "canonical")
            for other, system in ((k.iso2, "iso2"), (k.iso3, "iso3")):
                if other and other not in codes:
                    codes[other] = (k.code, system)
        for census, code in self.census.items():
            codes.setdefault(census, (code, "census"))
        upsert(session, PartnerCode.__table__, [dict(code=c.upper(), partner=p, system=s)
                                                for c, (p, s) in codes.items()], ["code"])


def geography(places: Places, name: str, path: Path, line: int, column: str) -> int:
    key = " ".join(name.split()).lower()
    kind, code = NOT_A_STATE.get(key, ("state", places.state_code(name)))
    geo = places.id(kind, code) if code else None
    if geo is None:
        raise SourceError(path, f"unknown state {name!r}", line, column)
    return geo


VALUE_COLUMNS = ("Total Exports Value ($US)", "Exports")
RELEASE_DATE = re.compile(r"Current date: (\d{1,2}/\d{1,2}/\d{4})")


@dataclass
class Extract:
    """One CSV extract read: its figures, the date its title gives (if any), and which rows were what."""

    rows: Rows
    released_on: date | None
    # (geography id, year) -> {partner: value} for the cross-checks
    cells: dict[tuple[int, int], dict[str, float]]


def parse_csv(path: Path, places: Places, partners: Partners) -> Extract:
    """A USA Trade Online or Census API extract: `State, Country, Time, <value>`, with or without title lines.

    Handles CRLF or LF and a missing last line end (the csv module), title lines before the header (the date of
    the second becomes the release date), the header's trailing comma, thousands separators, and the unquoted
    names with a comma of the 2016-2025 file ('Korea, South'): a row of five fields whose fourth is a year has
    its second and third joined back.
    """
    try:
        f = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    rows, cells, released_on = Rows(path), defaultdict(dict), None
    with f:
        reader = csv.reader(f)
        try:
            header = next(reader)
            while header and header[0].strip() != "State" and reader.line_num <= 5:
                if found := RELEASE_DATE.search(" ".join(header)):
                    released_on = datetime.strptime(found.group(1), "%m/%d/%Y").date()
                header = next(reader)
            header = [h.strip() for h in header]
            while header and header[-1] == "":
                header.pop()  # the trailing comma of USA Trade Online headers
            if header[:3] != ["State", "Country", "Time"] or len(header) != 4 or header[3] not in VALUE_COLUMNS:
                raise SourceError(path, f"expected the header State, Country, Time, {' or '.join(VALUE_COLUMNS)}; "
                                        f"found {header}", reader.line_num)
            value_column = header[3]
            for fields in reader:
                line = reader.line_num
                if not any(v.strip() for v in fields):
                    continue
                if len(fields) == 5 and re.fullmatch(r"\d{4}", fields[3].strip()):
                    fields = [fields[0], f"{fields[1]},{fields[2]}", fields[3], fields[4]]
                if len(fields) != 4:
                    raise SourceError(path, f"row has {len(fields)} fields, expected 4", line)
                state, country, year, text = fields
                if not re.fullmatch(r"\d{4}", year.strip()):
                    raise SourceError(path, f"{year!r} is not a year", line, "Time")
                value, status = number(text, path, line, value_column)
                if value is None or value < 0:
                    raise SourceError(path, f"{text!r} is not an export value", line, value_column)
                geo = geography(places, state, path, line, "State")
                partner = partners.named(country, path, line, "Country")
                rows.add(line, INDICATOR, geo, int(year), value, status, partner=partner)
                cells[geo, int(year)][partner] = value
        except StopIteration:
            raise SourceError(path, "file is empty or has no header", reader.line_num + 1) from None
        except csv.Error as e:
            raise SourceError(path, f"malformed CSV: {e}", reader.line_num) from None
        except UnicodeDecodeError as e:
            raise SourceError(path, f"not UTF-8 text ({e.reason})", reader.line_num + 1) from None
    return Extract(rows, released_on, cells)


def world_from_countries(extract: Extract, kinds: dict[str, str]) -> None:
    """A file without a world total: each state's and year's world figure is the sum of its countries."""
    for (geo, year), figures in extract.cells.items():
        total = sum(v for p, v in figures.items() if kinds[p] in ("country", "unallocated"))
        extract.rows.add(0, INDICATOR, geo, year, total, "derived")
        figures[WORLD] = total


def check_countries(extract: Extract, kinds: dict[str, str]) -> str:
    """Countries (and Unidentified) against the world total, for every state-year that has one."""
    exact = differ = 0
    for figures in extract.cells.values():
        if WORLD not in figures:
            continue
        total = sum(v for p, v in figures.items() if kinds[p] in ("country", "unallocated"))
        exact, differ = (exact + 1, differ) if total == figures[WORLD] else (exact, differ + 1)
    return f"countries sum exactly to the world total in {exact} state-years, differ in {differ}"


def check_states(extract: Extract, places: Places) -> str | None:
    """States and the unallocated row against 'All States', for each year and partner; without an 'Unknown' row,
    how far the states fall short of All States (the unallocated exports) in the world total."""
    nation, unknown = places.id("nation", "US"), places.id("unallocated", "unknown")
    parts, totals = defaultdict(float), {}
    for (geo, year), figures in extract.cells.items():
        for partner, value in figures.items():
            if geo == nation:
                totals[year, partner] = value
            else:
                parts[year, partner] += value
    if not totals:
        return None
    if any(geo == unknown for geo, _ in extract.cells):
        exact = sum(1 for k, v in totals.items() if parts.get(k, 0) == v)
        return f"states and Unknown sum exactly to All States for {exact} of {len(totals)} (year, partner) figures"
    gaps = sorted(v - parts.get(k, 0) for k, v in totals.items() if k[1] == WORLD)
    return (f"the file has no Unknown row: the states fall short of All States (world) by ${gaps[0]:,.0f} to "
            f"${gaps[-1]:,.0f} a year, the unallocated exports")


def read_groups(partners: Partners) -> dict[str, list[str]]:
    """The members of each country group (by group code; members by their Census name): derived from
    StateExportData.csv, where the 235 countries' figures over its 270 state-years are linearly independent, so
    that only one set of countries sums to each group's figures; verified at every load (check_groups)."""
    groups = defaultdict(list)
    with open(GROUPS, newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            groups[row["group"]].append(partners.named(row["member"], GROUPS, line, "member"))
    return groups


def check_groups(extract: Extract, groups: dict[str, list[str]]) -> tuple[str, list[str]]:
    """Each group's figure against the sum of its members, in every state-year; the groups that always agree."""
    verified, failed = [], []
    for group, members in groups.items():
        pairs = [(figures.get(group, 0), sum(figures.get(m, 0) for m in members))
                 for figures in extract.cells.values()]
        (verified if all(g == s for g, s in pairs) else failed).append(group)
    return (f"{len(verified)} country groups equal the sum of their members in all {len(extract.cells)} state-years"
            + (f"; not: {', '.join(failed)}" if failed else "")), verified


def parse_top25(path: Path, places: Places, partners: Partners) -> tuple[Rows, list[str]]:
    """A Census 'Top 25 countries' table (Excel 97): title rows, then `statename, rank, countryd, valYYYY x4,
    shareYY x4, change`; per state a World row, a Top 25 row and ranks 1-25. Millions with 2 decimals."""
    try:
        book = xlrd.open_workbook(path)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except Exception as e:  # noqa: BLE001 - xlrd raises several types for a file that is not an Excel 97 workbook
        raise SourceError(path, f"not a readable Excel 97 (.xls) workbook ({e})") from None
    sheet = book.sheet_by_index(0)
    start = next((r for r in range(min(sheet.nrows, 10)) if str(sheet.cell_value(r, 0)).strip() == "statename"), None)
    if start is None:
        raise SourceError(path, "no header row starting with 'statename' in the first 10 rows")
    header = [str(v).strip() for v in sheet.row_values(start)]
    if header[1:3] != ["rank", "countryd"] or not all(re.fullmatch(r"val\d{4}", h) for h in header[3:7]):
        raise SourceError(path, f"unexpected header {header}", start + 1)
    years = [int(h[3:]) for h in header[3:7]]
    rows, checks = Rows(path), []
    subtotals, sums, ranks = {}, defaultdict(lambda: [0.0] * 4), defaultdict(list)
    for r in range(start + 1, sheet.nrows):
        line, cells = r + 1, sheet.row_values(r)
        if not any(str(c).strip() for c in cells):
            continue
        state, rank, country = str(cells[0]).strip(), cells[1], str(cells[2]).strip()
        if not isinstance(rank, float) or rank != int(rank):
            raise SourceError(path, f"rank {rank!r} is not a whole number", line, "B")
        values = []
        for i, cell in enumerate(cells[3:7], start=3):
            if cell == "":
                values.append(None)
            elif not isinstance(cell, float) or cell < 0:
                raise SourceError(path, f"{cell!r} is not an export value in millions", line, column_letter(i))
            else:
                values.append(round(cell * 100) * 10_000)  # millions to 2 decimals, as whole dollars
        geo = geography(places, state, path, line, "A")
        if country == "Top 25":
            subtotals[state] = cells[3:7]
            continue
        partner = partners.named(country, path, line, "C")
        if rank:
            ranks[state].append(int(rank))
            sums[state] = [s + (c or 0) for s, c in zip(sums[state], cells[3:7])]
        for year, value in zip(years, values):
            rows.add(line, INDICATOR, geo, year, value, "rounded" if value is not None else "not_available",
                     partner=partner)
    off = [s for s, sub in subtotals.items() if any(abs(a - b) > 0.05 for a, b in zip(sub, sums[s]))]
    checks.append(f"'Top 25' equals the sum of ranks 1-25 within 0.05 for {len(subtotals) - len(off)} of "
                  f"{len(subtotals)} geographies" + (f" (not: {', '.join(off)})" if off else ""))
    bad_ranks = [s for s, found in ranks.items() if found != list(range(1, len(found) + 1))]
    if bad_ranks:
        raise SourceError(path, f"ranks are not 1, 2, 3 ... for {', '.join(bad_ranks)}")
    return rows, checks


def extract_checks(extract: Extract, places: Places, kinds: dict[str, str],
                   groups: dict[str, list[str]]) -> tuple[list[str], list[str] | None]:
    """The cross-checks of a CSV extract (the world figure derived where it has none), and the groups whose
    members it verifies (None: it has no groups)."""
    if any(WORLD in figures for figures in extract.cells.values()):
        checks = [check_countries(extract, kinds), check_states(extract, places)]
    else:
        world_from_countries(extract, kinds)
        derived = (f"no world total: the world figure of each of {len(extract.cells)} state-years is the sum of "
                   "its countries (status 'derived')")
        checks = [derived]
    if not any(kinds[p] in ("continent", "bloc") for figures in extract.cells.values() for p in figures):
        return [c for c in checks if c], None
    line, verified = check_groups(extract, groups)
    return [c for c in checks if c] + [line], verified


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    """Every file present, all of them when any changed (partner names and groups come from them together)."""
    jobs = [(s, data_dir / f) for s, f in ((INITIAL, INITIAL_FILE), (REVISED, REVISED_FILE), (CURRENT, CURRENT_FILE),
                                           (TOP25_2018, TOP25_2018_FILE), (TOP25_2020, TOP25_2020_FILE))]
    jobs = [(s, p) for s, p in jobs if p.exists()]
    if not force and all(unchanged(session, s, [p]) for s, p in jobs):
        return [Result(s.id, "unchanged") for s, _ in jobs]
    places, partners = Places(session), Partners()
    parsed = [(source, path, parse_top25(path, places, partners) if path.suffix == ".xls"
               else parse_csv(path, places, partners)) for source, path in jobs]
    kinds = {code: k.kind for code, k in partners.known.items()}
    groups = read_groups(partners) if {"continent", "bloc"} & set(kinds.values()) else {}
    partners.write(session)
    results, verified = [], []
    for source, path, found in parsed:
        if isinstance(found, Extract):
            checks, grouped = extract_checks(found, places, kinds, groups)
            verified = verified if grouped is None else grouped
            rows, source = found.rows, replace(source, released_on=found.released_on or source.released_on)
        else:
            rows, checks = found
        result = write(session, source, [path], rows, notes=[c[0].upper() + c[1:] + "." for c in checks])
        result.checks += checks
        results.append(result)
    session.execute(delete(partner_members))
    if verified:
        session.execute(partner_members.insert(), [dict(group_code=g, member=m) for g in verified for m in groups[g]])
    return results
