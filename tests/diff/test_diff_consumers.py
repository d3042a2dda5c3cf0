"""`apigov diff --consumers`: which consumer interactions a change breaks, on the real fleet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from apigov.pact.usage import ConsumerUsage
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile
from helpers import CONTRACTS, REPO, run_apigov, write

POLICY = "consumer-aware: true\n"


def fleet_pair(tmp_path: Path, field: str, schema: str = "Order") -> tuple[str, str]:
    """Two copies of the fleet; in the head one, a schema of orders lost a required field."""
    for side in ("base", "head"):
        shutil.copytree(CONTRACTS, tmp_path / side / "contracts")
    head = tmp_path / "head" / "contracts" / "orders" / "openapi.yaml"
    spec = yaml.safe_load(head.read_text(encoding="utf-8"))
    changed = spec["components"]["schemas"][schema]
    del changed["properties"][field]
    changed["required"] = [name for name in changed["required"] if name != field]
    # JSON is YAML: the head stays `openapi.yaml`, so the contracts layout names its service.
    head.write_text(json.dumps(spec), encoding="utf-8")
    return "base/contracts/orders/openapi.yaml", "head/contracts/orders/openapi.yaml"


@pytest.fixture(scope="module")
def number_removed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The fleet, and a head where `Order.number` is gone: both consumers of orders read it."""
    folder = tmp_path_factory.mktemp("number")
    return (folder, *fleet_pair(folder, "number"))


def by_operation(stdout: str, change_id: str) -> dict[str, dict[str, Any]]:
    findings = json.loads(stdout)["findings"]
    return {f["operation"]: f for f in findings if f["id"] == change_id}


def test_diff_consumers_names_the_consumer_and_interaction_using_a_removed_field(
    number_removed: tuple[Path, str, str],
) -> None:
    tmp_path, base, head = number_removed
    # Both consumers of orders read `number`: shipping in its list and single-order
    # interactions, notifications (a V4 pact) in its single-order one.
    result = run_apigov(
        "diff", base, head, "--consumers", "base/contracts", "--format", "json", cwd=tmp_path
    )
    assert result.code == 1, result.stderr
    removed = by_operation(result.stdout, "response-required-property-removed")
    single = removed["GET /orders/{orderId}"]
    assert single["level"] == "error"
    assert sorted(single["consumers"]) == ["notifications", "shipping"]
    assert "shipping 'a request for a paid order'" in single["message"]
    assert "notifications 'a request for a shipped order'" in single["message"]
    # shipping's 404 interaction expects a problem document, not an Order.
    assert "does not exist" not in single["message"]
    listing = removed["GET /orders"]
    assert listing["consumers"] == ["shipping"]
    assert "'a request for paid orders waiting to be shipped'" in listing["message"]
    # Nobody's pact creates or cancels orders.
    assert removed["POST /orders"]["consumers"] == []
    assert removed["POST /orders/{orderId}/cancel"]["consumers"] == []


def test_diff_consumers_text_output_names_consumers_first(
    number_removed: tuple[Path, str, str],
) -> None:
    tmp_path, base, head = number_removed
    result = run_apigov("diff", base, head, "--consumers", "base/contracts", cwd=tmp_path)
    assert result.code == 1, result.stderr
    assert "breaks notifications (1 interaction), shipping (1)" in result.stdout


def test_diff_consumer_aware_policy_lets_an_unused_breaking_change_pass(tmp_path: Path) -> None:
    # The order history is read by no consumer (Order itself is also a webhook payload, whose
    # receivers no pact describes, so a change there keeps its level).
    base, head = fleet_pair(tmp_path, "actor", "OrderHistoryEntry")
    policy = write(tmp_path, "policy.yaml", POLICY)
    plain = run_apigov("diff", base, head, "--consumers", "base/contracts", cwd=tmp_path)
    assert plain.code == 1, plain.stderr
    aware = run_apigov(
        "diff",
        base,
        head,
        "--consumers",
        "base/contracts",
        "--policy",
        str(policy),
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert aware.code == 0, aware.stderr
    findings = json.loads(aware.stdout)["findings"]
    assert [(f["id"], f["level"], f["operation"], f["consumers"]) for f in findings] == [
        (
            "response-required-property-removed",
            "warning",
            "GET /orders/{orderId}/history",
            [],
        )
    ]
    assert findings[0]["message"].endswith("(no consumer uses it)")
    # The shipped policy turns it on too; without --consumers nothing is known, so it blocks.
    shipped = str(REPO / "rules" / "breaking.yaml")
    with_shipped = ("--consumers", "base/contracts", "--policy", shipped)
    assert run_apigov("diff", base, head, *with_shipped, cwd=tmp_path).code == 0
    blind = run_apigov("diff", base, head, "--policy", str(policy), cwd=tmp_path)
    assert blind.code == 1


def test_diff_consumer_aware_policy_still_blocks_a_used_breaking_change(
    number_removed: tuple[Path, str, str],
) -> None:
    tmp_path, base, head = number_removed
    policy = write(tmp_path, "still-blocks.yaml", POLICY)
    result = run_apigov(
        "diff", base, head, "--consumers", "base/contracts", "--policy", str(policy), cwd=tmp_path
    )
    assert result.code == 1


def test_diff_consumers_without_pacts_is_an_input_error() -> None:
    spec = str(CONTRACTS / "orders" / "openapi.yaml")
    # payments holds a spec and a service.yaml, no consumer contract.
    result = run_apigov("diff", spec, spec, "--consumers", str(CONTRACTS / "payments"))
    assert result.code == 2
    assert "no pact files found for --consumers" in result.stderr


# ---- the usage rules, one element kind at a time ---------------------------------------------

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1.0.0"},
    "servers": [{"url": "https://shop.example.com/v1"}],
    "paths": {
        "/carts/{cartId}": {
            "put": {
                "parameters": [
                    {
                        "name": "cartId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "lines": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "sku": {"type": "string"},
                                                "gift": {"type": "boolean"},
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"total": {"type": "integer"}},
                                }
                            }
                        },
                    },
                    "4XX": {"description": "refused"},
                },
            }
        }
    },
}

