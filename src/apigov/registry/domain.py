"""The registry's domain types and the `Registry` interface every storage implements."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from msgspec import Struct, field

from apigov.spec.errors import InputError


class Role(StrEnum):
    """What a file is to the version holding it."""

    SPEC = "spec"  # the provider contract (OpenAPI root document)
    SPEC_PART = "spec-part"  # a file the OpenAPI document refers to through $ref
    PACT = "pact"  # a consumer contract held by this version's service
    SERVICE = "service"  # service.yaml
    ASYNCAPI = "asyncapi"  # the event contract (AsyncAPI root document)
    ASYNCAPI_PART = "asyncapi-part"  # a file the AsyncAPI document refers to through $ref


class ContractFile(Struct, frozen=True):
    """One file to publish: its path inside the service folder, its role and its bytes."""

    path: str
    role: Role
    content: bytes
    provider: str | None = None  # pacts: the provider named in the pact

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def kind(self) -> str:
        return {
            Role.SPEC: "openapi",
            Role.SPEC_PART: "openapi-part",
            Role.PACT: "pact",
            Role.SERVICE: "service",
            Role.ASYNCAPI: "asyncapi",
            Role.ASYNCAPI_PART: "asyncapi-part",
        }[self.role]


class ServiceMetadata(Struct, frozen=True):
    owner: str | None = None
    team: str | None = None
    tier: int | None = None
    lifecycle: str | None = None


class StoredFile(Struct, frozen=True):
    path: str
    role: Role
    sha256: str
    provider: str | None = None


class VersionRecord(Struct, frozen=True):
    service: str
    number: str
    branch: str | None
    commit: str | None
    digest: str
    spec_digest: str | None
    files: tuple[StoredFile, ...]

    @property
    def pacts(self) -> list[StoredFile]:
        return [f for f in self.files if f.role is Role.PACT]

    @property
    def spec_files(self) -> list[StoredFile]:
        return [f for f in self.files if f.role in (Role.SPEC, Role.SPEC_PART)]

    @property
    def label(self) -> str:
        return f"{self.service}@{self.number}"


class PublishResult(Struct, frozen=True):
    service: str
    version: str
    created: bool  # False: this exact content was already published (idempotent)
    files: tuple[StoredFile, ...]
    new_contents: frozenset[str] = frozenset()  # SHA-256s stored for the first time


class LiveVersion(Struct, frozen=True):
    """A version that is "in" an environment: currently deployed (per target) or released."""

    service: str
    number: str
    via: str  # "deployed" | "released"
    target: str = ""

    @property
    def label(self) -> str:
        return f"{self.service}@{self.number}"


class StaticResult(Struct, frozen=True):
    """A cached static-compatibility result for one (pact content, spec content) pair."""

    success: bool
    checker: str
    findings_json: str


class VerificationResult(Struct, frozen=True):
    consumer: str
    pact_sha256: str
    provider: str
    provider_version: str
    success: bool
    recorded_at: datetime | None = None
    """When the result was recorded (UTC); policies with a maximum age read it."""


class FuzzRunRecord(Struct, frozen=True):
    """A fuzz run of `service@version` in `environment`, stored as evidence.

    Green means complete (not interrupted) and passed (nothing at or above the run's
    `--fail-on` that its baseline does not accept). `run` holds what the run observed: seed,
    budgets, phases, counts per operation and check, failures with their keys.
    """

    id: int
    service: str
    version: str
    environment: str
    passed: bool
    complete: bool
    recorded_by: str | None
    recorded_at: datetime
    run: Mapping[str, Any] = field(default_factory=dict)

    @property
    def green(self) -> bool:
        return self.passed and self.complete


class AuditRecord(Struct, frozen=True):
    actor: str | None
    action: str
    subject: str


def version_digest(files: Sequence[ContractFile] | Sequence[StoredFile]) -> str:
    """One value for the whole content of a version: its paths, roles and file contents."""
    lines = sorted(f"{f.path}\0{f.role.value}\0{f.sha256}" for f in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def spec_digest(files: Sequence[ContractFile] | Sequence[StoredFile]) -> str | None:
    """The provider contract's identity: its root document and every file it refers to."""
    parts = sorted(
        f"{f.path}\0{f.role.value}\0{f.sha256}"
        for f in files
        if f.role in (Role.SPEC, Role.SPEC_PART)
    )
    if not parts:
        return None
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class RegistryError(InputError):
    """A request the registry refuses (unknown service, version or environment). Exit 2."""


class VersionConflictError(Exception):
    """A version was published before with other content: published versions are immutable."""

    def __init__(
        self,
        service: str,
        version: str,
        added: list[str] | None = None,
        removed: list[str] | None = None,
        changed: list[str] | None = None,
    ) -> None:
        super().__init__(service, version)
        self.service = service
        self.version = version
        self.added = added or []
        self.removed = removed or []
        self.changed = changed or []

    def __str__(self) -> str:
        parts = []
        for word, paths in (
            ("changed", self.changed),
            ("added", self.added),
            ("removed", self.removed),
        ):
            if paths:
                parts.append(f"{word} {', '.join(paths)}")
        return (
            f"{self.service}@{self.version} is already published with other content "
            f"({'; '.join(parts) or 'different roles'}); publish a new version instead"
        )


