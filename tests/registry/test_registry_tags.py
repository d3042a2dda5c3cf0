"""Tags in every path: the store (SQLite and PostgreSQL), can-i-deploy to a tag (the Pact
Broker's `--to TAG`), `apigov can-i-deploy --to-tag`, and the Broker's tag routes, tag
selectors and latest-pacts listing (in process; the real Pact CLI is in
test_registry_tags_clients.py).

Expected answers are worked out from the example fleet, as in test_registry_gate.py: orders
holds pacts with inventory and payments; `no-refunds` is payments without the refunds endpoint
orders' pact calls, so it breaks orders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from registry_support import apigov_in_process as _run
from sqlalchemy import event
from test_registry_gate import Fleet, answers

from apigov.registry.domain import ContractFile, Role
from apigov.registry.gate import Answer, can_i_deploy_to_tag, decision_report
from apigov.registry.server.app import create_app
from apigov.registry.sql import SqlRegistry

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BASE = "http://testserver"


@pytest.fixture(scope="session")
def tag_fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return Fleet(tmp_path_factory.mktemp("tag-fleet"))


@pytest.fixture
def publish(tag_fleet: Fleet) -> Callable[..., None]:
    def publish_version(
        registry: SqlRegistry, service: str, version: str, variant: str = "fleet"
    ) -> None:
        registry.publish(service, version, tag_fleet.files(service, variant))

    return publish_version


# ---- the store -----------------------------------------------------------------------------


def test_tags_come_off_and_latest_means_the_newest_version_carrying_the_tag(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    for version in ("1", "2", "3"):
        publish(registry, "payments", version)
    publish(registry, "orders", "1")
    registry.add_tags("payments", "1", ["prod"])
    registry.add_tags("payments", "2", ["prod", "qa"])

    latest = registry.latest_version("payments", tag="prod")
    assert latest is not None and latest.number == "2"  # 3 is newer, but untagged
    assert registry.latest_version("payments", tag="nope") is None
    assert [v.number for v in registry.latest_tagged_versions(["payments", "orders"], "prod")] == [
        "2"
    ]
    assert registry.consumer_services("payments") == ["orders"]
    assert registry.consumer_services("orders") == []
    assert registry.has_tag("qa") and not registry.has_tag("nope")

    assert registry.remove_tag("payments", "2", "prod", actor="ci") is True
    assert registry.remove_tag("payments", "2", "prod") is False  # already gone: nothing to do
    assert registry.version_tags("payments", "2") == ["qa"]
    latest = registry.latest_version("payments", tag="prod")
    assert latest is not None and latest.number == "1"
    # Only the label went: the version and its files stay.
    assert registry.version("payments", "2") is not None
    assert [(r.actor, r.action, r.subject) for r in registry.audit_log()][-1] == (
        "ci",
        "remove-tag",
        "payments@2",
    )


# ---- can-i-deploy to a tag -----------------------------------------------------------------


def test_a_consumer_is_checked_against_the_latest_tagged_version_of_each_provider(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(registry, "payments", "1")
    publish(registry, "payments", "2", "no-refunds")
    publish(registry, "payments", "3")  # newest, but never tagged prod: not a partner
    publish(registry, "inventory", "1")
    publish(registry, "orders", "1")
    registry.add_tags("payments", "1", ["prod"])
    registry.add_tags("payments", "2", ["prod"])

    decision = can_i_deploy_to_tag(registry, "orders", "1", "prod")
    assert answers(decision.pairs) == {
        ("orders", "1", "inventory", None, Answer.PROVIDER_NOT_TAGGED),
        ("orders", "1", "payments", "2", Answer.INCOMPATIBLE),
    }
    assert decision.verdict == "no"
    messages = [f.message for f in decision_report(decision).findings]
    assert messages[0] == (
        "orders@1 -> inventory [-] pacts/orders-inventory.json: no version of inventory "
        "carries tag prod"
    )
    assert messages[1].startswith(
        "orders@1 -> payments@2 [latest tagged prod] pacts/orders-payments.json: static "
        "compatibility failed: 1 problem(s): "
    )
    assert decision_report(decision).inputs == ["orders@1 -> tag prod"]

    # The broken version loses its tag; inventory gains one: both pairs pass.
    registry.remove_tag("payments", "2", "prod")
    registry.add_tags("inventory", "1", ["prod"])
    decision = can_i_deploy_to_tag(registry, "orders", "1", "prod")
    assert answers(decision.pairs) == {
        ("orders", "1", "inventory", "1", Answer.SATISFIED),
        ("orders", "1", "payments", "1", Answer.SATISFIED),
    }
    assert decision.deployable


def test_a_provider_is_checked_against_the_latest_tagged_version_of_each_consumer(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(registry, "payments", "1")
    publish(registry, "payments", "2", "no-refunds")
    publish(registry, "inventory", "1")
    publish(registry, "orders", "1")
    publish(registry, "orders", "2")
    registry.add_tags("orders", "1", ["prod"])
    registry.add_tags("payments", "1", ["prod"])

    decision = can_i_deploy_to_tag(registry, "payments", "2", "prod")
    assert answers(decision.pairs) == {("orders", "1", "payments", "2", Answer.INCOMPATIBLE)}
    # orders 2 is tagged too: only the newest tagged version of orders is a partner.
    registry.add_tags("orders", "2", ["prod"])
    decision = can_i_deploy_to_tag(registry, "payments", "2", "prod")
    assert answers(decision.pairs) == {("orders", "2", "payments", "2", Answer.INCOMPATIBLE)}
    assert answers(can_i_deploy_to_tag(registry, "payments", "1", "prod").pairs) == {
        ("orders", "2", "payments", "1", Answer.SATISFIED)
    }


def test_no_tagged_counterpart_and_an_unknown_tag_are_explicit_answers(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(registry, "payments", "1")
    publish(registry, "orders", "1")
    registry.add_tags("payments", "1", ["qa"])

    # orders holds a pact with payments, but no version of orders carries qa.
    alone = decision_report(can_i_deploy_to_tag(registry, "payments", "1", "qa"))
    assert [(f.id, f.message) for f in alone.findings] == [
        (
            "deploy-no-pairs",
            "payments@1 has no consumer whose latest version tagged qa holds a pact with it and "
            "holds no consumer contracts: there is no pair to check, so contracts do not block "
            "this deployment",
        )
    ]
    unknown = can_i_deploy_to_tag(registry, "payments", "1", "prdo")
    assert unknown.verdict == "no"
    assert [(f.id, f.message) for f in decision_report(unknown).findings] == [
        (
            "deploy-unknown-tag",
            "no version in the registry carries tag 'prdo': there is nothing to check against "
            "(tags are added by publish --tag or the Broker's create-version-tag)",
        )
    ]


def test_the_command_asks_about_a_tag_and_refuses_both_or_neither(
    tmp_path: Path, publish: Callable[..., None]
) -> None:
    location = str(tmp_path / "registry.db")
    registry = SqlRegistry(location)
    try:
        publish(registry, "payments", "1")
        publish(registry, "orders", "1")
        registry.add_tags("payments", "1", ["prod"])
    finally:
        registry.close()

    code, out, _ = _run("can-i-deploy", "orders", "1", "--to-tag", "prod", "--registry", location)
    assert code == 1  # orders also holds a pact with inventory, which carries no prod tag
    assert out.splitlines()[:2] == [
        "-  error    deploy-provider-not-tagged  orders@1 -> inventory [-] "
        "pacts/orders-inventory.json: no version of inventory carries tag prod  consumers: orders",
        "-  info     deploy-pair-satisfied       orders@1 -> payments@1 [latest tagged prod] "
        "pacts/orders-payments.json: static compatibility passed  consumers: orders",
    ]
    code, out, _ = _run("can-i-deploy", "payments", "1", "--to-tag", "prod", "--registry", location)
    assert code == 0, out  # orders 1 carries no prod tag: no pair
    for both_or_neither in (["--to", "production", "--to-tag", "prod"], []):
        code, _, err = _run("can-i-deploy", "orders", "1", *both_or_neither, "--registry", location)
        assert code == 2
        assert "give the environment (--to ENV) or a tag (--to-tag TAG)" in err


# ---- the Pact Broker's tag routes and selectors (in process, SQLite) -------------------------


def _pact(consumer: str, provider: str, description: str) -> bytes:
    document = {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": [
            {
                "description": description,
                "request": {"method": "GET", "path": "/x"},
                "response": {"status": 200},
            }
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    return json.dumps(document, indent=2).encode()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TestClient]:
    """orders 1.0.0 (prod), 1.1.0 (prod, main), 1.2.0 (main, untagged) and billing 1.0.0 (main
    tag, feat-y branch), billing 2.0.0 (no tag, main branch): each with its own pact."""
    app = create_app(str(tmp_path / "registry.db"), auth_required=False)
    with TestClient(app) as client:
        registry = app.state.registry
        for consumer, version, branch, tags in [
            ("orders", "1.0.0", None, ["prod"]),
            ("orders", "1.1.0", "main", ["prod"]),
            ("orders", "1.2.0", "main", []),
            ("billing", "1.0.0", "feat-y", ["main"]),
            ("billing", "2.0.0", "main", []),
        ]:
            content = _pact(consumer, "payments", f"{consumer} {version}")
            pact = ContractFile(f"pacts/{consumer}-payments.json", Role.PACT, content, "payments")
            registry.add_contracts(consumer, version, [pact], branch=branch, tags=tags)
        yield client


def _described(client: TestClient, href: str) -> str:
    answer = client.get(href)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["interactions"][0]["description"])


def test_a_tag_can_be_read_listed_and_deleted(broker: TestClient) -> None:
    tag = f"{BASE}/pacticipants/orders/versions/1.0.0/tags/prod"
    got = broker.get("/pacticipants/orders/versions/1.0.0/tags/prod")
    assert got.status_code == 200
    assert got.json()["name"] == "prod"
    assert got.json()["_links"]["self"]["href"] == tag
    listed = broker.get("/pacticipants/orders/versions/1.0.0/tags").json()
    assert [t["name"] for t in listed["_embedded"]["tags"]] == ["prod"]
    version = broker.get("/pacticipants/orders/versions/1.0.0").json()
    assert [t["name"] for t in version["_embedded"]["tags"]] == ["prod"]
    assert version["_links"]["pb:tag"]["href"] == (
        f"{BASE}/pacticipants/orders/versions/1.0.0/tags/{{tag}}"
    )
    # The Pact CLI's delete-version-tag finds the route through the pacticipant.
    pacticipant = broker.get("/pacticipants/orders").json()
    assert pacticipant["_links"]["pb:version-tag"] == {
        "href": f"{BASE}/pacticipants/orders/versions/{{version}}/tags/{{tag}}",
        "title": "Get, create or delete a tag for a version",
        "templated": True,
    }

    assert broker.delete("/pacticipants/orders/versions/1.0.0/tags/prod").status_code == 204
    assert broker.get("/pacticipants/orders/versions/1.0.0/tags/prod").status_code == 404
    assert broker.delete("/pacticipants/orders/versions/1.0.0/tags/prod").status_code == 404
    assert broker.delete("/pacticipants/orders/versions/9.9.9/tags/prod").status_code == 404
    assert broker.get("/pacticipants/orders/versions/9.9.9/tags").status_code == 404
    assert broker.get("/pacticipants/orders/versions/1.0.0/tags").json()["_embedded"] == {
        "tags": []
    }


def test_latest_by_tag_picks_the_newest_version_carrying_it(broker: TestClient) -> None:
    index = broker.get("/").json()["_links"]
    assert index["pb:latest-tagged-version"]["href"] == (
        f"{BASE}/pacticipants/{{pacticipant}}/latest-version/{{tag}}"
    )
    # 1.2.0 is newer, but untagged.
    assert broker.get("/pacticipants/orders/latest-version/prod").json()["number"] == "1.1.0"
    assert broker.get("/pacticipants/orders/latest-version/qa").status_code == 404
    assert _described(broker, "/pacts/provider/payments/consumer/orders/latest/prod") == (
        "orders 1.1.0"
    )
    assert _described(broker, "/pacts/provider/payments/consumer/billing/latest/main") == (
        "billing 1.0.0"
    )
    assert broker.get("/pacts/provider/payments/consumer/billing/latest/prod").status_code == 404
    links = broker.get("/pacts/provider/payments/latest/prod").json()["_links"]
    assert [(p["name"], p["href"]) for p in links["pb:pacts"]] == [
        ("orders", f"{BASE}/pacts/provider/payments/consumer/orders/version/1.1.0"),
    ]


def _for_verification(client: TestClient, *selectors: dict[str, Any]) -> dict[str, str]:
    """The selected pacts: their description (which consumer version wrote it) -> why."""
    answer = client.post(
        "/pacts/provider/payments/for-verification",
        json={"consumerVersionSelectors": list(selectors)},
    )
    assert answer.status_code == 200, answer.text
    return {
        _described(client, p["_links"]["self"]["href"]): p["shortDescription"]
        for p in answer.json()["_embedded"]["pacts"]
    }


def test_tag_selectors_with_and_without_fallbacks(broker: TestClient) -> None:
    assert _for_verification(broker, {"tag": "prod"}) == {
        "orders 1.0.0": "every version tagged 'prod' (orders@1.0.0)",
        "orders 1.1.0": "every version tagged 'prod' (orders@1.1.0)",
    }
    assert _for_verification(broker, {"tag": "prod", "latest": True}) == {
        "orders 1.1.0": "latest version tagged 'prod' (orders@1.1.0)",
    }
    # billing has no prod version: it falls back to its latest version tagged main; orders has
    # prod versions and keeps them.
    assert _for_verification(broker, {"tag": "prod", "latest": True, "fallbackTag": "main"}) == {
        "orders 1.1.0": "latest version tagged 'prod' (fall back to 'main') (orders@1.1.0)",
        "billing 1.0.0": "latest version tagged 'prod' (fell back to 'main') (billing@1.0.0)",
    }
    # No consumer is on feat-x: each falls back to its latest version on main.
    assert _for_verification(broker, {"branch": "feat-x", "fallbackBranch": "main"}) == {
        "orders 1.2.0": "latest version from branch 'feat-x' (fell back to 'main') (orders@1.2.0)",
        "billing 2.0.0": "latest version from branch 'feat-x' (fell back to 'main') "
        "(billing@2.0.0)",
    }
    # billing is on feat-y: its own; orders falls back.
    assert _for_verification(broker, {"branch": "feat-y", "fallbackBranch": "main"}) == {
        "billing 1.0.0": "latest version from branch 'feat-y' (fall back to 'main') "
        "(billing@1.0.0)",
        "orders 1.2.0": "latest version from branch 'feat-y' (fell back to 'main') (orders@1.2.0)",
    }


def test_the_matrix_and_the_json_api_answer_for_a_tag(tmp_path: Path, tag_fleet: Fleet) -> None:
    app = create_app(str(tmp_path / "registry.db"), auth_required=False)
    with TestClient(app) as client:
        registry = app.state.registry
        for service in ("payments", "inventory", "orders"):
            registry.publish(service, "1", tag_fleet.files(service, "fleet"))
        registry.add_tags("payments", "1", ["prod"])
        registry.add_tags("inventory", "1", ["prod"])
        registry.add_tags("orders", "1", ["prod"])

        # What `pact-broker can-i-deploy --pacticipant orders --version 1 --to prod` sends.
        to_tag = client.get(
            "/matrix?q[][pacticipant]=orders&q[][version]=1&tag=prod&latestby=cvp&latest=true"
        ).json()
        assert to_tag["summary"] == {
            "deployable": True,
            "reason": "orders version 1 may be deployed with the latest versions tagged prod: "
            "everything is satisfied",
            "success": 2,
            "failed": 0,
            "unknown": 0,
        }
        assert [(r["provider"]["name"], r["live"]) for r in to_tag["matrix"]] == [
            ("inventory", "latest tagged prod"),
            ("payments", "latest tagged prod"),
        ]
        # `--pacticipant orders --latest prod --to prod`: the version is resolved by tag too.
        latest = client.get(
            "/matrix?q[][pacticipant]=orders&q[][latest]=true&q[][tag]=prod&latestby=cvpv"
            "&tag=prod&latest=true"
        ).json()
        assert latest["matrix"][0]["consumer"]["version"] == {"number": "1"}
        unknown = client.get(
            "/matrix?q[][pacticipant]=orders&q[][latest]=true&q[][tag]=qa&latestby=cvpv&tag=prod"
        )
        assert unknown.status_code == 400
        assert unknown.json()["errors"]["q"] == ["no version of orders matches the selector"]

        # The Broker's can-i-deploy resource, `to=TAG`; neither or both is a 400.
        index = client.get("/").json()["_links"]
        assert index["pb:can-i-deploy-pacticipant-version-to-tag"]["href"] == (
            f"{BASE}/can-i-deploy?pacticipant={{pacticipant}}&version={{version}}&to={{tag}}"
        )
        resource = client.get(
            "/can-i-deploy", params={"pacticipant": "orders", "version": "1", "to": "prod"}
        ).json()
        assert resource["summary"]["deployable"] is True
        assert len(resource["matrix"]) == 2
        neither = client.get("/can-i-deploy", params={"pacticipant": "orders", "version": "1"})
        assert neither.status_code == 400

        api = client.get(
            "/api/v1/can-i-deploy", params={"service": "payments", "version": "1", "tag": "prod"}
        ).json()
        assert (api["tag"], api["environment"], api["verdict"]) == ("prod", "", "yes")
        assert [(p["consumer"], p["live"]) for p in api["pairs"]] == [
            ("orders", "latest tagged prod")
        ]
        both = client.get(
            "/api/v1/can-i-deploy",
            params={"service": "payments", "version": "1", "tag": "prod", "environment": "x"},
        )
        assert both.status_code == 422
        assert both.json()["detail"] == "give either environment or tag (the one to deploy to)"


def test_the_tag_question_costs_the_same_however_many_unrelated_versions_carry_the_tag(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    """A fixed number of statements per answer (counted, not timed), before and after 12
    unrelated services publish 3 versions each, all tagged prod (more rows under the tag than
    the partners have)."""
    for service in ("payments", "inventory", "orders"):
        publish(registry, service, "1")
        registry.add_tags(service, "1", ["prod"])

    def statements() -> int:
        sent: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            sent.append(statement)

        event.listen(registry.engine, "before_cursor_execute", count)
        try:
            decision = can_i_deploy_to_tag(registry, "orders", "1", "prod")
        finally:
            event.remove(registry.engine, "before_cursor_execute", count)
        assert decision.deployable  # the same two satisfied pairs each time
        return len(sent)

    statements()  # the first answer stores the static results; later ones read them
    before = statements()
    for number in range(12):
        for version in range(3):
            registry.add_contracts(f"unrelated-{number}", str(version), [], tags=["prod"])
    assert statements() == before


def test_the_latest_pact_of_every_integration_a_page_at_a_time(broker: TestClient) -> None:
    assert broker.get("/").json()["_links"]["pb:latest-pact-versions"]["href"] == (
        f"{BASE}/pacts/latest"
    )

    def rows(page: Any) -> list[tuple[str, str, str]]:
        return [
            (
                p["_embedded"]["consumer"]["name"],
                p["_embedded"]["consumer"]["_embedded"]["version"]["number"],
                p["_embedded"]["provider"]["name"],
            )
            for p in page["pacts"]
        ]

    # Two integrations with payments: billing's newest version is 2.0.0, orders' 1.2.0.
    first = broker.get("/pacts/latest", params={"pageSize": 1}).json()
    assert rows(first) == [("billing", "2.0.0", "payments")]
    second = broker.get(first["_links"]["next"]["href"]).json()
    assert rows(second) == [("orders", "1.2.0", "payments")]
    assert "next" not in second["_links"]
    assert _described(broker, second["pacts"][0]["_links"]["self"]["href"]) == "orders 1.2.0"
    assert rows(broker.get("/pacts/latest").json()) == rows(first) + rows(second)
    assert broker.get("/pacts/latest", params={"cursor": "nonsense"}).status_code == 400


def test_latest_pacts_pages_by_key_on_both_databases(registry: SqlRegistry) -> None:
    """orders 1 and 2 hold pacts with payments and with ledger, billing 1 with payments: three
    integrations, the newest version of each, two rows per page."""
    for consumer, version, providers in [
        ("orders", "1", ["payments", "ledger"]),
        ("billing", "1", ["payments"]),
        ("orders", "2", ["payments", "ledger"]),
    ]:
        files = [
            ContractFile(f"pacts/{consumer}-{p}.json", Role.PACT, _pact(consumer, p, version), p)
            for p in providers
        ]
        registry.add_contracts(consumer, version, files)

    first = registry.latest_pacts(2)
    assert [(p.consumer, p.consumer_version, p.provider) for p, _ in first] == [
        ("billing", "1", "payments"),
        ("orders", "2", "ledger"),
    ]
    last = first[-1][0]
    rest = registry.latest_pacts(2, (last.consumer, last.provider, last.path))
    assert [(p.consumer, p.consumer_version, p.provider) for p, _ in rest] == [
        ("orders", "2", "payments")
    ]
    assert all(moment.tzinfo is not None for _, moment in first + rest)
