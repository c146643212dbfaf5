"""Units, growth, rankings, the national summary and concentration, over the fixtures and the real data."""

import csv

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



STATES_BASIS = ("the sum of the 50 states and the District of Columbia in the dataset of each year (the same rows in "
                "every year; not the file's national row, which some files give with other territories and "
                "unallocated exports and some lack)")


def test_a_state_share_keeps_one_basis_and_says_where_a_file_lacks_a_row(client):
    """Every year divides by the sum of the 50 states and DC (the 2012 file's All States row also holds Puerto Rico,
    the Virgin Islands and $47.95 B unknown; the 2013-2018 file has no such row). The fixture files cut the states
    to a few: each year says which rows its file lacks, rather than switch to another basis."""
    body = client.get("/v1/states/OR/exports?units=share").get_json()
    assert [(p["year"], p["value"], p["status"], p["dataset"]) for p in body["data"]] == [
        (2012, None, "not_available", "census-state-exports-2012"),
        (2013, None, "not_available", "census-state-exports-2013-2018"),
        (2018, None, "not_available", "census-state-exports-2013-2018"),
        (2019, None, "not_available", "census-api-statenaics-2019-or")]
    assert body["data"][0]["note"] == (
        "census-state-exports-2012 covers 3 of the 51 places of the 50 states and the District of Columbia in 2012 "
        "(not Alabama, Alaska, Arizona, Arkansas, Colorado and 43 more), so no total over them")
    assert body["data"][3]["note"].startswith("census-api-statenaics-2019-or covers 1 of the 51 places")
    [basis] = body["units_basis"]
    assert basis["denominator"] == STATES_BASIS and basis["datasets"] == [
        "census-state-exports-2012", "census-state-exports-2013-2018", "census-api-statenaics-2019-or"]
    body = client.get("/v1/states/72/exports?units=share&dataset=census-state-exports-2012").get_json()
    assert body["data"][0]["note"].startswith("census-state-exports-2012 covers 4 of the 52 places of the 50 states, "
                                              "the District of Columbia and Puerto Rico in 2012")
    body = client.get("/v1/states/78/exports?units=share").get_json()  # the Virgin Islands: in no territory
    assert body["units_basis"][0]["denominator"].startswith("none: shares of state exports are over the 50 states")
    assert body["data"][0]["note"] == "no national total for 2012"


def test_a_state_index_runs_across_census_files_as_growth_does(client):
    """One combined state series, each point keeping its dataset: the index agrees with /growth."""
    body = client.get("/v1/states/CA/exports?units=index&base_year=2012").get_json()
    assert [(p["year"], p["dataset"], p["value"]) for p in body["data"]] == [
        (2012, "census-state-exports-2012", 100.0),
        (2013, "census-state-exports-2013-2018", round(100 * 168191551560 / 161757310648, 6)),
        (2018, "census-state-exports-2013-2018", round(100 * 178162663737 / 161757310648, 6))]
    growth = client.get("/v1/states/CA/growth?from=2012&to=2018").get_json()["change"]
    assert round(body["data"][-1]["value"] - 100, 6) == growth["percent"]
    body = client.get("/v1/states/CA/exports?units=percent_change&from=2013&to=2013").get_json()
    assert body["data"][0]["value"] == round(100 * (168191551560 - 161757310648) / 161757310648, 6)
    body = client.get("/v1/states/CA/exports?units=index&base_year=2012&dataset=census-state-exports-2013-2018")
    assert body.get_json()["units_basis"][0]["reason"] == "no figure for the base year 2012"  # one file: its years


def test_a_derived_value_that_is_null_is_not_ok(client):
    """Yuma 2017 has a figure, but its change on 2016 (suppressed) has none: not 'ok', and the reason."""
    body = client.get("/v1/metros/49740/exports?units=percent_change&from=2016&to=2018").get_json()
    assert [(p["year"], p["value"], p["status"], p["level"], p["note"]) for p in body["data"]] == [
        (2016, None, "suppressed", None, None),
        (2017, None, "not_available", 383012156,
         "year-on-year change needs the year before: no figure for 2016 (suppressed)"),
        (2018, round(100 * (375460722 - 383012156) / 383012156, 6), "ok", 375460722, None)]
    body = client.get("/v1/metros/49740/exports?units=index&base_year=2015&from=2017&to=2017").get_json()
    assert (body["data"][0]["status"], body["data"][0]["note"]) == ("not_available", "no figure for the base year 2015")


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


