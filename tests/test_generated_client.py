"""A client generated from the committed openapi.yaml by openapi-python-client reads typed series and typed
problem details from the running API."""

import importlib
import subprocess
import sys
from types import SimpleNamespace

import pytest

from api import ROOT


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Modules of the generated package metro_exports_client; the generator fails on any warning about the spec."""
    tmp = tmp_path_factory.mktemp("client")
    (tmp / "config.yaml").write_text("post_hooks: []\n")
    subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(ROOT / "openapi.yaml"),
                    "--output-path", str(tmp / "metro_exports_client"), "--meta", "none",
                    "--config", str(tmp / "config.yaml"), "--fail-on-warning"], check=True)
    sys.path.insert(0, str(tmp))
    yield SimpleNamespace(**{name: importlib.import_module(f"metro_exports_client.{module}") for name, module in (
        ("client", "client"), ("models", "models"), ("exports", "api.metros.get_v1_metros_code_exports"))})
    sys.path.remove(str(tmp))


@pytest.fixture()
def client(generated, base_url):
    with generated.client.Client(base_url=base_url, raise_on_unexpected_status=True) as client:
        yield client


def test_typed_series(generated, client):
    models = generated.models
    response = generated.exports.sync_detailed("38900", client=client, from_=2022)
    assert response.status_code == 200
    series = response.parsed
    assert isinstance(series, models.Series)
    assert series.geography.name == "Portland-Vancouver-Hillsboro, OR-WA"
    assert [(p.year, p.value, p.status) for p in series.data] == [
        (2022, 34368003214, models.PointStatus.OK), (2023, 26973156822, models.PointStatus.OK)]
    assert series.data[0].status == "ok"


def test_typed_problem(generated, client):
    response = generated.exports.sync_detailed("99999", client=client)
    assert response.status_code == 404
    problem = response.parsed
    assert isinstance(problem, generated.models.Problem)
    assert (problem.status, problem.title, problem.type_, problem.instance) == (
        404, "Not Found", "about:blank", "/v1/metros/99999/exports")
    assert problem.detail == "No CBSA or unallocated area has the code '99999' in any delineation from 2009 to 2023."
