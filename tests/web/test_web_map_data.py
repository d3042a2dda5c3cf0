"""The fleet map's data (`/ui/map/graph.json`) and its page without JavaScript.

Expected values are worked out by hand from the seeded example fleet (tests/web/conftest.py):

    latest versions: inventory 1.0.0, notifications 1.0.0, orders 2.0.0, payments 1.1.0,
    shipping 1.0.0. Pacts (consumer -> provider): notifications -> orders, notifications ->
    shipping, orders -> inventory, orders -> payments, shipping -> orders.
    The gate was asked about orders 2.0.0 in staging and production, which stored the static
    results of every pair orders 2.0.0 takes part in: notifications and shipping against
    orders 2.0.0 fail (2.0.0 removes Order.number), orders' pacts against inventory 1.0.0 and
    payments 1.0.0/1.1.0 (one spec content) pass. Nobody checked notifications -> shipping,
    nor anything against orders 1.0.0. A green verification of orders' payments pact exists
    against payments 1.1.0 only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import column, table

from apigov.registry.compat import StaticChecker
from apigov.registry.domain import ContractFile, Role, ServiceMetadata, spec_digest
from apigov.registry.server.app import create_app
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry
from apigov.registry.web.fleet_map import NOT_CHECKED, build_fleet_map, neighbourhood
from helpers import REPO

SERVICES = ["inventory", "notifications", "orders", "payments", "shipping"]


def _graph(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/ui/map/graph.json", params=params)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def _edges(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(e["consumer"], e["provider"]): e["verdict"] for e in data["edges"]}


def _versions(data: dict[str, Any]) -> dict[str, str | None]:
    return {n["service"]: n["version"] for n in data["nodes"]}


def test_the_latest_map_has_every_service_and_each_pact_with_its_verdict(
    web_client: TestClient,
) -> None:
    data = _graph(web_client)
    assert _versions(data) == {
        "inventory": "1.0.0",
        "notifications": "1.0.0",
        "orders": "2.0.0",
        "payments": "1.1.0",
        "shipping": "1.0.0",
    }
    assert _edges(data) == {
        ("notifications", "orders"): "broken",
        ("notifications", "shipping"): "unverified",
        ("orders", "inventory"): "compatible",
        ("orders", "payments"): "compatible",
        ("shipping", "orders"): "broken",
    }
    assert data["verdicts"] == {"compatible": 2, "broken": 2, "unverified": 1}
    teams = {n["service"]: n["team"] for n in data["nodes"]}
    assert teams["orders"] == "checkout" and teams["shipping"] == "logistics"
    reasons = {(e["consumer"], e["provider"]): e for e in data["edges"]}
    broken = reasons[("shipping", "orders")]
    assert broken["providerVersion"] == "2.0.0"
    # The first error of the failed check names the field 2.0.0 removed.
    assert broken["reason"].startswith("static compatibility failed: ")
    assert "number" in broken["reason"]
    assert reasons[("orders", "payments")]["reason"] == (
        "static compatibility passed; live verification passed"
    )
    assert "no static compatibility result" in reasons[("notifications", "shipping")]["reason"]


def test_production_shows_the_versions_deployed_there_and_their_own_verdicts(
    web_client: TestClient,
) -> None:
    data = _graph(web_client, env="production")
    assert _versions(data) == dict.fromkeys(SERVICES, "1.0.0")
    # orders 1.0.0 was never checked against its consumers; its own pacts hold the same
    # contents as 2.0.0's, whose results against inventory and payments 1.0.0 are stored.
    assert _edges(data) == {
        ("notifications", "orders"): "unverified",
        ("notifications", "shipping"): "unverified",
        ("orders", "inventory"): "compatible",
        ("orders", "payments"): "compatible",
        ("shipping", "orders"): "unverified",
    }
    payments = next(e for e in data["edges"] if e["provider"] == "payments")
    # The green verification was of payments 1.1.0, which is not in production.
    assert payments["reason"] == "static compatibility passed"


def test_staging_runs_the_breaking_orders_and_the_newer_payments(web_client: TestClient) -> None:
    data = _graph(web_client, env="staging")
    assert _versions(data)["orders"] == "2.0.0"
    assert _versions(data)["payments"] == "1.1.0"
    assert _edges(data)[("shipping", "orders")] == "broken"
    assert _edges(data)[("notifications", "orders")] == "broken"
    assert data["environment"] == "staging"


def test_a_team_filter_keeps_its_services_and_the_services_they_touch(
    web_client: TestClient,
) -> None:
    payments = _graph(web_client, team="payments")
    assert sorted(_versions(payments)) == ["orders", "payments"]
    assert list(_edges(payments)) == [("orders", "payments")]
    checkout = _graph(web_client, team="checkout")
    assert sorted(_versions(checkout)) == SERVICES
    # Every edge touches orders: notifications -> shipping does not, so it is left out.
    assert ("notifications", "shipping") not in _edges(checkout)
    assert len(checkout["edges"]) == 4


def test_focus_keeps_a_service_its_providers_and_its_consumers(web_client: TestClient) -> None:
    shipping = _graph(web_client, focus="shipping")
    assert sorted(_versions(shipping)) == ["notifications", "orders", "shipping"]
    assert sorted(_edges(shipping)) == [
        ("notifications", "orders"),
        ("notifications", "shipping"),
        ("shipping", "orders"),
    ]
    one_step = _graph(web_client, focus="payments")
    assert sorted(_versions(one_step)) == ["orders", "payments"]
    # Depth 2: the consumers of orders join; inventory (another provider of orders) does not.
    two_steps = _graph(web_client, focus="payments", depth=2)
    assert sorted(_versions(two_steps)) == ["notifications", "orders", "payments", "shipping"]
    assert len(two_steps["edges"]) == 4


def test_unknown_filters_are_404_and_empty_filters_are_no_filter(web_client: TestClient) -> None:
    answer = web_client.get("/ui/map/graph.json", params={"env": "moon"})
    assert answer.status_code == 404
    assert answer.json()["detail"] == "the registry has no environment named 'moon'"
    assert web_client.get("/ui/map/graph.json", params={"focus": "nobody"}).status_code == 404
    # A malformed parameter is the pages' 400 "Bad request" page (pages.add_error_pages).
    assert web_client.get("/ui/map/graph.json", params={"depth": 3}).status_code == 400
    # A GET form sends every field, empty ones included.
    blank = _graph(web_client, env="", team="", focus="")
    assert len(blank["nodes"]) == 5 and blank["environment"] is None


def test_the_page_lists_every_edge_in_a_table_that_needs_no_javascript(
    web_client: TestClient,
) -> None:
    answer = web_client.get("/ui/map", params={"env": "staging"})
    assert answer.status_code == 200
    rows = table(answer.text, "map-edges-table")
    # Broken first, then unverified, then compatible; by consumer within each.
    assert column(rows, "Consumer") == [
        "notifications@1.0.0",
        "shipping@1.0.0",
        "notifications@1.0.0",
        "orders@2.0.0",
        "orders@2.0.0",
    ]
    assert column(rows, "Verdict") == [
        "broken",
        "broken",
        "unverified",
        "compatible",
        "compatible",
    ]
    assert column(rows, "Provider")[:2] == ["orders@2.0.0", "orders@2.0.0"]
    assert 'href="/ui/services/shipping"' in answer.text
    assert '<option value="staging" selected>' in answer.text
    # The map's data rides in the page, escaped so no value can close its script element.
    assert '<script type="application/json" id="fleet-map-data">' in answer.text


def test_an_unknown_focus_renders_the_page_with_the_problem(web_client: TestClient) -> None:
    answer = web_client.get("/ui/map", params={"focus": "nobody"})
    assert answer.status_code == 404
    assert "no service named &#39;nobody&#39; is on the map" in answer.text


def test_reads_protected_need_a_read_token(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    token = TokenStore(store.engine).create("reader", Scope.READ)
    store.close()
    with TestClient(create_app(location, auth_reads=True)) as client:
        assert client.get("/ui/map/graph.json").status_code == 401
        assert client.get("/ui/map").status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        answer = client.get("/ui/map/graph.json", headers=bearer)
        assert answer.status_code == 200
        assert answer.json()["nodes"] == []


def test_markup_in_a_service_name_stays_text(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    name = "</script><script>alert(1)</script>"
    store.publish(name, "1", [ContractFile("pacts/x.json", Role.PACT, b"{}", "payments")])
    store.close()
    with TestClient(create_app(location)) as client:
        html = client.get("/ui/map").text
    assert "</script><script>alert(1)" not in html
    assert "\\u003c/script\\u003e" in html  # inside the JSON data
    assert "&lt;/script&gt;" in html  # in the table


def test_neighbourhood_follows_pacts_in_their_direction_only() -> None:
    from apigov.registry.web.fleet_map import MapEdge, Verdict

    def edge(consumer: str, provider: str) -> MapEdge:
        return MapEdge(consumer, provider, Verdict.COMPATIBLE, "", "1", "1")

    # a -> b -> c -> d, and x -> b (another consumer of b: not a neighbour of c).
    edges = [edge("a", "b"), edge("b", "c"), edge("c", "d"), edge("x", "b")]
    assert neighbourhood("c", edges, 1) == {"b", "c", "d"}
    assert neighbourhood("c", edges, 2) == {"a", "b", "c", "d", "x"}
    assert neighbourhood("b", edges, 1) == {"a", "b", "c", "x"}


# ---- scale ---------------------------------------------------------------------------------


def _bench_module() -> Any:
    sys.path.insert(0, str(REPO / "bench"))
    import registry_map

    return registry_map


def test_a_thousand_service_fleet_is_a_thousand_nodes_and_five_thousand_edges(
    tmp_path: Path,
) -> None:
    bench = _bench_module()
    location = str(tmp_path / "registry.db")
    bench.seed_map_fleet(location, 1000, providers=5, teams=40)
    store = SqlRegistry(location)
    try:
        fleet = build_fleet_map(store.engine, StaticChecker(store).name)
        in_production = build_fleet_map(
            store.engine, StaticChecker(store).name, environment="production"
        )
    finally:
        store.close()
    assert len(fleet.nodes) == 1000
    assert len(fleet.edges) == 5000
    assert len({node.team for node in fleet.nodes}) == 40
    # Pairs 0..4999: every 50th broken (100); every 7th unverified unless broken:
    # 715 multiples of 7, minus the 15 multiples of 350 counted as broken, is 700.
    assert fleet.counts() == {"compatible": 4200, "broken": 100, "unverified": 700}
    assert in_production.counts() == fleet.counts()
    assert len(in_production.nodes) == 1000
    # The page's table: 500 rows a page, broken first; the tenth page is the last 500
    # compatible ones (100 broken + 700 unverified + 4,200 compatible = 5,000).
    with TestClient(create_app(location)) as client:
        first = client.get("/ui/map")
        last = client.get("/ui/map", params={"page": 10})
    verdicts = column(table(first.text, "map-edges-table"), "Verdict")
    assert len(verdicts) == 500
    assert verdicts[:100] == ["broken"] * 100 and verdicts[100:] == ["unverified"] * 400
    assert 'href="?page=2#map-edges"' in first.text and 'rel="prev"' not in first.text
    assert column(table(last.text, "map-edges-table"), "Verdict") == ["compatible"] * 500
    assert "edges 4501&ndash;5000 of 5000" in last.text and 'rel="next"' not in last.text


# ---- the queries on both databases ---------------------------------------------------------


def _registry_support() -> Any:
    """tests/registry's PostgreSQL 15 helpers (a server for the module, a database per test)."""
    sys.path.insert(0, str(REPO / "tests" / "registry"))
    import registry_support

    return registry_support


