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
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    exc,
    func,
    select,
    tuple_,
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
from apigov.registry.models import audit_log_table as _audit
from apigov.registry.models import contracts_table as _contracts
from apigov.registry.models import deployments_table as _deployments
from apigov.registry.models import environments_table as _environments
from apigov.registry.models import evidence_table as _evidence
from apigov.registry.models import releases_table as _releases
from apigov.registry.models import services_table as _services
from apigov.registry.models import version_contracts_table as _links
from apigov.registry.models import version_tags_table as _tags
from apigov.registry.models import versions_table as _versions
from apigov.spec.errors import UnreachableError

if TYPE_CHECKING:
    from apigov.registry.gate import GateInputs, PartnerVersion


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
        self._gate_sql: _GateStatements | None = None
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

    def _single_read(self, statement: str, parameters: tuple[Any, ...]) -> list[Any]:
        """The rows of one plain-SQL read statement, which is one consistent snapshot on its own.

        Inside `snapshot()` it runs on the pinned connection. Otherwise, on PostgreSQL, it runs
        in autocommit: no BEGIN and no COMMIT, two round trips fewer than a transaction. A
        connection that died while it sat in the pool (not pinged when it was used within the
        last `PING_AFTER_IDLE` seconds, see `_engine`) fails the statement once: SQLAlchemy then
        discards the pool's connections, and the read is retried once on a new one.
        """
        pinned: Connection | None = getattr(self._local, "connection", None)
        if pinned is not None or self.engine.dialect.name != "postgresql":
            with self._read() as connection:
                return list(connection.exec_driver_sql(statement, parameters).all())
        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection:
                    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                    return list(connection.exec_driver_sql(statement, parameters).all())
            except exc.DBAPIError as error:
                if attempt == 1 and error.connection_invalidated:
                    continue
                if isinstance(error, exc.OperationalError):
                    raise UnreachableError(f"registry {self.location}: {_reason(error)}") from None
                raise
        raise AssertionError("unreachable: the second attempt returns or raises")

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
        tags: Sequence[str] = (),
    ) -> PublishResult:
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise RegistryError(self.location, f"{service}@{version}: two files share one path")
        _check_tags(self.location, tags)
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
                    # Tags label a version, they are not its content: a republish may add some.
                    self._tag(connection, existing.id, tags, actor, f"{service}@{version}")
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
            self._tag(connection, version_id, tags, actor, f"{service}@{version}")
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
        by_sha = {f.sha256: f for f in files}
        ids = self._contract_ids(connection, by_sha)
        # Sorted by SHA-256: concurrent publishers holding row locks on new contents always
        # take them in one order, so two of them never wait on each other (a deadlock).
        missing = sorted(by_sha.keys() - ids.keys())
        new: set[str] = set()
        if missing:
            now = _now()
            # RETURNING names the rows this transaction really inserted: a content another
            # writer stored meanwhile is skipped by ON CONFLICT and is not "new" here (a
            # second `contract-published` event or count for it would be wrong).
            inserted = connection.execute(
                self._insert(connection, _contracts).returning(
                    _contracts.c.sha256, _contracts.c.id
                ),
                [
                    {
                        "sha256": sha,
                        "kind": by_sha[sha].kind,
                        "size": len(by_sha[sha].content),
                        "content": by_sha[sha].content,
                        "created_at": now,
                    }
                    for sha in missing
                ],
            ).all()
            for row in inserted:
                ids[row.sha256] = row.id
                new.add(row.sha256)
            raced = [sha for sha in missing if sha not in ids]
            if raced:
                ids.update(self._contract_ids(connection, {sha: by_sha[sha] for sha in raced}))
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
        return new

    def _contract_ids(
        self, connection: Connection, by_sha: Mapping[str, ContractFile]
    ) -> dict[str, int]:
        """The ids of the contents already stored, in one query (no content read)."""
        rows = connection.execute(
            select(_contracts.c.sha256, _contracts.c.id).where(
                _contracts.c.sha256.in_(sorted(by_sha))
            )
        )
        return {row.sha256: row.id for row in rows}

    def _service_id(self, connection: Connection, name: str, *, create: bool = False) -> int | None:
        # Look first: the service exists on all but its first publish, and a lookup is one
        # round trip where insert-then-select is two.
        found = connection.scalar(select(_services.c.id).where(_services.c.name == name))
        if found is None and create:
            found = connection.scalar(
                self._insert(connection, _services)
                .values(name=name, created_at=_now())
                .returning(_services.c.id)
            )
            if found is None:  # another writer created it meanwhile (ON CONFLICT skipped ours)
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

    # ---- can-i-deploy's read path ------------------------------------------------------------
    # Plain SQL, prepared once per dialect: building and compiling SQLAlchemy constructs cost
    # more than the database's own work on every answer. Lists travel as one parameter
    # (a JSON array on SQLite, an array on PostgreSQL), so each statement's text is constant and
    # PostgreSQL can keep it prepared.

    def gate_inputs(
        self, service: str, version: str, environment: str, checker: str | None = None
    ) -> GateInputs:
        """What can-i-deploy reads about SERVICE@VERSION in ENVIRONMENT, in one statement.

        It finds the version, the environment, every partner live in it (the versions there
        that hold a pact with SERVICE, and the versions of every provider SERVICE@VERSION holds
        a pact with), the files of them all, and the static results `checker` cached for their
        pacts and specs. Each lookup starts from an index on the few services, versions or
        contents concerned, never from the whole environment, so the cost does not grow with
        the number of unrelated services; and one statement is one round trip to PostgreSQL.
        """
        from apigov.registry.gate import GateInputs

        statements = self._gate_statements()
        parameters = (environment, service, version, service, service, service, checker)
        rows = self._single_read(statements.gate, parameters)
        subject_row: Any = None
        known_environment = False
        partner_rows: list[Any] = []
        files: dict[int, list[StoredFile]] = {}
        static: dict[tuple[str, str], StaticResult] = {}
        for row in rows:
            kind = row[0]
            if kind == "file":
                files.setdefault(int(row[4]), []).append(
                    StoredFile(row[1], Role(row[2]), row[5], row[3])
                )
            elif kind == "static":
                static[(row[3], row[5])] = StaticResult(bool(row[4]), row[6], row[7])
            elif kind == "subject":
                subject_row = row
            elif kind == "environment":
                known_environment = True
            else:
                partner_rows.append(row)
        if subject_row is None or not known_environment:
            # Without the version or the environment there is nothing to judge: no partners.
            partner_rows = []
        for held in files.values():
            # By path, as every listing of a version's files is (the order pairs are judged in).
            held.sort(key=lambda f: f.path)
        records: dict[int, VersionRecord] = {}

        def record(row: Any) -> VersionRecord:
            version_id = int(row[4])
            if version_id not in records:
                records[version_id] = VersionRecord(
                    service=row[3],
                    number=row[5],
                    branch=row[6],
                    commit=row[7],
                    digest=row[8],
                    spec_digest=row[9],
                    files=tuple(files.get(version_id, ())),
                )
            return records[version_id]

        def live(row: Any) -> LiveVersion:
            return LiveVersion(row[3], row[5], row[1], row[2] or "")

        def order(pairs: list[PartnerVersion]) -> list[PartnerVersion]:
            return sorted(pairs, key=lambda p: (p[0].service, p[0].number, p[0].via, p[0].target))

        return GateInputs(
            subject=record(subject_row) if subject_row is not None else None,
            known_environment=known_environment,
            consumers=order([(live(r), record(r)) for r in partner_rows if r[0] == "consumer"]),
            providers=order([(live(r), record(r)) for r in partner_rows if r[0] == "provider"]),
            static_results=static if checker is not None else None,
        )

    def _gate_statements(self) -> _GateStatements:
        if self._gate_sql is None:
            self._gate_sql = _GateStatements(self.engine.dialect.name, self.location)
        return self._gate_sql

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
        """Cached results for several (pact SHA-256, spec digest) pairs, in one statement."""
        wanted = set(keys)
        if not wanted:
            return {}
        statements = self._gate_statements()
        rows = self._single_read(
            statements.static_results,
            (
                checker,
                statements.list_parameter(sorted({p for p, _ in wanted})),
                statements.list_parameter(sorted({d for _, d in wanted})),
            ),
        )
        # Two lists match every combination of their members: keep the pairs asked about.
        return {
            (r[0], r[1]): StaticResult(bool(r[2]), r[3], r[4])
            for r in rows
            if (r[0], r[1]) in wanted
        }

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
        tags: Sequence[str] = (),
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
            self._tag(connection, row.id, tags, actor, f"{service}@{version}")
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

    # ---- tags and main branches (the Broker's tags and `mainBranch`) -------------------------

    def add_tags(
        self, service: str, version: str, tags: Sequence[str], *, actor: str | None = None
    ) -> list[str]:
        """Tag `service@version` (published before); returns the tags it did not have yet."""
        _check_tags(self.location, tags)
        with self._write() as connection:
            _, version_id = self._version_ids(connection, service, version)
            return self._tag(connection, version_id, tags, actor, f"{service}@{version}")

    def _tag(
        self,
        connection: Connection,
        version_id: int,
        tags: Sequence[str],
        actor: str | None,
        subject: str,
    ) -> list[str]:
        if not tags:
            return []
        now = _now()
        # ON CONFLICT against the (version, tag) key: tagging twice, even from two servers at
        # once, leaves one row; RETURNING says which tags this call added.
        rows = connection.execute(
            self._insert(connection, _tags).returning(_tags.c.tag),
            [
                {"version_id": version_id, "tag": tag, "created_at": now}
                for tag in sorted(set(tags))
            ],
        ).all()
        added = sorted(row.tag for row in rows)
        if added:
            self._audit(connection, actor, "add-tags", subject, tags=added)
        return added

    def version_tags(self, service: str, version: str) -> list[str]:
        with self._read() as connection:
            return list(
                connection.scalars(
                    select(_tags.c.tag)
                    .join(_versions, _versions.c.id == _tags.c.version_id)
                    .join(_services, _services.c.id == _versions.c.service_id)
                    .where(_services.c.name == service, _versions.c.number == version)
                    .order_by(_tags.c.tag)
                )
            )

    def remove_tag(self, service: str, version: str, tag: str, *, actor: str | None = None) -> bool:
        """Take a tag off `service@version` (the Broker's DELETE of a version tag); returns
        whether the version had it. An unknown version is an error, an absent tag is not."""
        with self._write() as connection:
            _, version_id = self._version_ids(connection, service, version)
            removed = connection.execute(
                delete(_tags)
                .where(_tags.c.version_id == version_id, _tags.c.tag == tag)
                .returning(_tags.c.tag)
            ).first()
            if removed is None:
                return False
            self._audit(connection, actor, "remove-tag", f"{service}@{version}", tag=tag)
            return True

    def delete_branch(self, service: str, branch: str, *, actor: str | None = None) -> int:
        """Take every version of `service` off `branch` (the Broker's DELETE of a branch: the
        versions, their contents and evidence stay; branch selectors stop finding them).
        Returns how many versions were on it."""
        with self._write() as connection:
            service_id = self._service_id(connection, service)
            if service_id is None:
                return 0
            taken = connection.execute(
                update(_versions)
                .where(_versions.c.service_id == service_id, _versions.c.branch == branch)
                .values(branch=None)
                .returning(_versions.c.number)
            ).all()
            if taken:
                self._audit(
                    connection,
                    actor,
                    "delete-branch",
                    service,
                    branch=branch,
                    versions=sorted(row.number for row in taken),
                )
            return len(taken)

    def has_tag(self, tag: str) -> bool:
        """Whether any version carries `tag` (can-i-deploy tells an unknown tag apart)."""
        with self._read() as connection:
            return (
                connection.scalar(select(_tags.c.tag).where(_tags.c.tag == tag).limit(1))
                is not None
            )

    def latest_tagged_versions(self, services: Sequence[str], tag: str) -> list[VersionSummary]:
        """The newest version of each of `services` carrying `tag` (services with none are left
        out), sorted by service: the partners of the Broker's `can-i-deploy --to TAG`."""
        names = sorted(set(services))
        if not names:
            return []
        # Per service, its newest version carrying the tag, found from the service's own
        # versions (index on service_id, then the (version, tag) key): the cost follows the
        # partners' versions, not every version anywhere that carries the tag.
        tagged = _versions.alias("tagged")
        newest = (
            select(tagged.c.id)
            .join(_tags, (_tags.c.version_id == tagged.c.id) & (_tags.c.tag == tag))
            .where(tagged.c.service_id == _services.c.id)
            .order_by(tagged.c.id.desc())
            .limit(1)
            .correlate(_services)
            .scalar_subquery()
        )
        query = (
            select(_services.c.name, _versions.c.number, _versions.c.branch)
            .select_from(_services.join(_versions, _versions.c.id == newest))
            .where(_services.c.name.in_(names))
            .order_by(_services.c.name)
        )
        with self._read() as connection:
            return [VersionSummary(r.name, r.number, r.branch) for r in connection.execute(query)]

    def consumer_services(self, provider: str) -> list[str]:
        """Every service with a version holding a pact with `provider`, sorted."""
        query = (
            select(_services.c.name)
            .join(_versions, _versions.c.service_id == _services.c.id)
            .join(_links, _links.c.version_id == _versions.c.id)
            .where(_links.c.role == Role.PACT.value, _links.c.provider == provider)
            .distinct()
            .order_by(_services.c.name)
        )
        with self._read() as connection:
            return list(connection.scalars(query))

    def set_main_branch(
        self, service: str, branch: str | None, *, actor: str | None = None
    ) -> None:
        """Name the service's main branch (None: back to `main` or `master`)."""
        if branch is not None and not 0 < len(branch) <= 200:
            raise RegistryError(self.location, "a branch name has 1 to 200 characters")
        with self._write() as connection:
            service_id = self._service_id(connection, service, create=True)
            connection.execute(
                update(_services).where(_services.c.id == service_id).values(main_branch=branch)
            )
            self._audit(connection, actor, "set-main-branch", service, main_branch=branch)

    def main_branch(self, service: str) -> str | None:
        with self._read() as connection:
            found: str | None = connection.scalar(
                select(_services.c.main_branch).where(_services.c.name == service)
            )
            return found

    def environments(self) -> list[EnvironmentRecord]:
        with self._read() as connection:
            rows = connection.execute(
                select(_environments.c.name, _environments.c.production).order_by(
                    _environments.c.name
                )
            )
            return [EnvironmentRecord(r.name, bool(r.production)) for r in rows]

    def latest_version(
        self, service: str, branch: str | None = None, *, tag: str | None = None
    ) -> VersionSummary | None:
        query = (
            select(_versions.c.number, _versions.c.branch)
            .join(_services, _services.c.id == _versions.c.service_id)
            .where(_services.c.name == service)
        )
        if branch is not None:
            query = query.where(_versions.c.branch == branch)
        if tag is not None:
            query = query.join(_tags, _tags.c.version_id == _versions.c.id).where(
                _tags.c.tag == tag
            )
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
                _services.c.main_branch,
                _versions.c.id,
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
            rows = connection.execute(query.order_by(_versions.c.id, _links.c.path)).all()
            # The tags of every version holding one of these pacts, in one more query.
            tags: dict[int, list[str]] = {}
            if rows:
                for tag in connection.execute(
                    select(_tags.c.version_id, _tags.c.tag)
                    .where(_tags.c.version_id.in_(sorted({r.id for r in rows})))
                    .order_by(_tags.c.version_id, _tags.c.tag)
                ):
                    tags.setdefault(tag.version_id, []).append(tag.tag)
            return [
                PactPublication(
                    r.name,
                    r.number,
                    r.branch,
                    provider,
                    r.path,
                    r.sha256,
                    tags=tuple(tags.get(r.id, ())),
                    main_branch=r.main_branch,
                )
                for r in rows
            ]

    def latest_pacts(
        self, limit: int, after: tuple[str, str, str] | None = None
    ) -> list[tuple[PactPublication, datetime]]:
        """The newest pact of every integration (consumer service, provider), with when its
        version was published, ordered by (consumer, provider, path): one page of at most
        `limit` after the key `after` (a keyset; every page groups all pact rows, though: this
        is a listing, not a question's path)."""
        newest = (
            select(
                _versions.c.service_id,
                _links.c.provider,
                func.max(_versions.c.id).label("version_id"),
            )
            .join(_versions, _versions.c.id == _links.c.version_id)
            .where(_links.c.role == Role.PACT.value)
            .group_by(_versions.c.service_id, _links.c.provider)
            .subquery()
        )
        query = (
            select(
                _services.c.name,
                newest.c.provider,
                _versions.c.number,
                _versions.c.branch,
                _versions.c.created_at,
                _links.c.path,
                _contracts.c.sha256,
            )
            .select_from(newest)
            .join(_services, _services.c.id == newest.c.service_id)
            .join(_versions, _versions.c.id == newest.c.version_id)
            .join(
                _links,
                (_links.c.version_id == newest.c.version_id)
                & (_links.c.provider == newest.c.provider)
                & (_links.c.role == Role.PACT.value),
            )
            .join(_contracts, _contracts.c.id == _links.c.contract_id)
            .order_by(_services.c.name, newest.c.provider, _links.c.path)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                tuple_(_services.c.name, newest.c.provider, _links.c.path) > tuple_(*after)
            )
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            (
                PactPublication(r.name, r.number, r.branch, r.provider, r.path, r.sha256),
                _utc(r.created_at),
            )
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


