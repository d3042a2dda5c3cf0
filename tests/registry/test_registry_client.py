"""`--registry http://...`: the commands work unchanged against a served registry.

A real `apigov registry serve` (uvicorn, in a subprocess, on 127.0.0.1) is started per test;
the same scenario run against a SQLite file directly and through the server must print the same
thing and exit the same way.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import apigov_in_process, serve_registry

from apigov.registry.client import HttpRegistry
from apigov.registry.gate import Policy, can_i_deploy, parse_policy
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS, run_apigov

SCENARIO: list[tuple[str, ...]] = [
    ("publish", "contracts/payments", "--service", "payments", "--version", "1.0.0"),
    ("publish", "contracts/inventory", "--service", "inventory", "--version", "1.0.0"),
    ("publish", "contracts/orders", "--service", "orders", "--version", "1.0.0"),
    ("record-deployment", "payments", "1.0.0", "--env", "production"),
    ("can-i-deploy", "orders", "1.0.0", "--to", "production"),
    ("record-release", "inventory", "1.0.0", "--env", "production"),
    ("can-i-deploy", "orders", "1.0.0", "--to", "production"),
    ("can-i-deploy", "orders", "1.0.0", "--to", "production", "--require-verification"),
    (
        "record-verification", "payments", "1.0.0", "--consumer", "orders",
        "--consumer-version", "1.0.0", "--result", "passed",
    ),
    ("can-i-deploy", "orders", "1.0.0", "--to", "production", "--require-verification",
     "--format", "json"),
    ("publish", "contracts/inventory", "--service", "orders", "--version", "1.0.0"),
    ("record-undeployment", "payments", "--env", "production"),
    ("record-undeployment", "payments", "--env", "production"),
    ("can-i-deploy", "orders", "2.0.0", "--to", "staging"),
    # Tags: republishing the same content adds one; then can-i-deploy to a tag.
    ("publish", "contracts/payments", "--service", "payments", "--version", "1.0.0",
     "--tag", "prod"),
    ("can-i-deploy", "orders", "1.0.0", "--to-tag", "prod", "--format", "json"),
    ("can-i-deploy", "orders", "1.0.0", "--to-tag", "qa"),
]  # fmt: skip


_MINUTE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")


def _run(argv: list[str], location: str) -> tuple[int, str, str]:
    """`apigov ARGV --registry LOCATION`, in this process (the real entry point, its error
    handler and exit codes): exit code, stdout and stderr, with the registry's location
    replaced by <registry> (errors name the registry they come from) and times of recorded
    evidence by <time> (the two registries record them a moment apart)."""
    code, out, err = apigov_in_process(*argv, "--registry", location)

    def same(text: str) -> str:
        return _MINUTE.sub("<time>", text.replace(location, "<registry>"))

    return code, same(out), same(err)


@pytest.fixture
def publish_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A served registry's database with a publish token, given to clients by the variable."""
    database = str(tmp_path / "served.db")
    code, token, err = apigov_in_process(
        "registry", "token", "create", "--name", "ci", "--scope", "publish",
        "--registry", database,
    )  # fmt: skip
    assert code == 0, err
    monkeypatch.setenv("APIGOV_REGISTRY_TOKEN", token.strip())
    yield database


