"""Export plans: the curated facts against the reference, the API and its spec, and progress measured against the
ITA series by hand (for a joint site, the sum of its metros' series)."""

import re
from types import SimpleNamespace

import openpyxl
import pytest
import yaml
from helpers import REAL_DATA
from jsonschema import Draft202012Validator

from api import ROOT
from loaders import SourceError, build
from loaders.plans import FACTS, PLANS_FILE, parse
from models.plan import combine

REFERENCE = ROOT.parent / "shared" / "reference" / "export_plans.md"

# ITA goods exports (the fixture xlsx rows are the real ones)
LA_2010, LA_2015, LA_2023 = 62167613418, 61758749222, 59561594613
MSP_2010 = 23192787044
SYRACUSE_2012 = 1915451253
PORTLAND_2012 = 20337729876


def curated() -> tuple[dict, dict]:
    _, cohorts, plans = parse(PLANS_FILE)
    return {c["id"]: c for _, c in cohorts}, {p["slug"]: p for _, p in plans}


def test_curated_file_holds_every_site_once_and_nothing_invented():
    cohorts, by_slug = curated()
    counts = {c: [p["cohort"] for p in by_slug.values()].count(c) for c in cohorts}
    assert counts == {"pilot-2012": 4, "exchange-2013": 8, "global-cities-2015": 28}
    assert counts["pilot-2012"] + counts["exchange-2013"] == 12  # "the MEI eventually covered 12 regions"
    la = by_slug["los-angeles-2012"]
    assert (la["cbsas"], str(la["released_on"]), la["baseline"]) == (
        ["31080"], "2012-03-21", {"value": 79800000000, "year": 2010, "basis": "goods and services"})
    assert by_slug["minneapolis-saint-paul-2012"]["target"]["value"] == 35000000000
    assert by_slug["syracuse-2012"]["baseline"] == {"value": 3300000000, "year": None, "basis": "goods and services"}
    assert by_slug["portland-2012"]["released_on"] is None and by_slug["portland-2012"]["target"]["year"] is None
    assert by_slug["minneapolis-saint-paul-2012"]["strategies"][0] == "a unified export team"
    assert by_slug["louisville-lexington-2013"]["cbsas"] == ["31140", "30460"]
    assert by_slug["louisville-lexington-2015"]["cbsas"] == ["31140", "30460"]
    assert by_slug["greenville-spartanburg-2015"]["cbsas"] == ["24860", "43900"]
    assert "louisville-2013" not in by_slug and "lexington-2013" not in by_slug
    # Every fact is stated or explained: the pilots' few gaps, and for the others everything but the site
    assert {s: sorted(p["unknown"]) for s, p in by_slug.items() if p["cohort"] == "pilot-2012"} == {
        "los-angeles-2012": ["strategies"], "minneapolis-saint-paul-2012": [],
        "syracuse-2012": ["baseline.year"], "portland-2012": ["baseline.year", "released_on", "strategies", "target.year"]}
    assert all(sorted(p["unknown"]) == sorted(FACTS) for p in by_slug.values() if p["cohort"] != "pilot-2012")
    assert "2013 Metropolitan Export Exchange" in by_slug["chicago-2013"]["unknown"]["goal"]
    assert cohorts["global-cities-2015"]["plan_scope"] == "exports and foreign direct investment"
    assert cohorts["global-cities-2015"]["organisers"] == ["Brookings Institution", "JPMorgan Chase"]
    assert (cohorts["global-cities-2015"]["first_year"], cohorts["global-cities-2015"]["last_year"]) == (2013, 2015)


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"{REFERENCE} not found")
def test_curated_sites_are_the_reference_lists():
    text = REFERENCE.read_text(encoding="utf-8")
    exchange = re.search(r'2013 "Metropolitan Export Exchange", 8 further sites: (.*?)\. Brookings', text, re.DOTALL)
    global_cities = re.search(r"foreign direct\s+investment plans: (.*?)\. Source", text, re.DOTALL)
    _, by_slug = curated()
    names = {c: [p["metro"] for p in by_slug.values() if p["cohort"] == c] for c in ("exchange-2013", "global-cities-2015")}
    assert names["exchange-2013"] == [re.sub(r" \(one joint site\)", "", s.strip())
                                      for s in " ".join(exchange.group(1).split()).split(";")]
    assert names["global-cities-2015"] == [s.strip() for s in " ".join(global_cities.group(1).split()).split(",")]
    for slug, plan in by_slug.items():  # the pilots' titles and dates are the reference's own words
        if plan["title"]:
            assert plan["title"] in text, slug
        if plan["released_on"]:
            assert str(plan["released_on"]) in text, slug


