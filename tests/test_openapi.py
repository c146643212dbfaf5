"""The committed spec is what the code generates, it is valid OpenAPI 3.1, and it documents every operation as it
behaves: ids by one rule, the formats, headers and examples it really answers, and schemas open for growth."""

import json
import re
from copy import deepcopy
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from helpers import csv_url, example_answer, of_the_moment, problem
from openapi_spec_validator import validate

from api import ROOT
from api.formats import has_csv_path
from api.spec import EXAMPLES, HEADERS

SPEC = yaml.safe_load(Path(ROOT / "openapi.yaml").read_text())
OPERATIONS = {path: item["get"] for path, item in SPEC["paths"].items()}
# The operations that are another's CSV, at its path + .csv.
CSV_PATHS = sorted(path for path in OPERATIONS if path.endswith(".csv"))
MEDIA = {"json": "application/json", "csv": "text/csv"}


def generated(app) -> dict:
    with app.app_context():
        return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def test_openapi_yaml_is_not_stale(app):
    committed = yaml.safe_load(Path(ROOT / "openapi.yaml").read_text())
    assert committed == generated(app), "openapi.yaml is stale: run `make openapi`"


def test_spec_is_valid_openapi_3_1(app):
    spec = generated(app)
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def example_request(path: str) -> str:
    """The operation's example request (a .csv operation's is its JSON sibling's, on the .csv path)."""
    request = json.loads(EXAMPLES.read_text())[path.removesuffix(".csv")]["request"]
    return csv_url(request) if path.endswith(".csv") else request


def test_spec_served_and_documents_csv_errors_and_404s(client):
    spec = client.get("/v1/openapi.json").get_json()
    exports = spec["paths"]["/v1/metros/{code}/exports"]["get"]
    as_csv = spec["paths"]["/v1/metros/{code}/exports.csv"]["get"]
    assert list(exports["responses"]["200"]["content"]) == ["application/json"]
    assert list(as_csv["responses"]["200"]["content"]) == ["text/csv"]
    assert as_csv["responses"]["200"]["content"]["text/csv"]["schema"]["type"] == "string"
    for operation in (exports, as_csv):
        assert operation["responses"]["404"] == {"$ref": "#/components/responses/NOT_FOUND"}
        assert operation["responses"]["400"] == {"$ref": "#/components/responses/BAD_REQUEST"}
    problem = spec["components"]["responses"]["BAD_REQUEST"]["content"]
    assert list(problem) == ["application/problem+json"]
    assert {"errors", "detail", "status", "title", "type"} <= set(spec["components"]["schemas"]["Problem"]["properties"])
    summaries = {op["summary"] for path in spec["paths"].values() for op in path.values() if "summary" in op}
    assert "List and search metros" in summaries


def test_docs_page_uses_local_assets(client):
    html = client.get("/docs").get_data(as_text=True)
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in html
    assert "http" not in html.split("<script>")[0].replace("http-equiv", "")
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and b"SwaggerUIBundle" in asset.get_data()


def view_classes(app) -> dict[str, type]:
    """Spec path -> the MethodView class that serves it."""
    return {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule): app.view_functions[rule.endpoint].view_class
            for rule in app.url_map.iter_rules() if hasattr(app.view_functions[rule.endpoint], "view_class")}


def test_operation_ids_are_unique_and_follow_one_rule(app):
    """list_<view class> for an operation that pages (by page or by cursor), get_<view class> for any other; and
    _csv after it for the CSV of such an operation at its path + .csv."""
    classes = view_classes(app)
    ids = [op["operationId"] for op in OPERATIONS.values()]
    assert len(ids) == len(set(ids))
    for path, op in OPERATIONS.items():
        words = re.findall(r"[A-Z][a-z]*", classes[path].__name__)
        pages = any(p["name"] in ("page", "cursor") for p in op["parameters"])
        assert op["operationId"] == ("list_" if pages else "get_") + "_".join(w.lower() for w in words) + (
            "_csv" if path.endswith(".csv") else ""), path
    assert {path: OPERATIONS[path]["operationId"] for path in (
        "/v1/metros", "/v1/metros.csv", "/v1/metros/{code}", "/v1/metros/{code}/exports",
        "/v1/metros/{code}/exports.csv")} == {
        "/v1/metros": "list_metros", "/v1/metros.csv": "list_metros_csv", "/v1/metros/{code}": "get_metro",
        "/v1/metros/{code}/exports": "get_metro_exports", "/v1/metros/{code}/exports.csv": "get_metro_exports_csv"}


