"""can-i-deploy on SQLite and PostgreSQL, with the example fleet's real contracts.

Expected answers are worked out from the fleet: orders holds pacts with inventory and payments;
shipping holds one with orders; inventory and payments hold none. `payments 2` below is payments
without `POST /payments/{paymentId}/refunds`, which orders' pact calls, so it breaks orders.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from apigov.findings import Finding, Level
from apigov.pact.compat import check_compatibility
from apigov.registry.compat import StaticChecker
from apigov.registry.domain import ContractFile, Role
from apigov.registry.gate import Answer, Pair, Policy, can_i_deploy, decision_report
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile
from helpers import CONTRACTS


class Fleet:
    """The fleet's files as `publish` collects them, validated once per session."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._files: dict[tuple[str, str], list[ContractFile]] = {}

    def files(self, service: str, variant: str) -> list[ContractFile]:
        key = (service, variant)
        if key not in self._files:
            if variant == "fleet":
                folder = CONTRACTS / service
            else:
                assert key == ("payments", "no-refunds")
                folder = self._payments_without_refunds()
            # The specs refer to ../_shared: let them reach the fleet's top folder.
            collected = collect_service_folder(folder, service, Loader(root=folder.parent))
            assert collected.refused is None
            self._files[key] = collected.files
        return self._files[key]

    def _payments_without_refunds(self) -> Path:
        shutil.copytree(CONTRACTS / "payments", self.scratch / "payments")
        shutil.copytree(CONTRACTS / "_shared", self.scratch / "_shared")
        spec = self.scratch / "payments" / "openapi.yaml"
        text = spec.read_text(encoding="utf-8")
        start = text.index("  /payments/{paymentId}/refunds:")
        end = text.index("\ncomponents:")
        spec.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
        return self.scratch / "payments"


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return Fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture
def publish(fleet: Fleet) -> Callable[..., None]:
    def publish_version(
        registry: SqlRegistry, service: str, version: str, variant: str = "fleet"
    ) -> None:
        registry.publish(service, version, fleet.files(service, variant))

    return publish_version


def answers(pairs: list[Pair]) -> set[tuple[str, str | None, str, str | None, Answer]]:
    return {
        (p.consumer, p.consumer_version, p.provider, p.provider_version, p.answer) for p in pairs
    }


@pytest.fixture
def production(registry: SqlRegistry, publish: Callable[..., None]) -> SqlRegistry:
    """payments 1 and inventory 1 deployed to production; orders 1 published, not deployed."""
    publish(registry, "payments", "1")
    publish(registry, "inventory", "1")
    publish(registry, "orders", "1")
    registry.record_deployment("payments", "1", "production")
    registry.record_deployment("inventory", "1", "production")
    return registry


def test_consumer_checked_against_every_provider_in_the_environment(
    production: SqlRegistry,
) -> None:
    decision = can_i_deploy(production, "orders", "1", "production")
    assert answers(decision.pairs) == {
        ("orders", "1", "inventory", "1", Answer.SATISFIED),
        ("orders", "1", "payments", "1", Answer.SATISFIED),
    }
    assert decision.deployable


def test_a_failing_co_resident_provider_version_blocks(
    production: SqlRegistry, publish: Callable[..., None]
) -> None:
    """payments 1 is deployed and payments 2 released: both are live, both are checked."""
    publish(production, "payments", "2", "no-refunds")
    production.record_release("payments", "2", "production")
    decision = can_i_deploy(production, "orders", "1", "production")
    assert answers(decision.pairs) == {
        ("orders", "1", "inventory", "1", Answer.SATISFIED),
        ("orders", "1", "payments", "1", Answer.SATISFIED),
        ("orders", "1", "payments", "2", Answer.INCOMPATIBLE),
    }
    assert not decision.deployable
    (broken,) = [p for p in decision.pairs if not p.ok]
    assert broken.live == "released"
    assert broken.reason.startswith("static compatibility failed: 1 problem(s): ")
    assert "POST /v1/payments/c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33/refunds" in broken.reason
    assert "apigov-compat-" not in broken.reason  # no temporary folder in what users read
    errors = [f for f in broken.details if f.level is Level.ERROR]
    assert [f.id for f in errors] == ["compat-request-path-or-method-unknown"]
    # The finding points into the published pact, not into a temporary folder.
    assert errors[0].location is not None
    assert errors[0].location.file == "orders@1/pacts/orders-payments.json"


def test_provider_checked_against_every_consumer_in_the_environment(
    production: SqlRegistry, publish: Callable[..., None]
) -> None:
    production.record_deployment("orders", "1", "production")
    publish(production, "payments", "2", "no-refunds")
    assert answers(can_i_deploy(production, "payments", "2", "production").pairs) == {
        ("orders", "1", "payments", "2", Answer.INCOMPATIBLE)
    }
    assert answers(can_i_deploy(production, "payments", "1", "production").pairs) == {
        ("orders", "1", "payments", "1", Answer.SATISFIED)
    }


