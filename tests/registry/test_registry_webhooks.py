"""Webhooks: signed POSTs to a receiver on 127.0.0.1 for each event, retried with backoff, and
every attempt in the delivery log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apigov.registry.server.app import create_app
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = "s3cret-s3cret-s3cret"
SPEC = base64.b64encode(b"openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n").decode()
FILES = {"files": [{"path": "openapi.yaml", "role": "spec", "content": SPEC}]}


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers with the statuses
    it is given, in order (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} arrived"
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    # The first delivery is answered 500 once: it must be retried.
    running = Receiver([500])
    yield running
    running.close()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, dict[str, str]]:
    database = str(tmp_path / "registry.db")
    store = SqlRegistry(database)
    try:
        tokens = {s.value: TokenStore(store.engine).create(s.value, s) for s in Scope}
    finally:
        store.close()
    return database, tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_events_are_signed_retried_and_logged(
    setup: tuple[str, dict[str, str]], receiver: Receiver
) -> None:
    database, tokens = setup
    app = create_app(database, webhook_retry_delays=(0.05, 0.05))
    admin, publisher = _auth(tokens["admin"]), _auth(tokens["publish"])
    with TestClient(app) as client:
        hook = {"url": receiver.url, "events": ["contract-published"], "secret": SECRET}
        assert client.post("/api/v1/webhooks", json=hook, headers=publisher).status_code == 403
        everything = {**hook, "events": ["contract-published", "deployment-recorded"]}
        created = client.post("/api/v1/webhooks", json=everything, headers=admin)
        assert created.status_code == 201
        webhook_id = created.json()["id"]
        assert "secret" not in created.json()
        bad = client.post("/api/v1/webhooks", json={**hook, "events": ["nope"]}, headers=admin)
        assert bad.status_code == 422

        url = "/api/v1/services/payments/versions/1"
        assert client.put(url, json=FILES, headers=publisher).status_code == 201
        receiver.wait_for(2)  # the first attempt answered 500, the retry 200
        # The same content again is no new contract: no event.
        assert client.put(url, json=FILES, headers=publisher).status_code == 200
        deployed = client.post(
            "/api/v1/environments/production/deployments",
            json={"service": "payments", "version": "1"},
            headers=publisher,
        )
        assert deployed.status_code == 201
        receiver.wait_for(3)
        # Not subscribed to verifications: nothing for this one.
        record = client.get(url).json()
        verified = client.post(
            f"{url}/verifications",
            json={
                "consumer": "orders",
                "pactSha256": record["files"][0]["sha256"],
                "success": True,
            },
            headers=publisher,
        )
        assert verified.status_code == 201

        # The log row of an attempt is written once its answer is in: wait for the third.
        log = _wait_for_log(client, webhook_id, admin, 3)
    # Leaving the client stopped the server, which delivers what was queued before stopping.
    assert len(receiver.received) == 3
    events = [json.loads(body)["event"] for _, body in receiver.received]
    assert events == ["contract-published", "contract-published", "deployment-recorded"]
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-apigov-signature-256"] == expected
        assert headers["x-apigov-event"] == json.loads(body)["event"]
    first, retry, deployment = (json.loads(body) for _, body in receiver.received)
    assert first == retry  # a retry sends the same delivery
    assert first["data"]["service"] == "payments"
    assert len(first["data"]["newContents"]) == 1
    assert deployment["data"] == {
        "service": "payments",
        "version": "1",
        "environment": "production",
        "target": "",
        "retired": [],
    }
    attempts = [(d["event"], d["attempt"], d["status"], d["success"]) for d in log]
    assert attempts == [
        ("contract-published", 1, 500, False),
        ("contract-published", 2, 200, True),
        ("deployment-recorded", 1, 200, True),
    ]
    assert log[0]["delivery"] == log[1]["delivery"] == first["delivery"]


def _wait_for_log(
    client: TestClient, webhook_id: int, headers: dict[str, str], count: int
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        answer = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=headers)
        items: list[dict[str, Any]] = answer.json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_receiver_that_never_answers_gets_every_retry_logged(
    setup: tuple[str, dict[str, str]],
) -> None:
    database, tokens = setup
    app = create_app(database, webhook_retry_delays=(0.05, 0.1))
    admin = _auth(tokens["admin"])
    with TestClient(app) as client:
        hook = {
            "url": f"http://127.0.0.1:{_unused_port()}/hook",
            "events": ["deployment-recorded"],
            "secret": SECRET,
        }
        webhook_id = client.post("/api/v1/webhooks", json=hook, headers=admin).json()["id"]
        client.put(
            "/api/v1/services/payments/versions/1", json=FILES, headers=_auth(tokens["publish"])
        )
        client.post(
            "/api/v1/environments/production/deployments",
            json={"service": "payments", "version": "1"},
            headers=admin,
        )
        items = _wait_for_log(client, webhook_id, admin, 3)
        # One attempt and one per retry delay, none answered.
        assert [(d["attempt"], d["status"], d["success"]) for d in items] == [
            (1, None, False),
            (2, None, False),
            (3, None, False),
        ]
        assert all(d["error"].startswith("ConnectError") for d in items)
        assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=admin).status_code == 200
        assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=admin).status_code == 404
        assert client.get("/api/v1/webhooks", headers=admin).json()["items"] == []
