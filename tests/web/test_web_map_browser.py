"""The fleet map in a real browser: headless Debian chromium against `apigov registry serve`.

The map is queried through the Cytoscape instance fleet-map.js exposes (`window.apigovMap`),
after it says it has drawn (`document.body.dataset.mapReady`). Each test saves a screenshot.
Expected values come from the seeded fleet (tests/web/conftest.py; test_web_map_data.py works
the verdicts out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

READY = "document.body.dataset.mapReady === '1'"
SERVICES_ON_MAP = (
    "window.apigovMap.nodes(\"[kind = 'service']\").map(n => n.data('service')).sort()"
)
# The palette of fleet_map.COLOURS (and of `apigov graph`), as the browser reports colours.
RED = "rgb(198,40,40)"  # #c62828
GREEN = "rgb(46,125,50)"  # #2e7d32


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY)


def _edge_colour(page: Any, consumer: str, provider: str) -> str:
    colour: str = page.evaluate(
        """([consumer, provider]) => window.apigovMap
            .edges(`[source = "s:${consumer}"][target = "s:${provider}"]`)[0]
            .style('line-color')""",
        [consumer, provider],
    )
    return colour


def _screen_point(page: Any, service: str) -> dict[str, float]:
    """Where a service's node is on the screen (its rendered position inside the canvas)."""
    point: dict[str, float] = page.evaluate(
        """(name) => {
            const at = window.apigovMap.getElementById('s:' + name).renderedPosition();
            const box = document.getElementById('fleet-map').getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y,
                    centreX: box.left + box.width / 2, centreY: box.top + box.height / 2};
        }""",
        service,
    )
    return point


def test_the_map_shows_every_service_with_the_broken_edges_in_red(
    page: Any, web_server: Any, screenshot_dir: Path
) -> None:
    _open(page, f"{web_server.url}/ui/map?env=staging")
    assert page.evaluate(SERVICES_ON_MAP) == sorted(web_server.fleet.services)
    assert page.evaluate("window.apigovMap.edges().length") == 5
    for consumer in web_server.fleet.broken_consumers:
        assert _edge_colour(page, consumer, "orders") == RED
    assert _edge_colour(page, "orders", "inventory") == GREEN
    # Services sit inside their team's box.
    team_box = page.evaluate(
        "window.apigovMap.getElementById('t:checkout').boundingBox({includeLabels: false})"
    )
    orders = page.evaluate("window.apigovMap.getElementById('s:orders').position()")
    assert team_box["x1"] < orders["x"] < team_box["x2"]
    assert team_box["y1"] < orders["y"] < team_box["y2"]
    # With the map drawn, the table is folded away (one click to open).
    assert page.evaluate("document.getElementById('map-edges').open") is False
    page.screenshot(path=str(screenshot_dir / "fleet-map-staging.png"), full_page=True)


def test_clicking_a_service_opens_its_page(
    page: Any, web_server: Any, screenshot_dir: Path
) -> None:
    _open(page, f"{web_server.url}/ui/map")
    point = _screen_point(page, "payments")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(f"{web_server.url}/ui/services/payments")
    assert page.locator("h1").inner_text() == "payments"
    page.screenshot(path=str(screenshot_dir / "fleet-map-click-payments.png"))


def test_search_highlights_and_centres_a_service(
    page: Any, web_server: Any, screenshot_dir: Path
) -> None:
    _open(page, f"{web_server.url}/ui/map")
    before = _screen_point(page, "shipping")
    page.fill("#map-search-input", "shipp")  # part of a name is enough
    page.click("#map-search button[type=submit]")
    page.wait_for_function(
        "document.getElementById('fleet-map-frame').dataset.found === 'shipping'"
    )
    after = _screen_point(page, "shipping")
    assert abs(before["x"] - before["centreX"]) + abs(before["y"] - before["centreY"]) > 20
    assert after["x"] == pytest.approx(after["centreX"], abs=1)
    assert after["y"] == pytest.approx(after["centreY"], abs=1)
    assert page.evaluate("window.apigovMap.getElementById('s:shipping').hasClass('found')")
    assert page.input_value("#map-search-input") == "shipping"
    page.screenshot(path=str(screenshot_dir / "fleet-map-search-shipping.png"))
    page.fill("#map-search-input", "no-such-service")
    page.click("#map-search button[type=submit]")
    assert "No service matching" in page.inner_text("#map-info")


def test_focus_shows_only_a_services_neighbourhood(
    page: Any, web_server: Any, screenshot_dir: Path
) -> None:
    _open(page, f"{web_server.url}/ui/map?focus=payments")
    assert page.evaluate(SERVICES_ON_MAP) == ["orders", "payments"]
    # Consumers left of the focused service, providers right of it.
    orders = page.evaluate("window.apigovMap.getElementById('s:orders').position('x')")
    payments = page.evaluate("window.apigovMap.getElementById('s:payments').position('x')")
    assert orders < payments
    # The control: find a service, then Focus (a GET of the filter form, so it is a link).
    page.fill("#map-search-input", "shipping")
    page.click("#map-focus-button")
    page.wait_for_url("**/ui/map?*focus=shipping*")
    page.wait_for_function(READY)
    assert page.evaluate(SERVICES_ON_MAP) == ["notifications", "orders", "shipping"]
    page.screenshot(path=str(screenshot_dir / "fleet-map-focus-shipping.png"))


def test_without_javascript_the_page_is_the_table_of_edges(
    browser: Any, web_server: Any, screenshot_dir: Path
) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        page.goto(f"{web_server.url}/ui/map?env=staging")
        assert page.is_hidden("#fleet-map-frame")
        assert page.is_visible("#map-edges-table")
        rows = page.locator("#map-edges-table tbody tr")
        assert rows.count() == 5
        assert rows.nth(0).locator(".verdict").inner_text() == "broken"
        page.screenshot(path=str(screenshot_dir / "fleet-map-no-javascript.png"), full_page=True)
    finally:
        context.close()


def test_the_teams_view_sums_pacts_between_teams_and_a_team_opens_its_map(
    page: Any, web_server: Any, screenshot_dir: Path
) -> None:
    _open(page, f"{web_server.url}/ui/map?view=teams")
    teams = page.evaluate("window.apigovMap.nodes().map(n => n.data('team')).sort()")
    assert teams == ["catalogue", "checkout", "customer-messaging", "logistics", "payments"]
    # One edge per pair of teams with pacts between them, the worst verdict among them.
    links = page.evaluate(
        """window.apigovMap.edges().map(e => [e.source().data('team'), e.target().data('team'),
            e.data('verdict'), e.style('line-color')]).sort()"""
    )
    assert links == [
        ["checkout", "catalogue", "compatible", GREEN],
        ["checkout", "payments", "compatible", GREEN],
        ["customer-messaging", "checkout", "broken", RED],
        ["customer-messaging", "logistics", "unverified", "rgb(158,158,158)"],  # #9e9e9e
        ["logistics", "checkout", "broken", RED],
    ]
    page.screenshot(path=str(screenshot_dir / "fleet-map-teams.png"))
    point = page.evaluate(
        """() => {
            const at = window.apigovMap.getElementById('t:checkout').renderedPosition();
            const box = document.getElementById('fleet-map').getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/ui/map?*team=checkout*")
    page.wait_for_function(READY)
    assert "view=teams" not in page.url
    # checkout's map: its service, every service it touches, the four edges touching it.
    assert page.evaluate(SERVICES_ON_MAP) == sorted(web_server.fleet.services)
    assert page.evaluate("window.apigovMap.edges().length") == 4
