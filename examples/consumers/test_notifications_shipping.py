"""notifications as a consumer of shipping (Pact V3): a shipment and its tracking history."""

from __future__ import annotations

import pytest
from pact import match

from examples.clients.shipping import ShippingClient
from examples.consumers.support import BEARER, TOKEN, UUID, PactWriter, date, datetime

SHIPMENT_ID = "d3d94468-02a4-4d2b-b6c5-1f0e9d8c7b55"
IN_TRANSIT: dict[str, object] = {"shipmentId": SHIPMENT_ID, "carrier": "dhl"}
BEARER_TOKEN = match.regex(f"Bearer {TOKEN}", regex=BEARER)


@pytest.fixture(scope="module")
def pacts() -> PactWriter:
    return PactWriter("notifications", "shipping", "V3")


def test_read_a_shipment_in_transit(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for a shipment in transit")
        .given("a shipment is in transit", IN_TRANSIT)
        .with_request(
            "GET",
            match.regex(f"/v1/shipments/{SHIPMENT_ID}", regex=r"^/v1/shipments/[0-9a-f-]{36}$"),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "id": match.regex(SHIPMENT_ID, regex=UUID),
                "orderId": match.regex("8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11", regex=UUID),
                "status": "in_transit",
                "carrier": "dhl",
                "trackingNumber": match.type("JD014600003828174829"),
                "trackingUrl": match.type(
                    "https://www.dhl.com/gb-en/home/tracking.html?tracking-id=JD014600003828174829"
                ),
                "estimatedDelivery": date("2025-11-24"),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, ShippingClient(f"{server.url}/v1", TOKEN) as shipping:
        shipment = shipping.shipment(SHIPMENT_ID)
    assert (shipment.status, shipment.carrier) == ("in_transit", "dhl")
    assert shipment.tracking_number == "JD014600003828174829"
    pacts.write(pact)


def test_read_the_tracking_history_of_a_shipment(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for the tracking history of a shipment")
        .given("a shipment is in transit", IN_TRANSIT)
        .with_request(
            "GET",
            match.regex(
                f"/v1/shipments/{SHIPMENT_ID}/tracking",
                regex=r"^/v1/shipments/[0-9a-f-]{36}/tracking$",
            ),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "shipmentId": match.regex(SHIPMENT_ID, regex=UUID),
                "carrier": "dhl",
                "trackingNumber": "JD014600003828174829",
                "status": "in_transit",
                "events": match.each_like(
                    {
                        "occurredAt": datetime("2025-11-21T08:02:00Z"),
                        "status": "in_transit",
                        "location": match.type("London Heathrow hub"),
                        "description": match.type("Parcel arrived at the sorting centre."),
                    },
                    min=1,
                ),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, ShippingClient(f"{server.url}/v1", TOKEN) as shipping:
        events = shipping.tracking(SHIPMENT_ID)
    assert [(e.status, e.location) for e in events] == [("in_transit", "London Heathrow hub")]
    pacts.write(pact)
