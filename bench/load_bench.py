"""Loader benchmark: the Census API JSON loader next to the raw database driver, same run, same rows.

Writes a synthetic Census International Trade API `statenaics` answer (bench/synth_census.py, 1,000,000 rows
by default), then on SQLite (a temp file) and on PostgreSQL (scratch databases on 127.0.0.1):

- loader: the project's path for that file, end to end, as loaders/census.py load() runs it: parse_api_json,
  _codes and store.write in one Session.begin(), committed. Each run is a fresh process (so that its peak RSS
  is the loader's), into a store built from the fixtures (tests/data) whose copy of the dataset was deleted
  beforehand (outside the timing);
- raw: the same observation tuples, prepared before the timing, inserted by the driver alone into an identical
  empty observations table (a second fixture store with its observations deleted): sqlite3 executemany in one
  transaction (with the project's pragmas: WAL, foreign keys on), psycopg COPY ... FROM STDIN with write_row.

Each is timed `--runs` times; the table shows medians, rows/s and loader/raw (target >= 0.50). It also times a
full build of the real data (`flask --app wsgi data build --force`) into fresh SQLite files (target < 10 s).

    .venv/bin/python bench/load_bench.py
    .venv/bin/python bench/load_bench.py --rows 200000 --runs 1 --skip-postgres --builds 1    # quick

The table goes to stdout, progress to stderr. Scratch databases and temp files are removed at the end, also
on an error, Ctrl-C or SIGTERM. It only talks to 127.0.0.1.
"""

import argparse
import multiprocessing
import os
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from common import BENCH, HOST, ROOT, code_version, machine_ticks, progress

sys.path[:0] = [str(ROOT), str(BENCH)]

import psycopg
import synth_census
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from loaders import build
from loaders.census import _codes, api_source, parse_api_json
from loaders.places import Places
from loaders.store import COLUMNS, write
from models.engine import create_store_engine
from models.observation import ALL_INDUSTRIES, WORLD

FIXTURES = ROOT / "tests" / "data"  # as tests/conftest.py FIXTURES
TARGET_RATIO = 0.50
TARGET_BUILD_S = 10.0
SQLITE_INSERT = f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
PG_COPY = f"COPY observations ({', '.join(COLUMNS)}) FROM STDIN"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows in the synthetic JSON (1,000,000).")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of the loader and of the driver (3).")
    parser.add_argument("--builds", type=int, default=3, help="Real-data store builds to time; 0 skips them (3).")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                        help="Real source files for the build timing (default ../shared/data).")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="Admin URL on 127.0.0.1 where scratch databases are created and dropped.")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only.")
    args = parser.parse_args()
    if args.rows < 1 or args.runs < 1 or args.builds < 0:
        parser.error("--rows and --runs must be positive, --builds not negative")
    if not args.skip_postgres and make_url(args.postgres_url).host != HOST:
        parser.error(f"--postgres-url must point at {HOST}")
    return args


# --- measuring ----------------------------------------------------------------------------------------------

def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPUs that were busy between two machine_ticks() samples."""
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by process `pid` (a PostgreSQL backend); 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(name: str) -> int:
    """A figure of /proc/self/status in KiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class Run:
    """One timed run: wall seconds, its phases, client and server CPU, machine busy share, memory."""

    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    machine_busy: float = 0.0
    rss_start_kib: int = 0
    rss_peak_kib: int = 0


def backend_pid(engine) -> int | None:
    """Open the engine's (single pooled) connection before the timing; the PostgreSQL backend's pid."""
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            return None
        return connection.scalar(text("SELECT pg_backend_pid()"))


# --- the loader, in a fresh process per run ------------------------------------------------------------------

