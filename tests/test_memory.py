"""Memory stays bounded under many distinct requests: a real gunicorn worker answering thousands of requests that
each make a new response-cache entry (distinct pages, distinct host names of 190 bytes, distinct rankings) grows
by no more than its response-cache budget plus a stated allowance, and stops growing once the cache is full."""

import http.client
from pathlib import Path

import pytest
from helpers import gunicorn, report

pytestmark = pytest.mark.slow
CACHE_BYTES = 4 * 1024 * 1024
# What a worker may add besides its response cache: the per-version figures (bounded by entry counts, a few MB on
# the fixtures), SQLAlchemy's statement cache, and the allocator's own slack.
ALLOWANCE = 24 * 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def requests(start: int, count: int):
    """Distinct requests: another page, another long host name, another pair of years each time."""
    for i in range(start, start + count):
        host = f"h{i}." + ".".join(["x" * 60] * 3)
        path = (f"/v1/states?page={1 + i % 100_000}" if i % 3 == 0 else
                f"/v1/metros?page_size={1 + i % 50}&page={1 + i // 50 % 10}" if i % 3 == 1 else
                f"/v1/rankings/metros?by=cagr&from={2005 + i % 9}&to={2014 + i % 9}&min_base={i}")
        yield host, path


def send(base: str, batch) -> list[int]:
    host, port = base.removeprefix("http://").split(":")
    statuses = []
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        for name, path in batch:
            connection.request("GET", path, headers={"Host": name})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return statuses


def test_a_worker_stays_within_its_budget_under_many_distinct_requests(app, tmp_path, request):
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_ENABLED": "false",
           "EXPORTS_CACHE_MAX_BYTES": str(CACHE_BYTES)}
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1, args=("--access-logfile", "/dev/null")) as server:
        (worker,) = server.workers()
        assert set(send(server.base, requests(0, 300))) == {200}  # imports, statements and figures warmed up
        warm = rss(worker)
        assert set(send(server.base, requests(300, 3000))) == {200}
        full = rss(worker)
        assert set(send(server.base, requests(3300, 3000))) == {200}
        after = rss(worker)
        assert server.workers() == {worker}
    report(request, f"memory: worker RSS {warm / 2**20:.0f} MiB warm, {full / 2**20:.0f} MiB after 3,000 distinct "
                    f"requests, {after / 2**20:.0f} MiB after 3,000 more (cache budget {CACHE_BYTES / 2**20:.0f} MiB)")
    assert after - warm <= CACHE_BYTES + ALLOWANCE
    assert after - full <= ALLOWANCE / 2  # the cache was full: the next 3,000 entries replaced older ones
