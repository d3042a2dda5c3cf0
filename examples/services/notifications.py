"""The notifications provider: send messages from templates, honour channel preferences.

Implements contracts/notifications/openapi.json (in memory). Messages are queued, not sent:
a notification stays `queued` (or `suppressed`, for a repeated dedupe key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from examples.services._app import json_response, new_app, new_id, now, page
from examples.services._problems import ProblemError

ADA = "3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22"
DEDUPE_WINDOW = timedelta(hours=24)
# What each channel needs from the recipient (a customer id lets the service look it up).
CHANNEL_NEEDS = {
    "email": ("email", "customerId"),
    "sms": ("phone", "customerId"),
    "push": ("deviceToken",),
}


def _templates() -> dict[str, dict[str, Any]]:
    at = "2025-11-01T09:00:00Z"
    return {
        key: {
            "key": key,
            "version": 1,
            "channel": "email",
            "subject": subject,
            "body": body,
            "locales": ["en-GB"],
            "updatedAt": at,
        }
        for key, subject, body in (
            ("order.confirmation", "Your order {{orderNumber}}", "Thank you for your order."),
            ("order.cancellation", "Order {{orderNumber}} cancelled", "Your order was cancelled."),
        )
    }


def _preferences() -> dict[str, dict[str, Any]]:
    return {
        ADA: {
            "transactional": {"email": True, "sms": True, "push": False},
            "marketing": {"email": False, "sms": False, "push": False},
        }
    }


@dataclass
class NotificationsStore:
    notifications: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[str, dict[str, Any]] = field(default_factory=_templates)
    preferences: dict[str, dict[str, Any]] = field(default_factory=_preferences)
    dedupe: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def get(self, notification_id: str) -> dict[str, Any]:
        notification = self.notifications.get(notification_id)
        if notification is None:
            raise ProblemError.not_found(404, f"No notification with id {notification_id}.")
        return notification

    def customer_preferences(self, customer_id: str) -> dict[str, Any]:
        preferences = self.preferences.get(customer_id)
        if preferences is None:
            raise ProblemError.not_found(404, f"No customer with id {customer_id}.")
        return preferences


def create_app(provider_states: bool | None = None) -> FastAPI:
    """notifications consumes other services but provides for no pact: no provider states."""
    app, contract = new_app("notifications")
    store = NotificationsStore()
    app.state.store = store

    @app.get("/v1/notifications")
    async def list_notifications(request: Request) -> Response:
        q = (await contract.operation("listNotifications").check(request)).query
        found = [
            n
            for n in reversed(store.notifications.values())
            if ("customerId" not in q or n["recipient"].get("customerId") == q["customerId"])
            and ("status" not in q or n["status"] == q["status"])
        ]
        return json_response(page(found, q.get("limit", 20), q.get("cursor")))

    @app.post("/v1/notifications")
    async def send_notification(request: Request) -> Response:
        body = (await contract.operation("sendNotification").check(request)).body
        channel, recipient = body["channel"], body["recipient"]
        customer = store.preferences.get(recipient.get("customerId", ""))
        if customer is not None and not customer["transactional"][channel]:
            raise ProblemError(
                422,
                "notifications/opted-out",
                "Channel turned off",
                f"The customer does not accept {channel} messages.",
            )
        status, failure = "queued", None
        if not any(need in recipient for need in CHANNEL_NEEDS[channel]):
            # Accepted, as the contract's schema allows it, and failed at once: delivery needs
            # an address for the channel (the contract answers 422 only for opted-out channels).
            status = "failed"
            failure = f"A {channel} message needs one of: {', '.join(CHANNEL_NEEDS[channel])}."
        at = datetime.now(UTC)
        key = body.get("dedupeKey")
        if key is not None:
            seen = store.dedupe.get(key)
            if seen is not None and at - seen[0] < DEDUPE_WINDOW:
                status, failure = "suppressed", None
            else:
                store.dedupe[key] = (at, "")
        template = store.templates.get(body["template"])
        notification: dict[str, Any] = {
            "id": new_id(),
            "channel": channel,
            "recipient": recipient,
            "template": body["template"],
            "locale": body.get("locale", "en-GB"),
            "status": status,
            "failureReason": failure,
            "createdAt": now(),
            "sentAt": None,
        }
        if template is not None:
            notification["templateVersion"] = template["version"]
        store.notifications[notification["id"]] = notification
        return json_response(
            notification, 202, {"Location": f"/v1/notifications/{notification['id']}"}
        )

    @app.get("/v1/notifications/{notificationId}")
    async def get_notification(request: Request) -> Response:
        checked = await contract.operation("getNotification").check(request)
        return json_response(store.get(checked.path["notificationId"]))

    @app.get("/v1/templates")
    async def list_templates(request: Request) -> Response:
        q = (await contract.operation("listTemplates").check(request)).query
        found = [
            t
            for _, t in sorted(store.templates.items())
            if "channel" not in q or t["channel"] == q["channel"]
        ]
        return json_response(page(found, q.get("limit", 20), q.get("cursor")))

    @app.put("/v1/templates/{templateKey}")
    async def upsert_template(request: Request) -> Response:
        checked = await contract.operation("upsertTemplate").check(request)
        key, body = checked.path["templateKey"], checked.body
        existing = store.templates.get(key)
        template = {
            "key": key,
            "version": existing["version"] + 1 if existing else 1,
            **body,
            "updatedAt": now(),
        }
        store.templates[key] = template
        return json_response(template, 200 if existing else 201)

    @app.get("/v1/customers/{customerId}/preferences")
    async def get_preferences(request: Request) -> Response:
        checked = await contract.operation("getPreferences").check(request)
        return json_response(store.customer_preferences(checked.path["customerId"]))

    @app.put("/v1/customers/{customerId}/preferences")
    async def update_preferences(request: Request) -> Response:
        operation = contract.operation("updatePreferences")
        checked = await operation.check(request)
        store.customer_preferences(checked.path["customerId"])
        if not checked.body["transactional"]["email"]:
            raise ProblemError.invalid(
                operation.status_for(400),
                [{"pointer": "/transactional/email", "detail": "transactional e-mail stays on"}],
            )
        store.preferences[checked.path["customerId"]] = checked.body
        return json_response(checked.body)

    return app
