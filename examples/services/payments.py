"""The payments provider: authorise, capture, void and refund payments (in memory).

Implements contracts/payments/openapi.yaml. Payment tokens stand in for the card provider: a
token starting with `tok_declined` is refused (402), every other token is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from examples.services._app import (
    Idempotency,
    ProviderStates,
    json_response,
    mount_pact_endpoints,
    new_app,
    new_id,
    now,
    page,
    provider_states_enabled,
)
from examples.services._problems import ProblemError

DECLINED_PREFIX = "tok_declined"


@dataclass
class PaymentsStore:
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    declined_tokens: set[str] = field(default_factory=set)
    idempotency: Idempotency = field(default_factory=Idempotency)

    def reset(self) -> None:
        self.payments.clear()
        self.refunds.clear()
        self.declined_tokens.clear()
        self.idempotency = Idempotency()

    def declines(self, token: str) -> bool:
        return token.startswith(DECLINED_PREFIX) or token in self.declined_tokens

    def get(self, payment_id: str) -> dict[str, Any]:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise ProblemError.not_found(404, f"No payment with id {payment_id}.")
        return payment


def _method_details(method: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """What the provider tells about the payment method (one of the spec's three shapes)."""
    if method == "card":
        return {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030}
    if method == "paypal":
        return {"type": "paypal", "payerEmail": body.get("customerEmail", "payer@example.com")}
    if method == "bank_transfer":
        return {"type": "bank_transfer", "reference": f"PAY-{body['orderId'][:8].upper()}"}
    return None


def new_payment(
    store: PaymentsStore,
    *,
    payment_id: str,
    order_id: str,
    amount: dict[str, Any],
    method: str,
    capture: bool,
    customer_email: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    at = now()
    payment: dict[str, Any] = {
        "id": payment_id,
        "orderId": order_id,
        "status": "captured" if capture else "authorized",
        "amount": dict(amount),
        "method": method,
        "authorizedAt": at,
        "capturedAt": at if capture else None,
        "createdAt": at,
        "updatedAt": at,
    }
    if capture:
        payment["capturedAmount"] = dict(amount)
    if details is not None:
        payment["methodDetails"] = details
    if customer_email is not None:
        payment["customerEmail"] = customer_email
    store.payments[payment_id] = payment
    store.refunds[payment_id] = []
    return payment


def create_app(provider_states: bool | None = None) -> FastAPI:
    app, contract = new_app("payments")
    store = PaymentsStore()
    app.state.store = store

    @app.get("/v1/payments")
    async def list_payments(request: Request) -> Response:
        operation = contract.operation("listPayments")
        q = (await operation.check(request)).query
        found = [
            p
            for p in reversed(store.payments.values())
            if ("orderId" not in q or p["orderId"] == q["orderId"])
            and ("status" not in q or p["status"] == q["status"])
        ]
        return json_response(page(found, q.get("limit", 20), q.get("cursor")))

    @app.post("/v1/payments")
    async def create_payment(request: Request) -> Response:
        checked = await contract.operation("createPayment").check(request)
        body, key = checked.body, checked.headers["Idempotency-Key"]
        first = store.idempotency.replay(key, body)
        if first is not None:
            return _created(store.get(first))
        if store.declines(body["paymentToken"]):
            raise ProblemError(
                402,
                "payments/card-declined",
                "Card declined",
                "The card issuer declined the authorisation.",
            )
        payment = new_payment(
            store,
            payment_id=new_id(),
            order_id=body["orderId"],
            amount=body["amount"],
            method=body["method"],
            capture=bool(body.get("capture", False)),
            customer_email=body.get("customerEmail"),
            details=_method_details(body["method"], body),
        )
        store.idempotency.remember(key, body, payment["id"])
        return _created(payment)

    @app.get("/v1/payments/{paymentId}")
    async def get_payment(request: Request) -> Response:
        checked = await contract.operation("getPayment").check(request)
        return json_response(store.get(checked.path["paymentId"]))

    @app.post("/v1/payments/{paymentId}/capture")
    async def capture_payment(request: Request) -> Response:
        checked = await contract.operation("capturePayment").check(request)
        payment = store.get(checked.path["paymentId"])
        if payment["status"] != "authorized":
            raise ProblemError.conflict(
                "payments/not-capturable",
                "Payment cannot be captured",
                f"The payment is {payment['status']}; only authorised payments are captured.",
            )
        amount = (checked.body or {}).get("amount") or payment["amount"]
        # Refusals that depend on the payment's state are 409s: schemathesis (rightly) counts a
        # 422 for a schema-valid request as valid data rejected.
        if amount["currency"] != payment["amount"]["currency"]:
            raise ProblemError.conflict(
                "payments/currency-mismatch",
                "Currency mismatch",
                "Capture in the payment's currency.",
            )
        if amount["amount"] > payment["amount"]["amount"]:
            raise ProblemError.conflict(
                "payments/capture-exceeds-authorisation",
                "Capture exceeds the authorisation",
                "The capture amount is more than was authorised.",
            )
        payment.update(
            status="captured", capturedAmount=dict(amount), capturedAt=now(), updatedAt=now()
        )
        return json_response(payment)

    @app.post("/v1/payments/{paymentId}/void")
    async def void_payment(request: Request) -> Response:
        checked = await contract.operation("voidPayment").check(request)
        payment = store.get(checked.path["paymentId"])
        if payment["status"] != "authorized":
            raise ProblemError.conflict(
                "payments/not-voidable",
                "Payment cannot be voided",
                f"The payment is {payment['status']}; captured payments are refunded instead.",
            )
        payment.update(status="voided", updatedAt=now())
        return json_response(payment)

    @app.get("/v1/payments/{paymentId}/refunds")
    async def list_refunds(request: Request) -> Response:
        operation = contract.operation("listRefunds")
        checked = await operation.check(request)
        store.get(checked.path["paymentId"])
        refunds = store.refunds[checked.path["paymentId"]]
        q = checked.query
        return json_response(page(refunds, q.get("limit", 20), q.get("cursor")))

    @app.post("/v1/payments/{paymentId}/refunds")
    async def create_refund(request: Request) -> Response:
        checked = await contract.operation("createRefund").check(request)
        payment = store.get(checked.path["paymentId"])
        body, key = checked.body, checked.headers["Idempotency-Key"]
        first = store.idempotency.replay(key, {"paymentId": payment["id"], **body})
        if first is not None:
            earlier = next(r for r in store.refunds[payment["id"]] if r["id"] == first)
            return json_response(earlier, 201)
        if payment["status"] not in ("captured", "partially_refunded"):
            raise ProblemError.conflict(
                "payments/not-refundable",
                "Payment cannot be refunded",
                f"The payment is {payment['status']}; only captured payments are refunded.",
            )
        captured = payment["capturedAmount"]
        # As for captures: the spec's description says 422 for a refund past the captured
        # amount, but that refusal depends on the payment's state, so it is a 409 here.
        if body["amount"]["currency"] != captured["currency"]:
            raise ProblemError.conflict(
                "payments/currency-mismatch",
                "Currency mismatch",
                "Refund in the payment's currency.",
            )
        refunded = sum(r["amount"]["amount"] for r in store.refunds[payment["id"]])
        if refunded + body["amount"]["amount"] > captured["amount"]:
            raise ProblemError.conflict(
                "payments/refund-exceeds-capture",
                "Refund exceeds the captured amount",
                f"{captured['amount'] - refunded} minor units are left to refund.",
            )
        refund: dict[str, Any] = {
            "id": new_id(),
            "paymentId": payment["id"],
            "status": "pending",
            "amount": dict(body["amount"]),
            "reason": body["reason"],
            "createdAt": now(),
        }
        if "note" in body:
            refund["note"] = body["note"]
        store.refunds[payment["id"]].append(refund)
        store.idempotency.remember(key, {"paymentId": payment["id"], **body}, refund["id"])
        total = refunded + body["amount"]["amount"]
        payment.update(
            status="refunded" if total == captured["amount"] else "partially_refunded",
            refundedAmount={"amount": total, "currency": captured["currency"]},
            updatedAt=now(),
        )
        return json_response(refund, 201)

    if provider_states_enabled(provider_states):
        mount_pact_endpoints(app, _states(store), store.reset)
    return app


def _created(payment: dict[str, Any]) -> Response:
    return json_response(payment, 201, {"Location": f"/v1/payments/{payment['id']}"})


def _states(store: PaymentsStore) -> ProviderStates:
    def accepts(params: dict[str, Any]) -> None:
        store.declined_tokens.discard(str(params.get("paymentToken", "")))

    def declines(params: dict[str, Any]) -> None:
        store.declined_tokens.add(str(params["paymentToken"]))

    def payment(status: str) -> Any:
        def handler(params: dict[str, Any]) -> None:
            new_payment(
                store,
                payment_id=str(params["paymentId"]),
                order_id=str(params["orderId"]),
                amount={"amount": int(params["amount"]), "currency": "EUR"},
                method="card",
                capture=status == "captured",
                details=_method_details("card", {}),
            )

        return handler

    return ProviderStates(
        exact={
            "the payment provider accepts the card token": accepts,
            "the payment provider declines the card token": declines,
            "a payment is authorised": payment("authorized"),
            "a payment is captured": payment("captured"),
        }
    )
