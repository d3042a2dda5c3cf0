"""`apigov fuzz` against fixture services started on 127.0.0.1 in the tests."""

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
from typing import Any

import pytest
from fuzz_service import TOKEN, RunningService, serve

from helpers import REPO, run_apigov, write

SPEC = "tests/fuzz/specs/defects.yaml"
PROBES = 2  # requests schemathesis sends before testing, to learn what the server accepts


@pytest.fixture(scope="module")
def defects() -> Iterator[RunningService]:
    with serve("defects") as service:
        yield service


@pytest.fixture(scope="module")
def hostile() -> Iterator[RunningService]:
    with serve("hostile") as service:
        yield service


def fuzz_json(*args: str, timeout: float = 90) -> tuple[int, dict[str, Any], str]:
    result = run_apigov("fuzz", *args, "--format", "json", timeout=timeout)
    assert result.stdout, result.stderr
    return result.code, json.loads(result.stdout), result.stderr


def keys(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["id"], f["operation"]) for f in report["findings"]}


@pytest.fixture(scope="module")
def full_run(defects: RunningService) -> tuple[int, dict[str, Any]]:
    """One run over every phase; the planted defects are each asserted on it below."""
    os.environ["APIGOV_TEST_TOKEN"] = TOKEN
    code, report, _ = fuzz_json(
        SPEC,
        "--base-url",
        defects.base_url,
        "--max-time",
        "8",
        "--max-examples",
        "20",
        "--seed",
        "7",
        "--bearer-env",
        "APIGOV_TEST_TOKEN",
    )
    return code, report


@pytest.fixture(scope="module")
def stateful_run(
    defects: RunningService, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, dict[str, Any], dict[str, Any], str]:
    """The stateful phase alone on the item operations: create, delete, then read again."""
    run_file = tmp_path_factory.mktemp("run") / "run.json"
    code, report, stderr = fuzz_json(
        SPEC,
        "--base-url",
        defects.base_url,
        "--phases",
        "stateful",
        "--include",
        "/items*",
        "--max-time",
        "6",
        "--seed",
        "7",
        "--write-run",
        str(run_file),
    )
    return code, report, json.loads(run_file.read_text(encoding="utf-8")), stderr


@pytest.mark.parametrize(
    ("finding_id", "operation"),
    [
        ("fuzz/not_a_server_error", "GET /stats"),  # 100 // 0
        ("fuzz/response_schema_conformance", "GET /items/{itemId}"),  # price as a string
        ("fuzz/ignored_auth", "GET /reports"),  # answers without a token
    ],
)
def test_planted_defect_is_found(
    full_run: tuple[int, dict[str, Any]], finding_id: str, operation: str
) -> None:
    code, report = full_run
    assert code == 1
    assert (finding_id, operation) in keys(report)


def test_deleted_resource_still_served_is_found(
    stateful_run: tuple[int, dict[str, Any], dict[str, Any], str],
) -> None:
    code, report, _, _ = stateful_run
    assert code == 1
    assert ("fuzz/use_after_free", "DELETE /items/{itemId}") in keys(report)
    [finding] = [f for f in report["findings"] if f["id"] == "fuzz/use_after_free"]
    # The reproduction is the whole sequence: create, (maybe read,) delete, read again.
    steps = finding["message"].split("reproduce: ", 1)[1].split(" && ")
    methods = [step.split()[2] for step in steps]
    assert methods[0] == "POST"
    assert methods[-2:] == ["DELETE", "GET"]


def test_the_run_is_written_with_its_seed_and_counts(
    stateful_run: tuple[int, dict[str, Any], dict[str, Any], str],
) -> None:
    _, report, run, stderr = stateful_run
    assert run["seed"] == 7
    assert run["phases"] == ["stateful"]
    # --include '/items*' keeps the three item operations, in document order.
    assert run["operations"] == ["POST /items", "GET /items/{itemId}", "DELETE /items/{itemId}"]
    assert run["requests"] == sum(run["requests_per_operation"].values()) > 0
    assert set(run["requests_per_operation"]) <= set(run["operations"])
    accepted = {(f["operation"], "fuzz/" + f["check"]) for f in run["failures"]}
    assert accepted == {(f["operation"], f["id"]) for f in report["findings"]}
    # Without a terminal, one line on stderr still tells how to reproduce the run.
    assert "(seed 7" in stderr


