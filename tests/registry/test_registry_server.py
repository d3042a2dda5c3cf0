"""The registry server's JSON API, in process: resources, pagination, problem details, limits,
conflicts with a diff, and its own OpenAPI document (complete, and clean under apigov's rules)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from apigov.registry.domain import Role
from apigov.registry.publishing import collect_service_folder
from apigov.registry.server import broker
from apigov.registry.server.app import OPENAPI_DOCUMENT, create_app
from apigov.spec.loader import Loader
from helpers import CONTRACTS, run_apigov

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PROBLEM = "application/problem+json"


def _b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def _spec(title: str) -> str:
    return f"openapi: 3.0.3\ninfo: {{title: {title}, version: '1'}}\npaths: {{}}\n"


@pytest.fixture
def client(registry_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(registry_url, auth_required=False)) as test_client:
        yield test_client


def _publish(client: TestClient, service: str, version: str, files: list[dict[str, Any]]) -> Any:
    return client.put(f"/api/v1/services/{service}/versions/{version}", json={"files": files})


def test_publish_then_read_back_the_version_and_its_contents(client: TestClient) -> None:
    spec = _spec("Payments")
    answer = _publish(
        client,
        "payments",
        "1.0.0",
        [{"path": "openapi.yaml", "role": "spec", "content": _b64(spec)}],
    )
    assert answer.status_code == 201
    assert answer.json()["created"] is True

    version = client.get("/api/v1/services/payments/versions/1.0.0").json()
    assert version["service"] == "payments"
    assert [(f["path"], f["role"]) for f in version["files"]] == [("openapi.yaml", "spec")]
    sha = version["files"][0]["sha256"]
    content = client.get(f"/api/v1/contents/{sha}").json()["content"]
    assert base64.b64decode(content).decode() == spec


def test_republishing_the_same_content_is_200_and_other_content_is_409_with_a_diff(
    client: TestClient,
) -> None:
    first = [{"path": "openapi.yaml", "role": "spec", "content": _b64(_spec("Old"))}]
    assert _publish(client, "payments", "1", first).status_code == 201
    again = _publish(client, "payments", "1", first)
    assert again.status_code == 200
    assert again.json()["created"] is False

    other = [
        {"path": "openapi.yaml", "role": "spec", "content": _b64(_spec("New"))},
        {"path": "extra.yaml", "role": "spec-part", "content": _b64("x: 1\n")},
    ]
    conflict = _publish(client, "payments", "1", other)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM
    problem = conflict.json()
    assert problem["status"] == 409
    assert problem["changed"] == ["openapi.yaml"]
    assert problem["added"] == ["extra.yaml"]
    assert problem["removed"] == []
    [diff] = problem["diff"]
    assert diff["path"] == "openapi.yaml"
    assert "-info: {title: Old, version: '1'}" in diff["diff"].splitlines()
    assert "+info: {title: New, version: '1'}" in diff["diff"].splitlines()


def test_lists_are_paginated_with_limit_and_cursor(client: TestClient) -> None:
    for number in range(5):
        files = [{"path": "openapi.yaml", "role": "spec", "content": _b64(_spec(f"V{number}"))}]
        assert _publish(client, "orders", f"1.{number}", files).status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/services/orders/versions", params=params).json()
        pages += 1
        seen += [item["number"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ["1.0", "1.1", "1.2", "1.3", "1.4"]
    assert pages == 3  # 2 + 2 + 1

    audit = client.get("/api/v1/audit-log", params={"limit": 3}).json()
    assert len(audit["items"]) == 3
    assert audit["nextCursor"] is not None


def test_errors_are_problem_details(client: TestClient) -> None:
    unknown = client.get("/api/v1/services/nobody/versions/1")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["detail"] == "nobody@1 is not in the registry"

    no_route = client.get("/api/v1/no-such-thing")
    assert (no_route.status_code, no_route.headers["content-type"]) == (404, PROBLEM)

    refused = client.post(
        "/api/v1/environments/production/deployments", json={"service": "a", "version": "9"}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert "a@9 is not in the registry" in refused.json()["detail"]

    malformed = client.put("/api/v1/services/a/versions/1", json={"files": "nope"})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["location"] == ["body", "files"]

    bad_cursor = client.get("/api/v1/services", params={"cursor": "not-a-cursor"})
    assert (bad_cursor.status_code, bad_cursor.json()["title"]) == (400, "Bad cursor")

    bad_base64 = _publish(client, "a", "1", [{"path": "x", "role": "spec", "content": "!!"}])
    assert bad_base64.status_code == 400

    # Found by fuzzing the served registry: numbers beyond what the database binds were 500s.
    huge = client.get("/api/v1/audit-log", params={"cursor": "9" * 20})
    assert (huge.status_code, huge.json()["title"]) == (400, "Bad cursor")
    huge_id = client.get(f"/api/v1/webhooks/{9 * 10**19}/deliveries")
    assert huge_id.status_code == 422
    # A 405 says which methods the resource has (RFC 9110).
    wrong_method = client.patch("/api/v1/audit-log")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"
    not_json = client.post(
        "/api/v1/version-lookups", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert (not_json.status_code, not_json.headers["content-type"]) == (422, PROBLEM)


def test_request_bodies_above_the_limit_are_refused_with_413(registry_url: str) -> None:
    app = create_app(registry_url, auth_required=False, max_body_bytes=1000)
    with TestClient(app) as small:
        big = [{"path": "openapi.yaml", "role": "spec", "content": _b64("x" * 2000)}]
        answer = _publish(small, "a", "1", big)
        assert answer.status_code == 413
        assert answer.headers["content-type"] == PROBLEM

        # Without a Content-Length the body is counted as it streams in.
        def chunks() -> Iterator[bytes]:
            yield b'{"files": ['
            for _ in range(20):
                yield b" " * 100
            yield b"]}"

        streamed = small.put(
            "/api/v1/services/a/versions/1",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert streamed.status_code == 413
        # A body under the limit still goes through.
        small_files = [{"path": "openapi.yaml", "role": "spec", "content": _b64("x: 1\n")}]
        assert _publish(small, "a", "1", small_files).status_code == 201
        assert small.get("/api/v1/services/a/versions/1").status_code == 200


def test_environments_deployments_releases_and_live_versions(client: TestClient) -> None:
    spec = [{"path": "openapi.yaml", "role": "spec", "content": _b64(_spec("P"))}]
    _publish(client, "payments", "1", spec)
    _publish(client, "payments", "2", [{**spec[0], "content": _b64(_spec("P2"))}])
    assert client.put("/api/v1/environments/prod", json={"production": True}).json() == {
        "name": "prod",
        "production": True,
    }
    first = client.post(
        "/api/v1/environments/prod/deployments", json={"service": "payments", "version": "1"}
    )
    assert (first.status_code, first.json()) == (201, {"retired": []})
    second = client.post(
        "/api/v1/environments/prod/deployments", json={"service": "payments", "version": "2"}
    )
    assert second.json() == {"retired": ["1"]}
    release = client.post(
        "/api/v1/environments/prod/releases", json={"service": "payments", "version": "1"}
    )
    assert (release.status_code, release.json()) == (201, {"created": True})
    live = client.get(
        "/api/v1/environments/prod/live-versions", params={"service": ["payments"]}
    ).json()
    assert [(v["number"], v["via"]) for v in live["items"]] == [
        ("1", "released"),
        ("2", "deployed"),
    ]
    gone = client.delete("/api/v1/environments/prod/deployments/payments")
    assert gone.json() == {"versions": ["2"]}


def _fleet_files(service: str) -> list[dict[str, Any]]:
    """A service folder of the example fleet, as publish sends it (spec, its parts, pacts)."""
    collected = collect_service_folder(CONTRACTS / service, service, Loader())
    return [
        {"path": f.path, "role": f.role.value, "content": _b64(f.content), "provider": f.provider}
        for f in collected.files
    ]


def test_can_i_deploy_is_answered_by_the_server(client: TestClient) -> None:
    assert _publish(client, "payments", "1.0.0", _fleet_files("payments")).status_code == 201
    assert _publish(client, "orders", "1.0.0", _fleet_files("orders")).status_code == 201
    client.post(
        "/api/v1/environments/production/deployments",
        json={"service": "payments", "version": "1.0.0"},
    )
    answer = client.get(
        "/api/v1/can-i-deploy",
        params={"service": "orders", "version": "1.0.0", "environment": "production"},
    ).json()
    # orders holds pacts with payments (deployed) and inventory (not in production).
    assert answer["deployable"] is False
    assert sorted((p["provider"], p["providerVersion"], p["answer"]) for p in answer["pairs"]) == [
        ("inventory", None, "deploy-provider-not-in-environment"),
        ("payments", "1.0.0", "deploy-pair-satisfied"),
    ]
    unknown = client.get(
        "/api/v1/can-i-deploy",
        params={"service": "orders", "version": "9", "environment": "production"},
    ).json()
    assert (unknown["deployable"], unknown["knownVersion"]) == (False, False)


# ---- the server's own OpenAPI document ---------------------------------------------------------


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint, also inside included routers (which this FastAPI keeps unflattened)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def test_every_route_is_in_the_document_and_every_documented_operation_is_a_route(
    tmp_path: Path,
) -> None:
    app = create_app(str(tmp_path / "r.db"))
    broker_routes = set(map(id, broker.router.routes))
    served = {
        (route.path, method.lower())
        for route in _api_routes(app.routes)
        if id(route) not in broker_routes
        for method in route.methods
    }
    document = _document()
    base = document["servers"][0]["url"]
    described = {
        (base + path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert served == described


def test_the_documented_file_roles_are_the_registry_roles() -> None:
    assert _document()["components"]["schemas"]["Role"]["enum"] == [r.value for r in Role]


def test_the_served_document_is_the_committed_one(client: TestClient) -> None:
    answer = client.get("/api/v1/openapi")
    assert answer.status_code == 200
    assert answer.content == OPENAPI_DOCUMENT.read_bytes()


def test_the_document_passes_apigov_lint_with_the_default_ruleset() -> None:
    result = run_apigov("lint", str(OPENAPI_DOCUMENT), "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    serious = [f for f in report["findings"] if f["level"] in ("error", "warning")]
    assert serious == []
