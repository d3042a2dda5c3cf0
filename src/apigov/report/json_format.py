"""The machine-readable format: one JSON object, described by `schemas/report.schema.json`.

    {"tool": "apigov", "version": "0.1.0", "command": "diff",
     "summary": {"error": 1, "warning": 0, "info": 0},
     "inputs": ["base.yaml", "head.yaml"],
     "findings": [Finding.to_dict(), ...]}

Findings come in `Report.sorted_findings()` order. The output ends with a newline.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from apigov.findings import Report

SCHEMA_RESOURCE = "schemas/report.schema.json"


def to_dict(report: Report, *, tool_version: str) -> dict[str, Any]:
    """The report as plain data, before serialisation."""
    return {
        "tool": "apigov",
        "version": tool_version,
        "command": report.command,
        "summary": report.summary(),
        "inputs": list(report.inputs),
        "findings": [finding.to_dict() for finding in report.sorted_findings()],
    }


def render(report: Report, *, tool_version: str) -> str:
    """The report as indented JSON (two spaces), ending with a newline."""
    data = to_dict(report, tool_version=tool_version)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of this format."""
    from importlib import resources  # only for the schema: not on every run's start-up

    text = resources.files("apigov.report").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
