"""Rulesets as data: Spectral's `.spectral.yaml` / `.spectral.json` format, loaded and merged.

Supported: `extends` (built-in names `spectral:oas`, `apigov:oas`, `apigov:recommended`, and
files, each optionally as `[name, recommended|all|off]`), `rules` (full definitions, or a
severity / `true` / `false` changing an inherited rule), `formats`, `aliases` (lists of paths, or
`targets` scoped by format), `overrides` (`files` globs with an optional `#/json/pointer`,
changing rule severities), `documentationUrl`, and `functions` (apigov's way to name custom
Python functions: `module.path:callable`).
"""

from __future__ import annotations

import fnmatch
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from apigov.findings import Level
from apigov.lint.context import RuleFunction
from apigov.lint.functions.core import CORE_FUNCTIONS
from apigov.lint.functions.governance import GOVERNANCE_FUNCTIONS
from apigov.lint.functions.oas import OAS_FUNCTIONS
from apigov.spec.errors import InputError
from apigov.spec.limits import DEFAULT_LIMITS
from apigov.spec.parse import parse_bytes

BUILTIN_RULESETS = {
    "spectral:oas": "oas.yaml",
    "apigov:oas": "oas.yaml",
    "apigov:recommended": "recommended.yaml",
}
FORMATS = frozenset({"oas2", "oas3", "oas3_0", "oas3_1"})
BUILTIN_FUNCTIONS: dict[str, RuleFunction] = {
    **CORE_FUNCTIONS,
    **OAS_FUNCTIONS,
    **GOVERNANCE_FUNCTIONS,
}

_SEVERITIES: dict[Any, Level | None] = {
    "error": Level.ERROR,
    "warn": Level.WARNING,
    "warning": Level.WARNING,
    "info": Level.INFO,
    "information": Level.INFO,
    "hint": Level.INFO,
    "off": None,
    0: Level.ERROR,
    1: Level.WARNING,
    2: Level.INFO,
    3: Level.INFO,
    -1: None,
}


@dataclass(frozen=True)
class Then:
    function_name: str
    function: RuleFunction
    field: str | None = None
    options: Any = None


@dataclass(frozen=True)
class Rule:
    name: str
    given: tuple[str, ...]
    then: tuple[Then, ...]
    severity: Level | None = Level.WARNING
    """None: the rule is off."""
    description: str = ""
    message: str | None = None
    formats: frozenset[str] | None = None
    resolved: bool = True
    recommended: bool = True
    documentation_url: str | None = None
    default_severity: Level | None = Level.WARNING
    """The severity the rule's definition gives (what `true` turns it back on with)."""


@dataclass(frozen=True)
class AliasTarget:
    given: tuple[str, ...]
    formats: frozenset[str] | None = None


@dataclass(frozen=True)
class Override:
    """A severity change for some files (glob) and, optionally, a place in them (pointer)."""

    pattern: str
    pointer: str | None
    severities: Mapping[str, Level | None]


@dataclass
class Ruleset:
    rules: dict[str, Rule] = field(default_factory=dict)
    aliases: dict[str, tuple[AliasTarget, ...]] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    """Where this ruleset came from (names and files), for messages."""

    def enabled(self) -> list[Rule]:
        return [rule for rule in self.rules.values() if rule.severity is not None]

    def severity_for(self, rule: Rule, file: str, pointer: str) -> Level | None:
        """The rule's severity for one finding, after every override that applies to it."""
        severity = rule.severity
        for override in self.overrides:
            if rule.name not in override.severities:
                continue
            if not _glob_match(override.pattern, file):
                continue
            if override.pointer is not None and not (
                pointer == override.pointer or pointer.startswith(override.pointer + "/")
            ):
                continue
            severity = override.severities[rule.name]
        return severity


def _glob_match(pattern: str, file: str) -> bool:
    file = Path(file).as_posix()
    candidates = {file, os.path.relpath(file) if Path(file).is_absolute() else file}
    absolute = Path(file).resolve().as_posix()
    candidates.add(absolute)
    return any(
        fnmatch.fnmatch(candidate, pattern) or fnmatch.fnmatch(candidate, "**/" + pattern)
        for candidate in candidates
    )


def builtin_path(name: str) -> Path:
    folder = resources.files("apigov.lint") / "rulesets"
    return Path(str(folder / BUILTIN_RULESETS[name]))