# can-i-deploy's one statement, written for SQLite (`IN LIST(?)` is a list passed as one
# parameter). Positional parameters: environment, service, version, service (the provider the
# consumers' pacts name), service (never its own provider), service (the consumers' pacts
# whose cached results are read), checker (of those results).
# Each row is one of: subject, consumer, provider (a version: side, via, target, service, id,
# number, branch, commit, digest, spec digest), environment (its id), file (path, role,
# provider, version id, SHA-256) or static (pact SHA-256, success, spec digest, checker, details).
_GATE = """
WITH
  env AS (SELECT id FROM environments WHERE name = ?),
  subject AS (
    SELECT v.id FROM versions v JOIN services s ON s.id = v.service_id
    WHERE s.name = ? AND v.number = ?
  ),
  holding AS (
    SELECT version_id FROM version_contracts WHERE role = 'pact' AND provider = ?
  ),
  providers AS (
    SELECT id FROM services WHERE name IN (
      SELECT provider FROM version_contracts
      WHERE version_id IN (SELECT id FROM subject) AND role = 'pact' AND provider <> ?
    )
  ),
  live AS (
    SELECT 'consumer' AS side, 'deployed' AS via, d.target AS target, d.version_id AS version_id
    FROM deployments d
    WHERE d.version_id IN (SELECT version_id FROM holding)
      AND d.environment_id = (SELECT id FROM env) AND d.undeployed_at IS NULL
    UNION ALL
    SELECT 'consumer', 'released', '', r.version_id FROM releases r
    WHERE r.version_id IN (SELECT version_id FROM holding)
      AND r.environment_id = (SELECT id FROM env) AND r.support_ended_at IS NULL
    UNION ALL
    SELECT 'provider', 'deployed', d.target, d.version_id FROM deployments d
    WHERE d.service_id IN (SELECT id FROM providers)
      AND d.environment_id = (SELECT id FROM env) AND d.undeployed_at IS NULL
    UNION ALL
    SELECT 'provider', 'released', '', r.version_id FROM releases r
    WHERE r.service_id IN (SELECT id FROM providers)
      AND r.environment_id = (SELECT id FROM env) AND r.support_ended_at IS NULL
    UNION ALL
    SELECT 'subject', '', '', id FROM subject
  ),
  files AS (
    SELECT vc.version_id, vc.path, vc.role, vc.provider, c.sha256
    FROM version_contracts vc JOIN contracts c ON c.id = vc.contract_id
    WHERE vc.version_id IN (SELECT version_id FROM live)
  ),
  static AS (
    -- The cached results of the pacts that make pairs (the consumers' pacts with SERVICE, and
    -- the version's own) against the specs they are checked against (the version's own and
    -- its providers'): every combination of the two lists, each one probe of the unique index
    -- on (pact, spec, checker). The literal kind lets the planner use that partial index.
    -- (Joined, not filtered with IN: PostgreSQL then probes the whole index for each
    -- combination instead of scanning it by its second column.)
    SELECT e.pact_sha256, e.spec_digest, e.success, e.checker, e.details
    FROM (
      SELECT DISTINCT sha256 FROM files
      WHERE role = 'pact' AND (provider = ? OR version_id IN (SELECT id FROM subject))
    ) pact
    CROSS JOIN (
      SELECT DISTINCT v.spec_digest FROM versions v
      WHERE v.id IN (SELECT version_id FROM live WHERE side IN ('subject', 'provider'))
    ) spec
    JOIN evidence e
      ON e.pact_sha256 = pact.sha256 AND e.spec_digest = spec.spec_digest
      AND e.checker = ? AND e.kind = 'static-compat'
  )
SELECT live.side, live.via, live.target, s.name, v.id, v.number, v.branch, v."commit",
       v.digest, v.spec_digest
FROM live JOIN versions v ON v.id = live.version_id JOIN services s ON s.id = v.service_id
UNION ALL
SELECT 'environment', '', '', NULL, id, NULL, NULL, NULL, NULL, NULL FROM env
UNION ALL
SELECT 'file', path, role, provider, version_id, sha256, NULL, NULL, NULL, NULL FROM files
UNION ALL
SELECT 'static', '', '', pact_sha256, CASE WHEN success THEN 1 ELSE 0 END, spec_digest,
       checker, details, NULL, NULL
FROM static
"""
# Cached static results of several pairs (the general path, and the HTTP client's server).
_STATIC_RESULTS = """
SELECT pact_sha256, spec_digest, success, checker, details FROM evidence
WHERE kind = 'static-compat' AND checker = ?
  AND pact_sha256 IN LIST(?) AND spec_digest IN LIST(?)
"""


