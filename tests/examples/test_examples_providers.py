"""The example fleet's providers, started with `python -m examples.fleet serve` on 127.0.0.1:
every pact of their consumers verified against them with pact-python's Verifier (the real FFI,
provider states through each service's state-change endpoint), and `apigov fuzz` finding
nothing in orders and payments.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from helpers import CONTRACTS, REPO, run_apigov

# The Rust core makes a usage-tracking DNS lookup unless told not to; firewalled CI hangs on it.
os.environ["PACT_DO_NOT_TRACK"] = "true"

from pact import Verifier  # imported after PACT_DO_NOT_TRACK is set

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZXJ2aWNlIn0.c2lnbmF0dXJl"
STARTUP_SECONDS = 60
# Interactions each provider must pass, counted by hand in contracts/*/pacts/.
INTERACTIONS = {"orders": 6, "payments": 6, "inventory": 5, "shipping": 2}
MESSAGES = {"orders": 2}


@dataclass
class Fleet:
    process: subprocess.Popen[str]
    urls: dict[str, str]
    lines: list[str]

    def origin(self, service: str) -> str:
        return self.urls[service].removesuffix("/v1")

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def _lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))
    into.put(None)


def start_fleet(*args: str) -> Fleet:
    """Run the fleet command; return once it printed `ready` (bounded by STARTUP_SECONDS)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.fleet", "serve", "--base-port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    fleet = Fleet(process, {}, [])
    try:
        while True:
            line = lines.get(timeout=STARTUP_SECONDS)
            if line is None:
                raise AssertionError("the fleet exited:\n" + "\n".join(fleet.lines))
            fleet.lines.append(line)
            found = re.fullmatch(r"(\w+)\s+(http://127\.0\.0\.1:\d+/v1)", line)
            if found:
                fleet.urls[found[1]] = found[2]
            if line.startswith("ready"):
                break
    except BaseException:
        process.kill()
        raise
    # Keep draining its output so that the process never blocks on a full pipe.
    threading.Thread(target=_drain, args=(lines, fleet.lines), daemon=True).start()
    return fleet


def _drain(lines: queue.Queue[str | None], into: list[str]) -> None:
    while (line := lines.get()) is not None:
        into.append(line)


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    running = start_fleet("--provider-states")
    yield running
    running.stop()


def pacts_of(provider: str) -> list[Path]:
    return sorted(
        p
        for p in CONTRACTS.glob("*/pacts/*.json")
        if json.loads(p.read_text(encoding="utf-8"))["provider"]["name"] == provider
    )


def verifier(fleet: Fleet, provider: str, pacts: list[Path]) -> Verifier:
    origin = fleet.origin(provider)
    port = int(origin.rsplit(":", 1)[1])
    checker = Verifier(provider, host="127.0.0.1").add_transport(url=f"{origin}/")
    if provider in MESSAGES:
        # Pact's message transport: the verifier asks the publisher for each described message.
        checker.add_transport(protocol="message", port=port, path="/_pact/messages", scheme="http")
    checker.state_handler(f"{origin}/_pact/provider-states", teardown=True, body=True)
    checker.set_request_timeout(5000)
    for pact in pacts:
        checker.add_source(pact)
    return checker


@pytest.mark.parametrize("provider", sorted(INTERACTIONS))
def test_provider_passes_every_pact_of_its_consumers(fleet: Fleet, provider: str) -> None:
    checker = verifier(fleet, provider, pacts_of(provider))
    checker.verify()
    results = checker.results
    assert results["errors"] == []
    outcomes = [(r["description"], r["result"]) for r in results["interactionResults"]]
    assert len(outcomes) == INTERACTIONS[provider], outcomes
    assert {result for _, result in outcomes} == {"OK"}


def test_a_provider_that_breaks_a_pact_fails_verification(fleet: Fleet, tmp_path: Path) -> None:
    """The same verification fails when the consumer expects what orders does not answer."""
    pact = json.loads((CONTRACTS / "shipping/pacts/shipping-orders.json").read_text("utf-8"))
    paid_order = next(
        i for i in pact["interactions"] if i["description"] == "a request for a paid order"
    )
    paid_order["response"]["body"]["status"] = "shipped"  # orders answers "paid" in that state
    broken = tmp_path / "shipping-orders.json"
    broken.write_text(json.dumps(pact), encoding="utf-8")
    checker = verifier(fleet, "orders", [broken])
    with pytest.raises(RuntimeError):
        checker.verify()
    failed = {
        r["description"] for r in checker.results["interactionResults"] if r["result"] != "OK"
    }
    assert failed == {"a request for a paid order"}


