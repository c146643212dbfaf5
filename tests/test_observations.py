"""Every figure in long form: /v1/observations, paged by a cursor that a reload makes 410 Gone, and bulk files of a
dataset streamed from one snapshot (/v1/datasets/{id}/download)."""

import csv
import gzip
import io

import openpyxl
import pytest
from helpers import FIXTURES, PROBLEM, REAL_DATA, snapshot
from test_caching import LOS_ANGELES_2023, double_los_angeles_2023

from api import downloads
from loaders import build

HEADER = ["dataset", "indicator", "kind", "code", "industry", "partner", "year", "value", "status"]


@pytest.fixture()
def reloaded(engine):
    yield lambda version: double_los_angeles_2023(engine, version)
    build(engine, FIXTURES, force=True)


def pages(client, url: str) -> list[dict]:
    """Every page of an observations request, following meta.next_cursor."""
    rows, cursor = [], None
    while True:
        body = client.get(url + (f"&cursor={cursor}" if cursor else "")).get_json()
        rows += body["data"]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return rows


def test_observations_are_the_fact_table_in_long_form(client, engine):
    body = client.get("/v1/observations?dataset=ita-metro-exports&code=49740&from=2013&to=2015").get_json()
    assert body["data"] == [
        {"dataset": "ita-metro-exports", "indicator": "exports_goods", "kind": "metro", "code": "49740",
         "industry": "ALL", "partner": "WLD", "year": 2013, "value": 460274194, "status": "ok"},
        {"dataset": "ita-metro-exports", "indicator": "exports_goods", "kind": "metro", "code": "49740",
         "industry": "ALL", "partner": "WLD", "year": 2014, "value": None, "status": "suppressed"},
        {"dataset": "ita-metro-exports", "indicator": "exports_goods", "kind": "metro", "code": "49740",
         "industry": "ALL", "partner": "WLD", "year": 2015, "value": None, "status": "suppressed"}]
    assert [s["id"] for s in body["sources"]] == ["ita-metro-exports"]
    assert body["meta"]["next_cursor"] is None and len(body["meta"]["data_version"]) == 32
    stored = snapshot(engine)
    every = pages(client, "/v1/observations?page_size=100")
    assert len(every) == sum(1 for row in stored if len(row) == 8)
    assert [(r["year"], r["value"]) for r in every if r["code"] == "31080" and r["dataset"] == "ita-metro-exports"
            ][-1] == (2023, LOS_ANGELES_2023)


def test_observations_filters_are_lists(client):
    body = client.get("/v1/observations?kind=state&industry=336&partner=1220").get_json()
    assert [(r["dataset"], r["code"], r["year"], r["value"]) for r in body["data"]] == [
        ("census-api-statenaics-2019-or", "41", 2019, 301477180)]
    body = client.get("/v1/observations?code=US&indicator=population,exports_goods&industry=ALL&from=2012&to=2012").get_json()
    assert [(r["dataset"], r["kind"], r["indicator"], r["value"]) for r in body["data"]] == [
        ("census-population-2019", "nation", "population", 313830990),
        ("census-state-exports-2012", "nation", "exports_goods", 1545820839892)]
    body = client.get("/v1/observations?dataset=census-state-exports-2012,census-state-exports-2013-2018"
                      "&code=41,06&industry=ALL&kind=state").get_json()
    assert [(r["code"], r["year"], r["value"]) for r in body["data"]] == [
        ("06", 2012, 161757310648), ("41", 2012, 18387857493), ("06", 2013, 168191551560),
        ("06", 2018, 178162663737), ("41", 2013, 18633579686), ("41", 2018, 22331756938)]


@pytest.mark.parametrize("query, errors", [
    ("dataset=nope", {"dataset": ["no dataset has the id nope; the datasets are listed at /v1/datasets"]}),
    ("industry=9999", {"industry": [("no industry in the data has the code 9999; the codes are listed at "
                                    "/v1/industries")]}),
    ("partner=9999", {"partner": ["no partner in the data has the code 9999; the codes are listed at /v1/partners"]}),
    ("code=38900&kind=state", {"code": ["no place of kind state has the code 38900"]}),
    ("kind=county", {"kind": ["Must be one of: nation, state, metro, unallocated."]}),
    ("page_size=10001", {"page_size": ["Must be greater than or equal to 1 and less than or equal to 10000."]}),
    ("cursor=bm90IGEgY3Vyc29y", {"cursor": ["not a cursor this API gave: use meta.next_cursor as it is"]}),
])
def test_observations_refuse_what_does_not_exist(client, query, errors):
    response = client.get(f"/v1/observations?{query}")
    assert response.status_code == 400 and response.get_json()["errors"] == errors


def test_observations_page_by_cursor_in_json_and_csv(client):
    url = "/v1/observations?dataset=ita-metro-exports&code=38900,31080&from=2021&page_size=4"
    first = client.get(url)
    body = first.get_json()
    assert [(r["code"], r["year"]) for r in body["data"]] == [("31080", 2021), ("31080", 2022), ("31080", 2023),
                                                              ("38900", 2021)]
    cursor = body["meta"]["next_cursor"]
    link = f"http://localhost{url.replace(',', '%2C')}"
    assert first.headers["Link"] == f'<{link}>; rel="first", <{link}&cursor={cursor}>; rel="next"'
    second = client.get(f"{url}&cursor={cursor}&format=csv")
    assert second.mimetype == "text/csv"
    assert list(csv.reader(io.StringIO(second.get_data(as_text=True)))) == [HEADER, [
        "ita-metro-exports", "exports_goods", "metro", "38900", "ALL", "WLD", "2022", "34368003214", "ok"], [
        "ita-metro-exports", "exports_goods", "metro", "38900", "ALL", "WLD", "2023", "26973156822", "ok"]]
    assert "rel=\"next\"" not in second.headers["Link"]


