"""The Metro Exports API application factory."""

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then EXPORTS_* environment variables, then `config`; then the store and the blueprints."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{ROOT / 'instance' / 'exports.sqlite'}",
        DATA_DIR=str((ROOT.parent / "shared" / "data").resolve()),
    )
    app.config.from_prefixed_env("EXPORTS")
    app.config.from_mapping(config or {})
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    from api import db
    from loaders.cli import data

    db.init_app(app)
    app.cli.add_command(data)
    return app