class Registry(Protocol):
    """What every registry storage offers: the SQL store now, the HTTP client later."""

    location: str

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
    ) -> PublishResult: ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one consistent state of the registry."""
        ...

    def version(self, service: str, number: str) -> VersionRecord | None: ...

    def versions(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VersionRecord]: ...

    def contents(self, sha256s: Sequence[str]) -> dict[str, bytes]: ...

    def ensure_environment(self, name: str, *, production: bool = False) -> None: ...

    def has_environment(self, name: str) -> bool: ...

    def record_deployment(
        self,
        service: str,
        version: str,
        environment: str,
        *,
        target: str = "",
        actor: str | None = None,
    ) -> list[str]: ...

    def record_undeployment(
        self, service: str, environment: str, *, target: str = "", actor: str | None = None
    ) -> list[str]: ...

    def record_release(
        self, service: str, version: str, environment: str, *, actor: str | None = None
    ) -> bool: ...

    def record_support_ended(
        self, service: str, version: str, environment: str, *, actor: str | None = None
    ) -> bool: ...

    def live_versions(self, environment: str, services: Sequence[str]) -> list[LiveVersion]: ...

    def live_consumers(self, environment: str, provider: str) -> list[LiveVersion]: ...

    def static_result(
        self, pact_sha256: str, spec_digest: str, checker: str
    ) -> StaticResult | None: ...

    def static_results(
        self, keys: Sequence[tuple[str, str]], checker: str
    ) -> dict[tuple[str, str], StaticResult]: ...

    def store_static_result(
        self, pact_sha256: str, spec_digest: str, checker: str, success: bool, findings_json: str
    ) -> None: ...

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
    ) -> None: ...

    def verifications(
        self, provider: str, provider_version: str, consumer: str
    ) -> list[VerificationResult]: ...

    def is_production_environment(self, name: str) -> bool:
        """True when `name` exists and is marked production (destructive fuzzing is refused)."""
        ...

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
    ) -> FuzzRunRecord: ...

    def fuzz_runs(
        self, service: str, version: str, environment: str | None = None
    ) -> list[FuzzRunRecord]:
        """Runs of `service@version` (in `environment`, or in any), oldest first."""
        ...

    def audit_log(self, limit: int = 100) -> list[AuditRecord]: ...

    def set_main_branch(
        self, service: str, branch: str | None, *, actor: str | None = None
    ) -> None:
        """Name the branch the `mainBranch` selector means for `service` (None: main/master)."""
        ...

    def close(self) -> None: ...


# ---- what the Pact Broker API subset needs beyond `Registry` ------------------------------


class EnvironmentRecord(Struct, frozen=True):
    name: str
    production: bool


class VersionSummary(Struct, frozen=True):
    """A version without its files: enough to pick the latest one, or the latest on a branch."""

    service: str
    number: str
    branch: str | None


class PactPublication(Struct, frozen=True):
    """A pact some consumer version holds with a provider (the Pact Broker's "pact")."""

    consumer: str
    consumer_version: str
    branch: str | None
    provider: str
    path: str
    sha256: str
    tags: tuple[str, ...] = ()  # the consumer version's tags
    main_branch: str | None = None  # the consumer's main branch, when it named one


class BrokerRegistry(Registry, Protocol):
    """A `Registry` that can also answer the Pact Broker API subset (the SQL store does).

    Kept apart from `Registry` so a registry client over HTTP need not implement these.
    """

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
        """Add files to a version, creating it if needed (the Broker's publishing model).

        A Pact client publishes one pact per request for one consumer version, so a version
        grows pact by pact: a path not held yet is added, the same path with the same content is
        acknowledged without writing, the same path with other content is a conflict.
        """
        ...

    def add_tags(
        self, service: str, version: str, tags: Sequence[str], *, actor: str | None = None
    ) -> list[str]:
        """Tag a published version; returns the tags it did not have yet."""
        ...

    def version_tags(self, service: str, version: str) -> list[str]: ...

    def remove_tag(self, service: str, version: str, tag: str, *, actor: str | None = None) -> bool:
        """Take a tag off a published version; returns whether it had the tag."""
        ...

    def has_tag(self, tag: str) -> bool: ...

    def delete_branch(self, service: str, branch: str, *, actor: str | None = None) -> int:
        """Take every version of a service off a branch; returns how many were on it."""
        ...

    def consumer_services(self, provider: str) -> list[str]:
        """Every service with a version holding a pact with `provider`."""
        ...

    def latest_tagged_versions(self, services: Sequence[str], tag: str) -> list[VersionSummary]:
        """The newest version of each service carrying `tag` (none: left out)."""
        ...

    def main_branch(self, service: str) -> str | None: ...

    def environments(self) -> list[EnvironmentRecord]: ...

    def latest_version(
        self, service: str, branch: str | None = None, *, tag: str | None = None
    ) -> VersionSummary | None:
        """The most recently published version (on `branch`, carrying `tag`, if given)."""
        ...

    def pact_publications(
        self, provider: str, consumer: str | None = None
    ) -> list[PactPublication]:
        """Every pact held with `provider` by any version (of `consumer`), oldest first."""
        ...

    def latest_pacts(
        self, limit: int, after: tuple[str, str, str] | None = None
    ) -> list[tuple[PactPublication, datetime]]:
        """The newest pact of every integration, a page at a time (keyset: consumer, provider,
        path), each with when its version was published."""
        ...

    def verified_pacts(
        self, provider: str, pact_sha256s: Sequence[str], branch: str | None = None
    ) -> set[str]:
        """Which of these pact contents a version of `provider` (on `branch`) verified green."""
        ...
