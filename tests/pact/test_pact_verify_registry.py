"""`apigov verify --consumers-from ENV`: the pacts live in an environment, from the registry."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from examples.services import orders

from apigov.pytest_plugin import serve_asgi
from apigov.registry import open_registry
from helpers import CONTRACTS, run_apigov

# The Pact core phones home after each verification unless told not to; never in tests.
os.environ["PACT_DO_NOT_TRACK"] = "true"

NOTIFICATIONS_PACT = CONTRACTS / "notifications" / "pacts" / "notifications-orders.json"
SHOWN = "notifications@2.0.0:pacts/notifications-orders.json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """orders (1.0.0, 1.0.1, 1.0.2: one version per test that records, so the tests do not
    depend on their order) and two consumers published with the real CLI; only
    notifications@2.0.0 is live in production (shipping@1.0.0, which also holds a pact with
    orders, is not)."""
    location = tmp_path_factory.mktemp("registry") / "registry.db"
    at = ["--registry", str(location)]
    steps = [
        ["publish", "contracts/orders", "--service", "orders", "--version", "1.0.0"],
        ["publish", "contracts/orders", "--service", "orders", "--version", "1.0.1"],
        ["publish", "contracts/orders", "--service", "orders", "--version", "1.0.2"],
        ["publish", "contracts/notifications", "--service", "notifications", "--version", "2.0.0"],
        ["publish", "contracts/shipping", "--service", "shipping", "--version", "1.0.0"],
        ["record-deployment", "notifications", "2.0.0", "--env", "production"],
        ["record-deployment", "orders", "1.0.0", "--env", "staging"],
    ]
    for step in steps:
        result = run_apigov(*step, *at)
        assert result.code == 0, (step, result.stdout, result.stderr)
    return location


@pytest.fixture
def orders_url() -> Iterator[str]:
    with serve_asgi(orders.create_app(provider_states=True)) as url:
        yield url


def verify_live(registry: Path, url: str, *extra: str) -> Any:
    return run_apigov(
        "verify",
        "--provider",
        "orders",
        "--consumers-from",
        "production",
        "--base-url",
        url,
        "--state-change-url",
        url + "/_pact/provider-states",
        "--message-url",
        url + "/_pact/messages",
        "--registry",
        str(registry),
        *extra,
    )


def stored_results(registry: Path, consumer: str, version: str) -> list[tuple[str, bool]]:
    store = open_registry(str(registry))
    try:
        return [
            (r.pact_sha256, r.success) for r in store.verifications("orders", version, consumer)
        ]
    finally:
        store.close()


def test_verifies_and_records_exactly_the_live_pairs(registry: Path, orders_url: str) -> None:
    result = verify_live(registry, orders_url, "--format", "json", "--record", "--version", "1.0.0")
    assert result.code == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    # notifications' pact only (shipping is not live in production): 2 messages + 1 request,
    # located at the published version, not at the temporary folder they were written to.
    assert sorted((f["id"], f["location"]["file"], f["location"]["line"]) for f in findings) == [
        ("verify-interaction-passed", SHOWN, 10),
        ("verify-interaction-passed", SHOWN, 132),
        ("verify-interaction-passed", SHOWN, 209),
    ]
    # The evidence is keyed by the published pact's bytes: the file publish read.
    published = hashlib.sha256(NOTIFICATIONS_PACT.read_bytes()).hexdigest()
    assert stored_results(registry, "notifications", "1.0.0") == [(published, True)]
    assert stored_results(registry, "shipping", "1.0.0") == []
    assert result.stderr == (
        f"Recorded verification of notifications's pact ({SHOWN}) against orders@1.0.0: passed.\n"
    )


def test_a_broken_producer_is_recorded_as_failed(
    registry: Path, orders_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish = orders.OrdersStore.publish

    def publish_renamed(store: orders.OrdersStore, event: dict[str, Any]) -> None:
        publish(store, event)
        # The defect under test: the event's `eventType` field is called `type` now.
        produced, _metadata = store.outbox[-1]
        produced["type"] = produced.pop("eventType")

    monkeypatch.setattr(orders.OrdersStore, "publish", publish_renamed)
    result = verify_live(registry, orders_url, "--record", "--version", "1.0.1")
    assert result.code == 1
    created = next(line for line in result.stdout.splitlines() if line.startswith(f"{SHOWN}:10:7"))
    assert "error    verify-body-mismatch" in created
    assert (
        "'an order.created event' given 'an order was placed': "
        "body at $.eventType: expected key 'eventType'"
    ) in created
    published = hashlib.sha256(NOTIFICATIONS_PACT.read_bytes()).hexdigest()
    assert stored_results(registry, "notifications", "1.0.1") == [(published, False)]


def test_an_environment_without_consumers_is_an_input_error(
    registry: Path, orders_url: str
) -> None:
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--consumers-from",
        "staging",
        "--base-url",
        orders_url,
        "--registry",
        str(registry),
    )
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"apigov: error: {registry}: no consumer version live in staging holds a pact with "
        "'orders'\n"
    )


def test_a_missing_registry_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--consumers-from",
        "production",
        "--base-url",
        "http://127.0.0.1:9",
        "--registry",
        str(missing),
    )
    assert result.code == 2
    assert "no registry here" in result.stderr
    assert not missing.exists()


def test_pact_and_consumers_from_exclude_each_other() -> None:
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--consumers-from",
        "production",
        "--pact",
        "contracts/",
        "--base-url",
        "http://127.0.0.1:9",
    )
    assert result.code == 2
    assert "give --pact or --consumers-from, not both" in result.stderr


def test_registry_refs_name_consumer_versions(registry: Path, orders_url: str) -> None:
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--pact",
        "shipping@1.0.0",
        "--pact",
        "notifications@production",  # the version live there: 2.0.0
        "--base-url",
        orders_url,
        "--state-change-url",
        orders_url + "/_pact/provider-states",
        "--message-url",
        orders_url + "/_pact/messages",
        "--registry",
        str(registry),
        "--format",
        "json",
        "--record",
        "--version",
        "1.0.2",
    )
    assert result.code == 0, result.stderr
    files = {f["location"]["file"] for f in json.loads(result.stdout)["findings"]}
    assert files == {SHOWN, "shipping@1.0.0:pacts/shipping-orders.json"}
    shipping_pact = CONTRACTS / "shipping" / "pacts" / "shipping-orders.json"
    published = hashlib.sha256(shipping_pact.read_bytes()).hexdigest()
    assert stored_results(registry, "shipping", "1.0.2") == [(published, True)]


def test_a_ref_to_an_unknown_version_is_an_input_error(registry: Path) -> None:
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--pact",
        "notifications@9.9",
        "--base-url",
        "http://127.0.0.1:9",
        "--registry",
        str(registry),
    )
    assert result.code == 2
    assert result.stderr == (
        f"apigov: error: {registry}: notifications@9.9: notifications has no version 9.9 "
        "and there is no environment '9.9'\n"
    )


def test_materialise_pacts_writes_the_published_bytes_of_each_version(
    registry: Path, tmp_path: Path
) -> None:
    from apigov.registry.refs import materialise_pacts

    store = open_registry(str(registry))
    try:
        versions = [
            record
            for service, number in [("notifications", "2.0.0"), ("orders", "1.0.0")]
            if (record := store.version(service, number)) is not None
        ]
        assert len(versions) == 2
        files = materialise_pacts(store, versions, "orders", tmp_path)
    finally:
        store.close()
    # orders holds no pact with itself as provider: only notifications' pact is written.
    assert [f.relative_to(tmp_path.resolve()).as_posix() for f in files] == [
        "notifications@2.0.0/pacts/notifications-orders.json"
    ]
    assert files[0].read_bytes() == NOTIFICATIONS_PACT.read_bytes()
