"""Exports by destination through the API: partners by any code, a state's destinations, a partner's states and
national total, partner= and as_of= on series, growth and rankings, the releases of a series; a metro's series and
growth as known on a date from ITA's two editions; on the fixtures, and (`realdata`) every figure served for
2014-2025 against its file and every metro figure as known between and after the two ITA editions."""

import csv
from collections import Counter, defaultdict

import pytest
import xlrd
from helpers import FIXTURES, REAL_DATA, problem

SERIES = "census-state-exports-by-partner"
INITIAL, REVISED, CURRENT = (f"{SERIES}-2014-2018", f"{SERIES}-2015-2019", f"{SERIES}-2016-2025")
TOP25_2018, TOP25_2020 = "census-top25-partners-2015-2018", "census-top25-partners-2017-2020"
NO_ALL_STATES = f"{CURRENT} has no All States row: the national total is not known"


def read_extract(path) -> dict[tuple[str, str, int], int]:
    """{(state, country, year): dollars} of a CSV extract, read apart from the loader."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace('"', "").startswith("State,Country,Time,"))
    found = {}
    for fields in csv.reader(lines[start + 1:]):
        if len(fields) == 5:  # 'Korea, South' unquoted in the 2016-2025 file
            fields = [fields[0], f"{fields[1]},{fields[2]}", fields[3], fields[4]]
        found[fields[0], fields[1], int(fields[2])] = int(fields[3].replace(",", ""))
    return found


def read_top25(path) -> dict[tuple[str, str, int], int]:
    """{(state, country, year): dollars} of a top-25 table (millions to 2 decimals), read apart from the loader."""
    sheet = xlrd.open_workbook(path).sheet_by_index(0)
    years = [int(h[3:]) for h in sheet.row_values(4)[3:7]]
    return {(state, country, year): round(value * 100) * 10_000
            for state, _, country, *values in (sheet.row_values(r)[:7] for r in range(5, sheet.nrows))
            if country != "Top 25" for year, value in zip(years, values) if value != ""}


def vermont(dataset_file: str, year: int) -> dict[str, int]:
    return {c: v for (s, c, y), v in read_extract(FIXTURES / "census_partners" / dataset_file).items()
            if s == "Vermont" and y == year}


# --- partners ------------------------------------------------------------------------------------------------------

def test_partners_with_their_codes_groups_and_members(client):
    body = client.get("/v1/partners?page_size=500").get_json()
    partners = {p["code"]: p for p in body["data"]}
    assert body["meta"]["total"] == len(partners) and {"CAN", "KOR", "XXX", "WLD", "G-EU", "G-NAM"} <= set(partners)
    korea = partners["KOR"]
    assert (korea["name"], korea["kind"], korea["iso2"], korea["iso3"], korea["codes"]) == (
        "Korea, South", "country", "KR", "KOR", [{"code": "KR", "system": "iso2"}])
    assert [m["code"] for m in partners["G-NAM"]["members"]] == ["CAN", "GRL", "MEX", "SPM"]
    assert {"code": "G-NAM", "name": "North America"} in partners["CAN"]["groups"]
    assert partners["XXX"]["kind"] == "unallocated" and partners["WLD"]["members"] == []
    continents = client.get("/v1/partners?kind=continent&page_size=10").get_json()["data"]
    assert [(p["code"], p["kind"]) for p in continents][:2] == [("G-AFR", "continent"), ("G-ASIA", "continent")]
    assert len(continents) == 6
    assert [p["code"] for p in client.get("/v1/partners?q=korea").get_json()["data"]] == ["KOR", "PRK"]
    groups = client.get("/v1/partners?kind=group&page_size=50").get_json()
    assert groups["meta"]["total"] == 19 and {p["kind"] for p in groups["data"]} == {"continent", "bloc"}


def test_a_partner_by_any_code_it_is_known_by(client):
    bodies = [client.get(f"/v1/partners/{code}").get_json() for code in ("CAN", "can", "CA", "1220")]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["code"] == "CAN"
    assert {"dataset": CURRENT, "first_year": 2018, "last_year": 2023, "figures": 3} in bodies[0]["datasets"]
    body = problem(client.get("/v1/partners/ZZZ"), 404)
    assert body["detail"] == "No trade partner has the code 'ZZZ'."
    assert body["hint"].endswith("the list is at /v1/partners")
    assert [m["code"] for m in client.get("/v1/partners/g-nam").get_json()["members"]] == ["CAN", "GRL", "MEX", "SPM"]


# --- a state's destinations, a partner's states, a partner's national total ----------------------------------------

def test_a_states_destinations_ranked_with_shares_of_its_world_total(client):
    body = client.get("/v1/states/VT/partners?limit=3").get_json()
    countries = vermont("2016-2025/ExportByCountry.csv", 2019)
    world = sum(countries.values())
    assert (body["year"], body["world"]) == (2019, [{"dataset": CURRENT, "released_on": "2026-03-31", "value": world,
                                                     "status": "derived"}])
    largest = sorted(countries.items(), key=lambda kv: -kv[1])[:3]
    assert [(p["rank"], p["name"], p["value"], p["share"], p["dataset"]) for p in body["data"]] == [
        (i, name, value, round(100 * value / world, 6), CURRENT) for i, (name, value) in enumerate(largest, start=1)]
    assert body["ranked"] == len(countries) == 149 and body["kinds"] == ["country"]
    # groups: only the 2015-2019 release names them, so it answers, with its own world total as the denominator
    body = client.get("/v1/states/VT/partners?kind=group&limit=1").get_json()
    assert body["data"][0]["code"] == "G-APEC" and body["world"][0]["value"] == 3021350506
    assert body["data"][0]["dataset"] == REVISED and body["data"][0]["share"] == round(
        100 * body["data"][0]["value"] / 3021350506, 6)
    body = client.get("/v1/states/VT/partners?as_of=2019-12-31").get_json()  # the initial figures
    assert (body["year"], body["as_of"], body["data"][0]["value"], body["world"][0]["value"]) == (
        2018, "2019-12-31", 1268891327, 2919609347)
    body = client.get("/v1/states/VT/partners?dataset=census-top25-partners-2017-2020&year=2018&limit=1").get_json()
    assert (body["data"][0]["value"], body["data"][0]["status"], body["world"][0]["value"]) == (
        1270120000, "rounded", 2920490000)


def test_state_destinations_errors(client):
    assert problem(client.get("/v1/states/VT/partners?year=2012"), 400)["errors"] == {
        "year": ["no figures for exports of Vermont in 2012; there are for 2018-2019"]}
    assert problem(client.get("/v1/states/VT/partners?as_of=2019-03-30"), 400)["errors"] == {
        "as_of": [f"the first release of {SERIES} is dated 2019-03-31: none of its figures was known on 2019-03-30"]}
    assert problem(client.get("/v1/states/VT/partners?dataset=census-top25-partners-2017-2020&as_of=2020-01-01"),
                   400)["errors"] == {"as_of": [f"{TOP25_2020} was released on 2021-04-22, after 2020-01-01"]}
    assert problem(client.get("/v1/states/ZZ/partners"), 404)["detail"] == "No state, DC or territory has the code 'ZZ'."
    assert problem(client.get("/v1/states/VT/partners?kind=city"), 400)["errors"] == {"kind": [("Must be one of: "
                                                                                       "country, continent, bloc, "
                                                                                       "group, unallocated.")]}


def test_a_partners_source_states_with_the_totals_of_the_same_release(client):
    body = client.get("/v1/partners/WLD/states?year=2018&as_of=2019-06-30").get_json()
    assert [(s["code"], s["usps"], s["value"], s["share"], s["dataset"]) for s in body["data"]] == [
        ("50", "VT", 2919609347, 100.0, INITIAL)]
    assert body["totals"] == [{"dataset": INITIAL, "released_on": "2019-03-31", "states": 1,
                               "states_total": 2919609347, "national_total": 1664055580908,
                               "unallocated": 56380165016, "unallocated_status": "ok", "reason": None}]
    body = client.get("/v1/partners/ca/states").get_json()  # the latest year: Texas 2023
    assert (body["partner"], body["year"]) == ({"code": "CAN", "name": "Canada"}, 2023)
    assert [(s["usps"], s["value"]) for s in body["data"]] == [("TX", 36071754336)]
    assert body["totals"][0]["national_total"] is None and body["totals"][0]["reason"].startswith(NO_ALL_STATES)
    assert problem(client.get(f"/v1/partners/G-EU/states?dataset={CURRENT}"), 400)["errors"] == {
        "dataset": ["no figures for exports to European Union (G-EU)"]}
    assert problem(client.get("/v1/partners/ZZZ/states"), 404)["detail"] == "No trade partner has the code 'ZZZ'."


def test_national_total_by_partner_never_switches_basis(client):
    body = client.get("/v1/partners/WLD/exports").get_json()
    points = {p["year"]: p for p in body["data"]}
    assert (points[2018]["value"], points[2018]["dataset"], points[2018]["states_total"]) == (
        1665688483906, REVISED, 2920494845)  # All States and the states of the same release
    assert (points[2018]["unallocated"], points[2018]["unallocated_status"]) == (1665688483906 - 2920494845, "derived")
    assert points[2019]["value"] == 1643160852937
    texas = points[2023]  # no release with an All States row: null, the states' sum and what it leaves out
    assert (texas["value"], texas["status"], texas["dataset"], texas["states_total"], texas["unallocated"]) == (
        None, "not_available", CURRENT, 449382761930, None)
    assert texas["reason"].startswith(NO_ALL_STATES) and "where a release gives both (2018-2019)" in texas["reason"]
    body = client.get("/v1/partners/WLD/exports?as_of=2019-06-30").get_json()
    assert [(p["year"], p["value"], p["unallocated"], p["unallocated_status"]) for p in body["data"]] == [
        (2018, 1664055580908, 56380165016, "ok")]  # the Unknown row of the initial release
    assert problem(client.get("/v1/partners/WLD/exports?from=2030"), 400)["errors"] == {
        "from": ["no figures for exports to World (WLD) from 2030; there are for 2018-2019, 2023"]}


# --- partner= and as_of= on series, growth, rankings ---------------------------------------------------------------

def test_state_series_for_a_partner_with_revisions(client):
    body = client.get("/v1/states/VT/exports?partner=ca&revisions=true").get_json()
    assert [(p["year"], p["value"], p["partner"], p["dataset"], p["released_on"]) for p in body["data"]] == [
        (2018, 1270122715, "CAN", CURRENT, "2026-03-31"), (2019, 1014842951, "CAN", CURRENT, "2026-03-31")]
    assert [[(r["dataset"], r["value"]) for r in p["revisions"]] for p in body["data"]] == [
        [(CURRENT, 1270122715), (REVISED, 1270122715), (INITIAL, 1268891327)],
        [(CURRENT, 1014842951), (REVISED, 1194447463)]]
    body = client.get("/v1/states/VT/exports?partner=CAN&as_of=2020-10-21").get_json()
    assert [(p["year"], p["value"], p["dataset"]) for p in body["data"]] == [
        (2018, 1270122715, REVISED), (2019, 1194447463, REVISED)]
    assert "revisions" not in body["data"][0]
    body = client.get("/v1/states/VT/exports?partner=CAN&as_of=2019-03-31").get_json()
    assert [(p["year"], p["value"], p["dataset"]) for p in body["data"]] == [(2018, 1268891327, INITIAL)]
    body = client.get(f"/v1/states/VT/exports?partner=CAN&dataset={REVISED}&revisions=true&as_of=2021-01-01").get_json()
    assert [[(r["dataset"], r["value"]) for r in p["revisions"]] for p in body["data"]] == [
        [(REVISED, 1270122715), (INITIAL, 1268891327)], [(REVISED, 1194447463)]]
    body = client.get("/v1/states/OR/exports?dataset=census-state-exports-2012&revisions=true").get_json()
    assert body["data"][0]["revisions"] == [{"dataset": "census-state-exports-2012", "released_on": None,
                                             "value": 18387857493, "status": "ok"}]


def test_state_series_shares_are_over_the_states_of_the_release_of_each_year(client):
    body = client.get("/v1/states/VT/exports?units=share&as_of=2020-12-31").get_json()
    assert [(p["year"], p["level"], p["dataset"]) for p in body["data"]] == [(2018, 2920494845, REVISED),
                                                                            (2019, 3021350506, REVISED)]
    # the fixture release has Vermont only: no total over the 50 states and DC, said in each point's note
    assert body["data"][0]["value"] is None and body["data"][0]["note"].startswith(
        f"{REVISED} covers 1 of the 51 places of the 50 states and the District of Columbia in 2018")
    assert body["units_basis"][0]["datasets"] == [REVISED]
    body = client.get(f"/v1/rankings/states?by=share&year=2018&dataset={CURRENT}").get_json()
    assert body["denominator"].startswith("the sum of the 50 states and the District of Columbia in the dataset of "
                                          "each year, as in a state's series") and body["ranked"] == 0
    assert problem(client.get("/v1/states/OR/partners?dataset=census-state-exports-2012"), 400)["errors"] == {
        "dataset": ["census-state-exports-2012 has no figures by destination"]}


def test_state_series_errors_name_the_parameter(client):
    cases = {
        "partner=ZZZ": {"partner": ["no trade partner has the code 'ZZZ'; the codes are listed at /v1/partners"]},
        "partner=1'%20OR%201=1": {"partner": ["String does not match expected pattern."]},
        "partner=G-EU&from=2012&to=2013": {"partner": [
            "no figures for the exports of Vermont to European Union (G-EU) in 2012-2013; there are for 2018-2019"]},
        "as_of=2019-03-30": {"as_of": [
            f"the first release of {SERIES} is dated 2019-03-31: none of its figures was known on 2019-03-30"]},
        "as_of=2019-04-01&from=2019": {"as_of": [
            ("no figures for the exports of Vermont to World (WLD) from 2019 as known on 2019-04-01; there are for "
            "2018")]},
        "as_of=2021-01-01&naics_level=2": {"as_of": [
            "figures by industry come from files without a release date: as_of applies to industry ALL"]},
        "as_of=2019-13-01": {"as_of": ["Not a valid date."]},
        "dataset=census-state-exports-2012&as_of=2021-01-01": {"as_of": [("census-state-exports-2012 has no release "
                                                                         "date")]},
    }
    for query, errors in cases.items():
        assert problem(client.get(f"/v1/states/VT/exports?{query}"), 400)["errors"] == errors, query


def test_growth_and_rankings_for_a_partner(client):
    body = client.get("/v1/states/VT/growth?partner=CA&from=2018&to=2019").get_json()
    assert (body["change"]["start_value"], body["change"]["end_value"]) == (1270122715, 1014842951)
    body = client.get("/v1/states/VT/growth?partner=CAN&from=2018&to=2019&as_of=2020-01-01").get_json()
    assert body["change"]["start_value"] == 1268891327 and body["change"]["reasons"] == [
        "no figure for 2019 (no observation)"]
    assert problem(client.get("/v1/states/VT/growth?partner=G-EU&from=2012&to=2013"), 400)["errors"] == {"partner": [
        "no figures for the exports of Vermont to European Union (G-EU) in 2012-2013; there are for 2018-2019"]}
    body = client.get("/v1/rankings/states?partner=CAN&year=2023").get_json()
    assert [(r["code"], r["value"]) for r in body["data"]] == [("48", 36071754336)]
    assert [s["id"] for s in body["sources"]] == [CURRENT]
    body = client.get("/v1/rankings/states?partner=CAN&by=growth&from=2018&to=2019&as_of=2021-01-01").get_json()
    assert [(r["code"], r["value"]) for r in body["data"]] == [("50", round(100 * (1194447463 / 1270122715 - 1), 6))]
    body = client.get("/v1/rankings/states?year=2018&by=share&as_of=2019-12-31").get_json()
    assert (body["ranked"], body["excluded"]) == (0, [{  # the fixture release has Vermont only, as its series says
        "code": "50", "name": "Vermont", "reason_code": "no_national_total", "reason": (
            f"no national total for 2018: {INITIAL} covers 1 of the 51 places of the 50 states and the District of "
            "Columbia in 2018 (not Alabama, Alaska, Arizona, Arkansas, California and 45 more), so no total over them")}])
    errors = {
        "partner=G-EU&year=2023": {"year": ["state exports has no figures for 2023; it has them for 2018-2019"]},
        "partner=G-EU&dataset=census-state-exports-2012&year=2012": {"partner": [
            "no figures for the exports of states to European Union (G-EU) in any year"]},
        "year=2011&by=share": {"year": ["state exports has no figures for 2011; it has them for 2012-2013, 2018-2019, 2023"]},
        "industry=336&year=2018&as_of=2021-01-01": {"as_of": [("figures by industry come from files without a release "
                                                              "date: as_of applies to industry ALL")]},
    }
    for query, expected in errors.items():
        assert problem(client.get(f"/v1/rankings/states?{query}"), 400)["errors"] == expected, query


def test_metro_rankings_as_known_on_a_date(client):
    body = client.get("/v1/rankings/metros?year=2021&as_of=2024-01-01&limit=2").get_json()
    assert [(r["code"], r["value"]) for r in body["data"]] == [("31080", 58588415142), ("38900", 33787471258)]
    assert [s["id"] for s in body["sources"]] == ["ita-metro-exports-2012-2021"]
    assert problem(client.get("/v1/rankings/metros?year=2023&as_of=2024-01-01"), 400)["errors"] == {
        "year": ["ita-metro-exports-2012-2021 has no figures for 2023; it has them for 2012-2021"]}
    assert client.get("/v1/rankings/metros?as_of=2024-01-01").get_json()["year"] == 2021
    assert problem(client.get("/v1/rankings/metros?year=2021&as_of=2023-01-30"), 400)["errors"] == {"as_of": [
        "the first release of ita-metro-exports is dated 2023-01-31: none of its figures was known on 2023-01-30"]}


def test_the_releases_of_a_series(client):
    body = client.get(f"/v1/datasets/{SERIES}/vintages").get_json()
    assert body == client.get(f"/v1/datasets/{INITIAL}/vintages").get_json()
    assert [(r["id"], r["released_on"], r["first_year"], r["last_year"], r["newest"]) for r in body["releases"]] == [
        (CURRENT, "2026-03-31", 2018, 2023, True), (REVISED, "2020-10-21", 2016, 2019, False),
        (INITIAL, "2019-03-31", 2018, 2018, False)]
    assert body["series"] == SERIES and body["releases"][1]["release"].startswith("Retrieved from USA Trade Online")
    body = client.get("/v1/datasets/ita-metro-exports-2012-2021/vintages").get_json()
    assert [r["id"] for r in body["releases"]] == ["ita-metro-exports", "ita-metro-exports-2012-2021"]
    body = client.get("/v1/datasets/census-state-exports-2012/vintages").get_json()
    assert [(r["id"], r["released_on"], r["newest"]) for r in body["releases"]] == [
        ("census-state-exports-2012", None, True)]
    assert problem(client.get("/v1/datasets/nothing/vintages"), 404)["detail"] == "No dataset has the id 'nothing'."
    dataset = client.get(f"/v1/datasets/{REVISED}").get_json()
    assert (dataset["series"], dataset["released_on"]) == (SERIES, "2020-10-21")


def test_as_of_is_part_of_the_canonical_request(client):
    """A date after the newest release answers the same figures as no as_of, under its own ETag and cache entry."""
    latest, later = client.get("/v1/states/VT/exports"), client.get("/v1/states/VT/exports?as_of=2099-01-01")
    assert latest.get_json() == later.get_json() and latest.headers["ETag"] != later.headers["ETag"]
    assert client.get("/v1/states/VT/exports?as_of=2099-01-01",
                      headers={"If-None-Match": later.headers["ETag"]}).status_code == 304
    assert client.get("/v1/states/VT/exports", headers={"If-None-Match": later.headers["ETag"]}).status_code == 200


# --- metro series and growth as known on a date: ITA's 2012-2021 edition (2023-01-31) and 2005-2023 workbook -------

ITA, ITA_2021 = "ita-metro-exports", "ita-metro-exports-2012-2021"


def points(body: dict, *keys: str) -> list[tuple]:
    return [tuple(p[k] for k in keys) for p in body["data"]]


def test_metro_series_as_known_on_a_date(client):
    """Between the two editions only the first one's years are known (its rounded figures among them); after the
    second, its years; without as_of, the newest edition alone, as before, with no release fields."""
    then = client.get("/v1/metros/non-metro/exports?as_of=2024-01-01").get_json()
    assert [p["year"] for p in then["data"]] == list(range(2012, 2022))
    assert points(then, "year", "value", "status", "dataset", "released_on")[-2:] == [
        (2020, 164699000000, "rounded", ITA_2021, "2023-01-31"), (2021, 199534000000, "rounded", ITA_2021, "2023-01-31")]
    assert [s["id"] for s in then["sources"]] == [ITA_2021] and then["units_basis"][0]["datasets"] == [ITA_2021]
    now = client.get("/v1/metros/non-metro/exports?as_of=2025-03-08").get_json()
    assert [p["year"] for p in now["data"]] == list(range(2005, 2024))
    assert set(points(now, "dataset", "released_on")) == {(ITA, "2025-03-08")}
    default = client.get("/v1/metros/non-metro/exports").get_json()
    assert [{k: v for k, v in p.items() if k != "released_on"} for p in now["data"]] == default["data"]
    assert "released_on" not in default["data"][0] and default["sources"] == now["sources"]
    # one edition named, as of a date after it: the same figures
    assert client.get(f"/v1/metros/non-metro/exports?as_of=2024-06-30&dataset={ITA_2021}").get_json()["data"] == (
        then["data"])
    # a metro's notes (why a figure is null) come with the figure as known
    yuma = client.get("/v1/metros/49740/exports?as_of=2025-03-08").get_json()
    assert yuma["data"] == [{**p, "released_on": "2025-03-08"}
                            for p in client.get("/v1/metros/49740/exports").get_json()["data"]]


def test_metro_series_errors_name_as_of_as_state_series_do(client):
    cases = {
        "as_of=2023-01-30": {"as_of": [
            f"the first release of {ITA} is dated 2023-01-31: none of its figures was known on 2023-01-30"]},
        "as_of=2024-01-01&from=2022": {"as_of": [
            ("no figures for the exports of Portland-Vancouver-Hillsboro, OR-WA to World (WLD) from 2022 as known on "
             "2024-01-01; there are for 2012-2021")]},
        f"as_of=2024-01-01&dataset={ITA}": {"as_of": [f"{ITA} was released on 2025-03-08, after 2024-01-01"]},
        "as_of=2024-01-01&dataset=brookings-export-monitor-2018": {"as_of": [
            "brookings-export-monitor-2018 has no release date"]},
        "as_of=2019-13-01": {"as_of": ["Not a valid date."]},
        "revisions=maybe": {"revisions": ["Not a valid boolean."]},
    }
    for query, errors in cases.items():
        assert problem(client.get(f"/v1/metros/38900/exports?{query}"), 400)["errors"] == errors, query
    assert problem(client.get("/v1/metros/exports?code=38900,10180&as_of=2023-01-30"), 400)["errors"] == (
        cases["as_of=2023-01-30"])


def test_metro_series_revisions(client):
    body = client.get("/v1/metros/non-metro/exports?from=2021&to=2022&revisions=true").get_json()
    assert [(year, value, dataset, [(r["dataset"], r["released_on"], r["value"], r["status"]) for r in revisions])
            for year, value, dataset, revisions in points(body, "year", "value", "dataset", "revisions")] == [
        (2021, 199534442183, ITA, [(ITA, "2025-03-08", 199534442183, "ok"),
                                   (ITA_2021, "2023-01-31", 199534000000, "rounded")]),
        (2022, 227114321710, ITA, [(ITA, "2025-03-08", 227114321710, "ok")])]
    body = client.get("/v1/metros/non-metro/exports?from=2021&as_of=2024-01-01&revisions=true").get_json()
    assert [[(r["dataset"], r["value"]) for r in p["revisions"]] for p in body["data"]] == [
        [(ITA_2021, 199534000000)]]
    body = client.get(f"/v1/metros/non-metro/exports?from=2021&to=2021&dataset={ITA_2021}&revisions=true").get_json()
    assert [(p["value"], [(r["dataset"], r["value"]) for r in p["revisions"]]) for p in body["data"]] == [
        (199534000000, [(ITA, 199534442183), (ITA_2021, 199534000000)])]
    body = client.get("/v1/metros/38900/exports?dataset=brookings-export-monitor-2018&revisions=true").get_json()
    assert points(body, "released_on", "revisions") == [(None, [{
        "dataset": "brookings-export-monitor-2018", "released_on": None, "value": 20973570312, "status": "ok"}])]
    panel = client.get("/v1/metros/exports?code=38900,non-metro&as_of=2024-01-01&revisions=true").get_json()
    assert panel["series"] == [client.get(f"/v1/metros/{code}/exports?as_of=2024-01-01&revisions=true").get_json()
                               for code in ("38900", "non-metro")]


def test_metro_growth_as_known_on_a_date(client):
    def change(query):
        body = client.get(f"/v1/metros/non-metro/growth?{query}").get_json()
        c = body["change"]
        return c["start_year"], c["end_year"], c["start_value"], c["end_value"], [s["id"] for s in body["sources"]]

    assert change("as_of=2024-01-01") == (2012, 2021, 185090000000, 199534000000, [ITA_2021])
    assert change("from=2012&to=2021&as_of=2025-03-08") == change("from=2012&to=2021") == (
        2012, 2021, 185089873034, 199534442183, [ITA])
    assert change("as_of=2025-03-08") == (2005, 2023, 61053712183, 233550191754, [ITA])
    assert problem(client.get("/v1/metros/non-metro/growth?as_of=2023-01-30"), 400)["errors"] == {"as_of": [
        f"the first release of {ITA} is dated 2023-01-31: none of its figures was known on 2023-01-30"]}
    assert problem(client.get("/v1/metros/non-metro/growth?as_of=2024-01-01&from=2005&to=2010"), 400)["errors"] == {
        "as_of": [("no figures for the exports of Non-metropolitan areas to World (WLD) in 2005-2010 as known on "
                   "2024-01-01; there are for 2012-2021")]}


def test_a_metro_series_as_of_two_dates_is_two_requests(client):
    """Each date is its own canonical request: its own ETag and response-cache entry, never another date's."""
    url = "/v1/metros/non-metro/exports?from=2021&to=2021&as_of="
    first = {day: client.get(url + day) for day in ("2024-01-01", "2025-03-08")}
    assert first["2024-01-01"].headers["ETag"] != first["2025-03-08"].headers["ETag"]
    again = {day: client.get(url + day) for day in first}
    assert [(r.headers["X-Cache"], r.get_json()["data"][0]["value"]) for r in again.values()] == [
        ("hit", 199534000000), ("hit", 199534442183)]
    assert all(again[day].get_data() == first[day].get_data() for day in first)
    tag = first["2024-01-01"].headers["ETag"]
    assert client.get(url + "2024-01-01", headers={"If-None-Match": tag}).status_code == 304
    assert client.get(url + "2025-03-08", headers={"If-None-Match": tag}).status_code == 200
    between = client.get(url + "2024-06-30")  # the same release known: the same figures, under its own ETag
    assert between.get_data() == first["2024-01-01"].get_data() and between.headers["ETag"] != tag


