"""The human-readable format: one line per finding, grouped by file, then a summary line.

    orders/openapi.yaml:57:9  error    response-property-removed  total was removed  [GET /o]

Reports of changes (`diff`, `changelog`) are grouped by operation instead, operations with
breaking changes first, and end with a count of changes by kind:

    GET /orders/{orderId}
      error    orders/openapi.yaml:57:9  response-property-removed  breaks billing (1 ...

    1 breaking, 0 warnings, 0 other changes in 1 operation

Plain output is ASCII apart from what the findings themselves contain; with `color=True` the same
text carries ANSI SGR codes around its styled parts, so stripping them gives the plain output.
(The styles are a handful of fixed SGR codes: importing rich for them cost every command about
20 ms of start-up.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from apigov.findings import Finding, Level, Report
from apigov.report._common import (
    by_level,
    extras,
    indent_continuation,
    location_label,
    plural,
    printable,
    summary_sentence,
)

# Long paths or ids should not push every other line far to the right.
_MAX_LOCATION_WIDTH = 48
_MAX_ID_WIDTH = 40
_SEPARATOR = "  "

# SGR parameters: 1 bold, 2 dim, 31 red, 32 green, 33 yellow, 35 magenta, 36 cyan.
_BOLD, _DIM, _GREEN, _MAGENTA = "1", "2", "32", "35"
_LEVEL_STYLES = {
    Level.ERROR: "1;31",
    Level.WARNING: "33",
    Level.INFO: "36",
}
# Commands whose findings are changes between two documents, grouped by operation.
CHANGE_COMMANDS = frozenset({"diff", "changelog"})
API_WIDE = "API-wide changes"


def is_change_report(report: Report) -> bool:
    return report.command in CHANGE_COMMANDS


class Group(NamedTuple):
    """The changes of one operation (`operation` None: of the API as a whole). `service` is
    set when the report compares several services' documents (`diff --base-ref`)."""

    service: str | None
    operation: str | None
    findings: list[Finding]

    @property
    def heading(self) -> str:
        prefix = f"{self.service}: " if self.service else ""
        return prefix + (self.operation or API_WIDE)


def group_by_operation(findings: Iterable[Finding]) -> list[Group]:
    """Findings by operation, the most serious first.

    Operations are ordered by their worst level, then by how many findings they have at that
    level, then by name; the API-wide group comes after operations of the same worst level.
    Within a group, findings keep their incoming order within each level, errors first.
    """
    listed = list(findings)
    # Findings without a service (API-wide ones may have none) do not make a second service.
    several = len({f.service for f in listed if f.service}) > 1
    groups: dict[tuple[str | None, str | None], list[Finding]] = {}
    for finding in listed:
        service = (finding.service or "") if several else None
        groups.setdefault((service, finding.operation), []).append(finding)

    def key(item: tuple[tuple[str | None, str | None], list[Finding]]) -> tuple[Any, ...]:
        (service, operation), members = item
        worst = max(f.level.rank for f in members)
        return (
            -worst,
            -sum(f.level.rank == worst for f in members),
            operation is None,
            service or "",
            operation or "",
        )

    return [
        Group(service, operation, by_level(members))
        for (service, operation), members in sorted(groups.items(), key=key)
    ]


def group_consumers(findings: Iterable[Finding]) -> list[str]:
    """Every consumer affected by some finding of a group, in the order first named."""
    return list(dict.fromkeys(c for f in findings for c in f.consumers))


def change_summary(report: Report) -> str:
    """`3 breaking, 2 warnings, 14 other changes in 9 operations` (no final period)."""
    summary = report.summary()
    operations = len({f.operation for f in report.findings if f.operation is not None})
    other = summary[Level.INFO.value]
    warnings = plural(summary[Level.WARNING.value], "warning")
    others = f"{other} other {'change' if other == 1 else 'changes'}"
    return (
        f"{summary[Level.ERROR.value]} breaking, {warnings}, {others} "
        f"in {plural(operations, 'operation')}"
    )


def render(report: Report, *, color: bool = False) -> str:
    """The report as text; ANSI-styled when `color` is True."""
    lines = _lines(report)
    if not color:
        return "".join(line.plain + "\n" for line in lines)
    return "".join(line.ansi() + "\n" for line in lines)


