"""The store built from the real source files, cross-checked against the files' own totals."""

import csv
from collections import Counter, defaultdict

import openpyxl
import pytest
from helpers import REAL_DATA, figure
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from loaders import delineations, gazetteer
from models import Dataset, Geography, Observation
from models.delineation import in_force, successor
from models.geography import LISTED, metros
from models.territory import STATES, WITH_PR, national

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def engine(real_app):
    return real_app.extensions["store_engine"]


@pytest.fixture(scope="module")
def ita_sheet():
    book = openpyxl.load_workbook(REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    return rows[0], rows[1:]


def stored(engine, dataset: str, **where):
    o = Observation
    query = select(o.year, func.sum(o.value), func.count(o.value)).where(o.dataset_id == dataset)
    for column, value in where.items():
        query = query.where(getattr(o, column) == value)
    with Session(engine) as session:
        return {year: (total, count) for year, total, count in session.execute(query.group_by(o.year))}


def test_every_ita_row_is_mapped_to_its_own_geography(engine, ita_sheet):
    _, rows = ita_sheet
    assert len(rows) == 418
    with Session(engine) as session:
        places = session.scalar(select(func.count(func.distinct(Observation.geography_id)))
                                .where(Observation.dataset_id == "ita-metro-exports"))
        dataset = session.get(Dataset, "ita-metro-exports")
    assert places == 418
    assert dataset.row_count == 418 * 19


def test_ita_year_totals_and_counts_equal_the_xlsx_columns(engine, ita_sheet):
    header, rows = ita_sheet
    totals = stored(engine, "ita-metro-exports")
    for i, year in enumerate(header[2:], start=2):
        column = [r[i] for r in rows if r[i] is not None]
        assert totals[int(year)] == (sum(column), len(column)), year
    assert totals[2023][0] == sum(r[-1] for r in rows if r[-1] is not None)


def test_ita_known_figures(engine):
    assert figure(engine, "ita-metro-exports", "metro", "31080", 2011) == (72688940296, "ok")
    assert figure(engine, "ita-metro-exports", "metro", "47900", 2023)[1] == "ok"  # Washington DC metro
    assert figure(engine, "ita-metro-exports", "metro", "49740", 2014) == (None, "suppressed")


def test_ita_history_file_agrees_with_the_series(engine):
    with Session(engine) as session:
        notes = session.get(Dataset, "ita-metro-exports-2012-2021").notes
    assert "4020 figures agree, 0 differ, 0 have no counterpart" in notes


def test_census_2012_all_states_equals_the_sum_of_its_parts(engine):
    with open(REAL_DATA / "census" / "Census_USATradeExport_2012.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))[3:]
    all_states = next(int(r[4].replace(",", "")) for r in rows if r[:2] == ["All Commodities", "All States"])
    assert all_states == 1545820839892
    assert figure(engine, "census-state-exports-2012", "nation", "US", 2012) == (all_states, "ok")
    o, g = Observation, Geography
    with Session(engine) as session:
        parts = session.scalar(select(func.sum(o.value)).join(g, g.id == o.geography_id).where(
            o.dataset_id == "census-state-exports-2012", o.industry == "ALL", g.kind.in_(["state", "unallocated"])))
        three_digit = session.scalar(select(func.sum(o.value)).join(g, g.id == o.geography_id).where(
            o.dataset_id == "census-state-exports-2012", g.kind == "nation", func.length(o.industry) == 3,
            o.industry != "ALL"))
    assert parts == all_states  # 50 states, DC, Puerto Rico, U.S. Virgin Islands and Unknown
    assert three_digit == all_states  # NAICS 3-digit industries add up to all commodities


def test_census_2013_2018_totals_per_year(engine):
    expected = defaultdict(int)
    count = Counter()
    with open(REAL_DATA / "census" / "Census_StateExport_2013_2018.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["NAICS"] == "-":
                expected[int(row["Year"])] += int(float(row["Value"]))
                count[int(row["Year"])] += 1
    totals = stored(engine, "census-state-exports-2013-2018", industry="ALL")
    assert {y: t for y, (t, _) in totals.items()} == dict(expected)
    assert {y: n for y, (_, n) in totals.items()} == dict(count) == {y: 51 for y in range(2013, 2019)}
    assert expected[2013] == 1509864644646


def test_metro_monitor_and_population(engine):
    assert figure(engine, "metro-monitor-2021", "nation", "US", 2009, "jobs") == (135243296, "ok")
    assert figure(engine, "metro-monitor-2021", "metro", "10100", 2009, "jobs") == (22344.74, "ok")
    assert figure(engine, "metro-monitor-2021", "metro", "13980", 2009, "real_gdp") == (None, "conflicting")
    assert figure(engine, "census-population-2019", "metro", "31080", 2019, "population") == (13214799, "ok")
    assert figure(engine, "metro-monitor-2021", "metro", "10180", 2019, "population") == (172060, "derived")
    # Los Angeles' real GDP is written as 1.1E+12-style text: the derived population is marked rounded
    population, status = figure(engine, "metro-monitor-2021", "metro", "31080", 2019, "population")
    assert status == "rounded" and abs(population - 13214799) / 13214799 < 0.01


def test_brookings_total(engine):
    with open(REAL_DATA / "brookings" / "cbsa_export.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = sum(round(float(r["cbsa_exports_nominal"]) * 1_000_000) for r in rows)
    assert stored(engine, "brookings-export-monitor-2018", indicator="exports_goods_services")[2017] == (
        expected, 962)


def test_metros_api_on_real_data(real_client):
    body = real_client.get("/v1/metros?q=portland").get_json()
    assert [m["name"] for m in body["data"]] == ["Portland-South Portland, ME", "Portland-Vancouver-Hillsboro, OR-WA"]
    body = real_client.get("/v1/metros?q=minneapolis").get_json()
    assert [m["code"] for m in body["data"]] == ["33460"]
    body = real_client.get("/v1/metros?sort=-exports&year=2011&page_size=3").get_json()
    assert [(m["code"], m["exports"]["value"]) for m in body["data"]] == [
        ("35620", 105102032574), ("26420", 104457341453), ("31080", 72688940296)]


SQ_MI = 2_589_988.110336


def gazetteer_rows(name: str, encoding: str = "utf-8", separator: str = "\t") -> list[dict]:
    """A Gazetteer file read with the csv module (not the loader), fields stripped."""
    with open(REAL_DATA / "geography" / name, encoding=encoding, newline="") as f:
        rows = list(csv.reader(f, delimiter=separator))
    header = [h.strip() for h in rows[0]]
    return [dict(zip(header, (v.strip() for v in r))) for r in rows[1:] if r]


def national_land(engine, measure: str, scope, year: int) -> tuple:
    with Session(engine) as session:
        return tuple(session.execute(national(measure, scope, year)).one())


def test_gazetteer_land_and_water_are_the_readme_totals(engine):
    """Every total the data README gives for the Gazetteer files, from the store's state land."""
    with Session(engine) as session:
        def total(dataset, indicator, year, with_pr):
            o, g = Observation, Geography
            query = select(func.sum(o.value)).join(g, g.id == o.geography_id).where(
                o.dataset_id == dataset, o.indicator == indicator, o.year == year)
            return session.scalar(query if with_pr else query.where(g.code != "72"))
        assert total("census-gazetteer-2020-counties", "land_area", 2020, False) == 9_150_526_749_046
        assert total("census-gazetteer-2020-counties", "land_area", 2020, True) == 9_159_395_697_699
        assert total("census-gazetteer-2020-counties", "water_area", 2020, False) == 698_732_674_530
        assert total("census-gazetteer-2020-counties", "water_area", 2020, True) == 703_655_004_493
        assert total("census-gazetteer-2010-counties", "land_area", 2010, False) == 9_147_592_690_191
        assert total("census-gazetteer-2010-counties", "land_area", 2010, True) == 9_156_460_226_723
        assert total("census-gazetteer-2010-counties", "water_area", 2010, False) == 685_924_118_605
        assert total("census-gazetteer-2010-counties", "water_area", 2010, True) == 690_847_863_962
        assert total("census-gazetteer-2025-states", "land_area", 2025, False) == 9_152_064_459_588
        assert total("census-gazetteer-2025-states", "land_area", 2025, True) == 9_160_934_162_767
        assert figure(engine, "census-gazetteer-2020-counties", "state", "72", 2020, "land_area") == (
            8_868_948_653, "ok")
        assert round(8_868_948_653 / SQ_MI, 2) == 3_424.32
        # the 2025 state file has about 594 square miles more land than the 2020 county sum
        assert round((9_152_064_459_588 - 9_150_526_749_046) / SQ_MI) == 594
    assert national_land(engine, "land_area", STATES, 2020) == (9_150_526_749_046, 51)
    assert national_land(engine, "land_area", WITH_PR, 2023) == (9_159_395_697_699, 52)
    assert national_land(engine, "land_area", STATES, 2010) == (9_147_592_690_191, 51)
    assert national_land(engine, "land_area", WITH_PR, 2016) == (9_156_460_226_723, 52)
    assert [round(v / SQ_MI, 2) for v in (9_150_526_749_046, 9_159_395_697_699, 9_147_592_690_191,
                                          9_156_460_226_723, 9_152_064_459_588, 9_160_934_162_767)] == [
        3_533_038.13, 3_536_462.45, 3_531_905.28, 3_535_329.06, 3_533_631.84, 3_537_056.45]


def test_gazetteer_files_as_the_readme_describes_them():
    counties_2020 = gazetteer_rows("2020_Gaz_counties_national.txt")
    counties_2010 = gazetteer_rows("Gaz_counties_national.txt", "cp1252")
    assert len(counties_2020) == len(counties_2010) == 3221
    assert sum(r["USPS"] == "PR" for r in counties_2020) == sum(r["USPS"] == "PR" for r in counties_2010) == 78
    assert round(sum(float(r["ALAND_SQMI"]) for r in counties_2020 if r["USPS"] != "PR"), 3) == 3_533_038.256
    assert round(sum(float(r["ALAND_SQMI"]) for r in counties_2010 if r["USPS"] != "PR"), 3) == 3_531_905.423
    assert {r["GEOID"]: r["NAME"] for r in counties_2010}["35013"] == "Doña Ana County"
    # the loader reads the same rows
    assert [(a.geoid, a.land, a.water) for a in gazetteer.read_file(REAL_DATA, gazetteer.COUNTIES_2010)] == [
        (r["GEOID"], int(r["ALAND"]), int(r["AWATER"])) for r in counties_2010]
    cbsas = gazetteer_rows("2020_Gaz_cbsa_national.txt")
    metros = [r for r in cbsas if r["CBSA_TYPE"] == "1"]
    in_pr = [r for r in cbsas if r["NAME"].endswith(("PR Metro Area", "PR Micro Area"))]
    assert (len(cbsas), len(metros), len(in_pr), sum(r["CBSA_TYPE"] == "1" for r in in_pr)) == (939, 392, 12, 8)
    assert sum(r["CBSA_TYPE"] == "2" for r in cbsas) == 547
    assert sum(r["CSAFP"] == "" for r in cbsas) == 388
    metro_land = sum(int(r["ALAND"]) for r in metros)
    outside_pr = sum(int(r["ALAND"]) for r in metros if r not in in_pr)
    micro_land = sum(int(r["ALAND"]) for r in cbsas if r["CBSA_TYPE"] == "2")
    assert (metro_land, outside_pr, micro_land) == (2_569_927_064_324, 2_561_899_968_373, 1_860_475_722_994)
    assert [round(v / SQ_MI, 2) for v in (metro_land, outside_pr, micro_land)] == [992_254.39, 989_155.11,
                                                                                   718_333.69]
    assert round(100 * outside_pr / 9_150_526_749_046, 1) == 28.0
    assert len(gazetteer_rows("2025_Gaz_state_national.txt", separator="|")) == 52


def test_cbsa_land_from_counties_agrees_with_the_cbsa_file():
    """The 2020 CBSA file's ALAND is its counties' sum: for the 791 CBSAs whose February 2013 county lists still
    match (README), and for every CBSA of the 2018 county table (the March 2020 delineation's counties)."""
    parsed = delineations.parse(REAL_DATA)
    land, cbsa = parsed.land["census-gazetteer-2020-counties"], parsed.files["2020"]
    def same(vintage):
        return sum(1 for code, area in parsed.files[vintage].items() if code in cbsa and area.counties <= land.keys()
                   and sum(land[c] for c in area.counties) == cbsa[code].land)
    assert same("2013") == 791
    assert same("2018") == len(parsed.files["2018"]) == 927
    # every county of the 2013 list is in the 2010 file, Bedford city (51515, Lynchburg) included; every county of
    # the 2023 list is in the 2020 file
    listed_2013 = [c for a in parsed.files["2013"].values() for c in a.counties]
    listed_2023 = [c for a in parsed.files["2023"].values() for c in a.counties]
    assert (len(listed_2013), len(parsed.files["2013"]), len(listed_2023), len(parsed.files["2023"])) == (
        1882, 929, 1834, 918)
    assert set(listed_2013) <= parsed.land["census-gazetteer-2010-counties"].keys()
    assert set(listed_2023) <= land.keys()
    assert "51515" in listed_2013 and "51515" not in land


def test_the_universe_of_2010_has_the_metros_of_2010(engine):
    with Session(engine) as session:
        metros_2010 = {r.code: r for r in session.execute(in_force(2010))}
        metros_2023 = {r.code for r in session.execute(in_force(2023))}
        in_2019 = session.execute(in_force(2019)).all()
    for code in ("19060", "19180", "19260", "38220"):  # Cumberland, Danville IL, Danville VA, Pine Bluff
        assert code in metros_2010 and code not in metros_2023
    assert len(metros_2010) == 374 and len(metros_2023) == 395
    assert metros_2010["19060"].title == "Cumberland, MD-WV" and metros_2010["19060"].vintage == "2009"
    # the 2018 delineation's metros with March 2020's Puerto Rico: the 2020 file's metro land exactly
    assert (len(in_2019), sum(r.territory == "PR" for r in in_2019)) == (392, 8)
    assert sum(r.land_area_m2 for r in in_2019) == 2_569_927_064_324


def test_ita_blanks_in_years_the_area_was_not_metropolitan(engine):
    """Poughkeepsie inside New York 2013-17, Yauco inside Ponce 2013-17, Sandusky micropolitan 2013-22: not
    suppressed but not available, with the reason; the 2012-2021 edition agrees."""
    o, g = Observation, Geography
    with Session(engine) as session:
        rows = session.execute(select(g.code, o.dataset_id, o.year, o.value, o.status, o.note).join(
            g, g.id == o.geography_id).where(g.code.in_(["39100", "49500", "41780"]), o.dataset_id.like("ita%"),
                                             o.value.is_(None), o.year.between(2013, 2022))).all()
        suppressed_elsewhere = session.scalar(select(func.count()).select_from(o).where(
            o.dataset_id == "ita-metro-exports", o.status == "suppressed"))
        disagree = session.scalar(text(
            "SELECT count(*) FROM observations a JOIN observations b ON a.geography_id = b.geography_id "
            "AND a.year = b.year AND a.indicator = b.indicator WHERE a.dataset_id = 'ita-metro-exports' "
            "AND b.dataset_id = 'ita-metro-exports-2012-2021' AND a.value IS NULL "
            "AND (a.status != b.status OR coalesce(a.note, '') != coalesce(b.note, ''))"))
    main = {(r.code, r.year): (r.status, r.note) for r in rows if r.dataset_id == "ita-metro-exports"}
    assert sorted(main) == sorted([*(("39100", y) for y in range(2013, 2018)), *(("49500", y) for y in range(2013, 2018)),
                                   *(("41780", y) for y in range(2013, 2023))])
    assert {status for status, _ in main.values()} == {"not_available"}
    assert main["39100", 2015][1] == (
        "Not a CBSA in the 2015 (TIGER CBSA layer, 2015-2017) delineation, in force for 2015: the February 2013 "
        "delineation had put its counties in New York-Newark-Jersey City, NY-NJ (35620).")
    assert main["49500", 2013][1] == (
        "Not a CBSA in the February 2013 delineation, in force for 2013, which put its counties in Ponce, PR (38660).")
    assert main["41780", 2022][1] == "Sandusky, OH was a micropolitan area in the March 2020 delineation, in force for 2022."
    history = {(r.code, r.year): (r.status, r.note) for r in rows if r.dataset_id != "ita-metro-exports"}
    assert history == {key: value for key, value in main.items() if key[1] <= 2021}
    assert suppressed_elsewhere == 59 and disagree == 0  # 79 before: these 20 were labelled suppressed


def test_retired_codes_name_their_successors(engine):
    with Session(engine) as session:
        def heir(code):
            geo = session.scalars(select(Geography).where(Geography.kind == "metro", Geography.code == code)).one()
            found = session.execute(successor(geo.id)).first()
            return found.code if found else None
        # Dayton: Brookings 2017 (2013 codes) has 19380, ITA and Metro Monitor 19430
        assert heir("19380") == "19430"
        assert figure(engine, "brookings-export-monitor-2018", "metro", "19380", 2017, "exports_goods_services")[1] == "ok"
        assert [heir(c) for c in ("11300", "31100", "39100", "49500", "21940", "37380")] == [
            "26900", "31080", "28880", None, "41980", "19660"]  # Yauco is current again (March 2020)
        retired = session.scalar(select(func.count()).select_from(Geography).where(
            Geography.kind == "metro", Geography.current.is_(False)))
        unmapped = session.execute(select(Geography.metro_type, func.count()).where(
            Geography.kind == "metro", Geography.current.is_(False), Geography.successor_id.is_(None)).group_by(
            Geography.metro_type)).all()
    # the unmapped are micropolitan areas whose counties left every CBSA, and Adjuntas, PR (no Puerto Rico county
    # list after 2013)
    assert retired == 120 and unmapped == [("micropolitan", 38)]


def test_search_on_real_titles(engine):
    with Session(engine) as session:
        def found(q, **kw):
            return [g.code for g in session.scalars(metros(q, **kw).order_by(Geography.code))]
        assert found("Saint Louis") == found("St. Louis") == ["41180"]
        assert found("Ft. Myers") == found("fort myers") == ["15980"]
        assert found("Mt. Vernon") == found("Mount Vernon") == ["34500", "34540", "34580"]
        assert found("Z-Other Metropolitan Areas", kinds=LISTED) == ["other-metro"]


def test_national_denominators_over_each_territory(engine, ita_sheet):
    assert national_land(engine, "population", STATES, 2019) == (328_239_523, 1)
    assert national_land(engine, "population", WITH_PR, 2019) == (328_239_523 + 3_193_694, 2)
    header, rows = ita_sheet
    column = header.index("2019")
    assert national_land(engine, "exports_goods", WITH_PR, 2019) == (
        sum(r[column] for r in rows if r[column] is not None), sum(r[column] is not None for r in rows))
