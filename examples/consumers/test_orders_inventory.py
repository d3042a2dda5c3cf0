"""orders as a consumer of inventory (Pact V4): read stock, reserve, commit and release it."""

from __future__ import annotations

import pytest
from pact import match

from examples.clients.inventory import InsufficientStockError, InventoryClient
from examples.consumers.support import BEARER, TOKEN, UUID, PactWriter, datetime

ORDER_ID = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
RESERVATION_ID = "45c48cce-2e2d-4fbd-a3c1-9e8b7a6f5d44"
IN_STOCK: dict[str, object] = {"sku": "TSHIRT-RED-M", "onHand": 28, "reserved": 3}
HELD: dict[str, object] = {"reservationId": RESERVATION_ID, "orderId": ORDER_ID}
BEARER_TOKEN = match.regex(f"Bearer {TOKEN}", regex=BEARER)


@pytest.fixture(scope="module")
def pacts() -> PactWriter:
    return PactWriter("orders", "inventory", "V4")


def test_read_the_stock_level_of_a_product(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for the stock level of a product")
        .given("a product has stock available", IN_STOCK)
        .test_name("checkout reads the stock level before placing an order")
        .with_request("GET", "/v1/stock/TSHIRT-RED-M")
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "sku": "TSHIRT-RED-M",
                "onHand": match.int(28),
                "reserved": match.int(3),
                "available": match.int(25),
                "updatedAt": datetime("2025-11-20T10:14:02Z"),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, InventoryClient(f"{server.url}/v1", TOKEN) as inventory:
        stock = inventory.stock_level("TSHIRT-RED-M")
    assert (stock.on_hand, stock.reserved, stock.available) == (28, 3, 25)
    pacts.write(pact)


def test_reserve_stock_for_an_order(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to reserve stock for an order")
        .given("a product has stock available", IN_STOCK)
        .with_request("POST", "/v1/reservations")
        .with_header("Authorization", BEARER_TOKEN)
        .with_body(
            {
                "orderId": match.regex(ORDER_ID, regex=UUID),
                "items": [{"sku": "TSHIRT-RED-M", "quantity": 3}],
                "ttlSeconds": 900,
            },
            "application/json",
        )
        .will_respond_with(201)
        .with_body(
            {
                "id": match.regex(RESERVATION_ID, regex=UUID),
                "orderId": match.regex(ORDER_ID, regex=UUID),
                "status": "held",
                "items": match.each_like({"sku": "TSHIRT-RED-M", "quantity": 3}, min=1),
                "expiresAt": datetime("2025-11-20T10:30:00Z"),
                "createdAt": datetime("2025-11-20T10:15:00Z"),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, InventoryClient(f"{server.url}/v1", TOKEN) as inventory:
        reservation = inventory.reserve(ORDER_ID, {"TSHIRT-RED-M": 3}, ttl_seconds=900)
    assert reservation.status == "held"
    assert reservation.items == (("TSHIRT-RED-M", 3),)
    pacts.write(pact)


def test_reserving_more_than_is_available_reserves_nothing(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to reserve more stock than is available")
        .given("a product is out of stock", sku="MUG-BLUE")
        .with_request("POST", "/v1/reservations")
        .with_header("Authorization", BEARER_TOKEN)
        .with_body(
            {"orderId": ORDER_ID, "items": [{"sku": "MUG-BLUE", "quantity": 2}]},
            "application/json",
        )
        .will_respond_with(409)
        .with_body(
            {
                "type": "https://problems.shop.example.com/inventory/insufficient-stock",
                "title": "Insufficient stock",
                "status": 409,
                "detail": match.type("MUG-BLUE: 2 requested, 0 available."),
            },
            "application/problem+json",
        )
    )
    with (
        pact.serve("127.0.0.1") as server,
        InventoryClient(f"{server.url}/v1", TOKEN) as inventory,
        pytest.raises(InsufficientStockError, match="MUG-BLUE"),
    ):
        inventory.reserve(ORDER_ID, {"MUG-BLUE": 2})
    pacts.write(pact)


def test_commit_a_held_reservation(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to commit a held reservation")
        .given("a reservation is held", HELD)
        .with_request(
            "POST",
            match.regex(
                f"/v1/reservations/{RESERVATION_ID}/commit",
                regex=r"^/v1/reservations/[0-9a-f-]{36}/commit$",
            ),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "id": match.regex(RESERVATION_ID, regex=UUID),
                "orderId": ORDER_ID,
                "status": "committed",
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, InventoryClient(f"{server.url}/v1", TOKEN) as inventory:
        assert inventory.commit(RESERVATION_ID).status == "committed"
    pacts.write(pact)


def test_release_a_held_reservation(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to release a held reservation")
        .given("a reservation is held", HELD)
        .with_request(
            "DELETE",
            match.regex(
                f"/v1/reservations/{RESERVATION_ID}", regex=r"^/v1/reservations/[0-9a-f-]{36}$"
            ),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(204)
    )
    with pact.serve("127.0.0.1") as server, InventoryClient(f"{server.url}/v1", TOKEN) as inventory:
        inventory.release(RESERVATION_ID)
    pacts.write(pact)
