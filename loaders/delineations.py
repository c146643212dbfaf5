"""OMB / Census CBSA delineations (2009, 2013, 2015, 2018, 2023) → metro and micro geographies."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from loaders.files import SourceError, csv_rows
from loaders.places import CROSSWALK, Places
from loaders.store import Result, Source, unchanged, write
from loaders.upsert import upsert
from models import Geography, geography_states
from models.geography import fold

PUBLISHER = "U.S. Office of Management and Budget; U.S. Census Bureau"
TYPES = {"metropolitan statistical area": "metropolitan", "micropolitan statistical area": "micropolitan",
         "m1": "metropolitan", "m2": "micropolitan", "metro": "metropolitan", "micro": "micropolitan"}


@dataclass(frozen=True)
class Delineation:
    vintage: str
    file: str
    code: str
    title: str
    kind: str
    land: str | None
    skip: int
    source: Source


def _source(id_, title, vintage, url, notes):
    return Source(id=id_, title=title, publisher=PUBLISHER, source_url=url, unit=None, dollar_basis=None,
                  coverage="United States" + (" and Puerto Rico" if vintage in ("2009", "2013", "2015") else ""),
                  delineation=vintage, notes=notes)


FILES = (
    Delineation("2023", "delineation/cbsa_2023.csv", "CBSA.Code", "CBSA.Title",
                "Metropolitan.Micropolitan.Statistical.Area", None, 0,
                _source("omb-delineation-2023", "OMB CBSA delineation, July 2023 (county list)", "2023",
                        "https://www.census.gov/geographies/reference-files/time-series/demo/metro-micro/delineation-files.html",
                        "From dasneddon/IGM cbsa.csv. Puerto Rico and the nine Connecticut planning regions are missing; "
                        "their 2023 titles come from the reviewed crosswalk in the repository.")),
    Delineation("2018", "delineation/county_cbsa_st.csv", "cbsa_code", "cbsa_name", "cbsa_type", None, 0,
                _source("omb-delineation-2018", "County to CBSA to state table, 2017-2018 vintage", "2018",
                        "https://github.com/fansi-sifan/metro-datasets",
                        "Converted from fansi-sifan/metro-datasets county_cbsa_st.rda. Counties outside CBSAs are skipped.")),
    Delineation("2015", "delineation/Core_Based_Statistical_Areas.csv", "CBSAFP", "NAME", "LSAD", "ALAND", 0,
                _source("tiger-cbsa-2015", "TIGER-derived CBSA layer, 2015-2017 vintage", "2015",
                        "https://github.com/fansi-sifan/metro-datasets",
                        "Land area (ALAND, square metres) is taken from this layer where it has the CBSA.")),
    Delineation("2013", "delineation/msa_crosswalk.csv", "CBSA Code", "CBSA Title",
                "Metropolitan/Micropolitan Statistical Area", None, 2,
                _source("omb-delineation-2013", "OMB CBSA delineation, February 2013 (Census List 1)", "2013",
                        "https://www.census.gov/geographies/reference-files/time-series/demo/metro-micro/delineation-files.html",
                        "From jasonjiajs/replication_cities_hetfirms msa_crosswalk.csv; title lines and footnotes skipped.")),
    Delineation("2009", "delineation/tl_2012_us_cbsa_attributes.csv", "CBSAFP", "NAME", "LSAD", "ALAND", 0,
                _source("tiger-cbsa-2012", "TIGER/Line 2012 CBSA attributes (December 2009 delineation)", "2009",
                        "https://www.census.gov/geographies/mapping-files/time-series/geo/tiger-line-file.2012.html",
                        "Converted from the shapefile's DBF. Land area (ALAND, square metres) is used for CBSAs "
                        "that the 2015 layer lacks.")),
)


CROSSWALK_SOURCE = Source(
    id="title-crosswalk", title="Reviewed crosswalk of ITA metro titles that no delineation file has",
    publisher="Metro Exports API (this repository)", source_url=None, unit=None, dollar_basis=None,
    coverage="Puerto Rico and Connecticut metros", delineation="2023",
    notes="loaders/reference/title_crosswalk.csv: each row gives the reason and the former title checked against "
          "exports_ita.csv.", license="MIT")


@dataclass
class Cbsa:
    code: str
    titles: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    land: dict[str, int] = field(default_factory=dict)


def _states_of(title: str) -> list[str]:
    """Principal states from a CBSA title's suffix: 'Portland-Vancouver-Hillsboro, OR-WA' → ['OR', 'WA']."""
    match = re.search(r",\s*([A-Z]{2}(?:-[A-Z]{2})*)\s*$", title)
    return match.group(1).split("-") if match else []


