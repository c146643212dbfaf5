"""The API next to Datasette serving the same SQLite store, for the same question: a metro's ITA goods
exports series, random metro per request. wrk on loopback, same run.

    .venv/bin/python bench/datasette_bench.py [--duration 10] [--connections 32]

Datasette lives in its own virtualenv (bench/.venv-datasette, created on first use from PyPI) so that its
dependencies never meet the API's. Target: the API at least 5x Datasette's requests/s.
"""

import argparse
import json
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = ROOT / ".venv" / "bin"
DATASETTE = BENCH / ".venv-datasette"
SERIES_SQL = ("select o.year, o.value, o.status from observations o join geographies g on g.id = o.geography_id "
              "where g.kind = 'metro' and g.code = :code and o.dataset_id = 'ita-metro-exports' "
              "and o.indicator = 'exports_goods' and o.industry = 'ALL' and o.partner = 'WLD' order by o.year")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not answer")


def ensure_datasette() -> Path:
    if not (DATASETTE / "bin" / "datasette").exists():
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE)], check=True)
        subprocess.run([str(DATASETTE / "bin" / "pip"), "install", "--quiet", "datasette~=0.65"], check=True)
    return DATASETTE / "bin" / "datasette"


def wrk(url_template: str, codes: list[str], seconds: int, connections: int, workdir: Path) -> tuple[float, str]:
    """Requests/s and p99 for GET url_template % code, a random code per request."""
    script = workdir / f"random{random.randrange(10**6)}.lua"
    base, path = re.match(r"(http://[^/]+)(/.*)", url_template).groups()
    script.write_text("codes = {" + ",".join(f'"{c}"' for c in codes) + "}\n"
                      f'request = function() return wrk.format("GET", string.format("{path}", '
                      "codes[math.random(#codes)])) end\n")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"{url_template}: {errors.group(1)} non-2xx responses")
    return rate, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    datasette = ensure_datasette()
    processes = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        store = workdir / "store.sqlite"
        env = {"PATH": str(BIN) + ":/usr/bin:/bin", "HOME": str(workdir), "EXPORTS_DATABASE_URL": f"sqlite:///{store}",
               "EXPORTS_DATA_DIR": str(args.data_dir), "EXPORTS_RATELIMIT_ENABLED": "false", "ACCESS_LOG": "/dev/null"}
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "data", "build"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        metadata = workdir / "metadata.json"
        metadata.write_text(json.dumps({"databases": {"store": {"queries": {"series": {"sql": SERIES_SQL}}}}}))
        ports = {name: free_port() for name in ("cached", "uncached", "datasette")}
        try:
            for name, extra in (("cached", {}), ("uncached", {"EXPORTS_CACHE_TIMEOUT": "-1"})):
                processes.append(subprocess.Popen(
                    [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", "2", "--bind",
                     f"127.0.0.1:{ports[name]}", "wsgi:app"], cwd=ROOT, env={**env, **extra},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            processes.append(subprocess.Popen(
                [str(datasette), "serve", str(store), "--host", "127.0.0.1", "--port", str(ports["datasette"]),
                 "--metadata", str(metadata), "--setting", "default_cache_ttl", "0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for port in ports.values():
                wait(f"http://127.0.0.1:{port}/")
            listing = urllib.request.urlopen(
                f"http://127.0.0.1:{ports['cached']}/v1/metros?year=2023&sort=-exports&page_size=500").read()
            codes = [m["code"] for m in json.loads(listing)["data"] if m["exports"]["value"] is not None]
            rows = []
            for label, template in (
                    ("Datasette canned query (JSON)", f"http://127.0.0.1:{ports['datasette']}/store/series.json"
                                                      "?code=%s&_shape=array"),
                    ("API /v1/metros/{code}/exports, uncached", f"http://127.0.0.1:{ports['uncached']}"
                                                               "/v1/metros/%s/exports"),
                    ("API /v1/metros/{code}/exports, cached", f"http://127.0.0.1:{ports['cached']}"
                                                             "/v1/metros/%s/exports")):
                wrk(template, codes, 2, args.connections, workdir)  # warm-up
                rows.append((label, *wrk(template, codes, args.duration, args.connections, workdir)))
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
    base = rows[0][1]
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, random metro among {len(codes)}; target: API >= 5x")
    print(f"{'endpoint':45} {'req/s':>8} {'p99':>9} {'vs Datasette':>13}")
    for label, rate, p99 in rows:
        print(f"{label:45} {rate:8.0f} {p99:>9} {rate / base:12.1f}x")


if __name__ == "__main__":
    main()
