"""Reliability on a real gunicorn: no request kills a worker, no header costs a worker more than a bounded amount,
one rate-limit budget per client across the workers of a host, and Redis failing (stopped, frozen) without taking
the API down."""

import datetime
import http.client
import importlib.util
import json
import socket
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import redis
from helpers import PROBLEM, PrivateRedis, call, gunicorn, raw, report

from api import ROOT
from api.formats import ACCEPT_READ
from api.limits_storage import SQLiteStorage


def access_log(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


# 1. Malformed requests: gunicorn answers 400 itself, then logs it through our access logger.

MALFORMED = {
    "two Content-Length headers": b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n",
    "Content-Length: -1": b"Content-Length: -1\r\n\r\n",
    "Content-Length with Transfer-Encoding: chunked": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two Host headers": b"Host: y\r\n\r\n",
}


@pytest.mark.slow
def test_malformed_requests_are_400_and_the_worker_lives_on(app, tmp_path):
    log = tmp_path / "gunicorn.log"
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_ENABLED": "false"}
    with gunicorn(env, log, workers=1) as server:
        (worker,) = server.workers()
        for name, rest in MALFORMED.items():
            reply = raw(server.base, b"GET /v1/states HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + rest, timeout=10)
            assert reply.status == 400, name
            assert call(server.base, "/healthz", timeout=5).status == 200, name
            assert server.workers() == {worker}, name
    assert "exited with code" not in log.read_text()
    logged = [(e["path"], e["status"], e["pid"]) for e in access_log(log)]
    assert logged.count(("/v1/states", 400, worker)) == len(MALFORMED)
    assert logged.count(("/healthz", 200, worker)) >= len(MALFORMED)


def test_the_access_logger_never_raises(caplog):
    """Whatever gunicorn hands it: a response with only a status line (its error path), nothing at all."""
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)

    class ErrorResponse:  # what gunicorn's handle_error builds
        status, headers, sent = "400 Bad Request", [], 0

    took = datetime.timedelta(milliseconds=2)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/states", "REMOTE_ADDR": "127.0.0.1"}
    assert conf.entry(ErrorResponse(), None, environ, took)["status"] == 400
    assert conf.entry(ErrorResponse(), None, {}, took)["path"] is None

    from gunicorn.config import Config
    config = Config()
    config.set("accesslog", "-")
    logger = conf.JsonAccessLogger(config)
    for resp, given, request_time in ((ErrorResponse(), environ, took), (None, {}, None), (object(), None, 5)):
        logger.access(resp, None, given, request_time)  # no exception


# 2. Headers: bounded in all, negotiation reads a bounded prefix of Accept, and the budget is counted before it.

def big_accept(fields: int) -> bytes:
    """`fields` Accept lines of about 8 KB each (gunicorn's limit per line is 8190 bytes)."""
    line = b"Accept: " + b", ".join([b"a/b"] * 1600) + b"\r\n"
    return line * fields


@pytest.mark.slow
def test_headers_are_bounded_and_the_budget_is_counted_before_negotiation(app, tmp_path):
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_LIMIT": "3 per minute",
           "EXPORTS_RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as server:
        (worker,) = server.workers()
        # 48 × 8 KB of Accept (376 KiB, inside gunicorn's limits): refused as a whole, before any other work
        for path in ("/healthz", "/v1/states"):
            reply = raw(server.base, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
                        + big_accept(48) + b"\r\n")
            assert reply.status == 431 and reply.mimetype == PROBLEM, reply
            assert reply.json["detail"] == "Request headers are limited to 32768 bytes in all."
        assert server.workers() == {worker}
        # 3 requests spend the budget; the 4th is refused by the limiter even though negotiation would refuse it
        # too (CSV is not offered for one metro): the budget is counted first
        for _ in range(3):
            assert call(server.base, "/v1/metros/38900").status == 200
        over = call(server.base, "/v1/metros/38900?format=csv")
        assert over.status == 429 and over.mimetype == PROBLEM, over
        assert over.json["status"] == 429 and over.headers["x-ratelimit-remaining"] == "0"


def test_negotiation_reads_only_a_bounded_prefix_of_accept(client):
    filler = ", ".join(["application/x-filler;q=0.1"] * (ACCEPT_READ // 20))
    assert len(filler) > ACCEPT_READ
    within = client.get("/v1/states", headers={"Accept": f"text/csv, {filler}"})
    beyond = client.get("/v1/states", headers={"Accept": f"{filler}, text/csv"})
    assert within.mimetype == "text/csv" and within.get_data(as_text=True).startswith("fips,")
    assert beyond.mimetype == "application/json" and beyond.get_json()["meta"]["total"] > 50


# 5. One budget per client across the workers of a host, without Redis (a SQLite file in the instance folder).

def test_sqlite_counters_count_per_window(tmp_path):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'counters.sqlite'}")
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3] and storage.get("a") == 3
    assert storage.incr("a", 60, amount=2) == 5 and time.time() < storage.get_expiry("a") <= time.time() + 60
    assert [storage.incr("b", 0) for _ in range(3)] == [1, 1, 1]  # each window over at once: counting restarts
    assert storage.get("b") == 0 and storage.get("never") == 0
    other = SQLiteStorage(f"sqlite:///{tmp_path / 'counters.sqlite'}")  # another process's view of the file
    assert other.incr("a", 60) == 6 and storage.get("a") == 6
    storage.clear("a")
    assert other.get("a") == 0 and storage.check()


@pytest.mark.slow
def test_one_budget_per_client_across_workers(app, tmp_path):
    """One worker is held by a request whose headers are not finished, so the other answers the next ones; then
    the held one answers: from the same count."""
    log = tmp_path / "gunicorn.log"
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_LIMIT": "10 per minute",
           "EXPORTS_RATELIMIT_KEY_PREFIX": uuid.uuid4().hex, "EXPORTS_PROXY_COUNT": "1"}
    client = {"X-Forwarded-For": "203.0.113.1"}
    with gunicorn(env, log, workers=2) as server:
        def get(n: int):
            return call(server.base, "/v1/states?page_size=1", headers={**client, "X-Request-ID": f"r{n}"})

        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as held:
            held.sendall(b"GET /v1/states?page_size=1 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.1\r\n"
                         b"X-Request-ID: held\r\nConnection: close\r\n")
            replies = [get(n) for n in range(5)]
            held.sendall(b"\r\n")
            answer = b""
            while chunk := held.recv(65536):
                answer += chunk
        head = answer.split(b"\r\n\r\n")[0].decode().lower().split("\r\n")
        assert head[0].split()[1] == "200"
        replies.append(next(line.split(": ")[1] for line in head if line.startswith("x-ratelimit-remaining")))
        replies += [get(n) for n in range(5, 24)]
    statuses = [200 if isinstance(r, str) else r.status for r in replies]
    remaining = [int(r if isinstance(r, str) else r.headers["x-ratelimit-remaining"]) for r in replies]
    assert statuses == [200] * 10 + [429] * 15
    assert remaining[:10] == list(range(9, -1, -1))  # the held request, 6th, read 4: the count the other kept
    pids = {e["request_id"]: e["pid"] for e in access_log(log)}
    assert pids["held"] != pids["r0"] == pids["r4"]


