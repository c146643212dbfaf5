"""Every 200 body of every operation is what the spec says: valid against its response schema in openapi.yaml,
and, for the bodies encoded as built (series, rankings), exactly what the operation's schema would write; every CSV
has the header row the spec names, and a .csv operation answers what its JSON sibling answers to format=csv."""

from pathlib import Path

import pytest
import yaml
from helpers import csv_url
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from api import ROOT
from schemas.common import SeriesPanelSchema, SeriesSchema
from schemas.observations import ObservationPageSchema
from schemas.places import (
    MetroSeriesPanelSchema,
    MetroSeriesSchema,
    NationSeriesSchema,
    StateSeriesPanelSchema,
    StateSeriesSchema,
)
from schemas.stats import RankingSchema

SPEC = yaml.safe_load(Path(ROOT / "openapi.yaml").read_text())
# Requests that exercise each operation, over the fixture store (variants that change the body's shape).
EXAMPLES = {
    "/v1/datasets": ["/v1/datasets", "/v1/datasets?page_size=2&page=2"],
    "/v1/datasets/{id}": ["/v1/datasets/ita-metro-exports", "/v1/datasets/title-crosswalk"],
    "/v1/datasets/{id}/vintages": ["/v1/datasets/census-state-exports-by-partner/vintages",
                                   "/v1/datasets/ita-metro-exports-2012-2021/vintages",
                                   "/v1/datasets/census-state-exports-2012/vintages"],
    "/v1/export-plans": ["/v1/export-plans", "/v1/export-plans?cohort=pilot-2012"],
    "/v1/export-plans/{slug}": ["/v1/export-plans/los-angeles-2012", "/v1/export-plans/syracuse-2012"],
    "/v1/export-plans/{slug}/progress": ["/v1/export-plans/los-angeles-2012/progress",
                                         "/v1/export-plans/syracuse-2012/progress"],
    "/v1/industries": ["/v1/industries", "/v1/industries?level=3"],
    "/v1/metros": ["/v1/metros", "/v1/metros?q=portland", "/v1/metros?sort=-exports&year=2015"],
    "/v1/metros/{code}": ["/v1/metros/38900", "/v1/metros/11300", "/v1/metros/other-metro"],
    "/v1/metros/{code}/exports": ["/v1/metros/38900/exports", "/v1/metros/49740/exports?units=percent_change",
                                  "/v1/metros/38900/exports?units=share&from=2020",
                                  "/v1/metros/38900/exports?units=index&base_year=2010",
                                  "/v1/metros/38900/exports?dataset=brookings-export-monitor-2018",
                                  "/v1/metros/38900/exports?per=population&units=index&base_year=2015",
                                  "/v1/metros/non-metro/exports?as_of=2024-01-01&units=share",
                                  "/v1/metros/non-metro/exports?from=2020&revisions=true"],
    "/v1/metros/{code}/growth": ["/v1/metros/38900/growth?from=2012&to=2022",
                                 "/v1/metros/49740/growth?from=2013&to=2015",
                                 "/v1/metros/49740/growth?as_of=2024-01-01"],
    "/v1/metros/{code}/indicators": ["/v1/metros/38900/indicators", "/v1/metros/38900/indicators?name=population"],
    "/v1/observations": ["/v1/observations", "/v1/observations?kind=state&industry=336&page_size=2",
                         "/v1/observations?dataset=ita-metro-exports&code=49740&from=2014&to=2016"],
    "/v1/metros/exports": ["/v1/metros/exports?code=38900,31080", "/v1/metros/exports?code=49740&units=index&base_year=2013",
                           "/v1/metros/exports?code=38900,10180&per=population&from=2015",
                           "/v1/metros/exports?code=38900,non-metro&as_of=2024-01-01&revisions=true"],
    "/v1/metros/indicators": ["/v1/metros/indicators?code=10180,38900&name=population,jobs"],
    "/v1/nation/exports": ["/v1/nation/exports", "/v1/nation/exports?dataset=census-state-exports-2012&units=change",
                           "/v1/nation/exports?dataset=census-state-exports-2013-2018&industry=336"],
    "/v1/partners": ["/v1/partners", "/v1/partners?kind=group&q=europe"],
    "/v1/partners/{code}": ["/v1/partners/CAN", "/v1/partners/g-nam", "/v1/partners/1220"],
    "/v1/partners/{code}/exports": ["/v1/partners/WLD/exports", "/v1/partners/CA/exports?as_of=2019-06-30",
                                    "/v1/partners/KOR/exports?dataset=census-top25-partners-2017-2020"],
    "/v1/partners/{code}/states": ["/v1/partners/CAN/states", "/v1/partners/WLD/states?year=2018&as_of=2019-06-30"],
    "/v1/rankings/metros": ["/v1/rankings/metros?year=2023", "/v1/rankings/metros?by=cagr&from=2013&to=2023",
                            "/v1/rankings/metros?by=share&year=2023&order=asc", "/v1/rankings/metros",
                            "/v1/rankings/metros?per=population&page=2&page_size=2&state=OR",
                            "/v1/rankings/metros?year=2021&as_of=2024-01-01"],
    "/v1/rankings/states": ["/v1/rankings/states?year=2018", "/v1/rankings/states?by=growth&from=2012&to=2018",
                            "/v1/rankings/states?partner=CAN&year=2019",
                            "/v1/rankings/states?by=share&year=2018&as_of=2019-12-31"],
    "/v1/rate_limit": ["/v1/rate_limit"],
    "/v1/states": ["/v1/states"],
    "/v1/states/{code}": ["/v1/states/OR", "/v1/states/72"],
    "/v1/states/{code}/exports": ["/v1/states/CA/exports", "/v1/states/OR/exports?naics_level=3&units=share",
                                  "/v1/states/VT/exports?partner=CA&revisions=true",
                                  "/v1/states/VT/exports?as_of=2020-10-21&units=share"],
    "/v1/states/exports": ["/v1/states/exports?code=OR,06", "/v1/states/exports?code=41&industry=336,3361&units=share",
                           "/v1/states/exports?code=VT,TX&partner=CAN&revisions=true"],
    "/v1/states/{code}/growth": ["/v1/states/CA/growth?from=2012&to=2018",
                                 "/v1/states/VT/growth?partner=1220&from=2018&to=2019&as_of=2021-01-01"],
    "/v1/states/{code}/partners": ["/v1/states/VT/partners", "/v1/states/VT/partners?kind=group,unallocated&year=2018",
                                   "/v1/states/VT/partners?dataset=census-top25-partners-2017-2020&year=2018"],
    "/v1/states/{code}/metros": ["/v1/states/OR/metros"],
    "/v1/stats/concentration": ["/v1/stats/concentration?year=2019", "/v1/stats/concentration?year=2019&top=3",
                                "/v1/stats/concentration?rank_by=exports"],
    "/v1/stats/summary": ["/v1/stats/summary?year=2023&base_year=2013", "/v1/stats/summary"],
}
# Operations that answer a file (CSV only): their header row is the one the spec names.
FILES = {"/v1/datasets/{id}/download": ["/v1/datasets/ita-metro-exports/download",
                                        "/v1/datasets/census-state-exports-2012/download"]}
