"""The SQL store's queries for the Pact Broker API subset, on SQLite and PostgreSQL: versions
that grow pact by pact, environments, the latest version, pacts held with a provider, and which
pact contents a provider verified."""

from __future__ import annotations

import pytest
from registry_support import pact_file, spec_file

from apigov.registry.domain import (
    EnvironmentRecord,
    PactPublication,
    VersionConflictError,
    VersionSummary,
    spec_digest,
    version_digest,
)
from apigov.registry.sql import SqlRegistry

PAY = b'{"consumer": {"name": "orders"}, "provider": {"name": "payments"}, "interactions": []}'
PAY_2 = b'{"consumer": {"name": "orders"}, "provider": {"name": "payments"}, "interactions": [1]}'
STOCK = b'{"consumer": {"name": "orders"}, "provider": {"name": "inventory"}, "interactions": []}'


def test_a_version_grows_file_by_file_and_keeps_each_file_forever(registry: SqlRegistry) -> None:
    payments = pact_file("pacts/orders-payments.json", PAY, "payments")
    inventory = pact_file("pacts/orders-inventory.json", STOCK, "inventory")

    first = registry.add_contracts("orders", "1", [payments], branch="main", actor="ci")
    assert (first.created, first.new_contents) == (True, frozenset({payments.sha256}))
    second = registry.add_contracts("orders", "1", [inventory], branch="feat", actor="ci")
    assert (second.created, second.new_contents) == (True, frozenset({inventory.sha256}))
    same = registry.add_contracts("orders", "1", [payments])
    assert (same.created, same.new_contents) == (False, frozenset())
    with pytest.raises(VersionConflictError) as conflict:
        registry.add_contracts("orders", "1", [pact_file(payments.path, PAY_2, "payments")])
    assert conflict.value.changed == ["pacts/orders-payments.json"]

    record = registry.version("orders", "1")
    assert record is not None
    # A version has one branch: the first one given stays.
    assert record.branch == "main"
    assert [f.path for f in record.files] == [inventory.path, payments.path]
    # The digest covers everything the version holds now, as if it was published at once, so
    # `apigov publish` of the same files is acknowledged as the same content.
    assert record.digest == version_digest([inventory, payments])
    assert registry.publish("orders", "1", [payments, inventory], branch="main").created is False
    actions = [(a.actor, a.action, a.subject) for a in registry.audit_log()]
    assert actions == [("ci", "add-contracts", "orders@1"), ("ci", "add-contracts", "orders@1")]


def test_an_empty_addition_creates_a_provider_version_and_sets_a_missing_branch(
    registry: SqlRegistry,
) -> None:
    spec = spec_file("openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths: {}\n")
    registry.publish("payments", "1", [spec])
    assert registry.add_contracts("payments", "1", [], branch="main").created is False
    record = registry.version("payments", "1")
    assert record is not None
    assert record.branch == "main"
    assert record.spec_digest == spec_digest([spec])

    created = registry.add_contracts("payments", "2", [])
    assert created.created is True
    assert created.files == ()
    empty = registry.version("payments", "2")
    assert empty is not None
    assert (empty.files, empty.spec_digest, empty.branch) == ((), None, None)


def test_environments_latest_versions_and_pacts_held_with_a_provider(
    registry: SqlRegistry,
) -> None:
    pay = pact_file("pacts/orders-payments.json", PAY, "payments")
    pay_2 = pact_file("pacts/orders-payments.json", PAY_2, "payments")
    stock = pact_file("pacts/orders-inventory.json", STOCK, "inventory")
    registry.add_contracts("orders", "1", [pay, stock], branch="main")
    registry.add_contracts("orders", "2", [pay_2], branch="feat")
    registry.add_contracts(
        "billing", "7", [pact_file("pacts/billing-payments.json", PAY, "payments")]
    )
    registry.ensure_environment("staging")
    registry.ensure_environment("production", production=True)

    assert registry.environments() == [
        EnvironmentRecord("production", True),
        EnvironmentRecord("staging", False),
    ]
    assert registry.latest_version("orders") == VersionSummary("orders", "2", "feat")
    assert registry.latest_version("orders", "main") == VersionSummary("orders", "1", "main")
    assert registry.latest_version("orders", "nope") is None
    assert registry.latest_version("nobody") is None
    assert registry.pact_publications("payments") == [
        PactPublication("orders", "1", "main", "payments", pay.path, pay.sha256),
        PactPublication("orders", "2", "feat", "payments", pay_2.path, pay_2.sha256),
        PactPublication(
            "billing", "7", None, "payments", "pacts/billing-payments.json", pay.sha256
        ),
    ]
    assert [p.consumer_version for p in registry.pact_publications("payments", "orders")] == [
        "1",
        "2",
    ]
    assert registry.pact_publications("inventory") == [
        PactPublication("orders", "1", "main", "inventory", stock.path, stock.sha256)
    ]


def test_verified_pacts_are_the_green_ones_of_the_provider_on_a_branch(
    registry: SqlRegistry,
) -> None:
    pay = pact_file("pacts/orders-payments.json", PAY, "payments")
    pay_2 = pact_file("pacts/orders-payments.json", PAY_2, "payments")
    registry.add_contracts("orders", "1", [pay])
    registry.add_contracts("orders", "2", [pay_2])
    registry.add_contracts("payments", "10", [], branch="main")
    registry.add_contracts("payments", "11", [], branch="feat")
    registry.record_verification("payments", "10", "orders", pay.sha256, True)
    registry.record_verification("payments", "10", "orders", pay_2.sha256, False)
    registry.record_verification("payments", "11", "orders", pay_2.sha256, True)

    both = [pay.sha256, pay_2.sha256]
    assert registry.verified_pacts("payments", both) == {pay.sha256, pay_2.sha256}
    assert registry.verified_pacts("payments", both, branch="main") == {pay.sha256}
    assert registry.verified_pacts("payments", both, branch="feat") == {pay_2.sha256}
    assert registry.verified_pacts("inventory", both) == set()
    assert registry.verified_pacts("payments", []) == set()
