"""Static compatibility of a stored pact against a stored provider contract, cached as evidence.

The check itself belongs to the Pact capability: HTTP interactions against the provider's OpenAPI
document (`apigov.pact.compat.check_compatibility`), message interactions against its AsyncAPI
document (`apigov.pact.asyncapi.check_message_compatibility`), merged as `apigov check` merges
them. It is imported lazily, and while it is not there every pair's answer is "unknown", never a
silent yes. Results are cached in the registry by the two contents (pact SHA-256, the provider's
`contract_digest`) and the checker's version, so a pair of unchanged contracts is checked once,
whichever versions hold them.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from msgspec import Struct
from msgspec.structs import replace

from apigov import __version__
from apigov.findings import Finding, Level, finding_from_dict
from apigov.registry.domain import Registry, Role, StaticResult, StoredFile, VersionRecord
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile

CheckFunction = Callable[[PactFile, ApiSpec], list[Finding]]
MessageCheckFunction = Callable[[PactFile, AsyncApiSpec], list[Finding]]
Document = TypeVar("Document", ApiSpec, AsyncApiSpec)

_EVENT_ROLES = (Role.ASYNCAPI, Role.ASYNCAPI_PART)
_CONTRACT_ROLES = (Role.SPEC, Role.SPEC_PART, *_EVENT_ROLES)
NOT_CHECKED = "compat-interaction-not-checked"


def contract_files(provider: VersionRecord) -> list[StoredFile]:
    """The files a pact is checked against: the OpenAPI and AsyncAPI documents and their parts."""
    return [f for f in provider.files if f.role in _CONTRACT_ROLES]


def contract_digest(provider: VersionRecord) -> str | None:
    """The provider side of the static-result cache key; None when there is nothing to check
    against.

    A version without an AsyncAPI document keeps its stored `spec_digest`, so every result
    cached before message pacts were checked stays valid (those were checked exactly as they
    are now). A version with one gets a digest of both documents and all their parts: results
    cached under its OpenAPI-only digest (message interactions then went unchecked) are simply
    never looked up again, and a changed AsyncAPI document is a new key, so a new check.
    """
    if not any(f.role in _EVENT_ROLES for f in provider.files):
        return provider.spec_digest
    return digest_of_contract_files(
        (f.path, f.role.value, f.sha256) for f in contract_files(provider)
    )


EVENT_ROLE_VALUES = tuple(role.value for role in _EVENT_ROLES)
CONTRACT_ROLE_VALUES = tuple(role.value for role in _CONTRACT_ROLES)


def digest_of_contract_files(files: Iterable[tuple[str, str, str]]) -> str:
    """`contract_digest` of a version holding an AsyncAPI document, from its contract files as
    (path, role, SHA-256): for readers that have rows, not a `VersionRecord` (the web pages)."""
    parts = sorted(f"{path}\0{role}\0{sha256}" for path, role, sha256 in files)
    return hashlib.sha256(("contract\n" + "\n".join(parts)).encode()).hexdigest()


class StaticOutcome(Struct, frozen=True):
    success: bool
    findings: tuple[Finding, ...]
    cached: bool


class StaticChecker:
    """Runs (or recalls) the static check for one pact and one provider version."""

    def __init__(
        self, registry: Registry, check: CheckFunction | None = None, name: str | None = None
    ) -> None:
        self.registry = registry
        self._check = check
        self._name = name
        self._looked_up = check is not None
        self._check_messages: MessageCheckFunction | None = None
        self._prefetched: dict[tuple[str, str], StaticResult] = {}

    @property
    def available(self) -> bool:
        return self._function() is not None

    @property
    def name(self) -> str:
        """The checker's identity in the cache: a new apigov version re-checks every pair."""
        self._function()
        return self._name or f"apigov-{__version__}"

    def _function(self) -> CheckFunction | None:
        if not self._looked_up:
            self._looked_up = True
            try:
                module = importlib.import_module("apigov.pact.compat")
            except ImportError:
                return None
            function = getattr(module, "check_compatibility", None)
            if callable(function):
                self._check = function
                version = getattr(module, "CHECKER_VERSION", None)
                if self._name is None and version is not None:
                    self._name = f"apigov-{__version__}/{version}"
        return self._check

    def _message_function(self) -> MessageCheckFunction:
        if self._check_messages is None:
            from apigov.pact.asyncapi import check_message_compatibility

            self._check_messages = check_message_compatibility
        return self._check_messages

    def prefetch(self, pairs: Sequence[tuple[StoredFile, VersionRecord]]) -> None:
        """Read the cached results of many pairs at once (can-i-deploy asks for all of its)."""
        if not self.available:
            return
        keys = [(p.sha256, d) for p, v in pairs if (d := contract_digest(v)) is not None]
        self._prefetched.update(self.registry.static_results(keys, self.name))

    def prefetch_event_contracts(self, pairs: Sequence[tuple[StoredFile, VersionRecord]]) -> None:
        """Read, in one call, the cached results of the pairs whose provider holds an AsyncAPI
        document: their key is not the stored spec digest the SQL store reads along with
        can-i-deploy's partners (`remember`). Nothing is read when there are none."""
        self.prefetch([(p, v) for p, v in pairs if contract_digest(v) != v.spec_digest])

    def remember(self, results: Mapping[tuple[str, str], StaticResult]) -> None:
        """Cached results read along with something else (the SQL store reads them with
        can-i-deploy's partners), by (pact SHA-256, spec digest), all of this checker's."""
        self._prefetched.update(results)

    def outcome(
        self, consumer_version: VersionRecord, pact: StoredFile, provider: VersionRecord
    ) -> StaticOutcome:
        check = self._function()
        assert check is not None, "ask `available` first"
        digest = contract_digest(provider)
        assert digest is not None, "a provider with neither an OpenAPI nor an AsyncAPI document"
        cached = self._prefetched.get((pact.sha256, digest))
        if cached is None:
            cached = self.registry.static_result(pact.sha256, digest, self.name)
        if cached is not None:
            findings = tuple(finding_from_dict(d) for d in json.loads(cached.findings_json or "[]"))
            return StaticOutcome(cached.success, findings, cached=True)
        has_events = any(f.role in _EVENT_ROLES for f in provider.files)
        check_messages = self._message_function() if has_events else None
        findings = tuple(
            _run(check, check_messages, consumer_version, pact, provider, self.registry)
        )
        success = not any(f.level is Level.ERROR for f in findings)
        self.registry.store_static_result(
            pact.sha256,
            digest,
            self.name,
            success,
            json.dumps([f.to_dict() for f in findings]),
        )
        return StaticOutcome(success, findings, cached=False)


