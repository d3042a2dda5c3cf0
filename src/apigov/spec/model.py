"""What loading produces: `ApiSpec`, `PactFile`, `ServiceFile`. Analyzers only see these."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from apigov.findings import Location
from apigov.spec import pointer as jp
from apigov.spec.sources import Source

if TYPE_CHECKING:
    from apigov.spec.normalize import OriginMap


class RefTarget(Struct, eq=False):
    """Where a `$ref` leads: the file, the pointer inside it, and the node."""

    source: Source
    pointer: str
    node: Any


class _References:
    """`$ref` following shared by the documents that have references (OpenAPI, AsyncAPI)."""

    source: Source
    document: dict[str, Any]
    targets: dict[tuple[str, str], RefTarget]
    _local: dict[tuple[str, str], RefTarget]

    def resolve(self, ref: str, source: Source | None = None) -> RefTarget:
        """Follow one `$ref` written in `source` (default: the root document)."""
        holder = source or self.source
        if ref.startswith("#"):
            cached = self._local.get((holder.key, ref))
            if cached is None:
                pointer = ref[1:]
                if "%" in pointer:
                    pointer = urllib.parse.unquote(pointer)
                document = self.document if holder is self.source else holder.data
                cached = RefTarget(holder, pointer, jp.resolve(document, pointer))
                self._local[(holder.key, ref)] = cached
            return cached
        found = self.targets.get((holder.key, ref))
        if found is None:
            raise KeyError(ref)
        return found

    def deref(
        self, node: Any, source: Source | None = None, *, limit: int = 64
    ) -> tuple[Any, Source | None]:
        """Follow `$ref`s until a node that is not a pure reference (cycles were refused at load).

        Returns the node and the file it lives in (None for the root document). Raises KeyError
        or PointerError for a reference it cannot follow.
        """
        node, source, _ = self._chase(node, source, "", strict=True, limit=limit)
        return node, source

    def follow(
        self, node: Any, source: Source | None, pointer: str, *, limit: int = 64
    ) -> tuple[Any, Source | None, str]:
        """Like `deref`, also tracking the pointer, and stopping (not raising) at a reference it
        cannot follow: JSON Schema anchors and `$id` references are left to the schema engine."""
        return self._chase(node, source, pointer, strict=False, limit=limit)

    def _chase(
        self, node: Any, source: Source | None, pointer: str, *, strict: bool, limit: int
    ) -> tuple[Any, Source | None, str]:
        for _ in range(limit):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            try:
                target = self.resolve(node["$ref"], source)
            except (KeyError, jp.PointerError):
                if strict:
                    raise
                break
            node, pointer = target.node, target.pointer
            source = None if target.source is self.source else target.source
        return node, source, pointer


class ApiSpec(_References, Struct, eq=False):
    """An OpenAPI document (2.0, 3.0, 3.1 or 3.2), every file it refers to, and its 3.x shape.

    `document` is the 3.x-shaped root (for 2.0 documents a normalised copy, for 3.x the parsed
    document itself). `files` holds every file reached through relative `$ref`s, by key.
    """

    source: Source
    version: str
    document: dict[str, Any]
    files: dict[str, Source]
    origins: OriginMap | None = None
    service: str | None = None
    """The service owning this document (contracts layout), when known."""
    targets: dict[tuple[str, str], RefTarget] = field(default_factory=dict)
    """Resolved references to other files: (key of the referring file, ref string) -> target."""
    _local: dict[tuple[str, str], RefTarget] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def is_swagger2(self) -> bool:
        return self.version.startswith("2.")

    @property
    def major_minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def locate(self, pointer: str, source: Source | None = None) -> Location:
        """Location of a pointer into `document` (or into another file when `source` is given).

        Pointers into a normalised 2.0 document are mapped back to the original's lines.
        """
        if source is not None and source is not self.source:
            return source.locate(pointer)
        original = self.origins.original(pointer) if self.origins is not None else pointer
        location = self.source.locate(original)
        return Location(location.file, pointer=original, line=location.line, column=location.column)


class AsyncApiSpec(_References, Struct, eq=False):
    """An AsyncAPI document (2.x or 3.x): the message contracts of an event-driven provider.

    Kept apart from `ApiSpec` so that OpenAPI analyzers (lint, diff, fuzz) never mistake one
    for the other; static compatibility checks Pact message interactions against it.
    """

    source: Source
    version: str
    document: dict[str, Any]
    files: dict[str, Source]
    service: str | None = None
    targets: dict[tuple[str, str], RefTarget] = field(default_factory=dict)
    _local: dict[tuple[str, str], RefTarget] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def locate(self, pointer: str, source: Source | None = None) -> Location:
        return (source or self.source).locate(pointer)


class PactFile(Struct, eq=False):
    """A consumer contract (Pact specification V1 to V4)."""

    source: Source
    version: str
    consumer: str
    provider: str
    service: str | None = None

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def data(self) -> dict[str, Any]:
        return self.source.data

    def locate(self, pointer: str) -> Location:
        return self.source.locate(pointer)


class ServiceFile(Struct, eq=False):
    """A service.yaml: who owns a service and what it owns."""

    source: Source
    service: str | None = None

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def data(self) -> dict[str, Any]:
        return self.source.data

    def locate(self, pointer: str) -> Location:
        return self.source.locate(pointer)


Document = ApiSpec | AsyncApiSpec | PactFile | ServiceFile
