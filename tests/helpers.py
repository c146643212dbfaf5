"""Shared test helpers: scratch stores, store snapshots, gunicorn on loopback, plain and raw HTTP calls, a TCP
proxy that can be cut, and a load generator. Tests import them from here (conftest only defines fixtures)."""

import http.client
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import openpyxl
import orjson
import redis
from sqlalchemy import create_engine, text
from sqlalchemy import select as select_rows
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api import ROOT, create_app
from loaders import SourceError, build
from models import Geography, Observation

FIXTURES = Path(__file__).parent / "data"
REAL_DATA = Path(os.environ.get("EXPORTS_DATA_DIR") or ROOT.parent / "shared" / "data")
# Set to an admin URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the suite on PostgreSQL:
# each store then lives in a scratch database created for the run and dropped after it.
POSTGRES = os.environ.get("EXPORTS_TEST_POSTGRES_URL")


@contextmanager
def scratch_store(tmp_path_factory, name: str):
    if not POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp(name) / 'store.sqlite'}"
        return
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    database = f"exports_test_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str, data_dir: Path, **config):
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "TESTING": True,
                      "RATELIMIT_LIMIT": "100000 per minute", "DATA_VERSION_TTL": 0, **config})
    build(app.extensions["store_engine"], data_dir)
    return app


def snapshot(engine) -> list[tuple]:
    """Every observation and geography in the store, for 'nothing changed' checks."""
    with Session(engine) as session:
        observations = session.execute(select_rows(
            Observation.dataset_id, Observation.indicator, Observation.geography_id, Observation.industry,
            Observation.partner, Observation.year, Observation.value, Observation.status)
            .order_by(*Observation.__table__.primary_key.columns)).all()
        geographies = session.execute(select_rows(Geography.kind, Geography.code, Geography.name)
                                      .order_by(Geography.kind, Geography.code)).all()
    return [*map(tuple, observations), *map(tuple, geographies)]


def rejection(engine, data_dir: Path) -> str:
    """Why a build from a broken data directory is rejected; the store must be left exactly as it was."""
    before = snapshot(engine)
    try:
        build(engine, data_dir, force=True)
    except SourceError as error:
        assert snapshot(engine) == before
        return str(error)
    raise AssertionError(f"a build from {data_dir} was not rejected")


def figure(engine, dataset: str, kind: str, code: str, year: int, indicator: str | None = None,
           industry: str = "ALL", partner: str = "WLD") -> tuple:
    """(value, status) of one stored observation."""
    o = Observation
    with Session(engine) as session:
        query = (select_rows(o.value, o.status).join(Geography, Geography.id == o.geography_id)
                 .where(o.dataset_id == dataset, Geography.kind == kind, Geography.code == code, o.year == year,
                        o.industry == industry, o.partner == partner))
        if indicator:
            query = query.where(o.indicator == indicator)
        rows = session.execute(query).all()
    assert len(rows) == 1, rows
    return tuple(rows[0])


PROBLEM = "application/problem+json"
# Fields of an example answer that depend on when it was asked (load time, the rate-limit window).
OF_THE_MOMENT = ("loaded_at", "remaining", "reset_in", "limit", "data_version")
LOAD_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


def example_answer(client, request: str) -> dict:
    """An operation's example for the spec (api/examples.json): the request, its JSON answer and, where the
    operation answers CSV, its CSV answer (what its .csv operation answers too)."""
    response = client.get(request)
    assert response.status_code == 200, (request, response.get_data(as_text=True))
    example = {"request": request, "response": response.get_json()} if response.is_json else {"request": request}
    as_csv = client.get(request, headers={"Accept": "text/csv"})
    if as_csv.mimetype == "text/csv":
        example["csv"] = as_csv.get_data(as_text=True)
    return example


def csv_url(url: str) -> str:
    """A request's URL on its operation's CSV path (api.formats.SUFFIX): the path + .csv, the same query."""
    path, mark, query = url.partition("?")
    return f"{path}.csv{mark}{query}"


def of_the_moment(value):
    """`value` without the fields that depend on when it was asked."""
    if isinstance(value, dict):
        return {k: of_the_moment(v) for k, v in value.items() if k not in OF_THE_MOMENT}
    if isinstance(value, list):
        return [of_the_moment(v) for v in value]
    return LOAD_TIME.sub("(load time)", value) if isinstance(value, str) else value


def problem(response, status: int) -> dict:
    """The body of a test client's problem+json answer, checked: status, media type, type and instance."""
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["instance"] == response.request.path
    return body