def test_every_operation_answering_json_and_csv_has_its_csv_at_its_path_dot_csv(app):
    """The .csv operation differs from its JSON sibling only in its id, its summary and description, the 200's one
    media type (text/csv; the JSON operation's is application/json) and the format parameter, which it lacks and
    which the JSON operation offers as json alone, saying where the CSV is and that format=csv still works."""
    classes = view_classes(app)
    assert sorted(f"{path}.csv" for path, view in classes.items() if has_csv_path(view) and not path.endswith(
        ".csv")) == CSV_PATHS
    assert len(CSV_PATHS) == 22 and "/v1/datasets/{id}/download.csv" not in CSV_PATHS  # a file: CSV is all it is
    for path in CSV_PATHS:
        as_json, as_csv = deepcopy(OPERATIONS[path.removesuffix(".csv")]), deepcopy(OPERATIONS[path])
        assert as_csv.pop("operationId") == as_json.pop("operationId") + "_csv"
        assert as_csv.pop("summary") == as_json.pop("summary") + ", as CSV"
        assert as_csv.pop("description").startswith(f"The CSV of `GET {path.removesuffix('.csv')}`")
        as_json.pop("description", None)
        csv_content, json_content = (op["responses"]["200"].pop("content") for op in (as_csv, as_json))
        assert (list(csv_content), list(json_content)) == (["text/csv"], ["application/json"])
        assert csv_content["text/csv"]["schema"]["type"] == "string"
        (format_,) = [p for p in as_json["parameters"] if p["name"] == "format"]
        as_json["parameters"].remove(format_)
        assert format_["schema"]["enum"] == ["json"]
        assert format_["description"] == (
            f"json, the default. The CSV has its own operation at {path}; format=csv and Accept: text/csv are "
            "still answered here with the same CSV (v1 removes nothing).")
        assert as_csv == as_json, path
        assert SPEC["paths"][path].get("parameters") == SPEC["paths"][path.removesuffix(".csv")].get("parameters")


def test_every_operation_has_tags_and_a_server(client):
    assert SPEC["servers"] == [{"url": "/", "description": "The host that serves this document."}]
    assert all(op["tags"] and op["summary"] for op in OPERATIONS.values())
    assert client.get("/v1/openapi.json").get_json()["info"]["version"] == SPEC["info"]["version"] == version(
        "metro-exports-api")


@pytest.mark.parametrize("path", sorted(OPERATIONS))
def test_formats_are_offered_exactly_where_they_are_answered(client, path):
    """A 200 has one media type (generated clients read a response by one), which the operation answers, as it
    does every format= value it offers. Where the CSV has an operation of its own, the JSON one still answers
    format=csv and Accept: text/csv with the same bytes (v1 removes nothing); without CSV, format=csv is a 400; a
    .csv operation has no format parameter, refuses one and answers CSV whatever Accept says."""
    op = OPERATIONS[path]
    (media,) = op["responses"]["200"]["content"]
    request = example_request(path)
    ask = request + ("&" if "?" in request else "?") + "format="
    response = client.get(request)
    assert (response.status_code, response.mimetype) == (200, media)
    offered = [value for p in op["parameters"] if p["name"] == "format" for value in p["schema"]["enum"]]
    for value in offered:
        assert MEDIA[value] == media
        response = client.get(ask + value)
        assert (response.status_code, response.mimetype) == (200, media)
    if path.endswith(".csv"):
        assert offered == []
        json_path = request.partition("?")[0].removesuffix(".csv")
        for value in ("json", "csv"):
            body = problem(client.get(ask + value), 400)
            assert body["errors"] == {"format": [f"Unknown field: this path answers CSV; JSON is at {json_path}."]}
        assert client.get(request, headers={"Accept": "application/json"}).mimetype == "text/csv"
    elif f"{path}.csv" in OPERATIONS:
        assert offered == ["json"]
        as_csv = client.get(csv_url(request)).get_data()
        for response in (client.get(ask + "csv"), client.get(request, headers={"Accept": "text/csv"})):
            assert (response.status_code, response.mimetype, response.get_data()) == (200, "text/csv", as_csv)
    elif media == "application/json":
        body = problem(client.get(ask + "csv"), 400)
        assert body["errors"] == {"format": ["CSV is not available for this operation."]}


