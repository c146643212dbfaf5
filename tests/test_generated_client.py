"""Clients generated from the committed openapi.yaml work against the API served over HTTP: a Python client
(openapi-python-client) and TypeScript types (openapi-typescript) with openapi-fetch, each calling an operation with
a list parameter (repeated and comma-separated), a paginated list, CSV through a .csv operation, typed problems and a
304 revalidation; and the README's "Using the API from code" snippets, run as written against the fixture store."""

import csv
import importlib
import io
import json
import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from api import ROOT

TS = ROOT / "tests" / "ts"
README = (ROOT / "README.md").read_text()
SNIPPETS = README[README.index("## Using the API from code"):README.index("## HTTP contract")]
README_HOST = "http://127.0.0.1:8000"

SERIES_CSV = ("geography_code,geography_name,dataset,indicator,year,value,status,units,level,note\r\n"
              "38900,\"Portland-Vancouver-Hillsboro, OR-WA\",ita-metro-exports,exports_goods,2022,34368003214,ok,level,34368003214,\r\n"
              "38900,\"Portland-Vancouver-Hillsboro, OR-WA\",ita-metro-exports,exports_goods,2023,26973156822,ok,level,26973156822,\r\n")
# Oregon's goods exports, all industries and transportation equipment (NAICS 336), from the fixtures.
# One series per industry across the Census files, in year order (2018 from one file, 2019 from another).
OREGON = [("336", 2018, 1881939956, "ok"), ("336", 2019, 1049311212, "ok"), ("ALL", 2018, 22331756938, "ok"),
          ("ALL", 2019, 22845120417, "ok")]
NOT_FOUND = "No CBSA or unallocated area has the code '99999' in any delineation from 2009 to 2023."


