"""Functions behind apigov:recommended's governance rules (beyond what Spectral ships)."""

from __future__ import annotations

import functools
import re
from typing import Any

from apigov.lint.context import FunctionContext, Result
from apigov.lint.functions.core import Results, regex
from apigov.lint.functions.oas import OPERATION_KEYS


def operation_security(target: Any, _options: Any, _context: FunctionContext) -> Results:
    """Every operation is protected: its own `security`, or a non-empty global one.

    An operation may opt out explicitly with `security: []` only when it says why in
    `x-public-reason` (health checks, public catalogues): silence is what the rule catches.
    """
    if not isinstance(target, dict):
        return None
    global_security = target.get("security")
    protected_globally = isinstance(global_security, list) and len(global_security) > 0
    found = []
    paths = target.get("paths")
    if not isinstance(paths, dict):
        return None
    for url, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method not in OPERATION_KEYS or not isinstance(operation, dict):
                continue
            own = operation.get("security")
            if own is None:
                if not protected_globally:
                    found.append(
                        Result(
                            f"{method.upper()} {url} has no security requirement (and there is "
                            "no global one).",
                            ("paths", url, method),
                        )
                    )
            elif own == [] and not operation.get("x-public-reason"):
                found.append(
                    Result(
                        f"{method.upper()} {url} turns security off without 'x-public-reason'.",
                        ("paths", url, method, "security"),
                    )
                )
    return found or None


@functools.cache
def _version_segment() -> re.Pattern[str]:
    """A `/v1`-style path segment. Compiled on first use: only apigov's own rulesets call
    `api_versioning`, and compiling costs every other lint a quarter of a million instructions."""
    return re.compile(r"/v\d+(?:[./]|$)")


def api_versioning(target: Any, options: Any, _context: FunctionContext) -> Results:
    """The API version is visible to clients: in the server URLs or paths, or in a header."""
    if not isinstance(target, dict):
        return None
    headers = {h.lower() for h in (options or {}).get("headers", ["api-version"])}
    base_path = target.get("basePath")
    version_segment = _version_segment()
    if isinstance(base_path, str) and version_segment.search(base_path.rstrip("/") + "/"):
        return None
    servers = target.get("servers")
    if (
        isinstance(servers, list)
        and servers
        and all(
            isinstance(s, dict)
            and isinstance(s.get("url"), str)
            and version_segment.search(s["url"])
            for s in servers
        )
    ):
        return None
    paths = target.get("paths")
    if isinstance(paths, dict) and paths and all(version_segment.match(url) for url in paths):
        return None
    for parameter in _all_parameters(target):
        if parameter.get("in") == "header" and str(parameter.get("name", "")).lower() in headers:
            return None
    return [
        Result(
            "The API version is not visible to clients: put /vN in every server URL (2.0: the "
            "basePath) or path, "
            f"or accept a version header ({', '.join(sorted(headers))}).",
            ("paths",) if isinstance(paths, dict) else (),
        )
    ]


def _all_parameters(document: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    components = document.get("components")
    if isinstance(components, dict) and isinstance(components.get("parameters"), dict):
        found.extend(p for p in components["parameters"].values() if isinstance(p, dict))
    paths = document.get("paths")
    if isinstance(paths, dict):
        for item in paths.values():
            if not isinstance(item, dict):
                continue
            found.extend(p for p in item.get("parameters") or [] if isinstance(p, dict))
            for method, operation in item.items():
                if method in OPERATION_KEYS and isinstance(operation, dict):
                    found.extend(
                        p for p in operation.get("parameters") or [] if isinstance(p, dict)
                    )
    return found


def response_codes(target: Any, options: Any, context: FunctionContext) -> Results:
    """At least one response code matches `options.match` (e.g. `^4` for a client error)."""
    if not isinstance(target, dict):
        return None
    wanted = str((options or {}).get("match", "^4"))
    if any(regex(wanted).search(str(code)) for code in target):
        return None
    return [Result(f"No response code matches {wanted!r}.")]


GOVERNANCE_FUNCTIONS = {
    "apigovOperationSecurity": operation_security,
    "apigovApiVersioning": api_versioning,
    "apigovResponseCodes": response_codes,
}
