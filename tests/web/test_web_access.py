"""Who may see the pages, how browsers reach them, and that stored text is shown as text."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apigov.registry.server.app import create_app
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry
from apigov.registry.web.mount import prefers_html

# ---- reads protected (`--auth-reads`) --------------------------------------------------------


@pytest.fixture(scope="module")
def protected_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """An empty registry (created once: migrations take a moment) and a read token for it."""
    location = str(tmp_path_factory.mktemp("protected") / "registry.db")
    store = SqlRegistry(location)
    token = TokenStore(store.engine).create("reader", Scope.READ)
    store.close()
    return location, token


@pytest.fixture
def protected(protected_registry: tuple[str, str]) -> Iterator[tuple[TestClient, str]]:
    """A server whose reads need a token, and a read token (a fresh client: no cookies)."""
    location, token = protected_registry
    with TestClient(create_app(location, auth_reads=True)) as client:
        yield client, token


PAGES = ["/ui/", "/ui/services", "/ui/matrix", "/ui/diff", "/ui/services/orders"]


@pytest.mark.parametrize("path", PAGES)
def test_with_reads_protected_a_page_without_a_token_is_401(
    protected: tuple[TestClient, str], path: str
) -> None:
    client, _ = protected
    answer = client.get(path)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["content-type"].startswith("text/html")
    assert "/ui/login?next=" in answer.text


def test_a_bearer_token_in_the_header_opens_the_pages(protected: tuple[TestClient, str]) -> None:
    client, token = protected
    assert (
        client.get("/ui/services", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    bad = client.get("/ui/services", headers={"Authorization": "Bearer apigov_not-a-token"})
    assert bad.status_code == 401
    assert "not valid" in bad.text


def test_the_login_form_sets_an_http_only_strict_cookie_that_opens_the_pages(
    protected: tuple[TestClient, str],
) -> None:
    client, token = protected
    assert client.get("/ui/login").status_code == 200  # the form itself needs no token
    answer = client.post(
        "/ui/login",
        data={"token": token, "next": "/ui/services"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/services"
    cookie = answer.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"apigov_token={token};")
    assert {"httponly", "path", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/ui" in cookie.lower()
    # The client keeps the cookie, as a browser would: the pages open.
    assert client.get("/ui/services").status_code == 200
    # The JSON API does not take the cookie: scripts on other pages cannot ride on it.
    assert client.get("/api/v1/services").status_code == 401
    # Signing out drops it.
    client.post("/ui/logout", follow_redirects=False)
    assert client.get("/ui/services").status_code == 401


def test_a_wrong_token_at_login_sets_no_cookie(protected: tuple[TestClient, str]) -> None:
    client, _ = protected
    answer = client.post("/ui/login", data={"token": "apigov_wrong"}, follow_redirects=False)
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers
    assert "That token is not valid" in answer.text


def test_login_only_sends_browsers_back_to_this_sites_pages(
    protected: tuple[TestClient, str],
) -> None:
    client, token = protected
    for target in ("https://elsewhere.example/", "//elsewhere.example/ui/", "/api/v1/services"):
        answer = client.post(
            "/ui/login", data={"token": token, "next": target}, follow_redirects=False
        )
        assert answer.headers["location"] == "/ui/", target


def test_open_reads_need_no_token(protected_registry: tuple[str, str]) -> None:
    with TestClient(create_app(protected_registry[0])) as client:
        assert client.get("/ui/services").status_code == 200


# ---- GET / belongs to Pact clients -----------------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_a_browser_asking_for_the_root_is_sent_to_the_pages(
    protected_registry: tuple[str, str],
) -> None:
    with TestClient(create_app(protected_registry[0])) as client:
        answer = client.get("/", headers={"Accept": BROWSER}, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/"
        # A Pact client (HAL), a JSON client, curl's */* and no Accept at all: the HAL index.
        for accept in ("application/hal+json", "application/hal+json, application/json", "*/*"):
            index = client.get("/", headers={"Accept": accept}, follow_redirects=False)
            assert index.status_code == 200, accept
            assert "_links" in index.json()
        plain = client.get("/", follow_redirects=False)
        assert plain.status_code == 200
        assert "_links" in plain.json()


def test_which_accept_headers_prefer_html() -> None:
    assert prefers_html(BROWSER)
    assert prefers_html("text/html")
    assert not prefers_html("")
    assert not prefers_html("*/*")
    assert not prefers_html("application/hal+json")
    assert not prefers_html("text/html;q=0.5, application/json")
    assert prefers_html("application/json;q=0.4, text/html;q=0.9")
    # A specific range wins over a wildcard whatever their order.
    assert not prefers_html("*/*;q=0.9, text/html;q=0")


# ---- stored strings are text -----------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
SPEC_WITH_MARKUP = f"""\
openapi: 3.0.3
info: {{title: markup, version: "1"}}
paths:
  /things:
    get:
      operationId: listThings
      summary: "{SCRIPT} <img src=x onerror=alert(2)>"
      responses:
        "200": {{description: ok}}
"""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_stored_markup_is_shown_as_text(tmp_path: Path) -> None:
    location = str(tmp_path / "r.db")
    store = SqlRegistry(location)
    token = TokenStore(store.engine).create("publisher", Scope.PUBLISH)
    store.close()
    auth = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {
        "branch": f"{SCRIPT}-branch",
        "metadata": {"owner": '"><img src=x onerror=alert(3)>', "team": SCRIPT},
        "files": [{"path": "openapi.yaml", "role": "spec", "content": _b64(SPEC_WITH_MARKUP)}],
    }
    with TestClient(create_app(location)) as client:
        published = client.put("/api/v1/services/marked/versions/1.0.0", json=body, headers=auth)
        assert published.status_code == 201, published.text
        deployed = client.post(
            "/api/v1/environments/%3Cb%3Eenv/deployments",
            json={"service": "marked", "version": "1.0.0"},
            headers=auth,
        )
        assert deployed.status_code in (200, 201), deployed.text
        # A service name with markup in it (no `/`: a name is one path segment).
        named = client.put("/api/v1/services/%3Ci%3Etilted/versions/1.0.0", json=body, headers=auth)
        assert named.status_code == 201, named.text
        tilted = client.get("/ui/services/%3Ci%3Etilted")
        assert tilted.status_code == 200
        pages = [
            tilted.text,
            client.get("/ui/services/marked").text,
            client.get("/ui/services").text,
            client.get("/ui/").text,
            client.get("/ui/matrix?env=%3Cb%3Eenv").text,
            client.get(f"/ui/services?team={SCRIPT}").text,
        ]
    for html in pages:
        assert "<script>" not in html
        assert "<img" not in html
        assert "<b>env" not in html
        assert "<i>tilted" not in html
    assert "<h1>&lt;i&gt;tilted</h1>" in pages[0]
    # The list links to it with the name quoted as one path segment.
    assert 'href="/ui/services/%3Ci%3Etilted">&lt;i&gt;tilted</a>' in pages[2]
    service_page = pages[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in service_page  # team, branch, summary
    assert "&lt;img src=x onerror=alert(2)&gt;" in service_page
    assert "&#34;&gt;&lt;img src=x onerror=alert(3)&gt;" in service_page
    assert "&lt;b&gt;env" in pages[3]
