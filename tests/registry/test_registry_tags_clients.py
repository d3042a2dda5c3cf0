"""Tags through the real Pact clients against a real server (`apigov registry serve`, 127.0.0.1):
the Rust Pact CLI's `create-version-tag`, `describe-version --latest TAG`, `can-i-deploy --to
TAG` (and `--latest TAG`), `delete-version-tag`, `list-pacticipants` and
`list-latest-pact-versions`; pact-python's Verifier with tag selectors and a fallback tag.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from registry_support import CLIENT_ENVIRONMENT, run_pact_broker, serve_registry
from test_registry_broker_clients import PaymentsProvider, _serve_in_thread

from apigov.registry.domain import ContractFile, Role
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS


def _publish(registry: SqlRegistry, service: str, version: str) -> None:
    collected = collect_service_folder(CONTRACTS / service, service, Loader())
    registry.publish(service, version, collected.files, metadata=collected.metadata)


def test_pact_cli_tags_versions_and_asks_can_i_deploy_to_a_tag(
    tmp_path: Path, pact_broker_cli: Path
) -> None:
    location = str(tmp_path / "registry.db")
    registry = SqlRegistry(location)
    for service in ("payments", "inventory", "orders"):
        _publish(registry, service, "1.0.0")
    registry.close()

    with serve_registry(location, "--no-auth") as url:

        def pact_broker(*args: str) -> subprocess.CompletedProcess[str]:
            return run_pact_broker(pact_broker_cli, url, *args)

        def tag(service: str, name: str) -> subprocess.CompletedProcess[str]:
            return pact_broker(
                "create-version-tag", "--pacticipant", service, "--version", "1.0.0",
                "--tag", name,
            )  # fmt: skip

        to_prod = ("can-i-deploy", "--pacticipant", "orders", "--version", "1.0.0",
                   "--to", "prod")  # fmt: skip
        tagged = [tag("payments", "prod"), tag("orders", "prod")]
        without_inventory = pact_broker(*to_prod)
        tagged.append(tag("inventory", "prod"))
        with_inventory = pact_broker(*to_prod)
        described = pact_broker("describe-version", "--pacticipant", "orders", "--latest", "prod")
        latest_prod = pact_broker(
            "can-i-deploy", "--pacticipant", "orders", "--latest", "prod", "--to", "prod"
        )
        deleted = pact_broker(
            "delete-version-tag", "--pacticipant", "inventory", "--version", "1.0.0",
            "--tag", "prod",
        )  # fmt: skip
        deleted_again = pact_broker(
            "delete-version-tag", "--pacticipant", "inventory", "--version", "1.0.0",
            "--tag", "prod",
        )  # fmt: skip
        after_delete = pact_broker(*to_prod)
        listed = pact_broker("list-pacticipants", "--output", "table")
        latest_pacts = pact_broker("list-latest-pact-versions", "--output", "json")

    assert [t.returncode for t in tagged] == [0, 0, 0], [t.stdout + t.stderr for t in tagged]
    assert "with tag 'prod' - Success" in tagged[0].stdout

    # inventory carries no prod tag yet: its pair is the explicit "not tagged" answer.
    assert without_inventory.returncode == 1, without_inventory.stdout
    assert "❌ Computer says no" in without_inventory.stdout
    assert (
        "orders@1.0.0 -> inventory [-] pacts/orders-inventory.json: no version of inventory "
        "carries tag prod" in without_inventory.stdout
    )
    assert with_inventory.returncode == 0, with_inventory.stdout
    assert "✅ Computer says yes" in with_inventory.stdout
    assert (
        "orders@1.0.0 -> payments@1.0.0 [latest tagged prod] pacts/orders-payments.json: "
        "static compatibility passed" in with_inventory.stdout
    )
    assert described.returncode == 0, described.stdout + described.stderr
    assert " 1.0.0 " in described.stdout
    assert latest_prod.returncode == 0, latest_prod.stdout

    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert "Successfully deleted tag 'prod' from version '1.0.0' of pacticipant 'inventory'" in (
        deleted.stdout
    )
    assert "was not found (may have already been deleted)" in deleted_again.stdout
    assert after_delete.returncode == 1
    assert "no version of inventory carries tag prod" in after_delete.stdout
    assert listed.returncode == 0, listed.stdout + listed.stderr
    names = [n for n in ("payments", "inventory", "orders") if f'"{n}"' in listed.stdout]
    assert names == ["payments", "inventory", "orders"], listed.stdout
    # orders' two integrations, each with the pact of its only version.
    assert latest_pacts.returncode == 0, latest_pacts.stdout + latest_pacts.stderr
    shown = json.loads(latest_pacts.stdout)
    assert [
        (p["_embedded"]["consumer"]["name"], p["_embedded"]["provider"]["name"])
        for p in shown["pacts"]
    ] == [("orders", "inventory"), ("orders", "payments")]

    registry = SqlRegistry(location)
    try:
        assert registry.version_tags("inventory", "1.0.0") == []
        assert registry.version_tags("orders", "1.0.0") == ["prod"]
    finally:
        registry.close()


def test_pact_python_verifier_picks_pacts_by_tag_with_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orders 1.0.0 (tagged prod) and 2.0.0 (tagged feat-x: a receipt endpoint payments lacks);
    billing has no prod version, only one tagged main. The verifier asks for the latest prod
    version of each consumer, falling back to main: orders 1.0.0 and billing's main pact are
    verified, orders 2.0.0 (not prod) is not."""
    from pact import Verifier

    for name in ("PACT_DO_NOT_TRACK", "NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, CLIENT_ENVIRONMENT[name])
    location = str(tmp_path / "registry.db")
    orders = (CONTRACTS / "orders" / "pacts" / "orders-payments.json").read_bytes()
    document = json.loads(orders)
    feature = json.dumps(
        {
            **document,
            "interactions": [
                *document["interactions"],
                {
                    "description": "a request for a receipt",
                    "request": {"method": "GET", "path": "/v1/receipts/1"},
                    "response": {"status": 200},
                },
            ],
        }
    ).encode()
    # billing's pact: the first interaction of orders', under billing's name.
    billing = json.dumps(
        {**document, "consumer": {"name": "billing"}, "interactions": document["interactions"][:1]}
    ).encode()
    registry = SqlRegistry(location)
    for consumer, version, content, tags in [
        ("orders", "1.0.0", orders, ["prod"]),
        ("orders", "2.0.0", feature, ["feat-x"]),
        ("billing", "5.0.0", billing, ["main"]),
    ]:
        pact = ContractFile(f"pacts/{consumer}-payments.json", Role.PACT, content, "payments")
        registry.add_contracts(consumer, version, [pact], tags=tags)
    registry.close()

    provider = PaymentsProvider()
    with serve_registry(location, "--no-auth") as broker, _serve_in_thread(provider.app) as url:
        (
            Verifier("payments", host="127.0.0.1")
            .add_transport(url=url)
            .broker_source(broker, selector=True)
            .consumer_version(tag="prod", latest=True, fallback_tag="main")
            .build()
            .state_handler(provider.state, teardown=True)
            .set_publish_options(version="7.0.0")
            .verify()
        )

    registry = SqlRegistry(location)
    try:
        sha = {name: ContractFile("p", Role.PACT, c).sha256 for name, c in
               [("orders", orders), ("billing", billing), ("feature", feature)]}  # fmt: skip
        verified = {
            consumer: {
                r.pact_sha256: r.success
                for r in registry.verifications("payments", "7.0.0", consumer)
            }
            for consumer in ("orders", "billing")
        }
        assert verified == {"orders": {sha["orders"]: True}, "billing": {sha["billing"]: True}}
        assert registry.verified_pacts("payments", [sha["feature"]]) == set()
    finally:
        registry.close()
