"""The index at / (JSON and HTML), the explorer's files and the Content-Security-Policy they are served under."""

import hashlib
import re
from html.parser import HTMLParser

import pytest
from helpers import PROBLEM

from api import create_app
from api.explore import STATIC
from api.security import API_CSP, EXPLORE_CSP, INDEX_CSP

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
VENDOR = STATIC / "vendor"


def spec_operations(app) -> dict[str, tuple[str, dict]]:
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return {ops["get"]["operationId"]: (path, ops["get"]) for path, ops in spec["paths"].items() if "get" in ops}


@pytest.mark.parametrize("accept, query", [("application/json", ""), ("*/*", ""), (None, ""), (BROWSER, "?format=json")])
def test_the_index_gives_programs_every_get_operation_as_a_uri_template(app, client, accept, query):
    response = client.get(f"/{query}", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert {k: body[k] for k in ("explorer_url", "documentation_url", "openapi_url", "health_url")} == {
        "explorer_url": "/explore", "documentation_url": "/docs", "openapi_url": "/v1/openapi.json",
        "health_url": "/healthz"}
    assert body["get_metro_exports_url"].startswith("/v1/metros/{code}/exports{?")
    assert {"units", "base_year", "from", "to"} <= set(body["get_metro_exports_url"][27:-1].split(","))
    assert body["get_plan_progress_url"] == "/v1/export-plans/{slug}/progress{?format}"
    operations = spec_operations(app)
    assert {k.removesuffix("_url") for k in body if k.startswith(("get_", "list_"))} == set(operations)
    for operation_id, (path, get) in operations.items():
        template = body[f"{operation_id}_url"]
        assert template.startswith(path)
        names = re.fullmatch(re.escape(path) + r"(\{\?([a-z_,]+)\})?", template).group(2)
        assert (names.split(",") if names else []) == [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept" in response.headers["Vary"]
    assert client.get(f"/{query}", headers={"Accept": accept or "*/*",
                                              "If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_index_gives_a_browser_links_and_runs_no_script(client):
    response = client.get("/", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    links = Links.of(response.get_data(as_text=True))
    assert {"/explore", "/docs", "/v1/openapi.json", "/v1/datasets", "/?format=json"} <= set(links.hrefs)
    assert links.scripts == []
    assert response.headers["Content-Security-Policy"] == INDEX_CSP
    assert "script-src" not in INDEX_CSP and "'none'" in INDEX_CSP.split(";")[0]


def test_the_explorer_is_served_under_a_strict_policy(client):
    response = client.get("/explore")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == EXPLORE_CSP
    directives = dict(d.strip().split(" ", 1) for d in EXPLORE_CSP.split(";"))
    assert directives == {
        "default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
        "connect-src": "'self'", "base-uri": "'none'", "form-action": "'none'", "frame-ancestors": "'none'",
        "require-trusted-types-for": "'script'", "trusted-types": "'none'"}
    # the API's own responses keep theirs, and so do the docs
    assert client.get("/v1/datasets").headers["Content-Security-Policy"] == API_CSP
    assert client.get("/explore/static/explorer.js").headers["Content-Security-Policy"] == EXPLORE_CSP


def test_every_file_the_explorer_names_is_served_from_this_origin(client):
    page = Links.of(client.get("/explore").get_data(as_text=True))
    assert page.scripts == ["/explore/static/vendor/uplot/uPlot.iife.min.js",
                            "/explore/static/vendor/d3-array/d3-array.min.js",
                            "/explore/static/vendor/d3-geo/d3-geo.min.js",
                            "/explore/static/vendor/d3-composite-projections/d3-composite-projections.min.js",
                            "/explore/static/vendor/topojson-client/topojson-client.min.js",
                            "/explore/static/explorer.js"]
    assert all(h.startswith(("/", "#")) for h in page.hrefs), page.hrefs  # nothing off the machine
    assert page.inline_scripts == 0 and page.style_attributes == 0
    kinds = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for url in [*page.scripts, *page.stylesheets, "/explore/static/favicon.svg"]:
        response = client.get(url)
        assert (response.status_code, response.mimetype) == (200, kinds[url[url.rindex("."):]]), url
    code = (STATIC / "explorer.js").read_text()
    assert re.findall(r"https?://", code) == ["http://"] and "http://www.w3.org/2000/svg" in code  # a namespace
    assert "innerHTML" not in code and "setAttribute(\"style\"" not in code


def test_static_files_revalidate_by_their_content_also_compressed(client):
    url = "/explore/static/vendor/us-atlas/states-10m.json"
    digest = hashlib.sha256((VENDOR / "us-atlas" / "states-10m.json").read_bytes()).hexdigest()[:32]
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.headers["ETag"] == f'"{digest}"' and plain.headers["Cache-Control"] == "public, max-age=300"
    assert len(plain.data) == 114554 and plain.mimetype == "application/json"
    for encoding in ("gzip", "br"):
        packed = client.get(url, headers={"Accept-Encoding": encoding})
        assert packed.headers["Content-Encoding"] == encoding and len(packed.data) < 40_000
        assert packed.headers["ETag"] == f'"{digest}:{encoding}"'
        again = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": packed.headers["ETag"]})
        assert (again.status_code, again.data) == (304, b"")
    assert client.get(url, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("url", ["/explore/static/nothing.js", "/explore/static/../__init__.py",
                                 "/explore/static/%2e%2e/explore.py", "/explore/"])
def test_missing_files_are_problems(client, url):
    response = client.get(url)
    assert (response.status_code, response.mimetype) == (404, PROBLEM)


def test_the_vendored_libraries_are_the_pinned_packages_with_their_licences():
    sums = dict(reversed(line.split("  ")) for line in (VENDOR / "SHA256SUMS").read_text().splitlines())
    listed = {}
    for line in (VENDOR / "packages.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            spec, *files = line.split()
            listed[spec] = files
    assert list(listed) == ["uplot@1.6.32", "d3-array@3.2.5", "d3-geo@3.1.2", "d3-composite-projections@2.0.0",
                            "topojson-client@3.1.0", "us-atlas@3.0.1"]
    expected = {f"{spec.rsplit('@', 1)[0]}/{file.rsplit('/', 1)[-1]}" for spec, files in listed.items() for file in files}
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.glob("*/*")}
    assert on_disk == expected == set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for spec, files in listed.items():
        assert any(f in ("LICENSE", "LICENCE") for f in files), spec


def test_pages_and_files_do_not_spend_the_rate_limit(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}", "RATELIMIT_LIMIT": "2 per minute",
                      "TESTING": True})
    client = app.test_client()
    for url in ["/", "/explore", "/explore/static/explorer.js", "/explore/static/explorer.css",
                "/explore/static/vendor/uplot/uPlot.iife.min.js", "/explore/static/vendor/us-atlas/states-10m.json"]:
        response = client.get(url)
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers, url
    assert client.get("/v1/rate_limit").get_json()["remaining"] == 2


class Links(HTMLParser):
    """The scripts, stylesheets and links of a page, and any inline script or style attribute."""

    def __init__(self):
        super().__init__()
        self.scripts, self.stylesheets, self.hrefs = [], [], []
        self.inline_scripts = self.style_attributes = 0

    @classmethod
    def of(cls, html: str) -> "Links":
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.style_attributes += "style" in attrs or any(k.startswith("on") for k in attrs)
        if tag == "script":
            if "src" in attrs:
                self.scripts.append(attrs["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs["href"])
        elif tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
