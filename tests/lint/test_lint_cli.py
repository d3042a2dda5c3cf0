"""`apigov lint` as a user runs it: exit codes, formats, ruleset discovery, input errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import REPO, run_apigov, write

DATA = Path(__file__).resolve().parent / "data"
SHOP = DATA / "shop.yaml"


def test_recommended_findings_and_exit_code() -> None:
    result = run_apigov("lint", str(SHOP), "--format", "json")
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["command"] == "lint"
    found = {(f["id"], f["location"]["line"]) for f in report["findings"]}
    # worked out from shop.yaml: http server (line 8), page parameter (21), POST without
    # operationId (30), a 400 answered as application/json (41), snake_case property (52),
    # an integer in a string enum (53).
    assert found == {
        ("servers-https", 8),
        ("pagination-parameters", 21),
        ("operation-operationId", 30),
        ("problem-details-errors", 41),
        ("properties-camel-case", 52),
        ("typed-enum", 53),
    }
    assert report["summary"] == {"error": 3, "warning": 3, "info": 0}


def test_fail_on_threshold() -> None:
    assert run_apigov("lint", str(SHOP), "--fail-on", "never").code == 0
    house = str(DATA / "house-rules.yaml")
    # house rules: one error (http server) and warnings
    assert run_apigov("lint", str(SHOP), "-r", house).code == 1
    assert run_apigov("lint", str(SHOP), "-r", house, "--fail-on", "warning").code == 1


def test_spectral_ruleset_discovered_in_working_folder(tmp_path: Path) -> None:
    shutil.copy(SHOP, tmp_path / "openapi.yaml")
    write(
        tmp_path,
        ".spectral.yaml",
        "rules:\n  only-rule:\n    given: $.info\n    then: {field: summary, function: truthy}\n",
    )
    result = run_apigov("lint", "openapi.yaml", "--format", "json", cwd=tmp_path)
    ids = {f["id"] for f in json.loads(result.stdout)["findings"]}
    assert ids == {"only-rule"}
    assert result.code == 0  # a warning does not fail the default threshold


def test_sarif_carries_rule_ids(tmp_path: Path) -> None:
    result = run_apigov("lint", str(SHOP), "--format", "sarif", "-o", str(tmp_path / "r.sarif"))
    assert result.code == 1
    sarif = json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))
    rule_ids = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert "servers-https" in rule_ids


def test_input_errors_exit_2(tmp_path: Path) -> None:
    missing = run_apigov("lint", str(SHOP), "-r", str(tmp_path / "nope.yaml"))
    assert missing.code == 2
    assert "ruleset file not found" in missing.stderr
    broken = write(
        tmp_path, "bad.yaml", "rules:\n  r:\n    given: $.x\n    then: {function: nah}\n"
    )
    result = run_apigov("lint", str(SHOP), "-r", str(broken))
    assert result.code == 2
    assert "unknown function 'nah'" in result.stderr
    assert run_apigov("lint", str(tmp_path / "absent.yaml")).code == 2


def test_fleet_has_no_errors_or_warnings() -> None:
    result = run_apigov("lint", "contracts/", "--format", "json", cwd=REPO)
    assert result.code == 0, result.stdout
    summary = json.loads(result.stdout)["summary"]
    assert summary["error"] == 0 and summary["warning"] == 0
