"""Compiled filters keep JavaScript's answers where their text takes shortcuts (comparisons
with a literal, `&&`/`||` of booleans, `@` known to be an object)."""

from __future__ import annotations

from typing import Any

import pytest

from apigov.lint.filters import FilterContext, compile_filter


def holds(expression: str, value: Any, key: str | int = "k") -> bool:
    return compile_filter(expression)(FilterContext(value, key, {}, (key,)))


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        # `==` against a string coerces a number or a boolean; `===` does not.
        ("@.a == '1'", {"a": 1}, True),
        ("@.a == '1'", {"a": True}, True),
        ("@.a == '1'", {"a": "1"}, True),
        ("@.a == '1'", {"a": "2"}, False),
        ("@.a != '1'", {"a": 1}, False),
        ("@.a != '1'", {"a": "x"}, True),
        ("@.a === '1'", {"a": 1}, False),
        ("@.a === '1'", {"a": "1"}, True),
        ("@.a !== '1'", {"a": 1}, True),
        ("@.a !== 'x'", {"b": 1}, True),  # undefined is not 'x'
        # null and undefined equal each other under `==`, nothing else does.
        ("@.a == null", {"b": 1}, True),
        ("@.a == null", {"a": None}, True),
        ("@.a == null", {"a": 0}, False),
        ("@.a != null", {"a": 0}, True),
        ("@.a != undefined", {"a": None}, False),
        ("@.a === null", {"a": None}, True),
        ("@.a === null", {"b": 1}, False),
        ("@.a !== void 0", {"a": None}, True),
        ("@.a !== void 0", {"b": None}, False),
    ],
)
def test_comparisons_with_a_literal(expression: str, value: Any, expected: bool) -> None:
    assert holds(expression, value) is expected


def test_object_filters_keep_javascript_truthiness() -> None:
    enum = "@property !== 'properties' && @ && @.enum"
    assert holds(enum, {"enum": []})  # an empty array is truthy in JavaScript
    assert not holds(enum, {"enum": 0})
    assert not holds(enum, {"enum": ["a"]}, key="properties")
    assert holds(enum, {"enum": ["a"]}, key=0)  # an item's index is not 'properties'
    assert not holds(enum, ["enum"])  # an array has no members to read
    assert not holds(enum, "enum")
    either = "@ && (@.example !== void 0 || @.default !== void 0) && (@.type || @.enum)"
    assert holds(either, {"default": None, "enum": {}})
    assert not holds(either, {"default": None, "type": ""})
    assert not holds(either, {"type": "string"})


def test_boolean_operands_and_negation() -> None:
    assert holds("!(@.a === 'x') && @.b", {"a": "y", "b": 1})
    assert not holds("!(@.a === 'x') && @.b", {"a": "x", "b": 1})
    assert holds("@.a === 'x' || @.b", {"b": [0]})
    assert not holds("@.a === 'x' || @.b", {"b": ""})
    # reading a member of undefined throws: the node is not selected
    assert not holds("@.a === 'x' || @.b.c", {"a": "y"})
