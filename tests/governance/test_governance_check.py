"""`apigov check`: the example fleet is clean, a breaking branch fails naming who it breaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from governance_support import example_fleet_repository, git

from apigov.governance.check import CheckSettings, Verdict, run_check
from apigov.governance.rules import FleetSettings
from apigov.spec.loader import Loader
from helpers import CONTRACTS, REPO, run_apigov

PAYMENT_ID = """\
        paymentId:
          type:
            - string
            - 'null'
          format: uuid
          description: The payment in the payments service, once one was authorised.
"""
ORDERS_SPEC = Path("contracts/orders/openapi.yaml")


@pytest.fixture
def fleet_repo(tmp_path: Path) -> Path:
    return example_fleet_repository(tmp_path / "repo")


def test_example_fleet_is_clean() -> None:
    result = run_apigov("check", "contracts", "--no-cache", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["command"] == "check"
    assert report["summary"]["error"] == 0
    # 5 OpenAPI documents, orders' AsyncAPI document, 5 service.yaml files and 5 pacts.
    assert len(report["inputs"]) == 16
    # notifications' message pact is checked against orders' AsyncAPI document, not skipped.
    assert "compat-interaction-not-checked" not in {f["id"] for f in report["findings"]}
    messages = [f for f in report["findings"] if f["id"] == "compat-message-field-optional"]
    assert {f["operation"] for f in messages} == {
        "message an order.created event",
        "message an order.cancelled event",
    }


def test_breaking_branch_fails_naming_consumer_and_interaction(fleet_repo: Path) -> None:
    git(fleet_repo, "checkout", "-q", "-b", "drop-payment-id")
    spec = fleet_repo / ORDERS_SPEC
    text = spec.read_text(encoding="utf-8")
    assert PAYMENT_ID in text
    spec.write_text(text.replace(PAYMENT_ID, ""), encoding="utf-8")
    git(fleet_repo, "commit", "-qam", "orders: drop paymentId")

    result = run_apigov("check", "--base-ref", "main", "--format", "json", cwd=fleet_repo)
    assert result.code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    broken = [f for f in findings if f["level"] == "error"]
    # shipping's pact reads paymentId in two interactions; nothing else uses it.
    assert {f["id"] for f in broken} == {"compat-response-field-undefined"}
    assert sorted(f["operation"] for f in broken) == ["GET /orders", "GET /orders/{orderId}"]
    for finding in broken:
        assert finding["consumers"] == ["shipping"]
        assert finding["service"] == "orders"
        assert finding["location"]["file"] == "contracts/shipping/pacts/shipping-orders.json"
    messages = " ".join(f["message"] for f in broken)
    assert "interaction 'a request for a paid order'" in messages
    assert "interaction 'a request for paid orders waiting to be shipped'" in messages
    # The consumer-aware diff against main names, per change, only the interactions that read
    # the removed field: shipping's two, not notifications' (it never reads paymentId).
    removed = {
        f["operation"]: f
        for f in findings
        if f["id"] == "response-optional-property-removed"
        and f["operation"] in ("GET /orders", "GET /orders/{orderId}")
    }
    assert removed["GET /orders"]["consumers"] == ["shipping"]
    assert removed["GET /orders/{orderId}"]["consumers"] == ["shipping"]
    assert removed["GET /orders/{orderId}"]["message"].endswith(
        "interactions: shipping 'a request for a paid order'"
    )
    unused = [
        f
        for f in findings
        if f["id"] == "response-optional-property-removed" and f["operation"] == "POST /orders"
    ]
    assert unused and unused[0]["consumers"] == []


def test_non_breaking_branch_passes(fleet_repo: Path) -> None:
    git(fleet_repo, "checkout", "-q", "-b", "add-gift-note")
    spec = fleet_repo / ORDERS_SPEC
    text = spec.read_text(encoding="utf-8")
    gift_note = PAYMENT_ID + "        giftNote:\n          type: string\n          maxLength: 200\n"
    spec.write_text(text.replace(PAYMENT_ID, gift_note), encoding="utf-8")
    git(fleet_repo, "commit", "-qam", "orders: optional gift note")

    result = run_apigov("check", "--base-ref", "main", "--format", "json", cwd=fleet_repo)
    assert result.code == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["level"] == "error"] == []


def test_removing_a_used_operation_without_deprecation_fails(fleet_repo: Path) -> None:
    git(fleet_repo, "checkout", "-q", "-b", "drop-list")
    spec = fleet_repo / ORDERS_SPEC
    lines = spec.read_text(encoding="utf-8").splitlines(keepends=True)
    # /orders holds `get` (listing, used by shipping) then `post`; drop only the `get`.
    start = lines.index("  /orders:\n") + 1
    end = lines.index("    post:\n", start)
    spec.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")

    result = run_apigov("check", "--base-ref", "main", "--format", "json", cwd=fleet_repo)
    assert result.code == 1
    findings = json.loads(result.stdout)["findings"]
    (removed,) = [
        f for f in findings if f["id"] == "fleet-used-operation-removed-without-deprecation"
    ]
    assert removed["operation"] == "GET /orders"
    assert removed["consumers"] == ["shipping"]


def test_base_ref_must_be_a_revision(fleet_repo: Path) -> None:
    result = run_apigov("check", "--base-ref", "no-such-branch", cwd=fleet_repo)
    assert result.code == 2
    assert result.stderr == "apigov: error: no-such-branch: not a git revision\n"


def test_warm_run_reads_the_cache_and_a_change_is_reanalysed(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    settings = CheckSettings(cache_folder=tmp_path / "cache")
    cold = run_check(str(tmp_path / "contracts"), Loader(), settings, replay=False)
    # 16 documents validated, 5 specs linted, 5 pacts checked against OpenAPI documents, and
    # the 2 pacts with orders (which has an AsyncAPI document) against it: 28, none cached.
    assert (cold.cache.hits, cold.cache.misses) == (0, 28)
    warm = run_check(str(tmp_path / "contracts"), Loader(), settings, replay=False)
    assert (warm.cache.hits, warm.cache.misses) == (28, 0)
    assert warm.report.findings == cold.report.findings

    payments = tmp_path / "contracts" / "payments" / "openapi.yaml"
    payments.write_text(payments.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = run_check(str(tmp_path / "contracts"), Loader(), settings, replay=False)
    # The payments spec: validation, lint and the orders -> payments pact check run again.
    assert (edited.cache.hits, edited.cache.misses) == (25, 3)


def test_unchanged_tree_replays_the_whole_report(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    tree = str(tmp_path / "contracts")
    settings = CheckSettings(cache_folder=tmp_path / "cache")
    cold = run_check(tree, Loader(), settings)
    assert not cold.replayed and cold.graph is not None
    warm = run_check(tree, Loader(), settings)
    assert warm.replayed and warm.graph is None
    assert warm.report.findings == cold.report.findings
    assert warm.report.inputs == cold.report.inputs
    # contracts/_shared/common.yaml is no contract file, but specs $ref it: a dependency.
    shared = tmp_path / "contracts" / "_shared" / "common.yaml"
    shared.write_text(shared.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after_edit = run_check(tree, Loader(), settings)
    assert not after_edit.replayed
    assert after_edit.report.findings == cold.report.findings
    # A different fleet setting is a different run.
    stricter = CheckSettings(cache_folder=tmp_path / "cache", fleet=FleetSettings(fan_in=1))
    strict = run_check(tree, Loader(), stricter)
    assert not strict.replayed
    assert "fleet-fan-in-exceeded" in {f.id for f in strict.report.findings}


def test_damaged_cache_entry_is_recomputed(tmp_path: Path) -> None:
    settings = CheckSettings(cache_folder=tmp_path / "cache")
    cold = run_check(str(CONTRACTS), Loader(), settings)
    assert not cold.replayed
    for entry in (tmp_path / "cache").rglob("*.json"):
        entry.write_bytes(b"{not json")
    again = run_check(str(CONTRACTS), Loader(), settings)
    assert not again.replayed and again.cache.hits == 0
    assert again.report.findings == cold.report.findings


def test_verdicts_per_edge() -> None:
    result = run_check(str(CONTRACTS), Loader(), CheckSettings())
    assert result.verdicts == {
        ("notifications", "orders"): Verdict.COMPATIBLE,
        ("notifications", "shipping"): Verdict.COMPATIBLE,
        ("orders", "inventory"): Verdict.COMPATIBLE,
        ("orders", "payments"): Verdict.COMPATIBLE,
        ("shipping", "orders"): Verdict.COMPATIBLE,
    }


def test_config_sets_fail_on_and_fleet_limits(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    (tmp_path / "apigov.yaml").write_text(
        "fail-on: warning\nfleet:\n  limits:\n    fan-in: 1\n", encoding="utf-8"
    )
    result = run_apigov("check", "--no-cache", "--format", "json", cwd=tmp_path)
    assert result.code == 1, result.stderr
    ids = {f["id"] for f in json.loads(result.stdout)["findings"]}
    assert "fleet-fan-in-exceeded" in ids
    # --fail-on on the command line wins over the file.
    assert run_apigov("check", "--no-cache", "--fail-on", "error", cwd=tmp_path).code == 0


def test_config_points_at_a_fleet_rules_file(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    rules = (REPO / "rules" / "fleet.yaml").read_text(encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "fleet.yaml").write_text(
        rules.replace("fan-out: 8", "fan-out: 1"), encoding="utf-8"
    )
    (tmp_path / "apigov.yaml").write_text("fleet:\n  rules: rules/fleet.yaml\n", encoding="utf-8")
    result = run_apigov(
        "check", "--no-cache", "--format", "json", "--fail-on", "warning", cwd=tmp_path
    )
    assert result.code == 1, result.stderr
    fan_out = [
        f for f in json.loads(result.stdout)["findings"] if f["id"] == "fleet-fan-out-exceeded"
    ]
    # orders calls inventory and payments; notifications calls orders and shipping.
    assert sorted(f["service"] for f in fan_out) == ["notifications", "orders"]


def test_sarif_describes_fleet_rules_and_a_replay_prints_the_same(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "tests" / "governance" / "data" / "fleet", tmp_path / "fleet")
    first = run_apigov("check", "fleet", "--format", "sarif", cwd=tmp_path)
    second = run_apigov("check", "fleet", "--format", "sarif", cwd=tmp_path)
    assert first.code == second.code == 1
    assert first.stdout == second.stdout
    rules = {r["id"]: r for r in json.loads(first.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {"fleet-internal-operation-used", "fleet-datastore-read-without-owner"}
    assert rules["fleet-datastore-read-without-owner"]["helpUri"].endswith(
        "docs/governance.md#fleet-rules"
    )
    # The second run was replayed from the cache the first one wrote in the working folder.
    assert any((tmp_path / ".apigov" / "cache").rglob("*.json"))


def test_invalid_provider_spec_is_reported_once(tmp_path: Path) -> None:
    from governance_support import pact, service_yaml, write_service

    write_service(tmp_path, "orders", service=service_yaml("orders"))
    # Not an OpenAPI document apigov accepts: `paths` must be a mapping.
    (tmp_path / "orders" / "openapi.yaml").write_text(
        '{"openapi": "3.0.3", "info": {"title": "o", "version": "1"}, "paths": []}',
        encoding="utf-8",
    )
    write_service(
        tmp_path,
        "shipping",
        service=service_yaml("shipping"),
        pacts=[pact("shipping", "orders", ["GET /v1/orders"])],
    )
    result = run_check(str(tmp_path), Loader(), CheckSettings())
    ids = [f.id for f in result.report.findings if f.level.value == "error"]
    assert ids and all(not i.startswith("fleet-") for i in ids), ids
    assert result.verdicts == {("shipping", "orders"): Verdict.UNCHECKED}


def test_missing_tree_is_an_input_error(tmp_path: Path) -> None:
    result = run_apigov("check", "--no-cache", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr == (
        "apigov: error: contracts: no such contracts tree "
        "(pass PATH, or set contracts: in apigov.yaml)\n"
    )


def test_base_ref_needs_the_working_folder_in_the_same_repository(
    fleet_repo: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    git(fleet_repo, "checkout", "-q", "-b", "touch-orders")
    spec = fleet_repo / ORDERS_SPEC
    spec.write_text(spec.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    tree = str(fleet_repo / "contracts")
    result = run_apigov("check", tree, "--base-ref", "main", "--no-cache", cwd=elsewhere)
    assert result.code == 2
    assert result.stderr == (
        f"apigov: error: {tree}: with --base-ref, run apigov check from inside the repository "
        "holding it\n"
    )


def test_against_an_environment_names_the_deployed_version(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    registry = str(tmp_path / "registry.db")
    published = run_apigov(
        "publish", "contracts/orders", "--service", "orders", "--version", "1.0.0",
        "--registry", registry, "--root", "contracts", cwd=tmp_path,
    )  # fmt: skip
    assert published.code == 0, published.stdout + published.stderr
    deployed = run_apigov(
        "record-deployment", "orders", "1.0.0", "--env", "production", "--registry", registry,
        cwd=tmp_path,
    )  # fmt: skip
    assert deployed.code == 0, deployed.stdout + deployed.stderr
    spec = tmp_path / ORDERS_SPEC
    spec.write_text(spec.read_text(encoding="utf-8").replace(PAYMENT_ID, ""), encoding="utf-8")

    result = run_apigov(
        "check", "--against", "production", "--registry", registry, "--format", "json",
        "--no-cache", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)
    assert "orders@production:openapi.yaml" in report["inputs"]
    removed = [
        f
        for f in report["findings"]
        if f["id"] == "response-optional-property-removed" and f["operation"] == "GET /orders"
    ]
    assert len(removed) == 1
    assert removed[0]["consumers"] == ["shipping"]
    # The removed property is only in the deployed version: the finding points there.
    assert removed[0]["location"]["file"] == "orders@production:openapi.yaml"


def test_against_an_unknown_environment_is_an_input_error(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    registry = str(tmp_path / "registry.db")
    run_apigov(
        "publish", "contracts/orders", "--service", "orders", "--version", "1.0.0",
        "--registry", registry, "--root", "contracts", cwd=tmp_path,
    )  # fmt: skip
    result = run_apigov("check", "--against", "moon", "--registry", registry, cwd=tmp_path)
    assert result.code == 2
    assert result.stderr == f"apigov: error: {registry}: the registry has no environment 'moon'\n"


def test_pact_warnings_are_reported_once_with_both_provider_documents(fleet_repo: Path) -> None:
    # notifications' pact with orders holds HTTP interactions and messages, so it is checked
    # against orders' OpenAPI and AsyncAPI documents; what is wrong with the pact file itself
    # (a field Pact does not define) is found by both checks and must be said once.
    pact_path = fleet_repo / "contracts/notifications/pacts/notifications-orders.json"
    pact = json.loads(pact_path.read_text(encoding="utf-8"))
    pact["reviewedBy"] = "someone"
    pact_path.write_text(json.dumps(pact, indent=2), encoding="utf-8")

    result = run_apigov("check", "contracts", "--no-cache", "--format", "json", cwd=fleet_repo)
    assert result.code == 0, result.stdout + result.stderr
    unknown = [f for f in json.loads(result.stdout)["findings"] if f["id"] == "pact-unknown-field"]
    assert len(unknown) == 1, unknown
    assert "'reviewedBy'" in unknown[0]["message"]
    assert (
        unknown[0]["location"]["file"] == "contracts/notifications/pacts/notifications-orders.json"
    )
