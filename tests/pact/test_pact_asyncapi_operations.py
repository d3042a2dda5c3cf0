"""Message interactions that name their AsyncAPI operation (PactFlow's
`comments.references.AsyncAPI.operationId`), message headers, request/reply, and one pact
against an OpenAPI and an AsyncAPI document together."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from apigov.findings import Finding
from apigov.pact.asyncapi import check_message_compatibility, check_pact
from apigov.spec.asyncapi import RECEIVE, SEND, operations
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile
from helpers import write

# The provider's own document: it sends stock events and answers reservation requests.
STOCK = """\
asyncapi: 3.0.0
info: {title: Stock, version: 1.0.0}
channels:
  stockEvents:
    address: stock.events
    messages:
      stockChanged:
        payload:
          type: object
          properties:
            sku: {type: string}
            available: {type: integer, minimum: 0}
          required: [sku, available]
        headers:
          type: object
          properties:
            event-type: {type: string, enum: [stock.changed]}
            trace-id: {type: string}
          required: [event-type]
  reservations:
    address: stock.reservations
    messages:
      reserve:
        payload:
          type: object
          properties:
            sku: {type: string}
            quantity: {type: integer, minimum: 1}
          required: [sku, quantity]
        headers:
          type: object
          properties:
            reply-to: {type: string}
          required: [reply-to]
  reservationReplies:
    address: stock.reservations.replies
    messages:
      reserved:
        payload:
          type: object
          properties:
            reservationId: {type: string}
            expiresAt: {type: string, format: date-time}
          required: [reservationId]
operations:
  publishStockEvents:
    action: send
    channel: {$ref: '#/channels/stockEvents'}
    messages: [{$ref: '#/channels/stockEvents/messages/stockChanged'}]
  answerReservations:
    action: receive
    channel: {$ref: '#/channels/reservations'}
    messages: [{$ref: '#/channels/reservations/messages/reserve'}]
    reply:
      channel: {$ref: '#/channels/reservationReplies'}
      messages: [{$ref: '#/channels/reservationReplies/messages/reserved'}]
  answerRecounts:
    action: receive
    channel: {$ref: '#/channels/reservations'}
    messages: [{$ref: '#/channels/reservations/messages/reserve'}]
    reply:
      channel: {$ref: '#/channels/reservationReplies'}
      messages: []
