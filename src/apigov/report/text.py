"""The human-readable format: one line per finding, grouped by file, then a summary line.

    orders/openapi.yaml:57:9  error    response-property-removed  total was removed  [GET /o]

Plain output is ASCII apart from what the findings themselves contain; with `color=True` the same
text is styled with rich (rendered into a string, never printed), so stripping the ANSI codes from
the colored output gives the plain output.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from apigov.findings import Finding, Level, Report
from apigov.report._common import (
    extras,
    indent_continuation,
    location_label,
    printable,
    summary_sentence,
)

# Long paths or ids should not push every other line far to the right.
_MAX_LOCATION_WIDTH = 48
_MAX_ID_WIDTH = 40
_SEPARATOR = "  "

_LEVEL_STYLES = {
    Level.ERROR: "bold red",
    Level.WARNING: "yellow",
    Level.INFO: "cyan",
}


def render(report: Report, *, color: bool = False) -> str:
    """The report as text; ANSI-styled when `color` is True."""
    lines = _lines(report)
    if not color:
        return "".join(line.plain + "\n" for line in lines)
    console = Console(
        file=io.StringIO(),
        force_terminal=True,
        color_system="standard",
        no_color=False,
        width=200,
        soft_wrap=True,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    with console.capture() as capture:
        for line in lines:
            console.print(line)
    return capture.get()


def _lines(report: Report) -> list[Text]:
    findings = report.sorted_findings()
    if not findings:
        return [Text(summary_sentence(report) + ".", style="green")]

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


def _finding_line(
    finding: Finding, location_width: int, level_width: int, id_width: int, message_indent: str
) -> Text:
    line = Text()
    line.append(_location(finding).ljust(location_width), style="bold")
    line.append(_SEPARATOR)
    line.append(finding.level.value.ljust(level_width), style=_LEVEL_STYLES[finding.level])
    line.append(_SEPARATOR)
    line.append(printable(finding.id).ljust(id_width), style="dim")
    line.append(_SEPARATOR)
    line.append(printable(indent_continuation(finding.message, message_indent)))
    tail = printable(extras(finding))
    if tail:
        line.append(tail, style="magenta")
    return line


def _location(finding: Finding) -> str:
    return printable(location_label(finding.location))