def test_server_error_finding_reproduces_with_curl_and_points_at_the_operation(
    full_run: tuple[int, dict[str, Any]], defects: RunningService
) -> None:
    _, report = full_run
    [finding] = [f for f in report["findings"] if f["id"] == "fuzz/not_a_server_error"]
    assert "response 500" in finding["message"]
    assert "curl -X GET -H 'Authorization: [Filtered]'" in finding["message"]
    assert f"{defects.base_url}/stats?divisor=0'" in finding["message"]
    # The token is masked in reproductions: reports end up in CI logs.
    assert TOKEN not in json.dumps(report)
    # `get:` under `/stats:` is line 7, column 5 of the fixture document.
    assert finding["location"]["line"] == 7
    assert finding["location"]["column"] == 5
    assert finding["location"]["pointer"] == "/paths/~1stats/get"


def test_duplicates_are_folded(full_run: tuple[int, dict[str, Any]]) -> None:
    _, report = full_run
    seen = [(f["id"], f["operation"]) for f in report["findings"]]
    assert len(seen) == len(set(seen))


def test_baseline_hides_accepted_failures(defects: RunningService, tmp_path: Path) -> None:
    # A stateless operation and a fixed seed: the same failures each time. The coverage phase
    # sends 101 for 0..100 (accepted: a negative_data_rejection failure), fuzzing finds 0 (a 500).
    common = [
        SPEC,
        "--base-url",
        defects.base_url,
        "--include",
        "GET /stats",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        "30",
        "--max-time",
        "5",
        "--seed",
        "3",
    ]
    code, report, _ = fuzz_json(*common)
    assert code == 1
    assert ("fuzz/not_a_server_error", "GET /stats") in keys(report)
    assert ("fuzz/negative_data_rejection", "GET /stats") in keys(report)
    baseline = write(
        tmp_path,
        "baseline.json",
        json.dumps(
            {
                "accepted": [
                    {
                        "operation": "GET /stats",
                        "check": "not_a_server_error",
                        "failure": "ServerError",
                    }
                ]
            }
        ),
    )
    code, hidden, _ = fuzz_json(*common, "--baseline", str(baseline))
    assert ("fuzz/not_a_server_error", "GET /stats") not in keys(hidden)
    assert ("fuzz/negative_data_rejection", "GET /stats") in keys(hidden)

    # A baseline written from a run accepts everything that run found. The coverage phase
    # alone is deterministic (no time-dependent exploration), so the second run finds the same.
    written = tmp_path / "all.json"
    coverage_only = [*common[:5], "--phases", "coverage", "--max-time", "5", "--seed", "3"]
    code, first, _ = fuzz_json(*coverage_only, "--write-baseline", str(written))
    assert code == 1
    assert len(json.loads(written.read_text())["accepted"]) == len(first["findings"])
    code, none_left, _ = fuzz_json(*coverage_only, "--baseline", str(written))
    assert none_left["findings"] == []
    assert code == 0


def requests_received(service: RunningService) -> int:
    with urllib.request.urlopen(f"{service.base_url}/__requests", timeout=5) as response:
        return int(json.load(response)["requests"])


def test_request_budget_is_exact(defects: RunningService, tmp_path: Path) -> None:
    before = requests_received(defects)
    run_file = tmp_path / "run.json"
    fuzz_json(
        SPEC,
        "--base-url",
        defects.base_url,
        "--include",
        "GET /stats",
        "--max-requests",
        "12",
        "--max-time",
        "30",
        "--seed",
        "1",
        "--write-run",
        str(run_file),
    )
    run = json.loads(run_file.read_text(encoding="utf-8"))
    assert run["requests"] == 12
    assert run["stop_reason"] == "max_requests"
    assert not run["interrupted"]
    # What the service saw: the 12 test requests and the engine's capability probes.
    assert 12 <= requests_received(defects) - before <= 12 + PROBES


