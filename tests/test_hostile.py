"""Hostile input: injection attempts, absurd numbers, huge, repeated and malformed parameters, oversize requests,
unexpected methods and path traversal each get a clear 4xx problem+json (or, for search text, a literal match),
never a 5xx, and never change the store."""

from urllib.parse import quote

import pytest
from helpers import PROBLEM, call, gunicorn, raw, report, snapshot

pytestmark = pytest.mark.slow  # one module-wide gunicorn
REPEATED = "Given more than once; this parameter takes a single value."
NOT_UTF8 = "Not valid UTF-8 once percent-decoded."
BAD_ESCAPE = "Malformed percent-escape: '%' must be followed by two hexadecimal digits."
CONTROL = "Control characters (such as NUL) are not allowed."
TRIED: list[str] = []


@pytest.fixture(scope="module")
def before(app):
    return snapshot(app.extensions["store_engine"])


@pytest.fixture(autouse=True)
def store_unchanged(app, before):
    yield
    assert snapshot(app.extensions["store_engine"]) == before


@pytest.fixture(scope="module")
def server(app, tmp_path_factory):
    env = {"EXPORTS_DATABASE_URL": app.config["DATABASE_URL"], "EXPORTS_RATELIMIT_ENABLED": "false"}
    with gunicorn(env, tmp_path_factory.mktemp("hostile") / "gunicorn.log", workers=1) as running:
        yield running.base


def refused(response, status: int = 400, parameter: str | None = None, message: str | None = None) -> dict:
    """The response is a `status` problem naming `parameter` (with `message`, if given); its body."""
    TRIED.append(response.request.url if hasattr(response, "request") else "")
    assert response.status_code == status, response.get_data()[:500]
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    if parameter is not None:
        assert parameter in body["errors"], body
        assert body["detail"] == "Invalid parameter(s): " + ", ".join(sorted(body["errors"]))
        if message is not None:
            assert message in body["errors"][parameter]
    return body


@pytest.mark.parametrize("q", ["' OR 1=1 --", "'; DROP TABLE observations; --", '" OR ""="', "%", "%%", "_", "\\",
                               "\\%", "a%b", "1' UNION SELECT code FROM geographies --"])
def test_sql_and_like_metacharacters_in_q_match_literally(client, q):
    everything = client.get("/v1/metros").get_json()["meta"]["total"]
    assert everything > 10
    for path in ("/v1/metros", "/v1/industries"):
        response = client.get(path, query_string={"q": q})
        TRIED.append(f"{path}?q={q}")
        assert response.status_code == 200 and response.get_json()["meta"]["total"] == 0


def test_escaped_search_still_finds_what_it_should(client):
    assert client.get("/v1/metros?q=portland").get_json()["meta"]["total"] == 2
    assert client.get("/v1/industries?q=3").get_json()["meta"]["total"] > 0


@pytest.mark.parametrize("url, parameter", [
    ("/v1/metros?state=' OR 1=1 --", "state"),
    ("/v1/states/06/exports?industry=' OR 1=1 --", "industry"),
    ("/v1/states/06/exports?partner=1%27%20OR%201=1", "partner"),
    ("/v1/metros?sort=name;DROP TABLE geographies", "sort"),
    ("/v1/export-plans?metro=38900' OR '1'='1", "metro"),
])
def test_sql_in_coded_parameters_is_a_bad_parameter(client, url, parameter):
    refused(client.get(url), 400, parameter)


