"""What the pages show, read from the registry's tables in a few batched queries per page.

Every page makes a fixed number of statements whatever the size of the registry: lists are
keyset-paged (`name > cursor`, `id < cursor`), and anything needed per row of a page (latest
versions, deployments, verdicts) is read for the whole page at once with `IN (...)`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from msgspec import Struct, field
from sqlalchemy import Connection, and_, func, or_, select

from apigov.findings import Finding, Level, finding_from_dict
from apigov.registry.compat import (
    CONTRACT_ROLE_VALUES,
    EVENT_ROLE_VALUES,
    digest_of_contract_files,
)
from apigov.registry.models import contracts_table as _contracts
from apigov.registry.models import deployments_table as _deployments
from apigov.registry.models import environments_table as _environments
from apigov.registry.models import evidence_table as _evidence
from apigov.registry.models import releases_table as _releases
from apigov.registry.models import services_table as _services
from apigov.registry.models import version_contracts_table as _links
from apigov.registry.models import versions_table as _versions

PACT = "pact"
STATIC = "static-compat"
VERIFICATION = "verification"
FUZZ = "fuzz"

COMPATIBLE = "compatible"
BROKEN = "broken"
UNVERIFIED = "unverified"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---- the service list ------------------------------------------------------------------------


class ServiceRow(Struct, frozen=True):
    name: str
    owner: str | None
    team: str | None
    tier: int | None
    lifecycle: str | None
    latest: str | None = None
    version_count: int = 0


class ServicePage(Struct, frozen=True):
    rows: list[ServiceRow]
    next_cursor: str | None
    teams: list[str]


def list_services(
    connection: Connection, query: str, team: str, cursor: str | None, limit: int
) -> ServicePage:
    """Services by name after `cursor`, matching `query` (a substring) and `team`."""
    conditions: list[Any] = []
    if query:
        conditions.append(_services.c.name.icontains(query, autoescape=True))
    if team:
        conditions.append(_services.c.team == team)
    if cursor:
        conditions.append(_services.c.name > cursor)
    found = connection.execute(
        select(_services).where(*conditions).order_by(_services.c.name).limit(limit + 1)
    ).all()
    page = found[:limit]
    latest = _latest_versions(connection, [r.id for r in page])
    rows = [
        ServiceRow(
            r.name,
            r.owner,
            r.team,
            r.tier,
            r.lifecycle,
            *latest.get(r.id, (None, 0)),
        )
        for r in page
    ]
    teams = [
        t
        for t in connection.scalars(
            select(_services.c.team).where(_services.c.team.is_not(None)).distinct()
        )
        if t
    ]
    next_cursor = page[-1].name if len(found) > limit else None
    return ServicePage(rows, next_cursor, sorted(teams))


def _latest_versions(
    connection: Connection, service_ids: Sequence[int]
) -> dict[int, tuple[str, int]]:
    """service id -> (latest version number, how many versions): one grouped query."""
    if not service_ids:
        return {}
    grouped = (
        select(
            _versions.c.service_id,
            func.max(_versions.c.id).label("latest_id"),
            func.count(_versions.c.id).label("n"),
        )
        .where(_versions.c.service_id.in_(service_ids))
        .group_by(_versions.c.service_id)
        .subquery()
    )
    rows = connection.execute(
        select(grouped.c.service_id, _versions.c.number, grouped.c.n).join(
            _versions, _versions.c.id == grouped.c.latest_id
        )
    )
    return {r.service_id: (r.number, int(r.n)) for r in rows}


# ---- one service -----------------------------------------------------------------------------


class Placement(Struct, frozen=True):
    """A version in an environment: deployed (on a target) or released."""

    environment: str
    production: bool
    via: str  # deployed | released
    target: str
    since: datetime | None
    version: str = ""


class VersionRow(Struct, frozen=True):
    id: int
    number: str
    branch: str | None
    commit: str | None
    created_at: datetime | None
    spec_digest: str | None
    placements: tuple[Placement, ...] = ()


class BranchRow(Struct, frozen=True):
    name: str
    versions: int
    latest: str


class PactLink(Struct, frozen=True):
    """A pact one version of `consumer` holds with `provider`."""

    consumer: str
    consumer_version: str
    consumer_version_id: int
    provider: str
    path: str
    sha256: str


class ProviderVersion(Struct, frozen=True):
    service: str
    number: str
    id: int
    spec_digest: str | None


class Verdict(Struct):
    """The latest verdict for one pact against one provider version, and the evidence for it."""

    verdict: str  # compatible | broken | unverified
    reasons: list[str] = field(default_factory=list)
    static: str = ""  # what the static check said, in words
    verification: str = ""
    verification_failure: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return self.static not in ("", NOT_CHECKED)


class PairRow(Struct, frozen=True):
    pact: PactLink
    provider: ProviderVersion | None
    verdict: Verdict


class EvidenceRow(Struct, frozen=True):
    kind: str  # verification | fuzz
    version: str
    subject: str  # the consumer verified, or the environment fuzzed
    success: bool
    recorded_at: datetime | None
    recorded_by: str | None
    summary: str


class ServiceDetail(Struct):
    id: int
    name: str
    owner: str | None
    team: str | None
    tier: int | None
    lifecycle: str | None
    version_count: int
    versions: list[VersionRow]
    next_cursor: str | None
    branches: list[BranchRow]
    live: list[Placement]
    latest: VersionRow | None
    consumers: list[PairRow]
    providers: list[PairRow]
    evidence: list[EvidenceRow]


def service_row(connection: Connection, name: str) -> Any:
    return connection.execute(select(_services).where(_services.c.name == name)).first()


def service_detail(
    connection: Connection, name: str, cursor: str | None, limit: int, checker: str
) -> ServiceDetail | None:
    service = service_row(connection, name)
    if service is None:
        return None
    sid = service.id
    conditions: list[Any] = [_versions.c.service_id == sid]
    if cursor:
        conditions.append(_versions.c.id < int(cursor))
    found = connection.execute(
        select(_versions).where(*conditions).order_by(_versions.c.id.desc()).limit(limit + 1)
    ).all()
    page = found[:limit]
    next_cursor = str(page[-1].id) if len(found) > limit else None
    latest_row = connection.execute(
        select(_versions)
        .where(_versions.c.service_id == sid)
        .order_by(_versions.c.id.desc())
        .limit(1)
    ).first()
    ids = {r.id for r in page} | ({latest_row.id} if latest_row is not None else set())
    placements = _placements(connection, sorted(ids))
    versions = [_version_row(r, placements) for r in page]
    latest = _version_row(latest_row, placements) if latest_row is not None else None
    version_count = int(
        connection.scalar(select(func.count(_versions.c.id)).where(_versions.c.service_id == sid))
        or 0
    )
    branches = _branches(connection, sid)
    live = _live_of_service(connection, sid)
    consumers, providers = _pairs_of_service(connection, name, latest, checker)
    evidence = _evidence_of_service(connection, sid)
    return ServiceDetail(
        sid,
        service.name,
        service.owner,
        service.team,
        service.tier,
        service.lifecycle,
        version_count,
        versions,
        next_cursor,
        branches,
        live,
        latest,
        consumers,
        providers,
        evidence,
    )


def _version_row(row: Any, placements: dict[int, list[Placement]]) -> VersionRow:
    return VersionRow(
        row.id,
        row.number,
        row.branch,
        row.commit,
        _utc(row.created_at),
        row.spec_digest,
        tuple(placements.get(row.id, ())),
    )


def _placements(connection: Connection, version_ids: Sequence[int]) -> dict[int, list[Placement]]:
    """Where each of these versions is now: current deployments and supported releases."""
    found: dict[int, list[Placement]] = defaultdict(list)
    if not version_ids:
        return found
    deployed = connection.execute(
        select(
            _deployments.c.version_id,
            _deployments.c.target,
            _deployments.c.deployed_at,
            _environments.c.name,
            _environments.c.production,
        )
        .join(_environments, _environments.c.id == _deployments.c.environment_id)
        .where(_deployments.c.version_id.in_(version_ids), _deployments.c.undeployed_at.is_(None))
    )
    for r in deployed:
        found[r.version_id].append(
            Placement(r.name, bool(r.production), "deployed", r.target, _utc(r.deployed_at))
        )
    released = connection.execute(
        select(
            _releases.c.version_id,
            _releases.c.released_at,
            _environments.c.name,
            _environments.c.production,
        )
        .join(_environments, _environments.c.id == _releases.c.environment_id)
        .where(_releases.c.version_id.in_(version_ids), _releases.c.support_ended_at.is_(None))
    )
    for release in released:
        found[release.version_id].append(
            Placement(
                release.name, bool(release.production), "released", "", _utc(release.released_at)
            )
        )
    for places in found.values():
        places.sort(key=lambda p: (p.environment, p.via, p.target))
    return found


def _branches(connection: Connection, service_id: int) -> list[BranchRow]:
    grouped = (
        select(
            _versions.c.branch,
            func.count(_versions.c.id).label("n"),
            func.max(_versions.c.id).label("latest_id"),
        )
        .where(_versions.c.service_id == service_id, _versions.c.branch.is_not(None))
        .group_by(_versions.c.branch)
        .subquery()
    )
    rows = connection.execute(
        select(grouped.c.branch, grouped.c.n, _versions.c.number)
        .join(_versions, _versions.c.id == grouped.c.latest_id)
        .order_by(grouped.c.latest_id.desc())
    )
    return [BranchRow(r.branch, int(r.n), r.number) for r in rows]


def _live_of_service(connection: Connection, service_id: int) -> list[Placement]:
    """Every environment the service is in now, and with which version."""
    deployed = connection.execute(
        select(
            _versions.c.number,
            _deployments.c.target,
            _deployments.c.deployed_at,
            _environments.c.name,
            _environments.c.production,
        )
        .select_from(_deployments)
        .join(_versions, _versions.c.id == _deployments.c.version_id)
        .join(_environments, _environments.c.id == _deployments.c.environment_id)
        .where(_deployments.c.service_id == service_id, _deployments.c.undeployed_at.is_(None))
    )
    live = [
        Placement(r.name, bool(r.production), "deployed", r.target, _utc(r.deployed_at), r.number)
        for r in deployed
    ]
    released = connection.execute(
        select(
            _versions.c.number,
            _releases.c.released_at,
            _environments.c.name,
            _environments.c.production,
        )
        .select_from(_releases)
        .join(_versions, _versions.c.id == _releases.c.version_id)
        .join(_environments, _environments.c.id == _releases.c.environment_id)
        .where(_releases.c.service_id == service_id, _releases.c.support_ended_at.is_(None))
    )
    live += [
        Placement(r.name, bool(r.production), "released", "", _utc(r.released_at), r.number)
        for r in released
    ]
    return sorted(live, key=lambda p: (not p.production, p.environment, p.target, p.version))


def _pact_links(connection: Connection, condition: Any) -> list[PactLink]:
    rows = connection.execute(
        select(
            _services.c.name,
            _versions.c.number,
            _versions.c.id,
            _links.c.provider,
            _links.c.path,
            _contracts.c.sha256,
        )
        .select_from(_links)
        .join(_versions, _versions.c.id == _links.c.version_id)
        .join(_services, _services.c.id == _versions.c.service_id)
        .join(_contracts, _contracts.c.id == _links.c.contract_id)
        .where(_links.c.role == PACT, condition)
    )
    return sorted(
        (PactLink(r.name, r.number, r.id, r.provider or "", r.path, r.sha256) for r in rows),
        key=lambda p: (p.consumer, p.consumer_version_id, p.provider, p.path),
    )


def _latest_provider_versions(
    connection: Connection, providers: Iterable[str]
) -> dict[str, ProviderVersion]:
    names = sorted(set(providers))
    if not names:
        return {}
    latest = (
        select(func.max(_versions.c.id))
        .join(_services, _services.c.id == _versions.c.service_id)
        .where(_services.c.name.in_(names))
        .group_by(_versions.c.service_id)
    )
    rows = connection.execute(
        select(_services.c.name, _versions.c.number, _versions.c.id, _versions.c.spec_digest)
        .join(_services, _services.c.id == _versions.c.service_id)
        .where(_versions.c.id.in_(latest.scalar_subquery()))
    )
    return {r.name: ProviderVersion(r.name, r.number, r.id, r.spec_digest) for r in rows}


def _pairs_of_service(
    connection: Connection, name: str, latest: VersionRow | None, checker: str
) -> tuple[list[PairRow], list[PairRow]]:
    """(consumers, providers): the latest version of each consumer holding a pact with this
    service against this service's latest version; this service's latest pacts against each
    provider's latest version."""
    # The latest version of every consumer that holds a pact with this service.
    holders = (
        select(func.max(_links.c.version_id))
        .join(_versions, _versions.c.id == _links.c.version_id)
        .where(_links.c.role == PACT, _links.c.provider == name)
        .group_by(_versions.c.service_id)
    )
    as_provider = [
        p
        for p in _pact_links(connection, _links.c.version_id.in_(holders.scalar_subquery()))
        if p.consumer != name and p.provider == name
    ]
    as_consumer = (
        [
            p
            for p in _pact_links(connection, _links.c.version_id == latest.id)
            if p.provider and p.provider != name
        ]
        if latest is not None
        else []
    )
    providers = _latest_provider_versions(connection, [p.provider for p in as_consumer])
    if latest is not None:
        providers[name] = ProviderVersion(name, latest.number, latest.id, latest.spec_digest)
    pairs = [(p, providers.get(p.provider)) for p in as_provider + as_consumer]
    verdicts = judge_pairs(connection, pairs, checker)
    rows = [PairRow(p, v, verdicts[i]) for i, (p, v) in enumerate(pairs)]
    return rows[: len(as_provider)], rows[len(as_provider) :]


