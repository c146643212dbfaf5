"""ITA Metropolitan Export Series: merchandise exports by metro, 2005-2023 (xlsx), and its 2012-2021 edition (csv)."""

from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from loaders.files import SourceError, column_letter, csv_rows, number, workbook
from loaders.places import ITA_TITLES as UNALLOCATED
from loaders.places import Places
from loaders.store import Result, Rows, Source, unchanged, write
from models import Observation
from models.delineation import CbsaDelineation, Event, events, not_metropolitan

FILE = "ita/ITA_MSA_Export_Series.xlsx"
HISTORY_FILE = "ita/exports_ita.csv"
INDICATOR = "exports_goods"
UNIT_COLUMN = "Unit (Valid for crosstab only)"

CAVEATS = (
    "Merchandise (goods) exports only, by exporter location (origin of movement, ZIP-code based), from initial "
    "Census data without later revisions. Each year uses the metro definition in force that year; history is not "
    "restated. The file's unit column says 'Millions of USD' but its values are US dollars. A blank cell is a "
    "suppressed value or a year in which the area was not a metropolitan area: a blank in a year the delineation in "
    "force did not make the area metropolitan is 'not_available' with the reason in its note; other blanks between "
    "two reported years are 'suppressed', leading and trailing ones 'not_available'. The rows Z-Crossovers, "
    "Z-Non Metropolitan Areas, Z-Other Metropolitan Areas and Z-Unknown are kept as unallocated geographies."
)

SOURCE = Source(
    id="ita-metro-exports", title="ITA Metropolitan Export Series: merchandise exports by metropolitan area",
    publisher="U.S. Department of Commerce, International Trade Administration",
    source_url="https://www.trade.gov/data-visualization/metropolitan-export-series",
    unit="USD", dollar_basis="nominal", coverage="Metropolitan areas, 2005-2023", delineation="2023",
    notes=CAVEATS + " From joshevanbarker/Machine_Learning_with_MSA_Exports_DTSC_691_Final_Project.",
    series="ita-metro-exports", released_on=date(2025, 3, 8),
    release="Retrieved from ITA's dashboard by 2025-03-08 (the workbook's creation date); edition 2005-2023.",
)

HISTORY_SOURCE = Source(
    id="ita-metro-exports-2012-2021", title="ITA Metropolitan Export Series, 2012-2021 edition (2013/2018 titles)",
    publisher="U.S. Department of Commerce, International Trade Administration",
    source_url="https://github.com/jasonjiajs/replication_cities_hetfirms",
    unit="USD", dollar_basis="nominal", coverage="Metropolitan areas, 2012-2021", delineation="2018",
    notes="An earlier extract of the same series under 2013/2018-vintage titles; kept as a cross-check of the "
          "titles and values of ita-metro-exports. Values written in scientific notation in the file carry only "
          "a few significant digits and are marked 'rounded'.",
    series="ita-metro-exports", released_on=date(2023, 1, 31),
    release="Retrieved from ITA's Metropolitan Export Map (2012-2021) by 2023-01-31 (the date of the paper "
            "committed with it); edition 2012-2021.",
)


def statuses(values: list[float | None], reasons: list[str | None]) -> list[tuple[str, str | None]]:
    """(status, note) per year: 'ok' for a figure; a blank in a year the area was not a metropolitan area is
    'not_available' with the reason (`reasons`, None where it was one); other blanks are 'suppressed' between two
    figures, else 'not_available'."""
    present = [i for i, v in enumerate(values) if v is not None]
    first, last = (present[0], present[-1]) if present else (len(values), -1)
    return [("ok", None) if v is not None else ("not_available", why) if why is not None else
            ("suppressed" if first < i < last else "not_available", None)
            for i, (v, why) in enumerate(zip(values, reasons))]


class Delineated:
    """Why a metro was not a metropolitan area in a year (models.delineation.not_metropolitan), from the store."""

    def __init__(self, session: Session):
        self.history: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
        for geo, vintage, type_, title in session.execute(select(
                CbsaDelineation.geography_id, CbsaDelineation.vintage, CbsaDelineation.metro_type,
                CbsaDelineation.title)):
            self.history[geo][vintage] = (type_, title)
        self.changes: dict[int, list[Event]] = defaultdict(list)
        for geo, kind, vintage, code, name in session.execute(events()):
            self.changes[geo].append(Event(kind, vintage, f"{name} ({code})"))

    def reasons(self, geography_id: int, years: list[int]) -> list[str | None]:
        if geography_id not in self.history:
            return [None] * len(years)  # an unallocated row
        return [not_metropolitan(self.history[geography_id], self.changes[geography_id], y) for y in years]


def geography(places: Places, path: Path, line: int, title: str) -> int:
    if title in UNALLOCATED:
        return places.id("unallocated", UNALLOCATED[title])
    code = places.metro_code(title)
    if code is None:
        raise SourceError(path, f"unknown metro title {title!r}", line, "A")
    return places.id("metro", code)