# Operations that answer CSV: the files, and the CSV of each operation that has one at its path + .csv (asked the
# same requests there).
CSV = {**FILES, **{f"{path}.csv": [csv_url(url) for url in urls] for path, urls in EXAMPLES.items()
                   if f"{path}.csv" in SPEC["paths"]}}
# Operations whose JSON is encoded as built, not dumped through their schema: the schema must write the same.
ENCODED = {"/v1/metros/{code}/exports": MetroSeriesSchema, "/v1/metros/{code}/indicators": SeriesSchema,
           "/v1/states/{code}/exports": StateSeriesSchema, "/v1/rankings/metros": RankingSchema,
           "/v1/rankings/states": RankingSchema, "/v1/metros/exports": MetroSeriesPanelSchema,
           "/v1/metros/indicators": SeriesPanelSchema, "/v1/states/exports": StateSeriesPanelSchema,
           "/v1/nation/exports": NationSeriesSchema, "/v1/observations": ObservationPageSchema}
REGISTRY = Registry().with_resource("urn:spec", Resource.opaque(SPEC))


def operations(media: str) -> list[str]:
    """The operations whose 200 is of this media type."""
    return [path for path, item in SPEC["paths"].items() if media in item["get"]["responses"]["200"]["content"]]


def test_every_operation_has_examples():
    """… and each operation's 200 is of one media type, JSON or CSV."""
    assert sorted(EXAMPLES) == sorted(operations("application/json"))
    assert sorted(CSV) == sorted(operations("text/csv"))
    assert len(CSV) == len(FILES) + 22


@pytest.mark.parametrize("path, url", [(p, u) for p, urls in CSV.items() for u in urls])
def test_every_csv_is_what_the_spec_names(client, path, url):
    content = SPEC["paths"][path]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/csv"]
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header = response.get_data(as_text=True).split("\r\n")[0]
    assert content["text/csv"]["schema"]["description"] == f"CSV with a header row: {header.replace(',', ', ')}"
    if path not in FILES:
        json_path, mark, query = url.partition("?")
        compatible = client.get(f"{json_path.removesuffix('.csv')}{mark}{query}", headers={"Accept": "text/csv"})
        assert (compatible.mimetype, compatible.get_data()) == ("text/csv", response.get_data())


def response_schema(path: str) -> dict:
    ref = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return {"$ref": "urn:spec" + ref}


@pytest.mark.parametrize("path, url", [(p, u) for p, urls in EXAMPLES.items() for u in urls])
def test_every_200_body_matches_the_spec(client, path, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    errors = sorted(Draft202012Validator(response_schema(path), registry=REGISTRY).iter_errors(body),
                    key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []
    if path in ENCODED:
        assert ENCODED[path]().dump(body) == body
