"""The registry commands as a user runs them: publish, record-*, can-i-deploy, registry migrate."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from helpers import CONTRACTS, REPO, run_apigov, write


def registry_args(tmp_path: Path) -> list[str]:
    return ["--registry", str(tmp_path / "registry.db")]


def test_publish_deploy_and_ask(tmp_path: Path) -> None:
    at = registry_args(tmp_path)
    published = run_apigov(
        "publish", "contracts/payments", "--service", "payments", "--version", "1",
        "--format", "json", *at,
    )  # fmt: skip
    assert published.code == 0, published.stderr
    assert published.stderr == "Published payments@1: 4 files, 4 new contents.\n"
    report = json.loads(published.stdout)
    assert report["summary"] == {"error": 0, "warning": 0, "info": 0}
    # payments/: openapi.yaml, service.yaml, and the two _shared files its spec refers to.
    assert report["inputs"] == [
        "contracts/_shared/common.yaml",
        "contracts/_shared/problem.yaml",
        "contracts/payments/openapi.yaml",
        "contracts/payments/service.yaml",
    ]
    orders = run_apigov("publish", "contracts/orders", "--service", "orders", "--version", "1", *at)
    assert orders.code == 0, orders.stderr
    # New: openapi.yaml, asyncapi.yaml, two pacts, service.yaml; _shared is stored already.
    assert orders.stderr == "Published orders@1: 7 files, 5 new contents.\n"
    assert orders.stdout == "No problems found in 7 documents.\n"

    deployed = run_apigov("record-deployment", "payments", "1", "--env", "production", *at)
    assert (deployed.code, deployed.stdout) == (
        0,
        "Recorded payments@1 as deployed to production.\n",
    )

    blocked = run_apigov("can-i-deploy", "orders", "1", "--to", "production", *at)
    assert blocked.code == 1
    assert "deploy-provider-not-in-environment" in blocked.stdout
    assert "no version of inventory is deployed or released in production" in blocked.stdout

    assert (
        run_apigov(
            "publish", "contracts/inventory", "--service", "inventory", "--version", "1", *at
        ).code
        == 0
    )
    assert run_apigov("record-deployment", "inventory", "1", "--env", "production", *at).code == 0
    allowed = run_apigov(
        "can-i-deploy", "orders", "1", "--to", "production", "--format", "json", *at
    )
    assert allowed.code == 0, allowed.stdout + allowed.stderr
    findings = json.loads(allowed.stdout)["findings"]
    assert sorted((f["id"], f["consumers"][0]) for f in findings) == [
        ("deploy-pair-satisfied", "orders"),
        ("deploy-pair-satisfied", "orders"),
    ]
    messages = sorted(f["message"] for f in findings)
    assert messages[0].startswith("orders@1 -> inventory@1 [deployed] pacts/orders-inventory.json")
    assert messages[1].startswith("orders@1 -> payments@1 [deployed] pacts/orders-payments.json")

    undeployed = run_apigov("record-undeployment", "inventory", "--env", "production", *at)
    assert (undeployed.code, undeployed.stdout) == (
        0,
        "Recorded inventory@1 as undeployed from production.\n",
    )
    assert run_apigov("can-i-deploy", "orders", "1", "--to", "production", *at).code == 1


def test_republishing_other_content_is_refused(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    shutil.copytree(CONTRACTS / "payments", fleet / "payments")
    shutil.copytree(CONTRACTS / "_shared", fleet / "_shared")
    at = registry_args(tmp_path)
    args = ["publish", str(fleet / "payments"), "--service", "payments", "--version", "1"]
    assert run_apigov(*args, "--root", str(fleet), *at).code == 0
    again = run_apigov(*args, "--root", str(fleet), *at)  # same content: fine
    assert (again.code, again.stderr) == (
        0,
        "payments@1 was already published with this content.\n",
    )
    spec = fleet / "payments" / "openapi.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "x-changed: true\n", encoding="utf-8")
    conflict = run_apigov(*args, "--root", str(fleet), *at)
    assert conflict.code == 1
    assert "registry-version-conflict" in conflict.stdout
    assert "payments@1 is already published with other content (changed openapi.yaml)" in (
        conflict.stdout
    )


def test_invalid_documents_are_not_published(tmp_path: Path) -> None:
    folder = tmp_path / "billing"
    write(folder, "service.yaml", "name: billing\nowner: a@b.example\n")
    broken = (REPO / "docs" / "examples" / "broken-orders.yaml").read_text(encoding="utf-8")
    write(folder, "openapi.yaml", broken)
    at = registry_args(tmp_path)
    refused = run_apigov("publish", str(folder), "--service", "billing", "--version", "1", *at)
    assert refused.code == 1
    assert "oas-duplicate-operation-id" in refused.stdout
    assert "registry-publish-refused" in refused.stdout
    asked = run_apigov("record-deployment", "billing", "1", "--env", "production", *at)
    assert asked.code == 2
    assert "billing@1 is not in the registry (publish it first)" in asked.stderr


def test_a_pact_of_another_consumer_is_an_input_error(tmp_path: Path) -> None:
    shutil.copytree(CONTRACTS / "orders", tmp_path / "fleet" / "orders")
    shutil.copytree(CONTRACTS / "_shared", tmp_path / "fleet" / "_shared")
    result = run_apigov(
        "publish", str(tmp_path / "fleet" / "orders"), "--service", "billing", "--version", "1",
        "--root", str(tmp_path / "fleet"), *registry_args(tmp_path),
    )  # fmt: skip
    assert result.code == 2
    assert "the pact's consumer is 'orders', but the folder is published as 'billing'" in (
        result.stderr
    )


def test_default_location_and_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    shutil.copytree(CONTRACTS / "inventory", work / "inventory")
    shutil.copytree(CONTRACTS / "_shared", work / "_shared")
    args = ["publish", "inventory", "--service", "inventory", "--version", "1", "--root", "."]
    assert run_apigov(*args, cwd=work).code == 0
    assert (work / ".apigov" / "registry.db").is_file()
    monkeypatch.setenv("APIGOV_REGISTRY", str(tmp_path / "elsewhere.db"))
    assert run_apigov(*args, cwd=work).code == 0
    assert (tmp_path / "elsewhere.db").is_file()


def test_unreachable_registry_exits_3(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_apigov(
        "can-i-deploy", "orders", "1", "--to", "production",
        "--registry", f"postgresql://postgres@127.0.0.1:{port}/registry",
    )  # fmt: skip
    assert result.code == 3
    assert result.stderr.startswith(
        f"apigov: error: registry postgresql://postgres@127.0.0.1:{port}"
    )


def test_registry_migrate(tmp_path: Path) -> None:
    at = registry_args(tmp_path)
    first = run_apigov("registry", "migrate", *at)
    assert (first.code, first.stdout) == (
        0,
        "Registry schema migrated from empty to revision 0003.\n",
    )
    again = run_apigov("registry", "migrate", *at)
    assert (again.code, again.stdout) == (0, "Registry schema is up to date (revision 0003).\n")


def test_verification_evidence_from_the_command_line(tmp_path: Path) -> None:
    at = registry_args(tmp_path)
    for service in ("payments", "inventory", "orders"):
        folder = f"contracts/{service}"
        assert run_apigov("publish", folder, "--service", service, "--version", "1", *at).code == 0
    for service in ("payments", "inventory"):
        assert run_apigov("record-deployment", service, "1", "--env", "prod", *at).code == 0
    gate = ["can-i-deploy", "orders", "1", "--to", "prod", "--require-verification"]
    gate += ["--format", "json", *at]

    def answers() -> tuple[int, list[tuple[str, str]]]:
        result = run_apigov(*gate)
        # The pairs only: the overall "unknown" answer is tested in test_registry_retry.py.
        findings = [
            f for f in json.loads(result.stdout)["findings"] if f["id"] != "deploy-answer-unknown"
        ]
        return result.code, sorted((f["message"].split(" ")[2], f["id"]) for f in findings)

    assert answers() == (
        1,
        [
            ("inventory@1", "deploy-verification-missing"),
            ("payments@1", "deploy-verification-missing"),
        ],
    )
    verified = run_apigov(
        "record-verification", "inventory", "1", "--consumer", "orders",
        "--consumer-version", "1", "--result", "passed", *at,
    )  # fmt: skip
    assert (verified.code, verified.stdout) == (
        0,
        "Recorded verification of orders@1's pact (pacts/orders-inventory.json) "
        "against inventory@1: passed.\n",
    )
    assert run_apigov(
        "record-verification", "payments", "1", "--consumer", "orders",
        "--consumer-version", "1", "--result", "failed", *at,
    ).code == 0  # fmt: skip
    assert answers() == (
        1,
        [("inventory@1", "deploy-pair-satisfied"), ("payments@1", "deploy-verification-failed")],
    )
