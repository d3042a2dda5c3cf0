"""Reporters: one module per output format, each a `render(report, ...) -> str` function.

Reporters only turn a `Report` into text: they never print, never decide exit codes, and always
emit findings in `Report.sorted_findings()` order (markdown groups that order by level). Every
output except an empty `github` one ends with a newline.
"""

from __future__ import annotations

from apigov import __version__
from apigov.findings import Report
from apigov.report import github, json_format, junit, markdown, sarif, text

FORMATS = ("text", "json", "markdown", "sarif", "junit", "github")

__all__ = ["FORMATS", "render"]


def render(
    report: Report, fmt: str, *, color: bool = False, tool_version: str = __version__
) -> str:
    """The report in format `fmt` (one of FORMATS). `color` only affects the text format.

    Raises ValueError for an unknown format.
    """
    if fmt == "text":
        return text.render(report, color=color)
    if fmt == "json":
        return json_format.render(report, tool_version=tool_version)
    if fmt == "markdown":
        return markdown.render(report)
    if fmt == "sarif":
        return sarif.render(report, tool_version=tool_version)
    if fmt == "junit":
        return junit.render(report, tool_version=tool_version)
    if fmt == "github":
        return github.render(report)
    raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