PACT = {
    "consumer": {"name": "web"},
    "provider": {"name": "shop"},
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
    "interactions": [
        {
            "description": "put a cart",
            "request": {
                "method": "PUT",
                "path": "/v1/carts/c1",
                "query": {"dryRun": ["true"]},
                "headers": {"x-trace": "abc", "Content-Type": "application/json"},
                "body": {"lines": [{"sku": "A-1"}]},
            },
            "response": {
                "status": 200,
                "headers": {"etag": "W/1"},
                "body": {"total": 10},
            },
        },
        {
            "description": "put an empty cart",
            "request": {"method": "PUT", "path": "/v1/carts/c2"},
            "response": {"status": 409},
        },
    ],
}

OPERATION = "/paths/~1carts~1{cartId}/put"


@pytest.fixture(scope="module")
def usage(tmp_path_factory: pytest.TempPathFactory) -> ConsumerUsage:
    folder = tmp_path_factory.mktemp("usage")
    spec_file = write(folder, "openapi.json", json.dumps(SPEC))
    pact_file = write(folder, "web-shop.json", json.dumps(PACT))
    loader = Loader(root=folder)
    spec, pact = loader.load(str(spec_file)), loader.load(str(pact_file))
    assert isinstance(spec, ApiSpec)
    assert isinstance(pact, PactFile)
    return ConsumerUsage([pact], spec, spec)


def users(usage: ConsumerUsage, change_id: str, logical: str) -> list[str]:
    return [use.description for use in usage.users(change_id, (OPERATION + logical,))]


@pytest.mark.parametrize(
    ("change_id", "logical", "expected"),
    [
        # The operation itself: both interactions call it (through the /v1 server base path).
        ("operation-removed", "", ["put a cart", "put an empty cart"]),
        (
            "request-path-parameter-removed",
            "/parameters/path/cartId",
            ["put a cart", "put an empty cart"],
        ),
        # Parameters: who sends them; headers in any case.
        ("request-query-parameter-removed", "/parameters/query/dryRun", ["put a cart"]),
        ("request-header-parameter-removed", "/parameters/header/X-Trace", ["put a cart"]),
        # Becoming required breaks those who do not send it.
        (
            "request-query-parameter-became-required",
            "/parameters/query/dryRun",
            ["put an empty cart"],
        ),
        ("request-body-became-required", "/requestBody", ["put an empty cart"]),
        # Body fields, through arrays.
        (
            "request-property-type-changed",
            "/requestBody/content/application~1json/schema/properties/lines/items/properties/sku",
            ["put a cart"],
        ),
        (
            "request-property-type-changed",
            "/requestBody/content/application~1json/schema/properties/lines/items/properties/gift",
            [],
        ),
        (
            "request-property-became-required",
            "/requestBody/content/application~1json/schema/properties/lines/items/properties/gift",
            ["put a cart"],
        ),
        # Responses: the status expected (4XX covers 409), headers named, fields read.
        ("response-success-status-removed", "/responses/200", ["put a cart"]),
        ("response-non-success-status-removed", "/responses/4XX", ["put an empty cart"]),
        ("response-optional-header-removed", "/responses/200/headers/ETag", ["put a cart"]),
        (
            "response-optional-property-removed",
            "/responses/200/content/application~1json/schema/properties/total",
            ["put a cart"],
        ),
        (
            "response-optional-property-removed",
            "/responses/200/content/application~1json/schema/properties/currency",
            [],
        ),
    ],
)
def test_diff_usage_rules(
    usage: ConsumerUsage, change_id: str, logical: str, expected: list[str]
) -> None:
    assert users(usage, change_id, logical) == expected


def test_diff_usage_of_spec_wide_and_other_operations(usage: ConsumerUsage) -> None:
    assert len(usage.users("server-removed", ("/servers/0",))) == 2
    assert usage.users("api-version-decreased", ("/info/version",)) == []
    assert usage.users("operation-removed", ("/paths/~1carts/get",)) == []
    # A renamed path parameter is the same operation.
    assert len(usage.users("operation-removed", ("/paths/~1carts~1{id}/put",))) == 2
