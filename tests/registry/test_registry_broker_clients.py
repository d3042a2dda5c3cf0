"""Real Pact clients against a real registry server (`apigov registry serve`, uvicorn, 127.0.0.1).

- The Pact CLI (the Rust `pact-broker` of the npm package `@pact-foundation/pact-cli`, installed
  by the `pact_broker_cli` fixture (conftest.py) into `<repo>/.cache/npm-pact`, git-ignored,
  once per machine):
  publishing the example fleet's pacts, environments, record-deployment, can-i-deploy (yes and
  no, with the exit codes the CLI gives), describe-version, and a token for writes.
- pact-python's `Verifier` (pact_ffi): fetching pacts for verification with consumer version
  selectors, verifying them against a small payments provider served here, and publishing the
  results back with a publish token, which the registry then holds as verification evidence.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from registry_support import CLIENT_ENVIRONMENT, run_pact_broker, serve_registry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apigov.registry.domain import ContractFile, Role
from apigov.registry.publishing import collect_service_folder
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS, REPO

FLEET_PACTS = sorted(CONTRACTS.glob("*/pacts/*.json"))


def _pact_broker(cli: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pact_broker(cli, url, *args)


def _publish_fleet_service(registry: SqlRegistry, service: str, version: str) -> None:
    """What `apigov publish contracts/SERVICE` stores: the provider's OpenAPI document too."""
    collected = collect_service_folder(CONTRACTS / service, service, Loader())
    registry.publish(service, version, collected.files, metadata=collected.metadata)


def _descriptions(content: bytes) -> list[str]:
    return [i["description"] for i in json.loads(content)["interactions"]]


# ---- the Pact CLI ------------------------------------------------------------------------------


def test_pact_cli_publishes_the_example_fleet_pacts(tmp_path: Path, pact_broker_cli: Path) -> None:
    location = str(tmp_path / "registry.db")
    folders = sorted({str(p.parent.relative_to(REPO)) for p in FLEET_PACTS})
    assert folders == ["contracts/notifications/pacts", "contracts/orders/pacts",
                       "contracts/shipping/pacts"]  # fmt: skip
    publish = ["publish", *folders, "--consumer-app-version", "1.0.0", "--branch", "main"]
    changed = tmp_path / "changed"
    changed.mkdir()
    pact = json.loads((CONTRACTS / "orders" / "pacts" / "orders-payments.json").read_bytes())
    pact["interactions"][0]["description"] += " (changed)"
    (changed / "orders-payments.json").write_text(json.dumps(pact, indent=2))

    with serve_registry(location, "--no-auth") as url:
        first = _pact_broker(pact_broker_cli, url, *publish)
        again = _pact_broker(pact_broker_cli, url, *publish)
        conflict = _pact_broker(
            pact_broker_cli, url, "publish", str(changed), "--consumer-app-version", "1.0.0"
        )

    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("✅ Published: ") == 5
    assert again.returncode == 0, again.stdout
    assert again.stdout.count("✅ Already published: ") == 5
    assert conflict.returncode == 1
    assert (
        "contracts: Cannot change the content of pacts/orders-payments.json of orders version "
        "1.0.0: published versions are immutable." in conflict.stdout
    )
    # The diff of the two contents (the CLI prints notices with single spaces).
    assert (
        '+ "description": "a request to authorise a card payment for an order (changed)",'
        in conflict.stdout
    )

    registry = SqlRegistry(location)
    try:
        for path in FLEET_PACTS:
            consumer, provider = path.stem.split("-", 1)
            record = registry.version(consumer, "1.0.0")
            assert record is not None, consumer
            assert record.branch == "main"
            (held,) = [f for f in record.pacts if f.provider == provider]
            assert held.path == f"pacts/{path.name}"
            # The CLI re-serialises a pact before sending it (V4 interactions in another
            # order): compare what it says.
            stored = registry.contents([held.sha256])[held.sha256]
            assert sorted(_descriptions(stored)) == sorted(_descriptions(path.read_bytes()))
    finally:
        registry.close()


