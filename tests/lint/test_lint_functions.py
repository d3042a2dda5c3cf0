"""Core functions, with Spectral's meanings, on hand-picked values."""

from __future__ import annotations

from typing import Any

import pytest

from apigov.lint.context import FunctionContext
from apigov.lint.filters import UNDEFINED
from apigov.lint.functions import core

CONTEXT = FunctionContext(
    document={}, path=("info", "title"), formats=frozenset({"oas3", "oas3_0"})
)


def failed(
    function: Any, target: Any, options: Any = None, context: FunctionContext = CONTEXT
) -> bool:
    return bool(function(target, options, context))


@pytest.mark.parametrize(
    ("value", "is_truthy"),
    [
        ("x", True),
        ("", False),
        (0, False),
        (1, True),
        ([], True),
        ({}, True),
        (None, False),
        (UNDEFINED, False),
        (False, False),
    ],
)
def test_truthy_and_falsy_follow_javascript(value: Any, is_truthy: bool) -> None:
    assert failed(core.truthy, value) is not is_truthy
    assert failed(core.falsy, value) is is_truthy


def test_defined_and_undefined() -> None:
    assert failed(core.defined, UNDEFINED)
    assert not failed(core.defined, None)  # null is defined
    assert failed(core.undefined, None)
    assert not failed(core.undefined, UNDEFINED)


def test_pattern_match_not_match_and_regex_literals() -> None:
    assert not failed(core.pattern, "getPets", {"match": "^get"})
    assert failed(core.pattern, "listPets", {"match": "^get"})
    assert failed(core.pattern, "GETPETS", {"notMatch": "/^get/i"})
    assert not failed(core.pattern, 42, {"match": "^get"})  # not a string: not this rule's job


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("flat", "orderid", "orderId"),
        ("camel", "orderId2", "OrderId"),
        ("pascal", "OrderId", "orderId"),
        ("kebab", "order-id", "order_id"),
        ("cobol", "ORDER-ID", "ORDER_ID"),
        ("snake", "order_id", "order-id"),
        ("macro", "ORDER_ID", "Order_Id"),
    ],
)
def test_casing_types(kind: str, good: str, bad: str) -> None:
    assert not failed(core.casing, good, {"type": kind})
    assert failed(core.casing, bad, {"type": kind})


def test_casing_digits_and_separators() -> None:
    assert failed(core.casing, "order2", {"type": "camel", "disallowDigits": True})
    options = {"type": "camel", "separator": {"char": "/", "allowLeading": True}}
    assert not failed(core.casing, "/orders/byId", options)
    assert not failed(core.casing, "/", options)
    assert failed(core.casing, "/orders/by-id", options)
    assert failed(core.casing, "/orders", {"type": "camel", "separator": {"char": "/"}})


def test_enumeration_length_xor_or() -> None:
    assert failed(core.enumeration, "put", {"values": ["get", "post"]})
    assert not failed(core.enumeration, "get", {"values": ["get", "post"]})
    assert failed(core.enumeration, 1, {"values": [True]})  # no coercion: 1 is not true
    assert failed(core.length, "abcd", {"max": 3})
    assert failed(core.length, [1], {"min": 2})
    assert not failed(core.length, {"a": 1, "b": 2}, {"min": 2, "max": 2})
    assert failed(core.length, 10, {"max": 9})  # numbers are measured by value
    assert failed(
        core.xor, {"value": 1, "externalValue": "x"}, {"properties": ["value", "externalValue"]}
    )
    assert failed(core.xor, {}, {"properties": ["value", "externalValue"]})
    assert not failed(core.xor, {"value": 1}, {"properties": ["value", "externalValue"]})
    assert failed(core.or_, {"summary": "s"}, {"properties": ["description", "title"]})
    assert not failed(core.or_, {"title": "t"}, {"properties": ["description", "title"]})


def test_alphabetical_reports_the_first_unsorted_place() -> None:
    results = core.alphabetical([{"name": "b"}, {"name": "a"}], {"keyedBy": "name"}, CONTEXT)
    assert results is not None
    assert [r.path for r in results] == [("info", "title", 0)]
    assert core.alphabetical(["a", "b", "c"], None, CONTEXT) is None
    assert failed(core.alphabetical, {"z": 1, "a": 2})


def test_schema_reports_paths_inside_the_target() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    results = core.schema({"n": "x"}, {"schema": schema}, CONTEXT)
    assert results is not None
    assert [r.path for r in results] == [("info", "title", "n")]
    assert core.schema({"n": 1}, {"schema": schema}, CONTEXT) is None
    missing = core.schema(UNDEFINED, {"schema": schema}, CONTEXT)
    assert missing is not None and "must exist" in missing[0].message


def test_typed_enum_honours_nullable_in_3_0_only() -> None:
    schema = {"type": "integer", "nullable": True, "enum": [1, None, "2", 3.0]}
    results = core.typed_enum(schema, None, CONTEXT)
    assert results is not None
    # 1 and 3.0 are integers, null is allowed by nullable (3.0), "2" is a string
    assert [r.path for r in results] == [("info", "title", "enum", 2)]
    oas31 = FunctionContext(document={}, path=(), formats=frozenset({"oas3", "oas3_1"}))
    results_31 = core.typed_enum(schema, None, oas31)
    assert results_31 is not None and len(results_31) == 2  # null is not allowed in 3.1


def test_unreferenced_reusable_object() -> None:
    context = FunctionContext(
        document={}, path=(), formats=frozenset(), referenced=frozenset({"#/definitions/Used"})
    )
    results = core.unreferenced_reusable_object(
        {"Used": {}, "Orphan": {}}, {"reusableObjectsLocation": "#/definitions"}, context
    )
    assert results is not None
    assert [r.path for r in results] == [("definitions", "Orphan")]
