"""Scale benchmark: state series and state rankings over 1M and 10M synthetic observations in PostgreSQL.

Creates a scratch database on 127.0.0.1, builds the fixture store there (schema, states, indexes), adds a
synthetic dataset of state x industry x partner x year observations (52 states, DC and Puerto Rico x 400
industry codes x 50 partners, the world included, x 10 years = 10.4M rows) with INSERT ... SELECT from
generate_series, and measures at two sizes: first with 40 of the industries (1.04M rows), then with all 400
(10.4M). Queries ask for the first 40 industries only, so they return the same rows at both sizes: what grows
is the table, not the answer.

At each size, `--connections` threads (8) send for `--duration` seconds (10), after a warm-up:

- series: one state, one industry, one partner, all years -- the query GET /v1/states/{id}/exports runs
  (models.observation.series + the industry title), target p99 < 50 ms;
- ranking: every state in one year for one industry and partner -- the query GET /v1/rankings/states runs
  (models.observation.cross_section), target p99 < 250 ms;

through the app's own select() builders and a SQLAlchemy pool, then the same two endpoints over HTTP (gunicorn
with the project's config, 2 sync workers, rate limit off, response cache off: EXPORTS_CACHE_TIMEOUT=-1).
At 10M it runs EXPLAIN (ANALYZE, BUFFERS) once per query shape and says which index bounds the scan; a shape
that misses its target gets its plan printed and the index that would match it, which is then built in the
scratch database (only there) and measured again. The scratch database is dropped at the end, also on an error,
Ctrl-C or SIGTERM.

    .venv/bin/python bench/scale_bench.py
    .venv/bin/python bench/scale_bench.py --duration 5 --skip-http      # quicker
"""

import argparse
import itertools
import json
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import HOST, ROOT, code_version, free_port, machine_ticks, progress, stop

sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from loaders import build, stamp
from loaders.upsert import upsert
from models import Dataset, Geography, Industry, Observation, Partner
from models.engine import create_store_engine
from models.observation import EXPORTS, WORLD, cross_section, series

FIXTURES = ROOT / "tests" / "data"  # as tests/conftest.py FIXTURES
DATASET = "synthetic-state-exports"
INDICATOR = "exports_goods"
YEARS = range(2014, 2024)
TARGETS_MS = {"series": 50.0, "ranking": 250.0}
# The index each query shape needs: the columns it fixes with '=' first, then what it reads.
MATCHING_INDEX = {
    "series": ('Observation primary key (dataset_id, indicator, geography_id, industry, partner, year): already '
               'matches (every column but year fixed by "=", rows come out in year order)'),
    "ranking": ('Index("ix_observations_cross_section", "dataset_id", "indicator", "industry", "partner", "year", '
                '"geography_id", postgresql_include=["value", "status"])'),
}
MATCHING_DDL = {"ranking": "CREATE INDEX ix_observations_cross_section ON observations "
                           "(dataset_id, indicator, industry, partner, year, geography_id) INCLUDE (value, status)"}
# The columns each shape fixes with '=' (the ranking's geography_id comes from the join with geographies).
FIXED = {"series": {"dataset_id", "indicator", "geography_id", "industry", "partner"},
         "ranking": {"dataset_id", "indicator", "industry", "partner", "year"}}
