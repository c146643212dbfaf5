"""Bulk benchmark: the download of a whole dataset (GET /v1/datasets/{id}/download) and the panel endpoint
(GET /v1/observations) over 1M and 10M synthetic observations in PostgreSQL: rows/s, and the gunicorn worker's
memory while it streams.

Creates a scratch database on 127.0.0.1, builds the fixture store there and adds scale_bench.py's synthetic dataset
(52 states, DC and Puerto Rico x industries x 50 partners x 10 years): first 40 industries (1.04M rows), then all 400
(10.4M). At each size it starts gunicorn afresh with one sync worker (the project's gunicorn.conf.py, rate limit and
response cache off) and, one after the other:

- downloads the dataset as CSV, then gzip-encoded (Accept-Encoding: gzip), reading the body as it comes and
  counting its rows, while a thread samples the worker's resident memory (VmRSS) every 50 ms; the worker's VmHWM
  (peak RSS since it started) is read after each download;
- reads the first --panel-rows rows of the dataset through /v1/observations, --page-size rows a page, following
  meta.next_cursor, as JSON and as CSV.

Each measurement runs once (the machine is shared): the report gives the date, the command, the load average and
the share of the CPUs other processes took meanwhile. The scratch database is dropped at the end, also on an error,
Ctrl-C or SIGTERM.

    .venv/bin/python bench/bulk_bench.py
    .venv/bin/python bench/bulk_bench.py --industries 40 --first-industries 4     # quicker: 104k and 1.04M rows
"""

import argparse
import http.client
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common import ROOT, code_version, machine_ticks, progress, stop
from scale_bench import DATASET, FIXTURES, Scratch, add_reference_rows, generate, start_gunicorn, table_size, ticks_of

sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url

from loaders import build
from models.engine import create_store_engine


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="Admin URL on 127.0.0.1 where the scratch database is created and dropped.")
    parser.add_argument("--industries", type=int, default=400, help="Industry codes at the large size (400).")
    parser.add_argument("--first-industries", type=int, default=40, help="Industry codes at the small size (40).")
    parser.add_argument("--partners", type=int, default=50, help="Partners, the world included (50).")
    parser.add_argument("--panel-rows", type=int, default=200_000, help="Rows read through /v1/observations (200k).")
    parser.add_argument("--page-size", type=int, default=10_000, help="page_size of /v1/observations (10,000).")
    args = parser.parse_args()
    if not 0 < args.first_industries < args.industries or args.partners < 2:
        parser.error("need 0 < --first-industries < --industries and --partners >= 2")
    if make_url(args.postgres_url).host != "127.0.0.1":
        parser.error("--postgres-url must point at 127.0.0.1")
    return args


def status_kib(pid: int, field: str) -> int:
    """VmRSS, VmHWM, … of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def worker_of(gunicorn_pid: int) -> int:
    children = Path(f"/proc/{gunicorn_pid}/task/{gunicorn_pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0])


class Sampler(threading.Thread):
    """The largest VmRSS of a process, sampled every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.samples = pid, every, 0, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))
            self.samples += 1
            self.stopping.wait(self.every)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.join()


@dataclass
class Run:
    label: str
    rows: int
    wire_bytes: int
    seconds: float
    worker_cpu: float  # seconds of CPU the gunicorn worker used
    rss_before: int  # KiB
    rss_peak: int  # KiB, sampled
    hwm: int  # KiB, VmHWM after the run
    other_cpu: float  # share of the CPUs used by processes this benchmark did not start
    load: float  # 1-minute load average at the end


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(label: str, worker: int, gunicorn: int, scratch: Scratch, work) -> Run:
    """Run work() -> (rows, bytes on the wire) with the worker's memory sampled and the machine's CPU counted."""
    own = lambda: ({os.getpid(), gunicorn, worker} | scratch.backend_pids(), set())
    before, cpu0 = status_kib(worker, "VmRSS"), cpu_seconds(worker)
    machine0, own0 = machine_ticks(), ticks_of(*own())
    start = time.perf_counter()
    with Sampler(worker) as sampler:
        rows, wire = work()
    seconds = time.perf_counter() - start
    machine1, own1 = machine_ticks(), ticks_of(*own())
    other = max(0, (machine1[0] - machine0[0]) - (own1 - own0)) / max(1, machine1[1] - machine0[1])
    run = Run(label, rows, wire, seconds, cpu_seconds(worker) - cpu0, before, sampler.peak,
              status_kib(worker, "VmHWM"), other, os.getloadavg()[0])
    progress(f"  {label}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), worker RSS "
             f"{before / 1024:.0f} -> peak {sampler.peak / 1024:.0f} MiB, other CPU {other:.0%}")
    return run


