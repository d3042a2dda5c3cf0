"""A small payments provider for the live-verification tests, and serving it on 127.0.0.1.

It implements what contracts/orders/pacts/orders-payments.json expects from payments, with a
state-change endpoint, and can be told to break in the ways the tests look for: `defects` is a
set of "missing-field" (GET /v1/payments/{id} leaves out `method`), "wrong-status"
(POST /v1/payments answers 200 instead of 201), "missing-route" (no POST .../void) and
"slow-read" (GET /v1/payments/{id} answers after SLOW_SECONDS).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpers import CONTRACTS

# The Pact core phones home after each verification unless told not to; never in tests.
os.environ["PACT_DO_NOT_TRACK"] = "true"

ORDERS_PAYMENTS = CONTRACTS / "orders" / "pacts" / "orders-payments.json"
PAYMENT_ID = "c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33"
ORDER_ID = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
STATE_PATH = "/_pact/provider-states"
SLOW_SECONDS = 3.0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _problem(status: int, title: str, kind: str, detail: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://problems.shop.example.com/payments/{kind}",
        "title": title,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@dataclass
class PaymentsProvider:
    defects: frozenset[str] = frozenset()
    token: str | None = None
    """When set, only `Authorization: Bearer <token>` is accepted (else any bearer token)."""
    failing_state: str | None = None
    """A provider state whose set-up answers 500 (the verifier would retry that for minutes)."""
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_calls: list[dict[str, Any]] = field(default_factory=list)

    # ---- provider states -------------------------------------------------------------------

    async def change_state(self, request: Request) -> Response:
        body = await request.json()
        self.state_calls.append(body)
        state, params = body.get("state"), body.get("params") or {}
        if state == self.failing_state:
            return JSONResponse({"error": "database is down"}, status_code=500)
        if body.get("action") == "teardown":
            self.payments.clear()
            return JSONResponse({})
        self.set_up(state, params)
        return JSONResponse({})

    def set_up(self, state: str, params: dict[str, Any]) -> None:
        if state in ("a payment is authorised", "a payment is captured"):
            payment_id = params["paymentId"]
            self.payments[payment_id] = {
                "id": payment_id,
                "orderId": params["orderId"],
                "status": "authorized" if state == "a payment is authorised" else "captured",
                "amount": {"amount": params["amount"], "currency": "EUR"},
                "method": "card",
            }

    # ---- the API ---------------------------------------------------------------------------

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.token is not None:
            return header == f"Bearer {self.token}"
        return header.startswith("Bearer ")

    async def create_payment(self, request: Request) -> Response:
        if not self.authorised(request):
            return _problem(401, "Unauthorized", "unauthorized")
        body = await request.json()
        if body.get("paymentToken") == "tok_declined":
            return _problem(
                402, "Card declined", "card-declined", "The issuer refused the authorisation."
            )
        payment = {
            "id": str(uuid.uuid4()),
            "orderId": body["orderId"],
            "status": "captured" if body.get("capture") else "authorized",
            "amount": body["amount"],
            "method": body["method"],
            "authorizedAt": _now(),
            "createdAt": _now(),
        }
        self.payments[payment["id"]] = payment
        status = 200 if "wrong-status" in self.defects else 201
        return JSONResponse(payment, status_code=status)

    async def get_payment(self, request: Request) -> Response:
        if not self.authorised(request):
            return _problem(401, "Unauthorized", "unauthorized")
        if "slow-read" in self.defects:
            await asyncio.sleep(SLOW_SECONDS)
        payment = self.payments.get(request.path_params["payment_id"])
        if payment is None:
            return _problem(404, "Payment not found", "not-found")
        shown = dict(payment)
        if "missing-field" in self.defects:
            shown.pop("method")
        return JSONResponse(shown)

    async def capture(self, request: Request) -> Response:
        payment = self.payments.get(request.path_params["payment_id"])
        if not self.authorised(request):
            return _problem(401, "Unauthorized", "unauthorized")
        if payment is None:
            return _problem(404, "Payment not found", "not-found")
        body = await request.json()
        payment["status"] = "captured"
        return JSONResponse(
            {
                "id": payment["id"],
                "status": "captured",
                "capturedAmount": body.get("amount", payment["amount"]),
                "capturedAt": _now(),
            }
        )

    async def void(self, request: Request) -> Response:
        payment = self.payments.get(request.path_params["payment_id"])
        if not self.authorised(request):
            return _problem(401, "Unauthorized", "unauthorized")
        if payment is None:
            return _problem(404, "Payment not found", "not-found")
        payment["status"] = "voided"
        return JSONResponse({"id": payment["id"], "status": "voided"})

    async def refund(self, request: Request) -> Response:
        payment = self.payments.get(request.path_params["payment_id"])
        if not self.authorised(request):
            return _problem(401, "Unauthorized", "unauthorized")
        if payment is None:
            return _problem(404, "Payment not found", "not-found")
        body = await request.json()
        return JSONResponse(
            {
                "id": str(uuid.uuid4()),
                "paymentId": payment["id"],
                "status": "pending",
                "amount": body["amount"],
                "reason": body.get("reason", "requested_by_customer"),
            },
            status_code=201,
        )

    def app(self) -> Starlette:
        routes = [
            Route(STATE_PATH, self.change_state, methods=["POST"]),
            Route("/v1/payments", self.create_payment, methods=["POST"]),
            Route("/v1/payments/{payment_id}", self.get_payment, methods=["GET"]),
            Route("/v1/payments/{payment_id}/capture", self.capture, methods=["POST"]),
            Route("/v1/payments/{payment_id}/refunds", self.refund, methods=["POST"]),
        ]
        if "missing-route" not in self.defects:
            routes.append(Route("/v1/payments/{payment_id}/void", self.void, methods=["POST"]))
        return Starlette(routes=routes)


@contextmanager
def running(provider: PaymentsProvider) -> Iterator[str]:
    """Serve the provider on 127.0.0.1 (a free port) for the block; yields its base URL."""
    from apigov.pytest_plugin import serve_asgi

    with serve_asgi(provider.app()) as base_url:
        yield base_url
