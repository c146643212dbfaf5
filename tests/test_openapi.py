"""The committed spec is what the code generates, it is valid OpenAPI 3.1, and it documents every operation."""

from pathlib import Path

import yaml
from openapi_spec_validator import validate

from api import ROOT


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
