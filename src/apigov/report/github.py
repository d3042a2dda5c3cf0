"""GitHub Actions workflow commands: one annotation per finding.

    ::error file=orders/openapi.yaml,line=57,col=9,title=property-removed::total was removed

error -> `::error`, warning -> `::warning`, info -> `::notice`. `line` and `col` are left out when
unknown, `file` when the finding has no location. The message carries the operation and the
consumers when set, as in the text format. Escaping follows GitHub's toolkit: `%`, CR and LF
in the message; additionally `:` and `,` in property values. So no message can end the
annotation early or smuggle in a workflow command of its own on a new line.
"""

from __future__ import annotations

from apigov.findings import Finding, Level, Report
from apigov.report._common import extras

_COMMANDS = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "notice"}


def render(report: Report) -> str:
    """One workflow command a line (each ending with a newline); empty without findings."""
    return "".join(command(finding) + "\n" for finding in report.sorted_findings())


def command(finding: Finding) -> str:
    """The workflow command for one finding."""
    properties: list[tuple[str, str]] = []
    loc = finding.location
    if loc is not None:
        properties.append(("file", loc.file.replace("\\", "/")))
        if loc.line is not None:
            properties.append(("line", str(loc.line)))
            if loc.column is not None:
                properties.append(("col", str(loc.column)))
    properties.append(("title", finding.id))
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = finding.message + extras(finding)
    return f"::{_COMMANDS[finding.level]} {props}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message: `%` first, then CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as a message, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
