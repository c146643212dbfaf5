"""Loaders on the fixtures in tests/data: figures, mapping, provenance, idempotence and atomicity."""

import json

import openpyxl
import pytest
from helpers import FIXTURES, REAL_DATA, figure, rejection, scratch_store, snapshot
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loaders import SourceError, build
from loaders.census import hierarchy
from loaders.files import sha256
from loaders.indicators import given_to_two_areas
from loaders.places import Places
from models import Dataset, Geography, Industry, Observation, Partner
from models.delineation import CbsaDelineation
from models.observation import partner_code


def test_ita_figures_are_dollars_and_blanks_are_null_with_a_status(engine):
    assert figure(engine, "ita-metro-exports", "metro", "10180", 2005) == (28155182, "ok")
    assert figure(engine, "ita-metro-exports", "metro", "38900", 2023) == (26973156822, "ok")
    # Yuma: 2014-2016 blank between reported years → suppressed; Anderson IN: blank after 2012 → not_available
    assert figure(engine, "ita-metro-exports", "metro", "49740", 2015) == (None, "suppressed")
    assert figure(engine, "ita-metro-exports", "metro", "11300", 2013) == (None, "not_available")
    assert figure(engine, "ita-metro-exports", "metro", "47930", 2022) == (None, "not_available")


def test_ita_titles_map_through_delineations_and_crosswalk(engine):
    assert figure(engine, "ita-metro-exports", "metro", "10380", 2005)[0] == 1810678977  # crosswalk: Aguadilla, PR
    assert figure(engine, "ita-metro-exports", "metro", "32420", 2006)[0] == 503143368  # Mayaguez → Mayagüez (2015)
    assert figure(engine, "ita-metro-exports", "metro", "11300", 2012)[0] == 103393736  # Anderson, IN (2009 only)
    assert figure(engine, "ita-metro-exports", "metro", "47930", 2023)[0] == 1790735311  # Waterbury-Shelton (2023)


def test_ita_unallocated_rows_are_kept(engine):
    assert figure(engine, "ita-metro-exports", "unallocated", "crossovers", 2005) == (20329445097, "ok")
    assert figure(engine, "ita-metro-exports", "unallocated", "non-metro", 2023) == (233550191754, "ok")
    assert figure(engine, "ita-metro-exports", "unallocated", "other-metro", 2006) == (9809282512, "ok")
    assert figure(engine, "ita-metro-exports", "unallocated", "unknown", 2008) == (49504459644, "ok")
    assert figure(engine, "ita-metro-exports", "unallocated", "unknown", 2009) == (None, "not_available")


def test_ita_row_count_is_every_row_times_every_year(engine):
    with Session(engine) as session:
        dataset = session.get(Dataset, "ita-metro-exports")
    assert dataset.row_count == 15 * 19
    assert dataset.sha256 == sha256(FIXTURES / "ita" / "ITA_MSA_Export_Series.xlsx")
    assert dataset.unit == "USD" and dataset.dollar_basis == "nominal"
    assert "'Millions of USD' but its values are US dollars" in dataset.notes


def test_ita_history_is_cross_checked_and_rounded_values_marked(engine):
    with Session(engine) as session:
        history = session.get(Dataset, "ita-metro-exports-2012-2021")
    assert "60 figures agree, 0 differ, 0 have no counterpart" in history.notes
    assert figure(engine, "ita-metro-exports-2012-2021", "unallocated", "non-metro", 2012) == (1.8509e11, "rounded")
    assert figure(engine, "ita-metro-exports-2012-2021", "metro", "10380", 2012) == (637088739, "ok")


def test_metros_carry_titles_types_states_and_land_area(engine):
    with Session(engine) as session:
        portland = session.scalars(select(Geography).where(Geography.code == "38900")).one()
        aguadilla = session.scalars(select(Geography).where(Geography.code == "10380")).one()
        assert portland.name == "Portland-Vancouver-Hillsboro, OR-WA"
        assert portland.metro_type == "metropolitan" and portland.delineation == "2023"
        assert portland.usps_list == ["OR", "WA"]
        land = dict(session.execute(select(CbsaDelineation.vintage, CbsaDelineation.land_area_m2)
                                    .where(CbsaDelineation.geography_id == portland.id)).all())
        assert land["2015"] == 17318309512  # TIGER 2015 ALAND: each delineation's land, none on the geography
        assert aguadilla.name == "Aguadilla, PR" and aguadilla.delineation == "2023"
        assert aguadilla.former_titles == ["Aguadilla-Isabela, PR", "Aguadilla-Isabela-San Sebastián, PR"]


