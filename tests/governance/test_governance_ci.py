"""`apigov init`, the GitLab report format, the GitHub action and the pre-commit hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from apigov.cli.init import starter_config
from apigov.config import load_config
from apigov.findings import Finding, Level, Location, Report
from apigov.report import render
from apigov.spec.loader import Loader
from helpers import REPO, run_apigov


def _registered_commands() -> set[str]:
    from apigov.cli.app import app

    names = {command.name for command in app.registered_commands}
    return {name for name in names if name}


def _yaml(path: Path) -> Any:
    import yaml_rs

    return yaml_rs.loads(path.read_text(encoding="utf-8"))


# ---- apigov init -------------------------------------------------------------------------


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    result = run_apigov("init", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout == "wrote apigov.yaml\n"
    config = load_config(tmp_path / "apigov.yaml")
    assert config.contracts == tmp_path / "contracts"
    assert config.fail_on == "error"
    assert [(e.name, e.production) for e in config.environments] == [
        ("staging", False),
        ("production", True),
    ]
    assert config.section("lint") == {"ruleset": "apigov:recommended"}
    assert config.section("fleet") == {"limits": {"fan-in": 10, "fan-out": 8}}


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "apigov.yaml"
    target.write_text("fail-on: never\n", encoding="utf-8")
    refused = run_apigov("init", cwd=tmp_path)
    assert refused.code == 2
    assert (
        refused.stderr == "apigov: error: apigov.yaml: already exists; pass --force to replace it\n"
    )
    assert target.read_text(encoding="utf-8") == "fail-on: never\n"
    forced = run_apigov("init", "--force", "--contracts", "specs", cwd=tmp_path)
    assert forced.code == 0
    assert load_config(target).contracts == tmp_path / "specs"


def test_starter_settings_are_ones_check_accepts(tmp_path: Path) -> None:
    """The starter's fleet limits are read by the fleet rules, not just by load_config."""
    from apigov.governance.check import resolve_settings

    (tmp_path / "apigov.yaml").write_text(starter_config(), encoding="utf-8")
    settings = resolve_settings(load_config(tmp_path / "apigov.yaml"), Loader())
    assert (settings.fleet.fan_in, settings.fleet.fan_out) == (10, 8)
    assert settings.ruleset == "apigov:recommended"


def test_shipped_example_config_is_the_starter() -> None:
    shipped = REPO / "tests" / "governance" / "data" / "fleet" / "apigov.yaml"
    assert shipped.read_text(encoding="utf-8") == starter_config()


# ---- GitLab Code Quality -------------------------------------------------------------------

REQUIRED = {"description", "check_name", "fingerprint", "severity", "location"}