class Text:
    """One output line as parts, each with an SGR style ("" for none)."""

    __slots__ = ("parts",)

    def __init__(self, text: str = "", style: str = "") -> None:
        self.parts: list[tuple[str, str]] = [(text, style)] if text else []

    @classmethod
    def of(cls, parts: list[tuple[str, str]]) -> Text:
        """A line of these (text, style) parts, as they are."""
        line = cls()
        line.parts = parts
        return line

    def append(self, text: str, style: str = "") -> None:
        if text:
            self.parts.append((text, style))

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.parts)

    def ansi(self) -> str:
        return "".join(
            f"\x1b[{style}m{text}\x1b[0m" if style else text for text, style in self.parts
        )


def _lines(report: Report) -> list[Text]:
    findings = report.sorted_findings()
    if not findings:
        return [Text(summary_sentence(report) + ".", style=_GREEN)]
    if is_change_report(report):
        return _change_lines(report, findings)

    location_width = min(max(len(_location(f)) for f in findings), _MAX_LOCATION_WIDTH)
    level_width = max(len(level.value) for level in Level)
    id_width = min(max(len(printable(f.id)) for f in findings), _MAX_ID_WIDTH)
    message_indent = " " * (location_width + level_width + id_width + 3 * len(_SEPARATOR))

    lines: list[Text] = []
    previous_file: str | None = None
    for finding in findings:
        file = finding.location.file if finding.location else ""
        if previous_file is not None and file != previous_file:
            lines.append(Text(""))
        previous_file = file
        lines.append(_finding_line(finding, location_width, level_width, id_width, message_indent))

    lines.append(Text(""))
    worst = report.worst()
    lines.append(Text(summary_sentence(report), style=_LEVEL_STYLES[worst] if worst else ""))
    return lines


def _change_lines(report: Report, findings: list[Finding]) -> list[Text]:
    """Changes grouped by operation: a heading per operation, one indented line per change."""
    level_width = max(len(level.value) for level in Level)
    # Each finding's location and id as shown, worked out once (for the widths and the lines).
    shown = {id(f): (_location(f), printable(f.id)) for f in findings}
    levels = {level: (level.value.ljust(level_width), _LEVEL_STYLES[level]) for level in Level}
    location_width = min(max(len(loc) for loc, _ in shown.values()), _MAX_LOCATION_WIDTH)
    id_width = min(max(len(cid) for _, cid in shown.values()), _MAX_ID_WIDTH)
    indent = "  "
    message_indent = " " * (
        len(indent) + level_width + location_width + id_width + 3 * len(_SEPARATOR)
    )
    lines: list[Text] = []
    for group in group_by_operation(findings):
        members = group.findings
        if lines:
            lines.append(Text(""))
        heading = Text(printable(group.heading), style=_BOLD)
        consumers = group_consumers(members)
        if consumers:
            heading.append(printable(f"  consumers: {', '.join(consumers)}"), style=_MAGENTA)
        lines.append(heading)
        for finding in members:
            location, change_id = shown[id(finding)]
            message = printable(indent_continuation(finding.message, message_indent))
            parts = [
                (indent, ""),
                levels[finding.level],
                (_SEPARATOR + location.ljust(location_width) + _SEPARATOR, ""),
                (change_id.ljust(id_width), _DIM),
                (_SEPARATOR + message, ""),
            ]
            lines.append(Text.of(parts))
    lines.append(Text(""))
    worst = report.worst()
    lines.append(Text(change_summary(report), style=_LEVEL_STYLES[worst] if worst else ""))
    return lines


def _finding_line(
    finding: Finding, location_width: int, level_width: int, id_width: int, message_indent: str
) -> Text:
    line = Text()
    line.append(_location(finding).ljust(location_width), style=_BOLD)
    line.append(_SEPARATOR)
    line.append(finding.level.value.ljust(level_width), style=_LEVEL_STYLES[finding.level])
    line.append(_SEPARATOR)
    line.append(printable(finding.id).ljust(id_width), style=_DIM)
    line.append(_SEPARATOR)
    line.append(printable(indent_continuation(finding.message, message_indent)))
    tail = printable(extras(finding))
    if tail:
        line.append(tail, style=_MAGENTA)
    return line


def _location(finding: Finding) -> str:
    return printable(location_label(finding.location))
