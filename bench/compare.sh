#!/usr/bin/env bash
# Quick same-run comparison (wrk, 8 s each, on the store in instance/ — run `make store` first): bare route, series (cached, 304, uncached), rankings and summary (cached, uncached).
set -u
cd "$(dirname "$0")/.."
export EXPORTS_RATELIMIT_ENABLED=false
G=".venv/bin/gunicorn -c gunicorn.conf.py --workers 2 --access-logfile /dev/null"
ACCESS_LOG=/dev/null $G --bind 127.0.0.1:8101 wsgi:app >/tmp/qb1.log 2>&1 & PIDS="$!"
EXPORTS_CACHE_TIMEOUT=-1 ACCESS_LOG=/dev/null $G --bind 127.0.0.1:8102 wsgi:app >/tmp/qb2.log 2>&1 & PIDS="$PIDS $!"
ACCESS_LOG=/dev/null $G --bind 127.0.0.1:8103 --pythonpath bench bare_app:app >/tmp/qb3.log 2>&1 & PIDS="$PIDS $!"
trap 'kill $PIDS 2>/dev/null' EXIT
sleep 4
ETAG=$(curl -s -D - -o /dev/null 'http://127.0.0.1:8101/v1/metros/38900/exports' | grep -i '^etag' | cut -d' ' -f2 | tr -d '\r')
run() { printf '%-58s' "$1"; shift; wrk -t2 -c32 -d${D:-8}s --latency "$@" | awk '/Requests\/sec/{r=$2} / 99%/{p=$2} /Non-2xx/{e=$5} END{printf "%8.0f req/s  p99 %s  non2xx %s\n", r, p, e+0}'; }
run "bare" http://127.0.0.1:8103/bare
run "series 38900, cached" http://127.0.0.1:8101/v1/metros/38900/exports
run "series 38900, 304 (If-None-Match)" -H "If-None-Match: $ETAG" http://127.0.0.1:8101/v1/metros/38900/exports
run "series 38900, uncached" http://127.0.0.1:8102/v1/metros/38900/exports
run "rankings metros by value 2023, cached" "http://127.0.0.1:8101/v1/rankings/metros?year=2023"
run "rankings metros by value 2023, uncached" "http://127.0.0.1:8102/v1/rankings/metros?year=2023"
run "rankings metros by cagr 2013-2023, cached" "http://127.0.0.1:8101/v1/rankings/metros?by=cagr&from=2013&to=2023"
run "rankings metros by cagr 2013-2023, uncached" "http://127.0.0.1:8102/v1/rankings/metros?by=cagr&from=2013&to=2023"
run "summary 2023 vs 2013, cached" "http://127.0.0.1:8101/v1/stats/summary?year=2023&base_year=2013"
run "summary 2023 vs 2013, uncached" "http://127.0.0.1:8102/v1/stats/summary?year=2023&base_year=2013"
run "bare (again)" http://127.0.0.1:8103/bare
