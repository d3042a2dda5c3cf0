"""How notifications reacts to the order events on shop.orders.v1: which e-mail to send."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

TOPIC = "shop.orders.v1"


@dataclass(frozen=True)
class OutgoingEmail:
    """A notification request notifications would queue for an event."""

    to: str
    template: str
    data: dict[str, Any] = field(default_factory=dict)


class UnknownEventError(Exception):
    pass


def handle_order_event(body: str | bytes | None, metadata: dict[str, Any]) -> OutgoingEmail:
    """Turn one order event (its JSON payload and message metadata) into the e-mail to send."""
    if metadata.get("topic") not in (None, TOPIC):
        raise UnknownEventError(f"not an order event topic: {metadata.get('topic')!r}")
    if body is None:
        raise UnknownEventError("an order event without a payload")
    event = json.loads(body)
    kind = event.get("eventType") or metadata.get("eventType")
    if kind == "order.created":
        order = event["order"]
        return OutgoingEmail(
            to=order["customerEmail"],
            template="order.confirmation",
            data={
                "orderNumber": order["number"],
                "itemCount": sum(int(i["quantity"]) for i in order["items"]),
                "totalMinor": int(order["total"]["amount"]),
                "currency": order["total"]["currency"],
            },
        )
    if kind == "order.cancelled":
        refund = event.get("refund")
        return OutgoingEmail(
            to=event["customerEmail"],
            template="order.cancellation",
            data={
                "orderNumber": event["orderNumber"],
                "reason": event["reason"],
                "refundMinor": int(refund["amount"]) if refund else 0,
            },
        )
    raise UnknownEventError(f"unknown order event type: {kind!r}")