def test_gitlab_report_shape() -> None:
    report = Report(
        "check",
        [
            Finding(
                "a-rule", Level.ERROR, "broken", Location("x.yaml", "/a", 7, 3), operation="GET /a"
            ),
            Finding("b-rule", Level.WARNING, "meh", Location("y.yaml", "/b")),
            Finding("c-rule", Level.INFO, "note", None, consumers=("billing",)),
        ],
        ["x.yaml", "y.yaml"],
    )
    issues = json.loads(render(report, "gitlab"))
    assert [set(issue) for issue in issues] == [REQUIRED] * 3
    by_name = {issue["check_name"]: issue for issue in issues}
    assert by_name["a-rule"]["severity"] == "major"
    assert by_name["a-rule"]["location"] == {"path": "x.yaml", "lines": {"begin": 7}}
    assert by_name["a-rule"]["description"] == "broken  [GET /a]"
    assert by_name["b-rule"]["severity"] == "minor"
    assert by_name["b-rule"]["location"]["lines"] == {"begin": 1}
    # No file: GitLab needs a path, so the first input document stands in.
    assert by_name["c-rule"]["location"]["path"] == "x.yaml"
    assert by_name["c-rule"]["severity"] == "info"
    assert all(re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"]) for issue in issues)


def test_gitlab_fingerprints_are_unique_and_ignore_line_moves() -> None:
    twice = Report(
        "check",
        [Finding("dup", Level.ERROR, "same", Location("x.yaml", "/p", 1))] * 2,
        ["x.yaml"],
    )
    first, second = json.loads(render(twice, "gitlab"))
    assert first["fingerprint"] != second["fingerprint"]
    moved = Report("check", [Finding("dup", Level.ERROR, "same", Location("x.yaml", "/p", 40))])
    assert json.loads(render(moved, "gitlab"))[0]["fingerprint"] == first["fingerprint"]


def test_gitlab_empty_report_is_an_empty_array() -> None:
    assert render(Report("check"), "gitlab") == "[]\n"


def test_check_offers_the_gitlab_format() -> None:
    result = run_apigov("check", "tests/governance/data/fleet", "--format", "gitlab", "--no-cache")
    assert result.code == 1
    issues = json.loads(result.stdout)
    assert {issue["check_name"] for issue in issues} == {
        "fleet-internal-operation-used",
        "fleet-datastore-read-without-owner",
    }


# ---- GitHub action and pre-commit hooks ----------------------------------------------------

_APIGOV_CALL = re.compile(r"(?:^|\s)apigov (\w[\w-]*)")


def test_action_is_a_composite_that_runs_check_and_uploads_sarif() -> None:
    action = _yaml(REPO / "action.yml")
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    called = set(_APIGOV_CALL.findall(scripts))
    assert {"check", "diff"} <= called
    assert called <= _registered_commands()
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    assert upload["with"]["sarif_file"] == "apigov.sarif"
    assert "--format sarif --output apigov.sarif" in scripts
    assert "--format markdown" in scripts
    # Inputs reach scripts through env, never pasted into the script text (script injection).
    assert "${{ inputs." not in scripts
    for name in action["inputs"]:
        assert action["inputs"][name]["description"]


def test_pre_commit_hooks_name_real_commands_and_match_contract_files() -> None:
    hooks = _yaml(REPO / ".pre-commit-hooks.yaml")
    assert [hook["id"] for hook in hooks] == ["apigov-validate", "apigov-lint", "apigov-check"]
    commands = _registered_commands()
    for hook in hooks:
        program, command = hook["entry"].split()
        assert program == "apigov" and command in commands
        assert hook["language"] == "python"
    patterns = {hook["id"]: re.compile(hook["files"]) for hook in hooks}
    for path in [
        "contracts/orders/openapi.yaml",
        "contracts/shipping/pacts/shipping-orders.json",
        "contracts/orders/service.yaml",
    ]:
        assert patterns["apigov-validate"].search(path), path
        assert patterns["apigov-check"].search(path), path
    assert patterns["apigov-lint"].search("contracts/notifications/openapi.json")
    assert not patterns["apigov-lint"].search("contracts/orders/service.yaml")
    for other in ["README.md", "src/apigov/cli/app.py", "contracts/orders/notes.json"]:
        assert not any(p.search(other) for p in patterns.values()), other


def test_pre_commit_validate_hook_runs_on_the_files_it_matches() -> None:
    hooks = {hook["id"]: hook for hook in _yaml(REPO / ".pre-commit-hooks.yaml")}
    pattern = re.compile(hooks["apigov-validate"]["files"])
    files = sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / "contracts").rglob("*")
        if pattern.search(p.relative_to(REPO).as_posix())
    )
    # 5 specs, 5 service.yaml files, 5 pacts.
    assert len(files) == 15
    result = run_apigov(*hooks["apigov-validate"]["entry"].split()[1:], *files)
    assert result.code == 0, result.stdout


# ---- docs/ci.md and docs/governance.md -------------------------------------------------------

_YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def _ci_snippets() -> list[Any]:
    import yaml_rs

    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    return [yaml_rs.loads(block) for block in _YAML_BLOCK.findall(text)]


def test_ci_doc_snippets_parse_and_name_what_exists() -> None:
    workflow, steps, gitlab, pre_commit = _ci_snippets()
    action_inputs = set(_yaml(REPO / "action.yml")["inputs"])
    (job,) = workflow["jobs"].values()
    action_step = next(s for s in job["steps"] if "apigov@" in s.get("uses", ""))
    assert set(action_step["with"]) <= action_inputs
    assert workflow["permissions"]["security-events"] == "write"
    commands = _registered_commands()
    for step in steps:
        for name in _APIGOV_CALL.findall(step["run"]):
            assert name in commands or name == "apigov"  # `pip install apigov`
    script = " ".join(gitlab["apigov"]["script"])
    assert "apigov check" in script and "--format gitlab" in script
    report = gitlab["apigov"]["artifacts"]["reports"]["codequality"]
    assert f"--output {report}" in script
    hook_ids = {hook["id"] for hook in _yaml(REPO / ".pre-commit-hooks.yaml")}
    (repo,) = pre_commit["repos"]
    assert {hook["id"] for hook in repo["hooks"]} == hook_ids


def test_governance_doc_lists_the_catalogue() -> None:
    from apigov.governance.rules import catalogue_markdown

    assert catalogue_markdown() in (REPO / "docs" / "governance.md").read_text(encoding="utf-8")
