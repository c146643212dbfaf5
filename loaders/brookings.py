"""Brookings Export Monitor 2018: goods and services exports by CBSA, 2017."""

from pathlib import Path

from sqlalchemy.orm import Session

from loaders.files import SourceError, csv_rows, number
from loaders.places import Places
from loaders.store import Result, Rows, Source, unchanged, write
from loaders.upsert import upsert
from models import Geography
from models.geography import fold

FILE = "brookings/cbsa_export.csv"
SOURCE = Source(
    id="brookings-export-monitor-2018", title="Brookings Export Monitor 2018: goods and services exports by metro",
    publisher="Brookings Institution Metropolitan Policy Program",
    source_url="https://github.com/fansi-sifan/metro-datasets/tree/master/export_monitor",
    unit="USD (published in millions, converted to whole dollars)", dollar_basis="nominal",
    coverage="Metropolitan and micropolitan areas, 2017", delineation="2013", license=None,
    notes="Goods and services exports (indicator exports_goods_services), the same in real terms "
          "(exports_goods_services_real, as published) and exports as a share of GDP (exports_share_of_gdp, "
          "a fraction). The file gives $ millions as single-precision numbers; they are converted to whole dollars "
          "by rounding. 2013-vintage CBSA codes; the rows 'Rest of <state>' (codes 900SS) are the parts of states "
          "outside any CBSA, stored as unallocated geographies rest-of-SS.",
)
MILLION = 1_000_000


def parse(session: Session, path: Path, places: Places) -> Rows:
    rows = Rows(path)
    columns = ["cbsa_code", "year", "cbsa_2013_name", "cbsa_exports_nominal", "cbsa_exports_real",
               "cbsa_pct_exports_gdp"]
    for line, row in csv_rows(path, columns):
        code = row["cbsa_code"].strip()
        geo = places.id("metro", code)
        if geo is None and code.startswith("900") and places.id("state", code[3:]):
            # "Rest of <state>": the state's area outside any CBSA.
            rest = [dict(kind="unallocated", code=f"rest-of-{code[3:]}", name=row["cbsa_2013_name"].strip(),
                             usps=None, metro_type=None, delineation="2013", titles={},
                             search_text=fold(row["cbsa_2013_name"]))]
            upsert(session, Geography.__table__, rest, ["kind", "code"])
            geo = Places(session).id("unallocated", f"rest-of-{code[3:]}")
        if geo is None:
            raise SourceError(path, f"unknown CBSA code {row['cbsa_code']!r}", line, "cbsa_code")
        if not row["year"].strip().isdigit():
            raise SourceError(path, f"{row['year']!r} is not a year", line, "year")
        year = int(row["year"])
        for column, indicator, scale in (("cbsa_exports_nominal", "exports_goods_services", MILLION),
                                         ("cbsa_exports_real", "exports_goods_services_real", MILLION),
                                         ("cbsa_pct_exports_gdp", "exports_share_of_gdp", None)):
            value, status = number(row[column], path, line, column)
            if value is not None and scale:
                value = float(round(value * scale))
            rows.add(line, indicator, geo, year, value, status)
    return rows


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    path = data_dir / FILE
    if not force and unchanged(session, SOURCE, [path]):
        return [Result(SOURCE.id, "unchanged")]
    return [write(session, SOURCE, [path], parse(session, path, Places(session)))]
