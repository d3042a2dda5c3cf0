"""`can-i-deploy --retry-while-unknown N --retry-interval S`: waiting on evidence.

The command runs in its own process against a SQLite registry file; the evidence it waits for is
recorded by this (second) process while it retries. Intervals are 0.1-0.2 s, and the number of
retries bounds every wait.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from apigov.registry.gate import Answer, Decision, Pair, decide_with_retries
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS, REPO, run_apigov

WAITING = "can-i-deploy: unknown (required evidence missing); asking again in"


@pytest.fixture
def location(tmp_path: Path) -> str:
    """payments 1 and inventory 1 deployed to production; orders 1 (holding pacts with both)
    published, its pact with inventory verified: only the verification with payments is
    missing."""
    where = str(tmp_path / "registry.db")
    store = SqlRegistry(where)
    try:
        for service in ("payments", "inventory", "orders"):
            folder = CONTRACTS / service
            collected = collect_service_folder(folder, service, Loader(root=folder.parent))
            store.publish(service, "1", collected.files)
        store.record_deployment("payments", "1", "production")
        store.record_deployment("inventory", "1", "production")
        record = store.version("orders", "1")
        assert record is not None
        with_inventory = next(p for p in record.pacts if p.provider == "inventory")
        store.record_verification("inventory", "1", "orders", with_inventory.sha256, True)
    finally:
        store.close()
    return where


def orders_pact_with_payments(location: str) -> str:
    store = SqlRegistry(location)
    try:
        record = store.version("orders", "1")
        assert record is not None
        return next(p.sha256 for p in record.pacts if p.provider == "payments")
    finally:
        store.close()


def record_verification(location: str, success: bool) -> None:
    store = SqlRegistry(location)
    try:
        store.record_verification(
            "payments", "1", "orders", orders_pact_with_payments(location), success
        )
    finally:
        store.close()


def ask(location: str, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "apigov",
        "can-i-deploy",
        "orders",
        "1",
        "--to",
        "production",
        "--require",
        "verification",
        "--registry",
        location,
        "--format",
        "json",
        *options,
    ]


def test_the_answer_turns_to_yes_when_the_evidence_arrives(location: str) -> None:
    process = subprocess.Popen(
        ask(location, "--retry-while-unknown", "100", "--retry-interval", "0.2"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        text=True,
    )
    try:
        assert process.stderr is not None
        # The first wait is announced once the first answer was unknown: record it only then,
        # so the test shows an unknown answer turning into a yes.
        first = process.stderr.readline()
        assert first.startswith(WAITING), first
        assert first.endswith("0.2 s (1/100)\n")
        record_verification(location, True)
        stdout, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout + rest
    findings = json.loads(stdout)["findings"]
    assert [f["id"] for f in findings] == ["deploy-pair-satisfied", "deploy-pair-satisfied"]
    assert all("verification of this pact passed" in f["message"] for f in findings)
    # It stopped asking as soon as the answer was known: far fewer waits than allowed.
    waits = 1 + rest.count(WAITING)
    assert waits < 100


def test_it_gives_up_with_an_unknown_answer(location: str) -> None:
    result = run_apigov(*ask(location, "--retry-while-unknown", "3", "--retry-interval", "0.1")[3:])
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{WAITING} 0.1 s (1/3)",
        f"{WAITING} 0.1 s (2/3)",
        f"{WAITING} 0.1 s (3/3)",
    ]
    findings = json.loads(result.stdout)["findings"]
    # Reports list errors before info, by id.
    assert [(f["id"], f["level"]) for f in findings] == [
        ("deploy-answer-unknown", "error"),
        ("deploy-verification-missing", "error"),
        ("deploy-pair-satisfied", "info"),
    ]
    assert findings[0]["message"] == (
        "unknown: nothing failed, but 1 required piece of evidence is missing or stale; "
        "asked 4 times"
    )


def test_a_failed_verification_is_not_waited_on(location: str) -> None:
    record_verification(location, False)
    result = run_apigov(
        *ask(location, "--retry-while-unknown", "100", "--retry-interval", "0.2")[3:]
    )
    assert result.code == 1
    assert WAITING not in result.stderr  # a no is final: no wait at all
    findings = json.loads(result.stdout)["findings"]
    assert sorted(f["id"] for f in findings) == [
        "deploy-pair-satisfied",
        "deploy-verification-failed",
    ]


def test_retries_in_process_stop_at_the_first_known_answer() -> None:
    """decide_with_retries itself: it asks until the answer is not unknown, or retries run out."""
    unknown = Decision("s", "1", "e", pairs=[_pair(Answer.VERIFICATION_MISSING)])
    known = Decision("s", "1", "e", pairs=[_pair(Answer.SATISFIED)])
    answers = iter([unknown, unknown, known, unknown])
    waits: list[tuple[int, float]] = []
    slept: list[float] = []
    decision = decide_with_retries(
        lambda: next(answers),
        10,
        0.15,
        on_wait=lambda _decision, retry: waits.append((retry, 0.15)),
        sleep=slept.append,
    )
    assert decision is known and decision.verdict == "yes"
    assert decision.asked == 3
    assert waits == [(1, 0.15), (2, 0.15)]
    assert slept == [0.15, 0.15]
    assert _retries_used(lambda: Decision("s", "1", "e", known_version=False), 5) == 0


def _retries_used(ask_once: Callable[[], Decision], retries: int) -> int:
    slept: list[float] = []
    decide_with_retries(ask_once, retries, 0.1, sleep=slept.append)
    return len(slept)


def _pair(answer: Answer) -> Pair:
    return Pair("c", "1", "s", "1", "pacts/c-s.json", "deployed", answer, "")