def test_pact_cli_environments_deployments_and_can_i_deploy(
    tmp_path: Path, pact_broker_cli: Path
) -> None:
    location = str(tmp_path / "registry.db")
    registry = SqlRegistry(location)
    _publish_fleet_service(registry, "payments", "1.0.0")
    _publish_fleet_service(registry, "inventory", "1.0.0")
    token = TokenStore(registry.engine).create("ci", Scope.PUBLISH)
    registry.close()
    as_ci = ("--broker-token", token)

    with serve_registry(location) as url:

        def pact_broker(*args: str) -> subprocess.CompletedProcess[str]:
            return _pact_broker(pact_broker_cli, url, *args)

        anonymous = pact_broker("create-environment", "--name", "production", "--production")
        published = pact_broker(
            "publish", "contracts/orders/pacts", "--consumer-app-version", "1.0.0",
            "--branch", "main", *as_ci,
        )  # fmt: skip
        created = pact_broker("create-environment", "--name", "production", "--production", *as_ci)
        listed = pact_broker("list-environments", *as_ci)
        can_i_deploy = ("can-i-deploy", "--pacticipant", "orders", "--version", "1.0.0",
                        "--to-environment", "production", *as_ci)  # fmt: skip
        before = pact_broker(*can_i_deploy)
        deployed = [
            pact_broker(
                "record-deployment",
                "--pacticipant",
                service,
                "--version",
                "1.0.0",
                "--environment",
                "production",
                *as_ci,
            )
            for service in ("payments", "inventory")
        ]
        to_unknown = pact_broker("record-deployment", "--pacticipant", "payments", "--version",
                                 "1.0.0", "--environment", "staging", *as_ci)  # fmt: skip
        after = pact_broker(*can_i_deploy)
        on_production = ("--environment", "production", *as_ci)
        undeployed = pact_broker(
            "record-undeployment", "--pacticipant", "inventory", *on_production
        )
        without_inventory = pact_broker(*can_i_deploy)
        released = pact_broker(
            "record-release", "--pacticipant", "payments", "--version", "1.0.0", *on_production
        )
        support_ended = pact_broker(
            "record-support-ended", "--pacticipant", "payments", "--version", "1.0.0",
            *on_production,
        )  # fmt: skip
        described = pact_broker("describe-version", "--pacticipant", "orders", "--version", "1.0.0")
        latest = pact_broker("describe-version", "--pacticipant", "orders")
        missing = pact_broker("describe-version", "--pacticipant", "orders", "--version", "9.9.9")

    assert anonymous.returncode == 1
    assert "401" in anonymous.stdout
    assert published.returncode == 0, published.stdout
    assert created.returncode == 0, created.stdout
    assert "Created production environment" in created.stdout
    assert listed.returncode == 0
    rows = [line for line in listed.stdout.splitlines() if " production " in line]
    assert len(rows) == 1
    assert " true " in rows[0]

    # Nothing is deployed yet: both of orders' providers are missing from production.
    assert before.returncode == 1
    assert "❌ Computer says no" in before.stdout
    assert (
        "orders@1.0.0 -> inventory [-] pacts/orders-inventory.json: no version of inventory is "
        "deployed or released in production" in before.stdout
    )
    assert [d.returncode for d in deployed] == [0, 0]
    assert "Recorded deployment of payments version 1.0.0 to production" in deployed[0].stdout
    assert to_unknown.returncode == 1
    assert "Environment staging does not exist" in to_unknown.stdout
    assert after.returncode == 0, after.stdout
    assert "✅ Computer says yes" in after.stdout
    assert (
        "orders@1.0.0 -> payments@1.0.0 [deployed] pacts/orders-payments.json: static "
        "compatibility passed" in after.stdout
    )
    assert undeployed.returncode == 0, undeployed.stdout
    assert "Undeployed inventory from production environment" in undeployed.stdout
    assert without_inventory.returncode == 1
    assert "no version of inventory is deployed or released in production" in (
        without_inventory.stdout
    )
    assert released.returncode == 0, released.stdout
    assert support_ended.returncode == 0, support_ended.stdout
    assert described.returncode == 0
    assert " 1.0.0 " in described.stdout
    assert latest.returncode == 0
    assert " 1.0.0 " in latest.stdout
    assert missing.returncode == 1
    assert "Pacticipant version not found" in missing.stdout

    registry = SqlRegistry(location)
    try:
        live = registry.live_versions("production", ["payments", "inventory", "orders"])
        # inventory was undeployed; payments' release ended, its deployment goes on.
        assert [(v.service, v.number, v.via) for v in live] == [("payments", "1.0.0", "deployed")]
        actions = [(r.actor, r.action, r.subject) for r in registry.audit_log()]
        assert ("ci", "record-undeployment", "inventory") in actions
        assert ("ci", "record-support-ended", "payments@1.0.0") in actions
        assert [e.name for e in registry.environments()] == ["production"]
        assert registry.environments()[0].production is True
        assert {r.actor for r in registry.audit_log() if r.action == "record-deployment"} == {"ci"}
    finally:
        registry.close()