@pytest.mark.parametrize("url, parameter", [
    (f"/v1/metros?page={10**30}", "page"),
    ("/v1/metros?page=0", "page"),
    ("/v1/metros?page=" + "9" * 5000, "page"),
    ("/v1/metros?page_size=-1", "page_size"),
    ("/v1/metros?page_size=0", "page_size"),
    ("/v1/metros?page_size=100000", "page_size"),
    ("/v1/partners?page_size=501", "page_size"),
    ("/v1/metros?year=-5", "year"),
    ("/v1/metros?year=1899", "year"),
    ("/v1/metros?year=2101", "year"),
    ("/v1/metros/38900/exports?from=99999", "from"),
    ("/v1/metros/38900/exports?to=-2023", "to"),
    ("/v1/metros/38900/exports?from=2023&to=2005", "from"),
    ("/v1/metros/38900/exports?units=index&base_year=3000", "base_year"),
    ("/v1/metros/38900/growth?from=1066&to=2023", "from"),
    ("/v1/stats/summary?year=2023&base_year=2013&threshold=-1", "threshold"),
    (f"/v1/rankings/metros?by=value&year=2023&min_base={10**16}", "min_base"),
    ("/v1/rankings/metros?by=value&year=2023&limit=1001", "limit"),
    ("/v1/rankings/metros?by=value&year=2023&limit=-1", "limit"),
    ("/v1/stats/concentration?year=2020&top=100000", "top"),
    ("/v1/states/06/exports?naics_level=99", "naics_level"),
    ("/v1/metros?page=NaN", "page"),
    ("/v1/metros?page=1e3", "page"),
    ("/v1/metros?page=0x10", "page"),
    ("/v1/metros?page=", "page"),
    ("/v1/metros?year=Infinity", "year"),
])
def test_absurd_numbers_and_years_out_of_range_are_bad_parameters(client, url, parameter):
    refused(client.get(url), 400, parameter)


