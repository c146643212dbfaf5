"""The HTTP contract: conditional requests, the response cache, CORS, rate limits, compression, headers."""

import gzip

import brotli
import pytest
from helpers import FIXTURES
from sqlalchemy import event

from api import create_app, db
from loaders import build

SERIES = "/v1/metros/38900/exports?from=2020"


@pytest.fixture()
def queries(engine, monkeypatch):
    """Count the SQL statements the store runs: through SQLAlchemy, and the version read that opens a snapshot,
    which the driver runs (db.pin)."""
    statements = []
    listener = lambda *args: statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listener)
    pin = db.pin
    monkeypatch.setattr(db, "pin", lambda held: statements.append(db.STATE_SQL) or pin(held))
    yield statements
    event.remove(engine, "before_cursor_execute", listener)


def test_validators_on_every_series(client):
    response = client.get(SERIES)
    etag, weak = response.get_etag()
    assert etag and not weak and len(etag) == 32
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert {"Accept", "Accept-Encoding"} <= set(response.headers["Vary"].replace(" ", "").split(","))
    assert response.last_modified is not None


def test_if_none_match_is_answered_304_before_any_query(app, client, queries):
    first = client.get(SERIES)
    version = app.extensions["data_version"]
    version.ttl = 60  # the version is remembered, as in production
    try:
        client.get(SERIES)
        queries.clear()
        response = client.get(SERIES, headers={"If-None-Match": first.headers["ETag"]})
        assert queries == []
        assert response.status_code == 304 and response.get_data() == b""
        assert response.headers["ETag"] == first.headers["ETag"]
        assert response.headers["Cache-Control"] == "public, max-age=300"
        # the compressed representation's ETag ("…:gzip") revalidates too
        gz = client.get(SERIES, headers={"If-None-Match": first.headers["ETag"][:-1] + ':gzip"'})
        assert gz.status_code == 304
    finally:
        version.ttl = 0


def test_etag_follows_the_canonical_request(client):
    def etag(url, **headers):
        return client.get(url, headers=headers).headers["ETag"]
    base = etag("/v1/metros/38900/exports?from=2020&to=2023")
    assert etag("/v1/metros/38900/exports?to=2023&from=2020") == base  # order
    assert etag("/v1/metros/38900/exports?from=2020&to=2023&units=level&dataset=ita-metro-exports") == base  # defaults
    assert etag("/v1/metros/38900/exports?from=2020&to=2023&format=json") == base  # format
    csv = etag("/v1/metros/38900/exports?from=2020&to=2023", Accept="text/csv")
    assert csv != base and etag("/v1/metros/38900/exports?from=2020&to=2023&format=csv") == csv
    assert etag("/v1/metros/38900/exports?from=2021&to=2023") != base


def test_a_csv_path_revalidates_and_is_cached_as_a_request_of_its_own(client):
    """The .csv path has an ETag of its own (its Link headers name it, unlike format=csv's), answered 304; the
    response cache keeps its Link headers with it."""
    url = "/v1/metros.csv?q=portland&page_size=1&type=metropolitan"
    first, second = client.get(url), client.get(url)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert (second.get_data(), second.headers["Link"]) == (first.get_data(), first.headers["Link"])
    assert first.headers["Link"].startswith("<http://localhost/v1/metros.csv?")
    compatible = client.get("/v1/metros?q=portland&page_size=1&type=metropolitan&format=csv")
    assert compatible.get_data() == first.get_data() and compatible.headers["ETag"] != first.headers["ETag"]
    assert compatible.headers["Link"].startswith("<http://localhost/v1/metros?")
    not_modified = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert (not_modified.status_code, not_modified.headers["ETag"]) == (304, first.headers["ETag"])


def test_response_cache_serves_repeats_and_a_reload_changes_version_and_cache(app, client, engine):
    url = "/v1/metros?q=portland&page_size=1"
    first = client.get(url)
    second = client.get(url)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.get_data() == first.get_data()
    assert second.headers["Link"] == first.headers["Link"] and second.headers["X-Total-Count"] == "2"
    build(engine, FIXTURES, force=True)  # a reload: same files, new load time, new version
    third = client.get(url)
    assert third.headers["X-Cache"] == "miss" and third.headers["ETag"] != first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_head_answers_like_get_without_a_body(client):
    get, head = client.get(SERIES), client.head(SERIES)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    for url, headers in ((f"{SERIES}&format=csv", {}), (SERIES, {"Accept": "text/csv"})):  # CSV, the same way
        get, head = client.get(url, headers=headers), client.head(url, headers=headers)
        assert (head.status_code, head.mimetype, head.get_data()) == (200, "text/csv", b"")
        assert (head.headers["ETag"], head.headers["Content-Length"]) == (get.headers["ETag"], get.headers["Content-Length"])


