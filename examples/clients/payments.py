"""The payments client that orders uses: authorise, read, capture, void and refund payments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from examples.clients._http import ProblemError, ServiceClient


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def to_json(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}


@dataclass(frozen=True)
class Payment:
    id: str
    status: str
    order_id: str | None = None
    amount: Money | None = None
    captured_amount: Money | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Payment:
        def money(key: str) -> Money | None:
            value = data.get(key)
            return Money(int(value["amount"]), str(value["currency"])) if value else None

        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            order_id=data.get("orderId"),
            amount=money("amount"),
            captured_amount=money("capturedAmount"),
        )


@dataclass(frozen=True)
class Refund:
    id: str
    payment_id: str
    status: str
    amount: Money


class PaymentDeclinedError(Exception):
    """The payment provider refused the authorisation (402); `reason` is the problem type."""

    def __init__(self, problem: ProblemError) -> None:
        self.reason = problem.type
        super().__init__(problem.detail or problem.title)


class PaymentsClient(ServiceClient):
    def authorize(
        self,
        *,
        order_id: str,
        amount: Money,
        method: str,
        payment_token: str,
        idempotency_key: str,
        capture: bool | None = None,
        customer_email: str | None = None,
    ) -> Payment:
        body: dict[str, Any] = {
            "orderId": order_id,
            "amount": amount.to_json(),
            "method": method,
            "paymentToken": payment_token,
        }
        # Only what the caller decided is sent: the provider's defaults apply to the rest.
        if capture is not None:
            body["capture"] = capture
        if customer_email is not None:
            body["customerEmail"] = customer_email
        response = self.http.post(
            "/payments", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        try:
            return Payment.from_json(self.json_or_problem(response, 201))
        except ProblemError as problem:
            if problem.status == 402:
                raise PaymentDeclinedError(problem) from problem
            raise

    def get(self, payment_id: str) -> Payment:
        return Payment.from_json(
            self.json_or_problem(self.http.get(f"/payments/{payment_id}"), 200)
        )

    def capture(self, payment_id: str, amount: Money | None = None) -> Payment:
        body = {"amount": amount.to_json()} if amount is not None else None
        response = self.http.post(f"/payments/{payment_id}/capture", json=body)
        return Payment.from_json(self.json_or_problem(response, 200))

    def void(self, payment_id: str) -> Payment:
        response = self.http.post(f"/payments/{payment_id}/void")
        return Payment.from_json(self.json_or_problem(response, 200))

    def refund(
        self, payment_id: str, *, amount: Money, reason: str, idempotency_key: str
    ) -> Refund:
        response = self.http.post(
            f"/payments/{payment_id}/refunds",
            json={"amount": amount.to_json(), "reason": reason},
            headers={"Idempotency-Key": idempotency_key},
        )
        data = self.json_or_problem(response, 201)
        return Refund(
            id=str(data["id"]),
            payment_id=str(data["paymentId"]),
            status=str(data["status"]),
            amount=Money(int(data["amount"]["amount"]), str(data["amount"]["currency"])),
        )
