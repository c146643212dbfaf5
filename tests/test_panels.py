"""Whole panels in one call: several places' series at once, the national series with its basis, ratios per person,
and wrong-but-plausible requests answered with what exists instead of an empty 200."""

import csv
import io

import openpyxl
import pytest
from helpers import PROBLEM, REAL_DATA


def errors(response, status: int = 400) -> dict:
    assert response.status_code == status and response.mimetype == PROBLEM, response.get_data(as_text=True)
    return response.get_json()["errors"]


@pytest.mark.parametrize("many, singles", [
    ("/v1/metros/exports?code=38900,31080&from=2022", ["/v1/metros/38900/exports?from=2022",
                                                       "/v1/metros/31080/exports?from=2022"]),
    ("/v1/metros/exports?code=49740,other-metro&units=index&base_year=2013",
     ["/v1/metros/49740/exports?units=index&base_year=2013", "/v1/metros/other-metro/exports?units=index&base_year=2013"]),
    ("/v1/metros/indicators?code=10180,38900&name=population,jobs",
     ["/v1/metros/10180/indicators?name=population,jobs", "/v1/metros/38900/indicators?name=population,jobs"]),
    ("/v1/states/exports?code=OR,06&industry=336,3361", ["/v1/states/OR/exports?industry=336,3361",
                                                        "/v1/states/06/exports?industry=336,3361"]),
])
def test_several_places_in_one_call_are_the_single_place_series_in_order(client, many, singles):
    body = client.get(many).get_json()
    assert body["series"] == [client.get(url).get_json() for url in singles]


def test_several_metros_figures_and_csv(client):
    body = client.get("/v1/metros/exports?code=38900,31080&from=2022").get_json()
    assert [(s["geography"]["code"], [(p["year"], p["value"]) for p in s["data"]]) for s in body["series"]] == [
        ("38900", [(2022, 34368003214), (2023, 26973156822)]),
        ("31080", [(2022, 60979747066), (2023, 59561594613)])]
    text = client.get("/v1/metros/exports?code=38900,31080&from=2023&format=csv").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(text))) == [
        ["geography_code", "geography_name", "dataset", "indicator", "year", "value", "status", "units", "level",
         "note"],
        ["38900", "Portland-Vancouver-Hillsboro, OR-WA", "ita-metro-exports", "exports_goods", "2023", "26973156822",
         "ok", "level", "26973156822", ""],
        ["31080", "Los Angeles-Long Beach-Anaheim, CA", "ita-metro-exports", "exports_goods", "2023", "59561594613",
         "ok", "level", "59561594613", ""]]
    # a state named twice (USPS and FIPS) is one series
    body = client.get("/v1/states/exports?code=OR,41,ca&from=2018&to=2018").get_json()
    assert [(s["geography"]["code"], [p["value"] for p in s["data"]]) for s in body["series"]] == [
        ("41", [22331756938]), ("06", [178162663737])]


def test_several_places_name_the_unknown_codes_and_are_bounded(client):
    assert errors(client.get("/v1/metros/exports?code=38900,99999,portland")) == {
        "code": ["unknown code(s): 99999, portland"]}
    assert errors(client.get("/v1/states/exports?code=OR,ZZ")) == {"code": ["unknown code(s): ZZ"]}
    codes = ",".join(["38900"] * 51)
    assert errors(client.get(f"/v1/metros/exports?code={codes}")) == {
        "code": ["Length must be between 1 and 50."]}
    assert errors(client.get("/v1/metros/exports")) == {"code": ["Missing data for required field."]}