def test_census_usa_trade_2012(engine):
    assert figure(engine, "census-state-exports-2012", "nation", "US", 2012) == (1545820839892, "ok")
    assert figure(engine, "census-state-exports-2012", "state", "41", 2012, industry="336") == (1159742188, "ok")
    assert figure(engine, "census-state-exports-2012", "state", "11", 2012) == (2014104361, "ok")  # Dist of Columbia
    assert figure(engine, "census-state-exports-2012", "state", "78", 2012) == (867387121, "ok")  # US Virgin Islands
    assert figure(engine, "census-state-exports-2012", "unallocated", "unknown", 2012) == (47950281362, "ok")
    with Session(engine) as session:
        assert session.get(Industry, "3361").title == "Motor Vehicles"
        assert session.get(Industry, "3361").level == 4


def test_census_statenaics_csv(engine):
    assert figure(engine, "census-state-exports-2013-2018", "state", "06", 2018) == (178162663737, "ok")
    assert figure(engine, "census-state-exports-2013-2018", "state", "41", 2013, industry="31-33") == (
        15548260492, "ok")
    with Session(engine) as session:
        assert session.get(Industry, "31-33").level == 2


def test_census_api_json_shape(engine):
    dataset = "census-api-statenaics-2019-or"
    assert figure(engine, dataset, "state", "41", 2019) == (22845120417, "ok")
    assert figure(engine, dataset, "state", "41", 2019, industry="336", partner="CAN") == (301477180, "ok")
    assert figure(engine, dataset, "unallocated", "unknown", 2019) == (4178013, "ok")
    assert figure(engine, dataset, "nation", "US", 2019) == (1645173690047, "ok")
    with Session(engine) as session:
        assert session.get(Partner, "CAN").name == "Canada"
        assert session.scalar(partner_code("1220")) == "CAN"  # the Census code stays Canada's
        assert session.get(Dataset, dataset).row_count == 5  # the June row is not annual and is skipped


def test_metro_monitor_conflicts_aggregates_and_derived_population(engine):
    assert figure(engine, "metro-monitor-2021", "metro", "10180", 2019, "jobs") == (78880.617, "ok")
    # 28780 is listed for two areas: see test_metro_monitor_code_given_to_two_areas_is_conflicting...
    assert figure(engine, "metro-monitor-2021", "metro", "28780", 2017, "real_gdp") == (None, "conflicting")
    assert figure(engine, "metro-monitor-2021", "metro", "10180", 2019, "population") == (
        round(9284855808 / 53962.895), "derived")
    assert figure(engine, "metro-monitor-2021", "metro", "10180", 2019, "population")[0] == 172060
    assert figure(engine, "metro-monitor-2021", "nation", "US", 2019, "jobs")[1] == "ok"


def test_population_estimates(engine):
    assert figure(engine, "census-population-2019", "metro", "10180", 2019, "population") == (172060, "ok")
    assert figure(engine, "census-population-2019", "metro", "10180", 2010, "population_census") == (165252, "ok")
    assert figure(engine, "census-population-2019", "state", "72", 2019, "population") == (3193694, "ok")
    assert figure(engine, "census-population-2019", "metro", "32420", 2019, "population") == (94975, "ok")
    assert figure(engine, "census-population-2019", "nation", "US", 2019, "population") == (328239523, "ok")


def test_brookings_millions_become_whole_dollars(engine):
    assert figure(engine, "brookings-export-monitor-2018", "metro", "10180", 2017, "exports_goods_services") == (
        681149475, "ok")
    assert figure(engine, "brookings-export-monitor-2018", "unallocated", "rest-of-41", 2017,
                  "exports_goods_services") == (454047974, "ok")
    assert figure(engine, "brookings-export-monitor-2018", "metro", "38900", 2017, "exports_share_of_gdp") == (
        0.126413911581039, "ok")


