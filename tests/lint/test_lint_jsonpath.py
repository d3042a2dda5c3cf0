"""The JSONPath engine: every form Spectral rulesets use, against hand-made documents."""

from __future__ import annotations

from typing import Any

import pytest

from apigov.lint.jsonpath import JsonPathError, compile_given, compile_path, query

DOC: dict[str, Any] = {
    "info": {"title": "Pets", "description": "All pets"},
    "paths": {
        "/pets": {
            "get": {"tags": ["a", "b", "c"], "description": "list"},
            "post": {"deprecated": True},
            "parameters": [{"in": "query", "name": "limit"}],
        },
        "/pets/{id}": {"get": {"parameters": [{"in": "path", "name": "id"}]}},
    },
    "components": {
        "schemas": {
            "Pet": {"type": "object", "properties": {"enum": {"type": "string"}}},
            "Kinds": {"type": ["array", "null"], "items": {"type": "string", "enum": ["x"]}},
        }
    },
}


def paths(expression: str, document: Any = DOC) -> list[tuple[str | int, ...]]:
    return [where for where, _ in query(document, compile_path(expression))]


def test_root_and_dotted_names() -> None:
    assert paths("$") == [()]
    assert paths("$.info.title") == [("info", "title")]
    assert paths("$['info'][\"title\"]") == [("info", "title")]
    assert paths("$.nothing.here") == []


def test_wildcards_and_unions() -> None:
    assert paths("$.paths[*]") == [("paths", "/pets"), ("paths", "/pets/{id}")]
    assert paths("$.paths.*[get,post]") == [
        ("paths", "/pets", "get"),
        ("paths", "/pets", "post"),
        ("paths", "/pets/{id}", "get"),
    ]


def test_indices_and_slices() -> None:
    tags = ("paths", "/pets", "get", "tags")
    assert paths("$.paths['/pets'].get.tags[1]") == [(*tags, 1)]
    assert paths("$.paths['/pets'].get.tags[0,2]") == [(*tags, 0), (*tags, 2)]
    assert paths("$.paths['/pets'].get.tags[-1]") == [(*tags, 2)]
    assert paths("$.paths['/pets'].get.tags[1:]") == [(*tags, 1), (*tags, 2)]
    assert paths("$.paths['/pets'].get.tags[::2]") == [(*tags, 0), (*tags, 2)]


def test_recursive_descent_finds_every_level_but_the_root() -> None:
    assert paths("$..description") == [
        ("info", "description"),
        ("paths", "/pets", "get", "description"),
    ]
    assert paths("$..[description,title]") == [
        ("info", "title"),
        ("info", "description"),
        ("paths", "/pets", "get", "description"),
    ]


def test_filters_with_property_and_value() -> None:
    # Only schemas with an `enum` member, and not the `properties` map that has a key "enum".
    assert paths("$..[?(@property !== 'properties' && @ && @.enum)]") == [
        ("components", "schemas", "Kinds", "items")
    ]
    assert paths("$..parameters[?(@.in == 'path')]") == [
        ("paths", "/pets/{id}", "get", "parameters", 0)
    ]
    assert paths("$.paths[*][?(@.deprecated === true)]") == [("paths", "/pets", "post")]


def test_filters_in_javascript_terms() -> None:
    # `type: [array, null]` is an Array: constructor.name and includes() as in JavaScript.
    expression = (
        '$..[?(@ && @.type && @.type.constructor.name === "Array" && @.type.includes("array"))]'
    )
    assert paths(expression) == [("components", "schemas", "Kinds")]
    # `void 0` is undefined; `!==` does not coerce, `!=` does (null == undefined).
    assert paths("$.paths[*][?(@.deprecated !== void 0)]") == [("paths", "/pets", "post")]
    assert paths("$.info[?(@property.match(/^desc/))]") == [("info", "description")]
    # Reading a property of undefined throws in JavaScript: the node is not selected.
    assert paths("$.paths[*][?(@.nothing.deeper === 1)]") == []


def test_trailing_tilde_selects_keys() -> None:
    compiled, keys_only = compile_given("$.paths[*]~")
    assert keys_only
    assert compiled == compile_path("$.paths[*]")


@pytest.mark.parametrize("bad", ["paths", "$.", "$[", "$[?(@.a ==)]", "$[1:2:3:4]", "$.a[b,]"])
def test_malformed_paths_are_refused(bad: str) -> None:
    with pytest.raises(JsonPathError):
        compile_path(bad)


def test_filter_shortcuts_do_not_change_answers() -> None:
    from apigov.lint.filters import FilterContext, compile_filter

    # A string has methods: `@.match()` on a string value must still be evaluated.
    on_strings = compile_filter("@.match(/^a/)")
    assert not on_strings.containers_only
    assert on_strings(FilterContext("abc", "k", {}, ("k",)))
    # `@.example !== void 0 || @.default !== void 0` needs an object with either key...
    either = compile_filter("@ && (@.example !== void 0 || @.default !== void 0)")
    assert either.keys == frozenset({"example", "default"})
    assert either(FilterContext({"default": None}, "k", {}, ("k",)))
    assert not either(FilterContext({"type": "string"}, "k", {}, ("k",)))
    # ...but a negation says nothing about keys.
    negated = compile_filter("!@.deprecated")
    assert negated.keys is None and not negated.containers_only
    assert negated(FilterContext("text", "k", {}, ("k",)))
