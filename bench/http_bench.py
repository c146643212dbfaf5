"""HTTP benchmark of the Metro Exports API, next to a bare Flask baseline served the same way.

Builds a store from the real data (3 times into fresh stores: median build time, and the store's size),
serves it with gunicorn (2 sync workers, the project's gunicorn.conf.py, access log off) twice, with the
response cache as configured and with every cache entry born expired, serves bench/bare_app.py the same way
and (SQLite) Datasette over the same store file, drives them all with wrk over loopback and prints one table:
each figure next to the bare route's and Datasette's, measured in the same run, and the issue's target.

    .venv/bin/python bench/http_bench.py                        # SQLite store in a temp directory
    .venv/bin/python bench/http_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Everything it starts (gunicorn, wrk, scratch databases) is stopped or dropped on the way out. It only talks
to 127.0.0.1.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common import BENCH, HOST, ROOT, code_version, free_port, machine_ticks, stop
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BIN = ROOT / ".venv" / "bin"
WORKERS = 2
EXPORTS_YEAR = 2023  # codes "with data": metros with an ITA goods exports figure this year
SEARCH = "/v1/metros?q=portland"
SERIES = "/v1/metros/%s/exports"
RANKING = "/v1/rankings/metros?year=2023"
RANKING_CAGR = "/v1/rankings/metros?by=cagr&from=2013&to=2023"
SUMMARY = "/v1/stats/summary?year=2023&base_year=2013"
# One client hammering the API would hit the per-IP rate limit (429) within a second.
API_ENV = {"EXPORTS_RATELIMIT_ENABLED": "false"}
# A negative lifetime makes every response-cache entry expired at birth: each request runs the view.
NO_CACHE_ENV = {"EXPORTS_CACHE_TIMEOUT": "-1"}
RETRIES, RETRY_PAUSE = 3, 10
# Datasette, in its own virtualenv so that its dependencies never meet the API's; a canned query for the series.
DATASETTE = BENCH / ".venv-datasette"
SERIES_SQL = ("select o.year, o.value, o.status from observations o join geographies g on g.id = o.geography_id "
              "where g.kind = 'metro' and g.code = :code and o.dataset_id = 'ita-metro-exports' "
              "and o.indicator = 'exports_goods' and o.industry = 'ALL' and o.partner = 'WLD' order by o.year")  # a round disturbed by other work is measured again, after a pause (seconds)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="Seconds of load per endpoint and round (5).")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32).")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2).")
    parser.add_argument("--rounds", type=int, default=3,
                        help="Interleaved rounds over the endpoints; the table shows medians (3).")
    parser.add_argument("--warmup", type=int, default=2, help="Seconds of unmeasured load per endpoint first (2).")
    parser.add_argument("--max-other-cpu", type=float, default=0.05,
                        help="Measure a round again (up to 3 times) when processes this benchmark did not start "
                             "took more than this share of the CPUs during it (0.05).")
    parser.add_argument("--builds", type=int, default=3, help="Store builds to time (3).")
    parser.add_argument("--no-datasette", action="store_true",
                        help="Leave Datasette out (SQLite only; its virtualenv is made on first use).")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="Measure only the rows whose label contains TEXT (repeatable; the bare route is always "
                             "measured), e.g. --only 'no cache'.")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                        help="Source files (default ../shared/data).")
    parser.add_argument("--database-url", help="Bench PostgreSQL instead of SQLite: an admin URL on 127.0.0.1, "
                        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres. Scratch databases are "
                        "created there and dropped afterwards.")
    args = parser.parse_args()
    if min(args.duration, args.connections, args.threads, args.rounds, args.builds) < 1 or args.warmup < 0:
        parser.error("durations, counts and rounds must be positive")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def fail(message: str, log: Path | None = None) -> None:
    """Stop the run with `message` and the end of `log` (which lives in the temp directory, gone afterwards)."""
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log and log.exists() else ""
    sys.exit(f"{message}\n{tail}".rstrip())


# --- stores -------------------------------------------------------------------------------------------------

class SQLiteStores:
    """Fresh SQLite files in a temp directory."""

    name = "SQLite"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.count = 0

    def new(self) -> str:
        self.count += 1
        return f"sqlite:///{self.workdir / f'store-{self.count}.sqlite'}"

    def size(self, url: str) -> int:
        """Bytes of the database file and its WAL/SHM files, if any."""
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())

    def drop(self, url: str) -> None:
        """Nothing to do: the temp directory goes away at the end."""

    def server_pids(self) -> set[int]:
        """No server: SQLite runs inside the gunicorn workers."""
        return set()

    def close(self) -> None:
        pass


class PostgresStores:
    """Scratch databases on a local PostgreSQL server, created here and dropped on close()."""

    name = "PostgreSQL"

    def __init__(self, admin_url: str):
        url = make_url(admin_url)
        if url.host != HOST:
            sys.exit(f"--database-url must point at {HOST}, not {url.host!r}")
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.prefix = f"exports_bench_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def new(self) -> str:
        database = f"{self.prefix}_{len(self.created) + 1}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return self.url.set(database=database).render_as_string(hide_password=False)

    def size(self, url: str) -> int:
        """Bytes of the store's tables and their indexes (the empty database's catalog is left out)."""
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return connection.scalar(text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"))
        finally:
            engine.dispose()

    def drop(self, url: str) -> None:
        database = make_url(url).database
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        self.created.remove(database)

    def server_pids(self) -> set[int]:
        """The PostgreSQL backends serving our scratch databases (their CPU time is the benchmark's)."""
        with self.admin.connect() as connection:
            return set(connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname LIKE :prefix"),
                                          {"prefix": f"{self.prefix}%"}))

    def close(self) -> None:
        for database in list(self.created):
            self.drop(self.url.set(database=database).render_as_string(hide_password=False))
        self.admin.dispose()


