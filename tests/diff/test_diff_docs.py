"""docs/diff-checks.md is the catalogue as generated now."""

from __future__ import annotations

from apigov.diff.docs import render
from helpers import REPO


def test_diff_checks_doc_is_up_to_date() -> None:
    shown = (REPO / "docs" / "diff-checks.md").read_text(encoding="utf-8")
    assert shown == render(), "run: python -m apigov.diff.docs > docs/diff-checks.md"


def test_diff_checks_doc_lists_every_id() -> None:
    from apigov.diff.catalogue import CATALOGUE

    text = render()
    for change_id in CATALOGUE:
        assert f"| `{change_id}` |" in text
