"""The SQL registry on SQLite and PostgreSQL: immutability, deduplication, deployments, audit."""

from __future__ import annotations

import hashlib
import random
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from apigov.registry.domain import (
    ContractFile,
    LiveVersion,
    RegistryError,
    Role,
    VersionConflictError,
)
from apigov.registry.models import Contract, Deployment, Version
from apigov.registry.sql import SqlRegistry

SPEC_V1 = ContractFile("openapi.yaml", Role.SPEC, b"openapi: 3.0.3  # v1\n")
SPEC_V2 = ContractFile("openapi.yaml", Role.SPEC, b"openapi: 3.0.3  # v2\n")
SHARED = ContractFile("../_shared/common.yaml", Role.SPEC_PART, b"components: {}\n")
PACT = ContractFile("pacts/a-b.json", Role.PACT, b'{"consumer": "a"}', provider="b")


def count(registry: SqlRegistry, model: type) -> int:
    with registry.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_publish_then_read_back(registry: SqlRegistry) -> None:
    result = registry.publish("a", "1.0.0", [SPEC_V1, PACT, SHARED], branch="main", commit="abc")
    assert result.created
    assert result.new_contents == {SPEC_V1.sha256, PACT.sha256, SHARED.sha256}
    record = registry.version("a", "1.0.0")
    assert record is not None
    assert (record.branch, record.commit) == ("main", "abc")
    assert [f.path for f in record.files] == [
        "../_shared/common.yaml",
        "openapi.yaml",
        "pacts/a-b.json",
    ]
    assert [(p.path, p.provider) for p in record.pacts] == [("pacts/a-b.json", "b")]
    assert registry.contents([PACT.sha256]) == {PACT.sha256: b'{"consumer": "a"}'}
    assert PACT.sha256 == hashlib.sha256(b'{"consumer": "a"}').hexdigest()
    assert registry.version("a", "2.0.0") is None
    assert registry.version("nobody", "1.0.0") is None


def test_republishing_same_content_is_idempotent_and_other_content_conflicts(
    registry: SqlRegistry,
) -> None:
    registry.publish("a", "1.0.0", [SPEC_V1, PACT])
    again = registry.publish("a", "1.0.0", [PACT, SPEC_V1])  # order does not matter
    assert not again.created
    with pytest.raises(VersionConflictError) as conflict:
        registry.publish("a", "1.0.0", [SPEC_V2, SHARED])
    assert conflict.value.changed == ["openapi.yaml"]
    assert conflict.value.added == ["../_shared/common.yaml"]
    assert conflict.value.removed == ["pacts/a-b.json"]
    record = registry.version("a", "1.0.0")
    assert record is not None
    assert {f.sha256 for f in record.files} == {SPEC_V1.sha256, PACT.sha256}
    # The refused publish wrote nothing: no new content, one audit entry (the first publish).
    assert count(registry, Contract) == 2
    assert [(e.action, e.subject) for e in registry.audit_log()] == [("publish", "a@1.0.0")]


def test_contents_are_stored_once_across_versions_and_services(registry: SqlRegistry) -> None:
    registry.publish("a", "1.0.0", [SPEC_V1, SHARED])
    second = registry.publish("a", "1.0.1", [SPEC_V2, SHARED])
    third = registry.publish("c", "7", [SPEC_V1, SHARED])
    assert second.new_contents == {SPEC_V2.sha256}
    assert third.new_contents == frozenset()
    assert count(registry, Contract) == 3  # SPEC_V1, SPEC_V2, SHARED
    assert count(registry, Version) == 3