def test_list_parameters_are_documented_as_generated_clients_send_them():
    """A list parameter is form-exploded (name=a&name=b, what openapi-python-client and openapi-fetch send) and
    says that commas work too; no other parameter is a list (the .csv operations have their JSON siblings')."""
    lists = {(path, p["name"]) for path, op in OPERATIONS.items() for p in op["parameters"]
             if p["schema"].get("type") == "array"}
    listed = {("/v1/metros/{code}/indicators", "name"), ("/v1/states/{code}/exports", "industry"),
              ("/v1/metros/exports", "code"), ("/v1/metros/indicators", "code"),
              ("/v1/metros/indicators", "name"), ("/v1/states/exports", "code"), ("/v1/states/exports", "industry"),
              *(("/v1/observations", name) for name in ("dataset", "indicator", "kind", "code", "industry",
                                                       "partner")),
              ("/v1/partners", "kind"), ("/v1/states/{code}/partners", "kind")}
    assert lists == listed | {(f"{path}.csv", name) for path, name in listed}
    for path, name in lists:
        (parameter,) = [p for p in OPERATIONS[path]["parameters"] if p["name"] == name]
        assert (parameter["style"], parameter["explode"]) == ("form", True)
        assert parameter["description"].endswith("A list: comma-separated (name=a,b), repeated (name=a&name=b), or "
                                                 "both.")


def test_every_operation_has_an_example_that_the_fixtures_still_answer(client):
    """An example per operation; a .csv operation's is its JSON sibling's CSV answer, which its own path gives."""
    examples = json.loads(EXAMPLES.read_text())
    assert sorted(examples) == sorted(set(OPERATIONS) - set(CSV_PATHS)), (
        "add the operation's example request to api/examples.json")
    for path, example in examples.items():
        answer = example_answer(client, example["request"])
        assert of_the_moment(answer) == of_the_moment(example), f"{path}: run `make openapi`"
        ok = OPERATIONS[path]["responses"]["200"]["content"]
        as_csv = OPERATIONS.get(f"{path}.csv", OPERATIONS[path])["responses"]["200"]["content"]
        assert ok.get("application/json", {}).get("example") == example.get("response")
        assert as_csv.get("text/csv", {}).get("example") == example.get("csv")
        if f"{path}.csv" in OPERATIONS:
            assert client.get(csv_url(example["request"])).get_data(as_text=True) == answer["csv"]


def test_example_requests_fill_the_parameters():
    op = OPERATIONS["/v1/states/{code}/exports"]
    parameters = {p["name"]: p.get("example") for p in op["parameters"] + SPEC["paths"]["/v1/states/{code}/exports"][
        "parameters"]}
    assert (parameters["code"], parameters["industry"], parameters["from"]) == ("OR", ["ALL", "336"], "2018")


def declared(response: dict) -> set[str]:
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].split("/")[-1]]
    return set(response.get("headers", {}))


@pytest.mark.parametrize("path", sorted(OPERATIONS))
def test_responses_declare_the_headers_they_carry(client, path):
    """Of the headers the spec describes, a 200, a 304 and a 400 carry exactly those their operation declares."""
    request = example_request(path)
    responses = OPERATIONS[path]["responses"]
    ok = client.get(request)
    assert set(ok.headers.keys()) & set(HEADERS) == declared(responses["200"])
    bad = client.get(request + ("&" if "?" in request else "?") + "from=x&year=x&page=x&by=x")
    assert bad.status_code == 400
    assert set(bad.headers.keys()) & set(HEADERS) == declared(responses["400"]) - (
        set() if "304" in responses else {"RateLimit", "RateLimit-Policy", "X-RateLimit-Limit",
                                          "X-RateLimit-Remaining", "X-RateLimit-Reset"})
    if "ETag" in ok.headers:
        not_modified = client.get(request, headers={"If-None-Match": ok.headers["ETag"]})
        assert not_modified.status_code == 304
        assert set(not_modified.headers.keys()) & set(HEADERS) == declared(responses["304"])
    else:
        assert "304" not in responses


def test_schemas_are_open_for_growth_and_the_promise_is_written():
    """v1 may add fields and enumeration values: no schema forbids unknown properties (datamodel-code-generator
    would make that extra='forbid'), and a response's enumerations are known values, not a closed list."""
    text = yaml.safe_dump(SPEC["components"])
    assert "additionalProperties: false" not in text and "\n  enum:" not in text
    status = SPEC["components"]["schemas"]["Point"]["properties"]["status"]
    assert status["x-extensible-enum"][:2] == ["ok", "suppressed"] and "enum" not in status
    assert status["description"].endswith("Known values; others may be added in v1.")
    assert "nothing is removed or renamed" in SPEC["info"]["description"]
