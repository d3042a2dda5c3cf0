"""The orders provider: place, read, cancel and search orders, and publish order events.

Implements contracts/orders/openapi.yaml (in memory). Every order change appends its event
(`order.created`, `order.cancelled`, the `webhooks` payloads of the contract) to an outbox, the
stand-in for the shop.orders.v1 topic; with the Pact endpoints mounted, `POST /_pact/messages`
answers with the last event published, so notifications' message pact is verified against the
events this code builds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
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

TOPIC = "shop.orders.v1"
FIRST_ORDER_NUMBER = 12345
SHIPPING_COST = 495
"""Flat shipping cost in minor units, in the order's currency."""
SUNSET = "Tue, 30 Jun 2026 00:00:00 GMT"
"""`GET /orders/search` goes away then (its `x-sunset`), announced in the Sunset header."""
CATALOGUE = {"TSHIRT-RED-M": ("T-shirt, red, M", 1999), "MUG-BLUE": ("Mug, blue", 1250)}
"""Names and unit prices (minor units) the orders service knows; other SKUs get a default."""
DEFAULT_UNIT_PRICE = 1000
CANCELLABLE = frozenset({"pending", "awaiting_payment", "paid", "fulfilling"})


@dataclass
class OrdersStore:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outbox: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    idempotency: Idempotency = field(default_factory=Idempotency)
    next_number: int = FIRST_ORDER_NUMBER

    def reset(self) -> None:
        self.orders.clear()
        self.history.clear()
        self.outbox.clear()
        self.idempotency = Idempotency()
        self.next_number = FIRST_ORDER_NUMBER

    def get(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            raise ProblemError.not_found(404, f"No order with id {order_id}.")
        return order

    def publish(self, event: dict[str, Any]) -> None:
        metadata = {
            "contentType": "application/json",
            "topic": TOPIC,
            "eventType": event["eventType"],
        }
        self.outbox.append((event, metadata))

    def change_status(self, order: dict[str, Any], to: str, actor: str, comment: str = "") -> None:
        entry: dict[str, Any] = {"at": now(), "from": order["status"], "to": to, "actor": actor}
        if comment:
            entry["comment"] = comment[:500]
        self.history[order["id"]].append(entry)
        order.update(status=to, updatedAt=entry["at"])

    def place(
        self, request: dict[str, Any], *, order_id: str | None = None, number: int | None = None
    ) -> dict[str, Any]:
        """Place an order from a CreateOrderRequest: prices, totals, history, order.created."""
        currency = request["currency"]
        items = []
        for line in request["items"]:
            name, unit = CATALOGUE.get(line["sku"], (f"Product {line['sku']}", DEFAULT_UNIT_PRICE))
            items.append(
                {
                    "sku": line["sku"],
                    "productName": name,
                    "quantity": line["quantity"],
                    "unitPrice": {"amount": unit, "currency": currency},
                    "lineTotal": {"amount": unit * line["quantity"], "currency": currency},
                }
            )
        subtotal = sum(i["lineTotal"]["amount"] for i in items)
        at = now()
        order: dict[str, Any] = {
            "id": order_id or new_id(),
            "number": f"ORD-{number or self.next_number:08d}",
            "customerId": request["customerId"],
            "status": "awaiting_payment",
            "items": items,
            "subtotal": {"amount": subtotal, "currency": currency},
            "shippingCost": {"amount": SHIPPING_COST, "currency": currency},
            "total": {"amount": subtotal + SHIPPING_COST, "currency": currency},
            "shippingAddress": request["shippingAddress"],
            "paymentId": None,
            "reservationId": new_id(),
            "shipmentId": None,
            "cancellationReason": None,
            "note": request.get("note"),
            "createdAt": at,
            "updatedAt": at,
        }
        if "customerEmail" in request:
            order["customerEmail"] = request["customerEmail"]
        if number is None:
            self.next_number += 1
        self.orders[order["id"]] = order
        self.history[order["id"]] = [
            {"at": at, "from": None, "to": "awaiting_payment", "actor": "customer"}
        ]
        self.publish(
            {"eventId": new_id(), "eventType": "order.created", "occurredAt": at, "order": order}
        )
        return order

    def cancel(self, order: dict[str, Any], reason: str, comment: str = "") -> None:
        """Cancel an order: a paid one is refunded in full; publishes order.cancelled."""
        if order["status"] not in CANCELLABLE:
            raise ProblemError.conflict(
                "orders/not-cancellable",
                "Order cannot be cancelled",
                f"The order is {order['status']}; it was handed to the carrier already.",
            )
        was_paid = order["status"] in ("paid", "fulfilling")
        self.change_status(order, "cancelled", "customer", comment)
        order["cancellationReason"] = reason
        event: dict[str, Any] = {
            "eventId": new_id(),
            "eventType": "order.cancelled",
            "occurredAt": order["updatedAt"],
            "orderId": order["id"],
            "orderNumber": order["number"],
            "reason": reason,
        }
        if "customerEmail" in order:
            event["customerEmail"] = order["customerEmail"]
        if was_paid:
            event["refund"] = dict(order["total"])
        self.publish(event)


def create_app(provider_states: bool | None = None) -> FastAPI:
    app, contract = new_app("orders")
    store = OrdersStore()
    app.state.store = store

    @app.get("/v1/orders")
    async def list_orders(request: Request) -> Response:
        q = (await contract.operation("listOrders").check(request)).query
        after = _instant(q["createdAfter"]) if "createdAfter" in q else None
        found = [
            o
            for o in reversed(store.orders.values())
            if ("status" not in q or o["status"] == q["status"])
            and ("customerId" not in q or o["customerId"] == q["customerId"])
            and (after is None or _instant(o["createdAt"]) > after)
        ]
        return json_response(page(found, q.get("limit", 20), q.get("cursor")))

    @app.post("/v1/orders")
    async def create_order(request: Request) -> Response:
        checked = await contract.operation("createOrder").check(request)
        body, key = checked.body, checked.headers["Idempotency-Key"]
        first = store.idempotency.replay(key, body)
        order = store.get(first) if first is not None else store.place(body)
        store.idempotency.remember(key, body, order["id"])
        return json_response(order, 201, {"Location": f"/v1/orders/{order['id']}"})

    # Registered before /v1/orders/{orderId}, which would otherwise take "search" for an id.
    @app.get("/v1/orders/search")
    async def search_orders(request: Request) -> Response:
        q = (await contract.operation("searchOrders").check(request)).query
        text = q["q"].lower()
        found = [
            o
            for o in reversed(store.orders.values())
            if o["number"].lower().startswith(text)
            or str(o.get("customerEmail", "")).lower().startswith(text)
        ]
        return json_response(
            page(found, q.get("limit", 20), q.get("cursor")), headers={"Sunset": SUNSET}
        )

    @app.get("/v1/orders/{orderId}")
    async def get_order(request: Request) -> Response:
        checked = await contract.operation("getOrder").check(request)
        order = store.get(checked.path["orderId"])
        return json_response(order, headers={"ETag": f'"{order["updatedAt"]}"'})

    @app.post("/v1/orders/{orderId}/cancel")
    async def cancel_order(request: Request) -> Response:
        checked = await contract.operation("cancelOrder").check(request)
        order = store.get(checked.path["orderId"])
        store.cancel(order, checked.body["reason"], checked.body.get("comment", ""))
        return json_response(order)

    @app.get("/v1/orders/{orderId}/history")
    async def list_order_history(request: Request) -> Response:
        checked = await contract.operation("listOrderHistory").check(request)
        store.get(checked.path["orderId"])
        q = checked.query
        entries = store.history[checked.path["orderId"]]
        return json_response(page(entries, q.get("limit", 20), q.get("cursor")))

    @app.post("/v1/orders/{orderId}/recalculate")
    async def recalculate_order_totals(request: Request) -> Response:
        checked = await contract.operation("recalculateOrderTotals").check(request)
        order = store.get(checked.path["orderId"])
        if order["status"] == "cancelled":
            raise ProblemError.conflict(
                "orders/cancelled", "Order is cancelled", "A cancelled order keeps its totals."
            )
        currency = order["total"]["currency"]
        for item in order["items"]:
            unit = CATALOGUE.get(item["sku"], (item["productName"], DEFAULT_UNIT_PRICE))[1]
            item["unitPrice"] = {"amount": unit, "currency": currency}
            item["lineTotal"] = {"amount": unit * item["quantity"], "currency": currency}
        subtotal = sum(i["lineTotal"]["amount"] for i in order["items"])
        order["subtotal"] = {"amount": subtotal, "currency": currency}
        order["total"] = {"amount": subtotal + SHIPPING_COST, "currency": currency}
        order["updatedAt"] = now()
        return json_response(order)

    if provider_states_enabled(provider_states):
        mount_pact_endpoints(
            app,
            _states(store),
            store.reset,
            last_message=lambda: store.outbox[-1] if store.outbox else None,
        )
    return app


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- provider states (the fleet's pacts with orders as provider) ----------------------------

CUSTOMER_ID = "3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22"
PAYMENT_ID = "c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33"
ADA = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
    "phone": "+442079460000",
}


def _example_request(customer_email: str | None = "ada.lovelace@example.com") -> dict[str, Any]:
    request: dict[str, Any] = {
        "customerId": CUSTOMER_ID,
        "items": [{"sku": "TSHIRT-RED-M", "quantity": 3}],
        "shippingAddress": dict(ADA),
        "currency": "EUR",
        "paymentMethod": "card",
    }
    if customer_email is not None:
        request["customerEmail"] = customer_email
    return request


def _states(store: OrdersStore) -> ProviderStates:
    def placed(
        order_id: str, customer_email: str | None = "ada.lovelace@example.com"
    ) -> dict[str, Any]:
        store.orders.pop(order_id, None)
        # The pacts' example order is ORD-00012345, whatever the store held before.
        return store.place(
            _example_request(customer_email), order_id=order_id, number=FIRST_ORDER_NUMBER
        )

    def paid(
        order_id: str, customer_email: str | None = "ada.lovelace@example.com"
    ) -> dict[str, Any]:
        order = placed(order_id, customer_email)
        order["paymentId"] = PAYMENT_ID
        store.change_status(order, "paid", "system")
        return order

    def paid_not_shipped(params: dict[str, Any]) -> None:
        paid("8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11")

    def order_is_paid(found: re.Match[str], params: dict[str, Any]) -> None:
        paid(found["order_id"])

    def no_order(found: re.Match[str], params: dict[str, Any]) -> None:
        store.orders.pop(found["order_id"], None)
        store.history.pop(found["order_id"], None)

    def shipped(params: dict[str, Any]) -> None:
        order = paid(str(params["orderId"]))
        store.change_status(order, "fulfilling", "system")
        order["shipmentId"] = str(params["shipmentId"])
        store.change_status(order, "shipped", "system")

    def was_placed(params: dict[str, Any]) -> None:
        placed(str(params["orderId"]), params.get("customerEmail"))

    def cancelled_by_customer(params: dict[str, Any]) -> None:
        order = paid(str(params["orderId"]), params.get("customerEmail"))
        store.cancel(order, "customer_request")

    return ProviderStates(
        exact={
            "one order is paid and not shipped yet": paid_not_shipped,
            "an order was shipped": shipped,
            "an order was placed": was_placed,
            "a paid order was cancelled by the customer": cancelled_by_customer,
        },
        patterns=[
            (re.compile(r"order (?P<order_id>[0-9a-f-]{36}) is paid"), order_is_paid),
            (re.compile(r"there is no order (?P<order_id>[0-9a-f-]{36})"), no_order),
        ],
    )
