from __future__ import annotations

import json

import pytest

import apigov
from apigov.report import FORMATS, render


def test_formats() -> None:
    assert FORMATS == ("text", "json", "markdown", "sarif", "junit", "github", "gitlab")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_report(
    fmt: str, sample: apigov.Report, empty: apigov.Report, tricky: apigov.Report
) -> None:
    for report in (sample, empty, tricky):
        out = render(report, fmt)
        assert isinstance(out, str)
        if out:
            assert out.endswith("\n")
            assert not out.endswith("\n\n")


def test_unknown_format(sample: apigov.Report) -> None:
    with pytest.raises(ValueError, match="unknown format 'html'"):
        render(sample, "html")


def test_tool_version_defaults_to_the_package_version(sample: apigov.Report) -> None:
    assert json.loads(render(sample, "json"))["version"] == apigov.__version__
    assert json.loads(render(sample, "json", tool_version="2.0"))["version"] == "2.0"
    driver = json.loads(render(sample, "sarif", tool_version="2.0"))["runs"][0]["tool"]["driver"]
    assert driver["version"] == "2.0"
    assert 'value="2.0"' in render(sample, "junit", tool_version="2.0")


def test_color_only_affects_text(sample: apigov.Report) -> None:
    assert "\x1b[" in render(sample, "text", color=True)
    assert "\x1b[" not in render(sample, "text")
    for fmt in FORMATS[1:]:
        assert render(sample, fmt, color=True) == render(sample, fmt)


def test_findings_in_sorted_order_everywhere(sample: apigov.Report) -> None:
    ids = [f.id for f in sample.sorted_findings()]
    assert ids == ["operation-description", "response-added", "response-property-removed"]
    assert [f["id"] for f in json.loads(render(sample, "json"))["findings"]] == ids
    sarif_results = json.loads(render(sample, "sarif"))["runs"][0]["results"]
    assert [r["ruleId"] for r in sarif_results] == ids
    github_lines = render(sample, "github").splitlines()
    assert [line.split("title=")[1].split("::")[0] for line in github_lines] == ids
    # Text and markdown group a diff by operation (test_report_changes.py); other commands'
    # text keeps the sorted order.
    lint = apigov.Report("lint", list(sample.findings), list(sample.inputs))
    text_lines = render(lint, "text").splitlines()
    assert [next(i for i in ids if i in line) for line in text_lines if line[:1] == "s"] == ids
