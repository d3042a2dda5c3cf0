"""The operations of a stored OpenAPI document, for the service page.

The spec is rebuilt from the registry exactly as published (`registry.refs.materialise`, the
path registry refs take) and loaded with the ordinary `Loader`. Published contents never
change, so the list is remembered per spec digest: a page shown again parses nothing.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from msgspec import Struct

from apigov.registry.domain import Registry
from apigov.registry.refs import materialise, parse_registry_ref
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CACHED_SPECS = 256


class Operation(Struct, frozen=True):
    method: str
    path: str
    operation_id: str
    summary: str
    deprecated: bool


class Operations(Struct, frozen=True):
    """What the page shows: the operations, or why there are none."""

    items: tuple[Operation, ...]
    problem: str | None = None


_cache: OrderedDict[str, Operations] = OrderedDict()
_lock = threading.Lock()


def operations_of(
    registry: Registry, service: str, version: str, spec_digest: str | None
) -> Operations:
    if spec_digest is None:
        return Operations((), f"{service}@{version} publishes no OpenAPI document")
    with _lock:
        cached = _cache.get(spec_digest)
        if cached is not None:
            _cache.move_to_end(spec_digest)
            return cached
    found = _load(registry, service, version)
    if found.problem is None:  # a problem names this service: never serve it for another
        with _lock:
            _cache[spec_digest] = found
            while len(_cache) > CACHED_SPECS:
                _cache.popitem(last=False)
    return found


def load_stored_spec(registry: Registry, service: str, version: str, into: Path) -> ApiSpec:
    """The OpenAPI document of `service@version`, rebuilt under `into` and loaded."""
    ref = f"{service}@{version}"
    if parse_registry_ref(ref) is None:
        # refs.materialise takes a ref; names that cannot be written as one (markup, spaces)
        # are refused rather than rebuilt some other way.
        raise InputError(ref, "this name cannot be written as a registry ref (SERVICE@VERSION)")
    root = materialise(ref, registry, into)
    loaded = Loader(root=into).load(str(root))
    if not isinstance(loaded, ApiSpec):
        raise InputError(f"{service}@{version}", "its stored spec is not an OpenAPI document")
    loaded.service = service
    return loaded


def _load(registry: Registry, service: str, version: str) -> Operations:
    with tempfile.TemporaryDirectory(prefix="apigov-web-") as folder:
        try:
            spec = load_stored_spec(registry, service, version, Path(folder).resolve())
        except InputError as error:
            return Operations((), f"the stored spec cannot be read: {error.message}")
        return Operations(tuple(list_operations(spec)))


def list_operations(spec: ApiSpec) -> list[Operation]:
    """Every operation under `paths`, in document order (path items behind `$ref` followed)."""
    found = []
    paths = spec.document.get("paths") or {}
    for path, raw_item in paths.items():
        item, _ = _deref(spec, raw_item)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            found.append(
                Operation(
                    method.upper(),
                    str(path),
                    str(operation.get("operationId") or ""),
                    str(operation.get("summary") or ""),
                    bool(operation.get("deprecated")),
                )
            )
    return found


def _deref(spec: ApiSpec, node: Any) -> tuple[Any, Any]:
    try:
        return spec.deref(node)
    except (KeyError, ValueError, LookupError):
        return node, None
