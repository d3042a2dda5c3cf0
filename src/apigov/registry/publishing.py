"""Turn a service folder of the contracts layout into the files one publish stores.

Only documents that load (parse, resolve, kind detected) and validate go in: the folder is
validated first and any error stops the publish with those findings.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from msgspec import Struct, field

from apigov.findings import Finding, Level, Report
from apigov.registry.domain import ContractFile, Role, ServiceMetadata
from apigov.spec.documents import validate_targets
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile, ServiceFile
from apigov.spec.sources import display_name


class Collected(Struct):
    """What a folder holds for publishing, or the validation report that refused it."""

    files: list[ContractFile]
    metadata: ServiceMetadata | None
    refused: Report | None = None
    warnings: list[Finding] = field(default_factory=list)


def collect_service_folder(folder: Path, service: str, loader: Loader) -> Collected:
    """Every contract file of `folder`, with paths relative to it ('/'-separated).

    A spec's `$ref`s may reach outside the folder (`../_shared/common.yaml`); those files are
    stored too, under their relative path, so the spec can be rebuilt exactly as published.
    """
    if not folder.is_dir():
        raise InputError(display_name(folder), "not a folder (publish takes a service folder)")
    report = validate_targets([str(folder)], loader)
    if any(f.level is Level.ERROR for f in report.findings):
        return Collected([], None, refused=report)
    base = os.path.realpath(folder)
    files: dict[str, ContractFile] = {}
    metadata: ServiceMetadata | None = None
    specs: list[str] = []
    events: list[str] = []
    for target in loader.expand([str(folder)]):
        document = loader.load(target)
        path = _relative(document.source.key, base)
        if isinstance(document, ApiSpec):
            specs.append(path)
            files[path] = ContractFile(path, Role.SPEC, document.source.raw)
            for key, source in document.files.items():
                if key != document.source.key:
                    part = _relative(key, base)
                    held = files.get(part)
                    # A file both documents refer to belongs to the OpenAPI document: its role
                    # decides which files make up the spec (and so the spec's digest).
                    if held is None or held.role is Role.ASYNCAPI_PART:
                        files[part] = ContractFile(part, Role.SPEC_PART, source.raw)
        elif isinstance(document, AsyncApiSpec):
            events.append(path)
            files[path] = ContractFile(path, Role.ASYNCAPI, document.source.raw)
            for key, source in document.files.items():
                if key != document.source.key:
                    part = _relative(key, base)
                    files.setdefault(part, ContractFile(part, Role.ASYNCAPI_PART, source.raw))
        elif isinstance(document, PactFile):
            if document.consumer != service:
                raise InputError(
                    document.name,
                    f"the pact's consumer is {document.consumer!r}, but the folder is "
                    f"published as {service!r}",
                    pointer="/consumer/name",
                )
            files[path] = ContractFile(path, Role.PACT, document.source.raw, document.provider)
        elif isinstance(document, ServiceFile):
            files[path] = ContractFile(path, Role.SERVICE, document.source.raw)
            metadata = _metadata(document)
    if len(specs) > 1:
        raise InputError(
            display_name(folder),
            f"a service folder holds one OpenAPI document, found {', '.join(specs)}",
        )
    if len(events) > 1:
        raise InputError(
            display_name(folder),
            f"a service folder holds one AsyncAPI document, found {', '.join(events)}",
        )
    return Collected(sorted(files.values(), key=lambda f: f.path), metadata, None, report.findings)


def _relative(key: str, base: str) -> str:
    if key.startswith("git:") or "://" in key:
        raise InputError(key, "only local files can be published")
    return posixpath.normpath(Path(os.path.relpath(key, base)).as_posix())


def _metadata(document: ServiceFile) -> ServiceMetadata:
    data = document.data

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if isinstance(value, str | int) else None

    tier = data.get("tier")
    return ServiceMetadata(
        owner=text("owner"),
        team=text("team"),
        tier=tier if isinstance(tier, int) and not isinstance(tier, bool) else None,
        lifecycle=text("lifecycle"),
    )
