"""The pages' content over the seeded example fleet (TestClient; see conftest.py for the fleet).

Expected values come from contracts/ (service.yaml facts, who holds pacts with whom) and from
what the seeding did (versions, deployments), not from the pages' own output.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from web_support import cell_classes, column, table

from apigov.registry.web import matrix, pages
from helpers import CONTRACTS, run_apigov

SERVICES = ["inventory", "notifications", "orders", "payments", "shipping"]


def get(client: Any, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, answer.text[-2000:]
    assert answer.headers["content-type"].startswith("text/html")
    text: str = answer.text
    return text


# ---- the service list ------------------------------------------------------------------------


def test_the_service_list_shows_every_service_with_its_team_and_latest_version(
    web_client: Any,
) -> None:
    rows = table(get(web_client, "/ui/services"), "services")
    assert column(rows, "Service") == SERVICES
    assert column(rows, "Team") == [
        "catalogue",
        "customer-messaging",
        "checkout",
        "payments",
        "logistics",
    ]
    # orders 2.0.0 and payments 1.1.0 were published after 1.0.0.
    assert column(rows, "Latest version") == ["1.0.0", "1.0.0", "2.0.0", "1.1.0", "1.0.0"]
    assert column(rows, "Versions") == ["1", "1", "2", "2", "1"]


def test_the_service_list_searches_names_case_insensitively_and_filters_by_team(
    web_client: Any,
) -> None:
    # "or" is inside "inventory" as well as "orders".
    assert column(table(get(web_client, "/ui/services?q=OR"), "services"), "Service") == [
        "inventory",
        "orders",
    ]
    assert column(table(get(web_client, "/ui/services?team=logistics"), "services"), "Service") == [
        "shipping"
    ]
    # A LIKE wildcard typed by the user is a character, not a pattern.
    assert "No service matches." in get(web_client, "/ui/services?q=%25")
    page = get(web_client, "/ui/services")
    teams = re.findall(r'<option value="([^"]*)"', page)
    assert teams == ["", "catalogue", "checkout", "customer-messaging", "logistics", "payments"]


def test_the_service_list_is_paged_by_name(
    web_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "SERVICES_PER_PAGE", 2)
    seen: list[str] = []
    path: str | None = "/ui/services"
    while path is not None:
        html = get(web_client, path)
        seen += column(table(html, "services"), "Service")
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        path = found[1].replace("&amp;", "&") if found else None
        assert len(seen) <= len(SERVICES), "paging does not end"
    assert seen == SERVICES


# ---- one service -----------------------------------------------------------------------------


def test_the_service_page_shows_facts_versions_and_where_each_runs(web_client: Any) -> None:
    html = get(web_client, "/ui/services/orders")
    facts = table_free_text(html, "facts")
    for fact in ("checkout-team@shop.example.com", "checkout", "1", "production", "2.0.0"):
        assert fact in facts
    versions = table(html, "versions")
    assert column(versions, "Version") == ["2.0.0", "1.0.0"]
    assert column(versions, "Branch") == ["remove-order-number", "main"]
    # 2.0.0's deployment to staging retired 1.0.0 there; production still runs 1.0.0.
    assert column(versions, "Deployed / released") == ["staging", "production"]
    live = table(html, "live")
    assert [(r[0], r[1], r[2]) for r in live[1:]] == [
        ("production", "1.0.0", "deployed"),
        ("staging", "2.0.0", "deployed"),
    ]
    branches = table(html, "branches")
    assert branches[1:] == [["remove-order-number", "1", "2.0.0"], ["main", "1", "1.0.0"]]


def table_free_text(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    end = html.index("</dl>", start)
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:end]).split())


def test_the_service_page_names_consumers_and_providers_with_their_verdicts(
    web_client: Any,
) -> None:
    html = get(web_client, "/ui/services/orders")
    consumers = table(html, "consumers")
    # notifications and shipping hold pacts with orders and read Order.number, which 2.0.0
    # (the latest) removed.
    assert [r[0].split(" ")[0] for r in consumers[1:]] == ["notifications", "shipping"]
    assert [r[3].split(" ")[0] for r in consumers[1:]] == ["broken", "broken"]
    assert all("response field /number" in r[4] for r in consumers[1:])
    providers = table(html, "providers")
    assert [r[0] for r in providers[1:]] == ["inventory", "payments"]
    assert [r[2] for r in providers[1:]] == ["inventory@1.0.0", "payments@1.1.0"]
    assert [r[3].split(" ")[0] for r in providers[1:]] == ["compatible", "compatible"]
    # Each verdict links to the matrix of an environment the service runs in, filtered on it.
    assert '/ui/matrix?env=staging&amp;service=notifications"' in html
    assert 'href="/ui/services/notifications"' in html


def test_the_service_page_lists_the_operations_of_the_latest_spec(web_client: Any) -> None:
    rows = table(get(web_client, "/ui/services/orders"), "operations")
    operations = [f"{r[0]} {r[1]}" for r in rows[1:]]
    assert operations == [
        "GET /orders",
        "POST /orders",
        "GET /orders/search",
        "GET /orders/{orderId}",
        "POST /orders/{orderId}/cancel",
        "GET /orders/{orderId}/history",
        "POST /orders/{orderId}/recalculate",
    ]
    deprecated = [f"{r[0]} {r[1]}" for r in rows[1:] if r[4] == "deprecated"]
    assert deprecated == ["GET /orders/search"]


def test_the_service_page_shows_verifications_and_fuzz_runs(web_client: Any) -> None:
    rows = table(get(web_client, "/ui/services/payments"), "evidence")
    kinds = {(r[0], r[1], r[2], r[3]) for r in rows[1:]}
    assert kinds == {
        ("live verification", "1.1.0", "orders", "passed"),
        ("fuzz run", "1.1.0", "staging", "passed"),
    }
    fuzz = next(r for r in rows[1:] if r[0] == "fuzz run")
    assert fuzz[5] == "seed 7, 412 requests, 0 distinct failures"


def test_the_versions_of_a_service_are_paged_newest_first(
    web_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "VERSIONS_PER_PAGE", 1)
    first = get(web_client, "/ui/services/orders")
    assert column(table(first, "versions"), "Version") == ["2.0.0"]
    older = re.search(r'<a href="([^"]+)" rel="next">Older versions', first)
    assert older is not None
    second = get(web_client, older[1])
    assert column(table(second, "versions"), "Version") == ["1.0.0"]
    assert 'rel="next"' not in second


def test_unknown_services_and_pages_are_html_404s(web_client: Any) -> None:
    assert "there is no service &#39;nope&#39; in the registry" in get(
        web_client, "/ui/services/nope", 404
    )
    assert "there is no such page" in get(web_client, "/ui/no-such-page", 404)
    get(web_client, "/ui/services/orders?cursor=abc", 404)
    assert "q: String should have at most 200 characters" in get(
        web_client, "/ui/services?q=" + "x" * 201, 400
    )


# ---- the matrix ------------------------------------------------------------------------------


def test_the_matrix_shows_the_broken_pairs_in_red_with_their_reason(web_client: Any) -> None:
    html = get(web_client, "/ui/matrix?env=staging")
    grid = table(html, "grid")
    classes = cell_classes(html, "grid")
    header = grid[0]
    assert header[1:] == [
        "inventory@1.0.0",
        "orders@2.0.0",
        "payments@1.1.0",
        "shipping@1.0.0",
    ]
    rows = {row[0]: (row, classes[i]) for i, row in enumerate(grid) if i}
    assert list(rows) == ["notifications@1.0.0", "orders@2.0.0", "shipping@1.0.0"]
    orders_column = header.index("orders@2.0.0")
    for consumer in ("notifications@1.0.0", "shipping@1.0.0"):
        cells, cell_class = rows[consumer]
        assert "cell-broken" in cell_class[orders_column]
        assert cells[orders_column].startswith("broken")
        assert "the consumer relies on response field /number" in cells[orders_column]
    cells, cell_class = rows["orders@2.0.0"]
    assert "cell-compatible" in cell_class[header.index("payments@1.1.0")]
    assert "cell-compatible" in cell_class[header.index("inventory@1.0.0")]
    # notifications' pact with shipping: compatible; no pact between notifications and
    # inventory: an empty cell.
    cells, cell_class = rows["notifications@1.0.0"]
    assert "cell-compatible" in cell_class[header.index("shipping@1.0.0")]
    assert cell_class[header.index("inventory@1.0.0")] == "cell cell-none"


def test_the_matrix_lists_every_pair_with_its_evidence(web_client: Any) -> None:
    rows = table(get(web_client, "/ui/matrix?env=staging"), "pairs")
    pairs = {(r[0], r[1]): r for r in rows[1:]}
    assert sorted(pairs) == [
        ("notifications@1.0.0", "orders@2.0.0"),
        ("notifications@1.0.0", "shipping@1.0.0"),
        ("orders@2.0.0", "inventory@1.0.0"),
        ("orders@2.0.0", "payments@1.1.0"),
        ("shipping@1.0.0", "orders@2.0.0"),
    ]
    with_payments = pairs[("orders@2.0.0", "payments@1.1.0")]
    assert with_payments[5].startswith("passed (")  # the seeded live verification
    assert with_payments[6].startswith("green run #")
    assert "seed 7, 412 requests, 0 distinct failures" in with_payments[6]
    shipping = pairs[("shipping@1.0.0", "orders@2.0.0")]
    assert shipping[4].startswith("failed: 2 errors")
    assert "compat-response-field-undefined" in shipping[4]


def test_the_production_matrix_has_only_compatible_pairs(web_client: Any) -> None:
    rows = table(get(web_client, "/ui/matrix?env=production"), "pairs")
    # Every service runs 1.0.0 there: orders -> inventory, payments; notifications -> orders,
    # shipping; shipping -> orders. orders 1.0.0 still has Order.number: nothing is broken.
    assert len(rows) - 1 == 5
    assert {r[3].split(" ")[0] for r in rows[1:]} == {"compatible"}


def test_the_whole_environment_is_paged_by_consumer_version(
    web_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matrix, "CONSUMERS_PER_PAGE", 2)
    # Live in staging, by name: inventory, notifications | orders, payments | shipping.
    expected = [
        [("notifications@1.0.0", "orders@2.0.0"), ("notifications@1.0.0", "shipping@1.0.0")],
        [("orders@2.0.0", "inventory@1.0.0"), ("orders@2.0.0", "payments@1.1.0")],
        [("shipping@1.0.0", "orders@2.0.0")],
    ]
    path: str | None = "/ui/matrix?env=staging"
    pages_seen = []
    while path is not None:
        html = get(web_client, path)
        pages_seen.append(sorted((r[0], r[1]) for r in table(html, "pairs")[1:]))
        found = re.search(r'<a rel="next" href="([^"]+)">', html)
        path = found[1].replace("&amp;", "&") if found else None
        assert len(pages_seen) <= len(expected), "paging does not end"
    assert pages_seen == expected


def test_the_matrix_checks_pairs_nobody_checked_yet_and_keeps_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from apigov.registry.publishing import collect_service_folder
    from apigov.registry.server.app import create_app
    from apigov.registry.sql import SqlRegistry
    from apigov.spec.loader import Loader

    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    for service in ("notifications", "shipping"):
        collected = collect_service_folder(CONTRACTS / service, service, Loader(root=CONTRACTS))
        store.publish(service, "1.0.0", collected.files, metadata=collected.metadata)
        store.record_deployment(service, "1.0.0", "qa")
    store.close()
    with TestClient(create_app(location)) as client:
        # Nobody asked can-i-deploy: with no checks allowed per view, the pair is unverified.
        monkeypatch.setattr(matrix, "CHECKS_PER_PAGE", 0)
        html = get(client, "/ui/matrix?env=qa")
        assert [r[3] for r in table(html, "pairs")[1:]] == [
            "unverified no static compatibility result yet"
        ]
        assert "1 not statically checked yet" in html
        # A view that may check runs the check, and stores it: later views read it back.
        monkeypatch.setattr(matrix, "CHECKS_PER_PAGE", 8)
        assert table(get(client, "/ui/matrix?env=qa"), "pairs")[1][3] == "compatible"
        monkeypatch.setattr(matrix, "CHECKS_PER_PAGE", 0)
        assert table(get(client, "/ui/matrix?env=qa"), "pairs")[1][3] == "compatible"


def test_the_matrix_can_be_narrowed_to_one_service(web_client: Any) -> None:
    rows = table(get(web_client, "/ui/matrix?env=staging&service=shipping"), "pairs")
    assert sorted((r[0], r[1]) for r in rows[1:]) == [
        ("notifications@1.0.0", "shipping@1.0.0"),
        ("shipping@1.0.0", "orders@2.0.0"),
    ]


def test_the_matrix_answers_can_i_deploy_exactly_as_the_command_does(web_client: Any) -> None:
    html = get(web_client, "/ui/matrix?env=production&service=orders&version=2.0.0")
    assert '<span class="answer-no">no</span>' in html
    shown = table(html, "can-i-deploy-answers")[1:]
    command = run_apigov(
        "can-i-deploy",
        "orders",
        "2.0.0",
        "--to",
        "production",
        "--registry",
        web_client.app.state.registry.location,
    )
    assert command.code == 1
    lines = [line for line in command.stdout.splitlines() if line.startswith("-")]
    assert len(shown) == len(lines) == 4
    for (level, answer, why), line in zip(shown, lines, strict=True):
        # The text report: "-  LEVEL  ID  MESSAGE  consumers: ..." in the same order.
        assert line.split()[1:3] == [level, answer]
        assert why in " ".join(line.split())


def test_unknown_environments_and_services_in_the_matrix_are_404s(web_client: Any) -> None:
    assert "there is no environment &#39;nowhere&#39;" in get(
        web_client, "/ui/matrix?env=nowhere", 404
    )
    assert "there is no service &#39;nope&#39;" in get(
        web_client, "/ui/matrix?env=staging&service=nope", 404
    )


# ---- the diff view ---------------------------------------------------------------------------

ORDER_OPERATIONS = [
    "GET /orders",
    "GET /orders/search",
    "GET /orders/{orderId}",
    "POST /orders",
    "POST /orders/{orderId}/cancel",
    "POST /orders/{orderId}/recalculate",
]


def test_the_diff_view_lists_the_breaking_change_and_the_consumers_it_breaks(
    web_client: Any,
) -> None:
    html = get(web_client, "/ui/diff?service=orders&from=1.0.0&to=2.0.0")
    rows = table(html, "breaking")[1:]
    # Order.number was removed: every operation answering an Order (or a list of them).
    assert sorted(r[1] for r in rows) == ORDER_OPERATIONS
    assert {r[0] for r in rows} == {"response-required-property-removed"}
    consumers = {r[1]: r[3] for r in rows}
    # notifications reads one order, shipping one order and the list of orders to ship.
    assert consumers["GET /orders/{orderId}"] == "breaks notifications, shipping"
    assert consumers["GET /orders"] == "breaks shipping"
    assert consumers["POST /orders"] == "no consumer uses it"
    # The change breaking most consumers comes first, the ones nobody uses last.
    assert [r[1] for r in rows[:2]] == ["GET /orders/{orderId}", "GET /orders"]
    assert "Other changes" in html


def test_the_diff_view_defaults_to_what_the_latest_version_changed(web_client: Any) -> None:
    html = get(web_client, "/ui/diff?service=orders")
    assert '<option value="1.0.0" selected>' in html
    assert '<option value="2.0.0" selected>' in html
    assert len(table(html, "breaking")) - 1 == len(ORDER_OPERATIONS)


def test_a_diff_between_identical_specs_has_no_changes(web_client: Any) -> None:
    html = get(web_client, "/ui/diff?service=payments&from=1.0.0&to=1.1.0")
    assert "Breaking changes (0)" in html


def test_the_diff_view_refuses_unknown_services_and_versions_with_404(web_client: Any) -> None:
    assert "there is no service &#39;nope&#39;" in get(web_client, "/ui/diff?service=nope", 404)
    assert "orders has no version &#39;9.9.9&#39;" in get(
        web_client, "/ui/diff?service=orders&from=9.9.9&to=2.0.0", 404
    )
    # Without a service, the form alone.
    assert 'name="service"' in get(web_client, "/ui/diff")
