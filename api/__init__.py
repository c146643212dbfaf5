"""The Metro Exports API application factory."""

from importlib.metadata import version
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

DESCRIPTION = """U.S. export statistics by metropolitan area and state, from public sources (ITA, Census, OMB,
Brookings), with their provenance. Read-only; JSON by default; the CSV of a collection or series is an
operation of its own at the same path + `.csv` (`/v1/metros/{code}/exports.csv`, `get_metro_exports_csv`), and the
JSON operation still answers `format=csv` and `Accept: text/csv` with it. Money is whole US dollars. A figure a
source suppressed or lacks is `null` with a `status`, never 0. Errors are RFC 9457 problem details.

Compatibility within v1: fields, headers, enumeration values (such as a figure's `status`), parameters and
operations may be added; nothing is removed or renamed, and a field keeps its meaning. Clients should ignore
fields they do not know and accept values of an enumeration beyond those listed. A list parameter may be given
comma-separated or repeated."""


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then EXPORTS_* environment variables, then `config`; then the store, the API and the CLI."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{ROOT / 'instance' / 'exports.sqlite'}",
        DATA_DIR=str((ROOT.parent / "shared" / "data").resolve()),
        API_TITLE="Metro Exports API",
        API_VERSION=version("metro-exports-api"),  # pyproject.toml's, the one place it is written
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={"info": {"description": DESCRIPTION, "license": {"name": "MIT", "identifier": "MIT"}}},
        # The store: PostgreSQL statements are stopped after this long (0 = never); a server is given up on after
        # this many seconds.
        STATEMENT_TIMEOUT_MS=5000,
        DATABASE_CONNECT_TIMEOUT=5,
        # Caching (api/caching.py): Cache-Control max-age, and s-maxage for shared caches such as the edge (None =
        # none); how often (seconds) each process re-reads the data version (0 = every request); the response
        # cache's entry lifetime (<= 0: no response cache) and, in process, the memory it may take (bytes).
        CACHE_MAX_AGE=300,
        CACHE_SHARED_MAX_AGE=None,
        DATA_VERSION_TTL=1.0,
        CACHE_TIMEOUT=3600,
        CACHE_MAX_BYTES=32 * 1024 * 1024,
        CACHE_KEY_PREFIX="metro-exports:",
        # The figures many requests share, remembered per data version (models/figures.py): the memory they may
        # take in each process (bytes).
        FIGURES_MAX_BYTES=64 * 1024 * 1024,
        # Shared state across workers and hosts (response cache, rate-limit counters); None = in-process. Redis may
        # fail: each call gives up after REDIS_TIMEOUT seconds, and the cache is then skipped for REDIS_RETRY_AFTER.
        REDIS_URL=None,
        REDIS_TIMEOUT=0.25,
        REDIS_RETRY_AFTER=5.0,
        RATELIMIT_LIMIT="120 per minute",
        RATELIMIT_ENABLED=True,
        # Counters that fail (Redis down or frozen, the SQLite file unwritable): each process counts on its own
        # meanwhile; Flask-Limiter tries them again after 1, 2, 4 … 32 s and logs the switch each way once.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_KEY_PREFIX="metro-exports",
        RATELIMIT_HEADER_RETRY_AFTER_VALUE="delta-seconds",
        # Number of proxies in front of the API whose X-Forwarded-For is trusted (0 = none).
        PROXY_COUNT=0,
        MAX_CONTENT_LENGTH=16 * 1024,
        # Request headers in all (as nginx's default buffers); gunicorn.conf.py bounds each line and their number.
        MAX_HEADER_BYTES=32 * 1024,
        # Compress responses here (brotli, gzip); off on hosts behind the nginx edge, which compresses instead.
        COMPRESS=True,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "gzip"],  # streamed responses (downloads) compressed chunk by chunk
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_MIMETYPES=["application/json", "application/problem+json", "text/csv", "text/html",
                            "text/css", "text/javascript", "application/javascript"],
    )
    app.config.from_prefixed_env("EXPORTS")
    app.config.from_mapping(config or {})
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    from flask_compress import Compress

    from api import (
        caching,
        codes,
        cors,
        db,
        docs,
        downloads,
        explore,
        formats,
        health,
        limits,
        metros,
        nation,
        observations,
        partners,
        plans,
        security,
        states,
        stats,
    )
    from api.problems import Api
    from loaders.cli import data
    from models import figures

    db.init_app(app)
    figures.REMEMBERED.max_bytes = app.config["FIGURES_MAX_BYTES"]  # one store per process, whatever the app
    caching.init_app(app)
    # before_request hooks run in this order: check the request cheaply, count it, then negotiate its format.
    security.init_app(app)
    limits.init_app(app)
    formats.init_app(app)
    cors.init_app(app)
    if app.config["COMPRESS"]:
        Compress(app)
    api = Api(app)
    for module in (metros, states, partners, nation, observations, plans, stats, codes, downloads, limits):
        api.register_blueprint(module.blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    app.register_blueprint(explore.blp)
    # Pages and files that never read the store, like the probes and /docs: a page load fetches about ten of them,
    # which would otherwise spend a tenth of a client's minute before the explorer asks the API anything.
    for blueprint in (health.blp, docs.blp, explore.blp):
        limits.limiter.exempt(blueprint)
    app.cli.add_command(data)
    return app
