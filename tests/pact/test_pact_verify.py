"""Live verification: pacts replayed through pact-python's verifier against a real provider."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from verify_support import ORDERS_PAYMENTS, STATE_PATH, PaymentsProvider, running

from apigov.findings import Finding, Level
from apigov.pact.verify import STATE_FAILED_STATUS, StateRelay, VerifySettings, verify_pacts
from apigov.registry import open_registry
from apigov.registry.publishing import collect_service_folder
from apigov.spec.loader import Loader
from apigov.spec.model import PactFile
from helpers import CONTRACTS, run_apigov, write

PACT_ARGUMENT = "contracts/orders/pacts/orders-payments.json"

AUTHORISE = "a request to authorise a card payment for an order"
DECLINED = "a request to authorise a payment with a card that is declined"
READ = "a request for an authorised payment"
CAPTURE = "a request to capture an authorised payment in full"
VOID = "a request to void an authorised payment"
REFUND = "a request to refund a captured payment for a cancelled order"
DESCRIPTIONS = (AUTHORISE, DECLINED, READ, CAPTURE, VOID, REFUND)

PAYMENT = "c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33"
ORDER = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
AUTHORISED = {"paymentId": PAYMENT, "orderId": ORDER, "amount": 6492}


def line_of(description: str) -> int:
    """Where the interaction starts in the pact file: the line of its description member."""
    lines = ORDERS_PAYMENTS.read_text(encoding="utf-8").splitlines()
    wanted = f'"description": "{description}"'
    return next(number for number, text in enumerate(lines, 1) if wanted in text)


def load_pact() -> PactFile:
    document = Loader().load(str(ORDERS_PAYMENTS))
    assert isinstance(document, PactFile)
    return document


def verify(provider: PaymentsProvider, **settings: Any) -> list[Finding]:
    with running(provider) as base_url:
        run = verify_pacts(
            [load_pact()],
            VerifySettings(
                "payments", base_url, state_change_url=base_url + STATE_PATH, **settings
            ),
        )
    return run.findings()


def by_description(findings: list[Finding]) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for finding in findings:
        assert finding.location is not None
        matching = [d for d in DESCRIPTIONS if line_of(d) == finding.location.line]
        assert len(matching) == 1, finding
        found[matching[0]] = finding
    return found


def test_a_correct_provider_verifies_green() -> None:
    provider = PaymentsProvider()
    findings = by_description(verify(provider))
    assert set(findings) == set(DESCRIPTIONS)
    for description, finding in findings.items():
        assert (finding.id, finding.level) == ("verify-interaction-passed", Level.INFO)
        assert finding.message.startswith(f"'{description}' given ")
        assert finding.service == "payments"
        assert finding.consumers == ("orders",)
        assert finding.location is not None
        assert finding.location.file.endswith("orders-payments.json")
    assert findings[READ].operation == f"GET /v1/payments/{PAYMENT}"
    assert findings[AUTHORISE].operation == "POST /v1/payments"


def test_each_interaction_sets_up_its_provider_state_with_its_params() -> None:
    provider = PaymentsProvider()
    verify(provider)
    calls = [(c["action"], c["state"], c["params"]) for c in provider.state_calls]
    # One set-up per interaction, in the pact's order, with the params the pact gives.
    assert calls == [
        ("setup", "the payment provider accepts the card token", {"paymentToken": "tok_visa_4242"}),
        ("setup", "the payment provider declines the card token", {"paymentToken": "tok_declined"}),
        ("setup", "a payment is authorised", AUTHORISED),
        ("setup", "a payment is authorised", AUTHORISED),
        ("setup", "a payment is authorised", AUTHORISED),
        ("setup", "a payment is captured", AUTHORISED),
    ]


def test_teardown_calls_follow_each_set_up_when_asked() -> None:
    provider = PaymentsProvider()
    verify(provider, teardown=True)
    actions = [c["action"] for c in provider.state_calls]
    assert actions == ["setup", "teardown"] * 6


def test_planted_defects_are_reported_on_the_interactions_they_break() -> None:
    provider = PaymentsProvider(
        defects=frozenset({"missing-field", "wrong-status", "missing-route"})
    )
    findings = by_description(verify(provider))
    failing = {d: (f.id, f.level) for d, f in findings.items() if f.level is Level.ERROR}
    assert failing == {
        AUTHORISE: ("verify-status-mismatch", Level.ERROR),
        READ: ("verify-body-mismatch", Level.ERROR),
        VOID: ("verify-status-mismatch", Level.ERROR),
    }
    assert findings[AUTHORISE].message == (
        f"'{AUTHORISE}' given 'the payment provider accepts the card token': "
        "status: expected 201, got 200"
    )
    # The read leaves out `method`, which the pact's body names.
    assert "body at $:" in findings[READ].message
    assert "missing the following keys: method" in findings[READ].message
    # No route: Starlette's plain-text 404, so status, content type and header all differ.
    void = findings[VOID].message
    assert void.startswith(
        f"'{VOID}' given 'a payment is authorised': status: expected 200, got 404"
    )
    assert "body: expected content type 'application/json', got 'text/plain" in void
    assert "header Content-Type: expected 'application/json', got 'text/plain" in void
    for untouched in (DECLINED, CAPTURE, REFUND):
        assert findings[untouched].id == "verify-interaction-passed"


def test_a_failing_state_handler_fails_its_interactions_without_retries() -> None:
    provider = PaymentsProvider(failing_state="a payment is authorised")
    findings = by_description(verify(provider))
    failed = {d for d, f in findings.items() if f.id == "verify-state-change-failed"}
    assert failed == {READ, CAPTURE, VOID}
    message = findings[CAPTURE].message
    assert "provider state set-up failed: 'a payment is authorised'" in message
    assert "answered 500" in message
    assert "database is down" in message
    # The verifier retries a 5xx state change 8 times (about 128 s); through apigov's relay the
    # provider's endpoint is called exactly once per interaction.
    authorised_calls = [c for c in provider.state_calls if c["state"] == "a payment is authorised"]
    assert len(authorised_calls) == 3


def test_a_request_that_takes_longer_than_the_timeout_fails_that_interaction() -> None:
    provider = PaymentsProvider(defects=frozenset({"slow-read"}))
    # The read answers after SLOW_SECONDS (3 s); every request may take half a second here.
    findings = by_description(verify(provider, timeout=0.5))
    failing = {d: f for d, f in findings.items() if f.level is Level.ERROR}
    assert list(failing) == [READ]
    message = failing[READ].message
    assert failing[READ].id == "verify-request-failed"
    assert message.startswith(f"'{READ}' given 'a payment is authorised': the request failed: ")
    assert f"/v1/payments/{PAYMENT}" in message
    assert message.endswith("(each request may take 0.5 s: --timeout)")


def test_the_relay_answers_a_status_the_verifier_does_not_retry() -> None:
    def broken(state: str, action: str, params: Any) -> None:
        raise RuntimeError("no such fixture")

    relay = StateRelay(broken)
    status, body = relay.handle(b'{"state": "s", "params": {"a": 1}, "action": "setup"}')
    # 5xx, 408 and 429 are retried by the Rust verifier; 424 is not.
    assert status == STATE_FAILED_STATUS == 424
    assert json.loads(body) == {"error": "no such fixture"}


def test_custom_headers_replace_the_pacts_credentials(tmp_path: Path) -> None:
    provider = PaymentsProvider(token="s3cret")
    with running(provider) as base_url:
        state = ["--state-change-url", base_url + STATE_PATH]
        common = ["verify", "--provider", "payments", "--base-url", base_url, *state]
        common += ["--pact", PACT_ARGUMENT, "--format", "json"]
        refused = run_apigov(*common, timeout=120)
        accepted = run_apigov(*common, "--header", "Authorization: Bearer s3cret", timeout=120)
    # The pact's own bearer token is not the provider's: every call is refused with 401.
    assert refused.code == 1, refused.stderr
    report = json.loads(refused.stdout)
    assert report["summary"] == {"error": 6, "warning": 0, "info": 0}
    assert all(f["id"] == "verify-status-mismatch" for f in report["findings"])
    assert all("got 401" in f["message"] for f in report["findings"])
    assert accepted.code == 0, accepted.stdout + accepted.stderr
    assert json.loads(accepted.stdout)["summary"] == {"error": 0, "warning": 0, "info": 6}


def test_the_command_prints_only_its_report() -> None:
    provider = PaymentsProvider(defects=frozenset({"wrong-status"}))
    with running(provider) as base_url:
        result = run_apigov(
            "verify", "--provider", "payments", "--base-url", base_url,
            "--state-change-url", base_url + STATE_PATH, "--pact", PACT_ARGUMENT,
            timeout=120,
        )  # fmt: skip
    assert result.code == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    # The verifier's own terminal report ("Verifying a pact between ...") is not shown.
    assert not any("Verifying a pact" in line for line in lines)
    location, level, finding_id = lines[0].split()[:3]
    assert (location, level, finding_id) == (
        f"{PACT_ARGUMENT}:{line_of(AUTHORISE)}:7",
        "error",
        "verify-status-mismatch",
    )
    assert lines[0].endswith(
        "status: expected 201, got 200  [POST /v1/payments]  consumers: orders"
    )
    assert lines[-1] == "1 error, 0 warnings, 5 info in 1 document"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_provider_is_exit_3_with_one_line() -> None:
    port = free_port()
    result = run_apigov(
        "verify", "--provider", "payments", "--base-url", f"http://127.0.0.1:{port}",
        "--pact", PACT_ARGUMENT,
    )  # fmt: skip
    assert result.code == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"apigov: error: provider payments at http://127.0.0.1:{port} cannot be reached: "
        "Connection refused\n"
    )


def test_an_unreachable_state_change_url_is_exit_3_too() -> None:
    port = free_port()
    with running(PaymentsProvider()) as base_url:
        result = run_apigov(
            "verify", "--provider", "payments", "--base-url", base_url,
            "--state-change-url", f"http://127.0.0.1:{port}/states", "--pact", PACT_ARGUMENT,
        )  # fmt: skip
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr == (
        f"apigov: error: state change URL at http://127.0.0.1:{port}/states cannot be reached: "
        "Connection refused\n"
    )


def test_pacts_for_another_provider_are_input_errors() -> None:
    named = run_apigov("verify", "--provider", "billing", "--base-url", "http://127.0.0.1:1",
                       "--pact", PACT_ARGUMENT)  # fmt: skip
    assert named.code == 2
    assert named.stderr == (
        f"apigov: error: {PACT_ARGUMENT}: this pact is between orders and payments, "
        "not a contract with provider 'billing'\n"
    )
    folder = run_apigov("verify", "--provider", "billing", "--base-url", "http://127.0.0.1:1",
                        "--pact", "contracts")  # fmt: skip
    assert (folder.code, folder.stderr) == (
        2,
        "apigov: error: contracts: no pacts with provider 'billing'\n",
    )


def test_a_folder_selects_the_pacts_for_the_provider() -> None:
    provider = PaymentsProvider()
    with running(provider) as base_url:
        result = run_apigov(
            "verify", "--provider", "payments", "--base-url", base_url,
            "--state-change-url", base_url + STATE_PATH, "--pact", "contracts",
            "--format", "json", timeout=120,
        )  # fmt: skip
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    # Of the fleet's five pacts, only orders-payments names payments as its provider.
    assert {f["location"]["file"] for f in report["findings"]} == {PACT_ARGUMENT}
    assert report["summary"] == {"error": 0, "warning": 0, "info": 6}


MIXED_V4 = {
    "consumer": {"name": "ledger"},
    "provider": {"name": "payments"},
    "interactions": [
        {
            "type": "Asynchronous/Messages",
            "description": "a payment settled event",
            "contents": {"content": {"paymentId": PAYMENT}, "contentType": "application/json"},
        },
        {
            "type": "Synchronous/HTTP",
            "description": "a read of an authorised payment",
            "providerStates": [{"name": "a payment is authorised", "params": AUTHORISED}],
            "request": {
                "method": "GET",
                "path": f"/v1/payments/{PAYMENT}",
                "headers": {"Authorization": ["Bearer abc"]},
            },
            "response": {
                "status": 200,
                "headers": {"Content-Type": ["application/json"]},
                "body": {
                    "content": {"id": PAYMENT, "status": "authorized"},
                    "contentType": "application/json",
                },
            },
        },
    ],
    "metadata": {"pactSpecification": {"version": "4.0"}},
}


def test_message_interactions_are_listed_as_not_verified(tmp_path: Path) -> None:
    path = write(tmp_path, "ledger-payments.json", json.dumps(MIXED_V4, indent=2))
    document = Loader().load(str(path))
    assert isinstance(document, PactFile)
    provider = PaymentsProvider()
    with running(provider) as base_url:
        settings = VerifySettings("payments", base_url, state_change_url=base_url + STATE_PATH)
        run = verify_pacts([document], settings)
    found = sorted((f.id, f.level, f.location.line if f.location else None) for f in run.findings())
    # json.dumps(indent=2): the message's first member is on line 10, the HTTP one's on 20.
    # The message is not replayed; the HTTP interaction passes.
    assert found == [
        ("verify-interaction-not-verified", Level.INFO, 10),
        ("verify-interaction-passed", Level.INFO, 20),
    ]
    assert run.passed


def test_record_stores_evidence_that_can_i_deploy_sees(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    at = ["--registry", location]
    # Set-up in process (publishing is not under test): payments@1 and orders@1, with orders@1
    # deployed to prod, so deploying payments@1 there needs orders' pact with it to hold.
    store = open_registry(location)
    try:
        for service in ("payments", "orders"):
            collected = collect_service_folder(CONTRACTS / service, service, Loader())
            store.publish(service, "1", collected.files, metadata=collected.metadata)
        store.record_deployment("orders", "1", "prod")
    finally:
        store.close()
    gate = ["can-i-deploy", "payments", "1", "--to", "prod", "--require-verification"]
    gate += ["--format", "json", *at]

    def answer() -> tuple[int, list[str]]:
        result = run_apigov(*gate)
        return result.code, sorted(f["id"] for f in json.loads(result.stdout)["findings"])

    # Missing evidence: the pair waits for it, and the gate cannot answer yes.
    assert answer() == (1, ["deploy-answer-unknown", "deploy-verification-missing"])

    def verify_and_record(provider: PaymentsProvider) -> int:
        with running(provider) as base_url:
            result = run_apigov(
                "verify", "--provider", "payments", "--base-url", base_url,
                "--state-change-url", base_url + STATE_PATH, "--pact", PACT_ARGUMENT,
                "--record", "--version", "1", *at, timeout=120,
            )  # fmt: skip
        assert result.stderr.startswith(
            f"Recorded verification of orders's pact ({PACT_ARGUMENT}) against payments@1: "
        )
        return result.code

    assert verify_and_record(PaymentsProvider(defects=frozenset({"missing-field"}))) == 1
    assert answer() == (1, ["deploy-verification-failed"])
    assert verify_and_record(PaymentsProvider()) == 0
    assert answer() == (0, ["deploy-pair-satisfied"])


def test_record_needs_a_version() -> None:
    result = run_apigov(
        "verify", "--provider", "payments", "--base-url", "http://127.0.0.1:1",
        "--pact", PACT_ARGUMENT, "--record",
    )  # fmt: skip
    assert result.code == 2
    assert "--record needs --version" in result.stderr


@pytest.mark.parametrize("header", ["no-colon", ": value"])
def test_headers_must_be_name_colon_value(header: str) -> None:
    result = run_apigov(
        "verify", "--provider", "payments", "--base-url", "http://127.0.0.1:1",
        "--pact", PACT_ARGUMENT, "--header", header,
    )  # fmt: skip
    assert result.code == 2
    assert "is not 'Name: value'" in result.stderr


def test_tracking_is_disabled_even_when_the_environment_asks_for_it() -> None:
    # The Rust core reads PACT_DO_NOT_TRACK when it verifies; apigov sets it on import.
    script = "import os, apigov.pact.verify; print(os.environ['PACT_DO_NOT_TRACK'])"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PACT_DO_NOT_TRACK": "false"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "true\n"
