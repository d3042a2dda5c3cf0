"""The one result type every analyzer produces and every reporter consumes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from msgspec import Struct, field


class Level(StrEnum):
    """How serious a finding is. Ordered: error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.ERROR: 3, Level.WARNING: 2, Level.INFO: 1}


class Location(Struct, frozen=True):
    """Where a finding points: a file, a JSON pointer inside it, and its source position."""

    file: str
    pointer: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
        }


class Finding(Struct, frozen=True):
    """One thing an analyzer has to say: a rule or change id, a level and where it applies."""

    id: str
    level: Level
    message: str
    location: Location | None = None
    service: str | None = None
    operation: str | None = None
    consumers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level.value,
            "message": self.message,
            "operation": self.operation,
            "location": self.location.to_dict() if self.location else None,
            "service": self.service,
            "consumers": list(self.consumers),
        }


class RuleInfo(Struct, frozen=True):
    """What a finding id means, for reporters that describe their rules (SARIF).

    Any analyzer with a catalogue (lint rules, diff change ids) can describe its ids this way.
    """

    id: str
    description: str = ""
    help_uri: str | None = None
    """Where a reader learns more about the rule (its documentation page or anchor)."""
    level: Level | None = None
    """The level the rule has unless something (an override) changes it for one finding."""


class Report(Struct):
    """What one command found: the input to every reporter and to the exit-code decision."""

    command: str
    findings: list[Finding] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    """Optional catalogue of the finding ids an analyzer can produce, by id (may be empty)."""

    def sorted_findings(self) -> list[Finding]:
        """Findings in a stable order: by file, line, then level (most serious first), then id."""

        def key(f: Finding) -> tuple[str, int, int, int, str, str]:
            loc = f.location
            return (
                loc.file if loc else "",
                loc.line or 0 if loc else 0,
                loc.column or 0 if loc else 0,
                -f.level.rank,
                f.id,
                f.message,
            )

        return sorted(self.findings, key=key)

    def summary(self) -> dict[str, int]:
        counts = {level.value: 0 for level in Level}
        for finding in self.findings:
            counts[finding.level.value] += 1
        return counts

    def worst(self) -> Level | None:
        return max((f.level for f in self.findings), key=lambda lv: lv.rank, default=None)


FAIL_ON_CHOICES = ("error", "warning", "info", "never")


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when any finding is at or above the `--fail-on` threshold."""
    if fail_on == "never":
        return False
    threshold = Level(fail_on).rank
    return any(f.level.rank >= threshold for f in findings)


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    """Inverse of Finding.to_dict, for reading reports back (baselines, the registry)."""
    loc = data.get("location")
    return Finding(
        id=str(data["id"]),
        level=Level(data["level"]),
        message=str(data["message"]),
        location=Location(
            file=str(loc["file"]),
            pointer=str(loc.get("pointer", "")),
            line=loc.get("line"),
            column=loc.get("column"),
        )
        if loc
        else None,
        service=data.get("service"),
        operation=data.get("operation"),
        consumers=tuple(data.get("consumers") or ()),
    )
