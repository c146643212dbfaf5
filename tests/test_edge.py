"""The production topology (deploy/): the nginx edge in front of two API hosts kept up by supervisord, over
PostgreSQL and Redis, started by deploy/topology.py as `make serve-prod` starts it. What the edge must do: hold
slow clients and slow readers itself, cache what the API says it may and no more, never hand one client another's
request id or rate-limit figures, lose no request when a host dies, pass the store's outage through as the API's
503, and serve a reload's new data within the documented bound."""

import gzip
import http.client
import os
import shutil
import signal
import socket
import threading
import time
import uuid

import orjson
import pytest
import redis
from helpers import (
    FIXTURES,
    POSTGRES,
    PROBLEM,
    REAL_DATA,
    SUMMARY,
    Load,
    Reply,
    call,
    data_build,
    doubled_ita,
    drip_headers,
    private_postgres,
    report,
    scratch_store,
    topology,
    totals,
    wait_for,
)

from api import create_app

REDIS_URL = os.environ.get("EXPORTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SERIES = "/v1/metros/38900/exports?from=2015"
RATE_HEADERS = ("ratelimit", "ratelimit-policy", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
# Clients other than the machine itself (which the edge's flood guard leaves alone): other loopback addresses.
CLIENT_A, CLIENT_B, CLIENT_C = "127.0.0.2", "127.0.0.3", "127.0.0.4"
TOPOLOGY_MARKS = (
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")),
                       reason="nginx is not installed (apt-get install nginx; .ci/run installs it)"),
    pytest.mark.skipif(not POSTGRES, reason="the production topology runs over PostgreSQL: run with "
                                            "EXPORTS_TEST_POSTGRES_URL (make test-postgres)"),
)


def on_topology(test):
    """A test of the running topology: slow, and skipped without nginx or PostgreSQL."""
    for mark in TOPOLOGY_MARKS:
        test = mark(test)
    return test


def fetch(base: str, path: str, headers: dict | None = None, source: str = "127.0.0.1",
          method: str = "GET") -> Reply:
    """One request on a fresh connection from the loopback address `source`; the body as sent (not decoded)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20, source_address=(source, 0))
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        headers = {}
        for name, value in response.getheaders():  # a repeated header (Vary) as one list
            headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
        return Reply(response.status, headers, response.read())
    finally:
        connection.close()


def exchange(base: str, request: bytes) -> Reply:
    """Send raw bytes; read one response (the edge may reset the connection once it has answered)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as s:
        s.sendall(request)
        return read_response(s.makefile("rb"))


def read_response(stream) -> Reply:
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline().decode("latin-1").strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(status, headers, stream.read(int(headers.get("content-length", 0))))


def stored(base: str, path: str, headers: dict | None = None) -> Reply:
    """A repeat of a request the edge has just answered from a host, sent once the edge has stored the answer:
    nginx files the entry a moment after its last byte leaves, so a repeat sent at once may still miss (the probes
    carry no request id of the test's own)."""
    probe = {k: v for k, v in (headers or {}).items() if k != "X-Request-ID"}
    for _ in range(40):
        if fetch(base, path, probe).headers.get("x-edge-cache") == "HIT":
            break
        time.sleep(0.05)
    return fetch(base, path, headers)


def settle(edge) -> None:
    """Wait until each host's access log holds everything it answered so far (a marker request per host)."""
    for n, base in enumerate(edge.host_bases):
        marker = f"settle-{uuid.uuid4().hex}"
        assert call(base, "/healthz", headers={"X-Request-ID": marker}).status == 200
        wait_for(lambda marker=marker, n=n: any(e["request_id"] == marker for e in edge.access(n)))


def ready(base: str) -> bool:
    try:
        return call(base, "/readyz", timeout=2).status == 200
    except (OSError, http.client.HTTPException):
        return False


def is_problem(reply: Reply, status: int) -> bool:
    return reply.status == status and reply.mimetype == PROBLEM and reply.json["status"] == status


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    """The topology over a scratch database built from the real data when it is here (the fixtures otherwise),
    with a budget no test here reaches from one address."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
    real = (REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx").exists()
    with scratch_store(tmp_path_factory, "edge") as url, \
            topology(url, REAL_DATA if real else FIXTURES, tmp_path_factory.mktemp("edge"),
                     {"EXPORTS_REDIS_URL": REDIS_URL, "EXPORTS_RATELIMIT_LIMIT": "100000 per hour",
                      "EXPORTS_CACHE_SHARED_MAX_AGE": "300"}) as running:  # nothing expires during a test
        running.real_data = real
        yield running


def test_hosts_behind_the_edge_leave_compression_to_it(app):
    """EXPORTS_COMPRESS=false: identity bodies, and Vary names only what the API varies on."""
    quiet = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "COMPRESS": False, "TESTING": True})
    reply = quiet.test_client().get(SERIES, headers={"Accept-Encoding": "gzip"})
    quiet.extensions["store_engine"].dispose()
    assert reply.status_code == 200 and "Content-Encoding" not in reply.headers
    assert reply.headers["Vary"] == "Accept"
    packed = app.test_client().get(SERIES, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["Vary"] == "Accept, Accept-Encoding"


@on_topology
def test_repeats_are_served_and_revalidated_by_the_edge_per_variant(edge):
    first = fetch(edge.base, SERIES, {"X-Request-ID": "edge-first"})
    assert first.status == 200 and first.headers["x-edge-cache"] == "MISS"
    assert first.headers["x-request-id"] == "edge-first" and first.headers["x-cache"] == "miss"
    assert first.headers["x-ratelimit-limit"] == "100000" and first.headers["ratelimit"].startswith('"default";r=')
    assert "content-encoding" not in first.headers and first.json["geography"]["code"] == "38900"
    assert first.headers["cache-control"] == "public, max-age=300, s-maxage=300"

    again = stored(edge.base, SERIES, {"X-Request-ID": "edge-again"})
    assert again.status == 200 and again.headers["x-edge-cache"] == "HIT" and again.body == first.body
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-request-id"] == "edge-again"
    assert not {*RATE_HEADERS, "x-cache"} & again.headers.keys()  # they were the first request's

    revalidated = fetch(edge.base, SERIES, {"If-None-Match": first.headers["etag"], "X-Request-ID": "edge-304"})
    assert revalidated.status == 304 and revalidated.body == b"" and revalidated.headers["x-edge-cache"] == "HIT"
    assert revalidated.headers["x-request-id"] == "edge-304"

    csv = fetch(edge.base, SERIES, {"Accept": "text/csv", "X-Request-ID": "edge-csv"})
    assert csv.status == 200 and csv.mimetype == "text/csv" and csv.headers["x-edge-cache"] == "MISS"
    assert csv.body.startswith(b"geography_code,") and b",38900," not in csv.body[:20]
    csv_again = stored(edge.base, SERIES, {"Accept": "text/csv"})
    assert csv_again.headers["x-edge-cache"] == "HIT" and csv_again.body == csv.body
    json_again = fetch(edge.base, SERIES)
    assert json_again.headers["x-edge-cache"] == "HIT" and json_again.body == first.body
    # another Accept is another variant (Vary: Accept), even when it asks for the same representation
    explicit = fetch(edge.base, SERIES, {"Accept": "application/json", "X-Request-ID": "edge-json"})
    assert explicit.headers["x-edge-cache"] == "MISS" and explicit.body == first.body

    packed = fetch(edge.base, SERIES, {"Accept-Encoding": "gzip"})
    assert packed.headers["x-edge-cache"] == "HIT" and packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.body) == first.body
    assert {"Accept", "Accept-Encoding"} <= {v.strip() for v in packed.headers["vary"].split(",")}
    plain = fetch(edge.base, SERIES, {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.body == first.body

    settle(edge)  # only the three misses reached a host
    reached = [e["request_id"] for n in range(2) for e in edge.access(n) if e["request_id"].startswith("edge-")]
    assert sorted(reached) == ["edge-csv", "edge-first", "edge-json"]


@on_topology
def test_problems_are_not_stored(edge):
    for attempt in range(2):
        missing = fetch(edge.base, "/v1/metros/99999", {"X-Request-ID": f"missing-{attempt}"})
        assert is_problem(missing, 404) and missing.headers["x-edge-cache"] == "MISS"
        assert "cache-control" not in missing.headers
        bad = fetch(edge.base, "/v1/metros/38900/exports?from=2019&nope=1", {"X-Request-ID": f"bad-{attempt}"})
        assert is_problem(bad, 400) and bad.json["errors"].keys() == {"nope"}
    settle(edge)
    for request_id in ("missing-0", "missing-1", "bad-0", "bad-1"):
        assert [e["status"] for e in edge.answered(request_id)] == [404 if "missing" in request_id else 400]


@on_topology
def test_no_response_carries_another_clients_request_id_or_budget(edge):
    for n in range(7):  # B spends 7 first, so the two clients' figures differ
        assert fetch(edge.base, f"/v1/metros?page_size={200 + n}", source=CLIENT_B).status == 200
    seen = {CLIENT_A: [], CLIENT_B: []}
    for rounds in range(3):
        for year in range(2010, 2016):
            for client in (CLIENT_A, CLIENT_B) if year % 2 else (CLIENT_B, CLIENT_A):
                request_id = uuid.uuid4().hex
                reply = fetch(edge.base, f"/v1/metros/38900/exports?from={year}&to=2020", {"X-Request-ID": request_id},
                              source=client)
                assert reply.status == 200 and reply.headers["x-request-id"] == request_id
                if reply.headers["x-edge-cache"] == "MISS":
                    seen[client].append(int(reply.headers["x-ratelimit-remaining"]))
                    assert f'r={seen[client][-1]};' in reply.headers["ratelimit"]
                else:
                    assert reply.headers["x-edge-cache"] == "HIT" and not RATE_HEADERS & reply.headers.keys()
    # each client saw its own count only, one per request that reached the API (usually the first of each URL; a
    # repeat that arrives before nginx has filed the first answer in its cache reaches the API too)
    assert len(seen[CLIENT_A]) >= 3 and len(seen[CLIENT_B]) >= 3
    assert seen[CLIENT_A] == list(range(99999, 99999 - len(seen[CLIENT_A]), -1))
    assert seen[CLIENT_B] == list(range(99992, 99992 - len(seen[CLIENT_B]), -1))


@on_topology
def test_the_edge_answers_its_own_errors_as_problems(edge):
    too_long = fetch(edge.base, "/v1/metros?q=" + "a" * 4100)
    assert is_problem(too_long, 414) and too_long.json["title"] == "URI Too Long"
    too_large = fetch(edge.base, "/v1/metros", {"X-Padding": "x" * 5000})
    assert is_problem(too_large, 431)
    body = exchange(edge.base, b"POST /v1/metros HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n")
    assert is_problem(body, 413)
    for malformed in (b"Content-Length: 1\r\nContent-Length: 2\r\n", b"Content-Length: -1\r\n",
                      b"Host: b\r\n", b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"):
        reply = exchange(edge.base, b"GET /v1/states HTTP/1.1\r\nHost: a\r\n" + malformed + b"\r\n")
        assert is_problem(reply, 400), (malformed, reply)
    assert is_problem(exchange(edge.base, b"NOT HTTP\r\n\r\n"), 400)
    assert is_problem(fetch(edge.base, "/_edge/502"), 404)  # the edge's error pages are its own only
    # 80 small headers: under the edge's limits, so the host answers (not gunicorn's text/html 431)
    many = {f"X-Extra-{n}": "1" for n in range(80)}
    assert fetch(edge.base, "/v1/states?page_size=3", many).json["meta"]["page_size"] == 3


@on_topology
def test_slow_clients_do_not_hold_the_hosts(edge, request):
    address = edge.base.removeprefix("http://").split(":")
    slow = [socket.create_connection((address[0], int(address[1])), timeout=5) for _ in range(50)]
    opened = time.monotonic()
    head = b"GET /v1/metros HTTP/1.1\r\nHost: slow\r\nAccept: application/json\r\n\r\n"
    stop = threading.Event()
    dripper = drip_headers(slow, head, stop)
    answered = []
    try:
        while time.monotonic() - opened < 8:
            started = time.monotonic()
            reply = call(edge.base, f"/v1/metros?page_size={1 + len(answered)}&sort=-name", timeout=20)
            answered.append((reply.status, time.monotonic() - started))
        # the edge gives a request head 10 s (client_header_timeout), then closes the connection
        closed = 0
        for s in slow:
            s.settimeout(max(0.1, opened + 14 - time.monotonic()))
            try:
                closed += s.recv(100) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
    finally:
        stop.set()
        dripper.join(5)
        for s in slow:
            s.close()
    report(request, f"slow clients: 50 connections dripping header bytes; {len(answered)} requests through the "
                    f"edge meanwhile, slowest {max(t for _, t in answered):.2f} s; {closed} of 50 closed by the "
                    "edge after its 10 s header timeout")
    assert answered and all(status == 200 for status, _ in answered)
    assert max(t for _, t in answered) < 5  # a generous bound: the hosts were never held
    assert closed == 50


@on_topology
def test_a_slow_reader_of_the_largest_download_holds_no_worker(edge, request):
    """The largest CSV the API serves is a dataset's bulk download. Read slowly through the edge, the host sends all
    of it long before the reader has it, and other requests through the edge are answered as usual meanwhile."""
    if not edge.real_data:
        pytest.skip(f"needs the real data (the fixtures' largest download, 47 KB, fits the edge's memory buffers): "
                    f"not found at {REAL_DATA}")
    listed = fetch(edge.host_bases[1], "/v1/datasets?page_size=500").json  # from a host: the edge keeps nothing
    assert listed["meta"]["pages"] == 1
    largest = max(listed["data"], key=lambda d: d["row_count"] or 0)["id"]
    path = f"/v1/datasets/{largest}/download"
    body = fetch(edge.host_bases[1], path).body
    # Bigger than what nginx keeps of one response in memory (proxy_buffer_size 16k + proxy_buffers 32 16k in
    # deploy/nginx.conf): the rest has to go to a file on disk (the cache's, a download being cacheable) before
    # the host can be done with a reader this slow. A file that fits would not test that.
    assert len(body) > 16 * 1024 + 32 * 16 * 1024

    def slow_reader(base: str, request_id: str) -> socket.socket:
        """A client on a real network's segment size with a small window."""
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
        s.settimeout(20)
        host, port = base.removeprefix("http://").split(":")
        s.connect((host, int(port)))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: slow\r\nX-Request-ID: {request_id}\r\n"
                  "Connection: close\r\n\r\n".encode())
        return s

    def on_disk() -> int:
        return max((f.stat().st_size for f in (edge.run_dir / "edge" / "cache").rglob("*") if f.is_file()), default=0)

    through_edge = slow_reader(edge.base, "slow-reader-edge")
    reply, received, stop = http.client.HTTPResponse(through_edge), [], threading.Event()

    def read_slowly():  # 1 KiB every 50 ms: the file would take minutes
        while not stop.wait(0.05) and (piece := reply.read(1024)):
            received.append(piece)
    with through_edge:
        reply.begin()
        reader = threading.Thread(target=read_slowly, daemon=True)
        reader.start()
        try:
            answered, opened, done = [], time.monotonic(), None
            while time.monotonic() - opened < 6 or done is None:
                n = len(answered) + 1
                started = time.monotonic()
                status = fetch(edge.base, f"/v1/metros?page_size={n}&sort=-code",  # a URL of this test's own
                               {"X-Request-ID": f"meanwhile-{n}"}).status
                answered.append((status, time.monotonic() - started))
                if done is None and (entry := edge.answered("slow-reader-edge")):
                    done = (entry, sum(map(len, received)))
                assert time.monotonic() - opened < 30, "the host never finished the download"
                time.sleep(0.1)
            wait_for(lambda: on_disk() > len(body), timeout=5)  # the edge's file of it (with a header) is whole
            # the control: the same reader straight to a host, reading nothing, keeps that host's worker sending
            direct = slow_reader(edge.host_bases[0], "slow-reader-direct")
            with direct:
                time.sleep(2)
                settle(edge)
                assert edge.answered("slow-reader-direct") == []
        finally:
            stop.set()
            reader.join(5)
        rest = reply.read()
    entry, read_by_then = done
    report(request, f"slow reader: {largest} download, {len(body):,} bytes; the host was done when the reader had "
                    f"{read_by_then:,}; {len(answered)} requests through the edge meanwhile, slowest "
                    f"{max(t for _, t in answered):.2f} s")
    assert [(e["status"], e["bytes"]) for e in entry] == [(200, len(body))]  # the host is done: its worker is free
    assert read_by_then < len(body) // 2
    assert all(status == 200 for status, _ in answered) and max(t for _, t in answered) < 5  # a generous bound
    assert all(edge.answered(f"meanwhile-{n}") for n in range(1, len(answered) + 1))  # answered by the hosts
    assert reply.status == 200 and reply.getheader("Content-Type").startswith("text/csv")
    assert b"".join(received) + rest == body


