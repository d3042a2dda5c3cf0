"""notifications as a consumer of orders (Pact V4): two order events and one HTTP call.

The events are asynchronous messages on shop.orders.v1; pact-python hands each declared message
to notifications' real event handler, which must turn it into the right e-mail.
"""

from __future__ import annotations

from typing import Any

import pytest
from pact import match

from examples.clients.order_events import OutgoingEmail, handle_order_event
from examples.clients.orders import OrdersClient
from examples.consumers.support import BEARER, TOKEN, UUID, PactWriter, datetime

ORDER_ID = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
SHIPMENT_ID = "d3d94468-02a4-4d2b-b6c5-1f0e9d8c7b55"
CUSTOMER: dict[str, object] = {"orderId": ORDER_ID, "customerEmail": "ada.lovelace@example.com"}


@pytest.fixture(scope="module")
def pacts() -> PactWriter:
    return PactWriter("notifications", "orders", "V4")


def handled(pact: Any) -> list[OutgoingEmail]:
    """Run every message of `pact` through the real handler; what it decided to send."""
    sent: list[OutgoingEmail] = []
    pact.verify(lambda body, metadata: sent.append(handle_order_event(body, metadata)), "Async")
    return sent


def test_order_created_sends_the_confirmation(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("an order.created event", "Async")
        .given("an order was placed", CUSTOMER)
        .with_body(
            {
                "eventId": match.regex("e4da3b7f-bbce-4345-9777-2b0674a318d5", regex=UUID),
                "eventType": "order.created",
                "occurredAt": datetime("2025-11-20T10:15:00Z"),
                "order": {
                    "id": match.regex(ORDER_ID, regex=UUID),
                    "number": match.regex("ORD-00012345", regex=r"^ORD-[0-9]{8}$"),
                    "customerId": match.regex("3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22", regex=UUID),
                    "customerEmail": "ada.lovelace@example.com",
                    "status": "awaiting_payment",
                    "items": match.each_like(
                        {
                            "sku": "TSHIRT-RED-M",
                            "productName": "T-shirt, red, M",
                            "quantity": 3,
                            "unitPrice": {"amount": 1999, "currency": "EUR"},
                            "lineTotal": {"amount": 5997, "currency": "EUR"},
                        },
                        min=1,
                    ),
                    "total": {"amount": match.int(6492), "currency": "EUR"},
                },
            },
            "application/json",
        )
        .with_metadata({"topic": "shop.orders.v1", "eventType": "order.created"})
    )
    assert handled(pact) == [
        OutgoingEmail(
            to="ada.lovelace@example.com",
            template="order.confirmation",
            data={
                "orderNumber": "ORD-00012345",
                "itemCount": 3,
                "totalMinor": 6492,
                "currency": "EUR",
            },
        )
    ]
    pacts.write(pact)


def test_order_cancelled_sends_the_cancellation_with_the_refund(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("an order.cancelled event", "Async")
        .given("a paid order was cancelled by the customer", CUSTOMER)
        .with_body(
            {
                "eventId": match.regex("1679091c-5a88-4faf-afb5-e6087eb1b2dc", regex=UUID),
                "eventType": "order.cancelled",
                "occurredAt": datetime("2025-11-20T11:02:00Z"),
                "orderId": match.regex(ORDER_ID, regex=UUID),
                "orderNumber": "ORD-00012345",
                "customerEmail": "ada.lovelace@example.com",
                "reason": "customer_request",
                "refund": {"amount": match.int(6492), "currency": "EUR"},
            },
            "application/json",
        )
        .with_metadata({"topic": "shop.orders.v1", "eventType": "order.cancelled"})
    )
    assert handled(pact) == [
        OutgoingEmail(
            to="ada.lovelace@example.com",
            template="order.cancellation",
            data={"orderNumber": "ORD-00012345", "reason": "customer_request", "refundMinor": 6492},
        )
    ]
    pacts.write(pact)


def test_read_a_shipped_order(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for a shipped order")
        .given("an order was shipped", orderId=ORDER_ID, shipmentId=SHIPMENT_ID)
        .with_request(
            "GET", match.regex(f"/v1/orders/{ORDER_ID}", regex=r"^/v1/orders/[0-9a-f-]{36}$")
        )
        .with_header("Authorization", match.regex(f"Bearer {TOKEN}", regex=BEARER))
        .will_respond_with(200)
        .with_body(
            {
                "id": match.regex(ORDER_ID, regex=UUID),
                "number": "ORD-00012345",
                "customerId": match.regex("3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22", regex=UUID),
                "customerEmail": match.type("ada.lovelace@example.com"),
                "status": "shipped",
                "shipmentId": match.regex(SHIPMENT_ID, regex=UUID),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, OrdersClient(f"{server.url}/v1", TOKEN) as orders:
        order = orders.get(ORDER_ID)
    assert order is not None
    assert (order.status, order.shipment_id) == ("shipped", SHIPMENT_ID)
    pacts.write(pact)
