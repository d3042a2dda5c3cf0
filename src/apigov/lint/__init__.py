"""Governance rules: Spectral-compatible rulesets, run in one walk per document.

    from apigov.lint import Linter, load_ruleset
    findings = Linter(load_ruleset("apigov:recommended")).lint(spec)

Custom rule functions receive a `FunctionContext` and return `Result`s (see `lint/context.py`).
"""

from apigov.lint.analyze import DEFAULT_RULESET, discover_ruleset, lint_targets
from apigov.lint.context import FunctionContext, Result, RuleFunction
from apigov.lint.engine import Linter
from apigov.lint.filters import UNDEFINED
from apigov.lint.ruleset import Rule, Ruleset, load_ruleset

__all__ = [
    "DEFAULT_RULESET",
    "UNDEFINED",
    "FunctionContext",
    "Linter",
    "Result",
    "Rule",
    "RuleFunction",
    "Ruleset",
    "discover_ruleset",
    "lint_targets",
    "load_ruleset",
]