STATE_SHARES = ("the sum of the 50 states and the District of Columbia in the dataset of each year, as in a state's "
                "series (not the files' All States rows, which some files give with other territories and "
                "unallocated exports and some lack); Puerto Rico and the other territories are not ranked by share")


def test_state_ranking_by_share_divides_as_a_state_series_does(client):
    """The sum of the 50 states and DC in the year's dataset, as a state's series (the 2012 file's All States row
    holds Puerto Rico, the Virgin Islands and unallocated exports; the 2013-2018 file has none): the fixture's 2012
    file covers 3 of the 51, so no share, and the series says the same of each point."""
    body = client.get("/v1/rankings/states?by=share&year=2012").get_json()
    assert (body["denominator"], body["ranked"], body["data"]) == (STATE_SHARES, 0, [])
    assert body["excluded_reasons"] == {"no_national_total": 3, "outside_territory": 2}
    reasons = {e["code"]: e["reason"] for e in body["excluded"]}
    note = client.get("/v1/states/06/exports?units=share&from=2012&to=2012").get_json()["data"][0]["note"]
    assert reasons["06"] == reasons["41"] == f"no national total for 2012: {note}"
    assert note.startswith("census-state-exports-2012 covers 3 of the 51 places of the 50 states and the District "
                           "of Columbia in 2012")
    assert reasons["72"] == reasons["78"] == (
        "not one of the 50 states and the District of Columbia: Puerto Rico's shares are of those and Puerto Rico "
        "(its series), and other territories are in no share")


def test_national_summary_with_and_without_unallocated(client):
    body = client.get("/v1/stats/summary?year=2023&base_year=2013&threshold=1000000000").get_json()
    metros, everything = body["metros_only"], body["with_unallocated"]
    assert body["national_total"] == NATIONAL_2023
    assert (metros["total"], metros["base_total"]) == (sum(METROS_2023.values()), sum(METROS_2013.values()))
    assert metros["places_with_figure"] == 10 and metros["above_threshold"] == 6
    assert metros["share_of_national_total"] == round(100 * sum(METROS_2023.values()) / NATIONAL_2023, 6)
    assert everything["total"] == NATIONAL_2023 and everything["share_of_national_total"] == 100.0
    assert everything["base_total"] == sum(METROS_2013.values()) + sum(UNALLOCATED_2013.values())
    assert everything["above_threshold"] == 6  # places only: non-metro and other-metro are above it, but not places
    assert everything["change"]["percent"] == round(100 * (NATIONAL_2023 / everything["base_total"] - 1), 6)
    assert "unallocated rows left out" in metros["rows"] and "national total" in everything["rows"]
    assert [(u["code"], u["part"], u["value"]) for u in body["unallocated"]] == [
        ("crossovers", "unassigned", None), ("non-metro", "non_metropolitan", 233550191754),
        ("other-metro", "metropolitan", 18964862112), ("unknown", "unassigned", None)]


def test_the_summary_gives_every_metropolitan_area_and_the_common_set(client):
    """All metropolitan areas as ITA defines them: the named ones and 'Z-Other Metropolitan Areas', without
    non-metro, crossovers and unknown; and, since 2013 and 2023 cover different metros, the change over those in
    both."""
    body = client.get("/v1/stats/summary?year=2023&base_year=2013").get_json()
    metropolitan = body["metropolitan"]
    assert metropolitan["total"] == sum(METROS_2023.values()) + UNALLOCATED_2023["other-metro"]
    assert metropolitan["base_total"] == sum(METROS_2013.values()) + UNALLOCATED_2013["other-metro"]
    assert metropolitan["above_threshold"] == 6 and metropolitan["places_with_figure"] == 11
    assert metropolitan["share_of_national_total"] == round(100 * metropolitan["total"] / NATIONAL_2023, 6)
    common = body["metros_in_both_years"]
    both = sorted(set(METROS_2023) & set(METROS_2013))
    assert (common["places"], common["only_in_year"], common["only_in_base_year"]) == (
        9, [{"code": "47930", "name": "Waterbury-Shelton, CT"}], [])
    assert (common["change"]["start_value"], common["change"]["end_value"]) == (
        sum(METROS_2013[c] for c in both), sum(METROS_2023[c] for c in both))
    assert body["caveats"][-1] == ("The two years cover different sets of metros: 10 have a figure for 2023, 9 for "
                                   "2013; metros_in_both_years gives the change over the 9 with a figure in both.")