def test_the_database_itself_refuses_duplicates(registry: SqlRegistry) -> None:
    """Uniqueness does not depend on the Python code: raw inserts are refused too."""
    registry.publish("a", "1.0.0", [SPEC_V1])
    registry.record_deployment("a", "1.0.0", "prod")
    now = datetime.now(UTC)
    with registry.engine.connect() as connection:
        service_id, version_id = connection.execute(select(Version.service_id, Version.id)).one()
        with pytest.raises(IntegrityError):
            connection.execute(
                insert(Version).values(
                    service_id=service_id, number="1.0.0", digest="x" * 64, created_at=now
                )
            )
        connection.rollback()
        environment_id = connection.scalar(select(Deployment.environment_id))
        with pytest.raises(IntegrityError):
            connection.execute(
                insert(Deployment).values(
                    service_id=service_id,
                    version_id=version_id,
                    environment_id=environment_id,
                    target="",
                    deployed_at=now,
                )
            )
        connection.rollback()
        with pytest.raises(IntegrityError):
            connection.execute(
                insert(Contract).values(
                    sha256=SPEC_V1.sha256, kind="openapi", size=1, content=b"x", created_at=now
                )
            )
        connection.rollback()


def test_record_deployment_retires_the_previous_version_per_target(registry: SqlRegistry) -> None:
    for number in ("1", "2", "3"):
        registry.publish("b", number, [ContractFile("openapi.yaml", Role.SPEC, number.encode())])
    assert registry.record_deployment("b", "1", "prod") == []
    assert registry.record_deployment("b", "1", "prod", target="eu") == []
    assert registry.record_deployment("b", "2", "prod") == ["1"]
    assert registry.record_deployment("b", "2", "prod") == []  # already current: no change
    assert registry.live_versions("prod", ["b"]) == [
        LiveVersion("b", "1", "deployed", "eu"),
        LiveVersion("b", "2", "deployed", ""),
    ]
    assert registry.record_undeployment("b", "prod", target="eu") == ["1"]
    assert registry.live_versions("prod", ["b"]) == [LiveVersion("b", "2", "deployed", "")]
    with pytest.raises(RegistryError, match="not deployed to prod \\(target eu\\)"):
        registry.record_undeployment("b", "prod", target="eu")
    assert registry.live_versions("staging", ["b"]) == []


def test_releases_stay_live_together_until_support_ends(registry: SqlRegistry) -> None:
    for number in ("1", "2"):
        registry.publish("app", number, [ContractFile("openapi.yaml", Role.SPEC, number.encode())])
    assert registry.record_release("app", "1", "prod")
    assert registry.record_release("app", "2", "prod")
    assert not registry.record_release("app", "2", "prod")
    assert [v.number for v in registry.live_versions("prod", ["app"])] == ["1", "2"]
    assert registry.record_support_ended("app", "1", "prod")
    assert not registry.record_support_ended("app", "1", "prod")  # already ended: no change
    assert registry.live_versions("prod", ["app"]) == [LiveVersion("app", "2", "released")]


def test_live_consumers_are_the_versions_holding_a_pact_with_the_provider(
    registry: SqlRegistry,
) -> None:
    registry.publish("a", "1", [PACT])  # a pact with b
    registry.publish("a", "2", [SPEC_V1])  # no pact
    registry.publish("c", "1", [ContractFile("pacts/c-d.json", Role.PACT, b"cd", provider="d")])
    registry.record_deployment("a", "1", "prod", target="one")
    registry.record_deployment("a", "2", "prod", target="two")
    registry.record_deployment("c", "1", "prod")
    assert registry.live_consumers("prod", "b") == [LiveVersion("a", "1", "deployed", "one")]
    assert registry.live_consumers("prod", "d") == [LiveVersion("c", "1", "deployed", "")]
    assert registry.live_consumers("prod", "x") == []


def test_unknown_versions_cannot_be_deployed(registry: SqlRegistry) -> None:
    with pytest.raises(RegistryError, match=r"a@9 is not in the registry"):
        registry.record_deployment("a", "9", "prod")
    assert registry.audit_log() == []