def _run(
    check: CheckFunction,
    check_messages: MessageCheckFunction | None,
    consumer_version: VersionRecord,
    pact: StoredFile,
    provider: VersionRecord,
    registry: Registry,
) -> list[Finding]:
    """Rebuild both contracts in a temporary folder, exactly as published, and check them.

    HTTP interactions are checked against the OpenAPI document, message interactions against
    the AsyncAPI document (`check_messages`, when the provider holds one); an interaction one
    document cannot describe is left to the other, so `compat-interaction-not-checked` remains
    only for what neither document covers.
    """
    spec_files = contract_files(provider)
    contents = registry.contents([pact.sha256, *(f.sha256 for f in spec_files)])
    # Spec files may sit above the service folder (`../_shared/x.yaml`): nest it deep enough.
    depth = max((_ups(f.path) for f in spec_files), default=0)
    with tempfile.TemporaryDirectory(prefix="apigov-compat-") as temporary:
        root = Path(temporary).resolve()
        provider_folder = root.joinpath(*[f"up{i}" for i in range(depth)], "provider")
        consumer_folder = root / "consumer"
        for stored in spec_files:
            _materialise(provider_folder, stored.path, contents[stored.sha256], root)
        pact_path = _materialise(consumer_folder, pact.path, contents[pact.sha256], root)
        loader = Loader(root=root)
        pact_document = loader.load(str(pact_path))
        if not isinstance(pact_document, PactFile):
            raise InputError(provider.label, "stored pact no longer loads as a pact")
        pact_document.service = consumer_version.service
        spec = _load_root(loader, provider_folder, spec_files, Role.SPEC, ApiSpec, provider)
        events = (
            _load_root(loader, provider_folder, spec_files, Role.ASYNCAPI, AsyncApiSpec, provider)
            if check_messages is not None
            else None
        )
        findings: list[Finding] = []
        if spec is not None:
            found = check(pact_document, spec)
            findings.extend(f for f in found if events is None or f.id != NOT_CHECKED)
        if events is not None and check_messages is not None:
            found = check_messages(pact_document, events)
            # Both checks repeat what is wrong with the pact file itself: say it once.
            http_findings = list(findings)
            findings.extend(
                f for f in found if (spec is None or f.id != NOT_CHECKED) and f not in http_findings
            )
        renames = [
            (str(consumer_folder), consumer_version.label),
            (str(provider_folder), provider.label),
        ]
        return [_relabel(f, renames) for f in findings]


def _load_root(
    loader: Loader,
    folder: Path,
    files: list[StoredFile],
    role: Role,
    kind: type[Document],
    provider: VersionRecord,
) -> Document | None:
    """The provider's root document of `role` (its parts load through its refs), or None."""
    root = next((f for f in files if f.role is role), None)
    if root is None:
        return None
    document = loader.load(str(folder / root.path))
    if not isinstance(document, kind):
        raise InputError(provider.label, f"stored {root.path} no longer loads as {role.value}")
    document.service = provider.service
    return document


def _ups(path: str) -> int:
    """How many `..` a stored path starts with."""
    count = 0
    for part in posixpath.normpath(path).split("/"):
        if part != "..":
            break
        count += 1
    return count


def _materialise(folder: Path, relative: str, content: bytes, root: Path) -> Path:
    path = Path(os.path.normpath(folder / relative))
    if not path.is_relative_to(root):
        raise InputError(relative, "stored path leaves the contract folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _relabel(finding: Finding, renames: list[tuple[str, str]]) -> Finding:
    """Findings point into the temporary folder: name the published versions instead.

    `renames` is (consumer folder, label), (provider folder, label); the provider's label also
    covers files above its folder (`payments@2/../_shared/common.yaml`).
    """
    (consumer_folder, consumer_label), (provider_folder, provider_label) = renames
    message = finding.message
    for folder, label in renames:
        message = message.replace(folder + os.sep, f"{label}/")
    location = finding.location
    if location is not None:
        absolute = os.path.realpath(location.file)
        root = os.path.commonpath([consumer_folder, provider_folder])
        if absolute.startswith(consumer_folder + os.sep):
            relative = Path(os.path.relpath(absolute, consumer_folder)).as_posix()
            location = replace(location, file=f"{consumer_label}/{relative}")
        elif absolute.startswith(root + os.sep):
            relative = Path(os.path.relpath(absolute, provider_folder)).as_posix()
            location = replace(location, file=f"{provider_label}/{relative}")
    return replace(finding, message=message, location=location)
