"""Rulesets as data: Spectral's `.spectral.yaml` / `.spectral.json` format, loaded and merged.

Supported: `extends` (built-in names `spectral:oas`, `apigov:oas`, `apigov:recommended`, and
files, each optionally as `[name, recommended|all|off]`), `rules` (full definitions; or a
severity / `true` / `false` / a partial definition changing an inherited rule), `formats`,
`aliases` (lists of paths, or `targets` scoped by format), `overrides`, `documentationUrl`, and
`functions` (apigov's way to name custom Python functions: `module.path:callable`).

Overrides follow Spectral: only the top ruleset's count (an extended ruleset's are ignored). An
override whose `files` are globs is a ruleset fragment (`rules` with severities or full or
partial definitions, `extends`, `aliases`, `formats`) applied to the documents it matches, as a
ruleset extending the top one would be (`Ruleset.for_file`). Patterns with a `#/json/pointer`
change severities only, for findings at or below the pointer (the longest pointer wins).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import marshal
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field, structs

from apigov.findings import Level
from apigov.lint.context import RuleFunction
from apigov.lint.functions.core import CORE_FUNCTIONS
from apigov.lint.functions.governance import GOVERNANCE_FUNCTIONS
from apigov.lint.functions.oas import OAS_FUNCTIONS
from apigov.lint.globs import glob_matches
from apigov.spec.errors import InputError
from apigov.spec.limits import DEFAULT_LIMITS
from apigov.spec.parse import parse_bytes

BUILTIN_RULESETS = {
    "spectral:oas": "oas.yaml",
    "apigov:oas": "oas.yaml",
    "apigov:recommended": "recommended.yaml",
}
RULESETS_FOLDER = Path(__file__).resolve().parent / "rulesets"
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


class Then(Struct, frozen=True):
    function_name: str
    function: RuleFunction
    field: str | None = None
    options: Any = None


class Rule(Struct, frozen=True):
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
    builtin: bool = False
    """Defined by one of apigov's own rulesets (documented in docs/lint-rules.md)."""
    definition: Mapping[str, Any] = field(default_factory=dict)
    """The definition as written, so a later partial definition can be merged into it."""


class AliasTarget(Struct, frozen=True):
    given: tuple[str, ...]
    formats: frozenset[str] | None = None


class Override(Struct, frozen=True):
    """A severity change for a place (JSON pointer) in some files (glob)."""

    pattern: str
    pointer: str
    severities: Mapping[str, Level | None]


class FileOverride(Struct, frozen=True):
    """A ruleset fragment for the documents some globs match (absolute glob patterns)."""

    patterns: tuple[str, ...]
    definition: Mapping[str, Any]


class Ruleset(Struct):
    rules: dict[str, Rule] = field(default_factory=dict)
    aliases: dict[str, tuple[AliasTarget, ...]] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    """Severity changes by file and pointer, applied to each finding."""
    file_overrides: list[FileOverride] = field(default_factory=list)
    """Ruleset fragments by file, applied to a document before it is linted (`for_file`)."""
    sources: list[str] = field(default_factory=list)
    """Where this ruleset came from (names and files), for messages."""
    folder: Path | None = None
    """The folder of the top ruleset file (overrides' globs and files are relative to it)."""
    functions: dict[str, RuleFunction] = field(default_factory=dict)
    """Functions the top ruleset's own rules (and its overrides) may name."""
    definition: Mapping[str, Any] = field(default_factory=dict)
    """The top ruleset file as written."""
    _for_files: dict[tuple[int, ...], Ruleset] = field(default_factory=dict)

    def enabled(self) -> list[Rule]:
        """Rules that run: on, or turned on for some place by a pointer override."""
        named = {
            name
            for override in self.overrides
            for name, severity in override.severities.items()
            if severity is not None
        }
        return [
            rule for rule in self.rules.values() if rule.severity is not None or rule.name in named
        ]

    def severity_for(self, rule: Rule, file: str, pointer: str) -> Level | None:
        """The rule's severity for one finding: the override with the longest pointer at or
        above the finding's place wins (as in Spectral), else the rule's own."""
        severity = rule.severity
        closest = -1
        for override in self.overrides:
            if rule.name not in override.severities:
                continue
            if not (pointer == override.pointer or pointer.startswith(override.pointer + "/")):
                continue
            if len(override.pointer) < closest or not _glob_match(override.pattern, file):
                continue
            closest = len(override.pointer)
            severity = override.severities[rule.name]
        return severity

    def for_file(self, file: str) -> Ruleset:
        """The ruleset for one document: this one, with every file override matching it."""
        matching = tuple(
            index
            for index, override in enumerate(self.file_overrides)
            if any(_glob_match(pattern, file) for pattern in override.patterns)
        )
        if not matching:
            return self
        found = self._for_files.get(matching)
        if found is None:
            found = _apply_file_overrides(self, [self.file_overrides[i] for i in matching])
            self._for_files[matching] = found
        return found