US_2019, PR_2019 = 328239523, 3193694  # census-population-2019: the United States row, the Puerto Rico row


def test_concentration(client):
    body = client.get("/v1/stats/concentration?top=2&rank_by=population&year=2019").get_json()
    assert [(m["code"], m["value"]) for m in body["members"]] == [("31080", 13214799), ("38900", 2492412)]
    shares = {s["measure"]: s for s in body["shares"]}
    # Puerto Rico's metros are in the universe (territory=states_dc_pr), so the denominator has its people too
    assert shares["population"]["share"] == round(100 * (13214799 + 2492412) / (US_2019 + PR_2019), 6)
    assert shares["population"]["denominator_definition"] == (
        "the United States row plus the Puerto Rico row of census-population-2019")
    assert shares["exports_goods"]["top_total"] == 61041098525 + 23761899244
    # the 2018 delineation's land, counties summed in the 2020 Gazetteer (TIGER 2015 gave 12558353322 + 17318309512)
    assert shares["land_area"]["top_total"] == 12566940582 + 17320566835
    assert shares["real_gdp"]["members_without_figure"] == []
    assert (shares["real_gdp"]["territory"], shares["real_gdp"]["territory_reason"]) == (
        "states_dc", "Metro Monitor has no Puerto Rico figures, so no national real GDP includes it")


def test_a_puerto_rico_metro_s_population_share_counts_puerto_rico_below_the_line(client):
    body = client.get("/v1/metros/32420/indicators?name=population&units=share&dataset=census-population-2019"
                      "&from=2019").get_json()
    assert body["data"][0]["value"] == round(100 * 94975 / (US_2019 + PR_2019), 6)
    assert body["units_basis"][0]["denominator"] == (
        "the United States row plus the Puerto Rico row of census-population-2019")
    body = client.get("/v1/metros/38900/indicators?name=population&units=share&dataset=census-population-2019"
                      "&from=2019").get_json()
    assert body["data"][0]["value"] == round(100 * 2492412 / US_2019, 6)
    assert body["units_basis"][0]["denominator"] == (
        "the United States row of census-population-2019 (the 50 states and DC)")


def test_a_puerto_rico_metro_s_census_count_share_counts_puerto_rico_below_the_line(client):
    """The April 2010 census count too: the file's United States row leaves Puerto Rico out, its Puerto Rico row
    (3,725,789) is added for a Puerto Rico metro, as for the estimates."""
    body = client.get("/v1/metros/32420/indicators?name=population_census&units=share"
                      "&dataset=census-population-2019").get_json()
    count = client.get("/v1/metros/32420/indicators?name=population_census"
                       "&dataset=census-population-2019").get_json()["data"][0]["value"]
    assert [(p["year"], p["value"]) for p in body["data"]] == [(2010, round(100 * count / (308745538 + 3725789), 6))]
    assert body["units_basis"][0]["denominator"] == (
        "the United States row plus the Puerto Rico row of census-population-2019's April 1, 2010 census count")
    body = client.get("/v1/metros/38900/indicators?name=population_census&units=share"
                      "&dataset=census-population-2019").get_json()
    assert body["units_basis"][0]["denominator"] == (
        "the United States row of census-population-2019's April 1, 2010 census count (the 50 states and DC)")


