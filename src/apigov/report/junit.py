"""JUnit XML, for CI systems that show test results: one test case per input document.

    <testsuites name="apigov" tests="2" failures="1" errors="0" skipped="0">
      <testsuite name="apigov lint" tests="2" failures="1" errors="0" skipped="0">
        <testcase classname="lint" name="a.yaml">
          <failure message="first message" type="rule-id">12:3 error rule-id first message
    ...</failure>
          <system-out>4:1 info other-id a note</system-out>
        </testcase>
        <testcase classname="lint" name="b.yaml" />
      </testsuite>
    </testsuites>

A document fails when it has a finding at warning level or above; the failure lists those
findings (`line:col level id message`, one a line) and `<system-out>` lists the info findings.
A document with no findings passes. Findings in a file that is not among the report's inputs
(a `$ref`-ed file, say) get a test case of their own, after the inputs; findings with no file
at all share one test case named `(no file)`.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from apigov.findings import Finding, Level, Report
from apigov.report._common import indent_continuation, position_label

NO_FILE = "(no file)"

# Characters XML 1.0 cannot carry at all, even escaped (most C0 controls, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report, *, tool_version: str) -> str:
    """The report as a JUnit XML document (UTF-8 declared), ending with a newline."""
    cases = _cases(report)
    failures = sum(1 for findings in cases.values() if _failing(findings))

    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": "apigov", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": _clean(f"apigov {report.command}"), **counts})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "apigov.version", "value": tool_version})

    for name, findings in cases.items():
        case = ET.SubElement(
            suite, "testcase", {"classname": _clean(report.command), "name": _clean(name)}
        )
        failing = _failing(findings)
        if failing:
            first = failing[0]
            failure = ET.SubElement(
                case, "failure", {"message": _clean(first.message), "type": _clean(first.id)}
            )
            failure.text = _clean(_lines(failing))
        notes = [f for f in findings if f.level is Level.INFO]
        if notes:
            ET.SubElement(case, "system-out").text = _clean(_lines(notes))

    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _cases(report: Report) -> dict[str, list[Finding]]:
    """Test case name -> its findings (sorted), inputs first and in their given order."""
    cases: dict[str, list[Finding]] = {}
    names: dict[str, str] = {}  # normalised path -> test case name
    for document in report.inputs:
        if _normalise(document) not in names:
            names[_normalise(document)] = document
            cases[document] = []
    for finding in report.sorted_findings():
        if finding.location is None:
            name = NO_FILE
        else:
            name = names.setdefault(_normalise(finding.location.file), finding.location.file)
        cases.setdefault(name, []).append(finding)
    return cases


def _normalise(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/")) if path else path


def _failing(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level.rank >= Level.WARNING.rank]


def _lines(findings: Iterable[Finding]) -> str:
    lines = []
    for finding in findings:
        head = f"{position_label(finding.location)} {finding.level.value} {finding.id} "
        lines.append(head + indent_continuation(finding.message, "    "))
    return "\n".join(lines)


def _clean(text: str) -> str:
    """Text XML can carry: characters it cannot are shown as `\\xNN` escapes instead."""
    return _NOT_XML.sub(lambda m: ascii(m.group())[1:-1], text)
