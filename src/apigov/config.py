"""Project configuration: `apigov.yaml` (or `[tool.apigov]` in pyproject.toml), found once.

Discovery: an explicit `--config FILE`, else the nearest `apigov.yaml` / `apigov.yml` /
`pyproject.toml` with a `[tool.apigov]` table, looking from the working folder up to the top
of its git work tree (never above it, so a stray file in a home folder cannot steer a CI run).
No file at all is fine: every setting has a default.

The file is small and hand-written, so it is parsed with the same hostile-input limits as
contracts, and every problem is one line naming the file, the line and the key.
Capabilities read their own section with `Config.section(name)`; the settings several of them
share (contracts folder, registry, fail-on, environments, gate policy) are typed fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.parse import parse_bytes
from apigov.spec.sources import display_name, git_top, read_file

CONFIG_NAMES = ("apigov.yaml", "apigov.yml")
PYPROJECT = "pyproject.toml"
FAIL_ON_LEVELS = ("error", "warning", "info", "never")
# A configuration file is a few kilobytes; anything near this is a mistake or an attack.
_CONFIG_LIMITS = Limits(max_bytes=1024 * 1024, max_depth=64)


@functools.cache
def _maybe_tool_apigov() -> re.Pattern[str]:
    """The only ways TOML can spell a `[tool.apigov]` table: a `[tool.apigov...]` or `[[...]]`
    header, keys under a `[tool]` header, or a top-level `tool.apigov... =` / `tool = {...}`
    key (names may be quoted). A pyproject.toml with none of these lines is not parsed at all.

    Compiled on first use: a run that meets no pyproject.toml on its way up to the git work
    tree's top does not pay the 1.2 million instructions of compiling it.
    """
    return re.compile(
        r"""(?m)^[ \t]*(?:\[\[?[ \t]*["']?tool["']?[ \t]*(?:\]|\.[ \t]*["']?apigov)"""
        r"""|["']?tool["']?[ \t]*[.=])"""
    )


_KNOWN_KEYS = frozenset(
    {
        "contracts",
        "registry",
        "fail-on",
        "environments",
        "lint",
        "diff",
        "can-i-deploy",
        "fleet",
        "fuzz",
        "check",
        "verify",
    }
)


class EnvironmentSetting(Struct, frozen=True):
    """An environment the fleet deploys to; `production` guards destructive fuzzing."""

    name: str
    production: bool = False


class Config(Struct, frozen=True):
    """Settings for one run. `file` is None when no configuration file was found."""

    file: Path | None
    root: Path
    contracts: Path
    registry: str | None = None
    fail_on: str | None = None
    environments: tuple[EnvironmentSetting, ...] = ()
    gate_require: tuple[str, ...] = ()
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_name(self.file) if self.file else "(defaults)"

    def section(self, name: str) -> Mapping[str, Any]:
        """The raw mapping under a top-level key (`lint`, `diff`, `fuzz`, ...), empty if absent."""
        return self.sections.get(name, {})

    def path(self, value: str | Path) -> Path:
        """A path from the file, relative to the folder holding it."""
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    def is_production(self, environment: str) -> bool:
        return any(env.name == environment and env.production for env in self.environments)


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest configuration file from `start` up to the git work tree's top."""
    here = (start or Path.cwd()).resolve()
    top = git_top(here)
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if top is None or folder == top:
            break
    return None


def load_config(explicit: Path | str | None = None, *, start: Path | None = None) -> Config:
    """Read the configuration: `explicit` if given (it must exist), else the discovered file."""
    if explicit is not None:
        given = Path(explicit)
        if not given.is_file():
            raise InputError(str(explicit), "no such configuration file")
        return _parse_config(given)
    file = find_config_file(start)
    if file is None:
        root = (start or Path.cwd()).resolve()
        return Config(file=None, root=root, contracts=root / "contracts")
    return _parse_config(file)


def _has_settings(raw: bytes) -> bool:
    for line in raw.decode("utf-8", errors="replace").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            return True
    return False


def _has_tool_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if _maybe_tool_apigov().search(text) is None:
        return False
    import tomllib  # only for a pyproject.toml that may hold the table: 5 ms of start-up

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # Someone else's pyproject.toml that we cannot read is not our configuration.
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("apigov"), dict)


def _parse_config(file: Path) -> Config:
    name = display_name(file)
    raw = read_file(file, _CONFIG_LIMITS, name)
    if file.name == PYPROJECT:
        import tomllib

        try:
            data: Any = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise InputError(name, f"not valid TOML: {error}") from None
        tool = data.get("tool") if isinstance(data, dict) else None
        data = tool.get("apigov") if isinstance(tool, dict) else None
        where = "[tool.apigov]"
        if data is None:
            raise InputError(name, "has no [tool.apigov] table")
    else:
        where = ""
        # A starter file with every line commented out is a valid, empty configuration.
        data = parse_bytes(raw, name, _CONFIG_LIMITS).data if _has_settings(raw) else {}
    reader = _Reader(file, name, where)
    return reader.config(data)


class _Reader:
    """Turns the raw mapping into a `Config`, with one precise message per mistake."""

    def __init__(self, file: Path, name: str, where: str) -> None:
        self.file = file
        self.name = name
        self.where = where
        self.root = file.resolve().parent

    def fail(self, key: str, message: str) -> InputError:
        pointer = "/" + key.replace(".", "/") if not self.where else None
        place = f"{self.where}.{key}" if self.where else key
        return InputError(self.name, f"{place}: {message}", pointer=pointer)

    def config(self, data: Any) -> Config:
        if not isinstance(data, dict):
            raise InputError(self.name, "the configuration must be a mapping of settings")
        unknown = sorted(set(data) - _KNOWN_KEYS)
        if unknown:
            known = ", ".join(sorted(_KNOWN_KEYS))
            raise self.fail(unknown[0], f"unknown setting (known: {known})")
        sections: dict[str, Mapping[str, Any]] = {}
        for key in ("lint", "diff", "can-i-deploy", "fleet", "fuzz", "check", "verify"):
            value = data.get(key, {})
            if not isinstance(value, dict):
                raise self.fail(key, "must be a mapping")
            sections[key] = value
        contracts = self.text(data, "contracts") or "contracts"
        fail_on = self.text(data, "fail-on")
        if fail_on is not None and fail_on not in FAIL_ON_LEVELS:
            raise self.fail("fail-on", f"must be one of {', '.join(FAIL_ON_LEVELS)}")
        require = sections["can-i-deploy"].get("require", [])
        if not isinstance(require, list) or not all(isinstance(item, str) for item in require):
            raise self.fail("can-i-deploy.require", "must be a list of evidence names")
        return Config(
            file=self.file,
            root=self.root,
            contracts=(self.root / contracts)
            if not Path(contracts).is_absolute()
            else Path(contracts),
            registry=self.text(data, "registry"),
            fail_on=fail_on,
            environments=self.environments(data.get("environments", [])),
            gate_require=tuple(require),
            sections=sections,
        )

    def text(self, data: dict[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def environments(self, value: Any) -> tuple[EnvironmentSetting, ...]:
        if not isinstance(value, list):
            raise self.fail("environments", "must be a list of names or {name, production}")
        found: list[EnvironmentSetting] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item:
                found.append(EnvironmentSetting(item))
            elif isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
                production = item.get("production", False)
                if not isinstance(production, bool):
                    raise self.fail(f"environments.{index}.production", "must be true or false")
                found.append(EnvironmentSetting(item["name"], production))
            else:
                raise self.fail(f"environments.{index}", "must be a name or {name, production}")
        names = [env.name for env in found]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise self.fail("environments", f"{duplicates[0]!r} is listed twice")
        return tuple(found)
