"""How the example and document schema rules prepare schemas: the shortcuts that search
orjson's text before walking in Python must find what the walk finds."""

from __future__ import annotations

from typing import Any

from lint_helpers import LintText, ids_and_pointers

from apigov.lint.functions.oas import (
    _holds_ref,
    _nullable_scan,
    _nullable_to_type,
    _relaxable,
    _schema_objects,
)

OPENAPI_31 = """\
openapi: 3.1.0
info: {title: t, version: "1", description: d, contact: {name: n}}
servers: [{url: "https://api.example.org"}]
tags: [{name: a, description: d}]
paths:
  /a:
    get:
      operationId: a
      tags: [a]
      description: d
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object}
              examples:
                holds:
                  value: {schema: {type: 5}}
                plain:
                  value: {name: x, list: [1, {deep: true}]}
"""


def test_a_schema_key_inside_an_example_is_still_checked(lint_text: LintText) -> None:
    found = ids_and_pointers(lint_text(OPENAPI_31, "spectral:oas"))
    schema_findings = {pointer for rule, pointer in found if rule == "oas3-schema"}
    # `type: 5` is no type of the 2020-12 meta-schema; the example without a `schema` key
    # gives nothing.
    assert schema_findings == {
        "/paths/~1a/get/responses/200/content/application~1json/examples/holds/value/schema/type"
    }


def test_schema_objects_of_examples_with_and_without_schema_keys() -> None:
    inner = {"type": "string"}
    document: dict[str, Any] = {
        "paths": {"/a": {"get": {"examples": {"e": {"value": {"schema": inner}}}}}},
        "x-other": {"examples": [{"name": "no schema here", "schemas": {"schema ": 1}}]},
    }
    assert _schema_objects(document, ()) == [
        (("paths", "/a", "get", "examples", "e", "value", "schema"), inner)
    ]


def test_examples_orjson_cannot_write_are_walked() -> None:
    inner = {"type": "string"}
    # A key that is not a string (YAML allows it) stops orjson: the example is walked.
    document: dict[str, Any] = {"examples": {1: {"schema": inner}}}
    assert _schema_objects(document, ()) == [(("examples", 1, "schema"), inner)]


def test_refs_found_in_text_and_by_walking() -> None:
    assert _holds_ref({"properties": {"a": {"$ref": "#/components/schemas/A"}}})
    assert not _holds_ref({"properties": {"$ref": {"type": "string"}}})  # a property named $ref
    assert not _holds_ref({"description": 'says "$ref":"x" in prose'})
    assert _holds_ref({"items": {1: {"$ref": "#/x"}}})


def test_relaxable_only_with_the_flag_of_its_kind() -> None:
    schema = {
        "required": ["id", "secret"],
        "properties": {"id": {"readOnly": True}, "secret": {"writeOnly": True}},
    }
    assert _relaxable(schema, True, False)
    assert _relaxable(schema, False, True)
    not_required = {"properties": {"id": {"readOnly": True}}}
    assert not _relaxable(not_required, True, False)
    assert not _relaxable(
        {"required": ["id"], "properties": {"id": {"readOnly": False}}}, True, False
    )


def test_nullable_scan_reads_the_key_text() -> None:
    untyped = {"properties": {"a": {"nullable": True}}}
    assert _nullable_scan(untyped, "nullable", b'{"properties":{"a":{"nullable":true}}}') == (
        True,
        True,
    )
    typed = {"properties": {"a": {"nullable": True, "type": "string"}}}
    text = b'{"properties":{"a":{"nullable":true,"type":"string"}}}'
    assert _nullable_scan(typed, "nullable", text) == (False, True)
    assert _nullable_scan({"type": "string"}, "nullable", b'{"type":"string"}') == (False, False)
    # A key written by the standard library's writer (marked with a NUL) is walked.
    assert _nullable_scan(typed, "nullable", b'\0{"a": 1}') == (False, True)


def test_nullable_to_type_copies_only_what_changes() -> None:
    untouched = {"type": "object", "properties": {"b": {"type": "integer"}}}
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "nullable": True, "enum": ["x"]},
            "c": untouched,
        },
    }
    converted = _nullable_to_type(schema, oas2=False)
    assert converted["properties"]["a"] == {
        "type": ["string", "null"],
        "nullable": True,
        "enum": ["x", None],
    }
    assert converted["properties"]["c"] is untouched
    assert schema["properties"]["a"] == {"type": "string", "nullable": True, "enum": ["x"]}
    plain = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert _nullable_to_type(plain, oas2=False) is plain
    assert _nullable_to_type({"type": "string", "x-nullable": True}, oas2=True) == {
        "type": ["string", "null"],
        "x-nullable": True,
    }


OPENAPI_30 = """\
openapi: 3.0.3
info: {title: t, version: "1", description: d, contact: {name: n}}
servers: [{url: "https://api.example.org"}]
tags: [{name: a, description: d}]
paths:
  /a:
    post:
      operationId: a
      tags: [a]
      description: d
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Item"}
            example: {name: x, note: null}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
              example: {id: 1, name: null, note: null}
components:
  schemas:
    Item:
      type: object
      required: [id, name, secret]
      properties:
        id: {type: integer, readOnly: true}
        secret: {type: string, writeOnly: true}
        name: {type: string}
        note: {type: string, nullable: true}
"""


def test_relaxed_and_nullable_examples(lint_text: LintText) -> None:
    found = ids_and_pointers(lint_text(OPENAPI_30, "spectral:oas"))
    examples = {pointer for rule, pointer in found if rule == "oas3-valid-media-example"}
    # Request: `id` is readOnly (may be left out), `secret` is required; response: `secret` is
    # writeOnly, `name` may not be null; `note` is nullable in both.
    assert examples == {
        "/paths/~1a/post/requestBody/content/application~1json/example",
        "/paths/~1a/post/responses/200/content/application~1json/example/name",
    }