def _glob_match(pattern: str, file: str) -> bool:
    """The override's absolute glob against the document's absolute path, as given and with
    links resolved (a contracts folder reached through a symbolic link still matches)."""
    given = Path(os.path.abspath(file)).as_posix()  # noqa: PTH100 (keeps links unresolved)
    return glob_matches(pattern, given) or glob_matches(pattern, Path(file).resolve().as_posix())


def builtin_path(name: str) -> Path:
    # Package data beside this module (apigov is installed as files, never zipped): no
    # importlib.resources, whose import costs more than reading the ruleset.
    return RULESETS_FOLDER / BUILTIN_RULESETS[name]


def load_ruleset(reference: str, base: Path | None = None) -> Ruleset:
    """A built-in name or a ruleset file, with everything it extends merged in."""
    ruleset = _Loader().load(reference, base or Path.cwd(), mode="all", top=True)
    for override in ruleset.file_overrides:
        # Mistakes in an override's rules are found now, not when a document first matches it.
        _apply_file_overrides(ruleset, [override])
    return ruleset


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
            builtin = reference in BUILTIN_RULESETS
            data = read_cached(path, display) if builtin else _read(path, display)
            ruleset = self._build(data, path.parent, display, builtin=builtin)
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

    def _build(self, data: Any, folder: Path, display: str, *, builtin: bool = False) -> Ruleset:
        if not isinstance(data, dict):
            raise InputError(display, "a ruleset must be a mapping")
        merged = Ruleset(sources=[display], folder=folder, definition=data)
        self.extend(merged, data.get("extends"), folder, display)
        functions = dict(BUILTIN_FUNCTIONS)
        for spec in _as_list(data.get("functions")):
            if isinstance(spec, str) and ":" in spec:
                functions[spec.rsplit(":", 1)[1]] = _import_function(spec, display)
        merged.functions = functions
        _apply_definition(merged, data, functions, display, builtin=builtin)
        for override in _as_list(data.get("overrides")):
            pointers, files = _overrides(override, folder, display)
            merged.overrides.extend(pointers)
            if files is not None:
                merged.file_overrides.append(files)
        return merged

    def extend(self, ruleset: Ruleset, extends: Any, folder: Path, display: str) -> None:
        """Merge in every ruleset `extends` names (their overrides are ignored, as in Spectral)."""
        for entry in _as_list(extends):
            name, mode = _extends_entry(entry, display)
            inherited = self.load(name, folder, mode=mode)
            ruleset.rules.update(inherited.rules)
            ruleset.aliases.update(inherited.aliases)
            ruleset.sources.extend(inherited.sources)


def _apply_definition(
    ruleset: Ruleset,
    data: Mapping[str, Any],
    functions: dict[str, RuleFunction],
    display: str,
    *,
    builtin: bool = False,
) -> None:
    """A ruleset's own `aliases` and `rules` on top of what it extends."""
    formats = _formats(data.get("formats"), display)
    documentation = data.get("documentationUrl")
    aliases = data.get("aliases") or {}
    rules = data.get("rules") or {}
    if not isinstance(aliases, dict) or not isinstance(rules, dict):
        raise InputError(display, "'aliases' and 'rules' must be mappings")
    for name, definition in aliases.items():
        ruleset.aliases[str(name)] = _alias(definition, display, str(name))
    for name, definition in rules.items():
        name = str(name)
        existing = ruleset.rules.get(name)
        if isinstance(definition, dict) and existing is not None:
            ruleset.rules[name] = _merge(existing, definition, functions, documentation, display)
        elif isinstance(definition, dict):
            ruleset.rules[name] = _rule(
                name, definition, functions, formats, documentation, display, builtin=builtin
            )
        elif existing is not None:
            ruleset.rules[name] = _adjust(existing, definition, display)
        else:
            raise InputError(display, f"rule {name!r} changes a rule no ruleset defines")


def _apply_file_overrides(base: Ruleset, overrides: list[FileOverride]) -> Ruleset:
    """`base` with the fragments of the overrides matching one document, as Spectral does it:
    the fragments merge first (for one rule name the later entry wins, whole), then apply as a
    ruleset extending `base` (whose own rules win over anything the fragments extend)."""
    display = base.sources[0] if base.sources else "ruleset"
    rules: dict[str, Any] = {}
    aliases: dict[str, Any] = {}
    # Ruleset-wide keys of the top ruleset hold unless an override gives its own.
    merged: dict[str, Any] = {
        key: base.definition[key]
        for key in ("formats", "documentationUrl")
        if key in base.definition
    }
    for override in overrides:
        rules.update(override.definition.get("rules") or {})
        aliases.update(override.definition.get("aliases") or {})
        for key in ("extends", "formats", "documentationUrl"):
            if key in override.definition:
                merged[key] = override.definition[key]
    result = structs.replace(
        base,
        rules={},
        aliases={},
        overrides=list(base.overrides),
        file_overrides=[],
        sources=list(base.sources),
        _for_files={},
    )
    folder = base.folder or Path.cwd()
    _Loader().extend(result, merged.get("extends"), folder, display)
    result.rules.update(base.rules)
    result.aliases.update(base.aliases)
    _apply_definition(
        result, {**merged, "rules": rules, "aliases": aliases}, base.functions, display
    )
    return result


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


_CACHE_FORMAT = 1


