"""Registry refs as diff inputs: `SERVICE@VERSION` and `SERVICE@ENVIRONMENT`.

`parse_registry_ref("orders@1.4.0")` is `("orders", "1.4.0")`; anything that could be a file
path (a `/`, a `\\`, an existing file) or a git `REV:path` (a `:`) is not a ref.
`materialise(ref, registry, into)` writes the OpenAPI document of that version, and every file
it refers to, under `into` with their published relative paths (`../_shared/common.yaml`
included), so the loader reads the spec exactly as it was published.
`materialise_pacts(registry, versions, provider, into)` writes the pacts with `provider` held
by the given consumer versions, byte for byte as published (so their SHA-256 is the one the
registry knows them by), as `into/<consumer>@<version>/<published path>`;
`materialise_live_pacts(registry, environment, provider, into)` does so for the consumer
versions live in `environment` (a consumer-aware diff, `apigov verify --consumers-from`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from apigov.registry.domain import Registry, RegistryError, Role, VersionRecord

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def parse_registry_ref(text: str) -> tuple[str, str] | None:
    """(service, version or environment) for `SERVICE@VERSION|ENV`, else None."""
    if any(char in text for char in "/\\:") or text.count("@") != 1:
        return None
    service, _, which = text.partition("@")
    if not (_NAME.match(service) and _VERSION.match(which)):
        return None
    # A file of that name in the working directory is what the user means.
    if Path(text).exists():
        return None
    return service, which


def resolve_version(ref: str, registry: Registry) -> VersionRecord:
    """The version `ref` names: a published version, else the one live in that environment."""
    parsed = parse_registry_ref(ref)
    if parsed is None:
        raise RegistryError(ref, "not a registry ref (SERVICE@VERSION or SERVICE@ENVIRONMENT)")
    service, which = parsed
    record = registry.version(service, which)
    if record is not None:
        return record
    if not registry.has_environment(which):
        raise RegistryError(
            ref, f"{service} has no version {which} and there is no environment {which!r}"
        )
    live = sorted({v.number for v in registry.live_versions(which, [service])})
    if not live:
        raise RegistryError(ref, f"no version of {service} is deployed in {which}")
    if len(live) > 1:
        listed = ", ".join(f"{service}@{number}" for number in live)
        raise RegistryError(
            ref, f"several versions of {service} are live in {which} ({listed}); name one"
        )
    record = registry.version(service, live[0])
    if record is None:  # a deployment always refers to a published version
        raise RegistryError(ref, f"{service}@{live[0]} is live in {which} but not published")
    return record


def materialise(ref: str, registry: Registry, into: Path) -> Path:
    """Write the spec files of the version `ref` names under `into`; the root spec's path.

    Published paths are relative to the service folder and may climb out of it
    (`../_shared/problem.yaml`): the service folder is placed deep enough under `into` that
    every file lands inside `into`, and any path that would not is refused.
    """
    record = resolve_version(ref, registry)
    # service.yaml too: the loader names the spec's service from it (consumer-aware diffs
    # pick the pacts whose provider is that service).
    files = [*record.spec_files, *(f for f in record.files if f.role is Role.SERVICE)]
    roots = [f for f in files if f.role is Role.SPEC]
    if not roots:
        raise RegistryError(ref, f"{record.label} holds no OpenAPI document")
    paths = {f.path: posixpath.normpath(f.path) for f in files}
    for original, path in paths.items():
        if posixpath.isabs(path) or original.startswith(("/", "\\")):
            raise RegistryError(ref, f"{record.label} holds a file with an absolute path {path!r}")
    climb = max(_leading_parents(path) for path in paths.values())
    service_folder = into.joinpath(*(["_"] * climb), record.service)
    contents = registry.contents([f.sha256 for f in files])
    top = into.resolve()
    for stored in files:
        target = (service_folder / paths[stored.path]).resolve()
        if not target.is_relative_to(top):
            raise RegistryError(ref, f"{record.label}: {stored.path!r} leaves its folder")
        content = contents.get(stored.sha256)
        if content is None:
            raise RegistryError(ref, f"{record.label}: the content of {stored.path} is missing")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return service_folder / paths[roots[0].path]


def _leading_parents(path: str) -> int:
    count = 0
    for part in path.split("/"):
        if part != "..":
            break
        count += 1
    return count


def materialise_live_pacts(
    registry: Registry, environment: str, provider: str, into: Path
) -> list[Path]:
    """The pacts with `provider` of every consumer version live in `environment`, written
    as `into/<consumer>@<version>/<published path>`."""
    if not registry.has_environment(environment):
        raise RegistryError(environment, f"there is no environment {environment!r}")
    records: list[VersionRecord] = []
    for live in sorted(
        registry.live_consumers(environment, provider), key=lambda v: (v.service, v.number)
    ):
        record = registry.version(live.service, live.number)
        if record is not None:
            records.append(record)
    return materialise_pacts(registry, records, provider, into)


def materialise_pacts(
    registry: Registry, versions: Iterable[VersionRecord], provider: str, into: Path
) -> list[Path]:
    """The pacts with `provider` held by each of `versions`, written byte for byte as
    published to `into/<consumer>@<version>/<published path>`, in order; a version without
    such a pact adds nothing. A published path that would leave its version's folder, or a
    pact whose content is missing, is a RegistryError."""
    written: list[Path] = []
    for record in versions:
        pacts = [f for f in record.pacts if f.provider == provider]
        contents = registry.contents([f.sha256 for f in pacts])
        folder = (into / f"{record.service}@{record.number}").resolve()
        for stored in pacts:
            target = (folder / posixpath.normpath(stored.path)).resolve()
            content = contents.get(stored.sha256)
            if not target.is_relative_to(folder) or content is None:
                raise RegistryError(record.label, f"cannot read its pact {stored.path!r}")
            if target in written:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written.append(target)
    return written
