"""shipping as a consumer of orders (Pact V2): poll paid orders, read one, a missing one.

The committed pact is V2, as the legacy shipping team's pact-js 9 wrote it; pact-python 4 writes
V2 through the Rust core (provider states without parameters, V2 matching-rule paths).
"""

from __future__ import annotations

import pytest
from pact import match

from examples.clients.orders import OrdersClient
from examples.consumers.support import BEARER, TOKEN, UUID, PactWriter

ORDER_ID = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
MISSING_ORDER_ID = "00000000-0000-4000-8000-000000000000"
BEARER_TOKEN = match.regex(f"Bearer {TOKEN}", regex=BEARER)
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
    "phone": "+442079460000",
}
ITEM = {"sku": "TSHIRT-RED-M", "productName": "T-shirt, red, M", "quantity": 3}


@pytest.fixture(scope="module")
def pacts() -> PactWriter:
    return PactWriter("shipping", "orders", "V2")


def test_poll_paid_orders_waiting_to_be_shipped(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for paid orders waiting to be shipped")
        .given("one order is paid and not shipped yet")
        .with_request("GET", "/v1/orders")
        .with_query_parameter("status", "paid")
        .with_query_parameter("limit", "50")
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "items": match.each_like(
                    {
                        "id": match.regex(ORDER_ID, regex=UUID),
                        "number": match.regex("ORD-00012345", regex=r"^ORD-[0-9]{8}$"),
                        "customerId": match.regex(
                            "3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22", regex=UUID
                        ),
                        "status": "paid",
                        "items": match.each_like(ITEM, min=1),
                        "shippingAddress": match.type(ADDRESS),
                        "paymentId": match.regex(
                            "c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33", regex=UUID
                        ),
                    },
                    min=1,
                ),
                "page": {"limit": 50, "hasMore": match.type(False)},
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, OrdersClient(f"{server.url}/v1", TOKEN) as orders:
        paid = orders.paid_orders(limit=50)
    assert [(o.id, o.status, o.quantities) for o in paid] == [
        (ORDER_ID, "paid", (("TSHIRT-RED-M", 3),))
    ]
    pacts.write(pact)


def test_read_a_paid_order(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for a paid order")
        .given(f"order {ORDER_ID} is paid")
        .with_request("GET", f"/v1/orders/{ORDER_ID}")
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "id": ORDER_ID,
                "number": "ORD-00012345",
                "customerId": "3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22",
                "status": "paid",
                "items": match.each_like(ITEM, min=1),
                "shippingAddress": match.type(ADDRESS),
                "paymentId": "c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33",
                "shipmentId": None,
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, OrdersClient(f"{server.url}/v1", TOKEN) as orders:
        order = orders.get(ORDER_ID)
    assert order is not None
    assert (order.status, order.shipment_id) == ("paid", None)
    assert order.shipping_address is not None
    assert order.shipping_address["country"] == "GB"
    pacts.write(pact)


def test_an_order_that_does_not_exist_is_none(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for an order that does not exist")
        .given(f"there is no order {MISSING_ORDER_ID}")
        .with_request("GET", f"/v1/orders/{MISSING_ORDER_ID}")
        .with_header("Authorization", f"Bearer {TOKEN}")
        .will_respond_with(404)
        .with_body(
            {
                "type": "https://problems.shop.example.com/not-found",
                "title": "Resource not found",
                "status": 404,
                "detail": match.type(f"No order with id {MISSING_ORDER_ID}."),
            },
            "application/problem+json",
        )
    )
    with pact.serve("127.0.0.1") as server, OrdersClient(f"{server.url}/v1", TOKEN) as orders:
        assert orders.get(MISSING_ORDER_ID) is None
    pacts.write(pact)
