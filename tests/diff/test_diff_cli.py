"""`apigov diff` / `apigov changelog` as a user runs them: inputs, formats, exit codes, policy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from diff_support import TODAY, load_pair

from apigov.diff import policy_from_data, run_diff
from apigov.diff.catalogue import CATALOGUE
from apigov.spec.errors import InputError
from helpers import CONTRACTS, REPO, run_apigov, write

ORDERS = "contracts/orders/openapi.yaml"
ORDERS_HEAD = "tests/diff/data/orders-head.yaml"


def test_diff_same_document_finds_nothing() -> None:
    result = run_apigov("diff", ORDERS, ORDERS)
    assert result.code == 0
    assert result.stdout == "No problems found in 2 documents.\n"


def test_diff_breaking_change_exits_1_and_names_it() -> None:
    result = run_apigov("diff", ORDERS, ORDERS_HEAD, "--format", "json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert report["command"] == "diff"
    found = {(f["id"], f["operation"]) for f in report["findings"]}
    assert ("request-query-parameter-became-required", "GET /orders") in found
    # diff leaves out what cannot break clients; changelog keeps it.
    assert all(f["level"] != "info" for f in report["findings"])
    changelog = json.loads(
        run_apigov(
            "changelog", ORDERS, ORDERS_HEAD, "--format", "json", "--fail-on", "never"
        ).stdout
    )
    assert ("operation-removed-after-sunset", "GET /orders/search") in {
        (f["id"], f["operation"]) for f in changelog["findings"]
    }


def test_diff_fail_on_warning_and_never() -> None:
    assert run_apigov("diff", ORDERS, ORDERS_HEAD, "--fail-on", "never").code == 0
    policy = "tests/diff/data/policy.yaml"
    # The policy lowers the one error to a warning: exit 0 at error, 1 at warning.
    assert run_apigov("diff", ORDERS, ORDERS_HEAD, "--policy", policy).code == 0
    assert (
        run_apigov("diff", ORDERS, ORDERS_HEAD, "--policy", policy, "--fail-on", "warning").code
        == 1
    )


def test_diff_reads_stdin_folders_and_git_revisions(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", BASE)
    from_stdin = run_apigov(
        "diff", str(base), "-", "--format", "json", stdin=HEAD.encode(), cwd=tmp_path
    )
    assert from_stdin.code == 1, from_stdin.stderr
    # GET /internal/stats and the 204 response were removed.
    assert json.loads(from_stdin.stdout)["summary"] == {"error": 2, "warning": 1, "info": 0}
    # A contracts folder holding one OpenAPI document (plus service.yaml and pacts) is that spec.
    assert run_apigov("diff", "contracts/orders", ORDERS).code == 0
    committed = run_apigov("diff", f"HEAD:{ORDERS}", ORDERS)
    assert committed.code in (0, 1), committed.stderr
    assert "apigov: error" not in committed.stderr


def test_diff_input_errors_exit_2(tmp_path: Path) -> None:
    missing = run_apigov("diff", ORDERS, str(tmp_path / "nope.yaml"))
    assert missing.code == 2
    assert missing.stderr.startswith("apigov: error: ")
    several = run_apigov("diff", str(CONTRACTS), ORDERS)
    assert several.code == 2
    assert "expected one OpenAPI document" in several.stderr
    bad_policy = write(tmp_path, "policy.yaml", "levels:\n  no-such-change: error\n")
    result = run_apigov("diff", ORDERS, ORDERS, "--policy", str(bad_policy))
    assert result.code == 2
    assert "unknown change id 'no-such-change'" in result.stderr
    no_reason = write(
        tmp_path, "ignore.yaml", "ignore:\n  - id: path-removed\n    expires: 2030-01-01\n"
    )
    result = run_apigov("diff", ORDERS, ORDERS, "--ignore", str(no_reason))
    assert result.code == 2
    assert "needs reason" in result.stderr


def test_diff_list_checks_text_and_json() -> None:
    text = run_apigov("diff", "--list-checks")
    assert text.code == 0
    lines = text.stdout.splitlines()
    assert lines[-1] == f"{len(CATALOGUE)} checks"
    assert any(line.split()[:2] == ["path-removed", "error"] for line in lines)
    as_json = json.loads(run_apigov("diff", "--list-checks", "--format", "json").stdout)
    entries = {c["id"]: c for c in as_json["checks"]}
    assert len(entries) == len(CATALOGUE)
    assert entries["response-body-enum-value-added"]["level"] == "warning"


def test_diff_missing_head_is_a_usage_error() -> None:
    result = run_apigov("diff", ORDERS)
    assert result.code == 2


BASE = """\
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /orders/{id}:
    delete:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "204": {description: gone}
  /internal/stats:
    get:
      responses:
        "200": {description: ok}
"""
HEAD = """\
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /orders/{id}:
    delete:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: gone}