def judge_pairs(
    connection: Connection,
    pairs: Sequence[tuple[PactLink, ProviderVersion | None]],
    checker: str,
) -> list[Verdict]:
    """The verdict of each (pact, provider version) pair from the stored evidence.

    Broken: the static check failed, or the latest verification of this exact pact against
    this provider version failed. Compatible: the static check passed (and no failed latest
    verification). Unverified: no static result is stored for the pair yet.
    Two queries for any number of pairs.
    """
    provider_ids = sorted({v.id for _, v in pairs if v is not None})
    keyed = static_keys(connection, provider_ids)
    keys = {
        (p.sha256, keyed.get(v.id, v.spec_digest))
        for p, v in pairs
        if v is not None and v.spec_digest
    }
    static: dict[tuple[str, str], tuple[bool, str]] = {}
    if keys:
        rows = connection.execute(
            select(
                _evidence.c.pact_sha256,
                _evidence.c.spec_digest,
                _evidence.c.success,
                _evidence.c.details,
            ).where(
                _evidence.c.kind == STATIC,
                _evidence.c.checker == checker,
                _evidence.c.pact_sha256.in_(sorted({k[0] for k in keys})),
                _evidence.c.spec_digest.in_(sorted({k[1] for k in keys})),
            )
        )
        for r in rows:
            static[(r.pact_sha256, r.spec_digest)] = (bool(r.success), r.details or "[]")
    verifications: dict[tuple[int, str, str], tuple[bool, datetime | None]] = {}
    if provider_ids:
        rows = connection.execute(
            select(
                _evidence.c.provider_version_id,
                _evidence.c.consumer,
                _evidence.c.pact_sha256,
                _evidence.c.success,
                _evidence.c.recorded_at,
            )
            .where(
                _evidence.c.provider_version_id.in_(provider_ids),
                _evidence.c.kind == VERIFICATION,
            )
            .order_by(_evidence.c.id)
        )
        for r in rows:  # oldest first: the latest one of each pair wins
            verifications[(r.provider_version_id, r.consumer or "", r.pact_sha256 or "")] = (
                bool(r.success),
                _utc(r.recorded_at),
            )
    return [_verdict(p, v, static, verifications, keyed) for p, v in pairs]


