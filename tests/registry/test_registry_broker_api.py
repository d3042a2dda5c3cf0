"""The Pact Broker API subset, in process (on SQLite): the index, publishing pacts (idempotent,
409 with a diff), pacts for verification with consumer version selectors and pending status,
verification results, environments, deployments and releases, the matrix / can-i-deploy, auth.

The real Pact clients talking to a real server are in test_registry_broker_clients.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apigov.registry.domain import BrokerRegistry, ContractFile, Role
from apigov.registry.gate import Policy
from apigov.registry.publishing import collect_service_folder
from apigov.registry.server.app import create_app
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.server.broker_hal import environment_id
from apigov.spec.loader import Loader
from helpers import CONTRACTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BASE = "http://testserver"


def _pact(consumer: str, provider: str, *descriptions: str) -> bytes:
    document = {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": [
            {
                "description": d,
                "request": {"method": "GET", "path": "/x"},
                "response": {"status": 200},
            }
            for d in descriptions
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    return json.dumps(document, indent=2).encode()


def _contract(consumer: str, provider: str, content: bytes) -> dict[str, Any]:
    return {
        "consumerName": consumer,
        "providerName": provider,
        "specification": "pact",
        "contentType": "application/json",
        "content": base64.b64encode(content).decode(),
    }


def _publish(
    client: TestClient, consumer: str, version: str, *contracts: dict[str, Any], **extra: Any
) -> Any:
    body = {
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version,
        "contracts": list(contracts),
        **extra,
    }
    return client.post("/contracts/publish", json=body)


def _registry(client: TestClient) -> BrokerRegistry:
    registry: BrokerRegistry = client.app.state.registry  # type: ignore[attr-defined]
    return registry


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # SQLite only: the API is storage-independent, and the queries it adds to the SQL store are
    # tested on SQLite and PostgreSQL in test_registry_broker_store.py.
    registry = str(tmp_path / "registry.db")
    with TestClient(create_app(registry, auth_required=False)) as test_client:
        yield test_client


# ---- index and publishing ------------------------------------------------------------------


def test_the_index_links_every_relation_pact_clients_follow(client: TestClient) -> None:
    answer = client.get("/", headers={"Accept": "application/hal+json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/hal+json")
    links = answer.json()["_links"]
    assert links["pb:publish-contracts"]["href"] == f"{BASE}/contracts/publish"
    assert links["pb:environments"]["href"] == f"{BASE}/environments"
    templated = {
        "pb:latest-provider-pacts": "/pacts/provider/{provider}/latest",
        "pb:provider-pacts-for-verification": "/pacts/provider/{provider}/for-verification",
        "pb:pacticipant": "/pacticipants/{pacticipant}",
        "pb:pacticipant-version": "/pacticipants/{pacticipant}/versions/{version}",
        "pb:latest-version": "/pacticipants/{pacticipant}/latest-version",
        "pb:environment": "/environments/{uuid}",
        "pb:can-i-deploy-pacticipant-version-to-environment": (
            "/can-i-deploy?pacticipant={pacticipant}&version={version}&environment={environment}"
        ),
    }
    for relation, path in templated.items():
        assert links[relation] == {
            "href": BASE + path,
            "title": links[relation]["title"],
            "templated": True,
        }, relation


def test_a_version_grows_pact_by_pact_and_the_same_pact_again_is_acknowledged(
    client: TestClient,
) -> None:
    with_payments = _pact("orders", "payments", "pay")
    with_inventory = _pact("orders", "inventory", "reserve")
    first = _publish(
        client, "orders", "1.0.0", _contract("orders", "payments", with_payments), branch="main"
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["notices"][0] == {
        "type": "success",
        "text": "Published: orders version 1.0.0 on branch main",
    }
    assert body["_links"]["pb:contracts"][0]["href"] == (
        f"{BASE}/pacts/provider/payments/consumer/orders/version/1.0.0"
    )
    assert body["_embedded"]["version"]["number"] == "1.0.0"

    second = _publish(client, "orders", "1.0.0", _contract("orders", "inventory", with_inventory))
    assert second.status_code == 200
    again = _publish(client, "orders", "1.0.0", _contract("orders", "payments", with_payments))
    assert again.status_code == 200
    assert again.json()["notices"][0]["text"] == "Already published: orders version 1.0.0"

    record = _registry(client).version("orders", "1.0.0")
    assert record is not None
    assert record.branch == "main"
    assert [(f.path, f.role, f.provider) for f in record.files] == [
        ("pacts/orders-inventory.json", Role.PACT, "inventory"),
        ("pacts/orders-payments.json", Role.PACT, "payments"),
    ]

    pact = client.get("/pacts/provider/payments/consumer/orders/version/1.0.0")
    assert pact.status_code == 200
    document = pact.json()
    links = document.pop("_links")
    assert document == json.loads(with_payments)
    sha = ContractFile("p", Role.PACT, with_payments).sha256
    assert links["pb:publish-verification-results"]["href"] == (
        f"{BASE}/pacts/provider/payments/consumer/orders/pact-version/{sha}/verification-results"
    )
    assert links["pb:provider"] == {"href": f"{BASE}/pacticipants/payments", "name": "payments"}
    latest = client.get("/pacts/provider/payments/consumer/orders/latest").json()
    assert latest["interactions"][0]["description"] == "pay"
    assert client.get("/pacts/provider/payments/consumer/orders/version/9.9.9").status_code == 404


def test_other_content_for_a_published_pact_is_409_with_a_diff(client: TestClient) -> None:
    before = _pact("orders", "payments", "authorise a payment")
    after = _pact("orders", "payments", "authorise a card payment")
    assert _publish(client, "orders", "1.0.0", _contract("orders", "payments", before)).is_success
    answer = _publish(client, "orders", "1.0.0", _contract("orders", "payments", after))
    assert answer.status_code == 409
    body = answer.json()
    assert body["errors"]["contracts"] == [
        "Cannot change the content of pacts/orders-payments.json of orders version 1.0.0: "
        "published versions are immutable. Publish a new version instead."
    ]
    diff = body["notices"][0]["text"].splitlines()
    assert diff[0] == "--- pacts/orders-payments.json (published)"
    assert diff[1] == "+++ pacts/orders-payments.json (this request)"
    assert '-      "description": "authorise a payment",' in diff
    assert '+      "description": "authorise a card payment",' in diff
    stored = _registry(client).version("orders", "1.0.0")
    assert stored is not None
    assert stored.files[0].sha256 == ContractFile("p", Role.PACT, before).sha256


def test_publishing_refuses_what_is_not_a_pact_of_the_publishing_consumer(
    client: TestClient,
) -> None:
    pact = _pact("orders", "payments", "pay")
    cases = {
        "contracts[0]: only pact contracts are accepted here, not 'oas'": {
            **_contract("orders", "payments", pact),
            "specification": "oas",
        },
        "contracts[0]: the consumer 'billing' is not the publishing pacticipant 'orders'": (
            _contract("billing", "payments", _pact("billing", "payments", "pay"))
        ),
        "contracts[0]: content is not base64-encoded JSON": {
            **_contract("orders", "payments", pact),
            "content": "not base64!",
        },
        "contracts[0]: the pact names consumer 'orders' and provider 'payments', the request "
        "'orders' and 'shipping'": _contract("orders", "shipping", pact),
        'contracts[0]: not a valid pact: interactions: "nope" is not of type "array"': (
            _contract(
                "orders",
                "payments",
                b'{"consumer": {"name": "orders"}, "provider": {"name": "payments"}, '
                b'"interactions": "nope"}',
            )
        ),
        "contracts[0]: provider name '../x' is not allowed (no '/', no leading '.', 200 "
        "characters)": _contract("orders", "../x", pact),
    }
    for message, contract in cases.items():
        answer = _publish(client, "orders", "1.0.0", contract)
        assert answer.status_code == 400, message
        assert answer.json() == {"errors": {"contracts": [message]}}
    assert _registry(client).version("orders", "1.0.0") is None


def test_tags_sent_with_a_publication_are_stored_on_the_version(client: TestClient) -> None:
    answer = _publish(
        client,
        "orders",
        "1.0.0",
        _contract("orders", "payments", _pact("orders", "payments", "pay")),
        tags=["v1", "prod"],
    )
    assert answer.status_code == 200
    assert {"type": "success", "text": "Tagged orders version 1.0.0: v1, prod"} in answer.json()[
        "notices"
    ]
    assert _registry(client).version_tags("orders", "1.0.0") == ["prod", "v1"]


# ---- pacts for verification ----------------------------------------------------------------

# Every pact the selector tests hold with `payments`, by label; creation order matters ("latest").
PACTS = {
    "A0": _pact("orders", "payments", "a0"),
    "B0": _pact("billing", "payments", "b0"),
    "A1": _pact("orders", "payments", "a1"),
    "A2": _pact("orders", "payments", "a2"),
    "B1": _pact("billing", "payments", "b1"),
    "A3": _pact("orders", "payments", "a3"),
}
LABELS = {ContractFile("p", Role.PACT, content).sha256: label for label, content in PACTS.items()}


@pytest.fixture
def fleet(client: TestClient) -> TestClient:
    """orders and billing versions on branches, deployed and released, all holding payments pacts.

    orders 0.9.0 (no branch, A0, deployed to production), billing 2.0.0 (B0, released to
    production), orders 1.0.0 (main, A1), orders 1.1.0 (main, A2), orders 1.2.0 (main, A2 again),
    billing 3.0.0 (master, B1), orders 2.0.0 (feat-x, A3).
    """
    registry = _registry(client)
    for consumer, version, label, branch in [
        ("orders", "0.9.0", "A0", None),
        ("billing", "2.0.0", "B0", None),
        ("orders", "1.0.0", "A1", "main"),
        ("orders", "1.1.0", "A2", "main"),
        ("orders", "1.2.0", "A2", "main"),
        ("billing", "3.0.0", "B1", "master"),
        ("orders", "2.0.0", "A3", "feat-x"),
    ]:
        pact = ContractFile(f"pacts/{consumer}-payments.json", Role.PACT, PACTS[label], "payments")
        registry.add_contracts(consumer, version, [pact], branch=branch)
    registry.ensure_environment("production", production=True)
    registry.ensure_environment("staging")
    registry.record_deployment("orders", "0.9.0", "production")
    registry.record_release("billing", "2.0.0", "production")
    return client


def _for_verification(client: TestClient, *selectors: dict[str, Any], **extra: Any) -> Any:
    body = {"consumerVersionSelectors": list(selectors), **extra}
    navigated = client.get("/pacts/provider/payments/for-verification").json()
    answer = client.post(navigated["_links"]["self"]["href"], json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["_embedded"]["pacts"]


def _labels(pacts: list[dict[str, Any]]) -> set[str]:
    return {LABELS[p["_links"]["self"]["href"].rsplit("/", 1)[1]] for p in pacts}


SELECTOR_CASES: list[tuple[list[dict[str, Any]], set[str]]] = [
    ([{"mainBranch": True}], {"A2", "B1"}),
    ([{"branch": "feat-x"}], {"A3"}),
    ([{"branch": "main", "latest": False}], {"A1", "A2"}),
    ([{"deployedOrReleased": True}], {"A0", "B0"}),
    ([{"deployed": True}], {"A0"}),
    ([{"released": True}], {"B0"}),
    ([{"environment": "production"}], {"A0", "B0"}),
    ([{"environment": "staging"}], set()),
    ([{"mainBranch": True, "consumer": "billing"}], {"B1"}),
    ([{"latest": True}], {"A3", "B1"}),
    ([], {"A3", "B1"}),
    ([{"mainBranch": True}, {"deployedOrReleased": True}], {"A0", "A2", "B0", "B1"}),
]


def test_consumer_version_selectors_pick_the_pacts_the_broker_would(fleet: TestClient) -> None:
    # One fleet for every case: seeding it is the expensive part.
    for selectors, expected in SELECTOR_CASES:
        assert _labels(_for_verification(fleet, *selectors)) == expected, selectors


def test_matching_branch_uses_the_provider_version_branch(fleet: TestClient) -> None:
    pacts = _for_verification(fleet, {"matchingBranch": True}, providerVersionBranch="feat-x")
    assert _labels(pacts) == {"A3"}


def test_one_content_held_by_several_versions_is_verified_once_and_says_why(
    fleet: TestClient,
) -> None:
    pacts = _for_verification(fleet, {"branch": "main", "latest": False})
    by_label = {LABELS[p["_links"]["self"]["href"].rsplit("/", 1)[1]]: p for p in pacts}
    assert len(pacts) == 2
    assert by_label["A2"]["shortDescription"] == (
        "every version from branch 'main' (orders@1.1.0, orders@1.2.0)"
    )
    notice = by_label["A2"]["verificationProperties"]["notices"][0]
    assert notice["when"] == "before_verification"
    assert notice["text"].endswith(
        "matches the following configured selection criteria: every version from branch "
        "'main' (orders@1.1.0, orders@1.2.0)"
    )
    # The pact's own link serves its content.
    content = fleet.get(by_label["A2"]["_links"]["self"]["href"]).json()
    assert content["interactions"][0]["description"] == "a2"


def test_latest_provider_pacts_link_the_newest_pact_of_each_consumer(fleet: TestClient) -> None:
    links = fleet.get("/pacts/provider/payments/latest").json()["_links"]
    assert [(p["name"], p["href"]) for p in links["pb:pacts"]] == [
        ("billing", f"{BASE}/pacts/provider/payments/consumer/billing/version/3.0.0"),
        ("orders", f"{BASE}/pacts/provider/payments/consumer/orders/version/2.0.0"),
    ]


def test_fallback_selectors_without_what_they_fall_back_from_are_refused(
    fleet: TestClient,
) -> None:
    # The Broker documents fallbackTag for the latest tagged version only, and fallbackBranch
    # for a branch. (What they pick: test_registry_tags.py.)
    cases = [
        ({"tag": "prod", "fallbackTag": "main"}, "'fallbackTag' needs 'tag' and 'latest': true"),
        ({"fallbackTag": "main", "latest": True}, "'fallbackTag' needs 'tag' and 'latest': true"),
        (
            {"mainBranch": True, "fallbackBranch": "main"},
            "'fallbackBranch' needs 'branch' (and picks its latest version)",
        ),
    ]
    for selector, message in cases:
        answer = fleet.post(
            "/pacts/provider/payments/for-verification",
            json={"consumerVersionSelectors": [selector]},
        )
        assert answer.status_code == 400, selector
        assert answer.json()["errors"]["consumerVersionSelectors"] == [message]


def test_results_published_to_the_pact_link_are_verification_evidence_and_end_pending(
    fleet: TestClient,
) -> None:
    selector = {"mainBranch": True, "consumer": "orders"}
    (pact,) = _for_verification(fleet, selector, includePendingStatus=True)
    assert pact["verificationProperties"]["pending"] is True
    document = fleet.get(pact["_links"]["self"]["href"]).json()
    publish = document["_links"]["pb:publish-verification-results"]["href"]

    # A failed verification does not end the pending state; a green one on branch main does,
    # for verifiers on main only.
    failed = fleet.post(publish, json={"success": False, "providerApplicationVersion": "5.0.0"})
    assert failed.status_code == 201
    (pact,) = _for_verification(fleet, selector, includePendingStatus=True)
    assert pact["verificationProperties"]["pending"] is True
    branch = fleet.put("/pacticipants/payments/branches/main/versions/5.1.0", json={})
    assert branch.status_code == 201
    green = fleet.post(
        publish,
        json={
            "success": True,
            "providerApplicationVersion": "5.1.0",
            "testResults": [{"interactionId": "x", "success": True}],
        },
    )
    assert green.status_code == 201
    assert green.json()["providerApplicationVersion"] == "5.1.0"
    on_main = _for_verification(
        fleet, selector, includePendingStatus=True, providerVersionBranch="main"
    )
    on_other = _for_verification(
        fleet, selector, includePendingStatus=True, providerVersionBranch="other"
    )
    assert on_main[0]["verificationProperties"]["pending"] is False
    assert on_other[0]["verificationProperties"]["pending"] is True

    registry = _registry(fleet)
    a2 = ContractFile("p", Role.PACT, PACTS["A2"]).sha256
    assert [
        (r.pact_sha256, r.success) for r in registry.verifications("payments", "5.0.0", "orders")
    ] == [(a2, False)]
    assert [
        (r.pact_sha256, r.success) for r in registry.verifications("payments", "5.1.0", "orders")
    ] == [(a2, True)]
    provider_version = registry.version("payments", "5.1.0")
    assert provider_version is not None
    assert provider_version.branch == "main"
    assert provider_version.files == ()


def test_results_for_a_pact_nobody_published_are_404(fleet: TestClient) -> None:
    answer = fleet.post(
        f"/pacts/provider/payments/consumer/orders/pact-version/{'0' * 64}/verification-results",
        json={"success": True, "providerApplicationVersion": "1"},
    )
    assert answer.status_code == 404
    assert _registry(fleet).version("payments", "1") is None


# ---- environments, deployments, the matrix ---------------------------------------------------


def test_environments_are_created_once_and_listed_with_a_stable_uuid(client: TestClient) -> None:
    created = client.post("/environments", json={"name": "production", "production": True})
    assert created.status_code == 201
    uuid = created.json()["uuid"]
    assert uuid == environment_id("production")
    again = client.post("/environments", json={"name": "production"})
    assert again.status_code == 409
    listed = client.get("/environments").json()["_embedded"]["environments"]
    assert [(e["name"], e["production"], e["uuid"]) for e in listed] == [("production", True, uuid)]
    assert client.get(f"/environments/{uuid}").json()["name"] == "production"
    assert client.get(f"/environments/{environment_id('staging')}").status_code == 404


def test_deployments_and_releases_go_through_the_version_links(fleet: TestClient) -> None:
    version = fleet.get("/pacticipants/orders/versions/1.1.0").json()
    assert version["number"] == "1.1.0"
    assert version["_embedded"]["branchVersions"] == [{"name": "main"}]
    deploy = {link["name"]: link["href"] for link in version["_links"]["pb:record-deployment"]}
    release = {link["name"]: link["href"] for link in version["_links"]["pb:record-release"]}
    assert set(deploy) == set(release) == {"production", "staging"}

    answer = fleet.post(deploy["production"], json={"applicationInstance": "blue"})
    assert answer.status_code == 201
    assert answer.json()["target"] == "blue"
    assert fleet.post(release["staging"], json={}).status_code == 201
    live = _registry(fleet).live_versions("production", ["orders"])
    assert [(v.number, v.via, v.target) for v in live] == [
        ("0.9.0", "deployed", ""),
        ("1.1.0", "deployed", "blue"),
    ]
    staged = _registry(fleet).live_versions("staging", ["orders"])
    assert [(v.number, v.via) for v in staged] == [("1.1.0", "released")]

    unknown_version = fleet.post(
        f"/pacticipants/orders/versions/7.7.7/deployed-versions/environment/"
        f"{environment_id('production')}",
        json={},
    )
    assert unknown_version.status_code == 400
    assert fleet.get("/pacticipants/orders/versions/7.7.7").status_code == 404
    assert fleet.get("/pacticipants/orders/latest-version").json()["number"] == "2.0.0"


def test_the_matrix_answers_from_the_gate(client: TestClient) -> None:
    """orders@1.0.0 holds a pact with payments: no until payments is deployed, then yes."""
    registry = _registry(client)
    payments = collect_service_folder(CONTRACTS / "payments", "payments", Loader())
    registry.publish("payments", "1.0.0", payments.files)
    pact = (CONTRACTS / "orders" / "pacts" / "orders-payments.json").read_bytes()
    assert _publish(client, "orders", "1.0.0", _contract("orders", "payments", pact)).is_success
    registry.ensure_environment("production")
    query = (
        "/matrix?q[][pacticipant]=orders&q[][version]=1.0.0&latestby=cvpv&environment=production"
    )

    no = client.get(query).json()
    assert no["summary"]["deployable"] is False
    assert no["summary"]["failed"] == 1
    assert no["matrix"][0]["provider"] == {"name": "payments", "version": None}
    assert no["notices"] == [
        {
            "type": "error",
            "text": "orders@1.0.0 -> payments [-] pacts/orders-payments.json: no version of "
            "payments is deployed or released in production",
        }
    ]

    ignoring = client.get(query + "&ignore[][pacticipant]=payments").json()
    assert ignoring["summary"]["deployable"] is True
    assert ignoring["matrix"][0]["ignored"] is True

    registry.record_deployment("payments", "1.0.0", "production")
    yes = client.get(query).json()
    assert yes["summary"] == {
        "deployable": True,
        "reason": "orders version 1.0.0 may be deployed to production: everything is satisfied",
        "success": 1,
        "failed": 0,
        "unknown": 0,
    }
    row = yes["matrix"][0]
    assert row["consumer"] == {"name": "orders", "version": {"number": "1.0.0"}}
    assert row["provider"] == {"name": "payments", "version": {"number": "1.0.0"}}
    assert row["verificationResult"]["success"] is True
    # The same answer through the Broker's can-i-deploy resource and a "latest" selector.
    direct = client.get(
        "/can-i-deploy",
        params={"pacticipant": "orders", "version": "1.0.0", "environment": "production"},
    ).json()
    assert direct["summary"]["deployable"] is True
    latest = client.get(
        "/matrix?q[][pacticipant]=orders&q[][latest]=true&latestby=cvpv&environment=production"
    ).json()
    assert latest["matrix"][0]["consumer"]["version"] == {"number": "1.0.0"}

    unknown = client.get(query.replace("production", "staging")).json()
    assert unknown["summary"]["deployable"] is False
    assert "environment 'staging' is not in the registry" in unknown["notices"][0]["text"]


def test_the_matrix_refuses_questions_the_gate_cannot_answer(client: TestClient) -> None:
    no_environment = client.get("/matrix?q[][pacticipant]=orders&q[][version]=1&latestby=cvp")
    assert no_environment.status_code == 400
    # A tag or an environment, not both (the gate answers for one of them).
    both = client.get(
        "/matrix?q[][pacticipant]=orders&q[][version]=1&latestby=cvp&tag=prod&environment=x"
    )
    assert both.status_code == 400
    assert both.json()["errors"]["q"] == [
        "apigov answers can-i-deploy for one pacticipant version and either an environment or "
        "a tag (--pacticipant P --version V, then --to-environment E or --to TAG)"
    ]


# ---- auth ----------------------------------------------------------------------------------


def test_publishing_needs_a_token_with_the_publish_scope(tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "registry.db"), auth_required=True)
    with TestClient(app) as client:
        tokens = TokenStore(app.state.registry.engine)
        reader = tokens.create("reader", Scope.READ)
        publisher = tokens.create("ci", Scope.PUBLISH)
        contract = _contract("orders", "payments", _pact("orders", "payments", "pay"))
        body = {
            "pacticipantName": "orders",
            "pacticipantVersionNumber": "1",
            "contracts": [contract],
        }

        assert client.get("/").status_code == 200  # reads are open unless --auth-reads
        assert client.post("/contracts/publish", json=body).status_code == 401
        as_reader = {"Authorization": f"Bearer {reader}"}
        assert client.post("/contracts/publish", json=body, headers=as_reader).status_code == 403
        as_publisher = {"Authorization": f"Bearer {publisher}"}
        answer = client.post("/contracts/publish", json=body, headers=as_publisher)
        assert answer.status_code == 200
        assert app.state.registry.audit_log()[-1].actor == "ci"


def test_selectors_that_contradict_themselves_are_refused(fleet: TestClient) -> None:
    cases = {
        "a selector picks versions by one criterion: a branch, or where they are live": {
            "mainBranch": True,
            "deployed": True,
        },
        "selector 'deployed' can only be true": {"deployed": False},
        "unknown selector criteria: newest": {"newest": True},
        "'matchingBranch' needs the request's providerVersionBranch": {"matchingBranch": True},
    }
    for message, selector in cases.items():
        answer = fleet.post(
            "/pacts/provider/payments/for-verification",
            json={"consumerVersionSelectors": [selector]},
        )
        assert answer.status_code == 400, message
        assert answer.json()["errors"]["consumerVersionSelectors"] == [message]


def test_a_provider_named_by_a_pact_is_a_pacticipant_before_it_publishes(
    fleet: TestClient,
) -> None:
    provider = fleet.get("/pacticipants/payments")
    assert provider.status_code == 200
    assert provider.json()["_links"]["pb:branch-version"] == {
        "href": f"{BASE}/pacticipants/payments/branches/{{branch}}/versions/{{version}}",
        "templated": True,
    }
    assert fleet.get("/pacticipants/nobody").status_code == 404


def test_with_verification_required_missing_results_are_unknown_until_published(
    client: TestClient,
) -> None:
    """deployable is null (the Broker's "unknown", what --retry-while-unknown waits on) until a
    green verification of the exact pact is published through the pact's own link."""
    client.app.state.policy = Policy(require_verification=True)  # type: ignore[attr-defined]
    registry = _registry(client)
    payments = collect_service_folder(CONTRACTS / "payments", "payments", Loader())
    registry.publish("payments", "1.0.0", payments.files)
    pact = (CONTRACTS / "orders" / "pacts" / "orders-payments.json").read_bytes()
    assert _publish(client, "orders", "1.0.0", _contract("orders", "payments", pact)).is_success
    registry.record_deployment("payments", "1.0.0", "production")
    query = (
        "/matrix?q[][pacticipant]=orders&q[][version]=1.0.0&latestby=cvpv&environment=production"
    )

    waiting = client.get(query).json()
    assert waiting["summary"]["deployable"] is None
    assert (waiting["summary"]["failed"], waiting["summary"]["unknown"]) == (0, 1)
    assert waiting["matrix"][0]["verificationType"] == "static compatibility and verification"

    document = client.get("/pacts/provider/payments/consumer/orders/version/1.0.0").json()
    link = document["_links"]["pb:publish-verification-results"]["href"]
    published = client.post(link, json={"success": True, "providerApplicationVersion": "1.0.0"})
    assert published.status_code == 201
    assert client.get(query).json()["summary"]["deployable"] is True


def test_undeployment_and_end_of_support_go_through_the_environment_listings(
    fleet: TestClient,
) -> None:
    production = fleet.get(f"/environments/{environment_id('production')}").json()["_links"]
    deployed_url = production["pb:currently-deployed-deployed-versions"]["href"]
    released_url = production["pb:currently-supported-released-versions"]["href"]
    (deployed,) = fleet.get(deployed_url, params={"pacticipant": "orders"}).json()["_embedded"][
        "deployedVersions"
    ]
    assert deployed["_embedded"] == {
        "pacticipant": {"name": "orders"},
        "version": {"number": "0.9.0"},
    }
    # No target: null, not "" (the Pact CLI tells "no application instance" by it).
    assert (deployed["target"], deployed["applicationInstance"]) == (None, None)
    (released,) = fleet.get(released_url, params={"pacticipant": "billing"}).json()["_embedded"][
        "releasedVersions"
    ]

    ended = fleet.patch(deployed["_links"]["self"]["href"], json={"currentlyDeployed": False})
    assert ended.status_code == 200
    assert ended.json()["currentlyDeployed"] is False
    unsupported = fleet.patch(
        released["_links"]["self"]["href"], json={"currentlySupported": False}
    )
    assert unsupported.status_code == 200
    registry = _registry(fleet)
    assert registry.live_versions("production", ["orders", "billing"]) == []
    # Gone from the listings; ending them again, or an id that is not one, is 404.
    assert fleet.get(deployed_url, params={"pacticipant": "orders"}).json()["_embedded"] == {
        "deployedVersions": []
    }
    again = fleet.patch(deployed["_links"]["self"]["href"], json={"currentlyDeployed": False})
    assert again.status_code == 404
    assert (
        fleet.patch(
            "/deployed-versions/bm90LWFuLWlk", json={"currentlyDeployed": False}
        ).status_code
        == 404
    )
