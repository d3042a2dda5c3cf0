"""The pages in a real headless chromium against a real server (conftest.py: `web_server`,
`browser`, `page`, `screenshot_dir`). Few and quick: page content is tested with TestClient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BROKEN_BACKGROUND = "rgb(251, 228, 226)"  # --bad-bg, #fbe4e2, in static/apigov.css


def save(page: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return path


def test_a_browser_opening_the_registry_lands_on_the_pages(
    web_server: Any, page: Any, screenshot_dir: Path
) -> None:
    page.goto(f"{web_server.url}/")
    assert page.url == f"{web_server.url}/ui/"
    page.click("text=Services")
    assert page.locator("#services tbody tr").count() == len(web_server.fleet.services)
    save(page, screenshot_dir, "services")


def test_the_service_page_shows_versions_and_deployments_and_links_to_consumers(
    web_server: Any, page: Any, screenshot_dir: Path
) -> None:
    page.goto(f"{web_server.url}/ui/services/orders")
    versions = page.locator("#versions tbody tr")
    assert versions.count() == 2
    assert versions.nth(0).locator("td").nth(0).inner_text() == "2.0.0"
    assert versions.nth(0).locator("td").nth(4).inner_text() == "staging"
    assert versions.nth(1).locator("td").nth(4).inner_text() == "production"
    save(page, screenshot_dir, "service-orders")
    page.locator("#consumers a.partner", has_text="notifications").click()
    page.wait_for_url(f"{web_server.url}/ui/services/notifications")
    assert page.locator("h1").inner_text() == "notifications"
    save(page, screenshot_dir, "service-notifications")


def test_the_matrix_shows_the_broken_pair_in_red_with_its_reason(
    web_server: Any, page: Any, screenshot_dir: Path
) -> None:
    # Narrowed to orders: every pair of it was checked when the fleet was seeded, so this view
    # stores nothing (the server's registry is shared with other tests).
    environment = web_server.fleet.broken_environment
    page.goto(f"{web_server.url}/ui/matrix?env={environment}&service=orders")
    for consumer in web_server.fleet.broken_consumers:
        cell = page.locator(
            f'#grid td[data-consumer="{consumer}@1.0.0"]'
            f'[data-provider="{web_server.fleet.broken_provider}"]'
        )
        assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == BROKEN_BACKGROUND
        reason = cell.locator(".reason").first
        assert reason.is_visible()
        assert "the consumer relies on response field /" in reason.inner_text()
        assert "number, which the schema does not define" in reason.inner_text()
    save(page, screenshot_dir, "matrix-staging")


def test_the_diff_view_lists_the_breaking_change_and_its_consumers(
    web_server: Any, page: Any, screenshot_dir: Path
) -> None:
    # Through the form, as a person would: pick the service, then the two versions.
    page.goto(f"{web_server.url}/ui/diff")
    page.fill("input[name=service]", "orders")
    page.click("button[type=submit]")
    page.select_option("select[name=from]", "1.0.0")
    page.select_option("select[name=to]", "2.0.0")
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/diff?service=orders&from=1.0.0&to=2.0.0")
    first = page.locator("#breaking tbody tr").first
    assert first.locator("td").nth(1).inner_text() == "GET /orders/{orderId}"
    assert "property 'number': required property removed" in first.inner_text()
    consumers = first.locator("a.consumer").all_inner_texts()
    assert consumers == ["notifications", "shipping"]
    save(page, screenshot_dir, "diff-orders")