def static_keys(connection: Connection, version_ids: Sequence[int]) -> dict[int, str]:
    """The static-result key of each of these provider versions that holds an AsyncAPI
    document (`registry.compat.contract_digest`); every other version's key is its spec digest.
    One query, whatever the number of versions."""
    if not version_ids:
        return {}
    holding_events = (
        select(_links.c.version_id)
        .where(
            _links.c.version_id.in_(version_ids),
            _links.c.role.in_(EVENT_ROLE_VALUES),
        )
        .scalar_subquery()
    )
    rows = connection.execute(
        select(_links.c.version_id, _links.c.path, _links.c.role, _contracts.c.sha256)
        .join(_contracts, _contracts.c.id == _links.c.contract_id)
        .where(
            _links.c.version_id.in_(holding_events),
            _links.c.role.in_(CONTRACT_ROLE_VALUES),
        )
    )
    files: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for version_id, path, role, sha256 in rows:
        files[version_id].append((path, role, sha256))
    return {version_id: digest_of_contract_files(found) for version_id, found in files.items()}


NOT_CHECKED = "not checked yet (can-i-deploy checks it)"


def _verdict(
    pact: PactLink,
    provider: ProviderVersion | None,
    static: dict[tuple[str, str], tuple[bool, str]],
    verifications: dict[tuple[int, str, str], tuple[bool, datetime | None]],
    keyed: dict[int, str],
) -> Verdict:
    if provider is None:
        return Verdict(UNVERIFIED, [f"{pact.provider} has published no version"])
    if provider.spec_digest is None:
        return Verdict(
            UNVERIFIED, [f"{provider.service}@{provider.number} has no OpenAPI document"]
        )
    verdict = Verdict(UNVERIFIED)
    verification = verifications.get((provider.id, pact.consumer, pact.sha256))
    if verification is not None:
        success, at = verification
        when = at.strftime("%Y-%m-%d %H:%M UTC") if at else "at an unknown time"
        verdict.verification = f"{'passed' if success else 'failed'} ({when})"
        if not success:
            verdict.verification_failure = (
                f"the latest live verification against {provider.service}@{provider.number} failed"
            )
    found = static.get((pact.sha256, keyed.get(provider.id, provider.spec_digest)))
    if found is None:
        verdict.static = NOT_CHECKED
        verdict.reasons.append("no static compatibility result yet")
        if verdict.verification_failure:
            verdict.verdict = BROKEN
            verdict.reasons.append(verdict.verification_failure)
        return verdict
    success, details = found
    return verdict_from_static(
        verdict, success, [finding_from_dict(d) for d in json.loads(details)]
    )


