"""Pact message interactions against AsyncAPI 2.x and 3.x documents, and AsyncAPI loading."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from apigov.findings import Finding, Level
from apigov.pact.asyncapi import check_message_compatibility
from apigov.spec.asyncapi import RECEIVE, SEND, messages
from apigov.spec.documents import validate_document
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import AsyncApiSpec, PactFile
from helpers import CONTRACTS, run_apigov, write

DATA = Path(__file__).parent / "data" / "asyncapi"
EVENTS_3 = DATA / "orders-events-3.yaml"
EVENTS_2 = DATA / "orders-events-2.yaml"
FLEET_PACT = CONTRACTS / "notifications" / "pacts" / "notifications-orders.json"

ORDER_CREATED: dict[str, Any] = {
    "eventId": "e4da3b7f-bbce-4345-9777-2b0674a318d5",
    "eventType": "order.created",
    "occurredAt": "2025-11-20T10:15:00Z",
    "order": {
        "id": "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11",
        "number": "ORD-00012345",
        "customerId": "3c59dc04-8b1e-4f0a-9a0d-5e2b7c6d1f22",
        "status": "paid",
        "items": [],
        "total": {"amount": 0, "currency": "EUR"},
    },
}


def message_pact(
    contents: Any,
    metadata: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
    description: str = "an order event",
) -> dict[str, Any]:
    """A V3 message pact with one message (the consumer receives it)."""
    message: dict[str, Any] = {
        "description": description,
        "providerStates": [{"name": "an order exists"}],
        "contents": contents,
        "metadata": {"contentType": "application/json", "topic": "shop.orders.v1"}
        if metadata is None
        else metadata,
    }
    if rules is not None:
        message["matchingRules"] = {"body": rules}
    return {
        "consumer": {"name": "notifications"},
        "provider": {"name": "orders"},
        "messages": [message],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def check(tmp_path: Path, pact: dict[str, Any], spec: Path = EVENTS_3) -> list[Finding]:
    loader = Loader()
    pact_file = loader.load(str(write(tmp_path, "pact.json", json.dumps(pact, indent=2))))
    document = loader.load(str(spec))
    assert isinstance(pact_file, PactFile) and isinstance(document, AsyncApiSpec)
    return check_message_compatibility(pact_file, document)


def ids(findings: list[Finding]) -> list[str]:
    return [finding.id for finding in findings]


# ---- reading the document ----------------------------------------------------------------


def test_messages_of_a_3_document_with_directions_from_operations() -> None:
    spec = Loader().load(str(EVENTS_3))
    assert isinstance(spec, AsyncApiSpec) and spec.major == 3
    found = {(m.channel, m.address, min(m.names)): m.directions for m in messages(spec)}
    assert found == {
        ("orderEvents", "shop.orders.v1", "order.created"): {SEND},
        ("orderEvents", "shop.orders.v1", "order.cancelled"): {SEND},
        ("orderCommands", "shop.orders.commands.{region}", "cancelOrder"): {RECEIVE},
    }


def test_messages_of_a_2_document_read_publish_and_subscribe_from_the_clients_side() -> None:
    spec = Loader().load(str(EVENTS_2))
    assert isinstance(spec, AsyncApiSpec) and spec.major == 2
    found = {(m.channel, min(m.names)): m.directions for m in messages(spec)}
    # `subscribe` = clients subscribe = the application sends.
    assert found == {
        ("shop.orders.v1", "OrderCancelled"): {SEND},
        ("shop.orders.v1", "OrderCreated"): {SEND},
        ("shop.orders.commands", "order.cancel"): {RECEIVE},
    }


# ---- the example fleet --------------------------------------------------------------------


@pytest.mark.parametrize("spec", [EVENTS_3, EVENTS_2], ids=["3.0", "2.6"])
def test_fleet_message_pact_is_compatible(spec: Path) -> None:
    loader = Loader()
    pact_file = loader.load(str(FLEET_PACT))
    document = loader.load(str(spec))
    assert isinstance(pact_file, PactFile) and isinstance(document, AsyncApiSpec)
    findings = check_message_compatibility(pact_file, document)
    assert [f for f in findings if f.level is Level.ERROR] == []
    # Two messages; the HTTP interaction is left to the OpenAPI document.
    assert sorted(ids(findings)) == [
        "compat-interaction-not-checked",
        "compat-message-field-optional",
        "compat-message-field-optional",
    ]


def test_fleet_optional_fields_are_the_ones_the_3_document_does_not_require() -> None:
    loader = Loader()
    pact_file = loader.load(str(FLEET_PACT))
    document = loader.load(str(EVENTS_3))
    assert isinstance(pact_file, PactFile) and isinstance(document, AsyncApiSpec)
    warnings = [f.message for f in check_message_compatibility(pact_file, document)]
    # order.created: customerEmail and items[].productName are the only optional fields used.
    assert any("fields /order/customerEmail, /order/items/0/productName," in m for m in warnings)
    # order.cancelled: customerEmail and refund are optional in OrderCancelled.
    assert any("fields /customerEmail, /refund," in m for m in warnings)


# ---- one finding per way to break it -------------------------------------------------------


def test_compatible_message_names_only_what_it_uses(tmp_path: Path) -> None:
    pact = message_pact(ORDER_CREATED, description="order.created")
    assert ids(check(tmp_path, pact)) == []


def test_unknown_topic(tmp_path: Path) -> None:
    pact = message_pact(ORDER_CREATED, {"topic": "shop.orders.v2"})
    findings = check(tmp_path, pact)
    assert ids(findings) == ["compat-message-channel-unknown"]
    assert "'shop.orders.v2'" in findings[0].message
    assert (
        findings[0].location is not None and findings[0].location.pointer == "/messages/0/metadata"
    )


def test_unknown_message_name_on_a_known_topic(tmp_path: Path) -> None:
    pact = message_pact(ORDER_CREATED, {"topic": "shop.orders.v1", "eventType": "order.refunded"})
    findings = check(tmp_path, pact)
    assert ids(findings) == ["compat-message-unknown"]
    assert "'order.refunded'" in findings[0].message


def test_field_the_payload_does_not_define(tmp_path: Path) -> None:
    contents = {**ORDER_CREATED, "giftWrap": True}
    findings = check(tmp_path, message_pact(contents, description="order.created"))
    assert ids(findings) == ["compat-message-field-undefined"]
    assert findings[0].location is not None
    assert findings[0].location.pointer == "/messages/0/contents/giftWrap"


def test_wrong_type_in_a_nested_array(tmp_path: Path) -> None:
    contents = copy.deepcopy(ORDER_CREATED)
    contents["order"]["items"] = [
        {
            "sku": "A",
            "quantity": "three",
            "unitPrice": {"amount": 1, "currency": "EUR"},
            "lineTotal": {"amount": 3, "currency": "EUR"},
        }
    ]
    findings = check(tmp_path, message_pact(contents, description="order.created"))
    assert ids(findings) == ["compat-message-body-incompatible"]
    assert "/order/items/0/quantity" in findings[0].message


def test_subset_semantics_leaving_out_required_fields_is_fine(tmp_path: Path) -> None:
    contents = {"eventId": ORDER_CREATED["eventId"], "eventType": "order.created"}
    assert ids(check(tmp_path, message_pact(contents, description="order.created"))) == []


def test_several_candidates_any_one_accepting_is_enough(tmp_path: Path) -> None:
    # No name given: order.created and order.cancelled are both candidates on the topic.
    # Only OrderCancelled defines orderId and reason (both required); customerEmail is optional.
    contents = {"orderId": ORDER_CREATED["order"]["id"], "reason": "payment_failed"}
    assert ids(check(tmp_path, message_pact(contents))) == []
    findings = check(tmp_path, message_pact({**contents, "customerEmail": "a@example.com"}))
    assert ids(findings) == ["compat-message-field-optional"]
    assert "OrderCancelled" in findings[0].message


def test_a_message_the_provider_only_receives(tmp_path: Path) -> None:
    pact = message_pact(
        {"orderId": ORDER_CREATED["order"]["id"]},
        {"topic": "shop.orders.commands.eu", "messageName": "order.cancel"},
    )
    findings = check(tmp_path, pact)
    assert ids(findings)[0] == "compat-message-direction"


def test_content_type_must_match_the_documented_one(tmp_path: Path) -> None:
    pact = message_pact("<order/>", {"topic": "shop.orders.v1", "contentType": "application/xml"})
    assert ids(check(tmp_path, pact)) == ["compat-message-content-type-incompatible"]


def test_regex_matcher_outside_the_enum(tmp_path: Path) -> None:
    rules = {"$.order.status": {"matchers": [{"match": "regex", "regex": "^(open|closed)$"}]}}
    pact = message_pact(ORDER_CREATED, rules=rules, description="order.created")
    assert ids(check(tmp_path, pact)) == ["compat-matcher-unsatisfiable"]


def test_synchronous_request_message_is_read_with_required_fields(tmp_path: Path) -> None:
    pact = {
        "consumer": {"name": "support"},
        "provider": {"name": "orders"},
        "interactions": [
            {
                "type": "Synchronous/Messages",
                "description": "cancel an order",
                "request": {
                    "contents": {"content": {}, "contentType": "application/json"},
                    "metadata": {"subject": "shop.orders.commands.eu", "type": "order.cancel"},
                },
                "response": [],
            }
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    findings = check(tmp_path, pact)
    # The provider receives it (no direction problem); orderId is required of a sender.
    assert ids(findings) == ["compat-message-body-incompatible"]
    assert "orderId" in findings[0].message


def test_http_interactions_are_left_to_openapi(tmp_path: Path) -> None:
    pact = {
        "consumer": {"name": "a"},
        "provider": {"name": "orders"},
        "interactions": [
            {
                "description": "get",
                "request": {"method": "GET", "path": "/orders"},
                "response": {"status": 200},
            }
        ],
        "metadata": {"pactSpecification": {"version": "2.0.0"}},
    }
    findings = check(tmp_path, pact)
    assert ids(findings) == ["compat-interaction-not-checked"]
    assert findings[0].operation == "GET /orders"


# ---- loading and validation ----------------------------------------------------------------


def test_validation_of_a_broken_3_document(tmp_path: Path) -> None:
    document = yaml.safe_load(EVENTS_3.read_text())
    document["operations"]["publishOrderEvents"]["action"] = "emit"
    spec = Loader().load(str(write(tmp_path, "asyncapi.yaml", yaml.safe_dump(document))))
    assert isinstance(spec, AsyncApiSpec)
    findings = validate_document(spec)
    assert ids(findings) == ["asyncapi-structure"]
    assert findings[0].location is not None
    assert findings[0].location.pointer == "/operations/publishOrderEvents/action"


def test_operation_message_must_belong_to_its_channel(tmp_path: Path) -> None:
    document = yaml.safe_load(EVENTS_3.read_text())
    document["operations"]["receiveOrderCommands"]["messages"] = [
        {"$ref": "#/channels/orderEvents/messages/orderCreated"}
    ]
    spec = Loader().load(str(write(tmp_path, "asyncapi.yaml", yaml.safe_dump(document))))
    assert isinstance(spec, AsyncApiSpec)
    assert ids(validate_document(spec)) == ["asyncapi-operation-message"]


def test_unsupported_version_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "asyncapi.yaml", "asyncapi: 1.2.0\ninfo: {title: t, version: '1'}\n")
    with pytest.raises(InputError, match=r"unsupported asyncapi version '1\.2\.0'"):
        Loader().load(str(path))


def test_unresolvable_ref_is_refused_at_load(tmp_path: Path) -> None:
    text = EVENTS_3.read_text().replace("#/components/schemas/Money'", "#/components/schemas/Cash'")
    with pytest.raises(InputError, match="Cash"):
        Loader().load(str(write(tmp_path, "asyncapi.yaml", text)))


def test_contracts_folder_picks_up_asyncapi_files(tmp_path: Path) -> None:
    write(tmp_path / "orders", "asyncapi.yaml", EVENTS_3.read_text())
    loader = Loader()
    assert [Path(t).name for t in loader.expand([str(tmp_path)])] == ["asyncapi.yaml"]


def test_cli_compat_against_asyncapi(tmp_path: Path) -> None:
    good = run_apigov("compat", str(FLEET_PACT), "--spec", str(EVENTS_3), "-f", "json")
    assert good.code == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["summary"] == {"error": 0, "warning": 2, "info": 1}
    bad_pact = message_pact({**ORDER_CREATED, "giftWrap": True}, description="order.created")
    bad = write(tmp_path, "bad.json", json.dumps(bad_pact))
    failing = run_apigov("compat", str(bad), "--spec", str(EVENTS_3))
    assert failing.code == 1
    assert "compat-message-field-undefined" in failing.stdout
    valid = run_apigov("validate", str(EVENTS_3), str(EVENTS_2))
    assert valid.code == 0, valid.stdout + valid.stderr
