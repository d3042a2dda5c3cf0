"""docs/diff-checks.md is the catalogue as generated now."""

from __future__ import annotations

from apigov.diff.docs import render, render_levels
from helpers import REPO


def test_diff_checks_doc_is_up_to_date() -> None:
    shown = (REPO / "docs" / "diff-checks.md").read_text(encoding="utf-8")
    assert shown == render(), "run: python -m apigov.diff.docs > docs/diff-checks.md"


def test_diff_checks_doc_lists_every_id() -> None:
    from apigov.diff.catalogue import CATALOGUE

    text = render()
    for change_id in CATALOGUE:
        assert f"| `{change_id}` |" in text


def test_the_engines_table_of_levels_is_the_catalogue_as_generated_now() -> None:
    from apigov.diff.catalogue import CATALOGUE
    from apigov.diff.levels import LEVELS

    shown = (REPO / "src" / "apigov" / "diff" / "levels.py").read_text(encoding="utf-8")
    assert shown == render_levels(), "run: python -m apigov.diff.docs levels"
    assert {change_id: check.level for change_id, check in CATALOGUE.items()} == LEVELS
