import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from api import ROOT, create_app
from loaders import build
from models import Geography, Observation

FIXTURES = Path(__file__).parent / "data"
REAL_DATA = Path(os.environ.get("EXPORTS_DATA_DIR") or ROOT.parent / "shared" / "data")
# Set to an admin URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the suite on PostgreSQL:
# each store then lives in a scratch database created for the run and dropped after it.
POSTGRES = os.environ.get("EXPORTS_TEST_POSTGRES_URL")


def pytest_report_header(config):
    return f"store backend: {'PostgreSQL ' + POSTGRES if POSTGRES else 'SQLite'}"


@contextmanager
def scratch_store(tmp_path_factory, name: str):
    if not POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp(name) / 'store.sqlite'}"
        return
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    database = f"exports_test_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str, data_dir: Path):
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "TESTING": True,
                      "RATELIMIT_LIMIT": "100000 per minute", "DATA_VERSION_TTL": 0})
    build(app.extensions["store_engine"], data_dir)
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The API over a store built from the fixtures in tests/data."""
    with scratch_store(tmp_path_factory, "fixtures") as url:
        app = make_app(url, FIXTURES)
        yield app
        app.extensions["store_engine"].dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def base_url(app):
    """The fixture app served over HTTP on a free loopback port, for a browser or a generated client."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture()
def engine(app):
    return app.extensions["store_engine"]


@pytest.fixture(scope="session")
def real_app(tmp_path_factory):
    """The API over a store built from the real source files."""
    if not (REAL_DATA / "ita" / "ITA_MSA_Export_Series.xlsx").exists():
        pytest.skip(f"real data not found at {REAL_DATA}")
    with scratch_store(tmp_path_factory, "real") as url:
        app = make_app(url, REAL_DATA)
        yield app
        app.extensions["store_engine"].dispose()


@pytest.fixture()
def real_client(real_app):
    return real_app.test_client()


@pytest.fixture()
def data_copy(tmp_path):
    """A writable copy of the fixture data directory, for breaking files."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES, target)
    return target


def snapshot(engine) -> list[tuple]:
    """Every observation and geography in the store, for 'nothing changed' checks."""
    with Session(engine) as session:
        observations = session.execute(select(Observation.dataset_id, Observation.indicator, Observation.geography_id,
                                              Observation.industry, Observation.partner, Observation.year,
                                              Observation.value, Observation.status)
                                       .order_by(*Observation.__table__.primary_key.columns)).all()
        geographies = session.execute(select(Geography.kind, Geography.code, Geography.name)
                                      .order_by(Geography.kind, Geography.code)).all()
    return [*map(tuple, observations), *map(tuple, geographies)]


def figure(engine, dataset: str, kind: str, code: str, year: int, indicator: str | None = None,
           industry: str = "ALL", partner: str = "WLD") -> tuple:
    """(value, status) of one stored observation."""
    o = Observation
    with Session(engine) as session:
        query = (select(o.value, o.status).join(Geography, Geography.id == o.geography_id)
                 .where(o.dataset_id == dataset, Geography.kind == kind, Geography.code == code, o.year == year,
                        o.industry == industry, o.partner == partner))
        if indicator:
            query = query.where(o.indicator == indicator)
        rows = session.execute(query).all()
    assert len(rows) == 1, rows
    return tuple(rows[0])
