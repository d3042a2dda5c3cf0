"""GitLab Code Quality report: the JSON array GitLab reads from `artifacts:reports:codequality`.

    [{"description": "...", "check_name": "fleet-dependency-cycle", "fingerprint": "...",
      "severity": "major", "location": {"path": "contracts/orders/service.yaml",
                                        "lines": {"begin": 1}}}]

GitLab reads these five fields (the subset of the Code Climate issue format it documents).
error -> `major`, warning -> `minor`, info -> `info`. GitLab shows only the first issue of
each fingerprint, so the fingerprint hashes the id, the file, the JSON pointer and the message
(not the line: an unrelated edit above a finding must not make it look new), plus a counter for
findings that are identical in all of those. Findings without a file point at the first input
document (GitLab needs a path); line 1 when the line is unknown.
"""

from __future__ import annotations

import hashlib

import orjson

from apigov.findings import Finding, Level, Report
from apigov.report._common import extras

SEVERITIES = {Level.ERROR: "major", Level.WARNING: "minor", Level.INFO: "info"}


def render(report: Report) -> str:
    seen: dict[str, int] = {}
    issues = []
    fallback = report.inputs[0] if report.inputs else "."
    for finding in report.sorted_findings():
        path = finding.location.file if finding.location else fallback
        base = _fingerprint(finding, path)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        fingerprint = base if occurrence == 0 else _digest(f"{base}\0{occurrence}")
        line = finding.location.line if finding.location and finding.location.line else 1
        issues.append(
            {
                "description": finding.message + extras(finding),
                "check_name": finding.id,
                "fingerprint": fingerprint,
                "severity": SEVERITIES[finding.level],
                "location": {"path": path.replace("\\", "/"), "lines": {"begin": line}},
            }
        )
    return orjson.dumps(issues, option=orjson.OPT_INDENT_2).decode() + "\n"


def _fingerprint(finding: Finding, path: str) -> str:
    pointer = finding.location.pointer if finding.location else ""
    return _digest(f"{finding.id}\0{path}\0{pointer}\0{finding.message}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