def test_second_build_changes_nothing(engine):
    before = snapshot(engine)
    with Session(engine) as session:
        loaded_at = session.get(Dataset, "ita-metro-exports").loaded_at
    results = build(engine, FIXTURES)
    assert {r.status for r in results} == {"unchanged"}
    assert snapshot(engine) == before
    with Session(engine) as session:
        assert session.get(Dataset, "ita-metro-exports").loaded_at == loaded_at


def test_forced_rebuild_gives_the_same_store(engine):
    before = snapshot(engine)
    results = build(engine, FIXTURES, force=True)
    assert {r.status for r in results} == {"loaded"}
    assert snapshot(engine) == before


def _edit_csv(path, old, new):
    text = path.read_text(encoding="utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _edit_xlsx(path, cell, value):
    book = openpyxl.load_workbook(path)
    book.active[cell] = value
    book.save(path)


BAD_FILES = {
    "wrong header": (lambda d: _edit_csv(d / "brookings/cbsa_export.csv", "cbsa_exports_nominal", "exports"),
                     "cbsa_export.csv, line 1: header lacks column(s) ['cbsa_exports_nominal']"),
    "non-numeric cell": (lambda d: _edit_csv(d / "census/Census_StateExport_2013_2018.csv", "15548260492.0", "n/a"),
                         "Census_StateExport_2013_2018.csv, line 2, column Value: 'n/a' is not a number"),
    "non-numeric xlsx cell": (lambda d: _edit_xlsx(d / "ita/ITA_MSA_Export_Series.xlsx", "D2", "12,3x"),
                              "ITA_MSA_Export_Series.xlsx, line 2, column D: '12,3x' is not a number"),
    "unknown title": (lambda d: _edit_xlsx(d / "ita/ITA_MSA_Export_Series.xlsx", "A3", "Atlantis, ZZ"),
                      ("ITA_MSA_Export_Series.xlsx: 1 title(s) match no delineation or crosswalk entry: "
                      "line 3: 'Atlantis, ZZ'")),
    "truncated file": (lambda d: (d / "brookings/cbsa_export.csv").write_text(
        (FIXTURES / "brookings/cbsa_export.csv").read_text()[:-60]),
        "cbsa_export.csv, line 6: row has 3 fields, expected 6 (truncated file?)"),
    "unknown state": (lambda d: _edit_csv(d / "census/Census_USATradeExport_2012.csv", '"Oregon"', '"Oregano"'),
                      "Census_USATradeExport_2012.csv, line 7, column State: unknown state 'Oregano'"),
    "missing file": (lambda d: (d / "indicators/cbsa-met-est2019-annres.xlsx").unlink(),
                     "cbsa-met-est2019-annres.xlsx: file not found"),
    "bad JSON": (lambda d: (d / "census/statenaics_2019_or.json").write_text('[["STATE"], ["OR"'),
                 "statenaics_2019_or.json: not a JSON array of arrays"),
    # The 2020 county file re-saved as Latin-1, like the 2010 one: Doña Ana's ñ is byte 0xF1
    "Latin-1 where UTF-8 is published": (
        lambda d: _edit_bytes(d / "geography/2020_Gaz_counties_national.txt", "Doña".encode(), "Doña".encode("cp1252")),
        "2020_Gaz_counties_national.txt, line 26: not utf-8 text (byte 0xf1 at position 21)"),
    "missing Gazetteer file": (lambda d: (d / "geography/2020_Gaz_cbsa_national.txt").unlink(),
                               "2020_Gaz_cbsa_national.txt: file not found"),
    "Gazetteer row cut short": (
        lambda d: _edit_bytes(d / "geography/Gaz_counties_national.txt", b"\t7459\t2183\t", b"\t7459\t"),
        "Gaz_counties_national.txt, line 2: row has 11 fields, expected 12"),
    "Gazetteer land not a number": (
        lambda d: _edit_bytes(d / "geography/2025_Gaz_state_national.txt", b"|248630742196|", b"|2.486E+11|"),
        "2025_Gaz_state_national.txt, line 13, column ALAND: '2.486E+11' is not a whole number of square metres"),
    "Gazetteer header without ALAND": (
        lambda d: _edit_bytes(d / "geography/2020_Gaz_cbsa_national.txt", b"\tALAND\t", b"\tLAND\t"),
        "2020_Gaz_cbsa_national.txt, line 1: header lacks column(s) ['ALAND']"),
    "county in two CBSAs": (lambda d: _edit_csv(d / "delineation/cbsa_2023.csv", "48273,28780", "48441,28780"),
                            "cbsa_2023.csv, line 35, column GEOID: county 48441 is listed in 28780 and 10180"),
    "county missing from the Gazetteer": (
        lambda d: _drop_line(d / "geography/2020_Gaz_counties_national.txt", b"\t39113\t"),
        ("cbsa_2023.csv: counties ['39113'] of 19430 'Dayton-Kettering-Beavercreek, OH' are not in the Gazetteer "
        "county file of census-gazetteer-2020-counties")),
    "2009 counties whose land is not the CBSA's": (
        lambda d: _edit_csv(d / "delineation/tl_2012_us_cbsa_attributes.csv", "1170457634", "1270457634"),
        ("cbsa_2009_counties.csv, line 5, column counties: the counties' 2010 land 1170454727 m² is not the TIGER "
        "land 1270457634 m² of 11300 (within 0.1%)")),
}


def _edit_bytes(path, old, new):
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))