def verdict_from_static(before: Verdict, success: bool, findings: list[Finding]) -> Verdict:
    """`before` (which may know a verification) with the static check's result applied."""
    after = Verdict(
        UNVERIFIED,
        verification=before.verification,
        verification_failure=before.verification_failure,
        findings=list(findings),
    )
    errors = [f for f in findings if f.level is Level.ERROR]
    if success:
        after.verdict = COMPATIBLE
        notes = len(findings)
        after.static = "passed" + (f" ({notes} note{'s' if notes != 1 else ''})" if notes else "")
    else:
        after.verdict = BROKEN
        after.static = f"failed: {len(errors)} error{'s' if len(errors) != 1 else ''}"
        after.reasons.extend(f.message for f in errors)
    if after.verification_failure:
        after.verdict = BROKEN
        after.reasons.append(after.verification_failure)
    return after


def _evidence_of_service(
    connection: Connection, service_id: int, limit: int = 10
) -> list[EvidenceRow]:
    """The latest verifications of and fuzz runs against this service's versions."""
    rows = connection.execute(
        select(
            _evidence.c.kind,
            _evidence.c.consumer,
            _evidence.c.environment,
            _evidence.c.success,
            _evidence.c.details,
            _evidence.c.recorded_at,
            _evidence.c.recorded_by,
            _versions.c.number,
        )
        .select_from(_evidence)
        .join(_versions, _versions.c.id == _evidence.c.provider_version_id)
        .where(
            _versions.c.service_id == service_id,
            _evidence.c.kind.in_([VERIFICATION, FUZZ]),
        )
        .order_by(_evidence.c.id.desc())
        .limit(limit)
    )
    found = []
    for r in rows:
        if r.kind == FUZZ:
            run = json.loads(r.details or "{}").get("run", {})
            failures = len(run.get("failures") or ())
            summary = (
                f"seed {run.get('seed')}, {run.get('requests', 0):,} requests, "
                f"{failures} distinct failures"
            )
            subject = r.environment or ""
        else:
            summary = "live pact verification"
            subject = r.consumer or ""
        found.append(
            EvidenceRow(
                r.kind,
                r.number,
                subject,
                bool(r.success),
                _utc(r.recorded_at),
                r.recorded_by,
                summary,
            )
        )
    return found