def test_the_national_series_names_its_basis(client):
    from test_stats import METROS_2023, NATIONAL_2023, UNALLOCATED_2023

    body = client.get("/v1/nation/exports?from=2023").get_json()
    assert body["geography"] == {"kind": "nation", "code": "US", "name": "United States"}
    assert [(p["year"], p["value"], p["status"]) for p in body["data"]] == [(2023, NATIONAL_2023, "derived")]
    assert body["data"][0]["value"] == sum(METROS_2023.values()) + sum(UNALLOCATED_2023.values())
    basis = body["basis"]
    assert (basis["dataset"], basis["method"], basis["places"]) == (
        "ita-metro-exports", "sum_of_places", {"metro": 11, "unallocated": 4})
    assert basis["places_with_figure"] == {"2023": 12} and basis["sum_of_places"] == {"2023": NATIONAL_2023}
    assert basis["territory"] == (
        "CBSAs in AZ, CA, CT, IN, ME, MN, NY, OR, TX, WA, WI and Puerto Rico; and 4 unallocated row(s) (Crossovers "
        "(exports not allocated to one metro), Non-metropolitan areas, Other metropolitan areas, Unknown location)")
    # the same figure a share divides by
    share = client.get("/v1/metros/38900/exports?units=share&from=2023").get_json()
    assert share["units_basis"][0]["denominator_values"] == {"2023": body["data"][0]["value"]}
    assert share["units_basis"][0]["denominator"] == basis["definition"]

    body = client.get("/v1/nation/exports?dataset=census-state-exports-2012").get_json()
    assert [(p["year"], p["value"], p["status"]) for p in body["data"]] == [(2012, 1545820839892, "ok")]
    assert (body["basis"]["method"], body["basis"]["definition"]) == (
        "united_states_row", "the United States row of census-state-exports-2012")
    assert body["basis"]["territory"] == ("CA, OR, District of Columbia, Puerto Rico and Virgin Islands; and 1 "
                                          "unallocated row(s) (Unknown location)")
    body = client.get("/v1/nation/exports?dataset=census-state-exports-2013-2018&industry=336&from=2018").get_json()
    assert [(p["year"], p["value"], p["status"]) for p in body["data"]] == [(2018, 19195714857 + 1881939956 +
                                                                             1334615422, "derived")]
    assert body["basis"]["territory"] == "CA, OR and District of Columbia" and body["basis"]["places"] == {"state": 3}
    text = client.get("/v1/nation/exports?from=2023&format=csv").get_data(as_text=True)
    assert text.splitlines()[1] == f"US,United States,ita-metro-exports,exports_goods,2023,{NATIONAL_2023},derived,level,{NATIONAL_2023}"
    assert errors(client.get("/v1/nation/exports?units=share")) == {
        "units": ["Must be one of: level, change, percent_change, index."]}


def test_exports_per_person_name_the_population_dataset(client):
    body = client.get("/v1/metros/38900/exports?per=population&from=2018&to=2020").get_json()
    assert [(p["year"], p["value"], p["level"]) for p in body["data"]] == [
        (2018, round(21442868087 / 2473350, 6), 21442868087), (2019, round(23761899244 / 2492412, 6), 23761899244),
        (2020, None, 27824710650)]
    basis = body["units_basis"][0]
    assert (basis["per"], basis["per_dataset"]) == ("population", "census-population-2019")
    assert basis["per_values"] == {"2018": 2473350, "2019": 2492412, "2020": None}
    assert [s["id"] for s in body["sources"]] == ["census-population-2019", "ita-metro-exports"]
    assert "on the 2018 CBSA delineation in every year" in body["caveats"][0]
    body = client.get("/v1/rankings/metros?per=population&year=2019&page_size=2").get_json()
    assert [(r["code"], r["value"], r["end_value"]) for r in body["data"]] == [
        ("38900", round(23761899244 / 2492412, 6), 23761899244), ("31080", round(61041098525 / 13214799, 6),
                                                                  61041098525)]
    assert body["denominator"] == "population of each place in census-population-2019"
    assert body["excluded_reasons"] == {"no_denominator": 4, "not_available": 2}
    assert errors(client.get("/v1/metros/38900/exports?per=real_gdp")) == {"per": [
        ("exports_goods is in nominal dollars and real_gdp in real (2019 dollars): a ratio of the two would mix price "
        "bases, so the API does not give it")]}
    assert errors(client.get("/v1/states/OR/exports?per=population")) == {"per": [
        ("no population figures for state places are loaded; per=population is available for metro places "
        "(census-population-2019)")]}
    assert errors(client.get("/v1/rankings/states?per=population")) == errors(
        client.get("/v1/states/OR/exports?per=population"))
    assert errors(client.get("/v1/metros/38900/exports?per=population&units=share")) == {
        "per": ["cannot be combined with units=share"]}
    assert errors(client.get("/v1/rankings/metros?per=population&by=cagr")) == {"per": ["per= ranks by=value only"]}