def load_ruleset(reference: str, base: Path | None = None) -> Ruleset:
    """A built-in name or a ruleset file, with everything it extends merged in."""
    return _Loader().load(reference, base or Path.cwd(), mode="all", top=True)


class _Loader:
    def __init__(self) -> None:
        self.stack: list[str] = []

    def load(self, reference: str, base: Path, *, mode: str, top: bool = False) -> Ruleset:
        path, display = self._locate(reference, base)
        key = str(path)
        if key in self.stack:
            raise InputError(display, "ruleset extends itself (a cycle through 'extends')")
        self.stack.append(key)
        try:
            data = _read(path, display)
            ruleset = self._build(data, path.parent, display)
        finally:
            self.stack.pop()
        return _apply_mode(ruleset, mode) if not top else ruleset

    def _locate(self, reference: str, base: Path) -> tuple[Path, str]:
        if reference in BUILTIN_RULESETS:
            return builtin_path(reference), reference
        prefix = reference.split(":", 1)[0]
        if prefix in ("spectral", "apigov") and not Path(reference).exists():
            raise InputError(
                reference,
                f"unknown built-in ruleset (known: {', '.join(sorted(BUILTIN_RULESETS))})",
            )
        if "://" in reference:
            raise InputError(reference, "rulesets are read from files; URLs are not supported")
        path = Path(reference)
        if not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise InputError(reference, "ruleset file not found")
        return path.resolve(), _display(path)

    def _build(self, data: Any, folder: Path, display: str) -> Ruleset:
        if not isinstance(data, dict):
            raise InputError(display, "a ruleset must be a mapping")
        merged = Ruleset(sources=[display])
        for entry in _as_list(data.get("extends")):
            name, mode = _extends_entry(entry, display)
            inherited = self.load(name, folder, mode=mode)
            merged.rules.update(inherited.rules)
            merged.aliases.update(inherited.aliases)
            merged.overrides.extend(inherited.overrides)
            merged.sources.extend(inherited.sources)
        functions = dict(BUILTIN_FUNCTIONS)
        for spec in _as_list(data.get("functions")):
            if isinstance(spec, str) and ":" in spec:
                functions[spec.rsplit(":", 1)[1]] = _import_function(spec, display)
        formats = _formats(data.get("formats"), display)
        documentation = data.get("documentationUrl")
        for name, definition in (data.get("aliases") or {}).items():
            merged.aliases[str(name)] = _alias(definition, display, str(name))
        for name, definition in (data.get("rules") or {}).items():
            name = str(name)
            if isinstance(definition, dict) and ("then" in definition or "given" in definition):
                merged.rules[name] = _rule(
                    name, definition, functions, formats, documentation, display
                )
            elif name in merged.rules:
                merged.rules[name] = _adjust(merged.rules[name], definition, display)
            else:
                raise InputError(display, f"rule {name!r} changes a rule no ruleset defines")
        for override in _as_list(data.get("overrides")):
            merged.overrides.extend(_overrides(override, folder, display))
        return merged


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _read(path: Path, display: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(display, f"cannot read ruleset: {error.strerror}") from None
    return parse_bytes(raw, display, DEFAULT_LIMITS).data


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _extends_entry(entry: Any, display: str) -> tuple[str, str]:
    if isinstance(entry, str):
        return entry, "recommended"
    if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
        mode = entry[1]
        if mode not in ("recommended", "all", "off"):
            raise InputError(display, f"extends mode must be recommended, all or off: {mode!r}")
        return entry[0], str(mode)
    raise InputError(display, f"cannot read extends entry {entry!r}")


def _apply_mode(ruleset: Ruleset, mode: str) -> Ruleset:
    if mode == "all":
        rules = {
            name: replace(rule, severity=rule.default_severity)
            if rule.severity is None and not rule.recommended
            else rule
            for name, rule in ruleset.rules.items()
        }
    elif mode == "off":
        rules = {name: replace(rule, severity=None) for name, rule in ruleset.rules.items()}
    else:
        rules = dict(ruleset.rules)
    return Ruleset(rules, dict(ruleset.aliases), list(ruleset.overrides), list(ruleset.sources))


def _formats(value: Any, display: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = frozenset(str(item) for item in _as_list(value))
    unknown = names - FORMATS
    if unknown:
        raise InputError(display, f"unknown formats {sorted(unknown)} (known: {sorted(FORMATS)})")
    return names


def _severity(value: Any, display: str, rule: str) -> Level | None:
    if isinstance(value, bool) or value not in _SEVERITIES:
        raise InputError(display, f"rule {rule!r}: unknown severity {value!r}")
    return _SEVERITIES[value]


def _alias(definition: Any, display: str, name: str) -> tuple[AliasTarget, ...]:
    if isinstance(definition, str | list):
        return (AliasTarget(tuple(str(g) for g in _as_list(definition))),)
    if isinstance(definition, dict) and isinstance(definition.get("targets"), list):
        return tuple(
            AliasTarget(
                tuple(str(g) for g in _as_list(target.get("given"))),
                _formats(target.get("formats"), display),
            )
            for target in definition["targets"]
        )
    raise InputError(display, f"alias {name!r} must be a list of paths or have 'targets'")


def _rule(
    name: str,
    definition: dict[str, Any],
    functions: dict[str, RuleFunction],
    ruleset_formats: frozenset[str] | None,
    documentation: Any,
    display: str,
) -> Rule:
    given = tuple(str(g) for g in _as_list(definition.get("given")))
    if not given:
        raise InputError(display, f"rule {name!r} has no 'given'")
    thens = []
    for then in _as_list(definition.get("then")):
        if not isinstance(then, dict) or not isinstance(then.get("function"), str):
            raise InputError(display, f"rule {name!r}: every 'then' needs a 'function'")
        function_name = then["function"]
        function = functions.get(function_name)
        if function is None and ":" in function_name:
            function = _import_function(function_name, display)
        if function is None:
            raise InputError(display, f"rule {name!r}: unknown function {function_name!r}")
        field_name = then.get("field")
        thens.append(
            Then(
                function_name,
                function,
                str(field_name) if field_name is not None else None,
                then.get("functionOptions"),
            )
        )
    if not thens:
        raise InputError(display, f"rule {name!r} has no 'then'")
    severity = _severity(definition.get("severity", "warn"), display, name)
    recommended = definition.get("recommended", True) is not False
    formats = _formats(definition.get("formats"), display)
    url = documentation if isinstance(documentation, str) else None
    if isinstance(definition.get("documentationUrl"), str):
        url = definition["documentationUrl"]
    elif url is not None:
        url = f"{url}#{name}"
    return Rule(
        name=name,
        given=given,
        then=tuple(thens),
        severity=severity if recommended else None,
        description=str(definition.get("description", "")),
        message=definition.get("message"),
        formats=formats if formats is not None else ruleset_formats,
        resolved=definition.get("resolved", True) is not False,
        recommended=recommended,
        documentation_url=url,
        default_severity=severity,
    )


def _adjust(rule: Rule, change: Any, display: str) -> Rule:
    if change is True:
        return replace(rule, severity=rule.default_severity)
    if change is False:
        return replace(rule, severity=None)
    if isinstance(change, dict):
        if "severity" in change:
            return replace(rule, severity=_severity(change["severity"], display, rule.name))
        return rule
    return replace(rule, severity=_severity(change, display, rule.name))


def _overrides(entry: Any, folder: Path, display: str) -> list[Override]:
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
        raise InputError(display, "every override needs a 'files' list")
    severities: dict[str, Level | None] = {}
    for name, change in (entry.get("rules") or {}).items():
        if isinstance(change, dict):
            raise InputError(
                display, f"override of {name!r}: only severity changes are supported in overrides"
            )
        severities[str(name)] = (
            None
            if change is False
            else _severity(change, display, str(name))
            if change is not True
            else Level.WARNING
        )
    found = []
    for pattern in entry["files"]:
        glob, _, pointer = str(pattern).partition("#")
        absolute = glob if Path(glob).is_absolute() else (folder / glob).as_posix()
        found.append(Override(absolute, pointer if pointer else None, severities))
    return found


def _import_function(spec: str, display: str) -> RuleFunction:
    module_name, _, attribute = spec.rpartition(":")
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise InputError(display, f"cannot import function {spec!r}: {error}") from None
    if not callable(function):
        raise InputError(display, f"{spec!r} is not callable")
    return function  # type: ignore[no-any-return]


def document_formats(version: str) -> frozenset[str]:
    """Spectral's format names for a document's OpenAPI version."""
    if version.startswith("2."):
        return frozenset({"oas2"})
    if version.startswith("3.0"):
        return frozenset({"oas3", "oas3_0"})
    if version.startswith("3.1"):
        return frozenset({"oas3", "oas3_1"})
    return frozenset({"oas3"})
