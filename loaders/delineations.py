"""OMB / Census CBSA delineations (2009, 2013, 2015, 2018, March 2020, 2023) → metro and micro geographies, each
CBSA as every vintage defines it (cbsa_delineations) and the successions between codes (cbsa_successions)."""

import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from loaders import gazetteer
from loaders.files import SourceError, csv_rows
from loaders.places import CROSSWALK, Places
from loaders.store import Result, Source, unchanged, write
from loaders.upsert import upsert
from models import Geography, geography_states
from models.delineation import BY_ID, GAZETTEER_2010, GAZETTEER_2020, CbsaDelineation, Succession
from models.geography import search_text
from models.territory import territory_of

PUBLISHER = "U.S. Office of Management and Budget; U.S. Census Bureau"
TYPES = {"metropolitan statistical area": "metropolitan", "micropolitan statistical area": "micropolitan",
         "m1": "metropolitan", "m2": "micropolitan", "metro": "metropolitan", "micro": "micropolitan",
         "1": "metropolitan", "2": "micropolitan"}


@dataclass(frozen=True)
class Delineation:
    vintage: str
    file: str
    code: str
    title: str
    kind: str
    land: str | None  # ALAND column, where the file gives the CBSA's land
    point: tuple[str, str] | None  # internal point columns
    county: tuple[str, ...] | None  # county GEOID column, or state and county FIPS columns
    skip: int
    source: Source


def _source(id_, title, vintage, url, notes):
    return Source(id=id_, title=title, publisher=PUBLISHER, source_url=url, unit=None, dollar_basis=None,
                  coverage="United States" + (" and Puerto Rico" if vintage in ("2009", "2013", "2015") else ""),
                  delineation=vintage, notes=notes)


FILES = (
    Delineation("2023", "delineation/cbsa_2023.csv", "CBSA.Code", "CBSA.Title",
                "Metropolitan.Micropolitan.Statistical.Area", None, None, ("GEOID",), 0,
                _source("omb-delineation-2023", "OMB CBSA delineation, July 2023 (county list)", "2023",
                        "https://www.census.gov/geographies/reference-files/time-series/demo/metro-micro/delineation-files.html",
                        "From dasneddon/IGM cbsa.csv. Puerto Rico and the nine Connecticut planning regions are missing; "
                        "their 2023 titles come from the reviewed crosswalk in the repository, and the March 2020 "
                        "definition stands in for them.")),
    Delineation("2018", "delineation/county_cbsa_st.csv", "cbsa_code", "cbsa_name", "cbsa_type", None, None,
                ("stco_code",), 0,
                _source("omb-delineation-2018", "County to CBSA to state table, 2017-2018 vintage", "2018",
                        "https://github.com/fansi-sifan/metro-datasets",
                        "Converted from fansi-sifan/metro-datasets county_cbsa_st.rda. Counties outside CBSAs are "
                        "skipped. Puerto Rico is missing: the March 2020 definition stands in for it.")),
    Delineation("2015", "delineation/Core_Based_Statistical_Areas.csv", "CBSAFP", "NAME", "LSAD", "ALAND",
                ("INTPTLAT", "INTPTLON"), None, 0,
                _source("tiger-cbsa-2015", "TIGER-derived CBSA layer, 2015-2017 vintage", "2015",
                        "https://github.com/fansi-sifan/metro-datasets",
                        "Land area (ALAND, square metres) and internal points of the CBSAs of this vintage.")),
    Delineation("2013", "delineation/msa_crosswalk.csv", "CBSA Code", "CBSA Title",
                "Metropolitan/Micropolitan Statistical Area", None, None, ("FIPS State Code", "FIPS County Code"), 2,
                _source("omb-delineation-2013", "OMB CBSA delineation, February 2013 (Census List 1)", "2013",
                        "https://www.census.gov/geographies/reference-files/time-series/demo/metro-micro/delineation-files.html",
                        "From jasonjiajs/replication_cities_hetfirms msa_crosswalk.csv; title lines and footnotes skipped.")),
    Delineation("2009", "delineation/tl_2012_us_cbsa_attributes.csv", "CBSAFP", "NAME", "LSAD", "ALAND",
                ("INTPTLAT", "INTPTLON"), None, 0,
                _source("tiger-cbsa-2012", "TIGER/Line 2012 CBSA attributes (December 2009 delineation)", "2009",
                        "https://www.census.gov/geographies/mapping-files/time-series/geo/tiger-line-file.2012.html",
                        "Converted from the shapefile's DBF. Land area (ALAND, square metres) and internal points of "
                        "the December 2009 CBSAs.")),
)

