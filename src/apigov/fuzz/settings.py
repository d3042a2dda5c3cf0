"""What one fuzz run may do: budgets, auth, operation filters and the safety rules."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct, field

ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DEFAULT_DESTRUCTIVE_METHODS = frozenset({"DELETE"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""Also destructive on production under `--safe`: shared data must not even be written to."""
DEFAULT_PRODUCTION_ENVS = ("prod", "production")
SAFE_RATE_LIMIT = "10/s"
"""`--safe` sends at most this many requests unless --rate-limit says otherwise."""


class FuzzSettings(Struct, frozen=True):
    """Budgets and request options of one run. Every bound has a finite default."""

    base_url: str
    max_time: int = 60
    """Seconds for the whole run (schemathesis stops starting new tests after it)."""
    max_examples: int = 100
    """Generated test cases per operation and phase."""
    max_requests: int = 5000
    """The run stops once this many requests were sent (checked after each scenario)."""
    workers: int = 1
    seed: int | None = None
    include: tuple[str, ...] = ()
    """Operations to test, as `METHOD /path` or glob patterns such as `GET /items/*`."""
    exclude: tuple[str, ...] = ()
    rate_limit: str | None = None
    """Requests per interval, e.g. `100/s`, `20/m`."""
    request_timeout: float = 10.0
    headers: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    phases: tuple[str, ...] = ALL_PHASES
    safe: bool = False
    """Positive data only, no destructive methods, rate-limited: for shared staging data."""


class TargetSafety(Struct, frozen=True):
    """Whether the target is production and which methods count as destructive there."""

    production: bool = False
    allow_destructive: bool = False
    destructive_methods: frozenset[str] = DEFAULT_DESTRUCTIVE_METHODS


def destructive_methods(configured: Iterable[str], safe: bool) -> frozenset[str]:
    """The methods refused on production: those configured (DELETE by default), and every
    write as well under `--safe`, which promises to leave shared data alone."""
    methods = frozenset(m.strip().upper() for m in configured if m.strip())
    return methods | WRITE_METHODS if safe else methods


def is_production(env: str | None, production_flag: bool, production_envs: Iterable[str]) -> bool:
    """`--env-production`, or `--env NAME` where NAME is on the configured production list."""
    if production_flag:
        return True
    if env is None:
        return False
    return env.strip().lower() in {name.strip().lower() for name in production_envs if name}


def operations_of(document: Mapping[str, Any]) -> list[str]:
    """Every operation of an OpenAPI 3.x document as `METHOD /path`, in document order."""
    found: list[str] = []
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return found
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), Mapping):
                found.append(f"{method.upper()} {path}")
    return found


def matches(operation: str, pattern: str) -> bool:
    """`METHOD /path` against a pattern; the method part is case-insensitive, `*` is a glob."""
    method, _, path = operation.partition(" ")
    want_method, _, want_path = pattern.strip().partition(" ")
    if not want_path:  # a bare path (or glob) matches every method
        want_method, want_path = "*", want_method
    return fnmatch.fnmatchcase(method.upper(), want_method.upper()) and fnmatch.fnmatchcase(
        path, want_path
    )


def select_operations(operations: Iterable[str], settings: FuzzSettings) -> list[str]:
    """The operations the run will send requests to, after include, exclude and `--safe`."""
    chosen = []
    for operation in operations:
        if settings.include and not any(matches(operation, p) for p in settings.include):
            continue
        if any(matches(operation, p) for p in settings.exclude):
            continue
        if settings.safe and operation.split(" ", 1)[0] in DEFAULT_DESTRUCTIVE_METHODS:
            continue
        chosen.append(operation)
    return chosen


def destructive_operations(operations: Iterable[str], safety: TargetSafety) -> list[str]:
    """Operations refused on this target: destructive methods against production."""
    if not safety.production or safety.allow_destructive:
        return []
    return [op for op in operations if op.split(" ", 1)[0] in safety.destructive_methods]
