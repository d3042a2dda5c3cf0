"""The parts of `apigov fuzz` that need no service: filters, safety, folding, baselines."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from apigov.findings import Location
from apigov.fuzz import FailureKey, FuzzFailure, FuzzRun, baseline_text, load_baseline
from apigov.fuzz.progress import LiveProgress, wants_live_display
from apigov.fuzz.results import body_excerpt, run_findings
from apigov.fuzz.settings import (
    FuzzSettings,
    TargetSafety,
    destructive_operations,
    is_production,
    matches,
    operations_of,
    select_operations,
)
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from helpers import run_apigov, write

OPERATIONS = ["GET /items", "POST /items", "GET /items/{id}", "DELETE /items/{id}"]


def settings(**overrides: object) -> FuzzSettings:
    return FuzzSettings(base_url="http://127.0.0.1:1", **overrides)  # type: ignore[arg-type]


def test_operations_of_lists_methods_in_document_order() -> None:
    document = {
        "paths": {
            "/a": {"parameters": [], "get": {}, "delete": {}},
            "/b": {"post": {}, "x-note": {}},
        }
    }
    assert operations_of(document) == ["GET /a", "DELETE /a", "POST /b"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("GET /items", True),
        ("get /items", True),  # methods are case-insensitive
        ("POST /items", False),
        ("/items", True),  # a bare path matches every method
        ("GET /items/*", False),  # the glob needs something after the slash
        ("* /item*", True),
    ],
)
def test_matches(pattern: str, expected: bool) -> None:
    assert matches("GET /items", pattern) is expected


def test_select_operations_applies_include_exclude_and_safe() -> None:
    assert select_operations(OPERATIONS, settings(include=("/items/*",))) == [
        "GET /items/{id}",
        "DELETE /items/{id}",
    ]
    assert select_operations(OPERATIONS, settings(exclude=("POST *",))) == [
        "GET /items",
        "GET /items/{id}",
        "DELETE /items/{id}",
    ]
    assert "DELETE /items/{id}" not in select_operations(OPERATIONS, settings(safe=True))


def test_destructive_operations_only_on_production() -> None:
    assert destructive_operations(OPERATIONS, TargetSafety(production=False)) == []
    assert destructive_operations(OPERATIONS, TargetSafety(production=True)) == [
        "DELETE /items/{id}"
    ]
    allowed = TargetSafety(production=True, allow_destructive=True)
    assert destructive_operations(OPERATIONS, allowed) == []
    writes = TargetSafety(production=True, destructive_methods=frozenset({"POST", "DELETE"}))
    assert destructive_operations(OPERATIONS, writes) == ["POST /items", "DELETE /items/{id}"]


def test_is_production() -> None:
    assert is_production(None, True, [])
    assert is_production("Prod", False, ["prod", "production"])
    assert not is_production("staging", False, ["prod", "production"])
    assert not is_production(None, False, ["prod"])
    assert is_production("live", False, ["prod", " live "])


def test_body_excerpt_is_one_short_line() -> None:
    assert body_excerpt(b'{"a":\n  1}') == '{"a": 1}'
    assert body_excerpt(b"") == ""
    long = body_excerpt(b"y" * 5000, limit=10)
    assert long == "yyyyyyyyyy… (5,000 bytes)"
    # A truncated copy reports the size the server sent.
    assert body_excerpt(b"z" * 50, size=6_000_000, limit=10) == "zzzzzzzzzz… (6,000,000 bytes)"
    assert "\x00" not in body_excerpt(b"\x00\xffok")


def failure(curl: str, check: str = "not_a_server_error") -> FuzzFailure:
    key = FailureKey("GET /stats", check, "ServerError")
    return FuzzFailure(key=key, title="Server error", detail="", curl=curl, status=500)


def new_run() -> FuzzRun:
    return FuzzRun(
        spec="s.yaml",
        base_url="http://127.0.0.1:1",
        seed=1,
        max_time=5,
        max_examples=5,
        max_requests=10,
        phases=("fuzzing",),
    )


def test_duplicates_fold_to_the_shortest_reproduction() -> None:
    run = new_run()
    run.add_failure(failure("curl 'http://h/stats?divisor=00000'"))
    run.add_failure(failure("curl 'http://h/stats?divisor=0'"))
    run.add_failure(failure("curl 'http://h/stats?divisor=000'"))
    [folded] = run.failures.values()
    assert folded.curl == "curl 'http://h/stats?divisor=0'"
    assert folded.occurrences == 3


def test_findings_skip_accepted_failures_and_say_when_partial() -> None:
    run = new_run()
    run.add_failure(failure("curl a"))
    run.add_failure(failure("curl b", check="status_code_conformance"))
    run.interrupted = True
    here = Location("s.yaml", "/paths/~1stats/get", 7, 5)
    accepted = [FailureKey("GET /stats", "not_a_server_error", "ServerError")]
    findings, hidden = run_findings(run, lambda op: here, accepted)
    assert hidden == 1
    assert [f.id for f in findings] == ["fuzz/status_code_conformance", "fuzz/interrupted"]
    assert findings[0].location == here
    assert findings[0].operation == "GET /stats"
    assert findings[0].message == "Server error [ServerError]; response 500; reproduce: curl b"


def test_baseline_round_trip(tmp_path: Path) -> None:
    keys = {
        FailureKey("GET /b", "ignored_auth", "IgnoredAuth"),
        FailureKey("GET /a", "not_a_server_error", "ServerError"),
    }
    path = write(tmp_path, "baseline.json", baseline_text(keys))
    assert load_baseline(path, Loader()) == keys
    # Sorted by operation: rewriting a baseline gives small diffs.
    assert path.read_text().index("GET /a") < path.read_text().index("GET /b")


def test_malformed_baseline_names_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "baseline.yaml", "accepted:\n  - operation: GET /a\n    check: x\n")
    with pytest.raises(InputError) as raised:
        load_baseline(path, Loader())
    assert raised.value.pointer == "/accepted/0"
    with pytest.raises(InputError):
        load_baseline(write(tmp_path, "other.yaml", "accepted: 3\n"), Loader())


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--header", "no colon here", "is not 'Name: value'"),
        ("--rate-limit", "fast", "is not like 100/s"),
        ("--phases", "examples,chaos", "choose from examples, coverage, fuzzing, stateful"),
        ("--bearer-env", "APIGOV_SURELY_UNSET_VARIABLE", "is empty or unset"),
        ("--basic-env", "APIGOV_SURELY_UNSET_VARIABLE", "must hold 'user:password'"),
    ],
)
def test_bad_options_are_usage_errors(option: str, value: str, message: str) -> None:
    result = run_apigov(
        "fuzz",
        "tests/fuzz/specs/clean.yaml",
        "--base-url",
        "http://127.0.0.1:9",
        option,
        value,
    )
    assert result.code == 2
    assert message in result.stderr


def test_not_an_openapi_document_is_an_input_error() -> None:
    result = run_apigov("fuzz", "contracts/orders/service.yaml", "--base-url", "http://127.0.0.1:9")
    assert result.code == 2
    assert result.stderr == (
        "apigov: error: contracts/orders/service.yaml: apigov fuzz needs an OpenAPI document\n"
    )


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_display_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert wants_live_display(FakeTerminal())
    assert not wants_live_display(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not wants_live_display(FakeTerminal())
    monkeypatch.setenv("CI", "false")
    assert wants_live_display(FakeTerminal())


def test_live_display_draws_operations_and_ends_with_the_summary() -> None:
    screen = FakeTerminal()
    progress = LiveProgress(screen)
    run = new_run()
    run.operations = ["GET /stats"]
    progress.started(run.operations)
    run.requests = 3
    run.requests_per_operation["GET /stats"] = 3
    run.add_failure(failure("curl a"))
    progress.last_draw = 0.0  # the next update draws, whatever the clock says
    progress.update(run)
    progress.finished(run)
    shown = screen.getvalue()
    assert "GET /stats" in shown
    assert shown.rstrip().endswith(
        "fuzz: 3 requests to 1 operations, 1 distinct failures in 0.0 s (seed 1)"
    )


def test_other_commands_do_not_import_schemathesis() -> None:
    # schemathesis takes a few hundred milliseconds to import: only `apigov fuzz` may pay.
    code = (
        "import sys, apigov.cli.app, apigov.fuzz; "
        "sys.exit('schemathesis' in sys.modules or 'apigov.fuzz.driver' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert result.returncode == 0
