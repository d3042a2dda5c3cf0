"""can-i-deploy checks message pacts against the provider's AsyncAPI document (SQLite and
PostgreSQL), with the example fleet's real contracts.

The fleet: notifications holds one pact with orders that has two message interactions
(order.created, order.cancelled) and one HTTP interaction; orders publishes both an OpenAPI
document and asyncapi.yaml, whose payloads are schemas of that OpenAPI document. `orders 2`
below is orders with the same OpenAPI document and an AsyncAPI document whose order.cancelled
payload (a schema of its own, `events.yaml`) renames `orderNumber` to `orderReference`: the
consumer's order.cancelled message relies on `orderNumber`, which that schema no longer defines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import event

from apigov.findings import Level
from apigov.registry.compat import StaticChecker, contract_digest
from apigov.registry.domain import ContractFile, Role
from apigov.registry.gate import Answer, can_i_deploy
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS, write

RENAMED_CANCELLED_EVENT = """\
OrderCancelledEvent:
  type: object
  required: [eventId, eventType, occurredAt, orderId, orderReference, reason]
  properties:
    eventId: {type: string, format: uuid}
    eventType: {type: string, const: order.cancelled}
    occurredAt: {type: string, format: date-time}
    orderId: {type: string, format: uuid}
    orderReference: {type: string, pattern: '^ORD-[0-9]{8}$'}
    customerEmail: {type: string, format: email}
    reason: {$ref: 'openapi.yaml#/components/schemas/CancellationReason'}
    refund: {$ref: '../_shared/common.yaml#/components/schemas/Money'}
