"""Units, growth, rankings, the national summary and concentration, over the fixtures and the real data."""

import openpyxl
import pytest
from helpers import FIXTURES, REAL_DATA
from sqlalchemy import text

from loaders import build

# ITA goods exports in 2023 and 2013 of the fixture rows (cut verbatim from the real xlsx)
METROS_2023 = {"31080": 59561594613, "38900": 26973156822, "33460": 22209368013, "45060": 2411674252,
               "47930": 1790735311, "38860": 1256807033, "49740": 734844797, "10380": 443685042,
               "10180": 93931822, "32420": 45429442}
UNALLOCATED_2023 = {"non-metro": 233550191754, "other-metro": 18964862112}
METROS_2013 = {"31080": 76305733816, "38900": 17606844113, "33460": 23747451055, "45060": 1753333240,
               "38860": 880960291, "49740": 460274194, "10380": 665171086, "10180": 66958538, "32420": 7437705}
UNALLOCATED_2013 = {"non-metro": 174718021653, "other-metro": 5453324210}
NATIONAL_2023 = sum(METROS_2023.values()) + sum(UNALLOCATED_2023.values())


def test_exports_in_units(client):
    body = client.get("/v1/metros/38900/exports?units=percent_change&from=2022&to=2023").get_json()
    assert [(p["year"], p["value"], p["level"]) for p in body["data"]] == [
        (2022, round(100 * (34368003214 - 33787471258) / 33787471258, 6), 34368003214),
        (2023, round(100 * (26973156822 - 34368003214) / 34368003214, 6), 26973156822)]
    body = client.get("/v1/metros/38900/exports?units=index&base_year=2005&from=2023").get_json()
    assert body["data"][0]["value"] == round(100 * 26973156822 / 11202081090, 6)
    assert body["units_basis"][0]["base_value"] == 11202081090
    body = client.get("/v1/metros/38900/exports?units=change&from=2006&to=2006").get_json()
    assert body["data"][0]["value"] == 14580633540 - 11202081090


def test_share_of_the_national_total_names_its_denominator(client):
    body = client.get("/v1/metros/38900/exports?units=share&from=2023").get_json()
    assert body["data"][0]["value"] == round(100 * 26973156822 / NATIONAL_2023, 6)
    basis = body["units_basis"][0]
    assert basis["denominator_values"] == {"2023": NATIONAL_2023}
    assert basis["denominator"].startswith("the sum of every place in ita-metro-exports")
    body = client.get("/v1/states/OR/exports?units=share&dataset=census-state-exports-2012").get_json()
    assert body["data"][0]["value"] == round(100 * 18387857493 / 1545820839892, 6)
    assert body["units_basis"][0]["denominator"] == "the United States row of census-state-exports-2012"


def test_index_without_a_base_figure_is_null_with_a_reason(client):
    body = client.get("/v1/metros/49740/exports?units=index&base_year=2015&from=2016&to=2017").get_json()
    assert [p["value"] for p in body["data"]] == [None, None]
    assert body["units_basis"][0]["reason"] == "no figure for the base year 2015"


def test_metro_growth(client):
    body = client.get("/v1/metros/38900/growth?from=2012&to=2022").get_json()
    change = body["change"]
    assert (change["start_value"], change["end_value"]) == (20337729876, 34368003214)
    assert change["absolute"] == 34368003214 - 20337729876
    assert change["percent"] == round(100 * (34368003214 / 20337729876 - 1), 6)
    assert change["cagr"] == round(100 * ((34368003214 / 20337729876) ** (1 / 10) - 1), 6)
    assert "OMB revised the metro definitions (2013, 2018)" in body["caveats"][0]
    body = client.get("/v1/metros/49740/growth?from=2013&to=2015").get_json()
    assert body["change"]["cagr"] is None and body["change"]["reasons"] == ["no figure for 2015 (suppressed)"]
    body = client.get("/v1/metros/38900/growth?from=2012").get_json()  # to: the dataset's last year
    assert (body["change"]["end_year"], body["change"]["end_value"]) == (2023, 26973156822)


def test_state_growth_across_datasets_says_so(client):
    body = client.get("/v1/states/CA/growth?from=2012&to=2018").get_json()
    assert body["change"]["start_value"] == 161757310648 and body["change"]["end_value"] == 178162663737
    assert body["caveats"] == [("The start and end figures come from different datasets (census-state-exports-2012, "
                               "census-state-exports-2013-2018).")]


def test_metro_ranking_by_value(client):
    body = client.get("/v1/rankings/metros?year=2023&limit=3").get_json()
    assert [(r["rank"], r["code"], r["value"]) for r in body["data"]] == [
        (1, "31080", 59561594613), (2, "38900", 26973156822), (3, "33460", 22209368013)]
    assert body["ranked"] == len(METROS_2023)
    assert body["excluded"] == [{"code": "11300", "name": "Anderson, IN",
                                 "reason": "no figure for 2023 (not_available)", "reason_code": "not_available"}]
    assert body["ties"].startswith("Competition ranking ('1224')")


