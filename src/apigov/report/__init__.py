"""Reporters: one module per output format, each a `render(report, ...) -> str` function.

Reporters only turn a `Report` into text: they never print, never decide exit codes, and always
emit findings in `Report.sorted_findings()` order (markdown groups that order by level). Every
output except an empty `github` one ends with a newline.
"""

from __future__ import annotations

from apigov import __version__
from apigov.findings import Report

FORMATS = ("text", "json", "markdown", "sarif", "junit", "github", "gitlab")

__all__ = ["FORMATS", "render"]


def render(
    report: Report, fmt: str, *, color: bool = False, tool_version: str = __version__
) -> str:
    """The report in format `fmt` (one of FORMATS). `color` only affects the text format.

    Raises ValueError for an unknown format.
    """
    # Each format is imported on use: a command pays only for the format it prints.
    if fmt == "text":
        from apigov.report import text

        return text.render(report, color=color)
    if fmt == "json":
        from apigov.report import json_format

        return json_format.render(report, tool_version=tool_version)
    if fmt == "markdown":
        from apigov.report import markdown

        return markdown.render(report)
    if fmt == "sarif":
        from apigov.report import sarif

        return sarif.render(report, tool_version=tool_version)
    if fmt == "junit":
        from apigov.report import junit

        return junit.render(report, tool_version=tool_version)
    if fmt == "github":
        from apigov.report import github

        return github.render(report)
    if fmt == "gitlab":
        from apigov.report import gitlab

        return gitlab.render(report)
    raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
