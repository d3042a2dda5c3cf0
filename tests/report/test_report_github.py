from __future__ import annotations

from apigov.findings import Finding, Level, Location, Report
from apigov.report import github


def test_sample(sample: Report) -> None:
    assert github.render(sample).splitlines() == [
        "::warning file=specs/base.yaml,title=operation-description::Operation has no description",
        "::notice file=specs/head.yaml,line=12,col=7,title=response-added"
        "::Response 201 was added  [POST /orders]",
        "::error file=specs/head.yaml,line=57,col=9,title=response-property-removed"
        "::Property total was removed  [GET /orders/{orderId}]  consumers: billing, shipping",
    ]
    assert github.render(sample).endswith("\n")


def test_empty_report(empty: Report) -> None:
    assert github.render(empty) == ""


def test_escaping(tricky: Report) -> None:
    assert github.render(tricky) == (
        "::error file=my specs/a%2Cb%3Ac.yaml,line=3,col=1,title=rule%3Aone%2Ctwo"
        "::Expected a | b, got 100%25: c%0Asecond line%0D%0Athird <b>*x*</b>\n"
    )


def test_a_message_cannot_inject_a_command() -> None:
    finding = Finding("x", Level.INFO, "ok\n::set-output name=a::b\r\n::error::boom", None)
    out = github.render(Report("lint", [finding], []))
    assert out == "::notice title=x::ok%0A::set-output name=a::b%0D%0A::error::boom\n"
    assert len(out.splitlines()) == 1


def test_percent_is_escaped_first() -> None:
    assert github.escape_data("%0A\n") == "%250A%0A"
    assert github.escape_property("50%,a:b\n") == "50%25%2Ca%3Ab%0A"


def test_line_without_column_and_windows_paths() -> None:
    finding = Finding("x", Level.WARNING, "m", Location("specs\\a.yaml", "/p", 7))
    assert github.command(finding) == "::warning file=specs/a.yaml,line=7,title=x::m"


def test_unlocated(unlocated: Report) -> None:
    assert github.render(unlocated) == "::warning title=gate-closed::No deployment recorded\n"
