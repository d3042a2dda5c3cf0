from __future__ import annotations

import xml.etree.ElementTree as ET

from apigov.findings import Finding, Level, Location, Report
from apigov.report import junit


def parse(report: Report) -> ET.Element:
    out = junit.render(report, tool_version="9.9.9")
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert out.endswith("\n")
    return ET.fromstring(out.encode("utf-8"))


def suite_of(root: ET.Element) -> ET.Element:
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def test_sample(sample: Report) -> None:
    root = parse(sample)
    suite = suite_of(root)
    counts = {"tests": "3", "failures": "2", "errors": "0", "skipped": "0"}
    assert root.attrib == {"name": "apigov", **counts}
    assert suite.attrib == {"name": "apigov diff", **counts}
    assert [(p.get("name"), p.get("value")) for p in suite.iter("property")] == [
        ("apigov.version", "9.9.9")
    ]

    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("diff", "specs/base.yaml"),
        ("diff", "specs/head.yaml"),
        ("diff", "specs/other.yaml"),
    ]
    base, head, other = cases

    assert [child.tag for child in base] == ["failure"]
    failure = base[0]
    assert failure.attrib == {
        "message": "Operation has no description",
        "type": "operation-description",
    }
    assert (
        failure.text
        == "/paths/~1orders/get warning operation-description Operation has no description"
    )

    assert [child.tag for child in head] == ["failure", "system-out"]
    failure, out = head
    assert failure.attrib == {
        "message": "Property total was removed",
        "type": "response-property-removed",
    }
    assert failure.text == "57:9 error response-property-removed Property total was removed"
    assert out.text == "12:7 info response-added Response 201 was added"

    assert list(other) == []  # a passing test case


def test_failure_lists_every_failing_finding_in_order() -> None:
    findings = [
        Finding("late", Level.ERROR, "second", Location("a.yaml", "", 20, 3)),
        Finding("early", Level.WARNING, "first", Location("a.yaml", "", 2)),
        Finding("note", Level.INFO, "n", Location("a.yaml", "", 1, 1)),
    ]
    case = suite_of(parse(Report("lint", findings, ["a.yaml"]))).findall("testcase")[0]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "first"
    assert failure.get("type") == "early"
    assert failure.text == "2 warning early first\n20:3 error late second"
    system_out = case.find("system-out")
    assert system_out is not None
    assert system_out.text == "1:1 info note n"


def test_info_only_document_passes() -> None:
    findings = [Finding("note", Level.INFO, "n", Location("a.yaml", "", 1, 1))]
    suite = suite_of(parse(Report("lint", findings, ["a.yaml"])))
    assert suite.get("tests") == "1"
    assert suite.get("failures") == "0"
    case = suite.findall("testcase")[0]
    assert [child.tag for child in case] == ["system-out"]


def test_empty_report(empty: Report) -> None:
    suite = suite_of(parse(empty))
    assert suite.get("name") == "apigov lint"
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert [c.get("name") for c in suite.findall("testcase")] == ["a.yaml", "b.yaml"]
    assert all(len(c) == 0 for c in suite.findall("testcase"))


def test_files_outside_the_inputs_and_unlocated_findings_get_their_own_cases() -> None:
    findings = [
        Finding("ref", Level.ERROR, "bad ref", Location("shared/common.yaml", "/x", 3, 1)),
        Finding("match", Level.WARNING, "same file", Location("./specs/a.yaml", "", 1, 1)),
        Finding("gate", Level.ERROR, "no file"),
    ]
    suite = suite_of(parse(Report("check", findings, ["specs/a.yaml", "specs/b.yaml"])))
    assert [c.get("name") for c in suite.findall("testcase")] == [
        "specs/a.yaml",
        "specs/b.yaml",
        "(no file)",
        "shared/common.yaml",
    ]
    assert (suite.get("tests"), suite.get("failures")) == ("4", "3")
    unlocated = suite.findall("testcase")[2].find("failure")
    assert unlocated is not None
    assert unlocated.text == "- error gate no file"


def test_escaping_and_characters_xml_cannot_carry(tricky: Report, tricky_message: str) -> None:
    finding = Finding("x", Level.ERROR, 'esc \x1b[31m & <tag> "q"', Location("a.yaml", "", 1, 1))
    report = Report("lint", [*tricky.findings, finding], [*tricky.inputs, "a.yaml"])
    suite = suite_of(parse(report))
    tricky_case, other = suite.findall("testcase")
    failure = tricky_case.find("failure")
    assert failure is not None
    # Attributes keep line breaks (written as character references) and read back exactly.
    assert failure.get("message") == tricky_message
    assert failure.text == (
        "3:1 error rule:one,two Expected a | b, got 100%: c\n    second line\n    third <b>*x*</b>"
    )
    other_failure = other.find("failure")
    assert other_failure is not None
    assert other_failure.get("message") == 'esc \\x1b[31m & <tag> "q"'
    assert other_failure.text == '1:1 error x esc \\x1b[31m & <tag> "q"'