def test_partner_endpoints_answer_csv(client):
    text = client.get("/v1/states/VT/partners?limit=2&format=csv").get_data(as_text=True)
    assert text.splitlines()[:2] == ["rank,code,name,kind,value,status,share,dataset,released_on",
                                     f"1,CAN,Canada,country,1014842951,ok,35.713271,{CURRENT},2026-03-31"]
    text = client.get("/v1/partners/WLD/exports?to=2018&format=csv").get_data(as_text=True)
    assert text.splitlines()[1] == (f"2018,1665688483906,ok,{REVISED},2020-10-21,2920494845,1,1662767989061,derived,")


# --- the real files (realdata) -------------------------------------------------------------------------------------

REAL = {INITIAL: "2014-2018/ExportByCountry.csv", REVISED: "StateExportData.csv", CURRENT: "2016-2025/ExportByCountry.csv",
        TOP25_2018: "exctyall_15_18.xls", TOP25_2020: "exctyall_17_20.xls"}
NATION, UNALLOCATED = {"All States"}, {"Unknown", "Unidentified"}
STATE_NAMES = {"Dist of Columbia": "District of Columbia", "US Virgin Islands": "Virgin Islands"}


@pytest.fixture(scope="module")
def files():
    return {d: (read_top25 if name.endswith(".xls") else read_extract)(REAL_DATA / "census_partners" / name)
            for d, name in REAL.items()}