def test_every_write_is_in_the_audit_log(registry: SqlRegistry) -> None:
    registry.publish("a", "1", [SPEC_V1])
    registry.publish("a", "1", [SPEC_V1])  # idempotent: not a write
    registry.record_deployment("a", "1", "prod")
    registry.record_undeployment("a", "prod")
    registry.record_release("a", "1", "prod")
    assert [(e.action, e.subject) for e in registry.audit_log()] == [
        ("publish", "a@1"),
        ("create-environment", "prod"),
        ("record-deployment", "a@1"),
        ("record-undeployment", "a"),
        ("record-release", "a@1"),
    ]


def test_sixteen_concurrent_publishers(registry_url: str) -> None:
    """16 threads publish 8 overlapping versions in two contents each: per version exactly one
    content wins, every publish of it is acknowledged, every other one is a conflict, and the
    stored state is exactly what was acknowledged."""
    threads, versions = 16, 8
    barrier = threading.Barrier(threads)
    acknowledged: list[tuple[str, int, bool]] = []
    conflicts: list[tuple[str, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    shared = ContractFile("../_shared/common.yaml", Role.SPEC_PART, b"shared by everyone")

    def files(number: str, variant: int) -> list[ContractFile]:
        spec = ContractFile("openapi.yaml", Role.SPEC, f"{number} variant {variant}".encode())
        return [spec, shared]

    def publisher(index: int) -> None:
        store = SqlRegistry(registry_url)
        variant = index % 2
        order = [f"1.{k}" for k in range(versions)]
        random.Random(index).shuffle(order)
        try:
            barrier.wait(timeout=60)
            for number in order:
                try:
                    result = store.publish("svc", number, files(number, variant))
                except VersionConflictError:
                    with lock:
                        conflicts.append((number, variant))
                else:
                    with lock:
                        acknowledged.append((number, variant, result.created))
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)
        finally:
            store.close()

    SqlRegistry(registry_url).close()  # create the schema once, before the race
    workers = [threading.Thread(target=publisher, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not failures, failures
    assert len(acknowledged) + len(conflicts) == threads * versions
    store = SqlRegistry(registry_url)
    try:
        for k in range(versions):
            number = f"1.{k}"
            winners = {v for n, v, _ in acknowledged if n == number}
            assert len(winners) == 1, number  # one content per version, ever
            (winner,) = winners
            # Half the threads publish each variant: all of the winner's succeed, the rest fail.
            assert sum(1 for n, v, _ in acknowledged if n == number) == threads // 2
            assert sum(1 for n, v, created in acknowledged if n == number and created) == 1
            assert {v for n, v in conflicts if n == number} == {1 - winner}
            record = store.version("svc", number)
            assert record is not None
            stored = {f.path: f.sha256 for f in record.files}
            expected = {f.path: f.sha256 for f in files(number, winner)}
            assert stored == expected
        assert count(store, Version) == versions
        assert count(store, Contract) == versions + 1  # one spec per version + the shared file
    finally:
        store.close()


def test_concurrent_deployments_leave_exactly_one_current_version(registry_url: str) -> None:
    """8 threads deploy 8 different versions of one service to one environment at once: the
    service row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) serialises them, so each one
    retires the one before and exactly one deployment stays current."""
    setup = SqlRegistry(registry_url)
    for number in range(8):
        setup.publish(
            "svc", str(number), [ContractFile("openapi.yaml", Role.SPEC, bytes([number]))]
        )
    setup.ensure_environment("prod")
    setup.close()
    barrier = threading.Barrier(8)
    retired: list[str] = []
    failures: list[BaseException] = []

    def deploy(number: int) -> None:
        store = SqlRegistry(registry_url)
        try:
            barrier.wait(timeout=60)
            retired.extend(store.record_deployment("svc", str(number), "prod"))
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)
        finally:
            store.close()

    workers = [threading.Thread(target=deploy, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not failures, failures
    store = SqlRegistry(registry_url)
    try:
        (current,) = store.live_versions("prod", ["svc"])
        # Every deployment but the last one was retired by the next, each exactly once.
        assert sorted([*retired, current.number]) == [str(n) for n in range(8)]
        assert count(store, Deployment) == 8
    finally:
        store.close()