@on_topology
def test_a_host_killed_under_load_fails_no_request_and_comes_back(edge, request):
    victim = edge.host_pid(0)
    paths = lambda i: f"/v1/metros?page_size={1 + i % 500}&sort={('name', 'code', '-name')[i // 500 % 3]}"
    with Load(edge.base, paths, threads=4) as load:
        time.sleep(1.0)
        os.killpg(victim, signal.SIGKILL)  # the host's gunicorn master and its workers, at once
        killed = time.monotonic()
        wait_for(lambda: edge.host_pid(0) not in (0, victim))
        wait_for(lambda: ready(edge.host_bases[0]))
        back = time.monotonic()
        served = len(edge.access(0))
        wait_for(lambda: any(e["path"] == "/v1/metros" for e in edge.access(0)[served:]))
    during = [r for r in load.results if killed <= r[0] <= back]
    report(request, f"host killed: {len(load.results)} requests through the edge ({len(during)} while the host "
                    f"was down or booting, {back - killed:.1f} s), {len(load.failures)} failed")
    assert load.failures == [], load.failures[:3]
    assert during



@on_topology
def test_rate_limits_behind_the_edge(tmp_path_factory):
    """The API counts what reaches it, per client, once across the hosts; a cached answer costs nothing; the edge
    guards against floods; and with no host left, the edge answers a problem."""
    cached = "/v1/metros/38900/exports?from=2019"
    with scratch_store(tmp_path_factory, "edgelimits") as url, \
            topology(url, FIXTURES, tmp_path_factory.mktemp("edgelimits"),
                     {"EXPORTS_REDIS_URL": REDIS_URL, "EXPORTS_RATELIMIT_LIMIT": "5 per minute",
                      "EXPORTS_CACHE_SHARED_MAX_AGE": "300"}) as edge:
        first = fetch(edge.base, cached, source=CLIENT_A)
        assert first.headers["x-edge-cache"] == "MISS" and first.headers["x-ratelimit-remaining"] == "4"
        for _ in range(10):
            hit = fetch(edge.base, cached, source=CLIENT_A)
            assert hit.status == 200 and hit.headers["x-edge-cache"] == "HIT" and not RATE_HEADERS & hit.headers.keys()
        spent = [fetch(edge.base, f"/v1/metros?page_size={n}", {"X-Request-ID": f"spend-{n}"}, source=CLIENT_A)
                 for n in range(1, 5)]
        assert [r.headers["x-ratelimit-remaining"] for r in spent] == ["3", "2", "1", "0"]
        settle(edge)  # the four went to both hosts, which count in one budget (Redis)
        assert {e["remote"] for n in range(1, 5) for e in edge.answered(f"spend-{n}")} == {CLIENT_A}
        assert all(edge.access(n) for n in range(2))
        refused = fetch(edge.base, "/v1/metros?page_size=9", source=CLIENT_A)
        assert is_problem(refused, 429) and int(refused.headers["retry-after"]) > 0
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert fetch(edge.base, cached, source=CLIENT_A).headers["x-edge-cache"] == "HIT"  # still served: free
        other = fetch(edge.base, "/v1/metros?page_size=9", source=CLIENT_B)  # its own budget; no 429 stored
        assert other.status == 200 and other.headers["x-ratelimit-remaining"] == "4"

        # the edge's flood guard: 300 requests at once on one connection, from one address
        host, port = edge.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), source_address=(CLIENT_C, 0), timeout=20) as s:
            s.sendall(f"GET {cached} HTTP/1.1\r\nHost: flood\r\n\r\n".encode() * 300)
            stream = s.makefile("rb")
            replies = [read_response(stream) for _ in range(300)]
        statuses = [r.status for r in replies]
        assert set(statuses) == {200, 429} and statuses.index(429) >= 100  # the burst, then refusals
        flood = replies[statuses.index(429)]
        assert is_problem(flood, 429) and flood.headers["retry-after"] == "1"

        edge.supervisorctl("stop", "api:*")
        gone = fetch(edge.base, "/v1/metros?page_size=12", source=CLIENT_B)
        assert is_problem(gone, 502) and gone.headers["retry-after"] == "5"