# ---- pact-python's Verifier --------------------------------------------------------------------


class PaymentsProvider:
    """What orders' pact with payments expects of payments, in memory; provider states set it up.

    `broken` makes refunds fail, so a verification has something to find.
    """

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.declined: set[str] = set()
        self.broken = False
        self.app = Starlette(
            routes=[
                Route("/v1/payments", self.authorise, methods=["POST"]),
                Route("/v1/payments/{payment}", self.read, methods=["GET"]),
                Route("/v1/payments/{payment}/capture", self.capture, methods=["POST"]),
                Route("/v1/payments/{payment}/void", self.void, methods=["POST"]),
                Route("/v1/payments/{payment}/refunds", self.refund, methods=["POST"]),
            ]
        )

    def state(self, state: str, action: str, parameters: dict[str, Any] | None) -> None:
        """pact-python calls this (by parameter name) before and after each interaction."""
        if action == "teardown":
            self.payments.clear()
            self.declined.clear()
            return
        values = parameters or {}
        if state == "the payment provider declines the card token":
            self.declined.add(values["paymentToken"])
        elif state in ("a payment is authorised", "a payment is captured"):
            self.payments[values["paymentId"]] = {
                "id": values["paymentId"],
                "orderId": values["orderId"],
                "status": "captured" if state.endswith("captured") else "authorized",
                "amount": {"amount": values["amount"], "currency": "EUR"},
                "method": "card",
            }

    async def authorise(self, request: Request) -> JSONResponse:
        body = await request.json()
        if body["paymentToken"] in self.declined:
            problem = {
                "type": "https://problems.shop.example.com/payments/card-declined",
                "title": "Card declined",
                "status": 402,
                "detail": "The card issuer declined the authorisation.",
            }
            return JSONResponse(problem, 402, media_type="application/problem+json")
        payment = {
            "id": str(uuid.uuid4()),
            "orderId": body["orderId"],
            "status": "authorized",
            "amount": body["amount"],
            "method": body["method"],
        }
        self.payments[payment["id"]] = payment
        stamps = {"authorizedAt": "2026-11-25T10:15:31Z", "createdAt": "2026-11-25T10:15:30Z"}
        return JSONResponse({**payment, **stamps}, 201)

    def _payment(self, request: Request) -> dict[str, Any] | None:
        return self.payments.get(request.path_params["payment"])

    async def read(self, request: Request) -> JSONResponse:
        payment = self._payment(request)
        return JSONResponse(payment, 200) if payment else JSONResponse({}, 404)

    async def capture(self, request: Request) -> JSONResponse:
        payment = self._payment(request)
        if payment is None or payment["status"] != "authorized":
            return JSONResponse({}, 409)
        body = await request.json()
        payment["status"] = "captured"
        return JSONResponse(
            {
                "id": payment["id"],
                "status": "captured",
                "capturedAmount": body["amount"],
                "capturedAt": "2026-11-25T10:20:00Z",
            }
        )

    async def void(self, request: Request) -> JSONResponse:
        payment = self._payment(request)
        if payment is None or payment["status"] != "authorized":
            return JSONResponse({}, 409)
        payment["status"] = "voided"
        return JSONResponse({"id": payment["id"], "status": "voided"})

    async def refund(self, request: Request) -> JSONResponse:
        payment = self._payment(request)
        if self.broken or payment is None or payment["status"] != "captured":
            return JSONResponse({"error": "cannot refund"}, 500)
        body = await request.json()
        refund = {
            "id": str(uuid.uuid4()),
            "paymentId": payment["id"],
            "status": "pending",
            "amount": body["amount"],
            "reason": body["reason"],
        }
        return JSONResponse(refund, 201)


