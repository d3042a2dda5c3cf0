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


def test_sarif_carries_rule_metadata(tmp_path: Path) -> None:
    result = run_apigov("lint", str(SHOP), "--format", "sarif", "-o", str(tmp_path / "r.sarif"))
    assert result.code == 1
    sarif = json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))
    driver = sarif["runs"][0]["tool"]["driver"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    # one entry per rule that fired (six, see test_recommended_findings_and_exit_code)
    assert len(rules) == 6
    assert rules["servers-https"] == {
        "id": "servers-https",
        "shortDescription": {
            "text": "Server URLs use https (relative URLs inherit the scheme of the document)."
        },
        "fullDescription": {
            "text": "Server URLs use https (relative URLs inherit the scheme of the document)."
        },
        "helpUri": "https://github.com/apigov/apigov/blob/main/docs/lint-rules.md#servers-https",
        "defaultConfiguration": {"level": "error"},
    }
    # a Spectral rule raised to error by apigov:recommended: its level there is error
    assert rules["operation-operationId"]["defaultConfiguration"] == {"level": "error"}
    for result in sarif["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_help_uri_of_a_house_rule_is_its_documentation_url(tmp_path: Path) -> None:
    ruleset = write(
        tmp_path,
        "house.yaml",
        "extends: [[spectral:oas, off]]\n"
        "documentationUrl: https://wiki.example.org/api-style\n"
        "rules:\n"
        "  no-http-servers:\n"
        "    description: Servers are reached over https.\n"
        "    severity: error\n"
        "    given: $.servers[*].url\n"
        "    then: {function: pattern, functionOptions: {match: '^https://'}}\n"
        "  own-page:\n"
        "    documentationUrl: https://wiki.example.org/contact\n"
        "    given: $.info\n"
        "    then: {field: summary, function: truthy}\n",
    )
    result = run_apigov("lint", str(SHOP), "-r", str(ruleset), "--format", "sarif")
    assert result.code == 1
    rules = {r["id"]: r for r in json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {"no-http-servers", "own-page"}
    # a ruleset-wide documentationUrl gets the rule's name as anchor, as in Spectral
    assert (
        rules["no-http-servers"]["helpUri"] == "https://wiki.example.org/api-style#no-http-servers"
    )
    assert rules["own-page"]["helpUri"] == "https://wiki.example.org/contact"
    assert rules["own-page"]["defaultConfiguration"] == {"level": "warning"}


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