def test_a_cursor_from_an_older_data_version_is_gone(client, reloaded):
    url = "/v1/observations?dataset=ita-metro-exports&code=31080&page_size=18"
    first = client.get(url).get_json()
    assert [r["year"] for r in first["data"]] == list(range(2005, 2023))
    reloaded("test-cursor")
    response = client.get(f"{url}&cursor={first['meta']['next_cursor']}")
    assert response.status_code == 410 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["detail"] == (f"This cursor belongs to data version {first['meta']['data_version']}; the data "
                                 "have changed since (version test-cursor). Read the panel again from the first page.")
    assert problem["hint"] == f"http://localhost{url}"
    again = client.get(problem["hint"]).get_json()  # the first page of the new version, then the rest of it
    assert again["meta"]["data_version"] == "test-cursor"
    last = client.get(f"{url}&cursor={again['meta']['next_cursor']}").get_json()
    assert [(r["year"], r["value"]) for r in last["data"]] == [(2023, 2 * LOS_ANGELES_2023)]


def test_a_dataset_downloads_as_the_csv_of_its_observations(client):
    response = client.get("/v1/datasets/ita-metro-exports/download")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="ita-metro-exports.csv"'
    provenance = client.get("/v1/datasets/ita-metro-exports").get_json()
    assert response.headers["X-Source-SHA256"] == provenance["sha256"] and provenance["row_count"] == 285
    text = response.get_data(as_text=True)
    # the file is the observations of the dataset, in the same order and the same cells
    every = pages(client, "/v1/observations?dataset=ita-metro-exports&page_size=100")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER and len(rows) == 286
    assert rows[1:] == [["" if v is None else str(v) for v in r.values()] for r in every]
    assert ["ita-metro-exports", "exports_goods", "metro", "49740", "ALL", "WLD", "2014", "", "suppressed"] in rows
    zipped = client.get("/v1/datasets/ita-metro-exports/download", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.get_data()).decode() == text
    assert zipped.headers["ETag"] == response.headers["ETag"][:-1] + ':gzip"'
    revalidated = client.get("/v1/datasets/ita-metro-exports/download",
                             headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304
    head = client.head("/v1/datasets/ita-metro-exports/download")
    assert head.status_code == 200 and head.get_data() == b"" and head.headers["ETag"] == response.headers["ETag"]


def test_downloads_refuse_what_they_cannot_give(client):
    response = client.get("/v1/datasets/omb-delineation-2023/download")
    assert response.status_code == 404 and response.get_json()["hint"] == "Its provenance is at /v1/datasets/omb-delineation-2023"
    assert client.get(response.get_json()["hint"].split(" at ")[1]).status_code == 200
    assert client.get("/v1/datasets/nope/download").status_code == 404
    response = client.get("/v1/datasets/ita-metro-exports/download", headers={"Accept": "application/vnd.apache.parquet"})
    assert response.status_code == 406 and response.get_json()["detail"] == (
        "Parquet is not offered; the file is CSV (text/csv), gzip-encoded when asked.")
    both = client.get("/v1/datasets/ita-metro-exports/download",
                      headers={"Accept": "application/vnd.apache.parquet;q=0.9, text/csv"})
    assert both.status_code == 200 and both.mimetype == "text/csv"
    both.close()


def test_a_download_reads_one_snapshot_while_a_reload_commits(client, reloaded, monkeypatch):
    """The file is read from the snapshot its request pinned, a chunk at a time, after the request has ended: a
    reload committed between two chunks does not show in it."""
    monkeypatch.setattr(downloads, "CHUNK", 10)
    response = client.get("/v1/datasets/ita-metro-exports/download", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    assert first.count(b"\r\n") == 11  # the header and the first chunk of 10 rows
    reloaded("test-download")
    text = (first + b"".join(chunks)).decode()
    response.close()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 286 and response.headers["X-Data-Version"] != "test-download"
    assert ["ita-metro-exports", "exports_goods", "metro", "31080", "ALL", "WLD", "2023", str(LOS_ANGELES_2023),
            "ok"] in rows
    after = client.get("/v1/datasets/ita-metro-exports/download")
    assert after.headers["X-Data-Version"] == "test-download" and str(2 * LOS_ANGELES_2023) in after.get_data(as_text=True)


@pytest.mark.realdata
def test_real_download_holds_every_figure_of_the_xlsx(real_client):
    book = openpyxl.load_workbook(REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx", read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    book.close()
    rows = list(csv.DictReader(io.StringIO(real_client.get("/v1/datasets/ita-metro-exports/download")
                                           .get_data(as_text=True))))
    assert len(rows) == 418 * 19
    for i, year in enumerate(sheet[0][2:], start=2):
        column = [r[i] for r in sheet[1:] if r[i] is not None]
        downloaded = [int(r["value"]) for r in rows if r["year"] == str(year) and r["value"]]
        assert (sum(downloaded), len(downloaded)) == (sum(column), len(column)), year
    assert {r["status"] for r in rows if not r["value"]} == {"suppressed", "not_available"}