def test_cors(client):
    response = client.get(SERIES, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "RateLimit" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(SERIES, headers={"Origin": "https://example.org",
                                                "Access-Control-Request-Method": "GET",
                                                "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert preflight.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert preflight.headers["Access-Control-Max-Age"] == "86400"


@pytest.fixture()
def limited(app):
    """An app over the same store with a small budget: 3 requests a minute, counted in a memory of its own."""
    return create_app({"DATABASE_URL": app.config["DATABASE_URL"], "RATELIMIT_LIMIT": "3 per minute",
                       "PROXY_COUNT": 1, "RATELIMIT_STORAGE_URI": "memory://"}).test_client()


def test_rate_limit_headers_429_and_own_quota(limited):
    quota = limited.get("/v1/rate_limit").get_json()
    assert quota == {"enabled": True, "limit": 3, "remaining": 3, "window_seconds": 60, "reset_in": quota["reset_in"],
                     "client": "127.0.0.1"}
    for remaining in (2, 1, 0):
        response = limited.get(SERIES)
        assert response.status_code == 200
        assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == (
            "3", str(remaining))
        assert response.headers["RateLimit-Policy"] == '"default";q=3;w=60'
        assert response.headers["RateLimit"].startswith(f'"default";r={remaining};t=')
    refused = limited.get(SERIES)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert limited.get("/v1/rate_limit").get_json()["remaining"] == 0  # asking does not spend
    assert limited.get("/healthz").status_code == 200  # probes are not limited
    # behind one trusted proxy, the client is the address the proxy saw
    other = limited.get("/v1/rate_limit", headers={"X-Forwarded-For": "203.0.113.9"}).get_json()
    assert (other["client"], other["remaining"]) == ("203.0.113.9", 3)


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client):
    body = client.get("/v1/rate_limit", headers={"X-Forwarded-For": "203.0.113.9"}).get_json()
    assert body["client"] == "127.0.0.1"


@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_compression(client, encoding, decode):
    for url in ("/v1/metros?page_size=100", "/v1/metros.csv?page_size=100"):
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        packed = client.get(url, headers={"Accept-Encoding": encoding})
        assert packed.headers["Content-Encoding"] == encoding
        assert len(packed.get_data()) < len(plain.get_data())
        assert decode(packed.get_data()) == plain.get_data()
    small = client.get("/healthz", headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in small.headers  # below the size threshold


def test_security_headers_and_request_id(client):
    response = client.get(SERIES, headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = client.get(SERIES, headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert len(generated) == 32 and generated != "bad id with spaces"
    docs = client.get("/docs")
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in docs.headers["Content-Security-Policy"]


def test_request_bodies_are_refused(client):
    response = client.get(SERIES, data=b"x" * 20000)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "Request bodies are limited to 16384 bytes; this API reads none."


def test_an_unreachable_store_is_a_503_problem_with_retry_after():
    client = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}).test_client()
    response = client.get(SERIES)
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "The data store is unavailable; try again shortly."
    assert response.headers["Retry-After"] == "5"


def test_cached_links_name_the_host_asked(client):
    """The response cache is keyed by the host too: a cached Link header never names another host."""
    url = "/v1/metros?q=portland&page_size=1&page=1"
    first = client.get(url, base_url="http://api.example.org")
    second = client.get(url, base_url="https://exports.example.com")
    again = client.get(url, base_url="https://exports.example.com")
    assert (first.headers["X-Cache"], second.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "miss", "hit")
    assert second.get_data() == first.get_data() and again.headers["Link"] == second.headers["Link"]
    assert first.headers["Link"].startswith("<http://api.example.org/v1/metros?")
    assert second.headers["Link"] == first.headers["Link"].replace("http://api.example.org/",
                                                                   "https://exports.example.com/")
