"""The shipping client that notifications uses: a shipment and its tracking history."""

from __future__ import annotations

from dataclasses import dataclass

from examples.clients._http import ServiceClient


@dataclass(frozen=True)
class Shipment:
    id: str
    order_id: str
    status: str
    carrier: str
    tracking_number: str | None
    tracking_url: str | None
    estimated_delivery: str | None


@dataclass(frozen=True)
class TrackingEvent:
    occurred_at: str
    status: str
    location: str | None
    description: str | None


class ShippingClient(ServiceClient):
    def shipment(self, shipment_id: str) -> Shipment:
        data = self.json_or_problem(self.http.get(f"/shipments/{shipment_id}"), 200)
        return Shipment(
            id=str(data["id"]),
            order_id=str(data["orderId"]),
            status=str(data["status"]),
            carrier=str(data["carrier"]),
            tracking_number=data.get("trackingNumber"),
            tracking_url=data.get("trackingUrl"),
            estimated_delivery=data.get("estimatedDelivery"),
        )

    def tracking(self, shipment_id: str) -> list[TrackingEvent]:
        data = self.json_or_problem(self.http.get(f"/shipments/{shipment_id}/tracking"), 200)
        return [
            TrackingEvent(
                occurred_at=str(e["occurredAt"]),
                status=str(e["status"]),
                location=e.get("location"),
                description=e.get("description"),
            )
            for e in data["events"]
        ]
