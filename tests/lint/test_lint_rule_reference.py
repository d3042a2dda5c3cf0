"""Every built-in rule has a failing and a passing example that hold, and docs/lint-rules.md
(generated from the rulesets) is up to date and has the anchor SARIF's helpUri points at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apigov.lint.analyze import RULES_PAGE
from apigov.lint.engine import Linter
from apigov.lint.reference import RuleEntry, example_document, render_rules_page, rule_entries
from apigov.lint.ruleset import load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import REPO, write

ENTRIES = {entry.name: entry for entry in rule_entries()}
PAGE = REPO / "docs" / "lint-rules.md"


def _findings(entry: RuleEntry, example: str, folder: Path) -> list[str]:
    # Every rule on (`all` turns on Spectral's recommended: false rules too).
    ruleset = write(folder, "all.yaml", f"extends: [[{entry.defined_in}, all]]\n")
    document = write(folder, "openapi.json", json.dumps(example_document(entry, example)))
    spec = Loader(root=folder).load(str(document))
    assert isinstance(spec, ApiSpec)
    findings = Linter(load_ruleset(str(ruleset))).lint(spec)
    return [
        f"{f.location.pointer if f.location else ''}: {f.message}"
        for f in findings
        if f.id == entry.name
    ]


def test_every_builtin_rule_is_listed() -> None:
    # 56 Spectral rules in apigov:oas, and apigov:recommended's own
    assert sum(entry.defined_in == "apigov:oas" for entry in ENTRIES.values()) == 56
    assert {"servers-https", "recursive-schema-example"} <= set(ENTRIES)
    for entry in ENTRIES.values():
        assert entry.fail and entry.passing, entry.name


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_failing_example_fails(name: str, tmp_path: Path) -> None:
    assert _findings(ENTRIES[name], ENTRIES[name].fail, tmp_path), name


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_passing_example_passes(name: str, tmp_path: Path) -> None:
    assert _findings(ENTRIES[name], ENTRIES[name].passing, tmp_path) == [], name


def test_rules_page_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_rules_page(), (
        "regenerate: python -m apigov.lint.reference > docs/lint-rules.md"
    )


def test_every_rule_has_the_anchor_help_uris_point_at() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert RULES_PAGE.endswith("/docs/lint-rules.md")
    for name in ENTRIES:
        assert text.count(f'<a id="{name}"></a>') == 1, name
