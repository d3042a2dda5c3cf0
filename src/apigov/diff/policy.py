"""The breaking-change policy (rules/breaking.yaml): level overrides, exceptions, ignores.

    levels:                      # per id: error | warning | info | off
      response-optional-property-removed: error
    exceptions:                  # never report these ids for these paths/operations
      - ids: [request-*-parameter-removed]
        paths: [/internal/*]
        reason: internal endpoints have no outside clients
    ignore:                      # accepted changes: a reason and an expiry date are required
      - id: response-success-status-removed
        operation: DELETE /orders/{orderId}
        reason: replaced by 204, agreed with billing
        expires: 2026-12-31

    consumer-aware: true         # with --consumers: a breaking change no consumer uses
                                 # is a warning
    sunset-notice:               # days from the change that sets an x-sunset date to that
      stable: 180                # date, by the operation's x-stability-level (stable also
      beta: 31                   # for operations without one); fewer is `...-sunset-too-soon`

An ignore entry that has expired stops hiding its change. Ids and paths may use `*` globs.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct, field

from apigov.diff.changes import Change
from apigov.diff.levels import LEVELS
from apigov.findings import Level
from apigov.spec.errors import InputError

OFF = "off"


class Exemption(Struct, frozen=True):
    ids: tuple[str, ...]
    paths: tuple[str, ...]
    operations: tuple[str, ...]

    def matches(self, change: Change) -> bool:
        if not any(fnmatch.fnmatchcase(change.id, pattern) for pattern in self.ids):
            return False
        if self.paths and not (
            change.path is not None
            and any(fnmatch.fnmatchcase(change.path, pattern) for pattern in self.paths)
        ):
            return False
        return not self.operations or change.operation in self.operations


class Ignore(Struct, frozen=True):
    id: str
    operation: str | None
    path: str | None
    reason: str
    expires: dt.date

    def matches(self, change: Change) -> bool:
        if not fnmatch.fnmatchcase(change.id, self.id):
            return False
        if self.operation is not None and change.operation != self.operation:
            return False
        return self.path is None or (
            change.path is not None and fnmatch.fnmatchcase(change.path, self.path)
        )


class SunsetNotice(Struct, frozen=True):
    """The least number of days between a change that sets an `x-sunset` date (a deprecation,
    or a sunset moved earlier) and that date, per stability level (`x-stability-level` of the
    operation; none counts as stable). The defaults are oasdiff's (`--deprecation-days-stable`
    180, `--deprecation-days-beta` 31).
    """

    stable: int = 180
    beta: int = 31
    alpha: int = 0
    draft: int = 0

    def days(self, stability: Any) -> int:
        """The notice an element of an operation at `stability` needs."""
        if stability == "beta":
            return self.beta
        if stability == "alpha":
            return self.alpha
        if stability == "draft":
            return self.draft
        return self.stable


_STABILITY_LEVELS = ("stable", "beta", "alpha", "draft")


class Policy(Struct, frozen=True):
    levels: Mapping[str, str] = field(default_factory=dict)
    exceptions: tuple[Exemption, ...] = ()
    ignores: tuple[Ignore, ...] = ()
    consumer_aware: bool = False
    """With consumer contracts at hand, a breaking change that no consumer uses is a warning."""
    sunset_notice: SunsetNotice | None = None
    """None: the default notice (`SunsetNotice()`)."""

    def apply(self, changes: Iterable[Change], today: dt.date) -> list[Change]:
        kept: list[Change] = []
        for change in changes:
            level = self.levels.get(change.id)
            if level == OFF:
                continue
            if any(exception.matches(change) for exception in self.exceptions):
                continue
            if any(i.matches(change) and i.expires >= today for i in self.ignores):
                continue
            kept.append(change.with_level(Level(level)) if level is not None else change)
        return kept

    def merged(self, other: Policy) -> Policy:
        return Policy(
            {**self.levels, **other.levels},
            self.exceptions + other.exceptions,
            self.ignores + other.ignores,
            self.consumer_aware or other.consumer_aware,
            other.sunset_notice or self.sunset_notice,
        )


def _strings(value: Any, file: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(file, f"{where} must be a string or a list of strings", pointer=where)


def _date(value: Any, file: str, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(file, f"{where}: expires must be a date like 2026-12-31", pointer=where)


def policy_from_data(data: Any, file: str) -> Policy:
    """Build a policy from parsed YAML/JSON; any mistake is an `InputError` naming the place."""
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise InputError(
            file,
            "a policy must be a mapping with levels, exceptions, ignore, consumer-aware, "
            "sunset-notice",
        )
    unknown = set(data) - {"levels", "exceptions", "ignore", "consumer-aware", "sunset-notice"}
    if unknown:
        raise InputError(file, f"unknown policy key(s): {', '.join(sorted(unknown))}")
    levels: dict[str, str] = {}
    for change_id, level in (data.get("levels") or {}).items():
        where = f"/levels/{change_id}"
        if change_id not in LEVELS:
            raise InputError(file, f"unknown change id {change_id!r}", pointer=where)
        if level not in ("error", "warning", "info", OFF):
            raise InputError(
                file, f"level of {change_id} must be error, warning, info or off", pointer=where
            )
        levels[change_id] = level
    exceptions: list[Exemption] = []
    for index, entry in enumerate(data.get("exceptions") or []):
        where = f"/exceptions/{index}"
        if not isinstance(entry, dict) or "ids" not in entry:
            raise InputError(file, f"{where}: an exception needs 'ids'", pointer=where)
        if not entry.get("reason"):
            raise InputError(file, f"{where}: an exception needs a 'reason'", pointer=where)
        exceptions.append(
            Exemption(
                _strings(entry.get("ids"), file, f"{where}/ids"),
                _strings(entry.get("paths"), file, f"{where}/paths"),
                _strings(entry.get("operations"), file, f"{where}/operations"),
            )
        )
    consumer_aware = data.get("consumer-aware", False)
    if not isinstance(consumer_aware, bool):
        raise InputError(file, "consumer-aware must be true or false", pointer="/consumer-aware")
    return Policy(
        levels,
        tuple(exceptions),
        ignores_from_data(data.get("ignore") or [], file),
        consumer_aware,
        _sunset_notice(data.get("sunset-notice"), file) if "sunset-notice" in data else None,
    )


def _sunset_notice(value: Any, file: str) -> SunsetNotice:
    where = "/sunset-notice"
    if not isinstance(value, dict):
        raise InputError(
            file,
            "sunset-notice must map stability levels (stable, beta, alpha, draft) to days",
            pointer=where,
        )
    days: dict[str, int] = {}
    for level, count in value.items():
        if level not in _STABILITY_LEVELS:
            raise InputError(
                file,
                f"sunset-notice: unknown stability level {level!r} "
                f"(one of {', '.join(_STABILITY_LEVELS)})",
                pointer=f"{where}/{level}",
            )
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InputError(
                file,
                f"sunset-notice: {level} must be a whole number of days, 0 or more",
                pointer=f"{where}/{level}",
            )
        days[level] = count
    return SunsetNotice(**days)


def ignores_from_data(entries: Any, file: str, prefix: str = "/ignore") -> tuple[Ignore, ...]:
    if isinstance(entries, dict) and "ignore" in entries:
        entries = entries["ignore"]
    if not isinstance(entries, list):
        raise InputError(file, "an ignore file is a list of entries (id, reason, expires)")
    found: list[Ignore] = []
    for index, entry in enumerate(entries):
        where = f"{prefix}/{index}"
        if not isinstance(entry, dict):
            raise InputError(file, f"{where}: an ignore entry must be a mapping", pointer=where)
        missing = [key for key in ("id", "reason", "expires") if not entry.get(key)]
        if missing:
            raise InputError(
                file, f"{where}: an ignore entry needs {', '.join(missing)}", pointer=where
            )
        found.append(
            Ignore(
                str(entry["id"]),
                str(entry["operation"]) if entry.get("operation") else None,
                str(entry["path"]) if entry.get("path") else None,
                str(entry["reason"]),
                _date(entry["expires"], file, where),
            )
        )
    return tuple(found)
