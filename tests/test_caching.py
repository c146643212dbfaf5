"""The caching invariant: a request that reads data reads one data version, pinned once, and everything remembered
or cached is keyed by it; the response cache means the same on both backends and is bounded in bytes."""

import os
import tracemalloc
import uuid
from datetime import datetime

import pytest
import redis
from helpers import FIXTURES
from sqlalchemy import event, text

from api import create_app, db
from api.caching import BoundedMemoryCache, cache
from loaders import build
from models import figures

REDIS_URL = os.environ.get("EXPORTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LOS_ANGELES_2023 = 59561594613
RANKING = "/v1/rankings/metros?year=2023&limit=1"


def double_los_angeles_2023(engine, version: str) -> None:
    """A load that doubles Los Angeles' 2023 ITA figure and gives the store a new data version."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE observations SET value = value * 2 WHERE dataset_id = 'ita-metro-exports' "
                                "AND year = 2023 AND geography_id = (SELECT id FROM geographies WHERE "
                                "kind = 'metro' AND code = '31080')"))
        connection.execute(text("UPDATE store_state SET version = :version WHERE id = 1"), {"version": version})


@pytest.fixture()
def reloaded(engine):
    """Doubles Los Angeles' 2023 figure under a new version when called; the fixture store is rebuilt after."""
    yield lambda version="test-reload": double_los_angeles_2023(engine, version)
    build(engine, FIXTURES, force=True)


@pytest.fixture()
def hourly(app):
    """Makes apps over the fixture store that re-read the data version once an hour (rate limit off; response
    cache off unless asked), as separate hosts would be; disposed afterwards."""
    made = []

    def make(**config):
        made.append(create_app({"DATABASE_URL": app.config["DATABASE_URL"], "DATA_VERSION_TTL": 3600,
                                "RATELIMIT_ENABLED": False, "CACHE_TIMEOUT": -1, **config}))
        return made[-1]
    yield make
    for a in made:
        a.extensions["store_engine"].dispose()


def test_remembered_figures_follow_a_reload(client, reloaded):
    """Cross-sections and national totals are remembered per data version: new figures show at once."""
    summary = "/v1/stats/summary?year=2023&base_year=2013"
    assert client.get(RANKING).get_json()["data"][0]["value"] == LOS_ANGELES_2023
    national = client.get(summary).get_json()["national_total"]
    reloaded()
    assert client.get(RANKING).get_json()["data"][0]["value"] == 2 * LOS_ANGELES_2023
    assert client.get(summary).get_json()["national_total"] == national + LOS_ANGELES_2023
    assert client.get("/v1/rankings/metros?year=2023&limit=2").get_json()["data"][1]["value"] == 26973156822


def test_a_request_answers_wholly_from_the_version_it_reads(hourly, reloaded):
    """Two hosts that re-read the version once an hour: after a reload, every request that reads the store answers
    from the new version and is labelled with it, on both hosts alike; only a revalidation (304) may still match the
    old ETag until the host re-reads the version (DATA_VERSION_TTL)."""
    one, two = hourly(), hourly()
    first, second = one.test_client(), two.test_client()
    before = first.get(RANKING)
    assert before.get_json()["data"][0]["value"] == LOS_ANGELES_2023
    assert second.get(RANKING).headers["ETag"] == before.headers["ETag"]
    reloaded("test-pinned")
    after = [client.get(RANKING) for client in (first, second)]
    assert [r.get_json()["data"][0]["value"] for r in after] == [2 * LOS_ANGELES_2023] * 2
    assert after[0].headers["ETag"] == after[1].headers["ETag"] != before.headers["ETag"]
    assert first.get(RANKING, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    one.extensions["data_version"].checked = float("-inf")  # the hour is up
    assert first.get(RANKING, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_shared_figures_are_safe_from_a_plain_view_after_a_reload(hourly, reloaded):
    """A view that calls a per-version function outside the response cache (it answered 500 'Stale' once)."""
    app = hourly()

    @app.get("/national")
    def national():
        totals = figures.national(db.snapshot(), "ita-metro-exports", "exports_goods")
        return {"total": totals.values[2023], "version": db.snapshot().version}

    client = app.test_client()
    before = client.get("/national").get_json()
    reloaded("test-plain-view")
    after = client.get("/national")
    assert after.status_code == 200
    assert after.get_json() == {"total": before["total"] + LOS_ANGELES_2023, "version": "test-plain-view"}


def test_a_ranking_of_remembered_figures_reads_only_the_data_version(hourly, monkeypatch):
    """Once a process has read a cross-section, another ranking of it (uncached: a new limit) runs one statement:
    the read of the version it pins (by the driver: db.pin)."""
    app = hourly()
    statements = []
    event.listen(app.extensions["store_engine"], "before_cursor_execute", lambda *a: statements.append(a[2]))
    pin = db.pin
    monkeypatch.setattr(db, "pin", lambda held: statements.append(db.STATE_SQL) or pin(held))
    client = app.test_client()
    first = client.get("/v1/rankings/metros?year=2023&limit=1")
    assert first.headers["X-Cache"] == "miss" and len(statements) > 1
    statements.clear()
    second = client.get("/v1/rankings/metros?year=2023&limit=2")
    assert second.headers["X-Cache"] == "miss"
    assert [r["value"] for r in second.get_json()["data"]] == [LOS_ANGELES_2023, 26973156822]
    assert len(statements) == 1 and "FROM store_state" in statements[0]


def test_a_series_read_after_a_reload_carries_the_new_load_time(engine, hourly, reloaded):
    client = hourly().test_client()
    before = client.get("/v1/metros/31080/exports")
    reloaded("test-load-time")
    with engine.begin() as connection:
        connection.execute(text("UPDATE store_state SET loaded_at = :at WHERE id = 1"),
                           {"at": datetime(2030, 1, 2, 3, 4, 5)})
    after = client.get("/v1/metros/31080/exports")
    assert after.headers["Last-Modified"] == "Wed, 02 Jan 2030 03:04:05 GMT" != before.headers["Last-Modified"]
    assert [p["value"] for p in after.get_json()["data"] if p["year"] == 2023] == [2 * LOS_ANGELES_2023]
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.fixture(params=["memory", "redis"])
def backend(request, app):
    """Makes apps over the fixture store whose response cache is in process or in Redis (its own key prefix)."""
    made = []
    prefix = f"test-{uuid.uuid4().hex[:8]}:"

    def make(**config):
        if request.param == "redis":
            config = {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix, **config}
        made.append(create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_ENABLED": False,
                                "DATA_VERSION_TTL": 0, **config}))
        return made[-1]
    make.kind, make.prefix = request.param, prefix
    yield make
    for a in made:
        a.extensions["store_engine"].dispose()
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@pytest.mark.parametrize("timeout", [-1, 0])
def test_a_timeout_that_is_not_positive_means_no_response_cache_on_both_backends(backend, timeout):
    client = backend(CACHE_TIMEOUT=timeout).test_client()
    answers = [client.get("/v1/metros/38900/exports?from=2022") for _ in range(3)]
    assert [r.headers["X-Cache"] for r in answers] == ["miss"] * 3
    assert len({r.headers["ETag"] for r in answers}) == 1
    if backend.kind == "redis":
        assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{backend.prefix}*")) == []


def test_cached_responses_expire_after_the_timeout_on_both_backends(backend):
    app = backend(CACHE_TIMEOUT=60)
    client = app.test_client()
    answers = [client.get("/v1/metros/38900/exports?from=2022") for _ in range(2)]
    assert [r.headers["X-Cache"] for r in answers] == ["miss", "hit"]
    assert answers[0].get_data() == answers[1].get_data()
    if backend.kind == "redis":
        (key,) = redis.Redis.from_url(REDIS_URL).scan_iter(f"{backend.prefix}*")
        assert 0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 60
    else:
        with app.app_context():
            (expires, _), = cache.cache.entries.values()
        assert expires > 0


def test_the_in_process_cache_is_bounded_by_the_memory_it_takes():
    """Keys, values and bookkeeping are counted: the bytes counted are at least what Python really allocates."""
    store = BoundedMemoryCache(default_timeout=60, max_bytes=10**9)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(2000):
        store.set(f"{uuid.uuid4().hex}{i}", b"x" * (i % 700))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(store.entries) == 2000 and used <= store.size


def test_the_in_process_cache_drops_the_least_recently_used_first():
    one = BoundedMemoryCache.cost("a", b"1" * 100)
    store = BoundedMemoryCache(default_timeout=60, max_bytes=3 * one)
    for key in "abc":
        store.set(key, key.encode() * 100)
    assert store.get("a") == b"a" * 100  # a is now the most recently used
    store.set("d", b"d" * 100)
    assert [k for k in "abcd" if store.has(k)] == ["a", "c", "d"] and store.size == 3 * one
    assert store.set("huge", b"x" * 4 * one) is False and store.size == 3 * one  # larger than the whole budget


def test_the_response_cache_never_holds_more_than_its_budget(app):
    budget = 64 * 1024
    small = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_ENABLED": False,
                        "CACHE_MAX_BYTES": budget})
    client = small.test_client()
    for page_size in range(1, 60):
        assert client.get(f"/v1/metros?page_size={page_size}").status_code == 200
    with small.app_context():
        held = cache.cache
        assert 0 < held.size <= budget
        assert held.size == sum(held.cost(k, v) for k, (_, v) in held.entries.items())
    small.extensions["store_engine"].dispose()