def test_list_and_filter_plans(client):
    body = client.get("/v1/export-plans?cohort=pilot-2012").get_json()
    assert [(p["slug"], p["cbsas"]) for p in body["data"]] == [
        ("los-angeles-2012", ["31080"]), ("minneapolis-saint-paul-2012", ["33460"]), ("portland-2012", ["38900"]),
        ("syracuse-2012", ["45060"])]
    assert [p["slug"] for p in client.get("/v1/export-plans?metro=31080").get_json()["data"]] == [
        "los-angeles-2012", "los-angeles-2015"]
    assert [p["slug"] for p in client.get("/v1/export-plans?state=wa").get_json()["data"]] == ["portland-2012"]
    text = client.get("/v1/export-plans?cohort=pilot-2012&format=csv").get_data(as_text=True)
    assert text.splitlines()[:2] == [
        "slug,cohort,metro_name,cbsas,cbsa_names,title,released_on",
        ('los-angeles-2012,pilot-2012,Los Angeles,31080,"Los Angeles-Long Beach-Anaheim, CA",'
         'Los Angeles Regional Export Plan,2012-03-21')]


def test_plan_detail_embeds_the_cohort_the_metros_and_links(client):
    body = client.get("/v1/export-plans/minneapolis-saint-paul-2012").get_json()
    assert body["lead_organisation"] == "Minnesota Trade Office, with Greater MSP"
    assert body["baseline"] == {"value": 17600000000, "year": 2010, "basis": "goods and services"}
    assert body["target"]["value"] == 35000000000 and body["target"]["year"] == 2017
    assert [(m["code"], m["states"]) for m in body["metros"]] == [("33460", ["MN", "WI"])]
    assert body["links"] == {"metro": "/v1/metros/33460", "exports": "/v1/metros/33460/exports",
                             "metros": ["/v1/metros/33460"], "metros_exports": ["/v1/metros/33460/exports"],
                             "progress": "/v1/export-plans/minneapolis-saint-paul-2012/progress"}
    # v1's one-metro fields stay: the first metro
    assert (body["cbsa"], body["cbsa_name"], body["metro"]["code"]) == (
        "33460", "Minneapolis-St. Paul-Bloomington, MN-WI", "33460")
    assert body["unknown"] == {}
    assert body["cohort_detail"]["name"] == "Metropolitan Export Initiative pilot metros"
    assert body["cohort_detail"]["organisers"][1] == "U.S. Department of Commerce, International Trade Administration"
    body = client.get("/v1/export-plans/nope").get_json()
    assert body["status"] == 404 and body["hint"] == "The plans are listed at /v1/export-plans"


def test_plan_without_facts_says_what_is_unknown_and_why(client):
    body = client.get("/v1/export-plans/los-angeles-2015").get_json()
    assert (body["title"], body["baseline"], body["target"], body["goal"]) == (None, None, None, None)
    assert sorted(body["unknown"]) == sorted(FACTS)
    assert body["unknown"]["goal"] == (
        "The reference names this metro only in its list of the 28 metros of the Global Cities Exchange (2013-2015), "
        "which made export and foreign direct investment plans; it gives no goal.")
    assert body["cohort_detail"]["plan_scope"] == "exports and foreign direct investment"
    body = client.get("/v1/export-plans/portland-2012").get_json()
    assert body["baseline"] == {"value": 21000000000, "year": None, "basis": "goods and services"}
    assert body["unknown"]["target.year"] == "'In five years' has no stated start year."


def test_metro_lists_its_plans(client):
    body = client.get("/v1/metros/31080").get_json()
    assert body["export_plans"] == [
        {"slug": "los-angeles-2012", "cohort": "pilot-2012", "title": "Los Angeles Regional Export Plan"},
        {"slug": "los-angeles-2015", "cohort": "global-cities-2015", "title": None}]


