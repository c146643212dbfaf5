"""Swagger UI at /docs in headless Chromium: the operations are listed, "Try it out" gets a real answer, and the
page loads nothing from off the machine."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def page(base_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        yield page
        browser.close()


def test_docs_list_operations_and_try_it_out_answers(page, base_url):
    page.goto(f"{base_url}/docs")
    operation = page.locator('.opblock:has([data-path="/v1/metros/{code}/exports"])')
    operation.wait_for()
    assert page.get_by_text("List and search metros", exact=True).is_visible()
    assert "Get a metro's annual exports" in operation.locator(".opblock-summary-description").inner_text()

    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator('tr[data-param-name="code"] input').fill("38900")
    operation.locator('tr[data-param-name="from"] input').fill("2023")
    operation.get_by_role("button", name="Execute").click()
    live = operation.locator(".live-responses-table .response")
    live.wait_for()
    assert live.locator(".response-col_status").inner_text().strip() == "200"
    body = live.locator(".response-col_description pre").first.inner_text()
    assert '"name": "Portland-Vancouver-Hillsboro, OR-WA"' in body
    assert '"value": 26973156822' in body and '"year": 2023' in body

    calls = [urlsplit(url) for url in page.requested if urlsplit(url).path == "/v1/metros/38900/exports"]
    assert [parse_qs(call.query)["from"] for call in calls] == [["2023"]]
    assert [url for url in page.requested if urlsplit(url).hostname != "127.0.0.1"] == []