class _GateStatements:
    """can-i-deploy's statements in one dialect, and how that dialect takes a list."""

    def __init__(self, dialect: str, location: str) -> None:
        if dialect == "sqlite":
            self._json_lists = True
            self.gate, self.static_results = (
                text.replace("IN LIST(?)", "IN (SELECT value FROM json_each(?))")
                for text in (_GATE, _STATIC_RESULTS)
            )
        elif dialect == "postgresql":
            self._json_lists = False
            self.gate, self.static_results = (
                text.replace("IN LIST(?)", "= ANY(?)").replace("?", "%s")
                for text in (_GATE, _STATIC_RESULTS)
            )
        else:
            raise RegistryError(location, f"unsupported database {dialect!r}")

    def list_parameter(self, values: Sequence[Any]) -> Any:
        """A list as one parameter: a JSON array for SQLite's json_each, a list (an array) for
        PostgreSQL."""
        return json.dumps(list(values)) if self._json_lists else list(values)


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


def _check_tags(location: str, tags: Sequence[str]) -> None:
    for tag in tags:
        if not 0 < len(tag) <= 200:
            raise RegistryError(location, f"a tag has 1 to 200 characters, not {len(tag)}")


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every one apigov writes is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _reason(error: exc.OperationalError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    engine = create_engine(
        url,
        # The server answers up to 40 requests at once on worker threads. With SQLAlchemy's
        # default pool (5 kept) a burst of 8 publishers opened and closed a PostgreSQL
        # connection (a new backend process) on most requests; 20 kept connections do not.
        pool_size=20,
        max_overflow=20,
        connect_args={"connect_timeout": 10},
    )
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 10.0
"""Seconds a pooled PostgreSQL connection may sit unused before checkout pings it first."""


def _ping_when_idle(engine: Engine) -> None:
    """A pessimistic ping only for connections idle for more than `PING_AFTER_IDLE` seconds.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: one more round trip per can-i-deploy
    answer (3 ms of its 12-16 ms on PostgreSQL here). A connection returned moments ago is
    almost always alive; when it is not (the server restarted), the statement fails with a
    disconnect, SQLAlchemy invalidates the pool, and `_single_read` retries once.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["apigov_checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("apigov_checked_in")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # just connected, or used moments ago
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            # The ping opened a transaction (the connection is not in autocommit): end it, so
            # the caller can still switch this connection to autocommit.
            dbapi_connection.rollback()
        except Exception as error:  # whatever the driver raises, this connection is gone
            # The pool discards it and checks out another (up to three times).
            raise exc.DisconnectionError(str(error)) from error


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