def report(request, line: str) -> None:
    """Print a figure for the person running the tests, through pytest's output capture."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{line}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return orjson.loads(self.body)

    @property
    def mimetype(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:300]!r}>"


def drip_headers(sockets: list, head: bytes, stop: threading.Event) -> threading.Thread:
    """Slow clients: send `head` one byte every 2 s on each socket, never its last byte, until `stop` is set."""
    def drip():
        for i in range(len(head) - 1):
            for s in sockets:
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    pass
            if stop.wait(2):
                return
    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    return thread


def call(base: str, path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None,
         timeout: float = 15) -> Reply:
    """One request on a fresh connection; the path is sent as given (no quoting)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def raw(base: str, request: bytes, timeout: float = 15) -> Reply:
    """Send bytes as they are (for what http.client refuses to send) and parse the status line and headers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Reply(int(lines[0].split()[1]), headers, body)


class Gunicorn:
    """`gunicorn wsgi:app` on a free loopback port, with EXPORTS_* settings from `env`."""

    def __init__(self, env: dict, log: Path, workers: int = 2, args: tuple = ()):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        full_env = {**os.environ, "ACCESS_LOG": "-", **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(workers), *args, "wsgi:app"],
            cwd=ROOT, env=full_env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 30) -> "Gunicorn":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if call(self.base, "/healthz", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def workers(self) -> set[int]:
        """The worker pids (children of the arbiter)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(p) for p in children.read_text().split()} if children.exists() else set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def gunicorn(env: dict, log: Path, workers: int = 2, args: tuple = ()):
    server = Gunicorn(env, log, workers, args)
    try:
        yield server.wait()
    finally:
        server.stop()


class TcpProxy:
    """A loopback TCP proxy to `target` that can be cut (every connection closed, new ones refused) and restored."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.mode = "open"  # open, refuse (accept and close at once) or blackhole (accept and never answer)
        self.closed = False
        self.lock = threading.Lock()
        self.connections: list[socket.socket] = []
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                client.close()
                continue
            if self.mode == "blackhole":
                self.held.append(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 0.5)
                if self.mode != "open" or self.closed:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self, mode: str = "refuse") -> None:
        """Drop every open connection; then close new ones at once (refuse) or hold them unanswered (blackhole)."""
        self.mode = mode
        with self.lock:
            for s in self.connections:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections.clear()

    def restore(self) -> None:
        self.mode = "open"
        for s in self.held:
            s.close()
        self.held.clear()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.restore()
        self.listener.close()


class Load:
    """`threads` clients, each sending requests (fresh connection each) from `paths(i)` until stopped."""

    def __init__(self, base: str, paths, threads: int = 4, timeout: float = 20):
        self.base, self.paths, self.timeout = base, paths, timeout
        self.results: list[tuple[float, str, int | None, bytes | str]] = []  # (time, path, status, body or error)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stopping.is_set():
            path = self.paths(n * 1_000_000 + i)
            i += 1
            try:
                reply = call(self.base, path, timeout=self.timeout)
                self.results.append((time.monotonic(), path, reply.status, reply.body))
            except (OSError, http.client.HTTPException) as e:
                self.results.append((time.monotonic(), path, None, f"{type(e).__name__}: {e}"))

    def __enter__(self) -> Self:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=self.timeout + 5)

    @property
    def failures(self) -> list:
        return [r for r in self.results if r[2] != 200]


class PrivateRedis:
    """A redis-server of its own on a free loopback port, for faults (never the shared one): stop, start again,
    freeze (SIGSTOP: connections are accepted, nothing answers) and thaw."""

    def __init__(self, folder: Path):
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=open(self.folder / "redis.log", "a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16) == b"+PONG\r\n":
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            self.process.wait(timeout=10)

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(50):
        first = free_port()
        if first + count <= 65535:
            sockets = []
            try:
                for port in range(first, first + count):
                    s = socket.socket()
                    sockets.append(s)
                    s.bind(("127.0.0.1", port))
                return first
            except OSError:
                continue
            finally:
                for s in sockets:
                    s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


class Topology:
    """The production topology (deploy/topology.py: the nginx edge, API hosts under supervisord) on free loopback
    ports, over the database at `url`, built from `data_dir`; `env` adds or overrides the hosts' settings."""

    def __init__(self, url: str, data_dir: Path, run_dir: Path, env: dict | None = None, hosts: int = 2):
        self.hosts = hosts
        self.edge_port = free_ports(hosts + 1)
        self.api_port = self.edge_port + 1
        self.base = f"http://127.0.0.1:{self.edge_port}"
        self.host_bases = [f"http://127.0.0.1:{self.api_port + n}" for n in range(hosts)]
        self.run_dir = run_dir
        prefix = f"test-edge-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "RUN_DIR": str(run_dir), "EDGE_PORT": str(self.edge_port),
                    "API_PORT": str(self.api_port), "API_HOSTS": str(hosts), "EXPORTS_DATABASE_URL": url,
                    "EXPORTS_DATA_DIR": str(data_dir), "EXPORTS_RATELIMIT_KEY_PREFIX": prefix,
                    "EXPORTS_CACHE_KEY_PREFIX": prefix + ":", **(env or {})}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "deploy" / "topology.py"), *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, check=check, timeout=180)

    def start(self) -> Self:
        result = self.run("start", check=False)
        if result.returncode:
            self.stop()
            raise RuntimeError(f"the topology did not start: {result.stdout[-2000:]}{result.stderr[-3000:]}")
        return self

    def stop(self) -> None:
        """Stop everything, and drop the Redis keys the hosts wrote under this topology's prefix."""
        self.run("stop", check=False)
        if self.env.get("EXPORTS_REDIS_URL"):
            client = redis.Redis.from_url(self.env["EXPORTS_REDIS_URL"])
            for key in client.scan_iter(f"*{self.env['EXPORTS_RATELIMIT_KEY_PREFIX']}*"):
                client.delete(key)

    def supervisorctl(self, *args: str) -> str:
        command = [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(ROOT / "deploy" / "supervisord.conf"),
                   *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60, check=False).stdout

    def host_pid(self, n: int) -> int:
        """The pid of host n's gunicorn master (0 when it is not running)."""
        return int(self.supervisorctl("pid", f"api:api-{n}").strip() or 0)

    def log(self, name: str) -> str:
        """A program's log (api-0, api-1, edge) as written so far."""
        path = self.run_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access(self, n: int) -> list[dict]:
        """Host n's access log: one dict per request it answered."""
        return [orjson.loads(line) for line in self.log(f"api-{n}").splitlines() if line.startswith('{"time"')]

    def answered(self, request_id: str) -> list[dict]:
        """The hosts' access-log entries for one request id."""
        return [e for n in range(self.hosts) for e in self.access(n) if e["request_id"] == request_id]


