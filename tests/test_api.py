"""The v1 read API over the fixture store: figures, formats, pagination and errors."""

import csv
import io

import pytest
from helpers import problem


def test_search_metros_over_current_and_former_titles(client):
    body = client.get("/v1/metros?q=portland").get_json()
    assert [(m["code"], m["name"], m["states"]) for m in body["data"]] == [
        ("38860", "Portland-South Portland, ME", ["ME"]), ("38900", "Portland-Vancouver-Hillsboro, OR-WA", ["OR", "WA"])]
    assert body["meta"] == {"total": 2, "page": 1, "page_size": 50, "pages": 2 // 50 + 1}
    # a former title (2013: Aguadilla-Isabela) and accents (Mayagüez) are found
    assert [m["code"] for m in client.get("/v1/metros?q=isabela").get_json()["data"]] == ["10380"]
    assert [m["code"] for m in client.get("/v1/metros?q=MAYAGUEZ").get_json()["data"]] == ["32420"]


def test_like_metacharacters_in_q_match_literally(client):
    for q in ("%", "_", "100%", "a_b", "\\"):
        response = client.get("/v1/metros", query_string={"q": q})
        assert response.status_code == 200
        assert response.get_json()["data"] == []


def test_filter_metros_by_state_type_and_currency(client):
    body = client.get("/v1/metros?state=wa").get_json()
    assert [m["code"] for m in body["data"]] == ["38900"]
    assert client.get("/v1/metros?state=53").get_json() == body
    body = client.get("/v1/metros?state=TX&type=micropolitan").get_json()
    assert [(m["code"], m["type"]) for m in body["data"]] == [("28780", "micropolitan"), ("49820", "micropolitan")]
    retired = client.get("/v1/metros?current=false").get_json()["data"]
    assert ("11300", "Anderson, IN", "2009", False) in [(m["code"], m["name"], m["delineation"], m["current"])
                                                         for m in retired]
    unallocated = client.get("/v1/metros?type=unallocated").get_json()["data"]
    assert sorted(m["code"] for m in unallocated) == [
        "crossovers", "non-metro", "other-metro", "rest-of-01", "rest-of-41", "unknown"]


def test_sort_metros_by_exports_in_a_year(client):
    body = client.get("/v1/metros?sort=-exports&year=2015&page_size=3").get_json()
    assert [(m["code"], m["exports"]["value"], m["exports"]["status"]) for m in body["data"]] == [
        ("31080", 61758749222, "ok"), ("33460", 19608613988, "ok"), ("38900", 18847798760, "ok")]
    last = client.get("/v1/metros?sort=-exports&year=2015&page_size=3&page=5").get_json()["data"]
    assert all(m["exports"]["value"] is None for m in last)  # missing figures sort last
    latest = client.get("/v1/metros?sort=-exports&page_size=2").get_json()["data"]  # year: ITA's latest, 2023
    assert [(m["code"], m["exports"]["year"], m["exports"]["value"]) for m in latest] == [
        ("31080", 2023, 59561594613), ("38900", 2023, 26973156822)]


def test_pagination_links_and_total(client):
    response = client.get("/v1/metros?page_size=5&page=2&sort=code")
    body = response.get_json()
    total = int(response.headers["X-Total-Count"])
    assert body["meta"] == {"total": total, "page": 2, "page_size": 5, "pages": -(-total // 5)}
    assert total == 25  # 19 CBSAs, then 6 unallocated rows
    assert [m["code"] for m in body["data"]] == ["19430", "28780", "31080", "32420", "33460"]
    def url(n):
        return f"http://localhost/v1/metros?page_size=5&page={n}&sort=code"
    assert response.headers["Link"] == (f'<{url(1)}>; rel="first", <{url(5)}>; rel="last", '
                                        f'<{url(1)}>; rel="prev", <{url(3)}>; rel="next"')


def test_the_list_holds_every_place_a_metro_path_answers_for(client):
    """ITA's Z- rows (and Brookings' rest-of-state rows) are listed after the CBSAs and found by the source's titles."""
    body = client.get("/v1/metros?page_size=100").get_json()
    assert [m["code"] for m in body["data"]][-6:] == ["crossovers", "non-metro", "other-metro", "rest-of-01",
                                                      "rest-of-41", "unknown"]  # by name
    assert {m["type"] for m in body["data"][:-6]} == {"metropolitan", "micropolitan"}
    found = client.get("/v1/metros", query_string={"q": "Z-Other Metropolitan Areas"}).get_json()["data"]
    assert [(m["code"], m["type"], m["internal_point"]) for m in found] == [("other-metro", "unallocated", None)]
    assert [m["code"] for m in client.get("/v1/metros?q=saint+paul").get_json()["data"]] == ["33460"]
    ranked = client.get("/v1/metros?sort=-exports&year=2023&page_size=100").get_json()["data"]
    assert [m["code"] for m in ranked][:2] == ["31080", "38900"]
    assert [m["code"] for m in ranked][-6:][:3] == ["non-metro", "other-metro", "crossovers"]  # after every CBSA


def test_the_list_gives_each_cbsa_its_internal_point(client):
    """One call draws the map: each CBSA's point from the newest file that gives one (not a stand-in row)."""
    body = client.get("/v1/metros?q=dayton").get_json()
    assert [(m["code"], m["internal_point"]) for m in body["data"]] == [
        ("19380", {"lat": 39.8288538, "lon": -84.1418129, "vintage": "2015"}),
        ("19430", {"lat": 39.829746, "lon": -84.140992, "vintage": "2020"})]
    assert client.get("/v1/metros?q=waterbury").get_json()["data"][0]["internal_point"] is None  # in no such file


@pytest.mark.parametrize("query, field, message", [
    ("page_size=501", "page_size", "Must be greater than or equal to 1 and less than or equal to 500."),
    ("page=0", "page", "Must be greater than or equal to 1 and less than or equal to 1000000."),
    ("sort=size", "sort", "Must be one of: name, -name, code, -code, exports, -exports."),
    ("colour=red", "colour", "Unknown field."),
    ("type=city", "type", "Must be one of: metropolitan, micropolitan, unallocated."),
    ("state=ZZ", "state", "no state, DC or territory has the code 'ZZ'"),
    ("year=abc&sort=-exports", "year", "Not a valid integer."),
])
def test_bad_parameters_are_400_problems_naming_the_field(client, query, field, message):
    body = problem(client.get(f"/v1/metros?{query}"), 400)
    assert body["title"] == "Bad Request"
    assert body["errors"][field] == [message]
    assert field in body["detail"]


def test_metro_detail(client):
    body = client.get("/v1/metros/10380").get_json()
    assert body["name"] == "Aguadilla, PR" and body["type"] == "metropolitan" and body["current"] is True
    assert body["states"] == [{"fips": "72", "usps": "PR", "name": "Puerto Rico"}]
    assert body["titles"]["2013"] == "Aguadilla-Isabela, PR"
    assert body["former_titles"] == ["Aguadilla-Isabela, PR", "Aguadilla-Isabela-San Sebastián, PR"]
    # the newest delineation's land (the March 2020 row standing in for the 2023 list), not TIGER 2015's 1222490239
    assert (body["land_area_m2"], body["land_area_delineation"]) == (1222529589, "2023")
    assert [(d["vintage"], d["title"], d["land_area_m2"]) for d in body["history"]][:3] == [
        ("2009", "Aguadilla-Isabela-San Sebastián, PR", 928442973), ("2013", "Aguadilla-Isabela, PR", 1222481389),
        ("2015", "Aguadilla-Isabela, PR", 1222490239)]
    assert body["history"][-1]["note"].startswith("The July 2023 file lacks Puerto Rico: the March 2020 definition")
    assert body["internal_point"] == {"lat": 18.356965, "lon": -67.007895, "vintage": "2020"}
    assert (body["successions"], body["successor"]) == ([], None)
    assert {"dataset": "ita-metro-exports", "indicator": "exports_goods", "first_year": 2005, "last_year": 2023,
            "figures": 19} in body["datasets"]


def test_a_retired_metro_names_its_successor(client):
    body = client.get("/v1/metros/19380").get_json()
    assert (body["current"], body["successor"]) == (False, {"kind": "metro", "code": "19430",
                                                            "name": "Dayton-Kettering-Beavercreek, OH"})
    assert body["successions"] == [{
        "predecessor": "19380", "predecessor_name": "Dayton, OH", "successor": "19430",
        "successor_name": "Dayton-Kettering-Beavercreek, OH", "from_vintage": "2013", "vintage": "2018", "counties": 3,
        "share_of_predecessor": 1.0, "share_of_successor": 1.0, "predecessor_retired": True, "successor_new": True}]
    assert client.get("/v1/metros/19430").get_json()["successions"] == body["successions"]
    assert body["land_area_m2"] == 3320017396 and body["land_area_delineation"] == "2015"  # TIGER 2015 layer


def test_a_retired_code_s_series_links_its_successor(client):
    """Never an unexplained empty list: the successor in a Link header and the body, and a hint."""
    response = client.get("/v1/metros/19380/exports?from=2010")
    body = response.get_json()
    assert response.headers["Link"] == '<http://localhost/v1/metros/19430/exports?from=2010>; rel="successor"'
    assert body["data"] == [] and body["successor"] == {"kind": "metro", "code": "19430",
                                                         "name": "Dayton-Kettering-Beavercreek, OH"}
    assert body["hint"] == (
        "ita-metro-exports has no figures under 19380 (Dayton, OH): the code was retired, and the sources file the "
        "area under its successor 19430 (Dayton-Kettering-Beavercreek, OH), the current CBSA holding most of its "
        "land: /v1/metros/19430/exports")
    response = client.get("/v1/metros/19380/indicators")
    assert response.headers["Link"] == '<http://localhost/v1/metros/19430/indicators>; rel="successor"'
    assert response.get_json()["hint"].startswith("No dataset has figures under 19380 (Dayton, OH): the code was")
    body = client.get("/v1/metros/11300/exports?from=2010&to=2010").get_json()  # retired, its counties in Indianapolis
    assert body["successor"] is None and "hint" not in body and body["data"][0]["value"] == 63492857
    current = client.get("/v1/metros/38900/exports?from=2023")
    assert "Link" not in current.headers and current.get_json()["successor"] is None


def test_a_point_gives_the_reason_for_its_status(client):
    body = client.get("/v1/metros/47930/exports?from=2021&to=2023").get_json()
    assert [(p["year"], p["status"], p["note"]) for p in body["data"]] == [
        (2021, "not_available", "Not a CBSA in the March 2020 delineation, in force for 2021."),
        (2022, "not_available", "Not a CBSA in the March 2020 delineation, in force for 2022."), (2023, "ok", None)]


def test_unknown_metro_is_404_with_a_hint(client):
    body = problem(client.get("/v1/metros/99999"), 404)
    assert body["detail"] == "No CBSA or unallocated area has the code '99999' in any delineation from 2009 to 2023."
    assert "hint" not in body
    assert problem(client.get("/v1/metros/portland"), 404)["hint"] == (
        "CBSAs are named by their five-digit code; to find one by name try /v1/metros?q=portland")
    assert problem(client.get("/v1/metros/CA"), 404)["hint"] == "'CA' looks like a state code: try /v1/states/CA"


def test_metro_exports_series_names_its_source_and_keeps_suppressed_years_null(client):
    body = client.get("/v1/metros/49740/exports?from=2013&to=2017").get_json()
    assert body["geography"] == {"kind": "metro", "code": "49740", "name": "Yuma, AZ"}
    assert body["indicators"] == [{"name": "exports_goods", "title": "Exports of goods (merchandise)", "unit": "USD",
                                   "dollar_basis": "nominal"}]
    assert [s["id"] for s in body["sources"]] == ["ita-metro-exports"]
    assert [(p["year"], p["value"], p["status"]) for p in body["data"]] == [
        (2013, 460274194, "ok"), (2014, None, "suppressed"), (2015, None, "suppressed"), (2016, None, "suppressed"),
        (2017, 383012156, "ok")]


def test_metro_exports_other_datasets(client):
    body = client.get("/v1/metros/10180/exports?dataset=brookings-export-monitor-2018").get_json()
    assert [(p["indicator"], p["year"], p["value"]) for p in body["data"]] == [
        ("exports_goods_services", 2017, 681149475)]
    assert body["indicators"][0]["name"] == "exports_goods_services"
    body = problem(client.get("/v1/metros/10180/exports?dataset=nope"), 404)
    assert body["hint"] == "The loaded datasets are listed at /v1/datasets"
    problem(client.get("/v1/metros/10180/exports?from=2010&to=2009"), 400)


def test_series_as_csv(client):
    expected = ("geography_code,geography_name,dataset,indicator,year,value,status,units,level,note\r\n"
                "49740,\"Yuma, AZ\",ita-metro-exports,exports_goods,2013,460274194,ok,level,460274194,\r\n"
                "49740,\"Yuma, AZ\",ita-metro-exports,exports_goods,2014,,suppressed,level,,\r\n")
    for response in (client.get("/v1/metros/49740/exports?from=2013&to=2014&format=csv"),
                     client.get("/v1/metros/49740/exports?from=2013&to=2014", headers={"Accept": "text/csv"})):
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.get_data(as_text=True) == expected
        assert "Accept" in response.headers["Vary"]


def test_collection_as_csv(client):
    text = client.get("/v1/metros?q=portland&format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["code", "name", "type", "states", "delineation", "current", "exports_year", "exports_value",
                       "exports_status"]
    assert rows[2] == ["38900", "Portland-Vancouver-Hillsboro, OR-WA", "metropolitan", "OR;WA", "2023", "True", "", "",
                       ""]


def test_csv_has_a_path_of_its_own(client):
    """A collection's or series' CSV at its path + .csv: what format=csv answers on the JSON path, with the same
    headers but the Link ones, which name the .csv path; Accept has no say there, and a format parameter is refused."""
    as_csv = client.get("/v1/metros.csv?q=portland&page_size=1", headers={"Accept": "application/json"})
    compatible = client.get("/v1/metros?q=portland&page_size=1&format=csv")
    assert (as_csv.status_code, as_csv.mimetype) == (200, "text/csv")
    assert as_csv.get_data() == compatible.get_data()
    assert list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))[1][:2] == ["38860",
                                                                                  "Portland-South Portland, ME"]
    assert as_csv.headers["Link"] == ('<http://localhost/v1/metros.csv?q=portland&page_size=1&page=1>; rel="first", '
                                      '<http://localhost/v1/metros.csv?q=portland&page_size=1&page=2>; rel="last", '
                                      '<http://localhost/v1/metros.csv?q=portland&page_size=1&page=2>; rel="next"')
    for name in ("Content-Type", "Content-Disposition", "X-Total-Count", "Cache-Control", "Vary", "RateLimit-Policy"):
        assert as_csv.headers[name] == compatible.headers[name], name
    assert as_csv.headers["Content-Disposition"] == 'inline; filename="Metros.csv"'
    retired = client.get("/v1/metros/19380/exports.csv?from=2010")
    assert retired.headers["Link"] == '<http://localhost/v1/metros/19430/exports.csv?from=2010>; rel="successor"'
    body = problem(client.get("/v1/metros/38900/exports.csv?format=json"), 400)
    assert body["errors"] == {"format": ["Unknown field: this path answers CSV; JSON is at /v1/metros/38900/exports."]}
    assert problem(client.get("/v1/metros/99999/exports.csv"), 404)["detail"] == (
        "No CBSA or unallocated area has the code '99999' in any delineation from 2009 to 2023.")
    assert client.get("/v1/metros/38900.csv").status_code == 404  # a JSON-only operation has no CSV path
    assert client.get("/v1/datasets/ita-metro-exports/download.csv").status_code == 404  # a file is CSV already


def test_csv_is_refused_where_it_is_not_offered(client):
    body = problem(client.get("/v1/metros/38900?format=csv"), 400)
    assert body["errors"] == {"format": ["CSV is not available for this operation."]}
    assert client.get("/v1/metros/38900", headers={"Accept": "text/csv"}).mimetype == "application/json"


def test_metro_indicators(client):
    body = client.get("/v1/metros/10180/indicators?name=population,jobs&from=2019").get_json()
    assert [(p["dataset"], p["indicator"], p["year"], p["value"], p["status"]) for p in body["data"]] == [
        ("census-population-2019", "population", 2019, 172060, "ok"),
        ("metro-monitor-2021", "jobs", 2019, 78880.617, "ok"),
        ("metro-monitor-2021", "population", 2019, 172060, "derived")]
    assert [s["id"] for s in body["sources"]] == ["census-population-2019", "metro-monitor-2021"]
    assert {i["name"]: i["unit"] for i in body["indicators"]} == {"jobs": "jobs", "population": "persons"}
    body = problem(client.get("/v1/metros/10180/indicators?name=gdp"), 400)
    assert "name" in body["errors"]


def test_states_by_fips_or_usps(client):
    for code in ("06", "CA", "ca", "6"):
        body = client.get(f"/v1/states/{code}").get_json()
        assert (body["fips"], body["usps"], body["name"]) == ("06", "CA", "California")
    assert client.get("/v1/states/CA").get_json()["metros"] == 1
    assert problem(client.get("/v1/states/38900"), 404)["hint"] == "'38900' looks like a CBSA code: try /v1/metros/38900"
    listing = client.get("/v1/states?page_size=100").get_json()
    assert listing["meta"]["total"] == 56  # 50 states, DC and 5 territories
    assert listing["data"][0] == {"fips": "01", "usps": "AL", "name": "Alabama"}


def test_state_exports_all_industries_by_default(client):
    body = client.get("/v1/states/OR/exports").get_json()
    assert [(p["dataset"], p["year"], p["value"], p["industry"], p["partner"]) for p in body["data"]] == [
        ("census-state-exports-2012", 2012, 18387857493, "ALL", "WLD"),  # one series across the files, in year order
        ("census-state-exports-2013-2018", 2013, 18633579686, "ALL", "WLD"),
        ("census-state-exports-2013-2018", 2018, 22331756938, "ALL", "WLD"),
        ("census-api-statenaics-2019-or", 2019, 22845120417, "ALL", "WLD")]
    assert body["indicators"][0]["unit"] == "USD"


def test_state_exports_by_industry_level_partner(client):
    body = client.get("/v1/states/41/exports?industry=336,3361&dataset=census-state-exports-2012").get_json()
    assert [(p["industry"], p["industry_title"], p["value"]) for p in body["data"]] == [
        ("336", "Transportation Equipment", 1159742188), ("3361", "Motor Vehicles", 332879331)]
    body = client.get("/v1/states/OR/exports?naics_level=2&from=2018").get_json()  # 31-33 = 31 + 32 + 33: left out
    assert [p["industry"] for p in body["data"]] == ["11", "21", "31", "32", "33", "91", "93", "98", "99"]
    body = client.get("/v1/states/OR/exports?partner=1220&industry=336").get_json()
    assert [(p["partner"], p["value"]) for p in body["data"]] == [("CAN", 301477180)]  # Census 1220 is Canada
    body = problem(client.get("/v1/states/OR/exports?industry=336&naics_level=3"), 400)
    assert body["errors"] == {"naics_level": ["give industry or naics_level, not both"]}
    problem(client.get("/v1/states/OR/exports?industry=3x6"), 400)


def test_state_metros(client):
    body = client.get("/v1/states/OR/metros").get_json()
    assert [m["code"] for m in body["data"]] == ["38900"]


def test_code_lists_and_datasets(client):
    body = client.get("/v1/industries?level=4").get_json()
    assert body["data"] == [{"code": "3361", "title": "Motor Vehicles", "level": 4, "classification": "naics",
                             "parent": "336", "aggregate": False}]
    assert client.get("/v1/industries?q=transport").get_json()["data"][0]["code"] == "336"
    partners = {p["code"]: p for p in client.get("/v1/partners?page_size=500").get_json()["data"]}
    assert {k: partners["CAN"][k] for k in ("code", "name", "kind", "iso2", "codes")} == {
        "code": "CAN", "name": "Canada", "kind": "country", "iso2": "CA",
        "codes": [{"code": "1220", "system": "census"}, {"code": "CA", "system": "iso2"}]}
    assert partners["WLD"]["name"] == "World" and partners["WLD"]["kind"] == "world"
    datasets = client.get("/v1/datasets?page_size=100").get_json()
    assert "ita-metro-exports" in [d["id"] for d in datasets["data"]]
    body = client.get("/v1/datasets/brookings-export-monitor-2018").get_json()
    assert body["row_count"] == 15 and body["source_file"] == "cbsa_export.csv" and len(body["sha256"]) == 64


def test_unknown_route_and_method_are_problems(client):
    body = problem(client.get("/v1/nothing-here"), 404)
    assert body["title"] == "Not Found"
    response = client.post("/v1/metros")
    body = problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["datasets"] >= 13


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/never-built.sqlite", "postgresql+psycopg://nobody@127.0.0.1:9/none"])
def test_readiness_fails_when_the_store_is_unreachable_or_not_built(tmp_path, url):
    from api import create_app
    client = create_app({"DATABASE_URL": url.format(tmp=tmp_path)}).test_client()
    response = client.get("/readyz")
    body = problem(response, 503)
    assert body["detail"] == "The store is unreachable or not built (OperationalError)."
    assert response.headers["Retry-After"] == "5"
    assert client.get("/healthz").get_json() == {"status": "ok"}


@pytest.mark.realdata
def test_real_retired_dayton_names_its_successor(real_client):
    """Brookings 2017 files Dayton under 19380, ITA and Metro Monitor under 19430."""
    response = real_client.get("/v1/metros/19380/exports")
    assert response.headers["Link"] == '<http://localhost/v1/metros/19430/exports>; rel="successor"'
    assert response.get_json()["data"] == [] and "19430 (Dayton-Kettering-Beavercreek, OH)" in (
        response.get_json()["hint"])
    body = real_client.get("/v1/metros/19380/exports?dataset=brookings-export-monitor-2018").get_json()
    assert [(p["year"], p["value"]) for p in body["data"]] == [(2017, 4675032715)] and "hint" not in body
    assert body["successor"]["code"] == "19430"
    assert real_client.get("/v1/metros/19430/exports?from=2017&to=2017").get_json()["data"][0]["value"] > 0
    # and the other way round: the successor's empty Brookings series names the code Brookings files it under
    for path in ("exports", "indicators"):
        body = real_client.get(f"/v1/metros/19430/{path}?dataset=brookings-export-monitor-2018").get_json()
        assert body["data"] == [] and body["hint"] == (
            "brookings-export-monitor-2018 has no figures under 19430 (Dayton-Kettering-Beavercreek, OH): the source "
            "files the area under the retired code 19380 (Dayton, OH), whose successor this CBSA is: "
            f"/v1/metros/19380/{path}?dataset=brookings-export-monitor-2018")


@pytest.mark.realdata
def test_real_one_call_draws_the_map_of_current_metros(real_client):
    body = real_client.get("/v1/metros?type=metropolitan&current=true&page_size=500").get_json()
    assert body["meta"]["total"] == 395
    # new in the July 2023 list, whose file gives no points, and in no older file
    assert [m["code"] for m in body["data"] if m["internal_point"] is None] == [
        "11200", "17410", "28450", "28880", "43640", "47930", "48680"]
    found = real_client.get("/v1/metros", query_string={"q": "Z-Other Metropolitan Areas"}).get_json()["data"]
    assert [m["code"] for m in found] == ["other-metro"]
