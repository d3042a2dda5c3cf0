"""GitHub-flavoured Markdown, for pull-request comments: a heading, a summary, one table.

Rows are ordered errors first, then warnings, then info; within a level, in
`Report.sorted_findings()` order. Cell text is escaped so that a `|`, a line break or HTML in a
message can neither break the table nor inject markup.

Reports of changes (`diff`, `changelog`) are grouped by operation, operations with the report's
worst level first, each with its own table; the other operations are folded into one collapsed
`<details>` section, so a long changelog stays a short pull-request comment.
"""

from __future__ import annotations

from apigov.findings import Finding, Level, Report
from apigov.report._common import by_level, location_label, plural, summary_sentence
from apigov.report.text import Group, change_summary, group_by_operation, is_change_report

HEADER = ("Level", "Id", "Location", "Message", "Operation", "Consumers")
CHANGE_HEADER = ("Level", "Change", "Message", "Consumers", "Location")
# Operations shown open in a change report; more than this are folded even when breaking.
_OPEN_LIMIT = 10


def render(report: Report) -> str:
    """The report as a Markdown document, ending with a newline."""
    lines = [f"## apigov {escape_cell(report.command)}", ""]
    if report.findings and is_change_report(report):
        return "\n".join(lines + _change_sections(report)) + "\n"
    lines.append(summary_sentence(report) + ".")
    if not report.findings:
        return "\n".join(lines) + "\n"
    lines.append("")
    lines.append(_row(HEADER))
    lines.append(_row(("---",) * len(HEADER)))
    lines.extend(_row(_cells(finding)) for finding in by_level(report.sorted_findings()))
    return "\n".join(lines) + "\n"


def _change_sections(report: Report) -> list[str]:
    """The summary, then the operations at the report's worst level (at most `_OPEN_LIMIT`)
    open, and every other operation folded into one `<details>` section."""
    lines = [change_summary(report) + "."]
    groups = group_by_operation(report.sorted_findings())
    worst = max(f.level.rank for f in report.findings)
    shown = [g for g in groups if max(f.level.rank for f in g.findings) == worst][:_OPEN_LIMIT]
    folded = groups[len(shown) :]
    for group in shown:
        lines.extend(_operation_table(group))
    if folded:
        counts = dict.fromkeys(Level, 0)
        for group in folded:
            for finding in group.findings:
                counts[finding.level] += 1
        kinds = ", ".join(plural(count, level.value) for level, count in counts.items() if count)
        operations = sum(group.operation is not None for group in folded)
        what = [plural(operations, "more operation")] if operations else []
        if any(group.operation is None for group in folded):
            what.append("API-wide changes")
        summary = f"{' and '.join(what)} ({kinds})"
        lines.extend(["", "<details>", f"<summary>{summary}</summary>"])
        for group in folded:
            lines.extend(_operation_table(group))
        lines.extend(["", "</details>"])
    return lines


def _operation_table(group: Group) -> list[str]:
    members = group.findings
    title = code(group.operation) if group.operation else escape_cell(group.heading)
    if group.service and group.operation:
        title = f"{escape_cell(group.service)}: {title}"
    lines = ["", f"### {title}", "", _row(CHANGE_HEADER), _row(("---",) * len(CHANGE_HEADER))]
    for finding in members:
        level = finding.level.value
        lines.append(
            _row(
                (
                    f"**{level}**" if level == "error" else level,
                    code(finding.id),
                    escape_cell(finding.message),
                    escape_cell(", ".join(finding.consumers)),
                    code(location_label(finding.location)) if finding.location else "",
                )
            )
        )
    return lines


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
