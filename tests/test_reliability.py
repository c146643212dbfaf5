"""Reliability on a real gunicorn: no request kills a worker, no header costs a worker more than a bounded amount,
one rate-limit budget per client across the workers of a host, and Redis failing (stopped, frozen) without taking
the API down."""

import datetime
import importlib.util
import json

import pytest
from helpers import call, gunicorn, raw

from api import ROOT

pytestmark = pytest.mark.slow


def access_log(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


# 1. Malformed requests: gunicorn answers 400 itself, then logs it through our access logger.

MALFORMED = {
    "two Content-Length headers": b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n",
    "Content-Length: -1": b"Content-Length: -1\r\n\r\n",
    "Content-Length with Transfer-Encoding: chunked": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two Host headers": b"Host: y\r\n\r\n",
}


def test_malformed_requests_are_400_and_the_worker_lives_on(app, tmp_path):
    log = tmp_path / "gunicorn.log"
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_ENABLED": "false"}
    with gunicorn(env, log, workers=1) as server:
        (worker,) = server.workers()
        for name, rest in MALFORMED.items():
            reply = raw(server.base, b"GET /v1/states HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + rest, timeout=10)
            assert reply.status == 400, name
            assert call(server.base, "/healthz", timeout=5).status == 200, name
            assert server.workers() == {worker}, name
    assert "exited with code" not in log.read_text()
    logged = [(e["path"], e["status"]) for e in access_log(log)]
    assert logged.count(("/v1/states", 400)) == len(MALFORMED) and logged.count(("/healthz", 200)) >= len(MALFORMED)


def test_the_access_logger_never_raises(caplog):
    """Whatever gunicorn hands it: a response with only a status line (its error path), nothing at all."""
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)

    class ErrorResponse:  # what gunicorn's handle_error builds
        status, headers, sent = "400 Bad Request", [], 0

    took = datetime.timedelta(milliseconds=2)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/states", "REMOTE_ADDR": "127.0.0.1"}
    assert conf.entry(ErrorResponse(), None, environ, took)["status"] == 400
    assert conf.entry(ErrorResponse(), None, {}, took)["path"] is None

    from gunicorn.config import Config
    config = Config()
    config.set("accesslog", "-")
    logger = conf.JsonAccessLogger(config)
    for resp, given, request_time in ((ErrorResponse(), environ, took), (None, {}, None), (object(), None, 5)):
        logger.access(resp, None, given, request_time)  # no exception