@on_topology
def test_postgres_stopped_is_a_503_through_the_edge_and_recovery_needs_no_restart(tmp_path_factory, request):
    with private_postgres() as server, \
            topology(server.url.removesuffix("/postgres") + "/metro_exports", FIXTURES, tmp_path_factory.mktemp("edgepg"),
                     {"EXPORTS_REDIS_URL": REDIS_URL, "EXPORTS_RATELIMIT_ENABLED": "false",
                      "EXPORTS_DATABASE_CONNECT_TIMEOUT": "2"}) as edge:
        hosts = [edge.host_pid(n) for n in range(2)]
        assert fetch(edge.base, SERIES).status == 200
        server.stop()
        paths = [f"/v1/metros?page_size={n}" for n in range(1, 7)]
        for path in paths:
            down = fetch(edge.base, path)
            assert is_problem(down, 503) and down.headers["retry-after"] == "5", down
            assert down.json["detail"] == "The data store is unavailable; try again shortly."
        not_ready = fetch(edge.base, "/readyz")
        assert is_problem(not_ready, 503) and not_ready.headers["retry-after"] == "5"
        server.start()
        restarted = time.monotonic()
        wait_for(lambda: fetch(edge.base, "/readyz").status == 200, 30)
        report(request, f"PostgreSQL stopped: {len(paths)} requests through the edge, all 503 problems; ready "
                        f"{time.monotonic() - restarted:.2f} s after it was started again")
        assert [fetch(edge.base, path).status for path in paths] == [200] * len(paths)  # no 503 was stored
        assert [edge.host_pid(n) for n in range(2)] == hosts  # no host restarted