CROSSWALK_SOURCE = Source(
    id="title-crosswalk", title="Reviewed crosswalk of ITA metro titles that no delineation file has",
    publisher="Metro Exports API (this repository)", source_url=None, unit=None, dollar_basis=None,
    coverage="Puerto Rico and Connecticut metros", delineation="2023",
    notes="loaders/reference/title_crosswalk.csv: each row gives the reason and the former title checked against "
          "exports_ita.csv.", license="MIT")

COUNTIES_2009 = Path(__file__).parent / "reference" / "cbsa_2009_counties.csv"
COUNTIES_2009_SOURCE = Source(
    id="cbsa-2009-counties", title="Counties of the December 2009 CBSAs that the February 2013 delineation retired",
    publisher="Metro Exports API (this repository)", source_url=None, unit=None, dollar_basis=None,
    coverage="The 77 CBSA codes of December 2009 that are not in the February 2013 list", delineation="2009",
    notes="loaders/reference/cbsa_2009_counties.csv. The 2009 file has no county list; each CBSA's counties were "
          "found among the counties nearest its internal point as the set whose 2010 Gazetteer land sums to its "
          "TIGER land, and reviewed. Every load checks each row against both files (within LAND_TOLERANCE).",
    license="MIT")
# TIGER/Line 2012 land differs from the 2010 Gazetteer's by up to 0.07% for these CBSAs (shorelines).
LAND_TOLERANCE = 0.001

# County codes of the 2010 files that later lists write otherwise (renamed, or merged into another county).
COUNTY_SUCCESSORS = {"02270": ("02158",), "46113": ("46102",), "51515": ("51019",), "02261": ("02063", "02066")}
PUERTO_RICO, CONNECTICUT = "72", "09"
LACKING = {"PR": PUERTO_RICO, "CT": CONNECTICUT}  # USPS → state FIPS of the territories some files lack
NAMES = {PUERTO_RICO: "Puerto Rico", CONNECTICUT: "Connecticut"}
# Vintages whose file lacks a territory: the March 2020 rows stand in for it.
LACKS = {"2018": (PUERTO_RICO,), "2023": (PUERTO_RICO, CONNECTICUT)}
# The vintages that list counties, in order: successions are found between consecutive ones.
COUNTY_LISTS = ("2009", "2013", "2018", "2023")
NEWEST_FIRST = ("2023", "2020", "2018", "2015", "2013", "2009")


@dataclass
class Area:
    """A CBSA as one file defines it."""

    title: str
    type: str
    land: int | None = None
    point: tuple[float, float] | None = None
    counties: frozenset[str] | None = None


@dataclass
class Edge:
    predecessor: str
    successor: str
    from_vintage: str
    vintage: str
    counties: int
    share_of_predecessor: float
    share_of_successor: float
    predecessor_retired: bool  # the predecessor's code is not in the later list
    successor_new: bool  # the successor's code is not in the earlier list


@dataclass
class Parsed:
    files: dict[str, dict[str, Area]] = field(default_factory=dict)  # vintage → code → area
    crosswalk: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (2023 title, type)
    land: dict[str, dict[str, int]] = field(default_factory=dict)  # Gazetteer dataset → county GEOID → ALAND
    counts: dict[str, int] = field(default_factory=dict)


def _states_of(title: str) -> list[str]:
    """Principal states from a CBSA title's suffix: 'Portland-Vancouver-Hillsboro, OR-WA' → ['OR', 'WA']."""
    match = re.search(r",\s*([A-Z]{2}(?:-[A-Z]{2})*)\s*$", title)
    return match.group(1).split("-") if match else []


def _county(d: Delineation, row: dict[str, str], path: Path, line: int) -> str:
    if len(d.county) == 1:
        geoid = row[d.county[0]].strip().zfill(5)
    else:
        geoid = row[d.county[0]].strip().zfill(2) + row[d.county[1]].strip().zfill(3)
    if not (geoid.isdigit() and len(geoid) == 5):
        raise SourceError(path, f"{geoid!r} is not a five-digit county code", line, d.county[-1])
    return geoid


def _point(d: Delineation, row: dict[str, str], path: Path, line: int) -> tuple[float, float]:
    try:
        return float(row[d.point[0]]), float(row[d.point[1]])
    except ValueError:
        raise SourceError(path, f"internal point {row[d.point[0]]!r}, {row[d.point[1]]!r} is not a pair of "
                                "coordinates", line, d.point[0]) from None


