"""Figures of issue 19 for a checkout of the API, served as the README says (gunicorn, gunicorn.conf.py, 2 sync
workers) over a store built from tests/data:

1. malformed requests (two Content-Length, Content-Length -1, Content-Length with chunked, two Host): the
   answers, the workers that exited, and how long /healthz then took;
2. 48 Accept header lines of about 8 KB each: the answer and the time per request, next to a plain request;
3. a private redis-server frozen (SIGSTOP) then stopped, under 4 clients: requests answered, latency, /readyz;
4. one worker sent 20,000 distinct requests (/v1/states?page=N, each a new response-cache entry, on keep-alive
   connections): its RSS as they go, and then the median time of an uncached request while the caches are full;
5. 300 requests from one client address under the default 120 per minute: admitted, and how often
   X-RateLimit-Remaining failed to go down.

    .venv/bin/python bench/reliability_bench.py [--checkout DIR] [--phase-seconds 10]

--checkout runs another tree with this virtualenv (its own api/, wsgi.py and gunicorn.conf.py are imported, as
gunicorn is started there), e.g. the code before the fix: `git archive 39ddd80 | tar -x -C /tmp/before`.
Everything runs on loopback; every process started is stopped at the end.
"""

import argparse
import http.client
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, free_port, progress, stop
from sqlalchemy import create_engine

from loaders import build

FIXTURES = ROOT / "tests" / "data"
MALFORMED = {
    "two Content-Length": b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n",
    "Content-Length: -1": b"Content-Length: -1\r\n\r\n",
    "Content-Length + chunked": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two Host": b"Host: y\r\n\r\n",
}


def get(port: int, path: str, headers: dict | None = None, timeout: float = 35) -> tuple[int | None, dict, float]:
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, time.monotonic() - start
    except (OSError, http.client.HTTPException):
        return None, {}, time.monotonic() - start
    finally:
        connection.close()


