"""The store built from the real source files, cross-checked against the files' own totals."""

import csv
from collections import Counter, defaultdict

import openpyxl
import pytest
from helpers import REAL_DATA, figure
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Dataset, Geography, Observation

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
