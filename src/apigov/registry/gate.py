"""can-i-deploy: may SERVICE@VERSION go to ENVIRONMENT?

Two directions, per DESIGN: (a) SERVICE@VERSION as a provider, against every consumer version in
the environment holding a pact with it; (b) every pact SERVICE@VERSION holds as a consumer,
against every version of that provider in the environment. "In the environment" means every
current deployment (each target) plus every supported release: several versions of one service
can be live at once and each one is checked (the Pact Broker once hid a failing co-resident
provider and said yes). Versions of SERVICE itself are not partners: they are being replaced.

Each pair gets one answer; unknown versions, missing or stale evidence and an unavailable check
are distinct answers, and only "satisfied" lets a deployment through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from apigov.findings import Finding, Level, Report
from apigov.registry.compat import StaticChecker
from apigov.registry.domain import LiveVersion, Registry, StoredFile, VersionRecord


class Answer(StrEnum):
    """One pair's answer; the value is the finding id."""

    SATISFIED = "deploy-pair-satisfied"
    INCOMPATIBLE = "deploy-pair-incompatible"
    CHECK_UNAVAILABLE = "deploy-pair-unknown"
    PROVIDER_SPEC_MISSING = "deploy-provider-spec-missing"
    PROVIDER_NOT_DEPLOYED = "deploy-provider-not-in-environment"
    VERIFICATION_MISSING = "deploy-verification-missing"
    VERIFICATION_STALE = "deploy-verification-stale"
    VERIFICATION_FAILED = "deploy-verification-failed"


@dataclass(frozen=True)
class Policy:
    """What "satisfied" needs beyond static compatibility (the default needs nothing more)."""

    require_verification: bool = False


@dataclass(frozen=True, slots=True)
class Pair:
    consumer: str
    consumer_version: str | None
    provider: str
    provider_version: str | None
    pact_path: str | None
    live: str  # how the partner is in the environment: "deployed", "released", "target t"
    answer: Answer
    reason: str
    details: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return self.answer is Answer.SATISFIED


@dataclass
class Decision:
    service: str
    version: str
    environment: str
    known_version: bool = True
    known_environment: bool = True
    pairs: list[Pair] = field(default_factory=list)

    @property
    def deployable(self) -> bool:
        return self.known_version and self.known_environment and all(p.ok for p in self.pairs)


def can_i_deploy(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    *,
    policy: Policy | None = None,
    checker: StaticChecker | None = None,
) -> Decision:
    with registry.snapshot():
        return _decide(registry, service, version, environment, policy, checker)


def _decide(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    policy: Policy | None,
    checker: StaticChecker | None,
) -> Decision:
    """A fixed number of queries, whatever the size of the registry: they are all batched."""
    decision = Decision(service, version, environment)
    record = registry.version(service, version)
    decision.known_version = record is not None
    decision.known_environment = registry.has_environment(environment)
    if record is None or not decision.known_environment:
        return decision
    # Versions of the service itself are never partners: they are the ones being replaced.
    consumers = [v for v in registry.live_consumers(environment, service) if v.service != service]
    held = [p for p in record.pacts if p.provider and p.provider != service]
    providers = [
        v
        for v in registry.live_versions(environment, [p.provider or "" for p in held])
        if v.service != service
    ]
    records = registry.versions([(v.service, v.number) for v in consumers + providers])
    candidates: list[tuple[VersionRecord, StoredFile, VersionRecord, LiveVersion]] = []
    # (a) as a provider: every consumer version in the environment that holds a pact with it.
    for live in consumers:
        consumer = records[(live.service, live.number)]
        for pact in consumer.pacts:
            if pact.provider == service:
                candidates.append((consumer, pact, record, live))
    # (b) as a consumer: every pact it holds, against each live version of that provider.
    for pact in held:
        partners = [v for v in providers if v.service == pact.provider]
        if not partners:
            decision.pairs.append(
                Pair(
                    service,
                    version,
                    pact.provider or "",
                    None,
                    pact.path,
                    "-",
                    Answer.PROVIDER_NOT_DEPLOYED,
                    f"no version of {pact.provider} is deployed or released in {environment}",
                )
            )
        for live in partners:
            candidates.append((record, pact, records[(live.service, live.number)], live))
    judge = _Judge(registry, policy or Policy(), checker or StaticChecker(registry))
    judge.checker.prefetch([(pact, provider) for _, pact, provider, _ in candidates])
    decision.pairs.extend(judge.pair(*candidate) for candidate in candidates)
    return decision


