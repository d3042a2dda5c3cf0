"""Which ruleset `apigov lint` uses: --ruleset, then apigov.yaml's lint.ruleset, then
.spectral.yaml in the working folder, then apigov:recommended."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apigov.config import load_config
from apigov.lint.analyze import DEFAULT_RULESET, discover_ruleset
from apigov.spec.errors import InputError
from helpers import MINIMAL_30, run_apigov, write


def _marker_ruleset(rule: str) -> str:
    """A ruleset with one rule that fires once on MINIMAL_30 (it has no info.summary)."""
    return f"rules:\n  {rule}:\n    given: $.info\n    then: {{field: summary, function: truthy}}\n"


def _fired(folder: Path, *args: str) -> set[str]:
    result = run_apigov("lint", "openapi.yaml", "--format", "json", *args, cwd=folder)
    assert result.code == 0, result.stderr
    return {finding["id"] for finding in json.loads(result.stdout)["findings"]}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a document, a .spectral.yaml and an apigov.yaml naming another ruleset."""
    write(tmp_path, "openapi.yaml", MINIMAL_30)
    write(tmp_path, ".spectral.yaml", _marker_ruleset("from-spectral-file"))
    write(tmp_path, "style/house.yaml", _marker_ruleset("from-config"))
    write(tmp_path, "explicit.yaml", _marker_ruleset("from-option"))
    write(tmp_path, "apigov.yaml", "lint:\n  ruleset: style/house.yaml\n")
    return tmp_path


def test_option_wins_over_configuration_and_spectral_file(project: Path) -> None:
    assert _fired(project, "--ruleset", "explicit.yaml") == {"from-option"}


def test_configuration_wins_over_spectral_file(project: Path) -> None:
    assert _fired(project) == {"from-config"}


def test_spectral_file_without_configuration(project: Path) -> None:
    (project / "apigov.yaml").unlink()
    assert _fired(project) == {"from-spectral-file"}


def test_spectral_file_when_configuration_names_no_ruleset(project: Path) -> None:
    write(project, "apigov.yaml", "fail-on: error\n")
    assert _fired(project) == {"from-spectral-file"}


def test_recommended_without_anything(tmp_path: Path) -> None:
    assert discover_ruleset(None, load_config(start=tmp_path), tmp_path) == DEFAULT_RULESET
    write(tmp_path, "openapi.yaml", MINIMAL_30)
    # MINIMAL_30 has no servers and no security: recommended rules say so.
    fired = _fired(tmp_path, "--fail-on", "never")
    assert {"oas3-api-servers", "operation-security-required"} <= fired


def test_configuration_path_is_relative_to_the_configuration_file(tmp_path: Path) -> None:
    write(tmp_path, "work/openapi.yaml", MINIMAL_30)
    write(tmp_path, "settings/rules/house.yaml", _marker_ruleset("from-config"))
    config = write(tmp_path, "settings/apigov.yaml", "lint: {ruleset: rules/house.yaml}\n")
    # Run from another folder: the path in the file still means settings/rules/house.yaml.
    assert _fired(tmp_path / "work", "--config", str(config)) == {"from-config"}


def test_configuration_may_name_a_builtin_ruleset(project: Path) -> None:
    write(project, "apigov.yaml", "lint:\n  ruleset: spectral:oas\n")
    assert discover_ruleset(None, load_config(start=project), project) == "spectral:oas"
    fired = _fired(project, "--fail-on", "never")
    # spectral:oas, not apigov:recommended: no governance rules, and not the .spectral.yaml
    assert "oas3-api-servers" in fired
    assert "operation-security-required" not in fired
    assert "from-spectral-file" not in fired


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write(tmp_path, "house.yaml", _marker_ruleset("from-pyproject"))
    write(tmp_path, "pyproject.toml", '[tool.apigov.lint]\nruleset = "house.yaml"\n')
    assert discover_ruleset(None, load_config(start=tmp_path), tmp_path) == str(
        tmp_path / "house.yaml"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lint: {ruleset: missing.yaml}\n", "apigov.yaml: lint.ruleset: ruleset file not found"),
        ("lint: {ruleset: apigov:strict}\n", "apigov.yaml: lint.ruleset: unknown built-in ruleset"),
        (
            "lint: {ruleset: [a, b]}\n",
            "apigov.yaml: lint.ruleset: must be a ruleset file or a built-in name",
        ),
        (
            "lint: {rulset: house.yaml}\n",
            "apigov.yaml: lint.rulset: unknown setting (known: ruleset)",
        ),
    ],
)
def test_configuration_mistakes_exit_2(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "openapi.yaml", MINIMAL_30)
    write(tmp_path, "apigov.yaml", text)
    with pytest.raises(InputError, match=re.escape(message.split(": ", 1)[1])):
        discover_ruleset(None, load_config(start=tmp_path), tmp_path)
    result = run_apigov("lint", "openapi.yaml", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith(f"apigov: error: {message}")


def test_explicit_option_ignores_a_bad_configured_ruleset(tmp_path: Path) -> None:
    # The configuration file itself is read (and must be valid), but a wrong lint.ruleset only
    # matters when it is the one being used.
    write(tmp_path, "apigov.yaml", "lint: {ruleset: missing.yaml}\n")
    assert discover_ruleset("spectral:oas", load_config(start=tmp_path), tmp_path) == (
        "spectral:oas"
    )


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "openapi.yaml", MINIMAL_30)
    result = run_apigov("lint", "openapi.yaml", "--config", "nope.yaml", cwd=tmp_path)
    assert result.code == 2
    assert "nope.yaml: no such configuration file" in result.stderr