@on_topology
def test_a_reload_through_the_edge_is_old_or_new_and_all_new_within_the_bound(tmp_path_factory, request):
    """Bound: a response is at most CACHE_SHARED_MAX_AGE (+1 s: nginx counts whole seconds) old at the edge, and
    was produced at most DATA_VERSION_TTL after the reload committed."""
    initial = tmp_path_factory.mktemp("edgereload") / "data"
    shutil.copytree(FIXTURES, initial)
    (initial / "census" / "statenaics_2019_or.json").unlink()  # a dataset the reload adds
    doubled = doubled_ita(tmp_path_factory.mktemp("edgereload") / "doubled")
    shared_max_age, ttl = 2, 1.0
    env = {"EXPORTS_REDIS_URL": REDIS_URL, "EXPORTS_RATELIMIT_ENABLED": "false", "EXPORTS_DATA_VERSION_TTL": str(ttl),
           "EXPORTS_CACHE_SHARED_MAX_AGE": str(shared_max_age)}
    added = "/v1/datasets/census-api-statenaics-2019-or"
    with scratch_store(tmp_path_factory, "edgereload") as url, \
            topology(url, initial, tmp_path_factory.mktemp("edgereload"), env) as edge:
        assert is_problem(fetch(edge.base, added), 404)
        first = fetch(edge.base, SUMMARY)
        assert first.headers["cache-control"] == f"public, max-age=300, s-maxage={shared_max_age}"
        old = totals(first.json)
        # past its freshness the edge asks the host with If-None-Match; the host answers 304 (same data)
        time.sleep(shared_max_age + 1.5)
        again = fetch(edge.base, SUMMARY, {"X-Request-ID": "revalidation"})
        assert again.headers["x-edge-cache"] == "REVALIDATED" and again.body == first.body
        settle(edge)
        assert [e["status"] for e in edge.answered("revalidation")] == [304]
        twice = lambda v: None if v is None else v * 2
        new = (*map(twice, old[:5]), tuple((c, twice(v), twice(b)) for c, v, b in old[5]))
        bound = shared_max_age + 1 + ttl
        replies = []  # (started, finished, status, body)
        stop = threading.Event()

        def client(n: int) -> None:
            i = 0
            while not stop.is_set():
                # mostly the same few summaries (held by the edge), some never asked before (read by a host)
                threshold = i % 4 if i % 5 else 1000 + n * 100_000 + i
                started = time.monotonic()
                try:
                    reply = fetch(edge.base, f"{SUMMARY}&threshold={threshold}")
                    replies.append((started, time.monotonic(), reply.status, reply.body))
                except (OSError, http.client.HTTPException) as e:
                    replies.append((started, time.monotonic(), None, str(e).encode()))
                i += 1
        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        build = data_build(url, doubled)
        output = build.communicate(timeout=120)[0].decode()
        committed = time.monotonic()
        assert build.returncode == 0, output
        assert fetch(edge.base, added).status == 200  # at once: its 404 was never stored
        time.sleep(bound + 2)
        stop.set()
        for t in threads:
            t.join(25)
    failed = [r for r in replies if r[2] != 200]
    seen = [(started, totals(orjson.loads(body))) for started, _, status, body in replies if status == 200]
    late = [answer for started, answer in seen if started >= committed + bound]
    last_old = max((started for started, answer in seen if answer == old), default=committed) - committed
    report(request, f"reload through the edge: {len(replies)} requests, {len(failed)} failed; the last old answer "
                    f"was asked {last_old:.2f} s after the commit (bound {bound:.0f} s); {len(late)} asked after "
                    "the bound, all new")
    assert failed == []
    assert {answer for _, answer in seen} == {old, new}
    assert late and set(late) == {new}