def snippet(language: str, base_url: str) -> str:
    """The README's code block in `language`, calling `base_url`."""
    (code,) = re.findall(rf"```{language}\n(.*?)```", SNIPPETS, re.DOTALL)
    return code.replace(README_HOST, base_url)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Modules of the generated package metro_exports_client; the generator fails on any warning about the spec."""
    tmp = tmp_path_factory.mktemp("client")
    (tmp / "config.yaml").write_text("post_hooks: []\n")
    subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(ROOT / "openapi.yaml"),
                    "--output-path", str(tmp / "metro_exports_client"), "--meta", "none",
                    "--config", str(tmp / "config.yaml"), "--fail-on-warning"], check=True)
    sys.path.insert(0, str(tmp))
    yield SimpleNamespace(**{name.split(".")[-1]: importlib.import_module(f"metro_exports_client.{name}") for name in (
        "client", "models", "api.metros.get_metro", "api.metros.get_metro_exports", "api.metros.get_metro_exports_csv",
        "api.metros.list_metros", "api.metros.list_metros_csv", "api.states.get_state_exports",
        "api.stats.list_metro_rankings")})
    sys.path.remove(str(tmp))


@pytest.fixture()
def client(generated, base_url):
    with generated.client.Client(base_url=base_url, raise_on_unexpected_status=True) as client:
        yield client


def test_typed_series(generated, client):
    models = generated.models
    response = generated.get_metro_exports.sync_detailed("38900", client=client, from_=2022)
    assert response.status_code == 200
    series = response.parsed
    assert isinstance(series, models.MetroSeries)
    assert series.geography.name == "Portland-Vancouver-Hillsboro, OR-WA"
    assert [(p.year, p.value, p.status) for p in series.data] == [(2022, 34368003214, "ok"), (2023, 26973156822, "ok")]


def test_list_parameter_repeated_and_comma_separated(generated, client):
    """The client sends a list as industry=ALL&industry=336; a comma-separated string is the same request."""
    def points(industry):
        series = generated.get_state_exports.sync("OR", client=client, industry=industry, from_=2018)
        return [(p.industry, p.year, p.value, p.status) for p in series.data]

    assert points(["ALL", "336"]) == points(["ALL,336"]) == OREGON


def test_paginated_list_with_its_total(generated, client):
    response = generated.list_metros.sync_detailed(client=client, q="portland", page_size=1)
    page = response.parsed
    assert int(response.headers["X-Total-Count"]) == page.meta.total == 2
    assert [m.name for m in page.data] == ["Portland-South Portland, ME"]
    assert re.search(r'/v1/metros\?[^>]*\bpage=2\b[^>]*>; rel="next"', response.headers["Link"])


def test_csv_through_the_typed_csv_operations(generated, client):
    """openapi-python-client reads a response by one media type: the CSV is an operation of its own (the path +
    .csv), whose typed functions return the text; the JSON operation no longer offers format=csv (issue 14)."""
    assert generated.get_metro_exports_csv.sync("38900", client=client, from_=2022) == SERIES_CSV
    response = generated.list_metros_csv.sync_detailed(client=client, q="portland", page_size=1)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "text/csv; charset=utf-8")
    rows = list(csv.DictReader(io.StringIO(response.parsed)))
    assert [(r["code"], r["name"], r["type"], r["states"]) for r in rows] == [
        ("38860", "Portland-South Portland, ME", "metropolitan", "ME")]
    assert response.headers["X-Total-Count"] == "2"
    assert re.search(r'/v1/metros\.csv\?[^>]*\bpage=2\b[^>]*>; rel="next"', response.headers["Link"])
    problem = generated.get_metro_exports_csv.sync_detailed("99999", client=client).parsed
    assert (problem.status, problem.instance, problem.detail) == (404, "/v1/metros/99999/exports.csv", NOT_FOUND)
    assert [f.value for f in generated.models.GetMetroExportsFormat] == ["json"]


def test_typed_problems(generated, client):
    response = generated.get_metro_exports.sync_detailed("99999", client=client)
    assert response.status_code == 404
    problem = response.parsed
    assert isinstance(problem, generated.models.Problem)
    assert (problem.status, problem.title, problem.type_, problem.instance, problem.detail) == (
        404, "Not Found", "about:blank", "/v1/metros/99999/exports", NOT_FOUND)
    bad = generated.get_state_exports.sync_detailed("OR", client=client, industry=["x"]).parsed
    assert (bad.status, bad.detail) == (400, "Invalid parameter(s): industry")
    assert bad.errors.to_dict() == {"industry": ["String does not match expected pattern."]}


def test_revalidation_is_a_304(generated, client):
    first = generated.get_metro.sync_detailed("38900", client=client)
    assert first.parsed.name == "Portland-Vancouver-Hillsboro, OR-WA"
    again = generated.get_metro.sync_detailed(
        "38900", client=client.with_headers({"If-None-Match": first.headers["ETag"]}))
    assert (again.status_code, again.content, again.parsed) == (304, b"", None)


def test_a_new_field_or_status_does_not_break_the_client(generated):
    """v1 may add fields and statuses: the generated models keep what they do not know."""
    point = generated.models.Point.from_dict({"year": 2024, "value": None, "status": "revised", "footnote": "new"})
    assert (point.status, point.additional_properties) == ("revised", {"footnote": "new"})


def test_readme_python_snippet_runs(generated, base_url, capsys):
    exec(snippet("python", base_url), {})  # noqa: S102 - the README's own code, run as written
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "[(2020, 27824710650, 'ok'), (2021, 33787471258, 'ok'), (2022, 34368003214, 'ok'), " \
                         "(2023, 26973156822, 'ok')]"
    assert printed[1].startswith("[(1, 'Mayagüez, PR', 19.836701), (2, 'Yuma, AZ', 4.789532), (3, 'Portland-Vancouver")
    assert printed[2] == "2 ['Portland-South Portland, ME', 'Portland-Vancouver-Hillsboro, OR-WA']"
    lines = SERIES_CSV.splitlines()
    assert printed[3:5] == [lines[0], lines[2]]  # the header row and 2023's


def test_readme_curl_urls_answer(app):
    urls = re.findall(rf"'{README_HOST}(/v1/[^']+)'", SNIPPETS)
    assert len(urls) == 4
    for url in urls:
        response = app.test_client().get(url)
        assert response.status_code == 200, url


def npm(arguments: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["npm", *arguments], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def typescript(tmp_path_factory):
    """The TypeScript client compiled with tsc --strict against types generated from openapi.yaml: tsc fails when a
    call does not match the spec. Its packages are pinned by tests/ts/package-lock.json (npm ci)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("Node.js and npm are needed for the TypeScript client test (apt-get install nodejs npm)")
    work = tmp_path_factory.mktemp("ts")
    for name in ("package.json", "package-lock.json", "tsconfig.json", "client.ts"):
        shutil.copy(TS / name, work / name)
    (work / "readme.ts").write_text(snippet("ts", "http://127.0.0.1:8000"))
    installed = npm(["ci", "--prefer-offline", "--no-audit", "--no-fund"], work)
    if installed.returncode != 0:
        if re.search(r"ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|network", installed.stderr):
            pytest.skip(f"the npm registry is unreachable: {installed.stderr.strip().splitlines()[-1]}")
        pytest.fail(f"npm ci failed:\n{installed.stderr}")
    for command in (["exec", "--", "openapi-typescript", str(ROOT / "openapi.yaml"), "-o", "schema.d.ts"],
                    ["exec", "--", "tsc", "-p", "."]):
        done = npm(command, work)
        assert done.returncode == 0, done.stdout + done.stderr
    return work


