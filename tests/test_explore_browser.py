"""The explorer (/explore) in headless Chromium over the fixture store: each view draws what the API answers (points,
gaps, the ranking's rows, one circle per metro, the goal year), one request per view change, nothing off the
machine, no console error, under its Content-Security-Policy. Screenshots of each view at 1280 and 375 px go to
tests/output/ (git-ignored)."""

import csv
import io
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from api.security import EXPLORE_CSP

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).parent / "output"
WIDTHS = {"wide": 1280, "narrow": 375}
BLUE = [11, 111, 176]  # the first series' colour (explorer.js PALETTE[0])

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)


class Counting:
    """The app as the browser reaches it, counting the requests that get to the server (not the browser's cache)."""

    def __init__(self, app):
        self.app, self.hits = app, Counter()

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING")
        self.hits[environ["PATH_INFO"] + (f"?{query}" if query else "")] += 1
        return self.app(environ, start_response)

    def api_hits(self) -> list[str]:
        return sorted(path for path, n in self.hits.items() for _ in range(n) if path.startswith("/v1/"))


@pytest.fixture(scope="module")
def server(app):
    counting = Counting(app.wsgi_app)
    wsgi = make_server("127.0.0.1", 0, lambda env, start: counting(env, start), threaded=True)
    thread = threading.Thread(target=wsgi.serve_forever, daemon=True)
    thread.start()
    counting.url = f"http://127.0.0.1:{wsgi.server_port}"
    yield counting
    wsgi.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(WIDTHS))
def page(request, browser, server):
    """A fresh page (and browser cache) at each width; after the test, nothing left the machine and the console
    stayed clean."""
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width = request.param
    page.requested, page.problems = [], []
    page.on("request", lambda r: page.requested.append(r.url))
    page.on("console", lambda m: m.type in ("error", "warning") and page.problems.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    server.hits.clear()
    yield page
    context.close()
    assert [u for u in page.requested if urlsplit(u).hostname != "127.0.0.1"] == []
    assert page.problems == []


def open_view(page, server, fragment: str):
    """Load /explore#fragment and wait for the view to be drawn; the page's own CSP is the API's."""
    response = page.goto(f"{server.url}/explore#{fragment}")
    assert response.headers["content-security-policy"] == EXPLORE_CSP
    drawn(page, fragment)


def drawn(page, fragment: str) -> None:
    """Wait until the view of #fragment is drawn (explorer.js marks the section with the hash it drew)."""
    view = fragment.split("/")[0].split("?")[0]
    page.locator(f'#view-{view}[data-state=ready][data-drawn="#{fragment}"]').wait_for()


def shoot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=OUTPUT / f"explore-{name}-{WIDTHS[page.width]}.png", full_page=True)


def chart(page, selector: str) -> dict:
    """What uPlot drew: its data, and for each point the canvas pixel at the point's centre (RGB), or None."""
    return page.evaluate("""selector => {
        const u = document.querySelector(selector).chart;
        const canvas = u.ctx.canvas, image = u.ctx.getImageData(0, 0, canvas.width, canvas.height).data;  // read once
        const pixel = (x, y) => {
            const at = 4 * (Math.round(y) * canvas.width + Math.round(x));
            return Array.from(image.slice(at, at + 3));
        };
        return {
            data: u.data,
            labels: u.series.slice(1).map(s => s.label),
            points: u.data.slice(1).map(values => values.map((v, i) => v === null ? null
                : pixel(u.valToPos(u.data[0][i], "x", true), u.valToPos(v, "y", true)))),
            // where a line would cross each year if it were drawn through the gap
            between: u.data.slice(1).map(values => values.map((v, i) => v !== null || !i || i === values.length - 1
                ? null : pixel(u.valToPos(u.data[0][i], "x", true), u.valToPos(
                    (values.slice(0, i).filter(x => x !== null).pop() + values.slice(i).find(x => x !== null)) / 2,
                    "y", true)))),
            x: u.data[0].map(year => u.valToPos(year, "x")),
            box: u.over.getBoundingClientRect().toJSON(),
        };
    }""", selector)


def rows(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"{selector} tbody tr", "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))")


def api_requests(page) -> list[tuple[str, dict]]:
    return [(urlsplit(u).path, parse_qs(urlsplit(u).query)) for u in page.requested if "/v1/" in u]


