"""Schemathesis fuzzes every operation of the committed openapi.yaml against gunicorn, with valid and invalid
input (and unsupported methods): no 5xx, and every status code, content type and body conforms to the spec.

FUZZ_EXAMPLES (default 25) bounds the examples per operation and generation phase; the examples are the same
on every run unless FUZZ_RANDOM=1, which explores new ones.

/v1/rate_limit is fuzzed on its own, with limits off (its answer is then all nulls).
"""

import os
from collections import Counter
from urllib.parse import urlsplit

import pytest
import yaml

schemathesis = pytest.importorskip("schemathesis", reason="needs schemathesis (test extras: pip install -e '.[test]')")
from helpers import PROBLEM, call, gunicorn, report
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import ROOT

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
LIMIT_REQUEST_LINE = 4094  # gunicorn.conf.py
REFUSED = "refused by gunicorn: request line too long"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())

schema = schemathesis.openapi.from_dict(SPEC)
examples: Counter = Counter()
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True,
                derandomize=os.environ.get("FUZZ_RANDOM") != "1", database=None)


@pytest.fixture(scope="module")
def server(app, tmp_path_factory):
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_ENABLED": "false",
           "EXPORTS_DATA_VERSION_TTL": "5"}
    with gunicorn(env, tmp_path_factory.mktemp("fuzz") / "gunicorn.log") as running:
        yield running.base


def call_and_validate(case, server: str) -> None:
    examples[case.operation.label] += 1
    response = case.call(base_url=server, timeout=30)
    url = urlsplit(response.request.url)
    if response.status_code == 414:  # gunicorn refuses an oversize request line before the app sees it (text/html)
        examples[REFUSED] += 1
        assert len(f"{case.method} {url.path}?{url.query} HTTP/1.1") > LIMIT_REQUEST_LINE
        return
    case.validate_response(response, checks=CHECKS)


@schema.exclude(path="/v1/rate_limit").parametrize()
@fuzz
def test_every_operation_keeps_its_contract(case, server):
    call_and_validate(case, server)


@schema.include(path="/v1/rate_limit").parametrize()
@fuzz
def test_rate_limit_keeps_its_contract_with_limits_off(case, server):
    call_and_validate(case, server)


def test_every_operation_was_fuzzed(server, request):
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert len(operations) == 55  # 33, and the CSV of 22 of them at their path + .csv
    refused = examples.get(REFUSED, 0)
    fuzzed = {k: v for k, v in examples.items() if k != REFUSED}
    if len(fuzzed) > 1:  # when the whole module ran
        assert set(fuzzed) == operations
        report(request, f"fuzz: {len(fuzzed)} operations, {sum(fuzzed.values())} requests (at most "
                        f"{EXAMPLES} examples per operation and phase); {refused} over gunicorn's request-line "
                        "limit (414)")


def test_dataset_loaded_at_is_an_rfc3339_date_time(server):
    loaded_at = call(server, "/v1/datasets/ita-metro-exports").json["loaded_at"]
    assert loaded_at.endswith(("Z", "+00:00"))


def test_summary_of_a_year_without_figures_is_refused(server):
    reply = call(server, "/v1/stats/summary?year=1900&base_year=1900")
    assert reply.status == 400 and reply.mimetype == PROBLEM