def post_json(
    url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


PAYMENT = {
    "orderId": "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11",
    "amount": {"amount": 6492, "currency": "EUR"},
    "method": "card",
    "paymentToken": "tok_visa_4242",
}


def test_requests_are_checked_against_the_contract(fleet: Fleet) -> None:
    url = f"{fleet.urls['payments']}/payments"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    broken = {**PAYMENT, "amount": {"amount": -1, "currency": "EUR"}}
    del broken["paymentToken"]
    status, body = post_json(url, broken, {**auth, "Idempotency-Key": "short"})
    assert status == 400
    problem = json.loads(body)
    # Every invalid input at once: the key is under 8 characters and breaks its pattern, the
    # token is missing (reported at the body's root), the amount is below its minimum of 0.
    assert sorted((e.get("parameter") or e.get("pointer")) for e in problem["errors"]) == [
        "",
        "/amount/amount",
        "Idempotency-Key",
        "Idempotency-Key",
    ]
    assert problem["status"] == 400

    status, _ = post_json(url, PAYMENT, {"Authorization": "Bearer not-a-fleet-token"})
    assert status == 401


def test_idempotency_keys_replay_the_first_result(fleet: Fleet) -> None:
    url = f"{fleet.urls['payments']}/payments"
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "order-42-authorize"}
    first_status, first = post_json(url, PAYMENT, headers)
    again_status, again = post_json(url, PAYMENT, headers)
    other_status, other = post_json(url, {**PAYMENT, "method": "paypal"}, headers)
    assert (first_status, again_status, other_status) == (201, 201, 409)
    assert json.loads(first)["id"] == json.loads(again)["id"]
    assert json.loads(other)["type"].endswith("/idempotency-key-reused")


def test_an_unknown_provider_state_is_refused_at_once(fleet: Fleet) -> None:
    # A refusal, not an error page or a hang: pact's verifier retries failed set-ups for minutes.
    status, body = post_json(
        f"{fleet.origin('payments')}/_pact/provider-states",
        {"state": "the moon is made of cheese", "params": {}, "action": "setup"},
    )
    assert status == 400
    assert b"unknown provider state" in body


def test_orders_publishes_the_event_of_its_last_change(fleet: Fleet) -> None:
    origin = fleet.origin("orders")
    order_id = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
    status, _ = post_json(
        f"{origin}/_pact/provider-states",
        {
            "state": "a paid order was cancelled by the customer",
            "params": {"orderId": order_id, "customerEmail": "ada.lovelace@example.com"},
            "action": "setup",
        },
    )
    assert status == 200
    request = urllib.request.Request(f"{origin}/_pact/messages", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        event = json.loads(response.read())
        metadata = json.loads(base64.b64decode(response.headers["Pact-Message-Metadata"]))
    # 3 T-shirts at 19.99 plus 4.95 shipping, refunded in full because the order was paid.
    assert event["eventType"] == "order.cancelled"
    assert (event["orderId"], event["orderNumber"]) == (order_id, "ORD-00012345")
    assert event["refund"] == {"amount": 6492, "currency": "EUR"}
    assert metadata == {
        "contentType": "application/json",
        "topic": "shop.orders.v1",
        "eventType": "order.cancelled",
    }
    post_json(f"{origin}/_pact/provider-states", {"state": "", "action": "teardown"})


@pytest.mark.parametrize("service", ["orders", "payments"])
def test_fuzzing_finds_nothing(
    fleet: Fleet, service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The contract itself, references into _shared/ and all.
    spec = CONTRACTS / service / "openapi.yaml"
    run_file = tmp_path / "run.json"
    monkeypatch.setenv("EXAMPLES_FLEET_TOKEN", TOKEN)
    result = run_apigov(
        "fuzz",
        str(spec),
        "--base-url",
        fleet.urls[service],
        "--max-examples",
        "5",
        "--max-time",
        "15",
        "--seed",
        "11",
        "--bearer-env",
        "EXAMPLES_FLEET_TOKEN",
        "--write-run",
        str(run_file),
        "--format",
        "json",
        timeout=120,
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == [], json.dumps(report["findings"], indent=1)[:3000]
    assert result.code == 0
    run = json.loads(run_file.read_text("utf-8"))
    assert len(run["operations"]) == 7  # orders and payments both have 7 operations
    assert run["requests"] > 20  # it did exercise the service (about 100 in 15 s here, loaded)
    checks = {check for counts in run["checks_per_operation"].values() for check in counts}
    assert {"response_schema_conformance", "ignored_auth", "not_a_server_error"} <= checks


def test_fleet_serves_only_the_chosen_services_and_stops_on_sigterm() -> None:
    fleet = start_fleet("--only", "payments,shipping")
    try:
        assert sorted(fleet.urls) == ["payments", "shipping"]
        # Without a token the payments API refuses; the Pact endpoints are not mounted.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{fleet.urls['payments']}/payments", timeout=5)
        assert refused.value.code == 401
        assert refused.value.headers["Content-Type"] == "application/problem+json"
        status, _ = post_json(
            f"{fleet.origin('payments')}/_pact/provider-states", {"state": "a payment is captured"}
        )
        assert status == 404
    finally:
        code = fleet.stop()
    assert code == 0
    assert fleet.lines[-1] == "stopped"