# ---- environments and the matrix -------------------------------------------------------------


class EnvironmentRow(Struct, frozen=True):
    name: str
    production: bool


def environments(connection: Connection) -> list[EnvironmentRow]:
    rows = connection.execute(
        select(_environments.c.name, _environments.c.production).order_by(_environments.c.name)
    )
    return [EnvironmentRow(r.name, bool(r.production)) for r in rows]


class LiveRow(Struct, frozen=True):
    service: str
    number: str
    version_id: int
    spec_digest: str | None
    via: str
    target: str

    @property
    def label(self) -> str:
        return f"{self.service}@{self.number}"


def live_in_environment(connection: Connection, environment: str) -> list[LiveRow]:
    """Every version live in the environment: current deployments and supported releases.

    Reads the environment's whole deployment list on purpose (the matrix shows all of it).
    """
    env_id = select(_environments.c.id).where(_environments.c.name == environment).scalar_subquery()
    deployed = connection.execute(
        select(
            _services.c.name,
            _versions.c.number,
            _versions.c.id,
            _versions.c.spec_digest,
            _deployments.c.target,
        )
        .select_from(_deployments)
        .join(_versions, _versions.c.id == _deployments.c.version_id)
        .join(_services, _services.c.id == _versions.c.service_id)
        .where(_deployments.c.environment_id == env_id, _deployments.c.undeployed_at.is_(None))
    )
    live = [LiveRow(r.name, r.number, r.id, r.spec_digest, "deployed", r.target) for r in deployed]
    released = connection.execute(
        select(_services.c.name, _versions.c.number, _versions.c.id, _versions.c.spec_digest)
        .select_from(_releases)
        .join(_versions, _versions.c.id == _releases.c.version_id)
        .join(_services, _services.c.id == _versions.c.service_id)
        .where(_releases.c.environment_id == env_id, _releases.c.support_ended_at.is_(None))
    )
    live += [LiveRow(r.name, r.number, r.id, r.spec_digest, "released", "") for r in released]
    return sorted(live, key=lambda v: (v.service, v.version_id, v.via, v.target))


