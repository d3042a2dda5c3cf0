"""The lint analyzer: documents and a ruleset in, a `Report` out. Never prints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from apigov.config import Config
from apigov.findings import Report, RuleInfo
from apigov.lint.engine import Linter
from apigov.lint.ruleset import BUILTIN_RULESETS, Rule, Ruleset, load_ruleset
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec

DEFAULT_RULESET = "apigov:recommended"
DISCOVERED_FILES = (".spectral.yaml", ".spectral.yml", ".spectral.json")
# The generated reference of every built-in rule; each rule is a heading named by its id, so
# `#<rule id>` is its anchor (tests/lint keeps the page in step with the rulesets).
RULES_PAGE = "https://github.com/apigov/apigov/blob/main/docs/lint-rules.md"
CONFIG_KEYS = frozenset({"ruleset"})


def discover_ruleset(
    explicit: str | None, config: Config | None = None, folder: Path | None = None
) -> str:
    """The ruleset to use: the first of

    1. `explicit` (`--ruleset`);
    2. `lint.ruleset` in the project configuration (a built-in name, or a file relative to the
       folder holding the configuration file);
    3. `.spectral.yaml`, `.spectral.yml` or `.spectral.json` in `folder` (the working folder);
    4. `apigov:recommended`.
    """
    if explicit:
        return explicit
    if config is not None:
        configured = configured_ruleset(config)
        if configured is not None:
            return configured
    here = folder or Path.cwd()
    for name in DISCOVERED_FILES:
        if (here / name).is_file():
            return str(here / name)
    return DEFAULT_RULESET


def configured_ruleset(config: Config) -> str | None:
    """`lint.ruleset` from the configuration, as a built-in name or an absolute file path."""
    section = config.section("lint")
    unknown = sorted(set(section) - CONFIG_KEYS)
    if unknown:
        # A misspelt key silently ignored would lint with a ruleset nobody chose.
        raise _config_error(config, f"lint.{unknown[0]}", "unknown setting (known: ruleset)")
    value = section.get("ruleset")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _config_error(config, "lint.ruleset", "must be a ruleset file or a built-in name")
    if value in BUILTIN_RULESETS:
        return value
    if value.split(":", 1)[0] in ("apigov", "spectral") and not config.path(value).exists():
        known = ", ".join(sorted(BUILTIN_RULESETS))
        raise _config_error(config, "lint.ruleset", f"unknown built-in ruleset (known: {known})")
    path = config.path(value)
    if not path.is_file():
        raise _config_error(config, "lint.ruleset", f"ruleset file not found: {path}")
    return str(path)


def _config_error(config: Config, key: str, message: str) -> InputError:
    in_pyproject = config.file is not None and config.file.name == "pyproject.toml"
    place = f"[tool.apigov].{key}" if in_pyproject else key
    pointer = None if in_pyproject else "/" + key.replace(".", "/")
    return InputError(config.name, f"{place}: {message}", pointer=pointer)


def rule_info(rule: Rule) -> RuleInfo:
    """How reporters describe a rule: built-in rules link to their entry in docs/lint-rules.md,
    a ruleset's own rules to their `documentationUrl`."""
    help_uri = f"{RULES_PAGE}#{rule.name}" if rule.builtin else rule.documentation_url
    return RuleInfo(
        id=rule.name, description=rule.description, help_uri=help_uri, level=rule.severity
    )


def lint_targets(
    targets: Sequence[str], loader: Loader, ruleset: Ruleset, *, helper: bool = False
) -> Report:
    """Lint every OpenAPI document among the targets (folders expand to contract files).

    Pact files and service.yaml files in a contracts folder are not OpenAPI documents and are
    left to `validate`.
    """
    report = Report(command="lint")
    # Every rule, on or off: an override may turn a rule on for some files only.
    report.rules = {name: rule_info(rule) for name, rule in ruleset.rules.items()}
    linter = Linter(ruleset, helper=helper)
    for target in loader.expand(targets):
        document = loader.load(target)
        if not isinstance(document, ApiSpec):
            continue
        report.inputs.append(document.name)
        report.findings.extend(linter.lint(document))
    return report


def lint_paths(
    targets: Sequence[str],
    loader: Loader,
    ruleset_reference: str | None,
    config: Config | None = None,
    *,
    helper: bool = False,
) -> Report:
    ruleset = load_ruleset(discover_ruleset(ruleset_reference, config))
    return lint_targets(targets, loader, ruleset, helper=helper)