def loader_run(url: str, path: str) -> Run:
    """The Census JSON loader path for `path` into the store at `url`, timed by phase (runs in a child process).

    As loaders/census.py load() does it for one file, in one transaction: Places, parse_api_json, _codes,
    store.write; then the commit.
    """
    engine = create_store_engine(url, pool_size=1, max_overflow=0)
    pid = backend_pid(engine)
    rss_start = status_kib("VmRSS")
    cpu0, server0, machine0 = time.process_time(), process_cpu_s(pid), machine_ticks()
    marks = [("start", time.perf_counter())]
    with Session(engine) as session, session.begin():
        places = Places(session)
        industries: dict[str, str | None] = {ALL_INDUSTRIES: "All industries"}
        partners = {WORLD: "World"}
        rows = parse_api_json(Path(path), places, industries, partners)
        marks.append(("parse", time.perf_counter()))
        _codes(session, industries, partners)
        marks.append(("codes", time.perf_counter()))
        result = write(session, api_source(Path(path)), [Path(path)], rows)
        marks.append(("write", time.perf_counter()))
        server_cpu = process_cpu_s(pid) - server0  # read while the backend lives; the commit is tiny
    marks.append(("commit", time.perf_counter()))
    run = Run(seconds=marks[-1][1] - marks[0][1],
              phases={name: t - marks[i][1] for i, (name, t) in enumerate(marks[1:])},
              client_cpu=time.process_time() - cpu0, server_cpu=server_cpu,
              machine_busy=busy_share(machine0, machine_ticks()), rss_start_kib=rss_start,
              rss_peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    engine.dispose()
    if result.rows != len(rows) or not result.rows:
        raise RuntimeError(f"the loader wrote {result.rows} rows")
    return run


def timed_loader(url: str, path: Path) -> Run:
    """loader_run in a newly spawned interpreter (imports done before the timing, nothing inherited)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(loader_run, url, str(path)).result()


# --- the raw driver -----------------------------------------------------------------------------------------

def observation_tuples(url: str, path: Path) -> list[tuple]:
    """The tuples store.write would send for `path`, with the geography ids of the store at `url`."""
    engine = create_store_engine(url)
    with Session(engine) as session:
        rows = parse_api_json(path, Places(session), {}, {})
    engine.dispose()
    dataset = api_source(path).id
    return [(dataset, *key, *figure) for key, figure in rows.items.items()]  # as store.write builds them


def raw_sqlite(file: Path, tuples: list[tuple]) -> Run:
    """sqlite3 executemany of the tuples in one transaction, with the pragmas the project's engine sets."""
    connection = sqlite3.connect(file, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000"):
        connection.execute(f"PRAGMA {pragma}")
    cpu0, machine0, start = time.process_time(), machine_ticks(), time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(SQLITE_INSERT, tuples)
    connection.execute("COMMIT")
    seconds = time.perf_counter() - start
    run = Run(seconds, client_cpu=time.process_time() - cpu0, machine_busy=busy_share(machine0, machine_ticks()))
    connection.close()
    return run


def raw_postgres(conninfo: str, tuples: list[tuple]) -> Run:
    """psycopg COPY ... FROM STDIN, one write_row per tuple, in one transaction."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        pid = connection.info.backend_pid
        cpu0, server0, machine0 = time.process_time(), process_cpu_s(pid), machine_ticks()
        start = time.perf_counter()
        with connection.transaction(), connection.cursor() as cursor, cursor.copy(PG_COPY) as copy:
            for row in tuples:
                copy.write_row(row)
        seconds = time.perf_counter() - start
        return Run(seconds, client_cpu=time.process_time() - cpu0, server_cpu=process_cpu_s(pid) - server0,
                   machine_busy=busy_share(machine0, machine_ticks()))


# --- stores -------------------------------------------------------------------------------------------------

class SQLiteBackend:
    """Two fixture stores in temp files: one for the loader, one (emptied of observations) for the driver."""

    name = "SQLite"

    def __init__(self, workdir: Path):
        self.loader_file, self.raw_file = workdir / "loader.sqlite", workdir / "raw.sqlite"
        self.loader_url, self.raw_url = f"sqlite:///{self.loader_file}", f"sqlite:///{self.raw_file}"

    def execute(self, url: str, sql: str, **params) -> object:
        """One statement, committed, on the store at `url`; its scalar result, if any."""
        engine = create_store_engine(url)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(sql), params)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def vacuum(self, url: str) -> None:
        """Nothing: SQLite reuses the pages freed by a DELETE."""

    def raw(self, tuples: list[tuple]) -> Run:
        return raw_sqlite(self.raw_file, tuples)

    def close(self) -> None:
        """Nothing: the temp directory goes away at the end."""


class PostgresBackend(SQLiteBackend):
    """Two scratch databases on the local server, created here and dropped on close()."""

    name = "PostgreSQL"

    def __init__(self, admin_url: str):
        self.url = make_url(admin_url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        prefix = f"exports_loadbench_{uuid.uuid4().hex[:8]}"
        self.databases = []
        try:
            self.loader_url, self.raw_url = self.create(f"{prefix}_loader"), self.create(f"{prefix}_raw")
        except BaseException:
            self.close()
            raise

    def create(self, database: str) -> str:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        self.databases.append(database)
        return self.url.set(database=database).render_as_string(hide_password=False)

    def vacuum(self, url: str) -> None:
        """VACUUM observations after a DELETE, so that the next insert does not wade through dead tuples."""
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM observations"))
        engine.dispose()

    def raw(self, tuples: list[tuple]) -> Run:
        conninfo = make_url(self.raw_url).set(drivername="postgresql").render_as_string(hide_password=False)
        return raw_postgres(conninfo, tuples)

    def close(self) -> None:
        for database in self.databases:
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        self.admin.dispose()


def prepare(backend, path: Path) -> list[tuple]:
    """Build both fixture stores; empty the driver's observations table; the tuples for the driver."""
    for url in (backend.loader_url, backend.raw_url):
        engine = create_store_engine(url)
        build(engine, FIXTURES)
        engine.dispose()
    backend.execute(backend.raw_url, "DELETE FROM observations")
    backend.vacuum(backend.raw_url)
    engine = create_store_engine(backend.raw_url)
    with Session(engine) as session, session.begin():  # the dataset row the tuples refer to (foreign key)
        write(session, api_source(path), [path], row_count=0)
    engine.dispose()
    return observation_tuples(backend.raw_url, path)


def checksum(backend, url: str, dataset: str) -> tuple:
    """Count and sums of the dataset's observations: the loader's and the driver's rows must agree."""
    engine = create_store_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT count(*), sum(value), sum(geography_id), sum(year), count(DISTINCT industry), "
            "count(DISTINCT partner) FROM observations WHERE dataset_id = :d"), {"d": dataset}).one()
    engine.dispose()
    return tuple(found)


