"""The lint analyzer: documents and a ruleset in, a `Report` out. Never prints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from apigov.findings import Report
from apigov.lint.engine import Linter
from apigov.lint.ruleset import Ruleset, load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec

DEFAULT_RULESET = "apigov:recommended"
DISCOVERED_FILES = (".spectral.yaml", ".spectral.yml", ".spectral.json")


def discover_ruleset(explicit: str | None, folder: Path | None = None) -> str:
    """`--ruleset`, else `.spectral.yaml|yml|json` in the working folder, else the default.

    apigov.yaml's `lint.ruleset` comes between the two once apigov has a config file loader.
    """
    if explicit:
        return explicit
    here = folder or Path.cwd()
    for name in DISCOVERED_FILES:
        if (here / name).is_file():
            return str(here / name)
    return DEFAULT_RULESET


def lint_targets(targets: Sequence[str], loader: Loader, ruleset: Ruleset) -> Report:
    """Lint every OpenAPI document among the targets (folders expand to contract files).

    Pact files and service.yaml files in a contracts folder are not OpenAPI documents and are
    left to `validate`.
    """
    report = Report(command="lint")
    linter = Linter(ruleset)
    for target in loader.expand(targets):
        document = loader.load(target)
        if not isinstance(document, ApiSpec):
            continue
        report.inputs.append(document.name)
        report.findings.extend(linter.lint(document))
    return report


def lint_paths(targets: Sequence[str], loader: Loader, ruleset_reference: str | None) -> Report:
    return lint_targets(targets, loader, load_ruleset(discover_ruleset(ruleset_reference)))
