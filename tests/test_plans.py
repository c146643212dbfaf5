"""Export plans: the curated facts, the API, and progress measured against the ITA series by hand."""

import pytest
import yaml

from loaders import SourceError, build
from loaders.plans import PLANS_FILE, parse

# ITA goods exports (the fixture xlsx rows are the real ones)
LA_2010, LA_2023 = 62167613418, 59561594613
MSP_2010 = 23192787044
SYRACUSE_2012 = 1915451253
PORTLAND_2012 = 20337729876


def test_curated_file_holds_every_cohort_and_nothing_invented():
    _, plans = parse(PLANS_FILE)
    by_slug = {p["slug"]: p for _, p in plans}
    cohorts = [p["cohort"] for p in by_slug.values()]
    assert (cohorts.count("pilot-2012"), cohorts.count("exchange-2013"), cohorts.count("global-cities-2015")) == (
        4, 9, 28)
    la = by_slug["los-angeles-2012"]
    assert (la["cbsa"], str(la["released_on"]), la["baseline"]) == (
        "31080", "2012-03-21", {"value": 79800000000, "year": 2010, "basis": "goods and services"})
    assert by_slug["minneapolis-saint-paul-2012"]["target"]["value"] == 35000000000
    assert by_slug["syracuse-2012"]["baseline"] == {"value": 3300000000, "year": None, "basis": "goods and services"}
    assert by_slug["portland-2012"]["released_on"] is None and by_slug["portland-2012"]["target"]["year"] is None
    assert la["strategies"] is None and by_slug["portland-2012"]["strategies"] is None
    assert by_slug["minneapolis-saint-paul-2012"]["strategies"][0] == "a unified export team"
    assert all(p["title"] is None and p["baseline"] is None for p in by_slug.values() if p["cohort"] != "pilot-2012")


def test_list_and_filter_plans(client):
    body = client.get("/v1/export-plans?cohort=pilot-2012").get_json()
    assert [(p["slug"], p["cbsa"]) for p in body["data"]] == [
        ("los-angeles-2012", "31080"), ("minneapolis-saint-paul-2012", "33460"), ("portland-2012", "38900"),
        ("syracuse-2012", "45060")]
    assert [p["slug"] for p in client.get("/v1/export-plans?metro=31080").get_json()["data"]] == [
        "los-angeles-2015", "los-angeles-2012"]
    assert [p["slug"] for p in client.get("/v1/export-plans?state=wa").get_json()["data"]] == ["portland-2012"]
    text = client.get("/v1/export-plans?cohort=pilot-2012&format=csv").get_data(as_text=True)
    assert text.splitlines()[1] == ('los-angeles-2012,pilot-2012,Los Angeles,31080,'
                                    '"Los Angeles-Long Beach-Anaheim, CA",Los Angeles Regional Export Plan,2012-03-21')


def test_plan_detail_embeds_the_metro_and_links(client):
    body = client.get("/v1/export-plans/minneapolis-saint-paul-2012").get_json()
    assert body["lead_organisation"] == "Minnesota Trade Office, with Greater MSP"
    assert body["baseline"] == {"value": 17600000000, "year": 2010, "basis": "goods and services"}
    assert body["target"]["value"] == 35000000000 and body["target"]["year"] == 2017
    assert body["metro"]["code"] == "33460" and body["metro"]["states"] == ["MN", "WI"]
    assert body["links"]["exports"] == "/v1/metros/33460/exports"
    body = client.get("/v1/export-plans/nope").get_json()
    assert body["status"] == 404 and body["hint"] == "The plans are listed at /v1/export-plans"


def test_metro_lists_its_plans(client):
    body = client.get("/v1/metros/31080").get_json()
    assert body["export_plans"] == [
        {"slug": "los-angeles-2015", "cohort": "global-cities-2015", "title": None},
        {"slug": "los-angeles-2012", "cohort": "pilot-2012", "title": "Los Angeles Regional Export Plan"}]


