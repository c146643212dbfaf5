"""What each per-version figure (models/figures.py) costs to compute and to keep.

Builds the real store (or uses --database-url), answers a mix of requests (every operation's example request, the
contract tests' requests, and rankings over many pairs of years) with the response cache off, then, for every
remembered function: its entries, the time one entry takes to compute again (what a hit saves; median over its
entries), the time a hit takes, and the memory its largest entry holds, as the store counts it (footprint) and as
tracemalloc measures it, against the store's budget (FIGURES_MAX_BYTES).

    .venv/bin/python bench/memo_bench.py [--database-url URL] [--data-dir DIR]
"""

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def measured(function, snapshot, args) -> tuple[float, int]:
    """(seconds to compute the entry again, bytes it holds)."""
    started = time.perf_counter()
    function.__wrapped__(snapshot, *args)
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    value = function.__wrapped__(snapshot, *args)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del value
    return seconds, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="A store already built (default: build the real data into a temp file)")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()

    from test_contract import EXAMPLES

    from api import create_app, db
    from loaders import build
    from models import figures

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/store.sqlite"
    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "CACHE_TIMEOUT": -1, "DATA_VERSION_TTL": 60})
    if not args.database_url:
        build(app.extensions["store_engine"], Path(args.data_dir))
    client = app.test_client()
    requests = [e["request"] for e in json.loads((ROOT / "api" / "examples.json").read_text()).values()]
    requests += [u for urls in EXAMPLES.values() for u in urls]
    requests += [f"/v1/rankings/metros?by=cagr&from={a}&to={b}" for a in range(2005, 2023, 3) for b in (2019, 2023)]
    answered = sum(client.get(r).status_code == 200 for r in requests)
    print(f"{answered} of {len(requests)} requests answered 200 on {url.split('://')[0]}", file=sys.stderr)

    store = figures.REMEMBERED
    by_function: dict = {}
    for key, (_, held) in store.entries.items():
        by_function.setdefault(key[0], []).append((key[2:], held))
    rows = []
    with app.test_request_context():
        snapshot = db.snapshot()
        for function, entries in sorted(by_function.items(), key=lambda item: item[0].__name__):
            wrapped = getattr(figures, function.__name__)
            costs = [measured(wrapped, snapshot, args) for args, _ in entries]
            started = time.perf_counter()
            for _ in range(1000):
                wrapped(snapshot, *entries[0][0])
            hit = (time.perf_counter() - started) / 1000
            counted = [held for _, held in entries]
            largest = max(range(len(entries)), key=lambda i: counted[i])
            print(f"{function.__name__}: largest entry {counted[largest] / 1024:,.0f} KiB for {entries[largest][0]}",
                  file=sys.stderr)
            rows.append((function.__name__, len(entries), statistics.median(c for c, _ in costs), hit,
                         counted[largest], costs[largest][1], sum(counted)))
    print(f"Store: {store.size / 2**20:,.1f} MiB counted in {len(store.entries)} entries, budget "
          f"{store.max_bytes / 2**20:,.0f} MiB (FIGURES_MAX_BYTES)")
    print("| function | entries after the mix | a miss (median) | a hit | largest entry: counted / tracemalloc | "
          "all its entries |")
    print("|---|---|---|---|---|---|")
    for name, entries, miss, hit, largest, traced, total in rows:
        print(f"| `{name}` | {entries} | {miss * 1000:.2f} ms | {hit * 1e6:.1f} µs | {largest / 1024:,.0f} / "
              f"{traced / 1024:,.0f} KiB | {total / 1024:,.0f} KiB |")

if __name__ == "__main__":
    main()
