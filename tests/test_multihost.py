"""Two gunicorn instances over one PostgreSQL store and one Redis answer as one API."""

import os
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack

import pytest
import redis
from helpers import FIXTURES, POSTGRES, gunicorn
from sqlalchemy import create_engine

from loaders import build

REDIS_URL = os.environ.get("EXPORTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
URL = "/v1/metros/38900/exports?from=2019"
LIMIT = 12

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (EXPORTS_TEST_POSTGRES_URL)")]


def get(base: str, path: str, **headers):
    """GET as a load balancer in front of the hosts would pass it on: under the API's public host name."""
    request = urllib.request.Request(base + path, headers={"Host": "api.example.org", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def hosts(app, tmp_path_factory):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_REDIS_URL": REDIS_URL,
           "EXPORTS_RATELIMIT_LIMIT": f"{LIMIT} per minute", "EXPORTS_DATA_VERSION_TTL": "0",
           "EXPORTS_RATELIMIT_KEY_PREFIX": prefix, "EXPORTS_CACHE_KEY_PREFIX": prefix + ":"}
    with ExitStack() as stack:
        yield [stack.enter_context(gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "log")).base for _ in range(2)]


def test_two_hosts_one_api(app, hosts):
    a, b = hosts
    statuses = []

    def fetch(base, **headers):
        status, headers_, body = get(base, URL, **headers)
        statuses.append(status)
        return status, headers_, body

    # the same request gives byte-identical bodies and the same ETag on both hosts
    status_a, headers_a, body_a = fetch(a)
    status_b, headers_b, body_b = fetch(b)
    assert (status_a, status_b) == (200, 200)
    assert body_a == body_b and headers_a["ETag"] == headers_b["ETag"]
    assert headers_b["X-Cache"] == "hit"  # B was served from the response cache A filled, in Redis
    # an ETag from A revalidates on B
    assert fetch(b, **{"If-None-Match": headers_a["ETag"]})[0] == 304

    # a reload: both hosts serve the new version right away, nothing from the old cache
    engine = create_engine(app.config["DATABASE_URL"])
    build(engine, FIXTURES, force=True)
    engine.dispose()
    _, after_a, _ = fetch(a)
    _, after_b, _ = fetch(b)
    assert after_a["ETag"] == after_b["ETag"] != headers_a["ETag"]
    assert after_a["X-Cache"] == "miss"

    # one rate-limit budget across both hosts: alternate until refused
    while len(statuses) < 3 * LIMIT and 429 not in statuses:
        fetch(a if len(statuses) % 2 else b)
    admitted = [s for s in statuses if s != 429]
    assert len(admitted) == LIMIT
    status, headers, body = get(a, URL)
    assert status == 429 and int(headers["Retry-After"]) > 0 and b'"status":429' in body
    assert get(b, "/v1/rate_limit")[2].count(b'"remaining":0') == 1
