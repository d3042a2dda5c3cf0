"""The inventory client that orders uses: read stock, reserve it, commit or release it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from examples.clients._http import ProblemError, ServiceClient


@dataclass(frozen=True)
class StockLevel:
    sku: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class Reservation:
    id: str
    order_id: str
    status: str
    items: tuple[tuple[str, int], ...] = ()


class InsufficientStockError(Exception):
    """Some item of a reservation lacks stock (409): nothing was reserved."""


class InventoryClient(ServiceClient):
    def stock_level(self, sku: str) -> StockLevel:
        data = self.json_or_problem(self.http.get(f"/stock/{sku}"), 200)
        return StockLevel(
            sku=str(data["sku"]),
            on_hand=int(data["onHand"]),
            reserved=int(data["reserved"]),
            available=int(data["available"]),
        )

    def reserve(
        self, order_id: str, items: dict[str, int], *, ttl_seconds: int | None = None
    ) -> Reservation:
        body: dict[str, Any] = {
            "orderId": order_id,
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items.items()],
        }
        if ttl_seconds is not None:
            body["ttlSeconds"] = ttl_seconds
        try:
            data = self.json_or_problem(self.http.post("/reservations", json=body), 201)
        except ProblemError as problem:
            if problem.status == 409:
                raise InsufficientStockError(problem.detail) from problem
            raise
        return _reservation(data)

    def commit(self, reservation_id: str) -> Reservation:
        response = self.http.post(f"/reservations/{reservation_id}/commit")
        return _reservation(self.json_or_problem(response, 200))

    def release(self, reservation_id: str) -> None:
        self.json_or_problem(self.http.delete(f"/reservations/{reservation_id}"), 204)


def _reservation(data: dict[str, Any]) -> Reservation:
    return Reservation(
        id=str(data["id"]),
        order_id=str(data["orderId"]),
        status=str(data["status"]),
        items=tuple((str(i["sku"]), int(i["quantity"])) for i in data.get("items", ())),
    )
