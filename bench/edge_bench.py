"""Edge benchmark: the production topology (deploy/: the nginx edge in front of gunicorn hosts under supervisord)
next to the bare Flask route and the API served directly, in the same run, over a PostgreSQL store built from the
real data.

    .venv/bin/python bench/edge_bench.py
    .venv/bin/python bench/edge_bench.py --duration 3 --rounds 1 --hosts 1,2     # quicker

Measures, each against a baseline measured beside it:
1. closed loop (wrk, random metro series): cached GETs and 304s through the edge against the bare route
   (target >= 5x); uncached series through the edge (1 host) against the same host served directly
   (target >= 0.85x); and through the edge with 2, 3, 4 hosts;
2. open loop (hey -q: a fixed arrival rate): p99 of an uncached series through the edge against the bare route's
   at the same rate (target <= 3x), at half the bare route's capacity, at half the direct series' capacity, and
   at 300 requests/s;
3. the CPU each request costs each component (API workers, nginx, PostgreSQL, the load generator);
4. slow clients: how many connections sending one header byte every 2 s it takes to stall a host served alone,
   and what 50 of them do through the edge.
Everything it starts is stopped and its scratch database dropped, also on an error, Ctrl-C or SIGTERM. It talks
to 127.0.0.1 only.
"""

import argparse
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import redis
from common import BENCH, HOST, ROOT, code_version, free_port, progress, stop
from http_bench import (
    SERIES,
    PostgresStores,
    Target,
    build_store,
    codes_with_exports,
    etags_of,
    measure,
    median_series_bytes,
    start_gunicorn,
    verdict,
    wrk_script,
)

sys.path.insert(0, str(ROOT / "tests"))
from helpers import drip_headers  # the slow clients of tests/test_edge.py

BIN = ROOT / ".venv" / "bin"
NO_LIMIT = {"EXPORTS_RATELIMIT_ENABLED": "false", "ACCESS_LOG": "/dev/null"}
# max-age=0, s-maxage=0: the edge keeps nothing (topology.py would give the hosts s-maxage=10); nor does the host.
UNCACHED = {"EXPORTS_CACHE_MAX_AGE": "0", "EXPORTS_CACHE_SHARED_MAX_AGE": "0", "EXPORTS_CACHE_TIMEOUT": "-1"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="Seconds of wrk load per row and round (5).")
    parser.add_argument("--rounds", type=int, default=2, help="Interleaved rounds; medians (2).")
    parser.add_argument("--warmup", type=int, default=2, help="Seconds of unmeasured load per row first (2).")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2).")
    parser.add_argument("--max-other-cpu", type=float, default=0.05,
                        help="Measure a round again (up to 3 times) when other processes took more than this share "
                             "of the CPUs (0.05).")
    parser.add_argument("--open-seconds", type=int, default=10, help="Seconds per open-loop run (10).")
    parser.add_argument("--hosts", default="1,2,3,4", help="Host counts behind the edge, uncached rows (1,2,3,4).")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="Admin URL on 127.0.0.1; a scratch database is created there and dropped afterwards.")
    args = parser.parse_args()
    args.hosts = sorted({int(n) for n in args.hosts.split(",")} | {1})
    return args