def _drop_line(path, marker):
    lines = path.read_bytes().split(b"\n")
    assert sum(marker in line for line in lines) == 1
    path.write_bytes(b"\n".join(line for line in lines if marker not in line))


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_file_is_rejected_with_place_and_reason_and_store_unchanged(engine, data_copy, case):
    breaks, message = BAD_FILES[case]
    breaks(data_copy)
    assert rejection(engine, data_copy).startswith(message)


def test_census_api_json_rows_must_match_the_header(engine, data_copy):
    path = data_copy / "census/statenaics_2019_or.json"
    rows = json.loads(path.read_text())
    rows[2] = rows[2][:-1]
    path.write_text(json.dumps(rows))
    with pytest.raises(SourceError, match=r"statenaics_2019_or.json, line 3: row has 8 values, expected 9"):
        build(engine, data_copy, force=True)


def test_census_api_download_then_load(app, tmp_path, engine):
    """`flask data census-api` against a local stand-in for api.census.gov, then a build loads the file."""
    import http.server
    import threading

    answer = (FIXTURES / "census" / "statenaics_2019_or.json").read_bytes()
    asked = []

    class Census(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Census)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = app.test_cli_runner().invoke(args=[
            "data", "census-api", "statenaics", "2019", "--key", "k", "--data-dir", str(tmp_path),
            "--base-url", f"http://127.0.0.1:{server.server_port}/exports"])
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert asked == [("/exports/statenaics?get=STATE%2CNAICS%2CNAICS_LDESC%2CCTY_CODE%2CCTY_NAME%2CALL_VAL_YR"
                     "&YEAR=2019&MONTH=12&key=k")]
    saved = tmp_path / "census" / "statenaics_2019.json"
    assert saved.read_bytes() == answer
    from loaders.census import api_source, parse_api_json
    from loaders.partners import Partners
    from loaders.places import Places
    with Session(engine) as session:
        rows = parse_api_json(saved, Places(session), {}, Partners())
    assert api_source(saved).id == "census-api-statenaics-2019"
    assert len(rows) == 5 and rows.rejects == {"not an annual (December year-to-date) row": 1}


def test_metro_monitor_code_given_to_two_areas_is_conflicting_even_where_the_rows_agree(engine):
    # The file lists 28780 as Kingsville, TX and as Las Vegas, NM (whose code is 29780): jobs and wages agree
    # between the two, GDP and output per person do not; no figure of 28780 can be told to be Kingsville's.
    for indicator in ("jobs", "average_annual_wage", "real_gdp", "output_per_person", "population"):
        assert figure(engine, "metro-monitor-2021", "metro", "28780", 2017, indicator) == (None, "conflicting")
    with Session(engine) as session:
        rows = session.execute(select(Observation.status, func.count()).join(Geography).where(
            Observation.dataset_id == "metro-monitor-2021", Geography.code == "28780").group_by(Observation.status))
        assert dict(rows.all()) == {"conflicting": 3 * 5}  # 2017-2019 x jobs, GDP, wage, output, population
    assert figure(engine, "metro-monitor-2021", "metro", "10180", 2019, "jobs") == (78880.617, "ok")


