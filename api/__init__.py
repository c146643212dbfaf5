"""The Metro Exports API application factory."""

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

DESCRIPTION = """U.S. export statistics by metropolitan area and state, from public sources (ITA, Census, OMB,
Brookings), with their provenance. Read-only; JSON by default, CSV for collections and series
(`Accept: text/csv` or `format=csv`). Money is whole US dollars. A figure a source suppressed or lacks is
`null` with a `status`, never 0. Errors are RFC 9457 problem details."""


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then EXPORTS_* environment variables, then `config`; then the store, the API and the CLI."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{ROOT / 'instance' / 'exports.sqlite'}",
        DATA_DIR=str((ROOT.parent / "shared" / "data").resolve()),
        API_TITLE="Metro Exports API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={"info": {"description": DESCRIPTION, "license": {"name": "MIT", "identifier": "MIT"}}},
    )
    app.config.from_prefixed_env("EXPORTS")
    app.config.from_mapping(config or {})
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    from api import codes, db, docs, formats, health, metros, plans, states, stats
    from api.problems import Api
    from loaders.cli import data

    db.init_app(app)
    formats.init_app(app)
    api = Api(app)
    for module in (metros, states, plans, stats, codes):
        api.register_blueprint(module.blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    app.cli.add_command(data)
    return app