@contextmanager
def topology(url: str, data_dir: Path, run_dir: Path, env: dict | None = None, hosts: int = 2):
    running = Topology(url, data_dir, run_dir, env, hosts)
    try:
        yield running.start()
    finally:
        running.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb, pg_ctl) on a free loopback port, to stop and start in a fault test:
    the shared server is never touched. Run as the `postgres` user when the tests run as root."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = bins[-1].parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="exports-pg-"))
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> Self:
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust",
                  "--no-sync")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_postgres():
    server = PrivatePostgres().init()
    try:
        server.start()
        yield server
    finally:
        server.remove()


# Reloads under load (test_faults, test_edge): a doubled copy of the fixtures, the summary's totals, a build process.
SUMMARY = "/v1/stats/summary?year=2023&base_year=2013"
FLASK = (sys.executable, "-m", "flask")


def wait_for(condition, timeout: float = 15, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s: {condition}")


def doubled_ita(target):
    """A copy of the fixture data whose ITA metro export figures are all doubled."""
    shutil.copytree(FIXTURES, target)
    path = target / "ita" / "ITA_MSA_Export_Series.xlsx"
    book = openpyxl.load_workbook(path)
    for row in book.worksheets[0].iter_rows(min_row=2, min_col=3):
        for cell in row:
            if isinstance(cell.value, (int, float)):
                cell.value = cell.value * 2
    book.save(path)
    return target


def totals(body: dict) -> tuple:
    return (body["metros_only"]["total"], body["metros_only"]["base_total"], body["with_unallocated"]["total"],
            body["with_unallocated"]["base_total"], body["national_total"],
            tuple((u["code"], u["value"], u["base_value"]) for u in body["unallocated"]))


def data_build(url: str, data_dir) -> subprocess.Popen:
    env = {**os.environ, "EXPORTS_DATABASE_URL": url}
    return subprocess.Popen([*FLASK, "--app", "wsgi", "data", "build", "--data-dir", str(data_dir), "--force"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