def test_progress_los_angeles(client):
    body = client.get("/v1/export-plans/los-angeles-2012/progress").get_json()
    assert body["series"]["id"] == "ita-metro-exports" and body["indicator"] == "exports_goods"
    assert "goods only" in body["basis_note"] and "goods and services" in body["basis_note"]
    assert body["start_year"] == 2010 and body["notes"] == []
    assert body["target_multiple"] == 2.0
    assert body["required_cagr"] == round(100 * (2 ** (1 / 5) - 1), 6) == 14.869835
    assert body["series_start_value"] == LA_2010
    assert body["series_goal_value"] == 2 * LA_2010
    assert (body["goal_reached"], body["goal_reached_in"]) == (False, None)
    achieved = body["achieved"]
    assert (achieved["start_year"], achieved["end_year"], achieved["end_value"]) == (2010, 2023, LA_2023)
    assert achieved["absolute"] == LA_2023 - LA_2010
    assert achieved["percent"] == round(100 * (LA_2023 - LA_2010) / LA_2010, 6)
    assert achieved["cagr"] == round(100 * ((LA_2023 / LA_2010) ** (1 / 13) - 1), 6)
    first, last = body["years"][0], body["years"][-1]
    assert first == {"year": 2010, "value": LA_2010, "status": "ok", "index": 100, "on_track_value": LA_2010}
    assert last["on_track_value"] == round(LA_2010 * 2 ** (13 / 5))


@pytest.mark.parametrize("slug", ["los-angeles-2012", "minneapolis-saint-paul-2012", "syracuse-2012"])
def test_on_track_path_reaches_the_goal_in_the_target_year_to_the_dollar(client, slug):
    body = client.get(f"/v1/export-plans/{slug}/progress").get_json()
    on_track = {y["year"]: y["on_track_value"] for y in body["years"]}
    assert on_track[body["start_year"]] == body["series_start_value"]
    assert on_track[body["target"]["year"]] == body["series_goal_value"]


def test_progress_minneapolis(client):
    body = client.get("/v1/export-plans/minneapolis-saint-paul-2012/progress").get_json()
    multiple = 35000000000 / 17600000000
    assert body["required_cagr"] == round(100 * (multiple ** (1 / 7) - 1), 6)
    assert body["series_goal_value"] == round(MSP_2010 * multiple)
    assert body["goal_reached"] is False


def test_progress_without_baseline_year_starts_at_release_and_says_so(client):
    body = client.get("/v1/export-plans/syracuse-2012/progress").get_json()
    assert body["start_year"] == 2012
    assert body["notes"] == [("The plan states no baseline year; the series starts in 2012, the year the plan was "
                             "released.")]
    assert body["required_cagr"] == round(100 * (2 ** (1 / 5) - 1), 6)
    assert body["series_goal_value"] == 2 * SYRACUSE_2012
    assert [y["year"] for y in body["years"]] == list(range(2012, 2024))


def test_progress_without_target_year(client):
    body = client.get("/v1/export-plans/portland-2012/progress").get_json()
    assert (body["start_year"], body["series_start_value"]) == (2012, PORTLAND_2012)
    assert body["required_cagr"] is None
    assert body["required_cagr_reason"] == "the plan states no target year"
    assert body["series_goal_value"] == 2 * PORTLAND_2012
    assert body["goal_reached"] is False
    assert body["years"][-2] == {"year": 2022, "value": 34368003214, "status": "ok",
                                 "index": round(100 * 34368003214 / PORTLAND_2012, 6), "on_track_value": None}


def test_plan_with_unknown_cbsa_is_rejected(engine, data_copy):
    path = data_copy / "export_plans.yaml"
    document = yaml.safe_load(path.read_text())
    document["plans"][1]["cbsa"] = "00000"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SourceError, match=r"export_plans.yaml, line \d+, column cbsa: CBSA '00000' of plan "
                                          r"'minneapolis-saint-paul-2012' is not in the store"):
        build(engine, data_copy, force=True)


def test_plan_missing_a_field_is_rejected(engine, data_copy):
    path = data_copy / "export_plans.yaml"
    document = yaml.safe_load(path.read_text())
    del document["plans"][0]["sources"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SourceError, match=r"line \d+: invalid plan: \{'sources': \['Missing data for required field"):
        build(engine, data_copy, force=True)


def test_every_curated_plan_resolves_on_the_real_store(real_client):
    body = real_client.get("/v1/export-plans?page_size=100").get_json()
    assert body["meta"]["total"] == 41
    assert {p["cbsa"] for p in body["data"]} >= {"31080", "33460", "45060", "38900", "31140", "30460"}
    body = real_client.get("/v1/export-plans/syracuse-2012/progress").get_json()
    assert body["series_start_value"] == SYRACUSE_2012