@pytest.fixture(scope="module")
def ts_calls(typescript, base_url):
    ran = subprocess.run(["node", "build/client.js", base_url], cwd=typescript, capture_output=True, text=True, check=False,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_readme_typescript_snippet_runs(typescript, base_url):
    """The README's snippet, type-checked with the client (tsc --strict) and run against the fixture store."""
    source = (typescript / "build" / "readme.js").read_text()
    (typescript / "build" / "readme.js").write_text(source.replace(README_HOST, base_url))
    ran = subprocess.run(["node", "build/readme.js"], cwd=typescript, capture_output=True, text=True, check=False,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    printed = " ".join(ran.stdout.split())  # console.log spreads arrays over lines
    for line in (("[ [ 2020, 27824710650, 'ok' ], [ 2021, 33787471258, 'ok' ], [ 2022, 34368003214, 'ok' ], "
                  "[ 2023, 26973156822, 'ok' ] ]"), "[ [ 1, 'Mayagüez, PR', 19.836701 ], [ 2, 'Yuma, AZ', 4.789532 ],",
                 "2 [ 'Portland-South Portland, ME', 'Portland-Vancouver-Hillsboro, OR-WA' ]",
                 "geography_code,geography_name,dataset,indicator,year,value,status,units,level,note 38900,",
                 "exports_goods,2023,26973156822,ok,level,26973156822"):
        assert line in printed


def test_typescript_list_parameter_repeated_and_comma_separated(ts_calls):
    assert ts_calls["repeated"] == ts_calls["commas"] == [list(point) for point in OREGON]


def test_typescript_paginated_list_csv_problems_and_304(ts_calls, base_url):
    page = ts_calls["page"]
    assert (page["header"], page["total"], page["names"]) == ("2", 2, ["Portland-South Portland, ME"])
    assert re.search(rf'<{base_url}/v1/metros\?[^>]*\bpage=2\b[^>]*>; rel="next"', page["link"])
    assert ts_calls["csv"] == {"type": "text/csv; charset=utf-8", "text": SERIES_CSV}
    csv_page = ts_calls["csvPage"]
    assert list(csv.reader(io.StringIO(csv_page["text"]))) == [
        ["code", "name", "type", "states", "delineation", "current", "exports_year", "exports_value", "exports_status"],
        ["38860", "Portland-South Portland, ME", "metropolitan", "ME", "2023", "True", "", "", ""]]
    assert csv_page["total"] == "2"
    assert re.search(rf'<{base_url}/v1/metros\.csv\?[^>]*\bpage=2\b[^>]*>; rel="next"', csv_page["link"])
    assert ts_calls["problems"] == [
        {"status": 404, "title": "Not Found", "detail": NOT_FOUND},
        {"status": 400, "title": "Bad Request", "detail": "Invalid parameter(s): industry",
         "errors": {"industry": ["String does not match expected pattern."]}}]
    revalidation = ts_calls["revalidation"]
    assert (revalidation["first"], revalidation["name"], revalidation["status"], revalidation["body"]) == (
        200, "Portland-Vancouver-Hillsboro, OR-WA", 304, "")
    assert re.fullmatch(r'"[0-9a-f]{32}(:gzip|:br)?"', revalidation["etag"])  # fetch asks for compression