@dataclass
class Outcome:
    backend: str
    loader: list[Run]
    raw: list[Run]
    same_rows: bool


def bench_backend(backend, path: Path, runs: int) -> Outcome:
    """Loader and driver, alternated run by run (a slow spell on the machine hits both), each into emptied tables."""
    dataset = api_source(path).id
    progress(f"{backend.name}: building the fixture stores, preparing the tuples …")
    tuples = prepare(backend, path)
    loader, raw = [], []
    for i in range(1, runs + 1):
        backend.execute(backend.loader_url, "DELETE FROM observations WHERE dataset_id = :d", d=dataset)
        backend.vacuum(backend.loader_url)
        loader.append(timed_loader(backend.loader_url, path))
        backend.execute(backend.raw_url, "DELETE FROM observations")
        backend.vacuum(backend.raw_url)
        raw.append(backend.raw(tuples))
        progress(f"  run {i}: loader {loader[-1].seconds:.2f} s, raw {raw[-1].seconds:.2f} s")
    same = checksum(backend, backend.loader_url, dataset) == checksum(backend, backend.raw_url, dataset)
    return Outcome(backend.name, loader, raw, same)


# --- the real-data build ------------------------------------------------------------------------------------

def timed_builds(data_dir: Path, workdir: Path, count: int) -> list[float]:
    """`flask --app wsgi data build --force` into fresh SQLite files; wall-clock seconds of each."""
    times = []
    for i in range(1, count + 1):
        url = f"sqlite:///{workdir / f'real-{i}.sqlite'}"
        env = {**os.environ, "EXPORTS_DATABASE_URL": url, "EXPORTS_DATA_DIR": str(data_dir)}
        start = time.perf_counter()
        result = subprocess.run([ROOT / ".venv" / "bin" / "flask", "--app", "wsgi", "data", "build", "--data-dir",
                                 str(data_dir), "--force"], cwd=ROOT, env=env, capture_output=True, text=True,
                                check=False)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"flask data build failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
        progress(f"  build {i}: {times[-1]:.2f} s")
    return times


# --- report -------------------------------------------------------------------------------------------------

