"""Helpers for the lint tests: lint a document text with a ruleset text, both as files."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_helpers import LintText, install_spectral

from apigov.findings import Finding
from apigov.lint.engine import Linter
from apigov.lint.ruleset import load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import write


@pytest.fixture
def lint_text(tmp_path: Path) -> LintText:
    """lint_text(document_yaml, ruleset_yaml_or_builtin_name) -> findings."""

    def run(document: str, ruleset: str) -> list[Finding]:
        spec_file = write(tmp_path, "openapi.yaml", document)
        if ":" in ruleset and "\n" not in ruleset:
            loaded = load_ruleset(ruleset)
        else:
            loaded = load_ruleset(str(write(tmp_path, ".spectral.yaml", ruleset)))
        spec = Loader(root=tmp_path).load(str(spec_file))
        assert isinstance(spec, ApiSpec)
        return Linter(loaded).lint(spec)

    return run


@pytest.fixture(scope="session")
def spectral() -> Path:
    """Spectral's command (installed by the set-up; a missing npm fails, never skips)."""
    try:
        return install_spectral()
    except RuntimeError as error:
        pytest.fail(str(error))