HTTP_ENV = {"EXPORTS_RATELIMIT_ENABLED": "false", "EXPORTS_CACHE_TIMEOUT": "-1", "ACCESS_LOG": "/dev/null"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="Admin URL on 127.0.0.1 where the scratch database is created and dropped.")
    parser.add_argument("--industries", default="400",
                        help="Industry codes at each larger size, comma-separated (400: 10.4M rows; 400,4000 adds "
                             "104M, about 30 GB of disk).")
    parser.add_argument("--first-industries", type=int, default=40,
                        help="Industry codes at the small size; the ones queried (40).")
    parser.add_argument("--partners", type=int, default=50, help="Partners, the world included (50).")
    parser.add_argument("--connections", type=int, default=8, help="Concurrent clients (8).")
    parser.add_argument("--duration", type=float, default=10, help="Seconds of load per query shape (10).")
    parser.add_argument("--warmup", type=float, default=2, help="Seconds of unmeasured load first (2).")
    parser.add_argument("--skip-http", action="store_true", help="Database queries only, no gunicorn.")
    parser.add_argument("--no-try-index", action="store_true",
                        help="Do not build the matching index when a shape misses its target.")
    parser.add_argument("--skip-pgbench", action="store_true", help="No pgbench runs of the same statements.")
    args = parser.parse_args()
    # the industries at each larger size; args.industries keeps the largest (bulk_bench.py shares add_reference_rows)
    args.sizes = sorted({int(n) for n in args.industries.split(",")})
    args.industries = args.sizes[-1]
    if not 0 < args.first_industries <= args.sizes[0] or args.partners < 2 or args.connections < 1:
        parser.error("need 0 < --first-industries <= --industries, --partners >= 2, --connections >= 1")
    if make_url(args.postgres_url).host != HOST:
        parser.error(f"--postgres-url must point at {HOST}")
    return args


# --- the scratch store --------------------------------------------------------------------------------------