def median_run(runs: list[Run]) -> Run:
    """The run of median wall time (its phases and CPU figures belong together)."""
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def report(rows: int, runs: int, outcomes: list[Outcome], builds: list[float]) -> str:
    """The summary table, the phases of the median runs, and the build line."""
    mib = 1024
    lines = [(f"Census API JSON loader vs the raw driver: {rows:,} rows, median of {runs} run(s), "
             f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, code {code_version()}"), "",
             (f"{'backend':<11} {'loader rows/s':>13} {'raw rows/s':>11} {'ratio':>6} {'target':>7} {'met':>4} "
             f"{'loader peak RSS':>16} {'same rows':>9}")]
    for o in outcomes:
        loader, raw = median_run(o.loader), median_run(o.raw)
        ratio = raw.seconds / loader.seconds
        peak = max(r.rss_peak_kib for r in o.loader)
        lines.append(f"{o.backend:<11} {rows / loader.seconds:>13,.0f} {rows / raw.seconds:>11,.0f} {ratio:>6.2f} "
                     f"{'>= ' + format(TARGET_RATIO, '.2f'):>7} {'yes' if ratio >= TARGET_RATIO else 'NO':>4} "
                     f"{peak / mib:>12,.0f} MiB {'yes' if o.same_rows else 'NO':>9}")
    lines += ["", ("Median runs in detail (seconds; CPU = user + system; machine busy = share of all CPUs in use, "
                  "anyone's):"),
              (f"{'backend':<11} {'path':<7} {'total':>6} {'parse':>6} {'codes':>6} {'write':>6} {'commit':>6} "
              f"{'client CPU':>10} {'server CPU':>10} {'machine busy':>12} {'RSS at start':>12}")]
    for o in outcomes:
        for label, run in (("loader", median_run(o.loader)), ("raw", median_run(o.raw))):
            phases = [f"{run.phases[p]:>6.2f}" if p in run.phases else f"{'-':>6}"
                      for p in ("parse", "codes", "write", "commit")]
            start = f"{run.rss_start_kib / mib:,.0f} MiB" if run.rss_start_kib else "-"
            server = f"{run.server_cpu:.2f}" if o.backend != "SQLite" else "-"  # SQLite runs in the client
            lines.append(f"{o.backend:<11} {label:<7} {run.seconds:>6.2f} {' '.join(phases)} {run.client_cpu:>10.2f} "
                         f"{server:>10} {run.machine_busy:>12.0%} {start:>12}")
        every = ", ".join(f"{r.seconds:.2f}/{q.seconds:.2f}" for r, q in zip(o.loader, o.raw))
        lines.append(f"{'':<11} every run, loader/raw s: {every}")
    if builds:
        median = statistics.median(builds)
        lines += ["", (f"real-data build (flask --app wsgi data build --force, fresh SQLite file, wall clock incl. "
                      f"start-up): median {median:.2f} s over {len(builds)} ({', '.join(f'{t:.2f}' for t in builds)}); "
                      f"target < {TARGET_BUILD_S:.0f} s: {'met' if median < TARGET_BUILD_S else 'NOT met'}")]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------------------

def bench(args: argparse.Namespace, workdir: Path, backends: list) -> None:
    path = workdir / "synthetic_statenaics.json"
    progress(f"Writing {args.rows:,} synthetic statenaics rows to {path.name} …")
    synth_census.main(str(path), args.rows)
    progress(f"  {path.stat().st_size / 2**20:,.0f} MiB")
    outcomes = [bench_backend(backend, path, args.runs) for backend in backends]
    builds = []
    if args.builds:
        progress(f"Building the real-data store {args.builds} times (SQLite) …")
        builds = timed_builds(args.data_dir, workdir, args.builds)
    print(report(args.rows, args.runs, outcomes, builds), flush=True)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs on SIGTERM too
    with tempfile.TemporaryDirectory(prefix="exports-loadbench-") as tmp:
        backends = [SQLiteBackend(Path(tmp))]
        try:
            if not args.skip_postgres:
                backends.append(PostgresBackend(args.postgres_url))
            bench(args, Path(tmp), backends)
        finally:
            for backend in backends:
                backend.close()


if __name__ == "__main__":
    main()