# 3. Redis stopped, frozen, and back: the API answers from the store meanwhile and returns to Redis by itself.

def timed(base: str, paths: list[str], threads: int = 4) -> list[tuple[int | None, float]]:
    """(status, seconds) of each request, `threads` at a time; None where no answer came within 25 s (gunicorn's
    worker timeout is 30 s)."""
    def one(path):
        start = time.monotonic()
        try:
            status = call(base, path, timeout=25).status
        except (OSError, http.client.HTTPException):
            status = None
        return status, time.monotonic() - start
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, paths))


def figures(results: list[tuple[int | None, float]]) -> str:
    seconds = sorted(t for _, t in results)
    answered = sum(status == 200 for status, _ in results)
    return (f"{answered}/{len(results)} answered 200, latency median {statistics.median(seconds) * 1000:.0f} ms, "
            f"p95 {seconds[int(len(seconds) * 0.95)] * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms")


@pytest.mark.slow
def test_redis_stopped_or_frozen_the_api_answers_and_returns_to_redis(app, tmp_path, request):
    store = PrivateRedis(tmp_path).start()
    prefix = uuid.uuid4().hex
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_REDIS_URL": store.url,
           "EXPORTS_RATELIMIT_LIMIT": "100000 per minute", "EXPORTS_RATELIMIT_KEY_PREFIX": prefix,
           "EXPORTS_CACHE_KEY_PREFIX": f"{prefix}:", "EXPORTS_PROXY_COUNT": "1"}
    log = tmp_path / "gunicorn.log"
    client = redis.Redis.from_url(store.url)
    pages = iter(range(1, 1_000_000))

    def load(n: int = 120) -> list[tuple[int | None, float]]:
        """n requests, each for a page not asked before (a cache miss, then a store into the cache)."""
        return timed(server.base, [f"/v1/metros?page_size=1&page={next(pages)}" for _ in range(n)])

    def ready() -> dict:
        reply = call(server.base, "/readyz", timeout=25)
        assert reply.status == 200 and reply.json["status"] == "ready", reply
        return reply.json

    def back_on_redis(deadline: float = 60) -> float:
        """Seconds until both workers count in Redis and cache there again: a new client's 20 requests, 4 at a
        time, all counted in Redis, 20 new pages all cached there, and /readyz says so."""
        start = time.monotonic()
        while time.monotonic() - start < deadline:
            address = f"198.51.100.{next(pages) % 250}"
            before = len(client.keys(f"{prefix}:*"))
            paths = [f"/v1/metros?page_size=1&page={next(pages)}" for _ in range(20)]
            with ThreadPoolExecutor(4) as pool:
                replies = list(pool.map(partial(call, server.base, headers={"X-Forwarded-For": address}), paths))
            assert [r.status for r in replies] == [200] * 20
            counted = [int(client.get(k)) for k in client.keys(f"*{prefix}/{address}/*")]
            body = ready()
            if counted == [20] and len(client.keys(f"{prefix}:*")) - before == 20 and (
                    body["rate_limits"], body["response_cache"]) == ("redis", "redis"):
                return time.monotonic() - start
            time.sleep(0.5)
        raise AssertionError(f"not back on Redis after {deadline} s")

    try:
        with gunicorn(env, log, workers=2) as server:
            assert back_on_redis(deadline=5) < 5
            seen = {}

            outage = time.monotonic()
            store.freeze()
            seen["frozen"] = load()
            frozen = ready()
            store.thaw()
            seen["back after freeze (s)"] = back_on_redis()

            store.stop()
            seen["stopped"] = load()
            stopped = ready()
            store.start()
            seen["back after restart (s)"] = back_on_redis()
            outage = time.monotonic() - outage
    finally:
        store.stop()
    for phase in ("frozen", "stopped"):
        report(request, f"Redis {phase}: {figures(seen[phase])}")
        assert [status for status, _ in seen[phase]] == [200] * len(seen[phase])
    report(request, f"Redis back: both workers on Redis again {seen['back after freeze (s)']:.1f} s after a thaw, "
                    f"{seen['back after restart (s)']:.1f} s after a restart")
    for body in (frozen, stopped):
        assert body["response_cache"] == "skipped (redis unavailable)"
        assert body["rate_limits"] == "memory (fallback: redis unavailable)"
    # logged when an outage starts, once per worker, not per request
    text = log.read_text()
    limiter, cache = text.count("Rate limit storage unreachable"), text.count("unavailable, skipped for now")
    report(request, f"Redis: {len(seen['frozen']) + len(seen['stopped'])} requests in {outage:.0f} s of outages "
                    f"logged {limiter} limiter and {cache} cache warnings (2 workers)")
    assert 2 <= limiter <= 2 * 2 and 2 <= cache <= 2 * 2