@pytest.mark.parametrize(("code", "titles", "two"), [
    ("28780", {"Kingsville, TX Micropolitan Statistical Area", "Las Vegas, NM Micropolitan Statistical Area"}, True),
    ("28780", {"Kingsville, TX Micropolitan Statistical Area", "Kingsville, TX Micropolitan Statistical Area "}, False),
    ("38900", {"Portland-Vancouver-Hillsboro, OR-WA Metropolitan Statistical Area",
               "Portland-Vancouver, OR-WA Metropolitan Statistical Area"}, False),  # a variant of the same area
    ("38900", {"Portland-Vancouver-Hillsboro, OR-WA Metropolitan Statistical Area",
               "Portland-South Portland, ME Metropolitan Statistical Area"}, True),
    ("49740", {"Yuma, AZ Metropolitan Statistical Are", "Yuma, AZ Metropolitan Statistical Area"}, False),
])
def test_titles_of_two_areas(engine, code, titles, two):
    with Session(engine) as session:
        assert given_to_two_areas(Places(session), code, titles) is two


@pytest.mark.realdata
def test_metro_monitor_real_file_gives_only_28780_to_two_areas(real_app):
    import csv

    from loaders.indicators import GROWTH_FILE, PROSPERITY_FILE
    titles: dict[str, set[str]] = {}
    for name, column in ((GROWTH_FILE, "cbsa"), (PROSPERITY_FILE, "cbsa_code")):
        with open(REAL_DATA / name, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                titles.setdefault(row[column], set()).add(row["cbsa_name"])
    engine = real_app.extensions["store_engine"]
    with Session(engine) as session:
        places = Places(session)
        shared = [c for c, names in titles.items() if places.id("metro", c) and given_to_two_areas(places, c, names)]
        # Codes listed under two titles of one area (spacing, 'Macon-Bibb' for 'Macon-Bibb County', a retitling)
        assert sorted(c for c, names in titles.items() if len(names) > 1 and c not in shared) == [
            "12420", "13980", "14740", "19430", "20140", "21660", "30940", "31420", "31860", "33940", "40900", "41860",
            "49260", "99997"]
        # Every CBSA's own delineation titles are one area
        own = session.execute(select(Geography.code, Geography.titles).where(Geography.kind == "metro")).all()
        assert [c for c, t in own if given_to_two_areas(places, c, set(t.values()))] == []
        statuses = session.execute(select(Observation.status, func.count()).join(Geography).where(
            Observation.dataset_id == "metro-monitor-2021", Geography.code == "28780").group_by(Observation.status))
        assert dict(statuses.all()) == {"conflicting": 11 * 6}  # 2009-2019 x five indicators and population
    assert shared == ["28780"]
    # Las Vegas, NM under its own code keeps its own figures
    assert figure(engine, "metro-monitor-2021", "metro", "29780", 2009, "jobs") == (9906.2246, "ok")
    assert figure(engine, "metro-monitor-2021", "metro", "29780", 2009, "real_gdp") == (771178048, "ok")


def test_industries_have_parents_and_ranges_are_aggregates(engine, client):
    with Session(engine) as session:
        links = {i.code: (i.level, i.parent, i.aggregate) for i in session.scalars(select(Industry))}
    assert links == {
        "ALL": (0, None, False), "31-33": (2, "ALL", True), "11": (2, "ALL", False), "21": (2, "ALL", False),
        "31": (2, "31-33", False), "32": (2, "31-33", False), "33": (2, "31-33", False), "91": (2, "ALL", False),
        "93": (2, "ALL", False), "98": (2, "ALL", False), "99": (2, "ALL", False), "336": (3, "33", False),
        "3361": (4, "336", False)}
    body = client.get("/v1/industries?level=2&page_size=20").get_json()
    assert [(i["code"], i["parent"], i["aggregate"]) for i in body["data"]][:4] == [
        ("11", "ALL", False), ("21", "ALL", False), ("31", "31-33", False), ("31-33", "ALL", True)]


def test_a_naics_level_adds_up_to_all_industries_without_double_counting(client):
    # Oregon 2018 (rows cut from the real file): 11 + 21 + 31 + 32 + 33 + 91 + 93 + 98 + 99 = ALL, to the dollar;
    # 31-33 (= 31 + 32 + 33) would count manufacturing twice.
    total = client.get("/v1/states/OR/exports?from=2018&to=2018&dataset=census-state-exports-2013-2018").get_json()
    level = client.get("/v1/states/OR/exports?naics_level=2&from=2018&dataset=census-state-exports-2013-2018")
    parts = {p["industry"]: p["value"] for p in level.get_json()["data"]}
    assert total["data"][0]["value"] == 22331756938 == sum(parts.values())
    assert parts["31"] + parts["32"] + parts["33"] == 19713656031  # the file's 31-33
    assert "31-33" not in parts


@pytest.mark.parametrize(("codes", "expected"), [
    ({"ALL", "31-33", "336"}, {"ALL": (None, False), "31-33": ("ALL", False), "336": ("31-33", False)}),
    ({"ALL", "44-45", "44", "441", "4411"}, {"ALL": (None, False), "44-45": ("ALL", True), "44": ("44-45", False),
                                             "441": ("44", False), "4411": ("441", False)}),
    ({"ALL", "48-49", "4811", "910", "9100"}, {"ALL": (None, False), "48-49": ("ALL", False),
                                               "4811": ("48-49", False), "910": ("ALL", False),
                                               "9100": ("910", False)}),
    ({"ALL", "31-33", "HS31", "HS3101"}, {"ALL": (None, False), "31-33": ("ALL", False), "HS31": ("ALL", False),
                                          "HS3101": ("HS31", False)}),
])
def test_industry_hierarchy(codes, expected):
    assert hierarchy(codes) == expected


@pytest.mark.realdata
def test_each_naics_level_adds_up_to_all_industries_on_the_real_files(real_app):
    from models.observation import EXPORTS, series
    engine = real_app.extensions["store_engine"]
    checked, levels = 0, {}
    with Session(engine) as session:
        assert session.get(Industry, "31-33").aggregate and session.get(Industry, "33").parent == "31-33"
        places = session.scalars(select(Geography).where(Geography.kind.in_(["nation", "state", "unallocated"])))
        for geo in places:
            for dataset in ("census-state-exports-2012", "census-state-exports-2013-2018"):
                total = {r.year: r.value for r in session.execute(series(geo.id, EXPORTS, dataset))}
                for level in (2, 3, 4):
                    sums = {}
                    for r in session.execute(series(geo.id, EXPORTS, dataset, naics_level=level)):
                        sums[r.year] = sums.get(r.year, 0) + (r.value or 0)
                    for year, value in sums.items():
                        assert value == total[year], (geo.code, dataset, level, year)
                        checked += 1
                        levels.setdefault(dataset, set()).add(level)
    # The 2012 file has 3- and 4-digit codes only; 2013-2018 has 2 to 4 digits. Every sum is exact to the dollar.
    assert levels == {"census-state-exports-2012": {3, 4}, "census-state-exports-2013-2018": {2, 3, 4}}
    assert checked == 55 * 2 + 51 * 6 * 3


def test_a_store_built_by_code_with_other_tables_is_rebuilt_from_scratch(tmp_path_factory):
    """A store whose schema version is not the code's (built before a table changed, or before versions were
    kept) is dropped and built anew in the build's transaction, orphan tables included."""
    from sqlalchemy import inspect, text

    from loaders import SCHEMA
    from models.engine import create_store_engine

    with scratch_store(tmp_path_factory, "schema") as url:
        engine = create_store_engine(url)
        build(engine, FIXTURES)
        expected = snapshot(engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE retired_table (id INTEGER)"))
            connection.execute(text("ALTER TABLE store_state DROP COLUMN schema"))
        results = build(engine, FIXTURES)
        assert {r.status for r in results} == {"loaded"}
        assert snapshot(engine) == expected
        assert not inspect(engine).has_table("retired_table")
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT schema FROM store_state")) == SCHEMA
        assert {r.status for r in build(engine, FIXTURES)} == {"unchanged"}  # and then it is the code's store
        engine.dispose()
