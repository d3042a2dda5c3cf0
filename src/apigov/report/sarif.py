"""SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards.

One run; `tool.driver.rules` has one entry per distinct finding id (sorted by id) and each
result points at its rule by `ruleId` and `ruleIndex`. When the report carries a rule catalogue
(`Report.rules`), a rule entry also has the rule's description (short and full), `helpUri` and
default level; otherwise its short description is made from the id.

Relative paths are given relative to `%SRCROOT%` (the checkout), absolute paths as `file://`
URIs. A result's region is given only when its line is known. A finding without a file is shown
at the report's first input (GitHub rejects a whole upload when one result has no physical
location), or, without inputs, has no location at all. `partialFingerprints` holds a hash of id,
file and JSON pointer, which stays the same when lines move, so code scanning can follow a
result from commit to commit.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

import orjson

from apigov.findings import Finding, Level, Location, Report, RuleInfo

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
# Where the project lives; SARIF viewers link the tool name to it.
INFORMATION_URI = "https://github.com/apigov/apigov"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "apigovFindingHash/v1"

_LEVELS = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")
# RFC 3986 unreserved and sub-delims, plus "/" and "@"; everything else is percent-encoded.
# ":" is encoded too, so that `main:openapi.yaml` (a git ref) is not read as a URI scheme.
_SAFE = "/@!$&'()*+,;=-._~"
_URI_SAFE = _SAFE + ":?#[]%"


def render(report: Report, *, tool_version: str) -> str:
    """The report as a SARIF 2.1.0 log (indented JSON, ending with a newline)."""
    log = to_dict(report, tool_version=tool_version)
    return orjson.dumps(log, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def to_dict(report: Report, *, tool_version: str) -> dict[str, Any]:
    """The SARIF log as plain data."""
    findings = report.sorted_findings()
    rule_ids = sorted({finding.id for finding in findings})
    rule_index = {rule_id: index for index, rule_id in enumerate(rule_ids)}
    anchor = report.inputs[0] if report.inputs else None
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "apigov",
                "version": tool_version,
                "semanticVersion": tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule_id, report.rules.get(rule_id)) for rule_id in rule_ids],
            }
        },
        "automationDetails": {"id": f"apigov/{report.command}/"},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, rule_index[f.id], anchor) for f in findings],
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _rule(rule_id: str, info: RuleInfo | None) -> dict[str, Any]:
    readable = rule_id.replace("-", " ").replace("_", " ").capitalize()
    if info is None:
        return {"id": rule_id, "shortDescription": {"text": readable}}
    description = " ".join(info.description.split())
    rule: dict[str, Any] = {
        "id": rule_id,
        # GitHub shows the short description as the alert's title: one line, the first sentence.
        "shortDescription": {"text": _first_sentence(description) or readable},
        "fullDescription": {"text": description or readable},
    }
    if info.help_uri and _SCHEME.match(info.help_uri):
        # A ruleset's documentationUrl is hand-written: encode what a URI may not contain.
        rule["helpUri"] = quote(info.help_uri, safe=_URI_SAFE)
    if info.level is not None:
        rule["defaultConfiguration"] = {"level": _LEVELS[info.level]}
    return rule


def _first_sentence(text: str) -> str:
    end = re.search(r"[.!?](\s|$)", text)
    return text[: end.start() + 1] if end else text


def _result(finding: Finding, rule_index: int, anchor: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.level],
        "message": {"text": finding.message},
    }
    location = _location(finding, anchor)
    if location:
        result["locations"] = [location]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding)}
    properties: dict[str, Any] = {}
    if finding.service:
        properties["service"] = finding.service
    if finding.consumers:
        properties["consumers"] = list(finding.consumers)
    if properties:
        result["properties"] = properties
    return result


def _location(finding: Finding, anchor: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {}
    loc = finding.location
    if loc is not None:
        location["physicalLocation"] = _physical_location(loc)
    elif anchor is not None:
        location["physicalLocation"] = {"artifactLocation": artifact_location(anchor)}
    else:
        # Never a location with logical parts only: GitHub rejects the whole file for one.
        return {}
    logical: list[dict[str, Any]] = []
    if loc is not None and loc.pointer:
        logical.append({"fullyQualifiedName": loc.pointer})
    if finding.operation:
        logical.append({"name": finding.operation, "kind": "function"})
    if logical:
        location["logicalLocations"] = logical
    return location


def _physical_location(loc: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(loc.file)}
    if loc.line is not None and loc.line >= 1:
        region: dict[str, Any] = {"startLine": loc.line}
        if loc.column is not None and loc.column >= 1:
            region["startColumn"] = loc.column
        physical["region"] = region
    return physical


def artifact_location(path: str) -> dict[str, Any]:
    """`{"uri": ..., "uriBaseId": "%SRCROOT%"}` for a relative path, a `file:` URI otherwise."""
    if _SCHEME.match(path):
        return {"uri": path}
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + quote(posix, safe=_SAFE)}
    if _WINDOWS_DRIVE.match(posix):
        return {"uri": "file:///" + posix[:2] + quote(posix[2:], safe=_SAFE)}
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix, safe=_SAFE), "uriBaseId": SRCROOT}


def fingerprint(finding: Finding) -> str:
    """A stable hash of the finding's id, file and JSON pointer (not its line, which moves)."""
    loc = finding.location
    file = str(artifact_location(loc.file)["uri"]) if loc else ""
    parts = (finding.id, file, loc.pointer if loc else "")
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