"""


def test_diff_policy_ignores_expire_and_exceptions_apply(tmp_path: Path) -> None:
    base, head = load_pair(tmp_path, BASE, HEAD)
    plain = run_diff(base, head, today=TODAY)
    assert sorted(f.id for f in plain.findings) == [
        "path-removed",
        "response-success-status-added",
        "response-success-status-removed",
    ]

    def ids_with(data: object, today: dt.date = TODAY) -> list[str]:
        policy = policy_from_data(data, "policy.yaml")
        return sorted(f.id for f in run_diff(base, head, policy=policy, today=today).findings)

    ignore = {
        "ignore": [
            {
                "id": "response-success-status-removed",
                "operation": "DELETE /orders/{id}",
                "reason": "204 became 200, agreed",
                "expires": "2026-06-01",
            }
        ]
    }
    assert ids_with(ignore) == ["path-removed", "response-success-status-added"]
    # The day after the expiry date the change is reported again.
    assert ids_with(ignore, TODAY + dt.timedelta(days=1)) == [
        "path-removed",
        "response-success-status-added",
        "response-success-status-removed",
    ]
    exception = {"exceptions": [{"ids": ["*"], "paths": ["/internal/*"], "reason": "internal"}]}
    status_changes = ["response-success-status-added", "response-success-status-removed"]
    assert ids_with(exception) == status_changes
    assert ids_with({"levels": {"path-removed": "off"}}) == status_changes
    lowered = policy_from_data({"levels": {"path-removed": "info"}}, "p.yaml")
    kept = run_diff(base, head, policy=lowered, today=TODAY, include_info=True)
    assert {f.id: f.level.value for f in kept.findings}["path-removed"] == "info"


def test_diff_policy_errors_name_the_place() -> None:
    for data, message in (
        ({"levels": {"path-removed": "fatal"}}, "level of path-removed"),
        ({"ignore": [{"id": "x", "reason": "r", "expires": "soon"}]}, "expires must be a date"),
        ({"exceptions": [{"ids": ["x"]}]}, "needs a 'reason'"),
        ({"level": {}}, "unknown policy key"),
    ):
        try:
            policy_from_data(data, "p.yaml")
        except InputError as error:
            assert message in str(error)
        else:
            raise AssertionError(f"{data} was accepted")


def test_diff_shipped_policy_is_valid() -> None:
    from apigov.spec.loader import Loader

    data = Loader().source(str(REPO / "rules" / "breaking.yaml")).data
    policy = policy_from_data(data, "rules/breaking.yaml")
    assert policy.levels["response-optional-property-removed"] == "error"


def test_diff_version_check_counts_only_changes_the_policy_keeps(tmp_path: Path) -> None:
    bumped = HEAD.replace("version: 1.0.0", "version: 1.1.0")
    base, head = load_pair(tmp_path, BASE, bumped)
    plain = {f.id for f in run_diff(base, head, today=TODAY).findings}
    assert "api-version-not-bumped-for-breaking-change" in plain
    accepted = policy_from_data(
        {"levels": {"path-removed": "info", "response-success-status-removed": "warning"}}, "p"
    )
    kept = {f.id for f in run_diff(base, head, policy=accepted, today=TODAY).findings}
    assert kept == {"response-success-status-added", "response-success-status-removed"}


def test_diff_base_ref_compares_every_spec_of_a_tree_with_a_revision(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    write(tmp_path, "contracts/orders/openapi.yaml", BASE)
    write(tmp_path, "contracts/notes/openapi.yaml", HEAD)
    git("add", ".")
    git("commit", "-q", "-m", "base")
    write(tmp_path, "contracts/orders/openapi.yaml", HEAD)
    write(tmp_path, "contracts/brand-new/openapi.yaml", HEAD)
    result = run_apigov("diff", "--base-ref", "HEAD", "--format", "json", cwd=tmp_path)
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)
    # orders changed; notes did not; brand-new has no base version, so nothing can break.
    assert sorted(report["inputs"]) == [
        "HEAD:contracts/notes/openapi.yaml",
        "HEAD:contracts/orders/openapi.yaml",
        "contracts/notes/openapi.yaml",
        "contracts/orders/openapi.yaml",
    ]
    assert sorted((f["id"], f["operation"]) for f in report["findings"]) == [
        ("path-removed", "GET /internal/stats"),
        ("response-success-status-added", "DELETE /orders/{id}"),
        ("response-success-status-removed", "DELETE /orders/{id}"),
    ]


def test_diff_reads_its_policy_from_the_configuration_file(tmp_path: Path) -> None:
    # Outside any git work tree, so discovery stops at tmp_path; the specs stay in the repo.
    specs = (str(REPO / ORDERS), str(REPO / ORDERS_HEAD), "--root", str(REPO))
    write(tmp_path, "apigov.yaml", "diff:\n  policy: rules/lenient.yaml\n")
    write(
        tmp_path,
        "rules/lenient.yaml",
        "levels:\n  request-query-parameter-became-required: warning\n",
    )
    # The one breaking change is a warning under the configured policy (relative to the file).
    configured = run_apigov("diff", *specs, "--format", "json", cwd=tmp_path)
    assert configured.code == 0, configured.stderr
    assert json.loads(configured.stdout)["summary"]["error"] == 0
    # --policy wins over the configuration.
    strict = write(tmp_path, "strict.yaml", "levels: {}\n")
    assert run_apigov("diff", *specs, "--policy", str(strict), cwd=tmp_path).code == 1
    write(tmp_path, "apigov.yaml", "diff:\n  polcy: rules/lenient.yaml\n")
    misspelt = run_apigov("diff", *specs, cwd=tmp_path)
    assert misspelt.code == 2
    assert "unknown diff setting(s): polcy" in misspelt.stderr