@pytest.fixture(scope="module")
def codes(real_app):
    """Partner names as the files spell them, and state names, to the API's codes: read through the API."""
    client = real_app.test_client()
    partners = {n.lower(): p["code"] for p in client.get("/v1/partners?page_size=500").get_json()["data"]
                for n in p["names"]}
    partners.update({"world total": "WLD", "world": "WLD"})
    states = {s["name"]: s["fips"] for s in client.get("/v1/states?page_size=100").get_json()["data"]}
    return partners, states


def by_place(figures: dict, partners: dict, states: dict) -> dict:
    """{(place, year): {partner code: dollars}}, place a FIPS code, 'US' (All States) or 'unknown'."""
    found = defaultdict(dict)
    for (state, country, year), value in figures.items():
        place = "US" if state in NATION else "unknown" if state in UNALLOCATED else states[STATE_NAMES.get(state, state)]
        found[place, year][partners[country.lower()]] = value
    for (place, year), cells in found.items():
        cells.setdefault("WLD", sum(v for p, v in cells.items() if not p.startswith("G-")))  # 2016-2025: derived
    return found


@pytest.mark.realdata
@pytest.mark.parametrize("dataset", list(REAL))
def test_every_figure_served_equals_its_file(real_client, files, codes, dataset):
    """Every figure of every release, through the API: each state-year's destinations (and its world total), and
    each partner's All States and Unknown rows."""
    expected = by_place(files[dataset], *codes)
    served = 0
    for (place, year), cells in sorted(expected.items()):
        if place in ("US", "unknown"):
            continue
        body = real_client.get(f"/v1/states/{place}/partners?year={year}&dataset={dataset}&limit=300"
                               "&kind=country,group,unallocated").get_json()
        got = {p["code"]: p["value"] for p in body["data"]} | {"WLD": body["world"][0]["value"]}
        assert got == cells, (place, year)
        served += len(got)
    for code in sorted({p for cells in expected.values() for p in cells}):
        body = real_client.get(f"/v1/partners/{code}/exports?dataset={dataset}").get_json()
        for point in body["data"]:
            assert point["value"] == expected.get(("US", point["year"]), {}).get(code), (code, point["year"])
            unknown = expected.get(("unknown", point["year"]), {}).get(code)
            if point["unallocated_status"] != "derived":
                assert point["unallocated"] == unknown, (code, point["year"])
            served += (point["value"] is not None) + (point["unallocated_status"] not in (None, "derived"))
    assert served == sum(len(cells) for cells in expected.values())


