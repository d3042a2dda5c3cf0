"""can-i-deploy: may SERVICE@VERSION go to ENVIRONMENT?

Two directions, per DESIGN: (a) SERVICE@VERSION as a provider, against every consumer version in
the environment holding a pact with it; (b) every pact SERVICE@VERSION holds as a consumer,
against every version of that provider in the environment. "In the environment" means every
current deployment (each target) plus every supported release: several versions of one service
can be live at once and each one is checked (the Pact Broker once hid a failing co-resident
provider and said yes). Versions of SERVICE itself are not partners: they are being replaced.

Each pair gets one answer; unknown versions, missing or stale evidence and an unavailable check
are distinct answers, and only "satisfied" lets a deployment through.

The policy says which evidence "satisfied" needs beyond static compatibility: a green live
verification of each pair's exact pact (`verification`), a green, complete fuzz run of
SERVICE@VERSION in an environment (`fuzz@ENV`) or in any (`fuzz`), each optionally no older than
a maximum age. Evidence about a pair is judged on the pair; fuzz runs are evidence about
SERVICE@VERSION itself and are judged once, as the decision's `evidence`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from msgspec import Struct, field

from apigov.config import Config
from apigov.findings import Finding, Level, Report
from apigov.registry.compat import StaticChecker, contract_digest
from apigov.registry.domain import (
    FuzzRunRecord,
    LiveVersion,
    Registry,
    StaticResult,
    StoredFile,
    VersionRecord,
    VersionSummary,
)
from apigov.spec.errors import InputError


class Answer(StrEnum):
    """One pair's answer; the value is the finding id."""

    SATISFIED = "deploy-pair-satisfied"
    INCOMPATIBLE = "deploy-pair-incompatible"
    CHECK_UNAVAILABLE = "deploy-pair-unknown"
    PROVIDER_SPEC_MISSING = "deploy-provider-spec-missing"
    PROVIDER_NOT_DEPLOYED = "deploy-provider-not-in-environment"
    PROVIDER_NOT_TAGGED = "deploy-provider-not-tagged"
    VERIFICATION_MISSING = "deploy-verification-missing"
    VERIFICATION_STALE = "deploy-verification-stale"
    VERIFICATION_FAILED = "deploy-verification-failed"
    FUZZ_SATISFIED = "deploy-fuzz-satisfied"
    FUZZ_NOT_APPLICABLE = "deploy-fuzz-not-applicable"
    FUZZ_MISSING = "deploy-fuzz-missing"
    FUZZ_STALE = "deploy-fuzz-stale"
    FUZZ_FAILED = "deploy-fuzz-failed"


TAGGED = "tagged"
"""`LiveVersion.via` of a partner picked by tag (its `target` is the tag)."""

_OK = frozenset({Answer.SATISFIED, Answer.FUZZ_SATISFIED, Answer.FUZZ_NOT_APPLICABLE})
WAITING_ANSWERS = frozenset(
    {
        Answer.VERIFICATION_MISSING,
        Answer.VERIFICATION_STALE,
        Answer.FUZZ_MISSING,
        Answer.FUZZ_STALE,
    }
)
"""Answers that more evidence can still turn into a yes: what `--retry-while-unknown` waits on.
A failed check or verification is a no, not an unknown: asking again would not change it; nor
would it bring back a static check that cannot be imported (`deploy-pair-unknown`)."""
UNKNOWN_ANSWER = "deploy-answer-unknown"
"""The finding id of the overall "unknown" answer: nothing failed, some evidence is missing."""

STATIC = "static"
VERIFICATION = "verification"
FUZZ = "fuzz"
EVIDENCE_NAMES = (STATIC, VERIFICATION, FUZZ, f"{FUZZ}@ENV")
_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Policy(Struct, frozen=True):
    """What "satisfied" needs beyond static compatibility (the default needs nothing more)."""

    require_verification: bool = False
    fuzz_environments: tuple[str | None, ...] = ()
    """A green, complete fuzz run of the version is required in each (None: in any)."""
    max_age: timedelta | None = None
    """Evidence older than this is stale (a distinct answer from missing and failed)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The policy as evidence names, as `--require` and `can-i-deploy.require` spell them."""
        names = [STATIC]
        if self.require_verification:
            names.append(VERIFICATION)
        names += [FUZZ if env is None else f"{FUZZ}@{env}" for env in self.fuzz_environments]
        return tuple(names)


