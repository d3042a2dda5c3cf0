"""oneOf rejects a value that matches two alternatives: a new alternative overlapping an old one.

Each expectation is worked out from JSON Schema 2020-12 by naming a value each side accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diff_support import changes_between

from apigov.diff.catalogue import ok_response, one_operation, operation
from apigov.findings import Level

S: dict[str, Any] = {"type": "string"}
AMBIGUOUS_REQUEST = ("request-body-one-of-became-ambiguous", Level.ERROR)
AMBIGUOUS_RESPONSE = ("response-body-one-of-became-ambiguous", Level.WARNING)


def body_and_response(schema: dict[str, Any]) -> dict[str, Any]:
    op = operation(
        requestBody={"content": {"application/json": {"schema": schema}}},
        responses={"200": ok_response(schema)},
    )
    doc = one_operation(op)
    doc["openapi"] = "3.1.0"
    return doc


def found(tmp_path: Path, base: Any, head: Any) -> set[tuple[str, Level]]:
    return {(c.id, c.level) for c in changes_between(tmp_path, base, head)}


def obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def test_diff_wrapping_into_overlapping_one_of_rejects_what_was_accepted(tmp_path: Path) -> None:
    # {"foo": "x", "bar": "y"} was valid; now it matches both alternatives, so oneOf rejects it.
    base = body_and_response(obj(["foo", "bar"], foo=S, bar=S))
    head = body_and_response({"oneOf": [obj(["foo"], foo=S, bar=S), obj(["bar"], foo=S, bar=S)]})
    changes = found(tmp_path, base, head)
    assert AMBIGUOUS_REQUEST in changes
    assert AMBIGUOUS_RESPONSE in changes
    # Unwrapping again removes the ambiguity.
    back = found(tmp_path / "back", head, base)
    assert not {c for c in back if "ambiguous" in c[0]}


def test_diff_alternatives_told_apart_by_a_required_tag_do_not_overlap(tmp_path: Path) -> None:
    cat = obj(["kind"], kind={"const": "cat"}, name=S)
    dog = obj(["kind"], kind={"type": "string", "enum": ["dog"]}, name=S)
    changes = found(
        tmp_path, body_and_response({"oneOf": [cat]}), body_and_response({"oneOf": [cat, dog]})
    )
    assert changes == {
        ("request-body-one-of-added", Level.INFO),
        ("response-body-one-of-added", Level.ERROR),
    }


def test_diff_a_tag_the_old_alternative_forbids_keeps_them_apart(tmp_path: Path) -> None:
    closed = {**obj(["a"], a=S), "additionalProperties": False}
    other = obj(["b"], b=S)
    changes = found(
        tmp_path,
        body_and_response({"oneOf": [closed]}),
        body_and_response({"oneOf": [closed, other]}),
    )
    assert AMBIGUOUS_REQUEST not in changes


def test_diff_alternatives_of_other_types_do_not_overlap(tmp_path: Path) -> None:
    changes = found(
        tmp_path,
        body_and_response({"oneOf": [S]}),
        body_and_response({"oneOf": [S, {"type": "boolean"}]}),
    )
    assert AMBIGUOUS_REQUEST not in changes
    # Null next to a string: no value is both.
    nullable = found(
        tmp_path / "null", body_and_response(S), body_and_response({"oneOf": [{"type": "null"}, S]})
    )
    assert AMBIGUOUS_REQUEST not in nullable


def test_diff_an_integer_alternative_beside_a_number_overlaps(tmp_path: Path) -> None:
    # 3 is both a number and an integer.
    changes = found(
        tmp_path,
        body_and_response({"oneOf": [{"type": "number"}]}),
        body_and_response({"oneOf": [{"type": "number"}, {"type": "integer"}]}),
    )
    assert AMBIGUOUS_REQUEST in changes


def test_diff_a_discriminator_picks_the_alternative(tmp_path: Path) -> None:
    a, b = obj(["kind"], kind=S, x=S), obj(["kind"], kind=S, y=S)
    base = body_and_response({"oneOf": [a], "discriminator": {"propertyName": "kind"}})
    head = body_and_response({"oneOf": [a, b], "discriminator": {"propertyName": "kind"}})
    assert AMBIGUOUS_REQUEST not in found(tmp_path, base, head)


def test_diff_a_one_of_that_was_already_loose_is_not_blamed_on_the_new_alternative(
    tmp_path: Path,
) -> None:
    # Dog and Cat both accept {"name": "x"}: the schema was ambiguous before Rabbit came.
    named = obj([], name=S)
    base = body_and_response({"oneOf": [named, {**named, "title": "Cat"}]})
    head = body_and_response(
        {"oneOf": [named, {**named, "title": "Cat"}, {**named, "title": "Rabbit"}]}
    )
    assert AMBIGUOUS_REQUEST not in found(tmp_path, base, head)


def test_diff_bounds_with_no_value_in_common_keep_alternatives_apart(tmp_path: Path) -> None:
    def ambiguous(old: dict[str, Any], new: dict[str, Any], folder: str) -> bool:
        changes = found(
            tmp_path / folder,
            body_and_response({"oneOf": [old]}),
            body_and_response({"oneOf": [old, new]}),
        )
        return AMBIGUOUS_REQUEST in changes

    # "abc" is at most 3 long, "abcd" at least 4: no string is both.
    assert not ambiguous({**S, "maxLength": 3}, {**S, "minLength": 4}, "lengths")
    # 10 is at most 10 and at least 10.
    assert ambiguous(
        {"type": "integer", "maximum": 10}, {"type": "integer", "minimum": 10}, "touching"
    )
    # ... unless one side excludes it (the 3.1 form of exclusiveMinimum).
    assert not ambiguous(
        {"type": "integer", "maximum": 10}, {"type": "integer", "exclusiveMinimum": 10}, "apart"
    )
    # maxLength says nothing about integers, and 7 matches both alternatives.
    either = ["string", "integer"]
    assert ambiguous(
        {"type": either, "maxLength": 3}, {"type": either, "minLength": 4}, "mixed types"
    )