def test_a_land_share_is_of_the_nation_s_land(client):
    """The denominator is the land of every state (and Puerto Rico) in the Gazetteer of the delineation's
    boundaries, not of the CBSAs in the store; the fixture's county file holds 17 of those 52: it says so."""
    body = client.get("/v1/stats/concentration?top=2&rank_by=land_area&year=2010").get_json()
    assert [(m["code"], m["value"]) for m in body["members"]] == [("38900", 17310988154), ("33460", 15611567383)]
    land = body["shares"][0]
    assert (land["measure"], land["dataset"], land["denominator_dataset"]) == (
        "land_area", "tiger-cbsa-2012", "census-gazetteer-2010-counties")
    assert (land["share"], land["denominator"], land["reason"]) == (
        None, None, "census-gazetteer-2010-counties gives 17 of the 52 rows this total is made of for 2010")
    assert land["denominator_definition"].endswith(
        "(census-gazetteer-2010-counties, for the December 2009 delineation in force for 2010)")


def test_numerator_and_denominator_cover_one_territory(client):
    """territory=states_dc: Puerto Rico's metros leave the universe and the population denominator is the United
    States row; ITA gives no total without Puerto Rico, so the exports share says so and keeps it."""
    body = client.get("/v1/stats/concentration?top=3&rank_by=exports_goods&year=2019&territory=states_dc").get_json()
    assert body["territory"] == "states_dc" and body["universe_size"] == 9
    assert "10380" not in body["unranked"] + [m["code"] for m in body["members"]]
    shares = {s["measure"]: s for s in body["shares"]}
    assert (shares["population"]["territory"], shares["population"]["denominator"]) == ("states_dc", US_2019)
    assert shares["population"]["denominator_definition"] == (
        "the United States row of census-population-2019 (the 50 states and DC)")
    assert shares["exports_goods"]["territory"] == "states_dc_pr"
    assert "not split by territory" in shares["exports_goods"]["territory_reason"]
    body = client.get("/v1/stats/concentration?top=20&rank_by=exports_goods&year=2019").get_json()
    real_gdp = {s["measure"]: s for s in body["shares"]}["real_gdp"]
    assert real_gdp["members_outside_territory"] == ["10380", "32420"]  # Aguadilla and Mayagüez: left out of it
    assert client.get("/v1/stats/concentration?year=2019&territory=pr").get_json()["errors"] == {
        "territory": ["Must be one of: states_dc, states_dc_pr."]}


def test_the_universe_is_the_delineation_in_force(client):
    """2010 ranks the metros of the December 2009 delineation (the fixture's cut of it lacks Los Angeles, which
    the 2023 metro type used to rank first), under their 2009 titles."""
    body = client.get("/v1/stats/concentration?top=3&rank_by=exports_goods&year=2010").get_json()
    assert body["universe"] == ("the 11 metropolitan statistical areas of the December 2009 delineation, in force for "
                                "2010, in the 50 states, the District of Columbia and Puerto Rico")
    assert (body["universe_size"], body["ranked"], body["unranked"]) == (11, 9, ["14860", "19380"])
    assert [(m["code"], m["name"]) for m in body["members"]] == [
        ("33460", "Minneapolis-St. Paul-Bloomington, MN-WI"), ("38900", "Portland-Vancouver-Hillsboro, OR-WA"),
        ("45060", "Syracuse, NY")]


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


