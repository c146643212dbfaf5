"""The committed spec is what the code generates, it is valid OpenAPI 3.1, and it documents every operation as it
behaves: ids by one rule, the formats, headers and examples it really answers, and schemas open for growth."""

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from helpers import example_answer, of_the_moment
from openapi_spec_validator import validate

from api import ROOT
from api.spec import EXAMPLES, HEADERS

SPEC = yaml.safe_load(Path(ROOT / "openapi.yaml").read_text())
OPERATIONS = {path: item["get"] for path, item in SPEC["paths"].items()}


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


def test_spec_served_and_documents_csv_errors_and_404s(client):
    spec = client.get("/v1/openapi.json").get_json()
    exports = spec["paths"]["/v1/metros/{code}/exports"]["get"]
    assert set(exports["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert exports["responses"]["404"] == {"$ref": "#/components/responses/NOT_FOUND"}
    assert exports["responses"]["400"] == {"$ref": "#/components/responses/BAD_REQUEST"}
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
    """list_<view class> for an operation that pages (by page or by cursor), get_<view class> for any other."""
    classes = view_classes(app)
    ids = [op["operationId"] for op in OPERATIONS.values()]
    assert len(ids) == len(set(ids))
    for path, op in OPERATIONS.items():
        words = re.findall(r"[A-Z][a-z]*", classes[path].__name__)
        pages = any(p["name"] in ("page", "cursor") for p in op["parameters"])
        assert op["operationId"] == ("list_" if pages else "get_") + "_".join(w.lower() for w in words), path
    assert {OPERATIONS["/v1/metros"]["operationId"], OPERATIONS["/v1/metros/{code}"]["operationId"],
            OPERATIONS["/v1/metros/{code}/exports"]["operationId"]} == {"list_metros", "get_metro",
                                                                         "get_metro_exports"}


def test_every_operation_has_tags_and_a_server(client):
    assert SPEC["servers"] == [{"url": "/", "description": "The host that serves this document."}]
    assert all(op["tags"] and op["summary"] for op in OPERATIONS.values())
    assert client.get("/v1/openapi.json").get_json()["info"]["version"] == SPEC["info"]["version"] == version(
        "metro-exports-api")


@pytest.mark.parametrize("path", sorted(OPERATIONS))
def test_format_csv_is_offered_exactly_where_it_is_answered(client, path):
    op = OPERATIONS[path]
    content = op["responses"]["200"]["content"]
    request = json.loads(EXAMPLES.read_text())[path]["request"]
    ask = request + ("&" if "?" in request else "?") + "format="
    for format_ in (p for p in op["parameters"] if p["name"] == "format"):
        assert ("csv" in format_["schema"]["enum"]) == ("text/csv" in content)
        assert ("json" in format_["schema"]["enum"]) == ("application/json" in content)
        for offered in format_["schema"]["enum"]:  # every value the spec offers is answered in its type
            response = client.get(ask + offered)
            assert (response.status_code, response.mimetype) == (200, {"json": "application/json",
                                                                       "csv": "text/csv"}[offered])
    if "text/csv" not in content:
        response = client.get(ask + "csv")
        assert response.status_code == 400
        assert response.get_json()["errors"] == {"format": ["CSV is not available for this operation."]}


def test_list_parameters_are_documented_as_generated_clients_send_them():
    """A list parameter is form-exploded (name=a&name=b, what openapi-python-client and openapi-fetch send) and
    says that commas work too; no other parameter is a list."""
    lists = {(path, p["name"]) for path, op in OPERATIONS.items() for p in op["parameters"]
             if p["schema"].get("type") == "array"}
    assert lists == {("/v1/metros/{code}/indicators", "name"), ("/v1/states/{code}/exports", "industry"),
                     ("/v1/metros/exports", "code"), ("/v1/metros/indicators", "code"),
                     ("/v1/metros/indicators", "name"), ("/v1/states/exports", "code"), ("/v1/states/exports", "industry"),
                     *(("/v1/observations", name) for name in ("dataset", "indicator", "kind", "code", "industry",
                                                              "partner")),
                     ("/v1/partners", "kind"), ("/v1/states/{code}/partners", "kind")}
    for path, name in lists:
        (parameter,) = [p for p in OPERATIONS[path]["parameters"] if p["name"] == name]
        assert (parameter["style"], parameter["explode"]) == ("form", True)
        assert parameter["description"].endswith("A list: comma-separated (name=a,b), repeated (name=a&name=b), or "
                                                 "both.")


def test_every_operation_has_an_example_that_the_fixtures_still_answer(client):
    examples = json.loads(EXAMPLES.read_text())
    assert sorted(examples) == sorted(OPERATIONS), "add the operation's example request to api/examples.json"
    for path, example in examples.items():
        answer = example_answer(client, example["request"])
        assert of_the_moment(answer) == of_the_moment(example), f"{path}: run `make openapi`"
        ok = OPERATIONS[path]["responses"]["200"]["content"]
        assert ok.get("application/json", {}).get("example") == example.get("response")
        assert ok.get("text/csv", {}).get("example") == example.get("csv")


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
    request = json.loads(EXAMPLES.read_text())[path]["request"]
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