"""


def referenced(operation_id: str) -> dict[str, Any]:
    return {"references": {"AsyncAPI": {"operationId": operation_id}}}


STOCK_CHANGED: dict[str, Any] = {
    "type": "Asynchronous/Messages",
    "description": "stock of a product changed",
    "comments": referenced("publishStockEvents"),
    "contents": {
        "content": {"sku": "WID-1", "available": 3},
        "contentType": "application/json",
        "encoded": False,
    },
    # `topic` and `contentType` are Pact's own metadata, not message headers.
    "metadata": {
        "event-type": "stock.changed",
        "topic": "stock.events",
        "contentType": "application/json",
    },
}
RESERVE: dict[str, Any] = {
    "type": "Synchronous/Messages",
    "description": "reserve two widgets",
    "comments": referenced("answerReservations"),
    "request": {
        "contents": {
            "content": {"sku": "WID-1", "quantity": 2},
            "contentType": "application/json",
            "encoded": False,
        },
        "metadata": {"reply-to": "checkout.replies"},
    },
    "response": [
        {
            "contents": {
                "content": {"reservationId": "r-1"},
                "contentType": "application/json",
                "encoded": False,
            }
        }
    ],
}


def pact_of(*interactions: dict[str, Any]) -> dict[str, Any]:
    return {
        "consumer": {"name": "checkout"},
        "provider": {"name": "stock"},
        "interactions": [copy.deepcopy(i) for i in interactions],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }


def load(tmp_path: Path, pact: dict[str, Any], spec: str = STOCK) -> tuple[PactFile, AsyncApiSpec]:
    loader = Loader()
    pact_file = loader.load(str(write(tmp_path, "pact.json", json.dumps(pact, indent=2))))
    document = loader.load(str(write(tmp_path, "asyncapi.yaml", spec)))
    assert isinstance(pact_file, PactFile) and isinstance(document, AsyncApiSpec)
    return pact_file, document


def check(tmp_path: Path, pact: dict[str, Any], spec: str = STOCK) -> list[Finding]:
    return check_message_compatibility(*load(tmp_path, pact, spec))


def pairs(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.id, f.location.pointer or "" if f.location else "") for f in findings]


def test_operations_are_read_with_their_messages_and_replies(tmp_path: Path) -> None:
    _, spec = load(tmp_path, pact_of(STOCK_CHANGED))
    found = operations(spec)
    assert sorted(found) == ["answerRecounts", "answerReservations", "publishStockEvents"]
    answer = found["answerReservations"]
    assert answer.action == RECEIVE
    assert [m.names for m in answer.messages] == [frozenset({"reserve"})]
    assert answer.reply is not None and [m.names for m in answer.reply] == [frozenset({"reserved"})]
    # What a `receive` operation replies, the application sends.
    assert answer.reply[0].directions == {SEND}
    assert found["publishStockEvents"].reply is None
    assert found["answerRecounts"].reply == []


def test_a_provider_side_document_accepts_referenced_interactions(tmp_path: Path) -> None:
    assert check(tmp_path, pact_of(STOCK_CHANGED, RESERVE)) == []


def test_headers_are_checked_against_the_headers_schema(tmp_path: Path) -> None:
    wrong = copy.deepcopy(STOCK_CHANGED)
    wrong["metadata"]["event-type"] = "stock.updated"
    wrong["metadata"]["x-tenant"] = "eu"
    findings = check(tmp_path, pact_of(wrong))
    assert sorted(pairs(findings)) == [
        ("compat-message-header-incompatible", "/interactions/0/metadata/event-type"),
        ("compat-message-header-undefined", "/interactions/0/metadata/x-tenant"),
    ]
    incompatible = next(f for f in findings if f.id == "compat-message-header-incompatible")
    assert "header 'event-type'" in incompatible.message
    assert "stock.updated" in incompatible.message


def test_a_request_message_must_carry_its_required_headers(tmp_path: Path) -> None:
    without_reply_to = copy.deepcopy(RESERVE)
    without_reply_to["request"]["metadata"] = {}
    assert pairs(check(tmp_path, pact_of(without_reply_to))) == [
        ("compat-message-header-incompatible", "/interactions/0/request/metadata")
    ]


def test_replies_are_checked_against_the_reply_messages(tmp_path: Path) -> None:
    wrong = copy.deepcopy(RESERVE)
    wrong["response"][0]["contents"]["content"] = {"reservationId": 7}
    assert pairs(check(tmp_path, pact_of(wrong))) == [
        (
            "compat-message-body-incompatible",
            "/interactions/0/response/0/contents/content/reservationId",
        )
    ]


def test_a_request_that_does_not_fit_leaves_the_replies_unjudged(tmp_path: Path) -> None:
    wrong = copy.deepcopy(RESERVE)
    wrong["request"]["contents"]["content"] = {"sku": "WID-1"}  # quantity is required
    wrong["response"][0]["contents"]["content"] = {"reservationId": 7}
    assert pairs(check(tmp_path, pact_of(wrong))) == [
        ("compat-message-body-incompatible", "/interactions/0/request/contents/content")
    ]


def test_direction_comes_from_the_referenced_operation(tmp_path: Path) -> None:
    # The consumer receives stock events but names the provider's `receive` operation.
    wrong = copy.deepcopy(STOCK_CHANGED)
    wrong["comments"] = referenced("answerRecounts")
    findings = check(tmp_path, pact_of(wrong))
    assert pairs(findings)[0] == (
        "compat-message-direction",
        "/interactions/0/comments/references/AsyncAPI/operationId",
    )
    assert "has action 'receive'" in findings[0].message


def test_reference_problems(tmp_path: Path) -> None:
    malformed = copy.deepcopy(STOCK_CHANGED)
    malformed["comments"] = {"references": {"AsyncAPI": {"operation": "publishStockEvents"}}}
    unknown = copy.deepcopy(STOCK_CHANGED)
    unknown["comments"] = referenced("publishPrices")
    no_reply = copy.deepcopy(RESERVE)
    no_reply["comments"] = referenced("answerRecounts")
    no_reply["request"]["metadata"] = {"reply-to": "x"}
    findings = check(tmp_path, pact_of(malformed, unknown, no_reply))
    assert pairs(findings) == [
        ("compat-message-reference-malformed", "/interactions/0/comments/references/AsyncAPI"),
        (
            "compat-message-operation-unknown",
            "/interactions/1/comments/references/AsyncAPI/operationId",
        ),
        ("compat-message-reply-missing", "/interactions/2/comments/references/AsyncAPI"),
    ]
    assert "known: answerRecounts, answerReservations, publishStockEvents" in findings[1].message
    assert "a reply without messages" in findings[2].message


def test_a_synchronous_message_without_responses_is_a_warning(tmp_path: Path) -> None:
    silent = copy.deepcopy(RESERVE)
    silent["response"] = []
    findings = check(tmp_path, pact_of(silent))
    assert pairs(findings) == [("compat-message-response-missing", "/interactions/0/response")]
    assert findings[0].level.value == "warning"


def test_a_message_without_a_payload_schema_is_a_warning(tmp_path: Path) -> None:
    spec = STOCK.replace(
        "      stockChanged:\n        payload:", "      stockChanged:\n        x-payload:"
    )
    findings = check(tmp_path, pact_of(STOCK_CHANGED), spec)
    assert pairs(findings) == [
        ("compat-message-payload-unknown", "/interactions/0/contents/content")
    ]


def test_asyncapi_2_operation_ids_are_references_too(tmp_path: Path) -> None:
    spec = """\
