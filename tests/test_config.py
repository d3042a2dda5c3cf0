"""Project configuration: discovery order, defaults, and one clear error per mistake."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from apigov.config import Config, EnvironmentSetting, find_config_file, load_config
from apigov.spec.errors import InputError
from helpers import run_apigov, write


def git_init(folder: Path) -> None:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)


def test_no_file_gives_defaults_rooted_at_the_start_folder(tmp_path: Path) -> None:
    git_init(tmp_path)
    config = load_config(start=tmp_path)
    assert config.file is None
    assert config.contracts == tmp_path.resolve() / "contracts"
    assert config.registry is None and config.fail_on is None
    assert config.section("lint") == {}
    assert config.name == "(defaults)"


def test_apigov_yaml_is_found_from_a_subfolder_and_paths_are_relative_to_it(
    tmp_path: Path,
) -> None:
    git_init(tmp_path)
    write(
        tmp_path,
        "apigov.yaml",
        """\
contracts: api/contracts
registry: postgresql://apigov@db/registry
fail-on: warning
environments:
  - staging
  - {name: production, production: true}
lint:
  ruleset: rules/house.yaml
can-i-deploy:
  require: [verification, fuzz@staging]
""",
    )
    nested = tmp_path / "services" / "orders"
    nested.mkdir(parents=True)
    config = load_config(start=nested)
    assert config.file == tmp_path.resolve() / "apigov.yaml"
    assert config.contracts == tmp_path.resolve() / "api" / "contracts"
    assert config.registry == "postgresql://apigov@db/registry"
    assert config.fail_on == "warning"
    assert config.environments == (
        EnvironmentSetting("staging", False),
        EnvironmentSetting("production", True),
    )
    assert config.is_production("production") and not config.is_production("staging")
    assert config.gate_require == ("verification", "fuzz@staging")
    assert config.path(config.section("lint")["ruleset"]) == tmp_path.resolve() / "rules/house.yaml"


def test_discovery_stops_at_the_top_of_the_git_work_tree(tmp_path: Path) -> None:
    # A configuration above the repository (a home folder, say) must not steer the run.
    write(tmp_path, "apigov.yaml", "fail-on: never\n")
    repository = tmp_path / "repo"
    repository.mkdir()
    git_init(repository)
    assert find_config_file(repository) is None
    assert load_config(start=repository).fail_on is None


def test_pyproject_tool_table_is_read_and_other_pyprojects_are_ignored(tmp_path: Path) -> None:
    git_init(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    write(project, "pyproject.toml", '[project]\nname = "x"\n')
    write(tmp_path, "pyproject.toml", '[tool.apigov]\nfail-on = "info"\ncontracts = "specs"\n')
    config = load_config(start=project)
    assert config.file == tmp_path.resolve() / "pyproject.toml"
    assert config.fail_on == "info"
    assert config.contracts == tmp_path.resolve() / "specs"


def test_apigov_yaml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    git_init(tmp_path)
    write(tmp_path, "pyproject.toml", '[tool.apigov]\nfail-on = "info"\n')
    write(tmp_path, "apigov.yaml", "fail-on: warning\n")
    assert load_config(start=tmp_path).fail_on == "warning"


def test_a_fully_commented_starter_file_is_an_empty_configuration(tmp_path: Path) -> None:
    git_init(tmp_path)
    write(tmp_path, "apigov.yaml", "# contracts: contracts\n#   fail-on: error\n---\n")
    config = load_config(start=tmp_path)
    assert config.file is not None and config.fail_on is None


def test_explicit_file_is_used_even_outside_the_tree(tmp_path: Path) -> None:
    chosen = write(tmp_path / "elsewhere", "ci.yaml", "registry: https://registry.internal\n")
    assert load_config(chosen, start=tmp_path).registry == "https://registry.internal"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fail-on: sometimes\n", "fail-on: must be one of error, warning, info, never"),
        ("contract: x\n", "contract: unknown setting (known: "),
        ("lint: apigov:oas\n", "lint: must be a mapping"),
        ("environments: production\n", "environments: must be a list of names"),
        ("environments: [{name: p, production: yes-please}]\n", "environments.0.production"),
        ("environments: [staging, staging]\n", "'staging' is listed twice"),
        ("can-i-deploy: {require: verification}\n", "can-i-deploy.require: must be a list"),
        ("registry: ''\n", "registry: must be a non-empty string"),
        ("- just\n- a list\n", "not a mapping"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    file = write(tmp_path, "apigov.yaml", text)
    with pytest.raises(InputError) as caught:
        load_config(file)
    line = str(caught.value)
    assert "\n" not in line
    assert "apigov.yaml" in line
    assert message in line


def test_hostile_yaml_is_refused_like_any_document(tmp_path: Path) -> None:
    bomb = Path(__file__).parent / "data" / "alias-bomb.yaml"
    file = write(tmp_path, "apigov.yaml", bomb.read_text())
    with pytest.raises(InputError):
        load_config(file)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    file = write(tmp_path, "pyproject.toml", "[tool.apigov\n")
    with pytest.raises(InputError, match=r"pyproject\.toml: not valid TOML"):
        load_config(file)


def test_missing_explicit_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such configuration file"):
        load_config(tmp_path / "absent.yaml")


def test_config_is_immutable(tmp_path: Path) -> None:
    config = Config(file=None, root=tmp_path, contracts=tmp_path / "contracts")
    with pytest.raises(AttributeError):
        config.fail_on = "never"  # type: ignore[misc]


# One warning (`info-contact` of spectral:oas: the info object names no contact), no error.
ONE_WARNING = """\
openapi: 3.0.3
info: {title: T, version: '1', description: d}
servers: [{url: 'https://example.test/v1'}]
tags: [{name: t, description: d}]
paths: {}
"""


@pytest.mark.parametrize(
    ("configured", "flag", "exit_code"),
    [
        (None, None, 0),  # the default threshold is error
        ("warning", None, 1),  # the file's fail-on applies
        ("warning", "error", 0),  # the command line wins over the file
        (None, "warning", 1),
        ("never", None, 0),
    ],
)
def test_lint_takes_fail_on_from_the_configuration_file(
    tmp_path: Path, configured: str | None, flag: str | None, exit_code: int
) -> None:
    git_init(tmp_path)
    write(tmp_path, "openapi.yaml", ONE_WARNING)
    if configured is not None:
        write(tmp_path, "apigov.yaml", f"fail-on: {configured}\n")
    options = ["--fail-on", flag] if flag else []
    run = run_apigov(
        "lint", "openapi.yaml", "--ruleset", "spectral:oas", "-f", "json", *options, cwd=tmp_path
    )
    assert run.code == exit_code, run.stderr
    findings = json.loads(run.stdout)["findings"]
    assert [(f["id"], f["level"]) for f in findings] == [("info-contact", "warning")]


@pytest.mark.parametrize(
    ("pyproject", "holds_table"),
    [
        ('[tool.apigov]\nfail-on = "info"\n', True),
        ('[ tool . apigov ]\nfail-on = "info"\n', True),
        ('[tool."apigov"]\nfail-on = "info"\n', True),
        ('["tool".apigov.lint]\nruleset = "x"\n', True),
        ('[tool]\napigov = {fail-on = "info"}\n', True),
        ('[tool]\napigov.fail-on = "info"\n', True),
        ('tool.apigov.fail-on = "info"\n', True),
        ('tool = {apigov = {fail-on = "info"}}\n', True),
        # Our own project's shape: the name everywhere, other tools' tables, no apigov table.
        (
            '[project]\nname = "apigov"\n[project.scripts]\napigov = "apigov.cli:main"\n'
            "[tool.ruff]\nline-length = 99\n# [tool.apigov] later\n",
            False,
        ),
        ("[tool]\nruff = {line-length = 99}\n", False),
        ("[[tool.apigov]]\nx = 1\n", False),  # an array of tables, not a table
    ],
)
def test_pyproject_is_ours_exactly_when_toml_reads_a_tool_apigov_table(
    tmp_path: Path, pyproject: str, holds_table: bool
) -> None:
    git_init(tmp_path)
    write(tmp_path, "pyproject.toml", pyproject)
    found = find_config_file(tmp_path)
    assert (found == tmp_path.resolve() / "pyproject.toml") is holds_table