@pytest.mark.realdata
def test_default_reads_serve_each_figure_from_the_newest_release_that_covers_it(real_client, files, codes):
    expected = {d: by_place(files[d], *codes) for d in (INITIAL, REVISED, CURRENT)}
    newest = {2014: INITIAL, 2015: REVISED, **{y: CURRENT for y in range(2016, 2026)}}
    fips = sorted({place for (place, _) in expected[CURRENT]})
    fifty_dc = [code for code in fips if code not in ("72", "78")]
    assert len(fips) == 53
    for place in fips:
        for partner in ("WLD", "CAN"):
            body = real_client.get(f"/v1/states/{place}/exports?partner={partner}&from=2014").get_json()
            assert [(p["year"], p["dataset"], p["value"]) for p in body["data"]] == [
                (y, d, expected[d][place, y][partner]) for y, d in newest.items()
                if partner in expected[d][place, y]], (place, partner)  # a zero cell is left out: no point
        if place in fifty_dc:  # a share is over the 50 states and DC in the release of each year
            body = real_client.get(f"/v1/states/{place}/exports?units=share&from=2014").get_json()
            assert [(p["year"], p["value"]) for p in body["data"]] == [
                (y, round(100 * expected[d][place, y]["WLD"] / sum(expected[d][s, y]["WLD"] for s in fifty_dc), 6))
                for y, d in newest.items()], place
        for year in range(2014, 2026):
            body = real_client.get(f"/v1/states/{place}/partners?year={year}&limit=300&kind=country,group,"
                                   "unallocated").get_json()
            for item in body["data"]:
                assert item["value"] == expected[item["dataset"]][place, year][item["code"]], (place, year, item)
                assert item["dataset"] == (REVISED if item["kind"] != "country" and year > 2015 else
                                           newest[year]), (place, year, item)  # no groups nor XXX in 2016-2025


