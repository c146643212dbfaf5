"""Fixtures: the API over a store built from the fixtures (and one from the real files), its clients, and a
writable copy of the fixture data. Helpers live in helpers.py."""

import shutil
import threading

import pytest
from helpers import FIXTURES, POSTGRES, REAL_DATA, make_app, scratch_store
from werkzeug.serving import make_server


def pytest_report_header(config):
    return f"store backend: {'PostgreSQL ' + POSTGRES if POSTGRES else 'SQLite'}"


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
