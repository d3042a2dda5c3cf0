"""The SQL registry: SQLite (embedded default, WAL) or PostgreSQL, through SQLAlchemy Core.

Every write is one transaction. Races between processes are settled by the database: inserts
use ON CONFLICT DO NOTHING against the unique constraints and then read back what won, and
SQLite write transactions start with BEGIN IMMEDIATE so two writers never both hold a read
snapshot they cannot upgrade ("database is locked" half-way through a publish).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    exc,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from apigov.registry import migrate
from apigov.registry.domain import (
    AuditRecord,
    ContractFile,
    EnvironmentRecord,
    FuzzRunRecord,
    LiveVersion,
    PactPublication,
    PublishResult,
    RegistryError,
    Role,
    ServiceMetadata,
    StaticResult,
    StoredFile,
    VerificationResult,
    VersionConflictError,
    VersionRecord,
    VersionSummary,
    spec_digest,
    version_digest,
)
from apigov.registry.models import (
    AuditEntry,
    Contract,
    Deployment,
    Environment,
    Evidence,
    Release,
    Service,
    Version,
    VersionContract,
)
from apigov.spec.errors import UnreachableError

_services: Table = Service.__table__  # type: ignore[assignment]
_contracts: Table = Contract.__table__  # type: ignore[assignment]
_versions: Table = Version.__table__  # type: ignore[assignment]
_links: Table = VersionContract.__table__  # type: ignore[assignment]
_environments: Table = Environment.__table__  # type: ignore[assignment]
_deployments: Table = Deployment.__table__  # type: ignore[assignment]
_releases: Table = Release.__table__  # type: ignore[assignment]
_evidence: Table = Evidence.__table__  # type: ignore[assignment]
_audit: Table = AuditEntry.__table__  # type: ignore[assignment]

STATIC = "static-compat"
VERIFICATION = "verification"
FUZZ = "fuzz"


def _now() -> datetime:
    return datetime.now(UTC)


def database_url(location: str) -> str:
    """A `--registry` value as a SQLAlchemy URL: paths become SQLite files."""
    if location.startswith(("postgresql://", "postgres://")):
        # psycopg 3 is the driver apigov ships with.
        return "postgresql+psycopg://" + location.split("://", 1)[1]
    if "://" in location:
        return location
    path = Path(location).expanduser()
    return f"sqlite:///{path.resolve()}"


class SqlRegistry:
    """The `Registry` on a SQL database. Thread-safe: each call takes its own connection."""

    def __init__(self, location: str, *, migrate_schema: bool = True) -> None:
        self.location = location
        self._local = threading.local()
        url = database_url(location)
        self._memory = url in ("sqlite://", "sqlite:///:memory:")
        self.engine = _engine(url)
        try:
            if migrate_schema and migrate.current_revision(self.engine) != migrate.HEAD:
                migrate.upgrade(self.engine)
        except exc.OperationalError as error:
            self.engine.dispose()
            raise UnreachableError(
                f"registry {location} cannot be reached: {_reason(error)}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    # ---- transactions --------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                connection.execution_options(apigov_write=True)
                with connection.begin():
                    yield connection
        except exc.OperationalError as error:
            raise UnreachableError(f"registry {self.location}: {_reason(error)}") from None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the reads inside (this thread's) on one connection and one transaction.

        can-i-deploy reads a few dozen rows: one snapshot makes them consistent with each other
        and saves a connection checkout and a BEGIN per query.
        """
        # An in-memory database has one connection for everything: writes made during the
        # snapshot (cached check results) could not start their own transaction on it.
        if self._memory or getattr(self._local, "connection", None) is not None:
            yield
            return
        with self._read() as connection:
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        pinned: Connection | None = getattr(self._local, "connection", None)
        if pinned is not None:
            yield pinned
            return
        try:
            with self.engine.connect() as connection, connection.begin():
                yield connection
        except exc.OperationalError as error:
            raise UnreachableError(f"registry {self.location}: {_reason(error)}") from None

    def _insert(self, connection: Connection, table: Table) -> Any:
        """INSERT ... ON CONFLICT DO NOTHING in the connection's dialect."""
        if connection.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        if connection.dialect.name == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        raise RegistryError(self.location, f"unsupported database {connection.dialect.name!r}")

    def _audit(
        self, connection: Connection, actor: str | None, action: str, subject: str, **details: Any
    ) -> None:
        connection.execute(
            _audit.insert().values(
                at=_now(),
                actor=actor,
                action=action,
                subject=subject,
                details=json.dumps(details, sort_keys=True),
            )
        )

    # ---- publishing ----------------------------------------------------------------------

    def publish(
        self,
        service: str,
        version: str,
        files: Sequence[ContractFile],
        *,
        branch: str | None = None,
        commit: str | None = None,
        metadata: ServiceMetadata | None = None,
        actor: str | None = None,
    ) -> PublishResult:
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise RegistryError(self.location, f"{service}@{version}: two files share one path")
        digest = version_digest(files)
        stored = tuple(StoredFile(f.path, f.role, f.sha256, f.provider) for f in files)
        with self._write() as connection:
            service_id = self._service_id(connection, service, create=True)
            assert service_id is not None
            inserted = connection.execute(
                self._insert(connection, _versions)
                .values(
                    service_id=service_id,
                    number=version,
                    branch=branch,
                    commit=commit,
                    digest=digest,
                    spec_digest=spec_digest(files),
                    created_at=_now(),
                )
                .returning(_versions.c.id)
            ).first()
            if inserted is None:
                existing = connection.execute(
                    select(_versions.c.id, _versions.c.digest).where(
                        _versions.c.service_id == service_id, _versions.c.number == version
                    )
                ).one()
                if existing.digest == digest:
                    return PublishResult(service, version, created=False, files=stored)
                raise _conflict(service, version, self._files(connection, existing.id), stored)
            version_id = inserted.id
            new = self._link_files(connection, version_id, files)
            if metadata is not None:
                connection.execute(
                    update(_services)
                    .where(_services.c.id == service_id)
                    .values(
                        owner=metadata.owner,
                        team=metadata.team,
                        tier=metadata.tier,
                        lifecycle=metadata.lifecycle,
                    )
                )
            self._audit(
                connection,
                actor,
                "publish",
                f"{service}@{version}",
                digest=digest,
                branch=branch,
                commit=commit,
            )
        return PublishResult(
            service, version, created=True, files=stored, new_contents=frozenset(new)
        )

    def _link_files(
        self, connection: Connection, version_id: int, files: Sequence[ContractFile]
    ) -> set[str]:
        """Store the contents not stored yet and link every file to the version; returns the
        SHA-256 of the contents that were new."""
        if not files:
            return set()
        wanted = {f.sha256 for f in files}
        known = set(
            connection.scalars(select(_contracts.c.sha256).where(_contracts.c.sha256.in_(wanted)))
        )
        new = {f.sha256: f for f in files if f.sha256 not in known}
        if new:
            now = _now()
            connection.execute(
                self._insert(connection, _contracts),
                [
                    {
                        "sha256": sha,
                        "kind": f.kind,
                        "size": len(f.content),
                        "content": f.content,
                        "created_at": now,
                    }
                    for sha, f in new.items()
                ],
            )
        ids = {
            row.sha256: row.id
            for row in connection.execute(
                select(_contracts.c.sha256, _contracts.c.id).where(_contracts.c.sha256.in_(wanted))
            )
        }
        connection.execute(
            _links.insert(),
            [
                {
                    "version_id": version_id,
                    "path": f.path,
                    "contract_id": ids[f.sha256],
                    "role": f.role.value,
                    "provider": f.provider,
                }
                for f in files
            ],
        )
        return set(new)

    def _service_id(self, connection: Connection, name: str, *, create: bool = False) -> int | None:
        if create:
            connection.execute(
                self._insert(connection, _services).values(name=name, created_at=_now())
            )
        found = connection.scalar(select(_services.c.id).where(_services.c.name == name))
        return None if found is None else int(found)

    def _files(self, connection: Connection, version_id: int) -> tuple[StoredFile, ...]:
        rows = connection.execute(
            select(_links.c.path, _links.c.role, _links.c.provider, _contracts.c.sha256)
            .join(_contracts, _contracts.c.id == _links.c.contract_id)
            .where(_links.c.version_id == version_id)
            .order_by(_links.c.path)
        )
        return tuple(StoredFile(r.path, Role(r.role), r.sha256, r.provider) for r in rows)

    def version(self, service: str, number: str) -> VersionRecord | None:
        return self.versions([(service, number)]).get((service, number))

    def versions(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VersionRecord]:
        """Several versions, with their files, in two queries."""
        wanted = set(keys)
        if not wanted:
            return {}
        with self._read() as connection:
            # Two IN lists rather than a tuple IN: both use the (service, number) index on
            # SQLite and PostgreSQL alike; the few extra combinations are dropped here.
            rows = [
                row
                for row in connection.execute(
                    select(_services.c.name, _versions)
                    .join(_services, _services.c.id == _versions.c.service_id)
                    .where(
                        _versions.c.service_id.in_(
                            select(_services.c.id)
                            .where(_services.c.name.in_(sorted({s for s, _ in wanted})))
                            .scalar_subquery()
                        ),
                        _versions.c.number.in_(sorted({n for _, n in wanted})),
                    )
                )
                if (row.name, row.number) in wanted
            ]
            files: dict[int, list[StoredFile]] = {row.id: [] for row in rows}
            if rows:
                links = connection.execute(
                    select(
                        _links.c.version_id,
                        _links.c.path,
                        _links.c.role,
                        _links.c.provider,
                        _contracts.c.sha256,
                    )
                    .join(_contracts, _contracts.c.id == _links.c.contract_id)
                    .where(_links.c.version_id.in_(list(files)))
                    .order_by(_links.c.version_id, _links.c.path)
                )
                for link in links:
                    files[link.version_id].append(
                        StoredFile(link.path, Role(link.role), link.sha256, link.provider)
                    )
        return {
            (row.name, row.number): VersionRecord(
                service=row.name,
                number=row.number,
                branch=row.branch,
                commit=row.commit,
                digest=row.digest,
                spec_digest=row.spec_digest,
                files=tuple(files[row.id]),
            )
            for row in rows
        }

    def contents(self, sha256s: Sequence[str]) -> dict[str, bytes]:
        with self._read() as connection:
            rows = connection.execute(
                select(_contracts.c.sha256, _contracts.c.content).where(
                    _contracts.c.sha256.in_(set(sha256s))
                )
            )
            return {r.sha256: bytes(r.content) for r in rows}

    # ---- environments, deployments, releases ----------------------------------------------

    def ensure_environment(self, name: str, *, production: bool = False) -> None:
        with self._write() as connection:
            self._environment_id(connection, name, create=True, production=production)

    def has_environment(self, name: str) -> bool:
        with self._read() as connection:
            return self._environment_id(connection, name) is not None

    def _environment_id(
        self, connection: Connection, name: str, *, create: bool = False, production: bool = False
    ) -> int | None:
        if create:
            result = connection.execute(
                self._insert(connection, _environments)
                .values(name=name, production=production, created_at=_now())
                # rowcount is unreliable after ON CONFLICT DO NOTHING; RETURNING is not.
                .returning(_environments.c.id)
            ).first()
            if result is not None:
                self._audit(connection, None, "create-environment", name, production=production)
        found = connection.scalar(select(_environments.c.id).where(_environments.c.name == name))
        return None if found is None else int(found)

    def _version_ids(self, connection: Connection, service: str, version: str) -> tuple[int, int]:
        row = connection.execute(
            select(_services.c.id, _versions.c.id.label("version_id"))
            .join(_versions, _versions.c.service_id == _services.c.id)
            .where(_services.c.name == service, _versions.c.number == version)
        ).first()
        if row is None:
            raise RegistryError(
                self.location, f"{service}@{version} is not in the registry (publish it first)"
            )
        return int(row.id), int(row.version_id)

    def _lock_service(self, connection: Connection, service_id: int) -> None:
        # Deployments of one service are serialised on its row (PostgreSQL; SQLite's
        # BEGIN IMMEDIATE already serialises every write).
        connection.execute(
            select(_services.c.id).where(_services.c.id == service_id).with_for_update()
        )

    def record_deployment(
        self,
        service: str,
        version: str,
        environment: str,
        *,
        target: str = "",
        actor: str | None = None,
    ) -> list[str]:
        """Mark `service@version` as running in `environment` (and `target`).

        Retires the version deployed there before (same environment and target) and returns the
        versions it retired. Deploying the version that is already current changes nothing.
        """
        with self._write() as connection:
            service_id, version_id = self._version_ids(connection, service, version)
            environment_id = self._environment_id(connection, environment, create=True)
            self._lock_service(connection, service_id)
            current = connection.execute(
                select(_deployments.c.id, _deployments.c.version_id, _versions.c.number)
                .join(_versions, _versions.c.id == _deployments.c.version_id)
                .where(
                    _deployments.c.service_id == service_id,
                    _deployments.c.environment_id == environment_id,
                    _deployments.c.target == target,
                    _deployments.c.undeployed_at.is_(None),
                )
            ).first()
            if current is not None and current.version_id == version_id:
                return []
            now = _now()
            retired: list[str] = []
            if current is not None:
                connection.execute(
                    update(_deployments)
                    .where(_deployments.c.id == current.id)
                    .values(undeployed_at=now)
                )
                retired.append(current.number)
            connection.execute(
                _deployments.insert().values(
                    service_id=service_id,
                    version_id=version_id,
                    environment_id=environment_id,
                    target=target,
                    deployed_at=now,
                )
            )
            self._audit(
                connection,
                actor,
                "record-deployment",
                f"{service}@{version}",
                environment=environment,
                target=target,
                retired=retired,
            )
        return retired

    def record_undeployment(
        self, service: str, environment: str, *, target: str = "", actor: str | None = None
    ) -> list[str]:
        """End the current deployment of `service` in `environment` (and `target`)."""
        with self._write() as connection:
            service_id = self._service_id(connection, service)
            environment_id = self._environment_id(connection, environment)
            if service_id is None or environment_id is None:
                raise RegistryError(self.location, f"{service} is not deployed to {environment}")
            self._lock_service(connection, service_id)
            rows = connection.execute(
                select(_deployments.c.id, _versions.c.number)
                .join(_versions, _versions.c.id == _deployments.c.version_id)
                .where(
                    _deployments.c.service_id == service_id,
                    _deployments.c.environment_id == environment_id,
                    _deployments.c.target == target,
                    _deployments.c.undeployed_at.is_(None),
                )
            ).all()
            if not rows:
                where = f"{environment} (target {target})" if target else environment
                raise RegistryError(self.location, f"{service} is not deployed to {where}")
            connection.execute(
                update(_deployments)
                .where(_deployments.c.id.in_([r.id for r in rows]))
                .values(undeployed_at=_now())
            )
            numbers = [r.number for r in rows]
            self._audit(
                connection,
                actor,
                "record-undeployment",
                service,
                environment=environment,
                target=target,
                versions=numbers,
            )
        return numbers

    def record_release(
        self, service: str, version: str, environment: str, *, actor: str | None = None
    ) -> bool:
        """A released version stays live next to others until its support ends. True if new."""
        with self._write() as connection:
            service_id, version_id = self._version_ids(connection, service, version)
            environment_id = self._environment_id(connection, environment, create=True)
            result = connection.execute(
                self._insert(connection, _releases)
                .values(
                    service_id=service_id,
                    version_id=version_id,
                    environment_id=environment_id,
                    released_at=_now(),
                )
                .returning(_releases.c.id)
            ).first()
            if result is not None:
                self._audit(
                    connection,
                    actor,
                    "record-release",
                    f"{service}@{version}",
                    environment=environment,
                )
            return result is not None

    def record_support_ended(
        self, service: str, version: str, environment: str, *, actor: str | None = None
    ) -> bool:
        with self._write() as connection:
            _, version_id = self._version_ids(connection, service, version)
            environment_id = self._environment_id(connection, environment)
            result = connection.execute(
                update(_releases)
                .where(
                    _releases.c.version_id == version_id,
                    _releases.c.environment_id == environment_id,
                    _releases.c.support_ended_at.is_(None),
                )
                .values(support_ended_at=_now())
            )
            if result.rowcount:
                self._audit(
                    connection,
                    actor,
                    "record-support-ended",
                    f"{service}@{version}",
                    environment=environment,
                )
            return bool(result.rowcount)

    # Both lookups start from the few services or versions asked about (an index on
    # deployments/releases by service or version), never from everything in the environment:
    # their cost must not grow with the number of unrelated services.

    def live_versions(self, environment: str, services: Sequence[str]) -> list[LiveVersion]:
        """Every version of these services in `environment`, deployed or released."""
        ids = select(_services.c.id).where(_services.c.name.in_(sorted(set(services))))
        return self._live_query(
            environment,
            _deployments.c.service_id.in_(ids.scalar_subquery()),
            _releases.c.service_id.in_(ids.scalar_subquery()),
        )

    def live_consumers(self, environment: str, provider: str) -> list[LiveVersion]:
        """Every version in `environment` that holds a pact with `provider`."""
        holds_pact = select(_links.c.version_id).where(
            _links.c.role == Role.PACT.value, _links.c.provider == provider
        )
        return self._live_query(
            environment,
            _deployments.c.version_id.in_(holds_pact.scalar_subquery()),
            _releases.c.version_id.in_(holds_pact.scalar_subquery()),
        )

    def _live_query(
        self, environment: str, deployment_condition: Any, release_condition: Any
    ) -> list[LiveVersion]:
        env_id = (
            select(_environments.c.id).where(_environments.c.name == environment).scalar_subquery()
        )
        deployed = (
            select(_services.c.name, _versions.c.number, _deployments.c.target)
            .select_from(_deployments)
            .join(_versions, _versions.c.id == _deployments.c.version_id)
            .join(_services, _services.c.id == _versions.c.service_id)
            .where(
                deployment_condition,
                _deployments.c.environment_id == env_id,
                _deployments.c.undeployed_at.is_(None),
            )
        )
        released = (
            select(_services.c.name, _versions.c.number)
            .select_from(_releases)
            .join(_versions, _versions.c.id == _releases.c.version_id)
            .join(_services, _services.c.id == _versions.c.service_id)
            .where(
                release_condition,
                _releases.c.environment_id == env_id,
                _releases.c.support_ended_at.is_(None),
            )
        )
        with self._read() as connection:
            live = [
                LiveVersion(r.name, r.number, "deployed", r.target)
                for r in connection.execute(deployed)
            ]
            live += [
                LiveVersion(r.name, r.number, "released") for r in connection.execute(released)
            ]
        return sorted(live, key=lambda v: (v.service, v.number, v.via, v.target))

    # ---- evidence ------------------------------------------------------------------------

    def static_result(
        self, pact_sha256: str, spec_digest: str, checker: str
    ) -> StaticResult | None:
        with self._read() as connection:
            row = connection.execute(
                select(_evidence.c.success, _evidence.c.checker, _evidence.c.details).where(
                    _evidence.c.kind == STATIC,
                    _evidence.c.pact_sha256 == pact_sha256,
                    _evidence.c.spec_digest == spec_digest,
                    _evidence.c.checker == checker,
                )
            ).first()
        return None if row is None else StaticResult(bool(row.success), row.checker, row.details)

    def static_results(
        self, keys: Sequence[tuple[str, str]], checker: str
    ) -> dict[tuple[str, str], StaticResult]:
        """Cached results for several (pact SHA-256, spec digest) pairs, in one query."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        with self._read() as connection:
            rows = connection.execute(
                select(
                    _evidence.c.pact_sha256,
                    _evidence.c.spec_digest,
                    _evidence.c.success,
                    _evidence.c.checker,
                    _evidence.c.details,
                ).where(
                    _evidence.c.kind == STATIC,
                    _evidence.c.pact_sha256.in_(sorted({p for p, _ in wanted})),
                    _evidence.c.spec_digest.in_(sorted({d for _, d in wanted})),
                    _evidence.c.checker == checker,
                )
            )
            found = {
                (r.pact_sha256, r.spec_digest): StaticResult(bool(r.success), r.checker, r.details)
                for r in rows
            }
            return {key: result for key, result in found.items() if key in set(wanted)}

    def store_static_result(
        self, pact_sha256: str, spec_digest: str, checker: str, success: bool, findings_json: str
    ) -> None:
        with self._write() as connection:
            connection.execute(
                self._insert(connection, _evidence).values(
                    kind=STATIC,
                    pact_sha256=pact_sha256,
                    spec_digest=spec_digest,
                    checker=checker,
                    success=success,
                    details=findings_json,
                    recorded_at=_now(),
                )
            )

    def record_verification(
        self,
        provider: str,
        provider_version: str,
        consumer: str,
        pact_sha256: str,
        success: bool,
        *,
        details: str = "",
        actor: str | None = None,
    ) -> None:
        with self._write() as connection:
            _, version_id = self._version_ids(connection, provider, provider_version)
            connection.execute(
                _evidence.insert().values(
                    kind=VERIFICATION,
                    pact_sha256=pact_sha256,
                    consumer=consumer,
                    provider_version_id=version_id,
                    success=success,
                    details=details,
                    recorded_by=actor,
                    recorded_at=_now(),
                )
            )
            self._audit(
                connection,
                actor,
                "record-verification",
                f"{provider}@{provider_version}",
                consumer=consumer,
                pact=pact_sha256,
                success=success,
            )

    def verifications(
        self, provider: str, provider_version: str, consumer: str
    ) -> list[VerificationResult]:
        with self._read() as connection:
            rows = connection.execute(
                select(_evidence.c.pact_sha256, _evidence.c.success, _evidence.c.recorded_at)
                .join(_versions, _versions.c.id == _evidence.c.provider_version_id)
                .join(_services, _services.c.id == _versions.c.service_id)
                .where(
                    _evidence.c.kind == VERIFICATION,
                    _services.c.name == provider,
                    _versions.c.number == provider_version,
                    _evidence.c.consumer == consumer,
                )
                .order_by(_evidence.c.recorded_at, _evidence.c.id)
            )
            return [
                VerificationResult(
                    consumer,
                    r.pact_sha256,
                    provider,
                    provider_version,
                    bool(r.success),
                    _utc(r.recorded_at),
                )
                for r in rows
            ]

    def is_production_environment(self, name: str) -> bool:
        with self._read() as connection:
            flag = connection.scalar(
                select(_environments.c.production).where(_environments.c.name == name)
            )
        return bool(flag)

    def record_fuzz_run(
        self,
        service: str,
        version: str,
        environment: str,
        *,
        passed: bool,
        complete: bool,
        run: Mapping[str, Any],
        actor: str | None = None,
    ) -> FuzzRunRecord:
        """Store a fuzz run as evidence of kind `fuzz` for that version and environment.

        The `success` column holds "green" (complete and passed), so a query for green runs
        needs no JSON; the details column keeps both flags and the whole run.
        """
        recorded_at = _now()
        details = {"passed": passed, "complete": complete, "run": dict(run)}
        with self._write() as connection:
            _, version_id = self._version_ids(connection, service, version)
            evidence_id = connection.execute(
                _evidence.insert()
                .values(
                    kind=FUZZ,
                    provider_version_id=version_id,
                    environment=environment,
                    success=passed and complete,
                    details=json.dumps(details, sort_keys=True),
                    recorded_by=actor,
                    recorded_at=recorded_at,
                )
                .returning(_evidence.c.id)
            ).scalar_one()
            self._audit(
                connection,
                actor,
                "record-fuzz-run",
                f"{service}@{version}",
                environment=environment,
                passed=passed,
                complete=complete,
                seed=run.get("seed"),
            )
        return FuzzRunRecord(
            int(evidence_id),
            service,
            version,
            environment,
            passed,
            complete,
            actor,
            recorded_at,
            dict(run),
        )

    def fuzz_runs(
        self, service: str, version: str, environment: str | None = None
    ) -> list[FuzzRunRecord]:
        conditions = [
            _evidence.c.kind == FUZZ,
            _services.c.name == service,
            _versions.c.number == version,
        ]
        if environment is not None:
            conditions.append(_evidence.c.environment == environment)
        with self._read() as connection:
            rows = connection.execute(
                select(
                    _evidence.c.id,
                    _evidence.c.environment,
                    _evidence.c.details,
                    _evidence.c.recorded_by,
                    _evidence.c.recorded_at,
                )
                .join(_versions, _versions.c.id == _evidence.c.provider_version_id)
                .join(_services, _services.c.id == _versions.c.service_id)
                .where(*conditions)
                .order_by(_evidence.c.recorded_at, _evidence.c.id)
            ).all()
        runs = []
        for row in rows:
            details = json.loads(row.details or "{}")
            runs.append(
                FuzzRunRecord(
                    int(row.id),
                    service,
                    version,
                    row.environment or "",
                    bool(details.get("passed")),
                    bool(details.get("complete")),
                    row.recorded_by,
                    _utc(row.recorded_at),
                    details.get("run", {}),
                )
            )
        return runs

    def audit_log(self, limit: int = 100) -> list[AuditRecord]:
        with self._read() as connection:
            rows = connection.execute(
                select(_audit.c.actor, _audit.c.action, _audit.c.subject)
                .order_by(_audit.c.id)
                .limit(limit)
            )
            return [AuditRecord(r.actor, r.action, r.subject) for r in rows]

    # ---- the Pact Broker API subset -------------------------------------------------------

    def add_contracts(
        self,
        service: str,
        version: str,
        files: Sequence[ContractFile],
        *,
        branch: str | None = None,
        commit: str | None = None,
        actor: str | None = None,
    ) -> PublishResult:
        """Add files to `service@version`, creating the version if needed.

        Pact clients publish one pact per request for one consumer version, so a version grows
        file by file; a path it holds already keeps its content forever (other content is a
        conflict), and the version's digests are recomputed over everything it now holds.
        """
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise RegistryError(self.location, f"{service}@{version}: two files share one path")
        with self._write() as connection:
            service_id = self._service_id(connection, service, create=True)
            assert service_id is not None
            inserted = connection.execute(
                self._insert(connection, _versions)
                .values(
                    service_id=service_id,
                    number=version,
                    branch=branch,
                    commit=commit,
                    digest=version_digest([]),
                    spec_digest=None,
                    created_at=_now(),
                )
                .returning(_versions.c.id)
            ).first()
            # Concurrent additions to one version are serialised on its row (PostgreSQL;
            # SQLite's BEGIN IMMEDIATE serialises every write already).
            row = connection.execute(
                select(_versions.c.id, _versions.c.branch, _versions.c.commit)
                .where(_versions.c.service_id == service_id, _versions.c.number == version)
                .with_for_update()
            ).one()
            held = {f.path: f for f in self._files(connection, row.id)}
            changed = sorted(
                f.path
                for f in files
                if f.path in held and (held[f.path].sha256, held[f.path].role) != (f.sha256, f.role)
            )
            if changed:
                raise VersionConflictError(service, version, changed=changed)
            added = [f for f in files if f.path not in held]
            values: dict[str, Any] = {}
            if branch and row.branch is None:
                values["branch"] = branch
            if commit and row.commit is None:
                values["commit"] = commit
            new_contents: set[str] = set()
            if added:
                new_contents = self._link_files(connection, row.id, added)
                for f in added:
                    held[f.path] = StoredFile(f.path, f.role, f.sha256, f.provider)
            everything = tuple(sorted(held.values(), key=lambda f: f.path))
            if added:
                values["digest"] = version_digest(everything)
                values["spec_digest"] = spec_digest(everything)
            if values:
                connection.execute(
                    update(_versions).where(_versions.c.id == row.id).values(**values)
                )
            if inserted is None and not added and not values:
                return PublishResult(service, version, created=False, files=everything)
            self._audit(
                connection,
                actor,
                "add-contracts",
                f"{service}@{version}",
                added=[f.path for f in added],
                branch=branch,
                commit=commit,
            )
        return PublishResult(
            service,
            version,
            created=inserted is not None or bool(added),
            files=everything,
            new_contents=frozenset(new_contents),
        )

    def environments(self) -> list[EnvironmentRecord]:
        with self._read() as connection:
            rows = connection.execute(
                select(_environments.c.name, _environments.c.production).order_by(
                    _environments.c.name
                )
            )
            return [EnvironmentRecord(r.name, bool(r.production)) for r in rows]

    def latest_version(self, service: str, branch: str | None = None) -> VersionSummary | None:
        query = (
            select(_versions.c.number, _versions.c.branch)
            .join(_services, _services.c.id == _versions.c.service_id)
            .where(_services.c.name == service)
        )
        if branch is not None:
            query = query.where(_versions.c.branch == branch)
        with self._read() as connection:
            # Ids grow with every insert: the newest version has the highest one.
            row = connection.execute(query.order_by(_versions.c.id.desc()).limit(1)).first()
        return None if row is None else VersionSummary(service, row.number, row.branch)

    def pact_publications(
        self, provider: str, consumer: str | None = None
    ) -> list[PactPublication]:
        query = (
            select(
                _services.c.name,
                _versions.c.number,
                _versions.c.branch,
                _links.c.path,
                _contracts.c.sha256,
            )
            .select_from(_links)
            .join(_versions, _versions.c.id == _links.c.version_id)
            .join(_services, _services.c.id == _versions.c.service_id)
            .join(_contracts, _contracts.c.id == _links.c.contract_id)
            .where(_links.c.role == Role.PACT.value, _links.c.provider == provider)
        )
        if consumer is not None:
            query = query.where(_services.c.name == consumer)
        with self._read() as connection:
            rows = connection.execute(query.order_by(_versions.c.id, _links.c.path))
            return [
                PactPublication(r.name, r.number, r.branch, provider, r.path, r.sha256)
                for r in rows
            ]

    def verified_pacts(
        self, provider: str, pact_sha256s: Sequence[str], branch: str | None = None
    ) -> set[str]:
        wanted = sorted(set(pact_sha256s))
        if not wanted:
            return set()
        query = (
            select(_evidence.c.pact_sha256)
            .join(_versions, _versions.c.id == _evidence.c.provider_version_id)
            .join(_services, _services.c.id == _versions.c.service_id)
            .where(
                _evidence.c.kind == VERIFICATION,
                _evidence.c.success.is_(True),
                _evidence.c.pact_sha256.in_(wanted),
                _services.c.name == provider,
            )
        )
        if branch is not None:
            query = query.where(_versions.c.branch == branch)
        with self._read() as connection:
            return set(connection.scalars(query.distinct()))


def _conflict(
    service: str, version: str, before: tuple[StoredFile, ...], now: tuple[StoredFile, ...]
) -> VersionConflictError:
    old = {f.path: f for f in before}
    new = {f.path: f for f in now}
    return VersionConflictError(
        service,
        version,
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        changed=sorted(p for p in old.keys() & new.keys() if old[p] != new[p]),
    )


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every one apigov writes is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _reason(error: exc.OperationalError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_engine(url: str) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        path = Path(url.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UnreachableError(f"registry {path}: {error.strerror}") from None
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 60},
        # One shared connection: every thread must see the same in-memory database.
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        if not memory:
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Up to 64 MiB of page cache (SQLite's default is 2 MiB): a registry of a thousand
            # services otherwise rereads its index pages from the OS on every question.
            cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("apigov_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _enable_wal(cursor: Any) -> None:
    """Switch a new database file to WAL. SQLite answers "database is locked" at once, without
    its busy handler, when several connections make that switch together (processes opening a
    fresh registry at the same moment), so retry briefly."""
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 99:
                raise
            time.sleep(0.05)


__all__ = ["SqlRegistry", "database_url"]