@pytest.mark.parametrize("from_url", [False, True], ids=["file", "live-schema-url"])
def test_clean_service_passes(from_url: bool) -> None:
    with serve("clean") as service:
        spec = f"{service.base_url}/openapi.json" if from_url else "tests/fuzz/specs/clean.yaml"
        result = run_apigov(
            "fuzz",
            spec,
            "--base-url",
            service.base_url,
            "--max-time",
            "3",
            "--seed",
            "1",
            timeout=60,
        )
    assert result.stdout == "No problems found in 1 document.\n", result.stderr
    assert result.code == 0


def test_hostile_target_gives_findings_not_a_hang(hostile: RunningService) -> None:
    code, report, stderr = fuzz_json(
        "tests/fuzz/specs/hostile.yaml",
        "--base-url",
        hostile.base_url,
        "--max-time",
        "5",
        "--request-timeout",
        "1",
        "--max-examples",
        "5",
        "--workers",
        "2",
        "--seed",
        "1",
        timeout=60,  # the bound: 5 s of budget plus one request timeout, with room for start-up
    )
    assert code == 1, stderr
    found = keys(report)
    assert ("fuzz/network_error", "GET /hang") in found
    assert ("fuzz/response_schema_conformance", "GET /garbage") in found
    assert ("fuzz/response_schema_conformance", "GET /huge") in found
    [huge] = [f for f in report["findings"] if f["operation"] == "GET /huge"]
    # A 5 MB body becomes a short excerpt, not 5 MB of report.
    assert len(huge["message"]) < 2000
    assert "5,242,8" in huge["message"]  # the size of the body: 5 MiB plus the JSON around it


def test_unreachable_service_exits_3() -> None:
    result = run_apigov("fuzz", SPEC, "--base-url", "http://127.0.0.1:9", timeout=60)
    assert result.code == 3
    assert result.stderr.startswith("apigov: error: http://127.0.0.1:9: cannot connect")


def test_production_refuses_delete_unless_allowed(defects: RunningService) -> None:
    refused = run_apigov("fuzz", SPEC, "--base-url", defects.base_url, "--env", "prod", timeout=60)
    assert refused.code == 2
    assert "refusing to send DELETE requests to a production target" in refused.stderr
    assert "DELETE /items/{itemId}" in refused.stderr
    # Writes count as destructive when configured so.
    writes = run_apigov(
        "fuzz",
        SPEC,
        "--base-url",
        defects.base_url,
        "--env-production",
        "--safe",
        "--destructive-method",
        "POST",
        timeout=60,
    )
    assert writes.code == 2
    assert "POST /items" in writes.stderr
    # --safe drops DELETE, so a production run of the rest goes ahead.
    code, report, stderr = fuzz_json(
        SPEC,
        "--base-url",
        defects.base_url,
        "--env",
        "Production",
        "--safe",
        "--include",
        "GET /stats",
        "--max-time",
        "3",
        "--seed",
        "1",
    )
    assert code in (0, 1), stderr
    assert all(f["operation"] == "GET /stats" for f in report["findings"])
    # --safe sends valid data only: nothing about rejecting invalid data can come up.
    assert not any(f["id"] == "fuzz/negative_data_rejection" for f in report["findings"])


def hang_requests(service: RunningService) -> int:
    with urllib.request.urlopen(f"{service.base_url}/__hangs", timeout=5) as response:
        return int(json.load(response)["started"])


def test_ctrl_c_stops_and_still_writes_the_report(hostile: RunningService, tmp_path: Path) -> None:
    output = tmp_path / "partial.json"
    hangs_before = hang_requests(hostile)
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
            "--format",
            "json",
            "--output",
            str(output),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    # Interrupt only once the run is sending: before that Ctrl-C is an ordinary abort.
    deadline = time.monotonic() + 60
    while hang_requests(hostile) == hangs_before and process.poll() is None:
        assert time.monotonic() < deadline, "the run never reached the service"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    report = json.loads(output.read_text(encoding="utf-8"))
    assert "fuzz/interrupted" in {f["id"] for f in report["findings"]}, stderr
    assert process.returncode in (0, 1)
