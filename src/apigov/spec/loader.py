"""Load documents once: read, parse, resolve `$ref`s, detect the kind, normalise 2.0 to 3.x.

`Loader` is the one entry point: `Loader().load("contracts/orders/openapi.yaml")` returns an
`ApiSpec`, `PactFile` or `ServiceFile`, or raises `InputError`. Within one loader (one run) a
file is read once and identical content is parsed once (cached by SHA-256).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.limits import DEFAULT_LIMITS, Limits
from apigov.spec.model import (
    ApiSpec,
    AsyncApiSpec,
    Document,
    PactFile,
    RefTarget,
    ServiceFile,
)
from apigov.spec.parse import Parsed, parse_bytes
from apigov.spec.sources import (
    GitLocation,
    Source,
    display_name,
    git_top,
    parse_git_target,
    read_file,
    read_git,
    read_stdin,
    read_url,
)

SPEC_FILE_NAMES = frozenset(
    {"openapi.yaml", "openapi.yml", "openapi.json", "swagger.yaml", "swagger.yml", "swagger.json"}
)
ASYNCAPI_FILE_NAMES = frozenset({"asyncapi.yaml", "asyncapi.yml", "asyncapi.json"})
SERVICE_FILE_NAMES = frozenset({"service.yaml", "service.yml"})
_SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__"})
_OPENAPI_VERSION = re.compile(r"^3\.[0-2]\.\d+(-.+)?$")
_ASYNCAPI_VERSION = re.compile(r"^[23]\.\d+\.\d+(-.+)?$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class Loader:
    def __init__(self, limits: Limits = DEFAULT_LIMITS, root: Path | None = None) -> None:
        self.limits = limits
        self.root = root.resolve() if root is not None else None
        self._parsed_by_content: dict[bytes, Parsed] = {}
        self._sources: dict[str, Source] = {}
        self._documents: dict[str, Document] = {}
        self._git: dict[str, GitLocation] = {}
        # (referring file's key, file part of the $ref, root folder) -> target; most refs repeat
        # a few files. The root folder is part of the key: a target found under one document's
        # root is checked again under another's (it may escape that one).
        self._ref_files: dict[tuple[str, str, Path | None], Source] = {}
        self._real_folders: dict[str, str] = {}
        # Joined path -> real path: the files of one folder refer to the same few files.
        self._real_paths: dict[str, str] = {}
        # (referring file's folder, file part of the $ref, root folder) -> target.
        self._local_refs: dict[tuple[str, str, Path | None], Source] = {}
        # Files found by walking a folder target may refer anywhere under that folder.
        self._folder_roots: dict[str, Path] = {}

    # ---- targets -------------------------------------------------------------------------

    def expand(self, targets: Sequence[str]) -> list[str]:
        """Folders become the contract files inside them (contracts layout); the rest stays."""
        expanded: list[str] = []
        for target in targets:
            path = Path(target)
            if target != "-" and path.is_dir():
                found = sorted(_contract_files(path))
                if not found:
                    raise InputError(
                        display_name(path),
                        "folder holds no contract files "
                        "(openapi.yaml, swagger.yaml, asyncapi.yaml, pacts/*.json, service.yaml)",
                    )
                folder = path.resolve()
                for found_path in found:
                    self._folder_roots[os.path.realpath(found_path)] = folder
                expanded.extend(str(p) for p in found)
            else:
                expanded.append(target)
        return expanded

    def load(self, target: str) -> Document:
        """Load one file target (path, `-`, or `REV:path`) as a document."""
        source = self.source(target)
        cached = self._documents.get(source.key)
        if cached is not None:
            return cached
        document = self._build(source)
        document.service = self._service_of(source)
        self._documents[source.key] = document
        return document

    def _service_of(self, source: Source) -> str | None:
        """Contracts layout: the folder holding service.yaml (or holding the pacts/ folder)."""
        if source.key.startswith("git:") or source.key == "-" or _URL.match(source.key):
            return None
        folder = Path(source.key).parent
        if folder.name == "pacts":
            folder = folder.parent
        for name in SERVICE_FILE_NAMES:
            if (folder / name).is_file():
                return folder.name
        return None

    # ---- sources -------------------------------------------------------------------------

    def source(self, target: str) -> Source:
        if target == "-":
            return self._parse("-", "<stdin>", read_stdin(self.limits))
        if target.startswith(("http://", "https://")):
            # A root document named by URL is what the user asked for; --allow-remote-refs is
            # about the documents *it* refers to. Same size and time limits as any fetch.
            return self._url_source(target)
        path = Path(target)
        if not path.exists():
            git = parse_git_target(target)
            if git is not None:
                return self._git_source(git)
        return self._file_source(path)

    def _file_source(self, path: Path | str, real: str | None = None) -> Source:
        key = real or os.path.realpath(path)
        known = self._sources.get(key)
        if known is not None:
            return known
        name = display_name(path)
        return self._parse(key, name, read_file(key, self.limits, name))

    def _git_source(self, location: GitLocation) -> Source:
        known = self._sources.get(location.key)
        if known is not None:
            return known
        self._git[location.key] = location
        return self._parse(location.key, location.name, read_git(location, self.limits))

    def _url_source(self, url: str) -> Source:
        known = self._sources.get(url)
        if known is not None:
            return known
        return self._parse(url, url, read_url(url, self.limits))

    def _parse(self, key: str, name: str, raw: bytes) -> Source:
        # Keyed by the content itself: equal bytes are equal content, with no digest to compute
        # (the bytes are kept by their `Source` anyway).
        parsed = self._parsed_by_content.get(raw)
        if parsed is None:
            parsed = parse_bytes(raw, name, self.limits)
            self._parsed_by_content[raw] = parsed
        source = Source(key=key, name=name, raw=raw, parsed=parsed)
        if key != "-":
            self._sources[key] = source
        return source

    # ---- documents -----------------------------------------------------------------------

    def _build(self, source: Source) -> Document:
        data = source.data
        if "openapi" in data or "swagger" in data:
            return self._build_spec(source)
        if "asyncapi" in data:
            return self._build_asyncapi(source)
        if _looks_like_pact(data):
            return _build_pact(source)
        if Path(source.name).name in SERVICE_FILE_NAMES:
            return ServiceFile(source)
        raise InputError(
            source.name,
            "not an OpenAPI document (no 'openapi' or 'swagger' key), an AsyncAPI document "
            "(no 'asyncapi' key), a Pact file (no 'consumer', 'provider' and 'interactions') "
            "or a service.yaml",
        )

    def _build_spec(self, source: Source) -> ApiSpec:
        data = source.data
        if "openapi" in data:
            version = data["openapi"]
            if not isinstance(version, str) or not _OPENAPI_VERSION.match(version):
                raise _version_error(source, "openapi", version)
        else:
            version = data["swagger"]
            if version != "2.0":
                raise _version_error(source, "swagger", version)
        files, targets = self._resolve_refs(source)
        spec = ApiSpec(source=source, version=version, document=data, files=files, targets=targets)
        if version == "2.0":
            from apigov.spec.normalize import normalize_swagger2  # only 2.0 documents need it

            normalized = normalize_swagger2(data, lambda ref: spec.resolve(ref).node)
            spec.document = normalized.document
            spec.origins = normalized.origins
        return spec

    def _build_asyncapi(self, source: Source) -> AsyncApiSpec:
        version = source.data["asyncapi"]
        if not isinstance(version, str) or not _ASYNCAPI_VERSION.match(version):
            raise _version_error(source, "asyncapi", version)
        files, targets = self._resolve_refs(source)
        return AsyncApiSpec(
            source=source, version=version, document=source.data, files=files, targets=targets
        )

    def _resolve_refs(
        self, root: Source
    ) -> tuple[dict[str, Source], dict[tuple[str, str], RefTarget]]:
        """Load every file reachable through `$ref`, check every target exists, refuse cycles."""
        root_folder = self._root_folder(root)
        files: dict[str, Source] = {root.key: root}
        targets: dict[tuple[str, str], RefTarget] = {}
        # Pure-reference chains: a `$ref` whose target is itself a `$ref`.
        chain: dict[tuple[str, str], tuple[str, str]] = {}
        sites: dict[tuple[str, str], tuple[Source, str]] = {}
        # Many refs name the same target: resolve each (file, pointer) once.
        resolved: dict[tuple[str, str], Any] = {}
        queue = [root]
        while queue:
            source = queue.pop()
            for path, ref in source.parsed.refs:
                file_part, _, fragment = ref.partition("#")
                if "%" in fragment:
                    fragment = urllib.parse.unquote(fragment)
                if file_part:
                    file_key = (source.key, file_part, root_folder)
                    target_source = self._ref_files.get(file_key)
                    if target_source is None:
                        target_source = self._ref_source(
                            source, file_part, ref, _site(path), root_folder
                        )
                        self._ref_files[file_key] = target_source
                    if target_source.key not in files:
                        if len(files) >= self.limits.max_files:
                            raise _at(
                                source,
                                _site(path),
                                f"more than {self.limits.max_files:,} files reached through $ref",
                            )
                        files[target_source.key] = target_source
                        queue.append(target_source)
                else:
                    target_source = source
                if fragment and not fragment.startswith("/"):
                    continue  # a JSON Schema anchor (`#name`): resolved by the schema engine
                target_key = (target_source.key, fragment)
                node = resolved.get(target_key, _MISSING)
                if node is _MISSING:
                    try:
                        node = jp.resolve(target_source.data, fragment)
                    except jp.PointerError as exc:
                        raise _at(
                            source, _site(path), f"unresolvable $ref {ref!r}: {exc}"
                        ) from None
                    resolved[target_key] = node
                if file_part:
                    targets[(source.key, ref)] = RefTarget(target_source, fragment, node)
                if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                    here = (source.key, jp.join(path))
                    chain[here] = target_key
                    sites[here] = (source, _site(path))
        _refuse_cycles(chain, sites)
        return files, targets

    def _root_folder(self, root: Source) -> Path | None:
        if self.root is not None:
            return self.root
        if root.key.startswith("git:") or _URL.match(root.key) or root.key == "-":
            return None if root.key != "-" else Path.cwd().resolve()
        path = Path(root.key)
        given = self._folder_roots.get(root.key)
        top = git_top(path)
        if top is not None:
            return top.resolve()
        if given is not None:
            return given
        cwd = Path.cwd().resolve()
        return cwd if path.is_relative_to(cwd) else path.parent.resolve()

    def _ref_source(
        self, source: Source, file_part: str, ref: str, site: str, root_folder: Path | None
    ) -> Source:
        if _URL.match(file_part) or file_part.startswith("//") or _URL.match(source.key):
            url = urllib.parse.urljoin(source.key if _URL.match(source.key) else "", file_part)
            if not self.limits.allow_remote_refs:
                raise _at(
                    source,
                    site,
                    f"remote $ref {ref!r} refused (pass --allow-remote-refs to fetch it)",
                )
            if not _URL.match(url):
                raise _at(source, site, f"cannot resolve $ref {ref!r}")
            return self._url_source(url)
        if source.key.startswith("git:"):
            location = self._git[source.key].sibling(urllib.parse.unquote(file_part))
            if location is None:
                raise _at(source, site, f"$ref {ref!r} escapes the repository")
            return self._git_source(location)
        base = os.getcwd() if source.key == "-" else os.path.dirname(source.key)
        # The files of one folder name the same few files alike: find each once per root.
        local_key = (base, file_part, root_folder)
        known = self._local_refs.get(local_key)
        if known is not None:
            return known
        real = self._realpath(os.path.join(base, urllib.parse.unquote(file_part)))
        if root_folder is not None and not _is_within(real, str(root_folder)):
            raise _at(
                source,
                site,
                f"$ref {ref!r} escapes the root folder "
                f"{display_name(root_folder)} (set --root to widen it)",
            )
        try:
            found = self._file_source(real, real)
        except InputError as exc:
            if exc.message == "no such file":
                raise _at(
                    source, site, f"unresolvable $ref {ref!r}: no file {display_name(real)}"
                ) from None
            raise
        self._local_refs[local_key] = found
        return found

    def _realpath(self, path: str) -> str:
        """os.path.realpath, with the folder part cached: thousands of refs share few folders."""
        known = self._real_paths.get(path)
        if known is not None:
            return known
        folder, name = os.path.split(os.path.normpath(path))
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = os.path.realpath(folder)
            self._real_folders[folder] = real_folder
        candidate = os.path.join(real_folder, name)
        real = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
        self._real_paths[path] = real
        return real


_MISSING = object()


def _is_within(path: str, folder: str) -> bool:
    prefix = folder if folder.endswith(os.sep) else folder + os.sep  # the root is "/" itself
    return path == folder or path.startswith(prefix)


def _site(path: tuple[str, ...]) -> str:
    """The pointer of the `$ref` member of the mapping at `path` (errors name it)."""
    return jp.join((*path, "$ref"))


def _contract_files(folder: Path) -> Iterable[Path]:
    for path in folder.iterdir():
        name = path.name
        if path.is_dir():
            if name.startswith((".", "_")) or name in _SKIPPED_FOLDERS:
                continue
            if name == "pacts":
                yield from (p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
            else:
                yield from _contract_files(path)
        elif name in SPEC_FILE_NAMES or name in ASYNCAPI_FILE_NAMES or name in SERVICE_FILE_NAMES:
            yield path


def _looks_like_pact(data: dict[str, Any]) -> bool:
    return (
        isinstance(data.get("consumer"), dict)
        and isinstance(data.get("provider"), dict)
        and ("interactions" in data or "messages" in data)
    )


def _build_pact(source: Source) -> PactFile:
    data = source.data
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    spec = metadata.get("pactSpecification") or metadata.get("pact-specification")
    version: Any = spec.get("version") if isinstance(spec, dict) else None
    version = version or metadata.get("pactSpecificationVersion") or "1.0.0"
    return PactFile(
        source=source,
        version=str(version),
        consumer=str(data["consumer"].get("name", "")),
        provider=str(data["provider"].get("name", "")),
    )


def _version_error(source: Source, key: str, version: object) -> InputError:
    line = source.position(f"/{key}")
    return InputError(
        source.name,
        f"unsupported {key} version {version!r} (apigov reads Swagger 2.0, OpenAPI "
        "3.0, 3.1 and 3.2, and AsyncAPI 2.x and 3.x; write the version as a string)",
        line=line[0] if line else None,
        pointer=f"/{key}",
    )


def _at(source: Source, pointer: str, message: str) -> InputError:
    position = source.position(pointer)
    line, column = position if position else (None, None)
    return InputError(source.name, message, line=line, column=column, pointer=pointer)


def _refuse_cycles(
    chain: dict[tuple[str, str], tuple[str, str]],
    sites: dict[tuple[str, str], tuple[Source, str]],
) -> None:
    """A chain of pure `$ref`s that comes back to itself names no value at all."""
    done: set[tuple[str, str]] = set()
    for start in chain:
        if start in done:
            continue
        trail: list[tuple[str, str]] = []
        on_trail: set[tuple[str, str]] = set()
        node: tuple[str, str] | None = start
        while node is not None and node in chain and node not in done:
            if node in on_trail:
                source, pointer = sites[node]
                loop = [*trail[trail.index(node) :], node]
                names = " -> ".join(p or "#" for _, p in loop)
                raise _at(source, pointer, f"$ref cycle: {names}")
            trail.append(node)
            on_trail.add(node)
            node = chain[node]
        done.update(trail)