def test_wrong_but_plausible_requests_say_what_exists(client):
    assert errors(client.get("/v1/states/CA/exports?partner=1220")) == {
        "partner": ["no figures for the exports of California to Canada (CAN) in any year"]}
    assert errors(client.get("/v1/states/OR/exports?partner=1220&dataset=census-state-exports-2012")) == {
        "partner": ["no figures for the exports of Oregon to Canada (CAN) in any year in census-state-exports-2012"]}
    assert [p["value"] for p in client.get("/v1/states/OR/exports?partner=1220&industry=336").get_json()["data"]] == [
        301477180]
    assert errors(client.get("/v1/states/OR/exports?industry=336,9999")) == {
        "industry": ["no industry in the data has the code 9999; the codes are listed at /v1/industries"]}
    assert errors(client.get("/v1/rankings/states?industry=9999")) == errors(client.get("/v1/states/OR/growth?industry=9999"))
    assert errors(client.get("/v1/metros/38900/exports?dataset=census-state-exports-2012")) == {"dataset": [
        ("census-state-exports-2012 has no exports figures for metro places; the datasets that have some: "
        "brookings-export-monitor-2018, ita-metro-exports, ita-metro-exports-2012-2021")]}
    assert errors(client.get("/v1/states/OR/exports?dataset=ita-metro-exports")) == {"dataset": [
        ("ita-metro-exports has no exports figures for state places; the datasets that have some: "
        "census-api-statenaics-2019-or, census-state-exports-2012, census-state-exports-2013-2018, "
        "census-state-exports-by-partner-2014-2018, census-state-exports-by-partner-2015-2019, "
        "census-state-exports-by-partner-2016-2025, census-top25-partners-2015-2018, "
        "census-top25-partners-2017-2020")]}
    assert errors(client.get("/v1/metros/38900/indicators?dataset=ita-metro-exports")) == {"dataset": [
        ("ita-metro-exports has no indicator figures for metro places; the datasets that have some: "
        "brookings-export-monitor-2018, census-population-2019, metro-monitor-2021")]}
    # a metro without figures in a metro dataset is still an honest empty series
    assert client.get("/v1/metros/28780/exports").get_json()["data"] == []


@pytest.mark.parametrize("path, hint", [
    ("/v1/metros/US/exports", "'US' is the nation: its exports are at /v1/nation/exports"),
    ("/v1/states/us", "'US' is the nation: its exports are at /v1/nation/exports"),
    ("/v1/metros/CA", "'CA' looks like a state code: try /v1/states/CA"),
    ("/v1/metros/ZZ", "CBSAs are named by their five-digit code; to find one by name try /v1/metros?q=ZZ"),
    ("/v1/states/38900", "'38900' looks like a CBSA code: try /v1/metros/38900"),
    ("/v1/states/99999", "States are named by FIPS code (06) or USPS code (CA); the list is at /v1/states"),
])
def test_a_404_hint_never_points_at_another_404(client, path, hint):
    response = client.get(path)
    assert response.status_code == 404 and response.get_json()["hint"] == hint
    target = hint.split("try ")[-1].split("at ")[-1]
    assert client.get(target).status_code == 200


@pytest.mark.realdata
def test_real_national_series_is_the_sum_of_the_xlsx_and_the_census_row_of_its_parts(real_client):
    book = openpyxl.load_workbook(REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    body = real_client.get("/v1/nation/exports").get_json()
    column = {int(year): i for i, year in enumerate(rows[0]) if i >= 2}
    assert [(p["year"], p["value"]) for p in body["data"]] == [
        (year, sum(r[i] for r in rows[1:] if r[i] is not None)) for year, i in column.items()]
    assert body["basis"]["places"] == {"metro": 414, "unallocated": 4}
    assert body["basis"]["territory"].startswith("CBSAs in the 50 states, District of Columbia and Puerto Rico; and 4 ")
    body = real_client.get("/v1/nation/exports?dataset=census-state-exports-2012").get_json()
    assert body["data"][0]["value"] == body["basis"]["sum_of_places"]["2012"] == 1545820839892
    assert body["basis"]["territory"] == ("the 50 states, District of Columbia, Puerto Rico and Virgin Islands; and 1 "
                                          "unallocated row(s) (Unknown location)")
    body = real_client.get("/v1/nation/exports?dataset=census-state-exports-2013-2018&from=2018").get_json()
    assert (body["data"][0]["value"], body["basis"]["territory"]) == (1595072504669,
                                                                      "the 50 states and District of Columbia")


@pytest.mark.realdata
def test_real_exports_per_person(real_client):
    exports = real_client.get("/v1/metros/33460/exports?from=2019&to=2019").get_json()["data"][0]["value"]
    population = real_client.get("/v1/metros/33460/indicators?name=population&dataset=census-population-2019"
                                 "&from=2019&to=2019").get_json()["data"][0]["value"]
    body = real_client.get("/v1/metros/33460/exports?per=population&from=2019&to=2019").get_json()
    assert body["data"][0]["value"] == round(exports / population, 6)
    ranking = real_client.get("/v1/rankings/metros?per=population&year=2019&page_size=1").get_json()
    assert ranking["ranked"] + ranking["excluded_count"] == 414