@pytest.mark.realdata
def test_oregon_2019_as_first_published_and_as_revised(real_client):
    def known(as_of):
        return real_client.get(f"/v1/states/OR/exports?from=2019&to=2019&as_of={as_of}").get_json()["data"]

    assert problem(real_client.get("/v1/states/OR/exports?from=2019&to=2019&as_of=2020-10-20"), 400)["errors"] == {
        "as_of": [("no figures for the exports of Oregon to World (WLD) in 2019 as known on 2020-10-20; there are for "
                  "2014-2018")]}
    for as_of in ("2020-10-21", "2026-03-30"):
        assert [(p["value"], p["dataset"]) for p in known(as_of)] == [(23599198269, REVISED)]
    assert [(p["value"], p["dataset"]) for p in known("2026-03-31")] == [(25879518752, CURRENT)]
    body = real_client.get("/v1/states/OR/exports?from=2019&to=2019&revisions=true").get_json()
    assert [(r["dataset"], r["value"]) for r in body["data"][0]["revisions"]] == [
        (CURRENT, 25879518752), (REVISED, 23599198269)]
    assert round(25879518752 / 23599198269 - 1, 3) == 0.097


@pytest.mark.realdata
def test_houston_as_known_between_the_two_ita_editions(real_client):
    """The 2012-2021 edition wrote Houston's larger figures in scientific notation (rounded); the workbook of
    2025-03-08 gives them whole."""
    def known(query):
        return real_client.get(f"/v1/metros/26420/exports?{query}").get_json()["data"]

    then = known("as_of=2024-06-30")
    assert [(p["year"], p["dataset"]) for p in then] == [(y, ITA_2021) for y in range(2012, 2022)]
    assert [(p["value"], p["status"]) for p in then if p["year"] == 2019] == [(129656000000, "rounded")]
    now = known("as_of=2025-03-08")
    assert [(p["year"], p["dataset"]) for p in now] == [(y, ITA) for y in range(2005, 2024)]
    assert [(p["value"], p["status"]) for p in now if p["year"] == 2019] == [(129656007187, "ok")]
    assert [[(r["dataset"], r["value"]) for r in p["revisions"]] for p in known("revisions=true&from=2019&to=2019")] == [
        [(ITA, 129656007187), (ITA_2021, 129656000000)]]