"""


def _collect(folder: Path, service: str) -> list[ContractFile]:
    # The specs refer to ../_shared: let them reach the fleet's top folder.
    collected = collect_service_folder(folder, service, Loader(root=folder.parent))
    assert collected.refused is None
    return collected.files


@pytest.fixture(scope="session")
def orders_renamed(tmp_path_factory: pytest.TempPathFactory) -> list[ContractFile]:
    top = tmp_path_factory.mktemp("renamed")
    folder = top / "orders"
    shutil.copytree(CONTRACTS / "orders", folder)
    shutil.copytree(CONTRACTS / "_shared", top / "_shared")
    events = folder / "asyncapi.yaml"
    text = events.read_text(encoding="utf-8")
    shared = "$ref: 'openapi.yaml#/components/schemas/OrderCancelledEvent'"
    assert text.count(shared) == 1
    events.write_text(text.replace(shared, "$ref: 'events.yaml#/OrderCancelledEvent'"))
    write(folder, "events.yaml", RENAMED_CANCELLED_EVENT)
    return _collect(folder, "orders")


@pytest.fixture
def fleet(registry: SqlRegistry) -> SqlRegistry:
    """orders 1 deployed to production; notifications 1 published, not deployed."""
    registry.publish("orders", "1", _collect(CONTRACTS / "orders", "orders"))
    registry.publish("notifications", "1", _collect(CONTRACTS / "notifications", "notifications"))
    registry.record_deployment("orders", "1", "production")
    return registry


def _orders_pair(registry: SqlRegistry, service: str, version: str) -> tuple[Answer, str]:
    decision = can_i_deploy(registry, service, version, "production")
    (pair,) = [p for p in decision.pairs if p.provider == "orders"]
    return pair.answer, pair.reason


def test_the_fleets_message_pact_passes_against_orders_asyncapi(fleet: SqlRegistry) -> None:
    assert _orders_pair(fleet, "notifications", "1") == (
        Answer.SATISFIED,
        "static compatibility passed",
    )
    # Both documents were checked: messages and HTTP, nothing left unchecked.
    consumer = fleet.version("notifications", "1")
    provider = fleet.version("orders", "1")
    assert consumer is not None and provider is not None
    (pact,) = [p for p in consumer.pacts if p.provider == "orders"]
    outcome = StaticChecker(fleet).outcome(consumer, pact, provider)
    assert outcome.cached  # stored by the can-i-deploy above
    ids = {f.id for f in outcome.findings}
    assert "compat-interaction-not-checked" not in ids
    assert "compat-message-field-optional" in ids  # the message interactions were read
    assert not [f for f in outcome.findings if f.level is Level.ERROR]


def test_a_renamed_payload_field_in_the_asyncapi_document_says_no(
    fleet: SqlRegistry, orders_renamed: list[ContractFile]
) -> None:
    fleet.publish("orders", "2", orders_renamed)
    first, second = fleet.version("orders", "1"), fleet.version("orders", "2")
    assert first is not None and second is not None
    # Same OpenAPI document, another AsyncAPI document: a new static result, not orders 1's.
    assert first.spec_digest == second.spec_digest
    assert contract_digest(first) != contract_digest(second)
    assert {f.path: f.role for f in second.files}["events.yaml"] is Role.ASYNCAPI_PART
    assert _orders_pair(fleet, "notifications", "1")[0] is Answer.SATISFIED  # caches orders 1
    fleet.record_deployment("orders", "2", "production")  # retires orders 1
    answer, reason = _orders_pair(fleet, "notifications", "1")
    assert answer is Answer.INCOMPATIBLE
    assert reason.startswith("static compatibility failed: 1 problem(s): ")
    assert "the consumer relies on message field /orderNumber" in reason
    assert "orders@2/asyncapi.yaml" in reason  # the published file, not a temporary folder
    # The provider side sees it too, before it deploys: orders 2 against notifications 1.
    fleet.record_deployment("notifications", "1", "production")
    answer, reason = _orders_pair(fleet, "orders", "2")
    assert answer is Answer.INCOMPATIBLE and "/orderNumber" in reason
    assert _orders_pair(fleet, "orders", "1")[0] is Answer.SATISFIED


def test_a_message_pact_against_a_provider_without_asyncapi_is_left_unchecked(
    registry: SqlRegistry, tmp_path: Path
) -> None:
    """Today's answer, kept: the HTTP check reports each message interaction as not checked
    (info), and with nothing failing the pair passes on its HTTP interactions."""
    folder = tmp_path / "orders"
    shutil.copytree(CONTRACTS / "orders", folder)
    shutil.copytree(CONTRACTS / "_shared", tmp_path / "_shared")
    (folder / "asyncapi.yaml").unlink()
    registry.publish("orders", "1", _collect(folder, "orders"))
    registry.publish("notifications", "1", _collect(CONTRACTS / "notifications", "notifications"))
    registry.record_deployment("orders", "1", "production")
    provider = registry.version("orders", "1")
    consumer = registry.version("notifications", "1")
    assert provider is not None and consumer is not None
    assert contract_digest(provider) == provider.spec_digest  # the key cached results had
    assert _orders_pair(registry, "notifications", "1")[0] is Answer.SATISFIED
    (pact,) = [p for p in consumer.pacts if p.provider == "orders"]
    outcome = StaticChecker(registry).outcome(consumer, pact, provider)
    unchecked = [f for f in outcome.findings if f.id == "compat-interaction-not-checked"]
    assert len(unchecked) == 2  # order.created and order.cancelled
    assert {f.level for f in unchecked} == {Level.INFO}


def test_asyncapi_pairs_cost_one_more_read_whatever_their_number(
    fleet: SqlRegistry, orders_renamed: list[ContractFile]
) -> None:
    """Their cache key is not the stored spec digest the gate's statement joins on: their cached
    results take one more batched read, for one AsyncAPI provider version or two."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    fleet.publish("orders", "2", orders_renamed)
    answers = []
    for live in (1, 2):
        if live == 2:
            fleet.record_release("orders", "2", "production")  # orders 1 and 2 both live
        can_i_deploy(fleet, "notifications", "1", "production")  # checks and caches
        event.listen(fleet.engine, "before_cursor_execute", count)
        try:
            decision = can_i_deploy(fleet, "notifications", "1", "production")
        finally:
            event.remove(fleet.engine, "before_cursor_execute", count)
        answers.append(sorted((p.provider_version or "", p.answer) for p in decision.pairs))
        # Each read is 2 statements on SQLite (its BEGIN and the read), 1 on PostgreSQL: the
        # gate's read, then one read of the cached results of every AsyncAPI provider version.
        expected = {"sqlite": 2, "postgresql": 1}[fleet.engine.dialect.name] * 2
        assert len(statements) == expected
        statements.clear()
    assert answers == [
        [("", Answer.PROVIDER_NOT_DEPLOYED), ("1", Answer.SATISFIED)],
        [
            ("", Answer.PROVIDER_NOT_DEPLOYED),
            ("1", Answer.SATISFIED),
            ("2", Answer.INCOMPATIBLE),
        ],
    ]
