from __future__ import annotations

import re

from apigov.findings import Finding, Level, Location, Report
from apigov.report import text

ANSI = re.compile(r"\x1b\[[0-9;]*m")

SAMPLE_TEXT = (
    "specs/base.yaml#/paths/~1orders/get  warning  operation-description      "
    "Operation has no description\n"
    "\n"
    "specs/head.yaml:12:7                 info     response-added             "
    "Response 201 was added  [POST /orders]\n"
    "specs/head.yaml:57:9                 error    response-property-removed  "
    "Property total was removed  [GET /orders/{orderId}]  consumers: billing, shipping\n"
    "\n"
    "1 error, 1 warning, 1 info in 3 documents\n"
)


def test_plain_text_groups_by_file_and_sums_up(sample_lint: Report) -> None:
    assert text.render(sample_lint) == SAMPLE_TEXT


def test_plain_text_is_ascii_for_ascii_findings(sample: Report) -> None:
    assert text.render(sample).isascii()


def test_empty_report(empty: Report) -> None:
    assert text.render(empty) == "No problems found in 2 documents.\n"
    assert text.render(Report("lint", inputs=["a.yaml"])) == "No problems found in 1 document.\n"


def test_plurals() -> None:
    findings = [
        Finding("a", Level.ERROR, "m", Location("x.yaml", "", 1, 1)),
        Finding("b", Level.WARNING, "m", Location("x.yaml", "", 2, 1)),
        Finding("c", Level.WARNING, "m", Location("x.yaml", "", 3, 1)),
    ]
    last = text.render(Report("lint", findings, ["x.yaml"])).splitlines()[-1]
    assert last == "1 error, 2 warnings, 0 info in 1 document"


def test_multiline_message_is_indented_under_the_message_column(tricky: Report) -> None:
    lines = text.render(tricky).splitlines()
    # The level column is as wide as "warning", whichever levels occur.
    prefix = "my specs/a,b:c.yaml:3:1  error    rule:one,two  "
    assert lines[0] == prefix + "Expected a | b, got 100%: c"
    assert lines[1] == " " * len(prefix) + "second line"
    assert lines[2] == " " * len(prefix) + "third <b>*x*</b>"
    assert lines[3] == ""
    assert lines[4] == "1 error, 0 warnings, 0 info in 1 document"


def test_finding_without_location() -> None:
    report = Report("can-i-deploy", [Finding("gate-closed", Level.ERROR, "No")], [])
    expected = "-  error    gate-closed  No\n\n1 error, 0 warnings, 0 info in 0 documents\n"
    assert text.render(report) == expected


def test_control_characters_cannot_reach_the_terminal() -> None:
    finding = Finding("x", Level.ERROR, "evil \x1b[2J\x07 bell", Location("a\x1b.yaml", "", 1, 2))
    for color in (False, True):
        out = ANSI.sub("", text.render(Report("lint", [finding], ["a.yaml"]), color=color))
        assert "\x1b" not in out
        assert "\x07" not in out
        assert "a\\x1b.yaml:1:2" in out
        assert "evil \\x1b[2J\\x07 bell" in out


def test_color_output_is_the_plain_output_styled(sample_lint: Report, empty: Report) -> None:
    colored = text.render(sample_lint, color=True)
    assert "\x1b[" in colored
    assert ANSI.sub("", colored) == SAMPLE_TEXT
    assert ANSI.sub("", text.render(empty, color=True)) == "No problems found in 2 documents.\n"


def test_color_marks_levels(sample: Report) -> None:
    lines = text.render(sample, color=True).splitlines()
    error_line = next(line for line in lines if "response-property-removed" in line)
    assert "\x1b[1;31merror" in error_line
    warning_line = next(line for line in lines if "operation-description" in line)
    assert "\x1b[33mwarning" in warning_line


def test_color_output_does_not_wrap_long_lines() -> None:
    finding = Finding("x", Level.ERROR, "word " * 100, Location("a.yaml", "", 1, 1))
    colored = text.render(Report("lint", [finding], ["a.yaml"]), color=True)
    assert len(colored.splitlines()) == 3


def test_rich_markup_in_messages_is_not_interpreted() -> None:
    finding = Finding("x", Level.ERROR, "[bold]not bold[/bold] :smile:", Location("a", "", 1, 1))
    colored = text.render(Report("lint", [finding], ["a"]), color=True)
    assert "[bold]not bold[/bold] :smile:" in ANSI.sub("", colored)
