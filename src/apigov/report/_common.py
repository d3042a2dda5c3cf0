"""Small helpers every reporter shares: counting phrases, location labels, line handling."""

from __future__ import annotations

import re
from collections.abc import Iterable

from apigov.findings import Finding, Level, Location, Report


def plural(count: int, noun: str) -> str:
    """`1 error`, `2 errors`; "info" is a mass noun and never takes an s."""
    if noun == "info" or count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}s"


def counts_phrase(report: Report) -> str:
    """`3 errors, 1 warning, 0 info`."""
    summary = report.summary()
    return ", ".join(plural(summary[level.value], level.value) for level in Level)


def documents_phrase(report: Report) -> str:
    """`5 documents` (the number of inputs the command read)."""
    return plural(len(report.inputs), "document")


def summary_sentence(report: Report) -> str:
    """The one-line summary shared by the text and markdown reporters (no final period)."""
    if not report.findings:
        return f"No problems found in {documents_phrase(report)}"
    return f"{counts_phrase(report)} in {documents_phrase(report)}"


def location_label(location: Location | None) -> str:
    """`file:line:col`, `file:line`, `file#/json/pointer` (line unknown) or `file`; `-` if none."""
    if location is None:
        return "-"
    if location.line is None and location.pointer:
        return f"{location.file}#{location.pointer}"
    return str(location)


def position_label(location: Location | None) -> str:
    """The position inside a file: `line:col`, `line`, the JSON pointer, or `-`."""
    if location is None:
        return "-"
    if location.line is not None:
        if location.column is not None:
            return f"{location.line}:{location.column}"
        return str(location.line)
    return location.pointer or "-"


def indent_continuation(text: str, indent: str) -> str:
    """Keep a multi-line message readable: continuation lines start with `indent`."""
    lines = text.splitlines() or [""]
    return ("\n" + indent).join(lines)


def by_level(findings: Iterable[Finding]) -> list[Finding]:
    """Most serious first; a stable sort, so the incoming order is kept within a level."""
    return sorted(findings, key=lambda f: -f.level.rank)


def extras(finding: Finding) -> str:
    """` [GET /orders]  consumers: billing, shipping` (empty when neither is set)."""
    parts: list[str] = []
    if finding.operation:
        parts.append(f"[{finding.operation}]")
    if finding.consumers:
        parts.append("consumers: " + ", ".join(finding.consumers))
    return ("  " + "  ".join(parts)) if parts else ""


# C0 controls but tab and newline, DEL, and C1 controls: a terminal would act on them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters shown as `\\xNN` escapes, safe to write to a terminal."""
    if text.isprintable():
        return text  # nearly every text, and far cheaper to ask than to search
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)