@pytest.fixture(scope="module")
def postgres_server_url() -> Iterator[str]:
    with _registry_support().postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlRegistry]:
    if request.param == "sqlite":
        location = str(tmp_path / "registry.db")
    else:
        server = request.getfixturevalue("postgres_server_url")
        location = _registry_support().fresh_database(server)
    registry = SqlRegistry(location)
    yield registry
    registry.close()


def _pact(consumer: str, provider: str) -> ContractFile:
    content = f'{{"consumer": {{"name": "{consumer}"}}, "provider": {{"name": "{provider}"}}}}'
    return ContractFile(f"pacts/{consumer}-{provider}.json", Role.PACT, content.encode(), provider)


def _spec(text: str) -> ContractFile:
    return ContractFile("openapi.yaml", Role.SPEC, text.encode())


def test_verdicts_versions_and_absent_providers_on_sqlite_and_postgresql(
    store: SqlRegistry,
) -> None:
    """A fleet built to reach every branch of the verdict:

    api 1 (spec S1) and api 2 (spec S2), both deployed in prod (targets "" and blue);
    web 1 holds pacts with api, ghost (never published) and worker (which has no spec);
    mobile 1 holds a pact with api and is released in prod; worker 1 holds a pact with api
    and is not in prod. Evidence: web's pact passes against S2 and fails against S1; a live
    verification of web's pact against api 2 failed; mobile's pact passed against S2 for an
    older checker only.
    """
    checker = StaticChecker(store).name
    core, front = ServiceMetadata(team="core"), ServiceMetadata(team="front")
    s1, s2 = _spec("openapi: 3.0.3 # S1\n"), _spec("openapi: 3.0.3 # S2\n")
    web_api, mobile_api = _pact("web", "api"), _pact("mobile", "api")
    store.publish("api", "1", [s1], metadata=core)
    store.publish("api", "2", [s2], metadata=core)
    store.publish("worker", "1", [_pact("worker", "api")], metadata=core)
    web_pacts = [web_api, _pact("web", "ghost"), _pact("web", "worker")]
    store.publish("web", "1", web_pacts, metadata=front)
    store.publish("mobile", "1", [mobile_api], metadata=front)
    store.record_deployment("api", "1", "prod")
    store.record_deployment("api", "2", "prod", target="blue")
    store.record_deployment("web", "1", "prod")
    store.record_release("mobile", "1", "prod")
    digest = {name: spec_digest([spec]) or "" for name, spec in (("S1", s1), ("S2", s2))}
    failure = '[{"id": "x", "level": "error", "message": "GET /things: /id is gone"}]'
    store.store_static_result(web_api.sha256, digest["S2"], checker, True, "[]")
    store.store_static_result(web_api.sha256, digest["S1"], checker, False, failure)
    store.store_static_result(mobile_api.sha256, digest["S2"], "old-checker", True, "[]")
    store.record_verification("api", "2", "web", web_api.sha256, False)

    latest = build_fleet_map(store.engine, checker)
    assert [(n.service, n.versions, n.absent, n.team) for n in latest.nodes] == [
        ("api", ("2",), False, "core"),
        ("ghost", (), True, None),
        ("mobile", ("1",), False, "front"),
        ("web", ("1",), False, "front"),
        ("worker", ("1",), False, "core"),
    ]
    assert [(e.consumer, e.provider, e.verdict.value, e.reason) for e in latest.edges] == [
        ("mobile", "api", "unverified", NOT_CHECKED),
        ("web", "api", "broken", latest.edges[1].reason),
        ("web", "ghost", "unverified", "ghost has not published any version"),
        ("web", "worker", "unverified", "worker@1 publishes no OpenAPI document"),
        ("worker", "api", "unverified", NOT_CHECKED),
    ]
    # The failed verification outweighs the passed static check of the same pair.
    assert latest.edges[1].reason.startswith("the latest live verification failed (20")

    prod = build_fleet_map(store.engine, checker, environment="prod")
    assert [(n.service, n.versions, n.absent) for n in prod.nodes] == [
        ("api", ("1", "2"), False),
        ("ghost", (), True),
        ("mobile", ("1",), False),
        ("web", ("1",), False),
        ("worker", (), True),
    ]
    edges = {(e.consumer, e.provider): e for e in prod.edges}
    assert sorted(edges) == [("mobile", "api"), ("web", "api"), ("web", "ghost"), ("web", "worker")]
    assert (edges[("mobile", "api")].verdict.value, edges[("mobile", "api")].pairs) == (
        "unverified",
        2,
    )
    web = edges[("web", "api")]
    # Both pairs are broken; the first one (api 1, by id) speaks: its failed static check.
    assert (web.verdict.value, web.pairs, web.provider_version) == ("broken", 2, "1")
    assert web.reason == "static compatibility failed: GET /things: /id is gone"
    assert edges[("web", "worker")].reason == (
        "no version of worker is deployed or released in prod"
    )
    assert [n.team for n in prod.nodes if n.service == "worker"] == ["core"]


def test_in_an_environment_each_verdict_links_to_the_matrix_of_its_pairs(
    web_client: TestClient,
) -> None:
    html = web_client.get("/ui/map", params={"env": "staging"}).text
    assert 'href="/ui/matrix?env=staging&amp;service=shipping"' in html
    assert "/ui/matrix?" not in web_client.get("/ui/map").text


def test_the_draw_choice_is_kept_in_the_form_and_passed_to_the_script(
    web_client: TestClient,
) -> None:
    html = web_client.get("/ui/map", params={"view": "teams"}).text
    assert '<option value="teams" selected>' in html
    assert '"view":"teams"' in html
    assert web_client.get("/ui/map", params={"view": "galaxy"}).status_code == 400
