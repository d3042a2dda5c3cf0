"""Keyword semantics found by comparing with oasdiff's checker tests (see docs/diff.md).

Each expected result is worked out from JSON Schema 2020-12: which values each side accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diff_support import changes_between

from apigov.diff.catalogue import ok_response, one_operation, operation
from apigov.findings import Level

S: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}


def body_and_response(schema: dict[str, Any], components: dict[str, Any] | None = None) -> Any:
    """A 3.1 document: POST /items taking `schema` as its body and returning it."""
    op = operation(
        requestBody={"content": {"application/json": {"schema": schema}}},
        responses={"200": ok_response(schema)},
    )
    doc = one_operation(op, **({"components": {"schemas": components}} if components else {}))
    doc["openapi"] = "3.1.0"
    return doc


def found(tmp_path: Path, base: Any, head: Any) -> set[tuple[str, Level]]:
    return {(c.id, c.level) for c in changes_between(tmp_path, base, head)}


def test_diff_prefix_items_beside_items_changes_the_first_positions_both_ways(
    tmp_path: Path,
) -> None:
    # Before: every item a string. After: the first item an integer, the rest strings. A client
    # sending ["a"] is now rejected, and a client reading item 0 as a string gets an integer.
    base = body_and_response({"type": "array", "items": S})
    head = body_and_response({"type": "array", "prefixItems": [INT], "items": S})
    assert found(tmp_path, base, head) == {
        ("request-property-type-changed", Level.ERROR),
        ("response-property-type-changed", Level.ERROR),
    }


def test_diff_prefix_items_equal_to_items_is_no_change(tmp_path: Path) -> None:
    base = body_and_response({"type": "array", "items": S})
    head = body_and_response({"type": "array", "prefixItems": [S], "items": S})
    assert found(tmp_path, base, head) == set()


def test_diff_prefix_items_without_items_constrain_positions_that_allowed_anything(
    tmp_path: Path,
) -> None:
    base = body_and_response({"type": "array"})
    head = body_and_response({"type": "array", "prefixItems": [S]})
    assert found(tmp_path, base, head) == {
        ("request-body-prefix-items-added", Level.ERROR),
        ("response-body-prefix-items-added", Level.INFO),
    }


def test_diff_empty_pattern_is_no_pattern_and_a_new_pattern_breaks_requests(
    tmp_path: Path,
) -> None:
    base = body_and_response({"type": "string", "pattern": ""})
    head = body_and_response({"type": "string", "pattern": "^[a-z]+$"})
    assert found(tmp_path, base, head) == {
        ("request-body-pattern-added", Level.ERROR),
        ("response-body-pattern-added", Level.INFO),
    }


def test_diff_any_of_alternative_equal_to_another_adds_no_value(tmp_path: Path) -> None:
    cat = {"type": "object", "properties": {"name": S}}
    base = body_and_response(
        {"anyOf": [{"$ref": "#/components/schemas/Cat"}]}, {"Cat": cat, "Rabbit": cat}
    )
    head = body_and_response(
        {"anyOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Rabbit"}]},
        {"Cat": cat, "Rabbit": cat},
    )
    assert found(tmp_path, base, head) == set()
    assert found(tmp_path / "back", head, base) == set()


def test_diff_one_of_alternative_equal_to_another_still_counts(tmp_path: Path) -> None:
    # oneOf rejects a value matching two alternatives: a duplicate is not a no-op.
    base = body_and_response({"oneOf": [S]})
    head = body_and_response({"oneOf": [S, S]})
    assert ("request-body-one-of-added", Level.INFO) in found(tmp_path, base, head)


def test_diff_wrapping_into_one_of_with_null_still_compares_the_wrapped_schema(
    tmp_path: Path,
) -> None:
    # The enum lost "serviceAccount" while the property was wrapped into oneOf [null, it].
    base = body_and_response(
        {"type": "object", "properties": {"kind": {"type": "string", "enum": ["user", "svc"]}}}
    )
    head = body_and_response(
        {
            "type": "object",
            "properties": {
                "kind": {"oneOf": [{"type": "null"}, {"type": "string", "enum": ["user"]}]}
            },
        }
    )
    changes = found(tmp_path, base, head)
    assert ("request-property-enum-value-removed", Level.ERROR) in changes
    assert ("request-property-one-of-added", Level.INFO) in changes
    assert ("response-property-one-of-added", Level.ERROR) in changes


def test_diff_wrapping_unchanged_schema_into_one_of_with_null(tmp_path: Path) -> None:
    base = body_and_response({"type": "object", "properties": {"n": INT}})
    head = body_and_response(
        {"type": "object", "properties": {"n": {"oneOf": [INT, {"type": "null"}]}}}
    )
    # Only the null alternative is new: more values a client may send (info) or receive (error).
    assert found(tmp_path, base, head) == {
        ("request-property-one-of-added", Level.INFO),
        ("response-property-one-of-added", Level.ERROR),
    }


def test_diff_then_else_and_pattern_properties_are_compared_keyword_by_keyword(
    tmp_path: Path,
) -> None:
    def schema(extra: dict[str, Any]) -> dict[str, Any]:
        sub = {"type": "object", "properties": {"a": S, **extra}}
        return {
            "type": "object",
            "if": {"required": ["kind"]},
            "then": sub,
            "else": sub,
            "patternProperties": {"^x-": sub},
        }

    base = body_and_response(schema({"b": S}))
    head = body_and_response(schema({}))
    # Removing optional property b's definition from each subschema: a warning each way, not
    # the blanket "then changed" error the keyword compared whole would give.
    changes = changes_between(tmp_path, base, head)
    assert {(c.id, c.level) for c in changes} == {
        ("request-optional-property-removed", Level.WARNING),
        ("response-optional-property-removed", Level.WARNING),
    }
    messages = sorted(c.message for c in changes if c.id.startswith("request"))
    assert messages == [
        "request body property 'else.b': optional property removed",
        "request body property 'patternProperties.^x-.b': optional property removed",
        "request body property 'then.b': optional property removed",
    ]


def test_diff_then_is_compared_whole_when_if_changed(tmp_path: Path) -> None:
    base = body_and_response({"if": {"required": ["a"]}, "then": {"required": ["b"]}})
    head = body_and_response({"if": {"required": ["c"]}, "then": {"required": ["b"]}})
    assert ("request-body-if-changed", Level.ERROR) in found(tmp_path, base, head)
    head2 = body_and_response({"if": {"required": ["c"]}, "then": {"required": ["d"]}})
    assert ("request-body-then-changed", Level.ERROR) in found(tmp_path / "2", base, head2)


def test_diff_bounds_of_another_type_constrain_nothing(tmp_path: Path) -> None:
    # `minimum` on an object and `maxItems` on a string are ignored by JSON Schema validators.
    base = body_and_response({"type": "object", "properties": {"tags": S}})
    head = body_and_response(
        {"type": "object", "minimum": 1, "properties": {"tags": {**S, "maxItems": 3}}}
    )
    assert found(tmp_path, base, head) == set()
    # Without a type, a bound may apply, so it counts.
    untyped = body_and_response({})
    bounded = body_and_response({"maximum": 3})
    assert ("request-body-max-added", Level.ERROR) in found(tmp_path / "u", untyped, bounded)


def test_diff_required_name_without_a_property_definition_still_counts(tmp_path: Path) -> None:
    base = body_and_response({"type": "object", "properties": {"a": S}})
    head = body_and_response({"type": "object", "properties": {"a": S}, "required": ["token"]})
    # Every value must now carry `token`: clients that never sent it are rejected.
    assert found(tmp_path, base, head) == {
        ("request-property-became-required", Level.ERROR),
        ("response-property-became-required", Level.INFO),
    }