def parse(data_dir: Path) -> tuple[dict[str, Cbsa], dict[str, int]]:
    cbsas: dict[str, Cbsa] = {}
    counts: dict[str, int] = {}
    for d in FILES:
        path = data_dir / d.file
        seen = set()
        for line, row in csv_rows(path, [d.code, d.title, d.kind] + ([d.land] if d.land else []), skip=d.skip):
            code, title = row[d.code].strip(), re.sub(r"\s+", " ", row[d.title]).strip()
            if d.vintage == "2013" and not title and not row[d.kind].strip():
                continue  # a footnote below the table: text in the first column only
            if not code:
                if d.vintage == "2018":
                    continue  # county outside any CBSA
                raise SourceError(path, "CBSA code is blank", line, d.code)
            if not re.fullmatch(r"\d{5}", code):
                raise SourceError(path, f"{code!r} is not a five-digit CBSA code", line, d.code)
            kind = TYPES.get(row[d.kind].strip().lower())
            if kind is None:
                raise SourceError(path, f"unknown area type {row[d.kind]!r}", line, d.kind)
            cbsa = cbsas.setdefault(code, Cbsa(code))
            cbsa.titles.setdefault(d.vintage, title)
            cbsa.types.setdefault(d.vintage, kind)
            if d.land:
                try:
                    cbsa.land.setdefault(d.vintage, int(row[d.land]))
                except ValueError:
                    raise SourceError(path, f"{row[d.land]!r} is not a whole number of square metres", line,
                                      d.land) from None
            seen.add(code)
        counts[d.source.id] = len(seen)
    for line, row in csv_rows(CROSSWALK, ["title", "cbsa", "type", "reason"]):
        cbsa = cbsas.setdefault(row["cbsa"], Cbsa(row["cbsa"]))
        cbsa.titles.setdefault("2023", row["title"])
        cbsa.types.setdefault("2023", row["type"])
    counts[CROSSWALK_SOURCE.id] = line - 1
    return cbsas, counts


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    sources = [*(d.source for d in FILES), CROSSWALK_SOURCE]
    paths = [*(data_dir / d.file for d in FILES), CROSSWALK]
    if not force and all(unchanged(session, s, [p]) for s, p in zip(sources, paths)):
        return [Result(s.id, "unchanged") for s in sources]
    cbsas, counts = parse(data_dir)
    rows = []
    for cbsa in cbsas.values():
        newest = next(v for v in ("2023", "2018", "2015", "2013", "2009") if v in cbsa.titles)
        name = cbsa.titles[newest]
        rows.append(dict(
            kind="metro", code=cbsa.code, name=name, usps=None, metro_type=cbsa.types[newest],
            land_area_m2=cbsa.land.get("2015", cbsa.land.get("2009")), delineation=newest, titles=cbsa.titles,
            search_text=" | ".join(dict.fromkeys(fold(t) for t in [name, *cbsa.titles.values()])),
        ))
    upsert(session, Geography.__table__, rows, ["kind", "code"])
    places = Places(session)
    metro_ids = [places.id("metro", c) for c in cbsas]
    session.execute(delete(geography_states).where(geography_states.c.geography_id.in_(
        select(Geography.id).where(Geography.kind == "metro"))))
    links = []
    state_by_usps = {usps: code for code, usps in session.execute(
        select(Geography.code, Geography.usps).where(Geography.kind == "state"))}
    for row, metro_id in zip(rows, metro_ids):
        for usps in _states_of(row["name"]):
            if usps not in state_by_usps:
                raise SourceError(paths[0], f"unknown state {usps!r} in title {row['name']!r}")
            links.append(dict(geography_id=metro_id, state_id=places.id("state", state_by_usps[usps])))
    if links:
        session.execute(geography_states.insert(), links)
    return [write(session, s, [p], row_count=counts[s.id]) for s, p in zip(sources, paths)]
