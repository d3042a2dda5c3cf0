"""Branches through the Pact Broker's branch routes: reading a branch and a version on it, and
deleting a branch (the versions stay, branch selectors stop finding them), on the store (SQLite
and PostgreSQL), in process, and with the real Pact CLI's `delete-branch`; the matrix's
`mainBranch` selector; the pacticipant listing (`list-pacticipants`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from registry_support import run_pact_broker, serve_registry

from apigov.registry.domain import ContractFile, Role
from apigov.registry.server.app import create_app
from apigov.registry.sql import SqlRegistry

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BASE = "http://testserver"


def _pact(version: str) -> ContractFile:
    document = {
        "consumer": {"name": "orders"},
        "provider": {"name": "payments"},
        "interactions": [
            {
                "description": f"orders {version}",
                "request": {"method": "GET", "path": "/x"},
                "response": {"status": 200},
            }
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    content = json.dumps(document, indent=2).encode()
    return ContractFile("pacts/orders-payments.json", Role.PACT, content, "payments")


def _seed(registry: Any) -> None:
    """orders 1 and 2 on feat-x, orders 3 on main, each with its own pact with payments."""
    for version, branch in [("1", "feat-x"), ("2", "feat-x"), ("3", "main")]:
        registry.add_contracts("orders", version, [_pact(version)], branch=branch)


def test_deleting_a_branch_keeps_its_versions(registry: SqlRegistry) -> None:
    _seed(registry)
    assert registry.delete_branch("orders", "feat-x", actor="ci") == 2
    assert registry.delete_branch("orders", "feat-x") == 0  # nothing on it any more
    assert registry.delete_branch("nobody", "feat-x") == 0
    first = registry.version("orders", "1")
    assert first is not None
    assert first.branch is None
    assert [f.path for f in first.files] == ["pacts/orders-payments.json"]
    assert registry.latest_version("orders", "feat-x") is None
    latest_main = registry.latest_version("orders", "main")
    assert latest_main is not None and latest_main.number == "3"
    assert [(r.actor, r.action, r.subject) for r in registry.audit_log()][-1] == (
        "ci",
        "delete-branch",
        "orders",
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(str(tmp_path / "registry.db"), auth_required=False)
    with TestClient(app) as client:
        _seed(app.state.registry)
        yield client


def _selected(client: TestClient, selector: dict[str, Any]) -> list[str]:
    answer = client.post(
        "/pacts/provider/payments/for-verification", json={"consumerVersionSelectors": [selector]}
    )
    assert answer.status_code == 200, answer.text
    return [p["shortDescription"] for p in answer.json()["_embedded"]["pacts"]]


def test_branch_routes_read_and_delete_a_branch(broker: TestClient) -> None:
    index = broker.get("/").json()["_links"]
    assert index["pb:pacticipant-branch"]["href"] == (
        f"{BASE}/pacticipants/{{pacticipant}}/branches/{{branch}}"
    )
    branch = broker.get("/pacticipants/orders/branches/feat-x").json()
    assert branch["name"] == "feat-x"
    assert branch["_embedded"] == {"latestVersion": {"number": "2"}}
    assert branch["_links"]["self"]["href"] == f"{BASE}/pacticipants/orders/branches/feat-x"
    on_branch = broker.get("/pacticipants/orders/branches/feat-x/versions/2")
    assert (on_branch.status_code, on_branch.json()["number"]) == (200, "2")
    assert broker.get("/pacticipants/orders/branches/feat-x/versions/3").status_code == 404
    assert _selected(broker, {"branch": "feat-x"}) == [
        "latest version from branch 'feat-x' (orders@2)"
    ]

    assert broker.delete("/pacticipants/orders/branches/feat-x").status_code == 204
    assert broker.get("/pacticipants/orders/branches/feat-x").status_code == 404
    assert broker.delete("/pacticipants/orders/branches/feat-x").status_code == 404
    assert _selected(broker, {"branch": "feat-x"}) == []
    # The versions and their pacts are still there, by number.
    pact = broker.get("/pacts/provider/payments/consumer/orders/version/2")
    assert pact.json()["interactions"][0]["description"] == "orders 2"
    assert broker.get("/pacticipants/orders/versions/2").json()["branch"] is None


def test_pact_cli_deletes_a_branch(tmp_path: Path, pact_broker_cli: Path) -> None:
    location = str(tmp_path / "registry.db")
    registry = SqlRegistry(location)
    _seed(registry)
    registry.close()
    delete = ("delete-branch", "--pacticipant", "orders", "--branch", "feat-x")
    with serve_registry(location, "--no-auth") as url:
        deleted = run_pact_broker(pact_broker_cli, url, *delete)
        again = run_pact_broker(pact_broker_cli, url, *delete)

    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert "Successfully deleted branch 'feat-x' of pacticipant 'orders'" in deleted.stdout
    assert "Could not delete branch 'feat-x' of pacticipant 'orders' as it was not found" in (
        again.stdout
    )
    registry = SqlRegistry(location)
    try:
        assert registry.latest_version("orders", "feat-x") is None
        assert registry.version("orders", "2") is not None
    finally:
        registry.close()


def test_the_matrix_main_branch_selector_means_the_branch_the_service_named(
    broker: TestClient,
) -> None:
    registry = broker.app.state.registry  # type: ignore[attr-defined]
    registry.ensure_environment("production")
    query = (
        "/matrix?q[][pacticipant]=orders&q[][mainBranch]=true&latestby=cvpv&environment=production"
    )

    def asked_about() -> Any:
        return broker.get(query).json()["matrix"][0]["consumer"]["version"]

    assert asked_about() == {"number": "3"}  # no main branch named: `main` (or `master`)
    registry.set_main_branch("orders", "feat-x")
    assert asked_about() == {"number": "2"}


def test_pacticipants_are_listed_a_page_at_a_time(broker: TestClient) -> None:
    registry = broker.app.state.registry  # type: ignore[attr-defined]
    registry.add_contracts("billing", "1", [])
    registry.set_main_branch("billing", "trunk")
    # Services in the order they were created: orders (seeded), then billing. payments, which
    # orders' pacts name, is no service until it publishes something.
    first = broker.get("/pacticipants", params={"pageSize": 1}).json()
    assert [(p["name"], p["mainBranch"]) for p in first["pacticipants"]] == [("orders", None)]
    assert first["_embedded"]["pacticipants"] == first["pacticipants"]
    following = broker.get(first["_links"]["next"]["href"]).json()
    assert [(p["name"], p["mainBranch"]) for p in following["pacticipants"]] == [
        ("billing", "trunk")
    ]
    assert "next" not in following["_links"]
    everything = broker.get("/pacticipants").json()
    assert [p["name"] for p in everything["pacticipants"]] == ["orders", "billing"]
    assert broker.get("/pacticipants", params={"cursor": "x"}).status_code == 400
    assert broker.get("/").json()["_links"]["pb:pacticipants"]["href"] == f"{BASE}/pacticipants"