def test_a_metro_found_by_typing_is_drawn_with_its_gaps(page, server, client):
    open_view(page, server, "metro")
    search = page.get_by_label("Find a metro")
    search.press_sequentially("yuma", delay=40)
    page.locator("#metro-options [role=option]", has_text="Yuma, AZ").wait_for()
    search.press("Enter")  # the first option is active: chosen from the keyboard
    drawn(page, "metro/49740")
    series = client.get("/v1/metros/49740/exports?units=level").get_json()
    years = [p["year"] for p in series["data"]]
    values = [p["value"] for p in series["data"]]
    assert len(years) == 19 and [y for y, v in zip(years, values) if v is None] == [2014, 2015, 2016]

    shown = chart(page, "#view-metro .chart")
    assert shown["data"] == [years, values] and shown["labels"] == ["Yuma, AZ"]
    points = shown["points"][0]
    assert sum(p == BLUE for p in points) == 16 == sum(v is not None for v in values)  # a point per figure
    assert [y for y, p in zip(years, points) if p is None] == [2014, 2015, 2016]
    assert all(p is None or p != BLUE for p in shown["between"][0])  # no line across the gap
    section = page.locator("#view-metro")
    assert section.locator(".gaps").inner_text() == "Gaps (no figure): 2014–2016 suppressed by the source."
    page.mouse.move(shown["box"]["x"] + shown["x"][years.index(2015)], shown["box"]["y"] + 20)
    assert section.locator(".u-legend .u-series").nth(1).locator(".u-value").inner_text() == "suppressed by the source"
    page.mouse.move(shown["box"]["x"] + shown["x"][years.index(2023)], shown["box"]["y"] + 20)
    assert section.locator(".u-legend .u-series").nth(1).locator(".u-value").inner_text() == "$734,844,797"

    table = rows(page, "#view-metro .figures")
    assert len(table) == 19 and table[0] == ["2005", "$215,573,055", "ok"]
    assert table[10] == ["2015", "–", "suppressed by the source"]
    assert "ITA Metropolitan Export Series" in section.locator(".sources").inner_text()
    link = section.get_by_role("link", name="Download these figures (CSV)")
    assert link.get_attribute("href") == "/v1/metros/49740/exports?units=level&format=csv"
    download = list(csv.DictReader(io.StringIO(client.get(link.get_attribute("href")).get_data(as_text=True))))
    assert [(int(r["year"]), int(r["value"]) if r["value"] else None) for r in download] == list(zip(years, values))
    shoot(page, "metro")

    # units from the keyboard: each change is one request, drawn as the API expressed it
    section.get_by_label("Index").focus()
    page.keyboard.press("Space")
    drawn(page, "metro/49740?units=index&base_year=2005")
    index = client.get("/v1/metros/49740/exports?units=index&base_year=2005").get_json()
    assert chart(page, "#view-metro .chart")["data"][1] == [p["value"] for p in index["data"]]
    assert section.locator("figcaption").inner_text().endswith("Index, 2005 = 100.")
    section.get_by_label("base year").select_option("2010")
    drawn(page, "metro/49740?units=index&base_year=2010")
    assert chart(page, "#view-metro .chart")["data"][1][years.index(2010)] == 100
    section.get_by_label("% change").check()
    drawn(page, "metro/49740?units=percent_change")
    change = client.get("/v1/metros/49740/exports?units=percent_change").get_json()
    assert chart(page, "#view-metro .chart")["data"][1] == [p["value"] for p in change["data"]]
    assert section.get_by_role("link", name="Download these figures (CSV)").get_attribute("href") == \
        "/v1/metros/49740/exports?units=percent_change&format=csv"

    assert [(path, q) for path, q in api_requests(page) if path != "/v1/metros"] == [
        ("/v1/metros/49740/exports", {"units": ["level"]}),
        ("/v1/metros/49740/exports", {"units": ["index"], "base_year": ["2005"]}),
        ("/v1/metros/49740/exports", {"units": ["index"], "base_year": ["2010"]}),
        ("/v1/metros/49740/exports", {"units": ["percent_change"]})]
    searches = [q for path, q in api_requests(page) if path == "/v1/metros"]
    assert searches == [{"q": ["yuma"], "page_size": ["8"]}]  # typed a letter at a time: one search
    # back to dollars: the browser's cache answers (max-age), the server sees nothing
    for _ in range(3):
        page.go_back()
    drawn(page, "metro/49740")
    assert chart(page, "#view-metro .chart")["data"][1] == values
    assert server.api_hits().count("/v1/metros/49740/exports?units=level") == 1
    assert len(api_requests(page)) == 5 + 3  # the browser asked its cache, which answered without the server


