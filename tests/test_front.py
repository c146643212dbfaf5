"""The front (api/front.py): repeats served from memory before Flask, with the same bytes and a fresh budget."""

import pytest
from helpers import FIXTURES

from api import create_app
from api.front import Front
from loaders import build

SERIES = "/v1/metros/38900/exports?from=2021"


@pytest.fixture()
def front(app):
    """An app over the fixture store, its front, and a count of the requests that reached Flask."""
    fresh = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_LIMIT": "100000 per minute",
                        "DATA_VERSION_TTL": 0})
    layer = fresh.wsgi_app
    assert isinstance(layer, Front)
    reached = []
    inner = layer.wsgi_app

    def counting(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    layer.wsgi_app = counting
    yield fresh, reached
    fresh.extensions["store_engine"].dispose()


def test_a_repeat_is_the_same_response_without_flask(front):
    app, reached = front
    client = app.test_client()
    first = client.get(SERIES)
    second = client.get(SERIES, headers={"X-Request-ID": "abc-123"})
    assert reached == ["/v1/metros/38900/exports"]  # the repeat never reached Flask
    assert second.get_data() == first.get_data() and second.get_json()["data"][0]["year"] == 2021
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.headers["X-Request-ID"] == "abc-123" != first.headers["X-Request-ID"]
    same = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control", "Vary",
            "Access-Control-Allow-Origin", "Content-Security-Policy", "X-Content-Type-Options")
    assert {h: second.headers[h] for h in same} == {h: first.headers[h] for h in same}
    # the budget is spent by the repeat too
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert second.headers["RateLimit"].startswith(f'"default";r={second.headers["X-RateLimit-Remaining"]};t=')


def test_304_head_and_representations(front):
    app, reached = front
    client = app.test_client()
    first = client.get(SERIES)
    not_modified = client.get(SERIES, headers={"If-None-Match": f'W/"x", {first.headers["ETag"]}'})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == first.headers["ETag"] and "Content-Type" not in not_modified.headers
    assert not_modified.headers["Cache-Control"] == "public, max-age=300"
    head = client.head(SERIES)
    assert head.status_code == 200 and head.get_data() == b"" and head.headers["ETag"] == first.headers["ETag"]
    assert len(reached) == 1
    csv = client.get(SERIES, headers={"Accept": "text/csv"})  # another representation: Flask, then kept
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True).startswith("geography_code,")
    assert client.get(SERIES, headers={"Accept": "text/csv"}).get_data() == csv.get_data()
    assert client.get(SERIES + "&to=2022").get_json()["data"][-1]["year"] == 2022  # another query: not a repeat
    assert len(reached) == 3
    # other conditions are Flask's
    client.get(SERIES, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert len(reached) == 4


def test_a_reload_is_never_answered_from_the_old_version(front, engine):
    app, reached = front
    client = app.test_client()
    before = client.get(SERIES)
    build(engine, FIXTURES, force=True)
    after = client.get(SERIES)
    assert after.headers["X-Cache"] == "miss" and after.headers["ETag"] != before.headers["ETag"]
    assert client.get(SERIES, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    assert len(reached) == 2


def test_budget_spent_errors_and_no_cache_go_to_flask(app):
    limited = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_LIMIT": "2 per minute"})
    client = limited.test_client()
    assert [client.get(SERIES).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get(SERIES)
    assert refused.mimetype == "application/problem+json" and refused.get_json()["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60

    uncached = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_ENABLED": False,
                           "CACHE_TIMEOUT": -1})
    client = uncached.test_client()
    assert [client.get(SERIES).headers["X-Cache"] for _ in range(2)] == ["miss", "miss"]
    assert uncached.wsgi_app.kept == {}
    assert client.get("/v1/metros/99999/exports").status_code == 404
    assert client.get("/v1/metros/99999/exports").status_code == 404 and uncached.wsgi_app.kept == {}


def test_memory_is_bounded_oldest_out(app):
    small = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_ENABLED": False,
                        "FRONT_CACHE_BYTES": 2500})
    client = small.test_client()
    sizes = [len(client.get(f"/v1/metros/38900/exports?from={year}").get_data()) for year in (2019, 2020, 2021)]
    assert all(size < 2500 for size in sizes) and sum(sizes) > 2500
    layer = small.wsgi_app
    assert layer.size == sum(len(k.body) for k in layer.kept.values()) <= 2500
    assert [key[1] for key in layer.kept][-1] == "from=2021"  # the newest stays
    assert "from=2019" not in [key[1] for key in layer.kept]