def parse_file(data_dir: Path, d: Delineation) -> dict[str, Area]:
    path = data_dir / d.file
    areas: dict[str, Area] = {}
    counties: dict[str, set[str]] = {}
    owners: dict[str, str] = {}
    columns = [d.code, d.title, d.kind, *([d.land] if d.land else []), *(d.point or ()), *(d.county or ())]
    for line, row in csv_rows(path, columns, skip=d.skip):
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
        area = areas.setdefault(code, Area(title, kind))
        if d.land and area.land is None:
            if not row[d.land].strip().isdigit():
                raise SourceError(path, f"{row[d.land]!r} is not a whole number of square metres", line, d.land)
            area.land = int(row[d.land])
        if d.point and area.point is None:
            area.point = _point(d, row, path, line)
        if d.county:
            geoid = _county(d, row, path, line)
            if owners.setdefault(geoid, code) != code:
                raise SourceError(path, f"county {geoid} is listed in {owners[geoid]} and {code}", line, d.county[-1])
            counties.setdefault(code, set()).add(geoid)
    for code, listed in counties.items():
        areas[code].counties = frozenset(listed)
    return areas


def parse_gazetteer_cbsas(data_dir: Path) -> dict[str, Area]:
    """The March 2020 delineation, as the 2020 Gazetteer CBSA file gives it."""
    return {a.geoid: Area(re.sub(r" (Metro|Micro) Area$", "", a.name), TYPES[a.cbsa_type], a.land, (a.lat, a.lon))
            for a in gazetteer.read_file(data_dir, gazetteer.CBSA_2020)}


def parse_2009_counties(path: Path, tiger: dict[str, Area], listed_2013: dict[str, Area],
                        land: dict[str, int]) -> dict[str, frozenset[str]]:
    """The reviewed county lists of the 2009 CBSAs that 2013 retired, each checked against the TIGER land."""
    lists = {}
    for line, row in csv_rows(path, ["cbsa", "title", "counties"]):
        code, counties = row["cbsa"], frozenset(row["counties"].split())
        if code not in tiger:
            continue  # a data directory without this CBSA (the test fixtures)
        if tiger[code].title != row["title"]:
            raise SourceError(path, f"title {row['title']!r} is not the 2009 title {tiger[code].title!r}", line,
                              "title")
        missing = sorted(c for c in counties if c not in land)
        if missing:
            raise SourceError(path, f"counties {missing} are not in the 2010 Gazetteer county file", line, "counties")
        total = sum(land[c] for c in counties)
        if abs(total - tiger[code].land) > LAND_TOLERANCE * tiger[code].land:
            raise SourceError(path, f"the counties' 2010 land {total} m² is not the TIGER land {tiger[code].land} m² "
                                    f"of {code} (within {LAND_TOLERANCE:.1%})", line, "counties")
        lists[code] = counties
    unlisted = sorted(set(tiger) - set(listed_2013) - set(lists))
    if unlisted:
        raise SourceError(path, f"2009 CBSAs {unlisted} are not in the 2013 list and have no county list here")
    return lists


def parse(data_dir: Path) -> Parsed:
    parsed = Parsed()
    for d in FILES:
        parsed.files[d.vintage] = parse_file(data_dir, d)
        parsed.counts[d.source.id] = len(parsed.files[d.vintage])
    parsed.files["2020"] = parse_gazetteer_cbsas(data_dir)
    for source, file in ((GAZETTEER_2010, gazetteer.COUNTIES_2010), (GAZETTEER_2020, gazetteer.COUNTIES_2020)):
        parsed.land[source] = {a.geoid: a.land for a in gazetteer.read_file(data_dir, file)}
    for line, row in csv_rows(CROSSWALK, ["title", "cbsa", "type", "reason"]):
        parsed.crosswalk[row["cbsa"]] = (row["title"], row["type"])
    parsed.counts[CROSSWALK_SOURCE.id] = len(parsed.crosswalk)
    lists = parse_2009_counties(COUNTIES_2009, parsed.files["2009"], parsed.files["2013"], parsed.land[GAZETTEER_2010])
    for code, counties in lists.items():
        parsed.files["2009"][code].counties = counties
    parsed.counts[COUNTIES_2009_SOURCE.id] = len(lists)
    return parsed


def touches(code: str, parsed: Parsed) -> set[str]:
    """The territories a file may lack (Puerto Rico, Connecticut) that a CBSA lies in, by its titles and counties."""
    found = set()
    for areas in parsed.files.values():
        area = areas.get(code)
        if area is not None:
            found |= {LACKING[s] for s in _states_of(area.title) if s in LACKING}
            found |= {c[:2] for c in area.counties or () if c[:2] in LACKING.values()}
    return found