def test_progress_los_angeles(client):
    body = client.get("/v1/export-plans/los-angeles-2012/progress").get_json()
    assert body["series"]["id"] == "ita-metro-exports" and body["indicator"] == "exports_goods"
    assert body["measured_on"] == ("ITA merchandise (goods only) exports of Los Angeles-Long Beach-Anaheim, CA "
                                   "(31080).")
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
    assert first == {"year": 2010, "value": LA_2010, "status": "ok", "index": 100, "on_track_value": LA_2010,
                     "parts": [{"cbsa": "31080", "value": LA_2010, "status": "ok"}]}
    assert body["years"][5]["value"] == LA_2015 and body["years"][5]["on_track_value"] == 2 * LA_2010
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
    assert body["notes"] == [("The plan states no baseline year and its release date is unknown; the series starts "
                              "in 2012, the last year of its cohort (Metropolitan Export Initiative pilot metros, "
                              "2011–2012).")]
    assert body["required_cagr"] is None
    assert body["required_cagr_reason"] == "the plan states no target year"
    assert body["series_goal_value"] == 2 * PORTLAND_2012
    assert body["goal_reached"] is False
    assert body["years"][-2] == {"year": 2022, "value": 34368003214, "status": "ok",
                                 "index": round(100 * 34368003214 / PORTLAND_2012, 6), "on_track_value": None,
                                 "parts": [{"cbsa": "38900", "value": 34368003214, "status": "ok"}]}


def test_progress_of_a_plan_without_goal_is_the_series_from_its_cohort_year(client):
    body = client.get("/v1/export-plans/los-angeles-2015/progress").get_json()
    assert (body["baseline"], body["target"], body["target_multiple"], body["series_goal_value"]) == (
        None, None, None, None)
    assert body["required_cagr_reason"] == "the plan states no baseline and target values"
    assert body["notes"] == [("The plan states no baseline year and its release date is unknown; the series starts "
                              "in 2015, the last year of its cohort (Global Cities Exchange, 2013–2015).")]
    assert body["basis_note"].startswith("The reference gives no baseline or target for this plan")
    assert (body["start_year"], body["series_start_value"], body["goal_reached"]) == (2015, LA_2015, None)
    assert body["years"][-1]["index"] == round(100 * LA_2023 / LA_2015, 6)


def rows(*figures):
    return [SimpleNamespace(code=c, year=y, value=v, status=s) for c, y, v, s in figures]


@pytest.mark.parametrize(("figures", "values", "statuses"), [
    ([("A", 2012, 10.0, "ok"), ("B", 2012, 5.0, "ok")], {2012: 15.0}, {2012: "ok"}),
    ([("A", 2012, 10.0, "ok"), ("B", 2012, None, "suppressed")], {2012: None}, {2012: "suppressed"}),
    ([("A", 2012, None, "not_available"), ("B", 2012, None, "suppressed")], {2012: None}, {2012: "not_available"}),
    ([("A", 2012, 10.0, "ok"), ("A", 2013, 11.0, "ok"), ("B", 2012, 5.0, "ok")],
     {2012: 15.0, 2013: None}, {2012: "ok", 2013: "not_available"}),  # B has no row for 2013
    ([("A", 2012, 10.0, "rounded"), ("B", 2012, 5.0, "ok")], {2012: 15.0}, {2012: "rounded"}),
])
def test_a_joint_site_is_the_sum_of_its_metros(figures, values, statuses):
    got_values, got_statuses, parts = combine(["A", "B"], rows(*figures))
    assert (got_values, got_statuses) == (values, statuses)
    assert [p["cbsa"] for p in parts[2012]] == ["A", "B"]


def spec_validator(client, path: str) -> Draft202012Validator:
    """The JSON schema the spec declares for a 200 answer of `path`, with the spec's components to resolve refs."""
    spec = client.get("/v1/openapi.json").get_json()
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec["components"]})


def assert_bodies_follow_the_spec(client):
    slugs = [p["slug"] for p in client.get("/v1/export-plans?page_size=100").get_json()["data"]]
    checks = [("/v1/export-plans", "/v1/export-plans?page_size=100", [None])]
    checks += [("/v1/export-plans/{slug}", "/v1/export-plans/{}", slugs),
               ("/v1/export-plans/{slug}/progress", "/v1/export-plans/{}/progress", slugs)]
    for path, url, args in checks:
        validator = spec_validator(client, path)
        for arg in args:
            body = client.get(url.format(arg)).get_json()
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
            assert errors == [], url.format(arg)
    return slugs


def test_every_plan_body_follows_the_spec(client):
    assert len(assert_bodies_follow_the_spec(client)) == 5