@pytest.mark.realdata
def test_every_metro_as_known_on_a_date_is_the_edition_published_by_then(real_client):
    """Every place of ITA's series: as of a date between the editions, the 2012-2021 edition's figures; after the
    second, the workbook's (what a read without as_of serves)."""
    codes, page = [], 1
    while page:
        body = real_client.get(f"/v1/metros?page_size=500&page={page}").get_json()
        codes += [m["code"] for m in body["data"]]
        page = page + 1 if page < body["meta"]["pages"] else 0
    served = 0
    for start in range(0, len(codes), 50):
        chunk = ",".join(codes[start:start + 50])
        for as_of, dataset in (("2024-06-30", ITA_2021), ("2025-03-08", ITA)):
            edition = real_client.get(f"/v1/metros/exports?code={chunk}&dataset={dataset}").get_json()["series"]
            response = real_client.get(f"/v1/metros/exports?code={chunk}&as_of={as_of}")
            # a 400 (naming as_of) where none of the places has a figure known then
            asked = response.get_json()["series"] if response.status_code == 200 else [{"data": []} for _ in edition]
            assert [[{k: v for k, v in p.items() if k != "released_on"} for p in s["data"]] for s in asked] == [
                s["data"] for s in edition], (as_of, chunk)
            served += sum(len(s["data"]) for s in asked)
    assert served == 7942 + 4020  # every figure of each edition, nulls with their status included