def parse(path: Path, places: Places, delineated: Delineated) -> Rows:
    book = workbook(path)
    rows = Rows(path)
    try:
        sheet_rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(sheet_rows, ())]
        if header[:2] != ["MSA Full Name", UNIT_COLUMN.strip()] or not header[2:]:
            raise SourceError(path, f"unexpected header {header!r}", 1)
        years = []
        for i, h in enumerate(header[2:], start=2):
            if not (h.isdigit() and 1990 <= int(h) <= 2100):
                raise SourceError(path, f"header {h!r} is not a year", 1, column_letter(i))
            years.append(int(h))
        unmatched = []
        for line, cells in enumerate(sheet_rows, start=2):
            if not cells or all(c is None for c in cells):
                continue
            title = str(cells[0]).strip() if cells[0] is not None else ""
            if not title:
                raise SourceError(path, "metro title is blank", line, "A")
            if len(cells) < len(header):
                raise SourceError(path, f"row has {len(cells)} cells, expected {len(header)}", line)
            values = []
            for i, cell in enumerate(cells[2:len(header)], start=2):
                value, _ = number(cell, path, line, column_letter(i))
                if value is not None and value < 0:
                    raise SourceError(path, f"negative export value {cell!r}", line, column_letter(i))
                values.append(value)
            if title not in UNALLOCATED and places.metro_code(title) is None:
                unmatched.append(f"line {line}: {title!r}")
                continue
            geo = geography(places, path, line, title)
            for year, value, (status, note) in zip(years, values, statuses(values, delineated.reasons(geo, years))):
                rows.add(line, INDICATOR, geo, year, value, status, note=note)
        if unmatched:
            raise SourceError(path, f"{len(unmatched)} title(s) match no delineation or crosswalk entry: "
                                    + "; ".join(unmatched))
    finally:
        book.close()
    return rows


def parse_history(path: Path, places: Places, delineated: Delineated,
                  blanks: dict[tuple[int, int], tuple[str, str | None]]) -> Rows:
    """The 2012-2021 edition. A blank that the main series leaves blank too takes its status and note: the main
    series sees the years before and after this window, so it tells a suppressed figure from a missing one."""
    rows = Rows(path)
    years = list(range(2012, 2022))
    unmatched = []
    for line, row in csv_rows(path, ["MSA Full Name", UNIT_COLUMN, *map(str, years)]):
        title = row["MSA Full Name"].strip()
        if title not in UNALLOCATED and places.metro_code(title) is None:
            unmatched.append(f"line {line}: {title!r}")
            continue
        geo = geography(places, path, line, title)
        parsed = [number(row[str(y)], path, line, str(y)) for y in years]
        kinds = statuses([v for v, _ in parsed], delineated.reasons(geo, years))
        for year, (value, status), (kind, note) in zip(years, parsed, kinds):
            if value is None:
                status, note = blanks.get((geo, year), (kind, note))
            rows.add(line, INDICATOR, geo, year, value, status, note=note)
    if unmatched:
        raise SourceError(path, f"{len(unmatched)} title(s) match no delineation or crosswalk entry: "
                                + "; ".join(unmatched))
    return rows


def cross_check(session: Session, history: Rows) -> str:
    """Compare the 2012-2021 edition with the main series, figure by figure."""
    main = {(g, y): v for g, y, v in session.execute(
        select(Observation.geography_id, Observation.year, Observation.value)
        .where(Observation.dataset_id == SOURCE.id, Observation.year.between(2012, 2021)))}
    same = differ = missing = 0
    for (_, geo, _, _, year), (value, status) in history.items.items():
        if (geo, year) not in main:
            missing += 1
        elif value == main[geo, year] or (status == "rounded" and abs(value - main[geo, year]) <= abs(value) * 1e-4):
            same += 1
        else:
            differ += 1
    return f"cross-check against {SOURCE.id}: {same} figures agree, {differ} differ, {missing} have no counterpart"


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    path, history_path = data_dir / FILE, data_dir / HISTORY_FILE
    results = []
    if force or not unchanged(session, SOURCE, [path]):
        results.append(write(session, SOURCE, [path], parse(path, Places(session), Delineated(session))))
        force = True
    else:
        results.append(Result(SOURCE.id, "unchanged"))
    if history_path.exists() and (force or not unchanged(session, HISTORY_SOURCE, [history_path])):
        blanks = {(g, y): (status, note) for g, y, status, note in session.execute(
            select(Observation.geography_id, Observation.year, Observation.status, Observation.note)
            .where(Observation.dataset_id == SOURCE.id, Observation.value.is_(None)))}
        history = parse_history(history_path, Places(session), Delineated(session), blanks)
        check = cross_check(session, history)
        result = write(session, HISTORY_SOURCE, [history_path], history, notes=[check.capitalize() + "."])
        result.checks.append(check)
        results.append(result)
    return results