def download(base: str, gzip: bool, expected: int) -> tuple[int, int]:
    """GET the synthetic dataset's file, read as it comes, and check it has the `expected` rows; (data rows, bytes
    received)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    connection.request("GET", f"/v1/datasets/{DATASET}/download", headers={"Accept-Encoding": "gzip" if gzip else
                                                                            "identity"})
    response = connection.getresponse()
    if response.status != 200 or (response.getheader("Content-Encoding") == "gzip") != gzip:
        raise RuntimeError(f"download: {response.status} {response.getheaders()}")
    inflate = zlib.decompressobj(wbits=47) if gzip else None
    lines = wire = 0
    while chunk := response.read(1 << 20):
        wire += len(chunk)
        lines += (inflate.decompress(chunk) if inflate else chunk).count(b"\n")
    connection.close()
    if lines - 1 != expected:
        raise RuntimeError(f"download: {lines - 1:,} rows, the dataset's row_count says {expected:,}")
    return lines - 1, wire


def panel(base: str, rows: int, page_size: int, fmt: str) -> tuple[int, int]:
    """Read the first `rows` rows of the dataset through /v1/observations; (rows read, bytes received)."""
    host, port = base.removeprefix("http://").split(":")
    got = wire = 0
    cursor = None
    while got < rows:
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        path = f"/v1/observations?dataset={DATASET}&page_size={page_size}&format={fmt}"
        connection.request("GET", path + (f"&cursor={cursor}" if cursor else ""))
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"observations: {response.status} {body[:300]!r}")
        wire += len(body)
        if fmt == "json":
            page = json.loads(body)
            got += len(page["data"])
            cursor = page["meta"]["next_cursor"]
        else:
            got += body.count(b"\n") - 1
            link = response.getheader("Link")
            cursor = link.split("cursor=")[-1].split(">")[0] if 'rel="next"' in link else None
        if cursor is None:
            break
    return got, wire


def bench(args: argparse.Namespace, scratch: Scratch, workdir: Path) -> tuple[dict, list[Run]]:
    engine = create_store_engine(scratch.url)
    sizes, runs = {}, []
    try:
        progress(f"Scratch database {scratch.name}: building the fixture store …")
        build(engine, FIXTURES)
        synthetic = add_reference_rows(engine, args)
        os.environ["WEB_CONCURRENCY"] = "1"  # one worker: the one whose memory is read
        for new in (synthetic.industries[:args.first_industries], synthetic.industries[args.first_industries:]):
            progress(f"Generating {len(synthetic.states) * len(new) * len(synthetic.partners) * 10:,} observations …")
            generate(engine, synthetic, new)
            rows, described = table_size(engine)
            size = f"{rows / 1e6:.1f}M"
            sizes[size] = described
            process, base = start_gunicorn(scratch.url, workdir / "gunicorn.log")
            try:
                worker = worker_of(process.pid)
                panel(base, 10, 10, "json")  # imports and the per-version figures, before anything is measured
                with urllib.request.urlopen(f"{base}/v1/datasets/{DATASET}") as response:
                    expected = json.loads(response.read())["row_count"]
                for gzip in (False, True):
                    runs.append(measured(f"{size} download{' gzip' if gzip else ''}", worker, process.pid, scratch,
                                         lambda base=base, gzip=gzip, expected=expected: download(base, gzip, expected)))
                for fmt in ("json", "csv"):
                    runs.append(measured(f"{size} observations {fmt}", worker, process.pid, scratch,
                                         lambda base=base, fmt=fmt: panel(base, args.panel_rows, args.page_size, fmt)))
            finally:
                stop(process)
    finally:
        engine.dispose()
    return sizes, runs


def report(args: argparse.Namespace, sizes: dict, runs: list[Run], started: datetime) -> str:
    lines = [
        (f"Bulk downloads and the panel endpoint, PostgreSQL, {started:%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
        f"code {code_version()}"),
        f"command: {' '.join(['bench/bulk_bench.py', *sys.argv[1:]])}",
        f"synthetic dataset {DATASET} (scale_bench.py): "
        + "; ".join(f"{size}: {text_}" for size, text_ in sizes.items()),
        ("gunicorn (gunicorn.conf.py), 1 sync worker started afresh at each size, rate limit and response cache off; "
        "each row measured once; RSS of the worker: before, highest sample (every 50 ms) during, VmHWM after; "
        f"observations: the first {args.panel_rows:,} rows, page_size={args.page_size:,}, following the cursor"),
        "",
        (f"{'run':<26} {'rows':>11} {'MB on wire':>10} {'s':>7} {'rows/s':>9} {'rows/CPU s':>10} {'RSS before':>10} "
        f"{'RSS peak':>8} {'VmHWM':>7} {'other CPU':>9} {'load':>5}"),
    ]
    for r in runs:
        lines.append(f"{r.label:<26} {r.rows:>11,} {r.wire_bytes / 1e6:>10,.1f} {r.seconds:>7.1f} "
                     f"{r.rows / r.seconds:>9,.0f} {r.rows / max(r.worker_cpu, 1e-9):>10,.0f} "
                     f"{r.rss_before / 1024:>7.0f} MiB {r.rss_peak / 1024:>4.0f} MiB {r.hwm / 1024:>3.0f} MiB "
                     f"{r.other_cpu:>9.0%} {r.load:>5.1f}")
    downloads = {r.label: r for r in runs if "download" in r.label}
    small, large = list(sizes)
    for suffix in ("download", "download gzip"):
        a, b = downloads[f"{small} {suffix}"], downloads[f"{large} {suffix}"]
        lines.append(f"{suffix}: peak RSS growth from {small} to {large} rows: {b.rss_peak - b.rss_before:+,} KiB vs "
                     f"{a.rss_peak - a.rss_before:+,} KiB over the worker's RSS before (x{b.rows / a.rows:.0f} rows)")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs on SIGTERM too
    started = datetime.now()
    scratch = Scratch(args.postgres_url)
    try:
        with tempfile.TemporaryDirectory(prefix="exports-bulkbench-") as tmp:
            sizes, runs = bench(args, scratch, Path(tmp))
    finally:
        scratch.close()
    print(report(args, sizes, runs, started), flush=True)


if __name__ == "__main__":
    main()