@pytest.mark.realdata
@pytest.mark.parametrize("as_of, year, expected", [("2020-10-21", 2019, {"CAN": 32, "MEX": 7, "CHN": 3}),
                                                   ("2019-03-31", 2018, {"CAN": 33, "MEX": 7, "CHN": 4}),
                                                   (None, 2024, {"CAN": 32, "MEX": 9, "CHN": 4})])
def test_top_destination_of_each_state_as_known_then(real_client, codes, as_of, year, expected):
    """The data README's counts: each state's first destination, from the release known on the date."""
    _, states = codes
    top = Counter()
    for fips in states.values():
        body = real_client.get(f"/v1/states/{fips}/partners?year={year}&limit=1" +
                               (f"&as_of={as_of}" if as_of else "")).get_json()
        if "data" in body:
            top[body["data"][0]["code"]] += 1
    assert sum(top.values()) == 53 and {p: top[p] for p in expected} == expected


@pytest.mark.realdata
def test_national_totals_and_check_figures_of_the_data_readme(real_client):
    points = {p["year"]: p for p in real_client.get("/v1/partners/WLD/exports").get_json()["data"]}
    assert (points[2018]["value"], points[2019]["value"]) == (1665688483906, 1643160852937)
    assert [points[y]["dataset"] for y in range(2014, 2020)] == [INITIAL] + [REVISED] * 5
    assert (round(points[2024]["states_total"] / 1e8), round(points[2025]["states_total"] / 1e8)) == (19874, 20861)
    assert points[2024]["value"] is None and points[2024]["reason"].startswith(NO_ALL_STATES)
    first = {p["year"]: p for p in real_client.get("/v1/partners/WLD/exports?as_of=2019-03-31").get_json()["data"]}
    assert (first[2018]["value"], first[2018]["unallocated"], first[2018]["unallocated_status"]) == (
        1664055580908, 56380165016, "ok")
    body = real_client.get("/v1/rankings/states?partner=CAN&year=2018&limit=1").get_json()
    assert [(r["code"], r["value"]) for r in body["data"]] == [("48", 27543750110)]
    body = real_client.get("/v1/states/TX/growth?from=2018&to=2024").get_json()
    assert (body["change"]["start_value"], body["change"]["end_value"]) == (315843026112, 454408411812)
