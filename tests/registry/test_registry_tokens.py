"""Tokens and scopes: created once and stored hashed, 401 without or with a bad token, 403 with
a scope too small, reads open unless --auth-reads, everything open with --no-auth."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from registry_support import apigov_in_process, serve_registry
from sqlalchemy import text

from apigov.registry.server.app import create_app
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry
from helpers import run_apigov

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SPEC = base64.b64encode(b"openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n").decode()
BODY = {"files": [{"path": "openapi.yaml", "role": "spec", "content": SPEC}]}
PUBLISH = "/api/v1/services/payments/versions/1"


@pytest.fixture
def database(tmp_path: Path) -> str:
    return str(tmp_path / "registry.db")


@pytest.fixture
def tokens(database: str) -> Iterator[dict[str, str]]:
    """One live token per scope."""
    store = SqlRegistry(database)
    try:
        made = {scope.value: TokenStore(store.engine).create(scope.value, scope) for scope in Scope}
    finally:
        store.close()
    yield made


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_writes_need_a_token_with_the_publish_scope(database: str, tokens: dict[str, str]) -> None:
    with TestClient(create_app(database)) as client:
        missing = client.put(PUBLISH, json=BODY)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.headers["content-type"] == "application/problem+json"

        wrong = client.put(PUBLISH, json=BODY, headers=_bearer("apigov_not-a-real-token"))
        assert wrong.status_code == 401
        not_bearer = client.put(PUBLISH, json=BODY, headers={"Authorization": "Basic abc"})
        assert not_bearer.status_code == 401

        too_small = client.put(PUBLISH, json=BODY, headers=_bearer(tokens["read"]))
        assert too_small.status_code == 403
        assert "read scope" in too_small.json()["detail"]

        allowed = client.put(PUBLISH, json=BODY, headers=_bearer(tokens["publish"]))
        assert allowed.status_code == 201
        # admin includes publish
        again = client.put(PUBLISH, json=BODY, headers=_bearer(tokens["admin"]))
        assert again.status_code == 200

        # Reads are open by default.
        assert client.get(PUBLISH).status_code == 200
        # The audit log names the token that wrote.
        [entry] = [e for e in client.get("/api/v1/audit-log").json()["items"]]
        assert (entry["actor"], entry["action"]) == ("publish", "publish")


def test_auth_reads_closes_reads_and_the_health_check_stays_open(
    database: str, tokens: dict[str, str]
) -> None:
    with TestClient(create_app(database, auth_reads=True)) as client:
        assert client.get("/api/v1/services").status_code == 401
        assert client.get("/api/v1/services", headers=_bearer(tokens["read"])).status_code == 200
        assert client.get("/api/v1/health").status_code == 200


def test_no_auth_opens_reads_and_writes(database: str) -> None:
    with TestClient(create_app(database, auth_required=False)) as client:
        assert client.put(PUBLISH, json=BODY).status_code == 201
        assert client.get("/api/v1/audit-log").json()["items"][0]["actor"] is None


def test_revoked_tokens_are_refused(database: str, tokens: dict[str, str]) -> None:
    store = SqlRegistry(database)
    try:
        assert TokenStore(store.engine).revoke("publish") == 1
        assert TokenStore(store.engine).revoke("publish") == 0
    finally:
        store.close()
    with TestClient(create_app(database)) as client:
        assert client.put(PUBLISH, json=BODY, headers=_bearer(tokens["publish"])).status_code == 401


def test_token_commands_print_the_token_once_and_store_only_its_hash(database: str) -> None:
    code, out, err = apigov_in_process(
        "registry", "token", "create", "--name", "ci", "--scope", "publish", "--registry", database
    )
    assert code == 0, err
    token = out.strip()
    assert token.startswith("apigov_")
    assert len(out.splitlines()) == 1
    assert "shown only this once" in err

    store = SqlRegistry(database)
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(text("SELECT name, token_sha256, scopes FROM tokens")).all()
    finally:
        store.close()
    assert [tuple(r) for r in rows] == [
        ("ci", hashlib.sha256(token.encode()).hexdigest(), "publish")
    ]

    code, listed, _ = apigov_in_process("registry", "token", "list", "--registry", database)
    assert code == 0
    assert listed.startswith("ci\tpublish\tcreated ")
    assert listed.rstrip().endswith("\tlive")
    assert token not in listed

    revoke = ("registry", "token", "revoke", "--name", "ci", "--registry", database)
    assert apigov_in_process(*revoke)[:2] == (0, "Revoked 1 token(s) named 'ci'.\n")
    assert apigov_in_process(*revoke) == (
        2,
        "",
        "apigov: error: ci: no live token has this name\n",
    )


def test_the_client_sends_the_token_from_the_environment(
    database: str, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a real server: a write refused for want of a token (or scope) is one line,
    exit 2; the token comes from APIGOV_REGISTRY_TOKEN."""
    monkeypatch.delenv("APIGOV_REGISTRY_TOKEN", raising=False)
    with serve_registry(database) as url:
        without = run_apigov(
            "record-deployment", "payments", "1", "--env", "prod", "--registry", url
        )
        assert without.code == 2
        assert without.stderr.startswith(f"apigov: error: {url}: this request needs a token")
        assert without.stderr.endswith("(HTTP 401)\n")
        monkeypatch.setenv("APIGOV_REGISTRY_TOKEN", tokens["read"])
        read_only = run_apigov(
            "record-deployment", "payments", "1", "--env", "prod", "--registry", url
        )
        assert read_only.code == 2
        assert "(HTTP 403)" in read_only.stderr
