"""docs/output-formats.md shows real output: the `sample` report in every format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apigov.findings import Report
from apigov.report import FORMATS, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "output-formats.md"
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```\w*\n(.*?)^```\n", re.DOTALL | re.MULTILINE)


def examples() -> dict[str, str]:
    return dict(EXAMPLE.findall(DOC.read_text("utf-8")))


def test_every_format_has_one_example() -> None:
    assert sorted(examples()) == sorted(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_example_is_real_output(fmt: str, sample: Report) -> None:
    assert examples()[fmt] == render(sample, fmt, tool_version="0.1.0")
