"""Parameters and headers travel as text: their schemas are compared by what the receiver parses.

Worked out by hand from how OpenAPI serialises parameters: in `?limit=5` the server reads the
text "5", so a `string` parameter accepts whatever a `number` parameter accepted, and every
serialisation style reads `?token=a` as an array of one item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diff_support import changes_between

from apigov.diff.catalogue import ok_response, one_operation, operation
from apigov.findings import Level

S: dict[str, Any] = {"type": "string"}
NUM: dict[str, Any] = {"type": "number"}
INT: dict[str, Any] = {"type": "integer"}


def with_query(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A 3.1 document whose POST /items takes one query parameter `q` with `schema`."""
    doc = one_operation(
        operation(parameters=[{"name": "q", "in": "query", "schema": schema, **extra}])
    )
    doc["openapi"] = "3.1.0"
    return doc


def found(tmp_path: Path, base: Any, head: Any) -> set[tuple[str, Level]]:
    return {(c.id, c.level) for c in changes_between(tmp_path, base, head)}


def test_diff_query_number_to_string_is_a_widening_and_back_a_narrowing(tmp_path: Path) -> None:
    # "3.5" was sent before and is still a string; "abc" is a string but no number.
    assert found(tmp_path, with_query(NUM), with_query(S)) == {
        ("request-parameter-type-widened", Level.INFO)
    }
    assert found(tmp_path / "back", with_query(S), with_query(NUM)) == {
        ("request-parameter-type-narrowed", Level.ERROR)
    }


def test_diff_boolean_to_string_in_a_header_parameter_is_a_widening(tmp_path: Path) -> None:
    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        return one_operation(
            operation(parameters=[{"name": "X-Dry-Run", "in": "header", "schema": schema}])
        )

    assert found(tmp_path, doc({"type": "boolean"}), doc(S)) == {
        ("request-parameter-type-widened", Level.INFO)
    }


def test_diff_the_same_change_in_a_json_body_still_breaks(tmp_path: Path) -> None:
    # In JSON, 3.5 and "3.5" are different values: a client sending 3.5 is now rejected.
    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        return one_operation(
            operation(requestBody={"content": {"application/json": {"schema": schema}}})
        )

    assert found(tmp_path, doc(NUM), doc(S)) == {("request-body-type-changed", Level.ERROR)}


def test_diff_a_parameter_with_json_content_keeps_json_types(tmp_path: Path) -> None:
    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        param = {"name": "q", "in": "query", "content": {"application/json": {"schema": schema}}}
        return one_operation(operation(parameters=[param]))

    assert found(tmp_path, doc(NUM), doc(S)) == {("request-parameter-type-changed", Level.ERROR)}


def test_diff_deep_object_property_number_to_string_is_a_widening(tmp_path: Path) -> None:
    def filters(kind: str) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"groupId": {"type": kind}}}
        return with_query(schema, style="deepObject", explode=True)

    # ?q[groupId]=3 is text too.
    assert found(tmp_path, filters("number"), filters("string")) == {
        ("request-property-type-widened", Level.INFO)
    }


def test_diff_scalar_to_array_reads_one_value_as_one_item(tmp_path: Path) -> None:
    array_of_strings = {"type": "array", "items": S}
    # ?q=a (string or integer text) is a one-item array of strings.
    assert found(
        tmp_path, with_query({"type": ["string", "integer"]}), with_query(array_of_strings)
    ) == {("request-parameter-type-widened", Level.INFO)}
    # Back: ?q=a&q=b is no longer accepted.
    assert found(tmp_path / "back", with_query(array_of_strings), with_query(S)) == {
        ("request-parameter-type-narrowed", Level.ERROR)
    }


def test_diff_scalar_to_array_still_compares_the_items(tmp_path: Path) -> None:
    # ?q=abc was a valid string and is no integer item: the items narrowed what one value may be.
    head = with_query({"type": "array", "items": INT})
    assert found(tmp_path, with_query(S), head) == {
        ("request-parameter-type-widened", Level.INFO),
        ("request-property-type-narrowed", Level.ERROR),
    }


def test_diff_scalar_to_array_needing_two_items_rejects_one_value(tmp_path: Path) -> None:
    head = with_query({"type": "array", "items": S, "minItems": 2})
    assert found(tmp_path, with_query(S), head) == {
        ("request-parameter-type-widened", Level.INFO),
        ("request-parameter-min-items-added", Level.ERROR),
    }


def test_diff_response_header_number_to_string_breaks_clients_parsing_a_number(
    tmp_path: Path,
) -> None:
    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        headers = {"X-Rate": {"schema": schema}}
        return one_operation(operation(responses={"200": ok_response(headers=headers)}))

    # The header text may now be "abc": a widening of what clients receive.
    assert found(tmp_path, doc(NUM), doc(S)) == {("response-header-type-widened", Level.ERROR)}
    # Only numbers now, which clients reading text still read.
    assert found(tmp_path / "back", doc(S), doc(NUM)) == {
        ("response-header-type-narrowed", Level.INFO)
    }


def test_diff_enum_values_are_compared_as_the_text_sent(tmp_path: Path) -> None:
    # ?q=1 and ?q=2 were accepted and still are: only the type was widened.
    base = with_query({"type": "integer", "enum": [1, 2]})
    head = with_query({"type": "string", "enum": ["1", "2"]})
    assert found(tmp_path, base, head) == {("request-parameter-type-widened", Level.INFO)}
    # Dropping "2" while going back to integers rejects ?q=2.
    narrower = with_query({"type": "integer", "enum": [1]})
    assert found(tmp_path / "back", head, narrower) == {
        ("request-parameter-type-narrowed", Level.ERROR),
        ("request-parameter-enum-value-removed", Level.ERROR),
    }
