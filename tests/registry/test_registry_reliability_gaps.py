"""Gaps closed with the reliability work: `--registry-token` on every command that takes
`--registry`, and webhooks raised by writes through the Pact Broker routes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from registry_support import apigov_in_process, serve_registry

from apigov.registry.server.app import create_app
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry
from helpers import CONTRACTS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# ---- --registry-token ------------------------------------------------------------------------


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    for name, sub in getattr(command, "commands", {}).items():
        yield " ".join((*path, name)), sub
        yield from _commands(sub, (*path, name))


def test_every_command_that_takes_registry_takes_registry_token_right_after_it() -> None:
    from apigov.cli.app import app

    root = typer.main.get_command(app)
    taking = {}
    for name, command in _commands(root):
        options = [opt for p in command.params for opt in getattr(p, "opts", [])]
        if "--registry" in options:
            taking[name] = options
    # The registry commands and the others that read or write a registry.
    assert {"publish", "can-i-deploy", "record-deployment", "registry migrate"} <= set(taking)
    assert {"check", "fuzz", "verify"} <= set(taking)
    for name, options in taking.items():
        assert options[options.index("--registry") + 1] == "--registry-token", name
    # Commands without --registry are left alone.
    validate = dict(_commands(root))["validate"]
    assert "--registry-token" not in [o for p in validate.params for o in getattr(p, "opts", [])]


def test_the_registry_token_option_authenticates_and_wins_over_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    try:
        token = TokenStore(store.engine).create("ci", Scope.PUBLISH)
    finally:
        store.close()
    monkeypatch.delenv("APIGOV_REGISTRY", raising=False)
    monkeypatch.delenv("APIGOV_REGISTRY_TOKEN", raising=False)
    payments = str(CONTRACTS / "payments")
    publish = ("publish", payments, "--service", "payments", "--version", "1.0.0")
    with serve_registry(location) as url:
        # No token: the server refuses the write.
        code, _, err = apigov_in_process(*publish, "--registry", url)
        assert code == 2
        assert "HTTP 401" in err

        # A wrong token in the variable, the right one as the option: the option wins.
        monkeypatch.setenv("APIGOV_REGISTRY_TOKEN", "apigov_not-a-token")
        code, _, err = apigov_in_process(
            *publish, "--tag", "prod", "--registry", url, "--registry-token", token
        )
        assert code == 0, err
        assert "Published payments@1.0.0: 4 files, 4 new contents." in err
        # Through the server too (the Broker's pacticipant resource).
        code, _, err = apigov_in_process(
            "registry", "service", "set", "payments", "--main-branch", "trunk",
            "--registry", url, "--registry-token", token,
        )  # fmt: skip
        assert code == 0, err

        # The option is not remembered from one command to the next in one process: without
        # it, the (wrong) variable is what is sent.
        deploy = ("record-deployment", "payments", "1.0.0", "--env", "production")
        code, _, err = apigov_in_process(*deploy, "--registry", url)
        assert code == 2
        assert "HTTP 401" in err
        code, out, err = apigov_in_process(*deploy, "--registry", url, "--registry-token", token)
        assert code == 0, err
        assert out == "Recorded payments@1.0.0 as deployed to production.\n"

        # The variable alone still works when it holds the right token.
        monkeypatch.setenv("APIGOV_REGISTRY_TOKEN", token)
        code, _, err = apigov_in_process(
            "record-undeployment", "payments", "--env", "production", "--registry", url
        )
        assert code == 0, err

    store = SqlRegistry(location)
    try:
        # Every write was made by the token named "ci" (the server records it as the actor).
        writes = [(a.actor, a.action) for a in store.audit_log()]
        assert writes == [
            ("ci", "publish"),
            ("ci", "add-tags"),
            ("ci", "set-main-branch"),
            (None, "create-environment"),
            ("ci", "record-deployment"),
            ("ci", "record-undeployment"),
        ]
        assert store.version_tags("payments", "1.0.0") == ["prod"]
        assert store.main_branch("payments") == "trunk"
    finally:
        store.close()


# ---- webhooks for writes through the Pact Broker routes ---------------------------------------

SECRET = "broker-s3cret-broker-s3cret"


class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST it gets (answering 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The first `count` deliveries (waiting, bounded), each checked for its signature."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} arrived"
            time.sleep(0.02)
        events = []
        for headers, body in self.received[:count]:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["x-apigov-signature-256"], expected)
            event = json.loads(body)
            assert headers["x-apigov-event"] == event["event"]
            events.append(event)
        return events

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _pact(consumer: str, provider: str) -> bytes:
    return (CONTRACTS / consumer / "pacts" / f"{consumer}-{provider}.json").read_bytes()


def _contract(consumer: str, provider: str) -> dict[str, Any]:
    return {
        "consumerName": consumer,
        "providerName": provider,
        "specification": "pact",
        "contentType": "application/json",
        "content": base64.b64encode(_pact(consumer, provider)).decode(),
    }


def test_writes_through_the_broker_routes_raise_webhook_events(
    registry_url: str, receiver: Receiver
) -> None:
    store = SqlRegistry(registry_url)
    try:
        tokens = TokenStore(store.engine)
        admin = {"Authorization": f"Bearer {tokens.create('admin', Scope.ADMIN)}"}
        ci = {"Authorization": f"Bearer {tokens.create('ci', Scope.PUBLISH)}"}
    finally:
        store.close()
    with TestClient(create_app(registry_url, webhook_retry_delays=(0.05,))) as client:
        hook = {
            "url": receiver.url,
            "events": ["contract-published", "verification-published", "deployment-recorded"],
            "secret": SECRET,
        }
        assert client.post("/api/v1/webhooks", json=hook, headers=admin).status_code == 201

        publication = {
            "pacticipantName": "orders",
            "pacticipantVersionNumber": "1.0.0",
            "branch": "main",
            "contracts": [_contract("orders", "payments")],
        }
        assert client.post("/contracts/publish", json=publication, headers=ci).status_code == 200
        # The same pact again stores nothing new: no event for it.
        assert client.post("/contracts/publish", json=publication, headers=ci).status_code == 200
        sha = hashlib.sha256(_pact("orders", "payments")).hexdigest()
        results = (
            f"/pacts/provider/payments/consumer/orders/pact-version/{sha}/verification-results"
        )
        verified = client.post(
            results, json={"success": True, "providerApplicationVersion": "2.0.0"}, headers=ci
        )
        assert verified.status_code == 201
        environment = client.post(
            "/environments", json={"name": "production", "production": True}, headers=ci
        )
        assert environment.status_code == 201
        uuid = environment.json()["uuid"]
        deployed = client.post(
            f"/pacticipants/orders/versions/1.0.0/deployed-versions/environment/{uuid}",
            json={},
            headers=ci,
        )
        assert deployed.status_code == 201

        events = receiver.events(3)
        time.sleep(0.3)  # a fourth event (the repeated publication) would have arrived by now
        assert len(receiver.received) == 3
    assert [(e["event"], e["data"]) for e in events] == [
        (
            "contract-published",
            {"service": "orders", "version": "1.0.0", "branch": "main", "newContents": [sha]},
        ),
        (
            "verification-published",
            {
                "provider": "payments",
                "providerVersion": "2.0.0",
                "consumer": "orders",
                "pactSha256": sha,
                "success": True,
            },
        ),
        (
            "deployment-recorded",
            {
                "service": "orders",
                "version": "1.0.0",
                "environment": "production",
                "target": "",
                "retired": [],
            },
        ),
    ]


# ---- tags and a per-service main branch ----------------------------------------------------


def _orders_pact(description: str) -> bytes:
    return json.dumps(
        {
            "consumer": {"name": "orders"},
            "provider": {"name": "payments"},
            "interactions": [
                {
                    "description": description,
                    "request": {"method": "GET", "path": "/payments/1"},
                    "response": {"status": 200},
                }
            ],
            "metadata": {"pactSpecification": {"version": "3.0.0"}},
        }
    ).encode()


def test_tags_are_labels_a_republish_may_add_and_a_conflict_may_not(registry: SqlRegistry) -> None:
    from apigov.registry.domain import ContractFile, Role, VersionConflictError

    spec = [ContractFile("openapi.yaml", Role.SPEC, b"openapi: 3.0.3\n")]
    assert registry.publish("payments", "1.0.0", spec, tags=["v1", "candidate"]).created
    # The same content again: acknowledged, and the new tag is added.
    assert not registry.publish("payments", "1.0.0", spec, tags=["prod", "v1"]).created
    assert registry.version_tags("payments", "1.0.0") == ["candidate", "prod", "v1"]
    other = [ContractFile("openapi.yaml", Role.SPEC, b"openapi: 3.1.0\n")]
    with pytest.raises(VersionConflictError):
        registry.publish("payments", "1.0.0", other, tags=["refused"])
    assert registry.version_tags("payments", "1.0.0") == ["candidate", "prod", "v1"]
    # Tagging is idempotent and says what was new.
    assert registry.add_tags("payments", "1.0.0", ["prod", "staging"]) == ["staging"]
    assert registry.add_tags("payments", "1.0.0", ["prod"]) == []
    assert registry.main_branch("payments") is None
    registry.set_main_branch("payments", "trunk")
    assert registry.main_branch("payments") == "trunk"
    actions = [(a.action, a.subject) for a in registry.audit_log()]
    assert actions == [
        ("publish", "payments@1.0.0"),
        ("add-tags", "payments@1.0.0"),  # v1, candidate
        ("add-tags", "payments@1.0.0"),  # prod
        ("add-tags", "payments@1.0.0"),  # staging
        ("set-main-branch", "payments"),
    ]


def test_tag_and_main_branch_selectors_through_the_broker_routes(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    pacts = {name: _orders_pact(name) for name in ("on-main", "develop-1", "develop-2")}
    sha = {hashlib.sha256(content).hexdigest(): name for name, content in pacts.items()}

    def contract(name: str) -> dict[str, Any]:
        content = base64.b64encode(pacts[name]).decode()
        return {**_contract("orders", "payments"), "content": content}

    with TestClient(create_app(location, auth_required=False)) as client:

        def publish(version: str, branch: str, name: str, tags: list[str]) -> None:
            body = {
                "pacticipantName": "orders",
                "pacticipantVersionNumber": version,
                "branch": branch,
                "tags": tags,
                "contracts": [contract(name)],
            }
            assert client.post("/contracts/publish", json=body).status_code == 200

        def verify(selector: dict[str, Any]) -> set[str]:
            answer = client.post(
                "/pacts/provider/payments/for-verification",
                json={"consumerVersionSelectors": [selector]},
            )
            assert answer.status_code == 200, answer.text
            pacts = answer.json()["_embedded"]["pacts"]
            return {sha[p["_links"]["self"]["href"].rsplit("/", 1)[1]] for p in pacts}

        publish("1.0.0", "main", "on-main", [])
        publish("2.0.0", "develop", "develop-1", ["prod"])
        publish("3.0.0", "develop", "develop-2", [])
        # `pact-broker create-version-tag`: 201 for a new tag, 200 when the version had it.
        tag_url = "/pacticipants/orders/versions/1.0.0/tags/prod"
        assert client.put(tag_url, json={}).status_code == 201
        assert client.put(tag_url, json={}).status_code == 200
        version = client.get("/pacticipants/orders/versions/1.0.0").json()
        assert [t["name"] for t in version["_embedded"]["tags"]] == ["prod"]

        # A tag selector means every version with the tag; `latest` narrows it to the newest.
        assert verify({"tag": "prod"}) == {"on-main", "develop-1"}
        assert verify({"tag": "prod", "latest": True}) == {"develop-1"}
        # With no main branch named, `main` is the main branch.
        assert client.get("/pacticipants/orders").json()["mainBranch"] is None
        assert verify({"mainBranch": True}) == {"on-main"}
        # Naming the main branch (`create-or-update-pacticipant --main-branch develop`).
        patched = client.patch("/pacticipants/orders", json={"mainBranch": "develop"})
        assert patched.status_code == 200
        assert patched.json()["mainBranch"] == "develop"
        assert verify({"mainBranch": True}) == {"develop-2"}
        assert verify({"mainBranch": True, "latest": False}) == {"develop-1", "develop-2"}


def test_publish_tag_and_service_set_main_branch_commands(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    payments = str(CONTRACTS / "payments")
    code, _, err = apigov_in_process(
        "publish", payments, "--service", "payments", "--version", "1.0.0",
        "--tag", "prod", "--tag", "v1", "--registry", location,
    )  # fmt: skip
    assert code == 0, err
    code, out, err = apigov_in_process(
        "registry", "service", "set", "payments", "--main-branch", "trunk", "--registry", location
    )
    assert code == 0, err
    assert out == "Set the main branch of payments to trunk.\n"
    code, _, err = apigov_in_process("registry", "service", "set", "payments")
    assert code == 2
    assert "nothing to set: give --main-branch BRANCH" in err
    store = SqlRegistry(location)
    try:
        assert store.version_tags("payments", "1.0.0") == ["prod", "v1"]
        assert store.main_branch("payments") == "trunk"
    finally:
        store.close()
