"""Static compatibility of a stored pact against a stored provider contract, cached as evidence.

The check itself belongs to the Pact capability (`apigov.pact.compat.check_compatibility`); it is
imported lazily, and while it is not there every pair's answer is "unknown", never a silent yes.
Results are cached in the registry by the two contents (pact SHA-256, spec digest) and the
checker's version, so a pair of unchanged contracts is checked once, whichever versions hold them.
"""

from __future__ import annotations

import importlib
import json
import os
import posixpath
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from apigov import __version__
from apigov.findings import Finding, Level, finding_from_dict
from apigov.registry.domain import Registry, StaticResult, StoredFile, VersionRecord
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile

CheckFunction = Callable[[PactFile, ApiSpec], list[Finding]]


@dataclass(frozen=True, slots=True)
class StaticOutcome:
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

    def prefetch(self, pairs: Sequence[tuple[StoredFile, VersionRecord]]) -> None:
        """Read the cached results of many pairs at once (can-i-deploy asks for all of its)."""
        if not self.available:
            return
        keys = [(p.sha256, v.spec_digest) for p, v in pairs if v.spec_digest is not None]
        self._prefetched.update(self.registry.static_results(keys, self.name))

    def outcome(
        self, consumer_version: VersionRecord, pact: StoredFile, provider: VersionRecord
    ) -> StaticOutcome:
        check = self._function()
        assert check is not None, "ask `available` first"
        assert provider.spec_digest is not None
        cached = self._prefetched.get((pact.sha256, provider.spec_digest))
        if cached is None:
            cached = self.registry.static_result(pact.sha256, provider.spec_digest, self.name)
        if cached is not None:
            findings = tuple(finding_from_dict(d) for d in json.loads(cached.findings_json or "[]"))
            return StaticOutcome(cached.success, findings, cached=True)
        findings = tuple(_run(check, consumer_version, pact, provider, self.registry))
        success = not any(f.level is Level.ERROR for f in findings)
        self.registry.store_static_result(
            pact.sha256,
            provider.spec_digest,
            self.name,
            success,
            json.dumps([f.to_dict() for f in findings]),
        )
        return StaticOutcome(success, findings, cached=False)


def _run(
    check: CheckFunction,
    consumer_version: VersionRecord,
    pact: StoredFile,
    provider: VersionRecord,
    registry: Registry,
) -> list[Finding]:
    """Rebuild both contracts in a temporary folder, exactly as published, and check them."""
    spec_files = provider.spec_files
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
        spec_root = next(f for f in spec_files if f.role.value == "spec")
        loader = Loader(root=root)
        spec = loader.load(str(provider_folder / spec_root.path))
        pact_document = loader.load(str(pact_path))
        if not isinstance(spec, ApiSpec) or not isinstance(pact_document, PactFile):
            raise InputError(provider.label, "stored contracts no longer load as a spec and a pact")
        spec.service = provider.service
        pact_document.service = consumer_version.service
        findings = check(pact_document, spec)
        renames = [
            (str(consumer_folder), consumer_version.label),
            (str(provider_folder), provider.label),
        ]
        return [_relabel(f, renames) for f in findings]


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
