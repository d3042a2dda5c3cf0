"""Large example schemas are compiled with what they share written once (`_shared_form`):
the findings must be those of the schema as inlined, and sharing must survive `nullable`."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
from lint_helpers import LintText

from apigov.lint.functions.oas import _SHARED_FORM_SIZE, _nullable_to_type, _shared_form


def _errors(schema: Any, value: Any) -> list[tuple[tuple[Any, ...], str]]:
    validator = jsonschema_rs.Draft4Validator(schema)
    return [(tuple(error.instance_path), error.message) for error in validator.iter_errors(value)]


def test_a_shared_subschema_is_written_once_and_reports_the_same_errors() -> None:
    item = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    schema = {"type": "object", "properties": {"first": item, "rest": {"items": item}}}
    shared = _shared_form(schema, "draft4")
    assert shared["properties"]["first"] == {"$ref": "#/definitions/0"}
    assert shared["properties"]["rest"] == {"items": {"$ref": "#/definitions/0"}}
    assert shared["definitions"] == {"0": item}
    value = {"first": {"id": "x"}, "rest": [{"id": 1}, {}]}
    expected = [
        (("first", "id"), '"x" is not of type "integer"'),
        (("rest", 1), '"id" is a required property'),
    ]
    assert _errors(schema, value) == expected
    assert _errors(shared, value) == expected
    assert schema["properties"]["first"] is item  # the schema itself is left as it was


def test_2020_12_schemas_share_under_defs() -> None:
    item = {"type": "string"}
    shared = _shared_form({"anyOf": [item, {"items": item}]}, "draft2020-12")
    assert shared == {
        "anyOf": [{"$ref": "#/$defs/0"}, {"items": {"$ref": "#/$defs/0"}}],
        "$defs": {"0": item},
    }


def test_schemas_kept_as_they_are() -> None:
    item = {"type": "string"}
    unshared = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    assert _shared_form(unshared, "draft4") is unshared
    # An `id` would move the base the references are resolved against.
    with_id = {"properties": {"a": item, "b": {"id": "http://x.example/b", "items": item}}}
    assert _shared_form(with_id, "draft4") is with_id
    # `not`'s message quotes its schema, so nothing under it is replaced by a reference.
    under_not = {"not": {"anyOf": [item, item]}}
    assert _shared_form(under_not, "draft4") is under_not
    # A root that holds definitions of its own.
    own = {"definitions": {"x": {}}, "properties": {"a": item, "b": item}}
    assert _shared_form(own, "draft4") is own


def test_enum_and_example_values_are_never_replaced() -> None:
    value = {"k": 1}
    schema = {
        "properties": {"a": {"enum": [value]}, "b": {"enum": [value], "example": value}},
    }
    assert _shared_form(schema, "draft4") is schema


def test_nullable_conversion_keeps_a_shared_schema_shared() -> None:
    item = {"type": "string", "nullable": True}
    schema = {"properties": {"a": item, "b": {"items": item}}}
    converted = _nullable_to_type(schema, oas2=False)
    first = converted["properties"]["a"]
    assert first == {"type": ["string", "null"], "nullable": True}
    assert converted["properties"]["b"]["items"] is first
    assert item == {"type": "string", "nullable": True}


def _large_document() -> str:
    """An OpenAPI 3.0 response whose schema, inlined, is past `_SHARED_FORM_SIZE`: a component
    with 40 long-described properties, used by four properties of the media type's schema."""
    properties = {f"p{index}": {"type": "string", "description": "d" * 400} for index in range(40)}
    properties["count"] = {"type": "integer", "nullable": True, "maximum": 9}
    item = {"type": "object", "required": ["count"], "properties": properties}
    media = {
        "type": "object",
        "properties": {name: {"$ref": "#/components/schemas/Item"} for name in "abcd"},
    }
    example = {"a": {"count": 3}, "b": {"count": None}, "c": {"count": 12}, "d": {"p1": 5}}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": media, "example": example}},
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"Item": item}},
    }
    assert len(json.dumps(item)) * 4 > _SHARED_FORM_SIZE
    return json.dumps(document, indent=1)


def test_a_large_shared_schema_reports_each_place(lint_text: LintText) -> None:
    findings = [
        (f.message, f.location.pointer if f.location else "")
        for f in lint_text(_large_document(), "spectral:oas")
        if f.id == "oas3-valid-media-example"
    ]
    example = "/paths/~1a/get/responses/200/content/application~1json/example"
    # `b.count` is null, which `nullable` allows; `c.count` is past the maximum; `d` lacks
    # `count` and its `p1` is no string.
    assert sorted(findings) == sorted(
        [
            ('"count" property 12 is greater than the maximum of 9', f"{example}/c/count"),
            ('"d" property "count" is a required property', f"{example}/d"),
            ('"p1" property 5 is not of type "string"', f"{example}/d/p1"),
        ]
    )