# Every integer query parameter, with a value it accepts written in ASCII digits.
INTEGERS = [
    ("/v1/metros?sort=-exports&year={}", "year", "2020"),
    ("/v1/metros?page={}", "page", "12"),
    ("/v1/metros?page_size={}", "page_size", "25"),
    ("/v1/industries?level={}", "level", "3"),
    ("/v1/metros/38900/exports?from={}", "from", "2019"),
    ("/v1/metros/38900/exports?to={}", "to", "2021"),
    ("/v1/metros/38900/exports?units=index&base_year={}", "base_year", "2019"),
    ("/v1/states/06/exports?naics_level={}", "naics_level", "3"),
    ("/v1/metros/38900/growth?from={}&to=2023", "from", "2019"),
    ("/v1/rankings/metros?by=value&year=2023&min_base={}", "min_base", "1000"),
    ("/v1/rankings/metros?by=value&year=2023&limit={}", "limit", "10"),
    ("/v1/stats/summary?year=2023&base_year={}", "base_year", "2013"),
    ("/v1/stats/summary?year=2023&base_year=2013&threshold={}", "threshold", "1000"),
    ("/v1/stats/concentration?year=2019&top={}", "top", "10"),
]
FORMS = {  # what int() reads as the same number
    "fullwidth digits": lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "Arabic-Indic digits": lambda n: n.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
    "underscore": lambda n: f"0_{n}",
    "plus sign": lambda n: f"+{n}",
    "trailing space": lambda n: f"{n} ",
    "leading space": lambda n: f" {n}",
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("url, parameter, number", INTEGERS, ids=[f"{p}:{u.split('?')[0]}" for u, p, _ in INTEGERS])
def test_integers_are_ascii_digits_only(client, url, parameter, number, form):
    assert client.get(url.format(number)).status_code == 200
    body = refused(client.get(url.format(quote(FORMS[form](number)))), 400, parameter)
    assert body["errors"][parameter] == ["Not a valid integer."]


def test_no_request_returns_unbounded_rows(client):
    largest = client.get("/v1/metros?page_size=500").get_json()
    assert largest["meta"]["page_size"] == 500 and len(largest["data"]) <= 500
    beyond = client.get("/v1/metros?page=1000000").get_json()
    assert beyond["data"] == [] and beyond["meta"]["page"] == 1000000
    ranked = client.get("/v1/rankings/metros?by=value&year=2023&limit=1000").get_json()
    assert len(ranked["data"]) <= 1000


LONG = "x" * 10_000


@pytest.mark.parametrize("url, status, parameter", [
    (f"/v1/metros?q={LONG}", 400, "q"),
    (f"/v1/metros?state={LONG}", 400, "state"),
    (f"/v1/metros?sort={LONG}", 400, "sort"),
    (f"/v1/metros?format={LONG}", 400, "format"),
    (f"/v1/metros?page={'1' * 10_000}", 400, "page"),
    (f"/v1/metros/38900/exports?dataset={LONG}", 400, "dataset"),
    (f"/v1/metros/38900/indicators?name={LONG}", 400, "name"),
    (f"/v1/states/06/exports?industry={'1,' * 5000}", 400, "industry"),
    (f"/v1/metros?{LONG}=1", 400, LONG),
    (f"/v1/metros/{'1' * 10_000}", 404, None),
    (f"/v1/datasets/{LONG}", 404, None),
    (f"/v1/export-plans/{LONG}", 404, None),
    (f"/v1/states/{LONG}", 404, None),
])
def test_ten_thousand_character_values(client, url, status, parameter):
    refused(client.get(url), status, parameter)


@pytest.mark.parametrize("url, parameter", [
    ("/v1/metros?page=1&page=2", "page"),
    ("/v1/metros?page=1&page=1", "page"),
    ("/v1/metros?q=a&q=b", "q"),
    ("/v1/metros?format=json&format=csv", "format"),
    ("/v1/states/06/exports?industry=336&partner=WLD&partner=WLD", "partner"),
    ("/v1/metros?unknown=1&unknown=2", "unknown"),
])
def test_repeated_parameters_are_refused_by_name(client, url, parameter):
    refused(client.get(url), 400, parameter, REPEATED)


@pytest.mark.parametrize("repeated, listed", [
    ("/v1/states/06/exports?industry=336&industry=3361", "/v1/states/06/exports?industry=336,3361"),
    ("/v1/states/06/exports?industry=336,3361&industry=ALL", "/v1/states/06/exports?industry=336,3361,ALL"),
    ("/v1/metros/38900/indicators?name=population&name=jobs", "/v1/metros/38900/indicators?name=population,jobs"),
])
def test_a_list_parameter_may_be_repeated(client, repeated, listed):
    """Generated clients send a list as a repeated parameter: the same request as the comma-separated list."""
    given, expected = client.get(repeated), client.get(listed)
    assert given.status_code == expected.status_code == 200
    assert given.get_json() == expected.get_json() and given.get_json()["data"]
    assert given.headers["ETag"] == expected.headers["ETag"]


def test_a_repeated_list_item_is_still_checked(client):
    refused(client.get("/v1/states/06/exports?industry=336&industry=x"), 400, "industry")


@pytest.mark.parametrize("query, parameter, message", [
    ("q=%ff", "q", NOT_UTF8),
    ("q=%e2%82", "q", NOT_UTF8),
    ("q=%c0%af", "q", NOT_UTF8),
    ("q=%zz", "q", BAD_ESCAPE),
    ("q=abc%", "q", BAD_ESCAPE),
    ("q=%00", "q", CONTROL),
    ("q=a%0d%0aSet-Cookie:x", "q", CONTROL),
    ("state=%00", "state", CONTROL),
    ("page=%ff", "page", NOT_UTF8),
    ("%ff=1", "\ufffd", NOT_UTF8),
])
def test_malformed_query_encoding_is_refused_by_name(client, query, parameter, message):
    refused(client.get(f"/v1/metros?{query}"), 400, parameter, message)


@pytest.mark.parametrize("path, message", [
    ("/v1/metros/%ff", NOT_UTF8), ("/v1/metros/%c0%af", NOT_UTF8), ("/v1/metros/%zz", BAD_ESCAPE),
    ("/v1/metros/38900%", BAD_ESCAPE), ("/v1/metros/%00", CONTROL), ("/v1/states/0%006", CONTROL),
    ("/v1/datasets/%ff%fe", NOT_UTF8), ("/v1/export-plans/%00/progress", CONTROL),
])
def test_malformed_path_encoding_is_refused(client, path, message):
    body = refused(client.get(path), 400)
    assert body["detail"] == f"The request path is malformed. {message}"


@pytest.mark.parametrize("path", ["/v1/metros", "/v1/metros/38900", "/v1/metros/38900/exports", "/v1/datasets",
                                  "/v1/rate_limit", "/healthz", "/readyz"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unexpected_methods_are_405_with_allow(client, path, method):
    response = client.open(path, method=method, data=b'{"x": 1}', content_type="application/json")
    refused(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["Cache-Control"] == "no-store"


def test_oversize_bodies_are_refused_before_reading(client):
    for method in ("GET", "POST"):
        refused(client.open("/v1/metros", method=method, data=b"x" * 20_000), 413)


@pytest.mark.parametrize("path", [
    "/v1/metros/..%2f..%2fetc%2fpasswd", "/v1/metros/..%2F..%2F..%2Fapi%2F__init__.py", "/v1/datasets/../../x",
    "/v1/datasets/..%2f..%2fwsgi.py", "/docs/assets/..%2f..%2f..%2fapi%2f__init__.py",
    "/docs/assets/../../../../etc/passwd", "/v1/metros/%2e%2e/%2e%2e/etc/passwd", "/v1/metros/....//....//etc/passwd",
])
def test_path_traversal_in_codes_finds_nothing(server, path):
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    reply = raw(server, request)
    TRIED.append(path)
    assert reply.status == 404 and reply.mimetype == PROBLEM, reply
    assert reply.json["status"] == 404
    assert b"root:" not in reply.body and b"create_app" not in reply.body and b"import" not in reply.body


def test_what_clients_refuse_to_send_is_refused_by_gunicorn_or_the_api(server):
    """Raw bytes on the wire: invalid UTF-8, NUL and bare '%' in the request line."""
    for target in (b"/v1/metros/\xff\xfe", b"/v1/metros?q=\xff", b"/v1/metros/%zz", b"/v1/metros?q=%00",
                   b"/v1/metros?page=1&page=2"):
        reply = raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        TRIED.append(repr(target))
        assert reply.status == 400, (target, reply)
        if reply.mimetype == PROBLEM:
            assert reply.json["status"] == 400
    # a NUL byte itself in the request line never reaches the app
    reply = raw(server, b"GET /v1/metros/\x00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert 400 <= reply.status < 500


def test_oversize_requests_through_gunicorn_are_4xx(server):
    cases = {
        "10,000-character parameter value": call(server, f"/v1/metros?q={LONG}"),
        "request line over 4094 bytes": call(server, "/v1/metros/" + "1" * 5000),
        "one 9,000-byte header": call(server, "/v1/metros", headers={"X-Big": "y" * 9000}),
        "60 headers": call(server, "/v1/metros", headers={f"X-H{i}": "1" for i in range(60)}),
        "body over 16 KiB": call(server, "/v1/metros", body=b"x" * 20_000),
        "POST with a small body": call(server, "/v1/metros", method="POST", body=b"{}"),
    }
    TRIED.extend(cases)
    statuses = {name: reply.status for name, reply in cases.items()}
    assert statuses == {"10,000-character parameter value": 414, "request line over 4094 bytes": 414,
                        "one 9,000-byte header": 431, "60 headers": 431, "body over 16 KiB": 413,
                        "POST with a small body": 405}
    assert cases["body over 16 KiB"].mimetype == PROBLEM and cases["body over 16 KiB"].json["status"] == 413
    declared = raw(server, b"GET /v1/metros HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                           b"Connection: close\r\n\r\nxx")
    assert declared.status == 413 and declared.mimetype == PROBLEM


def test_odd_headers_do_not_break_anything(client):
    for headers in ({"Accept": "*/*;q=abc"}, {"Accept": "text/csv;q=2, application/json;q=-1"},
                    {"If-None-Match": '"' + "x" * 5000}, {"If-None-Match": "W/"}, {"Accept-Encoding": "br;q=x"},
                    {"X-Request-ID": "\u00ff" * 200}, {"X-Forwarded-For": "' OR 1=1 --"}, {"Origin": "null"}):
        response = client.get("/v1/metros?page_size=1", headers=headers)
        TRIED.append(str(headers)[:60])
        assert response.status_code == 200, (headers, response.get_data()[:300])


def test_report_inputs_tried(request):
    report(request, f"hostile: {len(TRIED)} hostile requests, the store unchanged after each")
