"""The registry's domain types and the `Registry` interface every storage implements."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from apigov.spec.errors import InputError


class Role(StrEnum):
    """What a file is to the version holding it."""

    SPEC = "spec"  # the provider contract (OpenAPI root document)
    SPEC_PART = "spec-part"  # a file the OpenAPI document refers to through $ref
    PACT = "pact"  # a consumer contract held by this version's service
    SERVICE = "service"  # service.yaml


@dataclass(frozen=True, slots=True)
class ContractFile:
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
        }[self.role]


@dataclass(frozen=True, slots=True)
class ServiceMetadata:
    owner: str | None = None
    team: str | None = None
    tier: int | None = None
    lifecycle: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str
    role: Role
    sha256: str
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRecord:
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


@dataclass(frozen=True, slots=True)
class PublishResult:
    service: str
    version: str
    created: bool  # False: this exact content was already published (idempotent)
    files: tuple[StoredFile, ...]
    new_contents: frozenset[str] = frozenset()  # SHA-256s stored for the first time


@dataclass(frozen=True, slots=True)
class LiveVersion:
    """A version that is "in" an environment: currently deployed (per target) or released."""

    service: str
    number: str
    via: str  # "deployed" | "released"
    target: str = ""

    @property
    def label(self) -> str:
        return f"{self.service}@{self.number}"


@dataclass(frozen=True, slots=True)
class StaticResult:
    """A cached static-compatibility result for one (pact content, spec content) pair."""

    success: bool
    checker: str
    findings_json: str


@dataclass(frozen=True, slots=True)
class VerificationResult:
    consumer: str
    pact_sha256: str
    provider: str
    provider_version: str
    success: bool


@dataclass(frozen=True, slots=True)
class AuditRecord:
    actor: str | None
    action: str
    subject: str


def version_digest(files: Sequence[ContractFile]) -> str:
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


@dataclass
class VersionConflictError(Exception):
    """A version was published before with other content: published versions are immutable."""

    service: str
    version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

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

    def audit_log(self, limit: int = 100) -> list[AuditRecord]: ...

    def close(self) -> None: ...
