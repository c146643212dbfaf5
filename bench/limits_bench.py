"""What counting one request costs in each rate-limit storage, as Flask-Limiter counts it (a hit, then the window
for the headers): in-process memory (the baseline), the SQLite file the workers of a host share
(api/limits_storage.py), and Redis. Then two processes count at once on one key: a shared storage must end
with exactly the sum, where memory ends with each process's own count.

    .venv/bin/python bench/limits_bench.py [--requests 20000] [--redis redis://127.0.0.1:6379/0]
"""

import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import api.limits_storage  # noqa: F401 - registers the sqlite:// scheme

LIMIT = parse("1000000000 per minute")
PREFIX = f"limits-bench-{uuid.uuid4().hex[:8]}"  # Redis keys of this run; they expire after the minute


def storage(uri: str):
    return storage_from_string(uri, **({"key_prefix": PREFIX} if uri.startswith("redis") else {}))


def count(uri: str, key: str, n: int) -> float:
    """Seconds per request for n requests counted as Flask-Limiter does."""
    limiter = FixedWindowRateLimiter(storage(uri))
    start = time.perf_counter()
    for _ in range(n):
        limiter.hit(LIMIT, key)
        limiter.get_window_stats(LIMIT, key)
    return (time.perf_counter() - start) / n


def counted_by_two(uri: str, n: int) -> tuple[int, float]:
    """Two processes count n requests each on one key: the count this process then reads, and the wall time."""
    key = f"bench/{uuid.uuid4().hex}"
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    with context.Pool(2) as pool:
        pool.starmap(count, [(uri, key, n), (uri, key, n)])
    return storage(uri).get(LIMIT.key_for(key)), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", help="also measure this Redis (keys under a prefix of their own)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uris = {"memory": "memory://", "sqlite file": f"sqlite:///{tmp}/limits.sqlite"}
        if args.redis:
            uris["redis"] = args.redis
        per_request = {name: statistics.median(count(uri, f"bench/{uuid.uuid4().hex}", args.requests)
                                               for _ in range(args.rounds)) for name, uri in uris.items()}
        print(f"{'storage':<12} {'µs/request':>10} {'× memory':>9}   two processes × {args.requests}: "
              "count seen by a third, wall s")
        for name, uri in uris.items():
            total, took = counted_by_two(uri, args.requests)
            print(f"{name:<12} {per_request[name] * 1e6:>10.1f} {per_request[name] / per_request['memory']:>9.1f}"
                  f"   {total:>8} {took:>6.2f}")


if __name__ == "__main__":
    main()
