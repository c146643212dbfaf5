"""Faults: the store going away and coming back, a worker killed under load, a query over the time limit, a
reload under load, a loader killed mid-build, and rate limits under concurrency across workers and hosts."""

import os
import signal
import sqlite3
import threading
import time
import uuid

import orjson
import psycopg
import pytest
import redis
from helpers import (
    FIXTURES,
    POSTGRES,
    PROBLEM,
    SUMMARY,
    Gunicorn,
    Load,
    TcpProxy,
    call,
    data_build,
    doubled_ita,
    gunicorn,
    report,
    scratch_store,
    snapshot,
    totals,
    wait_for,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import create_app
from loaders import build

REDIS_URL = os.environ.get("EXPORTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SERIES = "/v1/metros/38900/exports?from=2019"
pytestmark = pytest.mark.slow
postgres_only = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (EXPORTS_TEST_POSTGRES_URL)")
sqlite_only = pytest.mark.skipif(bool(POSTGRES), reason="the SQLite variant")


def env_for(url: str, **extra) -> dict:
    return {"EXPORTS_DATABASE_URL": url, "EXPORTS_RATELIMIT_ENABLED": "false", "EXPORTS_DATA_VERSION_TTL": "0",
            **{f"EXPORTS_{k}": str(v) for k, v in extra.items()}}


def assert_unavailable(reply, detail: str = "The data store is unavailable; try again shortly.") -> None:
    assert reply.status == 503 and reply.mimetype == PROBLEM, reply
    assert reply.json["status"] == 503 and reply.json["detail"] == detail
    assert reply.headers["retry-after"] == "5"


def assert_not_ready(reply) -> None:
    assert reply.status == 503 and reply.mimetype == PROBLEM, reply
    assert reply.json["detail"].startswith("The store is unreachable or not built")
    assert reply.headers["retry-after"] == "5"


# a. the store unreachable, then back


@postgres_only
def test_postgres_outage_is_a_503_and_the_api_recovers_without_a_restart(app, tmp_path, request):
    target = make_url(app.config["DATABASE_URL"])
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    outage = []
    try:
        with gunicorn(env_for(url, DATABASE_CONNECT_TIMEOUT=2), tmp_path / "gunicorn.log") as server:
            workers = server.workers()
            for _ in range(4):
                assert call(server.base, SERIES).status == 200
            assert call(server.base, "/readyz").json["status"] == "ready"

            proxy.cut("refuse")  # the server goes away: connections dropped, new ones closed at once
            for i in range(6):
                started = time.monotonic()
                outage.append(call(server.base, f"{SERIES}&to={2020 + i % 4}"))
                assert_unavailable(outage[-1])
                assert time.monotonic() - started < 15  # refused at once, not held to gunicorn's 30 s worker timeout
            outage.append(call(server.base, "/readyz"))
            assert_not_ready(outage[-1])

            proxy.cut("blackhole")  # the server's host goes silent: connections never answered
            for path in (SERIES, "/readyz"):
                started = time.monotonic()
                outage.append(call(server.base, path))
                assert outage[-1].status == 503 and outage[-1].headers["retry-after"] == "5", outage[-1]
                assert time.monotonic() - started < 20  # DATABASE_CONNECT_TIMEOUT (2 s), not gunicorn's 30 s timeout

            proxy.restore()
            recovered = time.monotonic()
            wait_for(lambda: call(server.base, "/readyz").status == 200)
            recovery = time.monotonic() - recovered
            assert [call(server.base, SERIES).status for _ in range(8)] == [200] * 8
            assert call(server.base, "/readyz").json["status"] == "ready"
            assert server.workers() == workers  # recovered by itself, no worker restarted
    finally:
        proxy.close()
    report(request, f"outage: {len(outage)} requests while PostgreSQL was cut off (refused, then blackholed), "
                    f"all 503; ready again {recovery:.2f} s after the proxy came back")


@sqlite_only
def test_sqlite_store_unreachable_is_a_503_and_the_api_recovers_without_a_restart(app, tmp_path):
    path = tmp_path / "store.sqlite"
    path.mkdir()  # a directory where the store file should be: SQLite cannot open it
    with gunicorn(env_for(f"sqlite:///{path}"), tmp_path / "gunicorn.log") as server:
        workers = server.workers()
        for _ in range(4):
            assert_unavailable(call(server.base, SERIES))
        assert_not_ready(call(server.base, "/readyz"))
        path.rmdir()
        source = sqlite3.connect(make_url(app.config["DATABASE_URL"]).database)
        with sqlite3.connect(path) as copy:
            source.backup(copy)
        source.close()
        assert [call(server.base, SERIES).status for _ in range(4)] == [200] * 4
        assert call(server.base, "/readyz").json["status"] == "ready"
        assert server.workers() == workers


def test_an_unbuilt_store_is_a_503_not_a_500(tmp_path):
    with gunicorn(env_for(f"sqlite:///{tmp_path / 'empty.sqlite'}"), tmp_path / "gunicorn.log", workers=1) as server:
        assert_unavailable(call(server.base, SERIES))
        reply = call(server.base, "/readyz")
        assert reply.status == 503 and reply.mimetype == PROBLEM


# b. a worker killed under load


def test_a_worker_killed_under_load_is_replaced_and_only_its_request_fails(app, tmp_path, request):
    paths = lambda i: f"/v1/metros?page_size={1 + i % 40}&sort={('name', 'code', '-name')[i % 3]}"
    with gunicorn(env_for(app.config["DATABASE_URL"]), tmp_path / "gunicorn.log", workers=2) as server:
        before = server.workers()
        assert len(before) == 2
        with Load(server.base, paths, threads=4) as load:
            time.sleep(1.0)
            victim = min(before)
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            replaced = wait_for(lambda: (w := server.workers()) and len(w) == 2 and victim not in w and w, 10)
            time.sleep(1.5)
        after_kill = [r for r in load.results if r[0] > killed_at + 1.0]
    failures = load.failures
    report(request, f"worker kill: {len(load.results)} requests, {len(failures)} failed: {[f[3] for f in failures]}")
    assert any(r[0] < killed_at for r in load.results)  # the load was running when the worker died
    assert len(failures) <= 1  # a sync worker has at most one request in flight
    assert all(f[2] is None for f in failures)  # dropped connection, never a wrong answer
    assert after_kill and all(r[2] == 200 for r in after_kill)
    assert len(replaced) == 2 and replaced - before


# c. a query over the statement timeout


@postgres_only
def test_statement_timeout_is_applied_to_every_postgres_connection(app):
    cases = (({}, "5s"), ({"STATEMENT_TIMEOUT_MS": 1234}, "1234ms"), ({"STATEMENT_TIMEOUT_MS": 0}, "0"))
    for config, expected in cases:
        engine = create_app({"DATABASE_URL": app.config["DATABASE_URL"], **config}).extensions["store_engine"]
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == expected
        engine.dispose()


@postgres_only
def test_a_query_over_the_time_limit_is_a_503_not_a_hang(app, tmp_path):
    lock_url = make_url(app.config["DATABASE_URL"]).set(drivername="postgresql")
    slow = "/v1/rankings/metros?by=cagr&from=2005&to=2023"
    with gunicorn(env_for(app.config["DATABASE_URL"], STATEMENT_TIMEOUT_MS=300), tmp_path / "gunicorn.log",
                  workers=1) as server:
        workers = server.workers()
        assert call(server.base, "/readyz").status == 200
        # another session holds the observations table: every query on it waits, as behind a stuck statement
        with psycopg.connect(lock_url.render_as_string(hide_password=False)) as blocker:
            blocker.execute("LOCK TABLE observations IN ACCESS EXCLUSIVE MODE")
            for path in (slow, SERIES):
                started = time.monotonic()
                reply = call(server.base, path, timeout=10)
                took = time.monotonic() - started
                assert_unavailable(reply, "The query was stopped after the store's time limit (300 ms); try again "
                                          "shortly.")
                assert 0.3 <= took < 3
            blocker.rollback()
        ranked = call(server.base, slow)
        assert ranked.status == 200 and ranked.json["by"] == "cagr" and ranked.json["ranked"] > 0
        assert call(server.base, SERIES).status == 200
        assert server.workers() == workers


# d. a reload under load; e. a loader killed mid-build


def summary_totals(client) -> tuple:
    response = client.get(SUMMARY)
    assert response.status_code == 200
    return totals(response.get_json())


@pytest.fixture()
def store(tmp_path_factory):
    """A scratch store of its own (these tests reload it), built from the fixtures."""
    with scratch_store(tmp_path_factory, "faults") as url:
        engine = create_engine(url)
        build(engine, FIXTURES)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def doubled(tmp_path_factory):
    return doubled_ita(tmp_path_factory.mktemp("doubled") / "data")


def test_a_reload_under_load_serves_old_or_new_data_never_a_mix_and_no_errors(store, doubled, tmp_path, request):
    client = create_app({"DATABASE_URL": store, "DATA_VERSION_TTL": 0, "RATELIMIT_ENABLED": False}).test_client()
    old = summary_totals(client)
    # every figure doubled, so every total doubles
    twice = lambda v: None if v is None else v * 2
    new = (*map(twice, old[:5]), tuple((c, twice(v), twice(b)) for c, v, b in old[5]))
    paths = lambda i: f"{SUMMARY}&threshold={i}"  # a new cache key each time: every request queries
    reloads = []
    with gunicorn(env_for(store), tmp_path / "gunicorn.log", workers=2) as server, \
            Load(server.base, paths, threads=4) as load:
        for data_dir in (doubled, FIXTURES, doubled):
            time.sleep(0.5)
            started = time.monotonic()
            build_process = data_build(store, data_dir)
            output = build_process.communicate(timeout=120)[0].decode()
            assert build_process.returncode == 0, output
            reloads.append((started, time.monotonic()))
        time.sleep(0.5)
    seen = {totals(orjson.loads(r[3])) for r in load.results if r[2] == 200}
    during = [r for r in load.results if any(a <= r[0] <= b for a, b in reloads)]
    report(request, f"reload: {len(load.results)} requests ({len(during)} during the 3 reloads), "
                    f"{len(load.failures)} failed")
    assert load.failures == []
    assert during  # requests were answered while the reloads ran
    assert seen == {old, new}
    assert summary_totals(client) == new


def write_transaction_open(url: str) -> bool:
    """Another process holds an open write transaction on the store."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        probe = sqlite3.connect(parsed.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as e:
            return "locked" in str(e)
        finally:
            probe.close()
    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False)) as c:
        return c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL").fetchone()[0] > 0


def test_a_loader_killed_mid_build_leaves_the_store_intact(store, doubled, request):
    engine = create_engine(store)
    before = snapshot(engine)
    client = create_app({"DATABASE_URL": store, "DATA_VERSION_TTL": 0}).test_client()
    old = summary_totals(client)
    etag = client.get(SUMMARY).headers["ETag"]

    process = data_build(store, doubled)
    started = time.monotonic()
    time.sleep(0.3)
    wait_for(lambda: write_transaction_open(store) or process.poll() is not None, 30, 0.005)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    report(request, f"loader killed after {time.monotonic() - started:.2f} s, inside its write transaction")
    assert process.returncode == -signal.SIGKILL

    wait_for(lambda: not write_transaction_open(store), 10)
    assert snapshot(engine) == before
    assert summary_totals(client) == old and client.get(SUMMARY).headers["ETag"] == etag
    assert client.get("/readyz").status_code == 200

    output = data_build(store, doubled).communicate(timeout=120)[0].decode()
    assert "Rejected" not in output
    assert snapshot(engine) != before
    assert summary_totals(client)[0] == old[0] * 2
    engine.dispose()


# f. rate limits under concurrency, across workers and across hosts


@pytest.fixture()
def redis_prefix():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def burst(bases: list[str], n: int) -> list:
    """n requests at once, spread over `bases`."""
    gate = threading.Barrier(n)
    replies = [None] * n

    def one(i):
        gate.wait()
        replies[i] = call(bases[i % len(bases)], f"/v1/metros?page_size=1&page={1 + i % 5}")
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return replies


@pytest.mark.parametrize("hosts", [1, 2], ids=["one host, 2 workers", "two hosts, 2 workers each"])
def test_rate_limit_holds_under_concurrency(app, tmp_path, redis_prefix, hosts, request):
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_REDIS_URL": REDIS_URL,
           "EXPORTS_RATELIMIT_LIMIT": "20 per minute", "EXPORTS_RATELIMIT_KEY_PREFIX": redis_prefix,
           "EXPORTS_CACHE_KEY_PREFIX": redis_prefix + ":"}
    servers = [Gunicorn(env, tmp_path / f"gunicorn{i}.log", workers=2) for i in range(hosts)]
    try:
        replies = burst([s.wait().base for s in servers], 60)
    finally:
        for s in servers:
            s.stop()
    statuses = [r.status for r in replies]
    report(request, f"rate limit, {hosts} host(s): 60 concurrent requests, {statuses.count(200)} admitted, "
                    f"{statuses.count(429)} refused")
    assert statuses.count(200) == 20 and statuses.count(429) == 40
    for r in replies:
        if r.status == 429:
            assert r.mimetype == PROBLEM and r.json["status"] == 429 and 0 < int(r.headers["retry-after"]) <= 60
