"""The matchers the official test cases do not exercise, and the explanations of mismatches."""

from __future__ import annotations

from typing import Any

import pytest

from apigov.pact.matching import (
    check_value,
    datetime_pattern,
    match_message,
    match_request,
    match_response,
    parse_rule_path,
)
from apigov.pact.model import Matcher, message_from_json, request_from_json, response_from_json


@pytest.mark.parametrize(
    ("kind", "options", "actual", "ok"),
    [
        ("integer", {}, 12, True),
        ("integer", {}, 1.5, False),
        ("integer", {}, True, False),
        ("decimal", {}, 1.5, True),
        ("decimal", {}, 2, False),
        ("number", {}, 2, True),
        ("number", {}, "2", True),
        ("number", {}, "two", False),
        ("boolean", {}, False, True),
        ("boolean", {}, 0, False),
        ("null", {}, None, True),
        ("null", {}, "", False),
        ("include", {"value": "lig"}, "alligator", True),
        ("include", {"value": "croc"}, "alligator", False),
        ("regex", {"regex": "\\d{3}"}, "123", True),
        ("regex", {"regex": "\\d{3}"}, "1234", False),
        ("regex", {"regex": "\\d+"}, 42, True),
        ("date", {"format": "yyyy-MM-dd"}, "2024-02-29", True),
        ("date", {"format": "yyyy-MM-dd"}, "29/02/2024", False),
        ("time", {"format": "HH:mm"}, "23:59", True),
        ("time", {"format": "HH:mm"}, "24:00", False),
        ("datetime", {"format": "yyyy-MM-dd'T'HH:mm:ssXXX"}, "2025-11-20T10:15:00Z", True),
        ("datetime", {"format": "yyyy-MM-dd'T'HH:mm:ssXXX"}, "2025-11-20T10:15:00+01:00", True),
        ("datetime", {"format": "yyyy-MM-dd'T'HH:mm:ssXXX"}, "2025-11-20 10:15:00", False),
        ("semver", {}, "1.2.3-rc.1+build.5", True),
        ("semver", {}, "1.2", False),
        ("notEmpty", {}, "x", True),
        ("notEmpty", {}, "", False),
        ("notEmpty", {}, [], False),
        ("statusCode", {"status": "success"}, 204, True),
        ("statusCode", {"status": "clientError"}, 500, False),
        ("statusCode", {"status": [200, 201]}, 201, True),
        ("statusCode", {"status": "nonError"}, 302, True),
        ("equality", {}, "a", False),
    ],
)
def test_single_value_matchers(kind: str, options: dict[str, Any], actual: Any, ok: bool) -> None:
    expected: Any = 200 if kind == "statusCode" else "x"
    problem = check_value(Matcher(kind, options), expected, actual)
    assert (problem is None) is ok, problem


def test_type_matcher_bounds_arrays() -> None:
    matcher = Matcher("type", {"min": 2, "max": 3})
    assert check_value(matcher, [1], [1, 2]) is None
    assert check_value(matcher, [1], [1]) == "expected at least 2 element(s), found 1"
    assert check_value(matcher, [1], [1, 2, 3, 4]) == "expected at most 3 element(s), found 4"
    assert check_value(matcher, "a", 1) is not None


def test_rule_paths() -> None:
    assert parse_rule_path("$") == ()
    assert parse_rule_path("$.a.b[0]['c d'].*[*]") == ("a", "b", 0, "c d", "*", -1)
    assert parse_rule_path("$.a['@id']") == ("a", "@id")


def test_datetime_pattern_translates_java_letters() -> None:
    assert datetime_pattern("dd/MM/yyyy").pattern.startswith("^(0[1-9]")
    assert datetime_pattern("yyyy'T'").match("2020T")


def response(body: Any, rules: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"status": 200, "headers": {"Content-Type": "application/json"}}
    data["body"] = body
    if rules is not None:
        data["matchingRules"] = {"body": rules}
    data.update(extra)
    return data


def test_type_matcher_cascades_to_every_element() -> None:
    expected = response(
        {"pets": [{"id": 1, "name": "Rex"}]},
        {"$.pets": {"matchers": [{"match": "type", "min": 1}]}},
    )
    good = response({"pets": [{"id": 2, "name": "Tom"}, {"id": 3, "name": "Kit", "age": 4}]})
    bad = response({"pets": [{"id": 2, "name": "Tom"}, {"id": "3", "name": "Kit"}]})
    assert match_response(response_from_json(expected, 3), response_from_json(good, 3)) == []
    (mismatch,) = match_response(response_from_json(expected, 3), response_from_json(bad, 3))
    assert mismatch.part == "body"
    assert mismatch.path == "$.pets[1].id"
    assert "expected a number" in mismatch.message and '"3"' in mismatch.message


