"""GitHub-flavoured Markdown, for pull-request comments: a heading, a summary, one table.

Rows are ordered errors first, then warnings, then info; within a level, in
`Report.sorted_findings()` order. Cell text is escaped so that a `|`, a line break or HTML in a
message can neither break the table nor inject markup.
"""

from __future__ import annotations

from apigov.findings import Finding, Report
from apigov.report._common import by_level, location_label, summary_sentence

HEADER = ("Level", "Id", "Location", "Message", "Operation", "Consumers")


def render(report: Report) -> str:
    """The report as a Markdown document, ending with a newline."""
    lines = [f"## apigov {escape_cell(report.command)}", ""]
    lines.append(summary_sentence(report) + ".")
    if not report.findings:
        return "\n".join(lines) + "\n"
    lines.append("")
    lines.append(_row(HEADER))
    lines.append(_row(("---",) * len(HEADER)))
    lines.extend(_row(_cells(finding)) for finding in by_level(report.sorted_findings()))
    return "\n".join(lines) + "\n"


def _cells(finding: Finding) -> tuple[str, ...]:
    level = finding.level.value
    return (
        f"**{level}**" if level == "error" else level,
        code(finding.id),
        code(location_label(finding.location)) if finding.location else "",
        escape_cell(finding.message),
        code(finding.operation) if finding.operation else "",
        escape_cell(", ".join(finding.consumers)),
    )


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


# Characters that would otherwise start emphasis, code, links, HTML, entities, math,
# strikethrough or end the cell. A backslash before ASCII punctuation always renders it as-is.
_SPECIAL = frozenset("\\`*_[]<>|~&$")


def escape_cell(text: str) -> str:
    """Text rendered literally inside a table cell; line breaks become `<br>`."""
    escaped = "".join("\\" + char if char in _SPECIAL else char for char in text)
    return "<br>".join(line.strip() for line in escaped.splitlines())


def code(text: str) -> str:
    """An inline code span inside a table cell (where a `|` still needs its backslash)."""
    text = " ".join(text.splitlines()).replace("|", "\\|")
    if "`" in text:
        return f"`` {text} ``"
    return f"`{text}`"