def _how(live: LiveVersion) -> str:
    if live.via == "released":
        return "released"
    return f"deployed, target {live.target}" if live.target else "deployed"


class _Judge:
    def __init__(self, registry: Registry, policy: Policy, checker: StaticChecker) -> None:
        self.registry = registry
        self.policy = policy
        self.checker = checker

    def pair(
        self, consumer: VersionRecord, pact: StoredFile, provider: VersionRecord, live: LiveVersion
    ) -> Pair:
        def answer(kind: Answer, reason: str, details: tuple[Finding, ...] = ()) -> Pair:
            return Pair(
                consumer.service,
                consumer.number,
                provider.service,
                provider.number,
                pact.path,
                _how(live),
                kind,
                reason,
                details,
            )

        if provider.spec_digest is None:
            return answer(
                Answer.PROVIDER_SPEC_MISSING,
                f"{provider.label} has no OpenAPI document to check against",
            )
        if not self.checker.available:
            return answer(Answer.CHECK_UNAVAILABLE, "unknown: static compatibility not available")
        outcome = self.checker.outcome(consumer, pact, provider)
        if not outcome.success:
            problems = [f for f in outcome.findings if f.level is Level.ERROR]
            shown = "; ".join(f.message for f in problems[:3])
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            return answer(
                Answer.INCOMPATIBLE,
                f"static compatibility failed: {len(problems)} problem(s): {shown}{more}",
                outcome.findings,
            )
        if self.policy.require_verification:
            results = self.registry.verifications(
                provider.service, provider.number, consumer.service
            )
            exact = [r for r in results if r.pact_sha256 == pact.sha256]
            if not results:
                return answer(
                    Answer.VERIFICATION_MISSING, "no verification result (required by policy)"
                )
            if not exact:
                return answer(
                    Answer.VERIFICATION_STALE,
                    "verification results exist only for other content of this pact "
                    "(required by policy for this exact pact)",
                )
            if not exact[-1].success:
                return answer(
                    Answer.VERIFICATION_FAILED, "the latest verification of this pact failed"
                )
            return answer(Answer.SATISFIED, "static compatibility passed; verified")
        return answer(Answer.SATISFIED, "static compatibility passed")


def decision_report(decision: Decision) -> Report:
    """Every pair as a finding: failing pairs are errors, satisfied ones info."""
    subject = f"{decision.service}@{decision.version}"
    report = Report(command="can-i-deploy", inputs=[f"{subject} -> {decision.environment}"])
    if not decision.known_version:
        report.findings.append(
            Finding(
                "deploy-unknown-version",
                Level.ERROR,
                f"{subject} is not in the registry: publish it before asking",
                service=decision.service,
            )
        )
    if not decision.known_environment:
        report.findings.append(
            Finding(
                "deploy-unknown-environment",
                Level.ERROR,
                f"environment {decision.environment!r} is not in the registry "
                "(it is created by the first record-deployment to it)",
                service=decision.service,
            )
        )
    if not decision.known_version or not decision.known_environment:
        return report
    if not decision.pairs:
        report.findings.append(
            Finding(
                "deploy-no-pairs",
                Level.INFO,
                f"{subject} has no consumers in {decision.environment} and holds no consumer "
                "contracts: there is no pair to check, so contracts do not block this deployment",
                service=decision.service,
            )
        )
    for pair in decision.pairs:
        consumer = f"{pair.consumer}@{pair.consumer_version}"
        provider = (
            f"{pair.provider}@{pair.provider_version}" if pair.provider_version else pair.provider
        )
        report.findings.append(
            Finding(
                pair.answer.value,
                Level.INFO if pair.ok else Level.ERROR,
                f"{consumer} -> {provider} [{pair.live}] {pair.pact_path}: {pair.reason}",
                service=decision.service,
                consumers=(pair.consumer,),
            )
        )
    return report