def test_plan_with_unknown_cbsa_is_rejected(engine, data_copy):
    path = data_copy / "export_plans.yaml"
    document = yaml.safe_load(path.read_text())
    document["plans"][1]["cbsas"] = ["00000"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SourceError, match=r"export_plans.yaml, line \d+, column cbsas: CBSA '00000' of plan "
                                          r"'minneapolis-saint-paul-2012' is not in the store"):
        build(engine, data_copy, force=True)


@pytest.mark.parametrize(("change", "message"), [
    (lambda plan: plan.pop("sources"), r"invalid plan: \{'sources': \['Missing data for required field"),
    (lambda plan: plan.update(goal=None), r"invalid plan: \{'unknown': \['null without a reason: goal'\]\}"),
    (lambda plan: plan["unknown"].update(title="not found"),
     r"invalid plan: \{'unknown': \['gives a reason for a fact the plan states: title'\]\}"),
    (lambda plan: plan.update(cbsas=["31080", "31080"]), r"invalid plan: \{'cbsas': \['a CBSA is listed twice'\]\}"),
])
def test_a_plan_that_hides_what_it_does_not_know_is_rejected(engine, data_copy, change, message):
    path = data_copy / "export_plans.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["plans"][0])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SourceError, match=r"export_plans.yaml, line \d+: " + message):
        build(engine, data_copy, force=True)


def test_a_plan_of_a_cohort_the_file_lacks_is_rejected(engine, data_copy):
    path = data_copy / "export_plans.yaml"
    document = yaml.safe_load(path.read_text())
    document["cohorts"] = document["cohorts"][:1]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SourceError, match=r"line \d+, column cohort: cohort 'global-cities-2015' of plan "
                                          r"'los-angeles-2015' is not in 'cohorts'"):
        build(engine, data_copy, force=True)


@pytest.mark.realdata
def test_every_curated_plan_resolves_on_the_real_store(real_client):
    body = real_client.get("/v1/export-plans?page_size=100").get_json()
    assert body["meta"]["total"] == 40
    assert {c for p in body["data"] for c in p["cbsas"]} >= {"31080", "33460", "45060", "38900", "31140", "30460"}
    assert [p["slug"] for p in real_client.get("/v1/export-plans?metro=30460").get_json()["data"]] == [
        "louisville-lexington-2013", "louisville-lexington-2015"]
    assert [p["slug"] for p in real_client.get("/v1/metros/30460").get_json()["export_plans"]] == [
        "louisville-lexington-2013", "louisville-lexington-2015"]
    # the two entries v1 served for that site point to it
    gone = real_client.get("/v1/export-plans/lexington-2013").get_json()
    assert gone["status"] == 404 and gone["hint"] == (
        "'lexington-2013' is now part of the joint site's plan: /v1/export-plans/louisville-lexington-2013")
    body = real_client.get("/v1/export-plans/syracuse-2012/progress").get_json()
    assert body["series_start_value"] == SYRACUSE_2012


@pytest.mark.realdata
@pytest.mark.parametrize(("slug", "titles", "start"), [
    ("louisville-lexington-2013", ["Louisville/Jefferson County, KY-IN", "Lexington-Fayette, KY"], 2013),
    ("greenville-spartanburg-2015", ["Greenville-Anderson-Greer, SC", "Spartanburg, SC"], 2015),
])
def test_joint_site_progress_is_the_sum_of_its_metros_read_from_the_file(real_client, slug, titles, start):
    book = openpyxl.load_workbook(REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx", read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    book.close()
    years = [int(y) for y in sheet[0][2:]]
    by_title = {r[0]: dict(zip(years, r[2:])) for r in sheet[1:]}
    body = real_client.get(f"/v1/export-plans/{slug}/progress").get_json()
    assert body["measured_on"].startswith(f"The sum of the ITA merchandise (goods only) exports of {titles[0]}")
    assert body["start_year"] == start and body["plan"]["cbsa_names"] == titles
    for point in body["years"]:
        parts = [by_title[t][point["year"]] for t in titles]
        assert [p["value"] for p in point["parts"]] == parts
        assert (point["value"], point["status"]) == (sum(parts), "ok")
    assert body["years"][0]["index"] == 100 and body["series_start_value"] == sum(
        by_title[t][start] for t in titles)


@pytest.mark.realdata
def test_every_real_plan_body_follows_the_spec(real_client):
    assert len(assert_bodies_follow_the_spec(real_client)) == 40