def send(port: int, data: bytes, timeout: float = 35) -> tuple[int | None, float]:
    """Raw bytes; the status of the answer (None: the connection closed without one) and the time it took."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except OSError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    return status, time.monotonic() - start


@contextmanager
def served(checkout: Path, env: dict, log: Path, workers: int = 2):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), "wsgi:app"], cwd=checkout, env={**os.environ, "ACCESS_LOG": "/dev/null", **env},
        stdout=open(log, "a"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while get(port, "/healthz", timeout=2)[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield port
    finally:
        stop(process)


def malformed(checkout: Path, env: dict, folder: Path) -> None:
    log = folder / "malformed.log"
    with served(checkout, env, log) as port:
        for name, rest in MALFORMED.items():
            status, took = send(port, b"GET /v1/states HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + rest)
            print(f"1. {name:<26} answer {status}, {took * 1000:.0f} ms")
            time.sleep(0.2)
        time.sleep(5)  # let replacements boot, if any
        for name in ("two Content-Length", "two Host"):  # two in a row, as in the issue: then /healthz
            send(port, b"GET /v1/states HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + MALFORMED[name])
        start = time.monotonic()
        while get(port, "/healthz", timeout=30)[0] != 200:
            time.sleep(0.01)
        print(f"1. /healthz right after two of them answered in {(time.monotonic() - start) * 1000:.0f} ms; "
              f"workers exited: {log.read_text().count('exited with code')}")


def accept(checkout: Path, env: dict, folder: Path) -> None:
    line = b"Accept: " + b", ".join([b"a/b"] * 1600) + b"\r\n"
    with served(checkout, env, folder / "accept.log", workers=1) as port:
        for path in ("/healthz", "/v1/states"):
            big = [send(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + line * 48
                        + b"\r\n") for _ in range(10)]
            plain = [get(port, path)[2] for _ in range(10)]
            print(f"2. {path:<10} 48 x 8 KB Accept: answer {big[0][0]}, median "
                  f"{statistics.median(t for _, t in big) * 1000:.0f} ms; plain {statistics.median(plain) * 1000:.1f} ms")


def load(port: int, seconds: float, clients: int = 4) -> list[tuple[int | None, float]]:
    """`clients` threads sending requests for distinct pages during `seconds` (a request in flight finishes)."""
    results, end, pages = [], time.monotonic() + seconds, iter(range(1, 10**9))
    lock = threading.Lock()

    def client():
        while time.monotonic() < end:
            with lock:
                page = next(pages)
            status, _, took = get(port, f"/v1/metros?page_size=1&page={page}")
            results.append((status, took))
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def redis_faults(checkout: Path, env: dict, folder: Path, seconds: float) -> None:
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        redis_env = {**env, "EXPORTS_REDIS_URL": f"redis://127.0.0.1:{port}/0", "EXPORTS_RATELIMIT_ENABLED": "true",
                     "EXPORTS_RATELIMIT_LIMIT": "100000 per minute"}
        with served(checkout, redis_env, folder / "redis.log") as api:
            for phase, fault in (("up", None), ("frozen", signal.SIGSTOP), ("stopped", signal.SIGTERM)):
                if fault:
                    server.send_signal(fault)
                    if fault == signal.SIGTERM:
                        server.send_signal(signal.SIGCONT)
                        server.wait()
                results = load(api, seconds)
                answered = [t for status, t in results if status == 200]
                status, _, _ = get(api, "/readyz")
                times = sorted(t for _, t in results)
                print(f"3. Redis {phase:<8} {len(answered)}/{len(results)} answered 200 in {seconds:.0f} s; latency "
                      f"median {statistics.median(times) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; /readyz {status}")
    finally:
        server.send_signal(signal.SIGCONT)
        stop(server)


def rss(pid: int) -> float:
    """Resident memory of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory(checkout: Path, env: dict, folder: Path, requests: int = 20_000) -> None:
    # a store of the checkout's own schema, built by its own loaders from its own fixtures (an older checkout reads
    # other tables and files)
    store = f"sqlite:///{folder / 'memory.sqlite'}"
    fixtures = checkout / "tests" / "data"
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "data", "build", "--data-dir", str(fixtures)],
                   cwd=checkout, env={**os.environ, "EXPORTS_DATABASE_URL": store}, check=True, capture_output=True)
    with served(checkout, {**env, "EXPORTS_DATABASE_URL": store}, folder / "memory.log", workers=1) as port:
        worker = int(subprocess.check_output(["pgrep", "-f", f"127.0.0.1:{port}", "-n"]).split()[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples = [f"{rss(worker):.0f}"]
        for page in range(1, requests + 1):
            connection.request("GET", f"/v1/states?page={page}")
            connection.getresponse().read()
            if page % (requests // 4) == 0:
                samples.append(f"{rss(worker):.0f}")
        connection.close()
        took = [get(port, f"/v1/metros?page_size=2&page={p}&q=a")[2] for p in range(1, 201)]
        print(f"4. RSS of the worker over {requests:,} distinct requests: {' -> '.join(samples)} MiB; then an uncached "
              f"request: median {statistics.median(took) * 1000:.1f} ms")


def budget(checkout: Path, env: dict, folder: Path) -> None:
    limited = {**env, "EXPORTS_RATELIMIT_ENABLED": "true", "EXPORTS_PROXY_COUNT": "1"}
    limited.pop("EXPORTS_RATELIMIT_LIMIT", None)
    with served(checkout, limited, folder / "budget.log") as port:
        address = f"198.51.100.{os.getpid() % 250}"
        replies = [get(port, "/v1/states?page_size=1", {"X-Forwarded-For": address}) for _ in range(300)]
    statuses = [status for status, _, _ in replies]
    remaining = [int(h["x-ratelimit-remaining"]) for status, h, _ in replies if status == 200]
    rises = sum(b >= a for a, b in itertools.pairwise(remaining))
    print(f"5. 300 requests from one address, 2 workers: {statuses.count(200)} admitted, {statuses.count(429)} x 429; "
          f"Remaining did not go down {rises} times (first ones: {remaining[:6]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=ROOT)
    parser.add_argument("--phase-seconds", type=float, default=10)
    parser.add_argument("--only", type=int, action="append", choices=range(1, 6), metavar="N",
                        help="Run only figure N (repeatable; default: all five).")
    args = parser.parse_args()
    phases = {1: malformed, 2: accept, 3: redis_faults, 4: memory, 5: budget}
    checkout = args.checkout.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = f"sqlite:///{folder / 'store' / 'exports.sqlite'}"
        (folder / "store").mkdir()
        progress(f"building a store from {FIXTURES} …")
        build(create_engine(store), FIXTURES)
        env = {"EXPORTS_DATABASE_URL": store, "EXPORTS_RATELIMIT_LIMIT": "100000 per minute"}
        print(f"checkout: {checkout}")
        for number in sorted(args.only or phases):
            if number == 3:
                redis_faults(checkout, env, folder, args.phase_seconds)
            else:
                phases[number](checkout, env, folder)


if __name__ == "__main__":
    main()
