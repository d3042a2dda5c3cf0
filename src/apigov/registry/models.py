"""The registry's tables (SQLAlchemy 2 declarative models).

Immutability and uniqueness live in the database, not only in Python, so several processes
sharing one PostgreSQL keep the guarantees: a version number is unique per service, a
contract's content is stored once per SHA-256, one deployment per service, environment and
target is current at a time (a partial unique index), and one static-compatibility result is
cached per (pact content, spec content, checker version).

The migrations in `migrations/versions/` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    owner: Mapped[str | None] = mapped_column(String(300))
    team: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[int | None] = mapped_column(Integer)
    lifecycle: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The branch the `mainBranch` selector means for this service (None: `main` or `master`).
    main_branch: Mapped[str | None] = mapped_column(String(200))


class Contract(Base):
    """One file's content, stored once however many versions hold it."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # openapi | openapi-part | pact | service
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Version(Base):
    """A published version of a service: immutable once written.

    `digest` covers every file of the version (path and content), so republishing compares one
    value; `spec_digest` covers the OpenAPI document and the files it refers to, the key of the
    static-compatibility cache.
    """

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("service_id", "number", name="uq_versions_service_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    number: Mapped[str] = mapped_column(String(200))
    branch: Mapped[str | None] = mapped_column(String(200))
    commit: Mapped[str | None] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64))
    spec_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VersionTag(Base):
    """A tag on a version (the Pact Broker's tags): labels, not content, so a published version
    can gain tags; each tag once per version."""

    __tablename__ = "version_tags"
    __table_args__ = (Index("ix_version_tags_tag", "tag", "version_id"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VersionContract(Base):
    """Which files a version holds, under which path and role."""

    __tablename__ = "version_contracts"
    __table_args__ = (
        # can-i-deploy reads the pacts held against a provider by role and version: with all
        # three in the index that is an index-only scan (1.2 ms less per answer on PostgreSQL).
        Index("ix_version_contracts_provider_role_version", "provider", "role", "version_id"),
    )

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # spec | spec-part | pact | service
    # For a pact: the provider it is held against (the version's service is the consumer).
    provider: Mapped[str | None] = mapped_column(String(200), index=True)


class Environment(Base):
    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    production: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Deployment(Base):
    """A version running in an environment (and target). Current while `undeployed_at` is null."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index(
            "uq_deployments_current",
            "service_id",
            "environment_id",
            "target",
            unique=True,
            sqlite_where=text("undeployed_at IS NULL"),
            postgresql_where=text("undeployed_at IS NULL"),
        ),
        # can-i-deploy looks deployments up by service (the unique index above) or by version;
        # an index by environment would tempt the planner into scanning whole environments.
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"))
    # '' when there is no target: NULLs never collide in a unique index.
    target: Mapped[str] = mapped_column(String(200), default="")
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undeployed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Release(Base):
    """A released version (e.g. a mobile app build): live until its support ends."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("version_id", "environment_id", name="uq_releases_version_environment"),
        Index("ix_releases_service", "service_id", "environment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"))
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    support_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Evidence(Base):
    """Static compatibility results, live verification results and fuzz runs.

    Static results are keyed by content (`pact_sha256`, `spec_digest`, `checker`), so one result
    serves every pair of versions holding the same two contracts. Verification results also name
    the provider version they ran against.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        Index(
            "uq_evidence_static",
            "pact_sha256",
            "spec_digest",
            "checker",
            unique=True,
            sqlite_where=text("kind = 'static-compat'"),
            postgresql_where=text("kind = 'static-compat'"),
        ),
        Index("ix_evidence_provider_version", "provider_version_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # static-compat | verification | fuzz
    pact_sha256: Mapped[str | None] = mapped_column(String(64))
    spec_digest: Mapped[str | None] = mapped_column(String(64))
    checker: Mapped[str | None] = mapped_column(String(50))
    consumer: Mapped[str | None] = mapped_column(String(200))
    provider_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    environment: Mapped[str | None] = mapped_column(String(100))
    success: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[str] = mapped_column(Text, default="")  # JSON
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    """An API token of the server: only its SHA-256 is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated: read publish admin
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One row per write, written in the same transaction as the write."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="")  # JSON


class Webhook(Base):
    """A URL told about registry events, signed with its own secret (HMAC-SHA256).

    The secret is kept as given (not hashed): the server needs it to sign every delivery.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200))  # space-separated event names
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One attempt to deliver one event to one webhook: the delivery log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    delivery: Mapped[str] = mapped_column(String(36))  # one id for every attempt of an event
    event: Mapped[str] = mapped_column(String(50))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status, None: no answer
    error: Mapped[str] = mapped_column(Text, default="")
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# The tables, for the stores and pages that query them with SQLAlchemy Core: one typed name
# each (`Model.__table__` is typed as a FromClause, which Core queries cannot use as a Table).
services_table = _table(Service)
contracts_table = _table(Contract)
versions_table = _table(Version)
version_tags_table = _table(VersionTag)
version_contracts_table = _table(VersionContract)
environments_table = _table(Environment)
deployments_table = _table(Deployment)
releases_table = _table(Release)
evidence_table = _table(Evidence)
tokens_table = _table(Token)
audit_log_table = _table(AuditEntry)
