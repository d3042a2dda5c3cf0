"""`apigov fuzz --record`: runs stored as registry evidence, and can-i-deploy requiring them.

The services are the fixture services of test_fuzz_live.py, started on 127.0.0.1; the registry
is a SQLite file per test (the storage itself is tested on PostgreSQL too, in tests/registry).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_service import SPECS, RunningService, serve

from apigov.registry import gate
from apigov.registry.domain import ContractFile, FuzzRunRecord, Role
from apigov.registry.sql import SqlRegistry
from helpers import REPO, run_apigov

ALL_PHASES = ["examples", "coverage", "fuzzing", "stateful"]


@pytest.fixture(scope="module")
def clean() -> Iterator[RunningService]:
    with serve("clean") as service:
        yield service


@pytest.fixture(scope="module")
def defects() -> Iterator[RunningService]:
    with serve("defects") as service:
        yield service


@pytest.fixture
def registry_file(tmp_path: Path) -> str:
    """A registry holding fruits@1.0.0 (clean.yaml), items@2.0.0 (defects.yaml) and
    slow@3.0.0 (hostile.yaml), with fruits@1.0.0 deployed to production."""
    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    try:
        for service, version, spec in (
            ("fruits", "1.0.0", "clean.yaml"),
            ("items", "2.0.0", "defects.yaml"),
            ("slow", "3.0.0", "hostile.yaml"),
        ):
            content = (SPECS / spec).read_bytes()
            store.publish(service, version, [ContractFile("openapi.yaml", Role.SPEC, content)])
        store.record_deployment("fruits", "1.0.0", "production")
    finally:
        store.close()
    return location


def runs(location: str, service: str, version: str) -> list[FuzzRunRecord]:
    store = SqlRegistry(location)
    try:
        return store.fuzz_runs(service, version)
    finally:
        store.close()


def can_i_deploy(location: str, service: str, version: str, *policy: str) -> tuple[int, list]:
    result = run_apigov(
        "can-i-deploy",
        service,
        version,
        "--to",
        "production",
        *policy,
        "--registry",
        location,
        "--format",
        "json",
    )
    assert result.stdout, result.stderr
    findings = json.loads(result.stdout)["findings"]
    return result.code, [(f["id"], f["message"]) for f in findings]


def test_a_clean_run_is_recorded_green_and_satisfies_fuzz_at_staging(
    clean: RunningService, registry_file: str
) -> None:
    result = run_apigov(
        "fuzz",
        "tests/fuzz/specs/clean.yaml",
        "--base-url",
        clean.base_url,
        "--max-time",
        "3",
        "--seed",
        "11",
        "--record",
        "--service",
        "fruits",
        "--version",
        "1.0.0",
        "--env",
        "staging",
        "--registry",
        registry_file,
        "--recorded-by",
        "ci-bot",
        timeout=60,
    )
    assert result.code == 0, result.stderr
    assert result.stdout == "No problems found in 1 document.\n"
    assert "Recorded fuzz run #1 of fruits@1.0.0 in staging: passed.\n" in result.stderr
    [stored] = runs(registry_file, "fruits", "1.0.0")
    assert (stored.environment, stored.passed, stored.complete, stored.green) == (
        "staging",
        True,
        True,
        True,
    )
    assert stored.recorded_by == "ci-bot"
    run = stored.run
    assert run["seed"] == 11
    assert (run["max_time"], run["max_examples"], run["max_requests"]) == (3, 100, 5000)
    assert run["phases"] == ALL_PHASES
    assert run["operations"] == ["GET /fruits/{fruitId}"]
    assert run["failures"] == []
    assert run["requests"] > 0
    assert run["checks_per_operation"]["GET /fruits/{fruitId}"]["not_a_server_error"] > 0
    assert run["fail_on"] == "error"
    assert run["reported"] == {"error": 0, "warning": 0, "info": 0}

    code, findings = can_i_deploy(registry_file, "fruits", "1.0.0", "--require", "fuzz@staging")
    assert code == 0, findings
    [(answer, message)] = findings
    assert answer == "deploy-fuzz-satisfied"
    assert message.startswith("fruits@1.0.0 fuzz@staging: fuzz run #1 in staging (seed 11, ")
    assert message.endswith(" by ci-bot) passed")
    # A run in staging is no run in qa: that answer is unknown, not yes. `fuzz` alone takes a
    # run in any environment. (Asked in-process: the command's side is shown above.)
    store = SqlRegistry(registry_file)
    try:
        in_qa = gate.can_i_deploy(
            store, "fruits", "1.0.0", "production", policy=gate.parse_policy(["fuzz@qa"])
        )
        anywhere = gate.can_i_deploy(
            store, "fruits", "1.0.0", "production", policy=gate.parse_policy(["fuzz"])
        )
    finally:
        store.close()
    assert in_qa.verdict == "unknown"
    assert [check.answer for check in in_qa.evidence] == [gate.Answer.FUZZ_MISSING]
    assert anywhere.verdict == "yes"


def test_a_run_with_failures_is_recorded_failed_with_its_keys(
    defects: RunningService, registry_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "alice")  # who recorded it, when --recorded-by is not given
    result = run_apigov(
        "fuzz",
        "tests/fuzz/specs/defects.yaml",
        "--base-url",
        defects.base_url,
        "--include",
        "GET /stats",
        "--phases",
        "fuzzing",
        "--max-examples",
        "20",
        "--max-time",
        "5",
        "--seed",
        "7",
        "--record",
        "--service",
        "items",
        "--version",
        "2.0.0",
        "--env",
        "staging",
        "--registry",
        registry_file,
        timeout=60,
    )
    assert result.code == 1, result.stderr
    assert "Recorded fuzz run #1 of items@2.0.0 in staging: failed.\n" in result.stderr
    [stored] = runs(registry_file, "items", "2.0.0")
    assert (stored.passed, stored.complete, stored.recorded_by) == (False, True, "alice")
    keys = {(f["operation"], f["check"], f["failure"]) for f in stored.run["failures"]}
    # GET /stats?divisor=0 answers 500: the boundary value the coverage phase always sends.
    assert ("GET /stats", "not_a_server_error", "ServerError") in keys
    assert all("curl" in f["curl"] for f in stored.run["failures"])
    assert stored.run["phases"] == ["fuzzing"]
    assert stored.run["reported"]["error"] == len(stored.run["failures"])

    store = SqlRegistry(registry_file)
    try:
        store.record_deployment("items", "2.0.0", "production")
    finally:
        store.close()
    code, findings = can_i_deploy(registry_file, "items", "2.0.0", "--require", "fuzz@staging")
    assert code == 1
    # Failed evidence is a no, not an unknown: there is nothing to wait for.
    [(answer, message)] = findings
    assert answer == "deploy-fuzz-failed"
    assert "the latest complete fuzz run #1 in staging (seed 7," in message
    assert "by alice) failed" in message


def test_an_accepted_baseline_makes_a_run_pass(
    defects: RunningService, registry_file: str, tmp_path: Path
) -> None:
    """Passed means what the exit code means: failures the baseline accepts do not fail it,
    and the evidence still lists every failure the run saw. (The coverage phase is
    deterministic, so both runs see the same failures.)"""
    baseline = tmp_path / "baseline.json"
    stats = ["tests/fuzz/specs/defects.yaml", "--base-url", defects.base_url]
    stats += ["--include", "GET /stats", "--phases", "coverage", "--max-time", "5", "--seed", "7"]
    first = run_apigov("fuzz", *stats, "--write-baseline", str(baseline), timeout=60)
    assert first.code == 1, first.stderr
    accepted = json.loads(baseline.read_text(encoding="utf-8"))["accepted"]
    assert accepted  # the 500 of GET /stats at least
    result = run_apigov(
        "fuzz",
        *stats,
        "--baseline",
        str(baseline),
        "--record",
        "--service",
        "items",
        "--version",
        "2.0.0",
        "--env",
        "staging",
        "--registry",
        registry_file,
        timeout=60,
    )
    assert result.code == 0, result.stdout + result.stderr
    [stored] = runs(registry_file, "items", "2.0.0")
    assert stored.green
    assert stored.run["baseline_hidden"] == len(accepted)
    seen = [{k: f[k] for k in ("operation", "check", "failure")} for f in stored.run["failures"]]
    assert sorted(seen, key=lambda f: sorted(f.items())) == sorted(
        accepted, key=lambda f: sorted(f.items())
    )


def test_an_interrupted_run_is_recorded_incomplete_and_never_green(
    registry_file: str,
) -> None:
    with serve("hostile") as hostile:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apigov",
                "fuzz",
                "tests/fuzz/specs/hostile.yaml",
                "--base-url",
                hostile.base_url,
                "--include",
                "GET /hang",
                "--request-timeout",
                "2",
                "--max-time",
                "60",
                "--record",
                "--service",
                "slow",
                "--version",
                "3.0.0",
                "--env",
                "staging",
                "--registry",
                registry_file,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
        )
        # Interrupt only once the run is sending: before that Ctrl-C is an ordinary abort.
        deadline = time.monotonic() + 60
        while _hangs(hostile) == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "the run never reached the service"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert "Recorded fuzz run #1 of slow@3.0.0 in staging: incomplete." in stderr.decode()
    [stored] = runs(registry_file, "slow", "3.0.0")
    assert not stored.complete and not stored.green
    assert stored.run["interrupted"] is True
    assert stored.run["stop_reason"] == "interrupted"

    store = SqlRegistry(registry_file)
    try:
        store.record_deployment("slow", "3.0.0", "production")
    finally:
        store.close()
    code, findings = can_i_deploy(registry_file, "slow", "3.0.0", "--require", "fuzz@staging")
    assert code == 1
    assert (
        "deploy-fuzz-missing",
        "slow@3.0.0 fuzz@staging: no fuzz run of slow@3.0.0 in staging "
        "(1 interrupted, incomplete run only) (required by policy)",
    ) in findings


def _hangs(service: RunningService) -> int:
    with urllib.request.urlopen(f"{service.base_url}/__hangs", timeout=5) as response:
        return int(json.load(response)["started"])


def test_recording_an_unknown_version_fails_before_the_run(
    clean: RunningService, registry_file: str
) -> None:
    result = run_apigov(
        "fuzz",
        "tests/fuzz/specs/clean.yaml",
        "--base-url",
        clean.base_url,
        "--record",
        "--service",
        "fruits",
        "--version",
        "9.9.9",
        "--env",
        "staging",
        "--registry",
        registry_file,
        timeout=60,
    )
    assert result.code == 2
    assert result.stderr == (
        f"apigov: error: {registry_file}: fruits@9.9.9 is not in the registry (publish it first)\n"
    )
    assert result.stdout == ""  # no run, no report


def test_record_needs_service_version_and_environment(registry_file: str) -> None:
    result = run_apigov(
        "fuzz",
        "tests/fuzz/specs/clean.yaml",
        "--base-url",
        "http://127.0.0.1:9",
        "--record",
        "--service",
        "fruits",
        "--version",
        "1.0.0",
        "--registry",
        registry_file,
    )
    assert result.code == 2
    assert "--record needs --service, --version and --env" in result.stderr
    assert runs(registry_file, "fruits", "1.0.0") == []


def test_a_registry_ref_is_fuzzed_and_recorded_under_its_version(
    defects: RunningService, registry_file: str
) -> None:
    """SPEC `items@2.0.0`: the published spec is fuzzed, findings and the stored run name it
    after the ref, and the ref says which service and version the evidence is for."""
    result = run_apigov(
        "fuzz",
        "items@2.0.0",
        "--base-url",
        defects.base_url,
        "--include",
        "GET /stats",
        "--phases",
        "fuzzing",
        "--max-examples",
        "20",
        "--max-time",
        "5",
        "--seed",
        "7",
        "--record",
        "--env",
        "staging",
        "--registry",
        registry_file,
        "--format",
        "json",
        timeout=60,
    )
    assert result.code == 1, result.stderr
    assert "Recorded fuzz run #1 of items@2.0.0 in staging: failed.\n" in result.stderr
    report = json.loads(result.stdout)
    server_errors = [f for f in report["findings"] if f["id"] == "fuzz/not_a_server_error"]
    assert server_errors
    # `get:` under `/stats:` is line 7, column 5 of defects.yaml, published as openapi.yaml.
    assert server_errors[0]["location"]["file"] == "items@2.0.0:openapi.yaml"
    assert (server_errors[0]["location"]["line"], server_errors[0]["location"]["column"]) == (7, 5)
    [stored] = runs(registry_file, "items", "2.0.0")
    assert stored.run["spec"] == "items@2.0.0:openapi.yaml"


def test_a_registry_ref_needs_an_existing_registry(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = run_apigov(
        "fuzz", "items@2.0.0", "--base-url", "http://127.0.0.1:9", "--registry", str(missing)
    )
    assert result.code == 2
    assert result.stderr == (
        f"apigov: error: items@2.0.0: no registry at {missing} "
        "(name one with --registry or APIGOV_REGISTRY)\n"
    )
    assert not missing.exists()