def parse_policy(
    names: Iterable[str], max_age: str | None = None, *, source: str = "--require"
) -> Policy:
    """A `Policy` from evidence names (`static`, `verification`, `fuzz`, `fuzz@ENV`).

    `source` names where the names came from (an option or a configuration file) in errors.
    """
    verification = False
    environments: list[str | None] = []
    for raw in names:
        name = raw.strip()
        if name == STATIC:
            continue  # always required: naming it alone asks for the default policy
        if name == VERIFICATION:
            verification = True
        elif name == FUZZ or name.startswith(f"{FUZZ}@"):
            environment = name.partition("@")[2].strip() or None
            if name != FUZZ and environment is None:
                raise InputError(source, f"{raw!r}: name the environment after fuzz@")
            if environment not in environments:
                environments.append(environment)
        else:
            raise InputError(
                source, f"{raw!r} is not an evidence name (known: {', '.join(EVIDENCE_NAMES)})"
            )
    return Policy(
        require_verification=verification,
        fuzz_environments=tuple(environments),
        max_age=parse_age(max_age, source=source) if max_age is not None else None,
    )


def choose_policy(
    require: Sequence[str],
    max_age: str | None,
    config: Config,
    *,
    verification: bool = False,
    options: tuple[str, str] = ("--require", "--max-age"),
) -> Policy:
    """The policy of one question: `--require` names (and `--require-verification`) replace the
    configuration's `can-i-deploy.require`; `--max-age` replaces `can-i-deploy.max-age`.
    Neither: static compatibility only, of any age. `options` names the two options in errors
    (`registry serve` has its own)."""
    require_option, age_option = options
    section = config.section("can-i-deploy")
    configured_age = section.get("max-age")
    if configured_age is not None and not isinstance(configured_age, str):
        raise InputError(config.name, "can-i-deploy.max-age: must be an age like 7d or 12h")
    age, age_source = (max_age, age_option) if max_age else (configured_age, config.name)
    names = [*require, *([VERIFICATION] if verification else [])]
    if names:
        chosen = parse_policy(names, source=require_option)
    else:
        chosen = parse_policy(config.gate_require, source=config.name)
    if age is None:
        return chosen
    return Policy(
        require_verification=chosen.require_verification,
        fuzz_environments=chosen.fuzz_environments,
        max_age=parse_age(age, source=age_source),
    )


def parse_age(text: str, *, source: str = "--max-age") -> timedelta:
    """`30m`, `12h`, `7d`, `2w`: the oldest evidence a policy accepts."""
    match = _AGE.match(text)
    if match is None or int(match[1]) == 0:
        raise InputError(source, f"max-age {text!r} is not an age like 12h, 7d or 2w")
    return timedelta(seconds=int(match[1]) * _AGE_UNITS[match[2]])