def test_the_same_scenario_gives_the_same_answers_directly_and_through_the_server(
    tmp_path: Path, publish_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    direct_location = str(tmp_path / "direct.db")
    direct, served = [], []
    with serve_registry(publish_token) as url:
        for step in SCENARIO:
            direct.append(_run(list(step), direct_location))
            served.append(_run(list(step), url))
    for step, local, remote in zip(SCENARIO, direct, served, strict=True):
        assert remote == local, " ".join(step)
    codes = [code for code, _, _ in direct]
    out = [stdout for _, stdout, _ in direct]
    # Worked out from the fleet: orders holds pacts with payments and inventory.
    assert codes[4] == 1  # inventory is not in production yet
    assert "deploy-provider-not-in-environment" in out[4]
    assert codes[6] == 0  # payments deployed, inventory released: both pairs satisfied
    assert out[6].count("deploy-pair-satisfied") == 2
    assert codes[7] == 1  # --require-verification: no verification recorded for either pair
    assert out[7].count("deploy-verification-missing") == 2
    assert codes[9] == 1  # payments' pair verified now, inventory's still not
    assert out[9].count('"deploy-verification-missing"') == 1
    assert out[9].count('"deploy-pair-satisfied"') == 1
    assert codes[10] == 1  # other content under a published version: a conflict
    assert "registry-version-conflict" in out[10]
    assert codes[11] == 0
    assert codes[12] == 2  # nothing left to undeploy: refused with one line
    assert direct[12][2] == "apigov: error: <registry>: payments is not deployed to production\n"
    assert codes[13] == 1
    assert "deploy-unknown-version" in out[13]
    assert codes[14] == 0
    # payments 1.0.0 carries prod (satisfied), inventory carries no tag.
    assert codes[15] == 1
    assert out[15].count('"deploy-provider-not-tagged"') == 1
    assert out[15].count('"deploy-pair-satisfied"') == 1
    assert codes[16] == 1
    assert "deploy-unknown-tag" in out[16]


POLICIES = [
    Policy(),
    Policy(require_verification=True),
    parse_policy(["verification", "fuzz@production"], "7d"),
]


def test_the_gate_over_the_client_agrees_with_the_gate_on_the_database(
    tmp_path: Path, publish_token: str
) -> None:
    """Every read the gate makes, over HTTP (HttpRegistry), against the same reads in SQL."""
    with serve_registry(publish_token) as url:
        client = HttpRegistry(url)
        store = SqlRegistry(publish_token)
        try:
            for service in ("payments", "inventory", "orders"):
                collected = collect_service_folder(CONTRACTS / service, service, Loader())
                client.publish(service, "1.0.0", collected.files, metadata=collected.metadata)
            assert client.record_deployment("payments", "1.0.0", "production") == []
            assert client.record_release("inventory", "1.0.0", "production") is True
            pact = store.version("orders", "1.0.0")
            assert pact is not None
            [to_payments] = [p for p in pact.pacts if p.provider == "payments"]
            client.record_verification("payments", "1.0.0", "orders", to_payments.sha256, True)
            run = {"seed": 7, "operations": 3}
            client.record_fuzz_run(
                "orders", "1.0.0", "production", passed=True, complete=True, run=run
            )
            [fuzzed] = client.fuzz_runs("orders", "1.0.0", "production")
            assert (fuzzed.green, fuzzed.run) == (True, run)
            assert client.fuzz_runs("orders", "1.0.0") == store.fuzz_runs("orders", "1.0.0")
            for service, version in (("orders", "1.0.0"), ("payments", "1.0.0")):
                for policy in POLICIES:
                    over_http = can_i_deploy(client, service, version, "production", policy=policy)
                    direct = can_i_deploy(store, service, version, "production", policy=policy)
                    assert over_http == direct
                    assert client.decide(service, version, "production", policy) == direct
            assert client.versions([("orders", "1.0.0")]) == store.versions([("orders", "1.0.0")])
            record = store.version("orders", "1.0.0")
            assert record is not None
            shas = [f.sha256 for f in record.files]
            assert client.contents(shas) == store.contents(shas)
            assert client.live_consumers("production", "payments") == store.live_consumers(
                "production", "payments"
            )
            assert client.audit_log(3) == store.audit_log(3)
            assert client.has_environment("production") is True
            assert client.has_environment("staging") is False
            assert client.version("orders", "9.9.9") is None
        finally:
            client.close()
            store.close()


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_registry_is_exit_3_with_one_line() -> None:
    url = f"http://127.0.0.1:{_unused_port()}"
    result = run_apigov("can-i-deploy", "orders", "1.0.0", "--to", "production", "--registry", url)
    assert result.code == 3
    assert result.stdout == ""
    assert result.stderr.startswith(f"apigov: error: registry {url} cannot be reached: ")
    assert result.stderr.count("\n") == 1