def test_metro_ranking_by_growth_with_min_base(client):
    body = client.get("/v1/rankings/metros?by=growth&from=2013&to=2023&min_base=1000000000").get_json()
    growth = {c: round(100 * (METROS_2023[c] / METROS_2013[c] - 1), 6) for c in ("31080", "38900", "33460", "45060")}
    assert [(r["code"], r["value"]) for r in body["data"]] == sorted(growth.items(), key=lambda kv: -kv[1])
    reasons = {e["code"]: e["reason"] for e in body["excluded"]}
    assert reasons["47930"] == "no figure for 2013 (not_available)"
    assert reasons["38860"] == "base 880960291 is below min_base 1000000000"
    assert body["excluded_count"] == len(body["excluded"]) == 7


def test_ranking_csv_and_errors(client):
    text = client.get("/v1/rankings/metros?year=2023&limit=2&format=csv").get_data(as_text=True)
    assert text == ("rank,code,name,value,start_value,end_value\r\n"
                    "1,31080,\"Los Angeles-Long Beach-Anaheim, CA\",59561594613,,59561594613\r\n"
                    "2,38900,\"Portland-Vancouver-Hillsboro, OR-WA\",26973156822,,26973156822\r\n")
    body = client.get("/v1/rankings/metros?by=cagr&from=2023").get_json()  # to defaults to 2023 as well
    assert body["status"] == 400 and body["errors"] == {"from": ["must be before 'to' (2023)"]}


def test_state_ranking_by_share(client):
    body = client.get("/v1/rankings/states?by=share&year=2012").get_json()
    assert [(r["code"], r["value"]) for r in body["data"]] == [
        ("06", round(100 * 161757310648 / 1545820839892, 6)), ("72", round(100 * 18689534048 / 1545820839892, 6)),
        ("41", round(100 * 18387857493 / 1545820839892, 6)), ("11", round(100 * 2014104361 / 1545820839892, 6)),
        ("78", round(100 * 867387121 / 1545820839892, 6))]
    assert body["denominator"] == "the United States row of census-state-exports-2012"


def test_national_summary_with_and_without_unallocated(client):
    body = client.get("/v1/stats/summary?year=2023&base_year=2013&threshold=1000000000").get_json()
    metros, everything = body["metros_only"], body["with_unallocated"]
    assert body["national_total"] == NATIONAL_2023
    assert (metros["total"], metros["base_total"]) == (sum(METROS_2023.values()), sum(METROS_2013.values()))
    assert metros["places_with_figure"] == 10 and metros["above_threshold"] == 6
    assert metros["share_of_national_total"] == round(100 * sum(METROS_2023.values()) / NATIONAL_2023, 6)
    assert everything["total"] == NATIONAL_2023 and everything["share_of_national_total"] == 100.0
    assert everything["base_total"] == sum(METROS_2013.values()) + sum(UNALLOCATED_2013.values())
    assert everything["above_threshold"] == 8
    assert everything["change"]["percent"] == round(100 * (NATIONAL_2023 / everything["base_total"] - 1), 6)
    assert "unallocated rows left out" in metros["rows"] and "national total" in everything["rows"]
    assert [(u["code"], u["value"]) for u in body["unallocated"]] == [
        ("crossovers", None), ("non-metro", 233550191754), ("other-metro", 18964862112), ("unknown", None)]


def test_concentration(client):
    body = client.get("/v1/stats/concentration?top=2&rank_by=population&year=2019").get_json()
    assert [(m["code"], m["value"]) for m in body["members"]] == [("31080", 13214799), ("38900", 2492412)]
    shares = {s["measure"]: s for s in body["shares"]}
    assert shares["population"]["share"] == round(100 * (13214799 + 2492412) / 328239523, 6)
    assert shares["population"]["denominator_definition"] == "the United States row of census-population-2019"
    assert shares["exports_goods"]["top_total"] == 61041098525 + 23761899244
    assert shares["land_area"]["top_total"] == 12558353322 + 17318309512
    assert shares["real_gdp"]["members_without_figure"] == []