def describe_age(age: timedelta) -> str:
    """An age exactly, in the largest unit that divides it: 7d, 36h, 90m, 100s (weeks are said
    in days). `parse_age(describe_age(a)) == a` for every whole number of seconds."""
    seconds = int(age.total_seconds())
    for unit in ("d", "h", "m"):
        size = _AGE_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _rough_age(age: timedelta) -> str:
    """How old evidence is, in the largest unit it holds at least one of: 8d, 5h, 12m, 40s."""
    seconds = int(age.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds >= _AGE_UNITS[unit]:
            return f"{seconds // _AGE_UNITS[unit]}{unit}"
    return f"{max(seconds, 0)}s"


class Pair(Struct, frozen=True):
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


class EvidenceCheck(Struct, frozen=True):
    """One piece of evidence the policy requires of SERVICE@VERSION itself (a fuzz run)."""

    requirement: str  # the evidence name: fuzz@staging, fuzz
    answer: Answer
    reason: str

    @property
    def ok(self) -> bool:
        return self.answer in _OK


class Decision(Struct):
    service: str
    version: str
    environment: str
    known_version: bool = True
    known_environment: bool = True
    pairs: list[Pair] = field(default_factory=list)
    evidence: list[EvidenceCheck] = field(default_factory=list)
    asked: int = 1
    """How many times the registry was asked (more than once with --retry-while-unknown)."""
    tag: str | None = None
    """Asked with a tag instead of an environment (the Pact Broker's `--to TAG`): the partners
    are the latest version of each counterpart carrying the tag; `environment` is then ''
    and `known_environment` says whether any version carries the tag."""

    @property
    def destination(self) -> str:
        """Where the version would go, in words: an environment's name or `tag T`."""
        return f"tag {self.tag}" if self.tag is not None else self.environment

    @property
    def deployable(self) -> bool:
        return (
            self.known_version
            and self.known_environment
            and all(p.ok for p in self.pairs)
            and all(e.ok for e in self.evidence)
        )

    @property
    def verdict(self) -> str:
        """`yes`, `no`, or `unknown`: nothing failed, but some required evidence is not there
        yet (or is stale), so more evidence could still make it a yes."""
        if self.deployable:
            return "yes"
        if not (self.known_version and self.known_environment):
            return "no"
        answers = [p.answer for p in self.pairs if not p.ok]
        answers += [e.answer for e in self.evidence if not e.ok]
        return "unknown" if all(a in WAITING_ANSWERS for a in answers) else "no"


def can_i_deploy(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    *,
    policy: Policy | None = None,
    checker: StaticChecker | None = None,
    now: datetime | None = None,
) -> Decision:
    """The answer for SERVICE@VERSION in ENVIRONMENT; `now` is when evidence ages are measured
    from (default: the current time)."""
    when = now or datetime.now(UTC)
    policy = policy or Policy()
    if not policy.require_verification and not policy.fuzz_environments:
        # Static compatibility only: everything the gate reads comes from one statement (one
        # snapshot on its own, run without a transaction where the store can), and what the
        # checker reads besides is content-addressed, so it cannot disagree with it.
        return _decide(registry, service, version, environment, policy, checker, when)
    with registry.snapshot():
        return _decide(registry, service, version, environment, policy, checker, when)


def can_i_deploy_to_tag(
    registry: Registry,
    service: str,
    version: str,
    tag: str,
    *,
    policy: Policy | None = None,
    checker: StaticChecker | None = None,
    now: datetime | None = None,
) -> Decision:
    """The answer for SERVICE@VERSION against the latest version of each counterpart carrying
    `tag` (the Pact Broker's `can-i-deploy --to TAG`): the same pairs, answers and policy as for
    an environment, with "in the environment" replaced by "the newest version tagged TAG"."""
    when = now or datetime.now(UTC)
    with registry.snapshot():
        return _decide(registry, service, version, "", policy or Policy(), checker, when, tag=tag)


@runtime_checkable
class TaggedReader(Protocol):
    """What the tag question reads beyond `Registry` (the SQL store has it; a served registry
    answers the whole question itself)."""

    def has_tag(self, tag: str) -> bool: ...

    def consumer_services(self, provider: str) -> list[str]: ...

    def latest_tagged_versions(self, services: Sequence[str], tag: str) -> list[VersionSummary]: ...


def read_tagged_gate_inputs(registry: Registry, service: str, version: str, tag: str) -> GateInputs:
    """The gate's inputs when the partners are the newest versions carrying `tag`: of every
    service holding a pact with SERVICE (in any version), and of every provider SERVICE@VERSION
    holds a pact with. A fixed number of queries, whatever the size of the registry."""
    if not isinstance(registry, TaggedReader):
        raise InputError("--to-tag", "this registry cannot answer can-i-deploy for a tag")
    record = registry.version(service, version)
    known_tag = registry.has_tag(tag)
    if record is None or not known_tag:
        return GateInputs(record, known_tag, [], [])
    consumers = registry.latest_tagged_versions(
        [name for name in registry.consumer_services(service) if name != service], tag
    )
    held = sorted({p.provider for p in record.pacts if p.provider and p.provider != service})
    providers = registry.latest_tagged_versions(held, tag) if held else []
    records = registry.versions([(v.service, v.number) for v in consumers + providers])

    def partners(found: list[VersionSummary]) -> list[PartnerVersion]:
        return [
            (LiveVersion(v.service, v.number, TAGGED, tag), records[(v.service, v.number)])
            for v in found
        ]

    return GateInputs(record, known_tag, partners(consumers), partners(providers))


def decide_with_retries(
    ask: Callable[[], Decision],
    retries: int,
    interval: float,
    *,
    on_wait: Callable[[Decision, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Decision:
    """Ask again, up to `retries` more times, `interval` seconds apart, while the answer is
    unknown (required evidence missing or stale: a verification or fuzz run still running).

    `on_wait(decision, retry)` is told before each wait (the command says so on stderr). The
    last answer is returned; when it is still unknown, its report says so as its own answer.
    """
    decision = ask()
    for retry in range(1, retries + 1):
        if decision.verdict != "unknown":
            break
        if on_wait is not None:
            on_wait(decision, retry)
        sleep(interval)
        decision = ask()
        decision.asked = retry + 1
    return decision


PartnerVersion = tuple[LiveVersion, VersionRecord]
"""A version live in the environment (how it is live, and what it holds)."""


class GateInputs(Struct, frozen=True):
    """Everything can-i-deploy reads about SERVICE@VERSION in ENVIRONMENT before it judges.

    `consumers`: every version live in the environment holding a pact with SERVICE; `providers`:
    every live version of each provider SERVICE@VERSION holds a pact with. Versions of SERVICE
    itself may be among them (the gate leaves them out); each list is sorted by service, version
    number, how it is live and target.
    """

    subject: VersionRecord | None
    known_environment: bool
    consumers: list[PartnerVersion]
    providers: list[PartnerVersion]
    static_results: dict[tuple[str, str], StaticResult] | None = None
    """The checker's cached results by (pact SHA-256, spec digest), at least for every pair of
    these versions; None when they were not read with the rest (the checker reads them)."""


def read_gate_inputs(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    checker: str | None = None,
) -> GateInputs:
    """The gate's inputs from any registry, in a fixed number of batched calls.

    A registry with a `gate_inputs(service, version, environment, checker)` method of its own
    (the SQL store: one statement, with `checker`'s cached static results) reads them itself;
    any other (the HTTP client) through its general methods, leaving the static results to the
    checker.
    """
    own_reader = getattr(registry, "gate_inputs", None)
    if own_reader is not None:
        inputs: GateInputs = own_reader(service, version, environment, checker)
        return inputs
    record = registry.version(service, version)
    known_environment = registry.has_environment(environment)
    if record is None or not known_environment:
        return GateInputs(record, known_environment, [], [])
    consumers = registry.live_consumers(environment, service)
    held = [p.provider for p in record.pacts if p.provider and p.provider != service]
    providers = registry.live_versions(environment, held) if held else []
    records = registry.versions([(v.service, v.number) for v in consumers + providers])
    return GateInputs(
        record,
        known_environment,
        [(v, records[(v.service, v.number)]) for v in consumers],
        [(v, records[(v.service, v.number)]) for v in providers],
    )


def _decide(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    policy: Policy | None,
    checker: StaticChecker | None,
    now: datetime,
    *,
    tag: str | None = None,
) -> Decision:
    """A fixed number of queries, whatever the size of the registry: they are all batched."""
    policy = policy or Policy()
    decision = Decision(service, version, environment, tag=tag)
    checker = checker or StaticChecker(registry)
    if tag is not None:
        inputs = read_tagged_gate_inputs(registry, service, version, tag)
    else:
        inputs = read_gate_inputs(
            registry, service, version, environment, checker.name if checker.available else None
        )
    record = inputs.subject
    decision.known_version = record is not None
    decision.known_environment = inputs.known_environment
    if record is None or not decision.known_environment:
        return decision
    candidates: list[tuple[VersionRecord, StoredFile, VersionRecord, LiveVersion]] = []
    # (a) as a provider: every consumer version in the environment that holds a pact with it.
    # Versions of the service itself are never partners: they are the ones being replaced.
    for live, consumer in inputs.consumers:
        if live.service == service:
            continue
        for pact in consumer.pacts:
            if pact.provider == service:
                candidates.append((consumer, pact, record, live))
    # (b) as a consumer: every pact it holds, against each live version of that provider.
    for pact in record.pacts:
        if not pact.provider or pact.provider == service:
            continue
        partners = [(v, r) for v, r in inputs.providers if v.service == pact.provider]
        if not partners:
            if tag is not None:
                absent = Answer.PROVIDER_NOT_TAGGED
                why = f"no version of {pact.provider} carries tag {tag}"
            else:
                absent = Answer.PROVIDER_NOT_DEPLOYED
                why = f"no version of {pact.provider} is deployed or released in {environment}"
            decision.pairs.append(
                Pair(service, version, pact.provider, None, pact.path, "-", absent, why)
            )
        for live, provider in partners:
            candidates.append((record, pact, provider, live))
    judge = _Judge(registry, policy, checker, now)
    if inputs.static_results is not None:
        checker.remember(inputs.static_results)
        # Providers holding an AsyncAPI document are cached under another key than the stored
        # spec digest the statement joins on: one more batched read, only when there are some.
        checker.prefetch_event_contracts([(pact, provider) for _, pact, provider, _ in candidates])
    else:
        checker.prefetch([(pact, provider) for _, pact, provider, _ in candidates])
    decision.pairs.extend(judge.pair(*candidate) for candidate in candidates)
    if policy.fuzz_environments:
        decision.evidence.extend(judge.fuzz_evidence(record))
    return decision


def _how(live: LiveVersion) -> str:
    if live.via == TAGGED:
        return f"latest tagged {live.target}"
    if live.via == "released":
        return "released"
    return f"deployed, target {live.target}" if live.target else "deployed"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "at an unknown time"


class _Judge:
    def __init__(
        self, registry: Registry, policy: Policy, checker: StaticChecker, now: datetime
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.checker = checker
        self.now = now

    def too_old(self, recorded_at: datetime | None) -> str | None:
        """Why evidence recorded then is stale under the policy's maximum age, or None."""
        limit = self.policy.max_age
        if limit is None:
            return None
        if recorded_at is None:
            return "its age is unknown"
        age = self.now - recorded_at
        if age <= limit:
            return None
        return f"it is {_rough_age(age)} old (max-age {describe_age(limit)})"

    def fuzz_evidence(self, record: VersionRecord) -> list[EvidenceCheck]:
        """One check per required fuzz run, from one query for every run of the version."""
        names = [FUZZ if env is None else f"{FUZZ}@{env}" for env in self.policy.fuzz_environments]
        if record.spec_digest is None:
            reason = f"{record.label} publishes no OpenAPI document: there is nothing to fuzz"
            return [EvidenceCheck(name, Answer.FUZZ_NOT_APPLICABLE, reason) for name in names]
        runs = self.registry.fuzz_runs(record.service, record.number)
        return [
            self.fuzz_check(name, record, env, [r for r in runs if env in (None, r.environment)])
            for name, env in zip(names, self.policy.fuzz_environments, strict=True)
        ]

    def fuzz_check(
        self, name: str, record: VersionRecord, env: str | None, runs: list[FuzzRunRecord]
    ) -> EvidenceCheck:
        where = f"in {env}" if env else "in any environment"
        complete = [r for r in runs if r.complete]
        if not complete:
            cut = len(runs)
            reason = f"no fuzz run of {record.label} {where}" + (
                f" ({cut} interrupted, incomplete run{'s' if cut > 1 else ''} only)" if cut else ""
            )
            return EvidenceCheck(name, Answer.FUZZ_MISSING, reason + " (required by policy)")
        latest = complete[-1]
        failures = len(latest.run.get("failures") or ())
        about = (
            f"fuzz run #{latest.id} in {latest.environment} (seed {latest.run.get('seed')}, "
            f"{latest.run.get('requests', 0):,} requests, {failures} distinct failures, "
            f"recorded {_when(latest.recorded_at)} by {latest.recorded_by or 'unknown'})"
        )
        if not latest.passed:
            return EvidenceCheck(name, Answer.FUZZ_FAILED, f"the latest complete {about} failed")
        stale = self.too_old(latest.recorded_at)
        if stale is not None:
            return EvidenceCheck(
                name, Answer.FUZZ_STALE, f"the latest complete {about} passed, but {stale}"
            )
        return EvidenceCheck(name, Answer.FUZZ_SATISFIED, f"{about} passed")

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

        if contract_digest(provider) is None:
            return answer(
                Answer.PROVIDER_SPEC_MISSING,
                f"{provider.label} has no OpenAPI or AsyncAPI document to check against",
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
            latest = exact[-1]
            if not latest.success:
                return answer(
                    Answer.VERIFICATION_FAILED,
                    f"the latest verification of this pact failed ({_when(latest.recorded_at)})",
                )
            stale = self.too_old(latest.recorded_at)
            if stale is not None:
                return answer(
                    Answer.VERIFICATION_STALE,
                    f"the latest verification of this pact passed, but {stale}",
                )
            return answer(
                Answer.SATISFIED,
                "static compatibility passed; verification of this pact passed "
                f"({_when(latest.recorded_at)})",
            )
        return answer(Answer.SATISFIED, "static compatibility passed")


def decision_report(decision: Decision) -> Report:
    """Every pair as a finding: failing pairs are errors, satisfied ones info."""
    subject = f"{decision.service}@{decision.version}"
    report = Report(command="can-i-deploy", inputs=[f"{subject} -> {decision.destination}"])
    if not decision.known_version:
        report.findings.append(
            Finding(
                "deploy-unknown-version",
                Level.ERROR,
                f"{subject} is not in the registry: publish it before asking",
                service=decision.service,
            )
        )
    if not decision.known_environment and decision.tag is not None:
        report.findings.append(
            Finding(
                "deploy-unknown-tag",
                Level.ERROR,
                f"no version in the registry carries tag {decision.tag!r}: there is nothing to "
                "check against (tags are added by publish --tag or the Broker's "
                "create-version-tag)",
                service=decision.service,
            )
        )
    elif not decision.known_environment:
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
    if not decision.pairs and not decision.evidence:
        consumers = (
            f"no consumer whose latest version tagged {decision.tag} holds a pact with it"
            if decision.tag is not None
            else f"no consumers in {decision.environment}"
        )
        report.findings.append(
            Finding(
                "deploy-no-pairs",
                Level.INFO,
                f"{subject} has {consumers} and holds no consumer contracts: there is no pair "
                "to check, so contracts do not block this deployment",
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
    for check in decision.evidence:
        report.findings.append(
            Finding(
                check.answer.value,
                Level.INFO if check.ok else Level.ERROR,
                f"{subject} {check.requirement}: {check.reason}",
                service=decision.service,
            )
        )
    if decision.verdict == "unknown":
        waiting = sum(1 for p in decision.pairs if not p.ok)
        waiting += sum(1 for e in decision.evidence if not e.ok)
        asked = f"; asked {decision.asked} times" if decision.asked > 1 else ""
        report.findings.append(
            Finding(
                UNKNOWN_ANSWER,
                Level.ERROR,
                f"unknown: nothing failed, but {waiting} required "
                f"{'piece of evidence is' if waiting == 1 else 'pieces of evidence are'} "
                f"missing or stale{asked}",
                service=decision.service,
            )
        )
    return report