class Scratch:
    """A scratch database on the local server, created here and dropped on close()."""

    def __init__(self, admin_url: str):
        self.admin_url = make_url(admin_url)
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"exports_scalebench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = self.admin_url.set(database=self.name).render_as_string(hide_password=False)

    def backend_pids(self) -> set[int]:
        """The PostgreSQL backends serving the scratch database (their CPU time is the benchmark's)."""
        with self.admin.connect() as connection:
            return set(connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                          {"d": self.name}))

    def close(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@dataclass
class Synthetic:
    """What the synthetic dataset is made of: geography ids (with USPS codes), industries, partners."""

    states: list[tuple[int, str]]
    industries: list[str]
    partners: list[str]


def synthetic_codes(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Industry codes (3-digit, from 100) and partners (WLD and Census-like 4-digit country codes), sorted."""
    industries = [str(100 + i) for i in range(args.industries)]
    partners = sorted([WORLD] + [str(1000 + 10 * i) for i in range(args.partners - 1)])
    return industries, partners


def add_reference_rows(engine, args: argparse.Namespace) -> Synthetic:
    """The dataset, industries and partners rows the API looks up; the 50 states, DC and Puerto Rico."""
    industries, partners = synthetic_codes(args)
    with Session(engine) as session, session.begin():
        upsert(session, Dataset.__table__, [{
            "id": DATASET, "title": "Synthetic state exports by industry and partner (scale benchmark)",
            "publisher": "bench/scale_bench.py", "source_url": None, "source_file": "(generated)", "license": None,
            "unit": "USD", "dollar_basis": "nominal", "coverage": "52 states x industries x partners x 10 years",
            "delineation": None, "sha256": "0" * 64, "loaded_at": datetime.now(UTC).replace(microsecond=0, tzinfo=None),
            "row_count": 0, "notes": "Generated with random values; 2% suppressed.", "series": DATASET,
            "released_on": None, "release": None}], ["id"])
        upsert(session, Industry.__table__, [{"code": c, "title": f"Synthetic industry {c}", "level": len(c),
                                              "classification": "naics"} for c in industries], ["code"])
        upsert(session, Partner.__table__, [{"code": c, "name": f"Synthetic country {c}", "kind": "country"}
                                            for c in partners if c != WORLD], ["code"])
        states = session.execute(select(Geography.id, Geography.usps).where(
            Geography.kind == "state", (Geography.code < "60") | (Geography.code == "72")).order_by(Geography.id)).all()
    return Synthetic([tuple(s) for s in states], industries, partners)


# Row n of the generated block, in primary-key order: geography-major, then industry, partner, year. The
# strides are bigint: psycopg sends small Python ints as smallint, and their products would overflow.
GENERATE = """
INSERT INTO observations (dataset_id, indicator, geography_id, industry, partner, year, value, status)
SELECT :dataset, :indicator,
       (CAST(:geos AS integer[]))[n / CAST(:per_geo AS bigint) + 1],
       (CAST(:industries AS text[]))[n / CAST(:per_industry AS bigint) % CAST(:ni AS bigint) + 1],
       (CAST(:partners AS text[]))[n / CAST(:ny AS bigint) % CAST(:np AS bigint) + 1],
       CAST(:y0 AS integer) + CAST(n % CAST(:ny AS bigint) AS integer),
       CASE WHEN r < 0.02 THEN NULL ELSE floor(r * 1e10) END,
       CASE WHEN r < 0.02 THEN 'suppressed' ELSE 'ok' END
FROM (SELECT n, random() AS r FROM generate_series(CAST(0 AS bigint), CAST(:count AS bigint) - 1) AS n) AS numbered
"""


def generate(engine, synthetic: Synthetic, industries: list[str]) -> tuple[int, float]:
    """Insert state x `industries` x partner x year observations in primary-key order; (rows, seconds).

    Foreign-key triggers are off for this transaction (session_replication_role = replica, superuser): every
    geography id and the dataset id come from the store itself, and 2 trigger calls per row would triple the time.
    """
    geos = [g for g, _ in synthetic.states]
    count = len(geos) * len(industries) * len(synthetic.partners) * len(YEARS)
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("SELECT setseed(0.2026)"))
        connection.execute(text(GENERATE), {
            "dataset": DATASET, "indicator": INDICATOR, "geos": geos, "industries": industries,
            "partners": synthetic.partners, "per_geo": count // len(geos),
            "per_industry": len(synthetic.partners) * len(YEARS), "ni": len(industries),
            "np": len(synthetic.partners), "ny": len(YEARS), "y0": YEARS[0], "count": count})
        connection.execute(text("UPDATE datasets SET row_count = (SELECT count(*) FROM observations "
                                "WHERE dataset_id = :d) WHERE id = :d"), {"d": DATASET})
    with Session(engine) as session, session.begin():
        stamp(session)  # a new data version, as a load would record
    seconds = time.perf_counter() - start
    vacuum_analyze(engine)
    return count, seconds


def vacuum_analyze(engine) -> None:
    """VACUUM (ANALYZE) observations: statistics, hint bits and the visibility map, as autovacuum would leave
    them after a bulk insert (and so autovacuum does not start in the middle of a measurement)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) observations"))


def table_size(engine) -> tuple[int, str]:
    """Rows of the observations table, and a line with them and its heap and index sizes."""
    with engine.connect() as connection:
        rows = connection.scalar(text("SELECT count(*) FROM observations"))
        heap, indexes = connection.execute(text(
            "SELECT pg_table_size('observations'), pg_indexes_size('observations')")).one()
    return rows, f"{rows:,} rows, heap {heap / 2**20:,.0f} MiB, indexes {indexes / 2**20:,.0f} MiB"


# --- the queries --------------------------------------------------------------------------------------------

def series_query(synthetic: Synthetic, queried: list[str], rng: random.Random):
    """What GET /v1/states/{id}/exports?dataset=&industry=&partner= runs (api/states.py)."""
    geo, _ = rng.choice(synthetic.states)
    query = series(geo, EXPORTS, DATASET, industries=[rng.choice(queried)], partner=rng.choice(synthetic.partners))
    return query.add_columns(Industry.title.label("industry_title")).outerjoin(
        Industry, Industry.code == Observation.industry)


def ranking_query(synthetic: Synthetic, queried: list[str], rng: random.Random):
    """What GET /v1/rankings/states?dataset=&year=&industry= runs (api/stats.py), with a partner too."""
    return cross_section(DATASET, [INDICATOR], [rng.choice(YEARS)], ["state"], industry=rng.choice(queried),
                         partner=rng.choice(synthetic.partners))


QUERIES = {"series": series_query, "ranking": ranking_query}


def series_path(synthetic: Synthetic, queried: list[str], rng: random.Random) -> str:
    _, usps = rng.choice(synthetic.states)
    return (f"/v1/states/{usps}/exports?dataset={DATASET}&industry={rng.choice(queried)}"
            f"&partner={rng.choice(synthetic.partners)}")


def ranking_path(synthetic: Synthetic, queried: list[str], rng: random.Random) -> str:
    return f"/v1/rankings/states?dataset={DATASET}&year={rng.choice(YEARS)}&industry={rng.choice(queried)}"


# --- load ---------------------------------------------------------------------------------------------------

def ticks_of(pids: set[int], parents: set[int] = frozenset()) -> int:
    """CPU ticks used so far by `pids` and by the children of `parents` (gunicorn's workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process is gone
        if int(stat.parent.name) in pids or int(fields[1]) in parents:
            ticks += int(fields[11]) + int(fields[12])
    return ticks


@dataclass
class Latency:
    label: str
    count: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    rows: float  # mean rows (or ranked places) per answer
    other_cpu: float  # share of the machine's CPUs used by processes this benchmark did not start


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return sorted_values[min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))]


def hammer(call, connections: int, seconds: float, seed: int) -> tuple[list[float], list[int], int]:
    """`connections` threads calling call(rng) -> rows until the time is up; latencies (s), rows, errors."""
    deadline = time.perf_counter() + seconds
    latencies, rows, errors, lock = [], [], [0], threading.Lock()

    def worker(rng: random.Random) -> None:
        mine, counts, failed = [], [], 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                counts.append(call(rng))
            except Exception:  # noqa: BLE001 -- counted and reported, not fatal
                failed += 1
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            rows.extend(counts)
            errors[0] += failed

    threads = [threading.Thread(target=worker, args=(random.Random(seed * 100 + i),)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, rows, errors[0]


def measure(label: str, call, args: argparse.Namespace, own_pids, seed: int) -> Latency:
    """Warm-up, then `args.duration` seconds of load; p50/p99 and the CPU others took meanwhile."""
    hammer(call, args.connections, args.warmup, seed)
    pids, parents = own_pids()
    machine0, own0 = machine_ticks(), ticks_of(pids, parents)
    start = time.perf_counter()
    latencies, rows, errors = hammer(call, args.connections, args.duration, seed + 1)
    seconds = time.perf_counter() - start
    machine1, own1 = machine_ticks(), ticks_of(pids, parents)
    other = max(0, (machine1[0] - machine0[0]) - (own1 - own0)) / max(1, machine1[1] - machine0[1])
    latencies.sort()
    if not latencies:
        raise RuntimeError(f"{label}: every call failed ({errors} errors)")
    result = Latency(label, len(latencies), errors, seconds, percentile(latencies, 0.50) * 1000,
                     percentile(latencies, 0.99) * 1000, statistics.mean(rows), other)
    progress(f"  {label}: p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
             f"{result.count / seconds:.0f}/s, {result.errors} errors")
    return result


def database_calls(engine, synthetic: Synthetic, queried: list[str]) -> dict:
    """The two query shapes as calls: run one random query, return the number of rows."""
    def run(make):
        def call(rng: random.Random) -> int:
            query = make(synthetic, queried, rng)
            with engine.connect() as connection:
                return len(connection.execute(query).all())
        return call

    return {shape: run(make) for shape, make in QUERIES.items()}


def http_calls(base: str, synthetic: Synthetic, queried: list[str]) -> dict:
    """The two endpoints as calls: one random GET (must answer 200), return the points or ranked places."""
    def run(make, count):
        def call(rng: random.Random) -> int:
            with urllib.request.urlopen(base + make(synthetic, queried, rng), timeout=30) as response:
                return count(json.loads(response.read()))
        return call

    return {"series": run(series_path, lambda body: len(body["data"])),
            "ranking": run(ranking_path, lambda body: body["ranked"])}


# --- pgbench ------------------------------------------------------------------------------------------------

# Values no real query uses, rendered into the statement and then replaced by pgbench variables.
SENTINELS = {"-1111": "CAST(:geo AS integer)", "'__IND__'": "CAST(:industry AS text)",
             "'__PART__'": "CAST(:partner AS text)", "-2222": "CAST(:year AS integer)"}


def pgbench_script(shape: str, synthetic: Synthetic, queried: list[str]) -> str:
    """The statement the app's select() builder renders for `shape`, with random arguments drawn by pgbench as the
    Python clients draw them (a state, one of the queried industries, a country partner, a year)."""
    sentinel = Synthetic([(-1111, "XX")], ["__IND__"], ["__PART__"])
    query = {"series": lambda: series_query(sentinel, ["__IND__"], random.Random(0)),
             "ranking": lambda: cross_section(DATASET, [INDICATOR], [-2222], ["state"], industry="__IND__",
                                              partner="__PART__")}[shape]()
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    for value, variable in SENTINELS.items():
        sql = sql.replace(value, variable)
    geos = ",".join(str(g) for g, _ in synthetic.states)
    sql = sql.replace("CAST(:geo AS integer)", f"(ARRAY[{geos}])[CAST(:geo AS integer)]")
    first, last = int(queried[0]), int(queried[-1])
    countries = [int(p) for p in synthetic.partners if p != WORLD]
    return "\n".join([
        f"\\set geo random(1, {len(synthetic.states)})",
        f"\\set industry random({first}, {last})",
        f"\\set partner {countries[0]} + {countries[1] - countries[0]} * random(0, {len(countries) - 1})",
        f"\\set year random({YEARS[0]}, {YEARS[-1]})",
        " ".join(sql.split()) + ";", ""])


def children_ticks() -> int:
    """CPU ticks used by this process's finished children (pgbench)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK"))


def pgbench(shape: str, synthetic: Synthetic, queried: list[str], args: argparse.Namespace, scratch: Scratch,
            workdir: Path) -> Latency:
    """pgbench (C, 2 threads) running the same statement as the app, prepared, at the same concurrency: what the
    store itself costs when the load generator is not the bottleneck."""
    script = workdir / f"pgbench-{shape}.sql"
    script.write_text(pgbench_script(shape, synthetic, queried))
    url = make_url(scratch.url)
    base = ["pgbench", "-n", "-M", "prepared", "-c", str(args.connections), "-j", "2", "-f", str(script),
            "-h", url.host, "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    subprocess.run([*base, "-T", str(max(1, round(args.warmup))), url.database], check=True, capture_output=True)
    for old in workdir.glob("pgbench_log*"):
        old.unlink()
    machine0, own0 = machine_ticks(), ticks_of(scratch.backend_pids()) + children_ticks()
    out = subprocess.run([*base, "-T", str(max(1, round(args.duration))), "-l", "--log-prefix",
                          str(workdir / "pgbench_log"), url.database], check=True, capture_output=True, text=True,
                         cwd=workdir).stdout
    machine1, own1 = machine_ticks(), ticks_of(scratch.backend_pids()) + children_ticks()
    latencies = sorted(int(line.split()[2]) / 1e6 for log in workdir.glob("pgbench_log*")
                       for line in log.read_text().splitlines())
    failed = re.search(r"number of failed transactions: (\d+)", out)
    seconds = float(args.duration)
    other = max(0, (machine1[0] - machine0[0]) - (own1 - own0)) / max(1, machine1[1] - machine0[1])
    result = Latency(f"pgbench {shape}", len(latencies), int(failed.group(1)) if failed else 0, seconds,
                     percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000, float("nan"), other)
    progress(f"  pgbench {shape}: p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
             f"{result.count / seconds:.0f}/s")
    return result


# --- gunicorn -----------------------------------------------------------------------------------------------

def start_gunicorn(url: str, log: Path) -> tuple[subprocess.Popen, str]:
    """The API on the scratch store with the project's gunicorn.conf.py, answering /readyz; process and base URL."""
    port = free_port()
    command = [ROOT / ".venv" / "bin" / "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"{HOST}:{port}", "wsgi:app"]
    env = {**os.environ, **HTTP_ENV, "EXPORTS_DATABASE_URL": url}
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    sys.exit(f"gunicorn did not answer within 30 s:\n{log.read_text()[-2000:]}")


# --- EXPLAIN ------------------------------------------------------------------------------------------------

def index_columns(engine) -> dict[str, list[str]]:
    """The indexes of the observations table and their key columns, in order."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'observations'")).all()
    columns = {}
    for name, definition in rows:
        keys = re.search(r"\((.*?)\)(?: INCLUDE|$)", definition.split(" USING btree ", 1)[1]).group(1)
        columns[name] = [c.strip() for c in keys.split(",")]
    return columns


def equality_columns(condition: str) -> set[str]:
    """Columns an Index Cond fixes with '=' or '= ANY' ('((industry)::text = '101'::text)' -> industry)."""
    return set(re.findall(r"\(*(\w+)\)*(?:::[\w ]+?)?\s+=\s+", condition or ""))


def plan_nodes(node: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@dataclass
class Finding:
    shape: str
    execution_ms: float
    scans: list[str]  # one line per scan of observations
    bounded: bool  # every scan of observations is bounded by all the columns the query fixes
    text_plan: str


def explain(engine, query) -> tuple[dict, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a select(), as JSON and as text."""
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        plan = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")).scalar()
        lines = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars().all()
    return plan[0], "\n".join(lines)


def finding(shape: str, engine, query) -> Finding:
    """How the plan reads observations: which index, how many of its leading columns bound the scan.

    A scan matches the shape when the leading index columns its Index Cond fixes include every column the
    query fixes (FIXED); otherwise it reads more of the index than the answer and filters.
    """
    plan, text_plan = explain(engine, query)
    fixed = FIXED[shape]
    indexes, scans, bounded = index_columns(engine), [], True
    for node in plan_nodes(plan["Plan"]):
        if node.get("Relation Name") != "observations":
            continue
        buffers = f"buffers hit {node.get('Shared Hit Blocks', 0):,} read {node.get('Shared Read Blocks', 0):,}"
        rows = f"{node['Actual Rows']:,} row(s) per loop x {node['Actual Loops']:,} loop(s)"
        removed = node.get("Rows Removed by Filter", 0) * node["Actual Loops"]
        if "Index Name" not in node:
            scans.append(f"{node['Node Type']} (no index): {rows}, {removed:,} removed by filter, {buffers}")
            bounded = False
            continue
        keys = indexes.get(node["Index Name"], [])
        fixed_here = equality_columns(node.get("Index Cond", ""))
        prefix = 0
        while prefix < len(keys) and keys[prefix] in fixed_here:
            prefix += 1
        bounded &= fixed <= set(keys[:prefix])
        scans.append(f"{node['Node Type']} using {node['Index Name']} ({', '.join(keys)}): scan bounded by its "
                     f"first {prefix} column(s) ({', '.join(keys[:prefix]) or 'none'}); {rows}, "
                     f"{removed:,} removed by filter, {buffers}")
    return Finding(shape, plan["Execution Time"], scans, bounded, text_plan)


# --- report -------------------------------------------------------------------------------------------------

def table(results: dict[str, dict[str, Latency]]) -> list[str]:
    """One line per size and query: p50, p99, target, rate, answer size, errors, other CPU."""
    lines = [(f"{'size':<6} {'via':<5} {'query':<8} {'p50 ms':>7} {'p99 ms':>7} {'target':>8} {'met':>4} "
             f"{'per s':>6} {'rows':>5} {'errors':>6} {'other CPU':>9}")]
    for size, by_label in results.items():
        for label, r in by_label.items():
            via, shape = label.split(" ")
            target = TARGETS_MS[shape] if via == "db" else None
            met = ("yes" if r.p99_ms < target else "NO") if target else "-"
            lines.append(f"{size:<6} {via:<5} {shape:<8} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
                         f"{f'< {target:.0f}' if target else '-':>8} {met:>4} {r.count / r.seconds:>6.0f} "
                         f"{r.rows:>5.0f} {r.errors:>6} {r.other_cpu:>9.0%}")
    return lines


def growth(results: dict[str, dict[str, Latency]]) -> list[str]:
    """p99 (and p50) at the large size over the small one, per query."""
    small, large = results[next(iter(results))], results[list(results)[-1]]
    return [f"  {label:<12} p99 x{large[label].p99_ms / small[label].p99_ms:.2f}  "
            f"(p50 x{large[label].p50_ms / small[label].p50_ms:.2f})" for label in small if label in large]


def explain_report(findings: list[Finding], results: dict[str, Latency]) -> list[str]:
    """Per shape: the scans of observations; for a shape that missed its target, the plan and the index."""
    lines = []
    for f in findings:
        met = results[f"db {f.shape}"].p99_ms < TARGETS_MS[f.shape]
        lines.append(f"{f.shape}: execution {f.execution_ms:.1f} ms; index matches the query shape: "
                     f"{'yes' if f.bounded else 'NO'}; p99 target {'met' if met else 'MISSED'}")
        lines += [f"  {scan}" for scan in f.scans]
        if not met or not f.bounded:
            lines.append(f"  matching index (models/observation.py __table_args__): {MATCHING_INDEX[f.shape]}")
            lines += ["  plan:"] + [f"    {line}" for line in f.text_plan.splitlines()]
    return lines


# --- main ---------------------------------------------------------------------------------------------------

def measure_size(engine, synthetic: Synthetic, queried: list[str], args: argparse.Namespace, scratch: Scratch,
                 log: Path, seed: int) -> dict[str, Latency]:
    """Both query shapes through the database, then (unless --skip-http) through gunicorn."""
    own = lambda: ({os.getpid()} | scratch.backend_pids(), set())
    results = {f"db {shape}": measure(f"db {shape}", call, args, own, seed)
               for shape, call in database_calls(engine, synthetic, queried).items()}
    if not args.skip_pgbench:
        results |= {f"pgbench {shape}": pgbench(shape, synthetic, queried, args, scratch, log.parent)
                    for shape in QUERIES}
    if not args.skip_http:
        process, base = start_gunicorn(scratch.url, log)
        try:
            http_own = lambda: ({os.getpid(), process.pid} | scratch.backend_pids(), {process.pid})
            results |= {f"http {shape}": measure(f"http {shape}", call, args, http_own, seed + 10)
                        for shape, call in http_calls(base, synthetic, queried).items()}
        finally:
            stop(process)
    return results


def try_index(engine, synthetic, queried, args, scratch, log, missed: list[str]) -> list[str]:
    """Build the matching index of each missed shape in the scratch database and measure that shape again."""
    lines = []
    for shape in missed:
        if shape not in MATCHING_DDL:
            continue
        progress(f"Trying the matching index for {shape} in the scratch database …")
        start = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text(MATCHING_DDL[shape]))
        built = time.perf_counter() - start
        vacuum_analyze(engine)
        own = lambda: ({os.getpid()} | scratch.backend_pids(), set())
        r = measure(f"db {shape}", database_calls(engine, synthetic, queried)[shape], args, own, 99)
        f = finding(shape, engine, QUERIES[shape](synthetic, queried, random.Random(7)))
        lines += [(f"{shape} with `{MATCHING_DDL[shape]}` (built in {built:.1f} s): p50 {r.p50_ms:.1f} ms, "
                  f"p99 {r.p99_ms:.1f} ms ({'met' if r.p99_ms < TARGETS_MS[shape] else 'MISSED'}), "
                  f"execution {f.execution_ms:.1f} ms")] + [f"  {scan}" for scan in f.scans]
    return lines


def bench(args: argparse.Namespace, scratch: Scratch, workdir: Path) -> None:
    engine = create_store_engine(scratch.url, pool_size=args.connections, max_overflow=0)
    try:
        progress(f"Scratch database {scratch.name}: building the fixture store …")
        build(engine, FIXTURES)
        synthetic = add_reference_rows(engine, args)
        queried = synthetic.industries[:args.first_industries]
        log = workdir / "gunicorn.log"
        results, sizes = {}, {}
        bounds = [args.first_industries, *args.sizes]
        for new in (queried, *(synthetic.industries[a:b] for a, b in itertools.pairwise(bounds))):  # then grown
            progress(f"Generating {len(synthetic.states) * len(new) * len(synthetic.partners) * len(YEARS):,} "
                     f"observations …")
            count, seconds = generate(engine, synthetic, new)
            rows, described = table_size(engine)
            size = f"{rows / 1e6:.1f}M"
            sizes[size] = f"{described} (last {count:,} generated in {seconds:.1f} s, then VACUUM ANALYZE)"
            progress(f"  {sizes[size]}")
            results[size] = measure_size(engine, synthetic, queried, args, scratch, log, seed=len(results) * 1000)
        progress(f"EXPLAIN (ANALYZE, BUFFERS) at {size} …")
        rng = random.Random(7)
        findings = [finding(shape, engine, make(synthetic, queried, rng)) for shape, make in QUERIES.items()]
        missed = [s for s in TARGETS_MS if results[size][f"db {s}"].p99_ms >= TARGETS_MS[s]
                  or not next(f for f in findings if f.shape == s).bounded]
        retried = [] if args.no_try_index else try_index(engine, synthetic, queried, args, scratch, log, missed)
    finally:
        engine.dispose()
    print_report(args, synthetic, queried, sizes, results, findings, retried)


def print_report(args, synthetic, queried, sizes, results, findings, retried) -> None:
    """Everything measured, to stdout."""
    small, large = next(iter(results)), list(results)[-1]
    lines = [
        (f"State series and rankings at scale, PostgreSQL, {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
        f"code {code_version()}"),
        (f"synthetic dataset {DATASET}: {len(synthetic.states)} states x industries x {len(synthetic.partners)} "
        f"partners x {len(YEARS)} years; queries use {len(queried)} industries (the same rows at both sizes)"),
        *(f"  {size}: {text_}" for size, text_ in sizes.items()),
        (f"{args.connections} concurrent clients, {args.duration:g} s per query after {args.warmup:g} s warm-up; db = "
        f"the app's select() builders through SQLAlchemy + psycopg; http = gunicorn (gunicorn.conf.py, 2 sync "
        f"workers), rate limit and response cache off; 'other CPU': share of the CPUs used by processes this "
        f"benchmark did not start"), "",
        *table(results), "",
        f"p99 growth from {small} to {large} rows:", *growth(results), "",
        f"EXPLAIN (ANALYZE, BUFFERS) at {large} rows:", *explain_report(findings, results[large]),
    ]
    if retried:
        lines += ["", "With the matching index (built in the scratch database only; models/ unchanged):", *retried]
    print("\n".join(lines), flush=True)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs on SIGTERM too
    scratch = Scratch(args.postgres_url)
    try:
        with tempfile.TemporaryDirectory(prefix="exports-scalebench-") as tmp:
            bench(args, scratch, Path(tmp))
    finally:
        scratch.close()


if __name__ == "__main__":
    main()