def build_store(url: str, data_dir: Path, log: Path) -> float:
    """Run `flask data build` into `url`; its wall-clock seconds (interpreter start-up included)."""
    env = {**os.environ, "EXPORTS_DATABASE_URL": url, "EXPORTS_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    with log.open("ab") as out:
        result = subprocess.run([BIN / "flask", "--app", "wsgi", "data", "build"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        fail(f"flask data build failed (exit {result.returncode}):", log)
    return elapsed


def timed_builds(stores, runs: int, data_dir: Path, log: Path) -> tuple[str, list[float], int]:
    """Build `runs` fresh stores; keep the last one. Its URL, every build time, and its size."""
    times, url = [], None
    for _ in range(runs):
        if url is not None:
            stores.drop(url)
        url = stores.new()
        times.append(build_store(url, data_dir, log))
        print(f"  build {len(times)}: {times[-1]:.2f} s", file=sys.stderr)
    return url, times, stores.size(url)


# --- servers ------------------------------------------------------------------------------------------------

def start_gunicorn(app: str, env: dict, log: Path, processes: list, extra: tuple = ()) -> str:
    """gunicorn with the project's config and WORKERS sync workers on a free loopback port, answering; its URL."""
    port = free_port()
    command = [BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "--bind", f"{HOST}:{port}",
               "--workers", str(WORKERS), "--worker-class", "sync", "--access-logfile", "/dev/null", *extra, app]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(process)
    base = f"http://{HOST}:{port}"
    wait_until_up(process, f"{base}/readyz" if app == "wsgi:app" else f"{base}/bare", log)
    return base


def wait_until_up(process: subprocess.Popen, url: str, log: Path, timeout: float = 30) -> None:
    """Poll `url` until it answers 200; give up if gunicorn exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"gunicorn exited with {process.returncode}:", log)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    fail(f"{url} did not answer within {timeout:.0f} s:", log)


# --- what to request ----------------------------------------------------------------------------------------

def get(url: str) -> bytes:
    """The body of a GET that must answer 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        fail(f"GET {url} answered {e.code}: {e.read()[:300].decode(errors='replace')}")


def codes_with_exports(base: str) -> list[str]:
    """CBSA codes that have an ITA goods exports figure in EXPORTS_YEAR, paging through /v1/metros."""
    codes, page, pages = [], 1, 1
    while page <= pages:
        body = json.loads(get(f"{base}/v1/metros?year={EXPORTS_YEAR}&page_size=500&page={page}"))
        codes += [m["code"] for m in body["data"] if m["exports"]["value"] is not None]
        pages = body["meta"]["pages"]
        page += 1
    if not codes:
        fail(f"no metro has exports in {EXPORTS_YEAR}: is the store empty?")
    return codes


def median_series_bytes(base: str, codes: list[str], sample: int = 25) -> int:
    """Median size of /v1/metros/{code}/exports over an even sample of `codes` (each must have data)."""
    sizes = []
    for code in codes[:: max(1, len(codes) // sample)]:
        body = get(f"{base}/v1/metros/{code}/exports")
        if not json.loads(body)["data"]:
            fail(f"/v1/metros/{code}/exports has no data although /v1/metros says it has")
        sizes.append(len(body))
    return int(statistics.median(sizes))


def wrk_script(path: Path, codes: list[str] | None = None, template: str = SERIES,
               etags: list[str] | None = None) -> Path:
    """A wrk Lua script counting X-Cache hits and misses; with `codes`, each request is for a random one
    (`template` % code), sent with its If-None-Match when `etags` (one per code) are given."""
    script = """\
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
  hits, misses = 0, 0
end
function response(status, headers, body)
  local cache = headers["X-Cache"]
  if cache == "hit" then hits = hits + 1 elseif cache == "miss" then misses = misses + 1 end
end
function done(summary, latency, requests)
  local h, m = 0, 0
  for _, thread in ipairs(threads) do h, m = h + thread:get("hits"), m + thread:get("misses") end
  io.write(string.format("X-Cache: %d hits, %d misses\\n", h, m))
end
"""
    if codes:
        script += f"""\
local codes = {{{", ".join(f'"{c}"' for c in codes)}}}
local etags = {{{", ".join(json.dumps(e) for e in etags or [])}}}
function request()
  local i = math.random(#codes)
  local headers = etags[i] and {{["If-None-Match"] = etags[i]}} or {{}}
  return wrk.format("GET", string.format("{template}", codes[i]), headers)
end
"""
    path.write_text(script)
    return path


# --- wrk ----------------------------------------------------------------------------------------------------

@dataclass
class Target:
    label: str
    url: str
    script: Path
    goal: str = ""  # the target, e.g. ">=0.40 bare" or ">=5 Datasette"


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses + socket errors
    hits: int  # X-Cache: hit
    misses: int  # X-Cache: miss
    raw: str
    other_cpu: float = 0.0  # share of the machine's CPU used by processes this benchmark did not start
    bare_rps: float = 0.0  # the bare route just before and just after this measurement (mean)
    ratio: float = 1.0  # rps / bare_rps in its round; after combine(), the median over the rounds
    p99_ratio: float = 1.0  # p99_ms against the bare route's (mean of the same two runs), likewise


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(label: str, output: str) -> Result:
    """Requests/s, p50/p99 latency (ms), counts and errors from `wrk --latency` output (and our done())."""
    def find(pattern: str, default: tuple | None = None) -> tuple:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None and default is None:
            fail(f"could not find /{pattern}/ in wrk's output:\n{output}")
        return match.groups() if match else default

    def latency(percent: int) -> float:
        value, unit = find(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$")
        return float(value) * UNIT_MS[unit]

    sockets = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", ("0",) * 4)
    non_2xx = find(r"Non-2xx or 3xx responses: (\d+)", ("0",))
    hits, misses = find(r"^X-Cache: (\d+) hits, (\d+) misses$")
    return Result(label, rps=float(find(r"^Requests/sec:\s+([\d.]+)")[0]), p50_ms=latency(50), p99_ms=latency(99),
                  requests=int(find(r"^\s+(\d+) requests in")[0]), errors=int(non_2xx[0]) + sum(map(int, sockets)),
                  hits=int(hits), misses=int(misses), raw=output)


def run_wrk(target: Target, args: argparse.Namespace, seconds: int) -> str:
    """wrk's text output for `seconds` of load on the target (loopback only)."""
    assert target.url.startswith(f"http://{HOST}:")
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency",
               "-s", str(target.script), target.url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        fail(f"wrk failed on {target.url}:\n{result.stderr}")
    return result.stdout


def measure(targets: list[Target], args: argparse.Namespace, processes: list, stores) -> list[Result]:
    """Each target `args.rounds` times, interleaved (so that a slow spell hits them all); medians per target."""
    for target in targets:
        get(target.url)
        if args.warmup:
            run_wrk(target, args, args.warmup)
    masters = {p.pid for p in processes}

    def sample() -> tuple:
        return machine_ticks(), own_ticks(masters, stores.server_pids())

    runs: dict[str, list[Result]] = {t.label: [] for t in targets}
    assert len(runs) == len(targets), "target labels must differ"
    bare, others = targets[0], targets[1:]
    for round_ in range(1, args.rounds + 1):
        before = measure_round(bare, args, sample, round_)
        runs[bare.label].append(before)
        for target in others:  # each between two measurements of the bare route: the machine's speed drifts
            result = measure_round(target, args, sample, round_)
            after = measure_round(bare, args, sample, round_)
            result.bare_rps = (before.rps + after.rps) / 2
            result.ratio = result.rps / result.bare_rps
            result.p99_ratio = result.p99_ms / ((before.p99_ms + after.p99_ms) / 2)
            runs[target.label].append(result)
            runs[bare.label].append(after)
            before = after
    for result in runs[bare.label]:
        result.bare_rps = result.rps
    return [combine(label, results) for label, results in runs.items()]


def measure_round(target: Target, args: argparse.Namespace, sample, round_: int) -> Result:
    """One round of load on `target`; while other work disturbs it, measured again (up to RETRIES times).

    The least disturbed attempt counts.
    """
    attempts = []
    for attempt in range(1 + RETRIES):
        if attempt:
            time.sleep(RETRY_PAUSE)
        before = sample()
        result = parse_wrk(target.label, run_wrk(target, args, args.duration))
        result.other_cpu = other_share(before, sample())
        attempts.append(result)
        print(f"  round {round_}: {target.label}: {result.rps:.0f} req/s "
              f"(other work: {result.other_cpu:.0%} of the CPUs)", file=sys.stderr)
        if result.other_cpu <= args.max_other_cpu:
            break
    return min(attempts, key=lambda r: r.other_cpu)


def combine(label: str, results: list[Result]) -> Result:
    """The median of each figure over the rounds (the ratios too: each round's against its own bare runs); the
    counts summed."""
    return Result(label, rps=statistics.median(r.rps for r in results),
                  p50_ms=statistics.median(r.p50_ms for r in results),
                  p99_ms=statistics.median(r.p99_ms for r in results),
                  requests=sum(r.requests for r in results), errors=sum(r.errors for r in results),
                  hits=sum(r.hits for r in results), misses=sum(r.misses for r in results),
                  raw="\n".join(r.raw for r in results), other_cpu=max(r.other_cpu for r in results),
                  bare_rps=statistics.median(r.bare_rps for r in results),
                  ratio=statistics.median(r.ratio for r in results),
                  p99_ratio=statistics.median(r.p99_ratio for r in results))


# --- report -------------------------------------------------------------------------------------------------

def own_ticks(masters: set[int], others: set[int]) -> int:
    """CPU ticks used by our gunicorn masters, their workers and `others`, plus our finished children (wrk)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process is gone
        if int(stat.parent.name) in masters | others or int(fields[1]) in masters:
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ticks + round((children.ru_utime + children.ru_stime) * os.sysconf("SC_CLK_TCK"))


def other_share(before: tuple, after: tuple) -> float:
    """The share of the machine's CPU time between two samples that went to processes we did not start."""
    ((busy0, total0), own0), ((busy1, total1), own1) = before, after
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / max(1, total1 - total0)


def verdict(goal: str, ratio: float) -> str:
    if not goal:
        return ""
    wanted = float(goal.removeprefix(">=").split()[0])
    return f"{goal}: {'met' if ratio >= wanted else 'NOT met'} ({ratio:.3f})"


def report(backend: str, args: argparse.Namespace, results: list[Result], load: list[Target],
           build_times: list[float], store_bytes: int, body_bytes: int) -> str:
    """The table: the bare route, each endpoint next to it and to the issue's target, then Datasette, the
    p99 target, and the store's build time and size."""
    lines = [
        f"Metro Exports API over HTTP, {backend} store, {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs",
        (f"gunicorn {WORKERS} sync workers, access log off, rate limit off; wrk -t{args.threads} "
         f"-c{args.connections} -d{args.duration}s --latency, {args.rounds} rounds (medians), {args.warmup} s "
         f"warm-up; each row between two runs of the bare route ('bare': their mean, the row's baseline)"),
        (f"code {code_version()}; 'other CPU': share of the CPUs taken by processes this benchmark did not "
         f"start, worst round (rounds over {args.max_other_cpu:.0%} measured again, up to {RETRIES} times)"),
        "",
        (f"{'endpoint':<60} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'bare':>6} {'vs bare':>8} {'p99/bare':>8} "
         f"{'requests':>9} {'errors':>6} {'hits':>5} {'other':>5}  target"),
    ]
    for r, target in zip(results, load, strict=True):
        hit_rate = f"{r.hits / (r.hits + r.misses):.0%}" if r.hits + r.misses else "-"
        lines.append(f"{r.label:<60} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.bare_rps:>6.0f} "
                     f"{r.ratio:>7.2f}× {r.p99_ratio:>7.2f}× {r.requests:>9,} {r.errors:>6,} "
                     f"{hit_rate:>5} {r.other_cpu:>5.0%}  {verdict(target.goal, r.ratio)}")
    api = [r for r in results[1:] if not r.label.startswith("Datasette")]
    within = [r for r in api if r.p99_ratio <= 2]
    lines += ["", (f"p99 at {args.connections} connections, target <= 2× the bare route's p99 (measured next to "
                   f"each row): {len(within)} of {len(api)} API rows within it; outside: "
                   f"{', '.join(r.label for r in api if r not in within) or 'none'}")]
    datasette = next((r for r in results if r.label.startswith("Datasette")), None)
    if datasette:  # each as a share of the bare route measured beside it, so that drift cancels out
        for row in (r for r in api if r.label.startswith("GET /v1/metros/{random}/exports")):
            ratio = row.ratio / datasette.ratio
            lines.append(f"vs Datasette on the same series ({datasette.rps:.0f} req/s): {row.label}: "
                         f"{ratio:.1f}×, {verdict('>=5 Datasette', ratio)}")
    lines += ["", f"bare route body: {body_bytes:,} bytes (median size of the exports responses)",
              (f"store build (flask data build, wall clock): median {statistics.median(build_times):.2f} s "
               f"over {len(build_times)} runs ({', '.join(f'{t:.2f}' for t in build_times)})"),
              f"store size: {store_bytes / 2**20:.1f} MiB ({store_bytes:,} bytes)"]
    return "\n".join(lines)


def save(table: str, results: list[Result], backend: str) -> Path:
    """The table and wrk's raw output, in bench/results/ (git-ignored)."""
    folder = BENCH / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{backend.lower()}.txt"
    path.write_text(table + "\n\n" + "\n".join(f"== {r.label}\n{r.raw}" for r in results))
    return path


# --- main ---------------------------------------------------------------------------------------------------

def etags_of(base: str, codes: list[str]) -> list[str]:
    """The ETag of each code's exports series (as a client that fetched it before would send it back)."""
    etags = []
    for code in codes:
        with urllib.request.urlopen(f"{base}{SERIES % code}", timeout=10) as response:
            etags.append(response.headers["ETag"])
    return etags


def ensure_datasette() -> Path:
    """Datasette's command, installed from PyPI into bench/.venv-datasette on first use."""
    if not (DATASETTE / "bin" / "datasette").exists():
        print("Installing Datasette into bench/.venv-datasette …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE)], check=True)
        subprocess.run([str(DATASETTE / "bin" / "pip"), "install", "--quiet", "datasette~=0.65"], check=True)
    return DATASETTE / "bin" / "datasette"


def start_datasette(store_url: str, workdir: Path, log: Path, processes: list) -> str:
    """Datasette over the same SQLite file, with a canned query for a metro's ITA goods exports series; its URL."""
    metadata = workdir / "datasette-metadata.json"
    metadata.write_text(json.dumps({"databases": {"store": {"queries": {"series": {"sql": SERIES_SQL}}}}}))
    store = workdir / "store.sqlite"  # Datasette names the database after the file
    if not store.exists():
        store.symlink_to(Path(store_url.removeprefix("sqlite:///")))
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [ensure_datasette(), "serve", str(store), "--host", HOST, "--port", str(port), "--metadata",
             str(metadata), "--setting", "default_cache_ttl", "0"], cwd=workdir, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(process)
    base = f"http://{HOST}:{port}"
    wait_until_up(process, f"{base}/store/series.json?code=38900&_shape=array", log, timeout=60)
    return base


def targets(url: str, workdir: Path, processes: list, datasette: bool) -> tuple[list[Target], int, int]:
    """Start the servers over the store at `url`; what to load (bare route first), the codes, the bare size."""
    log = workdir / "gunicorn.log"
    api = start_gunicorn("wsgi:app", {**API_ENV, "EXPORTS_DATABASE_URL": url}, log, processes)
    api_uncached = start_gunicorn("wsgi:app", {**API_ENV, **NO_CACHE_ENV, "EXPORTS_DATABASE_URL": url}, log,
                                  processes)
    codes = codes_with_exports(api_uncached)
    body_bytes = median_series_bytes(api_uncached, codes)
    bare = start_gunicorn("bare_app:app", {"BENCH_BODY_BYTES": str(body_bytes)}, log, processes,
                          ("--pythonpath", str(BENCH)))
    plain, random_codes = wrk_script(workdir / "plain.lua"), wrk_script(workdir / "random_codes.lua", codes)
    revalidate = wrk_script(workdir / "revalidate.lua", codes, etags=etags_of(api, codes))
    exports = SERIES % codes[0]
    load = [
        Target("GET /bare (bare Flask, same gunicorn)", f"{bare}/bare", plain),
        Target("GET /v1/metros/{random}/exports", f"{api}{exports}", random_codes, ">=0.80 bare"),
        Target("GET /v1/metros/{random}/exports, 304", f"{api}{exports}", revalidate, ">=0.80 bare"),
        Target("GET /v1/metros/{random}/exports, no cache", f"{api_uncached}{exports}", random_codes,
               ">=0.40 bare"),
    ]
    if datasette:
        site = start_datasette(url, workdir, workdir / "datasette.log", processes)
        query = "/store/series.json?code=%s&_shape=array"
        load.append(Target("Datasette: the same series (canned query)", f"{site}{query % codes[0]}",
                           wrk_script(workdir / "datasette.lua", codes, template=query)))
    for path in (RANKING, RANKING_CAGR, SUMMARY):
        load += [Target(f"GET {path}", f"{api}{path}", plain, ">=0.25 bare"),
                 Target(f"GET {path}, no cache", f"{api_uncached}{path}", plain, ">=0.25 bare")]
    load += [Target(f"GET {SEARCH}", f"{api}{SEARCH}", plain),
             Target(f"GET {SEARCH}, no cache", f"{api_uncached}{SEARCH}", plain)]
    return load, len(codes), body_bytes


def bench(args: argparse.Namespace, workdir: Path, stores, processes: list) -> None:
    print(f"Building the store {args.builds} times ({stores.name}) …", file=sys.stderr)
    url, build_times, store_bytes = timed_builds(stores, args.builds, args.data_dir, workdir / "build.log")
    load, codes, body_bytes = targets(url, workdir, processes, stores.name == "SQLite" and not args.no_datasette)
    if args.only:
        load = load[:1] + [t for t in load[1:] if any(text in t.label for text in args.only)]
    print(f"Load: {codes} metros with exports; {args.rounds} × {args.duration} s per endpoint …", file=sys.stderr)
    results = measure(load, args, processes, stores)
    table = report(stores.name, args, results, load, build_times, store_bytes, body_bytes)
    print(table, flush=True)
    print(f"\n(raw wrk output: {save(table, results, stores.name)})", file=sys.stderr)


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs on SIGTERM too
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="exports-bench-") as tmp:
        stores = PostgresStores(args.database_url) if args.database_url else SQLiteStores(Path(tmp))
        try:
            bench(args, Path(tmp), stores, processes)
        finally:
            try:
                for process in reversed(processes):
                    stop(process)
            finally:
                stores.close()


if __name__ == "__main__":
    main()