@pytest.fixture(scope="module")
def ita_rows():
    book = openpyxl.load_workbook(REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    return {r[0]: dict(zip(map(int, rows[0][2:]), r[2:])) for r in rows[1:]}


@pytest.mark.realdata
def test_real_growth_matches_a_hand_computation(real_client, ita_rows):
    row = ita_rows["Minneapolis-St. Paul-Bloomington, MN-WI"]
    change = real_client.get("/v1/metros/33460/growth?from=2010&to=2023").get_json()["change"]
    assert (change["start_value"], change["end_value"]) == (row[2010], row[2023])
    assert change["cagr"] == round(100 * ((row[2023] / row[2010]) ** (1 / 13) - 1), 6)


@pytest.mark.realdata
def test_real_summary_matches_the_xlsx_column_sums(real_client, ita_rows):
    body = real_client.get("/v1/stats/summary?year=2023&base_year=2005").get_json()
    assert body["with_unallocated"]["total"] == sum(r[2023] for r in ita_rows.values() if r[2023] is not None)
    assert body["with_unallocated"]["base_total"] == sum(r[2005] for r in ita_rows.values() if r[2005] is not None)
    assert body["metros_only"]["total"] == sum(
        r[2023] for title, r in ita_rows.items() if r[2023] is not None and not title.startswith("Z-"))
    assert body["metros_only"]["places_with_figure"] == sum(
        1 for title, r in ita_rows.items() if r[2023] is not None and not title.startswith("Z-"))


@pytest.mark.realdata
def test_real_ranking_top_ten_is_a_sort_of_the_file(real_client, ita_rows):
    expected = sorted(((r[2019], t) for t, r in ita_rows.items() if r[2019] is not None and not t.startswith("Z-")),
                      reverse=True)[:10]
    body = real_client.get("/v1/rankings/metros?year=2019&limit=10").get_json()
    assert [r["value"] for r in body["data"]] == [v for v, _ in expected]
    assert body["data"][0]["name"] == "Houston-Pasadena-The Woodlands, TX"


@pytest.mark.parametrize("url", ["/v1/rankings/metros?by=growth&from=2013&to=2023&min_base=1000000000",
                                 "/v1/rankings/metros?year=2023&by=share&order=asc",
                                 "/v1/rankings/states?by=cagr&from=2012&to=2018"])
def test_ranking_bodies_are_what_the_schema_would_write(client, url):
    """Rankings are encoded without a marshmallow dump (the hot path): the body must still be the schema's."""
    from schemas.stats import RankingSchema

    body = client.get(url).get_json()
    assert body["data"] and body["excluded"]
    assert RankingSchema().dump(body) == body
    assert set(body["excluded"][0]) == {"code", "name", "reason", "reason_code"}


def test_rankings_are_paged_like_collections(client):
    response = client.get("/v1/rankings/metros?by=cagr&page_size=3&page=2")
    body = response.get_json()
    assert (body["start_year"], body["end_year"]) == (2005, 2023)  # the dataset's first and last year
    assert [(r["rank"], r["code"], r["value"]) for r in body["data"]] == [
        (4, "38860", round(100 * ((1256807033 / 515773825) ** (1 / 18) - 1), 6)),
        (5, "38900", round(100 * ((26973156822 / 11202081090) ** (1 / 18) - 1), 6)),
        (6, "33460", round(100 * ((22209368013 / 15937963253) ** (1 / 18) - 1), 6))]
    assert body["meta"] == {"total": 9, "page": 2, "page_size": 3, "pages": 3} and body["ranked"] == 9
    assert response.headers["X-Total-Count"] == "9"
    url = "http://localhost/v1/rankings/metros?by=cagr&page_size=3&page={}"
    assert response.headers["Link"] == ", ".join(f'<{url.format(n)}>; rel="{rel}"' for rel, n in (
        ("first", 1), ("last", 3), ("prev", 1), ("next", 3)))
    # limit is page_size's former name: the same answer (and the same cache entry); both at once is an error
    assert client.get("/v1/rankings/metros?by=cagr&limit=3&page=2").get_json() == body
    both = client.get("/v1/rankings/metros?limit=3&page_size=3").get_json()
    assert both["status"] == 400 and both["errors"] == {"limit": ["give page_size or limit (its former name), not both"]}


def test_metro_rankings_within_a_principal_state(client):
    body = client.get("/v1/rankings/metros?state=or&year=2023").get_json()
    assert [(r["rank"], r["code"], r["value"]) for r in body["data"]] == [(1, "38900", 26973156822)]
    assert client.get("/v1/rankings/metros?state=41&year=2023").get_json()["data"] == body["data"]
    body = client.get("/v1/rankings/metros?state=TX&year=2023").get_json()
    assert [(r["rank"], r["code"]) for r in body["data"]] == [(1, "10180")]  # Kingsville (TX) has no ITA row
    body = client.get("/v1/rankings/metros?state=ZZ").get_json()
    assert body["status"] == 400 and body["errors"] == {"state": ["no state, DC or territory has the code 'ZZ'"]}


def test_excluded_places_are_counted_by_reason_and_listed_up_to_a_limit(client):
    body = client.get("/v1/rankings/metros?by=growth&from=2013&to=2023&min_base=1000000000&excluded_limit=3").get_json()
    assert body["excluded_count"] == 7
    assert body["excluded_reasons"] == {"below_min_base": 5, "not_available": 2}
    assert [(e["code"], e["reason_code"]) for e in body["excluded"]] == [
        ("10180", "below_min_base"), ("10380", "below_min_base"), ("11300", "not_available")]
    assert body["excluded"][2]["reason"] == "no figure for 2013 (not_available); no figure for 2023 (not_available)"
    everything = client.get("/v1/rankings/metros?by=growth&from=2013&to=2023&min_base=1000000000&excluded_limit=5000")
    assert len(everything.get_json()["excluded"]) == 7
    assert client.get("/v1/rankings/metros?year=2023&excluded_limit=0").get_json()["excluded"] == []
    body = client.get("/v1/rankings/metros?by=growth&from=2014&to=2016").get_json()
    assert {e["code"]: e["reason_code"] for e in body["excluded"]}["49740"] == "suppressed"  # Yuma 2014-2016


def test_years_default_to_the_latest_and_the_first_and_last_the_data_have(client):
    assert client.get("/v1/rankings/metros").get_json()["year"] == 2023
    body = client.get("/v1/rankings/metros?by=growth").get_json()
    assert (body["start_year"], body["end_year"]) == (2005, 2023)
    body = client.get("/v1/rankings/states").get_json()  # the latest year of state exports: 2023 (Texas only)
    assert (body["year"], [(r["code"], r["value"]) for r in body["data"]]) == (2023, [("48", 449382761930)])
    body = client.get("/v1/stats/summary").get_json()
    assert (body["year"], body["base_year"]) == (2023, 2022)
    assert body["with_unallocated"]["total"] == NATIONAL_2023
    body = client.get("/v1/metros/38900/growth").get_json()["change"]
    assert (body["start_year"], body["start_value"], body["end_year"], body["end_value"]) == (
        2005, 11202081090, 2023, 26973156822)
    body = client.get("/v1/rankings/metros?year=1999").get_json()
    assert body["errors"] == {"year": ["ita-metro-exports has no figures for 1999; it has them for 2005-2023"]}


def test_concentration_names_and_defaults(client):
    body = client.get("/v1/stats/concentration?top=2").get_json()  # population: its latest year, 2019
    assert (body["rank_by"], body["year"], [m["code"] for m in body["members"]]) == ("population", 2019,
                                                                                       ["31080", "38900"])
    exports = client.get("/v1/stats/concentration?top=2&rank_by=exports").get_json()  # ITA's latest year, 2023
    assert (exports["rank_by"], exports["year"]) == ("exports", 2023)
    assert [(m["code"], m["value"]) for m in exports["members"]] == [("31080", 59561594613), ("38900", 26973156822)]
    former = client.get("/v1/stats/concentration?top=2&rank_by=exports_goods").get_json()
    assert former["members"] == exports["members"] and former["shares"] == exports["shares"]
    body = client.get("/v1/stats/concentration?rank_by=population&year=2021").get_json()
    assert body["status"] == 400 and body["errors"] == {"year": [
        "population of metros (census-population-2019) has no figures for 2021; it has them for 2010-2019"]}


@pytest.fixture()
def year_2024(engine):
    """Adds ITA figures for 2024 (Los Angeles only) under a new data version; the fixture store is rebuilt after."""
    def load():
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO observations (dataset_id, indicator, geography_id, industry, partner, year, value, status) "
                "SELECT 'ita-metro-exports', 'exports_goods', id, 'ALL', 'WLD', 2024, 60000000000, 'ok' "
                "FROM geographies WHERE kind = 'metro' AND code = '31080'"))
            connection.execute(text("UPDATE store_state SET version = 'test-2024' WHERE id = 1"))
    yield load
    build(engine, FIXTURES, force=True)


def test_a_reload_that_adds_a_year_moves_the_defaults_and_the_etag(client, year_2024):
    """Defaults are resolved in the view, after the response cache is asked: its key (and the ETag) holds the data
    version, and the defaults are a function of it, so the same request gets new defaults with a new version."""
    before = client.get("/v1/rankings/metros?page_size=1")
    assert before.get_json()["year"] == 2023 and before.headers["X-Cache"] == "miss"
    assert client.get("/v1/rankings/metros?page_size=1").headers["X-Cache"] == "hit"
    year_2024()
    after = client.get("/v1/rankings/metros?page_size=1", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["X-Cache"] == "miss"
    assert after.headers["ETag"] != before.headers["ETag"]
    body = after.get_json()
    assert (body["year"], body["data"][0]["code"], body["data"][0]["value"], body["ranked"]) == (
        2024, "31080", 60000000000, 1)
    body = client.get("/v1/rankings/metros?by=cagr").get_json()
    assert (body["start_year"], body["end_year"], body["data"][0]["start_value"]) == (2005, 2024, 43814173090)
    assert client.get("/v1/stats/summary").get_json()["base_year"] == 2023