def test_up_to_five_metros_on_one_chart_in_one_request(page, server, client):
    open_view(page, server, "compare?code=38900,31080,49740")
    body = client.get("/v1/metros/exports?code=38900,31080,49740&units=level").get_json()
    shown = chart(page, "#view-compare .chart")
    assert shown["labels"] == [s["geography"]["name"] for s in body["series"]]
    assert shown["data"][0] == [p["year"] for p in body["series"][0]["data"]]
    assert shown["data"][1:] == [[p["value"] for p in s["data"]] for s in body["series"]]
    assert [sum(p is not None for p in points) for points in shown["points"]] == [19, 19, 16]
    table = rows(page, "#view-compare .figures")
    assert table[10] == ["2015", "$18,847,798,760", "$61,758,749,222", "– (suppressed by the source)"]
    shoot(page, "compare")

    search = page.get_by_label("Add a metro (up to 5)")
    search.press_sequentially("abilene", delay=30)
    page.locator("#compare-options [role=option]", has_text="Abilene, TX").click()
    drawn(page, "compare?code=38900,31080,49740,10180")
    assert len(chart(page, "#view-compare .chart")["labels"]) == 4
    page.get_by_role("button", name="Remove Los Angeles-Long Beach-Anaheim, CA").click()
    drawn(page, "compare?code=38900,49740,10180")
    assert chart(page, "#view-compare .chart")["labels"] == [
        "Portland-Vancouver-Hillsboro, OR-WA", "Yuma, AZ", "Abilene, TX"]
    assert [q["code"] for path, q in api_requests(page) if path == "/v1/metros/exports"] == [
        ["38900,31080,49740"], ["38900,31080,49740,10180"], ["38900,49740,10180"]]


def test_the_ranking_is_the_apis_sortable_with_bars(page, server, client):
    open_view(page, server, "ranking")
    latest = max(p["year"] for p in client.get("/v1/nation/exports").get_json()["data"] if p["value"] is not None)
    body = client.get(f"/v1/rankings/metros?by=value&year={latest}&page_size=1000").get_json()
    table = rows(page, "#view-ranking table.ranking")
    first = body["data"][0]
    assert table[0] == ["1", first["name"], f"${first['value']:,}"] == ["1", "Los Angeles-Long Beach-Anaheim, CA",
                                                                       "$59,561,594,613"]
    assert [r[1] for r in table] == [r["name"] for r in body["data"]]
    summary = page.locator("#view-ranking .summary").inner_text()
    assert body["excluded_reasons"] == {"not_available": 1}
    assert summary == f"{body['ranked']} metros ranked by exports, {latest}; 1 excluded, no figure to rank (1 not " \
                      "available)."
    assert page.locator("#view-ranking .excluded summary").inner_text() == f"{body['excluded_count']} excluded"
    widths = page.eval_on_selector_all("#view-ranking .bar", "bars => bars.map(b => parseFloat(b.style.width))")
    assert widths[0] == 100 and widths == sorted(widths, reverse=True)
    assert widths[1] == pytest.approx(100 * body["data"][1]["value"] / first["value"], abs=0.01)
    shoot(page, "ranking")

    page.get_by_role("button", name="Metro").click()  # sorted by name, in the page: no request
    assert [r[1] for r in rows(page, "#view-ranking table.ranking")] == sorted(r["name"] for r in body["data"])
    assert page.locator("#view-ranking th[aria-sort=ascending]").inner_text().startswith("Metro")
    page.get_by_label("Rank by").select_option("cagr")
    drawn(page, "ranking?by=cagr")
    cagr = client.get(f"/v1/rankings/metros?by=cagr&from=2005&to={latest}&page_size=1000").get_json()
    assert rows(page, "#view-ranking table.ranking")[0][:3] == [
        "1", cagr["data"][0]["name"], f"+{cagr['data'][0]['value']:.2f} %"]
    assert [p for p, q in api_requests(page)] == ["/v1/nation/exports", "/v1/rankings/metros", "/v1/rankings/metros"]


def test_the_map_has_one_circle_per_metro_with_a_figure(page, server, client):
    open_view(page, server, "map?year=2023")
    metros = client.get("/v1/metros?year=2023&sort=-exports&page_size=500").get_json()["data"]
    figures = [m for m in metros if m["type"] != "unallocated" and m["exports"]["value"] is not None]
    placed = [m for m in figures if m["internal_point"]]
    assert len(placed) == 9 and [m["code"] for m in figures if not m["internal_point"]] == ["47930"]
    circles = page.eval_on_selector_all("#view-map svg.us-map circle",
                                        "cs => cs.map(c => [c.dataset.code, parseFloat(c.getAttribute('r'))])")
    assert [code for code, _ in circles] == [m["code"] for m in placed]  # largest first, the small ones on top
    radii, largest = dict(circles), placed[0]["exports"]["value"]
    for metro in placed:  # area proportional to exports (radii written to 2 decimals)
        assert abs(radii[metro["code"]] - radii["31080"] * (metro["exports"]["value"] / largest) ** 0.5) <= 0.005
    inside = page.evaluate("""() => {
        const box = document.querySelector("#view-map svg.us-map").viewBox.baseVal;
        return [...document.querySelectorAll("#view-map svg.us-map circle")].every(c =>
            c.cx.baseVal.value > 0 && c.cx.baseVal.value < box.width && c.cy.baseVal.value > 0 &&
            c.cy.baseVal.value < box.height);
    }""")
    assert inside
    assert page.locator("#view-map svg.us-map .states path").count() == 56
    undrawn = page.locator("#view-map .undrawn").inner_text()
    assert "no internal point in the delineation files: Waterbury-Shelton, CT $1.79B." in undrawn
    assert len(rows(page, "#view-map .figures")) == len(figures)
    shoot(page, "map")
    assert api_requests(page) == [("/v1/nation/exports", {}),
                                  ("/v1/metros", {"year": ["2023"], "sort": ["-exports"], "page_size": ["500"]})]