class Topology:
    """deploy/topology.py start/stop with its own ports, run directory and settings; the pids it runs."""

    def __init__(self, name: str, hosts: int, url: str, workdir: Path, env: dict):
        first = free_port()
        while any(port_taken(p) for p in range(first, first + hosts + 1)):
            first = free_port()
        self.name, self.hosts = name, hosts
        self.edge = f"http://{HOST}:{first}"
        self.direct = [f"http://{HOST}:{first + 1 + n}" for n in range(hosts)]
        self.env = {**os.environ, "RUN_DIR": str(workdir / name), "EDGE_PORT": str(first),
                    "API_PORT": str(first + 1), "API_HOSTS": str(hosts), "EXPORTS_DATABASE_URL": url,
                    "EXPORTS_RATELIMIT_KEY_PREFIX": f"edge-bench-{name}-{os.getpid()}",
                    "EXPORTS_CACHE_KEY_PREFIX": f"edge-bench-{name}-{os.getpid()}:", **NO_LIMIT, **env}

    def run(self, action: str, *extra: str) -> None:
        result = subprocess.run([BIN / "python", ROOT / "deploy" / "topology.py", action, *extra], env=self.env,
                                cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode and action == "start":
            sys.exit(f"topology {self.name} did not start:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def stop(self) -> None:
        """Stop everything, and drop the Redis keys the hosts wrote under this topology's prefix."""
        self.run("stop")
        url = self.env.get("EXPORTS_REDIS_URL", "redis://127.0.0.1:6379/0")
        if url:
            client = redis.Redis.from_url(url)
            for key in client.scan_iter(f"*{self.env['EXPORTS_RATELIMIT_KEY_PREFIX']}*"):
                client.delete(key)

    def pid(self, program: str) -> int:
        result = subprocess.run([BIN / "supervisorctl", "-c", ROOT / "deploy" / "supervisord.conf", "pid", program],
                                env=self.env, capture_output=True, text=True, check=False)
        return int(result.stdout.strip() or 0)

    def masters(self) -> list[SimpleNamespace]:
        """supervisord, the gunicorn masters and nginx's master: parents of every process of the topology."""
        supervisord = int((Path(self.env["RUN_DIR"]) / "supervisord.pid").read_text())
        return [SimpleNamespace(pid=p) for p in [supervisord, self.pid("edge"),
                                                 *(self.pid(f"api:api-{n}") for n in range(self.hosts))]]


def port_taken(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
            return False
        except OSError:
            return True


def edge_script(path: Path, codes: list[str], etags: list[str] | None = None) -> Path:
    """http_bench's random-series script, counting the edge's X-Edge-Cache HITs instead of the API's X-Cache."""
    wrk_script(path, codes, etags=etags)
    path.write_text(path.read_text().replace('headers["X-Cache"]', 'headers["X-Edge-Cache"]')
                    .replace('cache == "hit"', 'cache == "HIT"').replace('cache == "miss"', 'cache ~= nil'))
    return path


# --- CPU per request ------------------------------------------------------------------------------------------

def ticks(pids: set[int]) -> int:
    """utime + stime of these processes and of their children (workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) in pids or int(fields[1]) in pids:
            total += int(fields[11]) + int(fields[12])
    return total


def cpu_per_request(label: str, url: str, script: Path, groups: dict, args, seconds: int) -> str:
    """wrk for `seconds`; CPU ms per request of each group of processes ({name: callable -> pids}) and of wrk."""
    pids = {name: get() for name, get in groups.items()}
    before = {name: ticks(p) for name, p in pids.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "-s", str(script),
                          url], capture_output=True, text=True, check=True).stdout
    after = {name: ticks(p | groups[name]()) for name, p in pids.items()}
    wrk = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    hz = os.sysconf("SC_CLK_TCK")
    parts = {name: (after[name] - before[name]) / hz * 1000 / requests for name in groups}
    parts["wrk"] = (wrk.ru_utime + wrk.ru_stime - children.ru_utime - children.ru_stime) * 1000 / requests
    return (f"{label:<46} {requests / seconds:>7.0f} req/s  " +
            "  ".join(f"{name} {ms:.3f}" for name, ms in parts.items()) + f"  (total {sum(parts.values()):.3f} ms)")


# --- open loop ------------------------------------------------------------------------------------------------

def open_loop(url: str, rate: float, seconds: int) -> tuple[float, float, int, int]:
    """hey at a fixed arrival rate (50 workers, rate/50 each): (p50 ms, p99 ms, responses, errors). hey's workers
    wait for each answer, so past ~50 x the latency it is closed loop again: the rates here stay below that."""
    workers = 50
    out = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(workers), "-q", f"{rate / workers:.3f}",
                          "-disable-compression", url], capture_output=True, text=True, check=True).stdout
    percentile = lambda p: re.search(rf"{p}% in ([\d.]+) secs", out)
    if percentile(99) is None:
        progress(f"hey gave no latency distribution for {url} at {rate:.0f}/s:\n{out[-1500:]}")
        return float("nan"), float("nan"), 0, 0
    statuses = {int(code): int(n) for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
    errors = sum(n for code, n in statuses.items() if code != 200)
    errors += sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+Get ", out, re.MULTILINE))
    return (float(percentile(50).group(1)) * 1000, float(percentile(99).group(1)) * 1000, sum(statuses.values()),
            errors)


# --- slow clients ---------------------------------------------------------------------------------------------

def stalls(base: str, slow_count: int, wait: float = 6.0) -> float | None:
    """Open `slow_count` connections that send one header byte every 2 s; then GET /healthz. Its seconds, or None
    when it got no answer within `wait`."""
    host, port = base.removeprefix("http://").split(":")
    slow = [socket.create_connection((host, int(port))) for _ in range(slow_count)]
    head = b"GET /healthz HTTP/1.1\r\nHost: slow\r\n\r\n"
    stop_event = threading.Event()
    thread = drip_headers(slow, head, stop_event)
    time.sleep(0.5)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=wait) as response:
            response.read()
        took = time.monotonic() - started
    except OSError:
        took = None
    stop_event.set()
    thread.join(3)
    for s in slow:
        s.close()
    time.sleep(1)
    return took


# --- main -----------------------------------------------------------------------------------------------------

def bench(args, workdir: Path, stores: PostgresStores, processes: list, topologies: list) -> str:
    started = datetime.now()
    load_before = os.getloadavg()
    url = stores.new()
    progress("Building the store from the real data …")
    build_seconds = build_store(url, args.data_dir, workdir / "build.log")
    bare_proc_log = workdir / "bare.log"
    progress("Starting the topologies …")
    cached = Topology("cached", 2, url, workdir, {})
    topologies.append(cached)
    cached.run("start", "--no-build")
    uncached = {}
    for n in args.hosts:
        uncached[n] = Topology(f"uncached{n}", n, url, workdir, UNCACHED)
        topologies.append(uncached[n])
        uncached[n].run("start", "--no-build")
    one = uncached[1]
    codes = codes_with_exports(one.direct[0])
    body = median_series_bytes(one.direct[0], codes)
    bare = start_gunicorn("bare_app:app", {"BENCH_BODY_BYTES": str(body)}, bare_proc_log, processes,
                          ("--pythonpath", str(BENCH)))
    plain = wrk_script(workdir / "plain.lua")
    direct_script = wrk_script(workdir / "direct.lua", codes)
    through_edge = edge_script(workdir / "edge.lua", codes)
    for code in codes:  # fill the edge's cache, so that the 304 row's ETags are those it holds
        urllib.request.urlopen(f"{cached.edge}{SERIES % code}", timeout=10).read()
    revalidate = edge_script(workdir / "revalidate.lua", codes, etags_of(cached.edge, codes))
    first = SERIES % codes[0]
    load = [
        Target("GET /bare (bare Flask, gunicorn, direct)", f"{bare}/bare", plain),
        Target("edge, cached: GET /v1/metros/{random}/exports", f"{cached.edge}{first}", through_edge, ">=5 bare"),
        Target("edge, 304: the same with If-None-Match", f"{cached.edge}{first}", revalidate, ">=5 bare"),
        Target("direct, uncached: the same series, 1 host", f"{one.direct[0]}{first}", direct_script),
        *(Target(f"edge, uncached: the same series, {n} host(s)", f"{uncached[n].edge}{first}", through_edge)
          for n in args.hosts),
    ]
    masters = [p for t in topologies for p in t.masters()]
    progress(f"Closed loop: {len(load)} rows x {args.rounds} rounds x {args.duration} s …")
    results = measure(load, args, processes + masters, stores)
    by_label = {r.label: r for r in results}
    direct = by_label[load[3].label]
    lines = [
        (f"Metro Exports API behind the nginx edge, PostgreSQL store (real data), {started:%Y-%m-%d %H:%M}, "
        f"{os.cpu_count()} CPUs, code {code_version()}"),
        (f"load average before the run: {' '.join(f'{x:.2f}' for x in load_before)}; store built in "
        f"{build_seconds:.1f} s; bare body {body:,} bytes; {len(codes)} metros"),
        (f"each host: gunicorn, 2 sync workers, rate limit off; edge: deploy/nginx.conf as served by make serve-prod; "
         f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds (medians), each row "
         f"between two runs of the bare route"),
        "", "1. Closed loop", "",
        (f"{'row':<52} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'bare':>6} {'vs bare':>8} {'errors':>6} "
        f"{'edge hits':>9} {'other':>5}  target"),
    ]
    for r, target in zip(results, load, strict=True):
        hits = f"{r.hits / max(1, r.hits + r.misses):.0%}" if r.hits + r.misses else "-"
        lines.append(f"{r.label:<52} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.bare_rps:>6.0f} "
                     f"{r.ratio:>7.2f}x {r.errors:>6} {hits:>9} {r.other_cpu:>5.0%}  {verdict(target.goal, r.ratio)}")
    lines.append("")
    for n in args.hosts:
        row = by_label[f"edge, uncached: the same series, {n} host(s)"]
        goal = verdict(">=0.85 direct", row.ratio / direct.ratio) if n == 1 else ""
        lines.append(f"uncached through the edge, {n} host(s), against the series direct (1 host): "
                     f"{row.ratio / direct.ratio:.2f}x  {goal}")

    progress("Open loop (hey -q) …")
    bare_rps, direct_rps = by_label[load[0].label].rps, direct.rps
    lines += ["", (f"2. Open loop: hey -z {args.open_seconds}s -c 50 -q rate/50 (p99 of the uncached series through the edge, 1 host, "
                  "against the bare route's at the same rate: target <= 3x)"), "",
              f"{'rate/s':>7}  {'target':<44} {'p50 ms':>7} {'p99 ms':>7} {'answers':>8} {'errors':>6}"]
    for rate, why in ((bare_rps / 2, "half the bare route's capacity"),
                      (direct_rps / 2, "half the direct series' capacity"), (300, "the issue's first try")):
        p99s = {}
        for label, target_url in (("bare route", f"{bare}/bare"), ("series direct", f"{one.direct[0]}{first}"),
                                  ("series through the edge", f"{one.edge}{first}")):
            p50, p99, answers, errors = open_loop(target_url, rate, args.open_seconds)
            p99s[label] = p99
            lines.append(f"{rate:>7.0f}  {label:<44} {p50:>7.1f} {p99:>7.1f} {answers:>8} {errors:>6}")
        ratio = p99s["series through the edge"] / p99s["bare route"]
        lines.append(f"{'':>7}  ({why}) edge p99 / bare p99 = {ratio:.2f}x: "
                     f"{'met' if ratio <= 3 else 'NOT met'}; direct p99 / bare p99 = "
                     f"{p99s['series direct'] / p99s['bare route']:.2f}x")

    progress("CPU per request …")
    backends = lambda: stores.server_pids()
    one_hosts = lambda: {one.pid("api:api-0")}
    edge_pids = lambda t: (lambda: {t.pid("edge")})
    lines += ["", "3. CPU per request (ms of CPU time per answered request; wrk alone, 10 s each)", ""]
    lines.append(cpu_per_request("series direct, uncached (1 host)", f"{one.direct[0]}{first}", direct_script,
                                 {"api": one_hosts, "postgres": backends}, args, 10))
    lines.append(cpu_per_request("series through the edge, uncached (1 host)", f"{one.edge}{first}", through_edge,
                                 {"api": one_hosts, "nginx": edge_pids(one), "postgres": backends}, args, 10))
    lines.append(cpu_per_request("series through the edge, cached", f"{cached.edge}{first}", through_edge,
                                 {"nginx": edge_pids(cached)}, args, 10))
    lines.append(cpu_per_request("bare route, direct", f"{bare}/bare", plain,
                                 {"bare": lambda: {processes[-1].pid}}, args, 10))

    progress("Slow clients …")
    lines += ["", "4. Slow clients (one header byte every 2 s each), then GET /healthz (answered within 6 s?)", ""]
    for count in (1, 2, 3):
        took = stalls(one.direct[0], count)
        lines.append(f"host alone (2 sync workers), {count} slow connection(s): "
                     f"{'no answer within 6 s' if took is None else f'answered in {took:.2f} s'}")
    took = stalls(one.edge, 50)
    lines.append(f"through the edge, 50 slow connections: {'no answer' if took is None else f'answered in {took:.3f} s'}")
    lines += ["", (f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
                  f"took {(datetime.now() - started).seconds // 60} min")]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    for tool in ("wrk", "hey"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install -y {tool}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    processes: list[subprocess.Popen] = []
    topologies: list[Topology] = []
    with tempfile.TemporaryDirectory(prefix="exports-edgebench-") as tmp:
        stores = PostgresStores(args.database_url)
        try:
            table = bench(args, Path(tmp), stores, processes, topologies)
            print(table, flush=True)
            folder = BENCH / "results"
            folder.mkdir(exist_ok=True)
            (folder / f"{datetime.now():%Y%m%d-%H%M%S}-edge.txt").write_text(table + "\n")
        finally:
            try:
                for process in reversed(processes):
                    stop(process)
            finally:
                for topology in topologies:  # each one whatever happened to the others
                    try:
                        topology.stop()
                    except Exception as error:  # noqa: BLE001 - reported, and the next one is stopped still
                        progress(f"stopping topology {topology.name}: {error}")
                stores.close()


if __name__ == "__main__":
    main()