def gazetteer_land_2010() -> dict[str, int]:
    """ALAND of the 2010 Gazetteer county file summed per USPS code, read here apart from the loader."""
    land: dict[str, int] = {}
    with open(REAL_DATA / "geography" / "Gaz_counties_national.txt", encoding="cp1252", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            usps = row["USPS"].strip()
            land[usps] = land.get(usps, 0) + int(row["ALAND"])
    return land


@pytest.mark.realdata
def test_real_concentration_2010_is_of_the_nation_over_the_universe_of_2010(real_client):
    land = gazetteer_land_2010()
    body = real_client.get("/v1/stats/concentration?year=2010&top=500&rank_by=exports_goods").get_json()
    assert (body["universe_size"], body["ranked"], body["unranked"]) == (
        374, 369, ["11260", "19500", "21820", "37700", "46220"])
    members = {m["code"]: m for m in body["members"]}
    # metropolitan in 2010, micropolitan in 2023: Cumberland, both Danvilles, Pine Bluff
    assert {c: members[c]["name"] for c in ("19060", "19180", "19260", "38220")} == {
        "19060": "Cumberland, MD-WV", "19180": "Danville, IL", "19260": "Danville, VA", "38220": "Pine Bluff, AR"}
    assert members["31100"]["name"] == "Los Angeles-Long Beach-Santa Ana, CA"  # the 2009 code and title
    shares = {s["measure"]: s for s in body["shares"]}
    assert {"code": "31100", "figures_of": "31080"} in shares["exports_goods"]["figures_under_other_codes"]
    assert shares["land_area"]["denominator"] == sum(land.values())  # 50 states, DC and Puerto Rico
    assert shares["land_area"]["denominator"] == 9156460226723
    assert shares["exports_goods"]["denominator"] == 1277503931887  # every ITA row of 2010
    assert shares["exports_goods"]["top_total"] == 1109931263338
    states_only = real_client.get("/v1/stats/concentration?year=2010&top=100&territory=states_dc").get_json()
    assert states_only["universe_size"] == 366  # the 8 metros of Puerto Rico left out
    shares = {s["measure"]: s for s in states_only["shares"]}
    assert shares["land_area"]["denominator"] == sum(v for k, v in land.items() if k != "PR") == 9147592690191
    assert shares["population"]["denominator"] == 309321666  # the United States row for 2010
    assert "41980" not in [m["code"] for m in states_only["members"]]


@pytest.mark.realdata
def test_real_population_share_counts_puerto_rico_on_both_sides(real_client):
    body = real_client.get("/v1/stats/concentration?year=2010&top=100").get_json()
    population = {s["measure"]: s for s in body["shares"]}["population"]
    assert "41980" in [m["code"] for m in body["members"]]  # San Juan, in the numerator
    assert population["denominator"] == 313043191  # so the United States row (309321666) plus Puerto Rico's
    assert population["share"] == round(100 * 205662579 / 313043191, 6)


def census_2012_states() -> int:
    """The 50 states and DC of the USA Trade 2012 file, all commodities, summed apart from the loader."""
    with open(REAL_DATA / "census" / "Census_USATradeExport_2012.csv", newline="") as f:
        rows = list(csv.reader(f))[2:]
    return sum(int(r[4].replace(",", "")) for r in rows[1:] if len(r) > 4 and r[0] == "All Commodities"
               and r[1] not in ("All States", "Puerto Rico", "US Virgin Islands", "Unknown"))


@pytest.mark.realdata
def test_real_state_shares_keep_one_basis(real_client):
    """2012's file has an All States row holding Puerto Rico, the Virgin Islands and $47.95 B unknown; 2013-2018's
    has none: both years divide by the sum of the 50 states and DC."""
    states_2012 = census_2012_states()
    assert states_2012 == 1478313637361
    body = real_client.get("/v1/states/CA/exports?units=share&to=2013").get_json()
    assert [(p["year"], p["value"]) for p in body["data"]] == [
        (2012, round(100 * 161757310648 / states_2012, 6)), (2013, round(100 * 168191551560 / 1509864644646, 6))]
    assert [(p["year"], p["value"]) for p in body["data"]] == [(2012, 10.942016), (2013, 11.139512)]  # not 10.46 %
    assert body["units_basis"][0]["denominator_values"] == {"2012": states_2012, "2013": 1509864644646}


@pytest.mark.realdata
def test_real_state_rankings_by_share_are_the_shares_of_the_state_series(real_client):
    """A ranking by share divides as a state's series does, in every year and file (2012: not the All States row,
    which gave California 10.464169 % and Texas 17.12 % against 17.90 % in its series)."""
    for year in (2012, 2013, 2014, 2018, 2020, 2025):
        body = real_client.get(f"/v1/rankings/states?by=share&year={year}&page_size=100").get_json()
        assert (body["denominator"], body["ranked"]) == (STATE_SHARES, 51), year
        assert {e["code"] for e in body["excluded"]} <= {"72", "78"}
        shares = {r["code"]: r["value"] for r in body["data"]}
        for state in ("06", "48", "41", "11"):
            series = real_client.get(f"/v1/states/{state}/exports?units=share&from={year}&to={year}").get_json()
            assert shares[state] == series["data"][0]["value"], (year, state)
    body = real_client.get("/v1/rankings/states?by=share&year=2012&page_size=3").get_json()
    assert [(r["code"], r["value"]) for r in body["data"]] == [
        ("48", round(100 * 264664928203 / 1478313637361, 6)), ("06", 10.942016), ("36", 5.502047)]


@pytest.mark.realdata
def test_real_state_index_agrees_with_growth_in_every_state(real_client):
    for state in real_client.get("/v1/states?page_size=100").get_json()["data"][:51]:
        index = real_client.get(f"/v1/states/{state['fips']}/exports?units=index&base_year=2012&from=2018").get_json()
        growth = real_client.get(f"/v1/states/{state['fips']}/growth?from=2012&to=2018").get_json()["change"]
        assert round(index["data"][0]["value"] - 100, 6) == pytest.approx(growth["percent"], abs=2e-6), state


@pytest.mark.realdata
def test_real_no_derived_null_is_ok(real_client):
    """435 points of the metropolitan areas' ITA series have a figure whose year-on-year change cannot be computed:
    the first year of each series, and 70 after a year without a figure (e.g. Yuma 2017 after a suppressed 2016).
    Each is not_available with the reason, none 'ok'."""
    codes = [m["code"] for page in (1, 2, 3) for m in real_client.get(
        f"/v1/metros?type=metropolitan&page_size=500&page={page}").get_json()["data"]]
    nulls = []
    for code in codes:
        for p in real_client.get(f"/v1/metros/{code}/exports?units=percent_change").get_json()["data"]:
            if p["value"] is None and p["level"] is not None:
                nulls.append((code, p["year"], p["status"], p["note"]))
    assert {s for _, _, s, _ in nulls} == {"not_available"} and len(nulls) == 435
    assert len([n for n in nulls if not n[3].endswith("(no observation)")]) == 70
    assert ("49740", 2017, "not_available",
            "year-on-year change needs the year before: no figure for 2016 (suppressed)") in nulls


@pytest.mark.realdata
def test_real_summary_2011_against_2009(real_client, ita_rows):
    body = real_client.get("/v1/stats/summary?year=2011&base_year=2009").get_json()
    named = {t: r for t, r in ita_rows.items() if not t.startswith("Z-")}
    both = [t for t, r in named.items() if r[2011] is not None and r[2009] is not None]
    common = body["metros_in_both_years"]
    assert common["places"] == len(both) == 365
    assert (common["change"]["start_value"], common["change"]["end_value"]) == (
        sum(named[t][2009] for t in both), sum(named[t][2011] for t in both))
    assert [m["code"] for m in common["only_in_year"]] == ["19500", "30020"]
    assert len(common["only_in_base_year"]) == 5
    other = ita_rows["Z-Other Metropolitan Areas"]
    assert body["metropolitan"]["total"] == body["metros_only"]["total"] + other[2011]
    assert body["metropolitan"]["base_total"] == body["metros_only"]["base_total"] + other[2009]
    assert body["with_unallocated"]["above_threshold"] == body["metros_only"]["above_threshold"] == sum(
        1 for r in named.values() if r[2011] is not None and r[2011] > 1_000_000_000) == 150


@pytest.mark.realdata
def test_real_industry_share_counts_a_state_the_file_leaves_out_as_none(real_client):
    """Industry 1124 has rows for 27 states in 2013: the file leaves zero cells out, so the others had none and the
    total over the 50 states and DC is the sum of the 27."""
    states = real_client.get("/v1/states?page_size=100").get_json()["data"][:51]
    figures = [p["value"] for s in states for p in real_client.get(
        f"/v1/states/{s['fips']}/exports?industry=1124&from=2013&to=2013").get_json()["data"]]
    assert len(figures) == 27
    body = real_client.get("/v1/states/CA/exports?industry=1124&units=share").get_json()
    assert body["units_basis"][0]["denominator_values"]["2013"] == sum(figures)
    assert [p["year"] for p in body["data"] if p["value"] is None] == []
