"""apigov:recommended: every rule it defines has a doc and examples, and both examples hold.

The examples live in the ruleset file (`x-examples` under each rule), so this test is driven by
the file: a new rule without examples fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from apigov.lint.engine import Linter
from apigov.lint.ruleset import builtin_path, load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import REPO

RECOMMENDED = yaml.safe_load(builtin_path("apigov:recommended").read_text(encoding="utf-8"))
DEFINED = {
    name: rule
    for name, rule in RECOMMENDED["rules"].items()
    if isinstance(rule, dict) and "given" in rule
}


def test_every_defined_rule_is_documented_with_examples() -> None:
    assert len(DEFINED) >= 10
    for name, rule in DEFINED.items():
        assert len(str(rule.get("description", ""))) > 30, name
        examples = rule.get("x-examples") or {}
        assert set(examples) == {"fail", "pass"}, name


def _document(example: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(RECOMMENDED["x-example-base"])
    document.update(yaml.safe_load(example))
    return document


def _rule_findings(rule: str, example: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(_document(example), sort_keys=False), encoding="utf-8")
    spec = Loader(root=tmp_path).load(str(path))
    assert isinstance(spec, ApiSpec)
    ruleset = load_ruleset("apigov:recommended")
    return [f.message for f in Linter(ruleset).lint(spec) if f.id == rule]


@pytest.mark.parametrize("rule", sorted(DEFINED))
def test_failing_example_fails(rule: str, tmp_path: Path) -> None:
    assert _rule_findings(rule, DEFINED[rule]["x-examples"]["fail"], tmp_path), rule


@pytest.mark.parametrize("rule", sorted(DEFINED))
def test_passing_example_passes(rule: str, tmp_path: Path) -> None:
    assert _rule_findings(rule, DEFINED[rule]["x-examples"]["pass"], tmp_path) == [], rule


@pytest.mark.parametrize("name", ["oas", "recommended"])
def test_user_facing_copies_match_the_shipped_rulesets(name: str) -> None:
    shipped = builtin_path(f"apigov:{name}").read_bytes()
    assert (REPO / "rules" / f"{name}.yaml").read_bytes() == shipped


@pytest.mark.parametrize(("base_path", "flagged"), [("/", True), ("/v2", False)])
def test_swagger2_documents_get_the_governance_rules(
    base_path: str, flagged: bool, tmp_path: Path
) -> None:
    path = tmp_path / "swagger.yaml"
    path.write_text(
        'swagger: "2.0"\n'
        "info: {title: t, version: '1', contact: {email: a@example.org}}\n"
        f"host: api.example.org\nbasePath: {base_path}\nschemes: [https]\n"
        "paths:\n  /ordersList:\n    get:\n      operationId: listOrders\n"
        "      responses: {'200': {description: ok}}\n",
        encoding="utf-8",
    )
    spec = Loader(root=tmp_path).load(str(path))
    assert isinstance(spec, ApiSpec)
    ids = {f.id for f in Linter(load_ruleset("apigov:recommended")).lint(spec)}
    assert "paths-kebab-case" in ids  # /ordersList
    assert ("api-versioning" in ids) is flagged
    assert "problem-details-errors" not in ids  # 3.x only: 2.0 has no media types per response
