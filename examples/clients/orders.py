"""The orders client that shipping and notifications use: paid orders, one order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from examples.clients._http import ProblemError, ServiceClient


@dataclass(frozen=True)
class OrderSummary:
    id: str
    number: str
    status: str
    customer_id: str
    customer_email: str | None = None
    payment_id: str | None = None
    shipment_id: str | None = None
    shipping_address: dict[str, Any] | None = None
    quantities: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderSummary:
        return cls(
            id=str(data["id"]),
            number=str(data["number"]),
            status=str(data["status"]),
            customer_id=str(data["customerId"]),
            customer_email=data.get("customerEmail"),
            payment_id=data.get("paymentId"),
            shipment_id=data.get("shipmentId"),
            shipping_address=data.get("shippingAddress"),
            quantities=tuple((str(i["sku"]), int(i["quantity"])) for i in data.get("items", ())),
        )


class OrdersClient(ServiceClient):
    def paid_orders(self, *, limit: int = 50) -> list[OrderSummary]:
        """The first page of paid orders: what shipping polls for."""
        response = self.http.get("/orders", params={"status": "paid", "limit": limit})
        page = self.json_or_problem(response, 200)
        return [OrderSummary.from_json(item) for item in page["items"]]

    def get(self, order_id: str) -> OrderSummary | None:
        """One order, or None when the orders service does not know it."""
        try:
            return OrderSummary.from_json(
                self.json_or_problem(self.http.get(f"/orders/{order_id}"), 200)
            )
        except ProblemError as problem:
            if problem.status == 404:
                return None
            raise