def rows_of(vintage: str, parsed: Parsed, path: Path) -> dict[str, dict]:
    """code → the cbsa_delineations row of a vintage: its file's CBSAs, and the March 2020 ones standing in for a
    territory the file lacks."""
    lacks = set(LACKS.get(vintage, ()))
    label = BY_ID[vintage].label
    rows = {}
    for code, area in parsed.files[vintage].items():
        if area.land is not None:
            land, how = area.land, f"{BY_ID[vintage].source}: ALAND of the CBSA"
        elif CONNECTICUT in lacks & touches(code, parsed):
            land, how = None, (f"unknown: the {label} list lacks Connecticut, where part of this CBSA lay in "
                               "March 2020")
        else:
            gazetteer_land = parsed.land[BY_ID[vintage].national_land]
            missing = sorted(c for c in area.counties if c not in gazetteer_land)
            if missing:
                raise SourceError(path, f"counties {missing} of {code} {area.title!r} are not in the Gazetteer "
                                        f"county file of {BY_ID[vintage].national_land}")
            land = sum(gazetteer_land[c] for c in area.counties)
            how = (f"{BY_ID[vintage].national_land}: ALAND of the {len(area.counties)} counties "
                   f"{BY_ID[vintage].source} lists")
        rows[code] = dict(vintage=vintage, metro_type=area.type, title=area.title, land_area_m2=land,
                          land_source=how, intpt_lat=area.point[0] if area.point else None,
                          intpt_lon=area.point[1] if area.point else None,
                          county_count=len(area.counties) if area.counties else None,
                          source=BY_ID[vintage].source, note=None)
    for code, area in parsed.files["2020"].items():
        missing = lacks & touches(code, parsed)
        if code in rows or not missing:
            continue
        names = " and ".join(sorted(NAMES[t] for t in missing))
        known = CONNECTICUT not in missing
        rows[code] = dict(vintage=vintage, metro_type=area.type, title=area.title,
                          land_area_m2=area.land if known else None,
                          land_source=(f"{BY_ID['2020'].source}: ALAND of the CBSA in March 2020" if known else
                                       "unknown: Connecticut's 2023 planning regions are in no file"),
                          intpt_lat=area.point[0], intpt_lon=area.point[1], county_count=None,
                          source=BY_ID["2020"].source,
                          note=f"The {label} file lacks {names}: the March 2020 definition stands in.")
    if vintage == CROSSWALK_SOURCE.delineation:
        for code, (title, type_) in parsed.crosswalk.items():
            if code in rows:
                note = " ".join(filter(None, [rows[code]["note"], "Title and type from the reviewed crosswalk."]))
                rows[code].update(title=title, metro_type=type_, note=note)
            else:
                rows[code] = dict(vintage=vintage, metro_type=type_, title=title, land_area_m2=None,
                                  land_source="unknown: the area is in no file of the store", intpt_lat=None,
                                  intpt_lon=None, county_count=None, source=CROSSWALK_SOURCE.id,
                                  note=f"Not in the {label} file; title and type from the reviewed crosswalk.")
    return rows


def _comparable(counties: frozenset[str]) -> set[str]:
    """County codes as the 2020 files write them."""
    return {new for c in counties for new in COUNTY_SUCCESSORS.get(c, (c,))}


def successions(before: dict[str, Area], after: dict[str, Area], from_vintage: str, vintage: str,
                before_land: dict[str, int], after_land: dict[str, int], skip: tuple[str, ...] = ()) -> list[Edge]:
    """Where the land of a retired code went, and where a new code's land came from: every pair of a CBSA of one
    county list and a CBSA of the next that share counties, where the first code is not in the second list or the
    second code not in the first. Counties of the states in `skip` (which the later list lacks) are left out."""
    def listed(areas: dict[str, Area], comparable) -> dict[str, set[str]]:
        return {code: {c for c in comparable(a.counties) if c[:2] not in skip}
                for code, a in areas.items() if a.counties}

    old, new = listed(before, _comparable), listed(after, set)
    owner = {c: code for code, counties in new.items() for c in counties}
    edges = []
    for p, counties in sorted(old.items()):
        if not counties:
            continue
        targets = sorted({owner[c] for c in counties if c in owner})
        for s in targets:
            if p in after and s in before:
                continue  # both codes live on: land moved between continuing CBSAs is not a succession
            shared = counties & new[s]
            p_land = sum(before_land[c] for c in before[p].counties if c[:2] not in skip)
            moved = sum(before_land[c] for c in before[p].counties if _comparable(frozenset({c})) & shared)
            s_land = sum(after_land[c] for c in new[s])
            edges.append(Edge(p, s, from_vintage, vintage, len(shared), round(moved / p_land, 6),
                              round(sum(after_land[c] for c in shared) / s_land, 6), p not in after, s not in before))
    return edges


