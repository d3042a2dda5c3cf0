"""can-i-deploy's cost must not grow with the fleet: a fixed number of SQL statements per answer.

These tests lock the speed in without timing anything (timings live in bench/): every statement
the database is sent during one answer is counted with SQLAlchemy's `before_cursor_execute`
event, on SQLite and on PostgreSQL, before and after the registry fills with services, versions,
deployments and releases that have nothing to do with the question.

The core fleet (expected answers worked out by hand):

- payments@1 is deployed to production; payments@2 is the version asked about.
- orders@1 (deployed) and billing@1 (released) hold pacts with payments: two consumer pairs.
- payments@2 holds a pact with ledger; ledger@1 is deployed (target eu) and ledger@2 released,
  so both are checked: two provider pairs. Four pairs, all satisfied.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from registry_support import fresh_database, pact_file, spec_file
from sqlalchemy import create_engine, event, exc
from sqlalchemy.pool import NullPool

from apigov.registry import sql
from apigov.registry.compat import StaticChecker
from apigov.registry.domain import LiveVersion, VersionRecord
from apigov.registry.gate import (
    Answer,
    Policy,
    can_i_deploy,
    read_gate_inputs,
)
from apigov.registry.sql import SqlRegistry
from helpers import item_pact, item_spec

# The statements of one answer: one query reads the version, the environment, the partners,
# their files and their cached static results; SQLite's explicit BEGIN is one more (psycopg
# begins PostgreSQL's transaction without a statement of its own).
STATEMENTS = {"sqlite": 2, "postgresql": 1}


def _publish(
    registry: SqlRegistry, service: str, version: str, providers: Sequence[str] = ()
) -> None:
    # The spec text differs per version, so each version has its own spec digest.
    files = [spec_file(item_spec(service, revision=version).decode())]
    files += [
        pact_file(f"pacts/{service}-{provider}.json", item_pact(service, provider), provider)
        for provider in providers
    ]
    registry.publish(service, version, files)


def _seed_core(registry: SqlRegistry) -> None:
    _publish(registry, "payments", "1", ["ledger"])
    _publish(registry, "payments", "2", ["ledger"])
    _publish(registry, "orders", "1", ["payments"])
    _publish(registry, "billing", "1", ["payments"])
    _publish(registry, "ledger", "1")
    _publish(registry, "ledger", "2")
    registry.record_deployment("payments", "1", "production")
    registry.record_deployment("orders", "1", "production")
    registry.record_release("billing", "1", "production")
    registry.record_deployment("ledger", "1", "production", target="eu")
    registry.record_release("ledger", "2", "production")


def _seed_unrelated(registry: SqlRegistry, services: int, versions: int) -> None:
    """Services that never touch payments: each holds a pact with the next one, every version
    is published, the newest deployed to production and staging and the one before released."""
    names = [f"noise{i:03d}" for i in range(services)]
    for index, name in enumerate(names):
        partner = names[(index + 1) % services]
        for number in range(1, versions + 1):
            _publish(registry, name, str(number), [partner])
        registry.record_deployment(name, str(versions), "production")
        registry.record_deployment(name, str(versions), "staging")
        registry.record_release(name, str(versions - 1), "production")
    # More history for the services payments does deal with: old versions that are not live.
    for number in range(2, versions + 2):
        _publish(registry, "orders", f"0.{number}", ["payments"])


@contextmanager
def _counted(registry: SqlRegistry) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(registry.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(registry.engine, "before_cursor_execute", count)


def _dialect(registry: SqlRegistry) -> str:
    return registry.engine.dialect.name


EXPECTED_PAIRS = {
    ("orders", "1", "payments", "2", "deployed"),
    ("billing", "1", "payments", "2", "released"),
    ("payments", "2", "ledger", "1", "deployed, target eu"),
    ("payments", "2", "ledger", "2", "released"),
}


def _pairs(registry: SqlRegistry, policy: Policy | None = None) -> set[tuple[str, ...]]:
    decision = can_i_deploy(registry, "payments", "2", "production", policy=policy)
    return {
        (p.consumer, p.consumer_version or "", p.provider, p.provider_version or "", p.live)
        for p in decision.pairs
        if p.answer is Answer.SATISFIED
    }


def test_one_answer_is_a_fixed_number_of_statements_whatever_the_fleet(
    registry: SqlRegistry,
) -> None:
    _seed_core(registry)
    assert _pairs(registry) == EXPECTED_PAIRS  # the first answer checks and caches each pair
    with _counted(registry) as small:
        assert _pairs(registry) == EXPECTED_PAIRS
    _seed_unrelated(registry, services=12, versions=4)
    with _counted(registry) as large:
        assert _pairs(registry) == EXPECTED_PAIRS
    assert len(small) == STATEMENTS[_dialect(registry)]
    assert len(large) == len(small)


def test_verification_policy_adds_statements_per_pair_never_per_unrelated_service(
    registry: SqlRegistry,
) -> None:
    _seed_core(registry)
    policy = Policy(require_verification=True)
    decision = can_i_deploy(registry, "payments", "2", "production", policy=policy)
    # No verification was recorded: every pair waits for one.
    assert {p.answer for p in decision.pairs} == {Answer.VERIFICATION_MISSING}
    with _counted(registry) as small:
        can_i_deploy(registry, "payments", "2", "production", policy=policy)
    _seed_unrelated(registry, services=12, versions=4)
    with _counted(registry) as large:
        can_i_deploy(registry, "payments", "2", "production", policy=policy)
    # One lookup of verification results for each of the four pairs, on top of the answer.
    assert len(small) == STATEMENTS[_dialect(registry)] + 4
    assert len(large) == len(small)


def test_unknown_version_or_environment_is_answered_by_the_same_statement(
    registry: SqlRegistry,
) -> None:
    _seed_core(registry)
    with _counted(registry) as unknown_version:
        decision = can_i_deploy(registry, "payments", "9", "production")
    assert (decision.known_version, decision.known_environment) == (False, True)
    assert decision.pairs == []
    with _counted(registry) as unknown_environment:
        decision = can_i_deploy(registry, "payments", "2", "moon")
    assert (decision.known_version, decision.known_environment) == (True, False)
    assert decision.pairs == []
    assert len(unknown_version) == len(unknown_environment) == STATEMENTS[_dialect(registry)]


class _GeneralRegistry:
    """The SQL registry seen only through the general `Registry` methods, as any other storage
    (the HTTP client) is: `read_gate_inputs` must read the same inputs both ways."""

    def __init__(self, store: SqlRegistry) -> None:
        self.store = store

    def snapshot(self) -> AbstractContextManager[None]:
        return self.store.snapshot()

    def version(self, service: str, number: str) -> VersionRecord | None:
        return self.store.version(service, number)

    def has_environment(self, name: str) -> bool:
        return self.store.has_environment(name)

    def live_consumers(self, environment: str, provider: str) -> list[LiveVersion]:
        return self.store.live_consumers(environment, provider)

    def live_versions(self, environment: str, services: Sequence[str]) -> list[LiveVersion]:
        return self.store.live_versions(environment, services)

    def versions(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VersionRecord]:
        return self.store.versions(keys)


QUESTIONS = [
    ("payments", "2", "production"),
    ("payments", "1", "production"),
    ("orders", "1", "production"),
    ("ledger", "2", "production"),
    ("noise003", "4", "production"),
    ("noise003", "3", "staging"),
    ("payments", "2", "staging"),
    ("payments", "9", "production"),
    ("payments", "2", "moon"),
]


def test_sql_reader_reads_what_the_general_methods_read(registry: SqlRegistry) -> None:
    _seed_core(registry)
    _seed_unrelated(registry, services=5, versions=4)
    general_registry = _GeneralRegistry(registry)
    for question in QUESTIONS:
        fast = read_gate_inputs(registry, *question)
        general = read_gate_inputs(general_registry, *question)  # type: ignore[arg-type]
        assert fast == general, question


def test_cached_static_results_come_with_the_partners(registry: SqlRegistry) -> None:
    _seed_core(registry)
    checker = StaticChecker(registry)
    can_i_deploy(registry, "payments", "2", "production", checker=checker)  # checks, caches
    _seed_unrelated(registry, services=5, versions=4)
    can_i_deploy(registry, "noise001", "4", "production", checker=checker)  # unrelated results
    inputs = registry.gate_inputs("payments", "2", "production", checker.name)
    assert inputs.subject is not None and inputs.static_results is not None
    files = {v.label: v for _, v in inputs.consumers + inputs.providers}

    def pact_of(record: VersionRecord) -> str:
        (pact,) = record.pacts
        return pact.sha256

    subject_spec = inputs.subject.spec_digest
    expected = {
        (pact_of(files["orders@1"]), subject_spec),
        (pact_of(files["billing@1"]), subject_spec),
        (pact_of(inputs.subject), files["ledger@1"].spec_digest),
        (pact_of(inputs.subject), files["ledger@2"].spec_digest),
    }
    assert set(inputs.static_results) == expected
    assert all(result.success for result in inputs.static_results.values())
    # Another checker's results are not this one's.
    other = registry.gate_inputs("payments", "2", "production", "another-checker")
    assert other.static_results == {}


def test_the_sql_reader_finds_every_partner_by_hand(registry: SqlRegistry) -> None:
    _seed_core(registry)
    _seed_unrelated(registry, services=5, versions=4)
    inputs = registry.gate_inputs("payments", "2", "production")
    assert inputs.subject is not None and inputs.subject.label == "payments@2"
    assert inputs.known_environment
    assert [(v.label, v.via, v.target) for v, _ in inputs.consumers] == [
        ("billing@1", "released", ""),
        ("orders@1", "deployed", ""),
    ]
    assert [(v.label, v.via, v.target) for v, _ in inputs.providers] == [
        ("ledger@1", "deployed", "eu"),
        ("ledger@2", "released", ""),
    ]
    # Each partner comes with what it holds: orders@1 its spec and its pact with payments.
    orders = dict((v.label, r) for v, r in inputs.consumers)["orders@1"]
    assert [(f.path, f.role.value, f.provider) for f in orders.files] == [
        ("openapi.yaml", "spec", None),
        ("pacts/orders-payments.json", "pact", "payments"),
    ]


def _terminate_other_backends(url: str) -> int:
    """Kill every other PostgreSQL backend of this database: the registry's pooled connections
    die under it, as they do when the server restarts."""
    killer = create_engine(sql.database_url(url), poolclass=NullPool)
    try:
        with killer.connect() as connection:
            killed = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar_one()
    finally:
        killer.dispose()
    return int(killed)


@contextmanager
def _disconnects(registry: SqlRegistry) -> Iterator[list[str]]:
    """Where dead connections were found: by a statement, or by the checkout ping."""
    seen: list[str] = []

    def statement_failed(context: Any) -> None:
        if context.is_disconnect:
            seen.append("statement")

    def invalidated(_dbapi: object, _record: object, error: BaseException | None) -> None:
        if isinstance(error, exc.DisconnectionError):
            seen.append("checkout ping")

    event.listen(registry.engine, "handle_error", statement_failed)
    event.listen(registry.engine.pool, "invalidate", invalidated)
    try:
        yield seen
    finally:
        event.remove(registry.engine, "handle_error", statement_failed)
        event.remove(registry.engine.pool, "invalidate", invalidated)


def test_a_pooled_connection_dropped_moments_after_use_is_retried_once(
    postgres_url: str,
) -> None:
    """Recently used connections are not pinged on checkout (a round trip saved per answer):
    the gate's read meets the dead connection, and is retried once on a new one."""
    url = fresh_database(postgres_url)
    registry = SqlRegistry(url)
    try:
        _seed_core(registry)
        assert _pairs(registry) == EXPECTED_PAIRS
        assert _terminate_other_backends(url) >= 1
        with _disconnects(registry) as seen:
            assert _pairs(registry) == EXPECTED_PAIRS
        assert seen == ["statement"]  # the dead connection was used, not pinged, then retried
    finally:
        registry.close()


def test_a_connection_idle_for_long_is_pinged_before_use(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a policy that needs more than one read, the reads share one transaction, which
    cannot be retried halfway: a connection idle past PING_AFTER_IDLE is pinged on checkout
    and replaced when it is dead. (Every pooled connection counts as idle here.)"""
    url = fresh_database(postgres_url)
    registry = SqlRegistry(url)
    try:
        _seed_core(registry)
        policy = Policy(require_verification=True)
        before = _pairs(registry, policy)
        assert before == set()  # no verification recorded: none is satisfied
        monkeypatch.setattr(sql, "PING_AFTER_IDLE", 0.0)
        assert _terminate_other_backends(url) >= 1
        with _disconnects(registry) as seen:
            decision = can_i_deploy(registry, "payments", "2", "production", policy=policy)
        assert seen and set(seen) == {"checkout ping"}  # found before any statement used it
        assert {p.answer for p in decision.pairs} == {Answer.VERIFICATION_MISSING}
        assert len(decision.pairs) == 4
    finally:
        registry.close()