def read_cached(path: Path, display: str) -> Any:
    """A ruleset file's data, kept parsed beside Python's compiled modules (and like them: in
    `__pycache__` or under `sys.pycache_prefix`, valid while the file keeps its size and time,
    not written when Python writes no bytecode). For the built-in rulesets, read on every run:
    parsing their YAML was about 2% of linting a small document, and a JSON document needs no
    YAML parser otherwise."""
    try:
        stat = path.stat()
        cache = _cache_path(path)
    except (OSError, ValueError, NotImplementedError):
        return _read(path, display)
    stamp = (_CACHE_FORMAT, stat.st_size, stat.st_mtime_ns)
    try:
        cached = marshal.loads(cache.read_bytes())
        if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == stamp:
            return cached[1]
    except (OSError, ValueError, EOFError, TypeError):
        pass  # absent, or not this Python's: parsed again below
    data = _read(path, display)
    if not sys.dont_write_bytecode:
        # Written whole or not at all: another run may be reading the same file.
        temporary = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(marshal.dumps((stamp, data)))
            temporary.replace(cache)
        except (OSError, ValueError):  # a read-only installation, or data marshal refuses
            with contextlib.suppress(OSError):
                temporary.unlink()
    return data


def _cache_path(path: Path) -> Path:
    # Where Python would keep a module compiled from this folder; the name says which Python.
    module = importlib.util.cache_from_source(str(path.with_suffix(".py")))
    return Path(module).with_name(f"{path.name}.{sys.implementation.cache_tag}.marshal")


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
    """An extended ruleset as its `extends` entry asks; its overrides are dropped (Spectral
    applies only the top ruleset's)."""
    if mode == "all":
        rules = {
            name: structs.replace(rule, severity=rule.default_severity)
            if rule.severity is None and not rule.recommended
            else rule
            for name, rule in ruleset.rules.items()
        }
    elif mode == "off":
        rules = {name: structs.replace(rule, severity=None) for name, rule in ruleset.rules.items()}
    else:
        rules = dict(ruleset.rules)
    return Ruleset(rules, dict(ruleset.aliases), sources=list(ruleset.sources))


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
    *,
    builtin: bool = False,
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
        definition=definition,
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
        builtin=builtin,
    )


def _adjust(rule: Rule, change: Any, display: str) -> Rule:
    if change is True:
        return structs.replace(rule, severity=rule.default_severity)
    if change is False:
        return structs.replace(rule, severity=None)
    return structs.replace(rule, severity=_severity(change, display, rule.name))


def _merge(
    rule: Rule,
    change: Mapping[str, Any],
    functions: dict[str, RuleFunction],
    documentation: Any,
    display: str,
) -> Rule:
    """A definition given for a rule that exists changes only the keys it names (Spectral's
    merge), and turns the rule on."""
    known = {then.function_name: then.function for then in rule.then}
    definition = {**rule.definition, **change}
    rebuilt = _rule(rule.name, definition, {**known, **functions}, rule.formats, None, display)
    if "severity" in change:
        severity = rebuilt.default_severity
    else:
        severity = rule.severity if rule.severity is not None else rule.default_severity
    url = rule.documentation_url
    if isinstance(change.get("documentationUrl"), str):
        url = change["documentationUrl"]
    elif url is None and isinstance(documentation, str):
        url = f"{documentation}#{rule.name}"
    return structs.replace(
        rebuilt,
        severity=severity,
        default_severity=severity if "severity" in change else rule.default_severity,
        documentation_url=url,
        # A rule whose check is redefined is the ruleset's own, no longer the built-in one.
        builtin=rule.builtin and "given" not in change and "then" not in change,
    )


def _overrides(
    entry: Any, folder: Path, display: str
) -> tuple[list[Override], FileOverride | None]:
    """One `overrides` entry: severity changes at pointers, and a fragment for whole files."""
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
        raise InputError(display, "every override needs a 'files' list")
    rules = entry.get("rules") or {}
    if not isinstance(rules, dict):
        raise InputError(display, "an override's 'rules' must be a mapping")
    globs: list[str] = []
    pointers: list[Override] = []
    severities: dict[str, Level | None] | None = None
    for pattern in entry["files"]:
        glob, hash_sign, pointer = str(pattern).partition("#")
        absolute = glob if Path(glob).is_absolute() else (folder / glob).as_posix()
        if not hash_sign:
            globs.append(absolute)
            continue
        if severities is None:
            severities = _pointer_severities(rules, display)
        pointers.append(Override(absolute, pointer, severities))
    definition = {key: value for key, value in entry.items() if key != "files"}
    return pointers, FileOverride(tuple(globs), definition) if globs else None


def _pointer_severities(rules: Mapping[str, Any], display: str) -> dict[str, Level | None]:
    severities: dict[str, Level | None] = {}
    for name, change in rules.items():
        if isinstance(change, dict):
            raise InputError(
                display,
                f"override of {name!r}: a 'file#/pointer' override can only change severities",
            )
        severities[str(name)] = (
            None
            if change is False
            else _severity(change, display, str(name))
            if change is not True
            else Level.WARNING
        )
    return severities


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
