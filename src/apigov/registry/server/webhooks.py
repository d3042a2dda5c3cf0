"""Webhooks: the server tells configured URLs about registry events.

Events: `contract-published` (a version was stored holding content the registry had not seen),
`verification-published`, `deployment-recorded`. Each is POSTed as JSON to every live webhook
subscribed to it, signed with that webhook's secret:

    X-Apigov-Event: contract-published
    X-Apigov-Delivery: <uuid, the same for every attempt>
    X-Apigov-Signature-256: sha256=<hex HMAC-SHA256 of the body>

A 2xx answer ends the delivery; anything else (or no answer within the timeout) is retried after
each of the retry delays (backoff), and every attempt is a row of the delivery log
(`webhook_deliveries`). Deliveries run on one background thread per server process, so a slow
receiver never slows down the request that caused the event.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import queue
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from msgspec import Struct
from sqlalchemy import Engine, Table, select, update

from apigov.registry.models import Webhook, WebhookDelivery

_webhooks: Table = Webhook.__table__  # type: ignore[assignment]
_deliveries: Table = WebhookDelivery.__table__  # type: ignore[assignment]

EVENTS = ("contract-published", "verification-published", "deployment-recorded")
SIGNATURE_HEADER = "X-Apigov-Signature-256"
DEFAULT_RETRY_DELAYS = (1.0, 5.0, 30.0)
TIMEOUT = 10.0


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: receivers compute the same over the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookRecord(Struct, frozen=True):
    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime


class WebhookStore:
    """Webhooks and their delivery log in the registry's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _write(self) -> Any:
        connection = self.engine.connect()
        connection.execution_options(apigov_write=True)
        return connection

    def create(self, url: str, events: tuple[str, ...], secret: str) -> WebhookRecord:
        now = datetime.now(UTC)
        with self._write() as connection, connection.begin():
            webhook_id = connection.execute(
                _webhooks.insert()
                .values(url=url, events=" ".join(events), secret=secret, created_at=now)
                .returning(_webhooks.c.id)
            ).scalar_one()
        return WebhookRecord(int(webhook_id), url, events, secret, now)

    def live(self) -> list[WebhookRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_webhooks).where(_webhooks.c.deleted_at.is_(None)).order_by(_webhooks.c.id)
            ).all()
        return [
            WebhookRecord(int(r.id), r.url, tuple(r.events.split()), r.secret, r.created_at)
            for r in rows
        ]

    def delete(self, webhook_id: int) -> bool:
        with self._write() as connection, connection.begin():
            result = connection.execute(
                update(_webhooks)
                .where(_webhooks.c.id == webhook_id, _webhooks.c.deleted_at.is_(None))
                .values(deleted_at=datetime.now(UTC))
            )
        return bool(result.rowcount)

    def log(
        self,
        webhook_id: int,
        delivery: str,
        event: str,
        attempt: int,
        status: int | None,
        error: str,
    ) -> None:
        with self._write() as connection, connection.begin():
            connection.execute(
                _deliveries.insert().values(
                    webhook_id=webhook_id,
                    delivery=delivery,
                    event=event,
                    attempt=attempt,
                    status=status,
                    error=error[:2000],
                    success=status is not None and 200 <= status < 300,
                    at=datetime.now(UTC),
                )
            )

    def deliveries(self, webhook_id: int, limit: int, after: int) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(_deliveries)
                .where(_deliveries.c.webhook_id == webhook_id, _deliveries.c.id > after)
                .order_by(_deliveries.c.id)
                .limit(limit)
            ).all()
        return [
            {
                "id": int(r.id),
                "delivery": r.delivery,
                "event": r.event,
                "attempt": r.attempt,
                "status": r.status,
                "error": r.error,
                "success": bool(r.success),
                "at": (r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)).isoformat(),
            }
            for r in rows
        ]


class Dispatcher:
    """Delivers events on a background thread, with retries and a delivery log."""

    def __init__(
        self, store: WebhookStore, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    ) -> None:
        self.store = store
        self.retry_delays = retry_delays
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def notify(self, event: str, data: dict[str, Any]) -> None:
        """Queue an event; returns at once."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="apigov-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put((event, data))

    def stop(self, timeout: float = 10) -> None:
        """Finish what is queued (bounded), then stop; retries still waiting are abandoned."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        self._stopping.set()
        thread.join(timeout)

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                event, data = item
                try:
                    hooks = [h for h in self.store.live() if event in h.events]
                except Exception:  # the database is down: the event is lost, the thread lives
                    continue
                for hook in hooks:
                    self._deliver(client, hook, event, data)

    def _deliver(self, client: Any, hook: WebhookRecord, event: str, data: dict[str, Any]) -> None:
        import httpx

        delivery = str(uuid.uuid4())
        body = json.dumps(
            {"event": event, "delivery": delivery, "data": data}, sort_keys=True
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Apigov-Event": event,
            "X-Apigov-Delivery": delivery,
            SIGNATURE_HEADER: signature(hook.secret, body),
        }
        for attempt, delay in enumerate((0.0, *self.retry_delays), start=1):
            if delay and self._stopping.wait(delay):
                return
            status: int | None = None
            error = ""
            try:
                status = client.post(hook.url, content=body, headers=headers).status_code
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            # A log that cannot be written must not stop deliveries.
            with contextlib.suppress(Exception):
                self.store.log(hook.id, delivery, event, attempt, status, error)
            if status is not None and 200 <= status < 300:
                return