def test_a_plans_progress_marks_its_goal_year(page, server, client):
    open_view(page, server, "plan/los-angeles-2012")
    body = client.get("/v1/export-plans/los-angeles-2012/progress").get_json()
    assert (body["target"]["year"], body["start_year"]) == (2015, 2010)
    shown = chart(page, "#view-plan .chart")
    years = [y["year"] for y in body["years"]]
    assert shown["data"][0] == years and shown["data"][1] == [y["value"] for y in body["years"]]
    assert shown["data"][2] == [y["on_track_value"] if y["year"] <= 2015 else None for y in body["years"]]
    assert shown["data"][2][years.index(2015)] == body["series_goal_value"] == 124335226836
    label = page.locator("#view-plan .goal-label")
    assert label.inner_text() == "goal 2015"
    left = label.bounding_box()["x"] - shown["box"]["x"]
    assert left - 4 == pytest.approx(shown["x"][years.index(2015)], abs=1)  # just right of the goal year's line
    assert page.locator("#view-plan figcaption").inner_text() == "Los Angeles Regional Export Plan Goal year: 2015."
    facts = page.locator("#view-plan dl.facts").inner_text()
    assert "$124,335,226,836 (2× the 2010 figure)" in facts and "14.87 % a year" in facts
    assert len(rows(page, "#view-plan .figures")) == len(years)
    shoot(page, "plan")
    page.locator("#view-plan select[name=plan]").select_option("portland-2012")
    drawn(page, "plan/portland-2012")
    assert page.locator("#view-plan figcaption").inner_text().endswith("The plan states no goal year.")
    assert page.locator("#view-plan .goal-label").count() == 0
    assert [p for p, q in api_requests(page)] == ["/v1/export-plans", "/v1/export-plans/los-angeles-2012/progress",
                                                  "/v1/export-plans/portland-2012/progress"]


def test_every_view_is_reachable_from_the_keyboard(page, server):
    open_view(page, server, "metro")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the view"
    names = []
    for _ in range(7):
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.textContent || document.activeElement.id"))
    assert names == ["Metro Exports API", "Metro", "Compare", "Ranking", "Map", "Export plans", "metro-search"]
    page.keyboard.press("Shift+Tab")  # back to Export plans
    page.keyboard.press("Enter")
    drawn(page, "plan")
    assert page.locator("#view-plan").is_visible() and page.locator("#view-metro").is_hidden()
    assert page.locator("nav a[aria-current=page]").inner_text() == "Export plans"
    page.keyboard.press("Tab")  # from the link to the view's first control
    assert page.evaluate("document.activeElement.name") == "plan"
    page.keyboard.press("ArrowDown")  # a select changes with the arrow keys: the view follows
    drawn(page, "plan/los-angeles-2012")


def test_the_apis_problems_and_empty_series_are_shown_as_the_api_words_them(page, server, client):
    open_view(page, server, "metro/49740")
    page.goto(f"{server.url}/explore#metro/99999")
    page.locator("#view-metro[data-state=error]").wait_for()
    problem = client.get("/v1/metros/99999/exports").get_json()
    assert page.get_by_role("alert").inner_text() == problem["detail"]
    assert page.locator("#view-metro figure").is_hidden()  # not the last metro's chart under another's error
    page.problems.remove("error: Failed to load resource: the server responded with a status of 404 (NOT FOUND)")

    page.goto(f"{server.url}/explore#metro/19380")  # a retired code: ITA files its figures under the successor
    drawn(page, "metro/19380")
    body = client.get("/v1/metros/19380/exports").get_json()
    assert body["data"] == [] and page.get_by_role("alert").is_hidden()
    assert page.locator("#view-metro .empty").inner_text().startswith(
        body.get("hint", "This dataset has no figures for this metro."))
    assert page.locator("#view-metro .chart").is_hidden()
