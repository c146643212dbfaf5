"""Where a request's time goes: repeat one request against the app in-process (no HTTP) and profile it.

    .venv/bin/python bench/profile_requests.py '/v1/rankings/metros?year=2023' --no-cache
    .venv/bin/python bench/profile_requests.py '/v1/metros/38900/exports' --requests 5000 --profiler cprofile

Runs on the store the app is configured with (instance/exports.sqlite after `make store`, or EXPORTS_DATABASE_URL),
rate limits off. Prints the mean time per request, then pyinstrument's call tree (or cProfile's top functions).
The WSGI call includes everything the app does for a request (hooks, views, encoding), not gunicorn's HTTP parsing.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("EXPORTS_RATELIMIT_ENABLED", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="Path and query, e.g. /v1/metros/38900/exports")
    parser.add_argument("--requests", type=int, default=2000, help="Requests to profile (2000).")
    parser.add_argument("--no-cache", action="store_true", help="Response cache off: every request runs the view.")
    parser.add_argument("--header", action="append", default=[], help="Request header 'Name: value' (repeatable).")
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile", "none"), default="pyinstrument")
    args = parser.parse_args()
    if args.no_cache:
        os.environ["EXPORTS_CACHE_TIMEOUT"] = "-1"

    from werkzeug.test import Client

    from wsgi import app

    client = Client(app)
    headers = [tuple(h.split(": ", 1)) for h in args.header]
    path, _, query = args.url.partition("?")

    def run(n: int) -> None:
        for _ in range(n):
            response = client.get(path, query_string=query, headers=headers)
            if response.status_code not in (200, 304):
                sys.exit(f"{args.url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")

    run(50)  # warm up: caches, connection pool, first-request work
    started = time.perf_counter()
    if args.profiler == "pyinstrument":
        from pyinstrument import Profiler

        with Profiler(interval=0.0002) as profiler:
            run(args.requests)
    elif args.profiler == "cprofile":
        profiler = cProfile.Profile()
        profiler.runcall(run, args.requests)
    else:  # no profiler: the best of 5 batches, since other work on the machine only ever adds time
        batches = []
        for _ in range(5):
            started = time.perf_counter()
            run(args.requests // 5)
            batches.append((time.perf_counter() - started) / (args.requests // 5))
        print(f"{args.url}: {args.requests} requests, {min(batches) * 1e6:.0f} µs each at best, "
              f"{sorted(batches)[2] * 1e6:.0f} µs median of 5 batches (no profiler)")
        return
    elapsed = time.perf_counter() - started
    print(f"{args.url}: {args.requests} requests, {elapsed / args.requests * 1e6:.0f} µs each "
          f"(under {args.profiler})")
    if args.profiler == "pyinstrument":
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    elif args.profiler == "cprofile":
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        print(out.getvalue())


if __name__ == "__main__":
    main()
