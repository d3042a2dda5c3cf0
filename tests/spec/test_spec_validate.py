"""Validation findings: each semantic check, with lines counted by hand."""

from __future__ import annotations

from pathlib import Path

from apigov.findings import Finding
from apigov.spec.documents import validate_document
from apigov.spec.loader import Loader
from helpers import write

SEMANTIC = """\
openapi: 3.0.3
info:
  title: Shop
  version: 1.0.0
tags:
  - name: orders
  - {name: orders, description: again}
paths:
  /orders/{orderId}:
    parameters:
      - name: orderId
        in: path
        required: true
        schema:
          type: string
    get:
      operationId: getOrder
      parameters:
        - name: verbose
          in: query
          schema:
            type: boolean
        - name: verbose
          in: query
          schema:
            type: string
      responses:
        "200":
          description: ok
  /carts/{cartId}:
    get:
      operationId: getOrder
      parameters:
        - name: lineId
          in: path
          required: true
          schema:
            type: string
      responses:
        "200":
          description: ok
components:
  schemas:
    Order:
      allOf:
        - $ref: "#/components/schemas/Base"
      required: [id, total]
    Base:
      type: object
      properties:
        id:
          type: string
          format: uuid
          default: 42
"""


def findings_of(tmp_path: Path, name: str, text: str) -> list[Finding]:
    document = Loader().load(str(write(tmp_path, name, text)))
    return validate_document(document)


def test_semantic_checks_with_their_lines(tmp_path: Path) -> None:
    found = sorted(
        (f.id, f.location.line if f.location else None)
        for f in findings_of(tmp_path, "s.yaml", SEMANTIC)
    )
    assert found == [
        ("oas-duplicate-operation-id", 32),  # second `operationId: getOrder`
        ("oas-duplicate-parameter", 23),  # second `- name: verbose`
        ("oas-duplicate-tag", 7),
        ("oas-invalid-default", 54),  # `default: 42` on a string
        ("oas-path-parameter-not-in-path", 31),  # lineId is declared but the path has cartId
        ("oas-path-parameter-undeclared", 31),  # cartId is in the path but not declared
        ("oas-required-property-undefined", 47),  # `total` is required, defined nowhere
    ]


def test_structural_errors_point_at_the_offending_node(tmp_path: Path) -> None:
    text = SEMANTIC.replace(
        '      responses:\n        "200":\n          description: ok\ncomponents',
        '      responses:\n        "200": {}\ncomponents',
    )
    findings = findings_of(tmp_path, "s.yaml", text)
    assert [f.id for f in findings] == ["oas-schema"]
    location = findings[0].location
    assert location is not None
    assert (location.pointer, location.line) == ("/paths/~1carts~1{cartId}/get/responses/200", 40)
    assert "description" in findings[0].message


def test_openapi_31_schemas_are_checked_against_their_dialect(tmp_path: Path) -> None:
    text = """\
openapi: 3.1.0
info: {title: x, version: "1"}
components:
  schemas:
    Good:
      type: [string, "null"]
    Bad:
      type: object
      minProperties: -1
"""
    findings = findings_of(tmp_path, "s.yaml", text)
    assert [(f.id, f.location.line if f.location else None) for f in findings] == [
        ("oas-invalid-schema", 9)
    ]


def test_pact_structure(tmp_path: Path) -> None:
    text = """{
  "consumer": {"name": ""},
  "provider": {"name": "payments"},
  "interactions": [
    {"description": "a request", "request": {"method": "GET", "path": "/x"},
     "response": {"status": 700}}
  ],
  "metadata": {"pactSpecification": {"version": "3.0.0"}}
}"""
    findings = findings_of(tmp_path, "orders-payments.json", text)
    assert sorted((f.id, f.location.pointer if f.location else "") for f in findings) == [
        ("pact-structure", "/consumer/name"),
        ("pact-structure", "/interactions/0/response/status"),
    ]
    lines = {f.location.pointer: f.location.line for f in findings if f.location}
    assert lines == {"/consumer/name": 2, "/interactions/0/response/status": 6}


def test_pact_v4_interaction_kinds(tmp_path: Path) -> None:
    text = """{
  "consumer": {"name": "notifications"},
  "provider": {"name": "orders"},
  "interactions": [
    {"type": "Asynchronous/Messages", "description": "order created",
     "contents": {"content": {"id": "1"}, "contentType": "application/json"}},
    {"type": "Synchronous/HTTP", "description": "get order",
     "request": {"method": "GET", "path": "/orders/1"}}
  ],
  "metadata": {"pactSpecification": {"version": "4.0"}}
}"""
    findings = findings_of(tmp_path, "n-o.json", text)
    assert [(f.id, f.location.pointer if f.location else "") for f in findings] == [
        ("pact-structure", "/interactions/1")
    ]
    assert "response" in findings[0].message