def pacts_of_versions(
    connection: Connection, version_ids: Sequence[int], service: str = ""
) -> list[PactLink]:
    """The pacts these versions hold (with `service`: only those it holds or is provider of)."""
    if not version_ids:
        return []
    condition: Any = _links.c.version_id.in_(sorted(set(version_ids)))
    if service:
        condition = and_(condition, or_(_services.c.name == service, _links.c.provider == service))
    return _pact_links(connection, condition)


def fuzz_runs_in(
    connection: Connection, version_ids: Sequence[int], environment: str
) -> dict[int, EvidenceRow]:
    """The latest fuzz run of each of these versions in the environment."""
    if not version_ids:
        return {}
    rows = connection.execute(
        select(
            _evidence.c.id,
            _evidence.c.provider_version_id,
            _evidence.c.success,
            _evidence.c.details,
            _evidence.c.recorded_at,
            _evidence.c.recorded_by,
        )
        .where(
            _evidence.c.provider_version_id.in_(sorted(set(version_ids))),
            _evidence.c.kind == FUZZ,
            _evidence.c.environment == environment,
        )
        .order_by(_evidence.c.id)
    )
    latest: dict[int, EvidenceRow] = {}
    for r in rows:
        run = json.loads(r.details or "{}").get("run", {})
        failures = len(run.get("failures") or ())
        latest[r.provider_version_id] = EvidenceRow(
            FUZZ,
            "",
            environment,
            bool(r.success),
            _utc(r.recorded_at),
            r.recorded_by,
            f"run #{r.id}: seed {run.get('seed')}, {run.get('requests', 0):,} requests, "
            f"{failures} distinct failures",
        )
    return latest


# ---- the diff view ---------------------------------------------------------------------------


def version_numbers(connection: Connection, service_id: int, limit: int = 500) -> list[str]:
    """The service's versions, newest first (for the version pickers)."""
    return list(
        connection.scalars(
            select(_versions.c.number)
            .where(_versions.c.service_id == service_id)
            .order_by(_versions.c.id.desc())
            .limit(limit)
        )
    )


def consumer_pacts_for_diff(connection: Connection, provider: str) -> list[PactLink]:
    """The pacts with `provider` held by each consumer's latest version and by every consumer
    version live anywhere (deployed or released): whom a change to `provider` can break."""
    latest = (
        select(func.max(_links.c.version_id))
        .join(_versions, _versions.c.id == _links.c.version_id)
        .where(_links.c.role == PACT, _links.c.provider == provider)
        .group_by(_versions.c.service_id)
    )
    holding = select(_links.c.version_id).where(
        _links.c.role == PACT, _links.c.provider == provider
    )
    deployed = select(_deployments.c.version_id).where(
        _deployments.c.version_id.in_(holding.scalar_subquery()),
        _deployments.c.undeployed_at.is_(None),
    )
    released = select(_releases.c.version_id).where(
        _releases.c.version_id.in_(holding.scalar_subquery()),
        _releases.c.support_ended_at.is_(None),
    )
    condition = and_(
        _links.c.provider == provider,
        or_(
            _links.c.version_id.in_(latest.scalar_subquery()),
            _links.c.version_id.in_(deployed.scalar_subquery()),
            _links.c.version_id.in_(released.scalar_subquery()),
        ),
    )
    return [p for p in _pact_links(connection, condition) if p.consumer != provider]