asyncapi: 2.6.0
info: {title: Stock, version: 1.0.0}
channels:
  stock.events:
    subscribe:
      operationId: publishStockEvents
      message:
        name: stockChanged
        payload:
          type: object
          properties:
            sku: {type: string}
"""
    findings = check(tmp_path, pact_of(STOCK_CHANGED), spec)
    # 2.x `subscribe` is what the application sends; `available` is not defined there.
    assert pairs(findings) == [
        ("compat-message-field-undefined", "/interactions/0/contents/content/available")
    ]


def test_one_pact_against_both_documents(tmp_path: Path) -> None:
    http = {
        "type": "Synchronous/HTTP",
        "description": "read the stock of a product",
        "request": {"method": "GET", "path": "/stock/WID-1"},
        "response": {"status": 200},
        "unknownField": True,
    }
    pact, events = load(tmp_path, pact_of(http, STOCK_CHANGED))
    openapi = Loader().load(
        str(
            write(
                tmp_path,
                "openapi.yaml",
                "openapi: 3.0.3\ninfo: {title: Stock, version: 1.0.0}\npaths:\n"
                "  /stock/{sku}:\n    get:\n      parameters:\n"
                "        - {name: sku, in: path, required: true, schema: {type: string}}\n"
                "      responses:\n        '200': {description: the stock}\n",
            )
        )
    )
    assert isinstance(openapi, ApiSpec)
    both = check_pact(pact, openapi, events)
    # The pact's own warning once, and neither interaction "not checked".
    assert pairs(both) == [("pact-unknown-field", "/interactions/0/unknownField")]
    alone = check_pact(pact, openapi)
    assert sorted(pairs(alone)) == [
        ("compat-interaction-not-checked", "/interactions/1"),
        ("pact-unknown-field", "/interactions/0/unknownField"),
    ]