def test_a_response_cache_that_does_not_answer_is_skipped(app, caplog):
    """Redis down (nothing listens on its port): answers come from the store, the outage is logged once."""
    down = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_ENABLED": False,
                       "REDIS_URL": "redis://127.0.0.1:9/0"})
    client = down.test_client()
    answers = [client.get("/v1/metros/38900/exports?from=2023") for _ in range(3)]
    assert [(r.status_code, r.headers["X-Cache"]) for r in answers] == [(200, "miss")] * 3
    assert answers[0].get_json()["data"][0]["value"] == 26973156822
    assert [r.getMessage().startswith("response cache (Redis) unavailable") for r in caplog.records].count(True) == 1
    down.extensions["store_engine"].dispose()


def test_shared_caches_get_their_own_freshness(app):
    edge = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_ENABLED": False,
                       "CACHE_SHARED_MAX_AGE": 10})
    response = edge.test_client().get("/v1/metros/38900/exports?from=2023")
    assert response.headers["Cache-Control"] == "public, max-age=300, s-maxage=10"
    edge.extensions["store_engine"].dispose()


def test_shared_figures_are_bounded_by_the_memory_they_hold(app):
    """models/figures.py keeps its results in one store bounded in bytes (least recently used out first), and the
    bytes it counts for an entry are what Python allocates for it (tracemalloc), within a quarter."""
    import gc

    store, budget = figures.REMEMBERED, figures.REMEMBERED.max_bytes
    with app.test_request_context():
        snapshot = db.snapshot()
        places = lambda: figures.places.__wrapped__(snapshot, "ita-metro-exports", "exports_goods",
                                                    ("metro", "unallocated"))
        places()  # its statement compiled and cached by SQLAlchemy, which tracemalloc would count below
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        value = places()
        allocated = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert 0.75 * allocated <= figures.footprint(value) <= 1.25 * allocated
        try:
            store.clear()
            store.max_bytes = 3 * figures.footprint(value) // 2
            for kinds in (("metro", "unallocated"), ("metro",), ("unallocated",), ("metro", "unallocated")):
                figures.places(snapshot, "ita-metro-exports", "exports_goods", kinds)
                assert store.size <= store.max_bytes
                assert store.size == sum(held for _, held in store.entries.values())
            kept = [key[4] for key in store.entries if key[0] is figures.places.__wrapped__]
            assert kept == [("unallocated",), ("metro", "unallocated")]  # the oldest went first, as room was needed
        finally:
            store.clear()
            store.max_bytes = budget