@contextlib.contextmanager
def _serve_in_thread(app: Starlette) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the provider under verification did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _verify(
    broker: str, token: str, provider: PaymentsProvider, provider_url: str, version: str
) -> None:
    from pact import Verifier

    verifier = (
        Verifier("payments", host="127.0.0.1")
        .add_transport(url=provider_url)
        .broker_source(broker, token=token, selector=True)
        .consumer_version(main_branch=True)
        .consumer_version(deployed_or_released=True)
        .build()
        .state_handler(provider.state, teardown=True)
        .set_publish_options(version=version, branch="main")
    )
    verifier.verify()


def test_pact_python_verifier_fetches_pacts_by_selector_and_publishes_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PACT_DO_NOT_TRACK", "NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, CLIENT_ENVIRONMENT[name])
    location = str(tmp_path / "registry.db")
    current = (CONTRACTS / "orders" / "pacts" / "orders-payments.json").read_bytes()
    document = json.loads(current)
    # What orders 0.9.0, still in production, holds: the first two interactions only.
    older = json.dumps({**document, "interactions": document["interactions"][:2]}).encode()
    # A feature branch expecting an endpoint payments does not have: never selected here.
    feature = json.dumps(
        {
            **document,
            "interactions": [
                *document["interactions"],
                {
                    "description": "a request for a receipt",
                    "request": {"method": "GET", "path": "/v1/receipts/1"},
                    "response": {"status": 200},
                },
            ],
        }
    ).encode()
    registry = SqlRegistry(location)
    for version, content, branch in [
        ("0.9.0", older, None),
        ("1.0.0", current, "main"),
        ("2.0.0", feature, "feat-x"),
    ]:
        pact = ContractFile("pacts/orders-payments.json", Role.PACT, content, "payments")
        registry.add_contracts("orders", version, [pact], branch=branch)
    registry.record_deployment("orders", "0.9.0", "production")
    # Writes need a token (the server's default): the verifier publishes with one.
    token = TokenStore(registry.engine).create("payments-ci", Scope.PUBLISH)
    registry.close()
    sha = {name: ContractFile("p", Role.PACT, c).sha256 for name, c in
           [("older", older), ("current", current), ("feature", feature)]}  # fmt: skip

    provider = PaymentsProvider()
    with serve_registry(location) as broker, _serve_in_thread(provider.app) as url:
        provider.broken = True
        with pytest.raises(RuntimeError):
            _verify(broker, token, provider, url, "3.0.0-broken")
        provider.broken = False
        _verify(broker, token, provider, url, "3.0.0")

    registry = SqlRegistry(location)
    try:

        def results(version: str) -> dict[str, bool]:
            found = registry.verifications("payments", version, "orders")
            return {r.pact_sha256: r.success for r in found}

        # The broken provider fails only the pact with the refund interaction.
        assert results("3.0.0-broken") == {sha["older"]: True, sha["current"]: False}
        assert results("3.0.0") == {sha["older"]: True, sha["current"]: True}
        assert registry.verified_pacts("payments", [sha["feature"]]) == set()
        verified = registry.version("payments", "3.0.0")
        assert verified is not None
        assert verified.branch == "main"
        recorded = [r for r in registry.audit_log() if r.action == "record-verification"]
        assert {r.actor for r in recorded} == {"payments-ci"}
        assert len(recorded) == 4
    finally:
        registry.close()