def test_or_combination_and_each_value() -> None:
    expected = response(
        {"name": "Rex", "tags": {"a": "x"}},
        {
            "$.name": {"matchers": [{"match": "null"}, {"match": "type"}], "combine": "OR"},
            "$.tags": {
                "matchers": [
                    {"match": "eachKey", "rules": [{"match": "regex", "regex": "[a-z]+"}]},
                    {"match": "eachValue", "rules": [{"match": "type"}]},
                ]
            },
        },
    )
    matching = response({"name": None, "tags": {"b": "y", "c": "z"}})
    assert match_response(response_from_json(expected, 4), response_from_json(matching, 4)) == []
    wrong = response({"name": 3, "tags": {"B1": "y", "c": 2}})
    paths = sorted(
        m.path
        for m in match_response(response_from_json(expected, 4), response_from_json(wrong, 4))
    )
    # A failed OR lists each alternative's reason; eachValue's rules are a value's whole check.
    assert paths == ["$.name", "$.name", "$.tags.B1", "$.tags.c"]


def test_array_contains() -> None:
    rules = {
        "$.items": {
            "matchers": [
                {
                    "match": "arrayContains",
                    "variants": [
                        {"index": 0, "rules": {"$.id": {"matchers": [{"match": "integer"}]}}},
                        {"index": 1, "rules": {}},
                    ],
                }
            ]
        }
    }
    expected = response({"items": [{"id": 1}, {"kind": "special"}]}, rules)
    found = response({"items": [{"kind": "plain"}, {"kind": "special"}, {"id": 99, "x": 1}]})
    missing = response({"items": [{"id": 5}]})
    assert match_response(response_from_json(expected, 4), response_from_json(found, 4)) == []
    (mismatch,) = match_response(response_from_json(expected, 4), response_from_json(missing, 4))
    assert mismatch.message.startswith("no element matches variant 1")


def test_request_query_headers_and_path_are_explained() -> None:
    expected = request_from_json(
        {
            "method": "GET",
            "path": "/pets/1",
            "query": {"tag": ["a", "b"]},
            "headers": {"Accept": "application/json"},
        },
        3,
    )
    actual = request_from_json(
        {
            "method": "POST",
            "path": "/pets/2",
            "query": {"tag": ["b", "a"], "extra": ["1"]},
            "headers": {"accept": "text/html"},
        },
        3,
    )
    found = {(m.part, m.path) for m in match_request(expected, actual)}
    assert found == {
        ("method", ""),
        ("path", ""),
        ("query", "tag"),
        ("query", "extra"),
        ("header", "Accept"),
    }


def test_status_classes_and_form_bodies() -> None:
    expected = response_from_json(
        {
            "status": 200,
            "matchingRules": {
                "status": {"matchers": [{"match": "statusCode", "status": "success"}]}
            },
        },
        4,
    )
    assert match_response(expected, response_from_json({"status": 204}, 4)) == []
    assert match_response(expected, response_from_json({"status": 404}, 4)) != []
    form = request_from_json(
        {
            "method": "POST",
            "path": "/",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "a=1&b=2",
        },
        3,
    )
    same = request_from_json({**_form_request(), "body": "b=2&a=1"}, 3)
    other = request_from_json({**_form_request(), "body": "a=1&b=3"}, 3)
    assert match_request(form, same) == []
    assert [m.path for m in match_request(form, other)] == ["b"]


def _form_request() -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


def test_message_metadata() -> None:
    expected = message_from_json(
        {
            "contents": {"id": 1},
            "metaData": {"contentType": "application/json", "topic": "pets", "key": "k-1"},
            "matchingRules": {
                "body": {"$.id": {"matchers": [{"match": "integer"}]}},
                "metadata": {"key": {"matchers": [{"match": "regex", "regex": "k-\\d+"}]}},
            },
        },
        3,
    )
    actual = message_from_json(
        {"contents": {"id": 9}, "metaData": {"topic": "pets", "key": "k-22"}}, 3
    )
    assert match_message(expected, actual) == []
    wrong = message_from_json({"contents": {"id": 9}, "metaData": {"topic": "cats"}}, 3)
    assert sorted(m.path for m in match_message(expected, wrong)) == ["key", "topic"]


def test_xml_doctype_is_refused() -> None:
    expected = response_from_json(
        {"status": 200, "headers": {"Content-Type": "application/xml"}, "body": "<a/>"}, 3
    )
    hostile = response_from_json(
        {
            "status": 200,
            "headers": {"Content-Type": "application/xml"},
            "body": '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
        },
        3,
    )
    (mismatch,) = match_response(expected, hostile)
    assert "document type declarations" in mismatch.message