def test_record_deployment_replaces_the_provider_version_checked(
    production: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(production, "payments", "2", "no-refunds")
    production.record_deployment("payments", "2", "production")  # retires payments 1
    payments_pairs = {
        (p.provider_version, p.answer)
        for p in can_i_deploy(production, "orders", "1", "production").pairs
        if p.provider == "payments"
    }
    assert payments_pairs == {("2", Answer.INCOMPATIBLE)}
    production.record_deployment("payments", "1", "production")  # roll back
    decision = can_i_deploy(production, "orders", "1", "production")
    assert {(p.provider, p.provider_version) for p in decision.pairs} == {
        ("inventory", "1"),
        ("payments", "1"),
    }
    assert decision.deployable


def test_no_pairs_is_an_explicit_answer(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(registry, "inventory", "1")
    registry.ensure_environment("production")
    decision = can_i_deploy(registry, "inventory", "1", "production")
    assert decision.pairs == []
    assert decision.deployable
    (finding,) = decision_report(decision).findings
    assert (finding.id, finding.level) == ("deploy-no-pairs", Level.INFO)
    assert "no pair to check" in finding.message


def test_unknown_version_and_environment_are_distinct_answers(production: SqlRegistry) -> None:
    unknown_version = can_i_deploy(production, "orders", "9", "production")
    assert not unknown_version.deployable
    assert [f.id for f in decision_report(unknown_version).findings] == ["deploy-unknown-version"]
    unknown_environment = can_i_deploy(production, "orders", "1", "staging")
    assert not unknown_environment.deployable
    assert [f.id for f in decision_report(unknown_environment).findings] == [
        "deploy-unknown-environment"
    ]


def test_a_provider_missing_from_the_environment_fails_its_pair(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(registry, "payments", "1")
    publish(registry, "orders", "1")
    registry.record_deployment("payments", "1", "production")
    decision = can_i_deploy(registry, "orders", "1", "production")
    assert answers(decision.pairs) == {
        ("orders", "1", "inventory", None, Answer.PROVIDER_NOT_DEPLOYED),
        ("orders", "1", "payments", "1", Answer.SATISFIED),
    }
    assert not decision.deployable


def test_a_provider_without_a_spec_fails_its_pair(
    registry: SqlRegistry, publish: Callable[..., None]
) -> None:
    publish(registry, "orders", "1")
    registry.publish("payments", "0", [ContractFile("service.yaml", Role.SERVICE, b"x: 1\n")])
    publish(registry, "inventory", "1")
    registry.record_deployment("payments", "0", "production")
    registry.record_deployment("inventory", "1", "production")
    decision = can_i_deploy(registry, "orders", "1", "production")
    assert ("orders", "1", "payments", "0", Answer.PROVIDER_SPEC_MISSING) in answers(decision.pairs)
    assert not decision.deployable


def test_without_the_static_check_every_pair_is_unknown_never_yes(
    production: SqlRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes the import fail, as if the module were not installed.
    monkeypatch.setitem(sys.modules, "apigov.pact.compat", None)
    decision = can_i_deploy(production, "orders", "1", "production")
    assert {p.answer for p in decision.pairs} == {Answer.CHECK_UNAVAILABLE}
    assert len(decision.pairs) == 2
    assert not decision.deployable
    report = decision_report(decision)
    assert {f.level for f in report.findings} == {Level.ERROR}
    assert all("static compatibility not available" in f.message for f in report.findings)


def test_static_results_are_cached_by_content(
    production: SqlRegistry, publish: Callable[..., None]
) -> None:
    calls: list[tuple[str, str]] = []

    def counting(pact: PactFile, spec: ApiSpec) -> list[Finding]:
        calls.append((pact.provider, spec.service or ""))
        return check_compatibility(pact, spec)

    checker = StaticChecker(production, counting, name="counting-1")
    assert can_i_deploy(production, "orders", "1", "production", checker=checker).deployable
    assert sorted(calls) == [("inventory", "inventory"), ("payments", "payments")]
    calls.clear()
    assert can_i_deploy(production, "orders", "1", "production", checker=checker).deployable
    assert calls == []
    # orders 2 holds the same pact contents: the cached results serve it too.
    publish(production, "orders", "2")
    assert can_i_deploy(production, "orders", "2", "production", checker=checker).deployable
    assert calls == []
    # A new checker version does not trust results of the old one.
    newer = StaticChecker(production, counting, name="counting-2")
    can_i_deploy(production, "orders", "1", "production", checker=newer)
    assert len(calls) == 2


def test_verification_policy_missing_stale_failed_satisfied(production: SqlRegistry) -> None:
    policy = Policy(require_verification=True)
    record = production.version("orders", "1")
    assert record is not None
    pact_sha = next(p.sha256 for p in record.pacts if p.provider == "payments")
    production.record_verification("inventory", "1", "orders", next(
        p.sha256 for p in record.pacts if p.provider == "inventory"
    ), True)  # fmt: skip

    def payments_answer() -> Answer:
        decision = can_i_deploy(production, "orders", "1", "production", policy=policy)
        return next(p.answer for p in decision.pairs if p.provider == "payments")

    assert payments_answer() is Answer.VERIFICATION_MISSING
    production.record_verification("payments", "1", "orders", "0" * 64, True)
    assert payments_answer() is Answer.VERIFICATION_STALE
    production.record_verification("payments", "1", "orders", pact_sha, False)
    assert payments_answer() is Answer.VERIFICATION_FAILED
    production.record_verification("payments", "1", "orders", pact_sha, True)
    assert payments_answer() is Answer.SATISFIED
    assert can_i_deploy(production, "orders", "1", "production", policy=policy).deployable


def test_an_in_memory_registry_answers_too(publish: Callable[..., None]) -> None:
    """One shared connection: the cached check result is written while the answer is read."""
    registry = SqlRegistry("sqlite://")
    try:
        publish(registry, "payments", "1")
        publish(registry, "orders", "1")
        registry.record_deployment("orders", "1", "production")
        decision = can_i_deploy(registry, "payments", "1", "production")
        assert answers(decision.pairs) == {("orders", "1", "payments", "1", Answer.SATISFIED)}
    finally:
        registry.close()
