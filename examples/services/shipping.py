"""The shipping provider: book, track and cancel shipments, quote rates (in memory).

Implements contracts/shipping/openapi.yaml (Swagger 2.0, base path /v1). Carriers push status
updates to `POST /carrier-events` with their `X-Carrier-Key`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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

TRACKING_PAGES = {
    "dhl": "https://www.dhl.com/gb-en/home/tracking.html?tracking-id={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "dpd": "https://track.dpd.co.uk/parcels/{}",
    "royal_mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
}
# Price in minor units per started kilogram, and days in transit, by service level.
LEVELS = {"standard": (450, 3), "express": (900, 1), "next_day": (1400, 1)}
CARRIER_FACTOR = {"dhl": 100, "ups": 110, "dpd": 95, "royal_mail": 90}
CANCELLABLE = frozenset({"label_created"})


def _price(carrier: str, level: str, grams: int) -> int:
    per_kg, _ = LEVELS[level]
    return per_kg * (1 + (grams - 1) // 1000) * CARRIER_FACTOR[carrier] // 100


@dataclass
class ShippingStore:
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    tracking: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    idempotency: Idempotency = field(default_factory=Idempotency)
    numbers: random.Random = field(default_factory=lambda: random.Random(7))

    def reset(self) -> None:
        self.shipments.clear()
        self.tracking.clear()
        self.idempotency = Idempotency()

    def get(self, shipment_id: str) -> dict[str, Any]:
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise ProblemError.not_found(404, f"No shipment with id {shipment_id}.")
        return shipment

    def book(self, request: dict[str, Any], shipment_id: str | None = None) -> dict[str, Any]:
        carrier, level = request["carrier"], request["serviceLevel"]
        number = "JD" + "".join(str(self.numbers.randrange(10)) for _ in range(18))
        grams = sum(p["weightGrams"] for p in request["parcels"])
        days = LEVELS[level][1]
        at = now()
        shipment: dict[str, Any] = {
            "id": shipment_id or new_id(),
            "orderId": request["orderId"],
            "status": "label_created",
            "carrier": carrier,
            "serviceLevel": level,
            "trackingNumber": number,
            "trackingUrl": TRACKING_PAGES[carrier].format(number),
            "labelUrl": f"https://labels.shop.example.com/{number}.pdf",
            "address": request["address"],
            "parcels": request["parcels"],
            "cost": {"amount": _price(carrier, level, grams), "currency": "GBP"},
            "estimatedDelivery": (datetime.now(UTC).date() + timedelta(days=days)).isoformat(),
            "createdAt": at,
            "updatedAt": at,
        }
        self.shipments[shipment["id"]] = shipment
        self.tracking[shipment["id"]] = [
            {"occurredAt": at, "status": "label_created", "description": "Label created."}
        ]
        return shipment


def create_app(provider_states: bool | None = None) -> FastAPI:
    app, contract = new_app("shipping")
    store = ShippingStore()
    app.state.store = store

    @app.get("/v1/shipments")
    async def list_shipments(request: Request) -> Response:
        q = (await contract.operation("listShipments").check(request)).query
        statuses = set(q.get("status", []))
        found = [
            s
            for s in reversed(store.shipments.values())
            if ("orderId" not in q or s["orderId"] == q["orderId"])
            and (not statuses or s["status"] in statuses)
        ]
        return json_response(page(found, q.get("limit", 20), q.get("cursor")))

    @app.post("/v1/shipments")
    async def create_shipment(request: Request) -> Response:
        checked = await contract.operation("createShipment").check(request)
        body, key = checked.body, checked.headers["Idempotency-Key"]
        first = store.idempotency.replay(key, body)
        shipment = store.get(first) if first is not None else store.book(body)
        store.idempotency.remember(key, body, shipment["id"])
        return json_response(shipment, 201, {"Location": f"/v1/shipments/{shipment['id']}"})

    @app.get("/v1/shipments/{shipmentId}")
    async def get_shipment(request: Request) -> Response:
        checked = await contract.operation("getShipment").check(request)
        return json_response(store.get(checked.path["shipmentId"]))

    @app.get("/v1/shipments/{shipmentId}/tracking")
    async def get_shipment_tracking(request: Request) -> Response:
        checked = await contract.operation("getShipmentTracking").check(request)
        shipment = store.get(checked.path["shipmentId"])
        tracking: dict[str, Any] = {
            "shipmentId": shipment["id"],
            "carrier": shipment["carrier"],
            "trackingNumber": shipment["trackingNumber"],
            "status": shipment["status"],
            "events": store.tracking[shipment["id"]],
        }
        if "estimatedDelivery" in shipment:
            tracking["estimatedDelivery"] = shipment["estimatedDelivery"]
        return json_response(tracking)

    @app.post("/v1/shipments/{shipmentId}/cancel")
    async def cancel_shipment(request: Request) -> Response:
        checked = await contract.operation("cancelShipment").check(request)
        shipment = store.get(checked.path["shipmentId"])
        if shipment["status"] not in CANCELLABLE:
            raise ProblemError.conflict(
                "shipping/picked-up",
                "Shipment cannot be cancelled",
                f"The shipment is {shipment['status']}; the carrier has it already.",
            )
        shipment.update(status="cancelled", updatedAt=now())
        store.tracking[shipment["id"]].append(
            {"occurredAt": shipment["updatedAt"], "status": "cancelled"}
        )
        return json_response(shipment)

    @app.get("/v1/rates")
    async def quote_rates(request: Request) -> Response:
        q = (await contract.operation("quoteRates").check(request)).query
        levels = [q["serviceLevel"]] if "serviceLevel" in q else list(LEVELS)
        rates = [
            {
                "carrier": carrier,
                "serviceLevel": level,
                "price": {"amount": _price(carrier, level, q["weightGrams"]), "currency": "GBP"},
                "transitDays": LEVELS[level][1],
            }
            for carrier in CARRIER_FACTOR
            for level in levels
        ]
        return json_response({"rates": sorted(rates, key=lambda r: r["price"]["amount"])})

    @app.post("/v1/carrier-events")
    async def receive_carrier_event(request: Request) -> Response:
        event = (await contract.operation("receiveCarrierEvent").check(request)).body
        # Updates for unknown tracking numbers are accepted and dropped, so carriers stop retrying.
        for shipment in store.shipments.values():
            if (shipment["carrier"], shipment.get("trackingNumber")) == (
                event["carrier"],
                event["trackingNumber"],
            ):
                shipment.update(status=event["status"], updatedAt=now())
                entry = {"occurredAt": event["occurredAt"], "status": event["status"]}
                if "location" in event:
                    entry["location"] = event["location"]
                store.tracking[shipment["id"]].append(entry)
        # An empty JSON object rather than no body: the contract's `produces` applies to every
        # answer, so even this one carries a Content-Type.
        return json_response({}, 202)

    if provider_states_enabled(provider_states):
        mount_pact_endpoints(app, _states(store), store.reset)
    return app


def _states(store: ShippingStore) -> ProviderStates:
    def in_transit(params: dict[str, Any]) -> None:
        shipment = store.book(
            {
                "orderId": "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11",
                "carrier": str(params["carrier"]),
                "serviceLevel": "standard",
                "address": {
                    "name": "Ada Lovelace",
                    "line1": "12 St James's Square",
                    "city": "London",
                    "postalCode": "SW1Y 4JH",
                    "country": "GB",
                },
                "parcels": [{"weightGrams": 540}],
            },
            shipment_id=str(params["shipmentId"]),
        )
        number = "JD014600003828174829"
        shipment.update(
            status="in_transit",
            trackingNumber=number,
            trackingUrl=TRACKING_PAGES[shipment["carrier"]].format(number),
        )
        store.tracking[shipment["id"]] = [
            {
                "occurredAt": "2025-11-21T08:02:00Z",
                "status": "in_transit",
                "location": "London Heathrow hub",
                "description": "Parcel arrived at the sorting centre.",
            }
        ]

    return ProviderStates(exact={"a shipment is in transit": in_transit})