def newest_successor(code: str, edges: list[Edge], current: set[str]) -> str | None:
    """The current CBSA that holds most of a retired code's land: from the code's newest step out, the successor
    with the largest share of its land, followed until a current code."""
    seen = set()
    while code not in current and code not in seen:
        seen.add(code)
        out = [e for e in edges if e.predecessor == code and e.predecessor_retired]
        if not out:
            return None
        newest = max(e.vintage for e in out)
        code = max((e for e in out if e.vintage == newest), key=lambda e: (e.share_of_predecessor, e.successor)).successor
    return code if code in current else None


def all_successions(parsed: Parsed) -> list[Edge]:
    land = {"2009": parsed.land[GAZETTEER_2010], "2013": parsed.land[GAZETTEER_2010],
            "2018": parsed.land[GAZETTEER_2020], "2023": parsed.land[GAZETTEER_2020]}
    edges = []
    for a, b in pairwise(COUNTY_LISTS):
        edges += successions(parsed.files[a], parsed.files[b], a, b, land[a], land[b], LACKS.get(b, ()))
    return edges


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    sources = [*(d.source for d in FILES), CROSSWALK_SOURCE, COUNTIES_2009_SOURCE]
    paths = [*(data_dir / d.file for d in FILES), CROSSWALK, COUNTIES_2009]
    if not force and all(p.exists() and unchanged(session, s, [p]) for s, p in zip(sources, paths)):
        return [Result(s.id, "unchanged") for s in sources]
    parsed = parse(data_dir)
    files = {d.vintage: data_dir / d.file for d in FILES} | {"2020": data_dir / gazetteer.CBSA_2020.file}
    vintages = {v: rows_of(v, parsed, files[v]) for v in NEWEST_FIRST}
    codes = sorted({code for rows in vintages.values() for code in rows})
    current = set(vintages[NEWEST_FIRST[0]])
    rows = []
    for code in codes:
        titles = {v: parsed.files[v][code].title for v in reversed(NEWEST_FIRST) if code in parsed.files[v]}
        if code in parsed.crosswalk:
            titles["2023"] = parsed.crosswalk[code][0]
        newest = next(v for v in NEWEST_FIRST if v in titles)
        name = titles[newest]
        metro_type = vintages[newest][code]["metro_type"]
        rows.append(dict(kind="metro", code=code, name=name, usps=None, metro_type=metro_type,
                         delineation=newest, current=code in current, territory=territory_of(_states_of(name)),
                         titles=dict(sorted(titles.items(), reverse=True)), search_text=search_text([name, *titles.values()])))
    upsert(session, Geography.__table__, rows, ["kind", "code"])
    places = Places(session)
    ids = {code: places.id("metro", code) for code in codes}
    _link_states(session, rows, ids, places, paths[0])
    session.execute(delete(CbsaDelineation))
    session.execute(CbsaDelineation.__table__.insert(), [
        dict(row, geography_id=ids[code]) for v in vintages.values() for code, row in v.items()])
    edges = all_successions(parsed)
    session.execute(delete(Succession))
    if edges:
        session.execute(Succession.__table__.insert(), [dict(
            predecessor_id=ids[e.predecessor], successor_id=ids[e.successor], vintage=e.vintage,
            from_vintage=e.from_vintage, counties=e.counties, share_of_predecessor=e.share_of_predecessor,
            share_of_successor=e.share_of_successor, predecessor_retired=e.predecessor_retired,
            successor_new=e.successor_new) for e in edges])
    for code in codes:
        heir = None if code in current else newest_successor(code, edges, current)
        if heir is not None:
            session.execute(update(Geography).where(Geography.id == ids[code]).values(successor_id=ids[heir]))
    return [write(session, s, [p], row_count=parsed.counts[s.id]) for s, p in zip(sources, paths)]


def _link_states(session: Session, rows: list[dict], ids: dict[str, int], places: Places, path: Path) -> None:
    """Principal states from each CBSA's current title."""
    session.execute(delete(geography_states).where(geography_states.c.geography_id.in_(
        select(Geography.id).where(Geography.kind == "metro"))))
    links = []
    for row in rows:
        for usps in _states_of(row["name"]):
            state = places.state_code(usps)
            if state is None:
                raise SourceError(path, f"unknown state {usps!r} in title {row['name']!r}")
            links.append(dict(geography_id=ids[row["code"]], state_id=places.id("state", state)))
    if links:
        session.execute(geography_states.insert(), links)
